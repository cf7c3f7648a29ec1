# -*- coding: utf-8 -*-
# Copyright (c) 2026, gpufleet maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: ollama_instances
short_description: Lay out a node's Ollama instances from its GPUs
version_added: 0.1.0
author:
  - gpufleet maintainers (@gpufleet)
description:
  - Turns the C(gpus) list of M(gpufleet.ollama.nvidia_gpu_info) and the role's C(ollama_instances) setting into the
    instances of the node, sorted by port, and checks them against the node's GPUs.
  - V(per_gpu) gives one instance per GPU, pinned by UUID, on ports from O(base_port) upward, and one instance that
    sees every GPU when the node has none; V(single) gives one instance on O(base_port); a list of
    C({port, gpus, env}) is taken as it is (C(gpus) are UUIDs or indexes).
  - Exactly one instance, the one with the lowest port, prunes the shared store at start (C(prune)), unless
    O(noprune) is true (ollama/ollama #3669).
options:
  _input:
    description: The GPUs of the node, as returned by M(gpufleet.ollama.nvidia_gpu_info) (C(index), C(uuid), ...).
    type: list
    elements: dict
    required: true
  spec:
    description: The C(ollama_instances) setting.
    type: raw
    required: true
  base_port:
    description: Port of the first instance for V(per_gpu) and V(single).
    type: int
    default: 11434
  noprune:
    description: When true, no instance prunes the store.
    type: bool
    default: false
  host:
    description: Name of the node, used in the problems.
    type: str
    default: ""
"""

EXAMPLES = r"""
- name: Work out the instances
  ansible.builtin.set_fact:
    __ollama_layout: >-
      {{ __ollama_gpu_info.gpus | gpufleet.ollama.ollama_instances(ollama_instances, ollama_base_port, ollama_noprune) }}
# __ollama_layout.instances: [{port: 11434, gpus: [GPU-...], env: {}, prune: true}, ...]
# __ollama_layout.problems: [] when the layout is usable
"""

RETURN = r"""
_value:
  description: The instances and the problems found.
  type: dict
  contains:
    instances:
      description: One entry per instance, sorted by port.
      type: list
      elements: dict
      sample: [{port: 11434, gpus: ["GPU-8f0e..."], env: {}, prune: true}]
    problems:
      description: One sentence per problem (duplicate ports, GPUs the node does not have, no instance at all).
      type: list
      elements: str
"""

from ansible.errors import AnsibleFilterError
from ansible_collections.gpufleet.ollama.plugins.plugin_utils._settings import to_bool, to_int


def ollama_instances(gpus, spec, base_port=11434, noprune=False, host=''):
    if not isinstance(gpus, list):
        raise AnsibleFilterError('ollama_instances expects the list of GPUs from nvidia_gpu_info, got %s'
                                 % type(gpus).__name__)
    base = to_int(base_port)
    if base is None:
        raise AnsibleFilterError('ollama_instances: base_port must be an integer, got %r' % (base_port,))
    prefix = '%s: ' % host if host else ''
    items = []
    problems = []
    if spec == 'per_gpu' and gpus:
        items = [{'port': base + n, 'gpus': [str(g.get('uuid'))], 'env': {}} for n, g in enumerate(gpus)]
    elif spec in ('per_gpu', 'single'):
        items = [{'port': base, 'gpus': [], 'env': {}}]
    elif isinstance(spec, list):
        for item in spec:
            if not isinstance(item, dict):
                continue
            items.append({'port': to_int(item.get('port')) or 0,
                          'gpus': [str(g) for g in (item.get('gpus') or [])],
                          'env': dict(item.get('env') or {})})
    if not items:
        problems.append('%sollama_instances gives no instance (got %r); use per_gpu, single or a list of '
                        '{port, gpus, env}.' % (prefix, spec))
    ports = [i['port'] for i in items]
    dup = sorted({p for p in ports if ports.count(p) > 1})
    if dup:
        problems.append('%sollama_instances uses ports %s more than once; each instance needs its own port.'
                        % (prefix, ', '.join(map(str, dup))))
    bad = [p for p in ports if not 1 <= p <= 65535]
    if bad:
        problems.append('%sollama_instances has ports outside 1-65535: %s.' % (prefix, ', '.join(map(str, bad))))
    known = set(str(g.get('uuid')) for g in gpus) | set(str(g.get('index')) for g in gpus)
    unknown = [g for i in items for g in i['gpus'] if g not in known]
    if unknown:
        have = ', '.join('%s (%s)' % (g.get('index'), g.get('uuid')) for g in gpus) or 'none found'
        problems.append('%sollama_instances names GPUs this node does not have: %s; it has: %s.'
                        % (prefix, ', '.join(unknown), have))
    items.sort(key=lambda i: i['port'])
    prune_first = not to_bool(noprune)
    for n, item in enumerate(items):
        item['prune'] = prune_first and n == 0
    return {'instances': items, 'problems': problems}


class FilterModule(object):
    def filters(self):
        return {'ollama_instances': ollama_instances}
