# -*- coding: utf-8 -*-
# Copyright (c) 2026, gpufleet maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""gpufleet.ollama.nvidia_driver_packages: package names, pin and hold per distribution (issue 11).

Debian's names are also resolved against Debian's real index by tests/repo/test_nvidia_debian_index.py; Ubuntu's
come from its package index (packages.ubuntu.com: nvidia-graphics-drivers-<branch>-server, linux-restricted-modules),
the CUDA repository's and RHEL's from NVIDIA's driver installation guide (recent-updates, version-locking and
kernel-modules pages)."""

from __future__ import annotations

import pytest

from ansible.errors import AnsibleFilterError

from ansible_collections.gpufleet.ollama.plugins.filter.nvidia_driver_packages import nvidia_driver_packages

DEB12 = {'id': 'debian', 'version_id': '12'}
DEB13 = {'id': 'debian', 'version_id': '13'}
JAMMY = {'id': 'ubuntu', 'version_id': '22.04'}
NOBLE = {'id': 'ubuntu', 'version_id': '24.04'}
ROCKY9 = {'id': 'rocky', 'version_id': '9.4'}


@pytest.mark.parametrize('os_release, args, packages, hold', [
    (DEB12, ('535', '535.261.03', 'open', 'distro', 'dkms', '6.1.0-41-amd64'),
     ['nvidia-driver', 'nvidia-open-kernel-dkms', 'nvidia-smi', 'nvidia-persistenced', 'linux-headers-6.1.0-41-amd64'],
     ['nvidia-driver', 'nvidia-open-kernel-dkms', 'nvidia-smi', 'nvidia-persistenced']),
    (DEB13, ('550', '', 'proprietary', 'distro', 'dkms', ''),
     ['nvidia-driver', 'nvidia-kernel-dkms', 'nvidia-smi', 'nvidia-persistenced'],
     ['nvidia-driver', 'nvidia-kernel-dkms', 'nvidia-smi', 'nvidia-persistenced']),
    (DEB12, ('570', '570.172.08', 'open', 'cuda', 'dkms', ''), ['nvidia-open-570'], ['nvidia-open-570']),
    (DEB13, ('595', '', 'proprietary', 'cuda', 'dkms', ''),
     ['nvidia-driver-pinning-595', 'cuda-drivers'], ['nvidia-driver-pinning-595', 'cuda-drivers']),
    (NOBLE, ('550', '550.144.03', 'open', 'distro', 'dkms', '6.8.0-45-generic'),
     ['nvidia-driver-550-server-open', 'nvidia-utils-550-server', 'linux-headers-6.8.0-45-generic'],
     ['nvidia-driver-550-server-open', 'nvidia-utils-550-server']),
    (JAMMY, ('535', '', 'proprietary', 'distro', 'precompiled', '5.15.0-119-generic'),
     ['nvidia-headless-no-dkms-535-server', 'nvidia-utils-535-server', 'linux-modules-nvidia-535-server-generic'],
     ['nvidia-headless-no-dkms-535-server', 'nvidia-utils-535-server', 'linux-modules-nvidia-535-server-generic']),
    (NOBLE, ('580', '', 'proprietary', 'cuda', 'dkms', ''), ['cuda-drivers-580'], ['cuda-drivers-580']),
])
def test_apt_packages(os_release, args, packages, hold):
    out = nvidia_driver_packages(os_release, *args)
    assert out['problems'] == []
    assert out['manager'] == 'apt' and out['dnf_module'] == '' and out['dnf_versionlock'] == []
    assert out['packages'] == packages
    assert out['hold'] == hold


def test_an_exact_version_is_pinned_with_apt_preferences():
    out = nvidia_driver_packages(DEB12, '535', '535.261.03')
    assert out['apt_pin']['version'] == '535.261.03-*'
    assert out['apt_pin']['packages'].split()[:2] == ['nvidia-*', 'libnvidia-*']
    assert nvidia_driver_packages(DEB12, '535')['apt_pin'] == {}          # the newest of the branch: no pin


def test_the_install_specs_pin_only_the_packages_of_the_driver_source():
    out = nvidia_driver_packages(DEB12, '535', '535.261.03', 'open', 'distro', 'dkms', '6.1.0-41-amd64')
    assert out['specs'] == ['nvidia-driver=535.261.03-*', 'nvidia-open-kernel-dkms=535.261.03-*',
                            'nvidia-smi=535.261.03-*', 'nvidia-persistenced', 'linux-headers-6.1.0-41-amd64']
    assert nvidia_driver_packages(DEB12, '535')['specs'] == nvidia_driver_packages(DEB12, '535')['packages']
    ubuntu = nvidia_driver_packages(JAMMY, '535', '535.230.02', 'open', 'distro', 'precompiled', '5.15.0-119-generic')
    assert ubuntu['specs'][-1] == 'linux-modules-nvidia-535-server-open-generic'      # versioned by the kernel
    assert ubuntu['specs'][0] == 'nvidia-headless-no-dkms-535-server-open=535.230.02-*'
    assert nvidia_driver_packages(ROCKY9, '580', '580.65.06', 'open', 'cuda')['specs'][0] == 'nvidia-open'  # versionlock


def test_rhel_like_nine_uses_the_module_stream_and_versionlock():
    out = nvidia_driver_packages(ROCKY9, '580', '580.65.06', 'open', 'cuda', 'dkms', '5.14.0-427.13.1.el9_4.x86_64')
    assert out['problems'] == []
    assert out['manager'] == 'dnf'
    assert out['dnf_module'] == 'nvidia-driver:580-open'
    assert out['packages'] == ['nvidia-open', 'python3-dnf-plugin-versionlock', 'kernel-devel-5.14.0-427.13.1.el9_4.x86_64']
    assert out['hold'] == ['nvidia-open']
    assert out['dnf_versionlock'] == ['*nvidia*580.65.06*']
    assert out['apt_pin'] == {}
    proprietary = nvidia_driver_packages({'id': 'almalinux', 'version_id': '9.5'}, '570', '', 'proprietary', 'cuda')
    assert proprietary['dnf_module'] == 'nvidia-driver:570-dkms' and proprietary['hold'] == ['cuda-drivers']


@pytest.mark.parametrize('os_release, args, words', [
    (DEB12, ('550',), ['nvidia_driver_branch: Debian 12 ships the 535 branch', 'got 550', 'nvidia_driver_source: cuda']),
    (DEB12, ('535', '550.1.2'), ['nvidia_driver_version must be a version of branch 535', "'550.1.2'"]),
    (DEB12, ('55x',), ['nvidia_driver_branch must be a driver branch such as 550', "'55x'"]),
    (DEB12, ('535', '', 'closed'), ['nvidia_driver_flavor must be one of open, proprietary', "'closed'"]),
    (DEB12, ('535', '', 'open', 'ppa'), ['nvidia_driver_source must be one of distro, cuda', "'ppa'"]),
    (DEB12, ('535', '', 'open', 'distro', 'precompiled'), ['nvidia_driver_modules: precompiled', 'Ubuntu']),
    (NOBLE, ('550', '', 'open', 'distro', 'precompiled', 'custom'), ['nvidia_driver_modules: precompiled needs',
                                                                     "'custom'"]),
    (ROCKY9, ('580', '', 'open', 'distro'), ['nvidia_driver_source: rocky 9.4 has no NVIDIA driver of its own']),
    ({'id': 'debian', 'version_id': '11'}, ('535',), ['debian 11', 'Debian 12 and 13, Ubuntu 22.04 and 24.04']),
    ({'id': 'arch'}, ('535',), ['the node runs arch', 'supported on Debian 12 and 13']),
])
def test_impossible_combinations_are_named_before_anything_is_installed(os_release, args, words):
    problems = nvidia_driver_packages(os_release, *args)['problems']
    assert problems, 'expected a problem'
    text = ' '.join(problems)
    assert all(w in text for w in words), text


def test_os_release_must_be_a_dict():
    with pytest.raises(AnsibleFilterError, match='expects a dict with id and version_id'):
        nvidia_driver_packages('debian 12', '535')


def test_an_empty_branch_on_debian_is_the_one_the_release_ships():
    assert nvidia_driver_packages(DEB12, '')['branch'] == '535'
    assert nvidia_driver_packages({'id': 'debian', 'version_id': '13'}, '', '550.163.01')['specs'][0] == \
        'nvidia-driver=550.163.01-*'
    assert 'nvidia_driver_branch must be' in nvidia_driver_packages(JAMMY, '')['problems'][0]
