# -*- coding: utf-8 -*-
# Copyright (c) 2026, gpufleet maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import pytest

from ansible.errors import AnsibleFilterError

from ansible_collections.gpufleet.ollama.plugins.filter.ollama_endpoints import ollama_endpoints
from ansible_collections.gpufleet.ollama.plugins.filter.ollama_health_report import ollama_health_report

INSTANCES = [{'port': 11434, 'gpus': ['GPU-aaa'], 'env': {}, 'prune': True},
             {'port': 11435, 'gpus': ['GPU-bbb'], 'env': {}, 'prune': False}]


def test_endpoints_one_per_instance():
    eps = ollama_endpoints(INSTANCES, 'gpu01', '10.0.0.5', num_parallel='4', max_queue=512, version='0.14.1')
    assert eps == [
        {'host': 'gpu01', 'address': '10.0.0.5', 'port': 11434, 'num_parallel': 4, 'max_queue': 512,
         'gpus': ['GPU-aaa'], 'version': '0.14.1', 'enabled': True, 'models': None},
        {'host': 'gpu01', 'address': '10.0.0.5', 'port': 11435, 'num_parallel': 4, 'max_queue': 512,
         'gpus': ['GPU-bbb'], 'version': '0.14.1', 'enabled': True, 'models': None},
    ]


@pytest.mark.parametrize('enabled, expected', [(True, True), (False, False), ('false', False), ('yes', True)])
def test_endpoints_enabled(enabled, expected):
    assert ollama_endpoints(INSTANCES[:1], 'n', 'a', enabled=enabled)[0]['enabled'] is expected


def test_endpoints_carry_the_models_of_each_healthy_instance():
    health = [{'item': {'port': 11434}, 'models': ['tiny:latest']},
              {'item': {'port': 11435}, 'skipped': True}]
    eps = ollama_endpoints(INSTANCES, 'n', 'a', health=health)
    assert [e['models'] for e in eps] == [['tiny:latest'], None]
    failed = [{'item': {'port': 11434}, 'failed': True, 'models': []}]
    assert ollama_endpoints(INSTANCES[:1], 'n', 'a', health=failed)[0]['models'] is None


def test_endpoints_reject_non_list():
    with pytest.raises(AnsibleFilterError):
        ollama_endpoints('x', 'n', 'a')


@pytest.mark.parametrize('result, row', [
    ({'item': {'port': 11434}, 'changed': False, 'version': '0.14.1', 'models': ['qwen2:7b']},
     {'instance': 'gpu01:11434', 'version': '0.14.1', 'health': 'ok', 'models': ['qwen2:7b']}),
    ({'item': {'port': 11435}, 'skipped': True, 'skip_reason': 'Conditional result was False'},
     {'instance': 'gpu01:11435', 'version': '0.14.1', 'health': 'skipped', 'models': []}),
    ({'item': {'port': 11436}, 'failed': True, 'version': '0.12.3', 'msg': 'expect_version failed'},
     {'instance': 'gpu01:11436', 'version': '0.12.3', 'health': 'failed', 'models': []}),
    ({'item': {'port': 11437}, 'failed': True, 'msg': 'not ready'},
     {'instance': 'gpu01:11437', 'version': 'unknown', 'health': 'failed', 'models': []}),
])
def test_health_rows(result, row):
    assert ollama_health_report([result], 'gpu01', '0.14.1') == [row]


def test_health_empty_and_bad():
    assert ollama_health_report([], 'gpu01') == []
    with pytest.raises(AnsibleFilterError):
        ollama_health_report({'results': []}, 'gpu01')


def test_health_report_marks_instances_without_a_result_skipped():
    """One ollama_health run with targets that was skipped (check mode) registers no results."""
    instances = [{'port': 11434}, {'port': 11435}]
    ok = {'item': {'port': 11434}, 'version': '0.14.1', 'models': ['tiny:latest'], 'failed': False}
    assert ollama_health_report([ok], 'gpu01', '0.14.1', instances=instances) == [
        {'instance': 'gpu01:11434', 'version': '0.14.1', 'health': 'ok', 'models': ['tiny:latest']},
        {'instance': 'gpu01:11435', 'version': '0.14.1', 'health': 'skipped', 'models': []},
    ]
    assert [r['health'] for r in ollama_health_report([], 'gpu01', '0.14.1', instances=instances)] == ['skipped'] * 2
