# -*- coding: utf-8 -*-
# Copyright (c) 2026, gpufleet maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""ollama_status_rows, ollama_status_table and ollama_status_html (playbooks/status.yml)."""

from __future__ import annotations

import re

import pytest

from ansible.errors import AnsibleFilterError

from ansible_collections.gpufleet.ollama.plugins.filter.ollama_status_html import ollama_status_html
from ansible_collections.gpufleet.ollama.plugins.filter.ollama_status_rows import loaded_entry, ollama_status_rows
from ansible_collections.gpufleet.ollama.plugins.filter.ollama_status_table import ollama_status_table

GPU0 = {'index': 0, 'uuid': 'GPU-aaa', 'name': 'NVIDIA H100 80GB HBM3', 'memory_total_mib': 80000, 'memory_used_mib': 32000}
GPU1 = {'index': 1, 'uuid': 'GPU-bbb', 'name': 'NVIDIA H100 80GB HBM3', 'memory_total_mib': 80000, 'memory_used_mib': 1000}
GPU1_FULL = dict(GPU1, memory_used_mib=78000)


def health(port, version='0.14.1', models=(), failed=False, msg='', loaded=()):
    """A result of ollama_health with loaded=true: an instance that answered has its loaded models read."""
    result = {'item': {'port': port, 'gpus': []}, 'instance': 'n:%s' % port, 'failed': failed, 'models': list(models),
              'loaded': list(loaded), 'loaded_error': None}
    if failed:
        result.update(msg=msg, loaded=None, loaded_error='not read: the instance did not answer')
    else:
        result['version'] = version
    return result


def ps(*models):
    """The loaded models as ollama_health returns them (GET /api/ps)."""
    return [{'name': n, 'model': n, 'size': size, 'size_vram': vram, 'context_length': 4096,
             'expires_at': '2026-11-30T17:05:00Z'} for n, size, vram in models]


def node(loaded=None, **kw):
    """A node's data; ``loaded`` (port: ps(...)) goes into the health results of those ports."""
    data = {'reached': True, 'gpus': [GPU0, GPU1], 'gpu_reason': None,
            'instances': [{'port': 11434, 'gpus': ['GPU-aaa']}, {'port': 11435, 'gpus': ['GPU-bbb']}],
            'states': {}, 'health': [health(11434, models=['llama3:8b']), health(11435, models=['big:70b'])],
            'expected_version': '0.14.1', 'url_host': '192.0.2.11'}
    data.update(kw)
    loaded = {11434: ps(('llama3:8b', 5000, 5000))} if loaded is None else loaded
    data['health'] = [dict(r, loaded=loaded[r['item']['port']]) if r.get('item', {}).get('port') in loaded else r
                      for r in data['health']]
    return data


def by_id(rows):
    return {r['id']: r for r in rows}


# --- ollama_status_rows ---------------------------------------------------------------------------------------

def test_healthy_node_gives_one_row_per_instance_with_its_gpu():
    rows = ollama_status_rows([['gpu01', node()]])
    assert [r['id'] for r in rows] == ['gpu01:11434', 'gpu01:11435']
    first = rows[0]
    assert first['url'] == 'http://192.0.2.11:11434'
    assert first['gpus'] == [{'index': 0, 'uuid': 'GPU-aaa', 'name': 'NVIDIA H100 80GB HBM3', 'used_mib': 32000,
                              'total_mib': 80000, 'percent': 40.0}]
    assert (first['version'], first['health'], first['models']) == ('0.14.1', 'ok', ['llama3:8b'])
    assert first['loaded'] == [{'name': 'llama3:8b', 'size': 5000, 'size_vram': 5000, 'percent': 100,
                                'label': 'llama3:8b 100%'}]
    assert all(r['problems'] == [] for r in rows)


@pytest.mark.parametrize('size, vram, percent, label', [
    (1000, 1000, 100, 'm 100%'),
    (1000, 400, 40, 'm 40% (partly on CPU)'),
    (1000, 999, 99, 'm 99% (partly on CPU)'),       # floored: never 100% while a byte is off the GPU
    (1000, 0, 0, 'm 0% (on CPU)'),
    (0, 0, None, 'm'),
])
def test_share_of_a_loaded_model_in_gpu_memory(size, vram, percent, label):
    entry = loaded_entry({'name': 'm', 'size': size, 'size_vram': vram})
    assert (entry['percent'], entry['label']) == (percent, label)


def test_partial_offload_is_shown_and_is_a_problem():
    rows = by_id(ollama_status_rows({'gpu01': node(loaded={11434: ps(('llama3:8b', 5000, 5000), ('big:70b', 1000, 400))})}))
    row = rows['gpu01:11434']
    assert [m['label'] for m in row['loaded']] == ['llama3:8b 100%', 'big:70b 40% (partly on CPU)']
    assert row['problems'] == ['big:70b is 40% in GPU memory (partly on CPU).']


def test_loaded_models_come_from_the_health_results():
    rows = by_id(ollama_status_rows([['n', node(loaded={11434: ps(('llama3:8b', 5000, 5000)),
                                                        11435: ps(('big:70b', 1000, 0))})]]))
    assert [m['label'] for m in rows['n:11434']['loaded']] == ['llama3:8b 100%']
    assert [m['label'] for m in rows['n:11435']['loaded']] == ['big:70b 0% (on CPU)']
    assert rows['n:11435']['problems'] == ['big:70b is 0% in GPU memory (on CPU).']


def test_a_failed_loaded_read_shows_nothing_loaded_and_is_no_problem():
    """As when the uri GET /api/ps failed: the row lists no loaded model (the report is unchanged)."""
    failed_read = dict(health(11434, models=['llama3:8b']), loaded=None,
                       loaded_error='GET http://192.0.2.11:11434/api/ps failed: HTTP 500: boom')
    rows = by_id(ollama_status_rows([['n', node(health=[failed_read, health(11435, failed=True, msg='refused')],
                                                loaded={})]]))
    assert rows['n:11434']['loaded'] == [] and rows['n:11434']['problems'] == []
    assert rows['n:11435']['loaded'] == [] and rows['n:11435']['problems'] == ['Down: refused']


def test_unreachable_failed_and_missing_nodes_become_node_rows():
    rows = by_id(ollama_status_rows([
        ['gpu01', node()],
        ['gpu02', {'reached': False, 'msg': 'ssh: connect to host 192.0.2.12\nport 22: No route to host'}],
        ['gpu03', {'reached': True, 'failure': 'Read the GPUs: boom'}],
        ['gpu04', False],
        ['gpu05', None],
    ]))
    assert rows['gpu02']['health'] == 'unreachable'
    assert rows['gpu02']['port'] is None
    assert rows['gpu02']['problems'] == ['Unreachable: ssh: connect to host 192.0.2.12 port 22: No route to host']
    assert (rows['gpu03']['health'], rows['gpu03']['problems']) == ('failed', ['Failed: Read the GPUs: boom'])
    assert rows['gpu04']['health'] == rows['gpu05']['health'] == 'unknown'
    assert rows['gpu04']['problems'][0].startswith('No result')


def test_problems_come_first_then_nodes_in_natural_order():
    rows = ollama_status_rows([
        ['gpu10', node()],
        ['gpu2', node(health=[health(11434), health(11435, failed=True, msg='instance gpu2:11435: not ready')])],
        ['gpu9', {'reached': False, 'msg': 'timeout'}],
        ['gpu1', node()],
    ])
    assert [r['id'] for r in rows] == ['gpu2:11435', 'gpu9', 'gpu1:11434', 'gpu1:11435', 'gpu2:11434',
                                       'gpu10:11434', 'gpu10:11435']
    assert rows[0]['health'] == 'down'
    assert rows[0]['problems'] == ['Down: instance gpu2:11435: not ready']


def test_down_instance_names_its_unit_state_and_keeps_the_release_systemd_runs():
    states = {'11434': {'serves': True, 'release': '0.14.1'}, '11435': {'serves': False, 'release': '0.14.1'}}
    rows = by_id(ollama_status_rows([['n', node(states=states, health=[
        health(11434), health(11435, failed=True, msg='refused')])]]))
    assert rows['n:11434']['unit'] == 'active'
    assert rows['n:11435']['unit'] == 'inactive'
    assert rows['n:11435']['version'] == '0.14.1'
    assert rows['n:11435']['problems'] == ['Down (unit inactive): refused']


def test_gpu_memory_above_95_percent_wrong_release_and_stray_instance():
    states = {'11434': {'serves': True}, '11435': {'serves': True}, '11499': {'serves': True},
              '11500': {'serves': False}}
    rows = by_id(ollama_status_rows([['n', node(states=states, gpus=[GPU0, GPU1_FULL], health=[
        health(11434, version='0.12.3'), health(11435), health(11499)])]]))
    assert rows['n:11434']['problems'] == ['Runs 0.12.3, ollama_version is 0.14.1.']
    assert rows['n:11435']['problems'] == ['GPU 1 (GPU-bbb) memory 97.5% used (78000 of 80000 MiB).']
    assert rows['n:11499']['problems'] == ['Runs but is not in the layout (ollama_instances).',
                                           'GPU 1 (GPU-bbb) memory 97.5% used (78000 of 80000 MiB).']
    assert [g['uuid'] for g in rows['n:11499']['gpus']] == ['GPU-aaa', 'GPU-bbb']    # unpinned: sees every GPU
    assert 'n:11500' not in rows                                                     # loaded but stopped: not listed


def test_node_without_gpu_no_instance_layout_problems_and_unchecked_instances():
    rows = by_id(ollama_status_rows([
        ['cpu', node(gpus=[], gpu_reason='nvidia-smi not found', instances=[{'port': 11434, 'gpus': []}],
                     health=[health(11434)], loaded={})],
        ['empty', node(instances=[], health=[], loaded={})],
        ['bad', node(instances=[], health=[], layout_problems=['bad: ollama_instances names GPUs this node does not have.'])],
        ['skipped', node(health=[{'item': {'port': 11434}, 'skipped': True}], loaded={})],
    ]))
    assert rows['cpu:11434']['problems'] == ['No GPU: nvidia-smi not found.']
    assert rows['empty']['problems'] == ['No Ollama instance found.']
    assert rows['bad']['problems'] == ['bad: ollama_instances names GPUs this node does not have.']
    assert rows['skipped:11434']['health'] == 'unknown'
    assert rows['skipped:11435']['problems'] == ['Not checked.']


def test_ipv6_url_and_no_version_check():
    rows = ollama_status_rows([['n', node(url_host='fd00::11', expected_version='')]])
    assert rows[0]['url'] == 'http://[fd00::11]:11434'
    assert ollama_status_rows([['n', node(url_host='')]])[0]['url'] == ''


def test_rows_reject_other_input():
    assert ollama_status_rows([]) == [] and ollama_status_rows({}) == []
    for bad in ('x', 3, [['a', {}, 'extra']], ['a']):
        with pytest.raises(AnsibleFilterError):
            ollama_status_rows(bad)


# --- ollama_status_table --------------------------------------------------------------------------------------

def test_table_lists_problems_first_and_shows_the_share_on_gpu():
    rows = ollama_status_rows([
        ['gpu01', node(gpus=[GPU0, GPU1_FULL], loaded={11434: ps(('llama3:8b', 5000, 5000), ('big:70b', 1000, 400))})],
        ['gpu02', {'reached': False, 'msg': 'timeout'}],
    ])
    lines = ollama_status_table(rows)
    assert lines[0] == '2 nodes, 2 instances, 3 rows with a problem'
    assert lines[1:4] == ['PROBLEM gpu01:11434: big:70b is 40% in GPU memory (partly on CPU).',
                          'PROBLEM gpu01:11435: GPU 1 (GPU-bbb) memory 97.5% used (78000 of 80000 MiB).',
                          'PROBLEM gpu02: Unreachable: timeout']
    assert lines[4] == ''
    assert lines[5].split() == ['NODE', 'INSTANCE', 'GPU', 'VERSION', 'HEALTH', 'PRESENT', 'LOADED', '(ON', 'GPU)']
    assert lines[6].startswith('gpu01  11434     0 NVIDIA H100 80GB HBM3 (32000/80000 MiB)  0.14.1   ok ')
    assert lines[6].endswith('llama3:8b  llama3:8b 100%, big:70b 40% (partly on CPU)')
    assert lines[8].split() == ['gpu02', '-', '-', '-', 'unreachable', '-', '-']


def test_table_of_an_empty_fleet_and_bad_input():
    assert ollama_status_table([]) == ['0 nodes, 0 instances, 0 rows with a problem', '',
                                       'NODE  INSTANCE  GPU  VERSION  HEALTH  PRESENT  LOADED (ON GPU)']
    with pytest.raises(AnsibleFilterError):
        ollama_status_table('rows')
    with pytest.raises(AnsibleFilterError):
        ollama_status_table(['row'])


# --- ollama_status_html ---------------------------------------------------------------------------------------

def rows_of(html):
    return re.findall(r'<tr id="([^"]*)" data-instance="([^"]*)"[^>]*?(?: class="(problem)")?>', html)


def test_html_escapes_every_value():
    evil = '<script>alert(1)</script>'
    data = node(gpus=[dict(GPU0, name='GPU "<b>" & co'), GPU1], url_host='h"><x',
                health=[health(11434, version='1<2', models=[evil]),
                        health(11435, failed=True, msg='refused & <gone>')],
                loaded={11434: ps(('a&b', 10, 10))})
    html = ollama_status_html(ollama_status_rows([['n<1>', data]]), generated='<now>', title='T & <t>')
    assert '<script' not in html and '<b>' not in html and '<x' not in html and '<gone>' not in html
    for text in ('&lt;script&gt;alert(1)&lt;/script&gt;', 'GPU &quot;&lt;b&gt;&quot; &amp; co', 'refused &amp; &lt;gone&gt;',
                 'a&amp;b 100%', '&lt;now&gt;', '<title>T &amp; &lt;t&gt;</title>', 'data-instance="n&lt;1&gt;:11435"',
                 'data-version="1&lt;2"', 'http://h&quot;&gt;&lt;x:11434'):
        assert text in html


def test_html_is_self_contained():
    html = ollama_status_html(ollama_status_rows([['gpu01', node()], ['gpu02', {'reached': False}]]), generated='now')
    assert html.startswith('<!DOCTYPE html>\n<html lang="en">')
    assert '<style>' in html
    for forbidden in ('<script', '<link', '<img', '@import', 'url(', 'src=', '<iframe'):
        assert forbidden not in html
    assert re.findall(r'href="([^"]*)"', html) == ['#gpu02']     # only links inside the page


def test_html_problems_section_first_and_problem_rows_first():
    rows = ollama_status_rows([
        ['gpu01', node(loaded={11434: ps(('big:70b', 1000, 400))})],
        ['gpu02', {'reached': False, 'msg': 'no route'}],
    ])
    html = ollama_status_html(rows, generated='2026-11-30 17:00:00 UTC')
    assert html.index('<section id="problems">') < html.index('<section id="instances">')
    assert re.findall(r'<li data-problem="([^"]*)">', html) == ['gpu01:11434', 'gpu02']
    assert rows_of(html) == [('gpu01:11434', 'gpu01:11434', 'problem'), ('gpu02', 'gpu02', 'problem'),
                             ('gpu01:11435', 'gpu01:11435', '')]
    assert '<li class="partial">big:70b 40% (partly on CPU)</li>' in html
    assert 'Problems (2)' in html and '2026-11-30 17:00:00 UTC' in html
    assert '<span data-count="nodes">2 nodes</span>' in html
    assert '<span data-count="with a problem">2 with a problem</span>' in html


def test_unreachable_node_row():
    html = ollama_status_html(ollama_status_rows([['gpu02', {'reached': False, 'msg': 'no route'}]]))
    assert '<tr id="gpu02" data-instance="gpu02" data-version="-" data-health="unreachable" class="problem">' in html
    assert '<span class="health-unreachable">unreachable</span>' in html
    assert 'Unreachable: no route' in html


@pytest.mark.parametrize('used, total, width, full', [
    (32000, 80000, 'width:40.0%', False),
    (0, 80000, 'width:0.0%', False),
    (78000, 80000, 'width:97.5%', True),
    (90000, 80000, 'width:100.0%', True),       # clamped
    (None, None, 'width:0.0%', False),          # unknown: an empty bar, "memory unknown"
])
def test_gpu_memory_bars(used, total, width, full):
    gpu = dict(GPU0, memory_used_mib=used, memory_total_mib=total)
    data = node(gpus=[gpu], instances=[{'port': 11434, 'gpus': []}], health=[health(11434)])
    html = ollama_status_html(ollama_status_rows([['n', data]]))
    bars = re.findall(r'<div class="fill( full)?" style="([^"]*)"></div>', html)
    assert bars == [(' full' if full else '', width)]
    assert ('%s / %s MiB' % (used, total) if total else 'memory unknown') in html


def test_html_of_an_empty_fleet():
    html = ollama_status_html([], generated='now')
    assert 'No problem found.' in html and 'Problems (0)' in html
    assert 'No GPU node in this run.' in html
    assert rows_of(html) == []
    assert '<span data-count="instances">0 instances</span>' in html
    with pytest.raises(AnsibleFilterError):
        ollama_status_html({'rows': []})
