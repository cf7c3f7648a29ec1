# -*- coding: utf-8 -*-
# Copyright (c) 2026, gpufleet maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""tests/integration/stage_packages.py stages what a node lacks, as a staging machine does, against Debian's real
index (bookworm, this machine's mirror): the closure of the packages asked for on a dpkg status, a second run that
reuses the cache without any network access, a package dropped from the list whose .debs leave DIR while a file
the script did not stage stays, and an unknown package that fails naming it. The status is this machine's own
dpkg status less the few packages staged here (so that they are missing whatever this machine has installed)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import pytest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))
SCRIPT = os.path.join(ROOT, 'tests', 'integration', 'stage_packages.py')
sys.path.insert(0, os.path.dirname(SCRIPT))

import stage_packages  # noqa: E402
from stage_packages import StageError, apt_sources, deb_name, host_mirrors, stage  # noqa: E402

SUITE = 'bookworm'
# libnl-genl-3-200 depends on libnl-3-200 (and libc6): a closure of two packages, about 85 kB; tree: one, 52 kB
PAIR, SINGLE = 'libnl-genl-3-200', 'tree'
DROPPED = {'libnl-genl-3-200', 'libnl-3-200', 'tree'}
NO_NETWORK = {'http_proxy': 'http://127.0.0.1:9', 'https_proxy': 'http://127.0.0.1:9'}   # discard port: refused

needs_apt = pytest.mark.skipif(
    not (shutil.which('apt-get') and os.path.isfile('/var/lib/dpkg/status') and os.path.isfile(stage_packages.KEYRING)
         and host_mirrors()[0]),
    reason='needs apt-get, a dpkg status, the Debian archive keyring and Debian apt sources on this machine')


@pytest.fixture(scope='module')
def status(tmp_path_factory):
    """This machine's dpkg status without the packages the tests stage."""
    with open('/var/lib/dpkg/status') as f:
        stanzas = f.read().split('\n\n')
    kept = [s for s in stanzas if s.strip() and s.split('\n', 1)[0].removeprefix('Package: ').strip() not in DROPPED]
    path = tmp_path_factory.mktemp('status') / 'status'
    path.write_text('\n\n'.join(kept) + '\n')
    return str(path)


@pytest.fixture(scope='module')
def cache(tmp_path_factory):
    return str(tmp_path_factory.mktemp('cache'))


@pytest.fixture(scope='module')
def first(status, cache, tmp_path_factory):
    """The first run, on an empty cache: (its summary, its DIR)."""
    out = tmp_path_factory.mktemp('out')
    return stage(SUITE, str(out), status, [PAIR, SINGLE], cache), out


def _files(directory):
    return sorted(p.name for p in directory.iterdir() if p.name.endswith('.deb'))


def _offline(monkeypatch):
    for key, value in NO_NETWORK.items():
        monkeypatch.setenv(key, value)


@needs_apt
def test_stages_the_closure_of_the_packages(first):
    summary, out = first
    names = sorted(p.split('=')[0] for p in summary['packages'])
    assert names == ['libnl-3-200', 'libnl-genl-3-200', 'tree'], summary
    assert summary['files'] == _files(out) == summary['downloaded']
    assert summary['lists'] == 'updated' and summary['state'] == 'downloaded' and summary['reused'] == []
    assert summary['bytes'] == sum((out / f).stat().st_size for f in summary['files']) > 100_000
    for spec in summary['packages']:
        name, version = spec.split('=')
        assert deb_name(name, version, 'amd64') in summary['files']
    staged = (out / '.staged-packages').read_text().splitlines()
    assert [line for line in staged if not line.startswith('#')] == summary['files']


@needs_apt
def test_a_second_run_reuses_everything_without_network(first, status, cache, monkeypatch):
    _offline(monkeypatch)
    out = first[1]
    before = {f: (out / f).stat().st_ino for f in _files(out)}
    summary = stage(SUITE, str(out), status, [PAIR, SINGLE], cache)
    assert summary['state'] == 'reused' and summary['lists'] == 'reused' and not summary['network']
    assert summary['downloaded'] == [] and summary['reused'] == summary['files'] == sorted(before)
    assert {f: (out / f).stat().st_ino for f in _files(out)} == before


@needs_apt
def test_a_package_left_out_leaves_dir_but_a_foreign_file_stays(first, status, cache, tmp_path, monkeypatch):
    _offline(monkeypatch)
    stage(SUITE, str(tmp_path), status, [PAIR, SINGLE], cache)
    (tmp_path / 'foreign_1.0_all.deb').write_bytes(b'not staged by the script')
    (tmp_path / 'notes.txt').write_text('kept')
    tree_files = [f for f in _files(tmp_path) if f.startswith('tree_')]
    summary = stage(SUITE, str(tmp_path), status, [PAIR], cache)
    assert summary['removed'] == tree_files and len(tree_files) == 1
    assert _files(tmp_path) == sorted(summary['files'] + ['foreign_1.0_all.deb'])
    assert (tmp_path / 'notes.txt').read_text() == 'kept'
    assert summary['state'] == 'reused'
    # and nothing to stage (dpkg is installed here) removes the rest, the foreign file still kept
    summary = stage(SUITE, str(tmp_path), '/var/lib/dpkg/status', ['dpkg'], cache)
    assert summary['installed'] == ['dpkg'] and summary['packages'] == [] and summary['files'] == []
    assert _files(tmp_path) == ['foreign_1.0_all.deb']


@needs_apt
def test_an_unknown_package_fails_naming_it(first, status, cache, tmp_path):
    out = tmp_path
    proc = subprocess.run([sys.executable, SCRIPT, '--suite', SUITE, '--out', str(out), '--status', status,
                           '--cache', cache, '--package', PAIR, '--package', 'gpufleet-no-such-package'],
                          capture_output=True, text=True, check=False, timeout=300)
    assert proc.returncode != 0 and proc.stdout == ''
    assert 'bookworm' in proc.stderr and 'gpufleet-no-such-package' in proc.stderr, proc.stderr
    assert 'E: Unable to locate package gpufleet-no-such-package' in proc.stderr, proc.stderr


@needs_apt
def test_a_failed_download_names_the_package(first, status, cache, tmp_path, monkeypatch):
    own = str(tmp_path / 'cache')
    shutil.copytree(cache, own)
    for deb in os.listdir(os.path.join(own, 'debs')):
        os.unlink(os.path.join(own, 'debs', deb))
    _offline(monkeypatch)
    options = stage_packages.AptRoot.options
    monkeypatch.setattr(stage_packages.AptRoot, 'options', lambda self: options(self) + ['-o', 'Acquire::Retries=0'])
    with pytest.raises(StageError) as failed:
        stage(SUITE, str(tmp_path / 'out'), status, [SINGLE], own)
    message = str(failed.value)
    assert message.startswith('bookworm: cannot download tree: ') and 'E: ' in message, message


@needs_apt
def test_the_cli_prints_the_summary(first, status, cache, tmp_path):
    proc = subprocess.run([sys.executable, SCRIPT, '--suite', SUITE, '--out', str(tmp_path), '--status', status,
                           '--cache', cache, '--package', SINGLE],
                          capture_output=True, text=True, check=False, timeout=300)
    assert proc.returncode == 0, proc.stderr
    summary = json.loads(proc.stdout)
    assert summary['state'] == 'reused' and [p.split('=')[0] for p in summary['packages']] == ['tree']
    assert 'reused' in proc.stderr


def test_the_sources_come_from_the_host_mirrors(tmp_path):
    deb822 = tmp_path / 'debian.sources'
    deb822.write_text('Types: deb\n# a comment\nURIs: http://mirror.example/debian\nSuites: bookworm bookworm-updates\n'
                      'Components: main\nSigned-By: /k.gpg\n\nTypes: deb\nURIs: http://security.example/debian-security\n'
                      'Suites: bookworm-security\nComponents: main\nSigned-By: /k.gpg\n')
    text, security = apt_sources('trixie', [str(deb822)], '/k.gpg')
    assert security and 'URIs: http://mirror.example/debian\nSuites: trixie trixie-updates\n' in text
    assert 'URIs: http://security.example/debian-security\nSuites: trixie-security\n' in text
    oneline = tmp_path / 'sources.list'
    oneline.write_text('deb [signed-by=/k.gpg] http://mirror.example/debian bookworm main\n')
    text, security = apt_sources('bookworm', [str(tmp_path / 'absent.sources'), str(oneline)], '/k.gpg')
    assert not security and 'security' not in text and 'Suites: bookworm bookworm-updates\n' in text
    with pytest.raises(StageError, match='no Debian mirror'):
        apt_sources('bookworm', [str(tmp_path / 'absent.sources')])
