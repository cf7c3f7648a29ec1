#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026, gpufleet maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: deb_repository
short_description: Index a directory of .deb files as a flat apt repository, reading each package once
description:
  - Writes C(Packages) (each C(.deb)'s control paragraph with C(Filename), C(Size) and C(SHA256)) and C(Release)
    (the size and SHA256 of C(Packages)) into O(path), so that an apt source C(deb [trusted=yes] file:<path> ./) -
    in deb822, C(Types) V(deb), C(URIs) V(file:<path>), C(Suites) V(./) and C(Trusted) V(yes) - installs from it. This is what
    C(dpkg-scanpackages) and C(apt-ftparchive) do, with only C(dpkg-deb), which every Debian or Ubuntu host has
    (an air-gapped node cannot install C(dpkg-dev) or C(apt-utils) before it has a repository).
  - A C(.deb) is read (C(dpkg-deb --field), its SHA256) only when it is new to the directory or its size or
    modification time changed; what was read is kept in C(.gpufleet-index.json) beside it, so a run over unchanged
    multi-GB driver packages hashes nothing.
  - C(Packages) and C(Release) are replaced atomically and only when their bytes change; the entries are sorted by
    package, version and file name, and the C(Date) of C(Release) is the time C(Packages) last changed, so the same
    files always give the same index.
version_added: 0.3.0
author:
  - gpufleet maintainers (@gpufleet)
attributes:
  check_mode:
    support: full
    description: Reads the new or changed packages and reports what the index would list; writes nothing.
  diff_mode:
    support: full
    description: The file names the index lists, before and after.
  platform:
    support: full
    platforms: debian
    description: Debian and derivatives (C(dpkg-deb)).
options:
  path:
    description: The directory that holds the C(.deb) files (not its subdirectories); it must exist.
    type: path
    required: true
  origin:
    description: The C(Origin) and C(Label) written into C(Release), as C(apt-cache policy) shows them.
    type: str
    default: gpufleet
notes:
  - Nothing is signed. The repository is a directory on the node that only root writes, filled from files the control
    node checked (sha256); use it with C([trusted=yes]) (see the collection's docs/airgap.md).
seealso:
  - module: gpufleet.ollama.deb_packages
"""

EXAMPLES = r"""
- name: Index the packages copied to the node
  gpufleet.ollama.deb_repository:
    path: /var/lib/gpufleet/packages
"""

RETURN = r"""
packages:
  description: What the index lists, one entry per C(.deb).
  returned: always
  type: list
  elements: dict
  sample: [{package: nginx, version: 1.22.1-9+deb12u2, architecture: amd64, filename: ./nginx_1.22.1-9+deb12u2_amd64.deb}]
added:
  description: File names of the packages the index did not list before.
  returned: always
  type: list
  elements: str
removed:
  description: File names of the packages the index listed and that are gone.
  returned: always
  type: list
  elements: str
read:
  description: File names of the packages read in this run (new, or changed since the last index).
  returned: always
  type: list
  elements: str
"""

import datetime
import hashlib
import json
import os
import re

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.gpufleet.ollama.plugins.module_utils._files import write_text_atomic
from ansible_collections.gpufleet.ollama.plugins.module_utils._names import OllamaError
from ansible_collections.gpufleet.ollama.plugins.module_utils._ollama import CommandRunner
from ansible_collections.gpufleet.ollama.plugins.module_utils._store import sha256_file

CACHE = '.gpufleet-index.json'
# Fields apt writes last in a stanza of Packages, from the file itself (dpkg-scanpackages order)
FILE_FIELDS = ('Filename', 'Size', 'SHA256')


def control_fields(text):
    """The control paragraph dpkg-deb --field prints -> [(field, value)], continuation lines kept."""
    fields = []
    for line in text.splitlines():
        if not line.strip():
            continue
        if line[0] in ' \t' and fields:
            fields[-1] = (fields[-1][0], fields[-1][1] + '\n' + line)
            continue
        name, sep, value = line.partition(':')
        if not sep:
            raise ValueError('not a control field: %r' % line)
        fields.append((name.strip(), value.strip()))
    return fields


def stanza(entry):
    lines = ['%s: %s' % (name, value) for name, value in entry['control'] if name not in FILE_FIELDS]
    lines += ['Filename: ./%s' % entry['name'], 'Size: %d' % entry['size'], 'SHA256: %s' % entry['sha256']]
    return '\n'.join(lines) + '\n'


def field(entry, name):
    return next((value for key, value in entry['control'] if key == name), '')


def release_date(packages, before_packages, before_release, now=None):
    """The Release's Date: kept from the previous Release while Packages is the same, else now (apt warns about a
    Release without one)."""
    if packages == before_packages:
        match = re.search(r'^Date: (.+)$', before_release or '', re.MULTILINE)
        if match:
            return match.group(1)
    return (now or datetime.datetime.now(datetime.timezone.utc)).strftime('%a, %d %b %Y %H:%M:%S UTC')


def release_text(packages, origin, date):
    data = packages.encode('utf-8')
    return ('Origin: %s\nLabel: %s\nSuite: ./\nDate: %s\nSHA256:\n %s %d Packages\n'
            % (origin, origin, date, hashlib.sha256(data).hexdigest(), len(data)))


def read_text(path):
    try:
        with open(path, encoding='utf-8') as f:
            return f.read()
    except FileNotFoundError:
        return None


class Index:
    def __init__(self, module, path):
        self.module = module
        self.path = path
        self.dpkg_deb = None

    def cached(self):
        text = read_text(os.path.join(self.path, CACHE))
        try:
            entries = json.loads(text) if text else {}
        except ValueError:
            return {}
        return entries if isinstance(entries, dict) else {}

    def read(self, name, status):
        if self.dpkg_deb is None:
            self.dpkg_deb = self.module.get_bin_path('dpkg-deb', required=True)
        full = os.path.join(self.path, name)
        rc, out, err = CommandRunner(self.module, self.dpkg_deb).run('--field', full)
        if rc != 0:
            self.module.fail_json(msg='deb_repository: %s is not a package dpkg-deb can read (rc=%d): %s'
                                      % (full, rc, (err or out).strip() or 'no output'))
        try:
            control = control_fields(out)
        except ValueError as e:
            self.module.fail_json(msg='deb_repository: cannot read the control fields of %s: %s' % (full, e))
        try:
            digest = sha256_file(full)
        except OllamaError as e:
            self.module.fail_json(msg='deb_repository: %s' % e)
        return dict(name=name, size=status.st_size, mtime_ns=status.st_mtime_ns, sha256=digest, control=control)


def main():
    module = AnsibleModule(
        argument_spec=dict(path=dict(type='path', required=True), origin=dict(type='str', default='gpufleet')),
        supports_check_mode=True,
    )
    path = module.params['path']
    if not os.path.isdir(path):
        if module.check_mode and not os.path.lexists(path):
            # the task that creates and fills it did not run (check mode): a real run indexes what it copies there
            module.exit_json(changed=True, packages=[], added=[], removed=[], read=[],
                             msg='%s does not exist yet; a real run indexes the packages copied there' % path)
        module.fail_json(msg='deb_repository: %s is not a directory (copy the packages there first)' % path)
    index = Index(module, path)
    cache = index.cached()
    entries, read = [], []
    for name in sorted(n for n in os.listdir(path) if n.endswith('.deb')):
        if not os.path.isfile(os.path.join(path, name)):
            continue
        status = os.stat(os.path.join(path, name))
        known = cache.get(name)
        if isinstance(known, dict) and known.get('size') == status.st_size and known.get('mtime_ns') == status.st_mtime_ns:
            known['control'] = [tuple(f) for f in known.get('control', [])]
            entries.append(known)
            continue
        entries.append(index.read(name, status))
        read.append(name)
    entries.sort(key=lambda e: (field(e, 'Package'), field(e, 'Version'), e['name']))

    packages = '\n'.join(stanza(e) for e in entries)
    before_packages = read_text(os.path.join(path, 'Packages'))
    release = release_text(packages, module.params['origin'],
                           release_date(packages, before_packages, read_text(os.path.join(path, 'Release'))))
    cache_text = json.dumps({e['name']: dict(e, control=[list(f) for f in e['control']]) for e in entries},
                            sort_keys=True, indent=1) + '\n'
    before_names = sorted(line[len('Filename: ./'):] for line in (before_packages or '').splitlines()
                          if line.startswith('Filename: ./'))
    after_names = [e['name'] for e in entries]
    writes = [(name, text) for name, text in (('Packages', packages), ('Release', release), (CACHE, cache_text))
              if read_text(os.path.join(path, name)) != text]
    changed = bool(writes)
    if writes and not module.check_mode:
        for name, text in writes:
            write_text_atomic(os.path.join(path, name), text)
    result = dict(
        changed=changed,
        packages=[dict(package=field(e, 'Package'), version=field(e, 'Version'),
                       architecture=field(e, 'Architecture'), filename='./' + e['name']) for e in entries],
        added=sorted(set(after_names) - set(before_names)),
        removed=sorted(set(before_names) - set(after_names)),
        read=read,
    )
    if module._diff:
        result['diff'] = dict(before='\n'.join(before_names) + '\n' if before_names else '',
                              after='\n'.join(sorted(after_names)) + '\n' if after_names else '',
                              before_header='%s/Packages' % path, after_header='%s/Packages' % path)
    module.exit_json(**result)


if __name__ == '__main__':
    main()
