# -*- coding: utf-8 -*-
# Copyright (c) 2026, gpufleet maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: ollama_endpoints
short_description: The endpoints a GPU node publishes for the gateways
version_added: 0.1.0
author:
  - gpufleet maintainers (@gpufleet)
description:
  - Turns a node's instances (from P(gpufleet.ollama.ollama_instances#filter)) into the C(ollama_endpoints) fact that
    the ollama_gateway role builds its upstream from.
options:
  _input:
    description: The node's instances (C(port), C(gpus)).
    type: list
    elements: dict
    required: true
  host:
    description: Inventory name of the node.
    type: str
    required: true
  address:
    description: The address every instance binds (the node's backend address).
    type: str
    required: true
  num_parallel:
    description: E(OLLAMA_NUM_PARALLEL) of the instances.
    type: int
    default: 1
  max_queue:
    description: E(OLLAMA_MAX_QUEUE) of the instances.
    type: int
    default: 512
  version:
    description: The Ollama version the instances run.
    type: str
    default: ""
  enabled:
    description: Whether the instances are meant to run (C(ollama_service_state=started)).
    type: bool
    default: true
  health:
    description:
      - The C(results) of the role's M(gpufleet.ollama.ollama_health) loop over the instances; the C(models) each
        instance listed are published with its endpoint (the gateway routes by model).
      - An instance without a health result (check mode, instances stopped) publishes C(models=null), unknown.
    type: list
    elements: dict
    default: []
"""

EXAMPLES = r"""
- name: Publish this node's endpoints
  ansible.builtin.set_fact:
    ollama_endpoints: >-
      {{ __ollama_instances | gpufleet.ollama.ollama_endpoints(inventory_hostname, ollama_bind_address,
         num_parallel=ollama_num_parallel, max_queue=ollama_max_queue, version=ollama_version,
         health=__ollama_health.results | default([])) }}
"""

RETURN = r"""
_value:
  description: One endpoint per instance.
  type: list
  elements: dict
  sample:
    - {host: gpu01, address: 10.0.0.5, port: 11434, num_parallel: 4, max_queue: 512, gpus: ["GPU-8f0e..."],
       version: 0.14.1, enabled: true, models: ["qwen2:7b"]}
"""

from ansible.errors import AnsibleFilterError
from ansible_collections.gpufleet.ollama.plugins.plugin_utils._settings import to_bool, to_int


def _models_by_port(health):
    models = {}
    for r in health or []:
        item = r.get('item') or {}
        port = to_int(item.get('port') if isinstance(item, dict) else item)
        if port is not None and not r.get('skipped') and not r.get('failed') and isinstance(r.get('models'), list):
            models[port] = list(r['models'])
    return models


def ollama_endpoints(instances, host, address, num_parallel=1, max_queue=512, version='', enabled=True, health=None):
    if not isinstance(instances, list):
        raise AnsibleFilterError('ollama_endpoints expects the list of instances, got %s' % type(instances).__name__)
    models = _models_by_port(health)
    return [{'host': str(host), 'address': str(address), 'port': to_int(i['port']),
             'num_parallel': to_int(num_parallel), 'max_queue': to_int(max_queue),
             'gpus': list(i.get('gpus') or []), 'version': str(version), 'enabled': bool(to_bool(enabled)),
             'models': models.get(to_int(i['port']))}
            for i in instances]


class FilterModule(object):
    def filters(self):
        return {'ollama_endpoints': ollama_endpoints}
