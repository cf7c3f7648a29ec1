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
    under the install root, the model store path the instances were configured with, and which groups exist.
  - One remote run instead of a C(stat), two C(slurp), a C(getent) and a C(find) (docs/performance.md).
version_added: 0.3.0
author:
  - gpufleet maintainers (@gpufleet)
attributes:
  check_mode:
    support: full
    description: The module only reads; it behaves the same in check mode.
  diff_mode:
    support: none
    description: The module changes nothing, so there is no diff.
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
seealso:
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
"""

import grp
import os
import re

from ansible.module_utils.basic import AnsibleModule

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


def main():
    module = AnsibleModule(
        argument_spec=dict(
            install_root=dict(type='path', required=True),
            version=dict(type='str', required=True),
            state_dir=dict(type='path'),
            groups=dict(type='list', elements='str', default=[]),
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
        )
    except OSError as e:
        module.fail_json(msg='ollama_node_info: cannot read %s: %s' % (e.filename or root, e.strerror or e))
    module.exit_json(**result)


if __name__ == '__main__':
    main()
