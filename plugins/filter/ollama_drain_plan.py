# -*- coding: utf-8 -*-
# Copyright (c) 2026, gpufleet maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: ollama_drain_plan
short_description: Work out a gateway's new drain set from a drain or undrain request
version_added: 0.1.0
author:
  - gpufleet maintainers (@gpufleet)
description:
  - Takes the text of the gateway's persisted drain set (C(drained.json), a JSON list of inventory host names such as
    V(gpu01) and instances such as V(gpu01:11435)) and a request (O(targets) and O(state)), and returns the new set in
    its normal form (sorted, unique, no instance of a host that is drained as a whole), the file content to write,
    and the upstream servers the request concerns (to wait for, and to report).
  - O(state=drained) adds the targets; every target must name a host or an instance of O(servers).
  - O(state=active) removes them; undraining a host also removes its single instances. A target that is in the set
    but no longer in O(servers) (a node that left the inventory) may be removed; a target that is in neither is a
    problem (a typo). One instance of a host that is drained as a whole cannot be undrained alone.
  - A drain that would leave no server of O(servers) in rotation is a problem unless O(force).
  - Models that no server in rotation serves after the request (only known when every server in rotation lists its
    models) are returned as a warning.
options:
  _input:
    description: Content of the drain file; V(null) or an empty string when there is none.
    type: str
    required: true
  targets:
    description: Hosts (V(gpu01)) or instances (V(gpu01:11435)); a list, or one string with commas or spaces between names.
    type: raw
    required: true
  state:
    description: V(drained) takes the targets out of rotation, V(active) puts them back.
    type: str
    required: true
    choices: [drained, active]
  servers:
    description: The gateway's upstream servers C({address, port, host, down, models}) as its preflight built them.
    type: list
    elements: dict
    required: true
  also_drained:
    description: Entries drained by inventory (C(ollama_gateway_drained_hosts)); they count as out of rotation.
    type: list
    elements: str
    default: []
  force:
    description: Allow a drain that leaves no server in rotation.
    type: bool
    default: false
  path:
    description: Path of the drain file, used in the problems.
    type: str
    default: drained.json
"""

EXAMPLES = r"""
- name: Work out the new drain set
  ansible.builtin.set_fact:
    __ollama_gateway_drain_plan: >-
      {{ (__ollama_gateway_drain_read.content | default('') | b64decode)
         | gpufleet.ollama.ollama_drain_plan(ollama_gateway_drain_targets, ollama_gateway_drain_state,
                                             __ollama_gateway_servers, ollama_gateway_drained_hosts) }}
"""

RETURN = r"""
_value:
  description: The new drain set and what the request concerns.
  type: dict
  contains:
    requested:
      description: The targets as a list, without blanks and repeats.
      type: list
      elements: str
      sample: [gpu01, "gpu02:11435"]
    drained:
      description: The new drain set, sorted, unique.
      type: list
      elements: str
      sample: [gpu01, "gpu02:11435"]
    content:
      description: The new content of the drain file (JSON, one line, newline at the end).
      type: str
      sample: "[\"gpu01\", \"gpu02:11435\"]\n"
    changed:
      description: Whether the drain set differs from the one read.
      type: bool
    endpoints:
      description: The servers the targets name, as C({name, address, port}) with C(name) = C(host:port).
      type: list
      elements: dict
      sample: [{name: "gpu01:11434", address: 10.0.0.5, port: 11434}]
    targets:
      description: The target each of RV(_value.endpoints) was named by, by its C(name).
      type: dict
      sample: {"gpu01:11434": gpu01}
    problems:
      description: One sentence per problem; the request must not be applied when there is one.
      type: list
      elements: str
    warnings:
      description: Things to tell the operator (models no server in rotation serves any more).
      type: list
      elements: str
    previous:
      description:
        - What was out of rotation before this request, sorted, the persisted set and O(also_drained) together. A
          rolling change undrains only what it drained itself, never what an operator drained before.
      type: list
      elements: str
"""

import json
import re

from ansible.errors import AnsibleFilterError
from ansible_collections.gpufleet.ollama.plugins.plugin_utils._settings import is_drained, to_bool

STATES = ('drained', 'active')


def _split(targets):
    if targets is None:
        return []
    if isinstance(targets, str):
        return [t for t in re.split(r'[\s,]+', targets) if t]
    if isinstance(targets, (list, tuple)):
        return [str(t).strip() for t in targets if str(t).strip()]
    raise AnsibleFilterError('ollama_drain_plan: targets must be a list or a string, got %s' % type(targets).__name__)


def _host_of(entry):
    host, sep, port = entry.rpartition(':')
    return host if sep and port.isdigit() else entry


def _normal(entries):
    """Sorted, unique, without the instances of a host that is drained as a whole."""
    entries = set(entries)
    return sorted(e for e in entries if e == _host_of(e) or _host_of(e) not in entries)


def ollama_drain_plan(content, targets, state, servers, also_drained=None, force=False, path='drained.json'):
    if state not in STATES:
        raise AnsibleFilterError('ollama_drain_plan: state must be one of %s, got %r' % (', '.join(STATES), state))
    if not isinstance(servers, list) or not all(isinstance(s, dict) and 'port' in s for s in servers):
        raise AnsibleFilterError('ollama_drain_plan: servers must be a list of {address, port, host}, got %r' % (servers,))
    targets = list(dict.fromkeys(_split(targets)))
    problems, warnings = [], []

    current = []
    if content is not None and str(content).strip():
        try:
            current = json.loads(str(content))
        except ValueError as e:
            current = None
            problems.append('%s is not JSON (%s): fix or remove the file.' % (path, e))
        if current is not None and not (isinstance(current, list) and all(isinstance(e, str) for e in current)):
            problems.append('%s is not a JSON list of host or host:port names: %s.' % (path, str(content).strip()[:200]))
            current = None
    current = current or []

    hosts = list(dict.fromkeys(str(s['host']) for s in servers if s.get('host')))
    instances = ['%s:%s' % (s['host'], s['port']) for s in servers if s.get('host')]
    known = 'known hosts and instances: %s' % (', '.join(hosts + instances) or 'none (no server carries a host name)')
    if not targets:
        problems.append('ollama_gateway_drain_targets is empty: name hosts (gpu01) or instances (gpu01:11435); %s.'
                        % known)

    new = set(current)
    for target in targets:
        is_known = target in hosts or target in instances
        if state == 'drained':
            if not is_known:
                problems.append('%s names no host or instance of this gateway\'s upstream; %s.' % (target, known))
                continue
            new.add(target)
        else:
            host = _host_of(target)
            if target != host and host in new:
                problems.append('%s is drained with all of %s: undrain %s (and drain the instances that stay out one '
                                'by one).' % (target, host, host))
                continue
            if not is_known and target not in new:
                problems.append('%s is neither drained nor a host or instance of this gateway\'s upstream; %s.'
                                % (target, known))
                continue
            new.discard(target)
            if target == host:
                new -= set(e for e in new if _host_of(e) == host)
    drained = _normal(new)

    endpoints, owner = [], {}
    for s in servers:
        host = str(s.get('host') or '')
        name = '%s:%s' % (host, s['port'])
        target = host if host in targets else name if name in targets else None
        if host and target and name not in owner:
            owner[name] = target
            endpoints.append({'name': name, 'address': str(s['address']), 'port': int(s['port'])})

    changed = drained != _normal(current)
    out_now = set(drained) | set(str(e) for e in also_drained or [])
    before = [s for s in servers if not s.get('down')]
    after = [s for s in servers if not is_drained(s['host'], s['port'], out_now)]
    if state == 'drained' and changed and servers and not after and not to_bool(force):
        problems.append('draining %s would take every instance of this gateway\'s upstream out of rotation, and the '
                        'gateway would fail every request; set ollama_gateway_drain_force=true to do it anyway.'
                        % ', '.join(targets))
    if all(isinstance(s.get('models'), list) for s in after):
        lost = sorted(set(m for s in before if isinstance(s.get('models'), list) for m in s['models'])
                      - set(m for s in after for m in s['models']))
        if lost:
            warnings.append('no instance in rotation serves %s any more: requests for %s fail until an instance that '
                            'has %s is undrained.' % (', '.join(lost), 'it' if len(lost) == 1 else 'them',
                                                      'it' if len(lost) == 1 else 'them'))

    return {'requested': targets, 'drained': drained, 'content': json.dumps(drained) + '\n', 'changed': changed,
            'endpoints': endpoints, 'targets': owner, 'problems': problems, 'warnings': warnings,
            'previous': _normal(set(current) | set(str(e) for e in also_drained or []))}


class FilterModule(object):
    def filters(self):
        return {'ollama_drain_plan': ollama_drain_plan}
