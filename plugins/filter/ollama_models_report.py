# -*- coding: utf-8 -*-
# Copyright (c) 2026, gpufleet maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: ollama_models_report
short_description: The table a model placement or rollout ends with, one row per node and model
version_added: 0.1.0
author:
  - gpufleet maintainers (@gpufleet)
description:
  - Takes the C(ollama_models_result) fact of every GPU node (published by the C(gpufleet.ollama.ollama_models)
    role) and returns a text table with the columns node, model, digest (the first 12 hex digits, as
    C(ollama list) shows the ID), on GPU and status.
  - On GPU is V(yes) when C(/api/ps) showed the whole model in GPU memory after the preload, V(PARTLY) or V(NO (CPU\))
    otherwise, and V(-) when the model was not loaded. Status is what the role did (V(placed), V(built),
    V(in place), V(removed)) or V(FAILED); a node that published nothing shows V(no result).
options:
  _input:
    description: Pairs C([node, result]); the result is V(false) or V(null) for a node that published none.
    type: list
    elements: list
    required: true
"""

EXAMPLES = r"""
- name: Show what every node holds now
  ansible.builtin.debug:
    msg: >-
      {{ ansible_play_hosts_all | zip(ansible_play_hosts_all | map('extract', hostvars)
         | map(attribute='ollama_models_result', default=false)) | gpufleet.ollama.ollama_models_report }}
"""

RETURN = r"""
_value:
  description: The lines of the table.
  type: list
  elements: str
"""

from ansible.errors import AnsibleFilterError
from ansible_collections.gpufleet.ollama.plugins.plugin_utils._report import text_table


def _on_gpu(row):
    size, vram = row.get('size'), row.get('size_vram')
    if vram is None or not size:
        return '-'
    if vram >= size:
        return 'yes'
    return 'PARTLY' if vram > 0 else 'NO (CPU)'


def ollama_models_report(pairs):
    if not isinstance(pairs, list):
        raise AnsibleFilterError('ollama_models_report expects pairs [node, result], got %s' % type(pairs).__name__)
    rows = []
    for node, result in pairs:
        if not isinstance(result, dict):
            rows.append((node, '-', '-', '-', 'no result'))
            continue
        for row in result.get('models') or []:
            rows.append((node, row.get('name', '?'), (row.get('digest') or '-')[:12], _on_gpu(row),
                         row.get('status', '?')))
        if not result.get('models'):
            rows.append((node, '-', '-', '-', 'no model declared'))
    return text_table(('node', 'model', 'digest', 'on GPU', 'status'), rows)


class FilterModule(object):
    def filters(self):
        return {'ollama_models_report': ollama_models_report}
