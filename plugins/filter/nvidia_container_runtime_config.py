# -*- coding: utf-8 -*-
# Copyright (c) 2026, gpufleet maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: nvidia_container_runtime_config
short_description: Decide whether Docker's daemon.json needs C(nvidia-ctk runtime configure)
version_added: 0.3.0
author:
  - gpufleet maintainers (@gpufleet)
description:
  - The one place that decides, from the current text of Docker's C(/etc/docker/daemon.json), whether the
    C(gpufleet.ollama.nvidia_container_toolkit) role runs C(nvidia-ctk runtime configure --runtime=docker), so that a
    second run changes nothing.
  - C(configure) when C(runtimes.nvidia) is missing, or its C(path) is not C(nvidia-container-runtime) (the value
    C(nvidia-ctk) writes; an absolute path ending in C(/nvidia-container-runtime) is accepted as well), or when
    O(default_runtime=true) and C(default-runtime) is not C(nvidia); also when the file is absent (C(nvidia-ctk)
    creates it).
  - With O(default_runtime=false) a C(default-runtime) of C(nvidia) is left as it is (C(nvidia-ctk) never unsets it
    either); RV(_value.reason) says so.
  - An empty or whitespace-only file gives C(configure) with RV(_value.empty_file) - the role writes C({}) into it
    first, because C(nvidia-ctk) refuses an empty file (it decodes the file with Go's C(json.Decoder), which fails
    on no input with C(EOF)).
  - A file that is not JSON, not a JSON object, or whose C(runtimes) is not an object gives C(fail), with a message
    in RV(_value.problem) that names the host, the file and the error, and says that nothing was changed.
  - Every other key of the file is C(nvidia-ctk)'s to keep (it re-serialises the whole file, sorted keys, 4-space
    indent); this filter only reads.
options:
  _input:
    description:
      - The current text of the file; an empty string when the file does not exist (unless O(exists) says it
        does), C(none) when it could not be read.
    type: raw
    required: true
  default_runtime:
    description: Whether C(nvidia) must be Docker's C(default-runtime) (C(nvidia-ctk ... --set-as-default)).
    type: bool
    default: false
  host:
    description: The node's name, for messages.
    type: str
    default: ''
  exists:
    description:
      - Whether the file exists. Not given - it exists when O(_input) is not empty, so an existing empty file must
        be passed with O(exists=true).
    type: bool
  path:
    description: The file's path, for messages.
    type: str
    default: /etc/docker/daemon.json
"""

EXAMPLES = r"""
- name: Configure the nvidia runtime for Docker only when daemon.json lacks it
  ansible.builtin.command:
    argv: [nvidia-ctk, runtime, configure, --runtime=docker]
  changed_when: true
  when: __decision.action == 'configure'
  vars:
    __decision: >-
      {{ '{"log-driver": "journald"}' | gpufleet.ollama.nvidia_container_runtime_config(false, inventory_hostname) }}
  # -> {action: configure, reason: "runtimes.nvidia is missing", problem: "", empty_file: false}

- name: An empty daemon.json (it exists)
  ansible.builtin.debug:
    msg: "{{ '' | gpufleet.ollama.nvidia_container_runtime_config(true, 'gpu-node-1', exists=true) }}"
  # -> {action: configure, empty_file: true, reason: "/etc/docker/daemon.json is empty (nvidia-ctk refuses an empty
  #     file: {} is written into it first); runtimes.nvidia is missing; default-runtime is not set, nvidia is asked"}
"""

RETURN = r"""
_value:
  description: The decision.
  type: dict
  contains:
    action:
      description: C(none), C(configure) (run C(nvidia-ctk runtime configure --runtime=docker)) or C(fail).
      type: str
    reason:
      description: Why, in a sentence - what is missing or different, or what is already in place.
      type: str
    problem:
      description: With C(fail), the message to fail with; empty otherwise.
      type: str
    empty_file:
      description: The file exists and is empty or whitespace only - write C({}) into it before C(nvidia-ctk) runs.
      type: bool
"""

import json
from collections.abc import Mapping

from ansible.errors import AnsibleFilterError

from ansible_collections.gpufleet.ollama.plugins.plugin_utils._settings import to_bool

RUNTIME = 'nvidia'
# nvidia-ctk's default --nvidia-runtime-path (cmd/nvidia-ctk/runtime/configure): docker finds it on its PATH.
EXECUTABLE = 'nvidia-container-runtime'
JSON_TYPES = {list: 'array', str: 'string', int: 'number', float: 'number', bool: 'boolean', type(None): 'null'}


def _is_nvidia_executable(path):
    return isinstance(path, str) and (path == EXECUTABLE or path.startswith('/') and path.endswith('/' + EXECUTABLE))


def _fail(host, path, error):
    where = '%s: %s' % (host, path) if host else path
    return dict(action='fail', empty_file=False, reason=error,
                problem='%s %s; nvidia-ctk cannot add the nvidia runtime to it. Fix the file (or remove it: nvidia-ctk '
                        'then writes a new one with only the nvidia runtime) and run again. Nothing was changed.'
                        % (where, error))


def nvidia_container_runtime_config(text, default_runtime=False, host='', exists=None, path='/etc/docker/daemon.json'):
    want_default = to_bool(default_runtime)
    if want_default is None:
        raise AnsibleFilterError('nvidia_container_runtime_config: default_runtime must be true or false, got %r'
                                 % (default_runtime,))
    if exists is not None and to_bool(exists) is None:
        raise AnsibleFilterError('nvidia_container_runtime_config: exists must be true, false or none, got %r' % (exists,))
    if text is not None and not isinstance(text, str):
        raise AnsibleFilterError('nvidia_container_runtime_config expects the text of %s (a string, or none when it '
                                 'could not be read), got %s' % (path, type(text).__name__))
    present = bool(text) if exists is None else to_bool(exists)

    if not present:
        reasons = ['%s does not exist (nvidia-ctk creates it with the nvidia runtime)' % path]
        if want_default:
            reasons.append('nvidia is asked as the default runtime')
        return dict(action='configure', reason='; '.join(reasons), problem='', empty_file=False)
    if text is None:
        return dict(action='configure', problem='', empty_file=False,
                    reason='%s could not be read (over 64 KiB or not UTF-8): nvidia-ctk is run to make sure it has '
                           'the nvidia runtime' % path)

    reasons = []
    empty = not text.strip()
    if empty:
        # The real nvidia-ctk (pkg/config/engine/docker/option.go, loadConfig) decodes an existing file with
        # json.NewDecoder(...).Decode: on a 0-byte (or whitespace-only) file that returns EOF and
        # `nvidia-ctk runtime configure` exits 1 without writing anything. A missing file is fine (it starts
        # from an empty config), an empty one is not: the role writes "{}" into it first.
        reasons.append('%s is empty (nvidia-ctk refuses an empty file: {} is written into it first)' % path)
        config = {}
    else:
        try:
            config = json.loads(text)
        except ValueError as e:
            return _fail(host, path, 'is not valid JSON (%s)' % e)
        if not isinstance(config, Mapping):
            return _fail(host, path, 'holds a JSON %s, not an object' % JSON_TYPES.get(type(config), 'value'))
    runtimes = config.get('runtimes', {})
    if not isinstance(runtimes, Mapping):
        # nvidia-ctk asserts runtimes to be an object (pkg/config/engine/docker/docker.go, AddRuntime) and panics
        return _fail(host, path, 'has "runtimes" that is not an object (%s)' % json.dumps(runtimes))

    nvidia = runtimes.get(RUNTIME)
    if nvidia is None:
        reasons.append('runtimes.nvidia is missing')
    elif not isinstance(nvidia, Mapping) or not _is_nvidia_executable(nvidia.get('path')):
        found = nvidia.get('path') if isinstance(nvidia, Mapping) else nvidia
        reasons.append('runtimes.nvidia.path is %s, not %s' % (json.dumps(found), EXECUTABLE))

    current_default = config.get('default-runtime')
    if want_default and current_default != RUNTIME:
        reasons.append('default-runtime is %s, nvidia is asked'
                       % ('not set' if current_default is None else json.dumps(current_default)))

    action = 'configure' if reasons else 'none'
    if not reasons:
        reasons.append('runtimes.nvidia is %s' % nvidia.get('path')
                       + (' and it is the default runtime' if want_default else ''))
    if not want_default and current_default == RUNTIME:
        reasons.append('default-runtime is nvidia and is left as it is (nvidia_container_toolkit_default_runtime is '
                       'false; the role never unsets it)')
    return dict(action=action, reason='; '.join(reasons), problem='', empty_file=empty)


class FilterModule(object):
    def filters(self):
        return {'nvidia_container_runtime_config': nvidia_container_runtime_config}
