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
  - With O(gateways), a second table follows (GATEWAY, TLS, AUTH, INSTANCES, DRAINED, MODELS), and a line starting
    with C(WARNING) for every gateway that serves without API keys.
options:
  _input:
    description: A list of C([host, report]) pairs, or a mapping host to report; a report of V(false) or V(null) means none.
    type: raw
    required: true
  gateways:
    description:
      - C([host, report]) pairs (or a mapping) of the gateways' C(ollama_gateway_report) facts
        (C(tls), C(auth), C(servers), C(drained), C(models)); V(false) or V(null) when a gateway has none.
    type: raw
    default: []
  unreachable:
    description: Hosts this run could not reach; their row says V(unreachable) (the gateways keep their instances).
    type: list
    elements: str
    default: []
"""

EXAMPLES = r"""
- name: Show every instance with its version, health and models
  ansible.builtin.debug:
    msg: >-
      {{ ansible_play_hosts_all
         | zip(ansible_play_hosts_all | map('extract', hostvars) | map(attribute='ollama_health_report', default=false))
         | gpufleet.ollama.ollama_summary(groups['ollama_gateways'] | default([])
             | zip(groups['ollama_gateways'] | default([]) | map('extract', hostvars)
                   | map(attribute='ollama_gateway_report', default=false))) }}
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
from ansible_collections.gpufleet.ollama.plugins.plugin_utils._report import text_table

HEAD = ('INSTANCE', 'VERSION', 'HEALTH', 'MODELS')
GW_HEAD = ('GATEWAY', 'TLS', 'AUTH', 'INSTANCES', 'DRAINED', 'MODELS')


def _pairs(reports):
    if isinstance(reports, dict):
        pairs = list(reports.items())
    elif isinstance(reports, list):
        pairs = [tuple(p) for p in reports]
    else:
        raise AnsibleFilterError('ollama_summary expects [host, report] pairs or a mapping, got %s'
                                 % type(reports).__name__)
    for pair in pairs:
        if len(pair) != 2:
            raise AnsibleFilterError('ollama_summary: expected a [host, report] pair, got %r' % (pair,))
    return pairs


def _onoff(value):
    return 'on' if value else 'off'


def _gateways(reports):
    rows, warnings = [], []
    for host, r in _pairs(reports):
        if not isinstance(r, dict):
            rows.append((str(host), '-', '-', '-', '-', 'not converged'))
            continue
        rows.append((str(host), _onoff(r.get('tls')), _onoff(r.get('auth')), str(r.get('servers', '-')),
                     ', '.join(r.get('drained') or []) or '-', ', '.join(r.get('models') or []) or '-'))
        if not r.get('auth'):
            warnings.append('WARNING: gateway %s serves the API without keys (ollama_gateway_auth: false).' % host)
    return rows, warnings


def ollama_summary(reports, gateways=None, unreachable=None):
    pairs = _pairs(reports)
    rows = []
    unreachable = [str(h) for h in unreachable or []]
    for host, report in pairs:
        if str(host) in unreachable or not isinstance(report, list):
            rows.append((str(host), '-', 'unreachable' if str(host) in unreachable else 'not converged', '-'))
            continue
        for r in report:
            rows.append((str(r.get('instance', host)), str(r.get('version', '-')), str(r.get('health', '-')),
                         ', '.join(str(m) for m in r.get('models') or []) or '-'))
    lines = text_table(HEAD, rows)
    if gateways:
        gw_rows, warnings = _gateways(gateways)
        lines += [''] + text_table(GW_HEAD, gw_rows) + warnings
    return lines


class FilterModule(object):
    def filters(self):
        return {'ollama_summary': ollama_summary}
