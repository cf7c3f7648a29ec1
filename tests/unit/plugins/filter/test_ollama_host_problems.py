# -*- coding: utf-8 -*-
# Copyright (c) 2026, gpufleet maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import copy

import pytest

from ansible.errors import AnsibleFilterError

from ansible_collections.gpufleet.ollama.plugins.filter.ollama_host_problems import FilterModule, ollama_host_problems


def link(name, *addresses):
    """One interface of `ip -j addr show`: addresses as 'address/len'."""
    return {'ifindex': 1, 'ifname': name, 'flags': ['UP'],
            'addr_info': [{'family': 'inet6' if ':' in a else 'inet', 'local': a.split('/')[0],
                           'prefixlen': int(a.split('/')[1]), 'scope': 'global'} for a in addresses]}


IP_ADDR = [link('lo', '127.0.0.1/8', '::1/128'), link('eth0', '10.0.0.5/24', 'fd00::5/64', 'fe80::1/64')]

# What the site puts on a GPU node of the lab: two instances, the rsync daemon, SSH.
NODE = {
    'host': 'gpu01',
    'addresses': IP_ADDR,
    'addresses_to_own': [
        {'variable': 'ollama_bind_address', 'address': '10.0.0.5', 'loopback_ok': False},
        {'variable': 'ollama_models_peer_address', 'address': '10.0.0.5', 'loopback_ok': False},
    ],
    'listeners': [
        {'variable': 'ollama_bind_address/ollama_base_port', 'owner': 'ollama instances', 'address': '10.0.0.5',
         'port': 11434, 'count': 2},
        {'variable': 'ollama_models_peer_address/ollama_models_peer_port', 'owner': 'model rsync daemon',
         'address': '10.0.0.5', 'port': 873},
    ],
    'reserved': [{'port': 22, 'owner': 'SSH (ansible_port)'}],
}
GATEWAY_LISTENERS = [
    {'variable': 'ollama_gateway_listen_port', 'owner': 'gateway (plain HTTP)', 'address': ['0.0.0.0', '::'], 'port': 80},
    {'variable': 'ollama_gateway_tls_port', 'owner': 'gateway (TLS)', 'address': ['0.0.0.0', '::'], 'port': 443},
]


def node(**changes):
    data = copy.deepcopy(NODE)
    data.update(changes)
    return data


def own(address, **flags):
    return node(addresses_to_own=[dict({'variable': 'ollama_bind_address', 'address': address}, **flags)])


def listeners(*extra):
    return node(listeners=copy.deepcopy(NODE['listeners']) + list(extra))


def test_registered():
    assert FilterModule().filters()['ollama_host_problems'] is ollama_host_problems


def test_the_lab_node_is_fine():
    assert ollama_host_problems(NODE) == []


def test_a_node_that_is_also_a_gateway_is_fine():
    assert ollama_host_problems(listeners(*GATEWAY_LISTENERS)) == []


@pytest.mark.parametrize('addresses', [
    IP_ADDR,
    ['10.0.0.5', '127.0.0.1', '::1', 'fe80::1'],
    ['10.0.0.5/24', '127.0.0.1/8'],
    ['10.0.0.5', 'fe80::1%eth0'],
    [{'ifname': 'eth0', 'addr_info': [{'local': '10.0.0.5'}]}, {'ifname': 'dummy0'}],
    None,                                   # unknown: address checks are skipped
])
def test_address_spellings_of_the_host(addresses):
    assert ollama_host_problems(node(addresses=addresses)) == []


@pytest.mark.parametrize('address, flags', [
    ('10.0.0.5', {}), ('fd00::5', {}), ('[fd00::5]', {}), ('FD00:0:0:0:0:0:0:5', {}), (' 10.0.0.5 ', {}),
    ('127.0.0.1', {}), ('127.0.0.53', {}), ('::1', {}), ('0.0.0.0', {'wildcard_ok': True}),
    ('::', {'wildcard_ok': True}), ('::ffff:10.0.0.5', {}),
])
def test_addresses_the_host_can_own(address, flags):
    assert ollama_host_problems(own(address, **flags)) == []


@pytest.mark.parametrize('address, flags, words', [
    ('10.0.0.6', {}, ['gpu01: ollama_bind_address', 'an address of gpu01', "'10.0.0.6'", 'valid: 10.0.0.5, fd00::5']),
    ('192.0.2.11', {}, ['ollama_bind_address', "'192.0.2.11'"]),
    ('fd00::6', {}, ['ollama_bind_address', "'fd00::6'"]),
    ('0.0.0.0', {}, ['ollama_bind_address', 'wildcard', 'every network']),
    ('::', {}, ['ollama_bind_address', 'wildcard']),
    ('', {}, ['ollama_bind_address', 'wildcard']),
    ('127.0.0.1', {'loopback_ok': False}, ['ollama_bind_address', 'loopback', 'gateways', 'valid: 10.0.0.5, fd00::5']),
    ('::1', {'loopback_ok': False}, ['ollama_bind_address', 'loopback']),
    ('fe80::1', {}, ['ollama_bind_address', 'link-local']),
    ('gpu01.example.internal', {}, ['ollama_bind_address', 'IP address of gpu01', 'not a name',
                                    "'gpu01.example.internal'"]),
    ('gpu01', {}, ['ollama_bind_address', 'not a name']),
    ('10.0.0.5/24', {}, ['ollama_bind_address', 'one IP address', 'prefix']),
    ('10.0.0.256', {}, ['ollama_bind_address', 'one IP address']),
    ('10.0.0', {}, ['ollama_bind_address', 'one IP address']),
    ('fe80::1%eth0', {}, ['ollama_bind_address', 'link-local']),
    ('10.0.0.5:11434', {}, ['ollama_bind_address', 'one IP address']),
    ('\u0661\u0660.0.0.5', {}, ['ollama_bind_address', 'one IP address']),      # Arabic-Indic digits
    ('gpu\u00e9.internal', {}, ['ollama_bind_address', 'one IP address']),
    ('10.0.0.5 10.0.0.6', {}, ['ollama_bind_address', 'one IP address']),
])
def test_addresses_the_host_cannot_own(address, flags, words):
    problems = ollama_host_problems(own(address, **flags))
    assert len(problems) == 1, problems
    for word in words:
        assert word in problems[0], (word, problems[0])


def test_unknown_addresses_still_refuse_names_wildcards_and_loopback():
    for address, flags in (('gpu01', {}), ('0.0.0.0', {}), ('127.0.0.1', {'loopback_ok': False})):
        data = own(address, **flags)
        data['addresses'] = None
        problems = ollama_host_problems(data)
        assert len(problems) == 1 and 'one of its IP addresses' in problems[0], problems
    data = own('10.9.9.9')
    data['addresses'] = None
    assert ollama_host_problems(data) == []


def test_loopback_counts_only_when_the_host_has_one():
    data = own('127.0.0.2')
    data['addresses'] = ['10.0.0.5']
    assert len(ollama_host_problems(data)) == 1


@pytest.mark.parametrize('extra', [
    {'variable': 'other', 'address': '10.0.0.5', 'port': 11436},                    # right after the instances
    {'variable': 'other', 'address': '10.0.0.5', 'port': 11433},
    {'variable': 'other', 'address': '10.0.0.6', 'port': 11434},                    # another address
    {'variable': 'other', 'address': 'fd00::5', 'port': 11434},                     # another family
    {'variable': 'other', 'address': '::', 'port': 11434},                          # IPv6 wildcard vs IPv4
    {'variable': 'other', 'address': '127.0.0.1', 'port': 873},
    {'variable': 'other', 'address': '10.0.0.5', 'port': 2222},
    {'variable': 'other', 'address': '10.0.0.5', 'port': 65535},
    {'variable': 'other', 'address': 'gpu01', 'port': 11434},                       # a name: not compared to IPs
])
def test_sockets_that_do_not_collide(extra):
    assert ollama_host_problems(listeners(extra)) == []


@pytest.mark.parametrize('extra, words', [
    ({'variable': 'ollama_models_peer_port', 'owner': 'model rsync daemon', 'address': '10.0.0.5', 'port': 11435},
     ['gpu01: ollama_bind_address/ollama_base_port (ollama instances on 10.0.0.5:11434-11435)',
      'ollama_models_peer_port (model rsync daemon on 10.0.0.5:11435)', 'both use port 11435',
      'taken there: 873 by model rsync daemon']),
    ({'variable': 'ollama_gateway_listen_port', 'owner': 'gateway', 'address': ['0.0.0.0', '::'], 'port': 11434},
     ['ollama_gateway_listen_port', 'gateway on 0.0.0.0:11434 and [::]:11434', 'port 11434']),
    ({'variable': 'x', 'address': '0.0.0.0', 'port': 873}, ['model rsync daemon', 'x ', 'port 873']),
    ({'variable': 'x', 'address': '10.0.0.5', 'port': 11430, 'count': 8}, ['ports 11434-11435', 'x on 10.0.0.5:11430-11437']),
    ({'variable': 'x', 'address': '*', 'port': 11435}, ['port 11435']),
    ({'variable': 'x', 'address': '', 'port': 11435}, ['port 11435']),
    ({'variable': 'x', 'address': 'fd00::5', 'port': 22}, ['x (x on [fd00::5]:22) uses port 22', 'SSH (ansible_port) uses']),
    ({'variable': 'ollama_gateway_tls_port', 'owner': 'gateway (TLS)', 'address': ['0.0.0.0', '::'], 'port': 22},
     ['ollama_gateway_tls_port', 'SSH (ansible_port)', 'port 22']),
])
def test_sockets_that_collide(extra, words):
    problems = ollama_host_problems(listeners(extra))
    assert len(problems) == 1, problems
    for word in words:
        assert word in problems[0], (word, problems[0])


def test_names_collide_with_the_same_name_and_with_wildcards():
    data = node(listeners=[{'variable': 'a', 'address': 'gpu01', 'port': 80},
                           {'variable': 'b', 'address': 'GPU01.', 'port': 80},
                           {'variable': 'c', 'address': '0.0.0.0', 'port': 80}], reserved=[])
    problems = ollama_host_problems(data)
    assert len(problems) == 3, problems


def test_gateway_listen_and_tls_on_one_port():
    data = node(host='gw01', addresses_to_own=[], reserved=[],
                listeners=[dict(GATEWAY_LISTENERS[0], port=8443), dict(GATEWAY_LISTENERS[1], port=8443)])
    problems = ollama_host_problems(data)
    assert len(problems) == 1
    assert problems[0].startswith('gw01: ollama_gateway_listen_port') and 'ollama_gateway_tls_port' in problems[0]


def test_one_listener_on_two_addresses_does_not_collide_with_itself():
    data = node(listeners=[GATEWAY_LISTENERS[0]], reserved=[])
    assert ollama_host_problems(data) == []


def test_reserved_ports_on_one_address_only():
    data = node(reserved=[{'port': 11434, 'owner': 'node exporter', 'address': '127.0.0.1'}])
    assert ollama_host_problems(data) == []
    data = node(reserved=[{'port': 11434, 'owner': 'node exporter', 'address': '0.0.0.0'}])
    assert 'node exporter uses already' in ollama_host_problems(data)[0]


def test_reserved_ports_never_collide_among_themselves():
    data = node(listeners=[], reserved=[{'port': 22, 'owner': 'SSH'}, {'port': 22, 'owner': 'ansible_port'}])
    assert ollama_host_problems(data) == []


@pytest.mark.parametrize('entry, words', [
    ({'port': 0}, ['must be a port number 1-65535', '(got 0)']),
    ({'port': 65536}, ['(got 65536)']),
    ({'port': 'ssh'}, ["(got 'ssh')"]),
    ({'port': None}, ['(got None)']),
    ({'port': 65535, 'count': 2}, ['take 2 ports from 65535, up to 65536', 'at most 65534']),
    ({'port': 65530, 'count': 8}, ['up to 65537', 'at most 65528']),
])
def test_port_ranges(entry, words):
    data = node(listeners=[dict({'variable': 'ollama_bind_address/ollama_base_port', 'owner': 'ollama instances',
                                 'address': '10.0.0.5'}, **entry)])
    problems = ollama_host_problems(data)
    assert len(problems) == 1, problems
    assert problems[0].startswith('gpu01: ollama_bind_address/ollama_base_port')
    for word in words:
        assert word in problems[0], (word, problems[0])


def test_every_problem_is_reported():
    data = node(addresses_to_own=[{'variable': 'ollama_bind_address', 'address': '10.9.9.9'},
                                  {'variable': 'ollama_models_peer_address', 'address': 'peer.internal'}],
                listeners=copy.deepcopy(NODE['listeners']) + [{'variable': 'x', 'address': '10.0.0.5', 'port': 873}])
    assert len(ollama_host_problems(data)) == 3


def test_without_a_host_name():
    problems = ollama_host_problems(dict(own('10.0.0.6'), host=''))
    assert problems[0].startswith('ollama_bind_address must be an address of the host')


def test_no_sentence_says_nothing_was_changed():
    data = node(addresses_to_own=[{'variable': 'ollama_bind_address', 'address': '10.9.9.9'}],
                listeners=copy.deepcopy(NODE['listeners']) + [{'variable': 'x', 'address': '10.0.0.5', 'port': 873}])
    assert all('Nothing was changed' not in p and p.endswith('.') for p in ollama_host_problems(data))


@pytest.mark.parametrize('data, match', [
    (['gpu01'], 'expects a mapping'),
    ({'addresses': '10.0.0.5'}, 'addresses must be a list'),
    ({'addresses': ['not-an-ip']}, 'not an IP address'),
    ({'addresses_to_own': [{'address': '10.0.0.5'}]}, 'addresses_to_own\\[0\\]'),
    ({'listeners': [{'address': '10.0.0.5', 'port': 1}]}, 'listeners\\[0\\]'),
    ({'listeners': [{'variable': 'x', 'address': '10.0.0.5', 'port': 1, 'count': 0}]}, 'count must be 1 or more'),
    ({'reserved': [{'owner': 'SSH'}]}, 'needs a port'),
    ({'reserved': ['22']}, 'reserved\\[0\\]'),
])
def test_malformed_input_is_an_error(data, match):
    with pytest.raises(AnsibleFilterError, match=match):
        ollama_host_problems(data)


def test_empty_input_has_no_problem():
    assert ollama_host_problems({}) == []
