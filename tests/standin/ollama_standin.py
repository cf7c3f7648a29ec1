# -*- coding: utf-8 -*-
# Copyright (c) 2026, gpufleet maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""TEST STAND-IN for the Ollama server and CLI. This is NOT Ollama.

It does no inference and loads no weights: "generation" streams deterministic
words taken from the prompt at STANDIN_TOKENS_PER_S. What it reproduces is the
observable behaviour the gpufleet.ollama collection depends on: the model store
layout and startup prune, the HTTP API shapes, status codes and streaming
formats, the CLI output and exit codes. Facts come from
shared/docs/ollama-reference.md ("ref §N") and ollama/ollama sources cited next
to each behaviour (v0.14.1 unless another tag is named).

Python 3 standard library only, single file; installed as bin/ollama by
tests/standin/build_artifacts.py, which bakes the release version in.
"""
import base64
import datetime
import glob
import hashlib
import http.client
import ipaddress
import json
import math
import os
import re
import secrets
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
from collections import namedtuple
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

VERSION = "__VERSION__"  # replaced by build_artifacts.py
if VERSION.startswith("__"):
    VERSION = "0.0.0"  # real: a source build without ldflags reports 0.0.0 (ref §1.3)


def version_at_least(*wanted):
    """True when the baked release is at least `wanted`; 0.0.0 (unbaked source) counts as newest."""
    nums = tuple(int(x) for x in re.findall(r"\d+", VERSION.split("-", maxsplit=1)[0])[:3])
    return nums == (0, 0, 0) or nums >= wanted


# ---------------------------------------------------------------- environment
GO_BOOLS = {"1": True, "t": True, "T": True, "TRUE": True, "true": True, "True": True,
            "0": False, "f": False, "F": False, "FALSE": False, "false": False, "False": False}


def env(key):
    """real: envconfig.Var - trimmed of spaces, then of quotes."""
    return os.environ.get(key, "").strip().strip("\"'")


def env_bool(key):
    """real: envconfig.BoolWithDefault - a value strconv.ParseBool rejects counts as true."""
    value = env(key)
    return GO_BOOLS.get(value, True) if value else False


def env_uint(key, default):
    """real: envconfig.Uint - invalid values fall back to the default."""
    value = env(key)
    return int(value) if re.fullmatch(r"[0-9]+", value) else default


def split_host_port(hostport):
    """real: net.SplitHostPort; returns (None, None) where Go returns an error."""
    if hostport.startswith("["):
        end = hostport.find("]")
        if end < 0 or not hostport[end + 1:].startswith(":"):
            return None, None
        return hostport[1:end], hostport[end + 2:]
    host, sep, port = hostport.rpartition(":")
    if not sep or ":" in host:
        return None, None
    return host, port


def ollama_host():
    """(scheme, host, port) from OLLAMA_HOST. real: envconfig.Host (ref §2)."""
    raw = env("OLLAMA_HOST")
    default_port = "11434"
    scheme, sep, hostport = raw.partition("://")
    if not sep:
        scheme, hostport = "http", raw
        if raw == "ollama.com":
            scheme, hostport = "https", "ollama.com:443"
    elif scheme == "http":
        default_port = "80"
    elif scheme == "https":
        default_port = "443"
    hostport = hostport.split("/", 1)[0]
    host, port = split_host_port(hostport)
    if host is None:
        host, port = "127.0.0.1", default_port
        try:
            host = str(ipaddress.ip_address(hostport.strip("[]")))
        except ValueError:
            host = hostport or host
    if not re.fullmatch(r"[+-]?[0-9]+", port) or not 0 <= int(port) <= 65535:
        port = default_port
    return scheme, host, int(port)


def join_host_port(host, port):
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


DURATION_UNITS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "μs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}
DURATION_PART = re.compile(r"([0-9]+\.?[0-9]*|\.[0-9]+)(ns|us|µs|μs|ms|s|m|h)")


def parse_go_duration(text):
    """Seconds from a Go duration string ("5m", "1h30m", "-1s"). real: time.ParseDuration."""
    body, sign = text, 1.0
    if body[:1] in "+-":
        sign, body = (-1.0 if body[0] == "-" else 1.0), body[1:]
    if body == "0":
        return 0.0
    total, pos = 0.0, 0
    for match in DURATION_PART.finditer(body):
        if match.start() != pos:
            break
        total += float(match.group(1)) * DURATION_UNITS[match.group(2)]
        pos = match.end()
    if not body or pos != len(body):
        kind = "missing unit in duration" if re.fullmatch(r"[0-9.]+", body) else "invalid duration"
        raise ValueError(f'time: {kind} "{text}"')
    return sign * total


def keep_alive_seconds(value, default):
    """real: api.Duration.UnmarshalJSON - numbers are seconds, strings Go durations, negative = forever."""
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise ValueError(f"Unsupported type: '{type(value).__name__}'")
    seconds = parse_go_duration(value) if isinstance(value, str) else float(value)
    return math.inf if seconds < 0 else seconds


def env_keep_alive(key):
    """real: envconfig.KeepAlive / LoadTimeout - Go duration or integer seconds, default 5m, negative = forever."""
    value, seconds = env(key), 300.0
    if value:
        try:
            seconds = parse_go_duration(value)
        except ValueError:
            if re.fullmatch(r"[+-]?[0-9]+", value):
                seconds = float(int(value))
    return math.inf if seconds < 0 else seconds


def go_duration_str(seconds):
    """real: time.Duration.String, e.g. 5m0s, 1h0m0s, 500ms (for the server config log line)."""
    if seconds == math.inf:
        return "2562047h47m16.854775807s"
    if seconds == 0:
        return "0s"
    if seconds < 1:
        return f"{seconds * 1000:g}ms"
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    text = f"{secs:g}s"
    if hours or minutes:
        text = f"{int(minutes)}m" + text
    if hours:
        text = f"{int(hours)}h" + text
    return text


# ---------------------------------------------------------------- JSON / time / log
def _go_numbers(obj):
    if isinstance(obj, float) and obj.is_integer() and abs(obj) < 1e21:
        return int(obj)
    if isinstance(obj, dict):
        return {k: _go_numbers(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_go_numbers(v) for v in obj]
    return obj


def go_json(obj):
    """real: encoding/json Marshal - compact, <>& escaped, integral floats without '.0'."""
    text = json.dumps(_go_numbers(obj), separators=(",", ":"), ensure_ascii=False)
    for char, escaped in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"),
                          ("\u2028", "\\u2028"), ("\u2029", "\\u2029")):
        text = text.replace(char, escaped)
    return text.encode()


def go_time(ns=None, utc=False):
    """real: time.Time.MarshalJSON (RFC 3339 with trimmed nanoseconds); local zone unless utc."""
    ns = time.time_ns() if ns is None else ns
    sec, frac = divmod(ns, 10**9)
    stamp = datetime.datetime.fromtimestamp(sec, datetime.timezone.utc)
    if not utc:
        stamp = stamp.astimezone()
    text = stamp.strftime("%Y-%m-%dT%H:%M:%S")
    if frac:
        text += "." + f"{frac:09d}".rstrip("0")
    offset = stamp.utcoffset()
    if not offset:
        return text + "Z"
    minutes = int(offset.total_seconds()) // 60
    return text + f"{'+' if minutes >= 0 else '-'}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def parse_go_time(text):
    return datetime.datetime.fromisoformat(re.sub(r"(\.\d{6})\d+", r"\1", text.replace("Z", "+00:00")))


def _slog_value(value):
    text = str(value)
    return json.dumps(text) if not text or re.search(r'[\s="\\]', text) or not text.isprintable() else text


def log(level, source, msg, **attrs):
    """real: logutil.NewLogger - slog text handler on stderr with the source file:line."""
    stamp = datetime.datetime.now().astimezone().isoformat(timespec="milliseconds").replace("+00:00", "Z")
    fields = [f"time={stamp}", f"level={level}", f"source={source}", f"msg={_slog_value(msg)}"]
    fields += [f"{key}={_slog_value(value)}" for key, value in attrs.items()]
    print(" ".join(fields), file=sys.stderr, flush=True)


class ApiError(Exception):
    def __init__(self, status, message):
        super().__init__(message)
        self.status = status


def os_error_text(op, path, exc):
    """A Python OSError worded like a Go *PathError ("open /x: permission denied")."""
    reason = (exc.strerror or str(exc)).lower()
    return f"{op} {path}: {reason}"


# ---------------------------------------------------------------- model names
Name = namedtuple("Name", "host namespace model tag")
DEFAULT_HOST, DEFAULT_NAMESPACE, DEFAULT_TAG = "registry.ollama.ai", "library", "latest"
MISSING_PART = "!MISSING!"


def _cut_promised(text, sep):
    i = text.rfind(sep)
    if i < 0:
        return text, "", False
    return text[:i] or MISSING_PART, text[i + len(sep):] or MISSING_PART, True


def parse_name(text):
    """real: types/model/name.go ParseName (ParseNameBare merged with the defaults)."""
    host = namespace = tag = ""
    if text.rfind(":") > text.rfind("/"):
        text, tag, dummy = _cut_promised(text, ":")
    text, model, promised = _cut_promised(text, "/")
    if not promised:
        model = text
    else:
        text, namespace, promised = _cut_promised(text, "/")
        if not promised:
            namespace = text
        else:
            scheme, sep, rest = text.partition("://")
            host = rest if sep else scheme
    return Name(host or DEFAULT_HOST, namespace or DEFAULT_NAMESPACE, model, tag or DEFAULT_TAG)


def _valid_part(kind, part):
    """real: types/model/name.go isValidPart (alphanumeric or _ first; no '.' in namespaces)."""
    if not 1 <= len(part) <= (350 if kind == "host" else 80):
        return False
    if not (part[0].isascii() and (part[0].isalnum() or part[0] == "_")):
        return False
    for char in part[1:]:
        if char in "_-" or (char.isascii() and char.isalnum()):
            continue
        if char == "." and kind != "namespace":
            continue
        if char == ":" and kind == "host":
            continue
        return False
    return True


def name_valid(name):
    return all(_valid_part(kind, part) for kind, part in zip(Name._fields, name))


def display_shortest(name):
    """real: types/model/name.go DisplayShortest - drops the default host/namespace, never the tag."""
    if name.host.lower() != DEFAULT_HOST:
        prefix = f"{name.host}/{name.namespace}/"
    elif name.namespace.lower() != DEFAULT_NAMESPACE:
        prefix = f"{name.namespace}/"
    else:
        prefix = ""
    return f"{prefix}{name.model}:{name.tag}"


def fs_valid_path(path):
    """real: io/fs.ValidPath - unrooted, slash-separated, no '.'/'..'/empty elements (except '.')."""
    return path == "." or (bool(path) and all(p not in ("", ".", "..") for p in path.split("/")))


# ---------------------------------------------------------------- GGUF header
GGUF_SCALARS = {0: "<B", 1: "<b", 2: "<H", 3: "<h", 4: "<I", 5: "<i", 6: "<f", 7: "<?",
                10: "<Q", 11: "<q", 12: "<d"}
GGML_TYPES = {0: "F32", 1: "F16", 2: "Q4_0", 3: "Q4_1", 6: "Q5_0", 7: "Q5_1", 8: "Q8_0", 9: "Q8_1",
              10: "Q2_K", 11: "Q3_K", 12: "Q4_K", 13: "Q5_K", 14: "Q6_K", 15: "Q8_K", 24: "I8",
              25: "I16", 26: "I32", 27: "I64", 28: "F64", 30: "BF16"}
FILE_TYPES = {0: "F32", 1: "F16", 2: "Q4_0", 3: "Q4_1", 7: "Q8_0", 8: "Q5_0", 9: "Q5_1", 10: "Q2_K",
              11: "Q3_K_S", 12: "Q3_K_M", 13: "Q3_K_L", 14: "Q4_K_S", 15: "Q4_K_M", 16: "Q5_K_S",
              17: "Q5_K_M", 18: "Q6_K", 21: "Q2_K_S", 32: "BF16"}


def read_gguf(path, keep_arrays=False):
    """Key/values and tensor infos of a GGUF file, tensor data untouched.

    real: fs/ggml/gguf.go Decode; general.parameter_count is the element count of
    all tensors (gguf.go), arrays are dropped unless verbose (routes.go getModelData).
    """
    with open(path, "rb") as f:
        def unpack(fmt):
            size = struct.calcsize(fmt)
            data = f.read(size)
            if len(data) != size:
                raise ValueError("unexpected EOF")
            return struct.unpack(fmt, data)[0]

        def string():
            return f.read(unpack("<Q")).decode("utf-8", "replace")

        def value(vtype):
            if vtype == 8:
                return string()
            if vtype == 9:
                item_type, count = unpack("<I"), unpack("<Q")
                items = [value(item_type) for dummy in range(count)]
                return items if keep_arrays else None
            if vtype not in GGUF_SCALARS:
                raise ValueError(f"invalid type: {vtype}")
            return unpack(GGUF_SCALARS[vtype])

        if f.read(4) != b"GGUF":
            raise ValueError("not a GGUF file")
        unpack("<I")  # version
        n_tensors, n_kv = unpack("<Q"), unpack("<Q")
        kv = {}
        for dummy in range(n_kv):
            key = string()
            kv[key] = value(unpack("<I"))
        tensors, params = [], 0
        for dummy in range(n_tensors):
            name = string()
            shape = [unpack("<Q") for dummy in range(unpack("<I"))]
            ggml_type = unpack("<I")
            unpack("<Q")  # offset
            tensors.append({"name": name, "type": GGML_TYPES.get(ggml_type, str(ggml_type)), "shape": shape})
            params += math.prod(shape)
    kv["general.parameter_count"] = params
    return kv, tensors


def human_number(n):
    """real: format/format.go HumanNumber (parameter_size, e.g. 8.0B, 494.03M)."""
    for limit, unit, decimals in ((10**9, "B", 1), (10**6, "M", 2)):
        if n >= limit:
            value = n / limit
            return f"{value:.0f}{unit}" if value == math.floor(value) else f"{value:.{decimals}f}{unit}"
    return f"{n / 1000:.0f}K" if n >= 1000 else str(n)


def human_bytes(n):
    """real: format/bytes.go HumanBytes - decimal units, integers from 10 up (ref §6)."""
    for limit, unit in ((10**12, "TB"), (10**9, "GB"), (10**6, "MB"), (10**3, "KB")):
        if n >= limit:
            value = n / limit
            if value >= 10 or value == math.trunc(value):
                return f"{int(value)} {unit}"
            return f"{value:.1f} {unit}"
    return f"{n} B"


def human_time(stamp, zero="Never"):
    """real: format/time.go HumanTime ("2 days ago", "4 minutes from now", "Forever")."""
    if stamp is None:
        return zero
    delta = time.time() - stamp.timestamp()
    if delta / 86400 / 365 < -20:
        return "Forever"
    seconds = abs(delta)
    if int(seconds) < 1:
        text = "Less than a second"
    elif int(seconds) == 1:
        text = "1 second"
    elif seconds < 60:
        text = f"{int(seconds)} seconds"
    elif int(seconds // 60) == 1:
        text = "About a minute"
    elif seconds < 3600:
        text = f"{int(seconds // 60)} minutes"
    else:
        hours = round(seconds / 3600)
        if hours == 1:
            text = "About an hour"
        elif hours < 48:
            text = f"{hours} hours"
        elif hours < 24 * 14:
            text = f"{hours // 24} days"
        elif hours < 24 * 60:
            text = f"{hours // 24 // 7} weeks"
        elif hours < 24 * 730:
            text = f"{hours // 24 // 30} months"
        else:
            text = f"{int(seconds // 3600) // 24 // 365} years"
    return text + (" from now" if delta < 0 else " ago")


# ---------------------------------------------------------------- model store
DIGEST_RE = re.compile(r"^sha256[:-][0-9a-fA-F]{64}$")
MT = "application/vnd.ollama.image."
MT_CONFIG = "application/vnd.docker.container.image.v1+json"
MT_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"


class CorruptManifest(Exception):
    pass


class Store:
    """$OLLAMA_MODELS: blobs/sha256-<hex> and manifests/<host>/<ns>/<model>/<tag> (ref §3.1)."""

    def __init__(self, root):
        self.blobs = os.path.join(root, "blobs")
        self.manifest_dir = os.path.join(root, "manifests")

    def blob_path(self, digest=""):
        """real: manifest/paths.go BlobsPath - only sha256 digests, ':' stored as '-'."""
        if digest and not DIGEST_RE.match(digest):
            raise ApiError(400, "invalid digest format")
        os.makedirs(self.blobs, 0o755, exist_ok=True)
        return os.path.join(self.blobs, digest.replace(":", "-"))

    def manifest_path(self, name):
        return os.path.join(self.manifest_dir, *name)

    def read_manifest(self, name):
        """real: ParseNamedManifest - digest is the sha256 of the raw bytes; json.Decoder reads one value."""
        path = self.manifest_path(name)
        with open(path, "rb") as f:
            raw = f.read()
            mtime_ns = os.fstat(f.fileno()).st_mtime_ns
        try:
            manifest, dummy = json.JSONDecoder().raw_decode(raw.decode().lstrip())
        except (UnicodeDecodeError, ValueError) as exc:
            raise CorruptManifest(f"{display_shortest(name)} {exc}") from exc
        if not isinstance(manifest, dict) or not isinstance(manifest.get("layers", []), list) \
                or not isinstance(manifest.get("config", {}), dict):
            raise CorruptManifest(f"{display_shortest(name)} json: cannot unmarshal into Go value of type Manifest")
        manifest.setdefault("config", {})
        manifest["layers"] = manifest.get("layers") or []
        blobs = manifest["layers"] + [manifest["config"]]
        # real: Manifest.Size - the sizes recorded in the manifest, files not stat'ed (ref §3.2)
        return {"manifest": manifest, "blobs": blobs, "size": sum(int(b.get("size", 0)) for b in blobs),
                "digest": hashlib.sha256(raw).hexdigest(), "mtime_ns": mtime_ns, "path": path}

    def read_config(self, entry):
        """The config blob (types/model/config.go ConfigV2) of a manifest entry; {} if it has none."""
        digest = entry["manifest"]["config"].get("digest")
        if not digest:
            return {}
        with open(self.blob_path(digest), encoding="utf-8") as f:
            return json.load(f)

    def manifests(self, continue_on_error=True):
        """real: manifest.Manifests - glob manifests/*/*/*/* (dot files too), skipping directories."""
        found = {}
        for path in sorted(glob.glob(os.path.join(self.manifest_dir, "*", "*", "*", "*"), include_hidden=True)):
            if os.path.isdir(path):
                continue
            rel = os.path.relpath(path, self.manifest_dir)
            name = Name(*rel.split(os.sep))
            try:
                if not name_valid(name):
                    raise CorruptManifest(f"{rel} invalid name")
                found[name] = self.read_manifest(name)
            except (CorruptManifest, OSError) as exc:
                if not continue_on_error:
                    raise CorruptManifest(str(exc)) from exc
                log("WARN", "manifest.go:155", "bad manifest", name=rel, error=exc)
        return found

    def existing_name(self, name):
        """real: routes.go getExistingName - case-insensitive match against stored names."""
        parts = list(name)
        for existing in self.manifests():
            for i, part in enumerate(existing):
                if part.lower() == parts[i].lower():
                    parts[i] = part
        return Name(*parts)

    def referenced(self):
        return {layer.get("digest") for m in self.manifests().values() for layer in m["blobs"]}

    def fix_blobs(self):
        """real: server/fixblobs.go - legacy sha256:<hex> names become sha256-<hex> (ref §3.1)."""
        for dirpath, dummy, files in os.walk(self.blob_path()):
            for fname in files:
                kind, sep, rest = fname.partition(":")
                if sep and kind == "sha256":
                    os.rename(os.path.join(dirpath, fname), os.path.join(dirpath, f"sha256-{rest}"))

    def prune(self):
        """Startup prune. real: routes.go Serve -> images.go PruneLayers -> PruneDirectory (ref §3.4)."""
        try:
            self.manifests(continue_on_error=False)
        except CorruptManifest as exc:
            log("WARN", "routes.go:1626",
                "corrupt manifests detected, skipping prune operation.  Re-pull or delete to clear", error=exc)
            return
        # real: images.go layerPruneGracePeriod, added in v0.21.0 (commit 2bb7ea0); none before
        grace = 3600 if version_at_least(0, 21, 0) else 0
        candidates = set()
        for entry in os.scandir(self.blob_path()):
            if entry.is_dir():  # real (HEAD): directories are skipped
                continue
            if grace and time.time() - entry.stat().st_mtime < grace:
                continue
            digest = entry.name.replace("-", ":")
            if not DIGEST_RE.match(digest):  # invalid names (partials, stray files) are removed
                os.remove(entry.path)
                continue
            candidates.add(digest)
        log("INFO", "images.go:499", f"total blobs: {len(candidates)}")
        candidates -= self.referenced()
        for digest in candidates:
            try:
                os.remove(self.blob_path(digest))
            except OSError as exc:
                log("INFO", "images.go:463", f"couldn't remove file '{self.blob_path(digest)}': {exc}")
        log("INFO", "images.go:506", f"total unused blobs removed: {len(candidates)}")
        os.makedirs(self.manifest_dir, 0o755, exist_ok=True)
        prune_directory(self.manifest_dir)

    def new_layer(self, data, media_type):
        """real: server/layer.go NewLayer - content-addressed blob, 0644, status text for create."""
        digest = "sha256:" + hashlib.sha256(data).hexdigest()
        path = self.blob_path(digest)
        status = "using existing layer"
        if not os.path.exists(path):
            status = "creating new layer"
            fd, tmp = tempfile.mkstemp(prefix="sha256-", dir=self.blobs)
            with os.fdopen(fd, "wb") as f:
                f.write(data)
            os.replace(tmp, path)
            os.chmod(path, 0o644)
        return {"mediaType": media_type, "digest": digest, "size": len(data)}, f"{status} {digest}"

    def receive_blob(self, digest, body_chunks):
        """real: routes.go CreateBlobHandler - body streamed to a temp blob, hashed, renamed (ref §4.1)."""
        fd, tmp = tempfile.mkstemp(prefix="sha256-", dir=self.blob_path())
        sha = hashlib.sha256()
        try:
            with os.fdopen(fd, "wb") as f:
                for chunk in body_chunks:
                    sha.update(chunk)
                    f.write(chunk)
            actual = "sha256:" + sha.hexdigest()
            final = self.blob_path(actual)
            if os.path.exists(final):
                os.remove(tmp)
            else:
                os.replace(tmp, final)
                os.chmod(final, 0o644)
        except BaseException:
            if os.path.exists(tmp):
                os.remove(tmp)
            raise
        if actual != digest:  # real: the blob stays under its actual digest, the request fails
            raise ApiError(400, f'digest mismatch, expected "{digest}", got "{actual}"')

    def write_manifest(self, name, config, layers):
        """real: server/manifest.go WriteManifest - json.Encoder output (compact + newline), dirs 0755."""
        path = self.manifest_path(name)
        os.makedirs(os.path.dirname(path), 0o755, exist_ok=True)
        manifest = {"schemaVersion": 2, "mediaType": MT_MANIFEST, "config": config, "layers": layers}
        with open(path, "wb") as f:
            f.write(go_json(manifest) + b"\n")

    def remove_unused(self, layers):
        """real: server/manifest.go RemoveLayers - delete the given layers no manifest still uses."""
        in_use = self.referenced()
        for layer in layers:
            digest = layer.get("digest")
            if digest and digest not in in_use and DIGEST_RE.match(digest):
                try:
                    os.remove(self.blob_path(digest))
                except FileNotFoundError:
                    pass

    def delete(self, name):
        """real: routes.go DeleteHandler - manifest removed, empty dirs pruned, unused layers deleted."""
        entry = self.read_manifest(name)
        os.remove(entry["path"])
        prune_directory(self.manifest_dir)
        self.remove_unused(entry["blobs"])

    def copy(self, src, dst):
        """real: images.go CopyModel - only the manifest file is copied, byte for byte (ref §5)."""
        if src == dst:
            return
        with open(self.manifest_path(src), "rb") as f:
            raw = f.read()
        os.makedirs(os.path.dirname(self.manifest_path(dst)), 0o755, exist_ok=True)
        with open(self.manifest_path(dst), "wb") as f:
            f.write(raw)

    def load_model(self, name):
        """Everything /api/show and inference need. real: images.go GetModel."""
        entry = self.read_manifest(name)
        model = {"name": name, "short": display_shortest(name), "digest": entry["digest"],
                 "mtime_ns": entry["mtime_ns"], "model_path": "", "parent_model": "",
                 "template": "{{ .Prompt }}", "system": "", "options": {}, "license": [], "messages": [],
                 "size": entry["size"], "config": self.read_config(entry)}
        for layer in entry["manifest"]["layers"]:
            path = self.blob_path(layer["digest"])
            kind = layer.get("mediaType", "").removeprefix(MT)
            if kind == "model":
                model["model_path"], model["parent_model"] = path, layer.get("from", "")
            elif kind in ("template", "prompt", "system", "license"):
                with open(path, encoding="utf-8") as f:
                    text = f.read()
                if kind == "license":
                    model["license"].append(text)
                else:
                    model["system" if kind == "system" else "template"] = text
            elif kind in ("params", "messages"):
                with open(path, encoding="utf-8") as f:
                    model["options" if kind == "params" else "messages"] = json.load(f)
        return model

    def create(self, req):
        """Generator of create statuses; raises ApiError. Models the v0.29-and-older path (ref §4.2):
        the GGUF blob is referenced in place - no re-hash, no copy, layer digest = file digest.
        real: server/create.go CreateHandler, convertModelFromFiles, ggufLayers, createModel."""
        files = req.get("files") or {}
        if any(not fs_valid_path(path) for path in files):
            raise ApiError(400, "file path must be relative")
        name = parse_name(req.get("model") or req.get("name") or "")
        if not name_valid(name):
            raise ApiError(400, "invalid model name")
        name = self.existing_name(name)
        try:
            old = self.read_manifest(name)["manifest"]
        except (OSError, CorruptManifest):
            old = None
        config = {"model_format": "", "model_family": "", "model_families": None, "model_type": "",
                  "file_type": ""}
        if req.get("from"):
            base, base_config = yield from self._layers_from_model(req["from"])
            for key in ("renderer", "parser", "requires"):
                req.setdefault(key, base_config.get(key))
        elif files:
            base = yield from self._layers_from_files(files)
        else:
            raise ApiError(400, "neither 'from' or 'files' was specified")

        entries = []  # (layer, status)
        for layer, gguf, status in base:
            if gguf is not None:
                arch = gguf.get("general.architecture", "unknown")
                config["model_format"] = config["model_format"] or "gguf"
                config["model_family"] = config["model_family"] or arch
                config["model_type"] = config["model_type"] or human_number(gguf["general.parameter_count"])
                file_type = gguf.get("general.file_type") or 1024
                config["file_type"] = config["file_type"] or FILE_TYPES.get(file_type, "unknown")
                config["model_families"] = (config["model_families"] or []) + [arch]
            entries.append((layer, status))
        for key in ("renderer", "parser", "requires"):
            if req.get(key):
                config[key] = req[key]
        config.update({"architecture": "amd64", "os": "linux"})

        def replace(media_type, data):  # real: removeLayer + NewLayer
            entries[:] = [e for e in entries if e[0]["mediaType"] != media_type]
            entries.append(self.new_layer(data, media_type))

        if req.get("template"):
            replace(MT + "template", req["template"].encode())
        if req.get("system"):
            replace(MT + "system", req["system"].encode())
        licenses = req.get("license") or []
        for text in [licenses] if isinstance(licenses, str) else licenses:
            entries.append(self.new_layer(text.encode(), MT + "license"))
        params = dict(req.get("parameters") or {})
        for layer, dummy in entries:  # real: setParameters merges the inherited params layer
            if layer["mediaType"] == MT + "params":
                with open(self.blob_path(layer["digest"]), encoding="utf-8") as f:
                    params = {**json.load(f), **params}
        if params:
            replace(MT + "params", go_json(dict(sorted(params.items()))) + b"\n")
        if req.get("messages"):
            messages = [{"role": m.get("role", ""), "content": m.get("content", "")} for m in req["messages"]]
            replace(MT + "messages", go_json(messages) + b"\n")

        layers = [layer for layer, dummy in entries]
        # real: createConfigLayer; rootfs.diff_ids was dropped only in v0.32.7 (ref §3.3)
        config["rootfs"] = {"type": "layers", "diff_ids": [layer["digest"] for layer in layers]}
        config_layer, dummy = self.new_layer(go_json(config) + b"\n", MT_CONFIG)
        for dummy, status in entries:
            yield {"status": status}
        yield {"status": "writing manifest"}
        self.write_manifest(name, config_layer, layers)
        if old and not env_bool("OLLAMA_NOPRUNE"):  # real: old layers go unless NOPRUNE (ref §3.4)
            self.remove_unused(old["layers"] + [old["config"]])
        yield {"status": "success"}

    def _layers_from_model(self, from_text):
        """real: server/model.go parseFromModel - a missing model is pulled, which fails offline."""
        from_name = parse_name(from_text)
        if not name_valid(from_name):
            raise ApiError(400, "invalid model name")
        from_name = self.existing_name(from_name)
        try:
            entry = self.read_manifest(from_name)
        except FileNotFoundError:
            yield {"status": "pulling manifest"}
            host = from_name.host
            raise ApiError(500, f'pull model manifest: Get "https://{host}/v2/{from_name.namespace}/'
                                f'{from_name.model}/manifests/{from_name.tag}": dial tcp: lookup {host}: '
                                f"no such host") from None
        base = []
        for layer in entry["manifest"]["layers"]:
            path = self.blob_path(layer["digest"])
            try:
                size = os.stat(path).st_size
            except OSError as exc:
                raise ApiError(500, os_error_text("stat", path, exc)) from None
            new = {"mediaType": layer["mediaType"], "digest": layer["digest"], "size": size,
                   "from": display_shortest(from_name)}
            gguf = None
            if layer["mediaType"] in (MT + "model", MT + "projector", MT + "adapter"):
                gguf, dummy = read_gguf(path)
            base.append((new, gguf, f"using existing layer {layer['digest']}"))
        return base, self.read_config(entry)

    def _layers_from_files(self, files):
        """real: create.go detectModelTypeFromFiles + ggufLayers (NewLayerFromLayer: stat only)."""
        if any(f.endswith(".safetensors") for f in files):
            raise ApiError(500, "the test stand-in does not convert safetensors")
        if not any(f.endswith(".gguf") for f in files) and not any(self._is_gguf(d) for d in files.values()):
            raise ApiError(400, "unknown type")
        base = []
        for digest in files.values():
            yield {"status": "parsing GGUF"}
            path = self.blob_path(digest)
            if not os.path.exists(path):
                raise ApiError(500, f"open {path}: no such file or directory")
            if not self._is_gguf(digest):
                raise ApiError(400, "supplied file was not in GGUF format")
            gguf, dummy = read_gguf(path)
            arch, kind = gguf.get("general.architecture"), "model"  # KV.Uint keys are arch-prefixed
            if gguf.get("general.type") == "adapter":
                kind = "adapter"
            elif (not gguf.get(f"{arch}.block_count") and gguf.get(f"{arch}.vision.block_count")) \
                    or gguf.get("general.type") == "projector":
                kind = "projector"
            if version_at_least(0, 21, 0):
                os.utime(path)  # real: v0.21+ NewLayerFromLayer touches the blob (commit 2bb7ea0)
            layer = {"mediaType": MT + kind, "digest": digest, "size": os.stat(path).st_size, "from": path}
            base.append((layer, gguf, f"using existing layer {digest}"))
        return base

    def _is_gguf(self, digest):
        try:
            with open(self.blob_path(digest), "rb") as f:
                return f.read(4) == b"GGUF"
        except (OSError, ApiError):
            return False


def prune_directory(path):
    """real: manifest/paths.go PruneDirectory - remove empty directories, the root included."""
    if os.path.isdir(path) and not os.path.islink(path):
        for entry in os.listdir(path):
            prune_directory(os.path.join(path, entry))
        if not os.listdir(path):
            os.rmdir(path)


# ---------------------------------------------------------------- GPUs and scheduler
def cuda_runners_present():
    """The release's CUDA backends. real: ml/path.go LibOllamaPath is <executable>/../lib/ollama, and GPU
    discovery loads lib/ollama/cuda_v*/libggml-cuda.so; a release without them finds no GPU and runs every
    model on the CPU ("inference compute" id=cpu). Checked only when the stand-in runs from a release layout
    (lib/ollama beside bin/), so a source checkout keeps its GPUs."""
    lib = os.path.join(os.path.dirname(os.path.realpath(sys.argv[0])), "..", "lib", "ollama")
    if not os.path.isdir(lib):
        return True
    return bool(glob.glob(os.path.join(lib, "cuda_v*", "libggml-cuda.so")))


def discover_gpus():
    """Visible GPUs as [(index, uuid, name, MiB)]. The real server asks NVML (discover/); the
    stand-in asks an nvidia-smi on PATH, honouring CUDA_VISIBLE_DEVICES ("-1" = CPU, docs/gpu.mdx)."""
    visible = env("CUDA_VISIBLE_DEVICES")
    if visible == "-1" or not cuda_runners_present():
        return []
    try:
        out = subprocess.run(["nvidia-smi", "--query-gpu=index,uuid,name,memory.total",
                              "--format=csv,noheader,nounits"], capture_output=True, text=True, timeout=10, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return []
    if out.returncode:
        return []
    gpus = [tuple(field.strip() for field in line.split(",")) for line in out.stdout.splitlines() if line.strip()]
    if visible:
        wanted = [v.strip() for v in visible.split(",")]
        gpus = [g for g in gpus if g[0] in wanted or any(w.startswith("GPU-") and g[1].startswith(w) for w in wanted)]
    return gpus


def gpu_offload():
    """Stand-in only: STANDIN_GPU_OFFLOAD, the fraction (0..1) of each loaded model held in VRAM on a GPU server
    (default 1: all of it). real: server/sched.go load records runnerRef vramSize = llama.VRAMSize() and
    totalSize = llama.TotalSize() (llm/server.go), and routes.go PsHandler reports them as size_vram / size; when
    the server's memory estimate fits only some layers on the GPU the rest run on the CPU and size_vram < size
    (`ollama ps` then shows "NN%/MM% CPU/GPU", cmd/cmd.go ListRunningHandler; ref §5). The stand-in has no
    memory estimate, so the fraction is given. An invalid value is logged and counts as 1."""
    value = env("STANDIN_GPU_OFFLOAD")
    if not value:
        return 1.0
    try:
        fraction = float(value)
    except ValueError:
        fraction = -1.0
    if not 0.0 <= fraction <= 1.0:  # NaN fails both comparisons too
        log("WARN", "standin", "invalid STANDIN_GPU_OFFLOAD, using 1", STANDIN_GPU_OFFLOAD=value)
        return 1.0
    return fraction


class Scheduler:
    """Loaded "runners" with keep_alive expiry and per-model parallel slots.

    real: server/sched.go. Approximation: the real server answers 503 ErrMaxQueue when its
    pending-request channel (OLLAMA_MAX_QUEUE) is full; here requests waiting for one of a
    model's OLLAMA_NUM_PARALLEL slots (real: llm/server.go semaphore) count against that limit.
    """

    def __init__(self, store, parallel, max_queue, has_gpu, default_ctx, gpu_offload=1.0):
        self.store, self.parallel, self.max_queue = store, parallel, max_queue
        self.has_gpu, self.default_ctx = has_gpu, default_ctx
        self.gpu_offload = gpu_offload
        self.lock = threading.Lock()
        self.loaded = {}
        self.waiting = 0

    def _expire(self):
        now = time.time()
        for key, runner in list(self.loaded.items()):
            if runner["refs"] == 0 and runner["expires"] <= now:
                del self.loaded[key]

    def load(self, model, options, keep_alive, generate):
        """Load (or reuse) the runner of a model and, to generate, take one of its slots.
        real: sched.go GetRunner; a missing weights file fails like routes.go handleScheduleError
        os.ErrNotExist."""
        if not os.path.exists(model["model_path"]):
            raise ApiError(404, f'model "{model["short"]}" not found, try pulling it first')
        with self.lock:
            self._expire()
            runner = self.loaded.get(model["model_path"])
            if runner is None:
                runner = {"model": model, "sem": threading.Semaphore(self.parallel), "refs": 0,
                          "num_ctx": int(options.get("num_ctx") or self.default_ctx)}
                self.loaded[model["model_path"]] = runner
            runner["model"] = model
            runner["expires"] = time.time() + min(keep_alive, 1e10)
            if not generate:
                return runner
            queued = not runner["sem"].acquire(blocking=False)
            if queued:
                if self.waiting >= self.max_queue:
                    raise ApiError(503, "server busy, please try again.  maximum pending requests exceeded")
                self.waiting += 1
            runner["refs"] += 1
        if queued:
            runner["sem"].acquire()
            with self.lock:
                self.waiting -= 1
        return runner

    def release(self, runner, keep_alive):
        with self.lock:
            runner["sem"].release()
            runner["refs"] -= 1
            runner["expires"] = time.time() + min(keep_alive, 1e10)

    def unload(self, model):
        """real: sched.go expireRunner (keep_alive 0 with an empty prompt)."""
        with self.lock:
            runner = self.loaded.get(model["model_path"])
            if runner:
                runner["expires"] = 0
            self._expire()

    def ps(self):
        """real: routes.go PsHandler - longest remaining first; size_vram == size on a GPU (ref §5), or
        int(size * STANDIN_GPU_OFFLOAD) to fake a partial offload (see gpu_offload())."""
        with self.lock:
            self._expire()
            runners = sorted(self.loaded.values(), key=lambda r: -r["expires"])
            models = []
            for runner in runners:
                model = runner["model"]
                expires = runner["expires"] if runner["expires"] < time.time() + 1e9 else time.time() + 2**63 / 1e9
                models.append({"name": model["short"], "model": model["short"], "size": model["size"],
                               "digest": model["digest"], "details": details(model["config"]),
                               "expires_at": go_time(int(expires * 1e9)),
                               "size_vram": int(model["size"] * self.gpu_offload) if self.has_gpu else 0,
                               "context_length": runner["num_ctx"]})
            return models


def details(config, parent_model=""):
    """real: api.ModelDetails."""
    return {"parent_model": parent_model, "format": config.get("model_format", ""),
            "family": config.get("model_family", ""), "families": config.get("model_families"),
            "parameter_size": config.get("model_type", ""), "quantization_level": config.get("file_type", "")}


# ---------------------------------------------------------------- HTTP server
def go_private(ip):
    """real: netip.Addr.IsPrivate (RFC 1918 + fc00::/7 only, unlike Python's is_private)."""
    nets = ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fc00::/7")
    return any(ip.version == ipaddress.ip_network(n).version and ip in ipaddress.ip_network(n) for n in nets)


def host_allowed(host_header):
    """real: routes.go allowedHostsMiddleware + allowedHost (ref §5 Host check)."""
    host, dummy = split_host_port(host_header)
    host = host_header if host is None else host
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        ip = None
    if ip is not None:
        local = set()
        try:
            local = {info[4][0] for info in socket.getaddrinfo(socket.gethostname(), None)}
        except OSError:
            pass
        if ip.is_loopback or ip.is_unspecified or go_private(ip) or str(ip) in local:
            return True
    host = host.lower()
    if host in ("", "localhost") or host == socket.gethostname().lower():
        return True
    return any(host.endswith("." + tld) for tld in ("localhost", "local", "internal"))


def tokens_per_second():
    try:
        return float(os.environ.get("STANDIN_TOKENS_PER_S", "50"))
    except ValueError:
        return 50.0


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    # -------------------------------------------------- plumbing
    def setup(self):
        """real: Go's net package enables TCP_NODELAY on every TCP connection (net/tcpsock.go, SetNoDelay:
        "The default is true"), so a streamed token leaves at once instead of waiting for a delayed ACK on a
        keep-alive connection such as the gateway's upstream keepalive."""
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, fmt, *args):
        pass  # errors of the http.server machinery itself; access lines come from send_response

    def send_response(self, code, message=None):
        """No Server header (Go's net/http sends none); a gin-style access line on stdout."""
        self.send_response_only(code, message)
        self.send_header("Date", self.date_time_string())
        print(f"[GIN] {time.strftime('%Y/%m/%d - %H:%M:%S')} | {code} | {self.client_address[0]:>15} | "
              f"{self.command:<7} \"{self.path}\"", flush=True)

    def body_chunks(self):
        """Request body as chunks; Content-Length or chunked (Go clients stream uploads chunked)."""
        self.body_read = True
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return
                yield self.rfile.read(size)
                self.rfile.readline()
        remaining = int(self.headers.get("Content-Length") or 0)
        while remaining > 0:
            chunk = self.rfile.read(min(remaining, 1 << 20))
            if not chunk:
                return
            remaining -= len(chunk)
            yield chunk

    def json_body(self):
        raw = b"".join(self.body_chunks())
        if not raw.strip():
            raise ApiError(400, "missing request body")  # real: ShouldBindJSON io.EOF
        try:
            body = json.loads(raw)
        except ValueError as exc:
            raise ApiError(400, f"invalid character in request body: {exc}") from None
        if not isinstance(body, dict):
            raise ApiError(400, "json: cannot unmarshal into Go value of type request")
        return body

    def send_bytes(self, status, body, content_type=None):
        self.send_response(status)
        if content_type:
            self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def send_json(self, status, obj):
        """real: gin c.JSON."""
        self.send_bytes(status, go_json(obj), "application/json; charset=utf-8")

    def send_error_json(self, status, message):
        if self.openai:
            # real: middleware/openai.go - the middleware's own 400s are invalid_request_error;
            # handler errors go through writeError as api_error with their status kept
            kind = "invalid_request_error" if self.openai == "middleware" else "api_error"
            obj = {"error": {"message": message, "type": kind, "param": None, "code": None}}
        else:
            obj = {"error": message}
        self.send_json(status, obj)

    def start_stream(self, content_type):
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()

    def write_chunk(self, data):
        self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
        self.wfile.flush()

    def end_stream(self):
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()

    # -------------------------------------------------- dispatch
    def route(self):
        self.openai, self.body_read = None, False
        self.dispatch()
        length = self.headers.get("Content-Length", "0")
        if not self.body_read and (length != "0" or "Transfer-Encoding" in self.headers):
            # real (net/http): a small unread body is discarded, otherwise the connection is closed
            if length.isdigit() and int(length) <= 256 << 10:
                self.rfile.read(int(length))
            else:
                self.close_connection = True

    def dispatch(self):
        if self.server.loopback and not host_allowed(self.headers.get("Host", "")):
            self.send_bytes(403, b"")  # real: bare 403 (c.AbortWithStatus)
            return
        path = self.path.split("?", 1)[0]
        routes = {
            "/": {"GET": self.h_root, "HEAD": self.h_root},
            "/api/version": {"GET": self.h_version, "HEAD": self.h_version},
            "/api/tags": {"GET": self.h_tags, "HEAD": self.h_tags},
            "/api/ps": {"GET": self.h_ps},
            "/api/show": {"POST": self.h_show},
            "/api/create": {"POST": self.h_create},
            "/api/delete": {"DELETE": self.h_delete},
            "/api/copy": {"POST": self.h_copy},
            "/api/generate": {"POST": lambda: self.h_inference(chat=False)},
            "/api/chat": {"POST": lambda: self.h_inference(chat=True)},
            "/v1/chat/completions": {"POST": self.h_openai_chat},
            "/v1/models": {"GET": self.h_openai_models},
        }
        if path.startswith("/api/blobs/"):
            methods = {"HEAD": self.h_blob_head, "POST": self.h_blob_post}
        else:
            methods = routes.get(path)
        if methods is None:
            self.send_bytes(404, b"404 page not found", "text/plain")  # real: gin NoRoute
            return
        handler = methods.get(self.command)
        if handler is None:
            self.send_bytes(405, b"405 method not allowed", "text/plain")  # real: HandleMethodNotAllowed
            return
        try:
            handler()
        except ApiError as exc:
            self.send_error_json(exc.status, str(exc))
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True
        except (OSError, ValueError) as exc:
            self.send_error_json(500, str(exc))

    do_GET = do_HEAD = do_POST = do_DELETE = do_PUT = do_PATCH = route

    # -------------------------------------------------- handlers (real: routes.go GenerateRoutes)
    def h_root(self):
        self.send_bytes(200, b"Ollama is running", "text/plain; charset=utf-8")

    def h_version(self):
        self.send_json(200, {"version": VERSION})

    def h_tags(self):
        """real: routes.go ListHandler - rescans manifests each call, skips models whose config
        blob is missing or unreadable, newest first (ref §3.4, §5)."""
        self.send_json(200, {"models": self.list_models()})

    def list_models(self):
        store, found = self.server.store, []
        for name, entry in store.manifests().items():
            try:
                config = store.read_config(entry)
            except (OSError, ValueError, ApiError) as exc:
                log("WARN", "routes.go:1282", "bad manifest config", name=display_shortest(name), error=exc)
                continue
            found.append((entry["mtime_ns"] // 10**9, {
                "name": display_shortest(name), "model": display_shortest(name),
                "modified_at": go_time(entry["mtime_ns"]), "size": entry["size"], "digest": entry["digest"],
                "details": details(config)}))
        return [model for dummy, model in sorted(found, key=lambda item: -item[0])]  # stable, like SortStableFunc

    def h_ps(self):
        self.send_json(200, {"models": self.server.sched.ps()})

    def find_model(self, text, status=404, message=None):
        """Resolve a request's model name; a missing one answers 404 model 'x' not found (ref §5)."""
        name = parse_name(text)
        if not name_valid(name):
            raise ApiError(status, message or f"model '{text}' not found")
        name = self.server.store.existing_name(name)
        try:
            return self.server.store.load_model(name)
        except FileNotFoundError:
            raise ApiError(404, f"model '{text}' not found") from None

    def h_show(self):
        """real: routes.go ShowHandler / GetModelInfo."""
        body = self.json_body()
        text = body.get("model") or body.get("name")
        if not text:
            raise ApiError(400, "model is required")
        model = self.find_model(text, 500, "invalid model path")  # real: modelpath.go ErrModelPathInvalid
        if body.get("system"):
            model["system"] = body["system"]
        kv, tensors = read_gguf(model["model_path"], keep_arrays=bool(body.get("verbose")))
        for key in ("general.name", "tokenizer.chat_template"):
            kv.pop(key, None)
        resp = {"license": "\n".join(model["license"]), "modelfile": modelfile(model),
                "parameters": "\n".join(f"{k:<30} {go_value(v, quoted=True)}" for k, v in option_items(model)),
                "template": model["template"], "system": model["system"],
                "details": details(model["config"], model["parent_model"]),
                "messages": model["messages"], "model_info": kv, "tensors": tensors,
                "capabilities": capabilities(model), "modified_at": go_time(model["mtime_ns"])}
        self.send_json(200, {k: v for k, v in resp.items() if v not in ("", [], {}, None)})

    def h_create(self):
        """real: create.go CreateHandler; legacy `modelfile` bodies get the 400 (ref §4.2)."""
        body = self.json_body()
        self.send_progress(self.server.store.create(body), body.get("stream", True) is not False)

    def send_progress(self, events, stream):
        """real: routes.go streamResponse / waitForStream - an error before any output gets its
        own status; later errors are an {"error"} line after HTTP 200 (ref §4.2)."""
        last = None
        if not stream:
            for last in events:
                pass
            self.send_json(200, last)
            return
        first = next(events)
        self.start_stream("application/x-ndjson")
        self.write_chunk(go_json(first) + b"\n")
        try:
            for event in events:
                self.write_chunk(go_json(event) + b"\n")
        except ApiError as exc:
            self.write_chunk(go_json({"error": str(exc)}) + b"\n")
        self.end_stream()

    def h_blob_head(self):
        """real: routes.go HeadBlobHandler - 200 or 404."""
        path = self.server.store.blob_path(self.path.split("/api/blobs/", 1)[1])
        if not os.path.exists(path):
            raise ApiError(404, f'blob "{self.path.split("/api/blobs/", 1)[1]}" not found')
        self.send_bytes(200, b"")

    def h_blob_post(self):
        """real: routes.go CreateBlobHandler - present: 200 without reading the body; else 201
        after hashing, 400 on mismatch (ref §4.1)."""
        digest = self.path.split("/api/blobs/", 1)[1]
        path = self.server.store.blob_path(digest)
        if os.path.exists(path):
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.send_header("Connection", "close")  # the body stays unread
            self.end_headers()
            self.wfile.flush()
            # real (net/http closeWriteAndWait): half-close, let the client see the reply, then close
            self.connection.shutdown(socket.SHUT_WR)
            self.connection.settimeout(0.5)
            try:
                while self.connection.recv(1 << 20):
                    pass
            except OSError:
                pass
            self.body_read, self.close_connection = True, True
            return
        self.server.store.receive_blob(digest, self.body_chunks())
        self.send_bytes(201, b"")

    def h_delete(self):
        """real: routes.go DeleteHandler."""
        body = self.json_body()
        text = body.get("model") or body.get("name") or ""
        name = parse_name(text)
        if not name_valid(name):
            raise ApiError(400, f'name "{text}" is invalid')
        try:
            self.server.store.delete(self.server.store.existing_name(name))
        except FileNotFoundError:
            raise ApiError(404, f"model '{text}' not found") from None
        self.send_bytes(200, b"")

    def h_copy(self):
        """real: routes.go CopyHandler - 404 reads model "x" not found (ref §5)."""
        body = self.json_body()
        src, dst = parse_name(body.get("source", "")), parse_name(body.get("destination", ""))
        if not name_valid(src):
            raise ApiError(400, f'source "{body.get("source", "")}" is invalid')
        if not name_valid(dst):
            raise ApiError(400, f'destination "{body.get("destination", "")}" is invalid')
        store = self.server.store
        try:
            store.copy(store.existing_name(src), store.existing_name(dst))
        except FileNotFoundError:
            raise ApiError(404, f'model "{body.get("source", "")}" not found') from None
        self.send_bytes(200, b"")

    # -------------------------------------------------- inference
    def h_inference(self, chat, body=None, openai_stream=None):
        """real: routes.go GenerateHandler / ChatHandler. Tokens are fake (no inference)."""
        body = self.json_body() if body is None else body
        text = body.get("model") or ""
        if chat:
            model = self.find_model(text, 400, "model is required")
        else:
            model = self.find_model(text)
        try:
            keep = keep_alive_seconds(body.get("keep_alive"), self.server.keep_alive)
        except ValueError as exc:
            raise ApiError(400, str(exc)) from None
        prompt = body.get("prompt") or ""
        if chat:
            users = [m.get("content") or "" for m in body.get("messages") or [] if isinstance(m, dict)]
            empty, prompt = not body.get("messages"), (users[-1] if users else "")
        else:
            empty = not prompt
        start = time.time_ns()
        if empty and keep == 0:
            self.server.sched.unload(model)
            return self.send_json(200, response_chunk(chat, text, "", True, done_reason="unload"))
        options = {**model["options"], **(body.get("options") or {})}
        runner = self.server.sched.load(model, options, keep, generate=not empty)
        loaded = time.time_ns()
        if empty:
            return self.send_json(200, response_chunk(chat, text, "", True, done_reason="load"))
        try:
            chunks = generate(chat, text, prompt, options, start, loaded)
            if openai_stream is not None:
                self.send_openai(chunks, openai_stream, body.get("stream_options"))
            elif body.get("stream", True) is False:
                parts = list(chunks)
                final = parts[-1]
                final["message" if chat else "response"] = (
                    {"role": "assistant", "content": "".join(p["message"]["content"] for p in parts)}
                    if chat else "".join(p["response"] for p in parts))
                self.send_json(200, final)
            else:
                self.start_stream("application/x-ndjson")
                for chunk in chunks:
                    self.write_chunk(go_json(chunk) + b"\n")
                self.end_stream()
        finally:
            self.server.sched.release(runner, keep)

    def h_openai_chat(self):
        """real: middleware/openai.go ChatMiddleware; stream defaults to false (ref §5)."""
        self.openai = "middleware"
        try:
            body = json.loads(b"".join(self.body_chunks()) or b"null")
        except ValueError as exc:
            raise ApiError(400, str(exc)) from None
        if not isinstance(body, dict):
            raise ApiError(400, "EOF")
        if not body.get("messages"):
            raise ApiError(400, "[] is too short - 'messages'")
        options = {}
        if body.get("max_tokens") is not None:  # real: openai.go FromChatRequest
            options["num_predict"] = body["max_tokens"]
        for key in ("temperature", "top_p", "seed", "stop", "frequency_penalty", "presence_penalty"):
            if body.get(key) is not None:
                options[key] = body[key]
        native = {"model": body.get("model", ""), "messages": body["messages"], "options": options,
                  "stream_options": body.get("stream_options")}
        self.openai = "handler"
        self.h_inference(True, native, openai_stream=bool(body.get("stream")))

    def send_openai(self, chunks, stream, stream_options):
        """real: openai/openai.go ToChunk / ToChatCompletion, middleware ChatWriter (SSE)."""
        ident = f"chatcmpl-{secrets.randbelow(999)}"
        if not stream:
            parts = list(chunks)
            final = parts[-1]
            self.send_json(200, {
                "id": ident, "object": "chat.completion", "created": int(time.time()), "model": final["model"],
                "system_fingerprint": "fp_ollama",
                "choices": [{"index": 0, "message": {"role": "assistant",
                                                     "content": "".join(p["message"]["content"] for p in parts)},
                             "finish_reason": final["done_reason"]}],
                "usage": usage(final)})
            return
        self.start_stream("text/event-stream")
        for chunk in chunks:
            sse = {"id": ident, "object": "chat.completion.chunk", "created": int(time.time()),
                   "model": chunk["model"], "system_fingerprint": "fp_ollama",
                   "choices": [{"index": 0, "delta": {"role": "assistant", "content": chunk["message"]["content"]},
                                "finish_reason": chunk.get("done_reason")}]}
            self.write_chunk(b"data: " + go_json(sse) + b"\n\n")
            if chunk["done"]:
                if (stream_options or {}).get("include_usage"):
                    sse.update(choices=[], usage=usage(chunk))
                    self.write_chunk(b"data: " + go_json(sse) + b"\n\n")
                self.write_chunk(b"data: [DONE]\n\n")
        self.end_stream()

    def h_openai_models(self):
        """real: openai.go ToListCompletion - `data` is null when there are no models."""
        data = [{"id": m["name"], "object": "model", "created": int(parse_go_time(m["modified_at"]).timestamp()),
                 "owned_by": parse_name(m["name"]).namespace} for m in self.list_models()]
        self.send_json(200, {"object": "list", "data": data or None})


def usage(final):
    prompt, completion = final.get("prompt_eval_count", 0), final.get("eval_count", 0)
    return {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}


def response_chunk(chat, model, text, done, **extra):
    """real: api.GenerateResponse / api.ChatResponse field order; zero metrics are omitted."""
    chunk = {"model": model, "created_at": go_time(utc=True)}
    if chat:
        chunk["message"] = {"role": "assistant", "content": text}
    else:
        chunk["response"] = text
    chunk["done"] = done
    chunk.update(extra)
    return chunk


def generate(chat, model, prompt, options, start_ns, loaded_ns):
    """Deterministic fake tokens: the prompt's words in turn, STANDIN_TOKENS_PER_S apart.
    num_predict ends with done_reason "length"; otherwise 16 tokens and "stop"."""
    words = prompt.split() or ["token"]
    limit = options.get("num_predict")
    count = int(limit) if isinstance(limit, (int, float)) and limit >= 0 else 16
    rate = tokens_per_second()
    eval_start = time.time_ns()
    for i in range(count):
        if i and rate > 0:
            time.sleep(1 / rate)
        yield response_chunk(chat, model, (" " if i else "") + words[i % len(words)], False)
    now = time.time_ns()
    extra = {"done_reason": "length" if limit is not None and count == limit else "stop"}
    if not chat:
        extra["context"] = list(range(len(words) + count))
    extra.update(total_duration=now - start_ns, load_duration=max(loaded_ns - start_ns, 1),
                 prompt_eval_count=len(words), prompt_eval_duration=max(eval_start - loaded_ns, 1),
                 eval_count=count, eval_duration=max(now - eval_start, 1))
    yield response_chunk(chat, model, "", True, **extra)


def go_value(value, quoted=False):
    """Go %v (or %#v when quoted) of a JSON-decoded value."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e21:
        return str(int(value))
    if isinstance(value, str):
        return json.dumps(value) if quoted else value
    return str(value)


def option_items(model):
    """Model options, one item per list element (Go map order is random; sorted here)."""
    for key, value in sorted(model["options"].items()):
        for item in value if isinstance(value, list) else [value]:
            yield key, item


def modelfile_quote(text):
    """real: parser/parser.go quote."""
    if "\n" in text or text.startswith(" ") or text.endswith(" "):
        return f'"""{text}"""' if '"' in text else f'"{text}"'
    return text


def modelfile(model):
    """real: routes.go GetModelInfo + images.go Model.String (ref §6 show --modelfile)."""
    lines = ['# Modelfile generated by "ollama show"', "# To build a new Modelfile based on this, replace FROM with:",
             f"# FROM {model['short']}", "", f"FROM {model['model_path']}",
             f"TEMPLATE {modelfile_quote(model['template'])}"]
    if model["system"]:
        lines.append(f"SYSTEM {modelfile_quote(model['system'])}")
    lines += [f"PARAMETER {key} {modelfile_quote(go_value(value))}" for key, value in option_items(model)]
    lines += [f"LICENSE {modelfile_quote(text)}" for text in model["license"]]
    lines += [f"MESSAGE {m.get('role')} {modelfile_quote(m.get('content', ''))}" for m in model["messages"]]
    return "\n".join(lines) + "\n"


def capabilities(model):
    """real: images.go Model.Capabilities - completion (no pooling_type), tools/insert from the template."""
    caps = ["completion"]
    if ".Tools" in model["template"]:
        caps.append("tools")
    if ".Suffix" in model["template"]:
        caps.append("insert")
    return caps


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    # real: Go's net.Listen uses the kernel's somaxconn as the listen backlog (net/sock_linux.go
    # maxListenerBacklog, 4096 on current kernels), not socketserver's 5: a burst of new connections
    # is queued, not dropped (a dropped SYN is retried only after 1 s).
    request_queue_size = 4096

    def __init__(self, address, store, keep_alive):
        if ":" in address[0]:
            self.address_family = socket.AF_INET6
        super().__init__(address, Handler)
        self.store, self.keep_alive, self.sched = store, keep_alive, None
        bound = self.server_address[0]
        try:  # real: allowedHostsMiddleware only checks when the listener is on loopback
            self.loopback = ipaddress.ip_address(bound.split("%")[0]).is_loopback
        except ValueError:
            self.loopback = False


# ---------------------------------------------------------------- serve
def env_map(models, keep_alive, context_length):
    """The `server config env=map[...]` values; key set of envconfig.AsMap at v0.14.1, Go %v format."""
    scheme, host, port = ollama_host()
    origins = [o for o in env("OLLAMA_ORIGINS").split(",") if o] if env("OLLAMA_ORIGINS") else []
    for origin in ("localhost", "127.0.0.1", "0.0.0.0"):
        origins += [f"http://{origin}", f"https://{origin}", f"http://{origin}:*", f"https://{origin}:*"]
    origins += ["app://*", "file://*", "tauri://*", "vscode-webview://*", "vscode-file://*"]
    debug = env("OLLAMA_DEBUG")
    level = "INFO"
    if GO_BOOLS.get(debug) or debug == "1":
        level = "DEBUG"
    elif debug == "2":
        level = "DEBUG-4"
    values = {"OLLAMA_CONTEXT_LENGTH": context_length,
              "OLLAMA_DEBUG": level, "OLLAMA_GPU_OVERHEAD": env_uint("OLLAMA_GPU_OVERHEAD", 0),
              "OLLAMA_HOST": f"{scheme}://{join_host_port(host, port)}",
              "OLLAMA_KEEP_ALIVE": go_duration_str(keep_alive),
              "OLLAMA_LOAD_TIMEOUT": go_duration_str(env_keep_alive("OLLAMA_LOAD_TIMEOUT")),
              "OLLAMA_MAX_LOADED_MODELS": env_uint("OLLAMA_MAX_LOADED_MODELS", 0),
              "OLLAMA_MAX_QUEUE": env_uint("OLLAMA_MAX_QUEUE", 512), "OLLAMA_MODELS": models,
              "OLLAMA_NUM_PARALLEL": env_uint("OLLAMA_NUM_PARALLEL", 1),
              "OLLAMA_ORIGINS": "[" + " ".join(origins) + "]", "OLLAMA_REMOTES": "[ollama.com]"}
    for key in ("OLLAMA_FLASH_ATTENTION", "OLLAMA_MULTIUSER_CACHE", "OLLAMA_NEW_ENGINE", "OLLAMA_NOHISTORY",
                "OLLAMA_NOPRUNE", "OLLAMA_SCHED_SPREAD", "OLLAMA_VULKAN"):
        values[key] = "true" if env_bool(key) else "false"
    for key in ("CUDA_VISIBLE_DEVICES", "GGML_VK_VISIBLE_DEVICES", "GPU_DEVICE_ORDINAL", "HIP_VISIBLE_DEVICES",
                "HSA_OVERRIDE_GFX_VERSION", "HTTPS_PROXY", "HTTP_PROXY", "NO_PROXY", "OLLAMA_KV_CACHE_TYPE",
                "OLLAMA_LLM_LIBRARY", "ROCR_VISIBLE_DEVICES", "http_proxy", "https_proxy", "no_proxy"):
        values[key] = env(key)
    return "map[" + " ".join(f"{k}:{v}" for k, v in sorted(values.items())) + "]"


def initialize_keypair():
    """real: cmd/cmd.go initializeKeypair - serve needs a writable $HOME (#9148). The key is a
    PLACEHOLDER (random bytes in the OpenSSH framing), not a usable ed25519 key."""
    home = os.environ.get("HOME", "")
    if not home:
        raise RuntimeError("$HOME is not defined")
    priv = os.path.join(home, ".ollama", "id_ed25519")
    if os.path.exists(priv):
        return
    print(f"Couldn't find '{priv}'. Generating new private key.", flush=True)
    try:
        os.makedirs(os.path.dirname(priv), 0o755, exist_ok=True)
    except OSError as exc:
        raise RuntimeError("could not create directory " + os_error_text("mkdir", exc.filename, exc)) from None
    blob = struct.pack(">I", 11) + b"ssh-ed25519" + struct.pack(">I", 32) + secrets.token_bytes(32)
    public = b"ssh-ed25519 " + base64.b64encode(blob) + b"\n"
    try:
        fd = os.open(priv, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(b"-----BEGIN OPENSSH PRIVATE KEY-----\n" + base64.b64encode(b"STANDIN PLACEHOLDER " + blob)
                    + b"\n-----END OPENSSH PRIVATE KEY-----\n")
        with open(priv + ".pub", "wb") as f:
            f.write(public)
    except OSError as exc:
        raise RuntimeError(os_error_text("open", exc.filename, exc)) from None
    print(f"Your new public key is: \n\n{public.decode()}", flush=True)


def serve():
    """real: cmd/cmd.go RunServer + server/routes.go Serve (order of the start-up steps kept)."""
    initialize_keypair()
    scheme, host, port = ollama_host()
    models = env("OLLAMA_MODELS") or os.path.join(os.environ["HOME"], ".ollama", "models")
    keep_alive = env_keep_alive("OLLAMA_KEEP_ALIVE")
    # real: envconfig ContextLength - default 4096 up to v0.15, 0 (= VRAM tier) from v0.16.0 (ref §2)
    context_length = env_uint("OLLAMA_CONTEXT_LENGTH", 0 if version_at_least(0, 16, 0) else 4096)
    store = Store(models)
    try:
        httpd = Server((host, port), store, keep_alive)
    except OSError as exc:
        raise RuntimeError(f"listen tcp {join_host_port(host, port)}: bind: {(exc.strerror or '').lower()}") from None
    log("INFO", "routes.go:1614", "server config", env=env_map(models, keep_alive, context_length))
    try:
        store.fix_blobs()
        if not env_bool("OLLAMA_NOPRUNE"):
            store.prune()
    except OSError as exc:
        raise RuntimeError(os_error_text("remove", exc.filename, exc)) from None
    bound_host, bound_port = httpd.server_address[:2]
    log("INFO", "routes.go:1667", f"Listening on {join_host_port(bound_host, bound_port)} (version {VERSION})")
    for key in ("CUDA_VISIBLE_DEVICES", "HIP_VISIBLE_DEVICES", "ROCR_VISIBLE_DEVICES", "GGML_VK_VISIBLE_DEVICES",
                "GPU_DEVICE_ORDINAL", "HSA_OVERRIDE_GFX_VERSION"):
        if env(key):  # real: discover/runner.go overrideWarnings
            log("WARN", "runner.go:485", "user overrode visible devices", **{key: env(key)})
    gpus = discover_gpus()
    for index, uuid, name, mib in gpus:
        log("INFO", "types.go:42", "inference compute", id=uuid, library="CUDA", name=f"CUDA{index}",
            description=name, total=f"{int(mib) / 1024:.1f} GiB")
    if not gpus:
        log("INFO", "types.go:60", "inference compute", id="cpu", library="cpu", variant="", compute="",
            driver="0.0", name="cpu", description="cpu")
    if not context_length:  # real: routes.go Serve VRAM tiers (v0.16.0+, ref §2)
        vram_gib = sum(int(g[3]) for g in gpus) / 1024
        context_length = 262144 if vram_gib >= 47 else 32768 if vram_gib >= 23 else 4096
    httpd.sched = Scheduler(store, max(env_uint("OLLAMA_NUM_PARALLEL", 1), 1), env_uint("OLLAMA_MAX_QUEUE", 512),
                            bool(gpus), context_length, gpu_offload())
    # real: routes.go Serve - SIGINT/SIGTERM close the server and `serve` returns nil (exit 0)
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: sys.exit(0))
    httpd.serve_forever()


# ---------------------------------------------------------------- CLI
class CliError(Exception):
    pass


NO_SERVER = "could not connect to ollama server, run 'ollama serve' to start it"  # real: cmd/start_default.go


class Client:
    """HTTP client against OLLAMA_HOST. real: api/client.go."""

    def __init__(self):
        scheme, host, self.port = ollama_host()
        self.host = host or "127.0.0.1"  # Go dials ":11434" as the local system
        self.conn_class = http.client.HTTPSConnection if scheme == "https" else http.client.HTTPConnection

    def open(self, method, path, body=None, headers=None, timeout=None):
        conn = self.conn_class(self.host, self.port, timeout=timeout)
        data = go_json(body) if isinstance(body, dict) else body
        try:
            try:
                sent = {"Content-Type": "application/json", "User-Agent": f"ollama/{VERSION}", **(headers or {})}
                conn.request(method, path, body=data, headers=sent)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the server answered before reading the whole body (a blob it already has)
            return conn.getresponse()
        except OSError as exc:
            raise ConnectionError(str(exc)) from None

    def do(self, method, path, body=None):
        """real: client.do + checkError - a non-2xx reply raises its error message alone."""
        resp = self.open(method, path, body)
        raw = resp.read()
        if resp.status >= 400:
            try:
                message = json.loads(raw)["error"]
            except (ValueError, KeyError, TypeError):
                message = raw.decode()  # real: the whole body when it is not JSON
            raise CliError(message)
        return json.loads(raw) if raw.strip() else None

    def stream(self, path, body):
        """real: client.stream - error statuses read "<status>: <msg>", error lines "<msg>"."""
        resp = self.open("POST", path, body)
        for line in resp:
            if not line.strip():
                continue
            obj = json.loads(line)
            if resp.status >= 400:
                raise CliError(f"{resp.status} {resp.reason}: {obj.get('error', '')}")
            if obj.get("error"):
                raise CliError(obj["error"])
            yield obj

    def heartbeat(self):
        """real: cmd.go checkServerHeartbeat - no server means the start_default.go error."""
        try:
            self.open("HEAD", "/", timeout=10).read()
        except ConnectionError:
            raise CliError(NO_SERVER) from None


def print_table(headers, rows):
    """real: tablewriter v0.0.5 with NoWhiteSpace and 4-space padding: every cell padded to the
    column width plus 4 spaces, except the header's last cell (plus 1 space)."""
    widths = [max(len(str(r[i])) for r in [headers] + rows) for i in range(len(headers))]
    cells = [h.ljust(w) for h, w in zip(headers, widths)]
    print("    ".join(cells) + " ")
    for row in rows:
        print("".join(str(cell).ljust(w) + "    " for cell, w in zip(row, widths)))


def parse_modelfile(text):
    """[(command, args)] from a Modelfile. real: parser/parser.go ParseFile (simplified state machine:
    one command per line, \"\"\"...\"\"\" values may span lines)."""
    commands, lines = [], text.splitlines()
    valid = ("from", "license", "template", "system", "adapter", "draft", "renderer", "parser", "parameter",
             "message", "requires")
    i = 0
    while i < len(lines):
        line = lines[i].strip()
        i += 1
        if not line or line.startswith("#"):
            continue
        word, dummy, rest = line.partition(" ")
        if word.lower() not in valid:
            raise CliError(f"(line {i}): command must be one of \"from\", \"license\", \"template\", \"system\", "
                           f"\"adapter\", \"draft\", \"renderer\", \"parser\", \"parameter\", \"message\", or "
                           f"\"requires\"")
        cmd, rest, prefix = word.lower(), rest.strip(), ""
        if cmd == "parameter":  # PARAMETER <name> <value> becomes the command <name>
            cmd, dummy, rest = rest.partition(" ")
        elif cmd == "message":  # MESSAGE <role> <text> becomes "role: text"
            role, dummy, rest = rest.partition(" ")
            prefix = role + ": "
        rest = rest.strip()
        if rest.startswith('"""'):
            while not (len(rest) >= 6 and rest.endswith('"""')) and i < len(lines):
                rest += "\n" + lines[i]
                i += 1
            if len(rest) < 6 or not rest.endswith('"""'):
                raise CliError("unexpected EOF")
            rest = rest[3:-3]
        elif rest.startswith('"') and rest.endswith('"') and len(rest) >= 2:
            rest = rest[1:-1]
        commands.append(("model" if cmd == "from" else cmd, prefix + rest))
    if not any(cmd == "model" for cmd, dummy in commands):
        raise CliError("no FROM line")
    return commands


PARAM_TYPES = {"num_ctx": int, "num_batch": int, "num_gpu": int, "main_gpu": int, "num_thread": int,
               "num_keep": int, "seed": int, "num_predict": int, "top_k": int, "repeat_last_n": int,
               "use_mmap": bool, "top_p": float, "min_p": float, "typical_p": float, "temperature": float,
               "repeat_penalty": float, "presence_penalty": float, "frequency_penalty": float, "stop": list}


def file_digest(path):
    """real: parser.go digestForFile - the client hashes every file in full."""
    sha = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            sha.update(chunk)
    return "sha256:" + sha.hexdigest()


def create_request(commands, base_dir):
    """real: parser.go Modelfile.CreateRequest - FROM paths relative to the Modelfile's directory;
    a path that does not exist is sent as `from` (a model name)."""
    req, params, files = {}, {}, []
    for cmd, args in commands:
        if cmd == "model":
            path = os.path.abspath(os.path.join(base_dir, os.path.expanduser(args)))
            if not os.path.exists(path):
                req["from"] = args
            elif os.path.isdir(path):  # real: filesForModel; the stand-in only picks up *.gguf
                found = sorted(glob.glob(os.path.join(path, "*.gguf")))
                if not found:
                    raise CliError("no Modelfile or safetensors files found")
                files += found
            else:
                files.append(path)
        elif cmd in ("template", "system", "renderer", "parser", "requires"):
            req[cmd] = args
        elif cmd == "license":
            req.setdefault("license", []).append(args)
        elif cmd == "message":
            role, dummy, content = args.partition(": ")
            req.setdefault("messages", []).append({"role": role, "content": content})
        elif cmd in ("adapter", "draft"):
            raise CliError(f"the test stand-in does not support {cmd.upper()}")
        else:  # real: api.FormatParams
            kind = PARAM_TYPES.get(cmd)
            if kind is None:
                raise CliError(f"unknown parameter '{cmd}'")
            try:
                if kind is list:
                    params.setdefault(cmd, []).append(args)
                elif kind is bool:
                    params[cmd] = GO_BOOLS[args]
                else:
                    params[cmd] = kind(args)
            except (KeyError, ValueError):
                raise CliError(f"invalid {kind.__name__} value [{args}]") from None
    if params:
        req["parameters"] = params
    return req, files


def cmd_create(client, args):
    """real: cmd/cmd.go CreateHandler + createBlob (ref §4.1): hash, POST each blob, then /api/create."""
    filename = "Modelfile"
    if "-f" in args or "--file" in args:
        flag = args.index("-f") if "-f" in args else args.index("--file")
        filename = args[flag + 1] if flag + 1 < len(args) else ""
        del args[flag:flag + 2]
    if len(args) != 1:
        raise CliError(f"accepts 1 arg(s), received {len(args)}")
    if not name_valid(parse_name(args[0])):
        raise CliError(f"invalid model name: {args[0]}")
    client.heartbeat()
    path = os.path.abspath(filename)
    if os.path.isfile(path):
        with open(path, encoding="utf-8-sig") as f:
            commands, base_dir = parse_modelfile(f.read()), os.path.dirname(path)
    else:  # real: no Modelfile means "FROM ."
        commands, base_dir = [("model", ".")], "."
    print("gathering model components", file=sys.stderr)
    req, files = create_request(commands, base_dir)
    root = os.path.commonpath([os.path.dirname(p) for p in files]) if len(files) > 1 else None
    if files:
        req["files"] = {}
    for file_path in files:
        digest = file_digest(file_path)
        print(f"copying file {digest} 100%", file=sys.stderr)
        with open(file_path, "rb") as f:
            resp = client.open("POST", f"/api/blobs/{digest}", body=f,
                               headers={"Content-Length": str(os.fstat(f.fileno()).st_size)})
        raw = resp.read()
        if resp.status >= 400:
            raise CliError(json.loads(raw).get("error", raw.decode()))
        req["files"][os.path.relpath(file_path, root) if root else os.path.basename(file_path)] = digest
    req["model"] = args[0]
    for event in client.stream("/api/create", req):
        print(event.get("status", ""), file=sys.stderr)


def cmd_list(client, args):
    """real: cmd/cmd.go ListHandler (ref §6)."""
    models = client.do("GET", "/api/tags")["models"]
    rows = [[m["name"], m["digest"][:12], human_bytes(m["size"]), human_time(parse_go_time(m["modified_at"]))]
            for m in models if not args or m["name"].lower().startswith(args[0].lower())]
    print_table(["NAME", "ID", "SIZE", "MODIFIED"], rows)


def cmd_ps(client, args):
    """real: cmd/cmd.go ListRunningHandler (ref §6)."""
    rows = []
    for m in client.do("GET", "/api/ps")["models"]:
        if args and not m["name"].startswith(args[0]):
            continue
        size, vram = m["size"], m["size_vram"]
        if vram == 0:
            proc = "100% CPU"
        elif vram == size:
            proc = "100% GPU"
        elif vram > size or size == 0:
            proc = "Unknown"
        else:
            cpu = round((size - vram) / size * 100)
            proc = f"{cpu}%/{100 - cpu}% CPU/GPU"
        expires = parse_go_time(m["expires_at"])
        until = "Stopping..." if expires.timestamp() < time.time() else human_time(expires)
        rows.append([m["name"], m["digest"][:12], human_bytes(size), proc, str(m["context_length"]), until])
    print_table(["NAME", "ID", "SIZE", "PROCESSOR", "CONTEXT", "UNTIL"], rows)


def cmd_show(client, args):
    """real: cmd/cmd.go ShowHandler; --modelfile etc. print the field as the server returned it."""
    flags = [a for a in args if a.startswith("--")]
    names = [a for a in args if not a.startswith("--")]
    if len(names) != 1:
        raise CliError(f"accepts 1 arg(s), received {len(names)}")
    if len(flags) > 1:
        raise CliError("only one of '--license', '--modelfile', '--parameters', '--system', or '--template' "
                       "can be specified")
    info = client.do("POST", "/api/show", {"model": names[0]})
    if flags:
        print(info.get(flags[0][2:], ""))
        return
    d = info["details"]
    print(f"  Model\n    architecture    {d['family']}\n    parameters      {d['parameter_size']}\n"
          f"    quantization    {d['quantization_level']}\n")
    print("  Capabilities\n" + "".join(f"    {c}\n" for c in info.get("capabilities", [])))


def cmd_rm(client, args):
    """real: cmd/cmd.go DeleteHandler - unload first, then delete; prints deleted 'x' (ref §6)."""
    if not args:
        raise CliError("requires at least 1 arg(s), only received 0")
    for name in args:
        try:
            client.do("POST", "/api/generate", {"model": name, "keep_alive": 0})
        except CliError as exc:
            if "not found" not in str(exc).lower():
                print(f"Warning: unable to stop model '{name}'", file=sys.stderr)
        client.do("DELETE", "/api/delete", {"model": name})
        print(f"deleted '{name}'")


def cmd_cp(client, args):
    if len(args) != 2:
        raise CliError(f"accepts 2 arg(s), received {len(args)}")
    client.do("POST", "/api/copy", {"source": args[0], "destination": args[1]})
    print(f"copied '{args[0]}' to '{args[1]}'")


def cmd_version(client):
    """real: cmd/cmd.go versionHandler - stdout, always exit 0, three forms (ref §1.3)."""
    server = ""
    try:
        server = client.do("GET", "/api/version")["version"]
    except (ConnectionError, CliError, ValueError, KeyError, TypeError):
        print("Warning: could not connect to a running Ollama instance")
    if server:
        print(f"ollama version is {server}")
    if server != VERSION:
        print(f"Warning: client version is {VERSION}")


USAGE = """Large language model runner (TEST STAND-IN, no inference)

Usage:
  ollama [flags]
  ollama [command]

Available Commands:
  serve       Start ollama
  create      Create a model from a Modelfile
  show        Show information for a model
  list        List models
  ps          List running models
  cp          Copy a model
  rm          Remove a model

Flags:
  -h, --help      help for ollama
  -v, --version   Show version information
"""

COMMANDS = {"create": cmd_create, "list": cmd_list, "ls": cmd_list, "ps": cmd_ps, "show": cmd_show,
            "rm": cmd_rm, "cp": cmd_cp}


def main(argv):
    """real: cmd/cmd.go NewCLI - failures print `Error: <msg>` on stderr and exit 1 (cobra.CheckErr)."""
    if not argv or argv[0] in ("-h", "--help", "help"):
        print(USAGE, end="")
        return 0
    if argv[0] in ("-v", "--version"):
        cmd_version(Client())
        return 0
    try:
        if argv[0] == "serve":
            serve()
        elif argv[0] in COMMANDS:
            client = Client()
            if argv[0] != "create":
                client.heartbeat()
            COMMANDS[argv[0]](client, list(argv[1:]))
        else:
            raise CliError(f'unknown command "{argv[0]}" for "ollama"\nRun \'ollama --help\' for usage.')
    except ConnectionError:
        print(f"Error: {NO_SERVER}", file=sys.stderr)
        return 1
    except (CliError, RuntimeError, ApiError, OSError) as exc:
        print(f"Error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
