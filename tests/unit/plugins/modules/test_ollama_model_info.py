# -*- coding: utf-8 -*-
# Copyright (c) 2026, gpufleet maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import hashlib
import json

import pytest

from ansible_collections.gpufleet.ollama.plugins.modules import ollama_model_info


@pytest.mark.parametrize('check_mode', [False, True])
def test_lists_models_from_the_api(run_module, fake_ollama, check_mode):
    fake_ollama.serve_healthy(models=['llama3.2:latest', 'qwen2:7b'])
    result = run_module(ollama_model_info, {'url': fake_ollama.url}, check_mode=check_mode)
    assert result['changed'] is False
    assert result['source'] == 'api'
    assert result['server_reachable'] is True
    assert result['models'] == [fake_ollama.tags_entry('llama3.2:latest'), fake_ollama.tags_entry('qwen2:7b')]
    assert fake_ollama.paths() == ['/api/tags']
    assert result['warnings'] == []


@pytest.mark.parametrize('name, expected', [
    ('llama3.2', ['llama3.2:latest']),
    ('LLAMA3.2:Latest', ['llama3.2:latest']),
    ('registry.ollama.ai/library/qwen2:7b', ['qwen2:7b']),
    ('qwen2', []),
])
def test_name_filter_is_normalised(run_module, fake_ollama, name, expected):
    fake_ollama.serve_healthy(models=['llama3.2:latest', 'qwen2:7b'])
    result = run_module(ollama_model_info, {'url': fake_ollama.url, 'name': name})
    assert [m['name'] for m in result['models']] == expected
    assert not result.get('failed')


def test_http_error_fails_even_with_models_dir(run_module, fake_ollama, model_store):
    fake_ollama.set('GET', '/api/tags', 500, {'error': 'open /models/manifests: permission denied'})
    result = run_module(ollama_model_info, {'url': fake_ollama.url, 'models_dir': model_store.root})
    assert result['failed'] is True
    assert result['msg'] == ('Could not list the models of the Ollama instance at %s: GET %s/api/tags failed: '
                             'HTTP 500: open /models/manifests: permission denied' % (fake_ollama.url, fake_ollama.url))


def test_unreachable_without_models_dir_fails_naming_the_url(run_module, dead_url):
    result = run_module(ollama_model_info, {'url': dead_url, 'timeout': 2})
    assert result['failed'] is True
    assert result['msg'].startswith('Could not list the models of the Ollama instance at %s: GET %s/api/tags failed: '
                                    'cannot connect: ' % (dead_url, dead_url))
    assert result['msg'].endswith('(set models_dir to read the model store from disk instead)')


def test_unreachable_with_models_dir_reads_the_store(run_module, dead_url, model_store):
    raw = model_store.add('registry.ollama.ai/library/llama3.2/latest', layer_sizes=(2000,)).raw
    model_store.add('registry.ollama.ai/library/broken/latest', config={'model_format': 'gguf'}, write_config=False)
    result = run_module(ollama_model_info, {'url': dead_url, 'models_dir': model_store.root})
    assert not result.get('failed')
    assert result['changed'] is False
    assert result['source'] == 'store'
    assert result['server_reachable'] is False
    assert [m['name'] for m in result['models']] == ['llama3.2:latest']
    assert result['models'][0]['digest'] == hashlib.sha256(raw).hexdigest()
    assert result['models'][0]['details']['quantization_level'] == 'Q4_K_M'
    assert len(result['warnings']) == 2
    assert result['warnings'][0].startswith('Ollama server at %s is unreachable (GET %s/api/tags failed: cannot connect: '
                                            % (dead_url, dead_url))
    assert result['warnings'][0].endswith('listing the model store %s from disk instead' % model_store.root)
    assert result['warnings'][1].startswith('skipping model broken:latest from the store %s: config blob' % model_store.root)


def test_store_fallback_with_name_filter(run_module, dead_url, model_store):
    model_store.add('registry.ollama.ai/library/llama3.2/latest')
    model_store.add('registry.ollama.ai/library/qwen2/7b')
    result = run_module(ollama_model_info, {'url': dead_url, 'models_dir': model_store.root, 'name': 'QWEN2:7b'},
                        check_mode=True)
    assert [m['name'] for m in result['models']] == ['qwen2:7b']


def test_unreachable_and_store_missing(run_module, dead_url, tmp_path):
    missing = str(tmp_path / 'nowhere')
    result = run_module(ollama_model_info, {'url': dead_url, 'models_dir': missing})
    assert result['failed'] is True
    assert 'the server is unreachable (GET %s/api/tags failed: cannot connect' % dead_url in result['msg']
    assert result['msg'].endswith('and model store %s does not exist or is not a directory' % missing)


# ---------------------------------------------------------------------------
# TLS and API key
# ---------------------------------------------------------------------------

API_KEY = 'sk-gpufleet-test-0123456789abcdef'


def test_lists_models_over_https_with_api_key(run_module, tls_ollama, pki):
    tls_ollama.serve_healthy(models=['llama3.2:latest'])
    result = run_module(ollama_model_info, {'url': tls_ollama.url, 'ca_path': pki.ca, 'api_key': API_KEY})
    assert not result.get('failed'), result['msg']
    assert [m['name'] for m in result['models']] == ['llama3.2:latest']
    assert tls_ollama.requests[0]['headers']['Authorization'] == 'Bearer ' + API_KEY
    assert API_KEY not in json.dumps(result)


def test_tls_failure_does_not_fall_back_to_the_store(run_module, tls_ollama, pki, model_store):
    model_store.add('registry.ollama.ai/library/llama3.2/latest')
    result = run_module(ollama_model_info, {'url': tls_ollama.url, 'ca_path': pki.other_ca,
                                            'models_dir': model_store.root})
    assert result['failed'] is True
    assert result['msg'].startswith('Could not list the models of the Ollama instance at %s: GET %s/api/tags failed: '
                                    'TLS certificate verification failed: ' % (tls_ollama.url, tls_ollama.url))
    assert result['msg'].endswith('(CA used: ca_path %s)' % pki.other_ca)


def test_refused_key_does_not_fall_back_to_the_store(run_module, fake_ollama, model_store, monkeypatch):
    model_store.add('registry.ollama.ai/library/llama3.2/latest')
    fake_ollama.set('GET', '/api/tags', 401, {'error': 'unauthorized'})
    monkeypatch.setenv('OLLAMA_API_KEY', API_KEY)
    result = run_module(ollama_model_info, {'url': fake_ollama.url, 'models_dir': model_store.root})
    assert result['msg'] == ('Could not list the models of the Ollama instance at %s: GET %s/api/tags failed: '
                             'HTTP 401: unauthorized (the api_key was refused)' % (fake_ollama.url, fake_ollama.url))
    assert fake_ollama.requests[0]['headers']['Authorization'] == 'Bearer ' + API_KEY
