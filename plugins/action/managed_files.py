# -*- coding: utf-8 -*-
# Copyright (c) 2026, gpufleet maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Action plugin of gpufleet.ollama.managed_files: renders each file's template on the controller, with the
task's variables plus the file's own vars (through the ansible.builtin.template lookup, so ansible_managed and
the role's templates/ directory work as with ansible.builtin.template), then runs the module once on the host."""

from __future__ import annotations

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
        args['files'] = render_files(args.get('files'), render)
        result.update(self._execute_module(module_name=MODULE, module_args=args, task_vars=task_vars))
        return result
