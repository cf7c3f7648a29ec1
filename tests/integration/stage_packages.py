# -*- coding: utf-8 -*-
# Copyright (c) 2026, gpufleet maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Stage the Debian packages a lab node lacks, as a staging machine of an air-gapped fleet would (controller only).

    stage_packages.py --suite bookworm|trixie --out DIR (--status FILE | --image IMAGE)
                      --package NAME [--package NAME ...] [--cache DIR]

--status is the dpkg status file of the target image (what a node already has), for example from
`docker run --rm local/gpufleet-debian:<suite> cat /var/lib/dpkg/status`; --image IMAGE does that extraction itself.

A private apt root for the suite (nothing of this machine's apt state is read or changed; its Debian mirror, the
security mirror its sources name and the Debian archive keyring are used) resolves the packages against the image's
status (`apt-get install -s`, Recommends included, as the roles install them): the exact closure, name=version, that a node lacks, upgrades
of what it has included. `apt-get download` fetches those .debs into the cache; DIR receives exactly them (hard
links, or copies across filesystems). A .deb this script staged in DIR before and that is no longer part of the
closure is removed; nothing else in DIR is touched: DIR/.staged-packages lists the files it staged.

The cache (default <repo>/.cache/packages/<suite>) keeps the apt lists and the downloaded .debs. Lists younger than
24 h are not updated again; when they are that young and every file of the closure is in the cache (size and SHA256
as the index gives them), a run makes no network access at all.

Prints a JSON summary on stdout (packages, files, bytes, downloaded, reused, removed); progress goes to stderr.
Importable: stage(suite, out_dir, status_path, packages, cache_dir) -> that summary as a dict.
"""

from __future__ import annotations

import argparse
import contextlib
import errno
import fcntl
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..'))
SUITES = ('bookworm', 'trixie')
KEYRING = '/usr/share/keyrings/debian-archive-keyring.gpg'
HOST_SOURCES = ('/etc/apt/sources.list.d/debian.sources', '/etc/apt/sources.list')
LISTS_MAX_AGE = 24 * 3600
STAGED_LIST = '.staged-packages'

# Inst libssl3 [3.0.15-1~deb12u1] (3.0.16-1~deb12u1 Debian-Security:12/stable-security [amd64]) []
_INST = re.compile(r'^Inst (\S+) (?:\[[^\]]*\] )?\((\S+) .*\[([^\]\s]+)\]\)', re.MULTILINE)
_REMV = re.compile(r'^Remv (\S+)', re.MULTILINE)


class StageError(Exception):
    """A package that cannot be resolved or downloaded, or an apt root that cannot be updated."""


def log(message):
    print('==> stage_packages: %s' % message, file=sys.stderr, flush=True)


def default_cache(suite):
    return os.path.join(ROOT, '.cache', 'packages', suite)


# --- the host's Debian sources -----------------------------------------------------------------------------------

def _deb822_stanzas(text):
    stanzas, current, key = [], {}, None
    for line in text.splitlines() + ['']:
        if line.startswith('#'):
            continue
        if not line.strip():
            if current:
                stanzas.append(current)
            current, key = {}, None
        elif line[0] in ' \t' and key:
            current[key] += ' ' + line.strip()
        elif ':' in line:
            key, value = line.split(':', 1)
            key = key.strip().lower()
            current[key] = value.strip()
    return stanzas


def _oneline_entries(text):
    entries = []
    for line in text.splitlines():
        words = re.sub(r'\[[^\]]*\]', ' ', line.split('#', 1)[0]).split()   # drop [options]
        if len(words) >= 3 and words[0] == 'deb':
            entries.append({'uris': words[1], 'suites': words[2], 'components': ' '.join(words[3:])})
    return entries


def host_mirrors(paths=HOST_SOURCES):
    """(Debian mirror URI, security mirror URI or None) from the first of `paths` that exists (deb822 or one-line)."""
    for path in paths:
        if not os.path.isfile(path):
            continue
        with open(path) as f:
            text = f.read()
        entries = _deb822_stanzas(text) if path.endswith('.sources') else _oneline_entries(text)
        mirror = security = None
        for entry in entries:
            if 'deb' not in entry.get('types', 'deb').split() or entry.get('enabled', 'yes').lower() == 'no':
                continue
            uri = (entry.get('uris') or '').split()
            if not uri:
                continue
            suites = entry.get('suites', '').split()
            is_security = 'security' in uri[0] or any(s.endswith('-security') or '/updates' in s for s in suites)
            if is_security:
                security = security or uri[0]
            else:
                mirror = mirror or uri[0]
        if mirror:
            return mirror, security
    return None, None


def apt_sources(suite, paths=HOST_SOURCES, keyring=KEYRING):
    """The deb822 sources of the private apt root: main of the suite and <suite>-updates from the host's Debian
    mirror, and <suite>-security from its security mirror when the host's sources name one."""
    mirror, security = host_mirrors(paths)
    if not mirror:
        raise StageError('%s: no Debian mirror found in %s' % (suite, ' or '.join(paths)))
    text = 'Types: deb\nURIs: %s\nSuites: %s %s-updates\nComponents: main\nSigned-By: %s\n' % (
        mirror, suite, suite, keyring)
    if security:
        text += '\nTypes: deb\nURIs: %s\nSuites: %s-security\nComponents: main\nSigned-By: %s\n' % (
            security, suite, keyring)
    return text, security is not None


# --- the private apt root ----------------------------------------------------------------------------------------

class AptRoot:
    def __init__(self, root, suite, arch):
        self.root, self.suite, self.arch = root, suite, arch
        for d in ('etc/apt/sources.list.d', 'etc/apt/preferences.d', 'etc/apt/apt.conf.d',
                  'var/lib/apt/lists/partial', 'var/cache/apt/archives/partial', 'var/lib/dpkg'):
            os.makedirs(os.path.join(root, d), exist_ok=True)
        self.status = os.path.join(root, 'var/lib/dpkg/status')
        self.stamp = os.path.join(root, 'lists.stamp')

    def options(self):
        r = self.root
        return ['-o', 'Dir=' + r, '-o', 'Dir::State::status=' + self.status,
                '-o', 'Dir::Etc::SourceParts=%s/etc/apt/sources.list.d' % r, '-o', 'Dir::Etc::sourcelist=/dev/null',
                '-o', 'Dir::Etc::PreferencesParts=%s/etc/apt/preferences.d' % r,
                '-o', 'Dir::Etc::preferences=/dev/null', '-o', 'Dir::Cache=%s/var/cache/apt' % r,
                '-o', 'APT::Architecture=' + self.arch, '-o', 'APT::Architectures=' + self.arch,
                '-o', 'APT::Sandbox::User=root', '-o', 'Acquire::Retries=3',
                # a binary cache of the lists (the host's docker-clean may turn it off), kept with them
                '-o', 'Dir::Cache::pkgcache=pkgcache.bin', '-o', 'Dir::Cache::srcpkgcache=srcpkgcache.bin']

    def run(self, tool, *args, cwd=None, timeout=900):
        return subprocess.run([tool] + self.options() + list(args), capture_output=True, text=True, cwd=cwd,
                              env=dict(os.environ, LC_ALL='C', DEBIAN_FRONTEND='noninteractive'),
                              timeout=timeout, check=False)

    def configure(self, sources):
        """Write the sources; True when they changed (the lists then no longer match them)."""
        path = os.path.join(self.root, 'etc/apt/sources.list.d/debian.sources')
        old = None
        if os.path.exists(path):
            with open(path) as f:
                old = f.read()
        if old != sources:
            _write(path, sources)
        return old != sources

    def set_status(self, status_path):
        """The node's dpkg status, copied only when it differs (apt's binary cache is kept while it is the same)."""
        with open(status_path, 'rb') as f:
            new = f.read()
        with contextlib.suppress(FileNotFoundError), open(self.status, 'rb') as f:
            if f.read() == new:
                return
        fd, tmp = tempfile.mkstemp(dir=os.path.dirname(self.status), prefix='.tmp-')
        with os.fdopen(fd, 'wb') as f:
            f.write(new)
        os.chmod(tmp, 0o644)
        os.replace(tmp, self.status)

    def lists_fresh(self, sources):
        try:
            with open(self.stamp) as f:
                stamp = json.load(f)
        except (OSError, ValueError):
            return False
        lists = os.path.join(self.root, 'var/lib/apt/lists')
        return (stamp.get('sources') == _sha256_text(sources)
                and 0 <= time.time() - stamp.get('updated', 0) < LISTS_MAX_AGE
                and any('_Packages' in name for name in os.listdir(lists)))

    def update(self, sources):
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.stamp)
        proc = self.run('apt-get', 'update')
        output = proc.stdout + proc.stderr
        if proc.returncode != 0 or re.search(r'^(E:|Err:)', output, re.MULTILINE):
            raise StageError('%s: apt-get update failed: %s' % (self.suite, _apt_errors(output)))
        _write(self.stamp, json.dumps({'sources': _sha256_text(sources), 'updated': time.time()}) + '\n')

    def closure(self, packages):
        """[(name, version, arch)] that `apt-get install -s` installs on the status, Recommends included: the roles
        install with apt's default (ansible.builtin.apt installs Recommends), so the node asks for them too."""
        proc = self.run('apt-get', 'install', '-s', '-q', *packages)
        output = proc.stdout + proc.stderr
        if proc.returncode != 0:
            raise StageError('%s: cannot resolve %s: %s' % (self.suite, ', '.join(_named(packages, output)),
                                                            _apt_errors(output)))
        removed = _REMV.findall(proc.stdout)
        if removed:
            log('%s: installing %s would remove %s from the node' % (self.suite, ' '.join(packages), ' '.join(removed)))
        return _INST.findall(proc.stdout)

    def records(self, closure):
        """{(name, version): {'size': int, 'sha256': str}} from the index (apt-cache show, no network)."""
        if not closure:
            return {}
        proc = self.run('apt-cache', 'show', *['%s=%s' % (n, v) for n, v, _ in closure])
        if proc.returncode != 0:
            raise StageError('%s: apt-cache show failed: %s' % (self.suite, _apt_errors(proc.stdout + proc.stderr)))
        records = {}
        for stanza in _deb822_stanzas(proc.stdout):
            key = (stanza.get('package'), stanza.get('version'))
            if key not in records and 'sha256' in stanza:
                records[key] = {'size': int(stanza.get('size', -1)), 'sha256': stanza['sha256'].lower()}
        missing = [n for n, v, _ in closure if (n, v) not in records]
        if missing:
            raise StageError('%s: the index has no record with a SHA256 for %s' % (self.suite, ', '.join(missing)))
        return records

    def download(self, items, directory):
        """apt-get download name=version ... into directory (run inside it)."""
        proc = self.run('apt-get', 'download', '-q', *['%s=%s' % (n, v) for n, v, _ in items], cwd=directory)
        output = proc.stdout + proc.stderr
        if proc.returncode != 0:
            names = [n for n, v, a in items if deb_name(n, v, a) in output or "'%s'" % n in output
                     or "'%s:%s'" % (n, a) in output] or [n for n, _, _ in items]
            raise StageError('%s: cannot download %s: %s' % (self.suite, ', '.join(names), _apt_errors(output)))


# --- helpers -----------------------------------------------------------------------------------------------------

def deb_name(name, version, arch):
    """The file name apt-get download gives a package (an epoch's colon as %3a)."""
    return '%s_%s_%s.deb' % (name, version.replace(':', '%3a'), arch)


def _apt_errors(output):
    """apt's own error lines: its E: lines, else its W: lines, else each Err: line with the reason below it."""
    lines = output.splitlines()
    for prefix in ('E:', 'W:'):
        found = [line.strip() for line in lines if line.startswith(prefix)]
        if found:
            return '; '.join(found)
    found = [(line.strip() + (' ' + lines[i + 1].strip() if i + 1 < len(lines) and lines[i + 1][:1].isspace() else ''))
             for i, line in enumerate(lines) if line.startswith('Err:')]
    return '; '.join(found) if found else (output.strip().splitlines() or ['(no output)'])[-1]


def _named(packages, output):
    """The requested packages apt's output names (all of them when it names none)."""
    named = [p for p in packages if re.search(r"(^|[\s'\"])%s([\s'\":=]|$)" % re.escape(p.split('=')[0]), output,
                                              re.MULTILINE)]
    return named or list(packages)


def _sha256_text(text):
    return hashlib.sha256(text.encode()).hexdigest()


def _sha256_file(path):
    h = hashlib.sha256()
    with open(path, 'rb') as f:
        for chunk in iter(lambda: f.read(1 << 20), b''):
            h.update(chunk)
    return h.hexdigest()


def _write(path, content):
    fd, tmp = tempfile.mkstemp(dir=os.path.dirname(path), prefix='.tmp-')
    with os.fdopen(fd, 'w') as f:
        f.write(content)
    os.chmod(tmp, 0o644)
    os.replace(tmp, path)


def _valid(path, record):
    try:
        if os.path.getsize(path) != record['size']:
            return False
    except OSError:
        return False
    return _sha256_file(path) == record['sha256']


def _place(src, dest):
    """dest becomes src's content: a hard link, or a copy across filesystems."""
    tmp = os.path.join(os.path.dirname(dest), '.tmp-' + os.path.basename(dest))
    with contextlib.suppress(FileNotFoundError):
        os.unlink(tmp)
    try:
        os.link(src, tmp)
    except OSError as e:
        if e.errno not in (errno.EXDEV, errno.EPERM, errno.EMLINK):
            raise
        shutil.copy2(src, tmp)
    os.replace(tmp, dest)


def _read_staged(out_dir):
    try:
        with open(os.path.join(out_dir, STAGED_LIST)) as f:
            return [line.strip() for line in f if line.strip() and not line.startswith('#')]
    except FileNotFoundError:
        return []


def installed(status_path):
    """The packages a dpkg status file lists as installed."""
    with open(status_path, encoding='utf-8', errors='replace') as f:
        stanzas = _deb822_stanzas(f.read())
    return {s['package'] for s in stanzas if 'package' in s and s.get('status', '').endswith(' installed')}


def host_arch():
    try:
        return subprocess.run(['dpkg', '--print-architecture'], capture_output=True, text=True,
                              check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return 'amd64'


@contextlib.contextmanager
def _locked(cache_dir):
    with open(os.path.join(cache_dir, '.lock'), 'w') as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


# --- staging -----------------------------------------------------------------------------------------------------

def stage(suite, out_dir, status_path, packages, cache_dir=None, *, sources_paths=HOST_SOURCES, keyring=KEYRING):
    """Stage into out_dir the .debs of what `packages` need on a node with the dpkg status `status_path`.

    Returns the summary: suite, packages (name=version), files, bytes, downloaded, reused, removed, lists
    ('updated' or 'reused'), network (whether it made any network access) and seconds. Raises StageError.
    """
    started = time.monotonic()
    packages = list(dict.fromkeys(packages))
    if not packages:
        raise StageError('%s: no package to stage' % suite)
    if not shutil.which('apt-get'):
        raise StageError('%s: apt-get is not installed on this machine' % suite)
    if not os.path.isfile(keyring):
        raise StageError('%s: the Debian archive keyring %s is missing (apt-get install debian-archive-keyring)'
                         % (suite, keyring))
    cache_dir = os.path.abspath(cache_dir or default_cache(suite))
    out_dir = os.path.abspath(out_dir)
    debs_dir = os.path.join(cache_dir, 'debs')
    for d in (cache_dir, debs_dir, out_dir):
        os.makedirs(d, exist_ok=True)
    sources, with_security = apt_sources(suite, sources_paths, keyring)
    if not with_security:
        log('%s: the host\'s apt sources name no security mirror: staging from %s and %s-updates only'
            % (suite, suite, suite))

    with _locked(cache_dir):
        apt = AptRoot(os.path.join(cache_dir, 'apt'), suite, host_arch())
        apt.configure(sources)
        apt.set_status(status_path)
        updated = False
        if not apt.lists_fresh(sources):
            log('%s: apt-get update (private apt root %s)' % (suite, apt.root))
            apt.update(sources)
            updated = True

        # gpufleet.ollama.deb_packages runs apt only for a package dpkg does not list installed: one the image has
        # is not asked for (an update of it would be staged for nothing)
        present = installed(status_path)
        wanted = [p for p in packages if '=' in p or p.split(':')[0] not in present]

        def resolve():
            closure = apt.closure(wanted) if wanted else []
            return closure, apt.records(closure)

        closure, records = resolve()
        missing = [item for item in closure if not _valid(os.path.join(debs_dir, deb_name(*item)), records[item[:2]])]
        downloaded = []
        if missing:
            try:
                _fetch(apt, missing, records, debs_dir)
            except StageError as failed:
                if updated:
                    raise
                # lists up to a day old can name a version the mirror has replaced since: update once, resolve again
                log('%s\n    (lists from the cache: apt-get update, then once again)' % failed)
                try:
                    apt.update(sources)
                except StageError as e:
                    raise StageError('%s; then %s' % (failed, e)) from None
                updated = True
                closure, records = resolve()
                missing = [item for item in closure
                           if not _valid(os.path.join(debs_dir, deb_name(*item)), records[item[:2]])]
                _fetch(apt, missing, records, debs_dir)
            downloaded = sorted(deb_name(*item) for item in missing)

        by_file = {deb_name(n, v, a): records[(n, v)] for n, v, a in closure}
        files = sorted(by_file)
        for name in files:
            dest = os.path.join(out_dir, name)
            src = os.path.join(debs_dir, name)
            if os.path.exists(dest) and (os.path.samefile(src, dest) or _valid(dest, by_file[name])):
                continue
            _place(src, dest)
        keep = set(files)
        removed = []
        for name in _read_staged(out_dir):
            if name in keep or '/' in name or not name.endswith('.deb'):
                continue
            with contextlib.suppress(FileNotFoundError):
                os.unlink(os.path.join(out_dir, name))
                removed.append(name)
        _write(os.path.join(out_dir, STAGED_LIST),
               '# .debs staged by tests/integration/stage_packages.py for %s: %s\n' % (suite, ' '.join(packages))
               + ''.join(name + '\n' for name in files))

    summary = {
        'suite': suite,
        'requested': packages,
        'installed': [p for p in packages if p not in wanted],
        'packages': sorted('%s=%s' % (n, v) for n, v, _ in closure),
        'files': files,
        'bytes': sum(os.path.getsize(os.path.join(out_dir, f)) for f in files),
        'downloaded': downloaded,
        'reused': [f for f in files if f not in downloaded],
        'removed': sorted(removed),
        'lists': 'updated' if updated else 'reused',
        'network': bool(updated or downloaded),
        'state': 'downloaded' if updated or downloaded else 'reused',
        'out_dir': out_dir,
        'cache_dir': cache_dir,
        'seconds': round(time.monotonic() - started, 2),
    }
    if summary['network']:
        log('%s: %d packages, %.1f MB: %d downloaded, %d reused (lists %s)'
            % (suite, len(files), summary['bytes'] / 1e6, len(downloaded), len(summary['reused']), summary['lists']))
    else:
        log('%s: %d packages, %.1f MB: reused (cached lists and .debs, no network access)'
            % (suite, len(files), summary['bytes'] / 1e6))
    return summary


def _fetch(apt, items, records, debs_dir):
    """Download items into a temporary directory of the cache, check each against the index, move them in."""
    if not items:
        return
    tmp = tempfile.mkdtemp(dir=debs_dir, prefix='.partial-')
    try:
        log('%s: apt-get download %d packages' % (apt.suite, len(items)))
        apt.download(items, tmp)
        for n, v, a in items:
            name = deb_name(n, v, a)
            path = os.path.join(tmp, name)
            if not os.path.exists(path):
                raise StageError('%s: cannot download %s=%s: apt-get download wrote no %s' % (apt.suite, n, v, name))
            if not _valid(path, records[(n, v)]):
                raise StageError('%s: cannot download %s=%s: %s does not match the index (size or SHA256)'
                                 % (apt.suite, n, v, name))
            os.chmod(path, 0o644)
            os.replace(path, os.path.join(debs_dir, name))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def image_status(image, dest, suite=None):
    """Write the dpkg status of a docker image to dest (an image of scripts/images.sh must be of the suite)."""
    label = subprocess.run(['docker', 'image', 'inspect', '-f', '{{ index .Config.Labels "gpufleet.suite" }}', image],
                           capture_output=True, text=True, check=False)
    if label.returncode != 0:
        raise StageError('no docker image %s: %s' % (image, label.stderr.strip()))
    have = label.stdout.strip()
    if suite and have not in ('', '<no value>', suite):
        raise StageError('%s: the image %s is of the suite %s (label gpufleet.suite)' % (suite, image, have))
    with open(dest, 'w') as f:
        proc = subprocess.run(['docker', 'run', '--rm', '--entrypoint', 'cat', image, '/var/lib/dpkg/status'],
                              stdout=f, stderr=subprocess.PIPE, text=True, check=False)
    if proc.returncode != 0:
        raise StageError('cannot read /var/lib/dpkg/status of the image %s: %s' % (image, proc.stderr.strip()))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--suite', required=True, choices=SUITES)
    parser.add_argument('--out', required=True, metavar='DIR', help='where the .debs of the closure are staged')
    what = parser.add_mutually_exclusive_group(required=True)
    what.add_argument('--status', metavar='FILE', help="the target image's dpkg status file")
    what.add_argument('--image', metavar='IMAGE', help='read the dpkg status from this docker image')
    parser.add_argument('--package', required=True, action='append', metavar='NAME', dest='packages')
    parser.add_argument('--cache', metavar='DIR', help='default: <repo>/.cache/packages/<suite>')
    args = parser.parse_args(argv)
    try:
        with tempfile.TemporaryDirectory(prefix='stage-packages-') as tmp:
            status = args.status
            if args.image:
                status = os.path.join(tmp, 'status')
                image_status(args.image, status, args.suite)
            elif not os.path.isfile(status):
                raise StageError('%s: no dpkg status file %s' % (args.suite, status))
            summary = stage(args.suite, args.out, status, args.packages, args.cache)
    except StageError as e:
        print('ERROR: %s' % e, file=sys.stderr)
        return 1
    json.dump(summary, sys.stdout, indent=2)
    sys.stdout.write('\n')
    return 0


if __name__ == '__main__':
    sys.exit(main())
