# -*- coding: utf-8 -*-
# Copyright (c) 2026, gpufleet maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import pytest

from ansible_collections.gpufleet.ollama.plugins.plugin_utils._settings import (
    env_problems, is_drained, to_bool, to_int, tristate)


@pytest.mark.parametrize('value, expected', [
    (True, True), (False, False), ('on', True), ('Yes', True), (' TRUE ', True), ('1', True), (1, True),
    ('off', False), ('no', False), ('False', False), ('0', False), (0, False),
    ('maybe', None), (2, None), (None, None), ([], None),
])
def test_to_bool(value, expected):
    assert to_bool(value) is expected


@pytest.mark.parametrize('value, expected', [
    ('auto', 'auto'), ('Auto', 'auto'), (True, 'on'), ('on', 'on'), (False, 'off'), ('off', 'off'), ('x', None)])
def test_tristate(value, expected):
    assert tristate(value) == expected


@pytest.mark.parametrize('value, expected', [(3, 3), ('12', 12), (' -1 ', -1), (True, None), ('1.5', None), (None, None)])
def test_to_int(value, expected):
    assert to_int(value) == expected


def test_env_problems_ok_and_none():
    assert env_problems({'OLLAMA_DEBUG': '1', 'HTTPS_PROXY': 'x', 'N': 3}, 'w') == []
    assert env_problems(None, 'w') == []


@pytest.mark.parametrize('host, port, drain_set, expected', [
    ('n1', 11434, ['n1'], True), ('n1', 11435, ['n1:11435'], True), ('n1', 11434, ['n1:11435'], False),
    ('n1', 11434, ['n10'], False), ('', 11434, [''], False)])
def test_is_drained(host, port, drain_set, expected):
    assert is_drained(host, port, drain_set) is expected
