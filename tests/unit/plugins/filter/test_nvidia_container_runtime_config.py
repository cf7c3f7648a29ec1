# -*- coding: utf-8 -*-
# Copyright (c) 2026, gpufleet maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Docker's daemon.json: does nvidia-ctk runtime configure have to run (and does a second run change nothing)?"""

from __future__ import annotations

import json

import pytest

from ansible.errors import AnsibleFilterError

from ansible_collections.gpufleet.ollama.plugins.filter.nvidia_container_runtime_config import (
    nvidia_container_runtime_config as decide,
)

NVIDIA = {'nvidia': {'args': [], 'path': 'nvidia-container-runtime'}}


def ctk(config, set_as_default=False):
    """What the real `nvidia-ctk runtime configure --runtime=docker [--set-as-default]` writes
    (pkg/config/engine/docker/docker.go AddRuntime + Save: every other key kept, sorted keys, 4-space indent)."""
    config = dict(config)
    config['runtimes'] = dict(config.get('runtimes') or {}, nvidia={'args': [], 'path': 'nvidia-container-runtime'})
    if set_as_default:
        config['default-runtime'] = 'nvidia'
    return json.dumps(config, indent=4, sort_keys=True)


def text(config):
    return json.dumps(config, indent=2)


@pytest.mark.parametrize('current, default_runtime, exists, action, empty_file', [
    # absent: nvidia-ctk creates it
    ('', False, None, 'configure', False),
    ('', True, False, 'configure', False),
    # pre-existing keys, no nvidia runtime yet
    (text({'log-driver': 'journald', 'data-root': '/srv/docker'}), False, None, 'configure', False),
    (text({'runtimes': {'crun': {'path': '/usr/bin/crun'}}}), False, None, 'configure', False),
    # in place: nothing to do
    (text({'log-driver': 'journald', 'runtimes': NVIDIA}), False, None, 'none', False),
    (text({'runtimes': {'nvidia': {'path': '/usr/bin/nvidia-container-runtime', 'runtimeArgs': []}}}), False, None,
     'none', False),
    # another executable under the name nvidia
    (text({'runtimes': {'nvidia': {'path': 'runc'}}}), False, None, 'configure', False),
    (text({'runtimes': {'nvidia': {'path': '/opt/nvidia-container-runtime-wrapper'}}}), False, None, 'configure', False),
    (text({'runtimes': {'nvidia': 'nvidia-container-runtime'}}), False, None, 'configure', False),
    # default runtime asked
    (text({'runtimes': NVIDIA}), True, None, 'configure', False),
    (text({'runtimes': NVIDIA, 'default-runtime': 'runc'}), True, None, 'configure', False),
    (text({'runtimes': NVIDIA, 'default-runtime': 'nvidia'}), True, None, 'none', False),
    # not asked: nvidia as the default is left as it is
    (text({'runtimes': NVIDIA, 'default-runtime': 'nvidia'}), False, None, 'none', False),
    # empty or whitespace only: nvidia-ctk refuses it, the role writes {} first
    ('', False, True, 'configure', True),
    (' \n\t\n', True, None, 'configure', True),
    # an empty object is fine for nvidia-ctk
    ('{}\n', False, None, 'configure', False),
    # could not be read
    (None, False, True, 'configure', False),
    # not JSON, not an object, runtimes not an object: nothing changes
    ('{"log-driver": "journald",}\n', False, None, 'fail', False),
    ('{"log-driver": "journald"\n', True, None, 'fail', False),
    ('["nvidia"]', False, None, 'fail', False),
    ('"nvidia"', False, None, 'fail', False),
    (text({'runtimes': ['nvidia']}), False, None, 'fail', False),
])
def test_the_decision_table(current, default_runtime, exists, action, empty_file):
    decision = decide(current, default_runtime, 'gpu-node-1', exists)
    assert decision['action'] == action
    assert decision['empty_file'] is empty_file
    assert bool(decision['problem']) == (action == 'fail')
    assert decision['reason']


@pytest.mark.parametrize('before', [
    '',                                                                   # absent
    text({'log-driver': 'journald', 'live-restore': True}),
    text({'runtimes': {'crun': {'path': '/usr/bin/crun'}}, 'default-runtime': 'crun'}),
    text({'runtimes': {'nvidia': {'path': 'runc'}}}),
    '{}',
])
@pytest.mark.parametrize('set_as_default', [False, True])
def test_a_second_run_changes_nothing(before, set_as_default):
    first = decide(before, set_as_default, 'gpu-node-1')
    assert first['action'] == 'configure'
    after = ctk(json.loads(before or '{}'), set_as_default)
    second = decide(after, set_as_default, 'gpu-node-1')
    assert second['action'] == 'none', second['reason']
    # the keys that were there before are still there (nvidia-ctk keeps them), the decision only reads
    assert set(json.loads(before or '{}')) <= set(json.loads(after))


def test_an_empty_file_converges_after_the_role_writes_an_object_into_it():
    first = decide('', True, 'gpu-node-1', exists=True)
    assert first['action'] == 'configure' and first['empty_file'] is True
    assert decide(ctk({}, True), True, 'gpu-node-1')['action'] == 'none'


def test_the_reasons_say_what_was_found():
    assert decide(text({'log-driver': 'journald'}))['reason'] == 'runtimes.nvidia is missing'
    assert decide(text({'runtimes': {'nvidia': {'path': 'runc'}}}))['reason'] == \
        'runtimes.nvidia.path is "runc", not nvidia-container-runtime'
    assert decide(text({'runtimes': NVIDIA}), True)['reason'] == 'default-runtime is not set, nvidia is asked'
    assert decide(text({'runtimes': NVIDIA, 'default-runtime': 'runc'}), True)['reason'] == \
        'default-runtime is "runc", nvidia is asked'
    assert decide(text({'runtimes': NVIDIA}))['reason'] == 'runtimes.nvidia is nvidia-container-runtime'
    assert decide(text({'runtimes': NVIDIA, 'default-runtime': 'nvidia'}), True)['reason'] == \
        'runtimes.nvidia is nvidia-container-runtime and it is the default runtime'
    left = decide(text({'runtimes': NVIDIA, 'default-runtime': 'nvidia'}), False)['reason']
    assert 'default-runtime is nvidia and is left as it is' in left
    left = decide(text({'default-runtime': 'nvidia'}), False)
    assert left['action'] == 'configure' and 'left as it is' in left['reason']
    assert decide('')['reason'] == '/etc/docker/daemon.json does not exist (nvidia-ctk creates it with the nvidia runtime)'
    assert 'nvidia-ctk refuses an empty file' in decide('', exists=True)['reason']
    assert '/etc/docker/custom.json does not exist' in decide('', path='/etc/docker/custom.json')['reason']


def test_invalid_json_names_the_host_the_file_and_the_error():
    problem = decide('{"log-driver": "journald",}', False, 'gpu-node-1')['problem']
    assert problem.startswith('gpu-node-1: /etc/docker/daemon.json is not valid JSON (')
    assert 'line 1 column' in problem                                    # json's own error
    assert problem.endswith('Nothing was changed.')
    assert decide('[1]', False, 'gpu-node-1')['problem'].startswith(
        'gpu-node-1: /etc/docker/daemon.json holds a JSON array, not an object')
    assert 'has "runtimes" that is not an object (["nvidia"])' in decide(text({'runtimes': ['nvidia']}))['problem']


def test_booleans_may_come_as_strings():
    assert decide(text({'runtimes': NVIDIA}), 'yes')['action'] == 'configure'
    assert decide(text({'runtimes': NVIDIA}), 'false')['action'] == 'none'
    assert decide('', False, exists='true')['empty_file'] is True


@pytest.mark.parametrize('current, default_runtime, exists, message', [
    ('{}', 'maybe', None, "default_runtime must be true or false, got 'maybe'"),
    ('{}', False, 'perhaps', "exists must be true, false or none, got 'perhaps'"),
    ({'runtimes': {}}, False, None, 'expects the text of /etc/docker/daemon.json'),
])
def test_bad_input(current, default_runtime, exists, message):
    with pytest.raises(AnsibleFilterError, match=message):
        decide(current, default_runtime, 'gpu-node-1', exists)
