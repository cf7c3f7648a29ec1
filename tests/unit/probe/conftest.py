# -*- coding: utf-8 -*-
# Copyright (c) 2026, gpufleet maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Fixtures of the metrics probe tests: the probe imported by its path, run as the timer runs it, a small
parser of the Prometheus text format that also checks HELP/TYPE lines and duplicate series, fake Ollama servers
whose API hangs and an Ollama stand-in."""
import importlib.util
import json
import os
import re
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from ansible_collections.gpufleet.ollama.tests.unit.standin.standin_helpers import Instance

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
PROBE = os.path.join(ROOT, "roles", "ollama_metrics", "files", "gpufleet_metrics_probe.py")
NVIDIA_SMI = os.path.join(ROOT, "tests", "standin", "nvidia-smi")

SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$')
LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"(?:,|$)')


def unescape(value):
    return re.sub(r'\\(.)', lambda m: {"n": "\n"}.get(m.group(1), m.group(1)), value)


class Prom:
    """A parsed .prom file: samples[(name, frozenset(labels))] = float, types[family] = type."""

    def __init__(self, text):
        self.text, self.samples, self.types, self.helps = text, {}, {}, {}
        assert text.endswith("\n")
        for line in text.splitlines():
            if line.startswith("# HELP "):
                name, dummy, help_text = line[7:].partition(" ")
                assert name not in self.helps and help_text, line
                self.helps[name] = help_text
                continue
            if line.startswith("# TYPE "):
                name, dummy, kind = line[7:].partition(" ")
                assert name not in self.types and kind in ("gauge", "counter", "histogram"), line
                assert name in self.helps, "TYPE before HELP: " + line
                self.types[name] = kind
                continue
            match = SAMPLE.match(line)
            assert match, "not a sample line: %r" % line
            name, raw_labels, value = match.groups()
            labels = {}
            if raw_labels:
                pairs = LABEL.findall(raw_labels)
                assert "".join('%s="%s",' % p for p in pairs).rstrip(",") == raw_labels, line
                labels = {k: unescape(v) for k, v in pairs}
            family = name
            if family not in self.types:
                family = re.sub(r'_(bucket|sum|count)$', "", name)
                assert self.types.get(family) == "histogram", "no TYPE for " + name
            key = (name, frozenset(labels.items()))
            assert key not in self.samples, "duplicate series " + line
            self.samples[key] = float(value)

    def get(self, name, **labels):
        """The value of the one series of `name` whose labels include `labels`, else None."""
        found = [v for (n, ls), v in self.samples.items() if n == name and set(labels.items()) <= set(ls)]
        assert len(found) <= 1, (name, labels, found)
        return found[0] if found else None

    def series(self, name):
        return [(dict(ls), v) for (n, ls), v in self.samples.items() if n == name]


@pytest.fixture(scope="session")
def probe():
    """The probe module, imported by its path (it is a role file, not a package)."""
    spec = importlib.util.spec_from_file_location("gpufleet_metrics_probe", PROBE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def run_probe(tmp_path):
    """run_probe(config, env=None) -> CompletedProcess: the probe run as the timer runs it."""

    def run(config, env=None):
        path = tmp_path / "metrics-probe.json"
        path.write_text(json.dumps(config))
        return subprocess.run([sys.executable, PROBE, "--config", str(path)], capture_output=True, text=True,
                              env={**os.environ, **(env or {})}, timeout=120, check=False)

    return run


@pytest.fixture
def read_prom():
    def read(path):
        with open(path, encoding="utf-8") as handle:
            return Prom(handle.read())
    return read


HANGS_PAST = 30  # seconds a hanging endpoint sleeps (released at teardown)


class FakeOllama:
    """An HTTP server in a thread on 127.0.0.1 that answers /api/version, /api/tags and /api/ps like Ollama,
    except that the paths in `hang` sleep (up to HANGS_PAST s, until stop()) before answering: the server accepts
    connections and answers / but its API hangs (ollama/ollama #1378)."""

    def __init__(self, hang=()):
        release = self.release = threading.Event()
        answers = {"/api/version": {"version": "0.9.0"}, "/api/tags": {"models": [{"name": "tiny:latest"}]},
                   "/api/ps": {"models": []}}

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # pylint: disable=invalid-name  # the http.server name
                if self.path in hang:
                    release.wait(HANGS_PAST)
                body = json.dumps(answers.get(self.path, {})).encode()
                try:
                    self.send_response(200 if self.path in answers or self.path == "/" else 404)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except OSError:  # the probe gave up and closed the connection
                    pass

            def log_message(self, *args):  # pylint: disable=arguments-differ
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def instance(self, gpu):
        return {"url": "http://127.0.0.1:%d" % self.port, "port": self.port, "gpu": str(gpu), "gpu_uuid": "GPU-%d" % gpu}

    def stop(self):
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def fakes():
    started = []

    def start(hang=()):
        fake = FakeOllama(hang)
        started.append(fake)
        return fake

    yield start
    for fake in started:
        fake.stop()


@pytest.fixture
def standin(tmp_path):
    (tmp_path / "srv").mkdir()
    instance = Instance(tmp_path / "srv")
    yield instance
    instance.stop()
