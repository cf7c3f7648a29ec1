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
  - Checks the release version and archive name (a version directory in the archive's path that is not
    C(ollama_version), a C(.tgz) for 0.14.0 and later or a C(.tar.zst) before), the sha256,
    C(ollama_keep_versions), the server settings, the bind address (never a wildcard), booleans and their string
    spellings, C(ollama_extra_env) and the C(env) of every explicit instance (unknown C(OLLAMA_*) names, names the
    role sets from typed variables such as E(OLLAMA_HOST) or E(CUDA_VISIBLE_DEVICES), malformed names, values over
    several lines).
  - "Durations (C(ollama_keep_alive), C(ollama_load_timeout)) in the server's own format (ollama/ollama
    C(envconfig/config.go)): a Go C(time.ParseDuration) string such as C(5m), C(1h30m), C(1.5h), C(300ms) or C(-1s),
    or a whole number of seconds such as C(300) or C(-1). Anything else the server silently replaces with 5m."
  - Paths (C(ollama_models_dir), C(ollama_home), C(ollama_install_root), C(ollama_cli_link)) absolute, normalised,
    renderable into the unit, and where the hardened unit (C(ProtectSystem=strict), C(PrivateTmp=yes),
    C(ProtectHome)) can use and keep them - not under C(/proc), C(/sys), C(/dev), C(/run), C(/tmp), C(/var/tmp) or
    C(/boot), not a system directory itself, the store neither inside the install root nor containing HOME or the
    install root.
  - Ports of the instances 1024-65535 (the instances run without capabilities, so they cannot bind a lower port),
    and with O(instance_count) the last C(per_gpu) port too; a quantised C(ollama_kv_cache_type) with flash
    attention off; C(ollama_origins) that would break the comma-separated E(OLLAMA_ORIGINS).
  - Variables missing from the mapping are not checked.
  - Checks that need the node (its GPUs, its addresses, the other sockets on it) are done by
    P(gpufleet.ollama.ollama_instances#filter) and P(gpufleet.ollama.ollama_host_problems#filter).
options:
  _input:
    description: The role's variables, keyed by variable name.
    type: dict
    required: true
  instance_count:
    description:
      - How many instances C(ollama_instances=per_gpu) gives on this node (its number of GPUs), when known; the
        ports from C(ollama_base_port) upward must then all be 65535 or lower. V(null) skips that check.
    type: int
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
    - "ollama_models_dir must not be under /tmp: the instances run with PrivateTmp=yes and would see an empty private
      /tmp instead (got '/tmp/models'); valid: a directory on persistent storage such as /var/lib/ollama/models."
"""

import re
from urllib.parse import urlsplit

from ansible.errors import AnsibleFilterError
from ansible_collections.gpufleet.ollama.plugins.plugin_utils._settings import (
    env_problems, ollama_duration, path_shape_problem, path_within, to_bool, to_int, tristate)

VERSION_RE = re.compile(r'^[0-9]+\.[0-9]+\.[0-9]+(-[0-9A-Za-z.]+)?$')
# A directory of the archive's path named like a release (0.14.1, v0.14.1), as in <artifacts>/ollama/<version>/.
VERSION_DIR_RE = re.compile(r'^v?([0-9]+\.[0-9]+\.[0-9]+(-[0-9A-Za-z.]+)?)$')
# The release archives' own names (ollama-reference.md §1.1): .tgz up to 0.13.5, .tar.zst from 0.14.0.
RELEASE_ARCHIVE_RE = re.compile(r'^ollama-linux-(amd64|arm64)(-[a-z0-9]+)?\.(tgz|tar\.zst)$')
ZSTD_FROM = (0, 14, 0)
SHA256_RE = re.compile(r'^([0-9a-fA-F]{64})?$')
ARCHIVE_RE = re.compile(r'.*\.(tgz|tar\.gz|tar\.zst)$')
KV_CACHE_TYPES = ('f16', 'q8_0', 'q4_0')
BOOLEANS = ('ollama_sched_spread', 'ollama_noprune', 'ollama_no_cloud')
# What the server does with each duration (envconfig/config.go: KeepAlive, LoadTimeout).
DURATIONS = {
    'ollama_keep_alive': 'a negative one keeps models loaded for ever, 0 unloads them at once',
    'ollama_load_timeout': '0 or a negative one means no timeout',
}
# The instances run as ollama_user with CapabilityBoundingSet= empty (templates/ollama@.service.j2): no
# CAP_NET_BIND_SERVICE, so no port below 1024.
LOWEST_PORT = 1024

# Paths the unit cannot use or keep, with the reason (templates/ollama@.service.j2).
FORBIDDEN_TREES = (
    ('/proc', 'it is the kernel\'s process file system'),
    ('/sys', 'it is the kernel\'s sysfs'),
    ('/dev', 'it holds device nodes (devtmpfs)'),
    ('/run', 'it is a tmpfs, emptied at every boot'),
    ('/tmp', 'the instances run with PrivateTmp=yes and would see an empty private /tmp instead'),
    ('/var/tmp', 'the instances run with PrivateTmp=yes and would see an empty private /var/tmp instead'),
    ('/boot', 'it is the boot partition, small and meant for kernels'),
)
# ProtectHome= hides these from the unit (=yes), unless the store or HOME lies there (then =read-only).
HOME_TREES = ('/home', '/root', '/run/user')
SYSTEM_DIRS = frozenset((
    '/bin', '/boot', '/dev', '/etc', '/home', '/lib', '/lib32', '/lib64', '/libx32', '/media', '/mnt', '/opt',
    '/proc', '/root', '/run', '/sbin', '/srv', '/sys', '/tmp', '/usr', '/usr/bin', '/usr/include', '/usr/lib',
    '/usr/lib64', '/usr/libexec', '/usr/local', '/usr/local/bin', '/usr/local/etc', '/usr/local/lib',
    '/usr/local/sbin', '/usr/local/share', '/usr/sbin', '/usr/share', '/usr/src', '/var', '/var/backups',
    '/var/cache', '/var/lib', '/var/local', '/var/log', '/var/mail', '/var/opt', '/var/spool', '/var/tmp',
    '/etc/systemd', '/etc/systemd/system',
))
# Each path variable: an example, and what the role does with the directory (why a system directory will not do).
PATHS = {
    'ollama_models_dir': ('/var/lib/ollama/models', 'the role makes it the model store, owned by ollama_user'),
    'ollama_home': ('/usr/share/ollama', 'the role makes it owned by ollama_user, mode 0750'),
    'ollama_install_root': ('/opt/ollama', 'the role unpacks, switches and removes releases there'),
    'ollama_cli_link': ('/usr/local/bin/ollama', 'the role replaces that path with a symbolic link'),
}


def _int_at_least(s, name, minimum, problems):
    if name not in s:
        return
    value = to_int(s[name])
    if value is None or value < minimum:
        problems.append('%s must be an integer of %d or more (got %r).' % (name, minimum, s[name]))


def _port_problem(where, value):
    port = to_int(value)
    if port is None or not 1 <= port <= 65535:
        return '%s must be a port number %d-65535 (got %r).' % (where, LOWEST_PORT, value)
    if port < LOWEST_PORT:
        return ('%s must be a port number %d-65535: the instances run as ollama_user without capabilities '
                '(CapabilityBoundingSet= is empty), so they cannot bind port %d (got %r).'
                % (where, LOWEST_PORT, port, value))
    return ''


def _version_key(version):
    return tuple(int(n) for n in version.split('-')[0].split('.'))


def _release_problems(s, p):
    version = str(s.get('ollama_version', ''))
    artifact = s.get('ollama_artifact')
    if not VERSION_RE.match(version) or not isinstance(artifact, str) or not ARCHIVE_RE.match(artifact):
        return
    path = urlsplit(artifact).path if re.match(r'^[A-Za-z][A-Za-z0-9+.-]*://', artifact) else artifact
    parts = [part for part in path.split('/') if part]
    named = [m.group(1) for m in (VERSION_DIR_RE.match(part) for part in parts[:-1]) if m]
    release = RELEASE_ARCHIVE_RE.match(parts[-1] if parts else '')
    wants_zstd = _version_key(version) >= ZSTD_FROM
    if named and version not in named:
        example = parts[-1]
        if release:
            example = re.sub(r'\.(tgz|tar\.zst)$', '.tar.zst' if wants_zstd else '.tgz', example)
        p.append("ollama_artifact is in the directory of release %s, but ollama_version is %s: the role would "
                 "install that archive as %s (got '%s'); valid: the archive of %s, such as .../%s/%s."
                 % (named[-1], version, version, artifact, version, version, example))
        return
    if not release:
        return
    zstd = release.group(3) == 'tar.zst'
    if wants_zstd and not zstd:
        p.append("ollama_artifact must be the .tar.zst archive for ollama_version %s: releases from 0.14.0 ship no "
                 ".tgz (got '%s')." % (version, artifact))
    elif not wants_zstd and zstd:
        p.append("ollama_artifact must be the .tgz archive for ollama_version %s: releases up to 0.13.5 ship no "
                 ".tar.zst (got '%s')." % (version, artifact))


def _path_problems(s, p):
    good = {}
    for name, (example, use) in PATHS.items():
        if name not in s:
            continue
        value = s[name]
        shape = path_shape_problem(value)
        if shape:
            p.append('%s must be %s, such as %s (got %r).' % (name, shape, example, value))
            continue
        if value in SYSTEM_DIRS:
            p.append("%s must not be the system directory %s: %s (got '%s'); valid: a directory of its own, such "
                     "as %s." % (name, value, use, value, example))
            continue
        if name != 'ollama_cli_link':
            tree = next(((t, why) for t, why in FORBIDDEN_TREES if path_within(value, t)), None)
            if tree:
                p.append("%s must not be under %s: %s (got '%s'); valid: a directory on persistent storage, such as "
                         "%s." % (name, tree[0], tree[1], value, example))
                continue
        good[name] = value
    models, home, root = good.get('ollama_models_dir'), good.get('ollama_home'), good.get('ollama_install_root')
    if models and root:
        if path_within(models, root):
            p.append('ollama_models_dir (%s) must not be inside ollama_install_root (%s): the role unpacks, switches '
                     'and removes releases there (ollama_keep_versions).' % (models, root))
        elif path_within(root, models):
            p.append('ollama_install_root (%s) must not be inside ollama_models_dir (%s): the store is served to the '
                     'other nodes and moved as a whole when ollama_models_dir changes.' % (root, models))
    if models and home and path_within(home, models):
        p.append("ollama_models_dir (%s) must not be ollama_home (%s) or contain it: the store is served read-only to "
                 "the other nodes, which could then read HOME's private key ~/.ollama/id_ed25519, and is moved as a whole "
                 "when ollama_models_dir changes; valid: a directory of its own, or one below HOME such as "
                 "%s/.ollama/models." % (models, home, home))
    if root and home and (path_within(root, home) or path_within(home, root)):
        p.append('ollama_install_root (%s) and ollama_home (%s) must not lie inside each other: HOME belongs to '
                 'ollama_user, who could then replace the server\'s own binaries, and the role removes old releases '
                 'in the install root.' % (root, home))
    if root and any(path_within(root, t) for t in HOME_TREES):
        writable = [v for v in (s.get('ollama_models_dir'), s.get('ollama_home'))
                    if isinstance(v, str) and any(path_within(v, t) for t in HOME_TREES)]
        if not writable:
            p.append("ollama_install_root must not be under /home, /root or /run/user: the instances run with "
                     "ProtectHome=yes, which hides those from them, so they could not start the release (got '%s'); "
                     "valid: a directory such as /opt/ollama." % root)


JOURNAL_SIZE_RE = re.compile(r'^[0-9]+[KMGT]?$')
JOURNAL_SPAN_RE = re.compile(r'^([0-9]+ ?(us|ms|s|sec|second|seconds|m|min|minute|minutes|h|hr|hour|hours|d|day|days|'
                             r'w|week|weeks|M|month|months|y|year|years) ?)+$')


def _journal_problems(s, p):
    """journald's SystemMaxUse= and MaxRetentionSec= (systemd.time(7)), or "" for journald's own."""
    size, span = s.get('ollama_journal_max_use'), s.get('ollama_journal_max_retention')
    if size is not None and str(size) != '' and not JOURNAL_SIZE_RE.match(str(size)):
        p.append("ollama_journal_max_use must be a size such as 2G, 500M or 1073741824, or '' (got '%s')." % size)
    if span is not None and str(span) != '' and not JOURNAL_SPAN_RE.match(str(span)):
        p.append("ollama_journal_max_retention must be a time span such as 1month, 2weeks or 30d, or '' (got '%s')."
                 % span)


def ollama_input_problems(settings, instance_count=None):
    if not isinstance(settings, dict):
        raise AnsibleFilterError('ollama_input_problems expects a mapping of variables, got %s' % type(settings).__name__)
    s = settings
    p = []
    if 'ollama_version' in s and not VERSION_RE.match(str(s['ollama_version'])):
        p.append("ollama_version must look like 0.14.1 (got '%s')." % s['ollama_version'])
    if 'ollama_artifact' in s and not ARCHIVE_RE.match(str(s['ollama_artifact'])):
        p.append("ollama_artifact must end in .tgz, .tar.gz or .tar.zst (got '%s')." % s['ollama_artifact'])
    _release_problems(s, p)
    if 'ollama_artifact_sha256' in s and not SHA256_RE.match(str(s['ollama_artifact_sha256'] or '')):
        p.append("ollama_artifact_sha256 must be empty or 64 hex digits (got '%s')." % s['ollama_artifact_sha256'])
    _int_at_least(s, 'ollama_keep_versions', 0, p)
    _int_at_least(s, 'ollama_num_parallel', 1, p)
    _int_at_least(s, 'ollama_max_queue', 1, p)
    _int_at_least(s, 'ollama_max_loaded_models', 0, p)
    _int_at_least(s, 'ollama_context_length', 0, p)
    _path_problems(s, p)
    _journal_problems(s, p)
    if 'ollama_base_port' in s:
        problem = _port_problem('ollama_base_port', s['ollama_base_port'])
        if problem:
            p.append(problem)
        elif s.get('ollama_instances', 'per_gpu') == 'per_gpu' and to_int(instance_count):
            count = max(to_int(instance_count), 1)
            last = to_int(s['ollama_base_port']) + count - 1
            if last > 65535:
                p.append('ollama_base_port %s leaves no port for all %d instances of ollama_instances=per_gpu (one per '
                         'GPU, the last on %d); valid: %d-%d.'
                         % (s['ollama_base_port'], count, last, LOWEST_PORT, 65536 - count))
    if 'ollama_bind_address' in s:
        address = str(s['ollama_bind_address'] or '').strip()
        if address in ('', '0.0.0.0', '::', '[::]', '*'):
            p.append("ollama_bind_address must be the node's backend address (got '%s'); a wildcard exposes "
                     "every instance." % address)
    if 'ollama_flash_attention' in s and tristate(s['ollama_flash_attention']) is None:
        p.append("ollama_flash_attention must be auto, on or off (or true/false) (got %r)." % s['ollama_flash_attention'])
    if 'ollama_kv_cache_type' in s and s['ollama_kv_cache_type'] not in KV_CACHE_TYPES:
        p.append('ollama_kv_cache_type must be one of %s (got %r).' % (', '.join(KV_CACHE_TYPES), s['ollama_kv_cache_type']))
    elif s.get('ollama_kv_cache_type', 'f16') != 'f16' and tristate(s.get('ollama_flash_attention', 'auto')) == 'off':
        p.append('ollama_kv_cache_type %s needs flash attention, but ollama_flash_attention is off: the server would '
                 'use f16 instead; valid: f16, or ollama_flash_attention auto or on.' % s['ollama_kv_cache_type'])
    for name, meaning in DURATIONS.items():
        if name in s and ollama_duration(s[name]) is None:
            p.append("%s must be a duration such as 5m, 1h30m, 1.5h, 300ms or -1s (Go's time.ParseDuration: units ns, "
                     "us, ms, s, m, h, no spaces) or a whole number of seconds such as 300 or -1 (got %r); the server "
                     "would ignore it and use 5m (%s)." % (name, s[name], meaning))
    for name in BOOLEANS:
        if name in s and to_bool(s[name]) is None:
            p.append('%s must be true or false (got %r).' % (name, s[name]))
    if 'ollama_origins' in s:
        p.extend(_origins_problems(s['ollama_origins']))
    if 'ollama_extra_env' in s:
        p.extend(env_problems(s['ollama_extra_env'], 'ollama_extra_env'))
    if 'ollama_instances' in s:
        p.extend(_instances_problems(s['ollama_instances']))
    return p


def _origins_problems(origins):
    if origins is None:
        return []
    if not isinstance(origins, list):
        return ['ollama_origins must be a list of origins such as https://chat.example.internal (got %r).' % (origins,)]
    bad = [o for o in origins if not isinstance(o, str) or not o or any(c == ',' or c.isspace() for c in o)]
    if bad:
        return ['ollama_origins entries must be origins such as https://chat.example.internal, without commas or '
                'spaces: OLLAMA_ORIGINS is one comma-separated list (got %s).' % ', '.join(repr(o) for o in bad)]
    return []


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
        problem = _port_problem('%s.port' % where, item.get('port'))
        if problem:
            p.append(problem)
        gpus = item.get('gpus', [])
        if not isinstance(gpus, list):
            p.append('%s.gpus must be a list of GPU UUIDs or indexes (got %r).' % (where, gpus))
        p.extend(env_problems(item.get('env', {}), '%s.env' % where))
    return p


class FilterModule(object):
    def filters(self):
        return {'ollama_input_problems': ollama_input_problems}
