# -*- coding: utf-8 -*-
# Copyright (c) 2026, gpufleet maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""OllamaClient's model management methods (blobs, create, delete, show) against the Ollama stand-in server."""

from __future__ import annotations

import hashlib
import os
import tracemalloc

import pytest

from ansible_collections.gpufleet.ollama.plugins.module_utils._ollama import OllamaClient, OllamaError
from ansible_collections.gpufleet.ollama.tests.unit.standin.standin_helpers import Instance, fixtures


@pytest.fixture
def standin(tmp_path):
    """A running stand-in `ollama serve` (tests/standin) with its own store in ``<tmp>/ollama/models``."""
    (tmp_path / 'ollama').mkdir()
    instance = Instance(tmp_path / 'ollama')
    instance.url = 'http://127.0.0.1:%d' % instance.port
    yield instance
    instance.stop()


@pytest.fixture
def client(standin):
    return OllamaClient(standin.url)


def blob_file(store, digest):
    return os.path.join(str(store), 'blobs', digest.replace(':', '-'))


def test_blob_exists_upload_and_exists(client, standin, tmp_path):
    gguf = fixtures.write_gguf(tmp_path / 'm.gguf', 64 * 1024)
    with open(gguf, 'rb') as f:
        data = f.read()
    digest = 'sha256:' + hashlib.sha256(data).hexdigest()
    assert client.blob_exists(digest) is False
    assert client.upload_blob(digest, gguf) == 201
    assert client.blob_exists(digest) is True
    with open(blob_file(standin.models, digest), 'rb') as f:
        assert f.read() == data
    assert client.upload_blob(digest, gguf) == 200   # present: the server answers without reading


def test_upload_streams_the_file(client, standin, tmp_path):
    """A 48 MiB file goes up without being read into memory."""
    big = tmp_path / 'big.bin'
    with open(big, 'wb') as f:
        f.truncate(48 << 20)
    digest = 'sha256:' + hashlib.sha256(b'\0' * (48 << 20)).hexdigest()
    tracemalloc.start()
    try:
        client.upload_blob(digest, str(big))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 4 << 20, peak
    assert os.path.getsize(blob_file(standin.models, digest)) == 48 << 20


def test_upload_with_a_wrong_digest_fails_with_the_server_text(client, tmp_path):
    path = tmp_path / 'x'
    path.write_bytes(b'abc')
    wrong = 'sha256:' + '0' * 64
    with pytest.raises(OllamaError) as error:
        client.upload_blob(wrong, str(path))
    assert error.value.status == 400
    assert str(error.value).startswith('POST %s/api/blobs/%s failed: HTTP 400: digest mismatch, expected "%s", got '
                                       '"sha256:%s"' % (client.base_url, wrong, wrong, hashlib.sha256(b'abc').hexdigest()))


def test_blob_exists_with_an_invalid_digest_raises(client):
    with pytest.raises(OllamaError, match=r'HEAD .*/api/blobs/sha256:123 failed: HTTP 400'):
        client.blob_exists('sha256:123')


def test_create_show_delete(client, standin):
    standin.add_model('tiny:latest')
    result = client.create({'model': 'derived', 'from': 'tiny', 'system': 'Be brief.',
                            'parameters': {'num_ctx': 4096}})
    assert result == {'status': 'success'}
    shown = client.show('derived')
    assert shown['system'] == 'Be brief.' and 'num_ctx' in shown['parameters']
    assert client.show('nope') is None
    assert client.delete_model('derived') is True
    assert client.delete_model('derived') is False
    assert client.show('derived') is None


@pytest.mark.parametrize('body, status, text', [
    ({'model': 'm'}, 400, "neither 'from' or 'files' was specified"),
    ({'model': 'm', 'files': {'m.gguf': 'sha256:' + 'a' * 64}}, 500, 'no such file or directory'),
    ({'model': 'bad name!', 'from': 'x'}, 400, 'invalid model name'),
])
def test_create_errors_carry_the_server_text_and_status(client, body, status, text):
    with pytest.raises(OllamaError) as error:
        client.create(body)
    assert error.value.status == status
    assert str(error.value).startswith('POST %s/api/create failed: HTTP %d: ' % (client.base_url, status))
    assert text in str(error.value)


def test_methods_report_a_server_that_is_down(dead_url, tmp_path):
    client = OllamaClient(dead_url)
    (tmp_path / 'f').write_bytes(b'x')
    for call in (lambda: client.blob_exists('sha256:' + 'a' * 64),
                 lambda: client.upload_blob('sha256:' + 'a' * 64, str(tmp_path / 'f')),
                 lambda: client.create({'model': 'm', 'from': 'x'}),
                 lambda: client.delete_model('m'),
                 lambda: client.show('m')):
        with pytest.raises(OllamaError) as error:
            call()
        assert error.value.unreachable and 'cannot connect' in str(error.value)
