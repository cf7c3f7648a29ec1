# -*- coding: utf-8 -*-
# Copyright (c) 2026, gpufleet maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The metrics probe's deadline (instances and nvidia-smi asked at once, whatever is late is down), the removal of
a section's stale output file, and the certificates' read_success series (fixtures `fakes` and `standin` in
conftest.py)."""
import os
import shutil
import subprocess
import time

import pytest

HANGS_PAST = 30  # seconds a hanging nvidia-smi sleeps


def api_up(prom, port):
    return {labels["endpoint"]: value for labels, value in prom.series("gpufleet_ollama_api_up")
            if labels["port"] == str(port)}


def test_hanging_instances_are_down_by_the_deadline(tmp_path, fakes, standin, run_probe, read_prom):
    """Four instances answer /api/version but hang on /api/tags: with deadline 2 s (timeout 5 s) the run ends in
    about 2 s, they are up 0 with api_up tags 0, and a healthy stand-in asked in the same run is up 1."""
    standin.add_model("tiny:latest")
    hanging = [fakes(hang=("/api/tags",)) for dummy in range(4)]
    out = tmp_path / "out"
    instances = [fake.instance(gpu) for gpu, fake in enumerate(hanging)]
    instances.append({"url": "http://127.0.0.1:%d" % standin.port, "port": standin.port, "gpu": "4", "gpu_uuid": "G4"})
    started = time.monotonic()
    result = run_probe({"textfile_dir": str(out), "deadline": 2, "ollama": {"timeout": 5, "instances": instances}})
    elapsed = time.monotonic() - started
    assert result.returncode == 0, result.stderr
    assert elapsed < 3.2, elapsed
    prom = read_prom(out / "gpufleet_ollama.prom")
    assert [labels["port"] for labels, dummy in prom.series("gpufleet_ollama_up")] == [str(i["port"]) for i in instances]
    for fake in hanging:
        assert prom.get("gpufleet_ollama_up", port=str(fake.port)) == 0
        assert api_up(prom, fake.port) == {"version": 1, "tags": 0, "ps": 0}
        for name in ("gpufleet_ollama_response_seconds", "gpufleet_ollama_version_info",
                     "gpufleet_ollama_models_present", "gpufleet_ollama_model_present", "gpufleet_ollama_models_loaded"):
            assert prom.get(name, port=str(fake.port)) is None, name
    assert prom.get("gpufleet_ollama_up", port=str(standin.port)) == 1
    assert api_up(prom, standin.port) == {"version": 1, "tags": 1, "ps": 1}
    assert prom.get("gpufleet_ollama_models_present", port=str(standin.port)) == 1
    assert prom.get("gpufleet_ollama_response_seconds", port=str(standin.port)) < 2
    assert prom.types["gpufleet_ollama_api_up"] == "gauge"
    assert prom.get("gpufleet_probe_success", probe="ollama") == 1
    assert 1.5 < prom.get("gpufleet_probe_duration_seconds", probe="ollama") < 3


def test_instance_hanging_on_ps_is_down(tmp_path, fakes, run_probe, read_prom):
    """/api/version and /api/tags answer, /api/ps hangs: up 0 (not serving its API), api_up shows ps 0, and none
    of the tags it did read is exported; an instance refusing connections has every endpoint 0."""
    fake = fakes(hang=("/api/ps",))
    healthy = fakes()
    refused = fakes()
    refused.stop()
    out = tmp_path / "out"
    result = run_probe({"textfile_dir": str(out), "deadline": 1.5, "ollama": {"timeout": 5, "instances": [
        fake.instance(0), healthy.instance(1), refused.instance(2)]}})
    assert result.returncode == 0, result.stderr
    prom = read_prom(out / "gpufleet_ollama.prom")
    assert prom.get("gpufleet_ollama_up", port=str(fake.port)) == 0
    assert api_up(prom, fake.port) == {"version": 1, "tags": 1, "ps": 0}
    assert prom.get("gpufleet_ollama_models_present", port=str(fake.port)) is None
    assert prom.get("gpufleet_ollama_up", port=str(healthy.port)) == 1
    assert prom.series("gpufleet_ollama_version_info") == [(dict(port=str(healthy.port), gpu="1", gpu_uuid="GPU-1",
                                                                 version="0.9.0"), 1.0)]
    assert prom.get("gpufleet_ollama_up", port=str(refused.port)) == 0
    assert api_up(prom, refused.port) == {"version": 0, "tags": 0, "ps": 0}


def test_hanging_nvidia_smi_is_killed_at_the_deadline(tmp_path, run_probe, read_prom):
    """nvidia-smi that never answers (a script whose child sleeps): gpu_up 0 by the deadline, and its whole process
    group killed (the child too)."""
    smi = tmp_path / "nvidia-smi"
    pid_file = tmp_path / "child.pid"
    smi.write_text("#!/bin/sh\nsleep %d &\necho $! > %s\nwait\n" % (HANGS_PAST, pid_file))
    smi.chmod(0o755)
    out = tmp_path / "out"
    started = time.monotonic()
    result = run_probe({"textfile_dir": str(out), "deadline": 1.5, "nvidia_smi": str(smi), "nvidia_smi_timeout": 10})
    elapsed = time.monotonic() - started
    assert result.returncode == 0, result.stderr
    assert elapsed < 2.7, elapsed
    prom = read_prom(out / "gpufleet_ollama.prom")
    assert prom.series("gpufleet_gpu_up") == [({}, 0.0)] and prom.series("gpufleet_gpu_info") == []
    assert "gpufleet_ollama_up" not in prom.types
    child = int(pid_file.read_text())
    for dummy in range(50):
        try:
            with open("/proc/%d/stat" % child, encoding="ascii") as handle:
                state = handle.read().rsplit(")", 1)[1].split()[0]
        except FileNotFoundError:
            break
        if state == "Z":  # killed, waiting for a reaper
            break
        time.sleep(0.1)
    else:
        pytest.fail("nvidia-smi's child %d still runs" % child)


def test_deadline_setting(probe, capsys):
    assert probe.parse_deadline({}) == probe.DEFAULT_DEADLINE == 25
    assert probe.parse_deadline({"deadline": 27}) == 27.0 and probe.parse_deadline({"deadline": "2.5"}) == 2.5
    for bad in (0, -1, "soon", True, float("inf"), [1]):
        assert probe.parse_deadline({"deadline": bad}) == 25, bad
    assert "deadline" in capsys.readouterr().err


def test_stale_section_files_removed(tmp_path, run_probe, read_prom):
    """A section no longer configured has its file removed; every other file of the directory stays."""
    out = tmp_path / "out"
    out.mkdir()
    log = tmp_path / "access.log"
    log.write_text("")
    gateway = {"access_log": str(log), "state_file": str(tmp_path / "gw.json")}
    missing_smi = str(tmp_path / "missing-nvidia-smi")
    unrelated = {"node.prom": "node_x 1\n", "gpufleet_other.prom": "x 1\n", "gpufleet_gateway.prom.bak": "y\n",
                 ".gpufleet_gateway.prom.abc.tmp": "z\n"}
    for name, text in unrelated.items():
        (out / name).write_text(text)

    assert run_probe({"textfile_dir": str(out), "nvidia_smi": missing_smi, "gateway": gateway}).returncode == 0
    assert sorted(os.listdir(out)) == sorted(list(unrelated) + ["gpufleet_gateway.prom", "gpufleet_ollama.prom"])

    result = run_probe({"textfile_dir": str(out), "nvidia_smi": missing_smi})  # no longer a gateway
    assert result.returncode == 0, result.stderr
    assert sorted(os.listdir(out)) == sorted(list(unrelated) + ["gpufleet_ollama.prom"])
    assert read_prom(out / "gpufleet_ollama.prom").get("gpufleet_gpu_up") == 0

    result = run_probe({"textfile_dir": str(out), "nvidia_smi": None, "ollama": {}, "gateway": gateway})
    assert result.returncode == 0, result.stderr
    assert sorted(os.listdir(out)) == sorted(list(unrelated) + ["gpufleet_gateway.prom"])

    result = run_probe({"textfile_dir": str(out)})  # nothing configured: both gone, nothing else touched
    assert result.returncode == 0, result.stderr
    assert sorted(os.listdir(out)) == sorted(unrelated)
    assert all((out / name).read_text() == text for name, text in unrelated.items())


def test_stale_removal_leaves_a_directory(tmp_path, run_probe):
    """A directory that has the output's name is not an output: left as it is (and not an error)."""
    (tmp_path / "gpufleet_gateway.prom").mkdir()
    (tmp_path / "gpufleet_gateway.prom" / "keep").write_text("x")
    result = run_probe({"textfile_dir": str(tmp_path)})
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "gpufleet_gateway.prom" / "keep").read_text() == "x"


def make_certificate(tmp_path):
    openssl = shutil.which("openssl")
    if not openssl:
        pytest.skip("openssl is not installed")
    cert = tmp_path / "gateway.crt"
    subprocess.run([openssl, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                    "-days", "30", "-subj", "/CN=gateway", "-keyout", str(tmp_path / "gateway.key"), "-out", str(cert)],
                   check=True, capture_output=True)
    return cert


def test_certificate_read_success(tmp_path, run_probe, read_prom):
    """read_success 1 for a good certificate, 0 for a missing file and for a file that is not a certificate;
    the expiry only for the one read."""
    cert = make_certificate(tmp_path)
    garbage = tmp_path / "garbage.crt"
    garbage.write_text("not a certificate\n")
    missing = tmp_path / "missing.crt"
    result = run_probe({"textfile_dir": str(tmp_path / "out"),
                        "gateway": {"certificates": [str(cert), str(missing), str(garbage)]}})
    assert result.returncode == 0, result.stderr
    prom = read_prom(tmp_path / "out" / "gpufleet_gateway.prom")
    assert prom.series("gpufleet_gateway_certificate_read_success") == [
        ({"path": str(cert)}, 1.0), ({"path": str(missing)}, 0.0), ({"path": str(garbage)}, 0.0)]
    assert prom.types["gpufleet_gateway_certificate_read_success"] == "gauge"
    assert [labels for labels, dummy in prom.series("gpufleet_gateway_certificate_expiry_timestamp_seconds")] == [
        {"path": str(cert)}]


def test_certificate_read_success_without_openssl(tmp_path, run_probe, read_prom):
    """openssl missing: every configured certificate is read_success 0, none has an expiry; not a probe failure."""
    cert = tmp_path / "gateway.crt"
    cert.write_text("-----BEGIN CERTIFICATE-----\n")
    result = run_probe({"textfile_dir": str(tmp_path / "out"),
                        "gateway": {"certificates": [str(cert)], "openssl": str(tmp_path / "no-openssl")}})
    assert result.returncode == 0, result.stderr
    prom = read_prom(tmp_path / "out" / "gpufleet_gateway.prom")
    assert prom.series("gpufleet_gateway_certificate_read_success") == [({"path": str(cert)}, 0.0)]
    assert prom.series("gpufleet_gateway_certificate_expiry_timestamp_seconds") == []
    assert prom.get("gpufleet_probe_success", probe="gateway") == 1
