# -*- coding: utf-8 -*-
# Copyright (c) 2026, gpufleet maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import pytest

from ansible.errors import AnsibleFilterError

from ansible_collections.gpufleet.ollama.plugins.filter.ollama_environment import ollama_environment

SETTINGS = {
    'ollama_bind_address': '10.0.0.5',
    'ollama_models_dir': '/var/lib/ollama/models',
    'ollama_num_parallel': 2,
    'ollama_max_loaded_models': 0,
    'ollama_max_queue': 512,
    'ollama_keep_alive': '5m',
    'ollama_flash_attention': 'auto',
    'ollama_kv_cache_type': 'f16',
    'ollama_sched_spread': False,
    'ollama_context_length': 0,
    'ollama_load_timeout': '5m',
    'ollama_no_cloud': True,
    'ollama_origins': [],
    'ollama_extra_env': {},
}
FIRST = {'port': 11434, 'gpus': ['GPU-aaa'], 'env': {}, 'prune': True}


def test_defaults_in_order():
    env = ollama_environment(FIRST, SETTINGS)
    assert list(env.items()) == [
        ('OLLAMA_HOST', '10.0.0.5:11434'),
        ('OLLAMA_MODELS', '/var/lib/ollama/models'),
        ('OLLAMA_NUM_PARALLEL', '2'),
        ('OLLAMA_MAX_QUEUE', '512'),
        ('OLLAMA_KEEP_ALIVE', '5m'),
        ('OLLAMA_KV_CACHE_TYPE', 'f16'),
        ('OLLAMA_SCHED_SPREAD', 'false'),
        ('OLLAMA_LOAD_TIMEOUT', '5m'),
        ('OLLAMA_NOPRUNE', 'false'),
        ('OLLAMA_NO_CLOUD', 'true'),
        ('CUDA_VISIBLE_DEVICES', 'GPU-aaa'),
    ]


@pytest.mark.parametrize('value, expected', [
    ('auto', None), ('AUTO', None),
    (True, '1'), ('on', '1'), ('On', '1'), ('yes', '1'), ('true', '1'), (1, '1'),
    (False, '0'), ('off', '0'), ('no', '0'), ('false', '0'), (0, '0'),
])
def test_flash_attention_booleans_and_spellings_mean_the_same(value, expected):
    env = ollama_environment(FIRST, dict(SETTINGS, ollama_flash_attention=value))
    assert env.get('OLLAMA_FLASH_ATTENTION') == expected


@pytest.mark.parametrize('key, value, name, expected', [
    ('ollama_sched_spread', 'yes', 'OLLAMA_SCHED_SPREAD', 'true'),
    ('ollama_sched_spread', 'off', 'OLLAMA_SCHED_SPREAD', 'false'),
    ('ollama_no_cloud', 'no', 'OLLAMA_NO_CLOUD', 'false'),
    ('ollama_max_loaded_models', 3, 'OLLAMA_MAX_LOADED_MODELS', '3'),
    ('ollama_context_length', '8192', 'OLLAMA_CONTEXT_LENGTH', '8192'),
    ('ollama_origins', ['https://a.internal', 'https://b.internal'], 'OLLAMA_ORIGINS', 'https://a.internal,https://b.internal'),
    ('ollama_bind_address', 'fd00::5', 'OLLAMA_HOST', '[fd00::5]:11434'),
])
def test_typed_settings(key, value, name, expected):
    assert ollama_environment(FIRST, dict(SETTINGS, **{key: value}))[name] == expected


def test_second_instance_does_not_prune_and_sees_no_gpu_list_when_it_has_none():
    env = ollama_environment({'port': 11435, 'gpus': [], 'env': {}, 'prune': False}, SETTINGS)
    assert env['OLLAMA_NOPRUNE'] == 'true'
    assert env['OLLAMA_HOST'] == '10.0.0.5:11435'
    assert 'CUDA_VISIBLE_DEVICES' not in env


def test_extra_env_then_instance_env_sorted_and_instance_wins():
    settings = dict(SETTINGS, ollama_extra_env={'OLLAMA_DEBUG': '1', 'HTTPS_PROXY': 'http://p:3128', 'B': True})
    instance = dict(FIRST, env={'OLLAMA_DEBUG': '2', 'A': 5})
    env = ollama_environment(instance, settings)
    tail = list(env.items())[-4:]
    assert tail == [('A', '5'), ('B', 'true'), ('HTTPS_PROXY', 'http://p:3128'), ('OLLAMA_DEBUG', '2')]


@pytest.mark.parametrize('instance, settings, match', [
    ({'gpus': []}, SETTINGS, 'one instance'),
    (FIRST, 'x', 'mapping'),
    (FIRST, {k: v for k, v in SETTINGS.items() if k != 'ollama_models_dir'}, 'lack ollama_models_dir'),
    (FIRST, dict(SETTINGS, ollama_flash_attention='maybe'), 'auto, on or off'),
])
def test_bad_input_raises(instance, settings, match):
    with pytest.raises(AnsibleFilterError, match=match):
        ollama_environment(instance, settings)
