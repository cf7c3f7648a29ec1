# -*- coding: utf-8 -*-
# Copyright (c) 2026, gpufleet maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""PRIVATE helpers shared by the gpufleet.ollama modules.

Not a public API: names and signatures may change without notice.

- OllamaClient: a small JSON client for the Ollama HTTP API (ansible's urls.Request, no streamed answers;
  blob uploads stream the file), over http or https (validate_certs, ca_path, client_cert/client_key)
  with an optional bearer API key.
- read_store(): lists a model store from disk the way GET /api/tags does.
- CommandRunner / command_runner(): argv-list commands in the C locale, never a shell.
- OllamaError (from _names, with normalize_model_name() / same_model(): no HTTP client there, the controller's
  filters import it).
"""

from __future__ import annotations

import datetime
import glob
import hashlib
import http.client
import json
import os
import socket
import ssl
import urllib.error

from ansible.module_utils.basic import env_fallback
from ansible.module_utils.common.text.converters import to_bytes, to_text
from ansible.module_utils.urls import ConnectionError as UrlsConnectionError
from ansible.module_utils.urls import Request, make_context

from ansible_collections.gpufleet.ollama.plugins.module_utils._names import OllamaError, display_name
from ansible_collections.gpufleet.ollama.plugins.module_utils._names import blob_path as _blob_path

DEFAULT_URL = 'http://127.0.0.1:11434'

# Matches plugins/doc_fragments/ollama.py; the names are those of ansible's url_argument_spec().
OLLAMA_COMMON_ARGS = dict(
    url=dict(type='str', default=DEFAULT_URL),
    timeout=dict(type='float', default=10.0),
    validate_certs=dict(type='bool', default=True),
    ca_path=dict(type='path'),
    client_cert=dict(type='path'),
    client_key=dict(type='path'),
    api_key=dict(type='str', no_log=True, fallback=(env_fallback, ['OLLAMA_API_KEY'])),
)

# AnsibleModule(required_by=...) for OLLAMA_COMMON_ARGS
OLLAMA_COMMON_REQUIRED_BY = dict(client_key=['client_cert'])

REDACTED = '********'

C_LOCALE = {'LANG': 'C', 'LC_ALL': 'C', 'LC_MESSAGES': 'C'}


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
    """JSON over HTTP(S) against one Ollama instance or a gateway in front of it.

    Every failure becomes an OllamaError whose message names the method, the
    full URL and the reason, e.g.
    ``GET http://10.0.0.5:11434/api/tags failed: HTTP 404: model 'x' not found``.

    ``api_key`` is sent as ``Authorization: Bearer <api_key>`` (not on redirects)
    and is replaced by ``********`` wherever it could show up in a message.
    """

    def __init__(self, url=DEFAULT_URL, timeout=10.0, validate_certs=True, ca_path=None,
                 client_cert=None, client_key=None, api_key=None):
        url = url.strip()
        if '://' not in url:
            url = 'http://' + url   # accept OLLAMA_HOST style "host:port"
        self.base_url = url.rstrip('/')
        self.timeout = timeout
        self.validate_certs = validate_certs
        self.ca_path = ca_path
        self.client_cert = client_cert
        self.client_key = client_key
        self._api_key = (api_key or '').strip() or None
        self._context = None
        if self._api_key and any(ord(c) < 0x21 or ord(c) > 0x7e for c in self._api_key):
            # http.client would reject it with the value in the message
            raise OllamaError('api_key cannot be sent in an HTTP header: it contains spaces, line breaks, '
                              'control or non-ASCII characters', permanent=True)
        if client_key and not client_cert:
            raise OllamaError('client_key %s is set without client_cert' % client_key, permanent=True)

    @classmethod
    def from_module(cls, module, url=None):
        """A client from the OLLAMA_COMMON_ARGS parameters (with another ``url`` when given); fails the module when
        they are unusable."""
        p = module.params
        try:
            return cls(url or p['url'], p['timeout'], validate_certs=p['validate_certs'], ca_path=p['ca_path'],
                       client_cert=p['client_cert'], client_key=p['client_key'], api_key=p['api_key'])
        except OllamaError as e:
            module.fail_json(msg=str(e))

    def url_for(self, path):
        return self.base_url + path

    def redact(self, text):
        """``text`` with the API key replaced by ``********``."""
        text = to_text(text, errors='surrogate_or_replace')
        return text.replace(self._api_key, REDACTED) if self._api_key else text

    def _error(self, msg, status=None, permanent=False):
        return OllamaError(self.redact(msg), status=status, permanent=permanent)

    def _ca_used(self):
        return 'ca_path %s' % self.ca_path if self.ca_path else 'the system CA store'

    def ssl_context(self, where=''):
        """The TLS context of every request of this client, built once from validate_certs/ca_path/client_cert."""
        if self._context is None:
            try:
                context = make_context(cafile=self.ca_path, validate_certs=self.validate_certs)
            except (OSError, ValueError) as e:   # ssl.SSLError is an OSError
                raise self._error(where + 'cannot load the CA certificates from %s: %s'
                                  % (self._ca_used(), to_text(e)), permanent=True)
            if self.client_cert:
                context.post_handshake_auth = True
                try:
                    context.load_cert_chain(self.client_cert, keyfile=self.client_key)
                except (OSError, ValueError) as e:
                    raise self._error(where + 'cannot load the client certificate %s%s: %s'
                                      % (self.client_cert, ' with the key %s' % self.client_key if self.client_key else '',
                                         to_text(e)), permanent=True)
            self._context = context
        return self._context

    def _tls_error(self, where, error):
        """The OllamaError for an ssl error, or None when ``error`` is not one."""
        if isinstance(error, ssl.SSLCertVerificationError):
            return self._error(where + 'TLS certificate verification failed: %s (CA used: %s%s)'
                               % (to_text(error.verify_message or error.reason or error), self._ca_used(),
                                  '' if self.ca_path else '; set ca_path to the CA that signed the server certificate'),
                               permanent=True)
        if isinstance(error, ssl.SSLError):
            if error.reason == 'WRONG_VERSION_NUMBER':   # what a plain-HTTP server answers to a TLS hello
                return self._error(where + 'TLS error: %s (does the server speak TLS on this port?)' % to_text(error),
                                   permanent=True)
            hint = ''
            if isinstance(error, ssl.SSLEOFError) and not self.client_cert:
                # how a TLS 1.3 server that wants a client certificate hangs up
                hint = ' (if the server requires a client certificate, set client_cert)'
            return self._error(where + 'TLS error: %s%s' % (to_text(error), hint))
        return None

    def request(self, method, path, body=None, timeout=None):
        """Send one request; return ``(status, raw body bytes)``.

        HTTP errors (4xx/5xx) and connection problems raise OllamaError.
        """
        data, headers = None, {}
        if body is not None:
            data = to_bytes(json.dumps(body))
            headers['Content-Type'] = 'application/json'
        return self._send(method, path, data, headers, timeout)

    def _send(self, method, path, data, headers, timeout):
        """request() with a raw body: bytes, or a file object that is streamed (give its Content-Length)."""
        url = self.url_for(path)
        timeout = self.timeout if timeout is None else timeout
        headers = dict(headers, Accept='application/json')
        if self._api_key:
            headers['Authorization'] = 'Bearer ' + self._api_key
        where = '%s %s failed: ' % (method, url)
        context = self.ssl_context(where)
        try:
            response = Request().open(method, url, data=data, headers=headers, timeout=timeout, use_proxy=False,
                                      http_agent='gpufleet.ollama', use_netrc=False, context=context,
                                      unredirected_headers=['Authorization'])
            return response.status, response.read()
        except urllib.error.HTTPError as e:
            try:
                err_body = e.read()
            except Exception:   # the error body is only a nicety
                err_body = b''
            why = 'HTTP %d: %s' % (e.code, _error_text(self.redact(err_body), e.reason))   # redact before it is cut
            if e.code == 401:
                why += (' (the api_key was refused)' if self._api_key else
                        ' (the server wants an API key: set api_key or OLLAMA_API_KEY)')
            raise self._error(where + why, status=e.code, permanent=e.code in (401, 403))
        except urllib.error.URLError as e:
            raise self._tls_error(where, e.reason) or self._error(where + 'cannot connect: %s' % to_text(e.reason))
        except (socket.timeout, TimeoutError):
            raise self._error(where + 'no answer within %gs' % timeout)
        except (OSError, http.client.HTTPException, UrlsConnectionError) as e:
            raise self._tls_error(where, e) or self._error(where + 'connection error: %s'
                                                           % (to_text(e) or type(e).__name__))

    def _json(self, method, path, status, raw):
        text = to_text(raw, errors='surrogate_or_replace')
        try:
            data = json.loads(text) if text.strip() else {}
        except ValueError:
            shown = self.redact(text)[:200]   # redact before it is cut
            raise self._error('%s %s failed: invalid JSON in the answer: %r' % (method, self.url_for(path), shown),
                              status=status)
        if isinstance(data, dict) and data.get('error'):
            why = _error_text(self.redact(text), '')
            raise self._error('%s %s failed: HTTP %d: %s' % (method, self.url_for(path), status, why), status=status)
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
            raise self._error('GET %s failed: expected a JSON object, got %r' % (self.url_for(path), data))
        return data.get(field)

    def list_models(self, path='/api/tags'):
        """The ``models`` list of ``GET /api/tags`` (or ``/api/ps``)."""
        return self.get_field(path, 'models') or []

    # -- model management (ollama_model) --------------------------------------

    def blob_exists(self, digest):
        """Whether the server has the blob ``sha256:<hex>`` (``HEAD /api/blobs/<digest>``: 200 or 404)."""
        path = '/api/blobs/' + digest
        status = self.head(path)
        if status not in (200, 404):
            raise self._error('HEAD %s failed: HTTP %s' % (self.url_for(path), status), status=status,
                              permanent=status in (401, 403))
        return status == 200

    def upload_blob(self, digest, path, timeout=None):
        """Stream the file at ``path`` to ``POST /api/blobs/<digest>``; return the status (201 stored, 200 had it).

        The server hashes what it receives: a wrong digest is an OllamaError with status 400.
        """
        with open(path, 'rb') as f:
            headers = {'Content-Type': 'application/octet-stream', 'Content-Length': str(os.fstat(f.fileno()).st_size)}
            return self._send('POST', '/api/blobs/' + digest, f, headers, timeout)[0]

    def create(self, body, timeout=None):
        """``POST /api/create`` with ``stream`` false: the final status object (``{"status": "success"}``)."""
        return self.post_json('/api/create', body, timeout=timeout)[1]

    def delete_model(self, name):
        """``DELETE /api/delete``; False when the model does not exist (404)."""
        try:
            self.request('DELETE', '/api/delete', body={'model': name})
        except OllamaError as e:
            if e.status == 404:
                return False
            raise
        return True

    def show(self, name):
        """``POST /api/show`` of a model, or None when it does not exist (404)."""
        try:
            return self.post_json('/api/show', {'model': name})[1]
        except OllamaError as e:
            if e.status == 404:
                return None
            raise


# ---------------------------------------------------------------------------
# Model store on disk
# ---------------------------------------------------------------------------


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
