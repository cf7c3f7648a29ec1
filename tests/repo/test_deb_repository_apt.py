# -*- coding: utf-8 -*-
# Copyright (c) 2026, gpufleet maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The index gpufleet.ollama.deb_repository writes is one real apt reads: a private apt root (nothing of this
machine's apt state is read or changed) with only `deb [trusted=yes] file:<dir> ./` updates from it, sees the
repository's Origin, and resolves a package with its dependency from it (`apt-get install -s`, a simulation)."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys

import pytest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))
_COLLECTIONS = os.path.join(ROOT, '.collections')
if _COLLECTIONS not in sys.path:
    sys.path.insert(0, _COLLECTIONS)

from ansible_collections.gpufleet.ollama.tests.unit.plugins.modules.test_deb_repository import build_deb  # noqa: E402

pytestmark = pytest.mark.skipif(not (shutil.which('apt-get') and shutil.which('dpkg-deb')),
                                reason='needs apt-get and dpkg-deb')


def index(directory, tmp_path):
    args = tmp_path / 'args.json'
    args.write_text(json.dumps({'ANSIBLE_MODULE_ARGS': {'path': str(directory)}}))
    proc = subprocess.run([sys.executable, os.path.join(ROOT, 'plugins', 'modules', 'deb_repository.py'), str(args)],
                          capture_output=True, text=True, env=dict(os.environ, PYTHONPATH=_COLLECTIONS), check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return json.loads(proc.stdout)


def apt(root, *args):
    options = ['-o', 'Dir=' + root, '-o', 'Dir::State::status=%s/var/lib/dpkg/status' % root,
               '-o', 'Dir::Etc::SourceParts=%s/etc/apt/sources.list.d' % root, '-o', 'Dir::Etc::sourcelist=/dev/null',
               '-o', 'Dir::Etc::PreferencesParts=%s/etc/apt/preferences.d' % root,
               '-o', 'Dir::Etc::preferences=/dev/null', '-o', 'APT::Sandbox::User=root']
    return subprocess.run([args[0]] + options + list(args[1:]), capture_output=True, text=True, check=False,
                          env=dict(os.environ, LC_ALL='C'), timeout=120)


def test_apt_installs_from_the_index(tmp_path):
    repo = tmp_path / 'repo'
    repo.mkdir()
    build_deb(tmp_path, repo, 'zeta', '1.0-1')
    build_deb(tmp_path, repo, 'alpha', '2.0-1', depends='zeta (>= 1.0)')
    result = index(repo, tmp_path)
    assert result['changed'] and len(result['packages']) == 2
    root = str(tmp_path / 'apt')
    for d in ('etc/apt/sources.list.d', 'etc/apt/preferences.d', 'var/lib/apt/lists/partial',
              'var/cache/apt/archives/partial', 'var/lib/dpkg'):
        os.makedirs(os.path.join(root, d))
    open(os.path.join(root, 'var/lib/dpkg/status'), 'w').close()
    with open(os.path.join(root, 'etc/apt/sources.list.d/gpufleet.sources'), 'w') as f:
        f.write('Types: deb\nURIs: file:%s\nSuites: ./\nTrusted: yes\n' % repo)
    update = apt(root, 'apt-get', 'update')
    assert update.returncode == 0 and 'W:' not in update.stdout + update.stderr, update.stdout + update.stderr
    policy = apt(root, 'apt-cache', 'policy', 'alpha').stdout
    assert re.search(r'Candidate:\s*2\.0-1', policy), policy
    sources = apt(root, 'apt-cache', 'policy').stdout
    assert 'release o=gpufleet,a=./,l=gpufleet' in sources, sources
    sim = apt(root, 'apt-get', 'install', '-s', 'alpha')
    assert sim.returncode == 0, sim.stdout + sim.stderr
    assert re.findall(r'^Inst (\S+) \((\S+)', sim.stdout, re.MULTILINE) == [('zeta', '1.0-1'), ('alpha', '2.0-1')]
