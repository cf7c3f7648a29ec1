# -*- coding: utf-8 -*-
# Copyright (c) 2026, gpufleet maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Fixtures for the module and module_utils unit tests.

- run_module: run a module's main() under patch_module_args and return its JSON result.
- fake_ollama: a tiny local HTTP server on 127.0.0.1 serving canned Ollama answers.
- dead_url: a URL on which nothing listens (connection refused).
- model_store: writes manifests and config blobs of a model store into a temp directory.
"""

from __future__ import annotations

import collections
import hashlib
import json
import os
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from ansible.module_utils.common import warnings as ansible_warnings
from ansible.module_utils.testing import patch_module_args

from ansible_collections.gpufleet.ollama.tests.unit.plugins.module_utils.tls_helpers import make_pki, tls_server


# ---------------------------------------------------------------------------
# Running a module
# ---------------------------------------------------------------------------

@pytest.fixture
def run_module(capsys):
    """``run_module(module, args, check_mode=False, diff=False)`` -> the result dict (``failed`` set on failure)."""

    def _run(module, args, check_mode=False, diff=False):
        args = dict(args, _ansible_check_mode=check_mode, _ansible_diff=diff)
        # warnings are module-global in ansible-core; a real module process starts with none
        ansible_warnings._global_warnings.clear()
        ansible_warnings._global_deprecations.clear()
        capsys.readouterr()
        with patch_module_args(args):
            with pytest.raises(SystemExit) as exit_info:
                module.main()
        out = capsys.readouterr().out
        result = json.loads(out.strip().splitlines()[-1])
        assert bool(result.get('failed')) == (exit_info.value.code not in (0, None)), result
        # core 2.19 sends WarningSummary objects; the tests only care about the text
        result['warnings'] = [w if isinstance(w, str) else w['event']['msg'] for w in result.get('warnings', [])]
        return result

    return _run


# ---------------------------------------------------------------------------
# A fake Ollama server
# ---------------------------------------------------------------------------

class FakeOllama:
    """Canned answers by (method, path).

    A route is ``(status, body)`` where body is a dict/list (sent as JSON), a str or bytes;
    or a callable ``(request) -> (status, body)``; or ``'close'`` to drop the connection.
    ``requests`` records ``dict(method, path, body, headers)`` of every request.
    """

    def __init__(self):
        self.routes = {}
        self.requests = []
        self.delay = 0.0
        handler = self._handler_class()
        self.server = ThreadingHTTPServer(('127.0.0.1', 0), handler)
        self.server.daemon_threads = True
        self.url = 'http://127.0.0.1:%d' % self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs=dict(poll_interval=0.01), daemon=True)

    def set(self, method, path, status, body=None):
        self.routes[(method, path)] = (status, body)

    def serve_healthy(self, version='0.12.3', models=(), running=()):
        """The answers of a healthy instance."""
        self.set('GET', '/', 200, 'Ollama is running')
        self.set('HEAD', '/', 200, '')
        self.set('GET', '/api/version', 200, {'version': version})
        self.set('GET', '/api/tags', 200, {'models': [self.tags_entry(m) for m in models]})
        self.set('GET', '/api/ps', 200, {'models': list(running)})

    @staticmethod
    def tags_entry(name, size=1000, digest='0' * 64):
        """One /api/tags entry."""
        return dict(name=name, model=name, modified_at='2026-09-01T10:00:00Z', size=size, digest=digest,
                    details=dict(parent_model='', format='gguf', family='llama', families=['llama'],
                                 parameter_size='1B', quantization_level='Q4_K_M'))

    def paths(self, method=None):
        return [r['path'] for r in self.requests if method in (None, r['method'])]

    def _answer(self, request):
        route = self.routes.get((request['method'], request['path']))
        if route is None:
            return 404, '404 page not found'
        if callable(route):
            return route(request)
        return route

    def _handler_class(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = 'HTTP/1.1'

            def _handle(self):
                length = int(self.headers.get('Content-Length') or 0)
                raw = self.rfile.read(length) if length else b''
                request = dict(method=self.command, path=self.path, headers=dict(self.headers),
                               body=json.loads(raw) if raw else None)
                fake.requests.append(request)
                if fake.delay:
                    time.sleep(fake.delay)
                answer = fake._answer(request)
                if answer == 'close':
                    self.close_connection = True
                    self.connection.shutdown(socket.SHUT_RDWR)
                    return
                status, body = answer
                if isinstance(body, (dict, list)):
                    data, ctype = json.dumps(body).encode(), 'application/json; charset=utf-8'
                else:
                    data = body.encode() if isinstance(body, str) else (body or b'')
                    ctype = 'text/plain; charset=utf-8'
                self.send_response(status)
                self.send_header('Content-Type', ctype)
                self.send_header('Content-Length', str(len(data)))
                self.end_headers()
                if self.command != 'HEAD':
                    self.wfile.write(data)

            do_GET = do_POST = do_HEAD = do_DELETE = _handle

            def log_message(self, *args):
                pass

        return Handler

    def start(self):
        self.thread.start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def fake_ollama():
    server = FakeOllama()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def dead_url():
    """A URL on 127.0.0.1 where nothing listens."""
    sock = socket.socket()
    sock.bind(('127.0.0.1', 0))
    port = sock.getsockname()[1]
    sock.close()
    return 'http://127.0.0.1:%d' % port


# ---------------------------------------------------------------------------
# A model store on disk
# ---------------------------------------------------------------------------

StoredModel = collections.namedtuple('StoredModel', 'path raw config_path')


class ModelStore:
    """Writes ``manifests/<host>/<namespace>/<model>/<tag>`` and ``blobs/sha256-<hex>`` like Ollama."""

    def __init__(self, root):
        self.root = str(root)

    def blob(self, data):
        digest = hashlib.sha256(data).hexdigest()
        path = os.path.join(self.root, 'blobs', 'sha256-' + digest)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, 'wb') as f:
            f.write(data)
        return 'sha256:' + digest, path

    def add(self, relpath, config=None, layer_sizes=(100,), write_config=True, mtime=None):
        """Add a model; returns a StoredModel(path, raw, config_path): manifest path and bytes, config blob path."""
        config = config if config is not None else {
            'model_format': 'gguf', 'model_family': 'llama', 'model_families': ['llama'],
            'model_type': '1.2B', 'file_type': 'Q4_K_M', 'architecture': 'amd64', 'os': 'linux'}
        config_bytes = json.dumps(config).encode()
        config_digest = 'sha256:' + hashlib.sha256(config_bytes).hexdigest()
        config_path = os.path.join(self.root, 'blobs', config_digest.replace(':', '-'))
        if write_config:
            self.blob(config_bytes)
        manifest = {
            'schemaVersion': 2,
            'mediaType': 'application/vnd.docker.distribution.manifest.v2+json',
            'config': {'mediaType': 'application/vnd.docker.container.image.v1+json',
                       'digest': config_digest, 'size': len(config_bytes)},
            'layers': [{'mediaType': 'application/vnd.ollama.image.model',
                        'digest': 'sha256:%064x' % i, 'size': size}
                       for i, size in enumerate(layer_sizes)],
        }
        # not json.dumps' default spacing, so a re-serialised manifest would give another digest
        raw = json.dumps(manifest, separators=(',', ':')).encode()
        path = os.path.join(self.root, 'manifests', *relpath.split('/'))
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, 'wb') as f:
            f.write(raw)
        if mtime is not None:
            os.utime(path, (mtime, mtime))
        return StoredModel(path, raw, config_path)


@pytest.fixture
def model_store(tmp_path):
    store = ModelStore(tmp_path / 'models')
    os.makedirs(store.root)
    return store


# ---------------------------------------------------------------------------
# TLS (tests/unit/plugins/module_utils/tls_helpers.py)
# ---------------------------------------------------------------------------

@pytest.fixture(scope='session')
def pki(tmp_path_factory):
    """A throw-away CA with server and client certificates, made once per session."""
    return make_pki(tmp_path_factory.mktemp('pki'))


@pytest.fixture
def tls_ollama(fake_ollama, pki):
    """The fake Ollama server of fake_ollama, on https with a certificate of that CA."""
    with tls_server(type(fake_ollama), pki) as server:
        yield server


@pytest.fixture
def mtls_ollama(fake_ollama, pki):
    """The same, requiring a client certificate of that CA."""
    with tls_server(type(fake_ollama), pki, client_ca=pki.ca) as server:
        yield server
