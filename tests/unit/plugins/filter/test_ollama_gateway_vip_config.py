# -*- coding: utf-8 -*-
# Copyright (c) 2026, gpufleet maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import pytest

from ansible.errors import AnsibleFilterError

from ansible_collections.gpufleet.ollama.plugins.filter.ollama_gateway_vip_config import ollama_gateway_vip_config


def link(name, *addresses):
    """One interface of `ip -j -4 addr show`: addresses as 'a.b.c.d/len'."""
    return {'ifindex': 1, 'ifname': name, 'flags': ['UP'], 'mtu': 1500,
            'addr_info': [{'family': 'inet', 'local': a.split('/')[0], 'prefixlen': int(a.split('/')[1]),
                           'scope': 'global', 'label': name} for a in addresses]}


# The molecule layout: backend on eth0, front on eth1 (not eth0: the interface is found, not guessed).
GW1_IP = [link('lo', '127.0.0.1/8'), link('eth0', '172.30.10.10/24'), link('eth1', '172.30.20.10/24')]
GW2_IP = [link('lo', '127.0.0.1/8'), link('eth0', '172.30.10.13/24'), link('eth1', '172.30.20.11/24')]
TWO = {'gw1': {'front_address': '172.30.20.10', 'priority': 0},
       'gw2': {'front_address': '172.30.20.11', 'priority': 0}}
VIP = {'ollama_gateway_vip_address': '172.30.20.100'}


def test_first_gateway_is_the_master_candidate():
    r = ollama_gateway_vip_config(TWO, 'gw1', GW1_IP, VIP)
    assert r == {'enabled': True, 'notes': [], 'problems': [], 'address': '172.30.20.100', 'prefix': 24,
                 'interface': 'eth1', 'source': '172.30.20.10', 'peers': ['172.30.20.11'], 'priority': 150,
                 'vip_check_url': 'http://172.30.20.100/healthz'}


def test_second_gateway_backs_up():
    r = ollama_gateway_vip_config(TWO, 'gw2', GW2_IP, VIP)
    assert (r['interface'], r['source'], r['peers'], r['priority']) == ('eth1', '172.30.20.11', ['172.30.20.10'], 140)


def test_three_gateways_peers_in_group_order_and_explicit_priority():
    three = dict(TWO, gw3={'front_address': '172.30.20.12', 'priority': '200'})
    ip = [link('ens3', '172.30.20.12/24', '172.30.20.100/24')]  # holds the VIP right now: still fine
    r = ollama_gateway_vip_config(three, 'gw3', ip, VIP)
    assert r['problems'] == []
    assert (r['interface'], r['peers'], r['priority']) == ('ens3', ['172.30.20.10', '172.30.20.11'], 200)
    assert ollama_gateway_vip_config(three, 'gw2', GW2_IP, VIP)['priority'] == 140


@pytest.mark.parametrize('settings, prefix, url', [
    ({'ollama_gateway_vip_prefix': 16, 'ollama_gateway_vip_address': '172.30.99.1'}, 16, 'http://172.30.99.1/healthz'),
    ({'ollama_gateway_vip_check_url': 'https://localhost:8443/healthz?x=1'}, 24,
     'https://172.30.20.100:8443/healthz?x=1'),
])
def test_prefix_and_check_url(settings, prefix, url):
    r = ollama_gateway_vip_config(TWO, 'gw1', GW1_IP, dict(VIP, **settings))
    assert r['problems'] == []
    assert (r['prefix'], r['vip_check_url']) == (prefix, url)


def test_explicit_interface_holding_the_front_address():
    ip = [link('eth0', '172.30.20.10/24'), link('vlan20', '172.30.20.10/24')]
    r = ollama_gateway_vip_config(TWO, 'gw1', ip, dict(VIP, ollama_gateway_vip_interface='vlan20'))
    assert (r['problems'], r['interface']) == ([], 'vlan20')


@pytest.mark.parametrize('published, settings, words', [
    (TWO, {'ollama_gateway_vip_address': ''}, ['ollama_gateway_vip_address is empty', 'gw1']),
    ({'gw1': TWO['gw1']}, VIP, ["group 'ollama_gateways'", 'has 1 gateway', 'two or more']),
    ({}, dict(VIP, ollama_gateway_vip_group='edge'), ["group 'edge'", 'has 0 gateway']),
])
def test_not_enabled_says_why(published, settings, words):
    r = ollama_gateway_vip_config(published, 'gw1', GW1_IP, settings)
    assert (r['enabled'], r['problems'], r['interface']) == (False, [], '')
    for word in words:
        assert word in ' '.join(r['notes'])


@pytest.mark.parametrize('published, host, ip, settings, words', [
    (TWO, 'gw9', GW1_IP, VIP, ['gw9 is not in group', 'ollama_gateway_vip_group']),
    (TWO, 'gw1', GW1_IP, {'ollama_gateway_vip_address': '172.30.20.100/24'},
     ['ollama_gateway_vip_address', 'without a prefix', "'172.30.20.100/24'"]),
    (TWO, 'gw1', GW1_IP, {'ollama_gateway_vip_address': 'fd00::100'}, ['IPv4', "'fd00::100'"]),
    (TWO, 'gw1', GW1_IP, {'ollama_gateway_vip_address': 'vip.example'}, ['ollama_gateway_vip_address']),
    (TWO, 'gw1', GW1_IP, dict(VIP, ollama_gateway_vip_router_id=0), ['ollama_gateway_vip_router_id', '1 to 255', '0']),
    (TWO, 'gw1', GW1_IP, dict(VIP, ollama_gateway_vip_router_id=256), ['ollama_gateway_vip_router_id', '256']),
    (TWO, 'gw1', GW1_IP, dict(VIP, ollama_gateway_vip_advert_int='x'), ['ollama_gateway_vip_advert_int']),
    (TWO, 'gw1', GW1_IP, dict(VIP, ollama_gateway_vip_check_interval=0), ['ollama_gateway_vip_check_interval']),
    (TWO, 'gw1', GW1_IP, dict(VIP, ollama_gateway_vip_check_fall=0), ['ollama_gateway_vip_check_fall']),
    (TWO, 'gw1', GW1_IP, dict(VIP, ollama_gateway_vip_prefix=33), ['ollama_gateway_vip_prefix', '33']),
    (TWO, 'gw1', GW1_IP, dict(VIP, ollama_gateway_vip_check_url='127.0.0.1/healthz'), ['ollama_gateway_vip_check_url']),
    (TWO, 'gw1', GW1_IP, dict(VIP, ollama_gateway_vip_check_url='http://127.0.0.1:99999/'),
     ['ollama_gateway_vip_check_url']),
    (TWO, 'gw1', GW1_IP, dict(VIP, ollama_gateway_vip_check_url='http://127.0.0.1/"x'),
     ['ollama_gateway_vip_check_url']),
    (TWO, 'gw1', GW1_IP, dict(VIP, ollama_gateway_vip_check_url='http://127.0.0.1/a b'),
     ['ollama_gateway_vip_check_url']),
    (TWO, 'gw1', GW1_IP, dict(VIP, ollama_gateway_vip_auth_pass='123456789'),
     ['ollama_gateway_vip_auth_pass', '1 to 8', 'has 9 characters']),
    (TWO, 'gw1', GW1_IP, dict(VIP, ollama_gateway_vip_auth_pass='a b'), ['ollama_gateway_vip_auth_pass']),
    ({'gw1': TWO['gw1'], 'gw2': False}, 'gw1', GW1_IP, VIP, ['gw2 published no front address', '--limit']),
    ({'gw1': TWO['gw1'], 'gw2': {'front_address': 'gw2.example', 'priority': 0}}, 'gw1', GW1_IP, VIP,
     ['gw2: ollama_gateway_vip_front_address', "'gw2.example'"]),
    ({'gw1': TWO['gw1'], 'gw2': {'front_address': '172.30.20.10', 'priority': 0}}, 'gw1', GW1_IP, VIP,
     ['gw1 and gw2 share the front address 172.30.20.10']),
    ({'gw1': TWO['gw1'], 'gw2': {'front_address': '172.30.20.11', 'priority': 150}}, 'gw1', GW1_IP, VIP,
     ['gw1 and gw2 have the same VRRP priority 150']),
    ({'gw1': TWO['gw1'], 'gw2': {'front_address': '172.30.20.11', 'priority': 255}}, 'gw1', GW1_IP, VIP,
     ['gw2: ollama_gateway_vip_priority', '1 to 254', '255']),
    (dict(('gw%d' % i, {'front_address': '172.30.20.%d' % (10 + i), 'priority': 0}) for i in range(1, 17)),
     'gw1', [link('eth1', '172.30.20.11/24')], VIP,
     ['gw16: its place in the group (16)', 'ollama_gateway_vip_priority']),
    (TWO, 'gw1', [link('eth0', '172.30.10.10/24')], VIP,
     ['gw1: ollama_gateway_vip_front_address 172.30.20.10 is not an address of this host', 'eth0 172.30.10.10/24']),
    (TWO, 'gw1', GW1_IP, dict(VIP, ollama_gateway_vip_interface='eth0'),
     ['gw1: ollama_gateway_vip_interface eth0 does not hold the front address 172.30.20.10', 'eth1 does']),
    (TWO, 'gw1', GW1_IP, {'ollama_gateway_vip_address': '172.30.20.11'}, ["172.30.20.11 is gw2's own front address"]),
    (TWO, 'gw1', GW1_IP, {'ollama_gateway_vip_address': '172.30.21.100'},
     ['172.30.21.100 is outside the front network of gw1 (172.30.20.0/24', 'outside the front network of gw2']),
    ({'gw1': TWO['gw1'], 'gw2': {'front_address': '172.30.21.11', 'priority': 0}}, 'gw1', GW1_IP, VIP,
     ['outside the front network of gw2 (172.30.21.0/24, from ollama_gateway_vip_front_address 172.30.21.11 and '
      'prefix 24)']),
    (TWO, 'gw1', GW1_IP, {'ollama_gateway_vip_address': '172.30.20.255'}, ['network or broadcast address']),
    (TWO, 'gw1', GW1_IP, {'ollama_gateway_vip_address': '172.30.20.0'}, ['network or broadcast address']),
])
def test_problems(published, host, ip, settings, words):
    r = ollama_gateway_vip_config(published, host, ip, settings)
    assert r['enabled'] is True
    assert r['problems'], r
    assert r['interface'] == '' and r['peers'] == []  # nothing usable is returned with a problem
    text = ' '.join(r['problems'])
    for word in words:
        assert word in text


def test_the_password_is_never_quoted():
    r = ollama_gateway_vip_config(TWO, 'gw1', GW1_IP, dict(VIP, ollama_gateway_vip_auth_pass='s3cr3t-too-long'))
    assert r['problems'] and 's3cr3t' not in repr(r)
    ok = ollama_gateway_vip_config(TWO, 'gw1', GW1_IP, dict(VIP, ollama_gateway_vip_auth_pass='s3cr3t'))
    assert ok['problems'] == [] and 's3cr3t' not in repr(ok)


@pytest.mark.parametrize('published, ip, settings', [
    ([], GW1_IP, VIP),
    (TWO, 'eth1', VIP),
    (TWO, GW1_IP, ['172.30.20.100']),
])
def test_bad_arguments(published, ip, settings):
    with pytest.raises(AnsibleFilterError):
        ollama_gateway_vip_config(published, 'gw1', ip, settings)
