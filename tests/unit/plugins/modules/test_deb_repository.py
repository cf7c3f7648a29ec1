# -*- coding: utf-8 -*-
# Copyright (c) 2026, gpufleet maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""gpufleet.ollama.deb_repository against .deb files built here with dpkg-deb (real packages, tiny)."""

from __future__ import annotations

import datetime
import hashlib
import os
import re
import shutil
import subprocess

import pytest

from ansible_collections.gpufleet.ollama.plugins.modules import deb_repository

pytestmark = pytest.mark.skipif(shutil.which('dpkg-deb') is None, reason='needs dpkg-deb')


def build_deb(tmp_path, directory, package, version, depends=None, description='A test package\n more text'):
    """A real .deb (dpkg-deb --build) named as apt names them; returns its path."""
    root = tmp_path / ('build-%s-%s' % (package, version))
    (root / 'DEBIAN').mkdir(parents=True)
    (root / 'usr' / 'share' / package).mkdir(parents=True)
    (root / 'usr' / 'share' / package / 'README').write_text('%s %s\n' % (package, version))
    control = ['Package: %s' % package, 'Version: %s' % version, 'Architecture: all',
               'Maintainer: gpufleet tests <tests@invalid>', 'Description: %s' % description]
    if depends:
        control.insert(3, 'Depends: %s' % depends)
    (root / 'DEBIAN' / 'control').write_text('\n'.join(control) + '\n')
    out = directory / ('%s_%s_all.deb' % (package, version))
    subprocess.run(['dpkg-deb', '--root-owner-group', '--build', str(root), str(out)], check=True,
                   capture_output=True)
    return out


@pytest.fixture
def repo(tmp_path):
    directory = tmp_path / 'repo'
    directory.mkdir()
    build_deb(tmp_path, directory, 'zeta', '1.0-1')
    build_deb(tmp_path, directory, 'alpha', '2.0-1', depends='zeta (>= 1.0)')
    return directory


def stanzas(directory):
    text = (directory / 'Packages').read_text()
    return [dict(line.split(': ', 1) for line in block.splitlines() if ': ' in line and not line.startswith(' '))
            for block in text.strip().split('\n\n')]


def test_indexes_every_package_with_its_file_fields(run_module, repo):
    result = run_module(deb_repository, {'path': str(repo)})
    assert result['changed'] is True
    assert result['added'] == ['alpha_2.0-1_all.deb', 'zeta_1.0-1_all.deb'] and result['removed'] == []
    assert sorted(result['read']) == result['added']
    entries = stanzas(repo)
    assert [e['Package'] for e in entries] == ['alpha', 'zeta']          # sorted by package
    for entry in entries:
        data = (repo / entry['Filename'][2:]).read_bytes()
        assert entry['Size'] == str(len(data)) and entry['SHA256'] == hashlib.sha256(data).hexdigest()
    assert entries[0]['Depends'] == 'zeta (>= 1.0)'
    assert ' more text' in (repo / 'Packages').read_text()              # continuation lines kept
    packages = (repo / 'Packages').read_bytes()
    release = (repo / 'Release').read_text()
    date = re.search(r'^Date: (.+)$', release, re.MULTILINE).group(1)
    assert abs(datetime.datetime.strptime(date, '%a, %d %b %Y %H:%M:%S UTC').replace(tzinfo=datetime.timezone.utc)
               - datetime.datetime.now(datetime.timezone.utc)) < datetime.timedelta(minutes=5)
    assert release == ('Origin: gpufleet\nLabel: gpufleet\nSuite: ./\nDate: %s\nSHA256:\n %s %d Packages\n'
                       % (date, hashlib.sha256(packages).hexdigest(), len(packages)))
    assert result['packages'][0] == {'package': 'alpha', 'version': '2.0-1', 'architecture': 'all',
                                     'filename': './alpha_2.0-1_all.deb'}


def test_a_second_run_reads_nothing_and_changes_nothing(run_module, repo, monkeypatch):
    run_module(deb_repository, {'path': str(repo)})
    before = {p.name: p.stat().st_mtime_ns for p in repo.iterdir()}
    monkeypatch.setattr(deb_repository, 'sha256_file', lambda path: pytest.fail('hashed %s again' % path))
    result = run_module(deb_repository, {'path': str(repo)})
    assert (result['changed'], result['read'], result['added'], result['removed']) == (False, [], [], [])
    assert {p.name: p.stat().st_mtime_ns for p in repo.iterdir()} == before


def test_a_new_changed_or_removed_package_is_read_or_dropped(run_module, repo, tmp_path):
    run_module(deb_repository, {'path': str(repo)})
    (repo / 'zeta_1.0-1_all.deb').unlink()
    build_deb(tmp_path, repo, 'beta', '0.1-1')
    alpha = repo / 'alpha_2.0-1_all.deb'
    os.utime(alpha, ns=(alpha.stat().st_atime_ns, alpha.stat().st_mtime_ns + 10 ** 9))   # touched: read again
    result = run_module(deb_repository, {'path': str(repo)}, diff=True)
    assert result['changed'] is True
    assert (result['added'], result['removed']) == (['beta_0.1-1_all.deb'], ['zeta_1.0-1_all.deb'])
    assert sorted(result['read']) == ['alpha_2.0-1_all.deb', 'beta_0.1-1_all.deb']
    assert [e['Package'] for e in stanzas(repo)] == ['alpha', 'beta']
    assert result['diff']['before'] == 'alpha_2.0-1_all.deb\nzeta_1.0-1_all.deb\n'
    assert result['diff']['after'] == 'alpha_2.0-1_all.deb\nbeta_0.1-1_all.deb\n'


def test_check_mode_reports_and_writes_nothing(run_module, repo):
    result = run_module(deb_repository, {'path': str(repo)}, check_mode=True)
    assert result['changed'] is True and result['added'] == ['alpha_2.0-1_all.deb', 'zeta_1.0-1_all.deb']
    assert sorted(p.name for p in repo.iterdir()) == ['alpha_2.0-1_all.deb', 'zeta_1.0-1_all.deb']


def test_check_mode_on_a_directory_a_real_run_would_create_reports_a_change(run_module, tmp_path):
    result = run_module(deb_repository, {'path': str(tmp_path / 'new')}, check_mode=True)
    assert result['changed'] is True and not result.get('failed') and 'does not exist yet' in result['msg']
    assert not (tmp_path / 'new').exists()
    (tmp_path / 'file').write_text('x')
    assert run_module(deb_repository, {'path': str(tmp_path / 'file')}, check_mode=True)['failed']


def test_an_empty_directory_is_an_empty_index(run_module, tmp_path):
    result = run_module(deb_repository, {'path': str(tmp_path)})
    assert result['packages'] == [] and (tmp_path / 'Packages').read_text() == ''


def test_refuses_a_missing_directory_and_a_broken_package(run_module, tmp_path):
    result = run_module(deb_repository, {'path': str(tmp_path / 'none')})
    assert result['failed'] and 'is not a directory' in result['msg']
    (tmp_path / 'broken_1_all.deb').write_bytes(b'not an ar archive')
    result = run_module(deb_repository, {'path': str(tmp_path)})
    assert result['failed'] and 'broken_1_all.deb is not a package dpkg-deb can read' in result['msg']
    assert not (tmp_path / 'Packages').exists()


def test_the_release_date_stays_while_the_index_does():
    then = datetime.datetime(2026, 1, 2, 3, 4, 5, tzinfo=datetime.timezone.utc)
    old = 'Origin: gpufleet\nDate: Fri, 02 Jan 2026 03:04:05 UTC\n'
    assert deb_repository.release_date('P', 'P', old) == 'Fri, 02 Jan 2026 03:04:05 UTC'
    later = then + datetime.timedelta(days=1)
    assert deb_repository.release_date('P2', 'P', old, now=later) == 'Sat, 03 Jan 2026 03:04:05 UTC'
    assert deb_repository.release_date('P', None, None, now=then) == 'Fri, 02 Jan 2026 03:04:05 UTC'


def test_control_fields_keep_continuations_and_refuse_garbage():
    assert deb_repository.control_fields('Package: a\nDescription: x\n y\n .\n z\n') == [
        ('Package', 'a'), ('Description', 'x\n y\n .\n z')]
    with pytest.raises(ValueError):
        deb_repository.control_fields('no colon here\n')
