# -*- coding: utf-8 -*-
# Copyright (c) 2026, gpufleet maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import pytest

from ansible.errors import AnsibleFilterError

from ansible_collections.gpufleet.ollama.plugins.filter.ollama_firewall_policy import ollama_firewall_policy


def ep(port, enabled=True):
    return {'host': 'gpu01', 'address': '10.0.0.11', 'port': port, 'num_parallel': 2, 'max_queue': 512,
            'gpus': [], 'version': '0.14.1', 'enabled': enabled}


def policy(**kw):
    settings = {'ollama_firewall_ports': [], 'ollama_firewall_allowed_sources': ['10.0.0.10'],
                'ollama_firewall_extra_sources': [], 'ollama_endpoints': [ep(11434), ep(11435)],
                'connection_port': 22}
    settings.update(kw)
    return ollama_firewall_policy(settings)


@pytest.mark.parametrize('kw, ports', [
    # the ports the ollama role published, sorted, once; stopped instances stay guarded
    ({'ollama_endpoints': [ep(11435), ep(11434, enabled=False), ep(11435)]}, [11434, 11435]),
    # explicit ports win over the published ones, strings of digits count
    ({'ollama_firewall_ports': ['11500', 11434]}, [11434, 11500]),
    # explicit ports need no published endpoints (the role can run on its own)
    ({'ollama_firewall_ports': [11434], 'ollama_endpoints': False}, [11434]),
    # Ansible on another port: 22 is still never guarded, the other port is
    ({'ollama_firewall_ports': [2222, 11434], 'connection_port': '2200'}, [2222, 11434]),
])
def test_ports(kw, ports):
    result = policy(**kw)
    assert result['problems'] == []
    assert result['ports'] == ports


@pytest.mark.parametrize('allowed, extra, ipv4, ipv6', [
    (['10.0.0.10'], [], ['10.0.0.10'], []),
    # /32 and /128 written as plain addresses; duplicates and covered entries merged; sorted
    (['10.0.0.12/32', '10.0.0.10', '10.0.0.10'], ['10.0.1.0/24', '10.0.1.7'], ['10.0.0.10', '10.0.0.12', '10.0.1.0/24'],
     []),
    # adjacent networks merge into one
    (['10.0.0.0/25', '10.0.0.128/25'], [], ['10.0.0.0/24'], []),
    # both families, IPv6 lower-cased and compressed
    (['10.0.0.10', 'FD00:0::10'], ['fd00::/64'], ['10.0.0.10'], ['fd00::/64']),
    # only extra sources (no gateway group) is a usable policy
    ([], [' 192.0.2.5 '], ['192.0.2.5'], []),
])
def test_sources(allowed, extra, ipv4, ipv6):
    result = policy(ollama_firewall_allowed_sources=allowed, ollama_firewall_extra_sources=extra)
    assert result['problems'] == []
    assert (result['ipv4'], result['ipv6']) == (ipv4, ipv6)


@pytest.mark.parametrize('kw, words', [
    # never lock out the connection Ansible uses
    ({'ollama_firewall_ports': [22, 11434]}, ['port 22', 'lock out']),
    ({'ollama_firewall_ports': [2200, 11434], 'connection_port': 2200}, ['port 2200', 'ansible_port 2200']),
    ({'ollama_endpoints': [ep(22)]}, ['port 22']),
    # no gateway at all
    ({'ollama_firewall_allowed_sources': []}, ['both empty', 'ollama_firewall_enabled: false']),
    # bad sources: names, host bits, everything, empty
    ({'ollama_firewall_allowed_sources': ['gw01.example.internal']}, ["'gw01.example.internal'", 'host names']),
    ({'ollama_firewall_allowed_sources': ['10.0.0.10/24']}, ['host bits', '10.0.0.10 or 10.0.0.0/24']),
    ({'ollama_firewall_extra_sources': ['0.0.0.0/0']}, ['ollama_firewall_extra_sources', 'every address']),
    ({'ollama_firewall_allowed_sources': ['::/0']}, ['every address']),
    ({'ollama_firewall_allowed_sources': ['10.0.0.10', '']}, ['empty entry']),
    ({'ollama_firewall_allowed_sources': [None], 'gateways': {'gw1': '10.0.0.10', 'gw2': None, 'gw3': ''},
      'gateway_address_var': 'lab_backend_address'},
     ["gateways without 'lab_backend_address': gw2, gw3"]),
    ({'ollama_firewall_allowed_sources': '10.0.0.10'}, ['ollama_firewall_allowed_sources must be a list']),
    # no ports to guard
    ({'ollama_endpoints': False}, ['published no ollama_endpoints', 'ollama_firewall_ports']),
    ({'ollama_endpoints': None}, ['published no ollama_endpoints']),
    ({'ollama_endpoints': []}, ['no instance', 'no port to guard']),
    ({'ollama_endpoints': [{'host': 'gpu01'}]}, ['without a valid port']),
    ({'ollama_firewall_ports': [0, 11434]}, ['ollama_firewall_ports: 0', '1-65535']),
    ({'ollama_firewall_ports': ['http']}, ["'http'", '1-65535']),
    ({'ollama_firewall_ports': [True]}, ['True', '1-65535']),
])
def test_problems(kw, words):
    problems = policy(**kw)['problems']
    assert problems
    text = ' '.join(problems)
    for word in words:
        assert word in text, text


def test_bad_sources_are_left_out_of_the_policy():
    result = policy(ollama_firewall_allowed_sources=['10.0.0.10', 'gw02', '0.0.0.0/0'])
    assert result['ipv4'] == ['10.0.0.10']
    assert len(result['problems']) == 2


@pytest.mark.parametrize('settings', [None, ['10.0.0.10'], 'x'])
def test_not_a_mapping(settings):
    with pytest.raises(AnsibleFilterError):
        ollama_firewall_policy(settings)


def test_bad_connection_port():
    with pytest.raises(AnsibleFilterError):
        policy(connection_port='ssh')
