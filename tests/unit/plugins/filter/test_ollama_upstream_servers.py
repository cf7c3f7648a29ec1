# -*- coding: utf-8 -*-
# Copyright (c) 2026, gpufleet maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import pytest

from ansible.errors import AnsibleFilterError

from ansible_collections.gpufleet.ollama.plugins.filter.ollama_upstream_servers import ollama_upstream_servers


def ep(host, port, parallel=2, enabled=True, address=None):
    return {'host': host, 'address': address or '10.0.0.%d' % (1 if host == 'n1' else 2), 'port': port,
            'num_parallel': parallel, 'max_queue': 512, 'gpus': [], 'version': '0.14.1', 'enabled': enabled}


PUBLISHED = {'n1': [ep('n1', 11434), ep('n1', 11435)], 'n2': [ep('n2', 11434, parallel=4)]}


def test_every_enabled_instance_of_every_node():
    result = ollama_upstream_servers(PUBLISHED, [], [], 4)
    assert result['problems'] == []
    assert result['servers'] == [
        {'address': '10.0.0.1', 'port': 11434, 'host': 'n1', 'max_conns': 6, 'down': False, 'models': None},
        {'address': '10.0.0.1', 'port': 11435, 'host': 'n1', 'max_conns': 6, 'down': False, 'models': None},
        {'address': '10.0.0.2', 'port': 11434, 'host': 'n2', 'max_conns': 8, 'down': False, 'models': None},
    ]


def test_the_inventory_order_does_not_change_the_servers_or_the_memory():
    reordered = {'n2': PUBLISHED['n2'], 'n1': PUBLISHED['n1']}
    assert list(reordered) != list(PUBLISHED)
    assert ollama_upstream_servers(reordered, [], [], 4) == ollama_upstream_servers(PUBLISHED, [], [], 4)
    assert list(ollama_upstream_servers(reordered, [], [], 4)['memory']) == ['n1', 'n2']


def test_no_cap_drained_and_disabled():
    published = dict(PUBLISHED, n1=[ep('n1', 11434), ep('n1', 11435, enabled=False)])
    servers = ollama_upstream_servers(published, drained_hosts=['n2'], queue_per_instance=0)['servers']
    assert [(s['host'], s['port'], s['max_conns'], s['down']) for s in servers] == [
        ('n1', 11434, 0, False), ('n2', 11434, 0, True)]


def test_one_instance_drained_and_models_passed_on():
    published = {'n1': [dict(ep('n1', 11434), models=['tiny:latest']), ep('n1', 11435)]}
    servers = ollama_upstream_servers(published, drained_hosts=['n1:11435'])['servers']
    assert [(s['port'], s['down'], s['models']) for s in servers] == [(11434, False, ['tiny:latest']), (11435, True, None)]


def test_persisted_drain_entries_of_departed_hosts_are_ignored():
    result = ollama_upstream_servers(PUBLISHED, [], [], 0, 'gpu_nodes', persisted_drained=['gone', 'n2', 'n1:11435'])
    assert result['problems'] == []
    assert [(s['host'], s['port'], s['down']) for s in result['servers']] == [
        ('n1', 11434, False), ('n1', 11435, True), ('n2', 11434, True)]


def test_explicit_backends_replace_published():
    result = ollama_upstream_servers({'n1': False}, [{'address': '10.9.9.9', 'port': '11434', 'num_parallel': 3}], [], 1)
    assert result == {'servers': [{'address': '10.9.9.9', 'port': 11434, 'host': '', 'max_conns': 4, 'down': False,
                                   'models': None}],
                      'problems': [], 'warnings': [], 'remembered': [], 'memory': {}}


@pytest.mark.parametrize('published, backends, drained, words', [
    ({}, [], [], ["group 'gpu_nodes'", 'nothing to balance']),
    ({'n1': False, 'n2': None}, [], [], ['upstream is empty', 'or known']),
    (PUBLISHED, [], ['n9'], ['ollama_gateway_drained_hosts', 'n9']),
    (PUBLISHED, [], ['n9:11434'], ['n9:11434']),
    ({'n1': []}, [], [], ['upstream is empty']),
    ({'n1': False}, [{'address': '', 'port': 1}], [], ['backend 0', 'address']),
    ({'n1': False}, [{'address': 'a', 'port': 70000}], [], ['backend 0', '1-65535']),
    ({'n1': False}, ['a:1'], [], ['backend 0', 'mapping']),
])
def test_problems(published, backends, drained, words):
    problems = ollama_upstream_servers(published, backends, drained, 4)['problems']
    assert problems
    text = ' '.join(problems)
    for word in words:
        assert word in text


@pytest.mark.parametrize('published, queue', [([], 0), ({}, -1), ({}, 'x')])
def test_bad_arguments(published, queue):
    with pytest.raises(AnsibleFilterError):
        ollama_upstream_servers(published, [], [], queue)


def test_unreachable_hosts_keep_their_remembered_instances():
    """A dead node is a node: a host that published nothing keeps what the gateway routed to last time."""
    remembered = {'n2': [dict(ep('n2', 11434), models=['tiny:latest'])], 'gone': [ep('gone', 11434)]}
    result = ollama_upstream_servers({'n1': [ep('n1', 11434)], 'n2': False, 'n3': None}, [], [], 0, 'gpu_nodes',
                                     remembered=remembered)
    assert result['problems'] == []
    assert [(s['host'], s['port'], s['models']) for s in result['servers']] == [('n1', 11434, None),
                                                                                ('n2', 11434, ['tiny:latest'])]
    assert result['remembered'] == ['n2']
    assert result['memory'] == {'n1': [ep('n1', 11434)], 'n2': remembered['n2']}   # hosts of the group only
    assert 'no ollama_endpoints from n2 in this run' in result['warnings'][0]
    assert 'no ollama_endpoints from n3, and this gateway has never routed to it' in result['warnings'][1]


def test_published_endpoints_replace_remembered_ones():
    result = ollama_upstream_servers({'n1': [ep('n1', 11435)]}, remembered={'n1': [ep('n1', 11434)]})
    assert [s['port'] for s in result['servers']] == [11435] and result['warnings'] == []


def test_remembered_must_be_a_mapping():
    with pytest.raises(AnsibleFilterError, match='remembered'):
        ollama_upstream_servers({'n1': False}, remembered=['n1'])
