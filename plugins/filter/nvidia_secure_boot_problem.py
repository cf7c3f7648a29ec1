# -*- coding: utf-8 -*-
# Copyright (c) 2026, gpufleet maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: nvidia_secure_boot_problem
short_description: Why the NVIDIA driver cannot be installed under this node's Secure Boot state, or nothing
version_added: 0.3.0
author:
  - gpufleet maintainers (@gpufleet)
description:
  - Reads what C(mokutil --sb-state) printed on a node. With Secure Boot enabled, a kernel module that is not signed
    by a key the firmware trusts does not load, so a driver built by DKMS without a signing key fails only after the
    install, at C(modprobe) or after the reboot. This returns the message to fail with before anything is installed,
    or an empty string.
  - O(signing=none) under Secure Boot is the problem; C(precompiled) (modules the distribution signed, such as
    Ubuntu's C(linux-modules-nvidia-*)) and C(mok) (DKMS signs with a Machine Owner Key the operator enrolled with
    C(mokutil --import)) are ways through.
  - A node without C(mokutil), without EFI, or whose shim no longer validates (C(mokutil --disable-validation))
    has no Secure Boot in the way.
options:
  _input:
    description: The standard output of C(mokutil --sb-state) (empty when the command is missing).
    type: str
    required: true
  signing:
    description: How the modules are signed - C(none), C(precompiled) or C(mok).
    type: str
    default: none
  host:
    description: The node's name, for the message.
    type: str
    default: ''
"""

EXAMPLES = r"""
- name: Refuse a Secure Boot node without a way to sign the module, before installing
  ansible.builtin.assert:
    that: __problem | length == 0
    fail_msg: "{{ __problem }}"
  vars:
    __problem: "{{ sb_state.stdout | gpufleet.ollama.nvidia_secure_boot_problem('none', inventory_hostname) }}"
"""

RETURN = r"""
_value:
  description: The message naming the node, the state and how to proceed; empty when nothing stands in the way.
  type: str
"""

import re

from ansible.errors import AnsibleFilterError

SIGNING = ('none', 'precompiled', 'mok')


def secure_boot_enforced(stdout):
    """True when mokutil --sb-state says Secure Boot is enabled ('SecureBoot enabled') and shim still validates
    (not 'SecureBoot validation is disabled in shim', after which the kernel loads unsigned modules); False for
    'SecureBoot disabled', no EFI ('EFI variables are not supported on this system'), or no output."""
    text = str(stdout or '')
    enabled = re.search(r'^\s*SecureBoot enabled\s*$', text, re.MULTILINE | re.IGNORECASE)
    return bool(enabled) and not re.search(r'validation is disabled', text, re.IGNORECASE)


def nvidia_secure_boot_problem(stdout, signing='none', host=''):
    if signing not in SIGNING:
        raise AnsibleFilterError('nvidia_secure_boot_problem: signing must be one of %s, got %r'
                                 % (', '.join(SIGNING), signing))
    if not secure_boot_enforced(stdout) or signing != 'none':
        return ''
    return ('%s: Secure Boot is enabled (mokutil --sb-state) and the NVIDIA kernel module would not be signed, so it '
            'would not load. Nothing was installed. Either use modules your distribution signed (precompiled, such as '
            "Ubuntu's linux-modules-nvidia-<branch>-server-<kernel>), or enroll a Machine Owner Key on the node "
            '(mokutil --import, then confirm it at the next boot) and have DKMS sign with it (mok).'
            % (host or 'this node'))


class FilterModule(object):
    def filters(self):
        return {'nvidia_secure_boot_problem': nvidia_secure_boot_problem}
