# -*- coding: utf-8 -*-
# Copyright (c) 2026, gpufleet maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""ollama_sha256sum, ollama_summary and ollama_prune_versions."""

from __future__ import annotations

import pytest

from ansible.errors import AnsibleFilterError

from ansible_collections.gpufleet.ollama.plugins.filter.ollama_prune_versions import ollama_prune_versions
from ansible_collections.gpufleet.ollama.plugins.filter.ollama_sha256sum import ollama_sha256sum
from ansible_collections.gpufleet.ollama.plugins.filter.ollama_summary import ollama_summary

A = 'a' * 64
B = 'B' * 64
SUMS = '%s  ./ollama-linux-amd64.tgz\n%s *ollama-linux-arm64.tgz\n\n%s  ollama-linux-amd64.tar.zst\nnot a line\n' % (
    A, B, 'c' * 64)


@pytest.mark.parametrize('name, expected', [
    ('ollama-linux-amd64.tgz', A),
    ('/srv/ollama/0.12.3/ollama-linux-arm64.tgz', 'b' * 64),
    ('ollama-linux-amd64.tar.zst', 'c' * 64),
    ('ollama-linux-amd64-rocm.tgz', ''),
    ('linux-amd64.tgz', ''),
])
def test_sha256sum_pick(name, expected):
    assert ollama_sha256sum(SUMS, name) == expected


def test_sha256sum_empty_inputs():
    assert ollama_sha256sum('', 'x.tgz') == ''
    assert ollama_sha256sum(None, 'x.tgz') == ''
    assert ollama_sha256sum('%s\tx.tgz' % A, 'x.tgz') == A
    with pytest.raises(AnsibleFilterError):
        ollama_sha256sum(['x'], 'x.tgz')


def test_summary_table():
    lines = ollama_summary([
        ['gpu01', [{'instance': 'gpu01:11434', 'version': '0.14.1', 'health': 'ok', 'models': ['a:1', 'b:2']},
                   {'instance': 'gpu01:11435', 'version': '0.14.1', 'health': 'failed', 'models': []}]],
        ['gpu-node-22', False],
    ])
    assert lines == [
        'INSTANCE     VERSION  HEALTH         MODELS',
        'gpu01:11434  0.14.1   ok             a:1, b:2',
        'gpu01:11435  0.14.1   failed         -',
        'gpu-node-22  -        not converged  -',
    ]


def test_summary_lists_unreachable_hosts():
    lines = ollama_summary([['gpu01', False], ['gpu02', False]], unreachable=['gpu02'])
    assert lines[1:] == ['gpu01     -        not converged  -', 'gpu02     -        unreachable    -']


def test_summary_mapping_and_errors():
    assert ollama_summary({}) == ['INSTANCE  VERSION  HEALTH  MODELS']
    assert ollama_summary({'n': None})[1].startswith('n ')
    with pytest.raises(AnsibleFilterError):
        ollama_summary('x')
    with pytest.raises(AnsibleFilterError):
        ollama_summary([['a', [], 'extra']])


@pytest.mark.parametrize('versions, current, keep, expected', [
    (['0.9.6', '0.12.3', '0.13.5', '0.14.1'], '0.14.1', 2, ['0.9.6']),
    (['0.9.6', '0.12.3', '0.13.5', '0.14.1'], '0.12.3', 1, ['0.13.5', '0.9.6']),   # a rollback keeps the newest
    (['0.14.1', '0.14.0-rc1', '0.14.0', '0.13.10', '0.13.9'], '0.14.1', 2, ['0.13.10', '0.13.9']),
    (['0.14.0-rc2', '0.14.0-rc10', '0.14.0'], '0.14.0', 1, ['0.14.0-rc2']),
    (['0.14.1'], '0.14.1', 0, []),
    (['0.12.3', '0.14.1'], '0.14.1', 0, ['0.12.3']),
    (['0.12.3', '0.14.1'], '0.14.1', '5', []),
])
def test_prune_versions(versions, current, keep, expected):
    assert ollama_prune_versions(versions, current, keep) == expected


@pytest.mark.parametrize('versions, keep', [('0.1.0', 1), (['0.1.0'], -1), (['0.1.0'], 'x')])
def test_prune_versions_bad_arguments(versions, keep):
    with pytest.raises(AnsibleFilterError):
        ollama_prune_versions(versions, '0.1.0', keep)


def test_summary_with_gateways_warns_when_auth_is_off():
    lines = ollama_summary([['n1', []]], gateways=[
        ['gw1', {'tls': True, 'auth': True, 'servers': 4, 'drained': ['n2'], 'models': ['tiny:latest']}],
        ['gw2', {'tls': False, 'auth': False, 'servers': 4, 'drained': [], 'models': []}],
        ['gw3', None],
    ])
    assert lines[1] == ''
    assert lines[2].split() == ['GATEWAY', 'TLS', 'AUTH', 'INSTANCES', 'DRAINED', 'MODELS']
    assert lines[3].split() == ['gw1', 'on', 'on', '4', 'n2', 'tiny:latest']
    assert lines[4].split() == ['gw2', 'off', 'off', '4', '-', '-']
    assert lines[5].split() == ['gw3', '-', '-', '-', '-', 'not', 'converged']
    assert lines[6] == 'WARNING: gateway gw2 serves the API without keys (ollama_gateway_auth: false).'
    assert not any('WARNING' in line for line in ollama_summary([['n1', []]], gateways=[lines and ['gw1', {'auth': True}]]))
