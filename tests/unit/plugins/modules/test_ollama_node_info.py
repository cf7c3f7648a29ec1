# -*- coding: utf-8 -*-
# Copyright (c) 2026, gpufleet maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""gpufleet.ollama.ollama_node_info against a real directory tree."""

from __future__ import annotations

import grp
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
