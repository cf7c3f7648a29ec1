# -*- coding: utf-8 -*-
# Copyright (c) 2026, gpufleet maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import json
import threading
import time

import pytest

from ansible_collections.gpufleet.ollama.plugins.modules import ollama_health

INSTANCE = 'gpu-node-1:11435'
GENERATED = {'model': 'llama3.2:latest', 'response': 'P', 'done': True, 'done_reason': 'length'}


def ps_entry(name='llama3.2:latest', size=3_300_000_000, size_vram=3_300_000_000):
    return dict(name=name, model=name, size=size, size_vram=size_vram, digest='0' * 64,
                expires_at='2026-09-01T10:05:00Z', context_length=4096)


@pytest.fixture
def healthy(fake_ollama):
    fake_ollama.serve_healthy(version='0.12.3', models=['llama3.2:latest', 'qwen2:7b'], running=[ps_entry()])
    fake_ollama.set('POST', '/api/generate', 200, GENERATED)
    return fake_ollama


def test_ready_only(run_module, healthy):
    result = run_module(ollama_health, {'url': healthy.url})
    assert result['changed'] is False
    assert result['version'] == '0.12.3'
    assert result['models'] == ['llama3.2:latest', 'qwen2:7b']
    assert result['checks'] == dict(ready='ok', expect_version='skipped', expect_models='skipped',
                                    smoke_model='skipped', check_gpu_offload='skipped')
    assert isinstance(result['timings']['ready_s'], float)
    assert result['timings']['smoke_s'] is None
    assert result['gpu_offload'] is None
    assert healthy.paths() == ['/', '/api/version', '/api/tags']


def test_all_checks_pass(run_module, healthy):
    result = run_module(ollama_health, {
        'url': healthy.url, 'instance': INSTANCE, 'expect_version': '0.12.3',
        'expect_models': ['llama3.2', 'QWEN2:7b'], 'smoke_model': 'llama3.2', 'check_gpu_offload': True})
    assert not result.get('failed'), result['msg']
    assert result['changed'] is False
    assert result['checks'] == dict(ready='ok', expect_version='ok', expect_models='ok',
                                    smoke_model='ok', check_gpu_offload='ok')
    assert isinstance(result['timings']['smoke_s'], float)
    assert result['gpu_offload'] == dict(model='llama3.2:latest', size=3_300_000_000, size_vram=3_300_000_000)
    assert result['warnings'] == []
    generate = [r for r in healthy.requests if r['path'] == '/api/generate']
    assert [r['body'] for r in generate] == [
        {'model': 'llama3.2', 'prompt': 'ping', 'options': {'num_predict': 1}, 'stream': False}]
    assert healthy.paths()[-2:] == ['/api/generate', '/api/ps']


def test_smoke_prompt_and_num_predict(run_module, healthy):
    run_module(ollama_health, {'url': healthy.url, 'smoke_model': 'qwen2:7b', 'smoke_prompt': 'hi',
                               'smoke_num_predict': 3})
    assert healthy.requests[-1]['body'] == {'model': 'qwen2:7b', 'prompt': 'hi', 'options': {'num_predict': 3},
                                            'stream': False}


def test_check_mode_skips_generation_and_gpu_check(run_module, healthy):
    result = run_module(ollama_health, {
        'url': healthy.url, 'expect_version': '0.12.3', 'expect_models': ['llama3.2'],
        'smoke_model': 'llama3.2', 'check_gpu_offload': True}, check_mode=True)
    assert not result.get('failed')
    assert result['changed'] is False
    assert result['checks'] == dict(ready='ok', expect_version='ok', expect_models='ok',
                                    smoke_model='skipped (check mode)', check_gpu_offload='skipped (check mode)')
    assert result['timings']['smoke_s'] is None
    assert result['gpu_offload'] is None
    assert healthy.paths('POST') == []
    assert '/api/ps' not in healthy.paths()


def test_check_mode_still_checks_the_version(run_module, healthy):
    result = run_module(ollama_health, {'url': healthy.url, 'instance': INSTANCE, 'expect_version': '0.14.1'},
                        check_mode=True)
    assert result['failed'] is True
    assert result['msg'] == 'instance gpu-node-1:11435: expect_version failed: running 0.12.3, expected 0.14.1'


def test_expect_version_mismatch(run_module, healthy):
    result = run_module(ollama_health, {'url': healthy.url, 'instance': INSTANCE, 'expect_version': '0.14.1',
                                        'smoke_model': 'llama3.2'})
    assert result['failed'] is True
    assert result['msg'] == 'instance gpu-node-1:11435: expect_version failed: running 0.12.3, expected 0.14.1'
    assert result['version'] == '0.12.3'
    assert result['checks']['ready'] == 'ok'
    assert result['checks']['smoke_model'] == 'skipped'
    assert healthy.paths('POST') == []


def test_instance_defaults_to_url(run_module, healthy):
    result = run_module(ollama_health, {'url': healthy.url + '/', 'expect_version': '9.9.9'})
    assert result['msg'] == 'instance %s: expect_version failed: running 0.12.3, expected 9.9.9' % healthy.url


def test_expect_models_missing(run_module, healthy):
    result = run_module(ollama_health, {'url': healthy.url, 'instance': INSTANCE,
                                        'expect_models': ['llama3.2', 'mistral', 'qwen2:14b']})
    assert result['failed'] is True
    assert result['msg'] == ('instance gpu-node-1:11435: expect_models failed: missing mistral:latest, qwen2:14b '
                             '(the instance has: llama3.2:latest, qwen2:7b)')
    assert result['models'] == ['llama3.2:latest', 'qwen2:7b']


def test_expect_models_on_empty_instance(run_module, fake_ollama):
    fake_ollama.serve_healthy()
    result = run_module(ollama_health, {'url': fake_ollama.url, 'instance': INSTANCE, 'expect_models': ['llama3.2']})
    assert result['msg'] == ('instance gpu-node-1:11435: expect_models failed: missing llama3.2:latest '
                             '(the instance has: no models)')


def test_model_listing_error(run_module, healthy):
    healthy.set('GET', '/api/tags', 500, {'error': 'boom'})
    result = run_module(ollama_health, {'url': healthy.url, 'instance': INSTANCE})
    assert result['msg'] == ('instance gpu-node-1:11435: model listing failed: GET %s/api/tags failed: HTTP 500: boom'
                             % healthy.url)


def test_smoke_model_not_found(run_module, healthy):
    healthy.set('POST', '/api/generate', 404, {'error': "model 'nope' not found"})
    result = run_module(ollama_health, {'url': healthy.url, 'instance': INSTANCE, 'smoke_model': 'nope'})
    assert result['failed'] is True
    assert result['msg'] == ("instance gpu-node-1:11435: smoke_model failed: generation with nope failed: "
                             "POST %s/api/generate failed: HTTP 404: model 'nope' not found" % healthy.url)
    assert result['checks']['smoke_model'] == 'skipped'


def test_smoke_timeout(run_module, healthy):
    def slow_generate(request):
        time.sleep(0.5)
        return 200, GENERATED
    healthy.routes[('POST', '/api/generate')] = slow_generate
    result = run_module(ollama_health, {'url': healthy.url, 'instance': INSTANCE, 'smoke_model': 'llama3.2',
                                        'smoke_timeout': 0.1})
    assert result['msg'] == ('instance gpu-node-1:11435: smoke_model failed: generation with llama3.2 failed: '
                             'POST %s/api/generate failed: no answer within 0.1s' % healthy.url)


def test_gpu_offload_zero_fails(run_module, healthy):
    healthy.set('GET', '/api/ps', 200, {'models': [ps_entry(size=2_000_000_000, size_vram=0)]})
    result = run_module(ollama_health, {'url': healthy.url, 'instance': INSTANCE, 'smoke_model': 'llama3.2',
                                        'check_gpu_offload': True})
    assert result['failed'] is True
    assert result['msg'] == ('instance gpu-node-1:11435: check_gpu_offload failed: model llama3.2 runs on CPU '
                             '(size_vram 0 of 2000000000 bytes)')
    assert result['gpu_offload'] == dict(model='llama3.2:latest', size=2_000_000_000, size_vram=0)
    assert result['checks']['smoke_model'] == 'ok'
    assert result['checks']['check_gpu_offload'] == 'skipped'


def test_gpu_offload_partial_passes_with_warning(run_module, healthy):
    healthy.set('GET', '/api/ps', 200, {'models': [ps_entry('other:latest', 10, 0),
                                                   ps_entry(size=2_000, size_vram=500)]})
    result = run_module(ollama_health, {'url': healthy.url, 'instance': INSTANCE, 'smoke_model': 'Llama3.2:latest',
                                        'check_gpu_offload': True})
    assert not result.get('failed')
    assert result['checks']['check_gpu_offload'] == 'ok'
    assert result['gpu_offload'] == dict(model='llama3.2:latest', size=2_000, size_vram=500)
    assert result['warnings'] == ['instance gpu-node-1:11435: model Llama3.2:latest is only partly on the GPU '
                                  '(500 of 2000 bytes in VRAM)']


def test_gpu_offload_model_not_loaded(run_module, healthy):
    healthy.set('GET', '/api/ps', 200, {'models': []})
    result = run_module(ollama_health, {'url': healthy.url, 'instance': INSTANCE, 'smoke_model': 'llama3.2',
                                        'check_gpu_offload': True})
    assert result['msg'] == ('instance gpu-node-1:11435: check_gpu_offload failed: model llama3.2 is not loaded '
                             'according to GET %s/api/ps after the smoke generation' % healthy.url)


def test_gpu_offload_requires_smoke_model(run_module, healthy):
    result = run_module(ollama_health, {'url': healthy.url, 'check_gpu_offload': True})
    assert result['failed'] is True
    assert result['msg'] == 'check_gpu_offload needs a model to load: set smoke_model, or smoke_smallest=true'
    assert healthy.requests == []


def test_smoke_smallest_picks_the_smallest_model(run_module, fake_ollama):
    fake_ollama.serve_healthy(version='0.14.1', running=[ps_entry('alsotiny:latest', 2_000, 2_000)])
    fake_ollama.set('GET', '/api/tags', 200, {'models': [fake_ollama.tags_entry('big:latest', size=9_000),
                                                         fake_ollama.tags_entry('tiny:latest', size=2_000),
                                                         fake_ollama.tags_entry('alsotiny:latest', size=2_000)]})
    fake_ollama.set('POST', '/api/generate', 200, GENERATED)
    result = run_module(ollama_health, {'url': fake_ollama.url, 'instance': INSTANCE, 'expect_version': '0.14.1',
                                        'smoke_smallest': True, 'check_gpu_offload': True})
    assert not result.get('failed'), result['msg']
    generate = [r['body']['model'] for r in fake_ollama.requests if r['path'] == '/api/generate']
    assert generate == ['alsotiny:latest']   # same size: the first name in order
    assert result['checks']['smoke_model'] == 'ok'


def test_smoke_smallest_on_cpu_fails(run_module, fake_ollama):
    fake_ollama.serve_healthy(version='0.14.1', models=['tiny:latest'], running=[ps_entry('tiny:latest', 2_000, 0)])
    fake_ollama.set('POST', '/api/generate', 200, GENERATED)
    result = run_module(ollama_health, {'url': fake_ollama.url, 'instance': INSTANCE,
                                        'smoke_smallest': True, 'check_gpu_offload': True})
    assert result['msg'] == ('instance gpu-node-1:11435: check_gpu_offload failed: model tiny:latest runs on CPU '
                             '(size_vram 0 of 2000 bytes)')


def test_smoke_smallest_without_models_skips(run_module, fake_ollama):
    fake_ollama.serve_healthy(version='0.14.1')
    result = run_module(ollama_health, {'url': fake_ollama.url, 'smoke_smallest': True, 'check_gpu_offload': True})
    assert not result.get('failed'), result['msg']
    assert result['checks']['smoke_model'] == 'skipped' and result['checks']['check_gpu_offload'] == 'skipped'
    assert '/api/generate' not in fake_ollama.paths()


def test_wait_timeout_on_unreachable_instance(run_module, dead_url):
    started = time.monotonic()
    result = run_module(ollama_health, {'url': dead_url, 'instance': INSTANCE, 'wait_timeout': 0.5,
                                        'interval': 0.1})
    assert 0.5 <= time.monotonic() - started < 3
    assert result['failed'] is True
    assert result['msg'].startswith('instance gpu-node-1:11435: ready failed: not ready within 0.5s, last error: '
                                    'GET %s/ failed: cannot connect: ' % dead_url)
    assert result['checks']['ready'] == 'skipped'
    assert result['version'] is None


def test_wait_timeout_on_busy_instance(run_module, fake_ollama):
    fake_ollama.serve_healthy()
    fake_ollama.set('GET', '/', 503, {'error': 'server busy, please try again.  maximum pending requests exceeded'})
    result = run_module(ollama_health, {'url': fake_ollama.url, 'wait_timeout': 0.3, 'interval': 0.1})
    assert result['msg'] == ('instance %s: ready failed: not ready within 0.3s, last error: GET %s/ failed: '
                             'HTTP 503: server busy, please try again.  maximum pending requests exceeded'
                             % (fake_ollama.url, fake_ollama.url))
    assert 2 <= fake_ollama.paths().count('/') <= 5


def test_version_without_version_is_not_ready(run_module, fake_ollama):
    fake_ollama.serve_healthy()
    fake_ollama.set('GET', '/api/version', 200, {})
    result = run_module(ollama_health, {'url': fake_ollama.url, 'wait_timeout': 0.2, 'interval': 0.1})
    assert result['msg'].endswith('last error: GET %s/api/version answered without a version' % fake_ollama.url)


def test_waits_for_a_slow_start(run_module, fake_ollama):
    fake_ollama.serve_healthy(version='0.12.3')
    up_at = time.monotonic() + 0.4

    def root(request):
        return (200, 'Ollama is running') if time.monotonic() >= up_at else 'close'
    fake_ollama.routes[('GET', '/')] = root
    started = time.monotonic()
    result = run_module(ollama_health, {'url': fake_ollama.url, 'wait_timeout': 10, 'interval': 0.1})
    assert not result.get('failed'), result['msg']
    assert result['version'] == '0.12.3'
    # It waited for the server: ready_s counts from the module's own start, a few ms after `started` (so no
    # exact bound), and the server refused every probe for its first 0.4 s.
    assert result['timings']['ready_s'] >= (up_at - started) - 0.1
    assert fake_ollama.paths().count('/') >= 3
    assert fake_ollama.paths().count('/api/version') == 1


# ---------------------------------------------------------------------------
# loaded: GET /api/ps
# ---------------------------------------------------------------------------

def loaded_of(*entries):
    """What RV(loaded) returns for these /api/ps entries (digest and details left out)."""
    return [{k: e[k] for k in ('name', 'model', 'size', 'size_vram', 'context_length', 'expires_at')} for e in entries]


def test_loaded_not_read_unless_asked(run_module, healthy):
    result = run_module(ollama_health, {'url': healthy.url})
    assert not result.get('failed'), result['msg']
    assert result['loaded'] is None and result['loaded_error'] is None
    assert '/api/ps' not in healthy.paths()


def test_loaded_read_when_asked(run_module, healthy):
    big = ps_entry('big:70b', 42_000_000_000, 16_800_000_000)
    healthy.set('GET', '/api/ps', 200, {'models': [ps_entry(), big]})
    result = run_module(ollama_health, {'url': healthy.url, 'loaded': True})
    assert not result.get('failed'), result['msg']
    assert result['loaded'] == loaded_of(ps_entry(), big)
    assert result['loaded'][0] == {'name': 'llama3.2:latest', 'model': 'llama3.2:latest', 'size': 3_300_000_000,
                                   'size_vram': 3_300_000_000, 'context_length': 4096,
                                   'expires_at': '2026-09-01T10:05:00Z'}
    assert result['loaded_error'] is None
    assert result['checks']['ready'] == 'ok'
    assert healthy.paths() == ['/', '/api/version', '/api/tags', '/api/ps']


def test_loaded_none_and_fields_an_older_release_lacks(run_module, healthy):
    healthy.set('GET', '/api/ps', 200, {'models': [{'name': 'old:latest', 'size': 10, 'size_vram': 10}]})
    result = run_module(ollama_health, {'url': healthy.url, 'loaded': True})
    assert result['loaded'] == [{'name': 'old:latest', 'model': None, 'size': 10, 'size_vram': 10,
                                 'context_length': None, 'expires_at': None}]
    healthy.set('GET', '/api/ps', 200, {'models': []})
    assert run_module(ollama_health, {'url': healthy.url, 'loaded': True})['loaded'] == []


def test_loaded_read_in_check_mode(run_module, healthy):
    result = run_module(ollama_health, {'url': healthy.url, 'loaded': True, 'smoke_model': 'llama3.2',
                                        'check_gpu_offload': True}, check_mode=True)
    assert not result.get('failed'), result['msg']
    assert result['changed'] is False
    assert result['checks']['check_gpu_offload'] == 'skipped (check mode)'
    assert result['gpu_offload'] is None
    assert result['loaded'] == loaded_of(ps_entry())
    assert healthy.paths() == ['/', '/api/version', '/api/tags', '/api/ps']
    assert healthy.paths('POST') == []


@pytest.mark.parametrize('answer, why', [
    ((500, {'error': 'boom'}), 'HTTP 500: boom'),
    ((404, '404 page not found'), 'HTTP 404: 404 page not found'),
    ((200, 'not json'), "invalid JSON in the answer: 'not json'"),
    ((200, {'models': {'a': 1}}), "expected a list of models, got {'a': 1}"),
], ids=['error', 'missing', 'not json', 'not a list'])
def test_loaded_read_failure_does_not_fail_the_module(run_module, healthy, answer, why):
    healthy.set('GET', '/api/ps', *answer)
    result = run_module(ollama_health, {'url': healthy.url, 'instance': INSTANCE, 'loaded': True})
    assert not result.get('failed'), result['msg']
    assert result['loaded'] is None
    assert result['loaded_error'] == 'GET %s/api/ps failed: %s' % (healthy.url, why)
    assert result['version'] == '0.12.3'
    assert set(result['checks'].values()) == {'ok', 'skipped'}


def test_loaded_reuses_the_gpu_check_read(run_module, healthy):
    result = run_module(ollama_health, {'url': healthy.url, 'smoke_model': 'llama3.2', 'check_gpu_offload': True,
                                        'loaded': True})
    assert not result.get('failed'), result['msg']
    assert result['loaded'] == loaded_of(ps_entry())
    assert healthy.paths() == ['/', '/api/version', '/api/tags', '/api/generate', '/api/ps']


def test_loaded_read_after_a_failed_check(run_module, healthy):
    result = run_module(ollama_health, {'url': healthy.url, 'instance': INSTANCE, 'expect_version': '0.14.1',
                                        'loaded': True})
    assert result['failed'] is True
    assert result['msg'] == 'instance gpu-node-1:11435: expect_version failed: running 0.12.3, expected 0.14.1'
    assert result['loaded'] == loaded_of(ps_entry())
    assert healthy.paths()[-1] == '/api/ps'


def test_loaded_error_of_the_gpu_check_read_is_not_read_twice(run_module, healthy):
    healthy.set('GET', '/api/ps', 500, {'error': 'boom'})
    result = run_module(ollama_health, {'url': healthy.url, 'instance': INSTANCE, 'smoke_model': 'llama3.2',
                                        'check_gpu_offload': True, 'loaded': True})
    assert result['failed'] is True
    assert result['msg'] == ('instance gpu-node-1:11435: check_gpu_offload failed: cannot list the running models: '
                             'GET %s/api/ps failed: HTTP 500: boom' % healthy.url)
    assert result['loaded'] is None
    assert result['loaded_error'] == 'GET %s/api/ps failed: HTTP 500: boom' % healthy.url
    assert healthy.paths().count('/api/ps') == 1


def test_loaded_not_read_on_an_instance_that_is_down(run_module, fake_ollama):
    fake_ollama.serve_healthy(running=[ps_entry()])
    fake_ollama.set('GET', '/', 503, {'error': 'server busy'})
    result = run_module(ollama_health, {'url': fake_ollama.url, 'instance': INSTANCE, 'loaded': True,
                                        'wait_timeout': 0.2, 'interval': 0.1})
    assert result['failed'] is True
    assert result['msg'].startswith('instance gpu-node-1:11435: ready failed: not ready within 0.2s')
    assert result['loaded'] is None
    assert result['loaded_error'] == 'not read: the instance did not answer'
    assert '/api/ps' not in fake_ollama.paths()


# ---------------------------------------------------------------------------
# TLS and API key
# ---------------------------------------------------------------------------

API_KEY = 'sk-gpufleet-test-0123456789abcdef'


def test_all_checks_over_https_with_ca_path_and_api_key(run_module, tls_ollama, pki):
    tls_ollama.serve_healthy(version='0.12.3', models=['llama3.2:latest'], running=[ps_entry()])
    tls_ollama.set('POST', '/api/generate', 200, GENERATED)
    result = run_module(ollama_health, {'url': tls_ollama.url, 'ca_path': pki.ca, 'api_key': API_KEY,
                                        'expect_version': '0.12.3', 'expect_models': ['llama3.2'], 'smoke_model': 'llama3.2',
                                        'check_gpu_offload': True})
    assert not result.get('failed'), result['msg']
    assert set(result['checks'].values()) == {'ok'}
    assert tls_ollama.paths() == ['/', '/api/version', '/api/tags', '/api/generate', '/api/ps']
    assert {r['headers'].get('Authorization') for r in tls_ollama.requests} == {'Bearer ' + API_KEY}
    assert API_KEY not in json.dumps(result)


def test_api_key_from_the_environment(run_module, healthy, monkeypatch):
    monkeypatch.setenv('OLLAMA_API_KEY', API_KEY)
    result = run_module(ollama_health, {'url': healthy.url})
    assert not result.get('failed'), result['msg']
    assert {r['headers'].get('Authorization') for r in healthy.requests} == {'Bearer ' + API_KEY}
    assert API_KEY not in json.dumps(result)


def test_tls_verification_failure_fails_at_once(run_module, tls_ollama):
    tls_ollama.serve_healthy()
    started = time.monotonic()
    result = run_module(ollama_health, {'url': tls_ollama.url, 'instance': 'gateway', 'wait_timeout': 30})
    assert time.monotonic() - started < 5
    assert result['failed'] is True
    assert result['msg'].startswith('instance gateway: ready failed: GET %s/ failed: TLS certificate verification '
                                    'failed: ' % tls_ollama.url)
    assert result['msg'].endswith('(CA used: the system CA store; set ca_path to the CA that signed the server '
                                  'certificate)')
    assert result['checks']['ready'] == 'skipped'
    assert tls_ollama.requests == []


def test_validate_certs_false(run_module, tls_ollama):
    tls_ollama.serve_healthy(version='0.12.3')
    result = run_module(ollama_health, {'url': tls_ollama.url, 'validate_certs': False, 'expect_version': '0.12.3'})
    assert not result.get('failed'), result['msg']
    assert result['checks']['expect_version'] == 'ok'


def test_refused_api_key_fails_at_once_without_showing_it(run_module, fake_ollama):
    fake_ollama.serve_healthy()
    fake_ollama.set('GET', '/', 401, {'error': 'invalid API key %s' % API_KEY})
    started = time.monotonic()
    result = run_module(ollama_health, {'url': fake_ollama.url, 'instance': 'gateway', 'api_key': API_KEY,
                                        'wait_timeout': 30})
    assert time.monotonic() - started < 5
    assert result['msg'] == ('instance gateway: ready failed: GET %s/ failed: HTTP 401: invalid API key ******** '
                             '(the api_key was refused)' % fake_ollama.url)
    assert API_KEY not in json.dumps(result)
    assert fake_ollama.paths() == ['/']


def test_client_key_requires_client_cert(run_module, healthy, pki):
    result = run_module(ollama_health, {'url': healthy.url, 'client_key': pki.client_key})
    assert result['failed'] is True
    assert result['msg'] == "missing parameter(s) required by 'client_key': client_cert"
    assert healthy.requests == []


def test_mutual_tls(run_module, mtls_ollama, pki):
    mtls_ollama.serve_healthy(version='0.12.3')
    result = run_module(ollama_health, {'url': mtls_ollama.url, 'ca_path': pki.ca, 'client_cert': pki.client_cert,
                                        'client_key': pki.client_key})
    assert not result.get('failed'), result['msg']
    assert result['version'] == '0.12.3'


def test_unprintable_api_key_fails_without_showing_it(run_module, healthy):
    result = run_module(ollama_health, {'url': healthy.url, 'api_key': API_KEY + '\nX-Injected: 1'})
    assert result['failed'] is True
    assert result['msg'] == ('api_key cannot be sent in an HTTP header: it contains spaces, line breaks, '
                             'control or non-ASCII characters')
    assert healthy.requests == []


# ---------------------------------------------------------------------------
# targets: several instances in one run, concurrently
# ---------------------------------------------------------------------------

@pytest.fixture
def other_ollama(fake_ollama):
    """A second fake Ollama server, another instance of the node."""
    server = type(fake_ollama)()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def executors(monkeypatch):
    """Records the max_workers of every ThreadPoolExecutor the module makes."""
    made = []

    class Recording(ollama_health.ThreadPoolExecutor):
        def __init__(self, max_workers=None, *args, **kwargs):
            made.append(max_workers)
            super().__init__(max_workers, *args, **kwargs)

    monkeypatch.setattr(ollama_health, 'ThreadPoolExecutor', Recording)
    return made


def meet_at_root(*servers):
    """GET / on each server answers only once every server has been asked: the checks must run concurrently."""
    barrier = threading.Barrier(len(servers), timeout=5)

    def root(request):
        barrier.wait()
        return 200, 'Ollama is running'
    for server in servers:
        server.routes[('GET', '/')] = root


def test_targets_all_ok_concurrently(run_module, healthy, other_ollama, executors):
    other_ollama.serve_healthy(version='0.14.1', models=['qwen2:7b'], running=[ps_entry('qwen2:7b')])
    other_ollama.set('POST', '/api/generate', 200, GENERATED)
    healthy.set('GET', '/api/ps', 200, {'models': [ps_entry('qwen2:7b')]})
    meet_at_root(healthy, other_ollama)
    targets = [
        {'url': healthy.url, 'instance': 'gpu-node-1:11434', 'expect_version': '0.12.3', 'item': {'port': 11434}},
        {'url': other_ollama.url, 'expect_version': '0.14.1'},
    ]
    result = run_module(ollama_health, {'targets': targets, 'expect_models': ['qwen2:7b'], 'smoke_model': 'qwen2:7b',
                                        'check_gpu_offload': True, 'wait_timeout': 10})
    assert not result.get('failed'), result['msg']
    assert result['changed'] is False
    assert executors == [2]
    assert 'version' not in result and 'checks' not in result
    first, second = result['results']
    assert first['item'] == {'port': 11434}
    assert first['instance'] == 'gpu-node-1:11434'
    assert first['version'] == '0.12.3'
    assert first['models'] == ['llama3.2:latest', 'qwen2:7b']
    assert second['item'] == targets[1]   # no item: the target itself
    assert second['instance'] == other_ollama.url
    assert second['version'] == '0.14.1'
    assert second['models'] == ['qwen2:7b']
    for r in (first, second):
        assert r['failed'] is False and 'msg' not in r
        assert set(r['checks'].values()) == {'ok'}
        assert isinstance(r['timings']['ready_s'], float) and isinstance(r['timings']['smoke_s'], float)
        assert r['gpu_offload']['model'] == 'qwen2:7b'
    for server in (healthy, other_ollama):
        assert server.paths() == ['/', '/api/version', '/api/tags', '/api/generate', '/api/ps']


def test_targets_one_wrong_version_fails_naming_only_that_instance(run_module, healthy, other_ollama):
    other_ollama.serve_healthy(version='0.12.3')
    meet_at_root(healthy, other_ollama)
    result = run_module(ollama_health, {'targets': [
        {'url': healthy.url, 'instance': 'gpu-node-1:11434', 'expect_version': '0.12.3', 'item': 11434},
        {'url': other_ollama.url, 'instance': INSTANCE, 'expect_version': '0.14.1', 'item': 11435},
    ], 'smoke_model': 'llama3.2'})
    assert result['failed'] is True
    assert result['changed'] is False
    assert result['msg'] == 'instance gpu-node-1:11435: expect_version failed: running 0.12.3, expected 0.14.1'
    ok, bad = result['results']
    assert ok['failed'] is False and 'msg' not in ok and ok['item'] == 11434
    assert ok['checks']['expect_version'] == 'ok' and ok['checks']['smoke_model'] == 'ok'
    assert bad['failed'] is True and bad['item'] == 11435 and bad['instance'] == INSTANCE
    assert bad['msg'] == result['msg']
    assert bad['version'] == '0.12.3'
    assert bad['checks'] == dict(ready='ok', expect_version='skipped', expect_models='skipped',
                                 smoke_model='skipped', check_gpu_offload='skipped')
    assert other_ollama.paths('POST') == []


def test_targets_all_failures_in_the_message(run_module, healthy, dead_url):
    result = run_module(ollama_health, {'targets': [
        {'url': dead_url, 'instance': 'a'},
        {'url': healthy.url, 'instance': 'b', 'expect_version': '9.9.9'},
    ], 'wait_timeout': 0.3, 'interval': 0.1})
    assert result['failed'] is True
    a, b = result['results']
    assert a['msg'].startswith('instance a: ready failed: not ready within 0.3s, last error: ')
    assert b['msg'] == 'instance b: expect_version failed: running 0.12.3, expected 9.9.9'
    assert result['msg'] == a['msg'] + ' ' + b['msg']


@pytest.mark.parametrize('option', ['instance', 'expect_version'])
def test_targets_exclude_instance_and_expect_version(run_module, healthy, option):
    result = run_module(ollama_health, {'targets': [{'url': healthy.url}], option: 'x'})
    assert result['failed'] is True
    assert result['msg'] == 'parameters are mutually exclusive: targets|%s' % option
    assert healthy.requests == []


def test_targets_win_over_url(run_module, healthy, dead_url):
    result = run_module(ollama_health, {'url': dead_url, 'targets': [{'url': healthy.url}], 'wait_timeout': 0.3})
    assert not result.get('failed'), result['msg']
    assert result['results'][0]['instance'] == healthy.url


@pytest.mark.parametrize('targets, msg', [
    ([{'url': 'http://127.0.0.1:1'}, {'instance': 'gpu-node-1:11435'}], 'targets[1]: url is required'),
    ([{'url': ''}], 'targets[0]: url is required'),
    ([{'url': 'http://127.0.0.1:1', 'port': 11435}],
     "targets[0]: unknown key 'port' (a target takes: url, instance, expect_version, item)"),
    ([{'url': 'http://127.0.0.1:1', 'instance': {'name': 'x'}}],
     "targets[0]: instance must be a string, got dict {'name': 'x'}"),
], ids=['missing url', 'empty url', 'unknown key', 'not a string'])
def test_targets_bad_element(run_module, targets, msg):
    result = run_module(ollama_health, {'targets': targets})
    assert result['failed'] is True
    assert result['msg'] == msg
    assert 'results' not in result


def test_targets_numbers_become_strings(run_module, fake_ollama):
    fake_ollama.serve_healthy(version='0.13')
    result = run_module(ollama_health, {'targets': [{'url': fake_ollama.url, 'expect_version': 0.13}]})
    assert not result.get('failed'), result['msg']
    assert result['results'][0]['checks']['expect_version'] == 'ok'


def test_targets_empty_list(run_module, executors):
    result = run_module(ollama_health, {'targets': []})
    assert not result.get('failed')
    assert result['changed'] is False
    assert result['results'] == []
    assert executors == []


def test_targets_check_mode_skips_smoke_per_target(run_module, healthy, other_ollama):
    other_ollama.serve_healthy(version='0.12.3', models=['llama3.2:latest'])
    meet_at_root(healthy, other_ollama)
    result = run_module(ollama_health, {'targets': [{'url': healthy.url}, {'url': other_ollama.url}],
                                        'expect_models': ['llama3.2'], 'smoke_model': 'llama3.2',
                                        'check_gpu_offload': True}, check_mode=True)
    assert not result.get('failed'), result['msg']
    for r in result['results']:
        assert r['checks'] == dict(ready='ok', expect_version='skipped', expect_models='ok',
                                   smoke_model='skipped (check mode)', check_gpu_offload='skipped (check mode)')
        assert r['timings']['smoke_s'] is None and r['gpu_offload'] is None
    for server in (healthy, other_ollama):
        assert server.paths() == ['/', '/api/version', '/api/tags']


def test_targets_smoke_smallest_per_target(run_module, fake_ollama, other_ollama):
    """Each target picks the smallest model of its own instance."""
    for server, small in ((fake_ollama, 'tiny:latest'), (other_ollama, 'small:latest')):
        server.serve_healthy(running=[ps_entry(small, 2_000, 2_000)])
        server.set('GET', '/api/tags', 200, {'models': [server.tags_entry('big:latest', size=9_000),
                                                        server.tags_entry(small, size=2_000)]})
        server.set('POST', '/api/generate', 200, GENERATED)
    meet_at_root(fake_ollama, other_ollama)
    result = run_module(ollama_health, {'targets': [{'url': fake_ollama.url}, {'url': other_ollama.url}],
                                        'smoke_smallest': True, 'check_gpu_offload': True})
    assert not result.get('failed'), result['msg']
    assert [r['body']['model'] for r in fake_ollama.requests if r['path'] == '/api/generate'] == ['tiny:latest']
    assert [r['body']['model'] for r in other_ollama.requests if r['path'] == '/api/generate'] == ['small:latest']


def test_targets_warnings_in_target_order(run_module, fake_ollama, other_ollama):
    for server in (fake_ollama, other_ollama):
        server.serve_healthy(models=['llama3.2:latest'], running=[ps_entry(size=2_000, size_vram=500)])
        server.set('POST', '/api/generate', 200, GENERATED)
    fake_ollama.delay = 0.2   # the first target finishes last
    result = run_module(ollama_health, {'targets': [{'url': fake_ollama.url, 'instance': 'first'},
                                                    {'url': other_ollama.url, 'instance': 'second'}],
                                        'smoke_model': 'llama3.2', 'check_gpu_offload': True})
    assert not result.get('failed'), result['msg']
    assert result['warnings'] == [
        'instance %s: model llama3.2 is only partly on the GPU (500 of 2000 bytes in VRAM)' % name
        for name in ('first', 'second')]


def test_targets_at_most_16_at_once(run_module, healthy, executors):
    result = run_module(ollama_health, {'targets': [{'url': healthy.url, 'item': i} for i in range(20)]})
    assert not result.get('failed'), result['msg']
    assert executors == [16]
    assert [r['item'] for r in result['results']] == list(range(20))


def test_targets_client_error_fails_like_a_single_instance(run_module, healthy):
    result = run_module(ollama_health, {'targets': [{'url': healthy.url}], 'api_key': API_KEY + '\nX-Injected: 1'})
    assert result['failed'] is True
    assert result['msg'] == ('api_key cannot be sent in an HTTP header: it contains spaces, line breaks, '
                             'control or non-ASCII characters')
    assert healthy.requests == []


def test_targets_loaded_per_target_and_none_for_the_one_down(run_module, healthy, other_ollama, fake_ollama):
    """Every target that answered gets its GET /api/ps read, a failed read is only that target's loaded_error, and
    a target that is down gets no GET /api/ps; in check mode too."""
    other_ollama.serve_healthy(running=[ps_entry('qwen2:7b', 2_000, 500)])
    other_ollama.set('GET', '/api/ps', 500, {'error': 'boom'})
    third = type(fake_ollama)()
    third.start()
    try:
        third.serve_healthy(running=[ps_entry('qwen2:7b', 2_000, 500)])
        third.set('GET', '/', 503, {'error': 'server busy'})
        result = run_module(ollama_health, {'targets': [
            {'url': healthy.url, 'item': {'port': 11434}},
            {'url': other_ollama.url, 'item': {'port': 11435}},
            {'url': third.url, 'instance': 'down', 'item': {'port': 11436}},
        ], 'loaded': True, 'wait_timeout': 0.3, 'interval': 0.1}, check_mode=True)
        assert result['failed'] is True
        assert result['msg'].startswith('instance down: ready failed: not ready within 0.3s')
        up, broken, down = result['results']
        assert up['failed'] is False and up['loaded'] == loaded_of(ps_entry()) and up['loaded_error'] is None
        assert broken['failed'] is False and broken['loaded'] is None
        assert broken['loaded_error'] == 'GET %s/api/ps failed: HTTP 500: boom' % other_ollama.url
        assert down['failed'] is True and down['loaded'] is None
        assert down['loaded_error'] == 'not read: the instance did not answer'
        for server in (healthy, other_ollama):
            assert server.paths() == ['/', '/api/version', '/api/tags', '/api/ps']
        assert '/api/ps' not in third.paths()
    finally:
        third.stop()


def test_targets_loaded_not_read_unless_asked(run_module, healthy, other_ollama):
    other_ollama.serve_healthy(running=[ps_entry()])
    result = run_module(ollama_health, {'targets': [{'url': healthy.url}, {'url': other_ollama.url}]})
    assert not result.get('failed'), result['msg']
    for r in result['results']:
        assert r['loaded'] is None and r['loaded_error'] is None
    for server in (healthy, other_ollama):
        assert '/api/ps' not in server.paths()
