# -*- coding: utf-8 -*-
# Copyright (c) 2026, gpufleet maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""PRIVATE helpers of gpufleet.ollama.ollama_model: Modelfiles and the files they reference.

Not a public API: names and signatures may change without notice.

- parse_modelfile(): the commands of a Modelfile, as ollama's parser/parser.go ParseFile reads them.
- build_request(): the ``POST /api/create`` body of those commands (parser.go CreateRequest), with the
  referenced files as paths; the caller turns them into digests.
- expand_path(): a FROM/ADAPTER/DRAFT path as the Modelfile means it.
- format_parameters() / format_parameter(): PARAMETER values typed as api/types.go FormatParams does.
- DigestCache: sha256 of big files, computed once per (path, device, inode, size, mtime).
- write_json_atomic(): a small JSON state file, replaced atomically.
"""

from __future__ import annotations

import collections
import json
import math
import os
import re
import struct
import tempfile

from ansible.module_utils.common.text.converters import to_text

from ansible_collections.gpufleet.ollama.plugins.module_utils._names import OllamaError
from ansible_collections.gpufleet.ollama.plugins.module_utils._store import sha256_file

# parser.go isValidCommand
COMMANDS = ('from', 'license', 'template', 'system', 'adapter', 'draft', 'renderer', 'parser', 'parameter',
            'message', 'requires')
# parser.go isValidMessageRole
MESSAGE_ROLES = ('system', 'user', 'assistant')

# api/types.go Options + Runner: JSON name -> Go kind (a pointer field takes the kind it points to)
PARAMETER_TYPES = dict(
    num_ctx='int', num_batch='int', num_gpu='int', main_gpu='int', num_thread='int', draft_num_predict='int',
    num_keep='int', seed='int', num_predict='int', top_k='int', repeat_last_n='int',
    top_p='float', min_p='float', typical_p='float', temperature='float', repeat_penalty='float',
    presence_penalty='float', frequency_penalty='float',
    use_mmap='bool',
    stop='list',
)
# parser.go deprecatedParameters: the CLI warns and drops them
DEPRECATED_PARAMETERS = ('penalize_newline', 'low_vram', 'f16_kv', 'logits_all', 'vocab_only', 'use_mlock',
                         'mirostat', 'mirostat_tau', 'mirostat_eta')

# Go's strconv.ParseBool, ParseInt(s, 10, 64) and the decimal forms of ParseFloat
_GO_BOOLS = {'1': True, 't': True, 'T': True, 'TRUE': True, 'true': True, 'True': True,
             '0': False, 'f': False, 'F': False, 'FALSE': False, 'false': False, 'False': False}
_GO_INT = re.compile(r'[+-]?[0-9]+\Z')
_GO_FLOAT = re.compile(r'[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?\Z')
# golang.org/x/mod/semver IsValid (after the "v" the parser adds): vMAJOR[.MINOR[.PATCH[-pre][+build]]]
_SEMVER = re.compile(r'v(0|[1-9][0-9]*)(\.(0|[1-9][0-9]*)(\.(0|[1-9][0-9]*)'
                     r'(-[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?(\+[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?)?)?\Z')

# FROM, ADAPTER and DRAFT name files; the request field each fills
FILE_FIELDS = dict(model='files', adapter='adapters', draft='draft_files')
# commands whose value is one string field of the request (the last one wins)
STRING_FIELDS = ('template', 'system', 'renderer', 'parser', 'requires')

Command = collections.namedtuple('Command', 'name args line')


class ModelfileError(OllamaError):
    """A Modelfile that cannot be read, parsed or turned into a create request."""


def _valid_commands():
    return ', '.join(c.upper() for c in COMMANDS)


# ---------------------------------------------------------------------------
# Parameters
# ---------------------------------------------------------------------------

def _float32(text):
    """ParseFloat(text, 32) as a JSON number: the shortest decimal that reads back as the same float32."""
    value = float(text)
    single = struct.unpack('<f', struct.pack('<f', value))[0]   # OverflowError beyond float32
    if not math.isfinite(single):
        raise ValueError(text)
    for digits in range(1, 10):
        shortest = float('%.*g' % (digits, single))
        if struct.unpack('<f', struct.pack('<f', shortest))[0] == single:
            return shortest
    return single


def format_parameter(name, value):
    """One PARAMETER value (a string) typed like FormatParams; ``stop`` gives a one-element list.

    Raises ValueError with the message the problem deserves.
    """
    kind = PARAMETER_TYPES.get(name)
    if kind is None:
        raise ValueError("unknown parameter '%s' (valid: %s)" % (name, ', '.join(sorted(PARAMETER_TYPES))))
    if kind == 'list':
        return [value]
    if kind == 'bool':
        if value not in _GO_BOOLS:
            raise ValueError('invalid bool value %r for %s (valid: true, false, 1, 0, t, f)' % (value, name))
        return _GO_BOOLS[value]
    if kind == 'int':
        if not _GO_INT.match(value) or not -2 ** 63 <= int(value) < 2 ** 63:
            raise ValueError('invalid int value %r for %s' % (value, name))
        return int(value)
    try:
        if not _GO_FLOAT.match(value):
            raise ValueError(value)
        return _float32(value)
    except (ValueError, OverflowError):
        raise ValueError('invalid float value %r for %s' % (value, name))


def _parameter_text(value):
    """A parameter value given as YAML data, as the text a PARAMETER line would hold."""
    if isinstance(value, bool):
        return 'true' if value else 'false'
    return to_text(value)


def format_parameters(parameters):
    """A ``parameters`` dict (name -> value, or list of values for ``stop``) typed like the Modelfile's
    PARAMETER lines would be. Raises ValueError naming the parameter."""
    out = {}
    for name, value in sorted((parameters or {}).items()):
        values = value if isinstance(value, list) else [value]
        if PARAMETER_TYPES.get(name) != 'list' and len(values) != 1:
            raise ValueError('parameter %s takes one value, got %r' % (name, value))
        for item in values:
            typed = format_parameter(name, _parameter_text(item))
            out[name] = out.get(name, []) + typed if isinstance(typed, list) else typed
    return out


# ---------------------------------------------------------------------------
# Parsing
# ---------------------------------------------------------------------------

def _unquote(text):
    """parser.go unquote: (value, True), or (None, False) while a quote is still open."""
    if text.startswith('"""'):
        if len(text) >= 6 and text.endswith('"""'):
            return text[3:-3], True
        return None, False
    if text.startswith('"'):
        if len(text) >= 2 and text.endswith('"'):
            return text[1:-1], True
        return None, False
    return text, True


def parse_modelfile(text, path='Modelfile'):
    """The commands of a Modelfile: a list of Command(name, args, line).

    Follows parser.go ParseFile: case-insensitive commands, ``#`` comments and blank lines skipped,
    values trimmed, ``"..."`` and ``\"\"\"...\"\"\"`` values may span lines; FROM gives the name
    ``model``, ``PARAMETER k v`` the name ``k``, ``MESSAGE role text`` the args ``role: text``.
    Raises ModelfileError naming ``path``, the line number and the line.
    """
    lines = text.lstrip('\ufeff').split('\n')
    commands = []

    def fail(number, why):
        raise ModelfileError('Modelfile %s line %d: %s: %r' % (path, number, why, lines[number - 1].rstrip('\r')))

    index = 0
    while index < len(lines):
        number, line = index + 1, lines[index].lstrip(' \t')
        index += 1
        if not line.strip() or line.startswith('#'):
            continue
        match = re.match(r'([A-Za-z]+)([ \t]+|\r?\Z)', line)
        if not match or match.group(1).lower() not in COMMANDS:
            fail(number, 'not a Modelfile command; valid commands are %s' % _valid_commands())
        name, rest = match.group(1).lower(), line[match.end():]
        if not match.group(2).strip('\r'):
            fail(number, '%s needs a value' % name.upper())
        prefix = ''
        if name in ('parameter', 'message'):
            word = re.match(r'([A-Za-z0-9_]+)[ \t]+' if name == 'parameter' else r'([A-Za-z]+)[ \t]+', rest)
            if not word:
                fail(number, 'PARAMETER needs a name and a value' if name == 'parameter'
                     else 'MESSAGE needs a role (%s) and a text' % ', '.join(MESSAGE_ROLES))
            rest = rest[word.end():]
            if name == 'parameter':
                name = word.group(1)
            else:
                if word.group(1) not in MESSAGE_ROLES:
                    fail(number, 'message role must be one of %s' % ', '.join(MESSAGE_ROLES))
                prefix = word.group(1) + ': '
        value, done = _unquote(rest.strip())
        while not done:   # an open quote: the value goes on over the next lines
            if index >= len(lines):
                fail(number, 'the quoted value that starts here is never closed')
            rest += '\n' + lines[index]
            index += 1
            value, done = _unquote(rest.strip())
        commands.append(Command('model' if name == 'from' else name, prefix + value, number))
    if not any(c.name == 'model' for c in commands):
        raise ModelfileError('Modelfile %s has no FROM line (FROM names a .gguf file or a model)' % path)
    return commands


def read_modelfile(path):
    """parse_modelfile() of the file at ``path``."""
    try:
        with open(path, 'rb') as f:
            raw = f.read()
    except OSError as e:
        raise ModelfileError('cannot read the Modelfile %s: %s' % (path, e.strerror or e))
    try:
        text = raw.decode('utf-8')
    except UnicodeDecodeError as e:
        raise ModelfileError('Modelfile %s is not UTF-8 text: %s' % (path, e))
    return parse_modelfile(text, path)


# ---------------------------------------------------------------------------
# The create request
# ---------------------------------------------------------------------------

def expand_path(args, base_dir):
    """parser.go expandPath: absolute, ~ or ~user, else relative to the Modelfile's directory."""
    if args.startswith('~'):
        return os.path.abspath(os.path.expanduser(args))
    return os.path.abspath(os.path.join(base_dir, args))


def build_request(commands, base_dir, path='Modelfile'):
    """The create request of parsed commands, like parser.go CreateRequest.

    Returns ``(request, files, warnings)``: ``request`` holds everything but the file maps; ``files``
    maps ``files``/``adapters``/``draft_files`` to ``{name in the request: absolute path}``. A FROM that
    is not an existing path is a model name (``request['from']``); ADAPTER and DRAFT files must exist.
    """
    request, files, warnings = {}, {}, []
    parameters = {}
    for cmd in commands:
        where = 'Modelfile %s line %d' % (path, cmd.line)
        if cmd.name in FILE_FIELDS:
            full, label = expand_path(cmd.args, base_dir), 'FROM' if cmd.name == 'model' else cmd.name.upper()
            if not os.path.exists(full):
                if cmd.name == 'model':
                    request['from'] = cmd.args
                    continue
                raise ModelfileError('%s: %s %s: the file %s does not exist' % (where, label, cmd.args, full))
            if os.path.isdir(full):
                raise ModelfileError('%s: %s %s is a directory; name the .gguf file in it' % (where, label, full))
            named = files.setdefault(FILE_FIELDS[cmd.name], {})
            key = os.path.basename(full)
            if named.get(key, full) != full:
                raise ModelfileError('%s: two files named %s (%s and %s); give them different names'
                                     % (where, key, named[key], full))
            named[key] = full
        elif cmd.name in STRING_FIELDS:
            value = cmd.args
            if cmd.name == 'requires':
                value = value if value.startswith('v') else 'v' + value
                if not _SEMVER.match(value):
                    raise ModelfileError('%s: REQUIRES %s must be a valid semver (e.g. 0.14.0)' % (where, cmd.args))
                value = value[1:]
            request[cmd.name] = value
        elif cmd.name == 'license':
            request.setdefault('license', []).append(cmd.args)
        elif cmd.name == 'message':
            role, dummy, content = cmd.args.partition(': ')
            request.setdefault('messages', []).append(dict(role=role, content=content))
        elif cmd.name in DEPRECATED_PARAMETERS:
            warnings.append('%s: parameter %s is deprecated and ignored' % (where, cmd.name))
        else:
            try:
                typed = format_parameter(cmd.name, cmd.args)
            except ValueError as e:
                raise ModelfileError('%s: PARAMETER %s' % (where, e))
            parameters[cmd.name] = parameters.get(cmd.name, []) + typed if isinstance(typed, list) else typed
    if parameters:
        request['parameters'] = parameters
    return request, files, warnings


# ---------------------------------------------------------------------------
# Digests of big files, computed once
# ---------------------------------------------------------------------------

class DigestCache:
    """sha256 of files, remembered in ``<cache_dir>/digests.json`` by path, device, inode, size and mtime.

    A file that changes gets a new mtime (or size, or inode when replaced), so it is hashed again;
    an unchanged multi-GB GGUF is hashed once. ``save()`` writes the cache (atomically) when it changed.
    """

    FILE = 'digests.json'

    def __init__(self, cache_dir):
        self.path = os.path.join(cache_dir, self.FILE)
        self.dirty = False
        try:
            with open(self.path, 'rb') as f:
                self.entries = json.loads(to_text(f.read()))
            if not isinstance(self.entries, dict):
                raise ValueError(self.path)
        except (OSError, ValueError):
            self.entries = {}

    @staticmethod
    def _key(st):
        return [st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns]

    def lookup(self, path):
        """The cached hex digest of ``path`` if the file is unchanged, else None."""
        entry = self.entries.get(path)
        try:
            key = self._key(os.stat(path))
        except OSError:
            return None
        if isinstance(entry, dict) and entry.get('stat') == key:
            return entry.get('sha256')
        return None

    def digest(self, path):
        """The hex sha256 of ``path``: from the cache, or hashed now and remembered."""
        found = self.lookup(path)
        if found:
            return found
        before = os.stat(path)
        digest = sha256_file(path)
        if self._key(os.stat(path)) == self._key(before):   # not remembered if it changed while read
            self.remember(path, digest)
        return digest

    def remember(self, path, digest):
        """Record ``digest`` for the current state of ``path`` (for example after the server touched it)."""
        entry = dict(stat=self._key(os.stat(path)), sha256=digest)
        if self.entries.get(path) != entry:
            self.entries[path] = entry
            self.dirty = True

    def save(self):
        """Write the cache if it changed, dropping files that are gone; raises OSError."""
        if self.dirty:
            self.entries = {p: e for p, e in self.entries.items() if os.path.exists(p)}
            write_json_atomic(self.path, self.entries)
            self.dirty = False


def write_json_atomic(path, data):
    """Write ``data`` as JSON to ``path`` through a temporary file and os.replace (parents made 0755); raises OSError."""
    directory = os.path.dirname(path)
    os.makedirs(directory, 0o755, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix='.tmp-', dir=directory)
    try:
        with os.fdopen(fd, 'w') as f:
            json.dump(data, f, sort_keys=True)
        os.replace(tmp, path)
    except BaseException:
        os.remove(tmp)
        raise
