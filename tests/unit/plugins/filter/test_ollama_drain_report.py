# -*- coding: utf-8 -*-
# Copyright (c) 2026, gpufleet maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import pytest

from ansible.errors import AnsibleFilterError

from ansible_collections.gpufleet.ollama.plugins.filter.ollama_drain_report import ollama_drain_report


def ep(name, connections=0, empty_after=None):
    return {'name': name, 'address': '10.0.0.5', 'port': int(name.split(':')[1]), 'addresses': ['10.0.0.5'],
            'connections': connections, 'in_shutting_down_workers': 0, 'empty_after': empty_after}


DRAINED = {'state': 'drained', 'check_mode': False, 'requested': ['gpu01'], 'drained': ['gpu01'], 'waited': 12.52,
           'targets': {'gpu01:11434': 'gpu01', 'gpu01:11435': 'gpu01'},
           'endpoints': [ep('gpu01:11434', empty_after=12.41), ep('gpu01:11435', empty_after=0.0)]}


def test_drained_on_two_gateways_one_busy_one_without_result():
    busy = dict(DRAINED, waited=30.0, endpoints=[ep('gpu01:11434', connections=2), ep('gpu01:11435', empty_after=3.2)])
    assert ollama_drain_report([['gw1', DRAINED], ['gateway-2', busy], ['gw3', False]]) == [
        'gateway    target  instance     state      in-flight left  waited s',
        'gw1        gpu01   gpu01:11434  drained    0               12.4',
        'gw1        gpu01   gpu01:11435  drained    0               0.0',
        'gateway-2  gpu01   gpu01:11434  BUSY       2               30.0',
        'gateway-2  gpu01   gpu01:11435  drained    0               3.2',
        'gw3        -       -            no result  -               -',
        'gw1 drain set: gpu01',
        'gateway-2 drain set: gpu01',
    ]


def test_undrain_with_a_stale_target():
    result = {'state': 'active', 'check_mode': False, 'requested': ['gpu09', 'gpu02:11434'], 'drained': [],
              'waited': 0.01, 'targets': {'gpu02:11434': 'gpu02:11434'}, 'endpoints': [ep('gpu02:11434', connections=1)]}
    assert ollama_drain_report([('gw1', result)]) == [
        'gateway  target       instance     state   in-flight left  waited s',
        'gw1      gpu02:11434  gpu02:11434  active  1               -',
        'gw1      gpu09        -            active  -               -',
        'gw1 drain set: empty (every instance in rotation)',
    ]


def test_check_mode_does_not_claim_a_drain():
    lines = ollama_drain_report([['gw1', dict(DRAINED, check_mode=True, endpoints=[ep('gpu01:11434', connections=3)])]])
    assert lines[1] == 'gw1      gpu01   gpu01:11434  drained (check mode)  3               -'


@pytest.mark.parametrize('bad', [None, 'gw1', [['gw1']], [('gw1', {}, 1)]])
def test_bad_input(bad):
    with pytest.raises(AnsibleFilterError, match='list of \\[gateway, result\\] pairs'):
        ollama_drain_report(bad)
