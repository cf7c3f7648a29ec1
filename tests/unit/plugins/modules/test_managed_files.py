# -*- coding: utf-8 -*-
# Copyright (c) 2026, gpufleet maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""gpufleet.ollama.managed_files: files, directories and links in one run, changed only when they differ, validate
commands run before anything changes, check mode and diff (the action plugin's rendering:
tests/unit/plugins/action/test_managed_files_action.py)."""

from __future__ import annotations

import ast
import grp
import os
import pwd
import shlex
import stat
import sys

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


# ---------------------------------------------------------------------------
# state=link
# ---------------------------------------------------------------------------

def test_a_link_is_created_then_left_alone(run_module, tmp_path):
    (tmp_path / '0.12.3').mkdir()
    link = tmp_path / 'current'
    files = [dict(path=str(link), state='link', src='0.12.3')]
    result = run_module(managed_files, dict(files=files), diff=True)
    assert result['changed'] is True and result['changed_paths'] == [str(link)]
    assert result['files'] == [dict(path=str(link), state='link', changed=True, changes=['created'])]
    assert os.readlink(link) == '0.12.3'  # written as given, relative to the link's directory
    assert result['diff'] == [dict(before_header=str(link), after_header=str(link), before='',
                                   after='link to 0.12.3\n')]
    again = run_module(managed_files, dict(files=files), diff=True)
    assert again['changed'] is False and again['changed_paths'] == [] and again['diff'] == []
    assert again['files'][0]['changes'] == []


def test_a_link_is_retargeted_by_a_rename_and_replaces_a_file(run_module, tmp_path):
    for version in ('1', '2'):
        (tmp_path / version).mkdir()
        (tmp_path / version / 'keep').write_text(version)
    link, plain = tmp_path / 'current', tmp_path / 'cli'
    link.symlink_to('1')
    plain.write_text('an old copy\n')
    result = run_module(managed_files, dict(files=[dict(path=str(link), state='link', src=str(tmp_path / '2')),
                                                   dict(path=str(plain), state='link', src='current/bin/ollama')]),
                        diff=True)
    assert [f['changes'] for f in result['files']] == [['target'], ['removed', 'created']]
    assert result['changed_paths'] == [str(link), str(plain)]
    assert os.readlink(link) == str(tmp_path / '2') and os.readlink(plain) == 'current/bin/ollama'
    assert (tmp_path / '1' / 'keep').read_text() == '1'  # the old target is never followed nor touched
    assert result['diff'] == [
        dict(before_header=str(link), after_header=str(link), before='link to 1\n', after='link to %s\n' % (tmp_path / '2')),
        dict(before_header=str(plain), after_header=str(plain), before='file of 12 bytes\n',
             after='link to current/bin/ollama\n')]
    assert sorted(os.listdir(tmp_path)) == ['1', '2', 'cli', 'current']  # no temporary link left behind


def test_a_link_never_replaces_a_directory_and_the_run_changes_nothing(run_module, tmp_path):
    directory = tmp_path / 'current'
    directory.mkdir()
    (directory / 'data').write_text('keep me\n')
    first = tmp_path / 'first.conf'
    result = run_module(managed_files, dict(files=[dict(path=str(first), content='x\n'),
                                                   dict(path=str(directory), state='link', src='1')]))
    assert result['failed'] and '%s: exists and is a directory' % directory in result['msg']
    assert (directory / 'data').read_text() == 'keep me\n'
    assert not first.exists()  # checked before the first entry was applied
    assert run_module(managed_files, dict(files=[dict(path=str(directory), state='link', src='1')]),
                      check_mode=True)['failed']


def test_a_link_in_check_mode_is_reported_not_made(run_module, tmp_path):
    old = tmp_path / 'old'
    old.symlink_to('1')
    files = [dict(path=str(tmp_path / 'new'), state='link', src='1'), dict(path=str(old), state='link', src='2')]
    result = run_module(managed_files, dict(files=files), check_mode=True, diff=True)
    assert result['changed'] is True and result['changed_paths'] == [str(tmp_path / 'new'), str(old)]
    assert [f['changes'] for f in result['files']] == [['created'], ['target']]
    assert [d['after'] for d in result['diff']] == ['link to 1\n', 'link to 2\n']
    assert result['diff'][1]['before'] == 'link to 1\n'
    assert os.listdir(tmp_path) == ['old'] and os.readlink(old) == '1'


def test_a_link_in_a_missing_directory_is_refused_before_anything_changes(run_module, tmp_path):
    result = run_module(managed_files, dict(files=[dict(path=str(tmp_path / 'f'), content='x\n'),
                                                   dict(path=str(tmp_path / 'no' / 'link'), state='link', src='1')]))
    assert result['failed'] and 'the directory %s does not exist' % (tmp_path / 'no') in result['msg']
    assert os.listdir(tmp_path) == []
    made = run_module(managed_files, dict(files=[dict(path=str(tmp_path / 'no'), state='directory'),
                                                 dict(path=str(tmp_path / 'no' / 'link'), state='link', src='1')]))
    assert made['changed'] is True and os.readlink(tmp_path / 'no' / 'link') == '1'


@pytest.mark.parametrize('spec, message', [
    (dict(path='/tmp/x', state='link'), '/tmp/x: state=link needs src'),
    (dict(path='/tmp/x', state='link', src=''), '/tmp/x: src must not be empty'),
    (dict(path='/tmp/x', content='x', src='/y'), '/tmp/x: src is only for state=link, not state=file'),
    (dict(path='/tmp/x', state='directory', src='/y'), '/tmp/x: src is only for state=link, not state=directory'),
    (dict(path='/tmp/x', state='link', src='/y', content='x'), '/tmp/x: content is only for state=file'),
    (dict(path='/tmp/x', state='link', src='/y', owner='root', mode='0644'),
     '/tmp/x: owner, group and mode are not for state=link (given: owner, mode)'),
    (dict(path='/tmp/x', state='link', src='/y', validate='true %s'), '/tmp/x: validate is only for state=file'),
    (dict(path='/tmp/x', state='directory', validate='true %s'), 'validate is only for state=file, not state=directory'),
    (dict(path='/tmp/x', content='x', validate='nft -c -f'), '/tmp/x: validate needs %s where the path of the file'),
    (dict(path='/tmp/x', content='x', validate='nft -c -f %%s'), 'needs %s'),
    (dict(path='/tmp/x', content='x', validate='sh -c "%s'), 'is not a command line'),
])
def test_bad_link_and_validate_specs_fail_naming_the_path(run_module, spec, message):
    result = run_module(managed_files, dict(files=[spec]))
    assert result['failed'] and message in result['msg'], result['msg']


# ---------------------------------------------------------------------------
# validate
# ---------------------------------------------------------------------------

PYTHON = shlex.quote(sys.executable)
# Records its argument (the file it checks), that file's content and LC_ALL in a log, then passes.
RECORD = PYTHON + ' -c "import os, sys; open(sys.argv[2], \'a\').write(repr((sys.argv[1], open(sys.argv[1]).read(), ' \
                  'os.environ.get(\'LC_ALL\'), sys.argv[3])) + chr(10))" %s {log} 100%%'
# Fails, naming the file it checked on stderr.
REJECT = PYTHON + ' -c "import sys; sys.exit(\'syntax error in \' + sys.argv[1])" %s'


def _log(path):
    return [ast.literal_eval(line) for line in path.read_text().splitlines()] if path.exists() else []


def test_validate_runs_on_a_temporary_file_then_the_file_is_written(run_module, tmp_path):
    log = tmp_path / 'log'
    conf, policy = tmp_path / 'conf', tmp_path / 'new' / 'policy.nft'
    conf.mkdir()
    record = RECORD.format(log=shlex.quote(str(log)))
    files = [dict(path=str(conf / 'a.conf'), content='good\n', mode='0640', validate='grep -q good %s'),
             dict(path=str(conf / 'b.conf'), content='table inet x {}\n', validate=record),
             dict(path=str(tmp_path / 'new'), state='directory'),
             dict(path=str(policy), content='policy\n', validate=record)]
    result = run_module(managed_files, dict(files=files))
    assert result['changed_paths'] == [f['path'] for f in files]
    assert (conf / 'a.conf').read_text() == 'good\n' and _mode(conf / 'a.conf') == '0640'
    assert (conf / 'b.conf').read_text() == 'table inet x {}\n' and policy.read_text() == 'policy\n'
    checked = _log(log)
    assert [c[1:] for c in checked] == [('table inet x {}\n', 'C', '100%'), ('policy\n', 'C', '100%')]
    # a temporary file in the file's directory (or its nearest existing parent, before the run creates it)
    assert os.path.dirname(checked[0][0]) == str(conf) and os.path.basename(checked[0][0]).startswith('.b.conf.')
    assert os.path.dirname(checked[1][0]) == str(tmp_path)
    assert not [c for c in checked if os.path.exists(c[0])]  # and removed
    assert sorted(os.listdir(conf)) == ['a.conf', 'b.conf']


def test_a_failed_validate_changes_nothing_of_the_run(run_module, tmp_path):
    live = tmp_path / 'policy.nft'
    live.write_text('the live policy\n')
    os.chmod(live, 0o600)
    inode = live.stat().st_ino
    first, link, made = tmp_path / 'first.conf', tmp_path / 'link', tmp_path / 'made'
    files = [dict(path=str(made), state='directory'),
             dict(path=str(first), content='x\n'),
             dict(path=str(link), state='link', src='policy.nft'),
             dict(path=str(live), content='a broken policy\n', mode='0644', validate=REJECT),
             dict(path=str(tmp_path / 'after.conf'), content='y\n')]
    result = run_module(managed_files, dict(files=files))
    assert result['failed']
    assert result['msg'].startswith('managed_files: %s: validate failed (rc=1), command: %s; ' % (live, REJECT))
    assert 'stderr: syntax error in %s/.policy.nft.' % tmp_path in result['msg']
    assert 'nothing of this run was changed' in result['msg']
    assert sorted(os.listdir(tmp_path)) == ['policy.nft']  # nothing made, the temporary file removed
    assert live.read_text() == 'the live policy\n' and live.stat().st_ino == inode and _mode(live) == '0600'
    grep = run_module(managed_files, dict(files=[dict(path=str(live), content='bad\n', validate='grep -q good %s')]))
    assert grep['failed'] and 'validate failed (rc=1), command: grep -q good %s; no output' in grep['msg']
    assert live.read_text() == 'the live policy\n'


def test_validate_does_not_run_when_the_content_is_unchanged(run_module, tmp_path):
    live = tmp_path / 'policy.nft'
    live.write_text('the policy\n')
    os.chmod(live, 0o600)
    result = run_module(managed_files, dict(files=[dict(path=str(live), content='the policy\n', mode='0644',
                                                        validate=REJECT)]))
    assert not result.get('failed') and result['files'][0]['changes'] == ['mode'] and _mode(live) == '0644'
    again = run_module(managed_files, dict(files=[dict(path=str(live), content='the policy\n', validate=REJECT)]))
    assert again['changed'] is False


def test_validate_does_not_run_in_check_mode(run_module, tmp_path):
    live = tmp_path / 'policy.nft'
    live.write_text('the policy\n')
    files = [dict(path=str(live), content='another policy\n', validate=REJECT),
             dict(path=str(tmp_path / 'new.nft'), content='new\n', validate=REJECT)]
    result = run_module(managed_files, dict(files=files), check_mode=True, diff=True)
    assert not result.get('failed') and result['changed_paths'] == [str(live), str(tmp_path / 'new.nft')]
    assert result['diff'][0]['after'] == 'another policy\n'
    assert os.listdir(tmp_path) == ['policy.nft'] and live.read_text() == 'the policy\n'
    assert run_module(managed_files, dict(files=files))['failed']  # the same run, not in check mode


def test_validate_runs_again_for_a_path_an_earlier_entry_changes(run_module, tmp_path):
    (tmp_path / 'd').mkdir()
    live = tmp_path / 'd' / 'policy.nft'
    live.write_text('bad\n')
    # the bytes on disk equal the content, but the entry before removes the directory: the file is written anew
    files = [dict(path=str(tmp_path / 'd'), state='absent'), dict(path=str(tmp_path / 'd'), state='directory'),
             dict(path=str(live), content='bad\n', validate='grep -q good %s')]
    result = run_module(managed_files, dict(files=files))
    assert result['failed'] and str(live) in result['msg'] and live.read_text() == 'bad\n'


def test_a_validate_command_that_cannot_run_fails_the_file(run_module, tmp_path):
    result = run_module(managed_files, dict(files=[dict(path=str(tmp_path / 'f'), content='x\n',
                                                        validate='gpufleet-no-such-command %s')]))
    assert result['failed'] and '%s: validate could not run' % (tmp_path / 'f') in result['msg']
    assert 'command: gpufleet-no-such-command %s' in result['msg']
    assert os.listdir(tmp_path) == []
