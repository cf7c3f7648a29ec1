#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026, gpufleet maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: managed_files
short_description: Keep many small files and directories as given, in one round trip
description:
  - Creates, updates or removes a list of small text files and directories on the managed host, in the order
    given, with their owner, group and mode. A file is replaced atomically (a temporary file in the same
    directory, then a rename) only when its content differs; owner, group and mode are set only when they differ.
  - Files given with O(files[].template) are rendered on the controller, each with its own O(files[].vars), as
    the M(ansible.builtin.template) module renders them (C(ansible_managed) included, the role's C(templates/)
    directory searched first).
  - One module run replaces the chain of M(ansible.builtin.file), M(ansible.builtin.template) and
    M(ansible.builtin.copy) tasks (two remote runs per file for a template) that a role needs for, say, one
    environment file per GPU instance. That matters at fleet size, where each remote run costs every host.
  - For a file that a program must check before it replaces a live one (C(nginx -t), C(nft -c)), use
    M(ansible.builtin.template) with its C(validate) option instead.
version_added: 0.1.0
author:
  - gpufleet maintainers (@gpufleet)
attributes:
  action:
    support: full
    description: An action plugin renders O(files[].template) on the controller.
  check_mode:
    support: full
    description: Reports what would change and shows the diff, changing nothing.
  diff_mode:
    support: full
    description: Shows the old and new content of every text file whose content changes, and what else changes.
options:
  files:
    description:
      - The files and directories, applied in this order (a directory before the files in it).
    type: list
    elements: dict
    required: true
    suboptions:
      path:
        description: The absolute path of the file or directory.
        type: path
        required: true
      state:
        description:
          - V(file) writes O(files[].content) (its directory must exist, or come earlier in the list);
            V(directory) creates the directory, and its missing parents as C(mkdir -p) does; V(absent) removes a
            file, a link or a whole directory tree.
        type: str
        choices: [file, directory, absent]
        default: file
      content:
        description:
          - The text of a V(file), written as UTF-8. Give O(files[].content) or O(files[].template).
        type: str
      template:
        description:
          - A template to render on the controller as the content (searched like M(ansible.builtin.template)'s
            C(src)). Handled by the action plugin; the module receives the rendered O(files[].content).
        type: str
      vars:
        description:
          - Variables for this file's O(files[].template) only, on top of the task's variables (for example the
            instance the file belongs to, as C(item)).
        type: dict
      owner:
        description: The owner (a name or a numeric id). Left as it is when not given.
        type: str
      group:
        description: The group (a name or a numeric id). Left as it is when not given.
        type: str
      mode:
        description: The permissions as an octal string, for example V('0644'). Left as they are when not given.
        type: str
notes:
  - The files are held in memory and sent as module arguments, so keep them small (units, environment files,
    configuration); use M(ansible.builtin.copy) for large files.
  - A path that is a link is replaced by a file or directory, never followed.
  - A file is replaced atomically, so a program reading it never sees half a file.
seealso:
  - module: ansible.builtin.template
  - module: ansible.builtin.file
"""

EXAMPLES = r"""
- name: Write the unit, each instance's drop-in directory and environment, in one round trip
  gpufleet.ollama.managed_files:
    files: >-
      {{ [{'path': '/etc/systemd/system/ollama@.service', 'template': 'ollama@.service.j2', 'mode': '0644'}]
         + ollama_instances | gpufleet.ollama.ollama_instance_files('/etc/systemd/system') }}
  notify: Ollama units changed

- name: Keep a state directory and a record in it
  gpufleet.ollama.managed_files:
    files:
      - path: /var/lib/gpufleet-ollama
        state: directory
        owner: root
        group: root
        mode: "0755"
      - path: /var/lib/gpufleet-ollama/models_dir
        content: "/srv/ollama/models\n"
        mode: "0644"

- name: Remove the drop-ins of an instance no longer wanted
  gpufleet.ollama.managed_files:
    files:
      - path: /etc/systemd/system/ollama@11437.service.d
        state: absent
"""

RETURN = r"""
files:
  description: One entry for each of O(files), in order.
  returned: always
  type: list
  elements: dict
  contains:
    path:
      description: The path.
      type: str
      sample: /etc/systemd/system/ollama@11434.service.d/environment.conf
    state:
      description: The state asked for.
      type: str
      sample: file
    changed:
      description: Whether anything about this path changed (or would change, in check mode).
      type: bool
      sample: true
    changes:
      description: What changed, among V(created), V(content), V(owner), V(group), V(mode) and V(removed).
      type: list
      elements: str
      sample: [content]
  sample:
    - path: /etc/systemd/system/ollama@11434.service.d
      state: directory
      changed: false
      changes: []
changed_paths:
  description: The paths that changed (or would change, in check mode), in order.
  returned: always
  type: list
  elements: str
  sample: [/etc/systemd/system/ollama@11434.service.d/environment.conf]
"""

import grp
import os
import pwd
import shutil
import stat
import tempfile

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.common.text.converters import to_bytes, to_native

# A diff shows text up to this size; a larger or binary content is summarised.
DIFF_LIMIT = 64 * 1024


class FileError(Exception):
    """A path that cannot be brought to the state asked for; the message names the path and why."""


def _id(name, lookup):
    """The numeric id of a user or group name (lookup: pwd.getpwnam or grp.getgrnam) or of a numeric id; None when
    name is None or the host has no such user or group (yet)."""
    if name is None:
        return None
    if name.isdigit():
        return int(name)
    try:
        return lookup(name)[2]
    except KeyError:
        return None


def _mode(spec):
    """The permission bits of an octal string, or None; FileError on anything else."""
    if spec['mode'] is None:
        return None
    try:
        mode = int(str(spec['mode']), 8)
    except ValueError:
        raise FileError('%s: mode %r is not an octal string such as 0644' % (spec['path'], spec['mode']))
    if mode > 0o7777:
        raise FileError('%s: mode %r is more than 4 octal digits' % (spec['path'], spec['mode']))
    return mode


def _read(path):
    with open(path, 'rb') as f:
        return f.read()


def _diff_text(data):
    if len(data) > DIFF_LIMIT:
        return '(%d bytes, too large to show)\n' % len(data)
    try:
        return data.decode('utf-8')
    except UnicodeDecodeError:
        return '(%d bytes, not text)\n' % len(data)


def _write(path, data, old):
    """Replace path with data atomically: a temporary file in the same directory (with the owner and mode of the
    file it replaces, old being its lstat or None), then a rename."""
    fd, tmp = tempfile.mkstemp(prefix='.%s.' % os.path.basename(path), dir=os.path.dirname(path))
    try:
        with os.fdopen(fd, 'wb') as f:
            if old is not None:
                os.fchown(f.fileno(), old.st_uid, old.st_gid)
                os.fchmod(f.fileno(), stat.S_IMODE(old.st_mode))
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.rename(tmp, path)
    except BaseException:
        if os.path.lexists(tmp):
            os.unlink(tmp)
        raise


def _remove(path, check_mode):
    if not os.path.lexists(path):
        return []
    if not check_mode:
        if os.path.isdir(path) and not os.path.islink(path):
            shutil.rmtree(path)
        else:
            os.unlink(path)
    return ['removed']


def _ensure_present(spec, check_mode, diffs):
    """Create or update one file or directory; returns what changed."""
    path, state = spec['path'], spec['state']
    changes = []
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        st = None
    if st is not None and stat.S_ISLNK(st.st_mode):
        # never follow a link: it is replaced by what was asked for
        changes += _remove(path, check_mode)
        st = None
    if state == 'directory':
        if st is not None and not stat.S_ISDIR(st.st_mode):
            raise FileError('%s: exists and is not a directory; remove it or give another path' % path)
        if st is None:
            changes.append('created')
            if not check_mode:
                parent = os.path.dirname(path)
                if not os.path.isdir(parent):
                    os.makedirs(parent)  # missing parents as mkdir -p makes them (umask, the connecting user)
                os.mkdir(path, 0o700)
    else:
        if st is not None and not stat.S_ISREG(st.st_mode):
            raise FileError('%s: exists and is not a regular file; remove it or give another path' % path)
        data = to_bytes(spec['content'], errors='surrogate_or_strict')
        before = _read(path) if st is not None else None
        if before != data:
            changes.append('created' if before is None else 'content')
            diffs.append(dict(before_header=path, after_header=path,
                              before='' if before is None else _diff_text(before), after=_diff_text(data)))
            if not check_mode:
                _write(path, data, st)
    changes += _attributes(spec, check_mode, created='created' in changes)
    return changes


def _attributes(spec, check_mode, created):
    """Owner, group and mode of a path that exists (or would, in check mode)."""
    path = spec['path']
    mode = _mode(spec)
    uid, gid = _id(spec['owner'], pwd.getpwnam), _id(spec['group'], grp.getgrnam)
    for kind, wanted, given in (('owner', uid, spec['owner']), ('group', gid, spec['group'])):
        if given is not None and wanted is None and not check_mode:
            raise FileError('%s: %s %r does not exist on this host' % (path, kind, given))
    if check_mode and not os.path.lexists(path):
        # created in check mode: 'created' says it all
        return []
    st = os.lstat(path)
    changes = []
    if spec['owner'] is not None and (uid is None or st.st_uid != uid):
        changes.append('owner')
    if spec['group'] is not None and (gid is None or st.st_gid != gid):
        changes.append('group')
    if mode is None and created and not check_mode:
        # a new path without a mode gets what the umask gives (the temporary file and directory start private)
        umask = os.umask(0)
        os.umask(umask)
        mode = (0o777 if stat.S_ISDIR(st.st_mode) else 0o666) & ~umask
    if mode is not None and stat.S_IMODE(st.st_mode) != mode:
        changes.append('mode')
    if not check_mode:
        if 'owner' in changes or 'group' in changes:
            os.chown(path, -1 if uid is None else uid, -1 if gid is None else gid)
        if 'mode' in changes:
            os.chmod(path, mode)
    if created:
        # a new path has no 'old' owner or mode to report
        changes = []
    return changes


def apply_files(specs, check_mode):
    """Apply every spec in order; returns (files, diffs). FileError names the first path that cannot be applied."""
    files, diffs = [], []
    for spec in specs:
        if spec['state'] == 'file' and spec['content'] is None:
            raise FileError('%s: state=file needs content (or template)' % spec['path'])
        if spec['state'] != 'file' and spec['content'] is not None:
            raise FileError('%s: content is only for state=file, not state=%s' % (spec['path'], spec['state']))
        if not os.path.isabs(spec['path']):
            raise FileError('%s: the path must be absolute' % spec['path'])
        _mode(spec)
        if spec['state'] == 'absent':
            changes = _remove(spec['path'], check_mode)
            if changes:
                diffs.append(dict(before_header=spec['path'], after_header=spec['path'],
                                  before='%s exists\n' % spec['path'], after='%s removed\n' % spec['path']))
        else:
            before_attrs = _describe(spec['path'])
            changes = _ensure_present(spec, check_mode, diffs)
            if changes and 'content' not in changes and 'created' not in changes:
                diffs.append(dict(before_header=spec['path'], after_header=spec['path'], before=before_attrs,
                                  after=_describe_wanted(spec, before_attrs)))
            elif 'created' in changes and spec['state'] == 'directory':
                diffs.append(dict(before_header=spec['path'], after_header=spec['path'], before='',
                                  after=_describe_wanted(spec, '')))
        files.append(dict(path=spec['path'], state=spec['state'], changed=bool(changes), changes=changes))
    return files, diffs


def _describe(path):
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return ''
    try:
        owner = pwd.getpwuid(st.st_uid).pw_name
    except KeyError:
        owner = str(st.st_uid)
    try:
        group = grp.getgrgid(st.st_gid).gr_name
    except KeyError:
        group = str(st.st_gid)
    return 'owner=%s group=%s mode=%04o\n' % (owner, group, stat.S_IMODE(st.st_mode))


def _describe_wanted(spec, before):
    old = dict(kv.split('=', 1) for kv in before.split()) if before else {}
    mode = _mode(spec)
    return 'owner=%s group=%s mode=%s\n' % (spec['owner'] or old.get('owner', '-'), spec['group'] or old.get('group', '-'),
                                            '%04o' % mode if mode is not None else old.get('mode', '-'))


def main():
    module = AnsibleModule(
        argument_spec=dict(
            files=dict(type='list', elements='dict', required=True, options=dict(
                path=dict(type='path', required=True),
                state=dict(type='str', choices=['file', 'directory', 'absent'], default='file'),
                content=dict(type='str'),
                template=dict(type='str'),
                vars=dict(type='dict'),
                owner=dict(type='str'),
                group=dict(type='str'),
                mode=dict(type='str'),
            )),
        ),
        supports_check_mode=True,
    )
    for spec in module.params['files']:
        if spec['template'] is not None or spec['vars'] is not None:
            module.fail_json(msg='%s: template and vars are rendered by the action plugin gpufleet.ollama.managed_files '
                                 'on the controller; call the module by that name' % spec['path'])
    try:
        files, diffs = apply_files(module.params['files'], module.check_mode)
    except (FileError, OSError) as e:
        module.fail_json(msg='managed_files: %s' % to_native(e))
    result = dict(changed=any(f['changed'] for f in files), files=files,
                  changed_paths=[f['path'] for f in files if f['changed']])
    if module._diff:
        result['diff'] = diffs
    module.exit_json(**result)


if __name__ == '__main__':
    main()
