# -*- coding: utf-8 -*-
# Copyright (c) 2026, gpufleet maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: ollama_health_report
short_description: Summarise the health checks of a node's Ollama instances
version_added: 0.1.0
author:
  - gpufleet maintainers (@gpufleet)
description:
  - Turns the registered results of a loop of M(gpufleet.ollama.ollama_health) over the node's instances into one row
    per instance (C(instance), C(version), C(health), C(models)) for the site summary.
  - A skipped check (check mode, instances stopped) reports the configured version and health V(skipped); a failed
    one reports V(failed).
  - The C(results) of one M(gpufleet.ollama.ollama_health) run with O(gpufleet.ollama.ollama_health#module:targets)
    read the same (each target's C(item) is the instance). When that run was skipped there are no results; with
    O(instances) each instance still gets a row, with health V(skipped).
options:
  _input:
    description: The C(results) list of the registered loop (or targets run); each result carries C(item.port).
    type: list
    elements: dict
    required: true
  host:
    description: Inventory name of the node.
    type: str
    required: true
  version:
    description: The configured Ollama version (reported for skipped checks).
    type: str
    default: ""
  instances:
    description: The node's instances (each with its C(port)); a row with health V(skipped) for each one without a result.
    type: list
    elements: dict
    default: []
"""

EXAMPLES = r"""
- name: Publish this node's health for the summary
  ansible.builtin.set_fact:
    ollama_health_report: >-
      {{ __ollama_health.results | default([]) | gpufleet.ollama.ollama_health_report(inventory_hostname, ollama_version) }}
"""

RETURN = r"""
_value:
  description: One row per instance.
  type: list
  elements: dict
  sample: [{instance: "gpu01:11434", version: 0.14.1, health: ok, models: ["qwen2:7b"]}]
"""

from ansible.errors import AnsibleFilterError


def ollama_health_report(results, host, version='', instances=None):
    if not isinstance(results, list):
        raise AnsibleFilterError('ollama_health_report expects a list of results, got %s' % type(results).__name__)
    rows = []
    for r in results:
        item = r.get('item') or {}
        port = item.get('port') if isinstance(item, dict) else item
        if r.get('skipped'):
            health, found = 'skipped', version
        elif r.get('failed'):
            health, found = 'failed', r.get('version') or 'unknown'
        else:
            health, found = 'ok', r.get('version') or 'unknown'
        rows.append({'instance': '%s:%s' % (host, port), 'version': str(found), 'health': health,
                     'models': list(r.get('models') or [])})
    seen = {row['instance'] for row in rows}
    for instance in instances or []:
        name = '%s:%s' % (host, instance.get('port'))
        if name not in seen:
            rows.append({'instance': name, 'version': str(version), 'health': 'skipped', 'models': []})
    return rows


class FilterModule(object):
    def filters(self):
        return {'ollama_health_report': ollama_health_report}
