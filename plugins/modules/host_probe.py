#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026, gpufleet maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: host_probe
short_description: Read a host's addresses, packages, services, nftables tables and given files in one run
description:
  - Reads, without changing anything, what the roles of the collection would otherwise read task by task - the
    host's addresses (C(ip -j addr show)), the Debian packages installed (C(dpkg-query)), the state of every
    systemd service it has loaded (C(systemctl show)), the nftables tables (C(nft list tables)) and, given
    O(files), the roles' fixed configuration files with their checksums.
  - C(site.yml) and C(upgrade.yml) run it in their first play (it is how they reach each host) and register it as
    C(gpufleet_host_probe). The roles use it only to leave out a run whose outcome it already shows - a package
    installed (M(gpufleet.ollama.deb_packages) O(gpufleet.ollama.deb_packages#module:installed)), a service
    active and enabled, a table loaded, a file exactly as the role would write it; anything it does not show is
    read again or done as usual, so a stale read costs a run. A file it lists is written by one role, once per
    site run, so the read cannot go stale before that role uses it - except the gateways' files, which a drain
    earlier in the same run (a rolling change) rewrites; the gateway role stops using the read after one.
  - A part whose tool is missing or refuses the user (C(nft) wants root) is left out of RV(probed) and comes back
    empty; only O(parts=addresses) is required to work.
version_added: 0.3.0
author:
  - gpufleet maintainers (@gpufleet)
extends_documentation_fragment:
  - gpufleet.ollama.read_only
options:
  parts:
    description: What to read.
    type: list
    elements: str
    choices: [addresses, packages, units, nft_tables]
    default: [addresses, packages, units, nft_tables]
  files:
    description:
      - Paths to describe in RV(files) as M(ansible.builtin.find) would (a regular file with its sha1 checksum);
        a directory also lists its direct entries. M(gpufleet.ollama.managed_files) takes such a list as
        O(gpufleet.ollama.managed_files#module:known) and leaves out its remote run when it shows every file as
        asked.
      - A file this user cannot read, or one over 4 MiB, is listed without a checksum (the module that writes it
        then runs as usual).
    type: list
    elements: path
    default: []
  contents:
    description:
      - Small state files (JSON the roles keep, such as a gateway's drain set) to return in RV(contents) as text,
        so a role reads them without a run of its own.
      - A path that is missing, not a regular file, unreadable, over 64 KiB or not UTF-8 is left out of
        RV(contents) (the role then reads it as usual).
    type: list
    elements: path
    default: []
    version_added: 0.3.0
  users:
    description:
      - Accounts to describe in RV(users) (from the passwd database, as C(getent passwd) shows them), so a role
        leaves out its M(ansible.builtin.user) run when the account already is as it would make it.
    type: list
    elements: str
    default: []
    version_added: 0.3.0
seealso:
  - module: gpufleet.ollama.deb_packages
"""

EXAMPLES = r"""
- name: Reach the host and read what the roles would read task by task
  gpufleet.ollama.host_probe:
  register: gpufleet_host_probe

- name: Run the service only when the read does not show it active and enabled
  ansible.builtin.systemd_service:
    name: nginx.service
    state: started
    enabled: true
  when: "'nginx.service' not in gpufleet_host_probe.started | default([])"
"""

RETURN = r"""
probed:
  description: The parts that were read; a part left out could not be read and is empty.
  returned: always
  type: list
  elements: str
  sample: [addresses, packages, units, nft_tables]
addresses:
  description: The host's interfaces and addresses, as C(ip -j addr show) prints them.
  returned: always
  type: list
  elements: dict
  sample: [{ifname: eth0, addr_info: [{family: inet, local: 10.0.0.5, prefixlen: 24}]}]
packages:
  description: Every installed package (dpkg status C(ii) or C(hi)) with its version.
  returned: always
  type: dict
  sample: {nginx: 1.22.1-9, rsync: 3.2.7-1}
units:
  description:
    - Every systemd service that systemd has loaded (running, failed, or otherwise referenced), with its active
      state (C(active), C(inactive), C(failed), ...) and its unit file state (C(enabled), C(disabled),
      C(static), ...). A service not loaded is not listed.
  returned: always
  type: dict
  sample: {nginx.service: {active: active, enabled: enabled}}
started:
  description:
    - The services of RV(units) that are active and enabled - those that M(ansible.builtin.systemd_service) with
      C(state=started) and C(enabled=true) would leave as they are.
  returned: always
  type: list
  elements: str
  sample: [nginx.service]
nft_tables:
  description: The nftables tables, as C(family name).
  returned: always
  type: list
  elements: str
  sample: [inet gpufleet_ollama]
files:
  description: Each existing path of O(files) (and each direct entry of a directory among them), as M(ansible.builtin.find) lists it.
  returned: always
  type: list
  elements: dict
  sample:
    - {path: /etc/gpufleet/models-rsyncd.conf, isdir: false, isreg: true, islnk: false, mode: "0644", uid: 0, gid: 0,
       pw_name: root, gr_name: root, mtime: 1764590000.0, checksum: 0b1c6bd2c6f54c1a52b5f8ee1e5a2bb4c1c0e0a1}
contents:
  description: The text of each readable path of O(contents) (regular, at most 64 KiB, UTF-8), by path.
  returned: always
  type: dict
  sample: {/var/lib/gpufleet/gateway/drained.json: "[\"gpu-node-3\"]\n"}
os_release:
  description: The host's C(/etc/os-release) fields C(ID), C(VERSION_ID) and C(VERSION_CODENAME), lower-cased keys
    (empty strings for a field the file lacks).
  returned: always
  type: dict
  sample: {id: debian, version_id: "12", version_codename: bookworm}
  version_added: 0.3.0
kernel:
  description: The running kernel's release (C(uname -r)).
  returned: always
  type: str
  sample: 6.1.0-41-amd64
  version_added: 0.3.0
container:
  description:
    - The container manager the host runs under, as C(systemd-detect-virt --container) names it (C(docker),
      C(podman), C(lxc), ...), empty on a machine or a virtual machine. Read as systemd's C(detect_container) reads
      it - C(/run/systemd/container), PID 1's C(container) variable, C(/run/.containerenv) (podman),
      C(/.dockerenv) (docker).
  returned: always
  type: str
  sample: docker
  version_added: 0.3.0
held:
  description: The installed packages on hold (dpkg selection C(hold), as C(apt-mark showhold) lists them); read
    with RV(packages).
  returned: always
  type: list
  elements: str
  sample: [nvidia-driver, nvidia-smi]
  version_added: 0.3.0
users:
  description: Each existing account of O(users), by name.
  returned: always
  type: dict
  sample: {gpufleet-check: {uid: 998, gid: 998, home: /nonexistent, shell: /usr/sbin/nologin}}
"""

import json
import os
import pwd
import stat

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.gpufleet.ollama.plugins.module_utils._deb import DPKG_FORMAT, parse_dpkg, parse_held
from ansible_collections.gpufleet.ollama.plugins.module_utils._files import entries
from ansible_collections.gpufleet.ollama.plugins.module_utils._ollama import CommandRunner

PARTS = ['addresses', 'packages', 'units', 'nft_tables']


def parse_units(stdout):
    """`systemctl show --property=Id,ActiveState,UnitFileState` of several units -> {unit: {active, enabled}}."""
    units = {}
    for block in stdout.split('\n\n'):
        props = dict(line.partition('=')[::2] for line in block.splitlines() if '=' in line)
        if props.get('Id', '').endswith('.service'):
            units[props['Id']] = dict(active=props.get('ActiveState', ''), enabled=props.get('UnitFileState', ''))
    return units


def parse_tables(stdout):
    """`nft list tables` -> ['inet gpufleet_ollama', ...]."""
    return [' '.join(line.split()[1:3]) for line in stdout.splitlines() if line.startswith('table ')]


class Probe:

    def __init__(self, module):
        self.module = module
        self.held = []

    def run(self, tool, *args):
        """(rc, stdout) of a tool on the host, rc None when it is not installed."""
        path = self.module.get_bin_path(tool)
        if path is None:
            return None, ''
        rc, out, dummy = CommandRunner(self.module, path).run(*args)
        return rc, out

    def addresses(self):
        rc, out = self.run('ip', '-j', 'addr', 'show')
        if rc != 0:
            self.module.fail_json(msg='host_probe: `ip -j addr show` %s on this host; the site checks the addresses '
                                      'each role binds against them (install iproute2)'
                                      % ('is not available' if rc is None else 'failed (exit %d)' % rc))
        try:
            return json.loads(out or '[]')
        except ValueError as e:
            self.module.fail_json(msg='host_probe: `ip -j addr show` printed no JSON: %s' % e)

    def packages(self):
        rc, out = self.run('dpkg-query', '--show', '--showformat=' + DPKG_FORMAT)
        if rc != 0:
            return None
        self.held = parse_held(out)
        return parse_dpkg(out)

    def units(self):
        # every service systemd has loaded (`list-unit-files` would add the others, at half a second a host)
        rc, out = self.run('systemctl', 'show', '--type=service', '--property=Id,ActiveState,UnitFileState', '*')
        return None if rc != 0 else parse_units(out)

    def nft_tables(self):
        rc, out = self.run('nft', 'list', 'tables')
        return None if rc != 0 else parse_tables(out)


CONTENTS_LIMIT = 64 * 1024


def read_contents(paths):
    """{path: text} of the small readable regular UTF-8 files among paths; the others are left out."""
    found = {}
    for path in paths:
        if not os.path.isfile(path):   # before open: a FIFO would block it
            continue
        try:
            with open(path, 'rb') as f:
                status = os.fstat(f.fileno())
                if not stat.S_ISREG(status.st_mode) or status.st_size > CONTENTS_LIMIT:
                    continue
                found[path] = f.read(CONTENTS_LIMIT + 1).decode('utf-8')
        except (OSError, UnicodeDecodeError):
            continue
    return found


OS_RELEASE_FIELDS = ('ID', 'VERSION_ID', 'VERSION_CODENAME')


def read_os_release(path='/etc/os-release'):
    """os-release(5)'s ID, VERSION_ID and VERSION_CODENAME (shell-style assignments, values maybe quoted)."""
    found = dict((key.lower(), '') for key in OS_RELEASE_FIELDS)
    try:
        with open(path, encoding='utf-8') as f:
            lines = f.read().splitlines()
    except (OSError, UnicodeDecodeError):
        return found
    for line in lines:
        key, sep, value = line.strip().partition('=')
        if sep and key in OS_RELEASE_FIELDS:
            found[key.lower()] = value.strip().strip('"\'')
    return found


def read_container(root='/'):
    """The container manager, as systemd's detect_container() (src/basic/virt.c) finds it, or ''."""
    def text(path, binary=False):
        try:
            with open(os.path.join(root, path), 'rb') as f:
                data = f.read(4096)
        except OSError:
            return None
        return data if binary else data.decode('utf-8', 'replace').strip()

    found = text('run/systemd/container')
    if found:
        return found
    environ = text('proc/1/environ', binary=True) or b''
    for item in environ.split(b'\0'):
        if item.startswith(b'container=') and item[10:]:
            return item[10:].decode('utf-8', 'replace')
    if text('run/.containerenv') is not None:
        return 'podman'
    if text('.dockerenv') is not None:
        return 'docker'
    return ''


def read_users(names):
    """{name: {uid, gid, home, shell}} of the accounts among names that exist."""
    found = {}
    for name in names:
        try:
            entry = pwd.getpwnam(name)
        except KeyError:
            continue
        found[name] = dict(uid=entry.pw_uid, gid=entry.pw_gid, home=entry.pw_dir, shell=entry.pw_shell)
    return found


def main():
    module = AnsibleModule(
        argument_spec=dict(parts=dict(type='list', elements='str', choices=PARTS, default=PARTS),
                           files=dict(type='list', elements='path', default=[]),
                           contents=dict(type='list', elements='path', default=[]),
                           users=dict(type='list', elements='str', default=[])),
        supports_check_mode=True,
    )
    probe = Probe(module)
    result = dict(changed=False, probed=[], addresses=[], packages={}, units={}, started=[], nft_tables=[],
                  files=entries(module.params['files']), contents=read_contents(module.params['contents']),
                  users=read_users(module.params['users']), os_release=read_os_release(),
                  kernel=os.uname().release, held=[], container=read_container())
    for part in PARTS:
        if part in module.params['parts']:
            value = getattr(probe, part)()
            if value is not None:
                result[part] = value
                result['probed'].append(part)
    result['held'] = sorted(probe.held)
    result['started'] = sorted(name for name, state in result['units'].items()
                               if state == dict(active='active', enabled='enabled'))
    module.exit_json(**result)


if __name__ == '__main__':
    main()
