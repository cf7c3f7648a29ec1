# -*- coding: utf-8 -*-
# Copyright (c) 2026, gpufleet maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""roles/open_webui/files/stage_wheelhouse.py: the wheelhouse staging tool, end to end with a scripted pip (its
--report documents point at file:// wheels made here; no network)."""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import sys
import zipfile

import pytest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..', '..'))
TOOL = os.path.join(ROOT, 'roles', 'open_webui', 'files', 'stage_wheelhouse.py')

spec = importlib.util.spec_from_file_location('stage_wheelhouse', TOOL)
stage = importlib.util.module_from_spec(spec)
spec.loader.exec_module(stage)

METADATA = """Metadata-Version: 2.1
Name: open-webui
Version: 0.12.4
Requires-Dist: aiohttp==3.14.5
Requires-Dist: sentence-transformers==5.5.1
Requires-Dist: accelerate==1.13.0
Requires-Dist: pywin32==311; sys_platform == 'win32'
Requires-Dist: pgvector==0.4.2; extra == 'postgres'
Requires-Dist: httpx[brotli,http2]==0.28.1
"""


def make_wheel(path, name, version, metadata=None):
    with zipfile.ZipFile(path, 'w') as wheel:
        wheel.writestr('%s-%s.dist-info/METADATA' % (name.replace('-', '_'), version),
                       metadata or 'Metadata-Version: 2.1\nName: %s\nVersion: %s\n' % (name, version))
    with open(path, 'rb') as handle:
        return hashlib.sha256(handle.read()).hexdigest()


def test_base_requirements_keep_markers_drop_extras_and_the_left_out():
    kept, dropped = stage.base_requirements(METADATA, ['sentence-transformers', 'Accelerate'])
    assert kept == ['aiohttp==3.14.5', "pywin32==311; sys_platform == 'win32'", 'httpx[brotli,http2]==0.28.1']
    assert dropped == ['accelerate', 'sentence-transformers']


def test_render_requirements_lists_every_wheel_with_its_hash():
    text = stage.render_requirements('0.12.4', 'slim', '3.11', [('aiohttp', '3.14.5', 'u', 'b' * 64, 'f')],
                                     ['accelerate'])
    lines = text.splitlines()
    assert 'profile slim, CPython 3.11' in lines[0]
    assert lines[2] == '# Left out (profile slim): accelerate'
    assert lines[3] == 'aiohttp==3.14.5 --hash=sha256:' + 'b' * 64


@pytest.fixture
def index(tmp_path):
    """Wheels on disk and a scripted pip that 'resolves' to them (file:// URLs, their real sha256)."""
    src = tmp_path / 'index'
    src.mkdir()
    wheels = {
        'open-webui': ('0.12.4', 'open_webui-0.12.4-py3-none-any.whl', METADATA),
        'aiohttp': ('3.14.5', 'aiohttp-3.14.5-cp311-cp311-manylinux_2_17_x86_64.whl', None),
        'httpx': ('0.28.1', 'httpx-0.28.1-py3-none-any.whl', None),
        'torch': ('2.15.0', 'torch-2.15.0-cp311-cp311-manylinux_2_28_x86_64.whl', None),
    }
    entries = {}
    for name, (version, filename, meta) in wheels.items():
        digest = make_wheel(str(src / filename), name, version, meta)
        entries[name] = {'metadata': {'name': name, 'version': version},
                         'download_info': {'url': (src / filename).as_uri(),
                                           'archive_info': {'hashes': {'sha256': digest}}}}
    calls = tmp_path / 'calls.json'
    fake = tmp_path / 'fakepip.py'
    script = (
        'import json, sys\n'
        'argv = sys.argv[1:]\n'
        'entries = json.load(open(%r))\n'
        'reqs = open(argv[argv.index("-r") + 1]).read().split()\n'
        'with open(%r, "a") as log: log.write(json.dumps(argv) + "\\n")\n'
        'names = ["open-webui"] if "--no-deps" in argv else [r.split("==")[0].split("[")[0] for r in reqs if "==" in r]\n'
        'if "--no-deps" not in argv and entries.get("_torch_too"): names.append("torch")\n'
        'items = [entries[n] for n in names if n in entries]\n'
        'json.dump({"install": items}, open(argv[argv.index("--report") + 1], "w"))\n')
    fake.write_text(script % (str(tmp_path / 'entries.json'), str(calls)))
    (tmp_path / 'entries.json').write_text(json.dumps(entries))
    return {'fake': [sys.executable, str(fake)], 'entries': tmp_path / 'entries.json', 'calls': calls, 'src': src}


def test_a_slim_release_is_staged_with_hashes_and_a_second_run_downloads_nothing(tmp_path, index, capsys):
    dest = tmp_path / 'wh'
    summary = stage.stage_version(str(dest), '0.12.4', 'slim', '3.11', ['manylinux_2_17_x86_64'], [], index['fake'])
    assert summary['wheels'] == 3 and summary['left_out'] == ['accelerate', 'sentence-transformers']
    assert summary['downloaded'] > 0
    lines = (dest / '0.12.4' / 'requirements.txt').read_text().splitlines()
    pins = [line for line in lines if not line.startswith('#')]
    assert [p.split(' ')[0] for p in pins] == ['aiohttp==3.14.5', 'httpx==0.28.1', 'open-webui==0.12.4']
    for pin in pins:
        name = pin.split('==')[0]
        filename = [f for f in os.listdir(str(dest / 'wheels')) if f.startswith(name.replace('-', '_') + '-')][0]
        assert pin.endswith(stage.sha256_file(str(dest / 'wheels' / filename)))
    # the resolver was asked for the target, binary wheels only, without the left-out packages
    argv = [json.loads(line) for line in index['calls'].read_text().splitlines()][-1]
    assert '--only-binary=:all:' in argv and argv[argv.index('--python-version') + 1] == '3.11'
    again = stage.stage_version(str(dest), '0.12.4', 'slim', '3.11', ['manylinux_2_17_x86_64'], [], index['fake'])
    assert again['downloaded'] == 0


def test_a_slim_set_that_still_pulls_torch_is_refused(tmp_path, index):
    entries = json.loads(index['entries'].read_text())
    entries['_torch_too'] = True
    index['entries'].write_text(json.dumps(entries))
    with pytest.raises(stage.StageError, match='still pulls in torch'):
        stage.stage_version(str(tmp_path / 'wh'), '0.12.4', 'slim', '3.11', ['x'], [], index['fake'])
    assert not (tmp_path / 'wh' / '0.12.4' / 'requirements.txt').exists()


def test_a_wheel_whose_hash_differs_from_the_resolvers_is_refused(tmp_path, index):
    entries = json.loads(index['entries'].read_text())
    entries['aiohttp']['download_info']['archive_info']['hashes']['sha256'] = 'c' * 64
    index['entries'].write_text(json.dumps(entries))
    with pytest.raises(stage.StageError, match='the resolver said ' + 'c' * 64):
        stage.stage_version(str(tmp_path / 'wh'), '0.12.4', 'slim', '3.11', ['x'], [], index['fake'])


def test_not_a_release_number_and_prune(tmp_path, index):
    with pytest.raises(stage.StageError, match='not an Open WebUI release number'):
        stage.stage_version(str(tmp_path / 'wh'), 'latest', 'slim', '3.11', ['x'], [], index['fake'])
    dest = tmp_path / 'wh'
    summary = stage.stage_version(str(dest), '0.12.4', 'slim', '3.11', ['x'], [], index['fake'])
    (dest / 'wheels' / 'old-1.0-py3-none-any.whl').write_text('x')
    assert stage.prune(str(dest), [summary]) == ['old-1.0-py3-none-any.whl']
    assert len(os.listdir(str(dest / 'wheels'))) == 3
