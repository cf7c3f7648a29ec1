# -*- coding: utf-8 -*-
# Copyright (c) 2026, gpufleet maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: ollama_status_rows
short_description: Turn what the status playbook read on every GPU node into one row per Ollama instance
version_added: 0.3.0
author:
  - gpufleet maintainers (@gpufleet)
description:
  - Takes, for every GPU node of the play, the C(ollama_status_node) fact that C(playbooks/status.yml) sets (what
    M(gpufleet.ollama.ollama_node_info) and M(gpufleet.ollama.ollama_health) read there) and returns
    one row per Ollama instance, with the problems found, rows with a problem first.
  - The instances of a node are those of its layout (C(instances), from
    P(gpufleet.ollama.ollama_instances#filter)), every port systemd runs (C(states), from
    P(gpufleet.ollama.ollama_instance_states#filter)) and every port a health result names.
  - "Problems: a node that was unreachable, failed or left no result (one row for the node, its C(id) is the node's
    name); an instance that does not answer; a release other than C(expected_version); a loaded model
    not wholly in GPU memory (C(size_vram) below C(size)); a GPU with more than 95% of its memory used; a node
    without any GPU; an instance that runs but is not in the layout; layout problems."
  - Feed the rows to P(gpufleet.ollama.ollama_status_table#filter) and P(gpufleet.ollama.ollama_status_html#filter).
options:
  _input:
    description:
      - A list of C([node, data]) pairs, or a mapping node to data; data V(false) or V(null) means the node left no
        result (it failed before the report task or was not in the run).
      - "Data is a mapping; a missing key means nothing was read:
        C(reached) (V(false) - the node could not be reached, C(msg) says why),
        C(failure) (the task that failed on the node and its message),
        C(gpus) (the GPUs as M(gpufleet.ollama.nvidia_gpu_info) lists them) and C(gpu_reason) (why there are none),
        C(instances) (the layout from P(gpufleet.ollama.ollama_instances#filter), C({port, gpus}) each, C(gpus)
        UUIDs or indexes, empty for every GPU) and C(layout_problems) (its problems),
        C(states) (what systemd runs, by port, from P(gpufleet.ollama.ollama_instance_states#filter); empty when
        unknown),
        C(health) (the C(results) of one M(gpufleet.ollama.ollama_health) run over the instances, C(item.port);
        with O(gpufleet.ollama.ollama_health#module:loaded=true) each result's C(loaded) lists the models the
        instance has loaded, V(null) when they could not be read),
        C(expected_version) (the release the node should run, C(ollama_version); empty for no check) and
        C(url_host) (the address the instances answer on, for each row's C(url))."
    type: raw
    required: true
"""

EXAMPLES = r"""
- name: Report every instance
  ansible.builtin.debug:
    msg: >-
      {{ ansible_play_hosts_all
         | zip(ansible_play_hosts_all | map('extract', hostvars) | map(attribute='ollama_status_node', default=false))
         | gpufleet.ollama.ollama_status_rows | gpufleet.ollama.ollama_status_table }}
"""

RETURN = r"""
_value:
  description: One row per instance (and one per node that could not be read), rows with a problem first.
  type: list
  elements: dict
  contains:
    id:
      description: C(node:port), or the node's name for a row about the whole node.
      type: str
    node:
      description: Inventory name of the node.
      type: str
    port:
      description: The instance's port, V(null) for a node row.
      type: int
    url:
      description: The instance's base URL, empty when unknown.
      type: str
    gpus:
      description: The GPUs the instance uses (C(index), C(uuid), C(name), C(used_mib), C(total_mib), C(percent)).
      type: list
      elements: dict
    version:
      description: The release the instance answers with (else the one systemd runs), V(-) when unknown.
      type: str
    health:
      description: V(ok), V(down), V(unknown), V(unreachable) or V(failed).
      type: str
    unit:
      description: V(active), V(inactive), V(not loaded), or empty when systemd was not read.
      type: str
    models:
      description: The models the instance has (C(GET /api/tags)).
      type: list
      elements: str
    loaded:
      description: The loaded models (C(name), C(size), C(size_vram), C(percent) in GPU memory, C(label)).
      type: list
      elements: dict
    problems:
      description: One sentence per problem; empty when there is none.
      type: list
      elements: str
  sample:
    - id: gpu01:11434
      node: gpu01
      port: 11434
      url: http://192.0.2.11:11434
      gpus: [{index: 0, uuid: GPU-1, name: NVIDIA H100, used_mib: 76000, total_mib: 81559, percent: 93.2}]
      version: 0.14.1
      health: ok
      unit: active
      models: [big:70b, llama3:8b]
      loaded: [{name: big:70b, size: 42000000000, size_vram: 16800000000, percent: 40, label: big:70b 40% (partly on CPU)}]
      problems: ["big:70b is 40% in GPU memory (partly on CPU)."]
"""

import math
import re

from collections.abc import Mapping

from ansible.errors import AnsibleFilterError

from ansible_collections.gpufleet.ollama.plugins.plugin_utils._settings import url_host

GPU_FULL_PERCENT = 95.0


def _pairs(nodes):
    if isinstance(nodes, Mapping):
        pairs = list(nodes.items())
    elif isinstance(nodes, (list, tuple)):
        pairs = [tuple(p) if isinstance(p, (list, tuple)) else (p,) for p in nodes]
    else:
        raise AnsibleFilterError('ollama_status_rows expects [node, data] pairs or a mapping, got %s'
                                 % type(nodes).__name__)
    for pair in pairs:
        if len(pair) != 2:
            raise AnsibleFilterError('ollama_status_rows: expected a [node, data] pair, got %r' % (pair,))
    return [(str(node), data) for node, data in pairs]


def _int(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _port_of(result):
    """The port of a health result (item.port)."""
    item = result.get('item') if isinstance(result, Mapping) else None
    return _int(item.get('port')) if isinstance(item, Mapping) else None


def _by_port(results):
    return {_port_of(r): r for r in results or [] if isinstance(r, Mapping) and _port_of(r) is not None}


def gpu_entry(gpu):
    used, total = _int(gpu.get('memory_used_mib')), _int(gpu.get('memory_total_mib'))
    percent = round(100.0 * used / total, 1) if used is not None and total else None
    return {'index': gpu.get('index'), 'uuid': str(gpu.get('uuid') or ''), 'name': str(gpu.get('name') or ''),
            'used_mib': used, 'total_mib': total, 'percent': percent}


def loaded_entry(model):
    name = str(model.get('name') or model.get('model') or '?')
    size, vram = _int(model.get('size')), _int(model.get('size_vram')) or 0
    if not size or size <= 0:
        return {'name': name, 'size': size, 'size_vram': vram, 'percent': None, 'label': name}
    # floor, so a model with one byte off the GPU never reads 100%
    percent = 100 if vram >= size else int(math.floor(100.0 * vram / size))
    note = '' if vram >= size else (' (partly on CPU)' if vram > 0 else ' (on CPU)')
    return {'name': name, 'size': size, 'size_vram': vram, 'percent': percent, 'label': '%s %d%%%s' % (name, percent, note)}


def _url(host, port):
    return 'http://%s:%s' % (url_host(host), port) if host else ''


def _one_line(text):
    return ' '.join(str(text).split())


def _node_row(node, health, problem):
    return {'id': node, 'node': node, 'port': None, 'url': '', 'gpus': [], 'version': '-', 'health': health,
            'unit': '', 'models': [], 'loaded': [], 'problems': [_one_line(problem)]}


def _instance_gpus(pinned, gpus):
    if not pinned:
        return list(gpus)
    pinned = [str(p) for p in pinned]
    return [g for g in gpus if g['uuid'] in pinned or str(g['index']) in pinned]


def _instance_rows(node, data):
    gpus = [gpu_entry(g) for g in data.get('gpus') or [] if isinstance(g, Mapping)]
    layout = {}
    for instance in data.get('instances') or []:
        if isinstance(instance, Mapping) and _int(instance.get('port')) is not None:
            layout[_int(instance['port'])] = instance.get('gpus') or []
    states = {_int(p): s for p, s in (data.get('states') or {}).items() if _int(p) is not None and isinstance(s, Mapping)}
    health = _by_port(data.get('health'))
    ports = set(layout) | {p for p, s in states.items() if s.get('serves')} | set(health)
    expected = str(data.get('expected_version') or '')
    rows = []
    for port in sorted(ports):
        problems = []
        state = states.get(port)
        unit = '' if not states else ('not loaded' if state is None else 'active' if state.get('serves') else 'inactive')
        result = health.get(port)
        if result is None or result.get('skipped'):
            status, version = 'unknown', str((state or {}).get('release') or '-')
            problems.append('Not checked.')
        elif result.get('failed'):
            status, version = 'down', str((state or {}).get('release') or '-')
            problems.append('Down%s: %s' % (' (unit %s)' % unit if unit and unit != 'active' else '',
                                            result.get('msg') or 'no answer'))
        else:
            status, version = 'ok', str(result.get('version') or '-')
        if expected and version not in ('-', expected):
            problems.append('Runs %s, ollama_version is %s.' % (version, expected))
        if port not in layout and layout:
            problems.append('Runs but is not in the layout (ollama_instances).')
        row_gpus = _instance_gpus(layout.get(port), gpus)
        if not gpus:
            problems.append('No GPU: %s.' % (data.get('gpu_reason') or 'nvidia-smi listed none'))
        for gpu in row_gpus:
            if gpu['percent'] is not None and gpu['percent'] > GPU_FULL_PERCENT:
                problems.append('GPU %s (%s) memory %s%% used (%s of %s MiB).'
                                % (gpu['index'], gpu['uuid'], gpu['percent'], gpu['used_mib'], gpu['total_mib']))
        running = result.get('loaded') if isinstance(result, Mapping) else None   # ollama_health, loaded=true
        models_loaded = [loaded_entry(m) for m in running or [] if isinstance(m, Mapping)]
        for m in models_loaded:
            if m['percent'] is not None and m['percent'] < 100:
                problems.append('%s is %d%% in GPU memory (%s).'
                                % (m['name'], m['percent'], 'partly on CPU' if m['size_vram'] else 'on CPU'))
        rows.append({'id': '%s:%s' % (node, port), 'node': node, 'port': port, 'url': _url(data.get('url_host'), port),
                     'gpus': row_gpus, 'version': version, 'health': status, 'unit': unit,
                     'models': [str(m) for m in (result or {}).get('models') or []], 'loaded': models_loaded,
                     'problems': [_one_line(p) for p in problems]})
    return rows


def _natural(text):
    return [int(t) if t.isdigit() else t for t in re.split(r'([0-9]+)', text)]


def ollama_status_rows(nodes):
    rows = []
    for node, data in _pairs(nodes):
        if not isinstance(data, Mapping):
            rows.append(_node_row(node, 'unknown', 'No result: the node failed before the report or was not in this run.'))
            continue
        if data.get('reached') is False:
            rows.append(_node_row(node, 'unreachable', 'Unreachable: %s' % (data.get('msg') or 'no answer')))
            continue
        if data.get('failure'):
            rows.append(_node_row(node, 'failed', 'Failed: %s' % data['failure']))
        for problem in data.get('layout_problems') or []:
            rows.append(_node_row(node, 'failed', str(problem)))
        instance_rows = _instance_rows(node, data)
        if not instance_rows and not data.get('failure') and not data.get('layout_problems'):
            rows.append(_node_row(node, 'unknown', 'No Ollama instance found.'))
        rows.extend(instance_rows)
    rows.sort(key=lambda r: (not r['problems'], _natural(r['node']), r['port'] is not None, r['port'] or 0))
    return rows


class FilterModule(object):
    def filters(self):
        return {'ollama_status_rows': ollama_status_rows}
