# -*- coding: utf-8 -*-
# Copyright (c) 2026, gpufleet maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The action plugin of gpufleet.ollama.deb_packages: apt runs only for what the module lists missing."""

from __future__ import annotations

from unittest import mock

from ansible_collections.gpufleet.ollama.plugins.action import deb_packages


def run_action(args, probe, applied=None, check_mode=False):
    action = deb_packages.ActionModule.__new__(deb_packages.ActionModule)
    action._task = mock.Mock(args=args, check_mode=check_mode)
    calls = []

    def execute(module_name, module_args, task_vars):
        calls.append((module_name, module_args))
        return dict(probe) if module_name == deb_packages.MODULE else dict(applied)

    action._execute_module = execute
    with mock.patch.object(deb_packages.ActionBase, 'run', return_value={}):
        return action.run(task_vars={}), calls


def test_nothing_missing_runs_no_apt():
    result, calls = run_action(dict(name=['nginx'], update_cache=True),
                               dict(changed=False, installed={'nginx': '1'}, missing=[]))
    assert [c[0] for c in calls] == [deb_packages.MODULE]
    assert result['changed'] is False and result['missing'] == []


def test_apt_installs_only_what_is_missing_with_the_tasks_options():
    result, calls = run_action(dict(name=['nginx', 'libnginx-mod-http-js'], update_cache=True, cache_valid_time=3600,
                                    policy_rc_d=101),
                               dict(changed=False, installed={'nginx': '1'}, missing=['libnginx-mod-http-js']),
                               dict(changed=True, cache_updated=True))
    assert calls[1] == ('ansible.builtin.apt', dict(name=['libnginx-mod-http-js'], state='present', update_cache=True,
                                                    cache_valid_time=3600, policy_rc_d=101))
    assert result['changed'] is True and result['missing'] == ['libnginx-mod-http-js']
    assert result['installed'] == {'nginx': '1'}


def test_apt_options_left_out_when_not_asked():
    assert deb_packages.apt_args(dict(name=['x'], update_cache=False, cache_valid_time=3600), ['x']) == \
        dict(name=['x'], state='present')


def test_held_and_downgrade_options_reach_apt_only_when_asked():
    args = dict(name=['nvidia-driver=535.*'], allow_change_held_packages=True, allow_downgrade=True)
    assert deb_packages.apt_args(args, ['nvidia-driver=535.*']) == dict(
        name=['nvidia-driver=535.*'], state='present', allow_change_held_packages=True, allow_downgrade=True)
    assert 'allow_downgrade' not in deb_packages.apt_args(dict(args, allow_downgrade=False), ['x'])


def test_recommends_left_out_only_when_asked():
    assert deb_packages.apt_args(dict(name=['x'], install_recommends=False), ['x']) == dict(
        name=['x'], state='present', install_recommends=False)
    assert 'install_recommends' not in deb_packages.apt_args(dict(name=['x'], install_recommends=True), ['x'])


def test_a_failed_probe_is_returned_as_it_is():
    result, calls = run_action(dict(name=['nginx']), dict(failed=True, msg='deb_packages: dpkg-query is not on this host'))
    assert len(calls) == 1 and result['failed'] and 'dpkg-query' in result['msg']


def test_a_read_that_shows_every_package_at_its_pin_runs_nothing_on_the_host():
    known = {'nginx': '1.22.1-9', 'libnginx-mod-http-js': '0.7.10-1', 'curl': '7.88'}
    result, calls = run_action(dict(name=['nginx=1.22.*', 'libnginx-mod-http-js:amd64'], installed=known), {})
    assert calls == []
    assert result['changed'] is False and result['missing'] == []
    assert result['installed'] == {'nginx': '1.22.1-9', 'libnginx-mod-http-js': '0.7.10-1'}


def test_a_read_that_misses_a_package_or_its_pin_reads_the_host_without_passing_the_read_on():
    for known in ({'nginx': '1.22.1-9'}, {'nginx': '1.20.0-1', 'libnginx-mod-http-js': '0.7.10-1'}):
        result, calls = run_action(dict(name=['nginx=1.22.*', 'libnginx-mod-http-js'], installed=known),
                                   dict(changed=False, installed={'nginx': '1.22.1-9', 'libnginx-mod-http-js': '0.7.10-1'},
                                        missing=[]))
        assert calls == [(deb_packages.MODULE, dict(name=['nginx=1.22.*', 'libnginx-mod-http-js']))]
        assert result['missing'] == []


NOT_LISTED = dict(failed=True, msg="No package matching 'nvidia-driver' is available")


def test_check_mode_shows_a_package_the_lists_lack_as_an_install():
    result, _calls = run_action(dict(name=['nvidia-driver']), dict(changed=False, installed={}, missing=['nvidia-driver']),
                                NOT_LISTED, check_mode=True)
    assert result.get('failed') is not True and result['changed'] is True
    assert 'nvidia-driver' in result['warnings'][0] and 'check mode' in result['warnings'][0]


def test_a_real_run_fails_on_a_package_the_lists_lack():
    result, _calls = run_action(dict(name=['nvidia-driver']), dict(changed=False, installed={}, missing=['nvidia-driver']),
                                NOT_LISTED)
    assert result['failed'] is True and 'No package matching' in result['msg']
