# -*- coding: utf-8 -*-
# Copyright (c) 2026, gpufleet maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""gpufleet.ollama.deb_packages, the module side: what dpkg lists installed, what is missing."""

from __future__ import annotations

import shutil
from unittest import mock

import pytest

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.gpufleet.ollama.plugins.modules import deb_packages

DPKG = ('nginx\tii \t1.22.1-9\n'
        'nftables\trc \t1.0.6-2+deb12u2\n'          # removed, its configuration kept: not installed
        'libnginx-mod-http-js\thi \t0.7.10-1\n')      # held: installed


def test_parses_what_dpkg_lists_installed():
    assert deb_packages.parse_dpkg(DPKG) == {'nginx': '1.22.1-9', 'libnginx-mod-http-js': '0.7.10-1'}


@pytest.mark.parametrize('specs, missing', [
    (['nginx', 'libnginx-mod-http-js'], []),
    (['nginx:amd64'], []),
    (['nginx=1.22.1-9'], []),
    (['nginx=1.22.*'], []),
    (['nginx=1.24.*'], ['nginx=1.24.*']),
    (['nftables', 'rsync', 'nginx'], ['nftables', 'rsync']),
])
def test_missing_packages(specs, missing):
    assert deb_packages.missing_packages(specs, deb_packages.parse_dpkg(DPKG)) == missing


def test_asks_dpkg_once_for_every_name(run_module):
    with mock.patch.object(AnsibleModule, 'get_bin_path', autospec=True, return_value='/usr/bin/dpkg-query'), \
            mock.patch.object(AnsibleModule, 'run_command', autospec=True,
                              return_value=(1, DPKG, 'dpkg-query: no packages found matching rsync\n')) as run:
        result = run_module(deb_packages, dict(name=['rsync', 'nginx=1.22.*', 'nftables']))
    run.assert_called_once_with(mock.ANY, ['/usr/bin/dpkg-query', '--show', '--showformat=' + deb_packages.DPKG_FORMAT,
                                           'nftables', 'nginx', 'rsync'], environ_update={'LC_ALL': 'C'})
    assert result['changed'] is False
    assert result['installed'] == {'nginx': '1.22.1-9'}
    assert result['missing'] == ['rsync', 'nftables']


def test_a_dpkg_error_names_the_packages(run_module):
    with mock.patch.object(AnsibleModule, 'get_bin_path', autospec=True, return_value='/usr/bin/dpkg-query'), \
            mock.patch.object(AnsibleModule, 'run_command', autospec=True, return_value=(2, '', 'database locked\n')):
        result = run_module(deb_packages, dict(name=['nginx']))
    assert result['failed'] and 'dpkg-query --show nginx failed (exit 2): database locked' in result['msg']


def test_without_dpkg_it_says_so(run_module):
    with mock.patch.object(AnsibleModule, 'get_bin_path', autospec=True, return_value=None):
        result = run_module(deb_packages, dict(name=['nginx']))
    assert result['failed'] and 'dpkg-query is not on this host' in result['msg']


@pytest.mark.skipif(shutil.which('dpkg-query') is None, reason='needs a Debian host (dpkg-query)')
def test_against_this_hosts_dpkg(run_module):
    result = run_module(deb_packages, dict(name=['dpkg', 'gpufleet-no-such-package', 'dpkg=0.0.0-none']))
    assert set(result['installed']) == {'dpkg'}
    assert result['missing'] == ['gpufleet-no-such-package', 'dpkg=0.0.0-none']
