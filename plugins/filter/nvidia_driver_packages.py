# -*- coding: utf-8 -*-
# Copyright (c) 2026, gpufleet maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: nvidia_driver_packages
short_description: The NVIDIA driver packages, pin and hold for a node's distribution, branch and kernel module
version_added: 0.3.0
author:
  - gpufleet maintainers (@gpufleet)
description:
  - Given a node's distribution (from C(/etc/os-release)), the driver branch and exact version, the kernel module
    flavour (open or proprietary) and the package source, returns what to install, how to pin it to the exact
    version and what to hold, or the problems that make the combination impossible - before anything is installed.
  - "Distribution packages (O(source=distro)): Debian 12 and 13 from C(non-free)/C(contrib) (C(nvidia-driver) with
    C(nvidia-open-kernel-dkms) or C(nvidia-kernel-dkms), C(nvidia-smi), C(nvidia-persistenced); Debian ships one
    branch per release: 535 in 12, 550 in 13); Ubuntu 22.04 and 24.04 from C(restricted)
    (C(nvidia-driver-<branch>-server[-open]), C(nvidia-utils-<branch>-server); with O(modules=precompiled) the
    signed C(linux-modules-nvidia-<branch>-server[-open]-<kernel flavour>) instead of DKMS)."
  - "NVIDIA's CUDA repository (O(source=cuda)): on Debian and Ubuntu C(cuda-drivers-<branch>) or
    C(nvidia-open-<branch>) up to branch 580, and from 590 on the branch-less C(cuda-drivers) or C(nvidia-open)
    with the pinning package C(nvidia-driver-pinning-<branch>); on Rocky, RHEL and AlmaLinux 9 the module stream
    C(nvidia-driver:<branch>-open) or C(nvidia-driver:<branch>-dkms) with C(nvidia-open) or C(cuda-drivers),
    locked with C(dnf versionlock)."
  - Only Debian can be tried in the project's lab; the Ubuntu and RHEL names come from their package indexes and
    NVIDIA's driver installation guide and are pinned by unit tests (docs/nvidia.md says which is which).
options:
  _input:
    description: The node's C(/etc/os-release) fields C(ID) and C(VERSION_ID), as C(id) and C(version_id).
    type: dict
    required: true
  branch:
    description: The driver branch, such as C(550); empty on Debian with O(source=distro) for the branch the release
      ships.
    type: str
    required: true
  version:
    description: The exact driver version, such as C(550.163.01), of O(branch); empty for the newest of the branch.
    type: str
    default: ''
  flavor:
    description: The kernel module - C(open) (Turing and newer GPUs; the only one for Blackwell) or C(proprietary).
    type: str
    default: open
  source:
    description: C(distro) (the distribution's own packages) or C(cuda) (NVIDIA's CUDA repository).
    type: str
    default: distro
  modules:
    description: C(dkms) (built on the node, needs the kernel headers) or C(precompiled) (Ubuntu's signed modules,
      for Secure Boot without a Machine Owner Key; O(source=distro) on Ubuntu only).
    type: str
    default: dkms
  kernel:
    description: The running kernel (C(uname -r)), for the headers or the precompiled modules.
    type: str
    default: ''
"""

EXAMPLES = r"""
- name: Work out the driver packages of a Debian 12 node
  ansible.builtin.set_fact:
    driver: >-
      {{ {'id': 'debian', 'version_id': '12'}
         | gpufleet.ollama.nvidia_driver_packages('535', '535.261.03', 'open', 'distro', 'dkms', '6.1.0-41-amd64') }}
  # driver.packages -> [nvidia-driver, nvidia-open-kernel-dkms, nvidia-smi, nvidia-persistenced, linux-headers-6.1.0-41-amd64]
  # driver.apt_pin  -> {packages: "nvidia-* libnvidia-* ...", version: "535.261.03-*"}
"""

RETURN = r"""
_value:
  description: What to install and how to keep it.
  type: dict
  contains:
    manager:
      description: C(apt) or C(dnf).
      type: str
    packages:
      description: Packages to install (unversioned names; the pin or the lock chooses the version).
      type: list
      elements: str
    branch:
      description: The branch, O(branch) or the one the Debian release ships.
      type: str
      version_added: 0.3.0
    specs:
      description:
        - O(version) set on apt - the packages as C(apt-get install) takes them, C(<package>=<version>-*) for those
          built from the driver's own source (their version is the driver's), the others (C(nvidia-persistenced),
          kernel headers or modules, the pinning package) unversioned; otherwise the same as RV(_value.packages).
      type: list
      elements: str
      version_added: 0.3.0
    hold:
      description: Packages to hold (C(apt-mark hold)) so that no upgrade, unattended or not, moves them.
      type: list
      elements: str
    apt_pin:
      description: For an apt preferences file - C(packages) (the glob names) and C(version) (C(<version>-*));
        empty without O(version) or on dnf.
      type: dict
    dnf_module:
      description: The module stream to enable (C(nvidia-driver:550-open)); empty on apt.
      type: str
    dnf_versionlock:
      description: C(dnf versionlock) patterns for O(version); empty on apt or without O(version).
      type: list
      elements: str
    problems:
      description: Why the combination cannot be installed, each naming the variable and what is valid; empty when
        it can.
      type: list
      elements: str
"""

import re
from collections.abc import Mapping

from ansible.errors import AnsibleFilterError

# What each Debian release ships in non-free / contrib (packages.debian.org, src:nvidia-graphics-drivers and
# src:nvidia-open-gpu-kernel-modules; the apt index of the release).
DEBIAN_BRANCH = {'12': '535', '13': '550'}
UBUNTU = ('22.04', '24.04')
RHEL_LIKE = ('rocky', 'rhel', 'almalinux')
APT_PIN_GLOBS = 'nvidia-* libnvidia-* libcuda1 libnvcuvid1 libnvoptix1 firmware-nvidia-gsp cuda-drivers*'
FLAVORS = ('open', 'proprietary')
SOURCES = ('distro', 'cuda')
MODULES = ('dkms', 'precompiled')


def _kernel_flavour(kernel):
    """Ubuntu's kernel flavour from uname -r: 6.8.0-45-generic -> generic."""
    m = re.match(r'^[0-9.]+-[0-9]+-(.+)$', kernel)
    return m.group(1) if m else ''


def _debian(major, branch, flavor, source, kernel):
    problems = []
    if source == 'distro':
        shipped = DEBIAN_BRANCH.get(major)
        if branch != shipped:
            problems.append('nvidia_driver_branch: Debian %s ships the %s branch in non-free (got %s); use %s, or '
                            'nvidia_driver_source: cuda for another branch.' % (major, shipped, branch, shipped))
        packages = ['nvidia-driver', 'nvidia-open-kernel-dkms' if flavor == 'open' else 'nvidia-kernel-dkms',
                    'nvidia-smi', 'nvidia-persistenced']
    else:
        packages = _cuda_apt(branch, flavor)
    headers = ['linux-headers-%s' % kernel] if kernel else []
    return packages + headers, packages, problems


def _cuda_apt(branch, flavor):
    """NVIDIA's CUDA repository for Debian and Ubuntu: the branch in the names up to 580, a pinning package from 590
    (NVIDIA driver installation guide, "Recent updates" and "Version locking")."""
    if int(branch) >= 590:
        return ['nvidia-driver-pinning-%s' % branch, 'nvidia-open' if flavor == 'open' else 'cuda-drivers']
    return ['nvidia-open-%s' % branch if flavor == 'open' else 'cuda-drivers-%s' % branch]


def _ubuntu(branch, flavor, source, modules, kernel):
    problems = []
    if source == 'cuda':
        packages = _cuda_apt(branch, flavor)
        return packages + (['linux-headers-%s' % kernel] if kernel else []), packages, problems
    suffix = '%s-server%s' % (branch, '-open' if flavor == 'open' else '')
    packages = ['nvidia-driver-%s' % suffix, 'nvidia-utils-%s-server' % branch]
    if modules == 'precompiled':
        # Ubuntu's signed modules for the kernel flavour (linux-restricted-modules): no DKMS, Secure Boot as is
        flavour = _kernel_flavour(kernel)
        if not flavour:
            problems.append('nvidia_driver_modules: precompiled needs the running kernel as Ubuntu names it, such as '
                            '6.8.0-45-generic (got %r).' % (kernel,))
        packages = ['nvidia-headless-no-dkms-%s' % suffix, 'nvidia-utils-%s-server' % branch,
                    'linux-modules-nvidia-%s-%s' % (suffix, flavour or 'generic')]
        return packages, packages, problems
    return packages + (['linux-headers-%s' % kernel] if kernel else []), packages, problems


def nvidia_driver_packages(os_release, branch, version='', flavor='open', source='distro', modules='dkms', kernel=''):
    if not isinstance(os_release, Mapping):
        raise AnsibleFilterError('nvidia_driver_packages expects a dict with id and version_id (from /etc/os-release), '
                                 'got %s' % type(os_release).__name__)
    dist = str(os_release.get('id') or '').lower()
    version_id = str(os_release.get('version_id') or '')
    major = version_id.split('.', maxsplit=1)[0]
    branch, version, kernel = str(branch or '').strip(), str(version or '').strip(), str(kernel or '').strip()
    problems = []
    for name, value, valid in (('nvidia_driver_flavor', flavor, FLAVORS), ('nvidia_driver_source', source, SOURCES),
                               ('nvidia_driver_modules', modules, MODULES)):
        if value not in valid:
            problems.append('%s must be one of %s (got %r).' % (name, ', '.join(valid), value))
    if not branch and dist == 'debian' and source == 'distro' and major in DEBIAN_BRANCH:
        branch = DEBIAN_BRANCH[major]      # empty: the branch the release ships
    if not re.match(r'^[0-9]{3}$', branch):
        problems.append('nvidia_driver_branch must be a driver branch such as 550 (got %r).' % (branch,))
    if version and not re.match(r'^%s\.[0-9]+(\.[0-9]+)?$' % re.escape(branch), version):
        problems.append('nvidia_driver_version must be a version of branch %s such as %s.127.05, or empty for the '
                        'newest of the branch (got %r).' % (branch, branch, version))
    if problems:
        return dict(manager='', packages=[], specs=[], hold=[], apt_pin={}, dnf_module='', dnf_versionlock=[],
                    problems=problems)

    if modules == 'precompiled' and not (dist == 'ubuntu' and source == 'distro'):
        problems.append('nvidia_driver_modules: precompiled (signed) modules come only from Ubuntu\'s own packages '
                        '(nvidia_driver_source: distro on Ubuntu); use dkms here, with a Machine Owner Key under '
                        'Secure Boot.')
    out = dict(manager='apt', apt_pin={}, dnf_module='', dnf_versionlock=[])
    if dist == 'debian' and major in DEBIAN_BRANCH:
        packages, hold, more = _debian(major, branch, flavor, source, kernel)
    elif dist == 'ubuntu' and version_id in UBUNTU:
        packages, hold, more = _ubuntu(branch, flavor, source, modules, kernel)
    elif dist in RHEL_LIKE and major == '9':
        out['manager'] = 'dnf'
        more = [] if source == 'cuda' else [
            'nvidia_driver_source: %s %s has no NVIDIA driver of its own; use cuda (NVIDIA\'s CUDA repository).'
            % (dist, version_id)]
        out['dnf_module'] = 'nvidia-driver:%s-%s' % (branch, 'open' if flavor == 'open' else 'dkms')
        hold = ['nvidia-open' if flavor == 'open' else 'cuda-drivers']
        packages = hold + ['python3-dnf-plugin-versionlock'] + (['kernel-devel-%s' % kernel] if kernel else [])
        if version:
            out['dnf_versionlock'] = ['*nvidia*%s*' % version]   # as the guide's version-locking page: *nvidia*580*
    else:
        return dict(out, manager='', packages=[], specs=[], hold=[], problems=problems + [
            'the node runs %s %s: the NVIDIA driver is supported on Debian 12 and 13, Ubuntu 22.04 and 24.04 and '
            'Rocky, RHEL or AlmaLinux 9.' % (dist or 'an unknown distribution', version_id)])
    specs = list(packages)
    if out['manager'] == 'apt' and version:
        out['apt_pin'] = dict(packages=APT_PIN_GLOBS, version='%s-*' % version)
        specs = ['%s=%s-*' % (p, version) if _follows_driver(p) else p for p in packages]
    return dict(out, branch=branch, packages=packages, specs=specs, hold=hold, problems=problems + more)


# Built from another source than the driver, so versioned on their own: Debian's nvidia-persistenced
# (src:nvidia-persistenced), the kernel's headers and Ubuntu's signed modules (versioned by the kernel), and the
# CUDA repository's pinning package.
UNPINNED_PREFIXES = ('nvidia-persistenced', 'linux-headers-', 'linux-modules-', 'kernel-devel-', 'nvidia-driver-pinning-')


def _follows_driver(package):
    return not package.startswith(UNPINNED_PREFIXES)


class FilterModule(object):
    def filters(self):
        return {'nvidia_driver_packages': nvidia_driver_packages}
