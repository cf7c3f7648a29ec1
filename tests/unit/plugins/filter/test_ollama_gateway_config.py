# -*- coding: utf-8 -*-
# Copyright (c) 2026, gpufleet maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import hashlib
import json

import pytest

from ansible.errors import AnsibleFilterError

from ansible_collections.gpufleet.ollama.plugins.filter.ollama_gateway_config import (
    normalize_model, ollama_gateway_config)


def srv(host, port, models, down=False, address=None):
    return {'host': host, 'address': address or {'n1': '10.0.0.1', 'n2': '10.0.0.2'}[host], 'port': port,
            'max_conns': 0, 'down': down, 'models': models}


def sha(s):
    return hashlib.sha256(s.encode()).hexdigest()


@pytest.mark.parametrize('name, expected', [
    ('tiny', 'tiny:latest'),
    ('Tiny:Latest', 'tiny:latest'),
    ('qwen2:7b', 'qwen2:7b'),
    ('registry.ollama.ai/library/qwen2:7b', 'qwen2:7b'),
    ('library/qwen2', 'qwen2:latest'),
    ('myorg/foo', 'myorg/foo:latest'),
    ('hub.internal/myorg/foo:1', 'hub.internal/myorg/foo:1'),
    (' deepseek-r1:32b ', 'deepseek-r1:32b'),
])
def test_normalize_model(name, expected):
    assert normalize_model(name) == expected


def test_same_models_everywhere_make_one_pool():
    servers = [srv('n1', 11434, ['tiny:latest', 'qwen2:7b']), srv('n1', 11435, ['qwen2:7b', 'tiny']),
               srv('n2', 11434, ['TINY:latest', 'qwen2:7b'])]
    cfg = ollama_gateway_config(servers)
    assert [p['name'] for p in cfg['pools']] == ['ollama_any', 'ollama_p0']
    assert cfg['pools'][1]['models'] == ['qwen2:7b', 'tiny:latest']
    assert len(cfg['pools'][1]['servers']) == 3
    assert cfg['njs']['models'] == {'qwen2:7b': 'ollama_p0', 'tiny:latest': 'ollama_p0'}
    assert cfg['njs']['backends'] == ['10.0.0.1:11434', '10.0.0.1:11435', '10.0.0.2:11434']
    assert cfg['problems'] == []


def test_a_model_on_one_node_goes_only_there():
    servers = [srv('n1', 11434, ['tiny:latest', 'big:70b']), srv('n2', 11434, ['tiny:latest']),
               srv('n2', 11435, None)]
    cfg = ollama_gateway_config(servers)
    pools = {p['name']: p for p in cfg['pools']}
    big = pools[cfg['njs']['models']['big:70b']]
    tiny = pools[cfg['njs']['models']['tiny:latest']]
    assert [(s['host'], s['port']) for s in big['servers']] == [('n1', 11434)]
    assert [(s['host'], s['port']) for s in tiny['servers']] == [('n1', 11434), ('n2', 11434)]
    # the instance with unknown models is only in ollama_any
    assert ('n2', 11435) in [(s['host'], s['port']) for s in pools['ollama_any']['servers']]
    assert all(('n2', 11435) not in [(s['host'], s['port']) for s in p['servers']] for p in cfg['pools'][1:])


def test_drained_servers_stay_in_pools_marked_down_but_leave_the_merge_list():
    servers = [srv('n1', 11434, ['tiny']), srv('n2', 11434, ['tiny'], down=True)]
    cfg = ollama_gateway_config(servers)
    assert [s['down'] for s in cfg['pools'][1]['servers']] == [False, True]
    assert cfg['njs']['backends'] == ['10.0.0.1:11434']


def test_ipv6_backends_in_brackets():
    cfg = ollama_gateway_config([srv('n1', 11434, [], address='fd00::5')])
    assert cfg['njs']['backends'] == ['[fd00::5]:11434']
    assert cfg['njs']['models'] == {}


def test_keys_are_hashed_and_never_kept_in_clear():
    keys = [
        {'name': 'alice', 'key': 'sk-alice-0123456789abcdef'},
        {'name': 'bob', 'key': 'sk-bob-fedcba9876543210', 'models': ['tiny', 'qwen2:7b'], 'rate': '1r/s', 'burst': 3},
        {'name': 'ops', 'key_sha256': sha('sk-ops-0000000000000000').upper(), 'admin': True, 'rate': ''},
        {'name': 'carol', 'key': 'sk-carol-1111111111111111', 'rate': '1r/s', 'burst': 3},
    ]
    cfg = ollama_gateway_config([], keys, '10r/s', 20)
    assert cfg['problems'] == []
    blob = json.dumps(cfg)
    for k in keys[:2] + keys[3:]:
        assert k['key'] not in blob
    njs = cfg['njs']['keys']
    alice = {'name': 'alice', 'models': None, 'admin': False, 'rate_class': 'gw_rl_0'}
    assert njs[sha('sk-alice-0123456789abcdef')] == alice
    assert njs[sha('sk-bob-fedcba9876543210')]['models'] == ['qwen2:7b', 'tiny:latest']
    assert njs[sha('sk-ops-0000000000000000')] == {'name': 'ops', 'models': None, 'admin': True, 'rate_class': ''}
    assert cfg['rate_classes'] == [
        {'name': 'gw_rl_0', 'rate': '10r/s', 'burst': 20, 'members': ['alice']},
        {'name': 'gw_rl_1', 'rate': '1r/s', 'burst': 3, 'members': ['bob', 'carol']},
    ]


@pytest.mark.parametrize('keys, words', [
    ([{'name': 'a b', 'key': 'x' * 20}], ['ollama_gateway_api_keys[0].name', "'a b'"]),
    ([{'name': 'a', 'key': 'short'}], ['(a)', 'at least 16', 'not shown']),
    ([{'name': 'a'}], ['(a)', 'needs key']),
    ([{'name': 'a', 'key_sha256': 'abc'}], ['(a)', 'key_sha256']),
    ([{'name': 'a', 'key': 'x' * 20, 'key_sha256': sha('y')}], ['sets both']),
    ([{'name': 'a', 'key': 'x' * 20}, {'name': 'a', 'key': 'y' * 20}], ['[1] (a)', 'unique']),
    ([{'name': 'a', 'key': 'x' * 20}, {'name': 'b', 'key': 'x' * 20}], ['[1] (b)', 'same secret as key a']),
    ([{'name': 'a', 'key': 'x' * 20, 'rate': 'fast'}], ['(a).rate', "'fast'"]),
    ([{'name': 'a', 'key': 'x' * 20, 'burst': -1}], ['(a).burst']),
    ([{'name': 'a', 'key': 'x' * 20, 'admin': 'maybe'}], ['(a).admin']),
    ([{'name': 'a', 'key': 'x' * 20, 'models': 'tiny'}], ['(a).models']),
    ([{'name': 'a', 'key': 'x' * 20, 'modles': []}], ['unknown keys modles']),
    (['sk-plain'], ['[0] must be a mapping']),
])
def test_key_problems_name_the_key_but_never_the_secret(keys, words):
    problems = ollama_gateway_config([], keys)['problems']
    assert problems
    text = ' '.join(problems)
    for w in words:
        assert w in text
    for k in keys:
        if isinstance(k, dict) and k.get('key'):
            assert k['key'] not in text


def test_auth_flag_and_bad_arguments():
    assert ollama_gateway_config([], auth='no')['njs']['auth'] is False
    with pytest.raises(AnsibleFilterError):
        ollama_gateway_config({})
    with pytest.raises(AnsibleFilterError):
        ollama_gateway_config([], default_rate='lots')
