# -*- coding: utf-8 -*-
# Copyright (c) 2026, gpufleet maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: ollama_metrics_probe_config
short_description: Check the metrics role's settings and build the configuration of the node's metrics probe
version_added: 0.3.0
author:
  - gpufleet maintainers (@gpufleet)
description:
  - Takes the settings of the C(gpufleet.ollama.ollama_metrics) role for one host and returns the problems with them
    (each naming the host, the variable, what was given and what is valid) and the JSON document the probe
    (C(gpufleet_metrics_probe.py)) reads.
  - On a GPU node the probe asks every instance of C(ollama_endpoints) (the fact the C(gpufleet.ollama.ollama) role
    publishes; instances stopped on purpose are left out) at C(http://<url_host>:<port>), labelled with its port and
    its GPUs' indexes and UUIDs (from C(ollama_node.gpus)), and reads the GPUs with C(nvidia-smi).
  - On a gateway the probe counts the requests of the nginx access log and reads the expiry of the gateway's
    certificate.
options:
  _input:
    description:
      - The settings, a mapping with C(host), C(gpu_node) and C(gateway) (booleans, from the host's groups),
        C(ollama_endpoints), C(ollama_node), C(ollama_gateway_report) (V(false) or V(null) when not published) and the
        role variables C(ollama_metrics_listen_address), C(ollama_metrics_node_exporter_port),
        C(ollama_metrics_nginx_exporter_port), C(ollama_metrics_nginx_status_url), C(ollama_metrics_probe_interval),
        C(ollama_metrics_node_exporter_args),
        C(ollama_metrics_probe_timeout), C(ollama_metrics_textfile_dir), C(ollama_metrics_nvidia_smi),
        C(ollama_metrics_gateway_access_log), C(ollama_metrics_histogram_buckets), C(ollama_metrics_max_series),
        C(ollama_metrics_state_dir).
    type: dict
    required: true
"""

EXAMPLES = r"""
- name: Work out the probe's configuration
  ansible.builtin.set_fact:
    __ollama_metrics: "{{ __ollama_metrics_settings | gpufleet.ollama.ollama_metrics_probe_config }}"
"""

RETURN = r"""
_value:
  description: C(problems) (list of messages, empty when the settings are usable) and C(config) (the probe's document).
  type: dict
  sample:
    problems: []
    config:
      textfile_dir: /var/lib/prometheus/node-exporter
      deadline: 27
      nvidia_smi: /usr/bin/nvidia-smi
      ollama:
        timeout: 5
        instances: [{url: "http://192.0.2.11:11434", port: 11434, gpu: "0", gpu_uuid: "GPU-5a1c..."}]
"""

import re

from ansible.errors import AnsibleFilterError

from ansible_collections.gpufleet.ollama.plugins.plugin_utils._settings import to_int, url_host

_URL = re.compile(r'^https?://[^\s/"\'\\]+(/[^\s"\'\\]*)?$')
# one flag of the node exporter, as it goes into ARGS="..." of /etc/default (no quote, space or backslash)
_FLAG = re.compile(r'^--?[A-Za-z0-9][A-Za-z0-9._-]*(=[^\s"\'\\$`]*)?$')
# the flags the role sets itself
_OWN_FLAGS = ('--web.listen-address', '--collector.textfile.directory')
# seconds the probe's run keeps free before the timer's next start (systemd stops a run that takes the whole period)
DEADLINE_MARGIN = 3
_ADDRESS = re.compile(r'^[A-Za-z0-9_.:\-\[\]]+$')


def _port(settings, name, host, problems):
    value = settings.get(name)
    port = to_int(value)
    if port is None or isinstance(value, bool) or not 1 <= port <= 65535:
        problems.append('%s: %s is %r; give a TCP port, 1 to 65535.' % (host, name, value))
        return None
    return port


def _number(settings, name, host, problems, low, high, what):
    value = settings.get(name)
    try:
        number = float(value)
    except (TypeError, ValueError):
        number = None
    if number is None or isinstance(value, bool) or not low <= number <= high:
        problems.append('%s: %s is %r; give %s.' % (host, name, value, what))
        return None
    return int(number) if number == int(number) else number


def _path(settings, name, host, problems, empty_ok=False):
    value = settings.get(name)
    if empty_ok and value in (None, ''):
        return None
    if not isinstance(value, str) or not value.startswith('/') or '\n' in value:
        problems.append('%s: %s is %r; give an absolute path%s.' % (host, name, value, ' (or "" for none)' if empty_ok else ''))
        return None
    return value


def _args(settings, host, problems):
    args = settings.get('ollama_metrics_node_exporter_args')
    if not isinstance(args, list):
        problems.append('%s: ollama_metrics_node_exporter_args is %r; give a list of flags, for example '
                        '["--no-collector.wifi"].' % (host, args))
        return
    for arg in args:
        if not isinstance(arg, str) or not _FLAG.match(arg):
            problems.append('%s: ollama_metrics_node_exporter_args has %r; give one flag an item, --name or '
                            '--name=value, with no space, quote, backslash, $ or backtick.' % (host, arg))
        elif arg.split('=', 1)[0].lstrip('-') in [f.lstrip('-') for f in _OWN_FLAGS]:
            problems.append('%s: ollama_metrics_node_exporter_args has %r, a flag the role sets itself; use '
                            'ollama_metrics_listen_address, ollama_metrics_node_exporter_port or '
                            'ollama_metrics_textfile_dir.' % (host, arg))


def _instances(endpoints, node, host, problems):
    if not isinstance(endpoints, list):
        problems.append('%s: the fact ollama_endpoints is missing (%r); the gpufleet.ollama.ollama role publishes it: '
                        'run the metrics role in the same run as that role (site.yml does).' % (host, endpoints))
        return []
    node = node if isinstance(node, dict) else {}
    node_host = str(node.get('url_host') or '')
    index = dict((str(g.get('uuid')), str(g.get('index'))) for g in node.get('gpus') or [] if isinstance(g, dict))
    out = []
    for e in endpoints:
        if not isinstance(e, dict) or not e.get('enabled', True):
            continue
        address = url_host(node_host or e.get('address') or '')
        gpus = [str(g) for g in e.get('gpus') or []]
        out.append({'url': 'http://%s:%d' % (address, to_int(e.get('port'))), 'port': to_int(e.get('port')),
                    'gpu': ','.join(index.get(g, g) for g in gpus), 'gpu_uuid': ','.join(gpus)})
    return out


def ollama_metrics_probe_config(settings):
    if not isinstance(settings, dict):
        raise AnsibleFilterError('ollama_metrics_probe_config expects a mapping of settings, got %s'
                                 % type(settings).__name__)
    host = str(settings.get('host') or 'this host')
    problems = []
    address = settings.get('ollama_metrics_listen_address')
    if not isinstance(address, str) or not address.strip() or not _ADDRESS.match(address.strip()):
        problems.append('%s: ollama_metrics_listen_address is %r; give the address the exporters listen on (an IP '
                        'address or host name, 0.0.0.0 for every address).' % (host, address))
    _port(settings, 'ollama_metrics_node_exporter_port', host, problems)
    _args(settings, host, problems)
    interval = _number(settings, 'ollama_metrics_probe_interval', host, problems, 5, 3600,
                       'seconds between probes, 5 to 3600')
    timeout = _number(settings, 'ollama_metrics_probe_timeout', host, problems, 1, 60, 'seconds, 1 to 60')
    if interval and timeout and timeout > interval - DEADLINE_MARGIN:
        problems.append('%s: ollama_metrics_probe_timeout is %r with ollama_metrics_probe_interval %r; give a timeout at '
                        'most the interval minus %d s (every run must end before the next).'
                        % (host, settings.get('ollama_metrics_probe_timeout'), settings.get('ollama_metrics_probe_interval'),
                           DEADLINE_MARGIN))
    config = {'textfile_dir': _path(settings, 'ollama_metrics_textfile_dir', host, problems),
              'deadline': (interval - DEADLINE_MARGIN) if interval else None}
    if settings.get('gpu_node'):
        config['ollama'] = {'timeout': timeout,
                            'instances': _instances(settings.get('ollama_endpoints'), settings.get('ollama_node'),
                                                    host, problems)}
        config['nvidia_smi'] = _path(settings, 'ollama_metrics_nvidia_smi', host, problems, empty_ok=True)
    if settings.get('gateway'):
        _port(settings, 'ollama_metrics_nginx_exporter_port', host, problems)
        url = settings.get('ollama_metrics_nginx_status_url')
        if not isinstance(url, str) or not _URL.match(url):
            problems.append('%s: ollama_metrics_nginx_status_url is %r; give the http:// URL of the gateway\'s '
                            'stub_status (ollama_gateway_status_listen).' % (host, url))
        buckets = settings.get('ollama_metrics_histogram_buckets')
        try:
            values = [float(b) for b in buckets] if isinstance(buckets, list) and buckets else None
        except (TypeError, ValueError):
            values = None
        if not values or values != sorted(set(values)) or values[0] <= 0:
            problems.append('%s: ollama_metrics_histogram_buckets is %r; give upper bounds in seconds, positive and '
                            'increasing, for example [0.5, 1, 5, 30].' % (host, buckets))
            values = []
        max_series = _number(settings, 'ollama_metrics_max_series', host, problems, 10, 100000,
                             'the most label sets a metric keeps, 10 to 100000')
        report = settings.get('ollama_gateway_report')
        certificate = report.get('certificate') if isinstance(report, dict) else None
        config['gateway'] = {
            'access_log': _path(settings, 'ollama_metrics_gateway_access_log', host, problems),
            'state_file': '%s/gateway.json' % (_path(settings, 'ollama_metrics_state_dir', host, problems) or ''),
            'certificates': [certificate] if certificate else [],
            'buckets': values, 'max_series': max_series}
    return {'problems': problems, 'config': config}


class FilterModule(object):
    def filters(self):
        return {'ollama_metrics_probe_config': ollama_metrics_probe_config}
