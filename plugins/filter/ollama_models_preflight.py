# -*- coding: utf-8 -*-
# Copyright (c) 2026, gpufleet maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: ollama_models_preflight
short_description: Check that a GPU node has the disk space for the models it will receive, and the GPU memory to run them
version_added: 0.1.0
author:
  - gpufleet maintainers (@gpufleet)
description:
  - Disk - the bytes the node will receive (every blob it lacks, counted once even when several models share it, plus
    the manifests, plus what the staging host copies in to build) with a margin must fit in the free space of its
    model store. The transfer lands on the same filesystem and is renamed into place, so nothing else is needed.
  - GPU memory - each model's size (with C(vram_headroom_percent) on top for the context) must fit in the GPU
    memory of every instance of the node; instances without a GPU are skipped. C(vram_check) decides whether
    a model that does not fit is a problem (V(fail)), a warning (V(warn)) or not checked (V(off)).
  - Every message names the node, the instance, the model and the numbers.
options:
  _input:
    description:
      - C(host); C(store), the node's M(gpufleet.ollama.ollama_store_info) result (C(free_bytes), C(models), and
        C(plans) for the node's bundle models); C(catalog) (P(gpufleet.ollama.ollama_models_catalog#filter));
        C(indexes) (bundle model name to its index); C(gguf_sizes) (built model name to the size of its GGUF);
        C(margin_mib) and C(margin_percent); C(instances) (the node's C(ollama_endpoints), C(port) and C(gpus), UUIDs
        or indices, none meaning every GPU); C(gpus) (the node's GPUs from M(gpufleet.ollama.nvidia_gpu_info));
        C(vram_check) and C(vram_headroom_percent).
      - A built model the node does not hold yet counts with the size of its GGUF (V(gguf) source) or nothing
        (V(from) source, which shares its parent's weights).
    type: dict
    required: true
"""

EXAMPLES = r"""
- name: Check disk and GPU memory
  ansible.builtin.set_fact:
    __check: >-
      {{ {'host': inventory_hostname, 'store': store_info, 'catalog': catalog, 'indexes': indexes,
          'gguf_sizes': {}, 'margin_mib': 1024, 'margin_percent': 5, 'instances': ollama_endpoints,
          'gpus': ollama_node.gpus, 'vram_check': 'fail', 'vram_headroom_percent': 10}
         | gpufleet.ollama.ollama_models_preflight }}
"""

RETURN = r"""
_value:
  description: C(problems) and C(warnings) (lists of sentences), C(receive_bytes) (what the node will receive) and
    C(sizes) (each declared model's size, as far as it is known before the build).
  type: dict
"""

from ansible.errors import AnsibleFilterError
from ansible_collections.gpufleet.ollama.plugins.plugin_utils._settings import to_int

GIB = 1024.0 ** 3


def _gib(n):
    return '%.2f GiB' % (n / GIB)


def _vram_bytes(instance, gpus):
    wanted = [str(g) for g in instance.get('gpus') or []]
    total = sum(to_int(g.get('memory_total_mib')) or 0 for g in gpus
                if not wanted or str(g.get('uuid')) in wanted or str(g.get('index')) in wanted)
    return total * 1024 * 1024


def ollama_models_preflight(data):
    if not isinstance(data, dict):
        raise AnsibleFilterError('ollama_models_preflight expects a mapping, got %s' % type(data).__name__)
    host = data.get('host', '?')
    store = data.get('store') or {}
    catalog = data.get('catalog') or {}
    models = catalog.get('models') or {}
    indexes = data.get('indexes') or {}
    gguf_sizes = data.get('gguf_sizes') or {}
    declared = (catalog.get('hosts') or {}).get(host, {}).get('present', [])
    held = set(m.get('name') for m in store.get('models') or [])
    problems, warnings = [], []

    blobs, receive = {}, 0
    for plan in store.get('plans') or []:
        for blob in plan.get('missing') or []:
            blobs[blob['digest']] = to_int(blob['size']) or 0
    receive += sum(blobs.values())
    for name in declared:
        if models.get(name, {}).get('source') == 'gguf' and name not in held:
            receive += to_int(gguf_sizes.get(name)) or 0
    free = to_int(store.get('free_bytes')) or 0
    margin = (to_int(data.get('margin_mib')) or 0) * 1024 * 1024
    needed = int(receive * (1 + (to_int(data.get('margin_percent')) or 0) / 100.0)) + margin if receive else 0
    if needed > free:
        problems.append('%s: the model store has %s free but needs %s: %s to receive plus the margin '
                        '(ollama_models_disk_margin_percent=%s, ollama_models_disk_margin_mib=%s). Free space or '
                        'place fewer models; nothing was transferred.'
                        % (host, _gib(free), _gib(needed), _gib(receive), data.get('margin_percent'),
                           data.get('margin_mib')))

    policy = data.get('vram_check', 'fail')
    if policy not in ('fail', 'warn', 'off'):
        problems.append('%s: ollama_models_vram_check: %r is not valid (valid: fail, warn, off).' % (host, policy))
        policy = 'fail'
    sizes = {}
    for name in declared:
        root = name
        while models.get(root, {}).get('source') == 'from':
            root = models[root].get('from')
        size = indexes.get(root, {}).get('size') if root in indexes else gguf_sizes.get(root)
        if size:
            sizes[name] = to_int(size)
    if policy != 'off':
        headroom = 1 + (to_int(data.get('vram_headroom_percent')) or 0) / 100.0
        for name in declared:
            if name not in sizes:
                continue
            want = int(sizes[name] * headroom)
            for instance in data.get('instances') or []:
                vram = _vram_bytes(instance, data.get('gpus') or [])
                if vram and want > vram:
                    text = ('%s: model %s (%s, %s with ollama_models_vram_headroom_percent=%s) does not fit the GPU '
                            'memory of instance %s:%s (%s); it would run partly on the CPU.'
                            % (host, name, _gib(sizes[name]), _gib(want), data.get('vram_headroom_percent'), host,
                               instance.get('port'), _gib(vram)))
                    (problems if policy == 'fail' else warnings).append(text)
    return {'problems': problems, 'warnings': warnings, 'receive_bytes': receive, 'sizes': sizes}


class FilterModule(object):
    def filters(self):
        return {'ollama_models_preflight': ollama_models_preflight}
