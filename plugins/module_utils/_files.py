# -*- coding: utf-8 -*-
# Copyright (c) 2026, gpufleet maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""PRIVATE: paths described as ansible.builtin.find lists them, for the reads that feed managed_files' `known`.

Not a public API. Used by the ollama_node_info, ollama_store_info and host_probe modules.
"""
from __future__ import annotations

import grp
import hashlib
import os
import pwd
import stat
import tempfile

# A regular file larger than this gets no checksum (managed_files then runs its module for it).
CHECKSUM_LIMIT = 4 << 20


def _name(lookup, number):
    try:
        return lookup(number)[0]
    except KeyError:
        return ''


def entry(path, checksum_limit=None):
    """A path as ansible.builtin.find lists it (path, isdir, isreg, islnk, mtime, mode, uid, gid, pw_name, gr_name,
    and the sha1 checksum of a regular file), or None when it does not exist. A file this user cannot read, or
    one larger than checksum_limit, comes without a checksum."""
    try:
        st = os.lstat(path)
    except (FileNotFoundError, NotADirectoryError):
        return None
    isreg = stat.S_ISREG(st.st_mode)
    out = dict(path=path, isdir=stat.S_ISDIR(st.st_mode), isreg=isreg, islnk=stat.S_ISLNK(st.st_mode),
               mtime=st.st_mtime, mode='%04o' % stat.S_IMODE(st.st_mode), uid=st.st_uid, gid=st.st_gid,
               pw_name=_name(pwd.getpwuid, st.st_uid), gr_name=_name(grp.getgrgid, st.st_gid))
    if isreg and (checksum_limit is None or st.st_size <= checksum_limit):
        digest = hashlib.sha1()
        try:
            with open(path, 'rb') as f:
                for chunk in iter(lambda: f.read(1 << 20), b''):
                    digest.update(chunk)
        except OSError:
            return out
        out['checksum'] = digest.hexdigest()
    return out


def described(paths, checksum_limit=CHECKSUM_LIMIT):
    """Each existing path of paths, itself only (a directory's entries are not listed)."""
    return [e for e in (entry(path, checksum_limit) for path in paths) if e is not None]


def entries(paths, checksum_limit=CHECKSUM_LIMIT):
    """Each existing path of paths, and for a directory also its direct entries (sorted, not recursive)."""
    out = []
    for top in described(paths, checksum_limit):
        out.append(top)
        if top['isdir']:
            try:
                names = sorted(os.listdir(top['path']))
            except OSError:
                continue
            out.extend(described([os.path.join(top['path'], name) for name in names], checksum_limit))
    return out


def write_text_atomic(path, text, mode=0o644):
    """Replace ``path`` with ``text`` (UTF-8) atomically: a hidden temporary file beside it, then a rename."""
    fd, tmp = tempfile.mkstemp(dir=os.path.dirname(path), prefix='.' + os.path.basename(path) + '.')
    try:
        with os.fdopen(fd, 'w', encoding='utf-8') as f:
            f.write(text)
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
