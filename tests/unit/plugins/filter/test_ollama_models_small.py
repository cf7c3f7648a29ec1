# -*- coding: utf-8 -*-
# Copyright (c) 2026, gpufleet maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""ollama_models_status, ollama_models_report, ollama_models_offload and ollama_rsync_stats."""

from __future__ import annotations

import itertools

import pytest

from ansible.errors import AnsibleFilterError

from ansible_collections.gpufleet.ollama.plugins.filter.ollama_models_offload import ollama_models_offload
from ansible_collections.gpufleet.ollama.plugins.filter.ollama_models_report import ollama_models_report
from ansible_collections.gpufleet.ollama.plugins.filter.ollama_models_status import ollama_models_status
from ansible_collections.gpufleet.ollama.plugins.filter.ollama_rsync_stats import ollama_rsync_stats

D1 = '0123456789ab' + 'c' * 52
D2, D3, D4, D5 = ('%x' % i * 64 for i in range(2, 6))


# --- ollama_models_status -------------------------------------------------------------------------------------

def test_status_rows():
    declared = ['new:latest', 'same:latest', 'upd:7b', 'gone:latest']
    before = [{'name': 'same:latest', 'digest': D2}, {'name': 'upd:7b', 'digest': D3}, {'name': 'old:latest', 'digest': D4}]
    after = [{'name': 'new:latest', 'digest': D1}, {'name': 'same:latest', 'digest': D2}, {'name': 'upd:7b', 'digest': D5}]
    assert ollama_models_status(declared, after, before, ['old:latest']) == [
        {'name': 'new:latest', 'digest': D1, 'status': 'placed'},
        {'name': 'same:latest', 'digest': D2, 'status': 'in place'},
        {'name': 'upd:7b', 'digest': D5, 'status': 'updated'},
        {'name': 'gone:latest', 'digest': None, 'status': 'MISSING'},
        {'name': 'old:latest', 'digest': D4, 'status': 'removed'},
    ]


@pytest.mark.parametrize('before, after, status', [
    ([], [{'name': 'm:latest', 'digest': D1}], 'placed'),
    ([{'name': 'm:latest', 'digest': D1}], [{'name': 'm:latest', 'digest': D1}], 'in place'),
    ([{'name': 'm:latest', 'digest': D1}], [{'name': 'm:latest', 'digest': D2}], 'updated'),
    ([{'name': 'm:latest', 'digest': D1}], [], 'MISSING'),        # check mode, or removed by hand
    ([], [], 'MISSING'),
    (None, None, 'MISSING'),
    ([{'name': 'M:Latest', 'digest': D1}], [{'name': 'M:LATEST', 'digest': D1}], 'in place'),   # case-insensitive
    (['junk', {'digest': D1}], [{'name': 'm:latest', 'digest': D1}, 42], 'placed'),
])
def test_status_of_one_model(before, after, status):
    rows = ollama_models_status(['m:latest'], after, before)
    assert [r['status'] for r in rows] == [status]
    assert rows[0]['name'] == 'm:latest'


def test_status_removed_without_a_former_digest():
    assert ollama_models_status([], [], [], ['x:latest', 'Old:Latest']) == [
        {'name': 'x:latest', 'digest': None, 'status': 'removed'},
        {'name': 'Old:Latest', 'digest': None, 'status': 'removed'},
    ]
    assert ollama_models_status([], [], [{'name': 'old:latest', 'digest': D4}], ['Old:Latest'])[0]['digest'] == D4


def test_status_expects_a_list():
    with pytest.raises(AnsibleFilterError, match='list of declared models'):
        ollama_models_status('m:latest', [], [])


# --- ollama_models_report -------------------------------------------------------------------------------------

@pytest.mark.parametrize('row, on_gpu', [
    ({'size': 100, 'size_vram': 100}, 'yes'),
    ({'size': 100, 'size_vram': 120}, 'yes'),
    ({'size': 100, 'size_vram': 99}, 'PARTLY'),
    ({'size': 100, 'size_vram': 1}, 'PARTLY'),
    ({'size': 100, 'size_vram': 0}, 'NO (CPU)'),
    ({'size': 100, 'size_vram': None}, '-'),
    ({'size': 0, 'size_vram': 0}, '-'),
    ({'size': None, 'size_vram': 5}, '-'),
    ({}, '-'),                                       # not loaded
])
def test_report_on_gpu(row, on_gpu):
    lines = ollama_models_report([['gpu01', {'models': [dict(row, name='m:latest', digest=D1, status='placed')]}]])
    assert len(lines) == 2
    assert lines[1].split('  ')[0] == 'gpu01'
    cells = [c.strip() for c in lines[1].split('  ') if c.strip()]
    assert cells == ['gpu01', 'm:latest', D1[:12], on_gpu, 'placed']


def test_report_table():
    rows = [
        {'name': 'qwen2:7b', 'digest': D1, 'status': 'placed', 'size': 100, 'size_vram': 100},
        {'name': 'deepseek-r1:32b', 'digest': D2, 'status': 'in place', 'size': 100, 'size_vram': 30},
        {'name': 'old:latest', 'digest': None, 'status': 'removed'},
    ]
    lines = ollama_models_report([
        ['gpu01', {'models': rows}],
        ['gpu02', None],
        ['gpu03', False],
        ['gpu04', {'models': []}],
        ['gpu05', {'models': [{'name': 'tiny:latest', 'digest': D3, 'size': 10, 'size_vram': 0}]}],
        ['gpu06', {'changed': False}],
    ])
    assert lines == [
        'node   model            digest        on GPU    status',
        'gpu01  qwen2:7b         0123456789ab  yes       placed',
        'gpu01  deepseek-r1:32b  222222222222  PARTLY    in place',
        'gpu01  old:latest       -             -         removed',
        'gpu02  -                -             -         no result',
        'gpu03  -                -             -         no result',
        'gpu04  -                -             -         no model declared',
        'gpu05  tiny:latest      333333333333  NO (CPU)  ?',
        'gpu06  -                -             -         no model declared',
    ]
    assert all(line == line.rstrip() for line in lines)


def test_report_digest_is_shortened_to_12():
    lines = ollama_models_report([['n', {'models': [{'name': 'm', 'digest': 'abcdef0123456789', 'status': 'built'}]}]])
    assert 'abcdef012345 ' in lines[1]
    assert 'abcdef0123456' not in lines[1]


def test_report_of_nobody():
    assert ollama_models_report([]) == ['node  model  digest  on GPU  status']


def test_report_expects_pairs():
    with pytest.raises(AnsibleFilterError, match='pairs'):
        ollama_models_report({'gpu01': {}})


# --- ollama_models_offload ------------------------------------------------------------------------------------

def health(endpoint, model, size=None, size_vram=None, **extra):
    result = {'item': [endpoint, model], 'changed': False}
    if size is not None:
        result['gpu_offload'] = {'model': model, 'size': size, 'size_vram': size_vram}
    result.update(extra)
    return result


RESULTS = [
    health('gpu01:11434', 'qwen2:7b', 100, 100),
    health('gpu01:11435', 'qwen2:7b', 100, 40),                   # the worst
    health('gpu01:11436', 'library/qwen2:7b', 100, 70),           # the same model, another spelling
    health('gpu01:11434', 'tiny', 10, 10),
    health('gpu01:11435', 'qwen2:7b', skipped=True),               # no gpu_offload
    {'item': ['gpu01:11435', 'qwen2:7b'], 'gpu_offload': None},
    {'item': 'gpu01:11435', 'gpu_offload': {'size': 100, 'size_vram': 0}},   # not a pair
    {'item': ['gpu01:11437', 'qwen2:7b'], 'gpu_offload': {'model': 'qwen2:7b'}},   # no size
]


@pytest.mark.parametrize('order', list(itertools.permutations(range(4))))
def test_offload_keeps_the_worst_instance(order):
    results = [RESULTS[i] for i in order] + RESULTS[4:]
    rows = [{'name': 'qwen2:7b', 'digest': D1, 'status': 'placed'}, {'name': 'tiny:latest', 'digest': D2, 'status': 'placed'},
            {'name': 'other:latest', 'digest': D3, 'status': 'MISSING'}]
    out = ollama_models_offload(rows, results)
    assert out == [
        {'name': 'qwen2:7b', 'digest': D1, 'status': 'placed', 'size': 100, 'size_vram': 40},
        {'name': 'tiny:latest', 'digest': D2, 'status': 'placed', 'size': 10, 'size_vram': 10},
        {'name': 'other:latest', 'digest': D3, 'status': 'MISSING'},
    ]
    assert 'size' not in rows[0]                      # the input rows are not changed


@pytest.mark.parametrize('results, size, size_vram', [
    ([health('a', 'm', 200, 100), health('b', 'm', 100, 60)], 200, 100),      # a fraction, not bytes
    ([health('a', 'm', 100, 60), health('b', 'm', 200, 100)], 200, 100),
    ([health('a', 'm', 100, 100), health('b', 'm', 100, 0)], 100, 0),
    ([health('a', 'm', 100, 0), health('b', 'm', 100, 100)], 100, 0),
    ([{'item': ['a', 'm'], 'gpu_offload': {'size': 100}}], 100, 0),            # no size_vram: on the CPU
])
def test_offload_fraction(results, size, size_vram):
    row = ollama_models_offload([{'name': 'm:latest'}], results)[0]
    assert (row['size'], row['size_vram']) == (size, size_vram)


def test_offload_feeds_the_report():
    rows = ollama_models_offload([{'name': 'qwen2:7b', 'digest': D1, 'status': 'placed'}], RESULTS)
    assert ollama_models_report([['gpu01', {'models': rows}]])[1].split()[3] == 'PARTLY'


@pytest.mark.parametrize('rows, results', [({}, []), ([], None), ('x', [])])
def test_offload_expects_lists(rows, results):
    with pytest.raises(AnsibleFilterError, match='rows and the results'):
        ollama_models_offload(rows, results)


# --- ollama_rsync_stats ---------------------------------------------------------------------------------------

# rsync 3.2.7 `rsync --times --partial-dir=.rsync-partial --stats` (C locale)
RSYNC_32 = """\
receiving incremental file list
blobs/sha256-6150cb382311b69f09cc0f9a1b69fc029cbd742b66bb8ec531aa5ecf5c613e93
manifests/registry.ollama.ai/library/qwen2/7b

Number of files: 2 (reg: 2)
Number of created files: 2 (reg: 2)
Number of deleted files: 0
Number of regular files transferred: 2
Total file size: 4,431,390,130 bytes
Total transferred file size: 4,431,390,130 bytes
Literal data: 1,048,576 bytes
Matched data: 4,430,341,554 bytes
File list size: 0
File list generation time: 0.001 seconds
File list transfer time: 0.000 seconds
Total bytes sent: 51,294
Total bytes received: 1,050,213

sent 51,294 bytes  received 1,050,213 bytes  733,958.00 bytes/sec
total size is 4,431,390,130  speedup is 4,023.08
"""


def test_rsync_stats_of_rsync_32():
    assert ollama_rsync_stats(RSYNC_32) == {
        'files_transferred': 2,
        'total_file_size': 4431390130,
        'total_transferred_file_size': 4431390130,
        'literal_data': 1048576,
        'matched_data': 4430341554,
        'total_bytes_sent': 51294,
        'total_bytes_received': 1050213,
    }


def test_rsync_stats_nothing_to_send():
    text = ('\nNumber of files: 1 (reg: 1)\nNumber of created files: 0\nNumber of deleted files: 0\n'
            'Number of regular files transferred: 0\nTotal file size: 3,000 bytes\nTotal transferred file size: 0 bytes\n'
            'Literal data: 0 bytes\nMatched data: 0 bytes\nFile list size: 0\nTotal bytes sent: 20\n'
            'Total bytes received: 61\n\nsent 20 bytes  received 61 bytes  162.00 bytes/sec\n')
    assert ollama_rsync_stats(text) == {'files_transferred': 0, 'total_file_size': 3000, 'total_transferred_file_size': 0,
                                        'literal_data': 0, 'matched_data': 0, 'total_bytes_sent': 20,
                                        'total_bytes_received': 61}


@pytest.mark.parametrize('line, key, value', [
    ('Literal data: 1,048,576 bytes', 'literal_data', 1048576),
    ('Literal data: 1.048.576 bytes', 'literal_data', 1048576),        # a locale with . between thousands
    ('Literal data: 1048576 bytes', 'literal_data', 1048576),           # rsync 3.0, no separators
    ('   Matched data: 12 bytes', 'matched_data', 12),
    ('Total bytes received: 7', 'total_bytes_received', 7),
    ('Number of regular files transferred: 1,234', 'files_transferred', 1234),
])
def test_rsync_stats_one_line(line, key, value):
    assert ollama_rsync_stats(line + '\n') == {key: value}


@pytest.mark.parametrize('text', [
    '',
    'Number of files: 4 (reg: 3, dir: 1)\nFile list size: 0\nFile list generation time: 0.001 seconds\n',
    'sent 51,294 bytes  received 1,050,213 bytes  733,958.00 bytes/sec\ntotal size is 4,431,390,130  speedup is 4.0\n',
    'Literal data: unknown\n',
    'rsync: [Receiver] failed to connect to 10.0.0.6 (10.0.0.6): Connection refused (111)\n',
])
def test_rsync_stats_counts_not_printed_are_absent(text):
    assert ollama_rsync_stats(text) == {}


def test_rsync_stats_human_readable_suffix():
    assert 'literal_data' not in ollama_rsync_stats('Literal data: 1.05M bytes\n')


@pytest.mark.parametrize('value', [None, 5])
def test_rsync_stats_expects_text(value):
    with pytest.raises(AnsibleFilterError, match='expects the text'):
        ollama_rsync_stats(value)


def test_rsync_stats_reads_stdout_lines():
    assert ollama_rsync_stats(['Literal data: 1,024 bytes', 'Matched data: 2 bytes']) == {
        'literal_data': 1024, 'matched_data': 2}
