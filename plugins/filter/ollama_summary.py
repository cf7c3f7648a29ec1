# -*- coding: utf-8 -*-
# Copyright (c) 2026, gpufleet maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: ollama_summary
short_description: Format the site summary table of every Ollama instance
version_added: 0.1.0
author:
  - gpufleet maintainers (@gpufleet)
description:
  - Takes, for every GPU node of the play, its C(ollama_health_report) fact (see
    P(gpufleet.ollama.ollama_health_report#filter)) and returns the lines of a plain-text table with the columns
    INSTANCE, VERSION, HEALTH and MODELS, one row per instance.
  - A node without a report (it failed or was unreachable before the role published one) gets one row saying
    V(not converged).
options:
  _input:
    description: A list of C([host, report]) pairs, or a mapping host to report; a report of V(false) or V(null) means none.
    type: raw
    required: true
"""

EXAMPLES = r"""
- name: Show every instance with its version, health and models
  ansible.builtin.debug:
    msg: >-
      {{ ansible_play_hosts_all
         | zip(ansible_play_hosts_all | map('extract', hostvars) | map(attribute='ollama_health_report', default=false))
         | gpufleet.ollama.ollama_summary }}
"""

RETURN = r"""
_value:
  description: The lines of the table, header first, columns padded with spaces.
  type: list
  elements: str
  sample:
    - "INSTANCE          VERSION  HEALTH  MODELS"
    - "gpu01:11434       0.14.1   ok      qwen2:7b"
"""

from ansible.errors import AnsibleFilterError

HEAD = ('INSTANCE', 'VERSION', 'HEALTH', 'MODELS')


def ollama_summary(reports):
    if isinstance(reports, dict):
        pairs = list(reports.items())
    elif isinstance(reports, list):
        pairs = [tuple(p) for p in reports]
    else:
        raise AnsibleFilterError('ollama_summary expects [host, report] pairs or a mapping, got %s'
                                 % type(reports).__name__)
    rows = []
    for pair in pairs:
        if len(pair) != 2:
            raise AnsibleFilterError('ollama_summary: expected a [host, report] pair, got %r' % (pair,))
        host, report = pair
        if not isinstance(report, list):
            rows.append((str(host), '-', 'not converged', '-'))
            continue
        for r in report:
            rows.append((str(r.get('instance', host)), str(r.get('version', '-')), str(r.get('health', '-')),
                         ', '.join(str(m) for m in r.get('models') or []) or '-'))
    widths = [max(len(r[c]) for r in [HEAD] + rows) for c in range(3)]
    return [('  '.join(r[c].ljust(widths[c]) for c in range(3)) + '  ' + r[3]) for r in [HEAD] + rows]


class FilterModule(object):
    def filters(self):
        return {'ollama_summary': ollama_summary}
