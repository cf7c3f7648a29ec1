# -*- coding: utf-8 -*-
# Copyright (c) 2026, gpufleet maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""CLI of the stand-in, pinned to ref §1.3, §4.1 and §6 (cmd/cmd.go, format/*.go, tablewriter v0.0.5)."""
import hashlib
import json
import re

import pytest

import fixtures
import ollama_standin
from ansible_collections.gpufleet.ollama.tests.unit.standin.standin_helpers import Instance, baked


def test_version_forms(server, tmp_path):
    """versionHandler: stdout, exit 0 always; same version, differing versions, and no server."""
    s = server(binary=baked(tmp_path, "0.14.1"))
    same = s.cli("-v")
    assert (same.returncode, same.stdout, same.stderr) == (0, "ollama version is 0.14.1\n", "")
    differ = s.cli("--version", binary=baked(tmp_path, "0.13.5"))
    assert differ.stdout == "ollama version is 0.14.1\nWarning: client version is 0.13.5\n"
    s.stop()
    s.proc = None
    gone = s.cli("-v")
    assert (gone.returncode, gone.stdout) == (
        0, "Warning: could not connect to a running Ollama instance\nWarning: client version is 0.14.1\n")


def test_no_server_errors(tmp_path):
    """Other commands fail with `Error: could not connect to ollama server...` and exit 1 (start_default.go)."""
    instance = Instance(tmp_path, start=False)
    for args in (["list"], ["ps"], ["rm", "x"], ["create", "x"]):
        result = instance.cli(*args)
        assert result.returncode == 1, args
        assert result.stderr == "Error: could not connect to ollama server, run 'ollama serve' to start it\n"


def test_list_id_size_and_padding(server):
    """ollama list: NAME ID SIZE MODIFIED, 4-space padding (header's last cell +1 space), ID = first 12
    hex of the manifest file's sha256, decimal sizes (ref §6)."""
    s = server()
    digest = s.add_model("tiny:latest", size=4_700_000)
    result = s.cli("list")
    assert result.returncode == 0
    header, row = result.stdout.splitlines()
    manifest = (s.models / "manifests/registry.ollama.ai/library/tiny/latest").read_bytes()
    assert digest == hashlib.sha256(manifest).hexdigest()
    match = re.fullmatch(rf"tiny:latest    {digest[:12]}    4\.7 MB    ((?:Less than a second|\d+ seconds) ago)    ", row)
    assert match, row
    # the last column is as wide as its widest cell; the header's cell gets one space more
    # ("Less than a second ago", or "2 seconds ago" on a slow machine)
    assert header == "NAME           ID              SIZE      " + "MODIFIED".ljust(len(match.group(1)) + 1)


@pytest.mark.parametrize("size,text", [(999, "999 B"), (1000, "1 KB"), (1500, "1.5 KB"), (4_700_000_000, "4.7 GB"),
                                       (19_000_000_001, "19 GB"), (2_000_000_000_000, "2 TB")])
def test_human_bytes(size, text):
    """format.HumanBytes: decimal units; 10 and up as integers, below one decimal unless whole."""
    assert ollama_standin.human_bytes(size) == text


def test_create_flow(server, tmp_path):
    """create: FROM is relative to the Modelfile's directory; the client hashes the whole file, POSTs it
    to /api/blobs/sha256:<hex>, then POSTs /api/create with `files` (ref §4.1)."""
    s = server()
    src = tmp_path / "src"
    src.mkdir()
    gguf = fixtures.write_gguf(src / "weights.gguf", 20000)
    (src / "Modelfile").write_text('FROM ./weights.gguf\nPARAMETER num_ctx 8192\nPARAMETER stop "<|x|>"\n'
                                   'SYSTEM """You are\na test."""\nMESSAGE user hi there\nLICENSE "MIT"\n')
    result = s.cli("create", "demo:v1", "-f", str(src / "Modelfile"), cwd=str(tmp_path))
    assert result.returncode == 0, result.stderr
    assert result.stderr.splitlines()[-1] == "success"
    digest = "sha256:" + hashlib.sha256(open(gguf, "rb").read()).hexdigest()
    assert f"copying file {digest} 100%" in result.stderr
    access = [line for line in s.stdout().splitlines() if "POST" in line]
    assert f'"/api/blobs/{digest}"' in access[0] and '"/api/create"' in access[1]
    manifest = json.loads((s.models / "manifests/registry.ollama.ai/library/demo/v1").read_text())
    assert manifest["layers"][0]["digest"] == digest
    params = [la for la in manifest["layers"] if la["mediaType"].endswith("params")][0]
    # json.Encoder output: sorted map keys, HTML characters escaped, trailing newline
    assert (s.models / "blobs" / params["digest"].replace(":", "-")).read_bytes() == \
        b'{"num_ctx":8192,"stop":["\\u003c|x|\\u003e"]}\n'
    shown = s.cli("show", "--modelfile", "demo:v1")
    assert 'SYSTEM "You are\na test."' in shown.stdout and "PARAMETER num_ctx 8192" in shown.stdout
    assert "LICENSE MIT\nMESSAGE user hi there\n" in shown.stdout


def test_create_from_missing_path_fails_offline(server, tmp_path):
    """A FROM path that does not exist is sent as `from`; the server tries to pull it and fails offline."""
    s = server()
    (tmp_path / "Modelfile").write_text("FROM ./missing.gguf\n")
    result = s.cli("create", "x", "-f", str(tmp_path / "Modelfile"))
    assert result.returncode == 1
    assert result.stderr.splitlines()[-1] == "Error: 400 Bad Request: invalid model name"
    (tmp_path / "Modelfile").write_text("FROM missing.gguf\n")
    result = s.cli("create", "x", "-f", str(tmp_path / "Modelfile"))
    assert result.returncode == 1
    assert result.stderr.splitlines()[-1].startswith(
        'Error: pull model manifest: Get "https://registry.ollama.ai/v2/library/missing.gguf/manifests/latest"')


def test_modelfile_errors(server, tmp_path):
    """parser.go: unknown commands and a missing FROM are errors; unknown PARAMETERs too (FormatParams)."""
    s = server()
    for text, message in (("FOO bar\n", 'Error: (line 1): command must be one of "from"'),
                          ("SYSTEM hi\n", "Error: no FROM line"),
                          ("FROM x\nPARAMETER nope 1\n", "Error: unknown parameter 'nope'")):
        (tmp_path / "Modelfile").write_text(text)
        result = s.cli("create", "x", "-f", str(tmp_path / "Modelfile"))
        assert result.returncode == 1 and result.stderr.splitlines()[-1].startswith(message), result.stderr


def test_show_rm_cp_ps_errors(server):
    """Failures print `Error: <msg>` on stderr and exit 1; rm prints deleted 'x'; cp prints copied (ref §6)."""
    s = server()
    s.add_model()
    missing = s.cli("show", "ghost")
    assert (missing.returncode, missing.stderr) == (1, "Error: model 'ghost' not found\n")
    assert s.cli("cp", "tiny", "copy:1").stdout == "copied 'tiny' to 'copy:1'\n"
    assert s.cli("rm", "copy:1").stdout == "deleted 'copy:1'\n"
    rm_missing = s.cli("rm", "ghost")
    assert (rm_missing.returncode, rm_missing.stderr) == (1, "Error: model 'ghost' not found\n")
    s.json("POST", "/api/generate", {"model": "tiny", "keep_alive": "5m"})
    header, row = s.cli("ps").stdout.splitlines()
    assert header.split() == ["NAME", "ID", "SIZE", "PROCESSOR", "CONTEXT", "UNTIL"]
    assert row.split()[:6] == ["tiny:latest", row.split()[1], "66", "KB", "100%", "GPU"]
    assert "4 minutes from now" in row
    unknown = s.cli("frobnicate")
    assert unknown.returncode == 1 and unknown.stderr.startswith('Error: unknown command "frobnicate" for "ollama"')
