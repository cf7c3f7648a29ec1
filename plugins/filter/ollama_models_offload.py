# -*- coding: utf-8 -*-
# Copyright (c) 2026, gpufleet maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: ollama_models_offload
short_description: Add where each model runs (GPU or CPU) to a node's model rows
version_added: 0.1.0
author:
  - gpufleet maintainers (@gpufleet)
description:
  - Takes a node's rows (P(gpufleet.ollama.ollama_models_status#filter)) and the results of a
    M(gpufleet.ollama.ollama_health) loop with O(gpufleet.ollama.ollama_health#module:check_gpu_offload=true) over
    C([endpoint, model]) pairs, and sets each row's C(size) and C(size_vram) (C(GET /api/ps)) to those of the
    instance where the least of the model was in GPU memory, for P(gpufleet.ollama.ollama_models_report#filter).
options:
  _input:
    description: The node's rows C({name, digest, status}).
    type: list
    elements: dict
    required: true
  results:
    description: The C(results) of the health loop; items are C([endpoint, model]).
    type: list
    elements: dict
    required: true
"""

EXAMPLES = r"""
- name: Note where each model runs
  ansible.builtin.set_fact:
    rows: "{{ ollama_models_result.models | gpufleet.ollama.ollama_models_offload(smoke.results) }}"
"""

RETURN = r"""
_value:
  description: The rows, with C(size) and C(size_vram) where a smoke test measured them.
  type: list
  elements: dict
"""

from ansible.errors import AnsibleFilterError
from ansible_collections.gpufleet.ollama.plugins.module_utils._names import same_model


def ollama_models_offload(rows, results):
    if not isinstance(rows, list) or not isinstance(results, list):
        raise AnsibleFilterError('ollama_models_offload expects the rows and the results of the health loop')
    out = []
    for row in rows:
        row = dict(row)
        for result in results:
            item = result.get('item') or []
            offload = result.get('gpu_offload') or {}
            if len(item) == 2 and same_model(str(item[1]), row.get('name', '')) and 'size' in offload:
                fraction = offload.get('size_vram', 0) / float(offload['size'] or 1)
                if 'size' not in row or fraction < row['size_vram'] / float(row['size'] or 1):
                    row['size'], row['size_vram'] = offload['size'], offload.get('size_vram', 0)
        out.append(row)
    return out


class FilterModule(object):
    def filters(self):
        return {'ollama_models_offload': ollama_models_offload}
