# -*- coding: utf-8 -*-
# Copyright (c) 2026, gpufleet maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The Modelfile parser and create request, pinned to ollama's parser/parser.go and api/types.go FormatParams."""

from __future__ import annotations

import hashlib
import json
import os

import pytest

from ansible_collections.gpufleet.ollama.plugins.module_utils import _modelfile
from ansible_collections.gpufleet.ollama.plugins.module_utils._modelfile import (
    DigestCache,
    ModelfileError,
    build_request,
    format_parameter,
    format_parameters,
    parse_modelfile,
    read_modelfile,
)
from ansible_collections.gpufleet.ollama.plugins.module_utils._ollama import OllamaError


def commands(text):
    return [(c.name, c.args) for c in parse_modelfile(text)]


# ---------------------------------------------------------------------------
# parse_modelfile
# ---------------------------------------------------------------------------

@pytest.mark.parametrize('text, expected', [
    ('FROM ./model.gguf\n', [('model', './model.gguf')]),
    ('from qwen2:7b', [('model', 'qwen2:7b')]),
    ('  FrOm   llama3.2  \n', [('model', 'llama3.2')]),
    ('# a comment\n\n   # indented comment\nFROM x\n\n', [('model', 'x')]),
    ('FROM x # not a comment', [('model', 'x # not a comment')]),
    ('FROM x\nSYSTEM You are terse.', [('model', 'x'), ('system', 'You are terse.')]),
    ('FROM x\nSYSTEM "  quoted, spaces kept  "', [('model', 'x'), ('system', '  quoted, spaces kept  ')]),
    ('FROM x\nTEMPLATE """{{ .System }}\n{{ .Prompt }}"""\nSYSTEM s',
     [('model', 'x'), ('template', '{{ .System }}\n{{ .Prompt }}'), ('system', 's')]),
    ('FROM x\nTEMPLATE """\n  indented\n\n  "quotes" inside\n"""',
     [('model', 'x'), ('template', '\n  indented\n\n  "quotes" inside\n')]),
    ('FROM x\nSYSTEM "line one\nline two"', [('model', 'x'), ('system', 'line one\nline two')]),
    ('FROM x\nSYSTEM """one line"""', [('model', 'x'), ('system', 'one line')]),
    ('FROM x\nSYSTEM ""', [('model', 'x'), ('system', '')]),
    ('FROM x\nPARAMETER stop <|end|>\nparameter stop "User:"\nPARAMETER\tnum_ctx\t4096',
     [('model', 'x'), ('stop', '<|end|>'), ('stop', 'User:'), ('num_ctx', '4096')]),
    ('FROM x\nMESSAGE user Hi there\nMESSAGE assistant """Hello,\nhow can I help?"""',
     [('model', 'x'), ('message', 'user: Hi there'), ('message', 'assistant: Hello,\nhow can I help?')]),
    ('FROM x\nLICENSE MIT\nLICENSE """Apache\n2.0"""', [('model', 'x'), ('license', 'MIT'), ('license', 'Apache\n2.0')]),
    ('FROM x\nADAPTER ./lora.gguf\nREQUIRES 0.14.0\nRENDERER r\nPARSER p\nDRAFT d',
     [('model', 'x'), ('adapter', './lora.gguf'), ('requires', '0.14.0'), ('renderer', 'r'), ('parser', 'p'),
      ('draft', 'd')]),
    ('FROM x\r\nSYSTEM s\r\n', [('model', 'x'), ('system', 's')]),
    ('FROM x\r\nTEMPLATE """a\r\nb"""\r\n', [('model', 'x'), ('template', 'a\r\nb')]),
    ('\ufeffFROM x', [('model', 'x')]),
    ('SYSTEM before from\nFROM x', [('system', 'before from'), ('model', 'x')]),
], ids=lambda v: repr(v)[:40] if isinstance(v, str) else None)
def test_parse(text, expected):
    assert commands(text) == expected


def test_parse_records_the_line_of_each_command():
    parsed = parse_modelfile('# c\nFROM x\n\nTEMPLATE """a\nb"""\nSYSTEM s\n')
    assert [(c.name, c.line) for c in parsed] == [('model', 2), ('template', 4), ('system', 6)]


@pytest.mark.parametrize('text, line, why', [
    ('FROM x\nSYSTEM ok\nINSTRUCTION be nice\n', 3,
     'not a Modelfile command; valid commands are FROM, LICENSE, TEMPLATE, SYSTEM, ADAPTER, DRAFT, RENDERER, PARSER, '
     'PARAMETER, MESSAGE, REQUIRES'),
    ('FROM: x\n', 1, 'not a Modelfile command'),
    ('FROM x\n-PARAMETER a b', 2, 'not a Modelfile command'),
    ('FROM\n', 1, 'FROM needs a value'),
    ('FROM x\nSYSTEM', 2, 'SYSTEM needs a value'),
    ('FROM x\nPARAMETER num_ctx', 2, 'PARAMETER needs a name and a value'),
    ('FROM x\nPARAMETER num-ctx 4', 2, 'PARAMETER needs a name and a value'),
    ('FROM x\nMESSAGE tool hi', 2, 'message role must be one of system, user, assistant'),
    ('FROM x\nMESSAGE user: hi', 2, 'MESSAGE needs a role (system, user, assistant) and a text'),
    ('FROM x\nTEMPLATE """never\nclosed\n', 2, 'the quoted value that starts here is never closed'),
    ('FROM x\nSYSTEM "open', 2, 'the quoted value that starts here is never closed'),
])
def test_parse_errors_name_file_line_and_text(text, line, why):
    with pytest.raises(ModelfileError) as error:
        parse_modelfile(text, '/srv/m/Modelfile')
    bad = text.split('\n')[line - 1]
    assert str(error.value).startswith('Modelfile /srv/m/Modelfile line %d: %s' % (line, why))
    assert str(error.value).endswith(repr(bad))
    assert isinstance(error.value, OllamaError)


def test_parse_without_from_fails():
    with pytest.raises(ModelfileError, match='Modelfile /m/Modelfile has no FROM line'):
        parse_modelfile('# nothing\nSYSTEM s\n', '/m/Modelfile')


def test_read_modelfile_errors(tmp_path):
    with pytest.raises(ModelfileError, match='cannot read the Modelfile %s: No such file' % (tmp_path / 'nope')):
        read_modelfile(str(tmp_path / 'nope'))
    latin = tmp_path / 'Modelfile'
    latin.write_bytes(b'FROM x\nSYSTEM caf\xe9\n')
    with pytest.raises(ModelfileError, match='Modelfile %s is not UTF-8 text' % latin):
        read_modelfile(str(latin))


# ---------------------------------------------------------------------------
# Parameters (api/types.go FormatParams)
# ---------------------------------------------------------------------------

@pytest.mark.parametrize('name, value, expected', [
    ('num_ctx', '4096', 4096),
    ('seed', '-1', -1),
    ('num_predict', '+42', 42),
    ('main_gpu', '0', 0),
    ('temperature', '0.7', 0.7),
    ('temperature', '1', 1.0),
    ('top_p', '.5', 0.5),
    ('min_p', '5e-2', 0.05),
    ('top_p', '0.1234567891', 0.12345679),   # float32, as Go sends it
    ('use_mmap', 'true', True),
    ('use_mmap', 'F', False),
    ('use_mmap', '0', False),
    ('stop', '<|im_end|>', ['<|im_end|>']),
])
def test_format_parameter(name, value, expected):
    result = format_parameter(name, value)
    assert result == expected and type(result) is type(expected)


@pytest.mark.parametrize('name, value, message', [
    ('num_ctx', '4k', "invalid int value '4k' for num_ctx"),
    ('num_ctx', '1.5', "invalid int value '1.5' for num_ctx"),
    ('num_ctx', '1_000', "invalid int value '1_000' for num_ctx"),
    ('seed', '9223372036854775808', 'invalid int value'),
    ('temperature', 'warm', "invalid float value 'warm' for temperature"),
    ('temperature', 'nan', 'invalid float value'),
    ('temperature', '1e40', 'invalid float value'),   # beyond float32
    ('use_mmap', 'yes', "invalid bool value 'yes' for use_mmap (valid: true, false, 1, 0, t, f)"),
    ('Temperature', '1', "unknown parameter 'Temperature' (valid: draft_num_predict, frequency_penalty"),
    ('mirostat', '1', "unknown parameter 'mirostat'"),
])
def test_format_parameter_errors(name, value, message):
    with pytest.raises(ValueError) as error:
        format_parameter(name, value)
    assert str(error.value).startswith(message)


def test_format_parameters_of_yaml_data():
    assert format_parameters({'num_ctx': 8192, 'temperature': 0.2, 'use_mmap': False, 'stop': ['a', 'b'],
                              'top_k': '40'}) == \
        {'num_ctx': 8192, 'temperature': 0.2, 'use_mmap': False, 'stop': ['a', 'b'], 'top_k': 40}
    assert format_parameters({'stop': 'only'}) == {'stop': ['only']}
    assert format_parameters(None) == {}


@pytest.mark.parametrize('parameters, message', [
    ({'temperature': [0.1, 0.2]}, 'parameter temperature takes one value, got [0.1, 0.2]'),
    ({'num_ctx': 1.5}, "invalid int value '1.5' for num_ctx"),
    ({'use_mmap': 'maybe'}, "invalid bool value 'maybe'"),
    ({'nope': 1}, "unknown parameter 'nope'"),
])
def test_format_parameters_errors(parameters, message):
    with pytest.raises(ValueError, match=message.replace('[', r'\[').replace(']', r'\]')):
        format_parameters(parameters)


# ---------------------------------------------------------------------------
# build_request (parser.go CreateRequest)
# ---------------------------------------------------------------------------

def test_build_request_with_a_file(tmp_path):
    (tmp_path / 'weights').mkdir()
    gguf = tmp_path / 'weights' / 'model.gguf'
    gguf.write_bytes(b'GGUF')
    (tmp_path / 'lora.gguf').write_bytes(b'GGUF')
    text = '\n'.join([
        'FROM ./weights/model.gguf',
        'ADAPTER %s' % (tmp_path / 'lora.gguf'),
        'TEMPLATE """{{ .Prompt }}"""',
        'SYSTEM first', 'SYSTEM second',
        'PARAMETER num_ctx 2048', 'PARAMETER num_ctx 4096',
        'PARAMETER temperature 0.5',
        'PARAMETER stop a', 'PARAMETER stop b',
        'PARAMETER mirostat 2',
        'LICENSE MIT', 'LICENSE other',
        'MESSAGE user hi', 'MESSAGE assistant """hello: there"""',
        'REQUIRES v0.14',
    ])
    request, files, warnings = build_request(parse_modelfile(text), str(tmp_path), 'MF')
    assert files == {'files': {'model.gguf': str(gguf)}, 'adapters': {'lora.gguf': str(tmp_path / 'lora.gguf')}}
    assert request == {
        'template': '{{ .Prompt }}', 'system': 'second',
        'parameters': {'num_ctx': 4096, 'temperature': 0.5, 'stop': ['a', 'b']},
        'license': ['MIT', 'other'],
        'messages': [{'role': 'user', 'content': 'hi'}, {'role': 'assistant', 'content': 'hello: there'}],
        'requires': '0.14',
    }
    assert warnings == ['Modelfile MF line 11: parameter mirostat is deprecated and ignored']


def test_build_request_from_a_name_when_no_such_path(tmp_path):
    request, files, dummy = build_request(parse_modelfile('FROM qwen2:7b\nSYSTEM s'), str(tmp_path))
    assert (request, files) == ({'from': 'qwen2:7b', 'system': 's'}, {})
    request, files, dummy = build_request(parse_modelfile('FROM ./typo.gguf'), str(tmp_path))
    assert (request, files) == ({'from': './typo.gguf'}, {})


def test_build_request_expands_home(tmp_path, monkeypatch):
    monkeypatch.setenv('HOME', str(tmp_path))
    (tmp_path / 'm.gguf').write_bytes(b'GGUF')
    dummy, files, dummy2 = build_request(parse_modelfile('FROM ~/m.gguf'), '/elsewhere')
    assert files == {'files': {'m.gguf': str(tmp_path / 'm.gguf')}}


@pytest.mark.parametrize('text, message', [
    ('FROM .', 'Modelfile MF line 1: FROM {dir} is a directory; name the .gguf file in it'),
    ('FROM x\nADAPTER ./missing.gguf', 'Modelfile MF line 2: ADAPTER ./missing.gguf: the file {dir}/missing.gguf '
                                       'does not exist'),
    ('FROM ./a/m.gguf\nFROM ./b/m.gguf', 'Modelfile MF line 2: two files named m.gguf ({dir}/a/m.gguf and '
                                         '{dir}/b/m.gguf); give them different names'),
    ('FROM x\nPARAMETER num_ctx big', "Modelfile MF line 2: PARAMETER invalid int value 'big' for num_ctx"),
    ('FROM x\nPARAMETER top_q 1', "Modelfile MF line 2: PARAMETER unknown parameter 'top_q'"),
    ('FROM x\nREQUIRES latest', 'Modelfile MF line 2: REQUIRES latest must be a valid semver (e.g. 0.14.0)'),
    ('FROM x\nREQUIRES 0.14.0-', 'Modelfile MF line 2: REQUIRES 0.14.0- must be a valid semver'),
])
def test_build_request_errors(tmp_path, text, message):
    for sub in ('a', 'b'):
        (tmp_path / sub).mkdir()
        (tmp_path / sub / 'm.gguf').write_bytes(sub.encode())
    with pytest.raises(ModelfileError) as error:
        build_request(parse_modelfile(text), str(tmp_path), 'MF')
    assert str(error.value).startswith(message.format(dir=tmp_path))


# ---------------------------------------------------------------------------
# DigestCache
# ---------------------------------------------------------------------------

@pytest.fixture
def hashed(monkeypatch):
    """The paths sha256_file() read, in order."""
    calls = []
    real = _modelfile.sha256_file

    def counting(path):
        calls.append(path)
        return real(path)

    monkeypatch.setattr(_modelfile, 'sha256_file', counting)
    return calls


def test_digest_cache_hashes_a_file_once_across_runs(tmp_path, hashed):
    data = tmp_path / 'model.gguf'
    data.write_bytes(b'weights' * 1000)
    cache_dir = str(tmp_path / 'cache')
    first = DigestCache(cache_dir)
    digest = first.digest(str(data))
    assert digest == hashlib.sha256(b'weights' * 1000).hexdigest()
    first.save()
    again = DigestCache(cache_dir)
    assert again.digest(str(data)) == digest and again.lookup(str(data)) == digest
    assert hashed == [str(data)]
    assert not again.dirty


@pytest.mark.parametrize('change', ['mtime', 'content', 'replace'])
def test_digest_cache_hashes_again_when_the_file_changed(tmp_path, hashed, change):
    data = tmp_path / 'model.gguf'
    data.write_bytes(b'one')
    cache = DigestCache(str(tmp_path))
    cache.digest(str(data))
    st = os.stat(data)
    if change == 'mtime':
        os.utime(data, ns=(st.st_atime_ns, st.st_mtime_ns + 1))
    elif change == 'content':
        data.write_bytes(b'two!')
    else:
        other = tmp_path / 'new'
        other.write_bytes(b'one')
        os.utime(other, ns=(st.st_atime_ns, st.st_mtime_ns))
        os.replace(other, data)   # same size and mtime, another inode
    assert cache.lookup(str(data)) is None
    cache.digest(str(data))
    assert hashed == [str(data)] * 2


def test_digest_cache_remember_rekeys_a_touched_file(tmp_path, hashed):
    data = tmp_path / 'model.gguf'
    data.write_bytes(b'one')
    cache = DigestCache(str(tmp_path))
    digest = cache.digest(str(data))
    os.utime(data)   # what the server does to a blob it creates a model from (v0.21+)
    os.utime(data, ns=(1, os.stat(data).st_mtime_ns + 10))
    cache.save()
    cache.remember(str(data), digest)
    assert cache.dirty
    assert cache.digest(str(data)) == digest and hashed == [str(data)]
    cache.save()
    cache.remember(str(data), digest)   # the same again
    assert not cache.dirty


def test_digest_cache_save_is_atomic_and_forgets_removed_files(tmp_path):
    keep, gone = tmp_path / 'keep', tmp_path / 'gone'
    keep.write_bytes(b'k')
    gone.write_bytes(b'g')
    cache = DigestCache(str(tmp_path / 'cache'))
    cache.digest(str(keep))
    cache.digest(str(gone))
    gone.unlink()
    cache.save()
    with open(tmp_path / 'cache' / 'digests.json') as f:
        assert list(json.load(f)) == [str(keep)]
    assert os.listdir(tmp_path / 'cache') == ['digests.json']


@pytest.mark.parametrize('content', [b'not json', b'[1, 2]'])
def test_digest_cache_ignores_an_unusable_cache_file(tmp_path, content):
    (tmp_path / 'digests.json').write_bytes(content)
    (tmp_path / 'f').write_bytes(b'x')
    cache = DigestCache(str(tmp_path))
    assert cache.entries == {} and cache.digest(str(tmp_path / 'f'))
