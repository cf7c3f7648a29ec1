# -*- coding: utf-8 -*-
# Copyright (c) 2026, gpufleet maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Controller-side fixtures for the Ollama test stand-in (needs gguf + numpy; never runs on targets).

- write_gguf(): a tiny, valid, deterministic GGUF of an exact size. Large sizes are
  a sparse zero tail (one I8 "padding" tensor extended with truncate), so a
  multi-GB fixture costs almost no disk.
- make_model_store(): a pulled-style model in an OLLAMA_MODELS directory
  (manifest + config + model/template/params layers, ref §3.2-3.3).

CLI: python tests/standin/fixtures.py gguf OUT --size 65536 [--arch llama] [--seed 0]
"""
import argparse
import hashlib
import json
import os
import sys

import numpy as np
from gguf import GGMLQuantizationType, GGUFWriter

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ollama_standin import FILE_TYPES, human_number, read_gguf  # noqa: E402  (same directory)

ALIGNMENT = 32  # GGUF default general.alignment
PAD_TENSOR = "standin.padding"
TEMPLATE = "{{ .System }}\n{{ .Prompt }}"
PARAMS = {"num_ctx": 2048, "stop": ["<|end|>"], "temperature": 0.7}
MT = "application/vnd.ollama.image."


def _writer(path, arch, seed, pad_elements):
    """A GGUFWriter with header, metadata, small seeded F16 tensors and the padding tensor declared."""
    rng = np.random.RandomState(seed)
    writer = GGUFWriter(path, arch)
    writer.add_name("standin-tiny")
    writer.add_description("TEST STAND-IN fixture: random weights, not a usable model")
    writer.add_file_type(1)  # F16 (real: fs/ggml/type.go FileType 1 = "F16")
    writer.add_context_length(2048)
    writer.add_embedding_length(16)
    writer.add_block_count(1)
    writer.add_feed_forward_length(32)
    writer.add_head_count(2)
    writer.add_tokenizer_model("gpt2")
    writer.add_token_list([f"tok{i}" for i in range(32)])
    small = {"token_embd.weight": (32, 16), "blk.0.attn_norm.weight": (16,), "output_norm.weight": (16,)}
    tensors = [(name, rng.standard_normal(shape).astype(np.float16)) for name, shape in small.items()]
    for name, data in tensors:
        writer.add_tensor_info(name, data.shape, data.dtype, data.nbytes)
    writer.add_tensor_info(PAD_TENSOR, (pad_elements,), np.dtype(np.int8), pad_elements,
                           raw_dtype=GGMLQuantizationType.I8)
    return writer, tensors


def write_gguf(path, size_bytes, arch="llama", seed=0):
    """Write a valid GGUF of exactly size_bytes (a few KB up to GBs); returns the path."""
    path = os.fspath(path)
    # pass 1: measure where tensor data starts (the padding tensor's length does not change it)
    writer, tensors = _writer(path, arch, seed, 1)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_ti_data_to_file()
    writer.fout[0].flush()
    data_start = -(-writer.fout[0].tell() // ALIGNMENT) * ALIGNMENT
    writer.close()
    pad_offset = data_start + sum(-(-t.nbytes // ALIGNMENT) * ALIGNMENT for dummy, t in tensors)
    if size_bytes <= pad_offset:
        raise ValueError(f"size_bytes must exceed {pad_offset} for this fixture")
    # pass 2: the real file; the zero padding tensor is a sparse tail made by truncate
    writer, tensors = _writer(path, arch, seed, size_bytes - pad_offset)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_ti_data_to_file()
    for dummy, data in tensors:
        writer.write_tensor_data(data)
    writer.fout[0].flush()
    assert writer.fout[0].tell() == pad_offset
    writer.fout[0].truncate(size_bytes)
    writer.close()
    return path


def _go_json(obj):
    """Compact JSON like Go's encoding/json (no '<>&' appear in these fixtures)."""
    return json.dumps(obj, separators=(",", ":")).encode()


def _put_blob(blobs, data=None, source=None):
    """Store bytes (or a file, sparse-aware) as blobs/sha256-<hex>; returns the digest."""
    sha = hashlib.sha256()
    if source is None:
        sha.update(data)
    else:
        with open(source, "rb") as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                sha.update(chunk)
    digest = "sha256:" + sha.hexdigest()
    target = os.path.join(blobs, digest.replace(":", "-"))
    if not os.path.exists(target):
        if source is None:
            with open(target, "wb") as f:
                f.write(data)
        else:
            _sparse_copy(source, target)
        os.chmod(target, 0o644)
    return digest


def _sparse_copy(source, target):
    with open(source, "rb") as src, open(target, "wb") as dst:
        for chunk in iter(lambda: src.read(1 << 20), b""):
            if chunk.count(0) == len(chunk):
                dst.seek(len(chunk), os.SEEK_CUR)
            else:
                dst.write(chunk)
        dst.truncate()


def make_model_store(store_dir, name="tiny:latest", gguf_path=None):
    """Build a pulled-style model under store_dir (an OLLAMA_MODELS directory).

    Layout and media types as ref §3.1-3.3: blobs/sha256-<hex> (0644), manifest at
    manifests/registry.ollama.ai/library/<model>/<tag> (schemaVersion 2), config blob,
    layers model (+template, +params). Registry manifests carry no `from` fields.
    Returns the model digest: the sha256 hex of the manifest file (what /api/tags reports).
    """
    store_dir = os.fspath(store_dir)
    blobs = os.path.join(store_dir, "blobs")
    os.makedirs(blobs, 0o755, exist_ok=True)
    if gguf_path is None:
        gguf_path = write_gguf(os.path.join(blobs, "fixture.gguf.tmp"), 64 * 1024)
        model_digest = _put_blob(blobs, source=gguf_path)
        os.remove(gguf_path)
        gguf_path = os.path.join(blobs, model_digest.replace(":", "-"))
    else:
        model_digest = _put_blob(blobs, source=gguf_path)
    layers = [{"mediaType": MT + "model", "digest": model_digest, "size": os.path.getsize(gguf_path)}]
    for kind, data in (("template", TEMPLATE.encode()), ("params", _go_json(PARAMS) + b"\n")):
        layers.append({"mediaType": MT + kind, "digest": _put_blob(blobs, data), "size": len(data)})
    kv, dummy = read_gguf(gguf_path)
    arch = kv.get("general.architecture", "unknown")
    config = _go_json({"model_format": "gguf", "model_family": arch, "model_families": [arch],
                       "model_type": human_number(kv["general.parameter_count"]),
                       "file_type": FILE_TYPES.get(kv.get("general.file_type") or 1024, "unknown"),
                       "architecture": "amd64", "os": "linux",
                       "rootfs": {"type": "layers", "diff_ids": [layer["digest"] for layer in layers]}})
    manifest = _go_json({"schemaVersion": 2, "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
                         "config": {"mediaType": "application/vnd.docker.container.image.v1+json",
                                    "digest": _put_blob(blobs, config), "size": len(config)},
                         "layers": layers})
    model, dummy, tag = name.partition(":")
    namespace, dummy, model = model.rpartition("/")
    path = os.path.join(store_dir, "manifests", "registry.ollama.ai", namespace or "library", model, tag or "latest")
    os.makedirs(os.path.dirname(path), 0o755, exist_ok=True)
    with open(path, "wb") as f:
        f.write(manifest)
    return hashlib.sha256(manifest).hexdigest()


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    gguf = sub.add_parser("gguf", help="write a tiny valid GGUF of an exact size")
    gguf.add_argument("out")
    gguf.add_argument("--size", type=int, default=65536)
    gguf.add_argument("--arch", default="llama")
    gguf.add_argument("--seed", type=int, default=0)
    store = sub.add_parser("store", help="add a pulled-style model (GGUF of an exact size) to a store directory")
    store.add_argument("store_dir")
    store.add_argument("--name", default="tiny:latest")
    store.add_argument("--size", type=int, default=65536)
    store.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    if args.command == "gguf":
        print(write_gguf(args.out, args.size, args.arch, args.seed))
        return 0
    os.makedirs(args.store_dir, 0o755, exist_ok=True)
    gguf = write_gguf(os.path.join(args.store_dir, ".fixture.gguf"), args.size, seed=args.seed)
    try:
        print(make_model_store(args.store_dir, args.name, gguf))
    finally:
        os.remove(gguf)
    return 0


if __name__ == "__main__":
    sys.exit(main())
