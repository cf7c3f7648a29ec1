# -*- coding: utf-8 -*-
# Copyright (c) 2026, gpufleet maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""gpufleet.ollama.ollama_store_info on a staging store built by the Ollama stand-in and on node stores."""

from __future__ import annotations

import hashlib
import os
import shutil

import pytest

from ansible_collections.gpufleet.ollama.plugins.module_utils import _files, _store
from ansible_collections.gpufleet.ollama.plugins.modules import ollama_store_info
from ansible_collections.gpufleet.ollama.tests.unit.plugins.module_utils.test__store import (
    DERIVED,
    INCOMING,
    PARENT,
    blob_file,
    blob_opener,
    receive,
    staging_store,
)


@pytest.fixture(scope='module')
def staging(tmp_path_factory):
    return staging_store(tmp_path_factory.mktemp('staging'))


@pytest.fixture
def node(tmp_path):
    root = tmp_path / 'models'
    root.mkdir()
    return str(root)


def _indexes(staging):
    return [_store.model_index(staging.root, name) for name in (PARENT, DERIVED)]


def _nothing_present(index):
    return dict(name=index['name'], digest=index['digest'], present=False,
                missing=[dict(digest=b['digest'], size=b['size']) for b in index['blobs']],
                bytes=index['size'] + index['manifest_size'])


@pytest.mark.parametrize('check_mode', [False, True])
def test_a_source_host_describes_its_models(run_module, staging, monkeypatch, check_mode):
    opened = blob_opener(monkeypatch)
    result = run_module(ollama_store_info, dict(path=staging.root, names=['TINY', DERIVED]), check_mode=check_mode)
    assert result['changed'] is False
    assert result['indexes'] == _indexes(staging)
    assert result['models'] == [dict(name=n, digest=staging.tags[n]['digest']) for n in sorted((PARENT, DERIVED))]
    assert result['plans'] == []
    assert isinstance(result['free_bytes'], int) and result['free_bytes'] > 0
    assert not [p for p in opened if os.sep + 'blobs' + os.sep in p]


def test_a_store_not_created_yet(run_module, staging, tmp_path):
    path = tmp_path / 'not' / 'yet'
    indexes = _indexes(staging)
    st = os.statvfs(str(tmp_path))
    result = run_module(ollama_store_info, dict(path=str(path), indexes=indexes))
    assert result['models'] == []
    assert result['plans'] == [_nothing_present(i) for i in indexes]
    assert abs(result['free_bytes'] - st.f_bavail * st.f_frsize) < 64 << 20
    assert not path.exists()


def test_plans_follow_the_node(run_module, staging, tmp_path, node):
    indexes = _indexes(staging)
    args = dict(path=node, indexes=indexes, incoming=os.path.join(node, INCOMING))
    bundle = str(tmp_path / 'bundle')
    for name in (PARENT, DERIVED):
        _store.export(staging.root, name, bundle)

    parent, incoming = receive(bundle, PARENT, node)   # rsync done, not activated yet
    result = run_module(ollama_store_info, args)
    assert result['plans'][0] == dict(_nothing_present(parent), bytes=parent['manifest_size'])

    _store.activate(node, incoming, parent)
    result = run_module(ollama_store_info, args)
    assert result['models'] == [dict(name=PARENT, digest=parent['digest'])]
    assert result['plans'][0] == dict(name=PARENT, digest=parent['digest'], present=True, missing=[], bytes=0)
    derived = result['plans'][1]
    own = [dict(digest=b['digest'], size=b['size']) for b in indexes[1]['blobs']
           if b['digest'] not in {p['digest'] for p in parent['blobs']}]
    assert derived == dict(name=DERIVED, digest=indexes[1]['digest'], present=False, missing=own,
                           bytes=sum(b['size'] for b in own) + indexes[1]['manifest_size'])

    os.makedirs(os.path.join(node, INCOMING, 'blobs'))
    shutil.copy(blob_file(bundle, own[0]['digest']), blob_file(os.path.join(node, INCOMING), own[0]['digest']))
    result = run_module(ollama_store_info, args)
    assert result['plans'][1]['bytes'] == derived['bytes'] - own[0]['size']


def test_a_name_not_in_the_store_fails(run_module, staging):
    result = run_module(ollama_store_info, dict(path=staging.root, names=[PARENT, 'qwen2:7b']))
    assert result['failed'] is True
    assert result['msg'] == ('Could not read the model store %s: model qwen2:7b is not in the store %s: there is no '
                             'manifest %s/manifests/registry.ollama.ai/library/qwen2/7b'
                             % (staging.root, staging.root, staging.root))


def test_an_invalid_index_fails(run_module, staging, node):
    good = _store.model_index(staging.root, PARENT)
    bad = dict(good, blobs=[dict(digest='sha256:../../../etc/shadow', size=1)])
    result = run_module(ollama_store_info, dict(path=node, indexes=[good, bad]))
    assert result['failed'] is True
    assert result['msg'].startswith('Could not read the model store %s: indexes[1] is not a valid bundle index: the '
                                    'blob ' % node)


def test_complete_lists_only_the_models_whose_manifest_and_blobs_are_all_there(run_module, staging, tmp_path, node):
    bundle = str(tmp_path / 'bundle')
    _store.export(staging.root, PARENT, bundle)
    parent, incoming = receive(bundle, PARENT, node)
    args = dict(path=node, complete=[PARENT, DERIVED, 'qwen2:7b'])
    assert run_module(ollama_store_info, args)['complete'] == []          # received, not activated: no manifest yet

    _store.activate(node, incoming, parent)
    result = run_module(ollama_store_info, args)
    assert result['complete'] == [dict(name=PARENT, digest=parent['digest'])]   # the others are not in the store

    blob = blob_file(node, parent['blobs'][0]['digest'])
    with open(blob, 'r+b') as f:                                           # a blob cut short: no longer complete
        f.truncate(max(parent['blobs'][0]['size'] - 1, 0))
    assert run_module(ollama_store_info, args)['complete'] == []


def test_files_describes_each_path_itself_never_the_files_beside_it(run_module, staging, tmp_path, monkeypatch):
    build = tmp_path / 'build' / 'tiny'
    build.mkdir(parents=True)
    (build / 'Modelfile').write_text('FROM ./tiny.gguf\n')
    (build / 'tiny.gguf').write_bytes(b'GGUF weights')       # hard-linked to its blob on a node: never to be read
    opened = []

    def recording_open(path, *args, **kwargs):
        opened.append(os.fspath(path))
        return open(path, *args, **kwargs)
    monkeypatch.setattr(_files, 'open', recording_open, raising=False)
    paths = [str(build), str(build / 'Modelfile'), str(build / 'gguf.stamp')]
    result = run_module(ollama_store_info, dict(path=staging.root, files=paths))
    assert [(e['path'], e['isdir'], e.get('checksum')) for e in result['files']] == [
        (str(build), True, None), (str(build / 'Modelfile'), False, hashlib.sha1(b'FROM ./tiny.gguf\n').hexdigest())]
    assert opened == [str(build / 'Modelfile')]           # the GGUF beside it is never opened
