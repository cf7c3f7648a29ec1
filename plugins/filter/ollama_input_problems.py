# -*- coding: utf-8 -*-
# Copyright (c) 2026, gpufleet maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: ollama_input_problems
short_description: Check the variables of the ollama role for their meaning, before any host changes
version_added: 0.1.0
author:
  - gpufleet maintainers (@gpufleet)
description:
  - Takes a mapping of the role's variables (named as in the role, for example C(ollama_version)) and returns
    one sentence per problem found; an empty list means the input is usable.
  - Checks the release version and archive name, the sha256, C(ollama_keep_versions), the server settings,
    the bind address (never a wildcard), booleans and their string spellings, C(ollama_extra_env) and the C(env)
    of every explicit instance (unknown C(OLLAMA_*) names, names the role sets from typed variables such as
    E(OLLAMA_HOST) or E(CUDA_VISIBLE_DEVICES), malformed names).
  - Variables missing from the mapping are not checked.
  - Checks that need the node (its GPUs, free ports) are done by P(gpufleet.ollama.ollama_instances#filter).
options:
  _input:
    description: The role's variables, keyed by variable name.
    type: dict
    required: true
"""

EXAMPLES = r"""
- name: Check the release and server variables
  ansible.builtin.assert:
    that: __ollama_input_problems | length == 0
    fail_msg: "{{ inventory_hostname }}: {{ __ollama_input_problems | join(' ') }} Nothing was changed."
  vars:
    __ollama_input_problems: >-
      {{ {'ollama_version': ollama_version, 'ollama_artifact': ollama_artifact,
          'ollama_extra_env': ollama_extra_env} | gpufleet.ollama.ollama_input_problems }}
"""

RETURN = r"""
_value:
  description: One sentence per problem, each naming the variable, what was given and what is valid.
  type: list
  elements: str
  sample:
    - "ollama_version must look like 0.14.1 (got 'latest')."
"""

import re

from ansible.errors import AnsibleFilterError
from ansible_collections.gpufleet.ollama.plugins.plugin_utils._settings import (
    env_problems, to_bool, to_int, tristate)

VERSION_RE = re.compile(r'^[0-9]+\.[0-9]+\.[0-9]+(-[0-9A-Za-z.]+)?$')
SHA256_RE = re.compile(r'^([0-9a-fA-F]{64})?$')
ARCHIVE_RE = re.compile(r'.*\.(tgz|tar\.gz|tar\.zst)$')
# Go durations (time.ParseDuration) or plain integer seconds, as OLLAMA_KEEP_ALIVE / OLLAMA_LOAD_TIMEOUT take them.
DURATION_RE = re.compile(r'^-?(([0-9]+(\.[0-9]*)?|\.[0-9]+)(ns|us|µs|ms|s|m|h))+$|^-?[0-9]+$')
KV_CACHE_TYPES = ('f16', 'q8_0', 'q4_0')
BOOLEANS = ('ollama_sched_spread', 'ollama_noprune', 'ollama_no_cloud')


def _int_at_least(s, name, minimum, problems):
    if name not in s:
        return
    value = to_int(s[name])
    if value is None or value < minimum:
        problems.append('%s must be an integer of %d or more (got %r).' % (name, minimum, s[name]))


def ollama_input_problems(settings):
    if not isinstance(settings, dict):
        raise AnsibleFilterError('ollama_input_problems expects a mapping of variables, got %s' % type(settings).__name__)
    s = settings
    p = []
    if 'ollama_version' in s and not VERSION_RE.match(str(s['ollama_version'])):
        p.append("ollama_version must look like 0.14.1 (got '%s')." % s['ollama_version'])
    if 'ollama_artifact' in s and not ARCHIVE_RE.match(str(s['ollama_artifact'])):
        p.append("ollama_artifact must end in .tgz, .tar.gz or .tar.zst (got '%s')." % s['ollama_artifact'])
    if 'ollama_artifact_sha256' in s and not SHA256_RE.match(str(s['ollama_artifact_sha256'] or '')):
        p.append("ollama_artifact_sha256 must be empty or 64 hex digits (got '%s')." % s['ollama_artifact_sha256'])
    _int_at_least(s, 'ollama_keep_versions', 0, p)
    _int_at_least(s, 'ollama_num_parallel', 1, p)
    _int_at_least(s, 'ollama_max_queue', 1, p)
    _int_at_least(s, 'ollama_max_loaded_models', 0, p)
    _int_at_least(s, 'ollama_context_length', 0, p)
    if 'ollama_base_port' in s:
        port = to_int(s['ollama_base_port'])
        if port is None or not 1 <= port <= 65535:
            p.append('ollama_base_port must be a port number 1-65535 (got %r).' % s['ollama_base_port'])
    if 'ollama_bind_address' in s:
        address = str(s['ollama_bind_address'] or '').strip()
        if address in ('', '0.0.0.0', '::', '[::]', '*'):
            p.append("ollama_bind_address must be the node's backend address (got '%s'); a wildcard exposes "
                     "every instance." % address)
    if 'ollama_flash_attention' in s and tristate(s['ollama_flash_attention']) is None:
        p.append("ollama_flash_attention must be auto, on or off (or true/false) (got %r)." % s['ollama_flash_attention'])
    if 'ollama_kv_cache_type' in s and s['ollama_kv_cache_type'] not in KV_CACHE_TYPES:
        p.append('ollama_kv_cache_type must be one of %s (got %r).' % (', '.join(KV_CACHE_TYPES), s['ollama_kv_cache_type']))
    for name in ('ollama_keep_alive', 'ollama_load_timeout'):
        if name in s and not DURATION_RE.match(str(s[name]).strip()):
            p.append("%s must be a duration such as 5m, 1h30m, -1 or a number of seconds (got %r)." % (name, s[name]))
    for name in BOOLEANS:
        if name in s and to_bool(s[name]) is None:
            p.append('%s must be true or false (got %r).' % (name, s[name]))
    if 'ollama_extra_env' in s:
        p.extend(env_problems(s['ollama_extra_env'], 'ollama_extra_env'))
    if 'ollama_instances' in s:
        p.extend(_instances_problems(s['ollama_instances']))
    return p


def _instances_problems(instances):
    if isinstance(instances, str):
        if instances in ('per_gpu', 'single'):
            return []
        return ["ollama_instances must be per_gpu, single or a list of {port, gpus, env} (got '%s')." % instances]
    if not isinstance(instances, list) or not instances:
        return ['ollama_instances must be per_gpu, single or a non-empty list of {port, gpus, env} (got %r).' % (instances,)]
    p = []
    for i, item in enumerate(instances):
        where = 'ollama_instances[%d]' % i
        if not isinstance(item, dict):
            p.append('%s must be a mapping {port, gpus, env} (got %r).' % (where, item))
            continue
        extra = sorted(set(item) - {'port', 'gpus', 'env'})
        if extra:
            p.append('%s has unknown keys %s; valid: port, gpus, env.' % (where, ', '.join(map(str, extra))))
        port = to_int(item.get('port'))
        if port is None or not 1 <= port <= 65535:
            p.append('%s.port must be a port number 1-65535 (got %r).' % (where, item.get('port')))
        gpus = item.get('gpus', [])
        if not isinstance(gpus, list):
            p.append('%s.gpus must be a list of GPU UUIDs or indexes (got %r).' % (where, gpus))
        p.extend(env_problems(item.get('env', {}), '%s.env' % where))
    return p


class FilterModule(object):
    def filters(self):
        return {'ollama_input_problems': ollama_input_problems}
