# -*- coding: utf-8 -*-
# Copyright (c) 2026, gpufleet maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""gpufleet.ollama.artifacts on a small artifacts tree: the manifest it writes, what it finds, the hash cache."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess

import pytest

from ansible_collections.gpufleet.ollama.plugins.module_utils import _artifacts
from ansible_collections.gpufleet.ollama.plugins.modules import artifacts

FILES = {
    'ollama/0.12.3/ollama-linux-amd64.tar.zst': b'release archive\n',
    'packages/debian-12/nvidia-driver_550_amd64.deb': b'debian package',
    'packages/ubuntu-24.04/nvidia-driver_550_amd64.deb': b'ubuntu package',
    'models/blobs/sha256-0001': b'model blob',
}


def sha(data):
    return hashlib.sha256(data).hexdigest()


@pytest.fixture
def root(tmp_path):
    top = tmp_path / 'artifacts'
    for relpath, data in FILES.items():
        (top / relpath).parent.mkdir(parents=True, exist_ok=True)
        (top / relpath).write_bytes(data)
    (top / 'models' / '.incoming').mkdir()                      # hidden: not listed
    (top / 'models' / '.incoming' / 'partial').write_bytes(b'x')
    (top / '.staging-notes').write_text('hidden\n')
    return top


@pytest.fixture
def args(root, tmp_path):
    """The module's arguments with the cache in the test's directory."""
    def make(**more):
        return dict(dict(root=str(root), cache=str(tmp_path / 'cache' / 'sha256.json')), **more)
    return make


def write(run_module, args, **more):
    result = run_module(artifacts, args(state='written', **more))
    assert not result.get('failed'), result
    return result


def test_written_then_verified(run_module, args, root):
    result = write(run_module, args)
    assert result['changed'] is True and result['problems'] == []
    expected = ''.join('%s  %s\n' % (sha(FILES[p]), p) for p in sorted(FILES))
    assert (root / 'SHA256SUMS').read_text() == expected
    assert result['files'] == {p: sha(d) for p, d in FILES.items()}
    assert result['hashed'] == 4 and result['cached'] == 0

    again = write(run_module, args)
    assert again['changed'] is False and (again['hashed'], again['cached']) == (0, 4)

    verified = run_module(artifacts, args())
    assert not verified.get('failed'), verified
    assert verified['changed'] is False and verified['problems'] == []
    assert verified['files'] == result['files'] and verified['required'] == {}


def test_sha256sum_accepts_the_written_manifest(run_module, args, root):
    if shutil.which('sha256sum') is None:
        pytest.skip('needs sha256sum')
    write(run_module, args)
    proc = subprocess.run(['sha256sum', '--strict', '-c', 'SHA256SUMS'], cwd=str(root), capture_output=True,
                          text=True, env=dict(os.environ, LC_ALL='C'), check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.count(': OK') == len(FILES)


def test_a_changed_byte_a_missing_file_and_an_unlisted_file_are_all_reported(run_module, args, root):
    write(run_module, args)
    deb = root / 'packages/debian-12/nvidia-driver_550_amd64.deb'
    deb.write_bytes(b'debian packagE')                          # same size, one byte changed
    (root / 'ollama/0.12.3/ollama-linux-amd64.tar.zst').unlink()
    (root / 'packages/ubuntu-24.04/extra_1_all.deb').write_bytes(b'extra')
    result = run_module(artifacts, args())
    assert result['failed'] is True
    assert result['msg'].startswith('artifacts: %s: 3 problems below %s: ' % (root / 'SHA256SUMS', root))
    problems = result['problems']
    assert len(problems) == 3
    assert any(p.startswith('packages/debian-12/nvidia-driver_550_amd64.deb: sha256 %s, the manifest says %s'
                            % (sha(b'debian packagE'), sha(FILES['packages/debian-12/nvidia-driver_550_amd64.deb'])))
               for p in problems)
    assert 'ollama/0.12.3/ollama-linux-amd64.tar.zst: listed in the manifest but missing on disk (re-stage it)' \
        in problems
    assert any(p.startswith('packages/ubuntu-24.04/extra_1_all.deb: on disk but not in the manifest')
               for p in problems)
    assert all(p in result['msg'] for p in problems)
    assert 'state=written' in result['msg'] and 'gpufleet_artifacts_dir=%s' % root in result['msg']


def test_only_the_required_paths_are_checked(run_module, args, root):
    write(run_module, args)
    (root / 'packages/debian-12/nvidia-driver_550_amd64.deb').write_bytes(b'broken')   # not required
    (root / 'models/unlisted').write_bytes(b'x')                                      # not required
    result = run_module(artifacts, args(require=['packages/ubuntu-24.04', './ollama/0.12.3/']))
    assert not result.get('failed'), result
    assert sorted(result['files']) == ['ollama/0.12.3/ollama-linux-amd64.tar.zst',
                                       'packages/ubuntu-24.04/nvidia-driver_550_amd64.deb']
    assert result['hashed'] + result['cached'] == 2
    assert sorted(result['required']) == ['./ollama/0.12.3/', 'packages/ubuntu-24.04']


def test_a_required_path_without_entries_and_an_unlisted_file_below_it(run_module, args, root):
    write(run_module, args)
    (root / 'packages/rocky-9').mkdir()
    (root / 'packages/rocky-9/driver.rpm').write_bytes(b'rpm')
    result = run_module(artifacts, args(require=['packages/rocky-9', 'packages/ubuntu-22.04']))
    assert result['failed'] is True
    assert result['problems'] == [
        'packages/rocky-9: required, but the manifest lists nothing at or below it (it is on disk: refresh the '
        'manifest)',
        'packages/ubuntu-22.04: required, but the manifest lists nothing at or below it (it is not on disk either: '
        'stage it, then refresh the manifest)',
        'packages/rocky-9/driver.rpm: on disk but not in the manifest (remove it, or refresh the manifest)',
    ]


def test_written_with_a_required_path_that_has_no_files_writes_nothing(run_module, args, root):
    result = run_module(artifacts, args(state='written', require=['packages/ubuntu-22.04']))
    assert result['failed'] is True and 'packages/ubuntu-22.04: required' in result['msg']
    assert not (root / 'SHA256SUMS').exists()


def test_a_missing_manifest_says_how_to_write_it(run_module, args, root):
    result = run_module(artifacts, args())
    assert result['failed'] is True
    assert result['msg'].startswith('artifacts: %s: the manifest is missing' % (root / 'SHA256SUMS'))
    assert 'ansible-playbook gpufleet.ollama.manifest -e gpufleet_artifacts_dir=%s' % root in result['msg']


def test_malformed_lines_are_named_by_their_number(run_module, args, root):
    write(run_module, args)
    lines = (root / 'SHA256SUMS').read_text().splitlines()
    tagged = lines[1][66:]
    lines[1] = 'SHA256 (%s) = %s' % (tagged, lines[1][:64])                           # sha256sum --tag
    lines.insert(3, lines[0])                                                         # a duplicate
    lines.append('%s  ../outside' % ('0' * 64))
    (root / 'SHA256SUMS').write_text('\n'.join(lines) + '\n')
    result = run_module(artifacts, args())
    assert result['failed'] is True
    problems = result['problems']
    assert problems[0].startswith("line 2: 'SHA256 (") and 'is not a manifest line' in problems[0]
    assert problems[1] == 'line 4: %s is listed again (first on line 1)' % lines[0][66:]
    assert problems[2].startswith("line 6: the path '../outside' is not a plain relative path")
    # the line that could not be read leaves its file unlisted
    assert any(p.startswith('%s: on disk but not in the manifest' % tagged) for p in problems)


def test_the_cache_avoids_rehashing_and_is_invalidated_by_size_or_mtime(run_module, args, root, tmp_path):
    assert write(run_module, args)['hashed'] == 4
    cache = json.loads((tmp_path / 'cache' / 'sha256.json').read_text())
    assert cache['format'] == 'gpufleet.ollama/sha256-cache-v1'
    assert sorted(cache['files']) == sorted(str(root / p) for p in FILES)

    result = run_module(artifacts, args())
    assert (result['hashed'], result['cached']) == (0, 4)

    blob = root / 'models/blobs/sha256-0001'
    st = blob.stat()
    os.utime(blob, ns=(st.st_atime_ns, st.st_mtime_ns + 1))                          # touched: read again
    result = run_module(artifacts, args())
    assert not result.get('failed') and (result['hashed'], result['cached']) == (1, 3)

    deb = root / 'packages/debian-12/nvidia-driver_550_amd64.deb'
    st = deb.stat()
    deb.write_bytes(b'debian package, grown')
    os.utime(deb, ns=(st.st_atime_ns, st.st_mtime_ns))                                # same mtime, new size
    result = run_module(artifacts, args())
    assert result['failed'] is True and (result['hashed'], result['cached']) == (1, 3)
    assert result['problems'][0].startswith('packages/debian-12/nvidia-driver_550_amd64.deb: sha256 %s'
                                            % sha(b'debian package, grown'))

    result = run_module(artifacts, args(cache=''))                                    # no cache: read all
    assert (result['hashed'], result['cached']) == (4, 0)


def test_the_cache_is_keyed_by_inode(run_module, args, root):
    write(run_module, args)
    archive = root / 'ollama/0.12.3/ollama-linux-amd64.tar.zst'
    st = archive.stat()
    replacement = root / 'ollama/0.12.3/.new'
    replacement.write_bytes(b'release archivE\n')                                     # same size
    os.utime(replacement, ns=(st.st_atime_ns, st.st_mtime_ns))                        # same mtime
    os.replace(replacement, archive)                                                  # a new inode
    result = run_module(artifacts, args(require=['ollama']))
    assert result['failed'] is True and result['hashed'] == 1
    assert 'ollama/0.12.3/ollama-linux-amd64.tar.zst: sha256 ' in result['problems'][0]


def test_an_unusable_cache_is_a_warning(run_module, args, root, tmp_path):
    blocker = tmp_path / 'not-a-dir'
    blocker.write_text('')
    result = write(run_module, args, cache=str(blocker / 'sha256.json'))             # cannot be created
    assert result['changed'] is True
    assert any('cannot write the hash cache %s' % (blocker / 'sha256.json') in w for w in result['warnings'])

    garbage = tmp_path / 'garbage.json'
    garbage.write_text('{not json')
    result = run_module(artifacts, args(cache=str(garbage)))
    assert not result.get('failed') and result['hashed'] == 4
    assert any('ignoring the hash cache %s' % garbage in w for w in result['warnings'])
    assert json.loads(garbage.read_text())['format'] == 'gpufleet.ollama/sha256-cache-v1'   # replaced


def test_check_mode_written_changes_nothing_and_shows_the_diff(run_module, args, root):
    write(run_module, args)
    before = (root / 'SHA256SUMS').read_text()
    (root / 'models/blobs/sha256-0002').write_bytes(b'second blob')
    result = run_module(artifacts, args(state='written'), check_mode=True, diff=True)
    assert result['changed'] is True
    assert (root / 'SHA256SUMS').read_text() == before
    assert sorted(p.name for p in root.iterdir()) == ['.staging-notes', 'SHA256SUMS', 'models', 'ollama', 'packages']
    diff = result['diff']
    assert diff['before'] == before and diff['before_header'] == str(root / 'SHA256SUMS')
    added = set(diff['after'].splitlines()) - set(before.splitlines())
    assert added == {'%s  models/blobs/sha256-0002' % sha(b'second blob')}


def test_required_digests_follow_their_own_files_only(run_module, args, root):
    write(run_module, args)
    require = ['packages/ubuntu-24.04', 'ollama']
    first = run_module(artifacts, args(require=require))['required']
    lines = [line for line in (root / 'SHA256SUMS').read_text().splitlines()
             if line[66:].startswith('packages/ubuntu-24.04/')]
    assert first['packages/ubuntu-24.04'] == hashlib.sha256('\n'.join(lines).encode()).hexdigest()

    (root / 'packages/debian-12/nvidia-driver_550_amd64.deb').write_bytes(b'elsewhere')
    (root / 'models/blobs/sha256-0002').write_bytes(b'elsewhere too')
    write(run_module, args)
    assert run_module(artifacts, args(require=require))['required'] == first

    (root / 'packages/ubuntu-24.04/nvidia-driver_550_amd64.deb').write_bytes(b'new ubuntu package')
    written = write(run_module, args, require=require)
    second = run_module(artifacts, args(require=require))['required']
    assert written['required'] == second
    assert second['packages/ubuntu-24.04'] != first['packages/ubuntu-24.04']
    assert second['ollama'] == first['ollama']


def test_hash_false_checks_presence_only(run_module, args, root):
    write(run_module, args)
    (root / 'models/blobs/sha256-0001').write_bytes(b'changed')
    result = run_module(artifacts, args(hash=False))
    assert not result.get('failed'), result
    assert (result['hashed'], result['cached']) == (0, 0)
    (root / 'models/blobs/sha256-0001').unlink()
    result = run_module(artifacts, args(hash=False))
    assert result['problems'] == ['models/blobs/sha256-0001: listed in the manifest but missing on disk (re-stage it)']


def test_a_manifest_outside_the_root_and_a_cache_inside_it(run_module, args, root, tmp_path):
    manifest = tmp_path / 'sums' / 'artifacts.sha256'
    manifest.parent.mkdir()
    result = write(run_module, args, manifest=str(manifest), cache=str(root / 'hash-cache.json'))
    assert sorted(result['files']) == sorted(FILES)                     # the cache is not listed
    assert not (root / 'SHA256SUMS').exists()
    result = run_module(artifacts, args(manifest=str(manifest), cache=str(root / 'hash-cache.json')))
    assert not result.get('failed'), result


def test_refuses_a_require_outside_the_root_and_a_missing_root(run_module, args, tmp_path):
    result = run_module(artifacts, args(require=['../elsewhere']))
    assert result['failed'] is True and "require: '../elsewhere' is not a path relative to the root" in result['msg']
    result = run_module(artifacts, args(root=str(tmp_path / 'none')))
    assert result['failed'] is True and 'is not a directory' in result['msg']


def test_parse_and_path_rules():
    hexa = 'A' * 64
    entries, problems = _artifacts.parse('%s *bin/x\r\n\n%s  a\\b\n' % (hexa, '1' * 64))
    assert entries == {'bin/x': 'a' * 64}                               # binary-mode marker, CRLF, upper case
    assert problems == ["line 3: the path 'a\\\\b' holds a backslash, a newline or a carriage return (rename the file)"]
    assert _artifacts.normalize_require('./a/b/') == 'a/b' and _artifacts.normalize_require('.') == ''
    assert _artifacts.under('a/b/c', 'a/b') and not _artifacts.under('a/bc', 'a/b') and _artifacts.under('x', '')
