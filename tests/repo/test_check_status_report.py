# -*- coding: utf-8 -*-
# Copyright (c) 2026, gpufleet maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""tests/integration/check_status_report.py against a report the status filters build from sample data: headless
Chromium renders it (DOM and screenshot), the checker finds every instance row, its version and health, and the
problems; it fails, naming what is wrong, on a missing row, an unlisted problem or another version. The DOM checks
also run on a hand-written page, without a browser."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))
SCRIPT = os.path.join(ROOT, 'tests', 'integration', 'check_status_report.py')
COLLECTIONS = os.path.join(ROOT, '.collections')      # the committed link that makes gpufleet.ollama importable
for path in (os.path.dirname(SCRIPT), COLLECTIONS):
    if path not in sys.path:
        sys.path.insert(0, path)

import check_status_report  # noqa: E402
from check_status_report import check_dom, find_chromium, png_size  # noqa: E402

from ansible_collections.gpufleet.ollama.plugins.filter.ollama_status_html import ollama_status_html  # noqa: E402
from ansible_collections.gpufleet.ollama.plugins.filter.ollama_status_rows import ollama_status_rows  # noqa: E402

needs_chromium = pytest.mark.skipif(
    find_chromium() is None,
    reason='no Chromium: install the Debian package chromium-headless-shell (or chromium), or set $CHROMIUM')

GPUS = [{'index': 0, 'uuid': 'GPU-aaa', 'name': 'NVIDIA H100 80GB HBM3', 'memory_total_mib': 81559, 'memory_used_mib': 30000},
        {'index': 1, 'uuid': 'GPU-bbb', 'name': 'NVIDIA H100 80GB HBM3', 'memory_total_mib': 81559, 'memory_used_mib': 79900}]
NODES = [
    ['gpu01', {'reached': True, 'gpus': GPUS, 'url_host': '192.0.2.11', 'expected_version': '0.14.1',
               'instances': [{'port': 11434, 'gpus': ['GPU-aaa']}, {'port': 11435, 'gpus': ['GPU-bbb']}],
               'health': [{'item': {'port': 11434}, 'failed': False, 'version': '0.14.1',
                           'models': ['llama3:8b', 'big:70b', '<script>alert(1)</script>'],
                           'loaded': [{'name': 'llama3:8b', 'size': 5000, 'size_vram': 5000},
                                      {'name': 'big:70b', 'size': 10000, 'size_vram': 4000}]},
                          {'item': {'port': 11435}, 'failed': False, 'version': '0.14.1', 'models': ['llama3:8b'],
                           'loaded': []}]}],
    ['gpu02', {'reached': True, 'gpus': GPUS[:1], 'url_host': '192.0.2.12', 'expected_version': '0.14.1',
               'instances': [{'port': 11434, 'gpus': ['GPU-aaa']}],
               'health': [{'item': {'port': 11434}, 'failed': False, 'version': '0.14.1', 'models': ['llama3:8b'],
                           'loaded': []}]}],
    ['gpu03', {'reached': True, 'gpus': GPUS[:1], 'url_host': '192.0.2.13', 'expected_version': '0.14.1',
               'instances': [{'port': 11434, 'gpus': ['GPU-aaa']}],
               'health': [{'item': {'port': 11434}, 'failed': True, 'msg': 'instance gpu03:11434: not ready'}]}],
    ['gpu04', {'reached': False, 'msg': 'ssh: connect to host 192.0.2.14 port 22: No route to host'}],
]
INSTANCES = ['gpu01:11434', 'gpu01:11435', 'gpu02:11434', 'gpu03:11434']
PROBLEMS = ['gpu01:11434', 'gpu01:11435', 'gpu03:11434', 'gpu04']


@pytest.fixture(scope='module')
def report(tmp_path_factory):
    path = tmp_path_factory.mktemp('status') / 'gpufleet-status.html'
    path.write_text(ollama_status_html(ollama_status_rows(NODES), generated='2026-11-30 17:00:00 UTC'), encoding='utf-8')
    return str(path)


def run(*args):
    return subprocess.run([sys.executable, SCRIPT] + list(args), capture_output=True, text=True, timeout=600)


@needs_chromium
def test_the_report_renders_with_every_instance_and_problem(report, tmp_path):
    out = tmp_path / 'out'
    proc = run(report, str(out), *INSTANCES + ['gpu04'] + sum([['--expect-problem', p] for p in PROBLEMS], []),
               '--expect-version', '0.14.1')
    assert proc.returncode == 0, proc.stderr
    assert 'OK: 5 instance row(s), 4 problem(s)' in proc.stdout
    width, height = png_size(str(out / 'status.png'))
    assert (width, height) == (1400, 2000)
    dom = (out / 'status.dom.html').read_text(encoding='utf-8')
    assert 'data-instance="gpu01:11434"' in dom and '&lt;script&gt;' in dom and '<script>' not in dom


@needs_chromium
def test_the_checker_names_what_is_wrong(report, tmp_path):
    proc = run(report, str(tmp_path / 'out'), 'gpu01:11434', 'gpu09:11434', '--expect-problem', 'gpu02:11434',
               '--expect-version', '0.12.3')
    assert proc.returncode == 1
    assert 'no row for instance gpu09:11434' in proc.stderr
    assert 'the Problems section does not list gpu02:11434' in proc.stderr
    assert 'the row of gpu02:11434 lacks the class "problem"' in proc.stderr
    assert "the row of gpu01:11434 shows version '0.14.1', not '0.12.3'" in proc.stderr


def test_a_missing_report_or_browser_is_a_usage_error(tmp_path, monkeypatch):
    proc = run(str(tmp_path / 'nothing.html'), str(tmp_path / 'out'), 'gpu01:11434')
    assert proc.returncode == 2 and 'no report at' in proc.stderr
    monkeypatch.setattr(check_status_report, 'find_chromium', lambda explicit=None: None)
    page = tmp_path / 'page.html'
    page.write_text('<!DOCTYPE html><p>x</p>')
    with pytest.raises(check_status_report.CheckError, match='install the Debian package chromium-headless-shell'):
        check_status_report.check_report(str(page), str(tmp_path / 'out'), ['a:1'])


def test_dom_checks_without_a_browser():
    dom = ('<html><head><title>v1 ok</title></head><body>'
           '<section id="problems"><ul><li data-problem="n:2">n:2: down</li>'
           '<li data-problem="n:4" style="display: none">hidden</li></ul></section>'
           '<section id="instances"><table><tbody>'
           '<tr data-instance="n:1" data-version="v1" data-health="ok"><td>v1</td><td>ok</td></tr>'
           '<tr data-instance="n:2" data-version="v1" data-health="down" class="problem"><td>v1</td><td>down</td></tr>'
           '<tr data-instance="n:3" data-version="v1" data-health="ok"><td>v1<br><style>ok{}</style></td></tr>'
           '<tr data-instance="n:4" data-version="v1" data-health="ok" hidden><td>v1 ok</td></tr>'
           '</tbody></table></section></body></html>')
    assert check_dom(dom, ['n:1', 'n:2'], ['n:2'], 'v1') == []
    assert check_dom(dom, ['n:3', 'n:4', 'n:5'], ['n:1', 'n:4']) == [
        "the row of n:3 does not show its health 'ok'; its text is: v1",
        'the row of n:4 is not visible',
        'no row for instance n:5 (no element with data-instance="n:5")',
        'the Problems section does not list n:1 (it lists: n:2)',
        'the row of n:1 lacks the class "problem"',
        'the Problems section does not list n:4 (it lists: n:2)',
        'the row of n:4 lacks the class "problem"',
    ]
    late = dom.replace('<section id="problems">', '<div>').replace('</ul></section>', '</ul></div>', 1) + \
        '<section id="problems"></section>'
    assert 'the Problems section comes after the instances' in check_dom(late, [], ['n:2'])
