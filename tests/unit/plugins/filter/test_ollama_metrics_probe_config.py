# -*- coding: utf-8 -*-
# Copyright (c) 2026, gpufleet maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import pytest

from ansible.errors import AnsibleFilterError

from ansible_collections.gpufleet.ollama.plugins.filter.ollama_input_problems import ollama_input_problems
from ansible_collections.gpufleet.ollama.plugins.filter.ollama_metrics_probe_config import ollama_metrics_probe_config

UUID0, UUID1 = 'GPU-5a1c2f04-7d3e-4b8a-9c61-0e2f3a4b5c6d', 'GPU-8e9f0a1b-2c3d-4e5f-a6b7-c8d9e0f1a2b3'


def ep(port, gpus, enabled=True):
    return {'host': 'gpu01', 'address': '10.0.0.11', 'port': port, 'gpus': gpus, 'enabled': enabled}


def settings(**kw):
    s = {'host': 'gpu01', 'gpu_node': True, 'gateway': False,
         'ollama_endpoints': [ep(11434, [UUID0]), ep(11435, [UUID1]), ep(11436, [], enabled=False)],
         'ollama_node': {'url_host': '10.0.0.11', 'gpus': [{'index': 0, 'uuid': UUID0}, {'index': 1, 'uuid': UUID1}]},
         'ollama_gateway_report': False,
         'ollama_metrics_listen_address': '10.0.0.11', 'ollama_metrics_node_exporter_port': 9100,
         'ollama_metrics_node_exporter_args': ['--no-collector.wifi', '--collector.systemd'],
         'ollama_metrics_nginx_exporter_port': 9113, 'ollama_metrics_nginx_status_url': 'http://127.0.0.1:8080/stub_status',
         'ollama_metrics_probe_interval': 30, 'ollama_metrics_probe_timeout': '5',
         'ollama_metrics_textfile_dir': '/var/lib/prometheus/node-exporter', 'ollama_metrics_nvidia_smi': '/usr/bin/nvidia-smi',
         'ollama_metrics_gateway_access_log': '/var/log/nginx/access.log', 'ollama_metrics_histogram_buckets': [0.5, 1, 5],
         'ollama_metrics_max_series': 2000, 'ollama_metrics_state_dir': '/var/lib/gpufleet-metrics-probe'}
    s.update(kw)
    return ollama_metrics_probe_config(s)


def test_a_gpu_node_probes_every_enabled_instance_with_its_gpu_index_and_uuid():
    out = settings()
    assert out['problems'] == []
    assert out['config'] == {
        'textfile_dir': '/var/lib/prometheus/node-exporter', 'nvidia_smi': '/usr/bin/nvidia-smi', 'deadline': 27,
        'ollama': {'timeout': 5, 'instances': [
            {'url': 'http://10.0.0.11:11434', 'port': 11434, 'gpu': '0', 'gpu_uuid': UUID0},
            {'url': 'http://10.0.0.11:11435', 'port': 11435, 'gpu': '1', 'gpu_uuid': UUID1}]}}


def test_ipv6_url_host_is_bracketed_and_no_nvidia_smi_leaves_gpus_out():
    out = settings(ollama_node={'url_host': 'fd00::11', 'gpus': []}, ollama_metrics_nvidia_smi='')
    assert out['config']['ollama']['instances'][0]['url'] == 'http://[fd00::11]:11434'
    assert out['config']['ollama']['instances'][0]['gpu'] == UUID0   # unknown index: the UUID stands
    assert out['config']['nvidia_smi'] is None and out['problems'] == []


def test_a_gateway_counts_its_access_log_and_reads_its_certificate():
    out = settings(gpu_node=False, gateway=True, ollama_endpoints=False,
                   ollama_gateway_report={'tls': True, 'certificate': '/etc/nginx/gpufleet/tls-abc.crt'})
    assert out['problems'] == []
    assert 'ollama' not in out['config']
    assert out['config']['gateway'] == {
        'access_log': '/var/log/nginx/access.log', 'state_file': '/var/lib/gpufleet-metrics-probe/gateway.json',
        'certificates': ['/etc/nginx/gpufleet/tls-abc.crt'], 'buckets': [0.5, 1.0, 5.0], 'max_series': 2000}


def test_without_the_ollama_roles_fact_the_node_is_refused_with_the_way_out():
    out = settings(ollama_endpoints=False)
    assert len(out['problems']) == 1
    assert 'gpu01: the fact ollama_endpoints is missing' in out['problems'][0] and 'site.yml' in out['problems'][0]


@pytest.mark.parametrize('kw, words', [
    ({'ollama_metrics_node_exporter_port': 70000}, 'ollama_metrics_node_exporter_port is 70000; give a TCP port'),
    ({'ollama_metrics_node_exporter_port': True}, 'ollama_metrics_node_exporter_port is True'),
    ({'ollama_metrics_probe_interval': 'often'}, "ollama_metrics_probe_interval is 'often'; give seconds"),
    ({'ollama_metrics_probe_interval': 1}, 'ollama_metrics_probe_interval is 1'),
    ({'ollama_metrics_probe_timeout': 0}, 'ollama_metrics_probe_timeout is 0'),
    ({'ollama_metrics_probe_interval': 10, 'ollama_metrics_probe_timeout': 8},
     'ollama_metrics_probe_timeout is 8 with ollama_metrics_probe_interval 10; give a timeout at most the interval minus 3'),
    ({'ollama_metrics_node_exporter_args': '--no-collector.wifi'}, "ollama_metrics_node_exporter_args is '--no-collector.wifi'"),
    ({'ollama_metrics_node_exporter_args': ['--collector.textfile.directory=/tmp']},
     "has '--collector.textfile.directory=/tmp', a flag the role sets itself"),
    ({'ollama_metrics_node_exporter_args': ['--web.config.file="/etc/x" --log.level=debug']}, 'one flag an item'),
    ({'ollama_metrics_node_exporter_args': ['--collector.filesystem.mount-points-exclude=$(reboot)']}, 'one flag an item'),
    ({'gateway': True, 'ollama_metrics_nginx_status_url': 'http://127.0.0.1:8080/"x'}, 'ollama_metrics_nginx_status_url is'),
    ({'ollama_metrics_listen_address': ''}, "ollama_metrics_listen_address is ''"),
    ({'ollama_metrics_listen_address': '10.0.0.11 9100'}, "ollama_metrics_listen_address is '10.0.0.11 9100'"),
    ({'ollama_metrics_textfile_dir': 'node-exporter'}, "ollama_metrics_textfile_dir is 'node-exporter'; give an absolute"),
    ({'ollama_metrics_nvidia_smi': 'nvidia-smi'}, "ollama_metrics_nvidia_smi is 'nvidia-smi'"),
    ({'gateway': True, 'ollama_metrics_nginx_status_url': '127.0.0.1:8080'}, "ollama_metrics_nginx_status_url is '127.0.0.1:8080'"),
    ({'gateway': True, 'ollama_metrics_histogram_buckets': [5, 1]}, 'ollama_metrics_histogram_buckets is [5, 1]'),
    ({'gateway': True, 'ollama_metrics_histogram_buckets': ['fast']}, "ollama_metrics_histogram_buckets is ['fast']"),
    ({'gateway': True, 'ollama_metrics_max_series': 1}, 'ollama_metrics_max_series is 1'),
    ({'gateway': True, 'ollama_metrics_nginx_exporter_port': 0}, 'ollama_metrics_nginx_exporter_port is 0'),
])
def test_each_bad_setting_is_named_with_its_value_and_what_is_valid(kw, words):
    problems = settings(**kw)['problems']
    assert len(problems) == 1, problems
    assert problems[0].startswith('gpu01: ') and words in problems[0]


def test_gateway_settings_are_not_checked_on_a_gpu_node_only():
    assert settings(ollama_metrics_nginx_status_url='nonsense')['problems'] == []


def test_not_a_mapping_is_an_error():
    with pytest.raises(AnsibleFilterError, match='expects a mapping'):
        ollama_metrics_probe_config(['x'])


@pytest.mark.parametrize('size, span, bad', [
    ('2G', '1month', []), ('', '', []), ('1073741824', '2weeks 3d', []),
    ('2 GB', '1month', ['ollama_journal_max_use']), ('2G', 'forever', ['ollama_journal_max_retention']),
])
def test_the_journal_bounds_are_journald_sizes_and_time_spans(size, span, bad):
    problems = ollama_input_problems({'ollama_journal_max_use': size, 'ollama_journal_max_retention': span})
    assert [p.split(' ')[0] for p in problems] == bad
