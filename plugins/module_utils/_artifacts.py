# -*- coding: utf-8 -*-
# Copyright (c) 2026, gpufleet maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""PRIVATE helpers of the artifacts module: the sha256sum manifest and the controller's hash cache.

Not a public API: names and signatures may change without notice.

The manifest is exactly what ``sha256sum`` writes and ``sha256sum -c`` reads: one ``<64 hex>  <path>`` line per
file, the path relative to the artifacts root with ``/``, sorted by path. Names that sha256sum would escape (a
backslash, a newline or a carriage return) and names that are not UTF-8 are refused, not escaped.

The hash cache maps an absolute path to its sha256, valid while the file's size, mtime_ns and inode are the same.
"""

from __future__ import annotations

import hashlib
import json
import os
import posixpath
import re
import tempfile

from ansible_collections.gpufleet.ollama.plugins.module_utils._names import OllamaError
from ansible_collections.gpufleet.ollama.plugins.module_utils._store import sha256_file

LINE_RE = re.compile(r'^([0-9a-fA-F]{64}) [ *](.+)$')
LINE_FORMAT = '<64 hex digits>, two spaces, <path relative to the root>'
CACHE_FORMAT = 'gpufleet.ollama/sha256-cache-v1'


class ArtifactsError(OllamaError):
    """A manifest, a path or a cache that cannot be used."""


# ---------------------------------------------------------------------------
# Paths
# ---------------------------------------------------------------------------

def path_problem(relpath):
    """Why ``relpath`` cannot be a manifest path (relative, '/' separated, no '.', '..' or empty parts), or None."""
    if relpath.startswith('/'):
        return 'is an absolute path'
    if any(c in relpath for c in '\\\n\r'):
        return 'holds a backslash, a newline or a carriage return (rename the file)'
    try:
        relpath.encode('utf-8')
    except UnicodeEncodeError:
        return 'is not valid UTF-8 (rename the file)'
    if any(part in ('', '.', '..') for part in relpath.split('/')):
        return 'is not a plain relative path (no empty, "." or ".." parts)'
    return None


def normalize_require(path):
    """A ``require`` entry as a manifest path prefix: '' for the root itself; ArtifactsError if it leaves the root."""
    norm = posixpath.normpath(path.strip()) if path.strip() else '.'
    if norm.startswith('/') or norm == '..' or norm.startswith('../'):
        raise ArtifactsError('require: %r is not a path relative to the root' % path)
    return '' if norm == '.' else norm


def under(relpath, prefix):
    """True when manifest path ``relpath`` is ``prefix`` or below it ('' is the root)."""
    return not prefix or relpath == prefix or relpath.startswith(prefix + '/')


def walk(top, root, exclude=()):
    """``(files, odd)``: the manifest paths (relative to ``root``) of the regular files at or below ``top``, and
    those of entries that are neither a file nor a directory (a broken link, a socket); symbolic links are followed,
    hidden names (starting with '.') and the paths in ``exclude`` are skipped. Nothing is read, only stat()."""
    files, odd = [], []

    def rel(path):
        return os.path.relpath(path, root).replace(os.sep, '/')

    if os.path.isfile(top):
        return [rel(top)], []
    seen = set()
    for dirpath, dirnames, filenames in os.walk(top, followlinks=True):
        st = os.stat(dirpath)
        if (st.st_dev, st.st_ino) in seen:      # a link loop
            dirnames[:] = []
            continue
        seen.add((st.st_dev, st.st_ino))
        dirnames[:] = sorted(d for d in dirnames if not d.startswith('.'))
        for name in filenames:
            if name.startswith('.'):
                continue
            path = os.path.join(dirpath, name)
            relpath = rel(path)
            if relpath in exclude:
                continue
            (files if os.path.isfile(path) else odd).append(relpath)
    return sorted(files), sorted(odd)


# ---------------------------------------------------------------------------
# The manifest
# ---------------------------------------------------------------------------

def parse(text):
    """``(entries, problems)`` of a manifest's text: entries maps path -> lower-case hex sha256; problems name
    each malformed or duplicate line by its number. Empty lines are skipped, a CR before the newline is dropped."""
    entries, numbers, problems = {}, {}, []
    for number, line in enumerate(text.split('\n'), 1):
        line = line[:-1] if line.endswith('\r') else line
        if not line:
            continue
        match = LINE_RE.match(line)
        if not match:
            problems.append('line %d: %r is not a manifest line (%s, as sha256sum writes it)'
                            % (number, line[:120], LINE_FORMAT))
            continue
        digest, relpath = match.group(1).lower(), match.group(2)
        why = path_problem(relpath)
        if why:
            problems.append('line %d: the path %r %s' % (number, relpath, why))
        elif relpath in entries:
            problems.append('line %d: %s is listed again (first on line %d)' % (number, relpath, numbers[relpath]))
        else:
            entries[relpath], numbers[relpath] = digest, number
    return entries, problems


def lines(entries, prefix=''):
    """The manifest lines of the entries at or below ``prefix``, sorted by path."""
    return ['%s  %s' % (entries[relpath], relpath) for relpath in sorted(entries) if under(relpath, prefix)]


def text(entries):
    found = lines(entries)
    return '\n'.join(found) + '\n' if found else ''


def digest(entries, prefix):
    """sha256 hex of the manifest lines at or below ``prefix`` joined with newlines: what that path should hold."""
    return hashlib.sha256('\n'.join(lines(entries, prefix)).encode('utf-8')).hexdigest()


# ---------------------------------------------------------------------------
# The hash cache
# ---------------------------------------------------------------------------

class HashCache:
    """sha256 per absolute path, valid while size, mtime_ns and inode stay the same. ``path`` None: no cache.

    Loading and saving never fail: what went wrong is appended to ``warnings``."""

    def __init__(self, path):
        self.path = path
        self.entries = {}
        self.dirty = False
        self.warnings = []
        self.hashed = 0
        self.cached = 0
        if path:
            self._load()

    def _load(self):
        try:
            with open(self.path, encoding='utf-8') as f:
                data = json.load(f)
        except FileNotFoundError:
            return
        except (OSError, ValueError) as e:
            self.warnings.append('artifacts: ignoring the hash cache %s, it cannot be read (%s); every file is '
                                 'hashed' % (self.path, getattr(e, 'strerror', None) or e))
            return
        files = data.get('files') if isinstance(data, dict) and data.get('format') == CACHE_FORMAT else None
        if not isinstance(files, dict):
            self.warnings.append('artifacts: ignoring the hash cache %s, it is not a %s file; every file is hashed'
                                 % (self.path, CACHE_FORMAT))
            return
        self.entries = files

    @staticmethod
    def _key(st):
        return dict(size=st.st_size, mtime_ns=st.st_mtime_ns, inode=st.st_ino)

    def sha256(self, path):
        """sha256 hex of the file ``path``: from the cache when its stat() matches, else read (and remembered when
        the file did not change while it was read). ArtifactsError when it cannot be read or changed meanwhile."""
        path = os.path.abspath(path)
        try:
            before = os.stat(path)
        except OSError as e:
            raise ArtifactsError('cannot stat %s: %s' % (path, e.strerror or e))
        key = self._key(before)
        known = self.entries.get(path)
        if isinstance(known, dict) and all(known.get(k) == v for k, v in key.items()) \
                and isinstance(known.get('sha256'), str):
            self.cached += 1
            return known['sha256']
        try:
            value = sha256_file(path)
            after = os.stat(path)
        except (OllamaError, OSError) as e:
            raise ArtifactsError(str(e))
        self.hashed += 1
        if self._key(after) != key:
            raise ArtifactsError('%s changed while it was hashed (is it still being staged?)' % path)
        if self.path:
            self.entries[path] = dict(key, sha256=value)
            self.dirty = True
        return value

    def prune(self, top):
        """Forget the entries at or below the directory ``top`` whose file is gone."""
        top = os.path.join(os.path.abspath(top), '')
        for path in [p for p in self.entries if p.startswith(top)]:
            if not os.path.isfile(path):
                del self.entries[path]
                self.dirty = True

    def save(self):
        """Write the cache atomically when it changed; a failure is a warning."""
        if not (self.path and self.dirty):
            return
        directory = os.path.dirname(os.path.abspath(self.path))
        temp = None
        try:
            os.makedirs(directory, mode=0o700, exist_ok=True)
            fd, temp = tempfile.mkstemp(dir=directory, prefix='.' + os.path.basename(self.path) + '.')
            with os.fdopen(fd, 'w', encoding='utf-8') as f:
                json.dump(dict(format=CACHE_FORMAT, files=self.entries), f, sort_keys=True, indent=0)
                f.write('\n')
            os.replace(temp, self.path)
            temp = None
            self.dirty = False
        except OSError as e:
            self.warnings.append('artifacts: cannot write the hash cache %s (%s); the next run hashes the files '
                                 'again' % (self.path, e.strerror or e))
        finally:
            if temp:
                try:
                    os.unlink(temp)
                except OSError:
                    pass
