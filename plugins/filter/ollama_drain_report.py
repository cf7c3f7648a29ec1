# -*- coding: utf-8 -*-
# Copyright (c) 2026, gpufleet maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: ollama_drain_report
short_description: The table a drain or undrain ends with, one row per gateway and instance
version_added: 0.1.0
author:
  - gpufleet maintainers (@gpufleet)
description:
  - Takes the C(ollama_gateway_drain_result) fact of every gateway (published by the C(drain) entry point of the
    C(gpufleet.ollama.ollama_gateway) role) and returns a text table, one line per list item, with the columns
    gateway, target, instance, state, in-flight left and waited s, followed by each gateway's drain set.
  - State is V(drained) when the instance had no request in flight through the gateway any more, V(BUSY) when the
    wait timed out with requests still in flight, V(active) after an undrain, V(drained (check mode\)) or
    V(active (check mode\)) when nothing was changed, and V(no result) for a gateway that published none
    (unreachable, or failed before the wait).
  - Waited s is when the instance was first seen empty (seconds after the wait began), or the whole wait for a
    busy instance.
options:
  _input:
    description: Pairs C([gateway, result]); the result is V(false) or V(null) for a gateway that published none.
    type: list
    elements: list
    required: true
"""

EXAMPLES = r"""
- name: Show what each gateway did
  ansible.builtin.debug:
    msg: >-
      {{ ansible_play_hosts_all | zip(ansible_play_hosts_all | map('extract', hostvars)
         | map(attribute='ollama_gateway_drain_result', default=false)) | gpufleet.ollama.ollama_drain_report }}
"""

RETURN = r"""
_value:
  description: The lines of the table.
  type: list
  elements: str
  sample:
    - "gateway  target  instance     state    in-flight left  waited s"
    - "gw1      gpu01   gpu01:11434  drained  0               12.4"
    - "gw1 drain set: gpu01"
"""

from ansible.errors import AnsibleFilterError
from ansible_collections.gpufleet.ollama.plugins.plugin_utils._report import text_table

HEADER = ('gateway', 'target', 'instance', 'state', 'in-flight left', 'waited s')


def _seconds(value):
    return '-' if value is None else '%.1f' % float(value)


def _rows(gateway, result):
    if not isinstance(result, dict):
        return [(gateway, '-', '-', 'no result', '-', '-')], None
    state = str(result.get('state', ''))
    suffix = ' (check mode)' if result.get('check_mode') else ''
    owner = result.get('targets') or {}
    rows, seen = [], set()
    for e in result.get('endpoints') or []:
        name = str(e.get('name'))
        target = str(owner.get(name, '-'))
        seen.add(target)
        left = int(e.get('connections') or 0)
        if state == 'drained' and not suffix:
            row_state = 'BUSY' if left else 'drained'
            waited = result.get('waited') if left else e.get('empty_after')
        else:
            row_state, waited = state + suffix, None
        rows.append((gateway, target, name, row_state, str(left), _seconds(waited)))
    for target in result.get('requested') or []:
        if target not in seen:      # a stale entry without servers any more
            rows.append((gateway, str(target), '-', state + suffix, '-', '-'))
    return rows, result.get('drained')


def ollama_drain_report(pairs):
    if not isinstance(pairs, list) or not all(isinstance(p, (list, tuple)) and len(p) == 2 for p in pairs):
        raise AnsibleFilterError('ollama_drain_report expects a list of [gateway, result] pairs, got %r' % (pairs,))
    rows, sets = [], []
    for gateway, result in pairs:
        more, drained = _rows(str(gateway), result)
        rows.extend(more)
        if drained is not None:
            sets.append('%s drain set: %s' % (gateway, ', '.join(drained) or 'empty (every instance in rotation)'))
    return text_table(HEADER, rows) + sets


class FilterModule(object):
    def filters(self):
        return {'ollama_drain_report': ollama_drain_report}
