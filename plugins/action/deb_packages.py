# -*- coding: utf-8 -*-
# Copyright (c) 2026, gpufleet maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Action plugin of gpufleet.ollama.deb_packages: the module reads dpkg's database (one light remote run), and
ansible.builtin.apt runs only for the packages it lists missing."""

from __future__ import annotations

from ansible.plugins.action import ActionBase

MODULE = 'gpufleet.ollama.deb_packages'
APT = 'ansible.builtin.apt'


def apt_args(args, missing):
    """ansible.builtin.apt's arguments for the missing packages, with the task's apt options."""
    out = dict(name=list(missing), state='present')
    if args.get('update_cache'):
        out['update_cache'] = True
        if args.get('cache_valid_time'):
            out['cache_valid_time'] = args['cache_valid_time']
    if args.get('policy_rc_d') is not None:
        out['policy_rc_d'] = args['policy_rc_d']
    return out


class ActionModule(ActionBase):

    TRANSFERS_FILES = False
    _requires_connection = True

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        task_vars = task_vars or {}
        args = dict(self._task.args)
        probe = self._execute_module(module_name=MODULE, module_args=args, task_vars=task_vars)
        result.update(probe)
        if probe.get('failed') or not probe.get('missing'):
            return result
        result.update(self._execute_module(module_name=APT, module_args=apt_args(args, probe['missing']),
                                           task_vars=task_vars))
        result.update(installed=probe['installed'], missing=probe['missing'])   # apt's result has neither
        return result
