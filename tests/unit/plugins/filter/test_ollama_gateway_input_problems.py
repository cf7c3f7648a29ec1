# -*- coding: utf-8 -*-
# Copyright (c) 2026, gpufleet maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import pytest

from ansible.errors import AnsibleFilterError

from ansible_collections.gpufleet.ollama.plugins.filter.ollama_gateway_input_problems import (
    FilterModule, ollama_gateway_input_problems)

# roles/ollama_gateway/defaults/main.yml, with one key and the lab's SANs.
GOOD = {
    'ollama_gateway_status_listen': '127.0.0.1:8080',
    'ollama_gateway_log_rotate': 14,
    'ollama_gateway_log_max_size': '100M',
    'ollama_gateway_backend_group': 'gpu_nodes',
    'ollama_gateway_backends': [],
    'ollama_gateway_drained_hosts': [],
    'ollama_gateway_drain_state': 'drained',
    'ollama_gateway_drain_timeout': 900,
    'ollama_gateway_drain_interval': 1,
    'ollama_gateway_drain_force': False,
    'ollama_gateway_listen_port': 80,
    'ollama_gateway_tls_enabled': True,
    'ollama_gateway_tls_port': 443,
    'ollama_gateway_http_mode': 'redirect',
    'ollama_gateway_tls_cert_src': '',
    'ollama_gateway_tls_key_src': '',
    'ollama_gateway_pki_dir': '/srv/site/pki',
    'ollama_gateway_tls_validity_days': 825,
    'ollama_gateway_tls_subject_alt_names': ['IP:172.30.20.10', 'IP:172.30.10.10', 'IP:172.30.20.100',
                                             'DNS:llm.example.internal'],
    'ollama_gateway_server_name': '_',
    'ollama_gateway_auth': True,
    'ollama_gateway_api_keys': [{'name': 'lab-user', 'key': 'lab-user-key-0123456789abcdef'}],
    'ollama_gateway_default_rate': '10r/s',
    'ollama_gateway_default_burst': 20,
    'ollama_gateway_max_fails': 1,
    'ollama_gateway_fail_timeout': '10s',
    'ollama_gateway_queue_per_instance': 0,
    'ollama_gateway_keepalive': 32,
    'ollama_gateway_connect_timeout': '1s',
    'ollama_gateway_read_timeout': '900s',
    'ollama_gateway_send_timeout': '900s',
    'ollama_gateway_next_upstream_tries': 0,
    'ollama_gateway_inference_max_body_size': '16m',
    'ollama_gateway_client_max_body_size': '0',
    'ollama_gateway_worker_connections': 4096,
    'ollama_gateway_upstream_header': False,
    'ollama_gateway_extra_http_config': '',
}


def problems_of(**changes):
    return ollama_gateway_input_problems(dict(GOOD, **changes))


def test_registered():
    assert FilterModule().filters()['ollama_gateway_input_problems'] is ollama_gateway_input_problems


def test_good_input_has_no_problem():
    assert problems_of() == []


def test_missing_keys_are_not_checked():
    assert ollama_gateway_input_problems({}) == []


def test_not_a_mapping_is_an_error():
    with pytest.raises(AnsibleFilterError, match='mapping of variables'):
        ollama_gateway_input_problems([80, 443])


@pytest.mark.parametrize('changes', [
    {'ollama_gateway_listen_port': 8080, 'ollama_gateway_tls_port': 8443},
    {'ollama_gateway_listen_port': '80'},
    {'ollama_gateway_tls_enabled': False, 'ollama_gateway_tls_port': 80},          # TLS off: its port is unused
    {'ollama_gateway_tls_enabled': 'no', 'ollama_gateway_tls_port': 80},
    {'ollama_gateway_http_mode': 'off'},
    {'ollama_gateway_tls_cert_src': '/srv/pki/gw.crt', 'ollama_gateway_tls_key_src': '/srv/pki/gw.key'},
    {'ollama_gateway_tls_subject_alt_names': []},
    {'ollama_gateway_tls_subject_alt_names': ['DNS:*.llm.example.internal', 'DNS:b\u00fccher.example', 'IP:fd00::100',
                                              'IP:10.0.0.0/24', 'email:ops@example.internal', 'URI:https://llm.internal/',
                                              'RID:1.2.3.4', 'DNS:llm.example.internal.']},
    {'ollama_gateway_server_name': 'llm.example.internal llm'},
    {'ollama_gateway_server_name': '*.example.internal'},
    {'ollama_gateway_auth': False, 'ollama_gateway_api_keys': []},
    {'ollama_gateway_auth': 'false', 'ollama_gateway_api_keys': []},
    {'ollama_gateway_default_rate': ''},
    {'ollama_gateway_default_rate': '600r/m'},
    {'ollama_gateway_default_rate': ' 5r/s '},
    {'ollama_gateway_default_burst': 0},
    {'ollama_gateway_max_fails': 0, 'ollama_gateway_fail_timeout': '0'},
    {'ollama_gateway_fail_timeout': '1m'},
    {'ollama_gateway_fail_timeout': '30'},
    {'ollama_gateway_fail_timeout': '1y'},
    {'ollama_gateway_keepalive': 1},
    {'ollama_gateway_connect_timeout': '500ms'},
    {'ollama_gateway_connect_timeout': '1s500ms'},
    {'ollama_gateway_read_timeout': '1h', 'ollama_gateway_send_timeout': '15m'},
    {'ollama_gateway_read_timeout': '1m30s'},
    {'ollama_gateway_read_timeout': '2w'},
    {'ollama_gateway_read_timeout': 900},
    {'ollama_gateway_next_upstream_tries': 3},
    {'ollama_gateway_inference_max_body_size': '512k'},
    {'ollama_gateway_inference_max_body_size': '1M'},
    {'ollama_gateway_inference_max_body_size': 1048576},
    {'ollama_gateway_client_max_body_size': '100g'},
    {'ollama_gateway_client_max_body_size': 0},
    {'ollama_gateway_worker_connections': 16},
    {'ollama_gateway_worker_connections': 523776},
    {'ollama_gateway_drained_hosts': ['gpu01', 'gpu02:11435', 'gpu-03.example.internal', 'mol-gpu-node-1']},
    {'ollama_gateway_drain_state': 'active'},
    {'ollama_gateway_drain_interval': 0.5},
    {'ollama_gateway_drain_interval': '2'},
    {'ollama_gateway_extra_http_config': 'map $http_x $y {\n    default 1;  # a comment with { and "\n}\n'},
    {'ollama_gateway_extra_http_config': 'log_format j escape=json \'{"a":"$remote_addr"}\';\n'},
    {'ollama_gateway_extra_http_config': 'add_header X-A "${host}x";'},
    {'ollama_gateway_extra_http_config': '# only a comment\n'},
    {'ollama_gateway_extra_http_config': 'resolver 10.0.0.2 valid=30s;\r\n'},
    {'ollama_load_timeout': '5m'},
    {'ollama_load_timeout': ['5m', '10m', -1, '0']},
    {'ollama_load_timeout': 'garbage'},                  # the node's own check reports it
    {'ollama_load_timeout': '-1'},                       # no timeout at all: nothing to stay above
    {'ollama_gateway_vip_address': '', 'ollama_gateway_vip_check_url': 'http://127.0.0.1:1/healthz'},
    {'ollama_gateway_vip_address': '172.30.20.100', 'ollama_gateway_vip_check_url': 'http://127.0.0.1/healthz'},
    {'ollama_gateway_vip_address': '172.30.20.100', 'ollama_gateway_vip_check_url': 'https://127.0.0.1/healthz'},
    {'ollama_gateway_vip_address': '172.30.20.100', 'ollama_gateway_vip_check_url': 'http://localhost:80/healthz'},
    {'ollama_gateway_vip_address': '172.30.20.100', 'ollama_gateway_listen_port': 8080,
     'ollama_gateway_vip_check_url': 'http://127.0.0.1:8080/healthz'},
])
def test_valid_settings_pass(changes):
    assert problems_of(**changes) == []


@pytest.mark.parametrize('changes, words', [
    ({'ollama_gateway_status_listen': '8080'}, ['ollama_gateway_status_listen', '127.0.0.1:8080', "(got '8080')"]),
    ({'ollama_gateway_status_listen': '127.0.0.1:99999'}, ['ollama_gateway_status_listen', "(got '127.0.0.1:99999')"]),
    ({'ollama_gateway_log_rotate': 0}, ['ollama_gateway_log_rotate', '(got 0)']),
    ({'ollama_gateway_log_max_size': '100 MB'}, ['ollama_gateway_log_max_size', "'100 MB'"]),
    ({'ollama_gateway_log_max_size': '100M\n\tpostrotate'}, ['ollama_gateway_log_max_size', 'k, M or G']),
    ({'ollama_gateway_listen_port': 443}, ['ollama_gateway_tls_port', 'ollama_gateway_listen_port', '443 for both']),
    ({'ollama_gateway_listen_port': 0}, ['ollama_gateway_listen_port', '1-65535', '(got 0)']),
    ({'ollama_gateway_listen_port': 65536}, ['ollama_gateway_listen_port', '(got 65536)']),
    ({'ollama_gateway_tls_port': 'https'}, ['ollama_gateway_tls_port', "'https'"]),
    ({'ollama_gateway_tls_enabled': 'maybe'}, ['ollama_gateway_tls_enabled', 'true or false']),
    ({'ollama_gateway_http_mode': False}, ['ollama_gateway_http_mode', "'off' in quotes", 'False']),
    ({'ollama_gateway_http_mode': 'https'}, ['ollama_gateway_http_mode', 'redirect or off']),
    ({'ollama_gateway_tls_cert_src': '/srv/pki/gw.crt'}, ['ollama_gateway_tls_cert_src', 'ollama_gateway_tls_key_src',
                                                          'together', "'/srv/pki/gw.crt'", 'no key']),
    ({'ollama_gateway_tls_key_src': '/srv/pki/gw.key'}, ['ollama_gateway_tls_cert_src', 'no certificate and a key']),
    ({'ollama_gateway_pki_dir': ''}, ['ollama_gateway_pki_dir']),
    ({'ollama_gateway_tls_subject_alt_names': ['llm.example.internal']},
     ['ollama_gateway_tls_subject_alt_names[0]', 'DNS: or IP: forgotten', "'llm.example.internal'"]),
    ({'ollama_gateway_tls_subject_alt_names': ['dns:llm.example.internal']},
     ['ollama_gateway_tls_subject_alt_names[0]', 'case-sensitive']),
    ({'ollama_gateway_tls_subject_alt_names': ['IP:']},
     ['ollama_gateway_tls_subject_alt_names[0]', "'IP:'", 'variable it comes from empty']),
    ({'ollama_gateway_tls_subject_alt_names': ['IP:172.30.20.300']}, ['[0]', 'IP address after IP:']),
    ({'ollama_gateway_tls_subject_alt_names': ['IP:llm.example.internal']}, ['IP address after IP:']),
    ({'ollama_gateway_tls_subject_alt_names': ['DNS:']}, ['host name after DNS:', 'empty name']),
    ({'ollama_gateway_tls_subject_alt_names': ['DNS:llm example']}, ['host name after DNS:']),
    ({'ollama_gateway_tls_subject_alt_names': ['DNS:-llm.example']}, ['host name after DNS:']),
    ({'ollama_gateway_tls_subject_alt_names': ['DNS:' + 'a' * 64 + '.example']}, ['host name after DNS:']),
    ({'ollama_gateway_tls_subject_alt_names': ['IP:10.0.0.1', 5]}, ['ollama_gateway_tls_subject_alt_names[1]']),
    ({'ollama_gateway_tls_subject_alt_names': ['email:']}, ['[0]', 'after email:']),
    ({'ollama_gateway_tls_subject_alt_names': 'DNS:llm.example.internal'},
     ['ollama_gateway_tls_subject_alt_names must be a list']),
    ({'ollama_gateway_server_name': ''}, ['ollama_gateway_server_name']),
    ({'ollama_gateway_server_name': 'llm;'}, ['ollama_gateway_server_name', "'llm;'"]),
    ({'ollama_gateway_server_name': 'llm.example.internal\n'}, ['ollama_gateway_server_name']),
    ({'ollama_gateway_server_name': '"llm"'}, ['ollama_gateway_server_name']),
    ({'ollama_gateway_api_keys': []}, ['ollama_gateway_api_keys is empty', 'ollama_gateway_auth', '401']),
    ({'ollama_gateway_api_keys': None}, ['ollama_gateway_api_keys is empty']),
    ({'ollama_gateway_api_keys': {'name': 'x', 'key': 'y' * 20}}, ['ollama_gateway_api_keys must be a list', 'dict']),
    ({'ollama_gateway_api_keys': 'lab-user'}, ['ollama_gateway_api_keys must be a list', 'str']),
    ({'ollama_gateway_default_rate': '10/s'}, ['ollama_gateway_default_rate', "'10/s'", '10r/s or 600r/m']),
    ({'ollama_gateway_default_rate': '10r/h'}, ['ollama_gateway_default_rate']),
    ({'ollama_gateway_default_rate': '0r/s'}, ['ollama_gateway_default_rate', 'above 0']),
    ({'ollama_gateway_default_rate': '10 r/s'}, ['ollama_gateway_default_rate']),
    ({'ollama_gateway_default_rate': '１０r/s'}, ['ollama_gateway_default_rate']),
    ({'ollama_gateway_default_rate': 10}, ['ollama_gateway_default_rate', '(got 10)']),
    ({'ollama_gateway_default_burst': -1}, ['ollama_gateway_default_burst', '0 or more']),
    ({'ollama_gateway_max_fails': -1}, ['ollama_gateway_max_fails']),
    ({'ollama_gateway_queue_per_instance': -5}, ['ollama_gateway_queue_per_instance']),
    ({'ollama_gateway_keepalive': 0}, ['ollama_gateway_keepalive', '1 or more', 'keepalive 0']),
    ({'ollama_gateway_next_upstream_tries': -1}, ['ollama_gateway_next_upstream_tries']),
    ({'ollama_gateway_tls_validity_days': 0}, ['ollama_gateway_tls_validity_days']),
    ({'ollama_gateway_drain_timeout': 0}, ['ollama_gateway_drain_timeout']),
    ({'ollama_gateway_worker_connections': 8}, ['ollama_gateway_worker_connections', '16-523776']),
    ({'ollama_gateway_worker_connections': 1000000}, ['ollama_gateway_worker_connections', 'fs.nr_open']),
    ({'ollama_gateway_worker_connections': 'many'}, ['ollama_gateway_worker_connections', "'many'"]),
    ({'ollama_gateway_connect_timeout': '0'}, ['ollama_gateway_connect_timeout', 'above 0']),
    ({'ollama_gateway_connect_timeout': '0s'}, ['ollama_gateway_connect_timeout']),
    ({'ollama_gateway_connect_timeout': '1 s'}, ['ollama_gateway_connect_timeout', "'1 s'", 'no spaces']),
    ({'ollama_gateway_read_timeout': '15 min'}, ['ollama_gateway_read_timeout', "'15 min'"]),
    ({'ollama_gateway_read_timeout': '15min'}, ['ollama_gateway_read_timeout']),
    ({'ollama_gateway_read_timeout': '1y'}, ['ollama_gateway_read_timeout']),
    ({'ollama_gateway_read_timeout': '1M'}, ['ollama_gateway_read_timeout']),
    ({'ollama_gateway_read_timeout': '30s15m'}, ['ollama_gateway_read_timeout', 'in that order']),
    ({'ollama_gateway_read_timeout': '1.5m'}, ['ollama_gateway_read_timeout']),
    ({'ollama_gateway_read_timeout': '-1'}, ['ollama_gateway_read_timeout']),
    ({'ollama_gateway_read_timeout': '25d'}, ['ollama_gateway_read_timeout']),
    ({'ollama_gateway_send_timeout': ''}, ['ollama_gateway_send_timeout']),
    ({'ollama_gateway_send_timeout': None}, ['ollama_gateway_send_timeout']),
    ({'ollama_gateway_fail_timeout': '500ms'}, ['ollama_gateway_fail_timeout', 'no ms']),
    ({'ollama_gateway_fail_timeout': '0'}, ['ollama_gateway_fail_timeout', 'above 0']),
    ({'ollama_gateway_fail_timeout': '10 s'}, ['ollama_gateway_fail_timeout']),
    ({'ollama_gateway_inference_max_body_size': '0'}, ['ollama_gateway_inference_max_body_size', 'in memory']),
    ({'ollama_gateway_inference_max_body_size': '1g'}, ['ollama_gateway_inference_max_body_size', 'no g']),
    ({'ollama_gateway_inference_max_body_size': '16MB'}, ['ollama_gateway_inference_max_body_size', "'16MB'"]),
    ({'ollama_gateway_inference_max_body_size': '16 m'}, ['ollama_gateway_inference_max_body_size']),
    ({'ollama_gateway_client_max_body_size': 'unlimited'}, ['ollama_gateway_client_max_body_size', "'unlimited'"]),
    ({'ollama_gateway_client_max_body_size': '1t'}, ['ollama_gateway_client_max_body_size']),
    ({'ollama_gateway_client_max_body_size': -1}, ['ollama_gateway_client_max_body_size']),
    ({'ollama_gateway_drained_hosts': ['gpu01:abc']}, ['ollama_gateway_drained_hosts', "'gpu01:abc'"]),
    ({'ollama_gateway_drained_hosts': ['gpu01:70000']}, ['ollama_gateway_drained_hosts']),
    ({'ollama_gateway_drained_hosts': ['gpu 01']}, ['ollama_gateway_drained_hosts']),
    ({'ollama_gateway_drained_hosts': ['']}, ['ollama_gateway_drained_hosts']),
    ({'ollama_gateway_drained_hosts': [11434]}, ['ollama_gateway_drained_hosts']),
    ({'ollama_gateway_drained_hosts': 'gpu01'}, ['ollama_gateway_drained_hosts must be a list']),
    ({'ollama_gateway_drain_state': 'down'}, ['ollama_gateway_drain_state', 'drained or active']),
    ({'ollama_gateway_drain_interval': 0}, ['ollama_gateway_drain_interval', 'above 0']),
    ({'ollama_gateway_drain_interval': 'often'}, ['ollama_gateway_drain_interval']),
    ({'ollama_gateway_drain_interval': True}, ['ollama_gateway_drain_interval']),
    ({'ollama_gateway_backend_group': ''}, ['ollama_gateway_backend_group']),
    ({'ollama_gateway_extra_http_config': 'client_body_timeout 30s'}, ['ollama_gateway_extra_http_config',
                                                                       'does not end with ; or }']),
    ({'ollama_gateway_extra_http_config': 'map $a $b {\n default 1;\n'}, ['leaves 1 { open']),
    ({'ollama_gateway_extra_http_config': 'default 1;\n}\n'}, ['closes a } that was never opened']),
    ({'ollama_gateway_extra_http_config': 'add_header X-A "open;\n'}, ['leaves a quote open']),
    ({'ollama_gateway_extra_http_config': 'add_header X-A ${host;\n'}, ['${ without its }']),
    ({'ollama_gateway_extra_http_config': ['gzip off;']}, ['ollama_gateway_extra_http_config', 'is not text']),
    ({'ollama_load_timeout': '15m'}, ['ollama_gateway_read_timeout (900s)', "ollama_load_timeout (15m)",
                                      'more than 900 s', '2700s']),
    ({'ollama_load_timeout': ['5m', '900s']}, ['ollama_gateway_read_timeout', '5m, 900s']),
    ({'ollama_gateway_read_timeout': '60s', 'ollama_load_timeout': 300}, ['ollama_gateway_read_timeout (60s)']),
    ({'ollama_gateway_vip_address': '172.30.20.100', 'ollama_gateway_listen_port': 8080,
      'ollama_gateway_vip_check_url': 'http://127.0.0.1/healthz'},
     ['ollama_gateway_vip_check_url', 'port 80', 'ollama_gateway_listen_port 8080', 'http://127.0.0.1:8080/healthz']),
    ({'ollama_gateway_vip_address': '172.30.20.100', 'ollama_gateway_tls_port': 8443,
      'ollama_gateway_vip_check_url': 'https://127.0.0.1/healthz'},
     ['ollama_gateway_vip_check_url', 'port 443', 'ollama_gateway_tls_port 8443']),
    ({'ollama_gateway_vip_address': '172.30.20.100', 'ollama_gateway_tls_enabled': False,
      'ollama_gateway_vip_check_url': 'https://127.0.0.1/healthz'},
     ['ollama_gateway_vip_check_url', 'ollama_gateway_tls_enabled is false']),
    ({'ollama_gateway_vip_address': '172.30.20.100', 'ollama_gateway_http_mode': 'off',
      'ollama_gateway_vip_check_url': 'http://172.30.20.10/healthz'},
     ['ollama_gateway_vip_check_url', '127.0.0.1 only']),
])
def test_each_mistake_is_named(changes, words):
    problems = problems_of(**changes)
    assert len(problems) == 1, problems
    for word in words:
        assert word in problems[0], (word, problems[0])


def test_several_mistakes_are_all_reported():
    problems = problems_of(ollama_gateway_listen_port=443, ollama_gateway_read_timeout='15 min',
                           ollama_gateway_default_rate='fast', ollama_gateway_tls_cert_src='/x.crt')
    assert len(problems) == 4, problems


def test_every_sentence_ends_with_a_full_stop():
    problems = problems_of(ollama_gateway_listen_port=443, ollama_gateway_keepalive=0,
                           ollama_gateway_tls_subject_alt_names=['IP:'], ollama_gateway_extra_http_config='x')
    assert problems and all(p.endswith('.') and 'Nothing was changed' not in p for p in problems)


@pytest.mark.parametrize('vip, sans, words', [
    ('172.30.20.300', ['IP:172.30.20.10', 'IP:172.30.20.300'], ['[1]', "'IP:172.30.20.300'", 'from ollama_gateway_vip_address']),
    ('', ['IP:172.30.20.10', 'IP:'], ['[1]', 'from ollama_gateway_vip_address, which is empty']),
    (None, ['IP:'], ['variable it comes from empty']),
    ('172.30.20.100', ['IP:172.30.20.300'], ['IP address after IP:']),
])
def test_certificate_names_from_the_virtual_ip(vip, sans, words):
    changes = {'ollama_gateway_tls_subject_alt_names': sans}
    if vip is not None:
        changes['ollama_gateway_vip_address'] = vip
    problems = problems_of(**changes)
    assert len(problems) == 1, problems
    for word in words:
        assert word in problems[0], (word, problems[0])
    if vip == '172.30.20.100':
        assert 'ollama_gateway_vip_address' not in problems[0]
