# -*- coding: utf-8 -*-
# Copyright (c) 2026, gpufleet maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Build Ollama-shaped release archives around the TEST STAND-IN bin/ollama (controller only).

    python tests/standin/build_artifacts.py --version 0.14.1 --format tgz|tar.zst|both --out DIR

Writes DIR/ollama-linux-amd64.tgz and/or DIR/ollama-linux-amd64.tar.zst plus DIR/sha256sum.txt.
Importable: build(version, fmt, out_dir) -> path of the (last) archive written.

What is reproduced (ref §1.1; ollama/ollama .github/workflows/release.yaml at the tags named):
- member list: bin/ollama plus the lib/ollama components of the main amd64 archive, listed
  as tar does for `tar c -T list` (no bin/ or lib/ directory entries of their own);
- members relative and owned 0:0 (`tar c ... --owner 0 --group 0`);
- .tgz up to v0.13.5, .tar.zst from v0.14.0 (commit 34d0c55) - here chosen by --format;
- sha256sum.txt as `find . -type f -not -name 'sha256sum.txt' | xargs sha256sum` writes it in
  dist/: "<hex>  ./<name>" (release.yaml, "Generate checksum file").
The libraries are small placeholder files; fixed mtimes make the archives reproducible.
"""
import argparse
import gzip
import hashlib
import io
import os
import re
import sys
import tarfile

import zstandard

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE = os.path.join(HERE, "ollama_standin.py")
MTIME = 1735689600  # 2025-01-01T00:00:00Z: fixed so the sha256 is reproducible
SHEBANG = "#!/usr/bin/env python3\n"  # the targets have python3 but no `python`
NAMES = {"tgz": "ollama-linux-amd64.tgz", "tar.zst": "ollama-linux-amd64.tar.zst"}
CPU_LIBS = ["libggml-base.so"] + [f"libggml-cpu-{v}.so" for v in
                                  ("x64", "sse42", "sandybridge", "haswell", "skylakex", "icelake", "alderlake")]

# (member, first release with it, first release without it); files listed, directories implied.
# Sources: Dockerfile and release.yaml component `case` at each tag.
COMPONENTS = [
    ("lib/ollama/cuda_v11/libggml-cuda.so", None, (0, 9, 3)),  # cuda_v11 dropped in v0.9.3
    ("lib/ollama/cuda_v11/libcudart.so.11.0", None, (0, 9, 3)),
    ("lib/ollama/cuda_v12/libggml-cuda.so", None, None),
    ("lib/ollama/cuda_v12/libcudart.so.12", None, None),
    ("lib/ollama/cuda_v12/libcublas.so.12", None, None),
    ("lib/ollama/cuda_v12/libcublasLt.so.12", None, None),
    ("lib/ollama/cuda_v13/libggml-cuda.so", (0, 11, 11), None),  # Dockerfile@v0.11.11 copies cuda-13
    ("lib/ollama/cuda_v13/libcudart.so.13", (0, 11, 11), None),
    ("lib/ollama/cuda_v13/libcublas.so.13", (0, 11, 11), None),
    ("lib/ollama/cuda_v13/libcublasLt.so.13", (0, 11, 11), None),
    ("lib/ollama/vulkan/libggml-vulkan.so", (0, 13, 0), None),  # release.yaml@v0.13.0 `vulkan*`
    ("lib/ollama/mlx_cuda_v13/libmlxc.so", (0, 14, 0), (0, 30, 0)),  # main archive until the -mlx split
    ("lib/ollama/libggml.so", (0, 30, 0), None),  # v0.30+: llama-server layout
    ("lib/ollama/libllama.so", (0, 30, 0), None),
    ("lib/ollama/llama-server", (0, 30, 0), None),
    ("lib/ollama/llama-quantize", (0, 30, 0), None),
] + [(f"lib/ollama/{lib}", None, None) for lib in CPU_LIBS]


def version_tuple(version):
    nums = [int(x) for x in re.findall(r"\d+", version.split("-")[0])[:3]]
    return tuple(nums + [0] * (3 - len(nums)))


def render_binary(version):
    """bin/ollama: a python3 shebang and the stand-in source with the version baked in.

    The source itself has no shebang: it is a module of the collection's tests, and ansible-test
    sanity allows only its standard shebangs there (`#!/usr/bin/env python` is not enough on Debian).
    """
    with open(SOURCE, encoding="utf-8") as f:
        text = f.read()
    if text.startswith("#!") or text.count('"__VERSION__"') != 1:
        raise RuntimeError(f"{SOURCE}: expected no shebang and one \"__VERSION__\" placeholder")
    return (SHEBANG + text.replace('"__VERSION__"', repr(version.lstrip("v")), 1)).encode()


def members(version, binary_version=None, without_cuda=False):
    """[(path, mode, data or None for a directory)] in tar order.

    Fault fixtures: binary_version bakes another version into bin/ollama than the archive is named for
    (a mislabelled archive); without_cuda leaves out lib/ollama/cuda_v* (a release whose server finds no
    GPU and runs on the CPU, see ollama_standin.cuda_runners_present)."""
    wanted = version_tuple(version)
    files = {"bin/ollama": render_binary(binary_version or version)}
    for path, since, until in COMPONENTS:
        if without_cuda and path.startswith("lib/ollama/cuda_"):
            continue
        if (since is None or wanted >= since) and (until is None or wanted < until):
            files[path] = f"TEST STAND-IN placeholder for {path} (no code)\n".encode()
    out = []
    for path in sorted(files):
        parent = os.path.dirname(path)
        # tar recurses into listed directories (cuda_v12/, ...): they appear as members too
        if parent.count("/") >= 2 and (parent, 0o755, None) not in out:
            out.append((parent, 0o755, None))
        out.append((path, 0o755, files[path]))
    return out


def tar_bytes(version, **faults):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.GNU_FORMAT) as tar:
        for path, mode, data in members(version, **faults):
            info = tarfile.TarInfo(path)
            info.mode, info.mtime = mode, MTIME
            info.uid = info.gid = 0
            info.uname = info.gname = "root"
            if data is None:
                info.type = tarfile.DIRTYPE
                tar.addfile(info)
            else:
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def compress(raw, fmt):
    if fmt == "tgz":
        out = io.BytesIO()
        with gzip.GzipFile(filename="", mode="wb", fileobj=out, compresslevel=9, mtime=0) as gz:
            gz.write(raw)
        return out.getvalue()
    return zstandard.ZstdCompressor(level=19).compress(raw)


def update_sums(out_dir, written):
    """Keep other archives' lines, replace ours; `sha256sum` format with find's ./ prefix."""
    sums_path = os.path.join(out_dir, "sha256sum.txt")
    lines = {}
    if os.path.exists(sums_path):
        with open(sums_path, encoding="utf-8") as f:
            for line in f:
                digest, dummy, name = line.rstrip("\n").partition("  ")
                if name:
                    lines[name] = digest
    for name, digest in written.items():
        lines["./" + name] = digest
    with open(sums_path, "w", encoding="utf-8") as f:
        f.writelines(f"{digest}  {name}\n" for name, digest in sorted(lines.items()))


def build(version, fmt, out_dir, **faults):
    """Build the archive(s) for fmt ("tgz", "tar.zst" or "both"); returns the last path written.
    faults: binary_version, without_cuda (see members)."""
    os.makedirs(out_dir, exist_ok=True)
    raw = tar_bytes(version, **faults)
    written, path = {}, None
    for kind in (("tgz", "tar.zst") if fmt == "both" else (fmt,)):
        data = compress(raw, kind)
        path = os.path.join(out_dir, NAMES[kind])
        with open(path, "wb") as f:
            f.write(data)
        written[NAMES[kind]] = hashlib.sha256(data).hexdigest()
    update_sums(out_dir, written)
    return path


def main(argv=None):
    parser = argparse.ArgumentParser(description="Build TEST STAND-IN Ollama release archives.")
    parser.add_argument("--version", required=True, help="release version, e.g. 0.14.1")
    parser.add_argument("--format", choices=["tgz", "tar.zst", "both"], required=True)
    parser.add_argument("--out", required=True, help="output directory")
    parser.add_argument("--binary-version", help="fault fixture: the version bin/ollama reports (default --version)")
    parser.add_argument("--without-cuda", action="store_true",
                        help="fault fixture: leave out lib/ollama/cuda_v* (the server runs on the CPU)")
    args = parser.parse_args(argv)
    print(build(args.version, args.format, args.out, binary_version=args.binary_version,
                without_cuda=args.without_cuda))
    return 0


if __name__ == "__main__":
    sys.exit(main())
