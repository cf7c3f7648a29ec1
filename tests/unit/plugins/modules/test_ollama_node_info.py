# -*- coding: utf-8 -*-
# Copyright (c) 2026, gpufleet maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""gpufleet.ollama.ollama_node_info against a real directory tree."""

from __future__ import annotations

import grp
import os

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
