# -*- coding: utf-8 -*-
# Copyright (c) 2026, gpufleet maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""PRIVATE controller-side helpers for the gpufleet.ollama filter plugins.

Not a public API: names and signatures may change without notice. Everything here
is pure (no I/O), so the filters that use it are tested with plain data.
"""

from __future__ import annotations

import re

# OLLAMA_* names the server reads that the ollama role sets from a typed variable,
# mapped to the variable(s) that set them (envconfig/config.go; ollama-reference.md §2).
ENV_TYPED = {
    'OLLAMA_HOST': 'ollama_bind_address / ollama_base_port / ollama_instances',
    'OLLAMA_MODELS': 'ollama_models_dir',
    'OLLAMA_NUM_PARALLEL': 'ollama_num_parallel',
    'OLLAMA_MAX_LOADED_MODELS': 'ollama_max_loaded_models',
    'OLLAMA_MAX_QUEUE': 'ollama_max_queue',
    'OLLAMA_KEEP_ALIVE': 'ollama_keep_alive',
    'OLLAMA_FLASH_ATTENTION': 'ollama_flash_attention',
    'OLLAMA_KV_CACHE_TYPE': 'ollama_kv_cache_type',
    'OLLAMA_SCHED_SPREAD': 'ollama_sched_spread',
    'OLLAMA_CONTEXT_LENGTH': 'ollama_context_length',
    'OLLAMA_LOAD_TIMEOUT': 'ollama_load_timeout',
    'OLLAMA_NOPRUNE': 'ollama_noprune',
    'OLLAMA_NO_CLOUD': 'ollama_no_cloud',
    'OLLAMA_ORIGINS': 'ollama_origins',
}

# Variables outside OLLAMA_* that the role sets itself from a typed variable.
ENV_TYPED_OTHER = {
    'CUDA_VISIBLE_DEVICES': 'the gpus of ollama_instances (ollama_instances: per_gpu sets it per GPU)',
}

# The other OLLAMA_* names the server reads (envconfig/config.go at v0.33.0-rc2), accepted in
# ollama_extra_env and in an instance's env.
ENV_EXTRA_ALLOWED = (
    'OLLAMA_DEBUG',
    'OLLAMA_LLM_LIBRARY',
    'OLLAMA_GPU_OVERHEAD',
    'OLLAMA_VULKAN',
    'OLLAMA_NOHISTORY',
    'OLLAMA_REMOTES',
    'OLLAMA_IGPU_ENABLE',
    'OLLAMA_MAX_TRANSFER_STREAMS',
    'OLLAMA_GO_TEMPLATE',
    'OLLAMA_DEBUG_LOG_REQUESTS',
    'OLLAMA_EDITOR',
    'OLLAMA_AUTH',
)

ENV_NAME_RE = re.compile(r'^[A-Za-z_][A-Za-z0-9_]*$')

# The spellings Ansible itself accepts for booleans (ansible.module_utils.parsing.convert_bool),
# so `on` written unquoted in YAML (a boolean) and the string "on" mean the same thing.
TRUE_WORDS = frozenset(('y', 'yes', 'on', '1', 'true', 't'))
FALSE_WORDS = frozenset(('n', 'no', 'off', '0', 'false', 'f'))


def to_bool(value):
    """Return True/False for a boolean or one of its string spellings; None when it is neither."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str):
        word = value.strip().lower()
        if word in TRUE_WORDS:
            return True
        if word in FALSE_WORDS:
            return False
    return None


def tristate(value):
    """Normalise an auto/on/off setting: 'auto', 'on' or 'off'; None when the value is none of these."""
    if isinstance(value, str) and value.strip().lower() == 'auto':
        return 'auto'
    b = to_bool(value)
    if b is None:
        return None
    return 'on' if b else 'off'


def to_int(value):
    """An int from an int or a string of digits (booleans are not ints here); None otherwise."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and re.match(r'^\s*-?[0-9]+\s*$', value):
        return int(value)
    return None


def env_problems(env, where, typed_hint=True):
    """Sentences about an environment mapping ``env`` of the ollama role, named ``where``.

    Rejects names that are not environment variable names, OLLAMA_* names the server does not
    read, and names the role sets from a typed variable (OLLAMA_HOST, CUDA_VISIBLE_DEVICES, ...).
    """
    if env is None:
        return []
    if not isinstance(env, dict):
        return ['%s must be a mapping of NAME: value (got %r).' % (where, env)]
    problems = []
    names = [str(k) for k in env]
    bad = [n for n in names if not ENV_NAME_RE.match(n)]
    if bad:
        problems.append('%s names %s are not environment variable names.' % (where, ', '.join(bad)))
    for name in names:
        if name in ENV_TYPED:
            problems.append('%s sets %s: use %s instead.' % (where, name, ENV_TYPED[name]))
        elif name in ENV_TYPED_OTHER:
            problems.append('%s sets %s: use %s instead.' % (where, name, ENV_TYPED_OTHER[name]))
    unknown = [n for n in names if n.startswith('OLLAMA_') and n not in ENV_TYPED and n not in ENV_EXTRA_ALLOWED]
    if unknown:
        problems.append('%s has unknown Ollama variables %s; valid there: %s.'
                        % (where, ', '.join(unknown), ', '.join(ENV_EXTRA_ALLOWED)))
    for name, value in env.items():
        if isinstance(value, (dict, list)):
            problems.append('%s: %s must be a string or a number (got %r).' % (where, name, value))
    return problems


def is_drained(host, port, drain_set):
    """Whether the instance host:port is out of rotation: its host or the instance itself is in drain_set."""
    return bool(host) and (host in drain_set or '%s:%s' % (host, port) in drain_set)


def url_host(address):
    """An address as the host part of a URL, OLLAMA_HOST or an nginx server (IPv6 in brackets)."""
    address = str(address)
    if ':' in address and not address.startswith('['):
        return '[%s]' % address
    return address
