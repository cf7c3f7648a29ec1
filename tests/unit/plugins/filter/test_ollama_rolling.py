# -*- coding: utf-8 -*-
# Copyright (c) 2026, gpufleet maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Rolling changes: which instance needs a restart, the batches, and what a batch may undrain."""
from __future__ import annotations

import pytest

from ansible.errors import AnsibleFilterError
from ansible_collections.gpufleet.ollama.plugins.filter.ollama_instance_states import ollama_instance_states
from ansible_collections.gpufleet.ollama.plugins.filter.ollama_rolling_batches import ollama_rolling_batches
from ansible_collections.gpufleet.ollama.plugins.filter.ollama_rolling_undrain import ollama_rolling_undrain

ROOT = '/opt/ollama'
STARTED = 1796127600.25  # Tue 2026-12-01 12:20:00.250000 UTC


def show(port, state='active', release='0.14.1', started='Tue 2026-12-01 12:20:00.250000 UTC', root=ROOT,
         unit_file_state='enabled'):
    exec_start = ('{ path=%s/%s/bin/ollama ; argv[]=%s/%s/bin/ollama serve ; ignore_errors=no ; start_time=[n/a] ; '
                  'stop_time=[n/a] ; pid=0 ; code=(null) ; status=0/0 }' % (root, release, root, release)) if release else ''
    return ('ExecMainStartTimestamp=%s\nExecStart=%s\nId=ollama@%s.service\nActiveState=%s\nUnitFileState=%s\n'
            % (started, exec_start, port, state, unit_file_state))


def files(unit=STARTED - 100, **dropins):
    out = [{'path': '/etc/systemd/system/ollama@.service', 'mtime': unit},
           {'path': '/etc/systemd/system/nginx.service.d/gpufleet.conf', 'mtime': STARTED + 999}]
    for port, mtime in dropins.items():
        out.append({'path': '/etc/systemd/system/ollama@%s.service.d/environment.conf' % port.lstrip('p'),
                    'mtime': mtime})
    return out


def test_timestamp_and_release_are_read():
    states = ollama_instance_states(show(11434), ROOT, '0.14.1', files())
    assert states == {'11434': {'serves': True, 'release': '0.14.1', 'started': STARTED, 'restart': False,
                                'reason': '', 'enabled': True}}


@pytest.mark.parametrize('unit_file_state, enabled', [
    ('enabled', True), ('enabled-runtime', True), ('disabled', False), ('masked', False), ('', False)])
def test_enabled_is_read_from_unit_file_state(unit_file_state, enabled):
    assert ollama_instance_states(show(11434, unit_file_state=unit_file_state), ROOT, '0.14.1')['11434']['enabled'] is enabled


@pytest.mark.parametrize('text, version, unit_files, restart, reason', [
    (show(11434, release='0.12.3'), '0.14.1', files(), True, 'runs 0.12.3, not 0.14.1'),
    (show(11434), '0.14.1', files(unit=STARTED + 0.5), True, 'its unit or environment changed after it started'),
    (show(11434), '0.14.1', files(p11434=STARTED + 1), True, 'its unit or environment changed after it started'),
    (show(11434), '0.14.1', files(p11435=STARTED + 1), False, ''),          # another instance's drop-in
    (show(11434), '0.14.1', files(p11434=STARTED - 1), False, ''),
    (show(11434, state='inactive', release='0.12.3'), '0.14.1', files(), False, ''),   # starting applies it
    (show(11434, state='activating'), '0.14.1', files(unit=STARTED + 9), False, ''),   # crash loop: not serving
    (show(11434, release='', started='n/a'), '0.14.1', files(), True, 'runs a release outside /opt/ollama, not 0.14.1'),
    (show(11434, root='/usr/local'), '0.14.1', files(), True, 'runs a release outside /opt/ollama, not 0.14.1'),
    (show(11434, started=''), '0.14.1', files(), True, 'its unit or environment changed after it started'),
])
def test_restart_rules(text, version, unit_files, restart, reason):
    state = ollama_instance_states(text, ROOT, version, unit_files)['11434']
    assert (state['restart'], state['reason']) == (restart, reason)


def test_several_units_and_trailing_slash_root():
    text = show(11434) + '\n' + show(11435, release='0.12.3') + '\n' + 'Id=nginx.service\nActiveState=active\n'
    states = ollama_instance_states(text, ROOT + '/', '0.14.1', files())
    assert sorted(states) == ['11434', '11435']
    assert states['11435']['release'] == '0.12.3' and states['11435']['restart']


def test_bad_input():
    with pytest.raises(AnsibleFilterError, match='systemctl show'):
        ollama_instance_states(None, ROOT, '0.14.1')
    with pytest.raises(AnsibleFilterError, match='--timestamp=us[+]utc'):
        ollama_instance_states(show(11434, started='1796058000'), ROOT, '0.14.1')


def test_batches_node_by_node():
    pending = {'gpu01': ['11434', '11435'], 'gpu02': [], 'gpu03': [11434, '11435', '11436']}
    assert ollama_rolling_batches(pending, 1)[:2] == [{'targets': ['gpu01:11434'], 'ports': {'gpu01': [11434]}},
                                                      {'targets': ['gpu01:11435'], 'ports': {'gpu01': [11435]}}]
    assert len(ollama_rolling_batches(pending, 1)) == 5
    assert ollama_rolling_batches(pending, '3') == [
        {'targets': ['gpu01:11434', 'gpu01:11435', 'gpu03:11434'], 'ports': {'gpu01': [11434, 11435], 'gpu03': [11434]}},
        {'targets': ['gpu03:11435', 'gpu03:11436'], 'ports': {'gpu03': [11435, 11436]}}]
    assert ollama_rolling_batches({'gpu01': []}, 1) == []
    assert ollama_rolling_batches({}, 4) == []


@pytest.mark.parametrize('pending, size, match', [
    ({'gpu01': ['x']}, 1, 'not a number'),
    ({'gpu01': [11434]}, 0, 'must be 1 or more'),
    ({'gpu01': [11434]}, 'two', 'must be 1 or more'),
    (['gpu01'], 1, 'mapping of node to ports'),
])
def test_batches_bad_input(pending, size, match):
    with pytest.raises(AnsibleFilterError, match=match):
        ollama_rolling_batches(pending, size)


def test_undrain_keeps_the_operators_drains():
    healthy = ['gpu01:11434', 'gpu02:11434', 'gpu03:11435', 'gpu03:11436']
    assert ollama_rolling_undrain(healthy, ['gpu02', 'gpu03:11435']) == ['gpu01:11434', 'gpu03:11436']
    assert ollama_rolling_undrain(healthy, []) == healthy
    assert ollama_rolling_undrain([], ['gpu01']) == []
    with pytest.raises(AnsibleFilterError, match='two lists'):
        ollama_rolling_undrain('gpu01:11434', [])
