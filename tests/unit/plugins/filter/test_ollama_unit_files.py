# -*- coding: utf-8 -*-
# Copyright (c) 2026, gpufleet maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""ollama_unit_files: every instance's drop-in files for one managed_files run."""
from __future__ import annotations

import pytest

from ansible.errors import AnsibleFilterError
from ansible_collections.gpufleet.ollama.plugins.filter.ollama_unit_files import ollama_unit_files

INSTANCES = [{'port': 11434, 'gpus': ['GPU-a']}, {'port': 11435, 'gpus': ['GPU-b']}]


def test_environment_gives_each_directory_before_its_file():
    files = ollama_unit_files(INSTANCES, '/etc/systemd/system/')
    assert [(f['path'], f.get('state', 'file'), f['mode']) for f in files] == [
        ('/etc/systemd/system/ollama@11434.service.d', 'directory', '0755'),
        ('/etc/systemd/system/ollama@11434.service.d/environment.conf', 'file', '0644'),
        ('/etc/systemd/system/ollama@11435.service.d', 'directory', '0755'),
        ('/etc/systemd/system/ollama@11435.service.d/environment.conf', 'file', '0644'),
    ]
    assert files[3]['template'] == 'environment.conf.j2' and files[3]['vars'] == {'item': INSTANCES[1]}
    assert all((f['owner'], f['group']) == ('root', 'root') for f in files)


@pytest.mark.parametrize('keep_serving, expected', [(True, ['0.12.3', '0.14.1', '0.14.1']),
                                                    (False, ['0.14.1', '0.14.1', '0.14.1'])])
def test_release_keeps_a_serving_instance_on_its_release_only_when_asked(keep_serving, expected):
    instances = INSTANCES + [{'port': 11436}]
    states = {'11434': {'serves': True, 'release': '0.12.3'},       # serves the old release: keeps it
              '11435': {'serves': False, 'release': '0.12.3'},      # stopped: starts with the new one
              '11436': {'serves': True, 'release': ''}}             # runs something outside the root
    files = ollama_unit_files(instances, '/etc/systemd/system', 'release', version='0.14.1', states=states,
                              keep_serving=keep_serving)
    expected_paths = [['ollama@%d.service.d' % p, 'release.conf'] for p in (11434, 11435, 11436)]
    assert [f['path'].rsplit('/', 2)[1:] for f in files] == expected_paths
    assert [f['vars']['__ollama_release'] for f in files] == expected
    assert all(f['template'] == 'release.conf.j2' for f in files)


@pytest.mark.parametrize('args, kwargs, message', [
    (({'port': 1},), {}, 'expects the list of instances'),
    (([{'gpus': []}],), {}, 'expects the list of instances'),
    ((INSTANCES, '/etc', 'unit'), {}, "kind must be 'environment' or 'release'"),
    ((INSTANCES, '/etc', 'release'), {}, 'kind=release needs the version'),
])
def test_bad_input(args, kwargs, message):
    with pytest.raises(AnsibleFilterError, match=message):
        ollama_unit_files(*(args + ('/etc',) if len(args) == 1 else args), **kwargs)
