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
    {'ollama_version': '0.14.0-rc1', 'ollama_artifact': '/srv/ollama/0.14.0-rc1/ollama-linux-amd64.tar.zst'},
    {'ollama_version': '0.12.3', 'ollama_artifact': 'http://mirror.internal/ollama/0.12.3/ollama-linux-amd64.tgz'},
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
    ({'ollama_base_port': 70000}, ['ollama_base_port', '70000', '1024-65535']),
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


# --- Meanings: release, durations, paths, ports ------------------------------------------------------------------

@pytest.mark.parametrize('changes', [
    {'ollama_version': '0.13.5', 'ollama_artifact': '/srv/ollama/0.13.5/ollama-linux-amd64.tgz'},
    {'ollama_version': '0.14.0', 'ollama_artifact': '/srv/ollama/v0.14.0/ollama-linux-arm64.tar.zst'},
    {'ollama_version': '0.14.1', 'ollama_artifact': 'https://mirror.internal/ollama/v0.14.1/ollama-linux-amd64-rocm.tar.zst'},
    {'ollama_version': '0.14.1', 'ollama_artifact': '/srv/ollama/ollama-linux-amd64.tar.zst'},     # no version dir
    {'ollama_version': '0.14.1', 'ollama_artifact': '/srv/releases/2026/ollama-0.14.1.tar.gz'},    # own name
    {'ollama_version': '0.14.1', 'ollama_artifact': '/srv/repacked/0.14.1/ollama-0.14.1-custom.tgz'},
    {'ollama_version': '0.32.15', 'ollama_artifact': '/srv/ollama/0.32.15/ollama-linux-amd64.tar.zst'},
])
def test_release_and_archive_that_agree(changes):
    assert ollama_input_problems(dict(GOOD, **changes)) == []


@pytest.mark.parametrize('changes, words', [
    ({'ollama_version': '0.14.1', 'ollama_artifact': '/srv/ollama/0.12.3/ollama-linux-amd64.tgz'},
     ['ollama_artifact', 'release 0.12.3', 'ollama_version is 0.14.1', '/0.14.1/ollama-linux-amd64.tar.zst']),
    ({'ollama_version': '0.12.3', 'ollama_artifact': 'http://mirror.internal/ollama/v0.14.1/ollama-linux-amd64.tar.zst'},
     ['ollama_artifact', 'release 0.14.1', '0.12.3', 'ollama-linux-amd64.tgz']),
    ({'ollama_version': '0.14.0', 'ollama_artifact': '/srv/ollama/0.14.0-rc1/ollama-linux-amd64.tar.zst'},
     ['ollama_artifact', '0.14.0-rc1', 'ollama_version is 0.14.0']),
    ({'ollama_version': '0.14.1', 'ollama_artifact': '/srv/ollama/0.14.1/ollama-linux-amd64.tgz'},
     ['ollama_artifact', '.tar.zst', '0.14.1', 'no\n.tgz'.replace('\n', ' ')]),
    ({'ollama_version': '0.13.5', 'ollama_artifact': '/srv/ollama/0.13.5/ollama-linux-amd64.tar.zst'},
     ['ollama_artifact', '.tgz', '0.13.5', 'up to 0.13.5']),
])
def test_release_and_archive_that_disagree(changes, words):
    problems = ollama_input_problems(dict(GOOD, **changes))
    assert len(problems) == 1, problems
    for word in words:
        assert word in problems[0], (word, problems[0])


@pytest.mark.parametrize('name', ['ollama_keep_alive', 'ollama_load_timeout'])
@pytest.mark.parametrize('value', [
    '5m', '1h30m', '1.5h', '300ms', '-1s', '-1m', '-1', -1, 0, '0', 300, '300', '+5m', '24h', '2h45m30s',
    '"5m"', ' 10m ', '1h0m0s', '12\u00b5s', '9223372036',
])
def test_durations_the_server_reads(name, value):
    assert ollama_input_problems(dict(GOOD, **{name: value})) == []


@pytest.mark.parametrize('name', ['ollama_keep_alive', 'ollama_load_timeout'])
@pytest.mark.parametrize('value', [
    '5 m', '5min', '5M', 'five', '5 minutes', '1h 30m', '1d', '1w', 'forever', 'inf', '', '1.5', 1.5, True, None,
    '5m\n', '\uff15m', 'PT5M', '9223372037', '1,5h', '5m;', '\u221e',
])
def test_durations_the_server_ignores(name, value):
    problems = ollama_input_problems(dict(GOOD, **{name: value}))
    assert len(problems) == 1, problems
    for word in (name, repr(value), 'time.ParseDuration', 'would ignore it and use 5m'):
        assert word in problems[0], (word, problems[0])


def test_each_duration_says_what_negative_means():
    keep = ollama_input_problems(dict(GOOD, ollama_keep_alive='x'))[0]
    load = ollama_input_problems(dict(GOOD, ollama_load_timeout='x'))[0]
    assert 'keeps models loaded for ever' in keep and 'no timeout' in load


PATHS_GOOD = {'ollama_models_dir': '/var/lib/ollama/models', 'ollama_home': '/usr/share/ollama',
              'ollama_install_root': '/opt/ollama', 'ollama_cli_link': '/usr/local/bin/ollama'}


@pytest.mark.parametrize('changes', [
    {},
    {'ollama_models_dir': '/data/ollama/models'},
    {'ollama_models_dir': '/usr/share/ollama/.ollama/models'},        # inside HOME, Ollama's own default
    {'ollama_models_dir': '/srv/mod\u00e8les/ollama'},
    {'ollama_models_dir': '/home/ollama/models', 'ollama_install_root': '/home/ollama-releases'},
    {'ollama_home': '/var/lib/ollama/home'},
    {'ollama_install_root': '/opt/gpufleet/ollama'},
    {'ollama_cli_link': '/usr/bin/ollama'},
    {'ollama_models_dir': '/var/lib/ollama'},                         # beside, not containing, /usr/share/ollama
])
def test_paths_the_unit_can_use(changes):
    assert ollama_input_problems(dict(GOOD, **dict(PATHS_GOOD, **changes))) == []


@pytest.mark.parametrize('changes, words', [
    ({'ollama_models_dir': 'data/models'}, ['ollama_models_dir', 'absolute', "'data/models'"]),
    ({'ollama_models_dir': '~/models'}, ['ollama_models_dir', '~ is not expanded']),
    ({'ollama_models_dir': '/data/models/'}, ['ollama_models_dir', 'trailing /']),
    ({'ollama_models_dir': '/data//models'}, ['ollama_models_dir', '//']),
    ({'ollama_models_dir': '/data/../models'}, ['ollama_models_dir', '..']),
    ({'ollama_models_dir': '/data/my models'}, ['ollama_models_dir', 'spaces']),
    ({'ollama_models_dir': '/data/%h/models'}, ['ollama_models_dir', '%']),
    ({'ollama_models_dir': '/'}, ['ollama_models_dir', 'below /']),
    ({'ollama_models_dir': '/tmp/models'}, ['ollama_models_dir', 'under /tmp', 'PrivateTmp=yes', "'/tmp/models'",
                                            '/var/lib/ollama/models']),
    ({'ollama_models_dir': '/var/tmp/ollama'}, ['ollama_models_dir', 'under /var/tmp', 'PrivateTmp=yes']),
    ({'ollama_models_dir': '/run/ollama/models'}, ['ollama_models_dir', 'under /run', 'every boot']),
    ({'ollama_models_dir': '/dev/shm/models'}, ['ollama_models_dir', 'under /dev']),
    ({'ollama_models_dir': '/proc/models'}, ['ollama_models_dir', 'under /proc']),
    ({'ollama_models_dir': '/sys/models'}, ['ollama_models_dir', 'under /sys']),
    ({'ollama_models_dir': '/boot/models'}, ['ollama_models_dir', 'under /boot']),
    ({'ollama_models_dir': '/var/lib'}, ['ollama_models_dir', 'system directory /var/lib', 'owned by ollama_user']),
    ({'ollama_models_dir': '/home'}, ['ollama_models_dir', 'system directory /home']),
    ({'ollama_models_dir': '/opt/ollama/models'}, ['ollama_models_dir', 'inside ollama_install_root', 'keep_versions']),
    ({'ollama_models_dir': '/opt/ollama'}, ['ollama_models_dir', 'inside ollama_install_root']),
    ({'ollama_install_root': '/var/lib/ollama/models/bin'}, ['ollama_install_root', 'inside ollama_models_dir']),
    ({'ollama_models_dir': '/usr/share/ollama'}, ['ollama_models_dir', 'ollama_home', 'id_ed25519']),
    ({'ollama_models_dir': '/usr/share'}, ['ollama_models_dir', 'system directory /usr/share']),
    ({'ollama_models_dir': '/data', 'ollama_home': '/data/ollama-home'}, ['ollama_models_dir', 'id_ed25519']),
    ({'ollama_home': '/tmp/ollama'}, ['ollama_home', 'under /tmp', 'PrivateTmp']),
    ({'ollama_home': 'ollama'}, ['ollama_home', 'absolute']),
    ({'ollama_home': '/usr/share'}, ['ollama_home', 'system directory', 'mode 0750']),
    ({'ollama_home': '/opt/ollama/home'}, ['ollama_install_root', 'ollama_home', 'inside each other']),
    ({'ollama_install_root': '/usr/share/ollama/releases'}, ['ollama_install_root', 'ollama_home', 'binaries']),
    ({'ollama_install_root': '/opt'}, ['ollama_install_root', 'system directory /opt', 'releases']),
    ({'ollama_install_root': '/tmp/ollama'}, ['ollama_install_root', 'under /tmp']),
    ({'ollama_install_root': '/home/admin/ollama'}, ['ollama_install_root', 'ProtectHome=yes', '/opt/ollama']),
    ({'ollama_install_root': '/root/ollama'}, ['ollama_install_root', 'ProtectHome=yes']),
    ({'ollama_cli_link': '/usr/local/bin'}, ['ollama_cli_link', 'system directory /usr/local/bin', 'symbolic link']),
    ({'ollama_cli_link': 'ollama'}, ['ollama_cli_link', 'absolute']),
])
def test_paths_the_unit_cannot_use(changes, words):
    problems = ollama_input_problems(dict(GOOD, **dict(PATHS_GOOD, **changes)))
    assert len(problems) == 1, problems
    for word in words:
        assert word in problems[0], (word, problems[0])


@pytest.mark.parametrize('changes', [
    {'ollama_base_port': 1024}, {'ollama_base_port': 65535}, {'ollama_base_port': '11434'},
    {'ollama_instances': [{'port': 1024}, {'port': 65535}]},
])
def test_ports_the_instances_can_bind(changes):
    assert ollama_input_problems(dict(GOOD, **changes)) == []


@pytest.mark.parametrize('changes, words', [
    ({'ollama_base_port': 80}, ['ollama_base_port', '1024-65535', 'CapabilityBoundingSet', 'port 80']),
    ({'ollama_base_port': 1023}, ['ollama_base_port', '1024-65535', 'port 1023']),
    ({'ollama_base_port': 0}, ['ollama_base_port', '1024-65535', '(got 0)']),
    ({'ollama_base_port': -1}, ['ollama_base_port', '(got -1)']),
    ({'ollama_base_port': 'http'}, ['ollama_base_port', "'http'"]),
    ({'ollama_base_port': True}, ['ollama_base_port', 'True']),
    ({'ollama_base_port': 11434.5}, ['ollama_base_port', '11434.5']),
    ({'ollama_instances': [{'port': 443}]}, ['ollama_instances[0].port', 'port 443', 'capabilities']),
    ({'ollama_instances': [{'port': 11434}, {'port': 65536}]}, ['ollama_instances[1].port', '65536']),
])
def test_ports_the_instances_cannot_bind(changes, words):
    problems = ollama_input_problems(dict(GOOD, **changes))
    assert len(problems) == 1, problems
    for word in words:
        assert word in problems[0], (word, problems[0])


@pytest.mark.parametrize('base, count, ok', [
    (11434, 8, True), (65528, 8, True), (65529, 8, False), (65535, 1, True), (65535, 2, False), (11434, None, True),
    (65535, None, True), (65535, 0, True),
])
def test_per_gpu_ports_fit_with_the_gpu_count(base, count, ok):
    problems = ollama_input_problems(dict(GOOD, ollama_base_port=base), instance_count=count)
    assert (problems == []) is ok, problems
    if not ok:
        assert 'ollama_base_port' in problems[0] and str(count) in problems[0] and str(65536 - count) in problems[0]


def test_the_gpu_count_does_not_matter_for_single_or_a_list():
    assert ollama_input_problems(dict(GOOD, ollama_base_port=65535, ollama_instances='single'), instance_count=8) == []


@pytest.mark.parametrize('flash, kv, ok', [
    ('auto', 'q8_0', True), ('on', 'q4_0', True), (True, 'q8_0', True), ('off', 'f16', True),
    ('off', 'q8_0', False), (False, 'q4_0', False), ('no', 'q8_0', False),
])
def test_quantised_kv_cache_needs_flash_attention(flash, kv, ok):
    problems = ollama_input_problems(dict(GOOD, ollama_flash_attention=flash, ollama_kv_cache_type=kv))
    assert (problems == []) is ok, problems
    if not ok:
        assert 'ollama_kv_cache_type' in problems[0] and 'ollama_flash_attention' in problems[0] and kv in problems[0]


@pytest.mark.parametrize('origins, ok', [
    ([], True), (None, True), (['https://chat.example.internal'], True), (['http://*.internal:*', 'app://*'], True),
    (['https://a.internal,https://b.internal'], False), (['https://a.internal '], False), ([''], False), ([5], False),
    ('https://chat.example.internal', False),
])
def test_origins(origins, ok):
    problems = ollama_input_problems(dict(GOOD, ollama_origins=origins))
    assert (problems == []) is ok, problems
    if not ok:
        assert problems[0].startswith('ollama_origins')


def test_env_value_over_two_lines():
    problems = ollama_input_problems(dict(GOOD, ollama_extra_env={'OLLAMA_DEBUG': '1\nOLLAMA_HOST=0.0.0.0'}))
    assert len(problems) == 1 and 'ollama_extra_env' in problems[0] and 'one line' in problems[0]
