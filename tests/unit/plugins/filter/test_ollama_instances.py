# -*- coding: utf-8 -*-
# Copyright (c) 2026, gpufleet maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import pytest

from ansible.errors import AnsibleFilterError

from ansible_collections.gpufleet.ollama.plugins.filter.ollama_instances import ollama_instances

GPUS = [{'index': 0, 'uuid': 'GPU-aaa'}, {'index': 1, 'uuid': 'GPU-bbb'}]


@pytest.mark.parametrize('gpus, spec, base, noprune, expected', [
    (GPUS, 'per_gpu', 11434, False,
     [{'port': 11434, 'gpus': ['GPU-aaa'], 'env': {}, 'prune': True},
      {'port': 11435, 'gpus': ['GPU-bbb'], 'env': {}, 'prune': False}]),
    (GPUS, 'per_gpu', 12000, True,
     [{'port': 12000, 'gpus': ['GPU-aaa'], 'env': {}, 'prune': False},
      {'port': 12001, 'gpus': ['GPU-bbb'], 'env': {}, 'prune': False}]),
    ([], 'per_gpu', 11434, False, [{'port': 11434, 'gpus': [], 'env': {}, 'prune': True}]),
    (GPUS, 'single', '11500', 'false', [{'port': 11500, 'gpus': [], 'env': {}, 'prune': True}]),
    (GPUS, [{'port': 11440, 'gpus': [1]}, {'port': '11439', 'gpus': ['GPU-aaa'], 'env': {'OLLAMA_DEBUG': '1'}}], 11434, False,
     [{'port': 11439, 'gpus': ['GPU-aaa'], 'env': {'OLLAMA_DEBUG': '1'}, 'prune': True},
      {'port': 11440, 'gpus': ['1'], 'env': {}, 'prune': False}]),
    (GPUS, [{'port': 11434, 'gpus': [0, 1]}], 11434, 'yes', [{'port': 11434, 'gpus': ['0', '1'], 'env': {}, 'prune': False}]),
])
def test_layout(gpus, spec, base, noprune, expected):
    result = ollama_instances(gpus, spec, base, noprune)
    assert result == {'instances': expected, 'problems': []}


@pytest.mark.parametrize('spec, words', [
    ([{'port': 11434}, {'port': 11434}], ['gpu01', 'ports 11434 more than once']),
    ([{'port': 11434, 'gpus': ['GPU-zzz', 7]}], ['gpu01', 'GPU-zzz, 7', 'does not have', '0 (GPU-aaa), 1 (GPU-bbb)']),
    ([{'port': 0}], ['outside 1-65535', '0']),
    ('nonsense', ['gives no instance', 'nonsense']),
    ([], ['gives no instance']),
])
def test_problems_name_the_node_and_what_is_wrong(spec, words):
    problems = ollama_instances(GPUS, spec, 11434, False, 'gpu01')['problems']
    assert len(problems) == 1, problems
    for word in words:
        assert word in problems[0]


def test_a_node_without_gpus_says_none_found():
    problems = ollama_instances([], [{'port': 11434, 'gpus': ['GPU-aaa']}], host='n1')['problems']
    assert problems and 'none found' in problems[0]


@pytest.mark.parametrize('gpus, base', [('not a list', 11434), (GPUS, 'x')])
def test_bad_arguments_raise(gpus, base):
    with pytest.raises(AnsibleFilterError):
        ollama_instances(gpus, 'per_gpu', base)
