# -*- coding: utf-8 -*-
# Copyright (c) 2026, gpufleet maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: ollama_rolling_batches
short_description: Cut the instances that wait for a restart into the batches of a rolling change
version_added: 0.1.0
author:
  - gpufleet maintainers (@gpufleet)
description:
  - Takes, per GPU node in play order, the ports of its instances that wait for a restart (the fact
    C(ollama_restart_pending) of the C(ollama) role) and returns batches of at most O(size) instances, node by node,
    so a batch holds the instances of one node, or of a few nodes when O(size) is larger than a node.
  - Each batch names its targets as the gateways' drain wants them (C(node:port)) and its ports per node.
options:
  _input:
    description: Node name to the list of its ports that wait for a restart, in the order the nodes are rolled.
    type: dict
    required: true
  size:
    description: Instances per batch, 1 or more.
    type: int
    default: 1
"""

EXAMPLES = r"""
- name: Roll the changes one instance at a time
  ansible.builtin.debug:
    msg: "{{ {'gpu01': ['11434', '11435'], 'gpu02': [], 'gpu03': ['11434']} | gpufleet.ollama.ollama_rolling_batches(2) }}"
  # -> [{"targets": ["gpu01:11434", "gpu01:11435"], "ports": {"gpu01": [11434, 11435]}},
  #     {"targets": ["gpu03:11434"], "ports": {"gpu03": [11434]}}]
"""

RETURN = r"""
_value:
  description: The batches in the order they run.
  type: list
  elements: dict
  contains:
    targets:
      description: The batch's instances as C(node:port), for the gateways' drain.
      type: list
      elements: str
    ports:
      description: Node name to the ports of its instances in the batch.
      type: dict
"""

from ansible.errors import AnsibleFilterError
from ansible_collections.gpufleet.ollama.plugins.plugin_utils._settings import to_int


def ollama_rolling_batches(pending, size=1):
    if not isinstance(pending, dict):
        raise AnsibleFilterError('ollama_rolling_batches expects a mapping of node to ports, got %s'
                                 % type(pending).__name__)
    n = to_int(size)
    if n is None or n < 1:
        raise AnsibleFilterError('ollama_rolling_batches: the batch size (ollama_rolling_batch) must be 1 or more, '
                                 'got %r' % (size,))
    instances = []
    for node, ports in pending.items():
        for port in ports or []:
            p = to_int(port)
            if p is None:
                raise AnsibleFilterError('ollama_rolling_batches: %s has a port that is not a number: %r' % (node, port))
            instances.append((str(node), p))
    batches = []
    for start in range(0, len(instances), n):
        batch = {'targets': [], 'ports': {}}
        for node, port in instances[start:start + n]:
            batch['targets'].append('%s:%d' % (node, port))
            batch['ports'].setdefault(node, []).append(port)
        batches.append(batch)
    return batches


class FilterModule(object):
    def filters(self):
        return {'ollama_rolling_batches': ollama_rolling_batches}
