# -*- coding: utf-8 -*-
# Copyright (c) 2026, gpufleet maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""PRIVATE helpers for Ollama model stores and offline model bundles.

Not a public API: names and signatures may change without notice.

A bundle root has the layout of an Ollama store (``blobs/sha256-<hex>``,
``manifests/<host>/<namespace>/<model>/<tag>``) plus one index file per model,
``bundles/<host>/<namespace>/<model>/<tag>.json`` (see model_index()). A node's
live store is a bundle root too, without the index files.

Blobs are content-addressed and can be many GB: only the functions that say so
read them (verify(checksum=True), activate()); everything else uses stat().
Manifest bytes are never re-encoded: the model digest is the sha256 of the raw file.
"""

from __future__ import annotations

import glob
import hashlib
import json
import os
import re
import shutil

from ansible.module_utils.common.text.converters import to_text

from ansible_collections.gpufleet.ollama.plugins.module_utils._names import (
    DEFAULT_HOST,
    DEFAULT_NAMESPACE,
    OllamaError,
    blob_path as _blob_path,
    display_name,
    normalize_model_name,
)

INDEX_FORMAT = 'gpufleet.ollama/bundle-v1'
EXPORT_TEMP_DIR = '.incoming'   # export()'s temporary files, below the bundle root

HEX_RE = re.compile(r'^[0-9a-f]{64}$')
BLOB_DIGEST_RE = re.compile(r'^sha256:[0-9a-f]{64}$')
NAME_RULES = ('a name is [host/][namespace/]model[:tag]; each part starts with a letter, a digit or _ and holds '
              'only letters, digits, _, - and . (no . in the namespace), at most 80 characters')
CHUNK = 4 << 20


class StoreError(OllamaError):
    """A model store or bundle that is missing, incomplete, corrupt or cannot be written."""


# ---------------------------------------------------------------------------
# Names and paths
# ---------------------------------------------------------------------------

def _valid_part(kind, part):
    """Like Ollama's types/model/name.go isValidPart."""
    if not 1 <= len(part) <= (350 if kind == 'host' else 80):
        return False
    extra = '_-' + ('' if kind == 'namespace' else '.') + (':' if kind == 'host' else '')
    return (part[0].isascii() and (part[0].isalnum() or part[0] == '_')
            and all((c.isascii() and c.isalnum()) or c in extra for c in part[1:]))


def name_parts(name):
    """``(host, namespace, model, tag)`` of a model name, Ollama's defaults filled in; StoreError if invalid."""
    if not isinstance(name, str):
        raise StoreError('invalid model name %r: not a string' % (name,))
    path, dummy, tag = normalize_model_name(name).rpartition(':')
    parts = path.split('/')
    if len(parts) > 3:
        raise StoreError('invalid model name %r: too many / separated parts; %s' % (name, NAME_RULES))
    parts = [DEFAULT_HOST, DEFAULT_NAMESPACE][:3 - len(parts)] + parts + [tag]
    for kind, part in zip(('host', 'namespace', 'model', 'tag'), parts):
        if not _valid_part(kind, part):
            raise StoreError('invalid model name %r: the %s %r is not valid; %s' % (name, kind, part, NAME_RULES))
    return tuple(parts)


def manifest_relpath(name):
    """``manifests/<host>/<namespace>/<model>/<tag>`` of a model name ('/' separators)."""
    return 'manifests/' + '/'.join(name_parts(name))


def index_relpath(name):
    """``bundles/<host>/<namespace>/<model>/<tag>.json`` of a model name ('/' separators)."""
    return 'bundles/' + '/'.join(name_parts(name)) + '.json'


def _path(root, relpath):
    return os.path.join(root, *relpath.split('/'))


def _manifest_files(root):
    """``(relpath, path)`` of every manifest file of a store: exactly four levels, like Ollama's manifest.Manifests."""
    manifests_dir = os.path.join(root, 'manifests')
    for path in sorted(glob.glob(os.path.join(glob.escape(manifests_dir), '*', '*', '*', '*'))):
        if os.path.isfile(path):
            yield 'manifests/' + os.path.relpath(path, manifests_dir).replace(os.sep, '/'), path


def _find_manifest(root, name):
    """The relpath of the manifest of ``name`` in ``root``, looked up case-insensitively like Ollama does."""
    wanted = manifest_relpath(name)
    if os.path.isfile(_path(root, wanted)):
        return wanted
    for relpath, dummy in _manifest_files(root):
        if relpath.lower() == wanted.lower():
            return relpath
    return wanted


# ---------------------------------------------------------------------------
# Files
# ---------------------------------------------------------------------------

def _size(path):
    """Size of a regular file, None when there is none (stat only)."""
    try:
        st = os.stat(path)
    except (FileNotFoundError, NotADirectoryError):
        return None
    except OSError as e:
        raise StoreError('cannot stat %s: %s' % (path, e.strerror or e))
    return st.st_size if os.path.isfile(path) else None


def _read(path):
    try:
        with open(path, 'rb') as f:
            return f.read()
    except OSError as e:
        raise StoreError('cannot read %s: %s' % (path, e.strerror or e))


def sha256_file(path):
    """Hex sha256 of a file (reads it all)."""
    sha = hashlib.sha256()
    try:
        with open(path, 'rb') as f:
            for chunk in iter(lambda: f.read(CHUNK), b''):
                sha.update(chunk)
    except OSError as e:
        raise StoreError('cannot read %s: %s' % (path, e.strerror or e))
    return sha.hexdigest()


def _manifest_digest(path):
    """sha256 hex of a manifest file, None when there is none (manifests are small, reading them is fine)."""
    return None if _size(path) is None else hashlib.sha256(_read(path)).hexdigest()


def _nearest_existing(path):
    path = os.path.abspath(path)
    while not os.path.exists(path) and os.path.dirname(path) != path:
        path = os.path.dirname(path)
    return path


def _makedirs(path, uid=None, gid=None):
    """Create ``path`` and its missing parents with mode 0755 (not subject to the umask), chown the new ones."""
    missing = []
    while not os.path.isdir(path):
        missing.append(path)
        path = os.path.dirname(path)
    for directory in reversed(missing):
        try:
            os.mkdir(directory)
            os.chmod(directory, 0o755)
            _chown(directory, uid, gid)
        except FileExistsError:
            pass
        except OSError as e:
            raise StoreError('cannot create the directory %s: %s' % (directory, e.strerror or e))


def _chown(path, uid, gid):
    if uid is not None or gid is not None:
        try:
            os.chown(path, -1 if uid is None else uid, -1 if gid is None else gid)
        except OSError as e:
            raise StoreError('cannot change the owner of %s to uid %s gid %s: %s' % (path, uid, gid, e.strerror or e))


def _prepare(path, uid, gid):
    """Mode 0644, the owner and an mtime of now for a received file about to move into a live store.

    The mtime matters: the server's startup prune spares blobs younger than 1 h,
    and rsync -a keeps the old mtime of the source.
    """
    try:
        os.chmod(path, 0o644)
        os.utime(path)
    except OSError as e:
        raise StoreError('cannot set the mode 0644 and the mtime of %s: %s' % (path, e.strerror or e))
    _chown(path, uid, gid)


def _remove(path):
    try:
        os.remove(path)
    except FileNotFoundError:
        pass


def _replace(src, dest, what):
    try:
        os.replace(src, dest)
    except OSError as e:
        raise StoreError('cannot move %s %s to %s: %s' % (what, src, dest, e.strerror or e))


def _write_atomic(path, data, temp_dir):
    """Write ``data`` to ``path`` (mode 0644) through a temp file in ``temp_dir`` and os.replace."""
    _makedirs(temp_dir)
    _makedirs(os.path.dirname(path))
    temp = os.path.join(temp_dir, '%s.%d.tmp' % (os.path.basename(path), os.getpid()))
    try:
        with open(temp, 'wb') as f:
            f.write(data)
        os.chmod(temp, 0o644)
    except OSError as e:
        _remove(temp)
        raise StoreError('cannot write %s: %s' % (temp, e.strerror or e))
    _replace(temp, path, 'the file')


def _remove_empty_dirs(top):
    """Remove the empty directories below ``top`` (not ``top`` itself)."""
    for dirpath, dummy, dummy2 in os.walk(top, topdown=False):
        if dirpath != top:
            try:
                os.rmdir(dirpath)
            except OSError:
                pass   # not empty


# ---------------------------------------------------------------------------
# Manifests and indexes
# ---------------------------------------------------------------------------

def _manifest_blobs(raw, where):
    """``(blobs, size)`` of raw manifest bytes: config first then layers, de-duplicated; size as /api/tags."""
    try:
        manifest = json.loads(to_text(raw, errors='surrogate_or_strict'))
    except (ValueError, UnicodeError) as e:
        raise StoreError('%s is not a valid manifest: %s' % (where, e))
    if not isinstance(manifest, dict) or not isinstance(manifest.get('config'), dict) \
            or not isinstance(manifest.get('layers', []), list):
        raise StoreError('%s is not a valid manifest: expected a JSON object with a "config" object and a "layers" list'
                         % where)
    blobs, sizes, total = [], {}, 0
    for ref in [manifest['config']] + list(manifest.get('layers') or []):
        digest = ref.get('digest') if isinstance(ref, dict) else None
        size = ref.get('size') if isinstance(ref, dict) else None
        if not isinstance(digest, str) or not BLOB_DIGEST_RE.match(digest) \
                or not isinstance(size, int) or isinstance(size, bool) or size < 0:
            raise StoreError('%s is not a valid manifest: the layer %r needs a "digest" sha256:<64 lowercase hex> '
                             'and a "size" >= 0' % (where, ref))
        total += size
        if digest in sizes:
            if sizes[digest] != size:
                raise StoreError('%s is not a valid manifest: the blob %s is listed with sizes %d and %d'
                                 % (where, digest, sizes[digest], size))
            continue
        sizes[digest] = size
        blobs.append(dict(digest=digest, size=size, media_type=to_text(ref.get('mediaType') or '')))
    return blobs, total


def _index_and_manifest(root, name):
    """``(index, raw manifest bytes)`` of model ``name`` in ``root``."""
    relpath = _find_manifest(root, name)
    path = _path(root, relpath)
    if _size(path) is None:
        raise StoreError('model %s is not in the store %s: there is no manifest %s' % (name, root, path))
    raw = _read(path)
    blobs, size = _manifest_blobs(raw, 'the manifest %s of model %s' % (path, name))
    index = {
        'format': INDEX_FORMAT,
        'name': display_name(*relpath.split('/')[1:]),
        'manifest': relpath,
        'digest': hashlib.sha256(raw).hexdigest(),
        'manifest_size': len(raw),
        'size': size,
        'blobs': blobs,
    }
    return index, raw


def model_index(root, name):
    """The bundle index of model ``name`` built from its manifest in ``root`` (reads only the manifest)."""
    return _index_and_manifest(root, name)[0]


def model_digest(root, name):
    """The digest of model ``name`` in ``root`` (sha256 of its manifest file), None when it is not there."""
    return _manifest_digest(_path(root, _find_manifest(root, name)))


def _index_json(index):
    return (json.dumps(index, sort_keys=True, indent=1) + '\n').encode('utf-8')


def check_index(index, where='the index'):
    """Validate the shape of a bundle index (from a file or a playbook); return it, or raise StoreError."""
    def bad(why):
        raise StoreError('%s is not a valid bundle index: %s' % (where, why))

    def count(value):
        return isinstance(value, int) and not isinstance(value, bool) and value >= 0

    if not isinstance(index, dict):
        bad('expected a JSON object, got %r' % (index,))
    if index.get('format') != INDEX_FORMAT:
        bad('"format" is %r, expected %r' % (index.get('format'), INDEX_FORMAT))
    try:
        relpath = manifest_relpath(index.get('name'))
    except StoreError as e:
        bad('"name": %s' % e)
    if not isinstance(index.get('manifest'), str) or index['manifest'].lower() != relpath.lower():
        bad('"manifest" is %r, expected %r for the model %s' % (index.get('manifest'), relpath, index['name']))
    if not isinstance(index.get('digest'), str) or not HEX_RE.match(index['digest']):
        bad('"digest" is %r, expected 64 lowercase hex characters' % (index.get('digest'),))
    for key in ('manifest_size', 'size'):
        if not count(index.get(key)):
            bad('"%s" is %r, expected an integer >= 0' % (key, index.get(key)))
    blobs = index.get('blobs')
    if not isinstance(blobs, list) or not blobs:
        bad('"blobs" is %r, expected a non-empty list' % (blobs,))
    for blob in blobs:
        if not isinstance(blob, dict) or not isinstance(blob.get('digest'), str) \
                or not BLOB_DIGEST_RE.match(blob['digest']) or not count(blob.get('size')):
            bad('the blob %r needs a "digest" sha256:<64 lowercase hex> and a "size" >= 0' % (blob,))
    return index


def load_index(root, name):
    """The validated index of model ``name`` from the bundle ``root``."""
    path = _path(root, index_relpath(name))
    if _size(path) is None:
        raise StoreError('model %s is not in the bundle %s: there is no index file %s' % (name, root, path))
    try:
        index = json.loads(to_text(_read(path), errors='surrogate_or_strict'))
    except (ValueError, UnicodeError) as e:
        raise StoreError('the index file %s of model %s is not valid JSON: %s' % (path, name, e))
    return check_index(index, 'the index file %s of model %s' % (path, name))


# ---------------------------------------------------------------------------
# Checking and planning
# ---------------------------------------------------------------------------

def _found(size, none, some):
    """``none`` when there is no file, else ``some`` with the size (a %d format) filled in."""
    return none if size is None else some % size


def _blob_size_problem(path, blob, model):
    """None when the blob file has its size, else why not (stat only)."""
    size = _size(path)
    if size == blob['size']:
        return None
    found = _found(size, 'is missing', 'has %%d bytes instead of %d' % blob['size'])
    return 'blob %s of model %s %s: %s' % (blob['digest'], model, found, path)


def verify(root, index, checksum=False):
    """Problems of model ``index`` in ``root`` (empty list: complete); checksum=True reads every blob."""
    check_index(index)
    model, problems = index['name'], []
    path = _path(root, index['manifest'])
    digest = _manifest_digest(path)
    if digest is None:
        problems.append('manifest of model %s is missing: %s' % (model, path))
    elif digest != index['digest']:
        problems.append('manifest %s of model %s has the sha256 %s, the index says %s'
                        % (path, model, digest, index['digest']))
    else:
        try:
            blobs = _manifest_blobs(_read(path), path)[0]
        except StoreError as e:
            blobs = str(e)
        if blobs != index['blobs']:
            problems.append('the blobs of the index of model %s do not match its manifest %s' % (model, path))
    for blob in index['blobs']:
        blob_path = _blob_path(root, blob['digest'])
        problem = _blob_size_problem(blob_path, blob, model)
        if problem is None and checksum:
            actual = sha256_file(blob_path)
            if 'sha256:' + actual != blob['digest']:
                problem = 'blob %s of model %s is corrupt, its sha256 is %s: %s' % (
                    blob['digest'], model, actual, blob_path)
        if problem:
            problems.append(problem)
    return problems


def plan(root, index, incoming=None):
    """What ``root`` still needs of model ``index`` (stat only, plus a hash of the small manifest).

    ``present``: the manifest has the index digest and every blob has its size.
    ``missing``: ``{digest, size}`` of the blobs not in ``root/blobs`` with their size.
    ``bytes``: what is still to be received: the missing blobs not yet complete in
    ``incoming/blobs``, plus the manifest when it is not in place.
    """
    check_index(index)
    manifest_ok = _manifest_digest(_path(root, index['manifest'])) == index['digest']
    missing = [dict(digest=b['digest'], size=b['size']) for b in index['blobs']
               if _size(_blob_path(root, b['digest'])) != b['size']]
    to_receive = sum(b['size'] for b in missing
                     if incoming is None or _size(_blob_path(incoming, b['digest'])) != b['size'])
    if not manifest_ok:
        to_receive += index['manifest_size']
    return dict(present=manifest_ok and not missing, missing=missing, bytes=to_receive)


def referenced(root):
    """Every ``sha256:<hex>`` referenced by a manifest of ``root``; StoreError on a manifest that does not parse."""
    found = set()
    for dummy, path in _manifest_files(root):
        found.update(b['digest'] for b in _manifest_blobs(_read(path), 'the manifest %s' % path)[0])
    return found


def models(root):
    """``{name, digest}`` of every manifest of ``root`` (display names, sorted), without reading any blob."""
    found = [dict(name=display_name(*relpath.split('/')[1:]), digest=hashlib.sha256(_read(path)).hexdigest())
             for relpath, path in _manifest_files(root)]
    return sorted(found, key=lambda m: m['name'])


def free_bytes(path):
    """Bytes available to unprivileged users on the filesystem of ``path`` (or of its nearest existing parent)."""
    path = _nearest_existing(path)
    try:
        st = os.statvfs(path)
    except OSError as e:
        raise StoreError('cannot read the free space of %s: %s' % (path, e.strerror or e))
    return st.f_bavail * st.f_frsize


# ---------------------------------------------------------------------------
# Export (staging host) and activate (GPU node)
# ---------------------------------------------------------------------------

def _link_or_copy(src, temp, dest):
    """Hardlink ``src`` as ``temp`` (copy it when that is not possible) and move it to ``dest``; True if linked."""
    _remove(temp)
    try:
        os.link(src, temp)
        linked = True
    except OSError:
        linked = False
        try:
            with open(src, 'rb') as fsrc, open(temp, 'wb') as fdest:
                shutil.copyfileobj(fsrc, fdest, CHUNK)
            os.chmod(temp, 0o644)
        except OSError as e:
            _remove(temp)
            raise StoreError('cannot copy %s to %s: %s' % (src, temp, e.strerror or e))
    _replace(temp, dest, 'the blob')
    return linked


def export(src_root, name, dest_root, check_mode=False):
    """Put model ``name`` of the store ``src_root`` into the bundle ``dest_root``.

    Blobs already in ``dest_root`` with their size are skipped without being read;
    the others are hardlinked when both are on one filesystem, else copied.
    The index file follows, the manifest (its bytes unchanged) comes last.
    """
    index, manifest = _index_and_manifest(src_root, name)
    model = index['name']
    temp_dir = os.path.join(dest_root, EXPORT_TEMP_DIR)
    dest_dev = os.stat(_nearest_existing(dest_root)).st_dev
    copied, linked = [], []
    for blob in index['blobs']:
        dest = _blob_path(dest_root, blob['digest'])
        if _size(dest) == blob['size']:
            continue
        src = _blob_path(src_root, blob['digest'])
        problem = _blob_size_problem(src, blob, model)
        if problem:
            raise StoreError('cannot export model %s from the store %s: %s' % (model, src_root, problem))
        if check_mode:
            same_fs = os.stat(src).st_dev == dest_dev
        else:
            _makedirs(temp_dir)
            _makedirs(os.path.dirname(dest))
            same_fs = _link_or_copy(src, os.path.join(temp_dir, os.path.basename(dest)), dest)
        (linked if same_fs else copied).append(blob['digest'])

    index_path = _path(dest_root, index_relpath(model))
    data = _index_json(index)
    index_changed = _size(index_path) is None or _read(index_path) != data
    if index_changed and not check_mode:
        _write_atomic(index_path, data, temp_dir)

    manifest_path = _path(dest_root, index['manifest'])
    manifest_changed = _manifest_digest(manifest_path) != index['digest']
    if manifest_changed and not check_mode:
        _write_atomic(manifest_path, manifest, temp_dir)   # the bytes the index was computed from
    if not check_mode:
        try:
            os.rmdir(temp_dir)   # empty now: every temp file was moved into place
        except OSError:
            pass
    return dict(index=index, changed=bool(copied or linked or index_changed or manifest_changed),
                copied=copied, linked=linked)


def _inside(path, top):
    path, top = os.path.realpath(path), os.path.realpath(top)
    return path == top or path.startswith(top.rstrip(os.sep) + os.sep)


def activate(root, incoming, index, uid=None, gid=None, check_mode=False):
    """Move model ``index`` from ``incoming`` into the live store ``root``; blobs first, the manifest last.

    ``incoming`` (same filesystem as ``root``, outside ``root/blobs`` and
    ``root/manifests``) holds what rsync received, laid out like a store. Blobs
    already in ``root`` with their size are not read; received ones are hashed,
    removed if corrupt, else made 0644 (and owned by uid/gid), their mtime set
    to now (the server's startup prune spares blobs younger than 1 h) and moved
    into ``root/blobs``. Only when every blob is in place is the manifest moved
    in, so a model never appears half present.
    """
    check_index(index)
    model = index['name']
    for sub in ('blobs', 'manifests'):
        if _inside(incoming, os.path.join(root, sub)):
            raise StoreError('the incoming directory %s for model %s must not be inside %s'
                             % (incoming, model, os.path.join(root, sub)))

    if _inside(root, incoming):
        raise StoreError('the incoming directory %s for model %s must be a directory of its own, not the store %s '
                         'or a parent of it' % (incoming, model, root))

    to_move, missing = [], []
    for blob in index['blobs']:
        dest = _blob_path(root, blob['digest'])
        received = _blob_path(incoming, blob['digest'])
        if _size(dest) == blob['size']:
            if not check_mode:
                _remove(received)   # a redundant copy; the store has it
            continue
        size = _size(received)
        if size != blob['size']:
            missing.append('missing blob %s (%d bytes) of model %s: not in the store %s and not received in %s (%s)'
                           % (blob['digest'], blob['size'], model, root, received,
                              _found(size, 'no such file', 'only %d bytes there')))
        to_move.append((blob['digest'], received, dest))
    if missing:
        raise StoreError('; '.join(missing))

    manifest_dest = _path(root, index['manifest'])
    manifest_received = _path(incoming, index['manifest'])
    write_manifest = _manifest_digest(manifest_dest) != index['digest']
    if write_manifest and _size(manifest_received) is None:
        raise StoreError('missing manifest of model %s: the store %s does not have it with the digest %s and it was '
                         'not received in %s' % (model, root, index['digest'], manifest_received))
    result = dict(changed=bool(to_move or write_manifest), moved=[d for d, dummy, dummy2 in to_move], verified=[],
                  manifest_written=write_manifest)
    if check_mode:
        return result

    if write_manifest:   # small: checked before any blob moves, moved in last
        actual = hashlib.sha256(_read(manifest_received)).hexdigest()
        if actual != index['digest']:
            _remove(manifest_received)
            raise StoreError('manifest of model %s was corrupted in transfer (its sha256 is %s, expected %s); it was '
                             'removed, run again to fetch it again: %s'
                             % (model, actual, index['digest'], manifest_received))
    if to_move and os.stat(incoming).st_dev != os.stat(_nearest_existing(os.path.join(root, 'blobs'))).st_dev:
        raise StoreError('the incoming directory %s for model %s is not on the filesystem of the store %s; '
                         'blobs are moved, not copied' % (incoming, model, root))
    corrupt = []
    for digest, received, dummy in to_move:
        actual = 'sha256:' + sha256_file(received)
        if actual != digest:
            _remove(received)
            corrupt.append('blob %s of model %s was corrupted in transfer (its sha256 is %s, expected %s); it was '
                           'removed, run again to fetch it again: %s' % (digest, model, actual, digest, received))
        else:
            result['verified'].append(digest)
    if corrupt:
        raise StoreError('; '.join(corrupt))

    if to_move:
        _makedirs(os.path.join(root, 'blobs'), uid, gid)
    for dummy, received, dest in to_move:
        _prepare(received, uid, gid)
        _replace(received, dest, 'the blob')

    if write_manifest:
        _makedirs(os.path.dirname(manifest_dest), uid, gid)
        _prepare(manifest_received, uid, gid)
        _replace(manifest_received, manifest_dest, 'the manifest')
    else:
        _remove(manifest_received)   # a redundant copy; the store has it
    _remove_empty_dirs(incoming)
    return result
