# -*- coding: utf-8 -*-
# Copyright (c) 2026, gpufleet maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import pytest

from ansible.errors import AnsibleFilterError

from ansible_collections.gpufleet.ollama.plugins.filter.ollama_input_problems import FilterModule, ollama_input_problems

GOOD = {
    'ollama_version': '0.14.1',
    'ollama_artifact': '/srv/ollama/0.14.1/ollama-linux-amd64.tar.zst',
    'ollama_artifact_sha256': '',
    'ollama_keep_versions': 2,
    'ollama_instances': 'per_gpu',
    'ollama_base_port': 11434,
    'ollama_bind_address': '10.0.0.5',
    'ollama_num_parallel': 1,
    'ollama_max_loaded_models': 0,
    'ollama_max_queue': 512,
    'ollama_keep_alive': '5m',
    'ollama_flash_attention': 'auto',
    'ollama_kv_cache_type': 'f16',
    'ollama_sched_spread': False,
    'ollama_context_length': 0,
    'ollama_load_timeout': '5m',
    'ollama_noprune': False,
    'ollama_no_cloud': True,
    'ollama_extra_env': {},
}


def test_registered():
    assert FilterModule().filters()['ollama_input_problems'] is ollama_input_problems


def test_good_input_has_no_problem():
    assert ollama_input_problems(GOOD) == []


@pytest.mark.parametrize('changes', [
    {'ollama_version': '0.14.0-rc1'},
    {'ollama_artifact': 'http://mirror.internal/ollama/0.12.3/ollama-linux-amd64.tgz'},
    {'ollama_artifact': '/srv/x/ollama-linux-amd64.tar.gz'},
    {'ollama_artifact_sha256': 'A' * 64},
    {'ollama_keep_versions': 0},
    {'ollama_keep_versions': '3'},
    {'ollama_bind_address': 'fd00::5'},
    {'ollama_flash_attention': True},            # `on` unquoted in YAML
    {'ollama_flash_attention': False},
    {'ollama_flash_attention': 'on'},
    {'ollama_flash_attention': 'OFF'},
    {'ollama_flash_attention': 'yes'},
    {'ollama_sched_spread': 'yes'},
    {'ollama_no_cloud': 'false'},
    {'ollama_keep_alive': '-1'},
    {'ollama_keep_alive': '1h30m'},
    {'ollama_keep_alive': 300},
    {'ollama_load_timeout': '0'},
    {'ollama_extra_env': {'OLLAMA_DEBUG': '1', 'HTTPS_PROXY': 'http://proxy.internal:3128'}},
    {'ollama_instances': 'single'},
    {'ollama_instances': [{'port': 11434, 'gpus': ['GPU-a'], 'env': {'OLLAMA_DEBUG': '2'}}, {'port': 11435}]},
])
def test_valid_spellings_pass(changes):
    assert ollama_input_problems(dict(GOOD, **changes)) == []


@pytest.mark.parametrize('changes, words', [
    ({'ollama_version': 'latest'}, ["ollama_version", "'latest'", '0.14.1']),
    ({'ollama_version': 'v0.14.1'}, ['ollama_version', 'v0.14.1']),
    ({'ollama_artifact': '/srv/ollama-linux-amd64.zip'}, ['ollama_artifact', '.zip', '.tar.zst']),
    ({'ollama_artifact_sha256': 'abc'}, ['ollama_artifact_sha256', "'abc'", '64 hex']),
    ({'ollama_keep_versions': -1}, ['ollama_keep_versions', '-1', '0 or more']),
    ({'ollama_keep_versions': 'two'}, ['ollama_keep_versions', "'two'"]),
    ({'ollama_num_parallel': 0}, ['ollama_num_parallel', '1 or more']),
    ({'ollama_max_queue': 0}, ['ollama_max_queue', '1 or more']),
    ({'ollama_base_port': 70000}, ['ollama_base_port', '70000', '1-65535']),
    ({'ollama_bind_address': '0.0.0.0'}, ['ollama_bind_address', "'0.0.0.0'", 'wildcard']),
    ({'ollama_bind_address': '::'}, ['ollama_bind_address', 'wildcard']),
    ({'ollama_bind_address': ''}, ['ollama_bind_address']),
    ({'ollama_flash_attention': 'maybe'}, ['ollama_flash_attention', "'maybe'", 'auto, on or off']),
    ({'ollama_kv_cache_type': 'q5_1'}, ['ollama_kv_cache_type', 'q5_1', 'q8_0']),
    ({'ollama_keep_alive': '5 minutes'}, ['ollama_keep_alive', '5 minutes', 'duration']),
    ({'ollama_load_timeout': '5x'}, ['ollama_load_timeout', '5x']),
    ({'ollama_sched_spread': 'sometimes'}, ['ollama_sched_spread', 'true or false']),
    ({'ollama_extra_env': {'OLLAMA_GPU_MEMORY_FRACTION': '0.9'}},
     ['ollama_extra_env', 'OLLAMA_GPU_MEMORY_FRACTION', 'OLLAMA_DEBUG']),
    ({'ollama_extra_env': {'OLLAMA_HOST': '0.0.0.0:11434'}}, ['ollama_extra_env', 'OLLAMA_HOST', 'ollama_bind_address']),
    ({'ollama_extra_env': {'OLLAMA_NUM_PARALLEL': '4'}}, ['ollama_extra_env', 'OLLAMA_NUM_PARALLEL', 'use ollama_num_parallel']),
    ({'ollama_extra_env': {'CUDA_VISIBLE_DEVICES': '0'}}, ['ollama_extra_env', 'CUDA_VISIBLE_DEVICES', 'gpus']),
    ({'ollama_extra_env': {'BAD-NAME': '1'}}, ['ollama_extra_env', 'BAD-NAME', 'not environment variable names']),
    ({'ollama_extra_env': {'X': {'a': 1}}}, ['ollama_extra_env', 'X', 'string or a number']),
    ({'ollama_extra_env': ['OLLAMA_DEBUG=1']}, ['ollama_extra_env', 'mapping']),
    ({'ollama_instances': 'per_node'}, ['ollama_instances', "'per_node'", 'per_gpu, single']),
    ({'ollama_instances': []}, ['ollama_instances', 'non-empty list']),
    ({'ollama_instances': [{'port': 11434, 'env': {'OLLAMA_HOST': '0.0.0.0:11434'}}]},
     ['ollama_instances[0].env', 'OLLAMA_HOST']),
    ({'ollama_instances': [{'port': 11434}, {'port': 11435, 'env': {'OLLAMA_NOPE': '1'}}]},
     ['ollama_instances[1].env', 'OLLAMA_NOPE', 'OLLAMA_DEBUG']),
    ({'ollama_instances': [{'port': 'x'}]}, ['ollama_instances[0].port', "'x'"]),
    ({'ollama_instances': [{'port': 11434, 'gpu': [0]}]}, ['ollama_instances[0]', 'unknown keys gpu']),
    ({'ollama_instances': [{'port': 11434, 'gpus': 'GPU-a'}]}, ['ollama_instances[0].gpus', 'list']),
    ({'ollama_instances': ['11434']}, ['ollama_instances[0]', 'mapping']),
])
def test_each_mistake_is_named(changes, words):
    problems = ollama_input_problems(dict(GOOD, **changes))
    assert len(problems) == 1, problems
    for word in words:
        assert word in problems[0], (word, problems[0])


def test_several_mistakes_are_all_reported():
    problems = ollama_input_problems(dict(GOOD, ollama_version='x', ollama_num_parallel=0, ollama_bind_address='0.0.0.0'))
    assert len(problems) == 3


def test_missing_keys_are_not_checked():
    assert ollama_input_problems({}) == []


def test_not_a_mapping_is_an_error():
    with pytest.raises(AnsibleFilterError, match='mapping of variables'):
        ollama_input_problems(['ollama_version'])
