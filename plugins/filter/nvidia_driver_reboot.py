# -*- coding: utf-8 -*-
# Copyright (c) 2026, gpufleet maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: nvidia_driver_reboot
short_description: Decide whether a GPU node must reboot, load the driver's module, or do nothing
version_added: 0.3.0
author:
  - gpufleet maintainers (@gpufleet)
description:
  - The one place that decides what a GPU node needs after its NVIDIA driver packages are in place, from what the
    node reports - the version of the C(nvidia) kernel module it has loaded (C(/sys/module/nvidia/version), empty
    when none is loaded), the version installed, and whether C(nouveau) is loaded.
  - "O(policy=auto): C(reboot) when the loaded module is another version than the one installed (a driver upgrade:
    the running module cannot be swapped under the GPUs' users) or C(nouveau) still holds the GPUs; C(load) when no
    module is loaded and nothing stands in the way (C(modprobe nvidia), no reboot); C(none) when the installed
    version is loaded."
  - O(policy=always) reboots whatever the state; O(policy=never) never reboots and says in RV(_value.reason) what the
    node still needs.
  - A reboot of the control node is never decided - C(refuse) with a message in RV(_value.problem) - when the node is
    reached with O(connection=local) (or is the controller itself).
options:
  _input:
    description: What the node reports.
    type: dict
    required: true
    suboptions:
      loaded:
        description: Version of the loaded C(nvidia) module, empty when none is loaded.
        type: str
      installed:
        description: Version of the driver installed (the package's, or the pin once installed).
        type: str
      nouveau_loaded:
        description: Whether the C(nouveau) module is loaded.
        type: bool
  policy:
    description: C(auto), C(never) or C(always).
    type: str
    default: auto
  connection:
    description: The connection plugin that reaches the node (C(ansible_connection)); C(local) is the controller.
    type: str
    default: ssh
  host:
    description: The node's name, for messages.
    type: str
    default: ''
"""

EXAMPLES = r"""
- name: Reboot only when the driver needs it
  ansible.builtin.reboot:
  when: __decision.action == 'reboot'
  vars:
    __decision: >-
      {{ {'loaded': '535.216.01', 'installed': '550.127.05', 'nouveau_loaded': false}
         | gpufleet.ollama.nvidia_driver_reboot('auto', ansible_connection | default('ssh'), inventory_hostname) }}
  # -> {action: reboot, reason: "the loaded nvidia module is 535.216.01, the installed driver 550.127.05", problem: ""}
"""

RETURN = r"""
_value:
  description: The decision.
  type: dict
  contains:
    action:
      description: C(none), C(load) (modprobe), C(reboot), or C(refuse) (a reboot is needed or asked for on the
        control node).
      type: str
    reason:
      description: Why, in a sentence (empty for C(none) under O(policy=auto)).
      type: str
    problem:
      description: With C(refuse), the message to fail with; empty otherwise.
      type: str
"""

from collections.abc import Mapping

from ansible.errors import AnsibleFilterError

POLICIES = ('auto', 'never', 'always')


def _need(state):
    """(action, reason) that the node's state calls for."""
    loaded, installed = str(state.get('loaded') or '').strip(), str(state.get('installed') or '').strip()
    if state.get('nouveau_loaded'):
        return 'reboot', 'nouveau is loaded and holds the GPUs (it is blacklisted now; only a boot without it frees them)'
    if loaded and installed and loaded != installed:
        return 'reboot', 'the loaded nvidia module is %s, the installed driver %s' % (loaded, installed)
    if not loaded and installed:
        return 'load', 'no nvidia module is loaded; the installed driver %s can be loaded without a reboot' % installed
    return 'none', ''


def nvidia_driver_reboot(state, policy='auto', connection='ssh', host=''):
    if not isinstance(state, Mapping):
        raise AnsibleFilterError('nvidia_driver_reboot expects a dict with loaded, installed and nouveau_loaded, got %s'
                                 % type(state).__name__)
    if policy not in POLICIES:
        raise AnsibleFilterError('nvidia_driver_reboot: policy must be one of %s, got %r' % (', '.join(POLICIES), policy))
    action, reason = _need(state)
    if policy == 'always':
        action, reason = 'reboot', reason or 'a reboot is asked for (always)'
    elif policy == 'never' and action == 'reboot':
        return dict(action='none', problem='', reason='%s: the node needs a reboot, which is never done here (never); '
                                                      'its GPUs stay unusable for the new driver until it reboots'
                                                      % reason)
    if action == 'reboot' and str(connection) == 'local':
        where = ('%s is' % host) if host else 'this node is'
        return dict(action='refuse', reason=reason,
                    problem='%s reached with connection local: it is the control node, which is never rebooted (%s). '
                            'Reboot it yourself, or manage the driver of the control node outside this run.'
                            % (where, reason))
    return dict(action=action, reason=reason, problem='')


class FilterModule(object):
    def filters(self):
        return {'nvidia_driver_reboot': nvidia_driver_reboot}
