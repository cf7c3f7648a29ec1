# -*- coding: utf-8 -*-
# Copyright (c) 2026, gpufleet maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import datetime
import hashlib
import os
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from unittest import mock

import pytest
import yaml

from ansible_collections.gpufleet.ollama.plugins.doc_fragments.ollama import ModuleDocFragment
from ansible_collections.gpufleet.ollama.plugins.module_utils._ollama import (
    OLLAMA_COMMON_ARGS,
    CommandRunner,
    OllamaClient,
    OllamaError,
    command_runner,
    display_name,
    read_store,
)
from ansible_collections.gpufleet.ollama.plugins.module_utils._names import normalize_model_name, same_model
from ansible_collections.gpufleet.ollama.tests.unit.plugins.module_utils.tls_helpers import (
    available_backends,
    make_pki,
    tls_server,
)

API_KEY = 'sk-gpufleet-test-0123456789abcdef'


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


def test_common_args_match_the_doc_fragment():
    options = yaml.safe_load(ModuleDocFragment.DOCUMENTATION)['options']
    assert sorted(options) == sorted(OLLAMA_COMMON_ARGS)
    for name, spec in OLLAMA_COMMON_ARGS.items():
        assert options[name]['type'] == spec['type'], name
        assert options[name].get('default') == spec.get('default'), name
        assert options[name]['description'], name
    assert OLLAMA_COMMON_ARGS['validate_certs']['default'] is True
    assert OLLAMA_COMMON_ARGS['api_key']['no_log'] is True
    assert OLLAMA_COMMON_ARGS['api_key']['fallback'][1] == ['OLLAMA_API_KEY']
    assert [k for k, spec in OLLAMA_COMMON_ARGS.items() if spec.get('no_log')] == ['api_key']


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
# TLS and API key
# ---------------------------------------------------------------------------

def test_https_verified_with_ca_path(tls_ollama, pki):
    tls_ollama.serve_healthy(version='0.12.3')
    client = OllamaClient(tls_ollama.url, ca_path=pki.ca)
    assert client.base_url.startswith('https://127.0.0.1:')
    assert client.get_field('/api/version', 'version') == '0.12.3'
    assert client.get_text('/') == (200, 'Ollama is running')
    assert tls_ollama.paths() == ['/api/version', '/']


def test_https_without_ca_path_fails_verification(tls_ollama):
    tls_ollama.serve_healthy()
    with pytest.raises(OllamaError) as e:
        OllamaClient(tls_ollama.url).get_json('/api/version')
    msg = str(e.value)
    assert msg.startswith('GET %s/api/version failed: TLS certificate verification failed: ' % tls_ollama.url)
    assert 'certificate' in msg[len('GET %s/api/version failed: TLS certificate verification failed: ' % tls_ollama.url):]
    assert msg.endswith(' (CA used: the system CA store; set ca_path to the CA that signed the server certificate)')
    assert e.value.permanent
    assert not e.value.unreachable
    assert e.value.status is None
    assert tls_ollama.requests == []


def test_https_with_the_wrong_ca_names_it(tls_ollama, pki):
    tls_ollama.serve_healthy()
    with pytest.raises(OllamaError) as e:
        OllamaClient(tls_ollama.url, ca_path=pki.other_ca).get_json('/api/version')
    assert str(e.value).startswith('GET %s/api/version failed: TLS certificate verification failed: ' % tls_ollama.url)
    assert str(e.value).endswith(' (CA used: ca_path %s)' % pki.other_ca)
    assert e.value.permanent
    assert tls_ollama.requests == []


def test_https_validate_certs_false_skips_verification(tls_ollama, pki):
    tls_ollama.serve_healthy(version='0.12.3')
    assert OllamaClient(tls_ollama.url, validate_certs=False).get_field('/api/version', 'version') == '0.12.3'
    # a wrong CA does not matter either when nothing is verified
    assert OllamaClient(tls_ollama.url, validate_certs=False, ca_path=pki.other_ca).head('/') == 200


def test_missing_ca_path_is_a_clear_error(tls_ollama, tmp_path):
    missing = str(tmp_path / 'nowhere.pem')
    with pytest.raises(OllamaError) as e:
        OllamaClient(tls_ollama.url, ca_path=missing).get_json('/api/version')
    assert str(e.value).startswith('GET %s/api/version failed: cannot load the CA certificates from ca_path %s: '
                                   % (tls_ollama.url, missing))
    assert 'No such file or directory' in str(e.value)
    assert e.value.permanent


def test_ca_path_without_certificates_is_a_clear_error(tls_ollama, tmp_path):
    not_pem = tmp_path / 'ca.pem'
    not_pem.write_text('not a certificate\n')
    with pytest.raises(OllamaError, match=r'cannot load the CA certificates from ca_path %s: ' % not_pem):
        OllamaClient(tls_ollama.url, ca_path=str(not_pem)).get_json('/api/version')


def test_https_to_a_plain_http_server(fake_ollama, pki):
    fake_ollama.serve_healthy()
    url = 'https://' + fake_ollama.url[len('http://'):]
    with pytest.raises(OllamaError) as e:
        OllamaClient(url, ca_path=pki.ca).get_json('/api/version')
    assert str(e.value).startswith('GET %s/api/version failed: TLS error: ' % url)
    assert str(e.value).endswith('(does the server speak TLS on this port?)')
    assert e.value.permanent


@pytest.mark.parametrize('key_args', ['separate', 'combined'])
def test_mutual_tls_with_a_client_certificate(mtls_ollama, pki, key_args):
    mtls_ollama.serve_healthy(version='0.12.3')
    if key_args == 'separate':
        client = OllamaClient(mtls_ollama.url, ca_path=pki.ca, client_cert=pki.client_cert, client_key=pki.client_key)
    else:
        client = OllamaClient(mtls_ollama.url, ca_path=pki.ca, client_cert=pki.client_combined)
    assert client.get_field('/api/version', 'version') == '0.12.3'


def test_mutual_tls_without_a_client_certificate_fails(mtls_ollama, pki):
    mtls_ollama.serve_healthy()
    with pytest.raises(OllamaError) as e:
        OllamaClient(mtls_ollama.url, ca_path=pki.ca).get_json('/api/version')
    assert str(e.value).startswith('GET %s/api/version failed: ' % mtls_ollama.url)
    assert 'TLS' in str(e.value) or 'connection' in str(e.value)
    assert mtls_ollama.requests == []


def test_unusable_client_certificate(tls_ollama, pki, tmp_path):
    with pytest.raises(OllamaError) as e:
        OllamaClient(tls_ollama.url, ca_path=pki.ca, client_cert=pki.client_cert,
                     client_key=pki.server_key).get_json('/api/version')
    assert str(e.value).startswith('GET %s/api/version failed: cannot load the client certificate %s with the key %s: '
                                   % (tls_ollama.url, pki.client_cert, pki.server_key))
    assert e.value.permanent
    with pytest.raises(OllamaError, match='client_key %s is set without client_cert' % pki.client_key):
        OllamaClient(tls_ollama.url, client_key=pki.client_key)


def test_bearer_key_arrives_over_https(tls_ollama, pki):
    tls_ollama.serve_healthy()
    tls_ollama.set('POST', '/api/generate', 200, {'response': 'pong', 'done': True})
    client = OllamaClient(tls_ollama.url, ca_path=pki.ca, api_key=' %s\n' % API_KEY)   # as read from a file
    client.get_json('/api/version')
    client.post_json('/api/generate', {'model': 'm', 'prompt': 'p'})
    client.head('/')
    assert [r['headers'].get('Authorization') for r in tls_ollama.requests] == ['Bearer ' + API_KEY] * 3


@pytest.mark.parametrize('api_key', [None, '', '  '])
def test_no_key_no_authorization_header(fake_ollama, api_key):
    fake_ollama.serve_healthy()
    OllamaClient(fake_ollama.url, api_key=api_key).get_json('/api/version')
    assert 'Authorization' not in fake_ollama.requests[-1]['headers']


def test_netrc_does_not_replace_the_key(fake_ollama, tmp_path, monkeypatch):
    netrc = tmp_path / 'netrc'
    netrc.write_text('machine 127.0.0.1 login someone password secret\n')
    netrc.chmod(0o600)
    monkeypatch.setenv('NETRC', str(netrc))
    fake_ollama.serve_healthy()
    OllamaClient(fake_ollama.url, api_key=API_KEY).get_json('/api/version')
    OllamaClient(fake_ollama.url).get_json('/api/version')
    assert [r['headers'].get('Authorization') for r in fake_ollama.requests] == ['Bearer ' + API_KEY, None]


def test_refused_key_is_permanent_and_absent_from_the_message(fake_ollama):
    fake_ollama.set('GET', '/api/tags', 401, {'error': 'invalid API key %s' % API_KEY})
    fake_ollama.set('POST', '/api/generate', 200, {'error': 'key %s has no access to this model' % API_KEY})
    fake_ollama.set('GET', '/api/ps', 200, 'not json, but echoes %s' % API_KEY)
    client = OllamaClient(fake_ollama.url, api_key=API_KEY)
    with pytest.raises(OllamaError) as e:
        client.list_models()
    assert str(e.value) == ('GET %s/api/tags failed: HTTP 401: invalid API key ******** (the api_key was refused)'
                            % fake_ollama.url)
    assert e.value.permanent and e.value.status == 401
    with pytest.raises(OllamaError) as e:
        client.post_json('/api/generate', {'model': 'm'})
    assert str(e.value) == 'POST %s/api/generate failed: HTTP 200: key ******** has no access to this model' % fake_ollama.url
    with pytest.raises(OllamaError) as e:
        client.get_json('/api/ps')
    assert API_KEY not in str(e.value)
    assert '********' in str(e.value)


def test_key_near_the_cut_of_a_long_error_body_is_not_shown_in_part(fake_ollama):
    fake_ollama.set('GET', '/api/tags', 502, 'x' * 290 + ' ' + API_KEY)
    fake_ollama.set('GET', '/api/ps', 200, 'y' * 190 + ' ' + API_KEY)
    client = OllamaClient(fake_ollama.url, api_key=API_KEY)
    for path in ('/api/tags', '/api/ps'):
        with pytest.raises(OllamaError) as e:
            client.list_models(path)
        assert API_KEY[:8] not in str(e.value), path
        assert '****' in str(e.value), path


def test_missing_key_says_how_to_set_it(fake_ollama):
    fake_ollama.set('GET', '/api/tags', 401, {'error': 'unauthorized'})
    fake_ollama.set('GET', '/api/ps', 403, {'error': 'forbidden'})
    with pytest.raises(OllamaError) as e:
        OllamaClient(fake_ollama.url).list_models()
    assert str(e.value) == ('GET %s/api/tags failed: HTTP 401: unauthorized '
                            '(the server wants an API key: set api_key or OLLAMA_API_KEY)' % fake_ollama.url)
    with pytest.raises(OllamaError) as e:
        OllamaClient(fake_ollama.url).list_models('/api/ps')
    assert e.value.permanent and e.value.status == 403


def test_http_5xx_is_not_permanent(fake_ollama):
    fake_ollama.set('GET', '/api/tags', 502, 'bad gateway')
    with pytest.raises(OllamaError) as e:
        OllamaClient(fake_ollama.url, api_key=API_KEY).list_models()
    assert not e.value.permanent and not e.value.unreachable


@pytest.mark.parametrize('bad_key', [API_KEY + '\r\nX-Injected: 1', 'sk key', API_KEY + '\u00e9'])
def test_key_that_cannot_be_a_header_is_refused_without_showing_it(bad_key):
    with pytest.raises(OllamaError) as e:
        OllamaClient('http://127.0.0.1:1', api_key=bad_key)
    assert str(e.value) == ('api_key cannot be sent in an HTTP header: it contains spaces, line breaks, '
                            'control or non-ASCII characters')
    assert 'sk' not in str(e.value).replace('spaces', '')


def test_key_is_not_sent_on_redirects(fake_ollama):
    """A redirect (say to another host) must not carry the key along."""
    fake_ollama.serve_healthy(version='0.12.3')

    class Redirect(BaseHTTPRequestHandler):
        seen = []

        def do_GET(self):
            Redirect.seen.append(self.headers.get('Authorization'))
            self.send_response(307)
            self.send_header('Location', fake_ollama.url + self.path)
            self.send_header('Content-Length', '0')
            self.end_headers()

        def log_message(self, *args):
            pass

    redirector = ThreadingHTTPServer(('127.0.0.1', 0), Redirect)
    thread = threading.Thread(target=redirector.serve_forever, kwargs=dict(poll_interval=0.01), daemon=True)
    thread.start()
    try:
        url = 'http://127.0.0.1:%d' % redirector.server_address[1]
        assert OllamaClient(url, api_key=API_KEY).get_field('/api/version', 'version') == '0.12.3'
    finally:
        redirector.shutdown()
        redirector.server_close()
    assert Redirect.seen == ['Bearer ' + API_KEY]
    assert fake_ollama.requests[-1]['path'] == '/api/version'
    assert 'Authorization' not in fake_ollama.requests[-1]['headers']


def test_redact():
    client = OllamaClient(api_key=API_KEY)
    assert client.redact('a %s b %s' % (API_KEY, API_KEY)) == 'a ******** b ********'
    assert OllamaClient().redact('nothing to hide') == 'nothing to hide'


@pytest.mark.parametrize('backend', ['cryptography', 'openssl'])
def test_both_test_pki_backends_make_a_usable_pki(fake_ollama, tmp_path, backend):
    """The TLS tests use python cryptography, or openssl where it is missing; both must give a working PKI."""
    if backend not in available_backends():
        pytest.skip('%s is not available here' % backend)
    pki = make_pki(tmp_path, backend)
    with tls_server(type(fake_ollama), pki) as server:
        server.serve_healthy(version='0.12.3')
        assert OllamaClient(server.url, ca_path=pki.ca).get_field('/api/version', 'version') == '0.12.3'
        with pytest.raises(OllamaError, match='TLS certificate verification failed'):
            OllamaClient(server.url, ca_path=pki.other_ca).get_json('/api/version')


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
