# -*- coding: utf-8 -*-
# Copyright (c) 2026, gpufleet maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""gpufleet.ollama.ollama_model against the Ollama stand-in server (tests/standin) and real files."""

from __future__ import annotations

import json
import os
import shutil

import pytest
import yaml

from ansible.module_utils.testing import patch_module_args

from ansible_collections.gpufleet.ollama.plugins.module_utils._ollama import OllamaClient
from ansible_collections.gpufleet.ollama.plugins.module_utils._store import model_index
from ansible_collections.gpufleet.ollama.plugins.modules import ollama_model
from ansible_collections.gpufleet.ollama.tests.unit.plugins.module_utils import test__modelfile, test__ollama_create
from ansible_collections.gpufleet.ollama.tests.unit.standin.standin_helpers import Instance, baked, fixtures

# fixtures of the module_utils tests: a running stand-in server; the files sha256_file() reads
standin = test__ollama_create.standin
hashed = test__modelfile.hashed

GGUF_SIZE = 256 * 1024


@pytest.fixture
def base(standin, tmp_path):
    """Arguments every test passes: the stand-in's URL, a cache_dir of its own, root as the store owner."""
    return dict(url=standin.url, cache_dir=str(tmp_path / 'cache'), owner='root', group='root')


def write_modelfile(directory, extra='', gguf='model.gguf', size=GGUF_SIZE):
    """A GGUF and a Modelfile whose FROM names it, in ``directory``; returns (Modelfile, GGUF) paths."""
    os.makedirs(directory, exist_ok=True)
    path = os.path.join(str(directory), gguf)
    if not os.path.exists(path):
        fixtures.write_gguf(path, size)
    modelfile = os.path.join(str(directory), 'Modelfile')
    with open(modelfile, 'w') as f:
        f.write('FROM ./%s\n%s' % (gguf, extra))
    return modelfile, path


def requests_to(instance, method, path):
    """How many times the stand-in was sent ``method path`` (its access log)."""
    return sum(1 for line in instance.stdout().splitlines() if '| %-7s "%s' % (method, path) in line)


def tags(instance):
    return {m['name']: m for m in OllamaClient(instance.url).list_models()}


def manifest(instance, name):
    index = model_index(str(instance.models), name)
    with open(os.path.join(str(instance.models), *index['manifest'].split('/'))) as f:
        return json.load(f)


def blob(instance, digest):
    return os.path.join(str(instance.models), 'blobs', digest.replace(':', '-'))


@pytest.fixture
def run_diff(capsys):
    """Run ollama_model with ``_ansible_diff`` (conftest's run_module always turns it off)."""

    def _run(args, check_mode=False):
        capsys.readouterr()
        with patch_module_args(dict(args, _ansible_check_mode=check_mode, _ansible_diff=True)):
            with pytest.raises(SystemExit):
                ollama_model.main()
        return json.loads(capsys.readouterr().out.strip().splitlines()[-1])

    return _run


# ---------------------------------------------------------------------------
# Documentation
# ---------------------------------------------------------------------------

def _spec_of_docs(options):
    """The argument spec that documented options describe."""
    spec = {}
    for name, doc in options.items():
        entry = {k: doc[k] for k in ('type', 'default', 'choices', 'elements', 'required', 'no_log') if k in doc}
        if 'suboptions' in doc:
            entry['options'] = _spec_of_docs(doc['suboptions'])
        spec[name] = entry
    return spec


def test_documentation_matches_the_argument_spec(monkeypatch):
    captured = {}

    class Stop(Exception):
        pass

    def fake_module(argument_spec, **kwargs):
        captured.update(argument_spec)
        raise Stop()

    monkeypatch.setattr(ollama_model, 'AnsibleModule', fake_module)
    with pytest.raises(Stop):
        ollama_model.main()
    doc = yaml.safe_load(ollama_model.DOCUMENTATION)
    assert {k: v for k, v in captured.items() if k not in ollama_model.OLLAMA_COMMON_ARGS} == _spec_of_docs(doc['options'])
    assert doc['extends_documentation_fragment'] == ['gpufleet.ollama.ollama']
    assert isinstance(yaml.safe_load(ollama_model.EXAMPLES), list)
    assert isinstance(yaml.safe_load(ollama_model.RETURN), dict)


# ---------------------------------------------------------------------------
# source=modelfile with a GGUF
# ---------------------------------------------------------------------------

def test_modelfile_gguf_is_linked_hashed_once_and_then_unchanged(run_module, standin, base, tmp_path, hashed):
    modelfile, gguf = write_modelfile(tmp_path / 'build', 'PARAMETER num_ctx 4096\nSYSTEM Be brief.\n')
    args = dict(base, name='mine', source='modelfile', modelfile=modelfile, models_dir=str(standin.models))

    first = run_module(ollama_model, args)
    digest = 'sha256:' + fixtures.hashlib.sha256(open(gguf, 'rb').read()).hexdigest()
    assert first['changed'] is True and first['name'] == 'mine:latest'
    assert (first['linked'], first['uploaded'], first['before_digest']) == ([digest], [], None)
    assert first['digest'] == tags(standin)['mine:latest']['digest'] and first['size'] > GGUF_SIZE
    assert os.path.samefile(gguf, blob(standin, digest))   # zero copy
    assert oct(os.stat(gguf).st_mode & 0o777) == '0o644'
    assert manifest(standin, 'mine')['layers'][0]['digest'] == digest
    cache_files = [os.path.join(base['cache_dir'], 'digests.json'),
                   os.path.join(base['cache_dir'], 'models', 'mine%3Alatest.json')]
    written = [os.stat(p).st_mtime_ns for p in cache_files]

    second = run_module(ollama_model, args)
    assert second['changed'] is False and second['digest'] == second['before_digest'] == first['digest']
    assert (second['linked'], second['uploaded']) == ([], [])
    assert hashed == [gguf]                                   # the GGUF was hashed once, in the first run
    assert requests_to(standin, 'POST', '/api/create') == 1   # and created once
    assert requests_to(standin, 'HEAD', '/api/blobs/') == 2   # before the link, and to see it after
    assert written == [os.stat(p).st_mtime_ns for p in cache_files]   # nothing written either


def test_modelfile_gguf_is_uploaded_without_models_dir(run_module, standin, base, tmp_path):
    modelfile, gguf = write_modelfile(tmp_path / 'build')
    result = run_module(ollama_model, dict(base, name='up', source='modelfile', modelfile=modelfile))
    assert result['changed'] is True and result['linked'] == [] and len(result['uploaded']) == 1
    assert not os.path.samefile(gguf, blob(standin, result['uploaded'][0]))
    assert requests_to(standin, 'POST', '/api/blobs/') == 1
    assert tags(standin)['up:latest']['digest'] == result['digest']


def test_modelfile_gguf_on_another_filesystem_is_uploaded(run_module, standin, base):
    shm = '/dev/shm'
    if not os.path.isdir(shm) or os.stat(shm).st_dev == os.stat(str(standin.models)).st_dev:
        pytest.skip('needs /dev/shm on a filesystem of its own')
    directory = os.path.join(shm, 'gpufleet-test-%d' % os.getpid())
    try:
        modelfile, gguf = write_modelfile(directory)
        result = run_module(ollama_model, dict(base, name='far', source='modelfile', modelfile=modelfile,
                                               models_dir=str(standin.models)))
    finally:
        shutil.rmtree(directory)
    assert result['changed'] is True and result['linked'] == [] and len(result['uploaded']) == 1


def test_modelfile_change_creates_again_without_hashing_or_sending_the_gguf(run_module, standin, base, tmp_path,
                                                                            hashed):
    modelfile, gguf = write_modelfile(tmp_path / 'build', 'SYSTEM one\n')
    args = dict(base, name='mine', source='modelfile', modelfile=modelfile, models_dir=str(standin.models))
    first = run_module(ollama_model, args)
    system_blob = manifest(standin, 'mine')['layers'][-1]['digest']
    write_modelfile(tmp_path / 'build', 'SYSTEM two\n')
    second = run_module(ollama_model, args)
    assert second['changed'] is True and second['before_digest'] == first['digest'] != second['digest']
    assert (second['linked'], second['uploaded'], hashed) == ([], [], [gguf])
    assert not os.path.exists(blob(standin, system_blob))   # the server removed the old, unused layer
    assert OllamaClient(standin.url).show('mine')['system'] == 'two'


def test_modelfile_with_every_command(run_module, standin, base, tmp_path):
    modelfile, dummy = write_modelfile(tmp_path / 'build', '\n'.join([
        '# the assistant', 'TEMPLATE """{{ .System }}', '{{ .Prompt }}"""', 'system """Be brief."""',
        'PARAMETER stop <|end|>', 'PARAMETER stop User:', 'PARAMETER temperature 0.25', 'PARAMETER use_mmap false',
        'LICENSE MIT', 'MESSAGE user hi', 'MESSAGE assistant hello']))
    run_module(ollama_model, dict(base, name='full', source='modelfile', modelfile=modelfile))
    shown = OllamaClient(standin.url).show('full')
    assert shown['template'] == '{{ .System }}\n{{ .Prompt }}' and shown['system'] == 'Be brief.'
    assert shown['license'] == 'MIT'
    assert shown['messages'] == [{'role': 'user', 'content': 'hi'}, {'role': 'assistant', 'content': 'hello'}]
    assert shown['parameters'].split('\n') == ['stop                           "<|end|>"',
                                               'stop                           "User:"',
                                               'temperature                    0.25',
                                               'use_mmap                       false']


def test_options_override_the_modelfile(run_module, standin, base, tmp_path):
    modelfile, dummy = write_modelfile(tmp_path / 'build', 'SYSTEM from the file\nPARAMETER num_ctx 2048\n'
                                                           'PARAMETER top_k 10\n')
    run_module(ollama_model, dict(base, name='over', source='modelfile', modelfile=modelfile, system='from the task',
                                  parameters={'num_ctx': 8192}))
    shown = OllamaClient(standin.url).show('over')
    assert shown['system'] == 'from the task'
    assert 'num_ctx                        8192' in shown['parameters'] and 'top_k' in shown['parameters']


def test_linked_gguf_touched_by_the_server_is_not_hashed_again(run_module, tmp_path, hashed):
    """From v0.21 the server sets the mtime of the blob it creates from, which is the linked GGUF itself."""
    (tmp_path / 'o').mkdir()
    instance = Instance(tmp_path / 'o', binary=baked(tmp_path, '0.21.0'))
    try:
        modelfile, gguf = write_modelfile(tmp_path / 'build')
        os.utime(gguf, (1, 1))
        args = dict(url='http://127.0.0.1:%d' % instance.port, cache_dir=str(tmp_path / 'cache'), owner='root',
                    group='root', name='touched', source='modelfile', modelfile=modelfile,
                    models_dir=str(instance.models))
        assert run_module(ollama_model, args)['changed'] is True
        assert os.stat(gguf).st_mtime > 1
        assert run_module(ollama_model, args)['changed'] is False
    finally:
        instance.stop()
    assert hashed == [gguf]


# ---------------------------------------------------------------------------
# source=from
# ---------------------------------------------------------------------------

def test_from_reuses_the_parents_layers(run_module, standin, base):
    standin.add_model('tiny:latest', size=GGUF_SIZE)
    parent_weights = manifest(standin, 'tiny')['layers'][0]
    blobs_before = set(os.listdir(os.path.join(str(standin.models), 'blobs')))
    args = dict(base, name='Tiny:Support', source='from', parent='tiny', template='{{ .Prompt }}!',
                system='You help.', parameters={'num_ctx': 8192, 'stop': ['<|end|>'], 'temperature': 0.1},
                license=['MIT'], messages=[{'role': 'user', 'content': 'hi'}])

    first = run_module(ollama_model, args)
    assert first['changed'] is True and first['name'] == 'Tiny:Support'
    assert (first['linked'], first['uploaded']) == ([], [])
    assert manifest(standin, 'tiny:support')['layers'][0]['digest'] == parent_weights['digest']
    new_blobs = set(os.listdir(os.path.join(str(standin.models), 'blobs'))) - blobs_before
    assert new_blobs and all(os.path.getsize(os.path.join(str(standin.models), 'blobs', b)) < 1024 for b in new_blobs)
    shown = OllamaClient(standin.url).show('tiny:support')
    assert (shown['template'], shown['system'], shown['license']) == ('{{ .Prompt }}!', 'You help.', 'MIT')
    assert 'num_ctx                        8192' in shown['parameters']

    second = run_module(ollama_model, dict(args, name='tiny:support'))   # names compare without case
    assert second['changed'] is False and second['digest'] == first['digest']
    assert requests_to(standin, 'POST', '/api/create') == 1


def test_from_is_created_again_when_the_parent_changed(run_module, standin, base):
    standin.add_model('tiny:latest')
    args = dict(base, name='kid', source='from', parent='tiny', system='s')
    first = run_module(ollama_model, args)
    standin.add_model('tiny:latest', size=128 * 1024)   # other weights under the same name
    second = run_module(ollama_model, args)
    assert second['changed'] is True and second['digest'] != first['digest']


def test_modelfile_from_a_model_name(run_module, standin, base, tmp_path):
    standin.add_model('tiny:latest')
    (tmp_path / 'Modelfile').write_text('FROM tiny\nSYSTEM named\n')
    result = run_module(ollama_model, dict(base, name='named', source='modelfile', modelfile=str(tmp_path / 'Modelfile')))
    assert result['changed'] is True and OllamaClient(standin.url).show('named')['system'] == 'named'


# ---------------------------------------------------------------------------
# source=bundle
# ---------------------------------------------------------------------------

@pytest.fixture
def bundle(standin, tmp_path):
    """A model built in another store, received (as rsync would) in the default incoming directory."""
    source = tmp_path / 'staging'
    fixtures.make_model_store(source, 'bundled:v1')
    incoming = standin.models / '.gpufleet-incoming'
    for sub in ('blobs', 'manifests'):
        shutil.copytree(source / sub, incoming / sub)
    return model_index(str(source), 'bundled:v1')


def test_bundle_is_activated_then_unchanged(run_module, standin, base, bundle):
    args = dict(base, name='bundled:v1', source='bundle', bundle=bundle, models_dir=str(standin.models))
    first = run_module(ollama_model, args)
    digests = sorted(b['digest'] for b in bundle['blobs'])
    assert first['changed'] is True and first['digest'] == bundle['digest'] and first['before_digest'] is None
    assert sorted(first['activated']['moved']) == sorted(first['activated']['verified']) == digests
    assert first['activated']['manifest_written'] is True
    assert tags(standin)['bundled:v1']['digest'] == bundle['digest']
    assert all(os.path.isfile(blob(standin, d)) for d in digests)

    second = run_module(ollama_model, args)
    assert second['changed'] is False and second['activated'] is None and second['digest'] == bundle['digest']


def test_bundle_with_a_missing_blob_fails(run_module, standin, base, bundle):
    lost = bundle['blobs'][1]['digest']
    os.remove(os.path.join(str(standin.models), '.gpufleet-incoming', 'blobs', lost.replace(':', '-')))
    result = run_module(ollama_model, dict(base, name='bundled:v1', source='bundle', bundle=bundle,
                                           models_dir=str(standin.models)))
    assert result['failed'] and result['msg'].startswith(
        'Could not move model bundled:v1 into the store %s: missing blob %s' % (standin.models, lost))
    assert 'bundled:v1' not in tags(standin)


def test_bundle_not_seen_by_the_instance_fails(run_module, standin, base, bundle, tmp_path):
    other = tmp_path / 'not-the-store'
    shutil.move(str(standin.models / '.gpufleet-incoming'), str(other / '.gpufleet-incoming'))
    result = run_module(ollama_model, dict(base, name='bundled:v1', source='bundle', bundle=bundle,
                                           models_dir=str(other)))
    assert result['failed'] and result['msg'] == (
        'model bundled:v1 is in the store %s with the digest %s, but the Ollama instance at %s does not list it; is '
        'models_dir the store of that instance, and can its user read every file (the config blob above all)?'
        % (other, bundle['digest'], standin.url))


def test_bundle_of_another_model_fails(run_module, base, bundle, standin):
    result = run_module(ollama_model, dict(base, name='other', source='bundle', bundle=bundle,
                                           models_dir=str(standin.models)))
    assert result['failed'] and result['msg'] == 'the option bundle describes model bundled:v1, not other:latest (name)'


# ---------------------------------------------------------------------------
# state=absent
# ---------------------------------------------------------------------------

def test_absent_removes_the_model_and_keeps_shared_blobs(run_module, standin, base):
    standin.add_model('tiny:latest')
    run_module(ollama_model, dict(base, name='kid', source='from', parent='tiny', system='s'))
    parent = manifest(standin, 'tiny')
    weights, config = parent['layers'][0]['digest'], parent['config']['digest']
    assert os.path.exists(os.path.join(base['cache_dir'], 'models', 'kid%3Alatest.json'))

    first = run_module(ollama_model, dict(base, name='tiny', state='absent'))
    assert first['changed'] is True and first['before_digest'] and first['digest'] is None
    assert 'tiny:latest' not in tags(standin)
    assert os.path.exists(blob(standin, weights))        # kid uses it too
    assert not os.path.exists(blob(standin, config))     # only tiny used it
    assert run_module(ollama_model, dict(base, name='tiny', state='absent'))['changed'] is False

    run_module(ollama_model, dict(base, name='kid', state='absent'))
    assert not os.path.exists(blob(standin, weights))
    assert not os.path.exists(os.path.join(base['cache_dir'], 'models', 'kid%3Alatest.json'))


# ---------------------------------------------------------------------------
# Check mode and diff
# ---------------------------------------------------------------------------

def test_check_mode_changes_nothing(run_module, standin, base, tmp_path, bundle):
    modelfile, gguf = write_modelfile(tmp_path / 'build')
    created = run_module(ollama_model, dict(base, name='m', source='modelfile', modelfile=modelfile,
                                            models_dir=str(standin.models)), check_mode=True)
    assert created['changed'] is True and created['digest'] is None
    assert (created['linked'], created['uploaded']) == ([], [])
    assert os.stat(gguf).st_nlink == 1 and not os.path.exists(base['cache_dir'])

    activated = run_module(ollama_model, dict(base, name='bundled:v1', source='bundle', bundle=bundle,
                                              models_dir=str(standin.models)), check_mode=True)
    assert activated['changed'] is True and len(activated['activated']['moved']) == len(bundle['blobs'])
    assert tags(standin) == {}
    assert len(os.listdir(str(standin.models / '.gpufleet-incoming' / 'blobs'))) == len(bundle['blobs'])

    standin.add_model('tiny:latest')
    removed = run_module(ollama_model, dict(base, name='tiny', state='absent'), check_mode=True)
    assert removed['changed'] is True and 'tiny:latest' in tags(standin)
    assert requests_to(standin, 'POST', '/api/') == requests_to(standin, 'DELETE', '/api/') == 0


def test_check_mode_reports_an_unchanged_model(run_module, standin, base):
    standin.add_model('tiny:latest')
    args = dict(base, name='kid', source='from', parent='tiny', system='s')
    created = run_module(ollama_model, args)
    checked = run_module(ollama_model, args, check_mode=True)
    assert checked['changed'] is False and checked['digest'] == created['digest']


def test_diff(run_diff, standin, base):
    standin.add_model('tiny:latest')
    args = dict(base, name='kid', source='from', parent='tiny', system='s', models_dir=str(standin.models))
    assert run_diff(args, check_mode=True)['diff'] == {
        'before': {'digest': None, 'size': None, 'layers': []},
        'after': {'digest': 'unknown', 'size': 'unknown'}}
    created = run_diff(args)
    after = created['diff']['after']
    assert created['diff']['before'] == {'digest': None, 'size': None, 'layers': []}
    assert (after['digest'], after['size']) == (created['digest'], created['size'])
    assert after['layers'] == model_index(str(standin.models), 'kid')['blobs']
    assert [b['size'] for b in after['layers'] if b['media_type'] == 'application/vnd.ollama.image.system'] == [1]
    removed = run_diff(dict(base, name='kid', state='absent', models_dir=str(standin.models)))
    assert removed['diff'] == {'before': after, 'after': {'digest': None, 'size': None, 'layers': []}}


# ---------------------------------------------------------------------------
# Errors
# ---------------------------------------------------------------------------

def test_bad_modelfile_line_names_file_and_line(run_module, base, tmp_path):
    modelfile, dummy = write_modelfile(tmp_path / 'build', 'SYSTEM ok\nTEMPERATURE 0.3\n')
    result = run_module(ollama_model, dict(base, name='m', source='modelfile', modelfile=modelfile))
    assert result['failed'] and result['msg'] == (
        "Could not create model m:latest: Modelfile %s line 3: not a Modelfile command; valid commands are FROM, "
        "LICENSE, TEMPLATE, SYSTEM, ADAPTER, DRAFT, RENDERER, PARSER, PARAMETER, MESSAGE, REQUIRES: 'TEMPERATURE 0.3'"
        % modelfile)


@pytest.mark.parametrize('parameters, message', [
    ({'temperature': 'hot'}, "invalid float value 'hot' for temperature"),
    ({'num_gpus': 1}, "unknown parameter 'num_gpus'"),
])
def test_bad_parameters_option(run_module, base, parameters, message):
    result = run_module(ollama_model, dict(base, name='m', source='from', parent='x', parameters=parameters))
    assert result['failed'] and result['msg'].startswith('Could not create model m:latest: the option parameters: '
                                                         + message)


def test_missing_parent(run_module, standin, base, tmp_path):
    result = run_module(ollama_model, dict(base, name='m', source='from', parent='ghost:7b'))
    assert result['failed'] and result['msg'] == (
        'Could not create model m:latest: parent model ghost:7b is not on this instance (%s); place it first'
        % standin.url)
    assert requests_to(standin, 'POST', '/api/create') == 0   # never asks the server to pull it


def test_missing_from_file_is_a_missing_parent(run_module, standin, base, tmp_path):
    (tmp_path / 'Modelfile').write_text('FROM ./modle.gguf\n')
    result = run_module(ollama_model, dict(base, name='m', source='modelfile', modelfile=str(tmp_path / 'Modelfile')))
    assert result['failed'] and 'parent model ./modle.gguf is not on this instance' in result['msg']
    assert 'FROM ./modle.gguf names no file %s either' % (tmp_path / 'modle.gguf') in result['msg']


def test_create_error_carries_the_server_text(run_module, standin, base, tmp_path):
    (tmp_path / 'fake.gguf').write_bytes(b'not a gguf file')
    (tmp_path / 'Modelfile').write_text('FROM fake.gguf\n')
    result = run_module(ollama_model, dict(base, name='m', source='modelfile', modelfile=str(tmp_path / 'Modelfile')))
    assert result['failed'] and result['msg'] == (
        'Could not create model m:latest on the Ollama instance at {0}: POST {0}/api/create failed: HTTP 400: '
        'supplied file was not in GGUF format'.format(standin.url))


@pytest.mark.parametrize('source', ['absent', 'from', 'modelfile', 'bundle'])
def test_server_down(run_module, dead_url, tmp_path, source):
    modelfile, dummy = write_modelfile(tmp_path / 'build')
    fixtures.make_model_store(tmp_path / 'staging', 'm')
    args = dict(absent=dict(state='absent'), modelfile=dict(source='modelfile', modelfile=modelfile),
                **{'from': dict(source='from', parent='tiny')},
                bundle=dict(source='bundle', bundle=model_index(str(tmp_path / 'staging'), 'm'),
                            models_dir=str(tmp_path / 'models')))[source]
    result = run_module(ollama_model, dict(args, name='m', url=dead_url, cache_dir=str(tmp_path / 'cache')))
    assert result['failed'] and result['msg'].startswith(
        'Could not list the models to manage model m:latest: the Ollama instance at %s is not answering (is the service '
        'running?): GET %s/api/tags failed: cannot connect' % (dead_url, dead_url))


def test_owner_that_does_not_exist(run_module, standin, base, tmp_path):
    modelfile, dummy = write_modelfile(tmp_path / 'build')
    result = run_module(ollama_model, dict(base, name='m', source='modelfile', modelfile=modelfile,
                                           models_dir=str(standin.models), owner='nobody-here'))
    assert result['failed'] and result['msg'] == ('owner nobody-here does not exist on this host; set owner to the user '
                                                  'the Ollama service runs as')


@pytest.mark.parametrize('args, message', [
    (dict(source='bundle', bundle={}, models_dir='/m', system='s'),
     'system cannot be used with source=bundle: a bundle is a finished model'),
    (dict(source='modelfile', modelfile='/m/Modelfile', parent='p'),
     'parent cannot be used with source=modelfile: the FROM line of the Modelfile names the parent'),
    (dict(), 'state is present but all of the following are missing: source'),
    (dict(source='from'), 'source is from but all of the following are missing: parent'),
    (dict(source='bundle', bundle={}), 'source is bundle but all of the following are missing: models_dir'),
    (dict(source='from', parent='p', messages=[{'role': 'robot', 'content': 'x'}]),
     'value of role must be one of: system, user, assistant, got: robot found in messages'),
])
def test_option_errors(run_module, base, args, message):
    result = run_module(ollama_model, dict(base, name='m', **args))
    assert result['failed'] and result['msg'].startswith(message)


@pytest.mark.parametrize('state, changed', [('present', True), ('absent', False)])
def test_server_down_in_check_mode(run_module, dead_url, tmp_path, state, changed):
    """Check mode on a fresh node (its instances do not run yet): a warning, and what a real run would do."""
    args = dict(source='from', parent='tiny') if state == 'present' else dict(state='absent')
    result = run_module(ollama_model, dict(args, name='m', url=dead_url, cache_dir=str(tmp_path / 'cache')),
                        check_mode=True)
    assert not result.get('failed'), result['msg']
    assert result['changed'] is changed
    assert result['warnings'] == ['check mode: the Ollama instance at %s is not answering, so model m:latest is '
                                  'assumed %s' % (dead_url, 'absent' if state == 'present' else 'gone')]
