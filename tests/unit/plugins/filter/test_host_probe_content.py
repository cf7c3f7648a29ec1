# -*- coding: utf-8 -*-
# Copyright (c) 2026, gpufleet maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""gpufleet.ollama.host_probe_content: a file's text from the host read, or none when the read cannot tell."""

from __future__ import annotations

import pytest

from ansible.errors import AnsibleFilterError

from ansible_collections.gpufleet.ollama.plugins.filter.host_probe_content import host_probe_content

STATE = '/var/lib/gpufleet/gateway'
PROBE = {
    'contents': {STATE + '/drained.json': '["n3"]\n'},
    'files': [{'path': STATE, 'isdir': True}, {'path': STATE + '/drained.json', 'isdir': False},
              {'path': STATE + '/huge.json', 'isdir': False}, {'path': '/etc/other', 'isdir': False}],
}


def test_returns_the_text_the_read_returned():
    assert host_probe_content(PROBE, STATE + '/drained.json', '[]') == '["n3"]\n'


def test_a_file_missing_from_a_listed_directory_is_missing():
    assert host_probe_content(PROBE, STATE + '/endpoints.json', '{}') == '{}'
    assert host_probe_content(PROBE, STATE + '/endpoints.json') is None      # missing defaults to none


@pytest.mark.parametrize('probe, path', [
    (PROBE, STATE + '/huge.json'),                         # listed but not returned (too large, unreadable)
    (PROBE, '/srv/unlisted/state.json'),                   # its directory was not read
    (PROBE, '/etc/other/x.json'),                          # its "directory" is a file
    ({'files': PROBE['files']}, STATE + '/drained.json'),  # a read without contents
    (None, STATE + '/drained.json'),                       # no read at all (the role runs alone)
    ('unreachable', STATE + '/drained.json'),
])
def test_none_when_the_read_cannot_tell(probe, path):
    assert host_probe_content(probe, path, 'missing') is None


def test_a_relative_path_is_an_error():
    with pytest.raises(AnsibleFilterError, match='absolute path'):
        host_probe_content(PROBE, 'drained.json')
