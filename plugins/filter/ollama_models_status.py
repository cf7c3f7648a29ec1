# -*- coding: utf-8 -*-
# Copyright (c) 2026, gpufleet maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: ollama_models_status
short_description: What became of each model a GPU node declares
version_added: 0.1.0
author:
  - gpufleet maintainers (@gpufleet)
description:
  - Compares a node's store before and after the C(gpufleet.ollama.ollama_models) role and returns one row per
    declared model and per removed model, for P(gpufleet.ollama.ollama_models_report#filter).
  - Status is V(in place) (same digest before and after), V(placed) (new), V(updated) (new digest), V(removed), or
    V(MISSING) for a declared model the store does not hold (in check mode - not placed yet).
options:
  _input:
    description: Display names of the models the node declares present.
    type: list
    elements: str
    required: true
  after:
    description: The store's C(models) (C({name, digest})) after the role.
    type: list
    elements: dict
    required: true
  before:
    description: The store's C(models) before the role.
    type: list
    elements: dict
    required: true
  removed:
    description: Names of the models the role removed.
    type: list
    elements: str
    default: []
"""

EXAMPLES = r"""
- name: Publish the rows
  ansible.builtin.set_fact:
    rows: "{{ ['qwen2:7b'] | gpufleet.ollama.ollama_models_status(after.models, before.models) }}"
"""

RETURN = r"""
_value:
  description: Rows C({name, digest, status}).
  type: list
  elements: dict
"""

from ansible.errors import AnsibleFilterError


def _digests(models):
    return {str(m.get('name', '')).lower(): m.get('digest') for m in models or [] if isinstance(m, dict)}


def ollama_models_status(declared, after, before, removed=None):
    if not isinstance(declared, list):
        raise AnsibleFilterError('ollama_models_status expects the list of declared models, got %s'
                                 % type(declared).__name__)
    now, then = _digests(after), _digests(before)
    rows = []
    for name in declared:
        digest, old = now.get(name.lower()), then.get(name.lower())
        if digest is None:
            status = 'MISSING'
        elif old is None:
            status = 'placed'
        elif old != digest:
            status = 'updated'
        else:
            status = 'in place'
        rows.append({'name': name, 'digest': digest, 'status': status})
    rows.extend({'name': name, 'digest': then.get(name.lower()), 'status': 'removed'} for name in removed or [])
    return rows


class FilterModule(object):
    def filters(self):
        return {'ollama_models_status': ollama_models_status}
