# -*- coding: utf-8 -*-
# Copyright (c) 2026, gpufleet maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Action plugin of gpufleet.ollama.managed_files: renders each file's template on the controller, with the
task's variables plus the file's own vars (through the ansible.builtin.template lookup, so ansible_managed and
the role's templates/ directory work as with ansible.builtin.template), then runs the module once on the host -
or not at all when ``known`` (a recent read of the paths, as ansible.builtin.find lists them with checksums)
already shows every entry as asked."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping

from ansible.errors import AnsibleActionFail
from ansible.plugins.action import ActionBase
from ansible.plugins.loader import lookup_loader

MODULE = 'gpufleet.ollama.managed_files'


def render_files(files, render):
    """The files with each 'template' (+ 'vars') replaced by its rendered 'content'. render(template, vars)."""
    if not isinstance(files, list):
        raise AnsibleActionFail('managed_files: files must be a list of dicts, got %s' % type(files).__name__)
    rendered = []
    for number, spec in enumerate(files, 1):
        if not isinstance(spec, Mapping):
            raise AnsibleActionFail('managed_files: files[%d] must be a dict, got %s' % (number, type(spec).__name__))
        spec = dict(spec)
        where = spec.get('path', 'files[%d]' % number)
        template, template_vars = spec.pop('template', None), spec.pop('vars', None)
        if template is None:
            if template_vars is not None:
                raise AnsibleActionFail('managed_files: %s: vars are only for a template' % where)
        elif spec.get('content') is not None:
            raise AnsibleActionFail('managed_files: %s: give content or template, not both' % where)
        elif spec.get('state') not in (None, 'file'):
            raise AnsibleActionFail('managed_files: %s: template is only for state=file, not state=%s'
                                    % (where, spec['state']))
        elif template_vars is not None and not isinstance(template_vars, Mapping):
            raise AnsibleActionFail('managed_files: %s: vars must be a dict' % where)
        else:
            spec['content'] = render(template, dict(template_vars or {}))
        rendered.append(spec)
    return rendered


def _octal(value):
    try:
        return int(str(value), 8)
    except (TypeError, ValueError):
        return None


def _owned(spec, seen, name_key, id_key, attr):
    """Whether the read entry seen has the owner (or group) that spec asks for; True when spec asks for none."""
    wanted = spec.get(attr)
    if wanted is None:
        return True
    wanted = str(wanted)
    return str(seen.get(id_key)) == wanted if wanted.isdigit() else seen.get(name_key) == wanted


def known_unchanged(files, known):
    """Whether the read in known (entries as ansible.builtin.find lists them: path, isdir, isreg, islnk, mode,
    uid, gid, pw_name, gr_name, checksum = sha1 of a regular file) shows every entry of files (templates rendered)
    exactly as asked, so the module would change nothing. Anything it cannot vouch for (a path it does not list, a
    link or a removal asked for, a file without a checksum) is False: the module runs."""
    if not isinstance(known, list) or not files:
        return False
    seen = {k['path']: k for k in known if isinstance(k, Mapping) and isinstance(k.get('path'), str)}
    for spec in files:
        entry = seen.get(spec.get('path'))
        state = spec.get('state') or 'file'
        if entry is None or entry.get('islnk') or state not in ('file', 'directory'):
            return False
        if state == 'directory' and not entry.get('isdir'):
            return False
        if state == 'file':
            content = spec.get('content')
            if not entry.get('isreg') or not isinstance(content, str) or not entry.get('checksum'):
                return False
            if hashlib.sha1(content.encode('utf-8', 'surrogateescape')).hexdigest() != entry['checksum']:
                return False
        if spec.get('mode') is not None and (_octal(spec['mode']) is None or _octal(spec['mode']) != _octal(entry.get('mode'))):
            return False
        if not (_owned(spec, entry, 'pw_name', 'uid', 'owner') and _owned(spec, entry, 'gr_name', 'gid', 'group')):
            return False
    return True


def unchanged_result(files):
    """The module's result for a run that changes nothing."""
    return dict(changed=False, changed_paths=[],
                files=[dict(path=spec.get('path'), state=spec.get('state') or 'file', changed=False, changes=[])
                       for spec in files],
                msg='every path is as asked, as the read given in known shows')


class ActionModule(ActionBase):

    TRANSFERS_FILES = False
    _requires_connection = True

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        task_vars = task_vars or {}
        lookup = []

        def render(template, template_vars):
            if not lookup:
                lookup.append(lookup_loader.get('ansible.builtin.template', loader=self._loader, templar=self._templar))
            return str(lookup[0].run([template], variables=task_vars, template_vars=template_vars)[0])

        args = dict(self._task.args)
        known = args.pop('known', None)
        args['files'] = render_files(args.get('files'), render)
        if known_unchanged(args['files'], known):
            result.update(unchanged_result(args['files']))
            return result
        result.update(self._execute_module(module_name=MODULE, module_args=args, task_vars=task_vars))
        return result
