# -*- coding: utf-8 -*-
# Copyright (c) 2026, gpufleet maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""PRIVATE helpers shared by the gpufleet.ollama modules.

Not a public API: names and signatures may change without notice.

- OllamaError: the one exception type raised by everything here.
- OllamaClient: a small JSON client for the Ollama HTTP API (open_url, no streaming).
- read_store(): lists a model store from disk the way GET /api/tags does.
- CommandRunner / command_runner(): argv-list commands in the C locale, never a shell.
- normalize_model_name() / same_model(): model name handling.
"""

from __future__ import annotations

import datetime
import glob
import hashlib
import http.client
import json
import os
import socket
import urllib.error

from ansible.module_utils.common.text.converters import to_bytes, to_text
from ansible.module_utils.urls import ConnectionError as UrlsConnectionError
from ansible.module_utils.urls import open_url

DEFAULT_URL = 'http://127.0.0.1:11434'
DEFAULT_HOST = 'registry.ollama.ai'
DEFAULT_NAMESPACE = 'library'
DEFAULT_TAG = 'latest'

# Matches plugins/doc_fragments/ollama.py
OLLAMA_COMMON_ARGS = dict(
    url=dict(type='str', default=DEFAULT_URL),
    timeout=dict(type='float', default=10.0),
)

C_LOCALE = {'LANG': 'C', 'LC_ALL': 'C', 'LC_MESSAGES': 'C'}


class OllamaError(Exception):
    """Any failure talking to Ollama, reading its store or running a command.

    ``status`` is the HTTP status of the answer, or None when no HTTP answer
    arrived at all (connection refused, timeout, DNS, TLS ...).
    """

    def __init__(self, msg, status=None):
        super().__init__(msg)
        self.status = status

    @property
    def unreachable(self):
        return self.status is None


# ---------------------------------------------------------------------------
# Model names
# ---------------------------------------------------------------------------

def normalize_model_name(name):
    """Return the display form of a model name, with the tag always present.

    ``llama3.2`` -> ``llama3.2:latest``;
    ``registry.ollama.ai/library/qwen2:7b`` -> ``qwen2:7b``;
    ``myorg/foo`` -> ``myorg/foo:latest``. The case is kept (see same_model()).
    """
    parts = name.strip().split('/')
    if ':' not in parts[-1]:
        parts[-1] += ':' + DEFAULT_TAG
    if len(parts) == 3 and parts[0].lower() == DEFAULT_HOST:
        parts = parts[1:]
    if len(parts) == 2 and parts[0].lower() == DEFAULT_NAMESPACE:
        parts = parts[1:]
    return '/'.join(parts)


def same_model(a, b):
    """Compare two model names the way Ollama looks them up: normalised, case-insensitive."""
    return normalize_model_name(a).lower() == normalize_model_name(b).lower()


def display_name(host, namespace, model, tag):
    """Shortest display name, like Ollama's Name.DisplayShortest()."""
    if host.lower() != DEFAULT_HOST:
        return '%s/%s/%s:%s' % (host, namespace, model, tag)
    if namespace.lower() != DEFAULT_NAMESPACE:
        return '%s/%s:%s' % (namespace, model, tag)
    return '%s:%s' % (model, tag)


# ---------------------------------------------------------------------------
# HTTP API
# ---------------------------------------------------------------------------

def _error_text(body, fallback):
    """The message of an error body: ``{"error": "..."}`` (native or OpenAI style), else the text."""
    text = to_text(body or b'', errors='surrogate_or_replace').strip()
    try:
        data = json.loads(text)
    except ValueError:
        return text[:300] or fallback
    if isinstance(data, dict) and data.get('error'):
        error = data['error']
        if isinstance(error, dict):
            error = error.get('message', error)
        return to_text(error)
    return text[:300] or fallback


class OllamaClient:
    """JSON over HTTP against one Ollama instance.

    Every failure becomes an OllamaError whose message names the method, the
    full URL and the reason, e.g.
    ``GET http://10.0.0.5:11434/api/tags failed: HTTP 404: model 'x' not found``.
    """

    def __init__(self, url=DEFAULT_URL, timeout=10.0):
        url = url.strip()
        if '://' not in url:
            url = 'http://' + url   # accept OLLAMA_HOST style "host:port"
        self.base_url = url.rstrip('/')
        self.timeout = timeout

    @classmethod
    def from_module(cls, module):
        return cls(module.params['url'], module.params['timeout'])

    def url_for(self, path):
        return self.base_url + path

    def request(self, method, path, body=None, timeout=None):
        """Send one request; return ``(status, raw body bytes)``.

        HTTP errors (4xx/5xx) and connection problems raise OllamaError.
        """
        url = self.url_for(path)
        timeout = self.timeout if timeout is None else timeout
        data = None
        headers = {'Accept': 'application/json'}
        if body is not None:
            data = to_bytes(json.dumps(body))
            headers['Content-Type'] = 'application/json'
        where = '%s %s failed: ' % (method, url)
        try:
            response = open_url(url, data=data, headers=headers, method=method, timeout=timeout,
                                use_proxy=False, http_agent='gpufleet.ollama')
            return response.status, response.read()
        except urllib.error.HTTPError as e:
            try:
                err_body = e.read()
            except Exception:   # the error body is only a nicety
                err_body = b''
            raise OllamaError(where + 'HTTP %d: %s' % (e.code, _error_text(err_body, e.reason)), status=e.code)
        except urllib.error.URLError as e:
            raise OllamaError(where + 'cannot connect: %s' % to_text(e.reason))
        except (socket.timeout, TimeoutError):
            raise OllamaError(where + 'no answer within %gs' % timeout)
        except (OSError, http.client.HTTPException, UrlsConnectionError) as e:
            raise OllamaError(where + 'connection error: %s' % (to_text(e) or type(e).__name__))

    def _json(self, method, path, status, raw):
        text = to_text(raw, errors='surrogate_or_replace')
        try:
            data = json.loads(text) if text.strip() else {}
        except ValueError:
            raise OllamaError('%s %s failed: invalid JSON in the answer: %r' % (method, self.url_for(path), text[:200]),
                              status=status)
        if isinstance(data, dict) and data.get('error'):
            raise OllamaError('%s %s failed: HTTP %d: %s' % (method, self.url_for(path), status, _error_text(raw, '')),
                              status=status)
        return data

    def get_text(self, path, timeout=None):
        """GET and return ``(status, text)``; for non-JSON endpoints such as ``/``."""
        status, raw = self.request('GET', path, timeout=timeout)
        return status, to_text(raw, errors='surrogate_or_replace')

    def get_json(self, path, timeout=None):
        """GET and return ``(status, parsed JSON)``."""
        status, raw = self.request('GET', path, timeout=timeout)
        return status, self._json('GET', path, status, raw)

    def post_json(self, path, body, timeout=None):
        """POST a JSON body (``stream`` forced to false unless given) and return ``(status, parsed JSON)``."""
        body = dict(body)
        body.setdefault('stream', False)
        status, raw = self.request('POST', path, body=body, timeout=timeout)
        return status, self._json('POST', path, status, raw)

    def head(self, path, timeout=None):
        """HEAD and return the status; 4xx/5xx are returned, only connection problems raise."""
        try:
            return self.request('HEAD', path, timeout=timeout)[0]
        except OllamaError as e:
            if e.unreachable:
                raise
            return e.status

    def get_field(self, path, field, timeout=None):
        """GET a JSON object and return one of its fields (None when absent)."""
        data = self.get_json(path, timeout=timeout)[1]
        if not isinstance(data, dict):
            raise OllamaError('GET %s failed: expected a JSON object, got %r' % (self.url_for(path), data))
        return data.get(field)

    def list_models(self, path='/api/tags'):
        """The ``models`` list of ``GET /api/tags`` (or ``/api/ps``)."""
        return self.get_field(path, 'models') or []


# ---------------------------------------------------------------------------
# Model store on disk
# ---------------------------------------------------------------------------

def _blob_path(models_dir, digest):
    return os.path.join(models_dir, 'blobs', digest.replace(':', '-', 1))


def _read_manifest(models_dir, path, name):
    """Build the /api/tags entry of one manifest file; raise ValueError/OSError when unusable."""
    with open(path, 'rb') as f:
        raw = f.read()
    try:
        manifest = json.loads(to_text(raw))
        config_ref = manifest.get('config') or {}
        layers = manifest.get('layers') or []
        size = int(config_ref.get('size') or 0) + sum(int(layer.get('size') or 0) for layer in layers)
    except (ValueError, AttributeError, TypeError):
        raise ValueError('manifest %s is not a valid manifest' % path)
    config_path = _blob_path(models_dir, config_ref.get('digest') or 'missing')
    try:
        with open(config_path, 'rb') as f:
            config = json.loads(to_text(f.read()))
    except OSError as e:
        raise ValueError('config blob %s is unreadable: %s' % (config_path, e.strerror or e))
    except ValueError:
        config = None
    if not isinstance(config, dict):
        raise ValueError('config blob %s is not a JSON object' % config_path)
    mtime = os.stat(path).st_mtime
    return dict(
        name=name,
        model=name,
        modified_at=datetime.datetime.fromtimestamp(mtime, datetime.timezone.utc).astimezone().isoformat(),
        size=size,
        digest=hashlib.sha256(raw).hexdigest(),
        details=dict(
            parent_model='',
            format=config.get('model_format', ''),
            family=config.get('model_family', ''),
            families=config.get('model_families'),
            parameter_size=config.get('model_type', ''),
            quantization_level=config.get('file_type', ''),
        ),
        _mtime=mtime,
    )


def read_store(models_dir):
    """List the models of an Ollama store (``$OLLAMA_MODELS``) from disk.

    Returns ``(models, warnings)``: ``models`` has the shape of ``GET /api/tags``
    (newest first); a model whose manifest or config blob cannot be read is
    skipped with a warning, as the server does.
    """
    if not os.path.isdir(models_dir):
        raise OllamaError('model store %s does not exist or is not a directory' % models_dir)
    manifests_dir = os.path.join(models_dir, 'manifests')
    models, warnings = [], []
    # Exactly four levels: <host>/<namespace>/<model>/<tag>, like manifest.Manifests()
    for path in sorted(glob.glob(os.path.join(glob.escape(manifests_dir), '*', '*', '*', '*'))):
        if not os.path.isfile(path):
            continue
        name = display_name(*os.path.relpath(path, manifests_dir).split(os.sep))
        try:
            models.append(_read_manifest(models_dir, path, name))
        except (OSError, ValueError) as e:
            warnings.append('skipping model %s from the store %s: %s' % (name, models_dir, to_text(e)))
    models.sort(key=lambda m: m['_mtime'], reverse=True)
    for model in models:
        del model['_mtime']
    return models, warnings


# ---------------------------------------------------------------------------
# Commands
# ---------------------------------------------------------------------------

class CommandRunner:
    """Run one executable with argv lists in the C locale (output gets parsed), never via a shell."""

    def __init__(self, module, binary, environ=None):
        self.module = module
        self.binary = binary
        self.environ = dict(C_LOCALE)
        self.environ.update(environ or {})

    def argv(self, *args):
        return [self.binary] + [to_text(a) for a in args]

    def run(self, *args, **kwargs):
        """Return ``(rc, stdout, stderr)``; a non-zero rc is the caller's business."""
        return self.module.run_command(self.argv(*args), environ_update=self.environ,
                                       expand_user_and_vars=False, **kwargs)

    def run_ok(self, *args, **kwargs):
        """Return stdout; raise OllamaError on a non-zero rc, with the command and its stderr."""
        rc, out, err = self.run(*args, **kwargs)
        if rc != 0:
            why = err.strip() or out.strip() or 'no output'
            raise OllamaError('%s failed (rc=%d): %s' % (' '.join(self.argv(*args)), rc, why))
        return out


def command_runner(module, name, path=None, environ=None, opt_dirs=None):
    """A CommandRunner for ``path`` or for ``name`` looked up on PATH (+ opt_dirs); fails the module if missing."""
    binary = path or module.get_bin_path(name, required=True, opt_dirs=opt_dirs)
    return CommandRunner(module, binary, environ)
