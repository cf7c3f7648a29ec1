# -*- coding: utf-8 -*-
# Copyright (c) 2026, gpufleet maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""plugins/module_utils/_store.py on real stores: a staging store built by the Ollama stand-in
(a pulled model plus a model derived from it), bundles and node stores in tmp_path.

The helpers staging_store(), snapshot() and blob_opener() are shared with the module tests.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import shutil
import time
import types

import pytest

from ansible_collections.gpufleet.ollama.plugins.module_utils import _store
from ansible_collections.gpufleet.ollama.plugins.module_utils._ollama import OllamaError
from ansible_collections.gpufleet.ollama.plugins.module_utils._store import StoreError
from ansible_collections.gpufleet.ollama.tests.unit.standin.standin_helpers import Instance

PARENT, DERIVED = 'tiny:latest', 'tiny-brief:latest'
INCOMING = '.gpufleet-incoming'


# ---------------------------------------------------------------------------
# Shared helpers
# ---------------------------------------------------------------------------

def staging_store(tmp):
    """A store made by the stand-in: PARENT (pulled style) and DERIVED (POST /api/create from PARENT).

    Returns a namespace with ``root`` and ``tags`` (the stand-in's /api/tags entries by name).
    """
    instance = Instance(tmp)
    try:
        instance.add_model(PARENT)
        status, answer = instance.json('POST', '/api/create', {
            'model': DERIVED, 'from': PARENT, 'system': 'Answer in one sentence.', 'stream': False})
        assert status == 200, answer
        status, tags = instance.json('GET', '/api/tags')
    finally:
        instance.stop()
    return types.SimpleNamespace(root=str(instance.models), tags={m['name']: m for m in tags['models']})


def serve_tags(tmp):
    """The /api/tags models of a stand-in serving the store tmp/models (after its startup prune), by name."""
    instance = Instance(tmp)
    try:
        return {m['name']: m for m in instance.json('GET', '/api/tags')[1]['models']}
    finally:
        instance.stop()


def snapshot(top):
    """relpath -> (size, mode, mtime_ns, sha256) of every file below top, plus the directories."""
    found = {}
    for dirpath, dirs, files in os.walk(top):
        for name in dirs:
            found[os.path.relpath(os.path.join(dirpath, name), top) + '/'] = None
        for name in files:
            path = os.path.join(dirpath, name)
            st = os.stat(path)
            with open(path, 'rb') as f:
                found[os.path.relpath(path, top)] = (st.st_size, st.st_mode, st.st_mtime_ns,
                                                     hashlib.sha256(f.read()).hexdigest())
    return found


def blob_opener(monkeypatch):
    """Record every file _store opens (its only way to read or copy a file); returns the list of paths."""
    opened = []

    def recording_open(path, *args, **kwargs):
        opened.append(os.fspath(path))
        return open(path, *args, **kwargs)

    monkeypatch.setattr(_store, 'open', recording_open, raising=False)
    return opened


def blob_file(root, digest):
    return os.path.join(root, 'blobs', digest.replace(':', '-'))


def receive(bundle, name, node_root):
    """What rsync would put into the node's incoming directory: the manifest and the blobs the node lacks."""
    index = _store.load_index(bundle, name)
    incoming = os.path.join(node_root, INCOMING)
    for item in _store.plan(node_root, index)['missing']:
        os.makedirs(os.path.join(incoming, 'blobs'), exist_ok=True)
        shutil.copy2(blob_file(bundle, item['digest']), blob_file(incoming, item['digest']))
    target = os.path.join(incoming, *index['manifest'].split('/'))
    os.makedirs(os.path.dirname(target), exist_ok=True)
    shutil.copy2(os.path.join(bundle, *index['manifest'].split('/')), target)
    return index, incoming


# ---------------------------------------------------------------------------
# Fixtures
# ---------------------------------------------------------------------------

@pytest.fixture(scope='module')
def staging(tmp_path_factory):
    return staging_store(tmp_path_factory.mktemp('staging'))


@pytest.fixture
def bundle(tmp_path, staging):
    """A bundle root holding both models."""
    root = str(tmp_path / 'bundle')
    for name in (PARENT, DERIVED):
        _store.export(staging.root, name, root)
    return root


@pytest.fixture
def node(tmp_path):
    """A GPU node's store (tmp_path/node/models, as the stand-in's Instance lays it out)."""
    root = tmp_path / 'node' / 'models'
    root.mkdir(parents=True)
    return str(root)


def aged(top, seconds=7200):
    """Give every file below top an old mtime, as rsync -a keeps the source's."""
    when = time.time() - seconds
    for dirpath, dummy, files in os.walk(top):
        for name in files:
            os.utime(os.path.join(dirpath, name), (when, when))


# ---------------------------------------------------------------------------
# Names and paths
# ---------------------------------------------------------------------------

@pytest.mark.parametrize('name, manifest, index', [
    ('llama3.2', 'manifests/registry.ollama.ai/library/llama3.2/latest',
     'bundles/registry.ollama.ai/library/llama3.2/latest.json'),
    ('deepseek-r1:32b', 'manifests/registry.ollama.ai/library/deepseek-r1/32b',
     'bundles/registry.ollama.ai/library/deepseek-r1/32b.json'),
    ('myorg/foo:q4', 'manifests/registry.ollama.ai/myorg/foo/q4', 'bundles/registry.ollama.ai/myorg/foo/q4.json'),
    ('registry.ollama.ai/library/qwen2:7b', 'manifests/registry.ollama.ai/library/qwen2/7b',
     'bundles/registry.ollama.ai/library/qwen2/7b.json'),
    ('localhost:5000/team/foo', 'manifests/localhost:5000/team/foo/latest',
     'bundles/localhost:5000/team/foo/latest.json'),
    ('Qwen2:7B', 'manifests/registry.ollama.ai/library/Qwen2/7B', 'bundles/registry.ollama.ai/library/Qwen2/7B.json'),
])
def test_relpaths_apply_ollamas_defaults(name, manifest, index):
    assert _store.manifest_relpath(name) == manifest
    assert _store.index_relpath(name) == index


@pytest.mark.parametrize('name, part', [
    ('', "the model ''"),
    ('../passwd', "the namespace '..'"),
    ('../etc/passwd', "the host '..'"),
    ('a/b/c/d:e', 'too many / separated parts'),
    ('my.org/foo', "the namespace 'my.org'"),
    ('foo:-bar', "the tag '-bar'"),
    ('foo bar', "the model 'foo bar'"),
    ('x' * 81, "the model '%s'" % ('x' * 81)),
])
def test_invalid_names_are_refused(name, part):
    with pytest.raises(StoreError) as error:
        _store.manifest_relpath(name)
    assert str(error.value).startswith('invalid model name %r: ' % name)
    assert part in str(error.value)
    assert 'a name is [host/][namespace/]model[:tag]' in str(error.value)
    assert isinstance(error.value, OllamaError)


# ---------------------------------------------------------------------------
# model_index / load_index
# ---------------------------------------------------------------------------

def test_model_index_matches_what_ollama_lists(staging, monkeypatch):
    opened = blob_opener(monkeypatch)
    for name in (PARENT, DERIVED):
        index = _store.model_index(staging.root, name)
        manifest = os.path.join(staging.root, 'manifests', 'registry.ollama.ai', 'library', *name.split(':'))
        with open(manifest, 'rb') as f:
            raw = f.read()
        parsed = json.loads(raw)
        refs = [parsed['config']] + parsed['layers']
        assert index == {
            'format': 'gpufleet.ollama/bundle-v1', 'name': name, 'manifest': _store.manifest_relpath(name),
            'digest': staging.tags[name]['digest'], 'manifest_size': len(raw), 'size': staging.tags[name]['size'],
            'blobs': [dict(digest=r['digest'], size=r['size'], media_type=r['mediaType']) for r in refs]}
    assert opened == [os.path.join(staging.root, *_store.manifest_relpath(n).split('/')) for n in (PARENT, DERIVED)]


def test_model_index_finds_names_like_ollama(staging):
    assert _store.model_index(staging.root, 'registry.ollama.ai/library/TINY')['name'] == PARENT


def test_model_index_of_a_missing_model(staging):
    with pytest.raises(StoreError) as error:
        _store.model_index(staging.root, 'qwen2:7b')
    assert str(error.value) == ('model qwen2:7b is not in the store %s: there is no manifest %s/manifests/'
                                'registry.ollama.ai/library/qwen2/7b' % (staging.root, staging.root))


@pytest.mark.parametrize('content, why', [
    (b'{"schemaVersion":2', 'is not a valid manifest: '),
    (b'[]', 'expected a JSON object with a "config" object and a "layers" list'),
    (b'{"config":{"digest":"sha256:../../x","size":1},"layers":[]}', 'needs a "digest" sha256:<64 lowercase hex>'),
    (b'{"config":{"digest":"sha256:%s","size":-1},"layers":[]}' % (b'a' * 64), 'and a "size" >= 0'),
    (b'{"config":{"digest":"sha256:%s","size":1},"layers":[{"digest":"sha256:%s","size":2}]}' % (b'a' * 64, b'a' * 64),
     'is listed with sizes 1 and 2'),
])
def test_model_index_of_an_invalid_manifest(tmp_path, content, why):
    path = tmp_path / 'manifests' / 'registry.ollama.ai' / 'library' / 'bad' / 'latest'
    path.parent.mkdir(parents=True)
    path.write_bytes(content)
    with pytest.raises(StoreError) as error:
        _store.model_index(str(tmp_path), 'bad')
    assert str(error.value).startswith('the manifest %s of model bad is not a valid manifest' % path)
    assert why in str(error.value)


def test_load_index_reads_what_export_wrote(bundle, staging):
    for name in (PARENT, DERIVED):
        index = _store.load_index(bundle, name)
        assert index == _store.model_index(staging.root, name)
        with open(os.path.join(bundle, *_store.index_relpath(name).split('/')), 'rb') as f:
            assert f.read() == (json.dumps(index, sort_keys=True, indent=1) + '\n').encode()


def _index(**changes):
    index = {'format': 'gpufleet.ollama/bundle-v1', 'name': 'qwen2:7b',
             'manifest': 'manifests/registry.ollama.ai/library/qwen2/7b', 'digest': 'a' * 64, 'manifest_size': 10,
             'size': 5, 'blobs': [{'digest': 'sha256:' + 'b' * 64, 'size': 5, 'media_type': 'x'}]}
    index.update(changes)
    return index


@pytest.mark.parametrize('index, why', [
    ([], 'expected a JSON object, got []'),
    (_index(format='bundle-v0'), '"format" is \'bundle-v0\', expected \'gpufleet.ollama/bundle-v1\''),
    (_index(name='../x'), '"name": invalid model name'),
    (_index(manifest='manifests/registry.ollama.ai/library/qwen2/../../../../etc/passwd'), '"manifest" is'),
    (_index(digest='A' * 64), '"digest" is \'%s\', expected 64 lowercase hex characters' % ('A' * 64)),
    (_index(manifest_size='10'), '"manifest_size" is \'10\', expected an integer >= 0'),
    (_index(size=True), '"size" is True'),
    (_index(blobs=[]), '"blobs" is [], expected a non-empty list'),
    (_index(blobs=[{'digest': 'sha256:../../../etc/shadow', 'size': 1}]), 'needs a "digest" sha256:<64 lowercase hex>'),
    (_index(blobs=[{'digest': 'sha256:' + 'b' * 64}]), 'and a "size" >= 0'),
])
def test_check_index_refuses_bad_shapes(index, why):
    with pytest.raises(StoreError) as error:
        _store.check_index(index, 'indexes[0]')
    assert str(error.value).startswith('indexes[0] is not a valid bundle index: ')
    assert why in str(error.value)


def test_load_index_of_a_missing_or_broken_file(bundle):
    with pytest.raises(StoreError, match='model qwen2:7b is not in the bundle %s: there is no index file %s/bundles/'
                                         'registry.ollama.ai/library/qwen2/7b.json' % (bundle, bundle)):
        _store.load_index(bundle, 'qwen2:7b')
    path = os.path.join(bundle, *_store.index_relpath(PARENT).split('/'))
    with open(path, 'w') as f:
        f.write('{"format": ')
    with pytest.raises(StoreError, match='the index file %s of model %s is not valid JSON' % (path, PARENT)):
        _store.load_index(bundle, PARENT)


# ---------------------------------------------------------------------------
# export
# ---------------------------------------------------------------------------

def _modes(top):
    return {os.path.relpath(os.path.join(d, n), top): os.stat(os.path.join(d, n)).st_mode & 0o7777
            for d, dirs, files in os.walk(top) for n in dirs + files}


def test_export_hardlinks_on_one_filesystem(tmp_path, staging):
    dest = str(tmp_path / 'bundle')
    result = _store.export(staging.root, PARENT, dest)
    index = result['index']
    assert result['changed'] is True
    assert result['copied'] == []
    assert result['linked'] == [b['digest'] for b in index['blobs']]
    for blob in index['blobs']:
        assert os.path.samefile(blob_file(dest, blob['digest']), blob_file(staging.root, blob['digest']))
    relpath = index['manifest']
    with open(os.path.join(dest, relpath), 'rb') as a, open(os.path.join(staging.root, relpath), 'rb') as b:
        assert a.read() == b.read()
    assert sorted(os.listdir(dest)) == ['blobs', 'bundles', 'manifests']   # no .incoming left behind
    modes = _modes(dest)
    assert {m for p, m in modes.items() if os.path.isdir(os.path.join(dest, p))} == {0o755}
    assert modes[relpath] == modes[_store.index_relpath(PARENT)] == 0o644


def test_export_copies_across_filesystems(tmp_path, staging, monkeypatch):
    def cross_device(src, dst):
        raise OSError(errno.EXDEV, 'Invalid cross-device link')

    monkeypatch.setattr(os, 'link', cross_device)
    dest = str(tmp_path / 'bundle')
    result = _store.export(staging.root, PARENT, dest)
    assert result['linked'] == []
    assert result['copied'] == [b['digest'] for b in result['index']['blobs']]
    for blob in result['index']['blobs']:
        path = blob_file(dest, blob['digest'])
        assert not os.path.samefile(path, blob_file(staging.root, blob['digest']))
        assert os.stat(path).st_mode & 0o7777 == 0o644
        assert 'sha256:' + _store.sha256_file(path) == blob['digest']
    assert sorted(os.listdir(dest)) == ['blobs', 'bundles', 'manifests']


def test_export_again_changes_nothing_and_reads_no_blob(bundle, staging, monkeypatch):
    before = snapshot(bundle)
    opened = blob_opener(monkeypatch)
    monkeypatch.setattr(os, 'link', lambda *a: pytest.fail('os.link called'))
    for name in (PARENT, DERIVED):
        result = _store.export(staging.root, name, bundle)
        assert (result['changed'], result['copied'], result['linked']) == (False, [], [])
    assert not [p for p in opened if os.sep + 'blobs' + os.sep in p]
    assert snapshot(bundle) == before


def test_derived_model_shares_the_weights_blob(tmp_path, staging):
    dest = str(tmp_path / 'bundle')
    parent = _store.export(staging.root, PARENT, dest)
    derived = _store.export(staging.root, DERIVED, dest)
    parent_blobs = {b['digest'] for b in parent['index']['blobs']}
    derived_blobs = {b['digest'] for b in derived['index']['blobs']}
    weights = [b['digest'] for b in parent['index']['blobs'] if b['media_type'].endswith('.model')]
    assert weights and set(weights) <= derived_blobs
    assert set(derived['linked']) == derived_blobs - parent_blobs   # its own config, system and params layers
    assert sorted(os.listdir(os.path.join(dest, 'blobs'))) == sorted(
        d.replace(':', '-') for d in parent_blobs | derived_blobs)


def test_export_check_mode_writes_nothing(tmp_path, staging, bundle):
    dest = str(tmp_path / 'new')
    result = _store.export(staging.root, PARENT, dest, check_mode=True)
    assert result['changed'] is True
    assert result['linked'] == [b['digest'] for b in result['index']['blobs']]
    assert not os.path.exists(dest)
    before = snapshot(bundle)
    os.remove(os.path.join(bundle, *_store.index_relpath(PARENT).split('/')))
    assert _store.export(staging.root, PARENT, bundle, check_mode=True)['changed'] is True
    before.pop(_store.index_relpath(PARENT))
    assert snapshot(bundle) == before


def test_export_replaces_a_truncated_blob_and_a_stale_index(bundle, staging):
    index = _store.load_index(bundle, PARENT)
    weights = index['blobs'][1]
    path = blob_file(bundle, weights['digest'])
    os.remove(path)   # a hardlink: truncating it would damage the staging store
    with open(path, 'wb') as f:
        f.write(b'partial')
    index_path = os.path.join(bundle, *_store.index_relpath(PARENT).split('/'))
    with open(index_path, 'w') as f:
        f.write('{}')
    result = _store.export(staging.root, PARENT, bundle)
    assert (result['changed'], result['linked']) == (True, [weights['digest']])
    assert os.path.getsize(path) == weights['size']
    assert _store.load_index(bundle, PARENT) == index


def test_export_fails_on_a_blob_missing_in_the_source(tmp_path, staging):
    src = str(tmp_path / 'src')
    shutil.copytree(staging.root, src)
    index = _store.model_index(src, PARENT)
    weights = index['blobs'][1]
    os.remove(blob_file(src, weights['digest']))
    dest = str(tmp_path / 'bundle')
    with pytest.raises(StoreError) as error:
        _store.export(src, PARENT, dest)
    assert str(error.value) == ('cannot export model %s from the store %s: blob %s of model %s is missing: %s'
                                % (PARENT, src, weights['digest'], PARENT, blob_file(src, weights['digest'])))
    assert not os.path.exists(os.path.join(dest, 'manifests'))


# ---------------------------------------------------------------------------
# verify
# ---------------------------------------------------------------------------

def test_verify_a_complete_bundle(bundle, monkeypatch):
    for name in (PARENT, DERIVED):
        index = _store.load_index(bundle, name)
        opened = blob_opener(monkeypatch)
        assert _store.verify(bundle, index) == []
        assert not [p for p in opened if os.sep + 'blobs' + os.sep in p]   # sizes only
        assert _store.verify(bundle, index, checksum=True) == []
        assert sorted(p for p in opened if os.sep + 'blobs' + os.sep in p) == sorted(
            blob_file(bundle, b['digest']) for b in index['blobs'])


def _replace_file(path, data):
    os.remove(path)   # the bundle's blobs are hardlinks into the staging store
    with open(path, 'wb') as f:
        f.write(data)


@pytest.mark.parametrize('damage, checksum, problem', [
    ('manifest_missing', False, 'manifest of model tiny:latest is missing: {manifest}'),
    ('manifest_changed', False, 'manifest {manifest} of model tiny:latest has the sha256 {actual}, '
                                'the index says {digest}'),
    ('blob_missing', False, 'blob {blob} of model tiny:latest is missing: {blob_path}'),
    ('blob_short', False, 'blob {blob} of model tiny:latest has 3 bytes instead of {size}: {blob_path}'),
    ('blob_flipped', False, None),
    ('blob_flipped', True, 'blob {blob} of model tiny:latest is corrupt, its sha256 is {actual}: {blob_path}'),
])
def test_verify_lists_each_problem(bundle, damage, checksum, problem):
    index = _store.load_index(bundle, PARENT)
    manifest = os.path.join(bundle, *index['manifest'].split('/'))
    blob = index['blobs'][1]
    blob_path = blob_file(bundle, blob['digest'])
    actual = None
    if damage == 'manifest_missing':
        os.remove(manifest)
    elif damage == 'manifest_changed':
        with open(manifest, 'rb') as f:
            data = json.dumps(json.loads(f.read())).encode()   # re-encoded: another digest
        _replace_file(manifest, data)
        actual = hashlib.sha256(data).hexdigest()
    elif damage == 'blob_missing':
        os.remove(blob_path)
    elif damage == 'blob_short':
        _replace_file(blob_path, b'abc')
    else:
        with open(blob_path, 'rb') as f:
            data = bytearray(f.read())
        data[-1] ^= 0xff
        _replace_file(blob_path, bytes(data))
        actual = hashlib.sha256(data).hexdigest()
    expected = [] if problem is None else [problem.format(
        manifest=manifest, actual=actual, digest=index['digest'], blob=blob['digest'], blob_path=blob_path,
        size=blob['size'])]
    assert _store.verify(bundle, index, checksum=checksum) == expected


def test_verify_finds_an_index_that_does_not_match_its_manifest(bundle):
    index = _store.load_index(bundle, PARENT)
    index['blobs'] = index['blobs'][:-1]
    assert _store.verify(bundle, index) == [
        'the blobs of the index of model tiny:latest do not match its manifest %s'
        % os.path.join(bundle, *index['manifest'].split('/'))]


# ---------------------------------------------------------------------------
# plan
# ---------------------------------------------------------------------------

def test_plan_for_an_empty_node(bundle, node, monkeypatch):
    index = _store.load_index(bundle, PARENT)
    opened = blob_opener(monkeypatch)
    for root in (node, os.path.join(node, 'not', 'yet')):
        assert _store.plan(root, index) == dict(
            present=False, missing=[dict(digest=b['digest'], size=b['size']) for b in index['blobs']],
            bytes=index['size'] + index['manifest_size'])
    assert opened == []


def test_plan_counts_what_is_already_received(bundle, node):
    index = _store.load_index(bundle, PARENT)
    incoming = os.path.join(node, INCOMING)
    os.makedirs(os.path.join(incoming, 'blobs'))
    os.makedirs(os.path.join(node, 'blobs'))
    config, weights, template = index['blobs'][:3]
    shutil.copy(blob_file(bundle, config['digest']), blob_file(node, config['digest']))    # already in the store
    shutil.copy(blob_file(bundle, weights['digest']), blob_file(incoming, weights['digest']))   # received
    with open(blob_file(incoming, template['digest']), 'wb') as f:
        f.write(b'{{')   # partly received
    result = _store.plan(node, index, incoming)
    assert result['present'] is False
    assert result['missing'] == [dict(digest=b['digest'], size=b['size']) for b in index['blobs'][1:]]
    assert result['bytes'] == sum(b['size'] for b in index['blobs'][2:]) + index['manifest_size']


def test_plan_of_a_derived_model_on_a_node_with_its_parent(bundle, node):
    index, incoming = receive(bundle, PARENT, node)
    _store.activate(node, incoming, index)
    assert _store.plan(node, index) == dict(present=True, missing=[], bytes=0)
    derived = _store.load_index(bundle, DERIVED)
    result = _store.plan(node, derived)
    assert result['present'] is False
    weights = [b for b in derived['blobs'] if b['media_type'].endswith('.model')]
    assert weights and not set(b['digest'] for b in weights) & set(m['digest'] for m in result['missing'])
    assert result['bytes'] == sum(m['size'] for m in result['missing']) + derived['manifest_size']


def test_plan_with_a_stale_manifest(bundle, node):
    index, incoming = receive(bundle, PARENT, node)
    _store.activate(node, incoming, index)
    with open(os.path.join(node, *index['manifest'].split('/')), 'ab') as f:
        f.write(b'\n')
    assert _store.plan(node, index) == dict(present=False, missing=[], bytes=index['manifest_size'])


# ---------------------------------------------------------------------------
# activate
# ---------------------------------------------------------------------------

def test_activate_makes_the_model_servable(tmp_path, bundle, node, staging):
    names = (PARENT, DERIVED)
    for name in names:
        index, incoming = receive(bundle, name, node)
        moved = [m['digest'] for m in _store.plan(node, index)['missing']]
        aged(incoming)
        started = time.time()
        result = _store.activate(node, incoming, index, uid=os.getuid(), gid=os.getgid())
        assert result == dict(changed=True, moved=moved, verified=moved, manifest_written=True)
        assert moved and (name == PARENT or len(moved) < len(index['blobs']))   # the weights came with PARENT
        for digest in moved:
            st = os.stat(blob_file(node, digest))
            assert st.st_mode & 0o7777 == 0o644
            assert st.st_mtime >= started - 1   # fresh: the startup prune spares it
        assert os.listdir(incoming) == []       # emptied, kept
        assert _store.verify(node, index, checksum=True) == []
    assert _store.activate(node, incoming, _store.load_index(bundle, DERIVED))['changed'] is False
    # the stand-in (startup prune included) serves both models with the staging digests
    tags = serve_tags(tmp_path / 'node')
    assert {n: (tags[n]['digest'], tags[n]['size']) for n in names} == {
        n: (staging.tags[n]['digest'], staging.tags[n]['size']) for n in names}


def test_activate_again_changes_nothing(bundle, node, monkeypatch):
    index, incoming = receive(bundle, PARENT, node)
    _store.activate(node, incoming, index)
    before = snapshot(node)
    opened = blob_opener(monkeypatch)
    assert _store.activate(node, incoming, index) == dict(changed=False, moved=[], verified=[],
                                                          manifest_written=False)
    assert opened == [os.path.join(node, *index['manifest'].split('/'))]
    assert snapshot(node) == before


def test_activate_removes_a_corrupted_blob_and_writes_nothing(bundle, node):
    index, incoming = receive(bundle, PARENT, node)
    weights = index['blobs'][1]
    received = blob_file(incoming, weights['digest'])
    with open(received, 'r+b') as f:
        f.seek(weights['size'] - 1)
        f.write(b'\x01')
    actual = _store.sha256_file(received)
    store_before = {k: v for k, v in snapshot(node).items() if not k.startswith(INCOMING)}
    with pytest.raises(StoreError) as error:
        _store.activate(node, incoming, index)
    assert str(error.value) == (
        'blob %s of model tiny:latest was corrupted in transfer (its sha256 is sha256:%s, expected %s); it was '
        'removed, run again to fetch it again: %s' % (weights['digest'], actual, weights['digest'], received))
    assert not os.path.exists(received)
    assert {k: v for k, v in snapshot(node).items() if not k.startswith(INCOMING)} == store_before
    assert not os.path.exists(os.path.join(node, *index['manifest'].split('/')))
    assert _store.plan(node, index, incoming)['bytes'] == weights['size'] + index['manifest_size']


def test_activate_refuses_a_missing_blob(bundle, node):
    index, incoming = receive(bundle, PARENT, node)
    config, weights = index['blobs'][:2]
    os.remove(blob_file(incoming, weights['digest']))
    with open(blob_file(incoming, config['digest']), 'r+b') as f:
        f.truncate(10)
    before = snapshot(os.path.dirname(node))
    with pytest.raises(StoreError) as error:
        _store.activate(node, incoming, index)
    assert str(error.value) == (
        'missing blob %s (%d bytes) of model tiny:latest: not in the store %s and not received in %s (only 10 bytes '
        'there); missing blob %s (%d bytes) of model tiny:latest: not in the store %s and not received in %s (no such '
        'file)' % (config['digest'], config['size'], node, blob_file(incoming, config['digest']),
                   weights['digest'], weights['size'], node, blob_file(incoming, weights['digest'])))
    assert snapshot(os.path.dirname(node)) == before


def test_activate_refuses_a_missing_or_corrupted_manifest_before_moving_blobs(bundle, node):
    index, incoming = receive(bundle, PARENT, node)
    received = os.path.join(incoming, *index['manifest'].split('/'))
    with open(received, 'ab') as f:
        f.write(b'\n')
    with pytest.raises(StoreError, match='manifest of model tiny:latest was corrupted in transfer'):
        _store.activate(node, incoming, index)
    assert not os.path.exists(received)
    assert not os.path.exists(os.path.join(node, 'blobs'))
    with pytest.raises(StoreError) as error:
        _store.activate(node, incoming, index)
    assert str(error.value) == ('missing manifest of model tiny:latest: the store %s does not have it with the digest '
                                '%s and it was not received in %s' % (node, index['digest'], received))
    assert not os.path.exists(os.path.join(node, 'blobs'))


def test_activate_check_mode_touches_nothing(bundle, node, monkeypatch):
    index, incoming = receive(bundle, PARENT, node)
    before = snapshot(os.path.dirname(node))
    opened = blob_opener(monkeypatch)
    result = _store.activate(node, incoming, index, check_mode=True)
    assert result == dict(changed=True, moved=[b['digest'] for b in index['blobs']], verified=[],
                          manifest_written=True)
    assert not [p for p in opened if os.sep + 'blobs' + os.sep in p]
    assert snapshot(os.path.dirname(node)) == before


@pytest.mark.parametrize('where', ['blobs', 'manifests', '.', '..'])
def test_activate_refuses_an_incoming_directory_in_the_store(bundle, node, where):
    index = _store.load_index(bundle, PARENT)
    incoming = os.path.normpath(os.path.join(node, where, 'x' if where in ('blobs', 'manifests') else ''))
    with pytest.raises(StoreError, match='the incoming directory %s for model tiny:latest must' % incoming):
        _store.activate(node, incoming, index)


# ---------------------------------------------------------------------------
# referenced, models, free_bytes
# ---------------------------------------------------------------------------

def test_referenced_and_models(staging, bundle):
    expected = {b['digest'] for n in (PARENT, DERIVED) for b in _store.model_index(staging.root, n)['blobs']}
    assert _store.referenced(bundle) == expected
    assert _store.models(bundle) == [dict(name=n, digest=staging.tags[n]['digest']) for n in sorted((PARENT, DERIVED))]
    assert _store.referenced(os.path.join(bundle, 'nothing')) == set()


def test_referenced_refuses_a_corrupt_manifest(bundle):
    path = os.path.join(bundle, 'manifests', 'registry.ollama.ai', 'library', 'broken', 'latest')
    os.makedirs(os.path.dirname(path))
    with open(path, 'w') as f:
        f.write('{')
    with pytest.raises(StoreError, match='the manifest %s is not a valid manifest' % path):
        _store.referenced(bundle)


def test_free_bytes_of_a_path_not_there_yet(tmp_path):
    st = os.statvfs(str(tmp_path))
    assert abs(_store.free_bytes(str(tmp_path / 'a' / 'b')) - st.f_bavail * st.f_frsize) < 64 << 20
