#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026, gpufleet maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: managed_files
short_description: Keep many small files, directories and links as given, in one round trip
description:
  - Creates, updates or removes a list of small text files, directories and symbolic links on the managed host, in
    the order given, with their owner, group and mode. A file is replaced atomically (a temporary file in the same
    directory, then a rename) only when its content differs; owner, group and mode are set only when they differ.
  - Files given with O(files[].template) are rendered on the controller, each with its own O(files[].vars), as
    the M(ansible.builtin.template) module renders them (C(ansible_managed) included, the role's C(templates/)
    directory searched first).
  - A file given with O(files[].validate) is checked by a program (C(nginx -t), C(nft -c)) before it replaces the
    live one, as M(ansible.builtin.template) checks it with its C(validate) option.
  - The module checks the whole list first (every entry's arguments, a path of the wrong kind, a missing
    directory, every O(files[].validate) command) and changes nothing when any of that fails; only then does it
    apply the entries, in order.
  - One module run replaces the chain of M(ansible.builtin.file), M(ansible.builtin.template) and
    M(ansible.builtin.copy) tasks (two remote runs per file for a template) that a role needs for, say, one
    environment file per GPU instance. That matters at fleet size, where each remote run costs every host.
version_added: 0.1.0
author:
  - gpufleet maintainers (@gpufleet)
attributes:
  action:
    support: full
    description: An action plugin renders O(files[].template) on the controller.
  check_mode:
    support: full
    description: >-
      Reports what would change and shows the diff, changing nothing. O(files[].validate) commands do not run.
  diff_mode:
    support: full
    description: >-
      Shows the old and new content of every text file whose content changes, the old and new target of a link,
      and what else changes.
options:
  files:
    description:
      - The files, directories and links, applied in this order (a directory before the files in it).
    type: list
    elements: dict
    required: true
    suboptions:
      path:
        description: The absolute path of the file, directory or link.
        type: path
        required: true
      state:
        description:
          - V(file) writes O(files[].content) (its directory must exist, or come earlier in the list);
            V(directory) creates the directory, and its missing parents as C(mkdir -p) does; V(link) makes the
            path a symbolic link to O(files[].src); V(absent) removes a file, a link or a whole directory tree.
          - V(link) works as M(ansible.builtin.file) with C(state=link), C(force=true) and C(follow=false) does. It
            creates the link (its directory must exist, or come earlier in the list), points a link to another
            target at O(files[].src) (a new link in the same directory, then a rename, so the path is never
            missing), and replaces a regular file. It refuses to replace a directory (that is not a link), and
            takes no O(files[].owner), O(files[].group) or O(files[].mode).
        type: str
        choices: [file, directory, link, absent]
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
      src:
        description:
          - The target of a V(link), written into the link as given (a relative target is relative to the link's
            directory); it need not exist.
          - Required with O(files[].state=link), and only for it.
        type: str
      validate:
        description:
          - A command that checks a V(file) before it replaces the live one, with V(%s) where the path of the new
            file goes, for example V(nft -c -f %s) (V(%%) is a literal V(%)).
          - When the file's content would change, the new content is written to a temporary file in the file's
            directory (or, when this run creates that directory, in its nearest existing parent) and the command
            runs on it, split into words as a shell would but not through a shell, with C(LC_ALL=C). If it exits
            non-zero the module fails naming the path, the command and its output, the temporary file is removed
            and nothing of the run is changed. Every O(files[].validate) command of the list runs before the
            first change.
          - Not run when the content is unchanged, nor in check mode.
          - Only for O(files[].state=file).
        type: str
      owner:
        description: The owner (a name or a numeric id). Left as it is when not given. Not for a V(link).
        type: str
      group:
        description: The group (a name or a numeric id). Left as it is when not given. Not for a V(link).
        type: str
      mode:
        description:
          - The permissions as an octal string, for example V('0644'). Left as they are when not given. Not for a
            V(link).
        type: str
  known:
    description:
      - A recent read of the paths, as M(ansible.builtin.find) lists them with C(get_checksum) (or the C(unit_files)
        and C(paths) of M(gpufleet.ollama.ollama_node_info)). When it shows every entry of O(files) exactly as asked
        (a file's sha1 equal to that of its new content, its owner, group and mode; a directory with its owner,
        group and mode), the task ends there without a run on the host.
      - Handled by the action plugin. It can only save a run - an entry it does not list, a link or a removal, or
        anything that differs makes the module run and read the host as usual.
    type: list
    elements: dict
notes:
  - The files are held in memory and sent as module arguments, so keep them small (units, environment files,
    configuration); use M(ansible.builtin.copy) for large files.
  - A path that is a link is replaced by a file, directory or link, never followed.
  - A file is replaced atomically, so a program reading it never sees half a file; a link is pointed elsewhere
    atomically, so a program never finds the path missing.
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

- name: Point the current release and the CLI at this version
  gpufleet.ollama.managed_files:
    files:
      - path: /opt/ollama/current
        state: link
        src: "0.12.3"
      - path: /usr/local/bin/ollama
        state: link
        src: /opt/ollama/current/bin/ollama

- name: Render the firewall policy, checked by nft before it replaces the live one, and its unit
  gpufleet.ollama.managed_files:
    files:
      - path: /etc/nftables.d
        state: directory
        mode: "0755"
      - path: /etc/nftables.d/gpufleet-ollama.nft
        template: gpufleet-ollama.nft.j2
        owner: root
        group: root
        mode: "0644"
        validate: nft -c -f %s
      - path: /etc/systemd/system/gpufleet-ollama-firewall.service
        template: gpufleet-ollama-firewall.service.j2
        mode: "0644"
  notify: Load the Ollama firewall

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
      description:
        - What changed, among V(created), V(content), V(owner), V(group), V(mode), V(target) (a link pointed
          elsewhere) and V(removed).
        - A link or file that replaces a path of another kind reports V(removed) and V(created).
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
import re
import shlex
import shutil
import stat
import tempfile
import uuid

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.common.text.converters import to_bytes, to_native

# A diff shows text up to this size; a larger or binary content is summarised.
DIFF_LIMIT = 64 * 1024
# The most of a failed validate command's stdout and stderr (each) that its error message quotes.
OUTPUT_LIMIT = 4000
# %s (the temporary file's path) or %% (a literal %) in a validate command.
PLACEHOLDER = re.compile(r'%(%|s)')


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


def _lstat(path):
    try:
        return os.lstat(path)
    except FileNotFoundError:
        return None


def _read(path):
    with open(path, 'rb') as f:
        return f.read()


def _data(spec):
    return to_bytes(spec['content'], errors='surrogate_or_strict')


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


def _symlink(src, path):
    """Make path a link to src atomically: a new link in the same directory, then a rename over whatever is there
    (a link or a regular file; rename never follows the link it replaces)."""
    directory, name = os.path.split(path)
    while True:
        tmp = os.path.join(directory, '.%s.%s' % (name, uuid.uuid4().hex[:12]))
        try:
            os.symlink(src, tmp)
            break
        except FileExistsError:
            continue
    try:
        os.replace(tmp, path)
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


def _conflict(spec, st):
    """FileError when the path, as it is (st: its lstat or None), cannot be brought to the state asked for."""
    path, state = spec['path'], spec['state']
    if st is None or state == 'absent' or stat.S_ISLNK(st.st_mode):
        return  # a link is replaced by what was asked for, never followed
    if state == 'directory' and not stat.S_ISDIR(st.st_mode):
        raise FileError('%s: exists and is not a directory; remove it or give another path' % path)
    if state == 'file' and not stat.S_ISREG(st.st_mode):
        raise FileError('%s: exists and is not a regular file; remove it or give another path' % path)
    if state == 'link' and stat.S_ISDIR(st.st_mode):
        raise FileError('%s: exists and is a directory, which a link does not replace; remove it first '
                        '(state=absent) or give another path' % path)
    if state == 'link' and not stat.S_ISREG(st.st_mode):
        raise FileError('%s: exists and is neither a link nor a regular file; remove it or give another path' % path)


def _ensure_present(spec, check_mode, diffs, before_write=None):
    """Create or update one file or directory; returns what changed. before_write(spec, data) is called before a
    file's content is written (not in check mode)."""
    path, state = spec['path'], spec['state']
    changes = []
    st = _lstat(path)
    _conflict(spec, st)
    if st is not None and stat.S_ISLNK(st.st_mode):
        # never follow a link: it is replaced by what was asked for
        changes += _remove(path, check_mode)
        st = None
    if state == 'directory':
        if st is None:
            changes.append('created')
            if not check_mode:
                parent = os.path.dirname(path)
                if not os.path.isdir(parent):
                    os.makedirs(parent)  # missing parents as mkdir -p makes them (umask, the connecting user)
                os.mkdir(path, 0o700)
    else:
        data = _data(spec)
        before = _read(path) if st is not None else None
        if before != data:
            changes.append('created' if before is None else 'content')
            diffs.append(dict(before_header=path, after_header=path,
                              before='' if before is None else _diff_text(before), after=_diff_text(data)))
            if not check_mode:
                if before_write is not None:
                    before_write(spec, data)
                _write(path, data, st)
    changes += _attributes(spec, check_mode, created='created' in changes)
    return changes


def _ensure_link(spec, check_mode, diffs):
    """Make one path a link to spec['src']; returns what changed."""
    path, src = spec['path'], spec['src']
    st = _lstat(path)
    _conflict(spec, st)
    if st is None:
        before, changes = '', ['created']
    elif stat.S_ISLNK(st.st_mode):
        old = os.readlink(path)
        if old == src:
            return []
        before, changes = 'link to %s\n' % old, ['target']
    else:
        before, changes = 'file of %d bytes\n' % st.st_size, ['removed', 'created']
    diffs.append(dict(before_header=path, after_header=path, before=before, after='link to %s\n' % src))
    if not check_mode:
        _symlink(src, path)
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


# ---------------------------------------------------------------------------
# Checks of the whole list, before anything changes
# ---------------------------------------------------------------------------

def _check_spec(spec, check_mode):
    """FileError for arguments that no host could apply (and, outside check mode, an owner or group it lacks)."""
    path, state = spec['path'], spec['state']
    if state == 'file' and spec['content'] is None:
        raise FileError('%s: state=file needs content (or template)' % path)
    if state != 'file' and spec['content'] is not None:
        raise FileError('%s: content is only for state=file, not state=%s' % (path, state))
    if not os.path.isabs(path):
        raise FileError('%s: the path must be absolute' % path)
    if state == 'link' and spec['src'] is None:
        raise FileError('%s: state=link needs src (the target of the link)' % path)
    if state != 'link' and spec['src'] is not None:
        raise FileError('%s: src is only for state=link, not state=%s' % (path, state))
    if state == 'link' and not spec['src']:
        raise FileError('%s: src must not be empty' % path)
    if state == 'link':
        given = [key for key in ('owner', 'group', 'mode') if spec[key] is not None]
        if given:
            raise FileError('%s: owner, group and mode are not for state=link (given: %s)' % (path, ', '.join(given)))
    if spec['validate'] is not None:
        if state != 'file':
            raise FileError('%s: validate is only for state=file, not state=%s' % (path, state))
        _validate_argv(spec, '')
    _mode(spec)
    if not check_mode:
        for kind, lookup in (('owner', pwd.getpwnam), ('group', grp.getgrnam)):
            if spec[kind] is not None and _id(spec[kind], lookup) is None:
                raise FileError('%s: %s %r does not exist on this host' % (path, kind, spec[kind]))


def _keys(path):
    """The ways an entry may name a path: as written (normalised), and through the links of its parents (the last
    component is never followed)."""
    path = os.path.normpath(path)
    return {path, os.path.join(os.path.realpath(os.path.dirname(path)), os.path.basename(path))}


def _under(keys, earlier):
    """Whether a path (its _keys) is, or is under, a path of an earlier entry: that entry may change what is there."""
    return any(key == other or key.startswith(other.rstrip('/') + '/') for key in keys for other in earlier)


def _will_write(spec, touched):
    """Whether applying a file spec writes its content (touched: an earlier entry may change the path first)."""
    if touched:
        return True
    st = _lstat(spec['path'])
    return st is None or not stat.S_ISREG(st.st_mode) or _read(spec['path']) != _data(spec)


def _validate_argv(spec, tmp):
    """The validate command of a spec as an argument list, tmp in place of each %s."""
    try:
        words = shlex.split(spec['validate'])
    except ValueError as e:
        raise FileError('%s: validate is not a command line (%s): %s' % (spec['path'], e, spec['validate']))
    if not words or not any('s' in PLACEHOLDER.findall(word) for word in words):
        raise FileError('%s: validate needs %%s where the path of the file to check goes: %s'
                        % (spec['path'], spec['validate']))
    return [PLACEHOLDER.sub(lambda m: '%' if m.group(1) == '%' else tmp, word) for word in words]


def _validation_dir(path):
    """The file's directory or, when it does not exist yet, its nearest existing parent."""
    directory = os.path.dirname(path)
    while not os.path.isdir(directory):
        directory = os.path.dirname(directory)
    return directory


def _validate(spec, data, run_command, first=True):
    """Write data to a temporary file next to spec's path and run spec's validate command on it; FileError when it
    exits non-zero or cannot run. The temporary file is always removed."""
    path, command = spec['path'], spec['validate']
    fd, tmp = tempfile.mkstemp(prefix='.%s.' % os.path.basename(path), dir=_validation_dir(path))
    try:
        with os.fdopen(fd, 'wb') as f:
            f.write(data)
        try:
            rc, out, err = run_command(_validate_argv(spec, tmp), environ_update=dict(LC_ALL='C'),
                                       expand_user_and_vars=False, handle_exceptions=False)
        except OSError as e:
            raise FileError('%s: validate could not run (%s), command: %s%s'
                            % (path, to_native(e), command, _kept(first)))
    finally:
        if os.path.lexists(tmp):
            os.unlink(tmp)
    if rc != 0:
        output = '; '.join('%s: %s' % (name, text.strip()[-OUTPUT_LIMIT:])
                           for name, text in (('stderr', err), ('stdout', out)) if text and text.strip())
        raise FileError('%s: validate failed (rc=%d), command: %s; %s%s'
                        % (path, rc, command, output or 'no output', _kept(first)))


def _kept(first):
    if first:
        return '; the file was not replaced and nothing of this run was changed'
    return '; the file was not replaced'


def _preflight(specs, check_mode, run_command):
    """Check every spec (arguments, a path of the wrong kind, a missing directory) and run every validate command
    that applying the list would need, before anything changes; returns the ids of the specs validated."""
    for spec in specs:
        _check_spec(spec, check_mode)
    earlier, to_validate = [], []
    for spec in specs:
        keys = _keys(spec['path'])
        touched = _under(keys, earlier)
        if not touched and spec['state'] != 'absent':
            # what no earlier entry changes is checked as it is now; anything else when it is applied
            _conflict(spec, _lstat(spec['path']))
            parent = os.path.dirname(spec['path'])
            if spec['state'] in ('file', 'link') and not check_mode and not os.path.isdir(parent):
                raise FileError('%s: the directory %s does not exist; create it first (state=directory, earlier in '
                                'the list)' % (spec['path'], parent))
        if spec['validate'] is not None and not check_mode and _will_write(spec, touched):
            to_validate.append(spec)
        earlier.extend(keys)
    for spec in to_validate:
        _validate(spec, _data(spec), run_command)
    return {id(spec) for spec in to_validate}


def apply_files(specs, check_mode, run_command=None):
    """Check every spec and run the validate commands (run_command: AnsibleModule.run_command), then apply every
    spec in order; returns (files, diffs). FileError names the first path that cannot be applied."""
    validated = _preflight(specs, check_mode, run_command)

    def before_write(spec, data):
        # a file whose content the checks above did not expect to change (an earlier entry changed its path
        # through a link) is still never written unchecked
        if spec['validate'] is not None and id(spec) not in validated:
            _validate(spec, data, run_command, first=False)

    files, diffs = [], []
    for spec in specs:
        if spec['state'] == 'absent':
            changes = _remove(spec['path'], check_mode)
            if changes:
                diffs.append(dict(before_header=spec['path'], after_header=spec['path'],
                                  before='%s exists\n' % spec['path'], after='%s removed\n' % spec['path']))
        elif spec['state'] == 'link':
            changes = _ensure_link(spec, check_mode, diffs)
        else:
            before_attrs = _describe(spec['path'])
            changes = _ensure_present(spec, check_mode, diffs, before_write)
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
                state=dict(type='str', choices=['file', 'directory', 'link', 'absent'], default='file'),
                content=dict(type='str'),
                template=dict(type='str'),
                vars=dict(type='dict'),
                src=dict(type='str'),
                validate=dict(type='str'),
                owner=dict(type='str'),
                group=dict(type='str'),
                mode=dict(type='str'),
            )),
            known=dict(type='list', elements='dict'),   # the action plugin's: it never reaches the host
        ),
        supports_check_mode=True,
    )
    for spec in module.params['files']:
        if spec['template'] is not None or spec['vars'] is not None:
            module.fail_json(msg='%s: template and vars are rendered by the action plugin gpufleet.ollama.managed_files '
                                 'on the controller; call the module by that name' % spec['path'])
    try:
        files, diffs = apply_files(module.params['files'], module.check_mode, module.run_command)
    except (FileError, OSError) as e:
        module.fail_json(msg='managed_files: %s' % to_native(e))
    result = dict(changed=any(f['changed'] for f in files), files=files,
                  changed_paths=[f['path'] for f in files if f['changed']])
    if module._diff:
        result['diff'] = diffs
    module.exit_json(**result)


if __name__ == '__main__':
    main()
