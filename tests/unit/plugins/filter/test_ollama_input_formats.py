# -*- coding: utf-8 -*-
# Copyright (c) 2026, gpufleet maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The value formats the input filters check against: Go durations (the Ollama server), nginx times and sizes,
and the shape of the ollama role's paths (plugins/plugin_utils/_settings.py)."""

from __future__ import annotations

import pytest

from ansible_collections.gpufleet.ollama.plugins.plugin_utils._settings import (
    env_problems, go_duration, nginx_size, nginx_time, ollama_duration, path_shape_problem, path_within)

NS, US, MS, S, M, H = 1, 10 ** 3, 10 ** 6, 10 ** 9, 60 * 10 ** 9, 3600 * 10 ** 9


# golang/go src/time/time_test.go, parseDurationTests: what time.ParseDuration returns.
@pytest.mark.parametrize('text, want', [
    ('0', 0), ('5s', 5 * S), ('30s', 30 * S), ('1478s', 1478 * S),
    ('-5s', -5 * S), ('+5s', 5 * S), ('-0', 0), ('+0', 0),
    ('5.0s', 5 * S), ('5.6s', 5 * S + 600 * MS), ('5.s', 5 * S), ('.5s', 500 * MS), ('1.0s', S), ('1.00s', S),
    ('1.004s', S + 4 * MS), ('1.0040s', S + 4 * MS), ('100.00100s', 100 * S + MS),
    ('10ns', 10 * NS), ('11us', 11 * US), ('12\u00b5s', 12 * US), ('12\u03bcs', 12 * US), ('13ms', 13 * MS),
    ('14s', 14 * S), ('15m', 15 * M), ('16h', 16 * H),
    ('3h30m', 3 * H + 30 * M), ('10.5s4m', 4 * M + 10 * S + 500 * MS), ('-2m3.4s', -(2 * M + 3 * S + 400 * MS)),
    ('1h2m3s4ms5us6ns', H + 2 * M + 3 * S + 4 * MS + 5 * US + 6 * NS), ('39h9m14.425s', 39 * H + 9 * M + 14 * S + 425 * MS),
    ('52763797000ns', 52763797000), ('0.3333333333333333333h', 20 * M), ('9007199254740993ns', (1 << 53) + 1),
    ('9223372036854775807ns', (1 << 63) - 1), ('9223372036854775.807us', (1 << 63) - 1),
    ('9223372036s854ms775us807ns', (1 << 63) - 1), ('-9223372036854775808ns', -(1 << 63)),
    ('-9223372036854775.808us', -(1 << 63)), ('-9223372036s854ms775us808ns', -(1 << 63)),
    ('-2562047h47m16.854775808s', -(1 << 63)), ('0.100000000000000000000h', 6 * M),
    ('0.830103483285477580700h', 49 * M + 48 * S + 372539827),
    # and what operators write
    ('1.5h', 90 * M), ('-1s', -S), ('-1m', -M), ('300ms', 300 * MS), ('24h', 24 * H), ('2h45m', 2 * H + 45 * M),
])
def test_go_duration_matches_go(text, want):
    assert go_duration(text) == want


# parseDurationErrorTests, plus operators' mistakes.
@pytest.mark.parametrize('text', [
    '', '3', '-', 's', '.', '-.', '.s', '+.s', '1d', '\ufffd', '\ufffd hello \ufffd world',
    '9223372036854775810ns', '9223372036854775808ns', '-9223372036854775809ns', '9223372036854776us', '3000000h',
    '9223372036854775.808us', '9223372036854ms775us808ns',
    '5 m', '5min', '5M', '5S', '5H', 'five', '1h 30m', ' 5m', '5m ', '5mins', '1w', '1y', '5m-', '--5m', '+-5m',
    '5m5', '1e3s', '1_000s', '0x10s', '\uff15m', '\u0665m', '5\u00a0m', '5m\n', 'PT5M', '5m;', '∞',
    '12\u00b5', '12u', '12\u03bc',
])
def test_go_duration_refuses_what_go_refuses(text):
    assert go_duration(text) is None


@pytest.mark.parametrize('value', [None, 5, 5.0, True, b'5m', ['5m']])
def test_go_duration_takes_text_only(value):
    assert go_duration(value) is None


# envconfig/config.go: trimmed of spaces, then of quotes; ParseDuration, else ParseInt seconds.
@pytest.mark.parametrize('value, want', [
    ('5m', 5 * M), ('-1', -S), ('-1s', -S), (-1, -S), (300, 300 * S), ('300', 300 * S), ('+300', 300 * S),
    ('0', 0), (0, 0), ('0300', 300 * S), (' 5m ', 5 * M), ('"5m"', 5 * M), ("'10m'", 10 * M), ('\t5m', 5 * M),
    ('9223372036', 9223372036 * S), ('-9223372036', -9223372036 * S), ('1.5h', 90 * M),
])
def test_ollama_duration_reads_what_the_server_reads(value, want):
    assert ollama_duration(value) == want


@pytest.mark.parametrize('value', [
    '5 minutes', '5min', '1 h', 'forever', 'inf', '-inf', '', '   ', '""', '1.5', 1.5, True, False, None, [],
    {'m': 5}, '9223372037', '-9223372037', '99999999999999999999', '5m\n', '5m\r', '\x005m', '1,5h', '5m,',
    '５m', '𝟓m',
])
def test_ollama_duration_refuses_what_the_server_ignores(value):
    assert ollama_duration(value) is None


# nginx src/core/ngx_parse.c, ngx_parse_time: milliseconds for proxy_*_timeout.
@pytest.mark.parametrize('value, want', [
    ('1s', 1000), ('900s', 900000), ('15m', 900000), ('1h', 3600000), ('1m30s', 90000), ('500ms', 500),
    ('1s500ms', 1500), ('30', 30000), (30, 30000), ('1m30', 90000), ('2w', 14 * 86400000), ('24d', 24 * 86400000),
    ('1d1h1m1s1ms', 86400000 + 3600000 + 60000 + 1000 + 1), ('0', 0), ('0s', 0), ('1hm', 3600000),
])
def test_nginx_time_in_milliseconds(value, want):
    assert nginx_time(value) == want


@pytest.mark.parametrize('value', [
    '', 's', 'ms', '1y', '1M', '25d', '1m1h', '1s1m', '1s1s', '1ms1s', '1 m', '1m 30s', ' 1s', '1s ', '1sec',
    '1min', '1S', '1H', '-1s', '+1s', '1.5s', '1,5s', '1x', '\uff11s', '\u0661s', None, True, 1.5, [], '1s;',
    '3000000000ms',
])
def test_nginx_time_refused(value):
    assert nginx_time(value) is None


@pytest.mark.parametrize('value, want', [
    ('10s', 10), ('1m', 60), ('1y', 365 * 86400), ('1M', 30 * 86400), ('2w', 14 * 86400), ('10', 10), ('0', 0),
])
def test_nginx_time_in_seconds(value, want):
    assert nginx_time(value, seconds=True) == want


@pytest.mark.parametrize('value', ['5ms', '1s500ms', '69y', '1s1m', ''])
def test_nginx_time_in_seconds_refused(value):
    assert nginx_time(value, seconds=True) is None


@pytest.mark.parametrize('value, offset, want', [
    ('16m', False, 16 << 20), ('512k', False, 512 << 10), ('1K', False, 1024), ('2M', False, 2 << 20),
    ('4096', False, 4096), ('0', False, 0), (0, False, 0), (1024, False, 1024), ('1g', True, 1 << 30),
    ('1G', True, 1 << 30), ('0', True, 0), ('100m', True, 100 << 20),
])
def test_nginx_size(value, offset, want):
    assert nginx_size(value, offset) == want


@pytest.mark.parametrize('value, offset', [
    ('1g', False), ('16mb', False), ('16 m', False), ('1.5m', False), ('m', False), ('', False), ('-1', False),
    (-1, False), ('16M ', False), (' 16m', False), ('1t', True), ('16\u212a', False), ('\uff11\uff16m', False),
    (None, False), (True, False), ('1e6', False), ('0x10', False),
])
def test_nginx_size_refused(value, offset):
    assert nginx_size(value, offset) is None


@pytest.mark.parametrize('path', [
    '/var/lib/ollama/models', '/data/ollama/models', '/usr/share/ollama', '/opt/ollama', '/srv/donn\u00e9es/mod\u00e8les',
    '/data/\u30e2\u30c7\u30eb', '/a', '/data/ollama-models_v2.d',
])
def test_path_shape_accepts(path):
    assert path_shape_problem(path) == ''


@pytest.mark.parametrize('path, why', [
    ('', 'absolute'), (None, 'absolute'), (5, 'absolute'), ('data/models', 'starting with /'),
    ('./models', 'starting with /'), ('~/models', '~ is not expanded'), ('~ollama/models', '~ is not expanded'),
    ('/', 'below /'), ('/data/', 'trailing /'), ('/data//models', '//'), ('//data', '//'),
    ('/data/../etc', '. or ..'), ('/data/./models', '. or ..'), ('/data/my models', 'spaces'),
    ('/data/models\n', 'control'), ('/data/\tmodels', 'spaces'), ('/data/%i', '%'), ('/data/"m"', 'quotes'),
    ("/data/'m'", 'quotes'), ('/data\\models', 'backslashes'), ('/data/\u00a0models', 'spaces'),
    ('/data/\u2003models', 'spaces'),
])
def test_path_shape_refuses(path, why):
    assert why in path_shape_problem(path)


@pytest.mark.parametrize('path, parent, within', [
    ('/opt/ollama/models', '/opt/ollama', True), ('/opt/ollama', '/opt/ollama', True),
    ('/opt/ollama2', '/opt/ollama', False), ('/opt', '/opt/ollama', False), ('/tmp', '/tmp', True),
    ('/tmpfoo', '/tmp', False),
])
def test_path_within(path, parent, within):
    assert path_within(path, parent) is within


@pytest.mark.parametrize('value', ['1\n2', 'a\rb', '\x00', 'x\x7f'])
def test_env_values_on_one_line(value):
    problems = env_problems({'OLLAMA_DEBUG': value}, 'ollama_extra_env')
    assert len(problems) == 1 and 'one line' in problems[0] and 'OLLAMA_DEBUG' in problems[0]


def test_env_values_may_hold_tabs_and_unicode():
    assert env_problems({'OLLAMA_DEBUG': '1\t2', 'STANDIN_NOTE': 'd\u00e9j\u00e0 vu \u2603'}, 'ollama_extra_env') == []
