# -*- coding: utf-8 -*-
# Copyright (c) 2026, gpufleet maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Helpers for the Ollama stand-in tests: start `ollama serve` on 127.0.0.1:0 in a temp dir.

Imported by its full name (ansible_collections.gpufleet.ollama.tests.unit.standin.standin_helpers),
which works from the checkout (tests/unit/conftest.py) and from an installed copy under ansible-test.
It also puts tests/standin on sys.path: the stand-in's files are scripts, imported by their names.
"""
import http.client
import json
import os
import re
import subprocess
import sys
import time

STANDIN = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", "standin"))
SOURCE = os.path.join(STANDIN, "ollama_standin.py")
sys.path.insert(0, STANDIN)

import build_artifacts  # noqa: E402
import fixtures  # noqa: E402


def baked(tmp_path, version):
    """The stand-in with a release version baked in, as build_artifacts ships it."""
    path = tmp_path / f"ollama-{version}"
    path.write_bytes(build_artifacts.render_binary(version))
    return str(path)


class Instance:
    """One `ollama serve` subprocess with its own HOME and OLLAMA_MODELS."""

    def __init__(self, tmp_path, binary=SOURCE, host="127.0.0.1:0", start=True, **env):
        self.tmp, self.binary = tmp_path, binary
        self.home, self.models = tmp_path / "home", tmp_path / "models"
        self.home.mkdir(exist_ok=True)
        self.env = {**os.environ, "HOME": str(self.home), "OLLAMA_MODELS": str(self.models),
                    "OLLAMA_HOST": host, "STANDIN_TOKENS_PER_S": "2000",
                    "PATH": STANDIN + os.pathsep + os.environ["PATH"]}
        for key in ("OLLAMA_NOPRUNE", "CUDA_VISIBLE_DEVICES", "OLLAMA_NUM_PARALLEL", "OLLAMA_MAX_QUEUE",
                    "OLLAMA_KEEP_ALIVE", "STANDIN_NVIDIA_SMI_JSON"):
            self.env.pop(key, None)
        self.env.update({k: v for k, v in env.items() if v is not None})
        for k in [k for k, v in env.items() if v is None]:
            self.env.pop(k, None)
        self.proc = None
        if start:
            self.start()

    def start(self):
        self.out = open(self.tmp / "serve.out", "w")
        self.err_path = self.tmp / "serve.err"
        self.proc = subprocess.Popen([sys.executable, self.binary, "serve"], env=self.env,
                                     stdout=self.out, stderr=open(self.err_path, "w"))
        deadline = time.time() + 15
        while time.time() < deadline:
            match = re.search(r"Listening on (\S+):(\d+) ", self.log())
            if match:
                self.host, self.port = match.group(1).strip("[]"), int(match.group(2))
                return self
            if self.proc.poll() is not None:
                raise RuntimeError(f"serve exited {self.proc.returncode}: {self.log()}")
            time.sleep(0.02)
        raise RuntimeError("serve did not start: " + self.log())

    def log(self):
        return self.err_path.read_text()

    def stdout(self):
        self.out.flush()
        return (self.tmp / "serve.out").read_text()

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)

    def request(self, method, path, body=None, headers=None):
        """(status, headers, body bytes)."""
        conn = http.client.HTTPConnection(self.host, self.port, timeout=30)
        data = json.dumps(body).encode() if isinstance(body, (dict, list)) else body
        conn.request(method, path, body=data, headers=headers or {})
        resp = conn.getresponse()
        out = resp.status, resp.headers, resp.read()
        conn.close()
        return out

    def json(self, method, path, body=None):
        status, dummy, raw = self.request(method, path, body)
        return status, json.loads(raw) if raw else None

    def cli(self, *args, cwd=None, binary=None):
        env = {**self.env, "OLLAMA_HOST": f"127.0.0.1:{self.port}" if self.proc else "127.0.0.1:1"}
        return subprocess.run([sys.executable, binary or self.binary, *args], env=env, cwd=cwd,
                              capture_output=True, text=True, timeout=60, check=False)

    def add_model(self, name="tiny:latest", size=65536):
        """A pulled-style model written straight into the store (fixtures.make_model_store)."""
        gguf = fixtures.write_gguf(self.tmp / f"{name.replace(':', '_').replace('/', '_')}.gguf", size)
        return fixtures.make_model_store(self.models, name, gguf)
