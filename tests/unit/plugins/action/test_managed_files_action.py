# -*- coding: utf-8 -*-
# Copyright (c) 2026, gpufleet maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The action plugin of gpufleet.ollama.managed_files: each file's template rendered with its own vars."""

from __future__ import annotations

import hashlib

import pytest

from ansible.errors import AnsibleActionFail
from ansible_collections.gpufleet.ollama.plugins.action.managed_files import known_unchanged, render_files, unchanged_result


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


def _read(path, content=None, isdir=False, mode='0644', owner='root', group='root', uid=0, gid=0, islnk=False):
    out = dict(path=path, isdir=isdir, isreg=not isdir and not islnk, islnk=islnk, mode=mode, pw_name=owner,
               gr_name=group, uid=uid, gid=gid)
    if content is not None:
        out['checksum'] = hashlib.sha1(content.encode('utf-8')).hexdigest()
    return out


UNIT = '[Service]\nExecStart=/opt/ollama/current/bin/ollama serve\n'
FILES = [dict(path='/etc/d', state='directory', owner='root', group='root', mode='0755'),
         dict(path='/etc/d/unit.conf', content=UNIT, owner='root', group='root', mode='0644')]
KNOWN = [_read('/etc/d', isdir=True, mode='0755'), _read('/etc/d/unit.conf', UNIT), _read('/etc/other', 'x')]


def test_a_read_that_shows_every_entry_as_asked_needs_no_run():
    assert known_unchanged(FILES, KNOWN)
    assert known_unchanged([dict(path='/etc/d/unit.conf', content=UNIT, owner='0', group='0', mode='644')], KNOWN)
    assert known_unchanged([dict(path='/etc/d/unit.conf', content=UNIT)], KNOWN)   # owner, group, mode not asked
    result = unchanged_result(FILES)
    assert result['changed'] is False and result['changed_paths'] == []
    expected = [('/etc/d', 'directory', False), ('/etc/d/unit.conf', 'file', False)]
    assert [(f['path'], f['state'], f['changed']) for f in result['files']] == expected


@pytest.mark.parametrize('files, known', [
    ([dict(FILES[1], content=UNIT + '# changed\n')], KNOWN),                       # content
    ([dict(FILES[1], mode='0600')], KNOWN),                                         # mode
    ([dict(FILES[1], owner='ollama')], KNOWN),                                      # owner
    ([dict(FILES[1], group='1000')], KNOWN),                                        # group by id
    ([dict(FILES[1], path='/etc/d/new.conf')], KNOWN),                              # a path the read does not list
    ([dict(FILES[0], path='/etc/d/unit.conf')], KNOWN),                             # a directory asked, a file there
    ([FILES[1]], [_read('/etc/d/unit.conf', UNIT, islnk=True)]),                    # a link where a file is asked
    ([FILES[1]], [dict(_read('/etc/d/unit.conf'))]),                                # no checksum
    ([dict(path='/etc/d/unit.conf', state='absent')], KNOWN),                       # removals are not vouched for
    ([dict(path='/usr/local/bin/ollama', state='link', src='/opt/ollama/current/bin/ollama')], KNOWN),
    (FILES, None),                                                                  # no read given
    ([], KNOWN),
])
def test_anything_the_read_cannot_vouch_for_makes_the_module_run(files, known):
    assert not known_unchanged(files, known)
