# -*- coding: utf-8 -*-
# Copyright (c) 2026, gpufleet maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: ollama_health_targets
short_description: The O(gpufleet.ollama.ollama_health#module:targets) of a node's instances, for one health run
version_added: 0.3.0
author:
  - gpufleet maintainers (@gpufleet)
description:
  - Turns the node's instances (from P(gpufleet.ollama.ollama_instances#filter)) into the targets of one
    M(gpufleet.ollama.ollama_health) run that checks them all at once; each target's C(item) is the instance, so
    the registered C(results) read like those of a loop over the instances
    (P(gpufleet.ollama.ollama_endpoints#filter), P(gpufleet.ollama.ollama_health_report#filter)).
  - An instance whose port is in O(pending) (it waits for its batch of a rolling restart) is expected to run the
    release it runs now (C(release) of its entry in O(states)); every other instance O(version).
options:
  _input:
    description: The node's instances, each with its C(port).
    type: list
    elements: dict
    required: true
  host:
    description: The node's name, for messages (C(host:port)).
    type: str
    required: true
  url_host:
    description: The address the instances answer on (the role's URL host).
    type: str
    required: true
  version:
    description: The release every instance should run; empty for no version check.
    type: str
    default: ''
  pending:
    description: Ports (as strings) of the instances that wait for a rolling restart.
    type: list
    elements: str
    default: []
  states:
    description: What each instance runs now, by port (P(gpufleet.ollama.ollama_instance_states#filter)).
    type: dict
    default: {}
"""

EXAMPLES = r"""
- name: Wait until every instance answers, in one module run
  gpufleet.ollama.ollama_health:
    targets: >-
      {{ __ollama_instances | gpufleet.ollama.ollama_health_targets(inventory_hostname, '127.0.0.1', ollama_version,
         pending=ollama_restart_pending, states=__ollama_states) }}
  register: __ollama_health
"""

RETURN = r"""
_value:
  description: One target for each instance, in order.
  type: list
  elements: dict
  sample:
    - {url: "http://127.0.0.1:11434", instance: "gpu-node-1:11434", expect_version: "0.14.1",
       item: {port: 11434, gpus: ["GPU-abc"]}}
"""

from collections.abc import Mapping

from ansible.errors import AnsibleFilterError


def _url_host(host):
    host = str(host)
    return '[%s]' % host if ':' in host and not host.startswith('[') else host


def ollama_health_targets(instances, host, url_host, version='', pending=None, states=None):
    if not isinstance(instances, list) or not all(isinstance(i, Mapping) and 'port' in i for i in instances):
        raise AnsibleFilterError('ollama_health_targets expects a list of instances with a port each')
    pending = {str(p) for p in pending or []}
    states = states or {}
    targets = []
    for instance in instances:
        port = str(instance['port'])
        target = dict(url='http://%s:%s' % (_url_host(url_host), port), instance='%s:%s' % (host, port),
                      item=dict(instance))
        expected = (states.get(port) or {}).get('release') if port in pending else version
        if expected:
            target['expect_version'] = str(expected)
        targets.append(target)
    return targets


class FilterModule(object):
    def filters(self):
        return {'ollama_health_targets': ollama_health_targets}
