# -*- coding: utf-8 -*-
# Copyright (c) 2026, gpufleet maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: ollama_status_table
short_description: Format the fleet status rows as a plain-text table
version_added: 0.3.0
author:
  - gpufleet maintainers (@gpufleet)
description:
  - Takes the rows of P(gpufleet.ollama.ollama_status_rows#filter) and returns the lines of a plain-text report - a
    count line, then one C(PROBLEM) line per problem, then a table with the columns NODE, INSTANCE, GPU, VERSION,
    HEALTH, PRESENT (the models the instance has) and LOADED (ON GPU) (each loaded model with the share of it in
    GPU memory, for example C(llama3:8b 100%) or C(big:70b 40% (partly on CPU))).
  - Rows keep their order (problems first).
options:
  _input:
    description: The rows.
    type: list
    elements: dict
    required: true
"""

EXAMPLES = r"""
- name: Show the fleet
  ansible.builtin.debug:
    msg: "{{ __status_rows | gpufleet.ollama.ollama_status_table }}"
"""

RETURN = r"""
_value:
  description: The lines of the report.
  type: list
  elements: str
  sample:
    - "2 nodes, 3 instances, 1 with a problem"
    - "PROBLEM gpu02:11434: big:70b is 40% in GPU memory (partly on CPU)."
    - ""
    - "NODE   INSTANCE  GPU                               VERSION  HEALTH  PRESENT            LOADED (ON GPU)"
    - "gpu02  11434     0 NVIDIA H100 (40000/81559 MiB)   0.14.1   ok      big:70b            big:70b 40% (partly on CPU)"
"""

from collections.abc import Mapping

from ansible.errors import AnsibleFilterError
from ansible_collections.gpufleet.ollama.plugins.plugin_utils._report import text_table

HEAD = ('NODE', 'INSTANCE', 'GPU', 'VERSION', 'HEALTH', 'PRESENT', 'LOADED (ON GPU)')


def gpu_text(gpu):
    memory = ' (%s/%s MiB)' % (gpu.get('used_mib'), gpu.get('total_mib')) if gpu.get('total_mib') else ''
    return ('%s %s%s' % ('' if gpu.get('index') is None else gpu.get('index'), gpu.get('name') or gpu.get('uuid') or '?',
                         memory)).strip()


def counts_line(rows):
    nodes = len({r.get('node') for r in rows})
    instances = len([r for r in rows if r.get('port') is not None])
    problems = len([r for r in rows if r.get('problems')])
    return '%d node%s, %d instance%s, %d row%s with a problem' % (
        nodes, '' if nodes == 1 else 's', instances, '' if instances == 1 else 's', problems, '' if problems == 1 else 's')


def ollama_status_table(rows):
    if not isinstance(rows, list) or not all(isinstance(r, Mapping) for r in rows):
        raise AnsibleFilterError('ollama_status_table expects the rows of ollama_status_rows (a list of mappings)')
    lines = [counts_line(rows)]
    lines += ['PROBLEM %s: %s' % (r.get('id'), p) for r in rows for p in r.get('problems') or []]
    table = [(r.get('node', '?'), '-' if r.get('port') is None else r['port'],
              '; '.join(gpu_text(g) for g in r.get('gpus') or []) or '-', r.get('version') or '-', r.get('health') or '-',
              ', '.join(r.get('models') or []) or '-', ', '.join(m.get('label', '?') for m in r.get('loaded') or []) or '-')
             for r in rows]
    return lines + [''] + text_table(HEAD, table)


class FilterModule(object):
    def filters(self):
        return {'ollama_status_table': ollama_status_table}
