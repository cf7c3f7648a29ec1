# -*- coding: utf-8 -*-
# Copyright (c) 2026, gpufleet maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import pytest

from ansible.errors import AnsibleFilterError

from ansible_collections.gpufleet.ollama.plugins.filter.ollama_prometheus_config import (
    ALERTS, duration_seconds, ollama_prometheus_config)


def config(**kw):
    settings = {'host': 'mon01', 'gpu_nodes': ['gpu01', 'gpu02'], 'gateways': ['gw01'], 'monitoring': ['mon01'],
                'addresses': {'gpu01': '10.0.0.11', 'gpu02': '10.0.0.12', 'gw01': '10.0.0.10', 'mon01': ''},
                'rule_files': ['/etc/prometheus/gpufleet-ollama.rules.yml']}
    settings.update(kw)
    return ollama_prometheus_config(settings)


def job(result, name):
    found = [j for j in result['config']['scrape_configs'] if j['job_name'] == name]
    return found[0] if found else None


def targets(result, name):
    return [(t, s.get('labels', {})) for s in job(result, name)['static_configs'] for t in s['targets']]


def test_default_layout():
    result = config()
    assert result['problems'] == []
    assert [j['job_name'] for j in result['config']['scrape_configs']] == ['prometheus', 'node', 'nginx']
    assert targets(result, 'prometheus') == [('127.0.0.1:9090', {'host': 'mon01', 'role': 'monitoring'})]
    assert targets(result, 'node') == [('10.0.0.11:9100', {'host': 'gpu01', 'role': 'gpu_node'}),
                                       ('10.0.0.12:9100', {'host': 'gpu02', 'role': 'gpu_node'}),
                                       ('10.0.0.10:9100', {'host': 'gw01', 'role': 'gateway'})]
    assert targets(result, 'nginx') == [('10.0.0.10:9113', {'host': 'gw01', 'role': 'gateway'})]
    assert result['config']['global'] == {'scrape_interval': '15s', 'scrape_timeout': '10s',
                                          'evaluation_interval': '15s'}
    assert result['config']['rule_files'] == ['/etc/prometheus/gpufleet-ollama.rules.yml']
    assert 'alerting' not in result['config']
    assert result['args'] == ['--web.listen-address=0.0.0.0:9090', '--storage.tsdb.retention.time=15d',
                              '--storage.tsdb.retention.size=10GB']
    assert (result['targets'], result['jobs']) == (5, {'prometheus': 1, 'node': 3, 'nginx': 1})
    assert result['scrape_address'] == '127.0.0.1:9090'
    assert result['alerts'] == list(ALERTS)
    assert [g['name'] for g in result['rules']['groups']] == ['gpufleet-ollama']


@pytest.mark.parametrize('addresses, var, expected', [
    # IPv6 in brackets, compressed
    ({'gpu01': '2001:DB8:0::11'}, 'ansible_host', '[2001:db8::11]:9100'),
    # already bracketed
    ({'gpu01': '[fd00::11]'}, 'ansible_host', '[fd00::11]:9100'),
    # DNS names as they are
    ({'gpu01': 'gpu01.example.internal'}, 'ansible_host', 'gpu01.example.internal:9100'),
    # no ansible_host: the inventory name, as Ansible connects
    ({'gpu01': ''}, 'ansible_host', 'gpu01:9100'),
    ({'gpu01': None}, 'ansible_host', 'gpu01:9100'),
    ({'gpu01': ' 10.0.0.11 '}, 'lab_backend_address', '10.0.0.11:9100'),
])
def test_addresses(addresses, var, expected):
    result = config(gpu_nodes=['gpu01'], gateways=[], addresses=addresses, ollama_monitoring_address_var=var)
    assert result['problems'] == []
    assert targets(result, 'node') == [(expected, {'host': 'gpu01', 'role': 'gpu_node'})]
    assert job(result, 'nginx') is None          # no gateway, no empty job


def test_host_in_both_groups_is_one_target():
    result = config(gpu_nodes=['box1'], gateways=['box1'], addresses={'box1': '10.0.0.5'})
    assert result['problems'] == []
    assert targets(result, 'node') == [('10.0.0.5:9100', {'host': 'box1', 'role': 'gpu_node,gateway'})]
    assert targets(result, 'nginx') == [('10.0.0.5:9113', {'host': 'box1', 'role': 'gateway'})]


@pytest.mark.parametrize('listen, scrape', [
    ('0.0.0.0:9090', '127.0.0.1:9090'),
    (':9091', '127.0.0.1:9091'),
    ('[::]:9090', '[::1]:9090'),
    ('127.0.0.1:9090', '127.0.0.1:9090'),
    ('10.0.0.30:9090', '10.0.0.30:9090'),
    ('[fd00::30]:9090', '[fd00::30]:9090'),
])
def test_self_scrape_address(listen, scrape):
    result = config(ollama_monitoring_listen_address=listen)
    assert result['problems'] == []
    assert result['scrape_address'] == scrape
    assert targets(result, 'prometheus')[0][0] == scrape
    assert '--web.listen-address=%s' % listen in result['args']


def test_other_monitoring_hosts_are_scraped_and_need_an_address_only_for_the_others():
    addresses = {'gpu01': '10.0.0.11', 'gpu02': '10.0.0.12', 'gw01': '10.0.0.10', 'mon02': '10.0.0.31'}
    result = config(monitoring=['mon01', 'mon02'], addresses=addresses,
                    ollama_monitoring_address_var='lab_backend_address', ollama_monitoring_listen_address=':9095')
    assert result['problems'] == []
    assert targets(result, 'prometheus') == [('127.0.0.1:9095', {'host': 'mon01', 'role': 'monitoring'}),
                                             ('10.0.0.31:9095', {'host': 'mon02', 'role': 'monitoring'})]


def test_extras_alertmanagers_and_flags():
    result = config(
        ollama_monitoring_extra_targets=[
            {'job': 'node', 'targets': ['192.0.2.20:9100'], 'labels': {'host': 'nas01'}},
            {'job': 'blackbox', 'targets': ['[2001:DB8::40]:9115']},
        ],
        ollama_monitoring_extra_scrape_configs=[{'job_name': 'snmp', 'static_configs': [{'targets': ['sw1']}]}],
        ollama_monitoring_alertmanagers=['10.0.0.40:9093', '[fd00::41]:9093'],
        ollama_monitoring_extra_args=['--web.external-url=https://mon.example.internal/', '--web.enable-admin-api'],
        ollama_monitoring_retention_size='',
        ollama_monitoring_scrape_interval='30s', ollama_monitoring_scrape_timeout='30s')
    assert result['problems'] == []
    assert targets(result, 'node')[-1] == ('192.0.2.20:9100', {'host': 'nas01'})
    assert targets(result, 'blackbox') == [('[2001:db8::40]:9115', {})]
    names = [j['job_name'] for j in result['config']['scrape_configs']]
    assert names == ['prometheus', 'node', 'nginx', 'blackbox', 'snmp']
    assert result['config']['alerting'] == {'alertmanagers': [{'static_configs': [
        {'targets': ['10.0.0.40:9093', '[fd00::41]:9093']}]}]}
    assert result['args'] == ['--web.listen-address=0.0.0.0:9090', '--storage.tsdb.retention.time=15d',
                              '--web.external-url=https://mon.example.internal/', '--web.enable-admin-api']
    assert result['jobs'] == {'prometheus': 1, 'node': 4, 'nginx': 1, 'blackbox': 1}


def rule(result, name):
    return [r for r in result['rules']['groups'][0]['rules'] if r['alert'] == name][0]


def test_thresholds_and_durations_reach_the_rules():
    result = config(ollama_monitoring_model_gpu_ratio_min=0.9, ollama_monitoring_model_on_cpu_for='10m',
                    ollama_monitoring_gpu_memory_ratio_max='0.98', ollama_monitoring_gateway_5xx_ratio_max=0.1,
                    ollama_monitoring_gateway_5xx_window='10m', ollama_monitoring_certificate_expiry_days=30,
                    ollama_monitoring_probe_stale_seconds=600, ollama_monitoring_instance_down_for='1m30s',
                    ollama_monitoring_alert_labels={'team': 'ml'})
    assert result['problems'] == []
    cpu = rule(result, 'OllamaModelOnCPU')
    assert (cpu['expr'], cpu['for']) == ('1 - (gpufleet_ollama_model_gpu_ratio < 0.9)', '10m')
    assert cpu['labels'] == {'severity': 'warning', 'team': 'ml'}
    assert rule(result, 'GPUMemoryNearFull')['expr'].endswith('> 0.98')
    assert '[10m]' in rule(result, 'GatewayHigh5xxRate')['expr']
    assert rule(result, 'GatewayHigh5xxRate')['expr'].endswith('> 0.1')
    assert rule(result, 'GatewayCertificateExpiry')['expr'].endswith('< 30 * 86400')
    assert rule(result, 'MetricsProbeStale')['expr'] == 'time() - gpufleet_probe_timestamp_seconds > 600'
    assert rule(result, 'OllamaInstanceDown')['for'] == '1m30s'


def test_default_expressions():
    result = config()
    assert rule(result, 'OllamaInstanceDown')['expr'] == 'gpufleet_ollama_up == 0'
    assert rule(result, 'OllamaModelOnCPU')['expr'] == '1 - (gpufleet_ollama_model_gpu_ratio < 1)'
    assert rule(result, 'NodeExporterDown')['expr'] == 'up{job="node"} == 0'
    assert rule(result, 'NginxExporterDown')['expr'] == 'up{job="nginx"} == 0 or nginx_up == 0'
    assert rule(result, 'GatewayCertificateExpiry')['expr'] == (
        'gpufleet_gateway_certificate_expiry_timestamp_seconds - time() < 21 * 86400')
    for r in result['rules']['groups'][0]['rules']:
        assert set(r) == {'alert', 'expr', 'for', 'labels', 'annotations'}
        assert set(r['annotations']) == {'summary', 'description'}
        assert r['labels']['severity'] in ('critical', 'warning')


def test_disabled_alerts_and_extra_groups():
    extra = {'name': 'site', 'rules': [{'record': 'site:gpu_memory:ratio',
                                        'expr': 'gpufleet_gpu_memory_used_bytes / gpufleet_gpu_memory_total_bytes'}]}
    result = config(ollama_monitoring_disabled_alerts=['GPUMemoryNearFull', 'PrometheusDown'],
                    ollama_monitoring_extra_rule_groups=[extra])
    assert result['problems'] == []
    assert 'GPUMemoryNearFull' not in result['alerts'] and 'PrometheusDown' not in result['alerts']
    assert len(result['alerts']) == len(ALERTS) - 2
    assert result['rules']['groups'][1] == extra


@pytest.mark.parametrize('kw, words', [
    # addresses
    ({'addresses': {'gpu01': '10.0.0.11', 'gpu02': '', 'gw01': '10.0.0.10'},
      'ollama_monitoring_address_var': 'lab_backend_address'},
     ["host gpu02 has no 'lab_backend_address'", 'ollama_monitoring_address_var']),
    ({'addresses': {'gpu01': '10.0.0.11:22', 'gpu02': '10.0.0.12', 'gw01': '10.0.0.10'}},
     ["host gpu01", "'10.0.0.11:22' is not an IP address or a DNS name", 'no port']),
    ({'addresses': {'gpu01': 'gpu 01', 'gpu02': '10.0.0.12', 'gw01': '10.0.0.10'}}, ["'gpu 01'"]),
    ({'addresses': {'gpu01': '10.0.0.11', 'gpu02': '10.0.0.11', 'gw01': '10.0.0.10'}},
     ['hosts gpu01, gpu02 have the same node target 10.0.0.11:9100']),
    ({'gpu_nodes': [], 'gateways': []}, ["'gpu_nodes'", "'ollama_gateways'", 'nothing to monitor']),
    # ports
    ({'ollama_monitoring_node_exporter_port': 0}, ['ollama_monitoring_node_exporter_port', '1-65535', '0']),
    ({'ollama_monitoring_nginx_exporter_port': 'http'}, ['ollama_monitoring_nginx_exporter_port', "'http'"]),
    ({'ollama_monitoring_node_exporter_port': True}, ['ollama_monitoring_node_exporter_port']),
    ({'ollama_monitoring_listen_address': '9090'}, ['ollama_monitoring_listen_address', "'9090'", '0.0.0.0:9090']),
    ({'ollama_monitoring_listen_address': '0.0.0.0:99999'}, ['ollama_monitoring_listen_address']),
    ({'ollama_monitoring_listen_address': '::1:9090'}, ['ollama_monitoring_listen_address', '[::]:9090']),
    # durations and sizes
    ({'ollama_monitoring_scrape_interval': '15 s'}, ['ollama_monitoring_scrape_interval', "'15 s'", '1h30m']),
    ({'ollama_monitoring_scrape_interval': '0s'}, ['ollama_monitoring_scrape_interval', 'above 0']),
    ({'ollama_monitoring_scrape_timeout': '20s'}, ['ollama_monitoring_scrape_timeout (20s)', 'refuses']),
    ({'ollama_monitoring_model_on_cpu_for': '5min'}, ['ollama_monitoring_model_on_cpu_for', "'5min'"]),
    ({'ollama_monitoring_gateway_5xx_window': '0'}, ['ollama_monitoring_gateway_5xx_window']),
    ({'ollama_monitoring_retention_time': '2 weeks'}, ['ollama_monitoring_retention_time']),
    ({'ollama_monitoring_retention_size': '10G'}, ['ollama_monitoring_retention_size', "'10G'", '10GB']),
    ({'ollama_monitoring_retention_size': '1.5GB'}, ['ollama_monitoring_retention_size']),
    # thresholds
    ({'ollama_monitoring_model_gpu_ratio_min': 0}, ['ollama_monitoring_model_gpu_ratio_min', 'above 0', 'at most 1']),
    ({'ollama_monitoring_model_gpu_ratio_min': 1.5}, ['ollama_monitoring_model_gpu_ratio_min']),
    ({'ollama_monitoring_gpu_memory_ratio_max': '95%'}, ['ollama_monitoring_gpu_memory_ratio_max', "'95%'"]),
    ({'ollama_monitoring_gateway_5xx_ratio_max': 5}, ['ollama_monitoring_gateway_5xx_ratio_max']),
    ({'ollama_monitoring_certificate_expiry_days': -1}, ['ollama_monitoring_certificate_expiry_days', 'above 0']),
    ({'ollama_monitoring_probe_stale_seconds': 'soon'}, ['ollama_monitoring_probe_stale_seconds']),
    # flags
    ({'ollama_monitoring_extra_args': ['--web.page-title=GPU fleet']}, ["'--web.page-title=GPU fleet'", 'spaces']),
    ({'ollama_monitoring_extra_args': ['web.enable-admin-api']}, ["'web.enable-admin-api'"]),
    ({'ollama_monitoring_extra_args': ['--storage.tsdb.retention.time=30d']},
     ['is set by the role', 'ollama_monitoring_retention_time']),
    ({'ollama_monitoring_extra_args': ['--config.file=/tmp/p.yml']}, ['is set by the role']),
    ({'ollama_monitoring_extra_args': ['--web.enable-admin-api', '--web.enable-admin-api']}, ['given twice']),
    ({'ollama_monitoring_extra_args': '--web.enable-admin-api'}, ['ollama_monitoring_extra_args must be a list']),
    # extras
    ({'ollama_monitoring_extra_targets': [{'job': 'node', 'targets': ['nas01']}]}, ["'nas01' is not a target"]),
    ({'ollama_monitoring_extra_targets': [{'job': 'node', 'targets': []}]}, ['ollama_monitoring_extra_targets[0]']),
    ({'ollama_monitoring_extra_targets': [{'targets': ['10.0.0.5:9100'], 'labels': {'0bad': 'x'}}]},
     ["'0bad' is not a label name"]),
    ({'ollama_monitoring_extra_targets': [{'targets': ['10.0.0.5:9100'], 'labels': {'__address__': 'x'}}]},
     ["'__address__' is not a label name"]),
    ({'ollama_monitoring_extra_scrape_configs': [{'static_configs': []}]}, ['extra_scrape_configs[0] must be a Prometheus scrape config with a job_name']),
    ({'ollama_monitoring_extra_scrape_configs': [{'job_name': 'node'}]}, ["job_name 'node' is taken"]),
    ({'ollama_monitoring_extra_scrape_configs': [{'job_name': 'snmp'}, {'job_name': 'snmp'}]},
     ["job_name 'snmp' is taken"]),
    ({'ollama_monitoring_alertmanagers': ['am01']}, ["'am01' is not an Alertmanager address"]),
    ({'ollama_monitoring_disabled_alerts': ['OllamaDown']}, ['OllamaDown is no built-in alert', 'OllamaInstanceDown']),
    ({'ollama_monitoring_alert_labels': {'team name': 'ml'}}, ["'team name' is not a label name"]),
    ({'ollama_monitoring_alert_labels': ['team']}, ['ollama_monitoring_alert_labels must be a mapping']),
    ({'ollama_monitoring_extra_rule_groups': [{'name': 'gpufleet-ollama', 'rules': [{'alert': 'A', 'expr': 'up'}]}]},
     ["'gpufleet-ollama' is taken"]),
    ({'ollama_monitoring_extra_rule_groups': [{'name': 'site', 'rules': []}]}, ['(site) needs rules']),
    ({'ollama_monitoring_extra_rule_groups': [{'name': 'site', 'rules': [{'alert': 'A', 'record': 'b', 'expr': 'up'}]}]},
     ['exactly one of alert or record']),
    ({'ollama_monitoring_extra_rule_groups': [{'rules': [{'alert': 'A', 'expr': 'up'}]}]}, ['needs a name']),
])
def test_problems(kw, words):
    result = config(**kw)
    assert result['problems']
    assert result['config'] == {} and result['rules'] == {}
    text = ' '.join(result['problems'])
    for word in words:
        assert word in text, text


def test_every_problem_is_reported_at_once():
    result = config(ollama_monitoring_node_exporter_port=0, ollama_monitoring_scrape_interval='soon',
                    ollama_monitoring_disabled_alerts=['Nope'])
    assert len(result['problems']) == 3


@pytest.mark.parametrize('text, seconds', [
    ('0', 0), ('15s', 15), ('1m30s', 90), ('15d', 15 * 86400), ('1y', 365 * 86400), ('2w', 14 * 86400),
    ('500ms', 0.5), ('1h0m', 3600),
    ('', None), ('1s1m', None), ('15 s', None), ('1.5h', None), ('-1m', None), (15, None), (True, None),
])
def test_duration_seconds(text, seconds):
    assert duration_seconds(text) == seconds


@pytest.mark.parametrize('settings', [None, ['gpu01'], 'x'])
def test_not_a_mapping(settings):
    with pytest.raises(AnsibleFilterError):
        ollama_prometheus_config(settings)


def test_addresses_not_a_mapping():
    with pytest.raises(AnsibleFilterError):
        config(addresses=['10.0.0.11'])
