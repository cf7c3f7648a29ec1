# -*- coding: utf-8 -*-
# Copyright (c) 2026, gpufleet maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: ollama_prometheus_config
short_description: Work out the monitoring host's Prometheus configuration, alert rules and flags from the inventory
version_added: 0.3.0
author:
  - gpufleet maintainers (@gpufleet)
description:
  - Takes a mapping of the C(ollama_monitoring) role's inputs (named as the role's variables, plus the hosts of the
    inventory groups and the address found for each host) and returns the C(prometheus.yml) and the alert rules as
    data (for C(to_nice_yaml)), the server's command-line flags, and one sentence per problem found, each naming the
    host or variable, the value given and what is valid.
  - "Scrape jobs: C(node) (the node exporter of every GPU node and gateway, label C(role) V(gpu_node) or V(gateway),
    V(gpu_node,gateway) for a host in both groups), C(nginx) (the nginx exporter of every gateway), C(prometheus)
    (this Prometheus through its listen address, V(127.0.0.1) or V([::1]) when it listens on every address, and the
    other Prometheus servers of the monitoring group), plus the extra targets and scrape configs. Every inventory
    target carries the label C(host) (its inventory name). IPv6 addresses are written in brackets."
  - A host's address is the value of C(ollama_monitoring_address_var) on it; a host without it falls back to
    its inventory name only when that variable is C(ansible_host) (as Ansible itself connects), otherwise it is a
    problem. Two hosts with the same target, ports outside 1-65535, durations Prometheus cannot parse, a scrape
    timeout above the scrape interval, thresholds out of range and malformed extras are problems too.
  - "The built-in alerts (group C(gpufleet-ollama)): C(OllamaInstanceDown), C(OllamaModelOnCPU), C(GPUDown),
    C(GPUMemoryNearFull), C(GatewayHigh5xxRate), C(GatewayCertificateExpiry), C(GatewayCertificateUnreadable),
    C(NodeExporterDown), C(NginxExporterDown), C(PrometheusDown), C(MetricsProbeFailed), C(MetricsProbeStale); their
    thresholds and
    C(for) durations come from the role's variables."
options:
  _input:
    description:
      - The inputs, keyed by name. Every C(ollama_monitoring_*) variable of the role (see the role's argument spec) and
        the keys below. A missing key takes the role's default.
    type: dict
    required: true
    suboptions:
      host:
        description: The inventory name of the monitoring host the configuration is for.
        type: str
      gpu_nodes:
        description: Hosts of the GPU node group, in inventory order.
        type: list
        elements: str
      gateways:
        description: Hosts of the gateway group, in inventory order.
        type: list
        elements: str
      monitoring:
        description: Hosts of the monitoring group (other Prometheus servers are scraped too).
        type: list
        elements: str
      addresses:
        description: Host name to the value of C(ollama_monitoring_address_var) on it (empty when unset).
        type: dict
      rule_files:
        description: Absolute paths of the rule files C(prometheus.yml) loads.
        type: list
        elements: str
"""

EXAMPLES = r"""
- name: Work out the Prometheus configuration
  ansible.builtin.set_fact:
    __ollama_monitoring: >-
      {{ {'host': inventory_hostname,
          'gpu_nodes': groups['gpu_nodes'] | default([]),
          'gateways': groups['ollama_gateways'] | default([]),
          'monitoring': groups['monitoring'] | default([]),
          'addresses': {'gpu01': '10.0.0.11', 'gw01': 'fd00::10', 'mon01': ''},
          'rule_files': ['/etc/prometheus/gpufleet-ollama.rules.yml'],
          'ollama_monitoring_address_var': 'ansible_host',
          'ollama_monitoring_listen_address': '0.0.0.0:9090'} | gpufleet.ollama.ollama_prometheus_config }}

# With gpu_nodes [gpu01], ollama_gateways [gw01] and monitoring [mon01], the node job gets
#   {'targets': ['10.0.0.11:9100'], 'labels': {'host': 'gpu01', 'role': 'gpu_node'}}
#   {'targets': ['[fd00::10]:9100'], 'labels': {'host': 'gw01', 'role': 'gateway'}}
# the nginx job [fd00::10]:9113 and the prometheus job 127.0.0.1:9090 (host mon01).

- name: Write prometheus.yml
  ansible.builtin.copy:
    content: "{{ __ollama_monitoring.config | to_nice_yaml(indent=2, sort_keys=false, width=1000) }}"
    dest: /etc/prometheus/prometheus.yml
    mode: "0644"
    validate: promtool check config %s
"""

RETURN = r"""
_value:
  description: What the monitoring host's files are rendered from, and the problems that make them unusable.
  type: dict
  contains:
    config:
      description: The C(prometheus.yml) as data (C(global), C(rule_files), C(alerting) when alertmanagers are given,
        C(scrape_configs)).
      type: dict
    rules:
      description: The rule file as data (a mapping with C(groups)), the built-in group first, then the extra groups.
      type: dict
    args:
      description: The command-line flags of the server (for C(ARGS) in C(/etc/default/prometheus)).
      type: list
      elements: str
      sample: [--web.listen-address=0.0.0.0:9090, --storage.tsdb.retention.time=15d, --storage.tsdb.retention.size=10GB]
    scrape_address:
      description: The address this Prometheus scrapes itself at.
      type: str
      sample: 127.0.0.1:9090
    targets:
      description: The number of static targets in all scrape jobs.
      type: int
    jobs:
      description: Job name to its number of targets.
      type: dict
    alerts:
      description: The names of the built-in alerts in the rules (those not disabled).
      type: list
      elements: str
    problems:
      description: One sentence per problem, each naming the host or variable, what was given and what is valid.
      type: list
      elements: str
"""

import ipaddress
import re

from ansible.errors import AnsibleFilterError
from ansible_collections.gpufleet.ollama.plugins.plugin_utils._settings import to_int

P = 'ollama_monitoring_'
RULE_GROUP = 'gpufleet-ollama'
BUILTIN_JOBS = ('prometheus', 'node', 'nginx')

# The role's defaults (roles/ollama_monitoring/defaults/main.yml), for keys the mapping leaves out.
DEFAULTS = {
    'address_var': 'ansible_host',
    'gpu_group': 'gpu_nodes',
    'gateway_group': 'ollama_gateways',
    'group': 'monitoring',
    'node_exporter_port': 9100,
    'nginx_exporter_port': 9113,
    'listen_address': '0.0.0.0:9090',
    'scrape_interval': '15s',
    'scrape_timeout': '10s',
    'evaluation_interval': '15s',
    'retention_time': '15d',
    'retention_size': '10GB',
    'extra_args': [],
    'alertmanagers': [],
    'extra_targets': [],
    'extra_scrape_configs': [],
    'extra_rule_groups': [],
    'disabled_alerts': [],
    'alert_labels': {},
    'instance_down_for': '2m',
    'model_gpu_ratio_min': 1,
    'model_on_cpu_for': '5m',
    'gpu_down_for': '2m',
    'gpu_memory_ratio_max': 0.95,
    'gpu_memory_for': '15m',
    'gateway_5xx_ratio_max': 0.05,
    'gateway_5xx_min_rate': 0.1,
    'gateway_5xx_window': '5m',
    'gateway_5xx_for': '5m',
    'certificate_expiry_days': 21,
    'certificate_expiry_for': '0s',
    'exporter_down_for': '2m',
    'probe_failed_for': '10m',
    'probe_stale_seconds': 300,
    'probe_stale_for': '0s',
}

ALERTS = ('OllamaInstanceDown', 'OllamaModelOnCPU', 'GPUDown', 'GPUMemoryNearFull', 'GatewayHigh5xxRate',
          'GatewayCertificateExpiry', 'GatewayCertificateUnreadable', 'NodeExporterDown', 'NginxExporterDown', 'PrometheusDown',
          'MetricsProbeFailed', 'MetricsProbeStale')

# Flags the role sets itself, or that would take the server away from the role's files.
OWN_FLAGS = ('--web.listen-address', '--storage.tsdb.retention.time', '--storage.tsdb.retention.size',
             '--config.file', '--storage.tsdb.retention')

# model.ParseDuration of Prometheus 2.x: units in this order, each at most once, "0" alone is zero.
DURATION_RE = re.compile(r'^(([0-9]+)y)?(([0-9]+)w)?(([0-9]+)d)?(([0-9]+)h)?(([0-9]+)m)?(([0-9]+)s)?(([0-9]+)ms)?$')
DURATION_SECONDS = {2: 365 * 86400, 4: 7 * 86400, 6: 86400, 8: 3600, 10: 60, 12: 1, 14: 0.001}
# --storage.tsdb.retention.size (units.Base2Bytes): an integer and a unit.
SIZE_RE = re.compile(r'^[0-9]+(B|KB|MB|GB|TB|PB|EB)$')
LABEL_RE = re.compile(r'^[a-zA-Z_][a-zA-Z0-9_]*$')
HOSTNAME_RE = re.compile(r'^[A-Za-z0-9_]([A-Za-z0-9_-]*[A-Za-z0-9_])?(\.[A-Za-z0-9_]([A-Za-z0-9_-]*[A-Za-z0-9_])?)*\.?$')
# What survives ARGS="..." in /etc/default/prometheus and the unquoted $ARGS of the unit.
ARG_RE = re.compile(r'^--[a-z][a-z0-9.-]*(=[^\s"\'\\$`]*)?$')


def duration_seconds(value):
    """Seconds of a Prometheus duration (``1m30s``, ``15d``, ``0``); None when Prometheus would refuse it."""
    if isinstance(value, bool) or not isinstance(value, str):
        return None
    text = value.strip()
    if text == '0':
        return 0
    match = DURATION_RE.match(text)
    if not text or not match:
        return None
    return sum(int(match.group(i)) * f for i, f in DURATION_SECONDS.items() if match.group(i))


def _number(value):
    """A float from a number or a numeric string (booleans are not numbers here); None otherwise."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value.strip())
        except ValueError:
            return None
    return None


def _promql_number(value):
    """A number as PromQL writes it: 1 rather than 1.0, 0.95 as it is."""
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def _host_address(text):
    """The address part of a target (an IPv6 address in brackets) or None when it is no address or name."""
    text = text.strip()
    if text.startswith('[') and text.endswith(']'):
        text = text[1:-1]
    try:
        ip = ipaddress.ip_address(text)
    except ValueError:
        return text if HOSTNAME_RE.match(text) and not text.replace('.', '').isdigit() else None
    return '[%s]' % ip.compressed if ip.version == 6 else ip.compressed


def _split_hostport(text):
    """(host, port) of ``host:port`` or ``[v6]:port``; (None, None) when it is not that shape."""
    text = str(text).strip()
    match = re.match(r'^\[([^\]]*)\]:([0-9]+)$', text) or re.match(r'^([^:\[\]]*):([0-9]+)$', text)
    if not match:
        return None, None
    port = int(match.group(2))
    return match.group(1), port if 1 <= port <= 65535 else None


class _Settings(object):
    def __init__(self, settings, problems):
        self.s = settings
        self.problems = problems

    def get(self, key):
        if P + key in self.s:
            return self.s[P + key]
        return DEFAULTS[key]

    def port(self, key):
        value = to_int(self.get(key))
        if value is None or not 1 <= value <= 65535:
            self.problems.append('%s%s must be a TCP port 1-65535 (got %r).' % (P, key, self.get(key)))
            return None
        return value

    def duration(self, key, zero=True):
        value = self.get(key)
        seconds = duration_seconds(value)
        if seconds is None or (not zero and seconds == 0):
            self.problems.append('%s%s must be a Prometheus duration%s such as 30s, 5m, 1h30m or 15d (units y w d h m '
                                 's ms, largest first, no spaces) (got %r).'
                                 % (P, key, '' if zero else ' above 0', value))
            return None
        return seconds

    def ratio(self, key, low_open, high):
        value = _number(self.get(key))
        if value is None or not low_open < value <= high:
            self.problems.append('%s%s must be a number above %s and at most %s (got %r).'
                                 % (P, key, _promql_number(low_open), _promql_number(high), self.get(key)))
            return None
        return value

    def positive(self, key):
        value = _number(self.get(key))
        if value is None or value <= 0:
            self.problems.append('%s%s must be a number above 0 (got %r).' % (P, key, self.get(key)))
            return None
        return value

    def listing(self, key):
        value = self.get(key)
        if value is None:
            return []
        if not isinstance(value, (list, tuple)):
            self.problems.append('%s%s must be a list (got %r).' % (P, key, value))
            return []
        return list(value)

    def mapping(self, key):
        value = self.get(key)
        if value is None:
            return {}
        if not isinstance(value, dict):
            self.problems.append('%s%s must be a mapping (got %r).' % (P, key, value))
            return {}
        return value


def _labels_problems(labels, where, problems):
    if not isinstance(labels, dict):
        problems.append('%s must be a mapping of label names to values (got %r).' % (where, labels))
        return {}
    good = {}
    for name, value in labels.items():
        if not LABEL_RE.match(str(name)) or str(name).startswith('__'):
            problems.append("%s: '%s' is not a label name (valid: letters, digits and _, not starting with a digit or "
                            "__)." % (where, name))
        elif isinstance(value, (dict, list)) or value is None:
            problems.append('%s: label %s must have a string value (got %r).' % (where, name, value))
        else:
            good[str(name)] = str(value)
    return good


def _inventory_targets(settings, get, needed, problems):
    """host -> address usable in a target for the hosts in needed, and the problems with their addresses."""
    address_var = get('address_var')
    addresses = settings.get('addresses') or {}
    if not isinstance(addresses, dict):
        raise AnsibleFilterError('ollama_prometheus_config: addresses must be a mapping of host to address, got %s'
                                 % type(addresses).__name__)
    found = {}
    for host in needed:
        value = addresses.get(host)
        text = '' if value is None else str(value).strip()
        if not text:
            if address_var == 'ansible_host':
                text = host
            else:
                problems.append("host %s has no '%s' (ollama_monitoring_address_var): set it to the address the "
                                "monitoring host reaches it at (an IP address or a DNS name), or name another host "
                                "variable in ollama_monitoring_address_var." % (host, address_var))
                continue
        address = _host_address(text)
        if address is None:
            problems.append("host %s: %s '%s' is not an IP address or a DNS name (valid: 192.0.2.11, 2001:db8::11, "
                            "gpu01.example.internal; no port)." % (host, address_var, text))
            continue
        found[host] = address
    return found


def _alert(name, expr, duration, severity, summary, description, extra_labels):
    labels = {'severity': severity}
    labels.update(extra_labels)
    return {'alert': name, 'expr': expr, 'for': str(duration).strip(), 'labels': labels,
            'annotations': {'summary': summary, 'description': description}}


def _builtin_rules(g, labels):
    """The built-in alerts, with the thresholds and durations of the settings (all validated already)."""
    gpu_min = _promql_number(_number(g('model_gpu_ratio_min')))
    mem_max = _promql_number(_number(g('gpu_memory_ratio_max')))
    err_max = _promql_number(_number(g('gateway_5xx_ratio_max')))
    min_rate = _promql_number(_number(g('gateway_5xx_min_rate')))
    window = g('gateway_5xx_window').strip()
    days = _promql_number(_number(g('certificate_expiry_days')))
    stale = _promql_number(_number(g('probe_stale_seconds')))
    at = '{{ $labels.host }}'
    return [
        _alert('OllamaInstanceDown', 'gpufleet_ollama_up == 0', g('instance_down_for'), 'critical',
               'Ollama on %s port {{ $labels.port }} does not answer' % at,
               'The metrics probe has found the Ollama instance on %s port {{ $labels.port }} (GPU {{ $labels.gpu }}) '
               'down for %s; the gateways send its requests to the other instances. journalctl -u '
               'ollama@{{ $labels.port }} on the node says why.' % (at, str(g('instance_down_for')).strip()), labels),
        # The CPU share as the alert's value: 1 - ratio of the samples below the threshold.
        _alert('OllamaModelOnCPU', '1 - (gpufleet_ollama_model_gpu_ratio < %s)' % gpu_min, g('model_on_cpu_for'),
               'warning',
               'Model {{ $labels.model }} runs partly on the CPU on %s port {{ $labels.port }}' % at,
               '{{ $value | humanizePercentage }} of model {{ $labels.model }} on %s port {{ $labels.port }} (GPU '
               '{{ $labels.gpu }}) is in system memory and runs on the CPU, which makes it answer several times '
               'slower: it did not fit in the free GPU memory. Load fewer models at once, lower the context length, '
               'or place the model on a GPU with more memory.' % at, labels),
        _alert('GPUDown', 'gpufleet_gpu_up == 0', g('gpu_down_for'), 'critical',
               'GPU {{ $labels.gpu }} on %s does not answer' % at,
               'nvidia-smi on %s does not report GPU {{ $labels.gpu }} ({{ $labels.gpu_uuid }}); the Ollama instance '
               'pinned to it cannot use it.' % at, labels),
        _alert('GPUMemoryNearFull',
               'gpufleet_gpu_memory_used_bytes / (gpufleet_gpu_memory_total_bytes > 0) > %s' % mem_max,
               g('gpu_memory_for'), 'warning',
               'GPU {{ $labels.gpu }} on %s is {{ $value | humanizePercentage }} full' % at,
               'GPU {{ $labels.gpu }} ({{ $labels.gpu_uuid }}) on %s has used {{ $value | humanizePercentage }} of its '
               'memory (threshold %s): the next model or a longer context will not fit and runs partly on the CPU.'
               % (at, mem_max), labels),
        _alert('GatewayHigh5xxRate',
               'sum by (host) (rate(gpufleet_gateway_requests_total{code=~"5.."}[%s]))'
               ' / sum by (host) (rate(gpufleet_gateway_requests_total[%s])) > %s'
               ' and sum by (host) (rate(gpufleet_gateway_requests_total[%s])) > %s'
               % (window, window, err_max, window, min_rate),
               g('gateway_5xx_for'), 'critical',
               'Gateway %s answers {{ $value | humanizePercentage }} of its requests with 5xx' % at,
               '{{ $value | humanizePercentage }} of the requests through gateway %s over the last %s got a 5xx '
               'answer (threshold %s): instances are down, overloaded or draining. The upstream label of '
               'gpufleet_gateway_requests_total shows which.' % (at, window, err_max), labels),
        _alert('GatewayCertificateExpiry',
               'gpufleet_gateway_certificate_expiry_timestamp_seconds - time() < %s * 86400' % days,
               g('certificate_expiry_for'), 'warning',
               'The certificate {{ $labels.path }} of gateway %s expires soon' % at,
               'The certificate {{ $labels.path }} on gateway %s expires in {{ $value | humanizeDuration }} (threshold '
               '%s days). Renew it and run the gateway role again.' % (at, days), labels),
        _alert('GatewayCertificateUnreadable', 'gpufleet_gateway_certificate_read_success == 0',
               g('exporter_down_for'), 'warning',
               'The metrics probe cannot read the certificate {{ $labels.path }} of gateway %s' % at,
               'The metrics probe on gateway %s could not read {{ $labels.path }} (missing, unreadable or no openssl), '
               'so GatewayCertificateExpiry cannot warn about it. Run the gateway role again.' % at, labels),
        _alert('NodeExporterDown', 'up{job="node"} == 0', g('exporter_down_for'), 'warning',
               'The node exporter on {{ $labels.host }} does not answer',
               'Prometheus cannot scrape {{ $labels.instance }} ({{ $labels.host }}): none of its metrics, the Ollama '
               'and GPU probe metrics included, arrive. Is prometheus-node-exporter running, and the port open to '
               'the monitoring host?', labels),
        _alert('NginxExporterDown', 'up{job="nginx"} == 0 or nginx_up == 0', g('exporter_down_for'), 'warning',
               'The nginx exporter on {{ $labels.host }} or its nginx does not answer',
               'Either Prometheus cannot scrape the nginx exporter at {{ $labels.instance }} ({{ $labels.host }}) or '
               'the exporter cannot read the status page of nginx there.', labels),
        _alert('PrometheusDown', 'up{job="prometheus"} == 0', g('exporter_down_for'), 'warning',
               'Prometheus on {{ $labels.host }} does not answer',
               'The Prometheus server at {{ $labels.instance }} ({{ $labels.host }}) cannot be scraped.', labels),
        _alert('MetricsProbeFailed', 'gpufleet_probe_success == 0', g('probe_failed_for'), 'warning',
               'The {{ $labels.probe }} metrics probe fails on %s' % at,
               'The {{ $labels.probe }} probe on %s wrote gpufleet_probe_success 0: the metrics it writes are '
               'missing or old.' % at, labels),
        _alert('MetricsProbeStale', 'time() - gpufleet_probe_timestamp_seconds > %s' % stale, g('probe_stale_for'),
               'warning',
               'The {{ $labels.probe }} metrics probe on %s has not run for {{ $value | humanizeDuration }}' % at,
               'The {{ $labels.probe }} probe on %s last wrote its metrics {{ $value | humanizeDuration }} ago '
               '(threshold %s s): its timer stopped or it hangs, so every gpufleet metric of the host is stale.'
               % (at, stale), labels),
    ]


def _extra_rule_groups(groups, problems):
    good = []
    seen = {RULE_GROUP}
    for index, group in enumerate(groups):
        where = 'ollama_monitoring_extra_rule_groups[%d]' % index
        if not isinstance(group, dict):
            problems.append('%s must be a rule group, a mapping with name and rules (got %r).' % (where, group))
            continue
        name = group.get('name')
        if not isinstance(name, str) or not name.strip():
            problems.append('%s needs a name (a non-empty string).' % where)
            continue
        if name in seen:
            problems.append("%s: the group name '%s' is taken (%s is the role's own group; names must be unique)."
                            % (where, name, RULE_GROUP))
            continue
        seen.add(name)
        rules = group.get('rules')
        if not isinstance(rules, list) or not rules:
            problems.append("%s (%s) needs rules, a non-empty list." % (where, name))
            continue
        bad = [i for i, r in enumerate(rules)
               if not isinstance(r, dict) or not r.get('expr') or (('alert' in r) == ('record' in r))]
        if bad:
            problems.append('%s (%s): rules %s need an expr and exactly one of alert or record.'
                            % (where, name, ', '.join(str(i) for i in bad)))
            continue
        good.append(group)
    return good


def _extra_targets(entries, jobs, problems):
    """Add ollama_monitoring_extra_targets to the jobs (a new job for an unknown name)."""
    for index, entry in enumerate(entries):
        where = 'ollama_monitoring_extra_targets[%d]' % index
        if not isinstance(entry, dict) or not isinstance(entry.get('targets'), list) or not entry['targets']:
            problems.append('%s must be a mapping with job, targets (a non-empty list of host:port) and optional '
                            'labels (got %r).' % (where, entry))
            continue
        job = entry.get('job', 'node')
        if not isinstance(job, str) or not job.strip():
            problems.append('%s: job must be a job name (got %r).' % (where, job))
            continue
        targets = []
        for target in entry['targets']:
            host, port = _split_hostport(target)
            if host is None or port is None or _host_address(host) is None:
                problems.append("%s: '%s' is not a target (valid: 192.0.2.20:9100, [2001:db8::20]:9100, "
                                "nas01.example.internal:9100)." % (where, target))
            else:
                targets.append('%s:%d' % (_host_address(host), port))
        labels = _labels_problems(entry.get('labels') or {}, where + '.labels', problems)
        if targets:
            static = {'targets': targets}
            if labels:
                static['labels'] = labels
            jobs.setdefault(job, []).append(static)


def ollama_prometheus_config(settings):
    if not isinstance(settings, dict):
        raise AnsibleFilterError('ollama_prometheus_config expects a mapping of the role inputs, got %s'
                                 % type(settings).__name__)
    problems = []
    s = _Settings(settings, problems)
    g = s.get
    host = str(settings.get('host') or '')

    # --- Ports, addresses, durations -----------------------------------------------------------
    node_port = s.port('node_exporter_port')
    nginx_port = s.port('nginx_exporter_port')
    listen = g('listen_address')
    listen_host, listen_port = _split_hostport(listen) if isinstance(listen, str) else (None, None)
    if listen_host is None or listen_port is None or (listen_host and _host_address(listen_host) is None):
        problems.append("ollama_monitoring_listen_address must be host:port, [ipv6]:port or :port with a port 1-65535 "
                        "(valid: 0.0.0.0:9090, 127.0.0.1:9090, [::]:9090) (got %r)." % (listen,))
        scrape_address = None
    elif listen_host in ('', '0.0.0.0'):
        scrape_address = '127.0.0.1:%d' % listen_port
    elif listen_host == '::':
        scrape_address = '[::1]:%d' % listen_port
    else:
        scrape_address = '%s:%d' % (_host_address(listen_host), listen_port)

    interval = s.duration('scrape_interval', zero=False)
    timeout = s.duration('scrape_timeout', zero=False)
    s.duration('evaluation_interval', zero=False)
    if interval is not None and timeout is not None and timeout > interval:
        problems.append('ollama_monitoring_scrape_timeout (%s) must not be longer than ollama_monitoring_scrape_interval '
                        '(%s): Prometheus refuses that configuration.' % (g('scrape_timeout'), g('scrape_interval')))
    s.duration('retention_time', zero=False)
    size = g('retention_size')
    if size not in ('', None) and not (isinstance(size, str) and SIZE_RE.match(size.strip())):
        problems.append("ollama_monitoring_retention_size must be empty (no size limit) or an integer with a unit B, "
                        "KB, MB, GB, TB, PB or EB (powers of 1024) such as 10GB or 512MB (got %r)." % (size,))
    for key in ('instance_down_for', 'model_on_cpu_for', 'gpu_down_for', 'gpu_memory_for', 'gateway_5xx_for',
                'certificate_expiry_for', 'exporter_down_for', 'probe_failed_for', 'probe_stale_for'):
        s.duration(key)
    s.duration('gateway_5xx_window', zero=False)
    s.ratio('model_gpu_ratio_min', 0, 1)
    s.ratio('gpu_memory_ratio_max', 0, 1)
    s.ratio('gateway_5xx_ratio_max', 0, 1)
    s.positive('gateway_5xx_min_rate')
    s.positive('certificate_expiry_days')
    s.positive('probe_stale_seconds')

    # --- Flags of the server ---------------------------------------------------------------------
    args = []
    if scrape_address is not None:
        args.append('--web.listen-address=%s' % str(listen).strip())
    args.append('--storage.tsdb.retention.time=%s' % str(g('retention_time')).strip())
    if size not in ('', None):
        args.append('--storage.tsdb.retention.size=%s' % str(size).strip())
    for arg in s.listing('extra_args'):
        text = str(arg).strip()
        if not ARG_RE.match(text):
            problems.append("ollama_monitoring_extra_args: '%s' is not a flag the role can pass (valid: "
                            "--name or --name=value with no spaces, quotes, backslashes, $ or backticks, since "
                            "systemd splits ARGS on spaces)." % (arg,))
        elif text.split('=', 1)[0] in OWN_FLAGS:
            problems.append("ollama_monitoring_extra_args: '%s' is set by the role; use ollama_monitoring_listen_address, "
                            "ollama_monitoring_retention_time or ollama_monitoring_retention_size (the configuration "
                            "file is always /etc/prometheus/prometheus.yml)." % (arg,))
        elif any(a.split('=', 1)[0] == text.split('=', 1)[0] for a in args):
            problems.append("ollama_monitoring_extra_args: '%s' is given twice (Prometheus refuses a repeated flag)."
                            % (arg,))
        else:
            args.append(text)

    # --- Targets from the inventory ------------------------------------------------------------------
    gpu_nodes = [str(h) for h in settings.get('gpu_nodes') or []]
    gateways = [str(h) for h in settings.get('gateways') or []]
    monitoring = [str(h) for h in settings.get('monitoring') or []]
    if not gpu_nodes and not gateways:
        problems.append("the groups '%s' (ollama_monitoring_gpu_group) and '%s' (ollama_monitoring_gateway_group) are "
                        "both empty or missing from the inventory: there is nothing to monitor."
                        % (g('gpu_group'), g('gateway_group')))
    # This server scrapes itself through its listen address: its own inventory address is not needed.
    needed = list(dict.fromkeys(gpu_nodes + gateways + [m for m in monitoring if m != host]))
    addresses = _inventory_targets(settings, g, needed, problems)

    jobs = {}
    order = []
    for name in BUILTIN_JOBS:
        jobs[name] = []
        order.append(name)

    # prometheus: this server, then the other servers of the monitoring group (they watch each other).
    if scrape_address is not None:
        jobs['prometheus'].append({'targets': [scrape_address], 'labels': {'host': host, 'role': 'monitoring'}})
        for peer in monitoring:
            if peer != host and peer in addresses:
                jobs['prometheus'].append({'targets': ['%s:%d' % (addresses[peer], listen_port)],
                                           'labels': {'host': peer, 'role': 'monitoring'}})
    if node_port is not None:
        for name in list(dict.fromkeys(gpu_nodes + gateways)):
            if name not in addresses:
                continue
            role = ','.join(r for r, members in (('gpu_node', gpu_nodes), ('gateway', gateways)) if name in members)
            jobs['node'].append({'targets': ['%s:%d' % (addresses[name], node_port)],
                                 'labels': {'host': name, 'role': role}})
    if nginx_port is not None:
        for name in list(dict.fromkeys(gateways)):
            if name in addresses:
                jobs['nginx'].append({'targets': ['%s:%d' % (addresses[name], nginx_port)],
                                      'labels': {'host': name, 'role': 'gateway'}})

    # Two inventory hosts behind one target would mix their series.
    for name in BUILTIN_JOBS:
        owners = {}
        for static in jobs[name]:
            owners.setdefault(static['targets'][0], []).append(static['labels']['host'])
        for target, hosts in sorted(owners.items()):
            if len(hosts) > 1:
                problems.append("hosts %s have the same %s target %s: each needs its own address in '%s' "
                                "(ollama_monitoring_address_var)." % (', '.join(hosts), name, target, g('address_var')))

    _extra_targets(s.listing('extra_targets'), jobs, problems)
    order.extend(j for j in jobs if j not in order)

    extra_configs = []
    for index, extra in enumerate(s.listing('extra_scrape_configs')):
        name = extra.get('job_name') if isinstance(extra, dict) else None
        if not isinstance(name, str) or not name.strip():
            problems.append('ollama_monitoring_extra_scrape_configs[%d] must be a Prometheus scrape config with a '
                            'job_name (got %r).' % (index, extra))
        elif name in jobs or any(e['job_name'] == name for e in extra_configs):
            problems.append("ollama_monitoring_extra_scrape_configs[%d]: the job_name '%s' is taken (the role's jobs "
                            "are %s; job names must be unique)." % (index, name, ', '.join(BUILTIN_JOBS)))
        else:
            extra_configs.append(extra)

    alertmanagers = []
    for target in s.listing('alertmanagers'):
        am_host, am_port = _split_hostport(target)
        if am_host is None or am_port is None or _host_address(am_host) is None:
            problems.append("ollama_monitoring_alertmanagers: '%s' is not an Alertmanager address (valid: "
                            "192.0.2.30:9093, [2001:db8::30]:9093, alertmanager.example.internal:9093)." % (target,))
        else:
            alertmanagers.append('%s:%d' % (_host_address(am_host), am_port))

    # --- Rules -----------------------------------------------------------------------------------------
    disabled = [str(a) for a in s.listing('disabled_alerts')]
    unknown = [a for a in disabled if a not in ALERTS]
    if unknown:
        problems.append('ollama_monitoring_disabled_alerts: %s %s no built-in alert (valid: %s).'
                        % (', '.join(unknown), 'is' if len(unknown) == 1 else 'are', ', '.join(ALERTS)))
    alert_labels = _labels_problems(s.mapping('alert_labels'), 'ollama_monitoring_alert_labels', problems)
    extra_groups = _extra_rule_groups(s.listing('extra_rule_groups'), problems)

    if problems:
        return {'config': {}, 'rules': {}, 'args': args, 'scrape_address': scrape_address or '', 'targets': 0,
                'jobs': {}, 'alerts': [], 'problems': problems}

    rules = [r for r in _builtin_rules(g, alert_labels) if r['alert'] not in disabled]
    config = {
        'global': {'scrape_interval': g('scrape_interval').strip(), 'scrape_timeout': g('scrape_timeout').strip(),
                   'evaluation_interval': g('evaluation_interval').strip()},
        'rule_files': [str(f) for f in settings.get('rule_files') or []],
    }
    if alertmanagers:
        config['alerting'] = {'alertmanagers': [{'static_configs': [{'targets': alertmanagers}]}]}
    config['scrape_configs'] = [{'job_name': j, 'static_configs': jobs[j]} for j in order if jobs[j]] + extra_configs
    counts = dict((j, sum(len(c['targets']) for c in jobs[j])) for j in order if jobs[j])
    return {
        'config': config,
        'rules': {'groups': [{'name': RULE_GROUP, 'rules': rules}] + extra_groups},
        'args': args,
        'scrape_address': scrape_address,
        'targets': sum(counts.values()),
        'jobs': counts,
        'alerts': [r['alert'] for r in rules],
        'problems': [],
    }


class FilterModule(object):
    def filters(self):
        return {'ollama_prometheus_config': ollama_prometheus_config}
