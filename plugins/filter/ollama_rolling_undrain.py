# -*- coding: utf-8 -*-
# Copyright (c) 2026, gpufleet maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: ollama_rolling_undrain
short_description: Pick the instances a rolling change may put back into rotation
version_added: 0.1.0
author:
  - gpufleet maintainers (@gpufleet)
description:
  - A rolling change drains a batch of instances, restarts them and puts the healthy ones back. It must not put back
    what was out of rotation before it drained (an operator's drain of a node or an instance).
  - Returns the targets that are neither in O(previously_drained) nor on a node named there.
options:
  _input:
    description: The healthy instances of the batch, as C(node:port).
    type: list
    elements: str
    required: true
  previously_drained:
    description: What was out of rotation before the batch's drain (C(previous) of P(gpufleet.ollama.ollama_drain_plan#filter)).
    type: list
    elements: str
    required: true
"""

EXAMPLES = r"""
- name: Put back what the batch drained
  ansible.builtin.debug:
    msg: "{{ ['gpu01:11434', 'gpu02:11434', 'gpu03:11435'] | gpufleet.ollama.ollama_rolling_undrain(['gpu02', 'gpu03:11435']) }}"
  # -> ['gpu01:11434']
"""

RETURN = r"""
_value:
  description: The targets to undrain, in the order given.
  type: list
  elements: str
"""

from ansible.errors import AnsibleFilterError


def ollama_rolling_undrain(targets, previously_drained):
    if not isinstance(targets, list) or not isinstance(previously_drained, list):
        raise AnsibleFilterError('ollama_rolling_undrain expects two lists of node or node:port names, got %s and %s'
                                 % (type(targets).__name__, type(previously_drained).__name__))
    before = set(str(e) for e in previously_drained)
    return [str(t) for t in targets if str(t) not in before and str(t).rsplit(':', 1)[0] not in before]


class FilterModule(object):
    def filters(self):
        return {'ollama_rolling_undrain': ollama_rolling_undrain}
