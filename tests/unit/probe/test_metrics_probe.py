# -*- coding: utf-8 -*-
# Copyright (c) 2026, gpufleet maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The node/gateway metrics probe (roles/ollama_metrics/files/gpufleet_metrics_probe.py), run as the timer runs it
against the Ollama stand-in, the nvidia-smi stand-in, a written nginx access log and an openssl certificate."""
import datetime
import json
import os
import shutil
import socket
import subprocess
import sys
import time

import pytest

from ansible_collections.gpufleet.ollama.tests.unit.standin.standin_helpers import Instance

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
PROBE = os.path.join(ROOT, "roles", "ollama_metrics", "files", "gpufleet_metrics_probe.py")
NVIDIA_SMI = os.path.join(ROOT, "tests", "standin", "nvidia-smi")

GPUS = [{"name": "NVIDIA L4", "uuid": "GPU-aaaa-1111", "memory_total_mib": 23034, "memory_used_mib": 1024,
         "utilization_pct": 37, "temperature_c": 51, "power_w": 72.5},
        {"name": "NVIDIA L4", "uuid": "GPU-bbbb-2222", "memory_total_mib": 23034, "power_w": "[N/A]",
         "temperature_c": "[Not Supported]"}]


def free_port():
    """A port nothing listens on (bound, then closed)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def temp_files(directory):
    return [n for n in os.listdir(directory) if n.endswith(".tmp")]


@pytest.fixture
def smi_json(tmp_path):
    path = tmp_path / "smi.json"
    path.write_text(json.dumps({"gpus": GPUS}))
    return str(path)


@pytest.fixture
def ollama(tmp_path, smi_json):
    """A stand-in server on a GPU host (the stand-in nvidia-smi) that keeps half of each model in VRAM."""
    (tmp_path / "srv").mkdir()
    instance = Instance(tmp_path / "srv", STANDIN_GPU_OFFLOAD="0.5", STANDIN_NVIDIA_SMI_JSON=smi_json)
    yield instance
    instance.stop()


# ---------------------------------------------------------------- ollama + gpu
def test_ollama_and_gpu_series(tmp_path, ollama, smi_json, run_probe, read_prom):
    """One instance up with a loaded model half on the GPU, one instance down, two GPUs (one without power and
    temperature readings): every series of the contract with its labels and values."""
    ollama.add_model("tiny:latest")
    ollama.add_model("team/other:q4")
    assert ollama.json("POST", "/api/generate", {"model": "tiny", "keep_alive": -1})[0] == 200
    loaded = ollama.json("GET", "/api/ps")[1]["models"][0]
    down = free_port()
    out = tmp_path / "textfile"
    result = run_probe({"textfile_dir": str(out), "nvidia_smi": NVIDIA_SMI, "ollama": {"timeout": 5, "instances": [
        {"url": "http://127.0.0.1:%d" % ollama.port, "port": ollama.port, "gpu": "0", "gpu_uuid": "GPU-aaaa-1111"},
        {"url": "http://127.0.0.1:%d" % down, "port": down, "gpu": "1", "gpu_uuid": "GPU-bbbb-2222"}]}},
        env={"STANDIN_NVIDIA_SMI_JSON": smi_json})
    assert result.returncode == 0, result.stderr
    assert sorted(os.listdir(out)) == ["gpufleet_ollama.prom"]
    assert oct(os.stat(out / "gpufleet_ollama.prom").st_mode & 0o777) == "0o644"
    prom = read_prom(out / "gpufleet_ollama.prom")
    up = {"port": str(ollama.port), "gpu": "0", "gpu_uuid": "GPU-aaaa-1111"}
    down_labels = {"port": str(down), "gpu": "1", "gpu_uuid": "GPU-bbbb-2222"}
    assert prom.series("gpufleet_ollama_up") == [(up, 1.0), (down_labels, 0.0)]
    assert prom.series("gpufleet_ollama_version_info") == [(dict(up, version="0.0.0"), 1.0)]
    assert [labels for labels, dummy in prom.series("gpufleet_ollama_response_seconds")] == [up]
    assert 0 < prom.get("gpufleet_ollama_response_seconds", port=str(ollama.port)) < 5
    assert prom.get("gpufleet_ollama_models_present", **up) == 2
    assert sorted(lab["model"] for lab, v in prom.series("gpufleet_ollama_model_present") if v == 1) == [
        "team/other:q4", "tiny:latest"]
    assert prom.get("gpufleet_ollama_models_loaded", **up) == 1
    model = dict(up, model="tiny:latest")
    assert prom.get("gpufleet_ollama_model_size_bytes", **model) == loaded["size"]
    assert prom.get("gpufleet_ollama_model_vram_bytes", **model) == int(loaded["size"] * 0.5) == loaded["size_vram"]
    assert prom.get("gpufleet_ollama_model_gpu_ratio", **model) == pytest.approx(0.5, abs=1e-4)
    assert prom.get("gpufleet_ollama_model_context_length", **model) == loaded["context_length"] > 0
    assert prom.get("gpufleet_ollama_models_present", port=str(down)) is None

    assert prom.get("gpufleet_gpu_up") == 1 and prom.series("gpufleet_gpu_up") == [({}, 1.0)]
    assert prom.series("gpufleet_gpu_info") == [
        ({"gpu": "0", "gpu_uuid": "GPU-aaaa-1111", "name": "NVIDIA L4", "driver_version": "580.95.05"}, 1.0),
        ({"gpu": "1", "gpu_uuid": "GPU-bbbb-2222", "name": "NVIDIA L4", "driver_version": "580.95.05"}, 1.0)]
    gpu0 = {"gpu": "0", "gpu_uuid": "GPU-aaaa-1111"}
    assert prom.get("gpufleet_gpu_memory_used_bytes", **gpu0) == 1024 * 1048576
    assert prom.get("gpufleet_gpu_memory_total_bytes", **gpu0) == 23034 * 1048576
    assert prom.get("gpufleet_gpu_utilization_ratio", **gpu0) == pytest.approx(0.37)
    assert prom.get("gpufleet_gpu_temperature_celsius", **gpu0) == 51
    assert prom.get("gpufleet_gpu_power_watts", **gpu0) == 72.5
    assert prom.get("gpufleet_gpu_power_watts", gpu="1") is None  # [N/A]
    assert prom.get("gpufleet_gpu_temperature_celsius", gpu="1") is None  # [Not Supported]
    assert prom.get("gpufleet_gpu_memory_used_bytes", gpu="1") == 0

    assert prom.series("gpufleet_probe_success") == [({"probe": "ollama"}, 1.0)]
    assert abs(prom.get("gpufleet_probe_timestamp_seconds", probe="ollama") - time.time()) < 60
    assert 0 <= prom.get("gpufleet_probe_duration_seconds", probe="ollama") < 60
    assert prom.text.rstrip("\n").splitlines()[-1].startswith('gpufleet_probe_duration_seconds{probe="ollama"} ')
    assert prom.types["gpufleet_ollama_up"] == "gauge"


def test_ollama_down_and_no_nvidia_smi(tmp_path, run_probe, read_prom):
    """Nothing answering: up 0 and none of the other instance series; nvidia-smi missing: gpu_up 0. Neither is a
    probe failure (success 1, exit 0)."""
    port = free_port()
    out = tmp_path / "out"
    instance = {"url": "http://127.0.0.1:%d" % port, "port": port, "gpu": "0", "gpu_uuid": "GPU-x"}
    result = run_probe({"textfile_dir": str(out), "nvidia_smi": str(tmp_path / "no-such-nvidia-smi"),
                        "ollama": {"timeout": 2, "instances": [instance]}})
    assert result.returncode == 0, result.stderr
    prom = read_prom(out / "gpufleet_ollama.prom")
    assert prom.series("gpufleet_ollama_up") == [({"port": str(port), "gpu": "0", "gpu_uuid": "GPU-x"}, 0.0)]
    for name in ("gpufleet_ollama_response_seconds", "gpufleet_ollama_version_info",
                 "gpufleet_ollama_models_present", "gpufleet_ollama_models_loaded"):
        assert prom.series(name) == [] and name not in prom.types
    assert prom.series("gpufleet_gpu_up") == [({}, 0.0)] and prom.series("gpufleet_gpu_info") == []
    assert prom.get("gpufleet_probe_success", probe="ollama") == 1


def test_no_gpu_series_without_nvidia_smi_and_timeout(tmp_path, run_probe, read_prom):
    """`nvidia_smi` null: no gpufleet_gpu_* at all. An instance that accepts but never answers is down after the
    timeout (a listening socket nobody accepts from)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(1)
        port = sock.getsockname()[1]
        started = time.monotonic()
        result = run_probe({"textfile_dir": str(tmp_path), "nvidia_smi": None,
                            "ollama": {"timeout": 1, "instances": [{"url": "http://127.0.0.1:%d" % port}]}})
        assert time.monotonic() - started < 30
    assert result.returncode == 0, result.stderr
    prom = read_prom(tmp_path / "gpufleet_ollama.prom")
    assert prom.series("gpufleet_ollama_up") == [({"port": str(port), "gpu": "", "gpu_uuid": ""}, 0.0)]
    assert not [name for name in prom.types if name.startswith("gpufleet_gpu_")]


def test_output_replaced_atomically(tmp_path, run_probe, read_prom):
    """A second run replaces the file (a new inode: a reader of the old one still reads it whole), leaves no temp
    file; the directory is created when missing."""
    out = tmp_path / "a" / "b"
    config = {"textfile_dir": str(out), "ollama": {"timeout": 1, "instances": [
        {"url": "http://127.0.0.1:%d" % free_port(), "port": 1, "gpu": "0", "gpu_uuid": "G"}]}}
    assert run_probe(config).returncode == 0
    path = out / "gpufleet_ollama.prom"
    with open(path, encoding="utf-8") as old:
        before = os.stat(path).st_ino
        first = read_prom(path).get("gpufleet_probe_timestamp_seconds", probe="ollama")
        time.sleep(0.01)
        assert run_probe(config).returncode == 0
        assert os.stat(path).st_ino != before
        text = old.read()
    assert text.endswith("\n") and 'gpufleet_probe_duration_seconds{probe="ollama"}' in text
    assert read_prom(path).get("gpufleet_probe_timestamp_seconds", probe="ollama") > first
    assert temp_files(out) == []


def test_unwritable_output_fails_without_temp_files(tmp_path, run_probe, read_prom):
    """The output path taken by a directory (os.replace fails after the temp file is written) or a directory that
    cannot be created: exit status non-zero, no temp file left, and the other section's file still written."""
    out = tmp_path / "out"
    (out / "gpufleet_ollama.prom").mkdir(parents=True)
    (out / "gpufleet_ollama.prom" / "keep").write_text("x")
    log = tmp_path / "access.log"
    log.write_text("")
    result = run_probe({"textfile_dir": str(out), "nvidia_smi": str(tmp_path / "missing"),
                        "gateway": {"access_log": str(log), "state_file": str(tmp_path / "state" / "gw.json")}})
    assert result.returncode == 1 and "gpufleet_ollama.prom" in result.stderr
    assert temp_files(out) == [] and sorted(os.listdir(out)) == ["gpufleet_gateway.prom", "gpufleet_ollama.prom"]
    assert read_prom(out / "gpufleet_gateway.prom").get("gpufleet_probe_success", probe="gateway") == 1

    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    result = run_probe({"textfile_dir": str(blocker / "sub"), "nvidia_smi": str(tmp_path / "missing")})
    assert result.returncode == 1 and blocker.read_text() == "not a directory"


def test_write_atomic_removes_temp_on_failure(tmp_path, probe, monkeypatch):
    """write_atomic: temp file in the same directory, mode 0644, removed when the replace fails."""
    target = tmp_path / "x.prom"
    probe.write_atomic(str(target), "a 1\n")
    assert target.read_text() == "a 1\n" and oct(target.stat().st_mode & 0o777) == "0o644"

    def broken_replace(src, dst):
        assert os.path.dirname(src) == str(tmp_path) and os.path.exists(src)
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(probe.os, "replace", broken_replace)
    with pytest.raises(OSError):
        probe.write_atomic(str(target), "a 2\n")
    assert target.read_text() == "a 1\n" and sorted(os.listdir(tmp_path)) == ["x.prom"]


def test_text_format_escaping_and_folding(probe):
    """Label values escaped per the text format; past max_series label sets fold into model="other" (values of
    additive families summed), and past that into one all-"other" series."""
    family = probe.Family("gpufleet_ollama_model_present", ("port", "model"), limit=4)
    family.add({"port": "1", "model": 'a"b\\c\nd'}, 1)
    family.add({"port": "1", "model": "m2"}, 1)
    family.add({"port": "1", "model": "m3"}, 1)
    family.add({"port": "1", "model": "m4"}, 1)
    family.add({"port": "2", "model": "m5"}, 1)
    lines = family.render()
    assert lines[:2] == ["# HELP gpufleet_ollama_model_present 1 for each model in the instance's store (/api/tags).",
                         "# TYPE gpufleet_ollama_model_present gauge"]
    assert lines[2] == 'gpufleet_ollama_model_present{port="1",model="a\\"b\\\\c\\nd"} 1'
    assert lines[3:] == ['gpufleet_ollama_model_present{port="1",model="m2"} 1',
                         'gpufleet_ollama_model_present{port="1",model="other"} 2',
                         'gpufleet_ollama_model_present{port="other",model="other"} 1']
    ratio = probe.Family("gpufleet_ollama_model_gpu_ratio", ("model",), limit=3, additive=False)
    for name in ("a", "b", "c"):
        ratio.add({"model": name}, 0.5)
    assert ratio.series == {("a",): 0.5, ("other",): 0.5}
    assert probe.format_value(float("inf")) == "+Inf" and probe.format_value(0.25) == "0.25"
    assert probe.clip("x" * 500) == "x" * 128


# ---------------------------------------------------------------- gateway
def line(model="llama3:8b", key="team-a", upstream="10.0.0.1:11434", status=200, request_time="0.300",
         upstream_status="200"):
    return ('10.9.8.7 [01/Jan/2026:10:00:00 +0000] "POST /api/chat HTTP/1.1" %s 512 key=%s model=%s upstream=%s '
            'upstream_status=%s request_time=%s upstream_connect_time=0.001 upstream_header_time=0.120\n'
            % (status, key, model, upstream, upstream_status, request_time))


class Gateway:
    """An access log, a state file and the probe's gateway section over them."""

    def __init__(self, tmp_path, run_probe, read_prom, **section):
        self.dir, self.run_probe, self.read_prom = tmp_path, run_probe, read_prom
        self.log = tmp_path / "access.log"
        self.state = tmp_path / "state" / "gateway.json"
        self.section = {"access_log": str(self.log), "state_file": str(self.state), "certificates": [],
                        "buckets": [0.1, 0.5, 1, 2.5, 5], "max_series": 2000, **section}

    def append(self, *lines, path=None):
        with open(path or self.log, "a", encoding="utf-8") as handle:
            handle.write("".join(lines))

    def run(self):
        result = self.run_probe({"textfile_dir": str(self.dir / "out"), "gateway": self.section})
        assert result.returncode == 0, result.stderr
        return self.read_prom(self.dir / "out" / "gpufleet_gateway.prom")


def requests(prom):
    return {(lab["model"], lab["key"], lab["upstream"], lab["code"]): v for lab, v in prom.series("gpufleet_gateway_requests_total")}


def lines_total(prom):
    return {lab["result"]: v for lab, v in prom.series("gpufleet_gateway_log_lines_total")}


def test_gateway_first_run_starts_at_end(tmp_path, run_probe, read_prom):
    """No history replay: the first run counts nothing of the existing log and saves its end as the offset."""
    gw = Gateway(tmp_path, run_probe, read_prom)
    gw.append(line(), line(), "garbage\n")
    prom = gw.run()
    assert requests(prom) == {} and lines_total(prom) == {"parsed": 0, "unparsed": 0}
    state = json.loads(gw.state.read_text())
    assert (state["inode"], state["offset"]) == (os.stat(gw.log).st_ino, os.path.getsize(gw.log))
    assert prom.get("gpufleet_probe_success", probe="gateway") == 1
    gw.append(line(status=404))
    assert requests(gw.run()) == {("llama3:8b", "team-a", "10.0.0.1:11434", "404"): 1}


def test_gateway_log_created_after_first_run(tmp_path, run_probe, read_prom):
    """No access log at the first run: the log that appears later is new and is read from its start."""
    gw = Gateway(tmp_path, run_probe, read_prom)
    prom = gw.run()
    assert lines_total(prom) == {"parsed": 0, "unparsed": 0} and prom.get("gpufleet_probe_success") == 1
    gw.append(line(model="first"), line(model="first"))
    assert requests(gw.run()) == {("first", "team-a", "10.0.0.1:11434", "200"): 2}


def test_gateway_counters_and_histogram(tmp_path, run_probe, read_prom):
    """Retries list / internal redirect -> the last upstream; `-` stays `-`; a model with a space; garbage is
    `unparsed`; the histogram is cumulative with +Inf, _sum and _count; appended lines add exactly themselves; a
    line without its newline yet waits for it."""
    gw = Gateway(tmp_path, run_probe, read_prom)
    gw.log.write_text("")
    gw.run()
    gw.append(line(upstream="10.0.0.1:11434, 10.0.0.2:11434", upstream_status="503, 200", request_time="0.300"),
              line(upstream="10.0.0.2:11434", request_time="2.000"),
              line(model="-", key="-", upstream="-", status=401, upstream_status="-", request_time="0.000"),
              line(upstream="10.0.0.1:11434 : 10.0.0.3:11434", status=503, request_time="7.5"),
              line(model="my model:1b", key='x\\x22y'),
              "garbage that is not an access log line\n")
    prom = gw.run()
    assert requests(prom) == {("llama3:8b", "team-a", "10.0.0.2:11434", "200"): 2,
                              ("-", "-", "-", "401"): 1,
                              ("llama3:8b", "team-a", "10.0.0.3:11434", "503"): 1,
                              ("my model:1b", 'x\\x22y', "10.0.0.1:11434", "200"): 1}
    assert lines_total(prom) == {"parsed": 5, "unparsed": 1}
    assert prom.types["gpufleet_gateway_request_duration_seconds"] == "histogram"
    assert prom.types["gpufleet_gateway_requests_total"] == "counter"
    series = {"model": "llama3:8b", "key": "team-a", "upstream": "10.0.0.2:11434"}
    buckets = {lab["le"]: v for lab, v in prom.series("gpufleet_gateway_request_duration_seconds_bucket")
               if {k: lab[k] for k in series} == series}
    assert buckets == {"0.1": 0, "0.5": 1, "1.0": 1, "2.5": 2, "5.0": 2, "+Inf": 2}
    assert prom.get("gpufleet_gateway_request_duration_seconds_sum", **series) == pytest.approx(2.3)
    assert prom.get("gpufleet_gateway_request_duration_seconds_count", **series) == 2
    slow = {"model": "llama3:8b", "key": "team-a", "upstream": "10.0.0.3:11434"}
    assert prom.get("gpufleet_gateway_request_duration_seconds_bucket", le="5.0", **slow) == 0
    assert prom.get("gpufleet_gateway_request_duration_seconds_bucket", le="+Inf", **slow) == 1
    assert "model=\"-\"" in prom.text and 'key="x\\\\x22y"' in prom.text

    before = requests(prom)
    gw.append(line(upstream="10.0.0.2:11434"), line(status=429, upstream="-"), line(model="new"))
    gw.append(line(model="partial")[:40])
    prom = gw.run()
    after = requests(prom)
    delta = {k: after[k] - before.get(k, 0) for k in after if after[k] != before.get(k, 0)}
    assert delta == {("llama3:8b", "team-a", "10.0.0.2:11434", "200"): 1, ("llama3:8b", "team-a", "-", "429"): 1,
                     ("new", "team-a", "10.0.0.1:11434", "200"): 1}
    assert lines_total(prom) == {"parsed": 8, "unparsed": 1}
    gw.append(line(model="partial")[40:])
    assert requests(gw.run())[("partial", "team-a", "10.0.0.1:11434", "200")] == 1
    assert requests(gw.run()) == {**after, ("partial", "team-a", "10.0.0.1:11434", "200"): 1}


def test_gateway_rotation_nothing_lost_or_twice(tmp_path, run_probe, read_prom):
    """logrotate (create): the rest of access.log.1 - lines nginx wrote before it reopened - then the new log from
    its start; a second run with nothing new changes nothing."""
    gw = Gateway(tmp_path, run_probe, read_prom)
    gw.log.write_text("")
    gw.run()
    gw.append(line(model="a"), line(model="a"))
    assert requests(gw.run()) == {("a", "team-a", "10.0.0.1:11434", "200"): 2}
    gw.append(line(model="b"))  # written but not read before the rotation
    os.rename(gw.log, str(gw.log) + ".1")
    gw.append(line(model="c"), path=str(gw.log) + ".1")  # nginx still writing the old file until it reopens
    gw.append(line(model="d"), line(model="d"))
    expected = {("a", "team-a", "10.0.0.1:11434", "200"): 2, ("b", "team-a", "10.0.0.1:11434", "200"): 1,
                ("c", "team-a", "10.0.0.1:11434", "200"): 1, ("d", "team-a", "10.0.0.1:11434", "200"): 2}
    prom = gw.run()
    assert requests(prom) == expected and lines_total(prom) == {"parsed": 6, "unparsed": 0}
    assert requests(gw.run()) == expected
    # a second rotation replaces the old .1 the same way
    gw.append(line(model="e"))
    os.rename(gw.log, str(gw.log) + ".1")
    gw.append(line(model="f"))
    expected.update({("e", "team-a", "10.0.0.1:11434", "200"): 1, ("f", "team-a", "10.0.0.1:11434", "200"): 1})
    assert requests(gw.run()) == expected
    # two rotations between runs: the saved file is gone, so its unread rest (g) and the whole of the file in
    # between (h) are lost; the current log is read from 0 (i), and nothing is counted twice
    gw.append(line(model="g"))
    os.rename(gw.log, str(gw.log) + ".1")
    gw.append(line(model="h"))
    os.rename(gw.log, str(gw.log) + ".1")
    gw.append(line(model="i"))
    expected[("i", "team-a", "10.0.0.1:11434", "200")] = 1
    assert requests(gw.run()) == expected


def test_gateway_truncation_and_corrupt_state(tmp_path, run_probe, read_prom):
    """A log truncated in place (smaller than the offset) is read from 0; a corrupt state file starts afresh at
    the end of the log (counters reset)."""
    gw = Gateway(tmp_path, run_probe, read_prom)
    gw.log.write_text("")
    gw.run()
    gw.append(line(), line(), line())
    assert lines_total(gw.run())["parsed"] == 3
    with open(gw.log, "w", encoding="utf-8") as handle:
        handle.write(line(model="after-truncate"))
    prom = gw.run()
    assert lines_total(prom)["parsed"] == 4 and requests(prom)[("after-truncate", "team-a", "10.0.0.1:11434", "200")] == 1
    gw.state.write_text("{not json")
    gw.append(line(model="ignored"))
    prom = gw.run()
    assert requests(prom) == {} and lines_total(prom) == {"parsed": 0, "unparsed": 0}
    assert json.loads(gw.state.read_text())["offset"] == os.path.getsize(gw.log)
    gw.append(line(model="counted"))
    assert requests(gw.run()) == {("counted", "team-a", "10.0.0.1:11434", "200"): 1}


def test_gateway_reads_a_bounded_amount_per_run(tmp_path, run_probe, read_prom):
    """At most max_read_bytes a run; the rest on the following runs, nothing lost or doubled."""
    one = line()
    gw = Gateway(tmp_path, run_probe, read_prom, max_read_bytes=2 * len(one) + 5)
    gw.log.write_text("")
    gw.run()
    gw.append(*[one] * 5)
    assert [lines_total(gw.run())["parsed"] for dummy in range(4)] == [2, 4, 5, 5]


def test_gateway_bounded_series(tmp_path, run_probe, read_prom):
    """max_series: at most that many label sets per family, the excess counted under model="other"."""
    gw = Gateway(tmp_path, run_probe, read_prom, max_series=5)
    gw.log.write_text("")
    gw.run()
    gw.append(*[line(model="m%d" % i) for i in range(12)])
    prom = gw.run()
    counts = requests(prom)
    assert len(counts) <= 5 and sum(counts.values()) == 12
    assert counts[("other", "team-a", "10.0.0.1:11434", "200")] == 12 - 3
    assert len({(lab["model"], lab["key"], lab["upstream"])
                for lab, v in prom.series("gpufleet_gateway_request_duration_seconds_count")}) <= 5
    state_size = os.path.getsize(gw.state)
    gw.append(*[line(model="n%d" % i) for i in range(50)])
    assert sum(requests(gw.run()).values()) == 62 and os.path.getsize(gw.state) < state_size + 64


def test_gateway_certificate_expiry(tmp_path, run_probe, read_prom, probe):
    """notAfter of each certificate (openssl x509 -enddate); a missing file has no series."""
    openssl = shutil.which("openssl")
    if not openssl:
        pytest.skip("openssl is not installed: the probe reads notAfter with `openssl x509 -enddate`")
    cert = tmp_path / "gateway.crt"
    subprocess.run([openssl, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                    "-days", "30", "-subj", "/CN=gateway", "-keyout", str(tmp_path / "gateway.key"), "-out", str(cert)],
                   check=True, capture_output=True)
    gw = Gateway(tmp_path, run_probe, read_prom, certificates=[str(cert), str(tmp_path / "missing.crt")])
    prom = gw.run()
    series = prom.series("gpufleet_gateway_certificate_expiry_timestamp_seconds")
    assert [labels for labels, dummy in series] == [{"path": str(cert)}]
    assert abs(series[0][1] - (time.time() + 30 * 86400)) < 3600
    assert probe.parse_not_after("notAfter=Jan  1 00:00:00 2027 GMT") == datetime.datetime(
        2027, 1, 1, tzinfo=datetime.timezone.utc).timestamp()
    assert probe.parse_not_after("notAfter=Dec 31 23:59:59 2049 GMT") == datetime.datetime(
        2049, 12, 31, 23, 59, 59, tzinfo=datetime.timezone.utc).timestamp()
    assert probe.parse_not_after("notAfter=garbage") is None


def test_gateway_failure_does_not_stop_ollama(tmp_path, run_probe, read_prom):
    """The gateway state cannot be saved (its directory is a file): gateway success 0 and exit 1, yet both files
    are written and the ollama section is unaffected."""
    blocker = tmp_path / "blocker"
    blocker.write_text("")
    log = tmp_path / "access.log"
    log.write_text(line())
    out = tmp_path / "out"
    result = run_probe({"textfile_dir": str(out), "nvidia_smi": str(tmp_path / "missing"),
                        "gateway": {"access_log": str(log), "state_file": str(blocker / "gateway.json")}})
    assert result.returncode == 1
    assert read_prom(out / "gpufleet_gateway.prom").get("gpufleet_probe_success", probe="gateway") == 0
    assert read_prom(out / "gpufleet_ollama.prom").get("gpufleet_probe_success", probe="ollama") == 1
    assert temp_files(out) == []


def test_bad_config_exit_2(tmp_path):
    """An unreadable config: exit 2, nothing written."""
    (tmp_path / "c.json").write_text("[1, 2")
    result = subprocess.run([sys.executable, PROBE, "--config", str(tmp_path / "c.json")], capture_output=True,
                            text=True, check=False, cwd=tmp_path)
    assert result.returncode == 2 and "config" in result.stderr and os.listdir(tmp_path) == ["c.json"]
