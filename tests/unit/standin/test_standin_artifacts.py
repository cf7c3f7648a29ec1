# -*- coding: utf-8 -*-
# Copyright (c) 2026, gpufleet maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Release archives, fixtures and the nvidia-smi stand-in (ref §1.1; release.yaml; nvidia-smi(1))."""
import hashlib
import io
import json
import os
import subprocess
import sys
import tarfile
import time

import gguf
import pytest
import zstandard

import build_artifacts
import fixtures
from ansible_collections.gpufleet.ollama.tests.unit.standin.standin_helpers import STANDIN

NVIDIA_SMI = os.path.join(STANDIN, "nvidia-smi")


def members(path):
    raw = open(path, "rb").read()
    if path.endswith(".tar.zst"):
        raw = zstandard.ZstdDecompressor().stream_reader(io.BytesIO(raw)).read()
        return tarfile.open(fileobj=io.BytesIO(raw)).getmembers()
    return tarfile.open(path).getmembers()


def test_tgz_layout_up_to_0_13(tmp_path):
    """<= v0.13: ollama-linux-amd64.tgz with bin/ollama and lib/ollama/{*.so, cuda_v12/, cuda_v13/, vulkan/};
    members relative and owned 0:0 (`tar c -T ... --owner 0 --group 0`)."""
    path = build_artifacts.build("0.13.5", "tgz", tmp_path)
    assert os.path.basename(path) == "ollama-linux-amd64.tgz"
    items = {m.name: m for m in members(path)}
    assert {"bin/ollama", "lib/ollama/libggml-base.so", "lib/ollama/cuda_v12/libggml-cuda.so",
            "lib/ollama/cuda_v13/libggml-cuda.so", "lib/ollama/vulkan/libggml-vulkan.so"} <= set(items)
    assert items["lib/ollama/cuda_v12"].isdir() and "lib/ollama" not in items and "bin" not in items
    assert not any("mlx" in name or "llama-server" in name for name in items)
    assert all(not n.startswith(("/", "..")) and m.uid == 0 and m.gid == 0 for n, m in items.items())
    assert items["bin/ollama"].mode == 0o755


def test_tar_zst_layout_and_baked_version(tmp_path):
    """v0.14+: .tar.zst (commit 34d0c55); the version is baked into bin/ollama (`Warning: client version is`)."""
    path = build_artifacts.build("0.14.1", "tar.zst", tmp_path / "dist")
    assert os.path.basename(path) == "ollama-linux-amd64.tar.zst"
    assert "lib/ollama/mlx_cuda_v13/libmlxc.so" in {m.name for m in members(path)}
    out = tmp_path / "root"
    out.mkdir()
    subprocess.run(["tar", "--zstd", "-xf", path, "-C", str(out)], check=True)
    binary = out / "bin" / "ollama"
    assert binary.read_text().startswith("#!/usr/bin/env python3\n")
    result = subprocess.run([str(binary), "-v"], capture_output=True, text=True, check=False,
                            env={**os.environ, "OLLAMA_HOST": "127.0.0.1:1"})
    assert result.returncode == 0 and result.stdout.endswith("Warning: client version is 0.14.1\n")
    assert {m.name for m in members(build_artifacts.build("0.30.0", "tgz", tmp_path / "new"))} >= {
        "lib/ollama/llama-server", "lib/ollama/llama-quantize"}


def test_sha256sum_format_and_reproducible(tmp_path):
    """sha256sum.txt as release.yaml writes it (`find . -type f ... | xargs sha256sum`): "<hex>  ./<name>";
    other archives' lines are kept; fixed mtimes make the digests reproducible."""
    dist = tmp_path / "dist"
    dist.mkdir()
    (dist / "sha256sum.txt").write_text(f"{'1' * 64}  ./ollama-linux-arm64.tgz\n{'2' * 64}  ./ollama-linux-amd64.tgz\n")
    subprocess.run([sys.executable, os.path.join(STANDIN, "build_artifacts.py"), "--version", "0.14.1",
                    "--format", "both", "--out", str(dist)], check=True, capture_output=True)
    lines = (dist / "sha256sum.txt").read_text().splitlines()
    sums = {name: digest for digest, name in (line.split("  ") for line in lines)}
    assert set(sums) == {"./ollama-linux-arm64.tgz", "./ollama-linux-amd64.tgz", "./ollama-linux-amd64.tar.zst"}
    for name in ("ollama-linux-amd64.tgz", "ollama-linux-amd64.tar.zst"):
        assert sums["./" + name] == hashlib.sha256((dist / name).read_bytes()).hexdigest()
    again = build_artifacts.build("0.14.1", "tar.zst", tmp_path / "again")
    assert hashlib.sha256(open(again, "rb").read()).hexdigest() == sums["./ollama-linux-amd64.tar.zst"]


def test_write_gguf_exact_sparse_deterministic(tmp_path):
    """Fixture GGUFs: exact size, valid (gguf-py reads them), deterministic, large sizes sparse."""
    a = fixtures.write_gguf(tmp_path / "a.gguf", 65536)
    b = fixtures.write_gguf(tmp_path / "b.gguf", 65536)
    assert os.path.getsize(a) == 65536 and open(a, "rb").read() == open(b, "rb").read()
    reader = gguf.GGUFReader(a)
    assert reader.fields["general.architecture"].contents() == "llama"
    big = fixtures.write_gguf(tmp_path / "big.gguf", 3 * 10**9 + 7, arch="qwen2", seed=1)
    assert os.path.getsize(big) == 3 * 10**9 + 7 and os.stat(big).st_blocks * 512 < 10**6
    with pytest.raises(ValueError):
        fixtures.write_gguf(tmp_path / "tiny.gguf", 100)
    out = subprocess.run([sys.executable, os.path.join(STANDIN, "fixtures.py"), "gguf", str(tmp_path / "c.gguf"),
                          "--size", "12345"], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == str(tmp_path / "c.gguf") and os.path.getsize(tmp_path / "c.gguf") == 12345


def test_make_model_store_is_listed(server):
    """make_model_store returns the manifest-file sha256, which is what /api/tags reports (ref §3.2)."""
    s = server()
    digest = s.add_model("team/m:q4")
    model = s.json("GET", "/api/tags")[1]["models"][0]
    assert (model["name"], model["digest"], model["details"]["quantization_level"]) == ("team/m:q4", digest, "F16")


def smi(*args, gpus=None, tmp_path=None):
    env = dict(os.environ)
    if gpus is not None:
        (tmp_path / "smi.json").write_text(json.dumps({"gpus": gpus}))
        env["STANDIN_NVIDIA_SMI_JSON"] = str(tmp_path / "smi.json")
    else:
        env.pop("STANDIN_NVIDIA_SMI_JSON", None)
    return subprocess.run([NVIDIA_SMI, *args], capture_output=True, text=True, env=env, check=False)


def test_nvidia_smi_formats(tmp_path):
    """nvidia-smi(1): -L lines "GPU i: <name> (UUID: GPU-...)"; --query-gpu in the order asked, csv with
    `[MiB]` headers and units unless noheader/nounits; default 2 x H100 80GB HBM3, 81559 MiB, 580.95.05."""
    listing = smi("-L").stdout.splitlines()
    assert len(listing) == 2 and listing[0].startswith("GPU 0: NVIDIA H100 80GB HBM3 (UUID: GPU-")
    bare = smi("--query-gpu=driver_version,memory.total,index", "--format=csv,noheader,nounits").stdout
    assert bare.splitlines() == ["580.95.05, 81559, 0", "580.95.05, 81559, 1"]
    full = smi("--query-gpu=name,memory.used,uuid", "--format=csv").stdout.splitlines()
    assert full[0] == "name, memory.used [MiB], uuid" and full[1].startswith("NVIDIA H100 80GB HBM3, 0 MiB, GPU-")
    nounits = smi("--query-gpu=memory.total", "--format=csv,nounits").stdout.splitlines()
    assert nounits == ["memory.total [MiB]", "81559", "81559"]
    table = smi().stdout
    assert "Driver Version: 580.95.05" in table and table.count("NVIDIA H100 80GB HBM3") == 2
    assert smi("--query-gpu=bogus", "--format=csv").returncode == 2


def test_nvidia_smi_sensor_fields(tmp_path):
    """nvidia-smi --help-query-gpu: utilization.gpu `[%]` / ` %`, temperature.gpu (no unit), power.draw `[W]` / ` W`
    with two decimals; defaults 0 %, 35, 70.00 W; a reading such as [N/A] is printed as it is, without a unit."""
    fields = "--query-gpu=index,memory.used,utilization.gpu,temperature.gpu,power.draw"
    default = smi(fields, "--format=csv").stdout.splitlines()
    assert default == ["index, memory.used [MiB], utilization.gpu [%], temperature.gpu, power.draw [W]",
                       "0, 0 MiB, 0 %, 35, 70.00 W", "1, 0 MiB, 0 %, 35, 70.00 W"]
    gpus = [{"name": "NVIDIA L4", "uuid": "GPU-aaaa", "memory_total_mib": 23034, "memory_used_mib": 512,
             "utilization_pct": 87, "temperature_c": 64, "power_w": 71.456},
            {"name": "NVIDIA L4", "uuid": "GPU-bbbb", "memory_total_mib": 23034, "power_w": "[N/A]",
             "temperature_c": "[Not Supported]"}]
    bare = smi(fields, "--format=csv,noheader,nounits", gpus=gpus, tmp_path=tmp_path).stdout.splitlines()
    assert bare == ["0, 512, 87, 64, 71.46", "1, 0, 0, [Not Supported], [N/A]"]
    units = smi(fields, "--format=csv,noheader", gpus=gpus, tmp_path=tmp_path).stdout.splitlines()
    assert units == ["0, 512 MiB, 87 %, 64, 71.46 W", "1, 0 MiB, 0 %, [Not Supported], [N/A]"]


def test_nvidia_smi_custom_and_empty(tmp_path):
    """GPUs come from STANDIN_NVIDIA_SMI_JSON; with none it prints `No devices were found` and exits 6."""
    one = [{"name": "NVIDIA L4", "uuid": "GPU-0000", "memory_total_mib": 23034}]
    assert smi("-L", gpus=one, tmp_path=tmp_path).stdout == "GPU 0: NVIDIA L4 (UUID: GPU-0000)\n"
    empty = smi("-L", gpus=[], tmp_path=tmp_path)
    assert (empty.returncode, empty.stdout) == (6, "No devices were found\n")


def test_nvidia_smi_id_selects_one_gpu_by_index_or_uuid(tmp_path):
    """nvidia-smi(1) -i/--id: one GPU, by its 0-based index or UUID; an id no GPU has is "No devices were found",
    exit 6 (RETURN VALUE 6: a query to find an object was unsuccessful). The ollama role's start-time check of an
    instance's GPUs (ExecStartPre in its environment drop-in) relies on that exit status."""
    two = [{"name": "NVIDIA L4", "uuid": "GPU-aaaa", "memory_total_mib": 23034},
           {"name": "NVIDIA L4", "uuid": "GPU-bbbb", "memory_total_mib": 23034}]
    by_uuid = smi("--query-gpu=index,uuid", "--format=csv,noheader", "--id=GPU-bbbb", gpus=two, tmp_path=tmp_path)
    assert (by_uuid.returncode, by_uuid.stdout) == (0, "1, GPU-bbbb\n")
    by_index = smi("--query-gpu=uuid", "--format=csv,noheader", "-i", "0", gpus=two, tmp_path=tmp_path)
    assert (by_index.returncode, by_index.stdout) == (0, "GPU-aaaa\n")
    missing = smi("--query-gpu=uuid", "--format=csv,noheader", "--id=GPU-cccc", gpus=two, tmp_path=tmp_path)
    assert (missing.returncode, missing.stdout) == (6, "No devices were found\n")


@pytest.mark.parametrize("without_cuda, library", [(False, "library=CUDA"), (True, "id=cpu")])
def test_release_without_cuda_runners_finds_no_gpu(tmp_path, without_cuda, library):
    """Fault fixture: a release without lib/ollama/cuda_v* finds no GPU (real: ml/path.go LibOllamaPath,
    discover/ loads lib/ollama/cuda_v*/libggml-cuda.so) and logs the CPU as its only inference compute."""
    from ansible_collections.gpufleet.ollama.tests.unit.standin.standin_helpers import Instance
    path = build_artifacts.build("0.14.2", "tgz", tmp_path / "dist", without_cuda=without_cuda)
    names = {m.name for m in members(path)}
    assert ("lib/ollama/cuda_v12/libggml-cuda.so" in names) != without_cuda
    assert "lib/ollama/libggml-base.so" in names
    root = tmp_path / "root"
    root.mkdir()
    subprocess.run(["tar", "-xzf", path, "-C", str(root)], check=True)
    instance = Instance(tmp_path, binary=str(root / "bin" / "ollama"))
    try:
        deadline = time.time() + 15
        while "inference compute" not in instance.log() and time.time() < deadline:
            time.sleep(0.05)
        assert library in instance.log()
    finally:
        instance.stop()


def test_mislabelled_archive_reports_its_binary_version(tmp_path):
    """Fault fixture: an archive named for 0.14.2 whose bin/ollama is 0.14.1 (`ollama -v` tells)."""
    path = build_artifacts.build("0.14.2", "tgz", tmp_path / "dist", binary_version="0.14.1")
    root = tmp_path / "root"
    root.mkdir()
    subprocess.run(["tar", "-xzf", path, "-C", str(root)], check=True)
    result = subprocess.run([str(root / "bin" / "ollama"), "-v"], capture_output=True, text=True, check=False,
                            env={**os.environ, "OLLAMA_HOST": "127.0.0.1:1"})
    assert result.stdout.endswith("Warning: client version is 0.14.1\n")
