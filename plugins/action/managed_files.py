# -*- coding: utf-8 -*-
# Copyright (c) 2026, gpufleet maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Action plugin of gpufleet.ollama.managed_files: renders each file's template on the controller, with the
task's variables plus the file's own vars (as ansible.builtin.template renders: the role's templates/ directory,
ansible_managed and the template_* variables work the same), then runs the module once on the host -
or not at all when ``known`` (a recent read of the paths, as ansible.builtin.find lists them with checksums)
already shows every entry as asked."""

from __future__ import annotations

import hashlib
import os
import pwd
import socket
import time
from collections.abc import Mapping

from ansible import constants as C
from ansible.errors import AnsibleActionFail
from ansible.plugins.action import ActionBase
from ansible.template import trust_as_template

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


def render_template(action, template, task_vars, template_vars):
    """A role template rendered as ansible.builtin.template renders it (search path, ansible_managed and the
    template_* variables, then the task's vars), but over a shallow copy of the task's variables: the template
    lookup deep-copies all of them for every file, which cost more than the rendering on every host of a fleet."""
    source = action._find_needle('templates', template)
    data = trust_as_template(action._loader.get_text_file_contents(source))
    searchpath = []
    for path in list(task_vars.get('ansible_search_path', [])) + [os.path.dirname(source)]:
        searchpath.extend([os.path.join(path, 'templates'), path])
    st = os.stat(source)
    try:
        uid = pwd.getpwuid(st.st_uid).pw_name
    except KeyError:
        uid = st.st_uid
    variables = dict(task_vars)
    variables.update(template_host=socket.gethostname(), template_path=template, template_fullpath=source,
                     template_uid=uid, template_mtime=st.st_mtime)
    if 'ansible_managed' not in variables:
        # as the template action makes it from the config (its placeholders become the template_* variables)
        managed = C.config.get_config_value('DEFAULT_MANAGED_STR').format(
            host='{{ template_host }}', uid='{{ template_uid }}', file='{{ template_path }}')
        variables['ansible_managed'] = trust_as_template(time.strftime(managed, time.localtime(st.st_mtime)))
    variables.update(template_vars)
    templar = action._templar.copy_with_new_env(searchpath=searchpath, available_variables=variables)
    rendered = templar.template(data, escape_backslashes=False)
    return '' if rendered is None else str(rendered)


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

        def render(template, template_vars):
            return render_template(self, template, task_vars, template_vars)

        args = dict(self._task.args)
        known = args.pop('known', None)
        args['files'] = render_files(args.get('files'), render)
        if known_unchanged(args['files'], known):
            result.update(unchanged_result(args['files']))
            return result
        result.update(self._execute_module(module_name=MODULE, module_args=args, task_vars=task_vars))
        return result
