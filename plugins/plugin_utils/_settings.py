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
        elif isinstance(value, str) and any((ord(c) < 32 and c != '\t') or ord(c) == 127 for c in value):
            problems.append('%s: %s must be one line without control characters: each variable is one line of the '
                            "instance's environment file (got %r)." % (where, name, value))
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


# --- Durations ------------------------------------------------------------------------------------------------------

# Go's time.ParseDuration units (src/time/format.go, unitMap): "µs" is U+00B5 (micro sign), "μs" U+03BC (Greek mu).
GO_UNITS = {
    'ns': 1,
    'us': 10 ** 3,
    '\u00b5s': 10 ** 3,
    '\u03bcs': 10 ** 3,
    'ms': 10 ** 6,
    's': 10 ** 9,
    'm': 60 * 10 ** 9,
    'h': 3600 * 10 ** 9,
}
_GO_MAX = 1 << 63


def _ascii_digit(c):
    return '0' <= c <= '9'


def go_duration(text):
    """Nanoseconds of a Go duration string, or None where Go's time.ParseDuration returns an error.

    A line-by-line port of ParseDuration in golang/go src/time/format.go ("[-+]?([0-9]*(\\.[0-9]*)?[a-z]+)+",
    "0" alone, overflow at 1<<63): "5m", "1h30m", "1.5h", ".5s", "-1s", "+0" are valid; "5", "5 m", "5min",
    "5M", "1h 30m", "" and "five" are not. Only ASCII digits count as digits, as in Go.
    """
    if not isinstance(text, str):
        return None
    s = text
    neg = False
    if s and s[0] in '-+':
        neg = s[0] == '-'
        s = s[1:]
    if s == '0':
        return 0
    if s == '':
        return None
    total = 0
    while s:
        if not (s[0] == '.' or _ascii_digit(s[0])):
            return None
        # [0-9]* (leadingInt: an error on overflow)
        i, v = 0, 0
        while i < len(s) and _ascii_digit(s[i]):
            if v > _GO_MAX // 10:
                return None
            v = v * 10 + ord(s[i]) - 48
            if v > _GO_MAX:
                return None
            i += 1
        pre = i > 0
        s = s[i:]
        # (\.[0-9]*)? (leadingFraction: stops gaining precision on overflow, never an error)
        f, scale, post = 0, 1.0, False
        if s and s[0] == '.':
            s = s[1:]
            i, overflow = 0, False
            while i < len(s) and _ascii_digit(s[i]):
                if not overflow:
                    if f > (_GO_MAX - 1) // 10:
                        overflow = True
                    else:
                        y = f * 10 + ord(s[i]) - 48
                        if y > _GO_MAX:
                            overflow = True
                        else:
                            f = y
                            scale *= 10
                i += 1
            post = i > 0
            s = s[i:]
        if not pre and not post:
            return None
        # the unit: everything up to the next '.' or digit
        i = 0
        while i < len(s) and not (s[i] == '.' or _ascii_digit(s[i])):
            i += 1
        if i == 0:
            return None
        unit = GO_UNITS.get(s[:i])
        s = s[i:]
        if unit is None or v > _GO_MAX // unit:
            return None
        v *= unit
        if f > 0:
            v += int(float(f) * (float(unit) / scale))
            if v > _GO_MAX:
                return None
        total += v
        if total > _GO_MAX:
            return None
    if neg:
        return -total
    if total > _GO_MAX - 1:
        return None
    return total


GO_INT_RE = re.compile(r'^[+-]?[0-9]+$')
# time.Duration(n) * time.Second stays exact up to this many seconds (about 292 years); beyond, Go wraps around.
MAX_DURATION_SECONDS = (_GO_MAX - 1) // 10 ** 9


def ollama_duration(value):
    """Nanoseconds the Ollama server reads from OLLAMA_KEEP_ALIVE / OLLAMA_LOAD_TIMEOUT set to ``value``; None when
    the server would ignore it and keep its default.

    envconfig/config.go (ollama/ollama, KeepAlive and LoadTimeout): the value is trimmed of spaces, then of quotes
    (Var), tried with time.ParseDuration, then with strconv.ParseInt(s, 10, 64) as seconds. Booleans, floats, lists
    and values with control characters (they would break the environment file's line) are refused; so are whole
    seconds beyond MAX_DURATION_SECONDS, which overflow time.Duration.
    """
    if isinstance(value, bool) or value is None or isinstance(value, (float, list, dict)):
        return None
    text = str(value)
    if any((ord(c) < 32 and c != '\t') or ord(c) == 127 for c in text):
        return None
    text = text.strip().strip('"\'')
    parsed = go_duration(text)
    if parsed is not None:
        return parsed
    if GO_INT_RE.match(text):
        seconds = int(text)
        if abs(seconds) > MAX_DURATION_SECONDS:
            return None
        return seconds * 10 ** 9
    return None


# nginx time units (src/core/ngx_parse.c, ngx_parse_time): their order (each must come after the one before) and
# their length in seconds.
NGINX_TIME_STEPS = ('y', 'M', 'w', 'd', 'h', 'm', 's', 'ms')
NGINX_TIME_SECONDS = {'y': 365 * 86400, 'M': 30 * 86400, 'w': 7 * 86400, 'd': 86400, 'h': 3600, 'm': 60, 's': 1}
NGINX_MAX_INT32 = 2147483647


def nginx_time(value, seconds=False):
    """Milliseconds (with ``seconds``: seconds) of an nginx time value; None where nginx refuses it.

    A port of ngx_parse_time (nginx src/core/ngx_parse.c): numbers each followed by a unit, the units in descending
    order and each at most once (``1h30m``, ``90s``, ``500ms``, ``2w``); a last number without a unit counts as
    seconds (``30``, ``1m30``); ``y`` and ``M`` only where the value is in seconds (``fail_timeout``), ``ms`` only
    where it is in milliseconds (``proxy_read_timeout``); each part and the total must fit in a signed 32-bit integer.
    Spaces, which nginx accepts inside one quoted value, are refused: the role renders the value unquoted, where a
    space splits the directive.
    """
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int):
        value = str(value)
    if not isinstance(value, str):
        return None
    base = 1 if seconds else 1000
    step = -1 if seconds else NGINX_TIME_STEPS.index('M')
    total, number, valid, i = 0, 0, False, 0
    while i < len(value):
        c = value[i]
        i += 1
        if _ascii_digit(c):
            number = number * 10 + ord(c) - 48
            valid = True
            if number > NGINX_MAX_INT32 * 1000:
                return None
            continue
        if c == 'm' and i < len(value) and value[i] == 's':
            i += 1
            unit = 'ms'
            if seconds:
                return None
        elif c in NGINX_TIME_SECONDS:
            unit = c
        else:
            return None
        position = NGINX_TIME_STEPS.index(unit)
        if position <= step:
            return None
        step = position
        if unit == 'ms':
            scale, most = 1, NGINX_MAX_INT32
        else:
            scale = NGINX_TIME_SECONDS[unit] * base
            most = NGINX_MAX_INT32 // NGINX_TIME_SECONDS[unit] // base
        if number > most:
            return None
        total += number * scale
        if total > NGINX_MAX_INT32:
            return None
        number = 0
    if not valid:
        return None
    total += number * base
    return total if total <= NGINX_MAX_INT32 else None


def nginx_size(value, offset=False):
    """Bytes of an nginx size (``512``, ``8k``, ``16m``; with ``offset`` also ``1g``, as client_max_body_size takes
    it); None where nginx refuses it (ngx_parse_size / ngx_parse_offset in src/core/ngx_parse.c: digits, one optional
    unit letter k, m (g for offsets), either case, nothing else)."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int):
        return value if value >= 0 else None
    if not isinstance(value, str) or not value:
        return None
    units = {'k': 1024, 'K': 1024, 'm': 1024 ** 2, 'M': 1024 ** 2}
    if offset:
        units.update({'g': 1024 ** 3, 'G': 1024 ** 3})
    text, scale = value, 1
    if text[-1] in units:
        scale = units[text[-1]]
        text = text[:-1]
    if not text or not all(_ascii_digit(c) for c in text):
        return None
    return int(text) * scale


# --- Paths -----------------------------------------------------------------------------------------------------------

# Characters a path of the ollama role may not hold: the unit renders ReadWritePaths=, WorkingDirectory= and
# Environment=HOME= unquoted (whitespace splits them, % starts a systemd specifier), and quotes or backslashes
# would change how systemd reads the line.
PATH_BAD_CHARS = frozenset('"\'\\%')


def path_shape_problem(value):
    """Why ``value`` is not an absolute, normalised path the role can render; '' when it is one."""
    if not isinstance(value, str) or not value:
        return 'an absolute path'
    if value.startswith('~'):
        return 'an absolute path (~ is not expanded on the node)'
    if not value.startswith('/'):
        return 'an absolute path, starting with /'
    if any(c.isspace() or ord(c) < 32 or ord(c) == 127 or c in PATH_BAD_CHARS for c in value):
        return 'a path without spaces, control characters, quotes, backslashes or %'
    if value == '/':
        return 'a directory below /'
    parts = value.split('/')[1:]
    if value.endswith('/'):
        return 'a normalised path without a trailing /'
    if any(p == '' for p in parts):
        return 'a normalised path without //'
    if any(p in ('.', '..') for p in parts):
        return 'a normalised path without . or .. components'
    return ''


def path_within(path, parent):
    """Whether ``path`` is ``parent`` or lies below it (both absolute and normalised)."""
    return path == parent or path.startswith(parent.rstrip('/') + '/')
