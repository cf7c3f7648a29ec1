# -*- coding: utf-8 -*-
# Copyright (c) 2026, gpufleet maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""gpufleet.ollama.ollama_node_info against a real directory tree."""

from __future__ import annotations

import grp
import hashlib
import os
import pwd
import stat

import pytest

from ansible_collections.gpufleet.ollama.plugins.modules import ollama_node_info


def make_release(root, version, digest=None):
    os.makedirs(os.path.join(root, version, 'bin'))
    with open(os.path.join(root, version, 'bin', 'ollama'), 'w') as f:
        f.write('#!/bin/sh\n')
    if digest is not None:
        with open(os.path.join(root, version + '.sha256'), 'w') as f:
            f.write(digest + '\n')


def test_reads_the_release_its_digest_the_versions_and_the_store_record(run_module, tmp_path):
    root, state = str(tmp_path / 'opt'), tmp_path / 'state'
    make_release(root, '0.14.1', 'f' * 64)
    make_release(root, '0.12.3')
    os.makedirs(os.path.join(root, '0.13.0-rc1'))
    os.makedirs(os.path.join(root, 'not-a-release'))
    with open(os.path.join(root, '0.9.0'), 'w') as f:   # a file, not a release directory
        f.write('x')
    os.symlink('0.14.1', os.path.join(root, 'current'))
    state.mkdir()
    (state / 'models_dir').write_text('/srv/models\n')
    result = run_module(ollama_node_info, dict(install_root=root, version='0.14.1', state_dir=str(state)),
                        check_mode=True)
    assert result['changed'] is False
    assert result['release'] == {'installed': True, 'digest': 'f' * 64}
    assert result['versions'] == ['0.12.3', '0.13.0-rc1', '0.14.1']
    assert result['models_dir_record'] == '/srv/models'


def test_a_fresh_node_has_nothing(run_module, tmp_path):
    result = run_module(ollama_node_info, dict(install_root=str(tmp_path / 'none'), version='0.14.1',
                                               state_dir=str(tmp_path / 'nostate')))
    assert result['release'] == {'installed': False, 'digest': ''}
    assert result['versions'] == [] and result['models_dir_record'] == ''


def test_a_release_without_its_binary_is_not_installed(run_module, tmp_path):
    root = str(tmp_path)
    os.makedirs(os.path.join(root, '0.14.1', 'bin'))
    with open(os.path.join(root, '0.14.1.sha256'), 'w') as f:
        f.write('a' * 64)
    result = run_module(ollama_node_info, dict(install_root=root, version='0.14.1'))
    assert result['release'] == {'installed': False, 'digest': 'a' * 64}
    assert result['versions'] == ['0.14.1']


def test_lists_only_the_groups_that_exist(run_module, tmp_path):
    existing = grp.getgrgid(os.getgid()).gr_name
    result = run_module(ollama_node_info, dict(install_root=str(tmp_path), version='0.14.1',
                                               groups=[existing, 'gpufleet-no-such-group']))
    assert result['groups_present'] == [existing]


def test_refuses_a_version_that_is_not_a_release_number(run_module, tmp_path):
    result = run_module(ollama_node_info, dict(install_root=str(tmp_path), version='../etc'))
    assert result['failed'] and "version '../etc' is not a release number" in result['msg']


def test_reads_where_links_point(run_module, tmp_path):
    os.symlink('0.14.1', str(tmp_path / 'current'))
    (tmp_path / 'plain').write_text('x')
    paths = [str(tmp_path / 'current'), str(tmp_path / 'plain'), str(tmp_path / 'missing')]
    result = run_module(ollama_node_info, dict(install_root=str(tmp_path), version='0.14.1', links=paths))
    assert result['links'] == {paths[0]: '0.14.1', paths[1]: '', paths[2]: ''}


def test_describes_the_service_account(run_module, tmp_path):
    nobody = pwd.getpwnam('nobody')
    result = run_module(ollama_node_info, dict(install_root=str(tmp_path), version='0.14.1', user='nobody'))
    assert result['user']['exists'] is True
    assert result['user']['home'] == nobody.pw_dir and result['user']['shell'] == nobody.pw_shell
    assert result['user']['group'] == grp.getgrgid(nobody.pw_gid).gr_name
    assert result['user']['groups'] == sorted(g.gr_name for g in grp.getgrall() if 'nobody' in g.gr_mem)
    missing = run_module(ollama_node_info, dict(install_root=str(tmp_path), version='0.14.1',
                                                user='gpufleet-no-such-user'))
    assert missing['user'] == {'exists': False, 'home': '', 'shell': '', 'group': '', 'groups': []}
    assert missing['store_usable'] is False


@pytest.fixture
def traversable(tmp_path):
    """tmp_path with o+x on every directory above it (pytest's own are 0700), put back afterwards."""
    changed = []
    for parent in tmp_path.parents:
        mode = parent.stat().st_mode
        if not mode & stat.S_IXOTH:
            os.chmod(str(parent), stat.S_IMODE(mode) | stat.S_IXOTH)
            changed.append((parent, stat.S_IMODE(mode)))
    os.chmod(str(tmp_path), 0o755)
    yield tmp_path
    for parent, mode in changed:
        os.chmod(str(parent), mode)


@pytest.mark.skipif(os.geteuid() != 0, reason='needs root to give a directory to another user')
def test_says_whether_the_account_can_use_the_store(run_module, traversable):
    nobody = pwd.getpwnam('nobody')
    above, store = traversable / 'srv', traversable / 'srv' / 'models'
    store.mkdir(parents=True)
    os.chmod(str(above), 0o755)

    def usable():
        return run_module(ollama_node_info, dict(install_root=str(traversable), version='0.14.1', user='nobody',
                                                 store=str(store)))['store_usable']

    os.chmod(str(store), 0o755)
    assert usable() is False                       # root's, not writable by others
    os.chown(str(store), nobody.pw_uid, nobody.pw_gid)
    assert usable() is True                        # its own
    os.chmod(str(above), 0o750)
    assert usable() is False                       # a directory above it not traversable (ollama/ollama #2147)
    os.chown(str(above), 0, nobody.pw_gid)
    assert usable() is True                        # traversable through the group
    os.chmod(str(store), 0o500)
    assert usable() is False                       # its own, but not writable
    assert run_module(ollama_node_info, dict(install_root=str(traversable), version='0.14.1', user='nobody',
                                             store=str(traversable / 'absent')))['store_usable'] is False


def test_reads_the_gpus_with_the_rest_when_asked(run_module, tmp_path):
    smi = tmp_path / 'nvidia-smi'
    smi.write_text('#!/bin/sh\n'
                   'echo "0, GPU-1111, NVIDIA H100 80GB HBM3, 81559, 4, 570.124.06"\n'
                   'echo "1, GPU-2222, NVIDIA H100 80GB HBM3, 81559, 40123, 570.124.06"\n')
    smi.chmod(0o755)
    result = run_module(ollama_node_info, dict(install_root=str(tmp_path), version='0.14.1', gpus=True,
                                               nvidia_smi_path=str(smi)))
    info = result['gpu_info']
    assert info['gpu_count'] == 2 and info['driver_version'] == '570.124.06' and info['reason'] is None
    assert [g['uuid'] for g in info['gpus']] == ['GPU-1111', 'GPU-2222'] and info['gpus'][1]['memory_used_mib'] == 40123
    missing = run_module(ollama_node_info, dict(install_root=str(tmp_path), version='0.14.1', gpus=True,
                                                nvidia_smi_path=str(tmp_path / 'absent')))
    assert missing['gpu_info']['gpus'] == [] and missing['gpu_info']['reason'].startswith('nvidia-smi not found at')
    assert run_module(ollama_node_info, dict(install_root=str(tmp_path), version='0.14.1'))['gpu_info'] == {}


def test_an_unreadable_gpu_line_fails_naming_the_module(run_module, tmp_path):
    smi = tmp_path / 'nvidia-smi'
    smi.write_text('#!/bin/sh\necho "garbage"\n')
    smi.chmod(0o755)
    result = run_module(ollama_node_info, dict(install_root=str(tmp_path), version='0.14.1', gpus=True,
                                               nvidia_smi_path=str(smi)))
    assert result['failed'] and result['msg'].startswith("ollama_node_info: cannot parse nvidia-smi output line 'garbage'")


def test_lists_the_unit_and_the_instances_drop_ins_as_find_would(run_module, tmp_path):
    units = tmp_path / 'system'
    (units / 'ollama@11434.service.d').mkdir(parents=True)
    (units / 'ollama@11434.service.d' / 'env.conf').write_text('x')
    (units / 'ollama@11434.service.d' / 'release.conf').write_text('x')
    (units / 'ollama@11434.service.d' / 'notes.txt').write_text('x')      # not a drop-in
    (units / 'ollama@.service.d').mkdir()                                  # template-wide: not an instance's
    (units / 'ollama@.service').write_text('[Unit]\n')
    (units / 'nginx.service').write_text('[Unit]\n')
    os.utime(str(units / 'ollama@.service'), (1000.0, 1000.0))
    result = run_module(ollama_node_info, dict(install_root=str(tmp_path), version='0.14.1', unit_dir=str(units)))
    listed = [(os.path.relpath(f['path'], str(units)), f['isdir']) for f in result['unit_files']]
    assert listed == [('ollama@.service', False), ('ollama@11434.service.d', True),
                      ('ollama@11434.service.d/env.conf', False), ('ollama@11434.service.d/release.conf', False)]
    assert result['unit_files'][0]['mtime'] == 1000.0
    assert run_module(ollama_node_info, dict(install_root=str(tmp_path), version='0.14.1',
                                             unit_dir=str(tmp_path / 'none')))['unit_files'] == []


def test_describes_paths_as_find_with_checksums_would(run_module, tmp_path):
    record = tmp_path / 'models_dir'
    record.write_text('/srv/models\n')
    os.chmod(str(record), 0o640)
    os.symlink('elsewhere', str(tmp_path / 'link'))
    result = run_module(ollama_node_info, dict(install_root=str(tmp_path), version='0.14.1',
                                               paths=[str(record), str(tmp_path), str(tmp_path / 'link'),
                                                      str(tmp_path / 'absent')]))
    described = {e['path']: e for e in result['paths']}
    assert sorted(described) == sorted([str(record), str(tmp_path), str(tmp_path / 'link')])
    f = described[str(record)]
    assert f['isreg'] and not f['isdir'] and f['mode'] == '0640'
    assert f['checksum'] == hashlib.sha1(b'/srv/models\n').hexdigest()
    assert f['pw_name'] == pwd.getpwuid(os.getuid()).pw_name and f['gr_name'] == grp.getgrgid(os.getgid()).gr_name
    assert described[str(tmp_path)]['isdir'] and 'checksum' not in described[str(tmp_path)]
    assert described[str(tmp_path / 'link')]['islnk'] and not described[str(tmp_path / 'link')]['isreg']


SHOW = ('Id=ollama@11434.service\nActiveState=active\nUnitFileState=enabled\n'
        'ExecStart={ path=/opt/ollama/0.14.1/bin/ollama ; argv[]=/opt/ollama/0.14.1/bin/ollama serve }\n'
        'ExecMainStartTimestamp=Tue 2026-12-01 17:09:02.894367 UTC\n')


@pytest.mark.parametrize('found, rc, expected', [
    (True, 0, SHOW),          # what systemctl printed, for ollama_instance_states
    (True, 1, ''),            # systemctl failed: the role reads the instances itself
    (False, 0, ''),           # no systemctl
])
def test_reads_the_loaded_instances_when_asked(run_module, tmp_path, monkeypatch, found, rc, expected):
    calls = []

    def run_command(self, argv, environ_update=None, expand_user_and_vars=True):
        calls.append(argv)
        assert environ_update['LC_ALL'] == 'C' and not expand_user_and_vars
        return rc, SHOW if rc == 0 else '', 'failed' if rc else ''
    monkeypatch.setattr('ansible.module_utils.basic.AnsibleModule.run_command', run_command)
    monkeypatch.setattr('ansible.module_utils.basic.AnsibleModule.get_bin_path',
                        lambda self, tool, *a, **k: '/bin/systemctl' if found else None)
    result = run_module(ollama_node_info, dict(install_root=str(tmp_path), version='0.14.1', instances=True),
                        check_mode=True)
    assert result['instances_show'] == expected
    assert calls == ([['/bin/systemctl'] + ollama_node_info.INSTANCES_SHOW] if found else [])
    assert ollama_node_info.INSTANCES_SHOW[-1] == 'ollama@*.service'


def test_instances_are_not_read_unless_asked(run_module, tmp_path, monkeypatch):
    monkeypatch.setattr('ansible.module_utils.basic.AnsibleModule.run_command',
                        lambda *a, **k: pytest.fail('nothing runs without instances'))
    result = run_module(ollama_node_info, dict(install_root=str(tmp_path), version='0.14.1'), check_mode=True)
    assert result['instances_show'] == ''
