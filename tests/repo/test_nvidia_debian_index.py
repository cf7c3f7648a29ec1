# -*- coding: utf-8 -*-
# Copyright (c) 2026, gpufleet maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The NVIDIA driver's Debian package names and pin, resolved against Debian's real index (issue 11).

The lab cannot install a real driver (no GPU, no kernel module), so this proves the other half: for Debian 12 and
13, the packages that gpufleet.ollama.nvidia_driver_packages returns exist in the release's non-free/contrib index,
install together (`apt-get install -s`, a simulation: nothing is installed), and the apt preferences pin it returns
selects exactly the version asked for. It uses a private apt root under a temporary directory with the mirror and
keyring of this machine's own Debian sources (nothing of the machine's apt state is read or changed besides).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys

import pytest

# the checkout as the collection gpufleet.ollama (tests/unit/conftest.py does the same for a run of both directories)
_COLLECTIONS = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', '.collections')
if os.path.abspath(_COLLECTIONS) not in sys.path:
    sys.path.insert(0, os.path.abspath(_COLLECTIONS))

from ansible_collections.gpufleet.ollama.plugins.filter.nvidia_driver_packages import (  # noqa: E402
    DEBIAN_BRANCH,
    nvidia_driver_packages,
)

SOURCES = '/etc/apt/sources.list.d/debian.sources'


def _host_mirror():
    """(URI, Signed-By) of this machine's Debian sources (deb822), or None."""
    if not shutil.which('apt-get') or not os.path.exists(SOURCES):
        return None
    with open(SOURCES) as f:
        text = f.read()
    uri = re.search(r'^URIs:\s*(\S+)', text, re.MULTILINE)
    key = re.search(r'^Signed-By:\s*(\S+)', text, re.MULTILINE)
    return (uri.group(1), key.group(1)) if uri and key else None


MIRROR = _host_mirror()
pytestmark = pytest.mark.skipif(MIRROR is None, reason='needs apt-get and Debian deb822 sources on this machine')
SUITES = {'12': 'bookworm', '13': 'trixie'}


class AptRoot:
    def __init__(self, root, suite):
        self.root = str(root)
        for d in ('etc/apt/sources.list.d', 'etc/apt/preferences.d', 'var/lib/apt/lists/partial',
                  'var/cache/apt/archives/partial', 'var/lib/dpkg'):
            os.makedirs(os.path.join(self.root, d), exist_ok=True)
        open(os.path.join(self.root, 'var/lib/dpkg/status'), 'w').close()   # nothing installed
        with open(os.path.join(self.root, 'etc/apt/sources.list.d/debian.sources'), 'w') as f:
            f.write('Types: deb\nURIs: %s\nSuites: %s\nComponents: main contrib non-free non-free-firmware\n'
                    'Signed-By: %s\n' % (MIRROR[0], suite, MIRROR[1]))

    def options(self):
        r = self.root
        return ['-o', 'Dir=' + r, '-o', 'Dir::State::status=%s/var/lib/dpkg/status' % r,
                '-o', 'Dir::Etc::SourceParts=%s/etc/apt/sources.list.d' % r, '-o', 'Dir::Etc::sourcelist=/dev/null',
                '-o', 'Dir::Etc::PreferencesParts=%s/etc/apt/preferences.d' % r, '-o', 'Dir::Etc::preferences=/dev/null',
                '-o', 'APT::Architecture=amd64', '-o', 'Acquire::Retries=3']

    def run(self, tool, *args):
        env = dict(os.environ, LC_ALL='C')
        return subprocess.run([tool] + self.options() + list(args), capture_output=True, text=True, env=env,
                              timeout=600)

    def pin(self, apt_pin):
        with open(os.path.join(self.root, 'etc/apt/preferences.d/gpufleet-nvidia.pref'), 'w') as f:
            f.write('Package: %s\nPin: version %s\nPin-Priority: 1001\n' % (apt_pin['packages'], apt_pin['version']))


@pytest.fixture(scope='module', params=sorted(SUITES))
def release(request, tmp_path_factory):
    apt = AptRoot(tmp_path_factory.mktemp('apt-%s' % SUITES[request.param]), SUITES[request.param])
    update = apt.run('apt-get', 'update')
    assert update.returncode == 0, update.stdout + update.stderr
    return request.param, apt


def _candidate(apt, package):
    policy = apt.run('apt-cache', 'policy', package).stdout
    m = re.search(r'Candidate:\s*(\S+)', policy)
    assert m and m.group(1) != '(none)', 'no candidate for %s:\n%s' % (package, policy)
    return m.group(1)


@pytest.mark.parametrize('flavor', ['open', 'proprietary'])
def test_the_packages_resolve_and_the_pin_selects_the_version(release, flavor):
    major, apt = release
    branch = DEBIAN_BRANCH[major]
    upstream = _candidate(apt, 'nvidia-driver').split('-')[0]        # 535.261.03-1 -> 535.261.03
    plan = nvidia_driver_packages({'id': 'debian', 'version_id': major}, branch, upstream, flavor, 'distro', 'dkms', '')
    assert plan['problems'] == [] and upstream.startswith(branch + '.')
    apt.pin(plan['apt_pin'])
    sim = apt.run('apt-get', 'install', '-s', '--no-install-recommends', *plan['packages'])
    assert sim.returncode == 0, sim.stdout + sim.stderr
    installs = dict(re.findall(r'^Inst (\S+) \((\S+)', sim.stdout, re.MULTILINE))
    for package in plan['hold']:
        assert package in installs, '%s is not installed by the simulation' % package
    assert installs['nvidia-driver'].startswith(upstream + '-')
    assert installs['nvidia-smi'].startswith(upstream + '-')
    kernel_module = 'nvidia-open-kernel-dkms' if flavor == 'open' else 'nvidia-kernel-dkms'
    assert installs[kernel_module].startswith(upstream + '-')


def test_a_version_that_the_index_does_not_have_does_not_resolve(release):
    major, apt = release
    branch = DEBIAN_BRANCH[major]
    plan = nvidia_driver_packages({'id': 'debian', 'version_id': major}, branch, branch + '.0.1')
    apt.pin(plan['apt_pin'])
    policy = apt.run('apt-cache', 'policy', 'nvidia-driver').stdout
    # the pin matches no version of the index: it raises none, so the candidate is not the pinned one
    assert 'Candidate: %s.0.1-' % branch not in policy
    # and an exact install of the pinned version fails: the pin cannot make up a version
    sim = apt.run('apt-get', 'install', '-s', 'nvidia-driver=%s.0.1-1' % branch)
    assert sim.returncode != 0
