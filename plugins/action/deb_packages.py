# -*- coding: utf-8 -*-
# Copyright (c) 2026, gpufleet maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Action plugin of gpufleet.ollama.deb_packages: nothing runs on the host when ``installed`` (a recent read such as
host_probe's) already shows every package; otherwise the module reads dpkg's database (one light remote run), and
ansible.builtin.apt runs only for the packages it lists missing."""

from __future__ import annotations

from ansible.plugins.action import ActionBase

from ansible_collections.gpufleet.ollama.plugins.module_utils._deb import missing_packages, split_spec

MODULE = 'gpufleet.ollama.deb_packages'
APT = 'ansible.builtin.apt'
# ansible.builtin.apt's message for a package its lists do not have (modules/apt.py, package_status)
NOT_IN_LISTS = 'No package matching'


def apt_args(args, missing):
    """ansible.builtin.apt's arguments for the missing packages, with the task's apt options."""
    out = dict(name=list(missing), state='present')
    if args.get('update_cache'):
        out['update_cache'] = True
        if args.get('cache_valid_time'):
            out['cache_valid_time'] = args['cache_valid_time']
    for option in ('allow_change_held_packages', 'allow_downgrade'):
        if args.get(option):
            out[option] = True
    if args.get('install_recommends') is False:
        out['install_recommends'] = False
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
        known = args.pop('installed', None)
        specs = [s for s in args.get('name') or [] if isinstance(s, str) and s.strip()]
        if isinstance(known, dict) and specs and not missing_packages(specs, known):
            names = {split_spec(s)[0] for s in specs}
            result.update(changed=False, missing=[], installed={n: known[n] for n in sorted(names)},
                          msg='every package is installed, as the read given in installed shows')
            return result
        probe = self._execute_module(module_name=MODULE, module_args=args, task_vars=task_vars)
        result.update(probe)
        if probe.get('failed') or not probe.get('missing'):
            return result
        applied = self._execute_module(module_name=APT, module_args=apt_args(args, probe['missing']),
                                       task_vars=task_vars)
        if self._task.check_mode and applied.get('failed') and NOT_IN_LISTS in str(applied.get('msg', '')):
            # In check mode the package source an earlier task would publish (package_source) is not there yet: the
            # run shows the install instead of failing on lists that a real run would have refreshed.
            applied = dict(changed=True, msg='would install %s' % ', '.join(probe['missing']), warnings=[
                'check mode: apt\'s lists do not have %s yet (%s); a real run installs them from the package source '
                'that the run publishes first' % (', '.join(probe['missing']), applied.get('msg'))])
        result.update(applied)
        result.update(installed=probe['installed'], missing=probe['missing'])   # apt's result has neither
        return result
