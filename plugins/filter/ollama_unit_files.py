# -*- coding: utf-8 -*-
# Copyright (c) 2026, gpufleet maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: ollama_unit_files
short_description: The drop-in files of every Ollama instance of a node, for gpufleet.ollama.managed_files
version_added: 0.1.0
author:
  - gpufleet maintainers (@gpufleet)
description:
  - Lists, for each instance, the files of its C(ollama@<port>.service.d) drop-in directory as
    M(gpufleet.ollama.managed_files) takes them (path, template and the template's C(item), owner, group, mode),
    so that one module run writes them all.
  - V(environment) gives the drop-in directory and its C(environment.conf) (template C(environment.conf.j2)).
  - V(release) gives C(release.conf) (template C(release.conf.j2), with C(__ollama_release)), the release the
    instance runs. With O(keep_serving), an instance that serves keeps the release it runs (a rolling change
    restarts it later, in its batch); any other instance gets O(version).
options:
  _input:
    description: The instances, as P(gpufleet.ollama.ollama_instances#filter) works them out (each with its C(port)).
    type: list
    elements: dict
    required: true
  unit_dir:
    description: The systemd unit directory, for example C(/etc/systemd/system).
    type: str
    required: true
  kind:
    description: Which files.
    type: str
    choices: [environment, release]
    default: environment
  version:
    description: The release the instances must run (V(release) only).
    type: str
  states:
    description:
      - What each instance runs now, keyed by port, as P(gpufleet.ollama.ollama_instance_states#filter) returns it
        (V(release) only).
    type: dict
    default: {}
  keep_serving:
    description: A serving instance keeps the release it runs (V(release) only).
    type: bool
    default: false
"""

EXAMPLES = r"""
- name: Write each instance's drop-in directory and environment in one round trip
  gpufleet.ollama.managed_files:
    files: "{{ __ollama_instances | gpufleet.ollama.ollama_unit_files('/etc/systemd/system') }}"

- name: Write each instance's release
  gpufleet.ollama.managed_files:
    files: >-
      {{ __ollama_instances | gpufleet.ollama.ollama_unit_files('/etc/systemd/system', 'release',
         version=ollama_version, states=__ollama_states, keep_serving=true) }}
"""

RETURN = r"""
_value:
  description: The files, in order (a directory before the files in it).
  type: list
  elements: dict
"""

from ansible.errors import AnsibleFilterError

_FILE = {'owner': 'root', 'group': 'root', 'mode': '0644'}
_DIR = {'state': 'directory', 'owner': 'root', 'group': 'root', 'mode': '0755'}


def ollama_unit_files(instances, unit_dir, kind='environment', version=None, states=None, keep_serving=False):
    if not isinstance(instances, list) or not all(isinstance(i, dict) and 'port' in i for i in instances):
        raise AnsibleFilterError('ollama_unit_files expects the list of instances, each with its port')
    if kind not in ('environment', 'release'):
        raise AnsibleFilterError("ollama_unit_files: kind must be 'environment' or 'release', got %r" % (kind,))
    if kind == 'release' and not version:
        raise AnsibleFilterError('ollama_unit_files: kind=release needs the version')
    states = states or {}
    files = []
    for instance in instances:
        dropin = '%s/ollama@%s.service.d' % (str(unit_dir).rstrip('/'), instance['port'])
        if kind == 'environment':
            files.append(dict(_DIR, path=dropin))
            files.append(dict(_FILE, path=dropin + '/environment.conf', template='environment.conf.j2',
                              vars={'item': instance}))
            continue
        state = states.get(str(instance['port'])) or {}
        release = str(version)
        if keep_serving and state.get('serves') and state.get('release'):
            release = state['release']
        files.append(dict(_FILE, path=dropin + '/release.conf', template='release.conf.j2',
                          vars={'item': instance, '__ollama_release': release}))
    return files


class FilterModule(object):
    def filters(self):
        return {'ollama_unit_files': ollama_unit_files}
