# -*- coding: utf-8 -*-
# Copyright (c) 2026, gpufleet maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import json

import pytest

from ansible.errors import AnsibleFilterError

from ansible_collections.gpufleet.ollama.plugins.filter.ollama_drain_plan import ollama_drain_plan


def srv(host, port, address=None, down=False, models=None):
    return {'address': address or {'gpu01': '10.0.0.5', 'gpu02': '10.0.0.6'}.get(host, '10.0.0.9'), 'port': port,
            'host': host, 'max_conns': 0, 'down': down, 'models': models}


SERVERS = [srv('gpu01', 11434), srv('gpu01', 11435), srv('gpu02', 11434), srv('gpu02', 11435)]


def plan(content, targets, state='drained', servers=None, **kwargs):
    result = ollama_drain_plan(content, targets, state, SERVERS if servers is None else servers, **kwargs)
    assert result['content'] == json.dumps(result['drained']) + '\n'
    return result


@pytest.mark.parametrize('content, targets, state, drained, changed', [
    # drain
    (None, ['gpu01'], 'drained', ['gpu01'], True),
    ('', 'gpu01', 'drained', ['gpu01'], True),
    ('[]\n', 'gpu01, gpu02:11435', 'drained', ['gpu01', 'gpu02:11435'], True),
    ('["gpu01"]\n', ['gpu01'], 'drained', ['gpu01'], False),                   # idempotent
    ('["gpu01:11435"]', ['gpu01'], 'drained', ['gpu01'], True),               # the host covers its instance
    ('["gpu01"]', ['gpu01:11435'], 'drained', ['gpu01'], False),              # already out with its host
    ('["gpu02", "gpu01"]', ['gpu01'], 'drained', ['gpu01', 'gpu02'], False),  # sorted, the same set
    ('["gpu01", "gpu01"]', ['gpu02:11434'], 'drained', ['gpu01', 'gpu02:11434'], True),
    # undrain
    ('["gpu01"]', ['gpu01'], 'active', [], True),
    ('["gpu01", "gpu01:11435", "gpu02:11434"]', 'gpu01', 'active', ['gpu02:11434'], True),  # host and its instances
    ('["gpu01:11434", "gpu01:11435"]', 'gpu01:11435', 'active', ['gpu01:11434'], True),
    ('[]', ['gpu01'], 'active', [], False),                                   # idempotent
    (None, ['gpu02:11435'], 'active', [], False),
    ('["gpu09", "gpu01"]', ['gpu09'], 'active', ['gpu01'], True),             # a node that left the inventory
    ('["gpu09:11434"]', ['gpu09:11434'], 'active', [], True),
])
def test_new_drain_set(content, targets, state, drained, changed):
    result = plan(content, targets, state)
    assert result['problems'] == []
    assert result['drained'] == drained
    assert result['changed'] is changed


def test_endpoints_of_the_targets():
    result = plan(None, ['gpu01', 'gpu02:11435', 'gpu01'])
    assert result['requested'] == ['gpu01', 'gpu02:11435']
    assert result['endpoints'] == [
        {'name': 'gpu01:11434', 'address': '10.0.0.5', 'port': 11434},
        {'name': 'gpu01:11435', 'address': '10.0.0.5', 'port': 11435},
        {'name': 'gpu02:11435', 'address': '10.0.0.6', 'port': 11435},
    ]
    assert result['targets'] == {'gpu01:11434': 'gpu01', 'gpu01:11435': 'gpu01', 'gpu02:11435': 'gpu02:11435'}


def test_endpoints_of_an_undrain_and_of_a_stale_target():
    result = plan('["gpu09", "gpu02"]', 'gpu09 gpu02', 'active')
    assert [e['name'] for e in result['endpoints']] == ['gpu02:11434', 'gpu02:11435']
    assert result['targets'] == {'gpu02:11434': 'gpu02', 'gpu02:11435': 'gpu02'}


def test_servers_without_a_host_cannot_be_targeted():
    servers = [srv('', 11434, address='10.9.9.9'), srv('gpu01', 11434)]
    result = plan(None, ['10.9.9.9:11434'], servers=servers)
    assert result['problems'] == ["10.9.9.9:11434 names no host or instance of this gateway's upstream; known hosts "
                                  "and instances: gpu01, gpu01:11434."]
    assert result['endpoints'] == []


@pytest.mark.parametrize('content, targets, state, words', [
    (None, ['gpu9'], 'drained',
     "gpu9 names no host or instance of this gateway's upstream; known hosts and instances: gpu01, gpu02, "
     "gpu01:11434, gpu01:11435, gpu02:11434, gpu02:11435."),
    (None, ['gpu01:11999'], 'drained', "gpu01:11999 names no host or instance"),
    ('["gpu01"]', ['gpu9'], 'active', "gpu9 is neither drained nor a host or instance of this gateway's upstream; known"),
    ('["gpu01"]', ['gpu01:11435'], 'active',
     'gpu01:11435 is drained with all of gpu01: undrain gpu01 (and drain the instances that stay out one by one).'),
    (None, [], 'drained', 'ollama_gateway_drain_targets is empty: name hosts (gpu01) or instances (gpu01:11435); known'),
    (None, ' , ', 'active', 'ollama_gateway_drain_targets is empty'),
    ('{"gpu01": true}', ['gpu02'], 'drained',
     '/var/lib/gpufleet/gateway/drained.json is not a JSON list of host or host:port names: {"gpu01": true}.'),
    ('[1, 2]', ['gpu02'], 'drained', 'is not a JSON list of host or host:port names: [1, 2].'),
    ('["gpu01"', ['gpu02'], 'drained', '/var/lib/gpufleet/gateway/drained.json is not JSON ('),
    (None, ['gpu01', 'gpu02'], 'drained',
     "draining gpu01, gpu02 would take every instance of this gateway's upstream out of rotation, and the gateway "
     "would fail every request; set ollama_gateway_drain_force=true to do it anyway."),
    ('["gpu01"]', ['gpu02:11434', 'gpu02:11435'], 'drained', 'would take every instance'),
])
def test_problems(content, targets, state, words):
    result = plan(content, targets, state, path='/var/lib/gpufleet/gateway/drained.json')
    assert len(result['problems']) == 1, result['problems']
    assert words in result['problems'][0]


def test_force_drains_the_last_instance():
    assert plan(None, ['gpu01', 'gpu02'], force=True)['problems'] == []
    assert plan(None, ['gpu01', 'gpu02'], force='yes')['problems'] == []


def test_inventory_drains_count_as_out_of_rotation():
    result = plan(None, ['gpu01'], also_drained=['gpu02'], servers=[srv('gpu01', 1), srv('gpu02', 1, down=True)])
    assert 'would take every instance' in result['problems'][0]


def test_undrain_is_never_refused_for_leaving_nothing_in_rotation():
    servers = [srv('gpu01', 1, down=True), srv('gpu02', 1, down=True)]
    result = plan('["gpu01", "gpu02"]', ['gpu01'], 'active', servers=servers, also_drained=['gpu01', 'gpu02'])
    assert result['problems'] == [] and result['drained'] == ['gpu02']


def test_a_broken_file_is_not_rewritten_from_scratch_silently():
    result = plan('not json', ['gpu01'])
    assert result['problems'] and result['drained'] == ['gpu01']   # the caller must stop on problems


@pytest.mark.parametrize('servers, targets, warnings', [
    ([srv('gpu01', 1, models=['big', 'tiny']), srv('gpu02', 1, models=['tiny'])], ['gpu01'],
     ['no instance in rotation serves big any more: requests for it fail until an instance that has it is undrained.']),
    ([srv('gpu01', 1, models=['a', 'b']), srv('gpu02', 1, models=['c'])], ['gpu01'],
     ['no instance in rotation serves a, b any more: requests for them fail until an instance that has them is '
      'undrained.']),
    ([srv('gpu01', 1, models=['big']), srv('gpu02', 1, models=['tiny']), srv('gpu02', 2, down=True, models=['big'])],
     ['gpu01'], ['no instance in rotation serves big any more: requests for it fail until an instance that has it is '
                 'undrained.']),
    ([srv('gpu01', 1, models=['big', 'tiny']), srv('gpu02', 1, models=['big', 'tiny'])], ['gpu01'], []),
    ([srv('gpu01', 1, models=['big']), srv('gpu02', 1, models=None)], ['gpu01'], []),   # gpu02's models unknown
])
def test_models_no_instance_in_rotation_serves(servers, targets, warnings):
    content = json.dumps(['%s:%s' % (s['host'], s['port']) for s in servers if s['down']])
    result = plan(content, targets, servers=servers)
    assert result['problems'] == []
    assert result['warnings'] == warnings


@pytest.mark.parametrize('args, words', [
    ((None, ['gpu01'], 'down', SERVERS), 'state must be one of drained, active'),
    ((None, ['gpu01'], 'drained', None), 'servers must be a list'),
    ((None, ['gpu01'], 'drained', [{'address': 'a'}]), 'servers must be a list'),
    ((None, {'gpu01': 1}, 'drained', SERVERS), 'targets must be a list or a string, got dict'),
])
def test_bad_arguments(args, words):
    with pytest.raises(AnsibleFilterError, match=words):
        ollama_drain_plan(*args)
