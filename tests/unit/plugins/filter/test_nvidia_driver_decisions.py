# -*- coding: utf-8 -*-
# Copyright (c) 2026, gpufleet maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The NVIDIA driver's decisions, as pure functions (issue 11): reboot or not, and Secure Boot before installing."""

from __future__ import annotations

import pytest

from ansible.errors import AnsibleFilterError

from ansible_collections.gpufleet.ollama.plugins.filter.nvidia_driver_reboot import nvidia_driver_reboot
from ansible_collections.gpufleet.ollama.plugins.filter.nvidia_secure_boot_problem import nvidia_secure_boot_problem

NEW = '550.127.05'
OLD = '535.216.01'


def state(loaded='', installed=NEW, nouveau=False):
    return {'loaded': loaded, 'installed': installed, 'nouveau_loaded': nouveau}


@pytest.mark.parametrize('node, policy, connection, action', [
    # policy auto: only what the node's state calls for
    (state(loaded=NEW), 'auto', 'ssh', 'none'),                       # converged
    (state(loaded=OLD), 'auto', 'ssh', 'reboot'),                     # upgraded under a running module
    (state(loaded=''), 'auto', 'ssh', 'load'),                        # fresh install, nothing in the way: modprobe
    (state(loaded='', nouveau=True), 'auto', 'ssh', 'reboot'),        # nouveau holds the GPUs
    (state(loaded=NEW, nouveau=True), 'auto', 'ssh', 'reboot'),
    (state(loaded='', installed=''), 'auto', 'ssh', 'none'),          # nothing installed (check mode before install)
    (state(loaded=' 550.127.05\n'), 'auto', 'ssh', 'none'),           # as read from /sys, with its newline
    # never: no reboot, a load is still fine
    (state(loaded=OLD), 'never', 'ssh', 'none'),
    (state(loaded=''), 'never', 'ssh', 'load'),
    # always: whatever the state
    (state(loaded=NEW), 'always', 'ssh', 'reboot'),
    # the control node is never rebooted
    (state(loaded=OLD), 'auto', 'local', 'refuse'),
    (state(loaded=NEW), 'always', 'local', 'refuse'),
    (state(loaded=NEW), 'auto', 'local', 'none'),                     # nothing to do there: no refusal
    (state(loaded=''), 'auto', 'local', 'load'),
    (state(loaded=OLD), 'never', 'local', 'none'),
])
def test_the_decision_table(node, policy, connection, action):
    decision = nvidia_driver_reboot(node, policy, connection, 'gpu-node-1')
    assert decision['action'] == action
    assert bool(decision['problem']) == (action == 'refuse')


def test_the_reasons_say_what_was_found():
    assert nvidia_driver_reboot(state(loaded=OLD))['reason'] == \
        'the loaded nvidia module is 535.216.01, the installed driver 550.127.05'
    assert 'nouveau is loaded' in nvidia_driver_reboot(state(nouveau=True))['reason']
    assert nvidia_driver_reboot(state(loaded=NEW))['reason'] == ''
    never = nvidia_driver_reboot(state(loaded=OLD), 'never')['reason']
    assert never.startswith('the loaded nvidia module is 535.216.01') and 'never' in never
    refused = nvidia_driver_reboot(state(loaded=OLD), 'auto', 'local', 'ctl-1')['problem']
    assert refused.startswith('ctl-1 is reached with connection local: it is the control node, which is never rebooted')


@pytest.mark.parametrize('node, policy, message', [
    ('loaded=550', 'auto', 'expects a dict'),
    (state(), 'sometimes', "policy must be one of auto, never, always, got 'sometimes'"),
])
def test_bad_input(node, policy, message):
    with pytest.raises(AnsibleFilterError, match=message):
        nvidia_driver_reboot(node, policy)


# mokutil --sb-state, as it prints on machines with and without Secure Boot (mokutil's own messages)
@pytest.mark.parametrize('stdout, signing, blocked', [
    ('SecureBoot enabled\n', 'none', True),
    ('SecureBoot enabled\nSecureBoot validation is disabled in shim\n', 'none', False),   # unsigned modules load
    ('SecureBoot enabled\n', 'precompiled', False),
    ('SecureBoot enabled\n', 'mok', False),
    ('SecureBoot disabled\n', 'none', False),
    ('SecureBoot disabled\nPlatform is in Setup Mode\n', 'none', False),
    ('EFI variables are not supported on this system\n', 'none', False),
    ('', 'none', False),                                               # no mokutil: no Secure Boot to stand in the way
])
def test_secure_boot(stdout, signing, blocked):
    problem = nvidia_secure_boot_problem(stdout, signing, 'gpu-node-1')
    assert bool(problem) == blocked
    if blocked:
        assert problem.startswith('gpu-node-1: Secure Boot is enabled')
        assert 'Nothing was installed' in problem and 'mokutil --import' in problem and 'precompiled' in problem


def test_secure_boot_signing_must_be_known():
    with pytest.raises(AnsibleFilterError, match="signing must be one of none, precompiled, mok, got 'maybe'"):
        nvidia_secure_boot_problem('SecureBoot enabled', 'maybe')
