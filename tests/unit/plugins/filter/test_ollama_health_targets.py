# -*- coding: utf-8 -*-
# Copyright (c) 2026, gpufleet maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import pytest

from ansible.errors import AnsibleFilterError

from ansible_collections.gpufleet.ollama.plugins.filter.ollama_health_targets import ollama_health_targets

INSTANCES = [{'port': 11434, 'gpus': ['GPU-a']}, {'port': 11435, 'gpus': ['GPU-b']}]


def test_one_target_per_instance_with_the_instance_as_item():
    assert ollama_health_targets(INSTANCES, 'gpu-node-1', '10.0.0.5', '0.14.1') == [
        {'url': 'http://10.0.0.5:11434', 'instance': 'gpu-node-1:11434', 'expect_version': '0.14.1',
         'item': {'port': 11434, 'gpus': ['GPU-a']}},
        {'url': 'http://10.0.0.5:11435', 'instance': 'gpu-node-1:11435', 'expect_version': '0.14.1',
         'item': {'port': 11435, 'gpus': ['GPU-b']}},
    ]


def test_an_instance_waiting_for_its_batch_is_expected_to_run_its_release():
    states = {'11434': {'release': '0.13.5'}, '11435': {'release': '0.13.5'}}
    targets = ollama_health_targets(INSTANCES, 'n', '10.0.0.5', '0.14.1', pending=['11435'], states=states)
    assert [t['expect_version'] for t in targets] == ['0.14.1', '0.13.5']


def test_no_version_means_no_version_check_and_ipv6_is_bracketed():
    targets = ollama_health_targets(INSTANCES[:1], 'n', 'fd00::5')
    assert targets == [{'url': 'http://[fd00::5]:11434', 'instance': 'n:11434', 'item': INSTANCES[0]}]
    assert ollama_health_targets(INSTANCES[:1], 'n', '[fd00::5]')[0]['url'] == 'http://[fd00::5]:11434'


@pytest.mark.parametrize('bad', ['x', [{'gpus': []}], [1]])
def test_refuses_what_is_not_a_list_of_instances(bad):
    with pytest.raises(AnsibleFilterError, match='list of instances'):
        ollama_health_targets(bad, 'n', 'h')
