# -*- coding: utf-8 -*-
# Copyright (c) 2026, gpufleet maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""meta/runtime.yml's action group: `module_defaults: {group/gpufleet.ollama.ollama: {...}}`.

The group must hold exactly the modules that take the shared Ollama connection options (the
`gpufleet.ollama.ollama` doc fragment), and a playbook that sets `url`/`timeout` once through the
group must reach the server it names with the timeout it names. The playbook runs with a private
collections path (a link to this collection), so the test passes the same from the checkout and
from an installed copy under `ansible_collections/gpufleet/ollama`.
"""

from __future__ import annotations

import ast
import glob
import json
import os
import shutil
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import yaml

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
GROUP = "group/gpufleet.ollama.ollama"
MODEL = "groupdefault:latest"
VERSION = "9.8.7"
SLOW_S = 3.0


def _runtime():
    with open(os.path.join(ROOT, "meta", "runtime.yml"), encoding="utf-8") as f:
        return yaml.safe_load(f) or {}


def _http_modules():
    """Modules whose argument spec takes the shared Ollama connection options (OLLAMA_COMMON_ARGS)."""
    found = []
    for path in sorted(glob.glob(os.path.join(ROOT, "plugins", "modules", "*.py"))):
        with open(path, encoding="utf-8") as f:
            tree = ast.parse(f.read(), path)
        if any(isinstance(node, ast.Name) and node.id == "OLLAMA_COMMON_ARGS" for node in ast.walk(tree)):
            found.append(os.path.splitext(os.path.basename(path))[0])
    return found


def test_requires_ansible_is_the_tested_core():
    assert _runtime()["requires_ansible"] == ">=2.19.0,<2.20.0"


def test_action_group_holds_every_ollama_http_module_and_nothing_else():
    group = _runtime()["action_groups"]["ollama"]
    modules = _http_modules()
    assert "ollama_health" in modules and "ollama_model_info" in modules
    assert sorted(group) == sorted(modules)
    assert "nvidia_gpu_info" not in group


# ---------------------------------------------------------------------------- the playbook run

class _Handler(BaseHTTPRequestHandler):
    server_version = "fake-ollama"

    def log_message(self, *args):   # keep pytest output clean
        pass

    def do_GET(self):  # noqa: N802 (http.server's name)
        self.server.paths.append(self.path)
        if self.server.delay:
            time.sleep(self.server.delay)
        if self.path == "/":
            body, kind = b"Ollama is running", "text/plain"
        elif self.path == "/api/version":
            body, kind = json.dumps({"version": VERSION}).encode(), "application/json"
        elif self.path == "/api/tags":
            model = {"name": MODEL, "model": MODEL, "modified_at": "2026-01-01T00:00:00Z", "size": 1,
                     "digest": "0" * 64, "details": {"format": "gguf", "family": "llama"}}
            body, kind = json.dumps({"models": [model]}).encode(), "application/json"
        else:
            self.send_error(404)
            return
        try:
            self.send_response(200)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):   # the slow server's client gave up
            pass


@pytest.fixture
def fake_server():
    servers = []

    def start(delay=0.0):
        server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        server.daemon_threads = True
        server.paths, server.delay = [], delay
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return server, "http://127.0.0.1:%d" % server.server_address[1]

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def _ansible_playbook():
    """ansible-playbook from PATH, else the one installed beside this Python (a venv not activated)."""
    found = shutil.which("ansible-playbook")
    if not found:
        beside = os.path.join(os.path.dirname(sys.executable), "ansible-playbook")
        found = beside if os.access(beside, os.X_OK) else None
    if not found:
        pytest.skip("ansible-playbook is not on PATH")
    return found


PLAYBOOK = """
- name: Set url and timeout once for every Ollama module
  hosts: localhost
  gather_facts: false
  tasks:
    - name: Through the group, against the fast server
      module_defaults:
        {group}:
          url: "{fast}"
          timeout: 5
      block:
        - name: Health of the instance named by the group default
          gpufleet.ollama.ollama_health:
            wait_timeout: 10
            interval: 0.2
            expect_version: "{version}"
          register: gf_health

        - name: Models of the instance named by the group default
          gpufleet.ollama.ollama_model_info:
          register: gf_models

    - name: Through the group, against a server slower than the group's timeout
      module_defaults:
        {group}:
          url: "{slow}"
          timeout: 1
      block:
        - name: Models of the slow instance
          gpufleet.ollama.ollama_model_info:
          register: gf_slow
          ignore_errors: true

    - name: Write what the modules returned
      ansible.builtin.copy:
        dest: "{out}"
        content: "{{{{ {{'health': gf_health, 'models': gf_models, 'slow': gf_slow}} | to_json }}}}"
        mode: "0644"
"""


def test_module_defaults_group_sets_url_and_timeout(tmp_path, fake_server):
    playbook_bin = _ansible_playbook()
    fast, fast_url = fake_server()
    slow, slow_url = fake_server(delay=SLOW_S)

    # A collections path of our own: only this collection, wherever it is checked out or installed.
    coll = tmp_path / "collections"
    (coll / "ansible_collections" / "gpufleet").mkdir(parents=True)
    os.symlink(ROOT, coll / "ansible_collections" / "gpufleet" / "ollama")
    (tmp_path / "ansible.cfg").write_text("[defaults]\n")
    out = tmp_path / "result.json"
    playbook = tmp_path / "playbook.yml"
    playbook.write_text(PLAYBOOK.format(group=GROUP, fast=fast_url, slow=slow_url, version=VERSION, out=out))

    env = {k: v for k, v in os.environ.items() if not k.startswith("ANSIBLE_")}
    env.update(
        ANSIBLE_CONFIG=str(tmp_path / "ansible.cfg"),
        ANSIBLE_HOME=str(tmp_path / "ansible-home"),
        ANSIBLE_LOCAL_TEMP=str(tmp_path / "ansible-tmp"),
        ANSIBLE_COLLECTIONS_PATH=str(coll),
        ANSIBLE_COLLECTIONS_SCAN_SYS_PATH="false",
        ANSIBLE_NOCOLOR="1",
        ANSIBLE_RETRY_FILES_ENABLED="false",
    )
    cmd = [playbook_bin, "-i", "localhost,", "-c", "local",
           "-e", "ansible_python_interpreter=%s" % sys.executable, str(playbook)]
    proc = subprocess.run(cmd, cwd=str(tmp_path), env=env, capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr

    result = json.loads(out.read_text())
    # url came from the group: both modules asked the fast server, which no module default points at.
    assert result["health"]["version"] == VERSION, result["health"]
    assert "/api/version" in fast.paths
    assert [m["name"] for m in result["models"]["models"]] == [MODEL]
    assert result["models"]["source"] == "api"
    assert "/api/tags" in fast.paths
    # timeout came from the group: the module default (10 s) would have waited for the slow answer.
    assert result["slow"]["failed"] is True, result["slow"]
    assert slow.paths, "the slow server was never asked: the group's url was not used"
