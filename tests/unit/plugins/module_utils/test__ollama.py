# -*- coding: utf-8 -*-
# Copyright (c) 2026, gpufleet maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import datetime
import hashlib
import os
from unittest import mock

import pytest

from ansible_collections.gpufleet.ollama.plugins.module_utils._ollama import (
    OLLAMA_COMMON_ARGS,
    CommandRunner,
    OllamaClient,
    OllamaError,
    command_runner,
    display_name,
    normalize_model_name,
    read_store,
    same_model,
)


# ---------------------------------------------------------------------------
# names
# ---------------------------------------------------------------------------

@pytest.mark.parametrize('name, expected', [
    ('llama3.2', 'llama3.2:latest'),
    ('llama3.2:latest', 'llama3.2:latest'),
    ('qwen2:7b', 'qwen2:7b'),
    (' qwen2:7b ', 'qwen2:7b'),
    ('library/qwen2:7b', 'qwen2:7b'),
    ('registry.ollama.ai/library/qwen2:7b', 'qwen2:7b'),
    ('registry.ollama.ai/myorg/foo', 'myorg/foo:latest'),
    ('myorg/foo:q4', 'myorg/foo:q4'),
    ('localhost:5000/team/foo', 'localhost:5000/team/foo:latest'),
    ('Llama3.2', 'Llama3.2:latest'),
])
def test_normalize_model_name(name, expected):
    assert normalize_model_name(name) == expected


def test_same_model_ignores_case_default_tag_and_namespace():
    assert same_model('Llama3.2', 'llama3.2:latest')
    assert same_model('library/qwen2:7B', 'qwen2:7b')
    assert not same_model('qwen2', 'qwen2:7b')
    assert not same_model('myorg/foo', 'foo')


@pytest.mark.parametrize('parts, expected', [
    (('registry.ollama.ai', 'library', 'llama3.2', 'latest'), 'llama3.2:latest'),
    (('registry.ollama.ai', 'myorg', 'foo', 'q4'), 'myorg/foo:q4'),
    (('example.com:5000', 'library', 'foo', 'v1'), 'example.com:5000/library/foo:v1'),
])
def test_display_name_drops_default_host_and_namespace_keeps_tag(parts, expected):
    assert display_name(*parts) == expected


def test_common_args_match_the_doc_fragment_defaults():
    assert OLLAMA_COMMON_ARGS == dict(url=dict(type='str', default='http://127.0.0.1:11434'),
                                      timeout=dict(type='float', default=10.0))


# ---------------------------------------------------------------------------
# HTTP client
# ---------------------------------------------------------------------------

def test_get_json_returns_status_and_data(fake_ollama):
    fake_ollama.set('GET', '/api/version', 200, {'version': '0.12.3'})
    client = OllamaClient(fake_ollama.url + '/', timeout=5)
    assert client.base_url == fake_ollama.url
    assert client.get_json('/api/version') == (200, {'version': '0.12.3'})
    assert client.get_field('/api/version', 'version') == '0.12.3'


def test_url_without_scheme_gets_http(fake_ollama):
    fake_ollama.set('GET', '/', 200, 'Ollama is running')
    client = OllamaClient(fake_ollama.url[len('http://'):])
    assert client.get_text('/') == (200, 'Ollama is running')


def test_post_json_sends_stream_false(fake_ollama):
    fake_ollama.set('POST', '/api/generate', 200, {'response': 'pong', 'done': True})
    client = OllamaClient(fake_ollama.url)
    assert client.post_json('/api/generate', {'model': 'm', 'prompt': 'p'}) == (200, {'response': 'pong', 'done': True})
    request = fake_ollama.requests[-1]
    assert request['body'] == {'model': 'm', 'prompt': 'p', 'stream': False}
    assert request['headers']['Content-Type'] == 'application/json'


def test_http_error_message_says_method_url_status_and_error(fake_ollama):
    fake_ollama.set('POST', '/api/show', 404, {'error': "model 'x' not found"})
    with pytest.raises(OllamaError) as e:
        OllamaClient(fake_ollama.url).post_json('/api/show', {'model': 'x'})
    assert str(e.value) == "POST %s/api/show failed: HTTP 404: model 'x' not found" % fake_ollama.url
    assert e.value.status == 404
    assert not e.value.unreachable


def test_http_error_without_json_body_uses_text_or_reason(fake_ollama):
    fake_ollama.set('GET', '/api/tags', 503, 'server busy, please try again.')
    fake_ollama.set('GET', '/api/ps', 403, '')
    client = OllamaClient(fake_ollama.url)
    with pytest.raises(OllamaError, match=r'GET .*/api/tags failed: HTTP 503: server busy, please try again\.$'):
        client.get_json('/api/tags')
    with pytest.raises(OllamaError, match=r'GET .*/api/ps failed: HTTP 403: Forbidden$'):
        client.get_json('/api/ps')


def test_error_body_with_status_200_raises(fake_ollama):
    fake_ollama.set('POST', '/api/generate', 200, {'error': 'llama runner process has terminated'})
    with pytest.raises(OllamaError, match='HTTP 200: llama runner process has terminated') as e:
        OllamaClient(fake_ollama.url).post_json('/api/generate', {'model': 'm'})
    assert e.value.status == 200


def test_invalid_json_raises(fake_ollama):
    fake_ollama.set('GET', '/api/tags', 200, 'not json')
    with pytest.raises(OllamaError, match=r"GET .*/api/tags failed: invalid JSON in the answer: 'not json'"):
        OllamaClient(fake_ollama.url).get_json('/api/tags')


def test_non_object_answer_raises(fake_ollama):
    fake_ollama.set('GET', '/api/tags', 200, ['a'])
    with pytest.raises(OllamaError, match='expected a JSON object'):
        OllamaClient(fake_ollama.url).list_models()


def test_connection_refused_is_unreachable(dead_url):
    with pytest.raises(OllamaError) as e:
        OllamaClient(dead_url).get_json('/api/tags')
    assert str(e.value).startswith('GET %s/api/tags failed: cannot connect: ' % dead_url)
    assert 'refused' in str(e.value)
    assert e.value.unreachable


def test_timeout_is_unreachable(fake_ollama):
    fake_ollama.set('GET', '/api/version', 200, {'version': '1'})
    fake_ollama.delay = 1.0
    with pytest.raises(OllamaError) as e:
        OllamaClient(fake_ollama.url, timeout=0.2).get_json('/api/version')
    assert str(e.value) == 'GET %s/api/version failed: no answer within 0.2s' % fake_ollama.url
    assert e.value.unreachable


def test_dropped_connection_is_unreachable(fake_ollama):
    fake_ollama.routes[('GET', '/')] = 'close'
    with pytest.raises(OllamaError) as e:
        OllamaClient(fake_ollama.url).get_text('/')
    assert str(e.value) == 'GET %s/ failed: connection error: Remote end closed connection without response' % fake_ollama.url
    assert e.value.unreachable


def test_head_returns_status_of_http_errors(fake_ollama, dead_url):
    fake_ollama.set('HEAD', '/api/blobs/sha256:ab', 200, '')
    client = OllamaClient(fake_ollama.url)
    assert client.head('/api/blobs/sha256:ab') == 200
    assert client.head('/api/blobs/sha256:cd') == 404
    with pytest.raises(OllamaError):
        OllamaClient(dead_url).head('/')


def test_list_models(fake_ollama):
    fake_ollama.serve_healthy(models=['llama3.2:latest'])
    assert [m['name'] for m in OllamaClient(fake_ollama.url).list_models()] == ['llama3.2:latest']
    fake_ollama.set('GET', '/api/tags', 200, {'models': None})
    assert OllamaClient(fake_ollama.url).list_models() == []


# ---------------------------------------------------------------------------
# model store
# ---------------------------------------------------------------------------

def test_read_store_lists_models_like_api_tags(model_store):
    stored = model_store.add('registry.ollama.ai/library/llama3.2/latest', layer_sizes=(1000, 24),
                             mtime=1_790_000_000)
    models, warnings = read_store(model_store.root)
    assert warnings == []
    assert len(models) == 1
    model = models[0]
    assert model['name'] == model['model'] == 'llama3.2:latest'
    assert model['digest'] == hashlib.sha256(stored.raw).hexdigest()
    assert model['size'] == os.path.getsize(stored.config_path) + 1000 + 24  # recorded sizes; no layer files exist
    assert datetime.datetime.fromisoformat(model['modified_at']).timestamp() == 1_790_000_000
    assert datetime.datetime.fromisoformat(model['modified_at']).tzinfo is not None
    assert model['details'] == dict(parent_model='', format='gguf', family='llama', families=['llama'],
                                    parameter_size='1.2B', quantization_level='Q4_K_M')


def test_read_store_names_and_order(model_store):
    model_store.add('registry.ollama.ai/library/old/latest', mtime=1_700_000_000)
    model_store.add('registry.ollama.ai/myorg/foo/q4', mtime=1_800_000_000)
    model_store.add('example.com:5000/team/bar/v1', mtime=1_750_000_000)
    models = read_store(model_store.root)[0]
    assert [m['name'] for m in models] == ['myorg/foo:q4', 'example.com:5000/team/bar:v1', 'old:latest']


def test_read_store_only_globs_four_levels(model_store):
    model_store.add('registry.ollama.ai/library/good/latest')
    model_store.add('registry.ollama.ai/library/deep/latest/extra')     # 5 levels: ignored
    model_store.add('registry.ollama.ai/short/latest')                  # 3 levels: ignored
    models, warnings = read_store(model_store.root)
    assert [m['name'] for m in models] == ['good:latest']
    assert warnings == []


def test_read_store_skips_model_without_config_blob(model_store):
    model_store.add('registry.ollama.ai/library/good/latest')
    config_path = model_store.add('registry.ollama.ai/library/broken/7b',
                                  config={'model_format': 'gguf', 'x': 1}, write_config=False).config_path
    models, warnings = read_store(model_store.root)
    assert [m['name'] for m in models] == ['good:latest']
    assert len(warnings) == 1
    assert warnings[0].startswith('skipping model broken:7b from the store %s: config blob %s is unreadable'
                                  % (model_store.root, config_path))


def test_read_store_skips_unparsable_manifest(model_store):
    path = model_store.add('registry.ollama.ai/library/bad/latest').path
    with open(path, 'w') as f:
        f.write('{not json')
    models, warnings = read_store(model_store.root)
    assert models == []
    assert warnings == ['skipping model bad:latest from the store %s: manifest %s is not a valid manifest'
                        % (model_store.root, path)]


def test_read_store_empty_and_missing(model_store, tmp_path):
    assert read_store(model_store.root) == ([], [])
    with pytest.raises(OllamaError, match='model store .*nowhere does not exist'):
        read_store(str(tmp_path / 'nowhere'))


# ---------------------------------------------------------------------------
# commands
# ---------------------------------------------------------------------------

def test_command_runner_uses_argv_list_and_c_locale():
    module = mock.Mock()
    module.run_command.return_value = (0, 'out\n', '')
    runner = CommandRunner(module, '/usr/bin/ollama', environ={'OLLAMA_HOST': '127.0.0.1:11435'})
    assert runner.run_ok('show', 'llama3.2', '--modelfile') == 'out\n'
    module.run_command.assert_called_once_with(
        ['/usr/bin/ollama', 'show', 'llama3.2', '--modelfile'],
        environ_update={'LANG': 'C', 'LC_ALL': 'C', 'LC_MESSAGES': 'C', 'OLLAMA_HOST': '127.0.0.1:11435'},
        expand_user_and_vars=False)


def test_command_runner_failure_names_command_rc_and_stderr():
    module = mock.Mock()
    module.run_command.return_value = (1, '', "Error: model 'x' not found\n")
    with pytest.raises(OllamaError) as e:
        CommandRunner(module, '/usr/bin/ollama').run_ok('rm', 'x')
    assert str(e.value) == "/usr/bin/ollama rm x failed (rc=1): Error: model 'x' not found"


def test_command_runner_failure_falls_back_to_stdout():
    module = mock.Mock()
    module.run_command.return_value = (2, 'usage: ollama ...\n', '\n')
    with pytest.raises(OllamaError, match=r'^/usr/bin/ollama bogus failed \(rc=2\): usage: ollama \.\.\.$'):
        CommandRunner(module, '/usr/bin/ollama').run_ok('bogus')


def test_command_runner_factory_requires_the_binary():
    module = mock.Mock()
    module.get_bin_path.return_value = '/usr/local/bin/ollama'
    runner = command_runner(module, 'ollama', opt_dirs=['/usr/local/bin'])
    module.get_bin_path.assert_called_once_with('ollama', required=True, opt_dirs=['/usr/local/bin'])
    assert runner.binary == '/usr/local/bin/ollama'
    assert command_runner(module, 'ollama', path='/opt/ollama/bin/ollama').binary == '/opt/ollama/bin/ollama'
    assert module.get_bin_path.call_count == 1
