# -*- coding: utf-8 -*-
# Copyright (c) 2026, gpufleet maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: ollama_fanout_waves
short_description: Plan a model's transfers in waves, each wave copying from every node that already holds it
version_added: 0.1.0
author:
  - gpufleet maintainers (@gpufleet)
description:
  - Returns the waves in which the nodes that lack a model receive it. In each wave every holder (the origin, and
    every node that holds the model already or received it in an earlier wave) serves up to O(width) targets at
    once, so the number of holders grows by a factor of O(width) + 1 each wave. The nodes are given targets before
    the origin, so that the controller or depot serves only what the nodes cannot.
  - With O(width=1) and one origin, N targets take ceil(log2(N + 1)) waves instead of N transfers from one machine.
options:
  _input:
    description: The nodes that lack the model, in the order they should receive it.
    type: list
    elements: str
    required: true
  holders:
    description: The sources at the start, the origin first (the controller, the depot host or the staging node),
      then the nodes that already hold the model.
    type: list
    elements: str
    required: true
  width:
    description: How many targets one source serves in one wave (C(ollama_models_fanout_width)).
    type: int
    default: 1
"""

EXAMPLES = r"""
- name: Plan the waves of one model
  ansible.builtin.set_fact:
    __waves: "{{ ['gpu02', 'gpu03', 'gpu04'] | gpufleet.ollama.ollama_fanout_waves(['localhost', 'gpu01']) }}"
  # [[{target: gpu02, source: gpu01}, {target: gpu03, source: localhost}], [{target: gpu04, source: gpu01}]]
"""

RETURN = r"""
_value:
  description: The waves, each a list of C({target, source}) pairs; empty when no node lacks the model.
  type: list
  elements: list
"""

from ansible.errors import AnsibleFilterError
from ansible_collections.gpufleet.ollama.plugins.plugin_utils._settings import to_int


def ollama_fanout_waves(targets, holders, width=1):
    width = to_int(width)
    if not isinstance(targets, list) or not isinstance(holders, list) or not holders:
        raise AnsibleFilterError('ollama_fanout_waves expects a list of targets and a non-empty list of holders, got '
                                 '%r and %r' % (targets, holders))
    if width is None or width < 1:
        raise AnsibleFilterError('ollama_models_fanout_width must be a whole number of at least 1, got %r' % (width,))
    origin = holders[0]
    nodes = [h for i, h in enumerate(holders) if i > 0 and h != origin and h not in holders[1:i]]
    pending = [t for i, t in enumerate(targets) if t not in holders and t not in targets[:i]]
    waves = []
    while pending:
        wave = []
        # Nodes that hold the model serve first; the origin (controller, depot) feeds what they cannot.
        for source in nodes + [origin]:
            for _slot in range(width):
                if pending:
                    wave.append({'target': pending.pop(0), 'source': source})
        nodes.extend(pair['target'] for pair in wave)
        waves.append(wave)
    return waves


class FilterModule(object):
    def filters(self):
        return {'ollama_fanout_waves': ollama_fanout_waves}
