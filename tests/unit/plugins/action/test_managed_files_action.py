# -*- coding: utf-8 -*-
# Copyright (c) 2026, gpufleet maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The action plugin of gpufleet.ollama.managed_files: each file's template rendered with its own vars."""

from __future__ import annotations

import pytest

from ansible.errors import AnsibleActionFail
from ansible_collections.gpufleet.ollama.plugins.action.managed_files import render_files


def test_the_action_renders_each_template_with_its_own_vars():
    calls = []

    def render(template, template_vars):
        calls.append((template, template_vars))
        return '%s for %s\n' % (template, template_vars['item']['port'])

    files = [dict(path='/etc/a', content='plain\n'),
             dict(path='/etc/b', template='env.j2', vars={'item': {'port': 11434}}, mode='0644', validate='check %s'),
             dict(path='/etc/c', state='directory'),
             dict(path='/etc/d', state='link', src='c')]
    assert render_files(files, render) == [dict(path='/etc/a', content='plain\n'),
                                           dict(path='/etc/b', content='env.j2 for 11434\n', mode='0644',
                                                validate='check %s'),
                                           dict(path='/etc/c', state='directory'),
                                           dict(path='/etc/d', state='link', src='c')]
    assert calls == [('env.j2', {'item': {'port': 11434}})]
    assert 'template' in files[1]  # the task's arguments are left as they were


@pytest.mark.parametrize('files, message', [
    ('not a list', 'files must be a list'),
    (['x'], r'files\[1\] must be a dict'),
    ([dict(path='/etc/a', content='x', template='t.j2')], '/etc/a: give content or template, not both'),
    ([dict(path='/etc/a', content='x', vars={})], '/etc/a: vars are only for a template'),
    ([dict(path='/etc/a', template='t.j2', vars=[1])], '/etc/a: vars must be a dict'),
    ([dict(path='/etc/a', template='t.j2', state='link', src='/x')],
     '/etc/a: template is only for state=file, not state=link'),
])
def test_the_action_refuses_bad_files(files, message):
    with pytest.raises(AnsibleActionFail, match=message):
        render_files(files, lambda t, v: '')
