# -*- coding: utf-8 -*-
# Copyright (c) 2026, gpufleet maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""gpufleet.ollama.host_probe: one read of addresses, packages, services and nftables tables."""

from __future__ import annotations

import hashlib
import json
import os
import pwd
import stat
from unittest import mock

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.gpufleet.ollama.plugins.module_utils import _files
from ansible_collections.gpufleet.ollama.plugins.modules import host_probe

ADDR = [{'ifname': 'eth0', 'addr_info': [{'family': 'inet', 'local': '10.0.0.5', 'prefixlen': 24}]}]
DPKG = 'nginx\tii \t1.22.1-9\nnftables\trc \t1.0.6-2\nrsync\thi \t3.2.7-1\n'
# systemctl show --type=service --property=Id,ActiveState,UnitFileState '*'
UNITS = ('Id=nginx.service\nActiveState=active\nUnitFileState=enabled\n\n'
         'Id=ollama@11434.service\nActiveState=failed\nUnitFileState=enabled\n\n'
         'Id=keepalived.service\nActiveState=inactive\nUnitFileState=disabled\n\n'
         'Id=ssh.socket\nActiveState=active\nUnitFileState=enabled\n')
NFT = 'table ip nat\ntable inet gpufleet_ollama\n'


def fake_host(missing=(), failing=()):
    """run_command answers as a host would; tools in missing are not installed, those in failing exit 1."""
    def get_bin_path(self, tool, *args, **kwargs):
        return None if tool in missing else '/usr/bin/' + tool

    def run_command(self, argv, environ_update=None, expand_user_and_vars=True):
        assert environ_update['LC_ALL'] == 'C' and not expand_user_and_vars
        tool, args = argv[0].rsplit('/', 1)[1], argv[1:]
        if tool in failing:
            return 1, '', 'Operation not permitted'
        if tool == 'ip':
            return 0, json.dumps(ADDR), ''
        if tool == 'dpkg-query':
            return 0, DPKG, ''
        if tool == 'systemctl':
            assert args == ['show', '--type=service', '--property=Id,ActiveState,UnitFileState', '*']
            return 0, UNITS, ''
        return 0, NFT, ''
    return mock.patch.multiple(AnsibleModule, get_bin_path=get_bin_path, run_command=run_command)


def test_reads_every_part(run_module):
    with fake_host():
        result = run_module(host_probe, {}, check_mode=True)
    assert result['changed'] is False
    assert result['probed'] == ['addresses', 'packages', 'units', 'nft_tables']
    assert result['addresses'] == ADDR
    assert result['packages'] == {'nginx': '1.22.1-9', 'rsync': '3.2.7-1'}        # rc: removed, not installed
    assert result['units'] == {'nginx.service': {'active': 'active', 'enabled': 'enabled'},
                               'ollama@11434.service': {'active': 'failed', 'enabled': 'enabled'},
                               'keepalived.service': {'active': 'inactive', 'enabled': 'disabled'}}
    assert result['nft_tables'] == ['ip nat', 'inet gpufleet_ollama']
    assert result['started'] == ['nginx.service']      # active and enabled; failed or disabled ones are not
    assert result['held'] == ['rsync']                 # hi: installed and on hold
    assert result['kernel'] == os.uname().release
    assert set(result['os_release']) == {'id', 'version_id', 'version_codename'}


def test_a_part_it_cannot_read_is_left_out_and_empty(run_module):
    with fake_host(missing=('dpkg-query', 'systemctl'), failing=('nft',)):
        result = run_module(host_probe, {})
    assert result['probed'] == ['addresses']
    assert result['packages'] == {} and result['units'] == {} and result['nft_tables'] == []
    assert result['started'] == []


def test_reads_only_the_parts_asked_for(run_module):
    with fake_host():
        result = run_module(host_probe, dict(parts=['units']))
    assert result['probed'] == ['units'] and result['addresses'] == []


def test_fails_without_the_addresses_and_says_why(run_module):
    with fake_host(missing=('ip',)):
        result = run_module(host_probe, {})
    assert result['failed'] and 'ip -j addr show` is not available' in result['msg'] and 'iproute2' in result['msg']


def test_files_lists_a_directory_and_its_direct_entries_with_checksums(run_module, tmp_path):
    conf = tmp_path / 'etc'
    (conf / 'sub').mkdir(parents=True)
    (conf / 'a.conf').write_text('x\n')
    (conf / 'sub' / 'deep.conf').write_text('not listed\n')
    (conf / 'link').symlink_to('a.conf')
    with fake_host():
        result = run_module(host_probe, {'files': [str(conf), str(tmp_path / 'missing')]}, check_mode=True)
    by_path = {e['path']: e for e in result['files']}
    assert sorted(by_path) == [str(conf), str(conf / 'a.conf'), str(conf / 'link'), str(conf / 'sub')]
    assert by_path[str(conf)]['isdir'] and 'checksum' not in by_path[str(conf)]
    assert by_path[str(conf / 'a.conf')]['checksum'] == hashlib.sha1(b'x\n').hexdigest()
    assert by_path[str(conf / 'a.conf')]['isreg'] and by_path[str(conf / 'a.conf')]['mode'] == '%04o' % (
        stat.S_IMODE((conf / 'a.conf').stat().st_mode))
    assert by_path[str(conf / 'link')]['islnk'] and 'checksum' not in by_path[str(conf / 'link')]


def test_a_file_over_the_limit_or_unreadable_has_no_checksum(tmp_path, monkeypatch):
    big = tmp_path / 'big'
    big.write_bytes(b'y' * 10)
    assert 'checksum' not in _files.entry(str(big), checksum_limit=5)
    assert _files.entry(str(big), checksum_limit=10)['checksum'] == hashlib.sha1(b'y' * 10).hexdigest()

    def refuse(*args, **kwargs):
        raise PermissionError('denied')
    monkeypatch.setattr('builtins.open', refuse)
    assert 'checksum' not in _files.entry(str(big))


def test_files_defaults_to_none(run_module):
    with fake_host():
        result = run_module(host_probe, {}, check_mode=True)
    assert result['files'] == []


def test_contents_returns_small_text_files_and_leaves_out_the_rest(run_module, tmp_path):
    state = tmp_path / 'drained.json'
    state.write_text('["node-3"]\n')
    big = tmp_path / 'big.json'
    big.write_text('x' * (host_probe.CONTENTS_LIMIT + 1))
    binary = tmp_path / 'blob'
    binary.write_bytes(b'\xff\xfe\x00')
    fifo = tmp_path / 'fifo'
    os.mkfifo(fifo)
    asked = [str(p) for p in (state, big, binary, fifo, tmp_path, tmp_path / 'missing')]
    with fake_host():
        result = run_module(host_probe, {'contents': asked}, check_mode=True)
    assert result['contents'] == {str(state): '["node-3"]\n'}


def test_users_describes_the_accounts_that_exist(run_module):
    with fake_host():
        result = run_module(host_probe, {'users': ['root', 'no-such-account-here']}, check_mode=True)
    assert list(result['users']) == ['root']
    assert result['users']['root']['uid'] == 0 and result['users']['root']['home'] == pwd.getpwnam('root').pw_dir
    assert result['users']['root']['shell'] == pwd.getpwnam('root').pw_shell


def test_contents_and_users_default_to_none(run_module):
    with fake_host():
        result = run_module(host_probe, {}, check_mode=True)
    assert result['contents'] == {} and result['users'] == {}


def test_os_release_reads_the_fields_quoted_or_not(tmp_path):
    path = tmp_path / 'os-release'
    path.write_text('PRETTY_NAME="Debian GNU/Linux 13 (trixie)"\nNAME="Debian GNU/Linux"\nVERSION_ID="13"\n'
                    'VERSION_CODENAME=trixie\nID=debian\n')
    assert host_probe.read_os_release(str(path)) == {'id': 'debian', 'version_id': '13', 'version_codename': 'trixie'}
    assert host_probe.read_os_release(str(tmp_path / 'missing')) == {'id': '', 'version_id': '', 'version_codename': ''}


def test_container_is_read_as_systemd_detects_it(tmp_path):
    (tmp_path / 'run' / 'systemd').mkdir(parents=True)
    (tmp_path / 'proc' / '1').mkdir(parents=True)
    assert host_probe.read_container(str(tmp_path)) == ''
    (tmp_path / '.dockerenv').write_text('')
    assert host_probe.read_container(str(tmp_path)) == 'docker'
    (tmp_path / 'run' / '.containerenv').write_text('')
    assert host_probe.read_container(str(tmp_path)) == 'podman'
    (tmp_path / 'proc' / '1' / 'environ').write_bytes(b'PATH=/bin\0container=lxc\0')
    assert host_probe.read_container(str(tmp_path)) == 'lxc'
    (tmp_path / 'run' / 'systemd' / 'container').write_text('systemd-nspawn\n')
    assert host_probe.read_container(str(tmp_path)) == 'systemd-nspawn'
