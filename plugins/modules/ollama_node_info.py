#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026, gpufleet maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: ollama_node_info
short_description: Read what a node has of its Ollama install, in one run
description:
  - Reads, without changing anything, what the C(gpufleet.ollama.ollama) role needs to know about a node before it
    changes it - whether a release is installed and the sha256 of the archive it came from, the releases installed
    under the install root, the model store path the instances were configured with, which groups exist, where
    some links point, the service account, whether that account can use the model store, and with O(gpus) the GPUs
    as M(gpufleet.ollama.nvidia_gpu_info) reads them.
  - One remote run instead of a C(stat), two C(slurp), a C(getent), a C(find), a C(user) and a C(runuser) check
    (docs/performance.md). What it reports lets the role skip a run whose outcome is already known; a stale or
    unknown answer only makes the role do the real work.
version_added: 0.3.0
author:
  - gpufleet maintainers (@gpufleet)
extends_documentation_fragment:
  - gpufleet.ollama.read_only
options:
  install_root:
    description: The directory that holds one directory per release (C(0.14.1/bin/ollama)) and its C(.sha256) record.
    type: path
    required: true
  version:
    description: The release to look for.
    type: str
    required: true
  state_dir:
    description: The role's state directory; its C(models_dir) file records the store path the instances use.
    type: path
  groups:
    description: Groups to look up; RV(groups_present) lists those that exist.
    type: list
    elements: str
    default: []
  links:
    description: Paths whose link target to read; RV(links) maps each to its target.
    type: list
    elements: path
    default: []
  user:
    description: The service account to describe in RV(user).
    type: str
  store:
    description:
      - The model store; RV(store_usable) says whether O(user) can reach, list and write it, as the mode bits of
        the store and of every directory above it say.
    type: path
  paths:
    description: Paths to describe in RV(paths), as M(ansible.builtin.find) would (a file with its sha1 checksum).
    type: list
    elements: path
    default: []
  unit_dir:
    description: The systemd unit directory; RV(unit_files) lists the Ollama unit and the instances' drop-ins there.
    type: path
  gpus:
    description: Also read the GPUs with C(nvidia-smi) (RV(gpu_info)).
    type: bool
    default: false
  nvidia_smi_path:
    description: With O(gpus), the C(nvidia-smi) to run (default - found on the PATH or in C(/usr/bin)).
    type: path
  instances:
    description:
      - Also read what every loaded instance C(ollama@<port>.service) runs (RV(instances_show)), so the role's service
        step needs no read of its own when nothing restarted or reloaded an instance since.
    type: bool
    default: false
    version_added: 0.3.0
seealso:
  - module: gpufleet.ollama.nvidia_gpu_info
  - module: gpufleet.ollama.ollama_store_info
"""

EXAMPLES = r"""
- name: Read the node's install
  gpufleet.ollama.ollama_node_info:
    install_root: /opt/ollama
    version: 0.14.1
    state_dir: /var/lib/gpufleet/ollama
    groups: [ollama, video, render]
  register: node

- name: Unpack the release only when it is not installed
  ansible.builtin.debug:
    msg: "{{ 'installed' if node.release.installed else 'to install' }}"
"""

RETURN = r"""
release:
  description: The release O(version).
  returned: always
  type: dict
  contains:
    installed:
      description: Whether C(bin/ollama) of the release exists as a file.
      type: bool
    digest:
      description: The sha256 recorded beside the release (C(<version>.sha256)), empty when there is none.
      type: str
  sample: {installed: true, digest: f9366d3237a411e6938f576df67ad2f0ec9e252ffd9fc63bc1ff4f8d50149290}
versions:
  description: The releases installed under O(install_root) (directories named like C(0.14.1) or C(0.14.0-rc1)), sorted.
  returned: always
  type: list
  elements: str
  sample: [0.12.3, 0.14.1]
models_dir_record:
  description: The store path recorded in O(state_dir) (C(models_dir)), empty when there is none or no O(state_dir).
  returned: always
  type: str
  sample: /var/lib/ollama/models
groups_present:
  description: The entries of O(groups) that exist on the node (the group database, local or not).
  returned: always
  type: list
  elements: str
  sample: [ollama, video]
links:
  description: Each path of O(links) with its link target, empty when it is not a link or does not exist.
  returned: always
  type: dict
  sample: {/opt/ollama/current: 0.14.1, /usr/local/bin/ollama: /opt/ollama/current/bin/ollama}
user:
  description: The account O(user) (empty without O(user)).
  returned: always
  type: dict
  contains:
    exists:
      description: Whether the account exists.
      type: bool
    home:
      description: Its home directory.
      type: str
    shell:
      description: Its login shell.
      type: str
    group:
      description: The name of its primary group.
      type: str
    groups:
      description: The groups that list it as a member (its supplementary groups), sorted.
      type: list
      elements: str
  sample: {exists: true, home: /var/lib/ollama, shell: /usr/sbin/nologin, group: ollama, groups: [render, video]}
store_usable:
  description:
    - Whether O(user) may traverse every directory above O(store) and list, enter and write O(store), from the
      owner, group and other bits of each. C(false) when either does not exist, and when a directory on the way
      carries a POSIX ACL (the mode bits do not tell then) - the caller checks for real in those cases.
  returned: always
  type: bool
  sample: true
instances_show:
  description:
    - With O(instances), the output of C(systemctl show --timestamp=us+utc
      --property=Id,ActiveState,UnitFileState,ExecStart,ExecMainStartTimestamp 'ollama@*.service') - every instance
      systemd has loaded (an instance never started nor enabled is not listed); empty without O(instances) or when
      C(systemctl) is missing or fails.
  returned: always
  type: str
  sample: "Id=ollama@11434.service\nActiveState=active\nUnitFileState=enabled\n..."
unit_files:
  description:
    - With O(unit_dir), the unit file C(ollama@.service), every instance's drop-in directory C(ollama@<port>.service.d)
      and the C(.conf) files in them, as M(ansible.builtin.find) with C(get_checksum) lists files (C(path),
      C(isdir), C(isreg), C(islnk), C(mtime), C(mode), C(uid), C(gid), C(pw_name), C(gr_name), and C(checksum), the
      sha1 of a regular file); empty without O(unit_dir). M(gpufleet.ollama.managed_files) takes such a list as
      O(gpufleet.ollama.managed_files#module:known).
  returned: always
  type: list
  elements: dict
  sample: [{path: /etc/systemd/system/ollama@.service, isdir: false, isreg: true, islnk: false, mtime: 1764582000.5,
            mode: '0644', uid: 0, gid: 0, pw_name: root, gr_name: root,
            checksum: 2aae6c35c94fcfb415dbe95f408b9ce91ee846ed}]
paths:
  description: Each existing path of O(paths), described as in RV(unit_files).
  returned: always
  type: list
  elements: dict
  sample: [{path: /var/lib/ollama, isdir: true, isreg: false, islnk: false, mtime: 1764582000.5, mode: '0750',
            uid: 999, gid: 999, pw_name: ollama, gr_name: ollama}]
gpu_info:
  description: With O(gpus), what M(gpufleet.ollama.nvidia_gpu_info) returns - C(gpus), C(gpu_count),
    C(driver_version), C(reason) and C(nvidia_smi) (the program run); empty without O(gpus).
  returned: always
  type: dict
  sample: {gpus: [{index: 0, uuid: GPU-1, name: NVIDIA H100, memory_total_mib: 81559, memory_used_mib: 4,
                   driver_version: 570.124.06}], gpu_count: 1, driver_version: 570.124.06, reason: null}
"""

import grp
import os
import pwd
import re
import stat

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.gpufleet.ollama.plugins.module_utils._files import described, entry
from ansible_collections.gpufleet.ollama.plugins.module_utils._nvidia import ParseError, read_gpus
from ansible_collections.gpufleet.ollama.plugins.module_utils._ollama import CommandRunner

# What roles/ollama/tasks/state.yml reads of each instance (plugins/filter/ollama_instance_states.py parses it).
INSTANCES_SHOW = ['show', '--timestamp=us+utc', '--property=Id,ActiveState,UnitFileState,ExecStart,ExecMainStartTimestamp',
                  'ollama@*.service']

VERSION_DIR = re.compile(r'^[0-9]+\.[0-9]+\.[0-9]+(-[0-9A-Za-z.]+)?$')
# the records are a line each; a longer file is not one of them
MAX_RECORD = 4096


def read_record(path):
    """The stripped text of a small file, '' when it does not exist."""
    try:
        with open(path, 'rb') as f:
            return f.read(MAX_RECORD).decode('utf-8', 'replace').strip()
    except FileNotFoundError:
        return ''


def installed_versions(root):
    try:
        names = os.listdir(root)
    except FileNotFoundError:
        return []
    return sorted(n for n in names if VERSION_DIR.match(n) and os.path.isdir(os.path.join(root, n)))


def groups_present(names):
    present = []
    for name in names:
        try:
            grp.getgrnam(name)
        except KeyError:
            continue
        present.append(name)
    return present


INSTANCE_DROPIN = re.compile(r'^ollama@[0-9]+\.service\.d$')


def unit_files(unit_dir):
    """The Ollama unit, the instances' drop-in directories and their .conf files, as find lists them."""
    if not unit_dir:
        return []
    try:
        names = sorted(os.listdir(unit_dir))
    except FileNotFoundError:
        return []
    files = []
    for name in names:
        path = os.path.join(unit_dir, name)
        if name == 'ollama@.service' and os.path.isfile(path):
            files.append(entry(path))
        elif INSTANCE_DROPIN.match(name) and os.path.isdir(path):
            files.append(entry(path))
            files.extend(entry(os.path.join(path, conf)) for conf in sorted(os.listdir(path))
                         if conf.endswith('.conf') and os.path.isfile(os.path.join(path, conf)))
    return [f for f in files if f is not None]


def read_links(paths):
    links = {}
    for path in paths:
        try:
            links[path] = os.readlink(path)
        except OSError:
            links[path] = ''
    return links


def describe_user(name):
    if not name:
        return {}
    try:
        entry = pwd.getpwnam(name)
    except KeyError:
        return dict(exists=False, home='', shell='', group='', groups=[])
    try:
        primary = grp.getgrgid(entry.pw_gid).gr_name
    except KeyError:
        primary = str(entry.pw_gid)
    return dict(exists=True, home=entry.pw_dir, shell=entry.pw_shell, group=primary,
                groups=sorted(g.gr_name for g in grp.getgrall() if name in g.gr_mem))


def has_acl(path):
    try:
        return 'system.posix_acl_access' in os.listxattr(path, follow_symlinks=True)
    except OSError:
        return False


def allowed(st, uid, gids, want):
    """Whether the mode bits of st grant uid (in gids) every bit of want (r=4, w=2, x=1), as the kernel decides
    without ACLs: the owner class when uid owns it, else the group class when a gid matches, else other."""
    if uid == 0:
        return not (want & 1) or stat.S_ISDIR(st.st_mode) or bool(st.st_mode & 0o111)
    if st.st_uid == uid:
        bits = (st.st_mode >> 6) & 7
    elif st.st_gid in gids:
        bits = (st.st_mode >> 3) & 7
    else:
        bits = st.st_mode & 7
    return bits & want == want


def store_usable(path, name):
    """Whether the account name may traverse every directory above path and list, enter and write path."""
    if not path or not name:
        return False
    try:
        entry = pwd.getpwnam(name)
    except KeyError:
        return False
    gids = {entry.pw_gid} | {g.gr_gid for g in grp.getgrall() if name in g.gr_mem}
    path = os.path.realpath(path)
    parts = [path]
    while parts[-1] != os.path.dirname(parts[-1]):
        parts.append(os.path.dirname(parts[-1]))
    for index, part in enumerate(parts):
        try:
            st = os.stat(part)
        except OSError:
            return False
        if not stat.S_ISDIR(st.st_mode) or has_acl(part):
            return False
        if not allowed(st, entry.pw_uid, gids, 7 if index == 0 else 1):
            return False
    return True


def read_instances(module):
    """systemctl show of every loaded instance, or '' when systemctl is missing or fails (the role reads them itself)."""
    systemctl = module.get_bin_path('systemctl')
    if systemctl is None:
        return ''
    rc, out, dummy = CommandRunner(module, systemctl).run(*INSTANCES_SHOW)
    return out if rc == 0 else ''


def main():
    module = AnsibleModule(
        argument_spec=dict(
            install_root=dict(type='path', required=True),
            version=dict(type='str', required=True),
            state_dir=dict(type='path'),
            groups=dict(type='list', elements='str', default=[]),
            links=dict(type='list', elements='path', default=[]),
            user=dict(type='str'),
            store=dict(type='path'),
            paths=dict(type='list', elements='path', default=[]),
            unit_dir=dict(type='path'),
            gpus=dict(type='bool', default=False),
            nvidia_smi_path=dict(type='path'),
            instances=dict(type='bool', default=False),
        ),
        supports_check_mode=True,
    )
    root, version, state_dir = module.params['install_root'], module.params['version'], module.params['state_dir']
    if not VERSION_DIR.match(version):
        module.fail_json(msg='ollama_node_info: version %r is not a release number such as 0.14.1' % version)
    release = os.path.join(root, version)
    try:
        result = dict(
            changed=False,
            release=dict(installed=os.path.isfile(os.path.join(release, 'bin', 'ollama')),
                         digest=read_record(release + '.sha256')),
            versions=installed_versions(root),
            models_dir_record=read_record(os.path.join(state_dir, 'models_dir')) if state_dir else '',
            groups_present=groups_present(module.params['groups']),
            links=read_links(module.params['links']),
            user=describe_user(module.params['user']),
            store_usable=store_usable(module.params['store'], module.params['user']),
            unit_files=unit_files(module.params['unit_dir']),
            paths=described(module.params['paths'], checksum_limit=None),
        )
    except OSError as e:
        module.fail_json(msg='ollama_node_info: cannot read %s: %s' % (e.filename or root, e.strerror or e))
    if module.params['gpus']:
        try:
            result['gpu_info'] = read_gpus(module, module.params['nvidia_smi_path'])
        except ParseError as e:
            module.fail_json(msg='ollama_node_info: %s' % e)
    else:
        result['gpu_info'] = {}
    result['instances_show'] = read_instances(module) if module.params['instances'] else ''
    module.exit_json(**result)


if __name__ == '__main__':
    main()
