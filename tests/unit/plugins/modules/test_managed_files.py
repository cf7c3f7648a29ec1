# -*- coding: utf-8 -*-
# Copyright (c) 2026, gpufleet maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""gpufleet.ollama.managed_files: files and directories in one run, changed only when they differ, check mode and
diff (the action plugin's rendering: tests/unit/plugins/action/test_managed_files.py)."""

from __future__ import annotations

import grp
import os
import pwd
import stat

import pytest

from ansible_collections.gpufleet.ollama.plugins.modules import managed_files

ME = pwd.getpwuid(os.getuid()).pw_name
MY_GROUP = grp.getgrgid(os.getgid()).gr_name


def _mode(path):
    return '%04o' % stat.S_IMODE(os.lstat(path).st_mode)


def _files(root):
    return [
        dict(path=str(root / 'unit.d'), state='directory', mode='0755', owner=ME, group=MY_GROUP),
        dict(path=str(root / 'unit.d' / 'env.conf'), content='[Service]\nEnvironment="A=1"\n', mode='0644', owner=ME),
        dict(path=str(root / 'state' / 'deeper'), state='directory', mode='0700'),
    ]


def test_creates_then_changes_nothing(run_module, tmp_path):
    result = run_module(managed_files, dict(files=_files(tmp_path)))
    assert result['changed'] is True
    assert [f['changes'] for f in result['files']] == [['created'], ['created'], ['created']]
    assert (tmp_path / 'unit.d' / 'env.conf').read_text() == '[Service]\nEnvironment="A=1"\n'
    assert _mode(tmp_path / 'unit.d') == '0755' and _mode(tmp_path / 'unit.d' / 'env.conf') == '0644'
    assert _mode(tmp_path / 'state' / 'deeper') == '0700'  # its missing parent made as mkdir -p makes it
    again = run_module(managed_files, dict(files=_files(tmp_path)))
    assert again['changed'] is False and again['changed_paths'] == []
    assert [f['changes'] for f in again['files']] == [[], [], []]


def test_changes_only_what_differs_and_replaces_the_file(run_module, tmp_path):
    run_module(managed_files, dict(files=_files(tmp_path)))
    env = tmp_path / 'unit.d' / 'env.conf'
    inode = env.stat().st_ino
    os.chmod(env, 0o600)
    files = _files(tmp_path)
    result = run_module(managed_files, dict(files=files))
    assert result['changed_paths'] == [str(env)] and result['files'][1]['changes'] == ['mode']
    assert _mode(env) == '0644' and env.stat().st_ino == inode  # same content: not rewritten
    files[1]['content'] = '[Service]\nEnvironment="A=2"\n'
    result = run_module(managed_files, dict(files=files), diff=True)
    assert result['files'][1]['changes'] == ['content']
    assert env.read_text().endswith('"A=2"\n') and env.stat().st_ino != inode  # replaced by a rename
    assert _mode(env) == '0644'
    assert result['diff'] == [dict(before_header=str(env), after_header=str(env),
                                   before='[Service]\nEnvironment="A=1"\n', after='[Service]\nEnvironment="A=2"\n')]
    assert not [p for p in os.listdir(env.parent) if p.startswith('.')]  # no temporary file left behind


def test_check_mode_reports_and_changes_nothing(run_module, tmp_path):
    result = run_module(managed_files, dict(files=_files(tmp_path)), check_mode=True, diff=True)
    assert result['changed'] is True and len(result['changed_paths']) == 3
    assert os.listdir(tmp_path) == []
    assert result['diff'][1]['after'] == '[Service]\nEnvironment="A=1"\n' and result['diff'][1]['before'] == ''
    run_module(managed_files, dict(files=_files(tmp_path)))
    files = _files(tmp_path)
    files[1]['content'] = 'other\n'
    result = run_module(managed_files, dict(files=files), check_mode=True)
    assert result['changed_paths'] == [files[1]['path']]
    assert (tmp_path / 'unit.d' / 'env.conf').read_text() == '[Service]\nEnvironment="A=1"\n'


def test_absent_removes_a_tree_and_a_link_is_never_followed(run_module, tmp_path):
    run_module(managed_files, dict(files=_files(tmp_path)))
    target = tmp_path / 'target'
    target.write_text('keep me\n')
    link = tmp_path / 'link.conf'
    link.symlink_to(target)
    result = run_module(managed_files, dict(files=[dict(path=str(tmp_path / 'unit.d'), state='absent'),
                                                   dict(path=str(link), content='new\n')]))
    assert result['files'][0]['changes'] == ['removed'] and not (tmp_path / 'unit.d').exists()
    assert not link.is_symlink() and link.read_text() == 'new\n' and target.read_text() == 'keep me\n'
    again = run_module(managed_files, dict(files=[dict(path=str(tmp_path / 'unit.d'), state='absent')]))
    assert again['changed'] is False


@pytest.mark.parametrize('spec, message', [
    (dict(path='relative/file', content='x'), 'relative/file: the path must be absolute'),
    (dict(path='/tmp/x', state='file'), '/tmp/x: state=file needs content'),
    (dict(path='/tmp/x', state='directory', content='x'), 'content is only for state=file'),
    (dict(path='/tmp/x', content='x', mode='rw-r--r--'), "mode 'rw-r--r--' is not an octal string"),
    (dict(path='/tmp/x', template='x.j2'), 'rendered by the action plugin'),
])
def test_bad_specs_fail_naming_the_path(run_module, spec, message):
    result = run_module(managed_files, dict(files=[spec]))
    assert result['failed'] and message in result['msg']


def test_a_missing_owner_fails_the_run_but_not_check_mode(run_module, tmp_path):
    spec = dict(path=str(tmp_path / 'f'), content='x\n', owner='gpufleet-no-such-user')
    existing = dict(path=str(tmp_path), state='directory', owner='gpufleet-no-such-user')
    assert run_module(managed_files, dict(files=[existing]), check_mode=True)['files'][0]['changes'] == ['owner']
    result = run_module(managed_files, dict(files=[spec]))
    assert result['failed'] and "owner 'gpufleet-no-such-user' does not exist on this host" in result['msg']
    assert run_module(managed_files, dict(files=[spec]), check_mode=True)['changed'] is True


def test_a_path_of_another_kind_is_refused(run_module, tmp_path):
    (tmp_path / 'file').write_text('x')
    result = run_module(managed_files, dict(files=[dict(path=str(tmp_path / 'file'), state='directory')]))
    assert result['failed'] and 'exists and is not a directory' in result['msg']
    result = run_module(managed_files, dict(files=[dict(path=str(tmp_path), content='x')]))
    assert result['failed'] and 'exists and is not a regular file' in result['msg']
