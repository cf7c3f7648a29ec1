# -*- coding: utf-8 -*-
# Copyright (c) 2026, gpufleet maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""gpufleet.ollama.ollama_bundle on a staging store built by the Ollama stand-in; also the documentation of
ollama_bundle and ollama_store_info against their argument specs."""

from __future__ import annotations

import os

import pytest
import yaml

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.gpufleet.ollama.plugins.module_utils import _store
from ansible_collections.gpufleet.ollama.plugins.modules import ollama_bundle, ollama_store_info
from ansible_collections.gpufleet.ollama.tests.unit.plugins.module_utils.test__store import (
    DERIVED,
    PARENT,
    blob_file,
    blob_opener,
    snapshot,
    staging_store,
)


@pytest.fixture(scope='module')
def staging(tmp_path_factory):
    return staging_store(tmp_path_factory.mktemp('staging'))


@pytest.fixture
def with_diff(monkeypatch):
    """Run ollama_bundle as with --diff."""
    class DiffModule(AnsibleModule):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self._diff = True

    monkeypatch.setattr(ollama_bundle, 'AnsibleModule', DiffModule)


def _export(run_module, staging, path, name=PARENT, check_mode=False):
    return run_module(ollama_bundle, dict(path=path, name=name, src=staging.root), check_mode=check_mode)


# ---------------------------------------------------------------------------
# state=exported
# ---------------------------------------------------------------------------

def test_export_then_again_changes_nothing_and_reads_no_blob(run_module, staging, tmp_path, with_diff, monkeypatch):
    path = str(tmp_path / 'bundle')
    first = _export(run_module, staging, path)
    index = _store.model_index(staging.root, PARENT)
    assert first['changed'] is True
    assert (first['index'], first['copied'], first['problems']) == (index, [], [])
    assert first['linked'] == [b['digest'] for b in index['blobs']]
    assert first['diff'] == dict(before=dict(name=PARENT, digest=None), after=dict(name=PARENT, digest=index['digest']))
    assert _store.load_index(path, PARENT) == index

    before = snapshot(path)
    opened = blob_opener(monkeypatch)
    again = _export(run_module, staging, path)
    assert (again['changed'], again['linked'], again['copied']) == (False, [], [])
    assert again['diff']['before'] == again['diff']['after'] == dict(name=PARENT, digest=index['digest'])
    assert not [p for p in opened if os.sep + 'blobs' + os.sep in p]
    assert snapshot(path) == before


def test_export_of_a_derived_model_adds_only_its_own_blobs(run_module, staging, tmp_path):
    path = str(tmp_path / 'bundle')
    parent = _export(run_module, staging, path)
    derived = _export(run_module, staging, path, name=DERIVED)
    shared = {b['digest'] for b in parent['index']['blobs']} & {b['digest'] for b in derived['index']['blobs']}
    assert shared and not shared & set(derived['linked'])
    assert len(os.listdir(os.path.join(path, 'blobs'))) == len(parent['linked']) + len(derived['linked'])


def test_export_check_mode(run_module, staging, tmp_path):
    path = str(tmp_path / 'bundle')
    result = _export(run_module, staging, path, check_mode=True)
    assert result['changed'] is True
    assert len(result['linked']) == len(result['index']['blobs'])
    assert not os.path.exists(path)


@pytest.mark.parametrize('args, msg', [
    (dict(name=PARENT), 'state is exported but all of the following are missing: src'),
    (dict(name='qwen2:7b', src='{src}'),
     'Could not export model qwen2:7b from the store {src} into the bundle {path}: model qwen2:7b is not in the '
     'store {src}: there is no manifest {src}/manifests/registry.ollama.ai/library/qwen2/7b'),
    (dict(name='../x', src='{src}'),
     "Could not export model ../x from the store {src} into the bundle {path}: invalid model name '../x': "
     "the namespace '..' is not valid; "),
])
def test_export_failures(run_module, staging, tmp_path, args, msg):
    path = str(tmp_path / 'bundle')
    args = {k: v.format(src=staging.root) for k, v in args.items()}
    result = run_module(ollama_bundle, dict(args, path=path))
    assert result['failed'] is True
    assert result['msg'].startswith(msg.format(src=staging.root, path=path))
    assert not os.path.exists(path)


# ---------------------------------------------------------------------------
# state=verified
# ---------------------------------------------------------------------------

@pytest.fixture
def bundle(tmp_path, staging):
    path = str(tmp_path / 'bundle')
    for name in (PARENT, DERIVED):
        _store.export(staging.root, name, path)
    return path


@pytest.mark.parametrize('checksum', [False, True])
def test_verify_a_complete_bundle(run_module, bundle, checksum):
    before = snapshot(bundle)
    result = run_module(ollama_bundle, dict(path=bundle, name=DERIVED, state='verified', checksum=checksum))
    assert result['changed'] is False
    assert (result['index'], result['problems']) == (_store.load_index(bundle, DERIVED), [])
    assert snapshot(bundle) == before


def test_verify_lists_every_problem(run_module, bundle):
    index = _store.load_index(bundle, PARENT)
    config, weights = index['blobs'][:2]
    os.remove(blob_file(bundle, config['digest']))
    corrupt = blob_file(bundle, weights['digest'])
    os.remove(corrupt)   # a hardlink into the staging store: write a new file
    with open(corrupt, 'wb') as f:
        f.write(b'\0' * weights['size'])
    args = dict(path=bundle, name=PARENT, state='verified')

    sizes_only = run_module(ollama_bundle, args)
    assert sizes_only['failed'] is True
    assert sizes_only['problems'] == ['blob %s of model %s is missing: %s'
                                      % (config['digest'], PARENT, blob_file(bundle, config['digest']))]
    assert sizes_only['msg'] == 'The bundle %s does not hold model %s completely (1 problems): %s' % (
        bundle, PARENT, sizes_only['problems'][0])

    checked = run_module(ollama_bundle, dict(args, checksum=True))
    assert checked['problems'][0] == sizes_only['problems'][0]
    assert checked['problems'][1].startswith('blob %s of model %s is corrupt, its sha256 is ' % (weights['digest'], PARENT))
    assert len(checked['problems']) == 2
    assert checked['index'] == index


def test_verify_a_model_not_in_the_bundle(run_module, bundle):
    result = run_module(ollama_bundle, dict(path=bundle, name='qwen2:7b', state='verified'))
    assert result['failed'] is True
    assert result['msg'] == ('Could not verify model qwen2:7b in the bundle %s: model qwen2:7b is not in the bundle '
                             '%s: there is no index file %s/bundles/registry.ollama.ai/library/qwen2/7b.json'
                             % (bundle, bundle, bundle))


# ---------------------------------------------------------------------------
# Documentation of both modules against their argument specs
# ---------------------------------------------------------------------------

class _Spec(Exception):
    pass


@pytest.mark.parametrize('module', [ollama_bundle, ollama_store_info], ids=lambda m: m.__name__.rsplit('.', 1)[-1])
def test_documentation_matches_the_argument_spec(module, monkeypatch):
    def capture(**kwargs):
        raise _Spec(kwargs)

    monkeypatch.setattr(module, 'AnsibleModule', capture)
    with pytest.raises(_Spec) as spec:
        module.main()
    kwargs = spec.value.args[0]
    assert kwargs['supports_check_mode'] is True
    doc = yaml.safe_load(module.DOCUMENTATION)
    assert doc['module'] == module.__name__.rsplit('.', 1)[-1]
    assert doc['version_added'] == '0.1.0'
    assert doc['author'] == ['gpufleet maintainers (@gpufleet)']
    assert isinstance(yaml.safe_load(module.EXAMPLES), list)
    assert isinstance(yaml.safe_load(module.RETURN), dict)
    keys = ('type', 'required', 'default', 'choices', 'elements', 'no_log')
    documented = {name: {k: o.get(k) for k in keys} for name, o in doc['options'].items()}
    coded = {name: {k: o.get(k) for k in keys} for name, o in kwargs['argument_spec'].items()}
    for options in (documented, coded):
        for option in options.values():
            option['required'] = bool(option['required'])
            option['no_log'] = bool(option['no_log'])
            option['type'] = option['type'] or 'str'
    assert documented == coded
