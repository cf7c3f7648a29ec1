# -*- coding: utf-8 -*-
# Copyright (c) 2026, gpufleet maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Stage an Open WebUI wheelhouse for the open_webui role, on a machine that reaches PyPI.

    python3 stage_wheelhouse.py --dest DIR --version X.Y.Z [--version ...] [--profile slim|full]
                        [--python 3.11] [--platform TAG ...] [--without NAME ...] [--pip PIP]

For every version this writes DIR/<version>/requirements.txt: the complete, resolved set of wheels that
release needs on the target (`name==version --hash=sha256:...`, one per line, open-webui itself included),
and puts each of those wheels into DIR/wheels/ (shared by the versions: a wheel two releases pin is stored
once). The hosts install it with

    pip install --no-index --find-links DIR/wheels --require-hashes --no-deps -r DIR/<version>/requirements.txt

so nothing outside the listed files can be installed and every file is checked against its hash.

The set is resolved by pip itself (`pip install --dry-run --report`) for the target interpreter and platform
(default: CPython 3.11.2 on x86_64 glibc 2.36, Debian 12's python3; Open WebUI 0.12 refuses Python 3.13), binary
wheels only. pip's --python-version and --platform pick wheels for the target, but pip evaluates environment
markers (`; python_full_version < "3.11.3"`) against the interpreter it runs on; the tool runs pip with the
target's marker values instead, so a dependency the target needs by marker is never left out (the role checks
that the host's Python is exactly the staged one). Each wheel is downloaded from the URL the resolver chose and checked against the SHA256 it reported; a
wheel already in DIR/wheels with that hash is not downloaded again, so a second run costs one resolve.

Profiles:
  slim  (default) what Open WebUI's own "slim" image leaves out is left out: the packages that compute
        embeddings and rerank locally (sentence-transformers, accelerate, hence torch, triton and the CUDA
        libraries: about 3 GB). The UI then runs with USE_SLIM_DOCKER=true and takes embeddings from an
        engine behind the gateway. The staged set is checked: none of torch, triton or nvidia-* may be in it.
  full  everything the release pins (several GB).
--without NAME adds packages to leave out (slim only).

Prints a JSON summary on stdout; progress on stderr. Exit status 0, or 1 with the reason.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import hashlib
import json
import os
import re
import subprocess
import sys
import tempfile
import urllib.request
import zipfile

SLIM_WITHOUT = ('sentence-transformers', 'accelerate')
# Never in a slim set: what the left-out packages would have pulled in.
SLIM_FORBIDDEN = re.compile(r'^(torch|triton|nvidia-.*)$')
# pip run with the target's environment markers (argv[1], JSON) in place of its own interpreter's.
PIP_WITH_MARKERS = (
    'import json, sys\n'
    'import pip._vendor.packaging.markers as markers\n'
    'target = json.loads(sys.argv[1])\n'
    'running = markers.default_environment\n'
    'markers.default_environment = lambda: dict(running(), **target)\n'
    'from pip._internal.cli.main import main\n'
    'sys.exit(main(sys.argv[2:]))\n'
)
DEFAULT_PLATFORMS = ('manylinux_2_36_x86_64', 'manylinux_2_35_x86_64', 'manylinux_2_34_x86_64',
                     'manylinux_2_28_x86_64', 'manylinux_2_27_x86_64', 'manylinux_2_24_x86_64',
                     'manylinux_2_17_x86_64', 'manylinux2014_x86_64', 'manylinux2010_x86_64',
                     'manylinux1_x86_64', 'linux_x86_64')
REQUIREMENTS = 'requirements.txt'
WHEELS = 'wheels'
_VERSION = re.compile(r'^[0-9]+(\.[0-9]+)*([a-z]+[0-9]*)?$')
_PYTHON = re.compile(r'^3\.([0-9]+)\.([0-9]+)$')


def target_markers(python):
    """The environment markers of CPython `python` (major.minor.micro) on x86_64 Linux."""
    major_minor = '.'.join(python.split('.')[:2])
    return {'python_version': major_minor, 'python_full_version': python, 'implementation_version': python,
            'implementation_name': 'cpython', 'platform_python_implementation': 'CPython', 'os_name': 'posix',
            'sys_platform': 'linux', 'platform_system': 'Linux', 'platform_machine': 'x86_64'}


class StageError(Exception):
    """A release that cannot be resolved or a wheel that cannot be fetched or fails its hash."""


def log(message):
    print(message, file=sys.stderr, flush=True)


def canonical(name):
    """PEP 503 normalised project name."""
    return re.sub(r'[-_.]+', '-', name).lower()


def requirement_name(line):
    """The project name of a Requires-Dist value."""
    match = re.match(r'\s*([A-Za-z0-9][A-Za-z0-9._-]*)', line)
    if not match:
        raise StageError('cannot read the requirement %r' % line)
    return canonical(match.group(1))


def base_requirements(metadata, without):
    """The Requires-Dist lines of a wheel's METADATA that a plain install (no extras) needs, minus `without`.

    Returns (kept, dropped): requirement strings (markers kept, pip evaluates them) and the names left out.
    """
    kept, dropped = [], []
    skip = {canonical(n) for n in without}
    for line in metadata.splitlines():
        if not line.startswith('Requires-Dist:'):
            continue
        value = line.split(':', 1)[1].strip()
        marker = value.split(';', 1)[1] if ';' in value else ''
        if re.search(r'\bextra\s*==', marker):
            continue
        name = requirement_name(value)
        if name in skip:
            dropped.append(name)
        else:
            kept.append(value)
    return kept, sorted(set(dropped))


def report_wheels(report):
    """[(name, version, url, sha256, filename)] of a `pip install --report` document, sorted by name."""
    out = []
    for item in report.get('install', []):
        meta = item['metadata']
        info = item['download_info']
        digest = info.get('archive_info', {}).get('hashes', {}).get('sha256')
        if not digest:
            raise StageError('pip reported no sha256 for %s %s (%s)' % (meta['name'], meta['version'], info.get('url')))
        filename = info['url'].rsplit('/', 1)[-1].split('#', 1)[0]
        if not filename.endswith('.whl'):
            raise StageError('%s %s resolved to %s, not a wheel' % (meta['name'], meta['version'], filename))
        out.append((canonical(meta['name']), meta['version'], info['url'], digest, urllib.request.unquote(filename)))
    return sorted(out)


def render_requirements(version, profile, python, wheels, dropped):
    """The requirements file of one release: a header saying what it is, then one hashed pin per wheel."""
    lines = [
        '# Open WebUI %s wheelhouse (profile %s, CPython %s): every wheel the release installs, with its hash.' % (
            version, profile, python),
        '# Install: pip install --no-index --find-links ../%s --require-hashes --no-deps -r %s' % (WHEELS, REQUIREMENTS),
    ]
    if dropped:
        lines.append('# Left out (profile %s): %s' % (profile, ', '.join(dropped)))
    lines += ['%s==%s --hash=sha256:%s' % (name, ver, digest) for name, ver, _url, digest, _file in wheels]
    return '\n'.join(lines) + '\n'


def sha256_file(path):
    digest = hashlib.sha256()
    with open(path, 'rb') as handle:
        for block in iter(lambda: handle.read(1 << 20), b''):
            digest.update(block)
    return digest.hexdigest()


def fetch(url, digest, dest):
    """Download url to dest unless dest already has that sha256; returns the bytes downloaded."""
    if os.path.exists(dest) and sha256_file(dest) == digest:
        return 0
    tmp = dest + '.part'
    hasher = hashlib.sha256()
    size = 0
    with urllib.request.urlopen(url, timeout=120) as response, open(tmp, 'wb') as out:  # nosec: resolver's URL
        for block in iter(lambda: response.read(1 << 20), b''):
            hasher.update(block)
            out.write(block)
            size += len(block)
    if hasher.hexdigest() != digest:
        os.unlink(tmp)
        raise StageError('%s: sha256 %s, the resolver said %s' % (url, hasher.hexdigest(), digest))
    os.replace(tmp, dest)
    return size


def pip_resolve(pip, requirements, python, platforms, workdir, extra=()):
    """pip's resolution of `requirements` for the target (binary wheels only), as its --report document."""
    req_file = os.path.join(workdir, 'resolve.txt')
    with open(req_file, 'w') as handle:
        handle.write('\n'.join(requirements) + '\n')
    report = os.path.join(workdir, 'report.json')
    major_minor = '.'.join(python.split('.')[:2])
    abi = 'cp' + major_minor.replace('.', '')
    argv = pip + [json.dumps(target_markers(python)), 'install', '--dry-run', '--ignore-installed', '--quiet',
                  '--report', report, '--only-binary=:all:', '--python-version', python, '--implementation', 'cp',
                  '--abi', abi, '--abi', 'abi3', '--abi', 'none', '--target', os.path.join(workdir, 'target'),
                  '-r', req_file] + list(extra)
    for platform in platforms:
        argv += ['--platform', platform]
    env = dict(os.environ, LC_ALL='C', PIP_DISABLE_PIP_VERSION_CHECK='1')
    proc = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True, env=env,
                          check=False)
    if proc.returncode != 0:
        raise StageError('pip could not resolve %s for CPython %s: %s' % (
            ', '.join(requirements[:3]) + (' ...' if len(requirements) > 3 else ''), python,
            proc.stderr.strip()[-2000:]))
    with open(report) as handle:
        return json.load(handle)


def stage_version(dest, version, profile, python, platforms, without, pip):
    """Resolve, fetch and list one release; returns its summary."""
    if not _VERSION.match(version):
        raise StageError('%r is not an Open WebUI release number (like 0.12.4)' % version)
    wheels_dir = os.path.join(dest, WHEELS)
    os.makedirs(wheels_dir, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix='owui-stage-') as workdir:
        log('resolving open-webui==%s alone' % version)
        own = report_wheels(pip_resolve(pip, ['open-webui==%s' % version], python, platforms, workdir, ['--no-deps']))
        if len(own) != 1 or own[0][0] != 'open-webui':
            raise StageError('open-webui==%s did not resolve to one wheel: %s' % (version, own))
        name, ver, url, digest, filename = own[0]
        fetch(url, digest, os.path.join(wheels_dir, filename))
        with zipfile.ZipFile(os.path.join(wheels_dir, filename)) as wheel:
            meta_name = [n for n in wheel.namelist() if n.endswith('.dist-info/METADATA')]
            if len(meta_name) != 1:
                raise StageError('%s has no single METADATA file' % filename)
            metadata = wheel.read(meta_name[0]).decode('utf-8')
        skip = (list(SLIM_WITHOUT) + list(without)) if profile == 'slim' else []
        requirements, dropped = base_requirements(metadata, skip)
        log('resolving the %d requirements of open-webui %s (profile %s%s)' % (
            len(requirements), version, profile, ', without ' + ', '.join(dropped) if dropped else ''))
        deps = report_wheels(pip_resolve(pip, requirements, python, platforms, workdir))
    wheels = sorted(deps + own)
    if profile == 'slim':
        forbidden = [w[0] for w in wheels if SLIM_FORBIDDEN.match(w[0]) or w[0] in dropped]
        if forbidden:
            raise StageError('open-webui %s: the slim set still pulls in %s (through another requirement); '
                             'leave that one out too (--without) or stage the full profile' % (
                                 version, ', '.join(forbidden)))
    downloaded = 0
    with concurrent.futures.ThreadPoolExecutor(max_workers=8) as pool:
        jobs = [pool.submit(fetch, w[2], w[3], os.path.join(wheels_dir, w[4])) for w in wheels]
        for job in jobs:
            downloaded += job.result()
    version_dir = os.path.join(dest, version)
    os.makedirs(version_dir, exist_ok=True)
    text = render_requirements(version, profile, python, wheels, dropped)
    tmp = os.path.join(version_dir, REQUIREMENTS + '.tmp')
    with open(tmp, 'w') as handle:
        handle.write(text)
    os.replace(tmp, os.path.join(version_dir, REQUIREMENTS))
    size = sum(os.path.getsize(os.path.join(wheels_dir, w[4])) for w in wheels)
    log('open-webui %s: %d wheels, %.0f MB (%.0f MB downloaded)'
        % (version, len(wheels), size / 1e6, downloaded / 1e6))
    return {'version': version, 'profile': profile, 'wheels': len(wheels), 'bytes': size,
            'downloaded': downloaded, 'left_out': dropped, 'files': sorted(w[4] for w in wheels)}


def prune(dest, summaries):
    """Remove wheels of DIR/wheels that no requirements file of DIR lists any more."""
    wanted = set()
    for entry in sorted(os.listdir(dest)):
        req = os.path.join(dest, entry, REQUIREMENTS)
        if entry != WHEELS and os.path.isfile(req):
            with open(req) as handle:
                for line in handle:
                    if line and not line.startswith('#'):
                        wanted.add(line.split('==', 1)[0])
    staged = {f for s in summaries for f in s['files']}
    removed = []
    wheels_dir = os.path.join(dest, WHEELS)
    for filename in sorted(os.listdir(wheels_dir)):
        project = canonical(filename.split('-', 1)[0])
        if filename not in staged and (project not in wanted or filename.endswith('.part')):
            os.unlink(os.path.join(wheels_dir, filename))
            removed.append(filename)
    return removed


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n', maxsplit=1)[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--dest', required=True, help='the wheelhouse directory (DIR)')
    parser.add_argument('--version', action='append', required=True, help='an Open WebUI release (repeatable)')
    parser.add_argument('--profile', choices=('slim', 'full'), default='slim')
    parser.add_argument('--python', default='3.11.2', help="the target's Python, major.minor.micro (Debian 12: 3.11.2)")
    parser.add_argument('--platform', action='append', help='wheel platform tags of the target')
    parser.add_argument('--without', action='append', default=[], help='another package to leave out (slim)')
    parser.add_argument('--pip-python', default=sys.executable,
                        help='a Python with pip 23 or newer to resolve with (default: this Python)')
    parser.add_argument('--prune', action='store_true', help='remove wheels no staged release lists any more')
    args = parser.parse_args(argv)
    if not _PYTHON.match(args.python):
        parser.error("--python takes the target's full version, like 3.11.2 (python3 -V on the host; got %r)"
                     % args.python)
    pip = [args.pip_python, '-c', PIP_WITH_MARKERS]
    try:
        summaries = [stage_version(os.path.abspath(args.dest), v, args.profile, args.python,
                                   args.platform or list(DEFAULT_PLATFORMS), args.without, pip)
                     for v in args.version]
        removed = prune(os.path.abspath(args.dest), summaries) if args.prune else []
    except (StageError, OSError) as exc:
        log('stage_wheelhouse: %s' % exc)
        return 1
    json.dump({'releases': [{k: v for k, v in s.items() if k != 'files'} for s in summaries],
               'removed': removed}, sys.stdout, indent=1, sort_keys=True)
    print()
    return 0


if __name__ == '__main__':
    sys.exit(main())
