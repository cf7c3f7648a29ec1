# -*- coding: utf-8 -*-
# Copyright (c) 2026, gpufleet maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""gpufleet metrics probe: Ollama, GPU and gateway series for the node-exporter textfile collector.

Run by a systemd timer as ``/usr/bin/python3 gpufleet_metrics_probe.py --config /etc/gpufleet/metrics-probe.json``
(Python 3 standard library only; Debian 12/13, python3 3.11/3.13). The JSON config (written by the
ollama_metrics role) has optional settings and sections:

- ``deadline``: seconds from the start of the run (float, default 25) by which every instance and nvidia-smi must
  have answered; the role sets it to the timer interval minus a margin, below the unit's ``TimeoutStartSec``;
- ``ollama``: ``{"timeout": 5, "instances": [{"url", "port", "gpu", "gpu_uuid"}]}``; each instance is asked
  ``GET /api/version``, then ``/api/tags`` and ``/api/ps``;
- ``nvidia_smi``: the nvidia-smi path (null or absent: no GPU series), asked once for every GPU with
  ``--query-gpu=... --format=csv,noheader,nounits`` (``nvidia_smi_timeout``, default 10 s);
- ``gateway``: the nginx access log (``log_format ollama``, read incrementally), a state file, certificates
  whose expiry is reported (``openssl x509 -enddate``), histogram ``buckets``, ``max_series`` and
  ``max_read_bytes`` (64 MiB).

Deadline: the unit is killed at ``TimeoutStartSec`` (= the interval), and a killed run would leave the previous file,
``gpufleet_ollama_up 1`` included, so that the instance-down alert never fires (an Ollama that accepts connections
but hangs, ollama/ollama #1378). So every instance is asked in its own thread and nvidia-smi runs in another, all
at once, while the gateway section runs; each HTTP request waits at most min(``timeout``, time left to the
deadline) and nvidia-smi min(``nvidia_smi_timeout``, time left). At the deadline the probe stops waiting: an
instance that has not answered all three reads by then is down, and nvidia-smi still running is killed (its whole
process group) and is ``gpufleet_gpu_up 0``. The file is then written at once, so a run ends a fraction of a second
after the deadline (the gateway section, local file reads and openssl runs also bounded by the deadline, may add
the time to read ``max_read_bytes`` of log).

``gpufleet_ollama_up`` is 1 only when the instance answered all three reads (``/api/version``, ``/api/tags``,
``/api/ps``) with HTTP 200 and a JSON object before the deadline: an instance that answers ``/api/version`` but
hangs or fails on ``/api/tags`` or ``/api/ps`` is not serving its API and is ``up 0``.
``gpufleet_ollama_api_up{endpoint="version"|"tags"|"ps"}`` shows which read answered (1) and which did not (0;
when ``/api/version`` fails, the other two are not tried and are 0 too). An instance that is ``up 0`` has no other
series (no version, response_seconds or model series).

Outputs, in ``textfile_dir``: ``gpufleet_ollama.prom`` (ollama and gpu series) and ``gpufleet_gateway.prom``. A
section that is not configured (neither ``ollama`` nor ``nvidia_smi``; no ``gateway``) has its file removed when
present, so that a host that stopped being, say, a gateway does not export stale series; no other file of the
directory is ever touched. Each file is written atomically (a temp file in the same directory, fsync, os.replace,
mode 0644; the collector reads only ``*.prom``, so it never sees a half-written file) and ends with ``gpufleet_probe_success``,
``gpufleet_probe_timestamp_seconds`` and ``gpufleet_probe_duration_seconds`` labelled ``probe="ollama"|"gateway"``.
One section failing never stops the other. ``gpufleet_probe_success`` is 0 when the probe itself could not do its job
(an internal error, the gateway state not saved); an Ollama instance that is down is ``gpufleet_ollama_up 0`` and
nvidia-smi failing is ``gpufleet_gpu_up 0``, neither a probe failure. The exit status is 1 when a section failed or a
file could not be written, else 0.

Certificates: ``gpufleet_gateway_certificate_read_success{path}`` is 1 or 0 for every configured certificate (0: the
file is missing or unreadable, openssl is missing, or its notAfter cannot be parsed), and
``gpufleet_gateway_certificate_expiry_timestamp_seconds{path}`` is there only for those read.

It never grows files: the outputs have fixed names and are replaced whole; the gateway state holds only the log
position and the counters, bounded like the output (at most ``max_series`` label sets per metric family: label sets
beyond that are folded into ``model="other"``, and when even that would be one too many, into one series whose
labels are all ``other``; label values are cut to 128 characters). The access log is read from the saved offset
only, at most 64 MiB a run (the rest on the next run), never from the start again.

Queue pressure is not observable from Ollama's API (no endpoint reports requests waiting for a runner); the
gateway's 503 counts (``gpufleet_gateway_requests_total{code="503"}``) show it.

Gateway state: counters survive runs in ``state_file`` (JSON: inode, offset, a hash of the log's first bytes,
counters). The first run ever starts at the END of the existing log (no history replay, counters start at 0). A
file is the saved one when both its inode and its first bytes match (a new log can get a freed inode number back).
When the log is no longer the saved file (rotated by logrotate ``create`` + ``delaycompress``, as Debian's nginx
package does), the rest of ``<access_log>.1`` is read first if it is the saved file, then the new log from 0; a log
smaller than the saved offset (truncated) is read from 0. Two rotations between runs lose the unread rest of the
saved file (never counted twice).
A corrupt or unreadable state file starts afresh: the counters restart at 0, which Prometheus ``rate()`` treats as a
counter reset; otherwise counters never decrease. Changing ``buckets`` restarts the histogram the same way.
"""

from __future__ import annotations

import argparse
import calendar
import hashlib
import http.client
import json
import math
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
from stat import S_ISLNK, S_ISREG
from urllib.parse import urlsplit

DEFAULT_TEXTFILE_DIR = "/var/lib/prometheus/node-exporter"
DEFAULT_BUCKETS = [0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300]
DEFAULT_MAX_SERIES = 2000
DEFAULT_DEADLINE = 25.0  # seconds from the start of a run; the role sets it to the timer interval minus a margin
MAX_READ_BYTES = 64 * 1024 * 1024  # access log bytes read per run; the rest waits for the next run
READ_BLOCK = 1024 * 1024
HEAD_BYTES = 4096  # the log's first bytes, hashed in the state: a file that got the saved inode number back differs
MAX_LABEL_CHARS = 128
STATE_VERSION = 1
OTHER = "other"

GPU_FIELDS = ["index", "uuid", "name", "driver_version", "memory.used", "memory.total", "utilization.gpu",
              "temperature.gpu", "power.draw"]

# nginx `log_format ollama` of the ollama_gateway role; keep this pattern in step with it:
#   $remote_addr [$time_local] "$request" $status $body_bytes_sent key=$gw_key_name model=$gw_model
#   upstream=$upstream_addr upstream_status=$upstream_status request_time=$request_time
#   upstream_connect_time=$upstream_connect_time upstream_header_time=$upstream_header_time
# (one line). nginx writes `-` for an empty variable and escapes `"`, `\` and bytes outside 32..126 as \xXX
# (escape=default), so "$request" holds no raw quote; values may hold spaces, hence the non-greedy fields anchored
# on the next `name=`. $upstream_addr lists every server tried: "a:1, b:2" (next upstream) or "a : b" (internal
# redirect); the label is the last one.
LOG_LINE = re.compile(
    r'^(?P<remote>\S+) \[(?P<time>[^\]]*)\] "(?P<request>[^"]*)" (?P<status>\d{3}) (?P<bytes>\S+)'
    r' key=(?P<key>.*?) model=(?P<model>.*?) upstream=(?P<upstream>.*?) upstream_status=(?P<upstream_status>.*?)'
    r' request_time=(?P<request_time>\S+) upstream_connect_time=(?P<connect>.*?)'
    r' upstream_header_time=(?P<header>.*?)\s*$')
UPSTREAM_SEPARATOR = re.compile(r", | : ")

MONTHS = {name: number for number, name in enumerate(
    ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"), 1)}
NOT_AFTER = re.compile(r"^notAfter=(\w{3})\s+(\d{1,2})\s+(\d{2}):(\d{2}):(\d{2})\s+(\d{4})\s+GMT\s*$")

HELP = {
    "gpufleet_probe_success": ("gauge", "1 when the gpufleet metrics probe section ran without error."),
    "gpufleet_probe_timestamp_seconds": ("gauge", "Unix time the gpufleet metrics probe section finished."),
    "gpufleet_probe_duration_seconds": ("gauge", "Seconds the gpufleet metrics probe section took."),
    "gpufleet_ollama_up": ("gauge", "1 when the Ollama instance answered GET /api/version, /api/tags and /api/ps in time."),
    "gpufleet_ollama_api_up": ("gauge", "1 when the Ollama instance answered this read (endpoint version, tags or ps) in time."),
    "gpufleet_ollama_version_info": ("gauge", "Ollama version the instance reports."),
    "gpufleet_ollama_response_seconds": ("gauge", "Wall time of the instance's GET /api/tags."),
    "gpufleet_ollama_models_present": ("gauge", "Models in the instance's store (/api/tags)."),
    "gpufleet_ollama_model_present": ("gauge", "1 for each model in the instance's store (/api/tags)."),
    "gpufleet_ollama_models_loaded": ("gauge", "Models loaded by the instance (/api/ps)."),
    "gpufleet_ollama_model_size_bytes": ("gauge", "Memory size of a loaded model (/api/ps size)."),
    "gpufleet_ollama_model_vram_bytes": ("gauge", "Part of a loaded model in GPU memory (/api/ps size_vram)."),
    "gpufleet_ollama_model_gpu_ratio": ("gauge", "size_vram / size of a loaded model (1 all on GPU, 0 CPU only)."),
    "gpufleet_ollama_model_context_length": ("gauge", "Context length a loaded model runs with (/api/ps)."),
    "gpufleet_gpu_up": ("gauge", "1 when nvidia-smi answered in time."),
    "gpufleet_gpu_info": ("gauge", "GPU name and driver version."),
    "gpufleet_gpu_memory_used_bytes": ("gauge", "GPU memory used (nvidia-smi memory.used)."),
    "gpufleet_gpu_memory_total_bytes": ("gauge", "GPU memory total (nvidia-smi memory.total)."),
    "gpufleet_gpu_utilization_ratio": ("gauge", "GPU utilization, 0..1 (nvidia-smi utilization.gpu)."),
    "gpufleet_gpu_temperature_celsius": ("gauge", "GPU core temperature (nvidia-smi temperature.gpu)."),
    "gpufleet_gpu_power_watts": ("gauge", "GPU power draw (nvidia-smi power.draw)."),
    "gpufleet_gateway_requests_total": ("counter", "Requests the gateway logged, by model, key, upstream and code."),
    "gpufleet_gateway_request_duration_seconds": ("histogram", "Gateway request time (nginx $request_time)."),
    "gpufleet_gateway_log_lines_total": ("counter", "Access log lines read, parsed or not."),
    "gpufleet_gateway_certificate_expiry_timestamp_seconds": ("gauge", "Unix time of the certificate's notAfter."),
    "gpufleet_gateway_certificate_read_success": ("gauge", "1 when the certificate could be read and its notAfter parsed."),
}

INSTANCE_LABELS = ("port", "gpu", "gpu_uuid")
REQUEST_LABELS = ("model", "key", "upstream", "code")
HISTOGRAM_LABELS = ("model", "key", "upstream")


# ---------------------------------------------------------------- text format
def escape_label(value):
    """A label value in the Prometheus text format: backslash, double quote and line feed escaped."""
    return str(value).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def format_value(value):
    """A sample value: integers as they are, floats by repr, +Inf/-Inf/NaN spelled as Prometheus does."""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int):
        return str(value)
    value = float(value)
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    return repr(value)


def clip(value):
    """A label value cut to MAX_LABEL_CHARS (values come from clients' requests and logs)."""
    value = str(value)
    return value if len(value) <= MAX_LABEL_CHARS else value[:MAX_LABEL_CHARS]


def fold_key(series, key, names, limit):
    """The label tuple to count `key` under so that `series` (a dict keyed by label tuples) keeps at most `limit`
    keys: `key` itself while there is room (two places kept for the overflow series), else `key` with
    model="other", else every label "other"."""
    if key in series or len(series) < limit - 2:
        return key
    if "model" in names:
        folded = tuple(OTHER if name == "model" else value for name, value in zip(names, key))
        if folded in series or len(series) < limit - 1:
            return folded
    return tuple(OTHER for dummy in names)


class Family:
    """One metric family: its samples, with at most `limit` label sets (see fold_key).

    `additive` families add the values of folded label sets; the others keep the first value of a label set
    and drop the folded rest (a ratio or a context length does not add up)."""

    def __init__(self, name, names=(), limit=DEFAULT_MAX_SERIES, additive=True):
        self.name, self.names, self.limit, self.additive = name, tuple(names), max(int(limit), 3), additive
        self.series = {}

    def add(self, labels, value):
        """Add a sample; `labels` maps every label name of the family to a value."""
        key = tuple(clip(labels[name]) for name in self.names)
        folded = fold_key(self.series, key, self.names, self.limit)
        if folded not in self.series:
            self.series[folded] = value
        elif self.additive and folded != key:
            self.series[folded] += value

    def render(self):
        """The HELP, TYPE and sample lines (nothing when the family has no samples)."""
        if not self.series:
            return []
        kind, text = HELP[self.name]
        lines = ["# HELP %s %s" % (self.name, text), "# TYPE %s %s" % (self.name, kind)]
        for key, value in self.series.items():
            lines.append(self.name + render_labels(zip(self.names, key)) + " " + format_value(value))
        return lines


def render_labels(pairs):
    pairs = list(pairs)
    if not pairs:
        return ""
    return "{" + ",".join('%s="%s"' % (name, escape_label(value)) for name, value in pairs) + "}"


class Histogram:
    """A histogram family (cumulative `_bucket` lines with `le`, `_sum`, `_count`) from per-bucket counts."""

    def __init__(self, name, names, buckets, series):
        self.name, self.names, self.buckets, self.series = name, tuple(names), buckets, series

    def render(self):
        if not self.series:
            return []
        kind, text = HELP[self.name]
        lines = ["# HELP %s %s" % (self.name, text), "# TYPE %s %s" % (self.name, kind)]
        for key, entry in self.series.items():
            pairs = list(zip(self.names, key))
            cumulative = 0
            for bound, count in zip(self.buckets + [math.inf], entry["counts"]):
                cumulative += count
                lines.append("%s_bucket%s %d" % (self.name, render_labels(pairs + [("le", format_value(float(bound)))]),
                                                 cumulative))
            lines.append("%s_sum%s %s" % (self.name, render_labels(pairs), format_value(float(entry["sum"]))))
            lines.append("%s_count%s %d" % (self.name, render_labels(pairs), entry["count"]))
        return lines


def probe_footer(probe, success, started):
    """The three gpufleet_probe_* families that end every output file."""
    families = []
    for name, value in (("gpufleet_probe_success", 1 if success else 0),
                        ("gpufleet_probe_timestamp_seconds", round(time.time(), 3)),
                        ("gpufleet_probe_duration_seconds", round(time.monotonic() - started, 6))):
        family = Family(name, ("probe",))
        family.add({"probe": probe}, value)
        families.append(family)
    return families


def render(families):
    lines = []
    for family in families:
        lines.extend(family.render())
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------- files
def write_atomic(path, text, mode=0o644):
    """Replace `path` with `text`: temp file in the same directory, fsync, os.replace. The directory is created
    when missing; the temp file is removed when anything fails (the error is raised)."""
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, mode=0o755, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix="." + os.path.basename(path) + ".", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fchmod(handle.fileno(), mode)
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    try:
        dir_fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(dir_fd)
    except OSError:
        pass
    finally:
        os.close(dir_fd)


def command_env():
    env = dict(os.environ)
    env["LC_ALL"] = "C"
    return env


# ---------------------------------------------------------------- ollama
def http_get_json(url, path, timeout):
    """GET url+path, the decoded JSON body (raises OSError, ValueError or http.client errors)."""
    parts = urlsplit(url)
    connection_class = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
    connection = connection_class(parts.hostname, parts.port, timeout=timeout)
    try:
        connection.request("GET", parts.path.rstrip("/") + path, headers={"Accept": "application/json"})
        response = connection.getresponse()
        body = response.read()
        if response.status != 200:
            raise OSError("GET %s: HTTP %d" % (path, response.status))
        return json.loads(body.decode("utf-8"))
    finally:
        connection.close()


# what a failed, refused, timed out or non-Ollama answer raises (socket.timeout is an OSError, JSONDecodeError and
# UnicodeDecodeError are ValueErrors, an unexpected JSON shape gives AttributeError or TypeError)
HTTP_ERRORS = (OSError, ValueError, AttributeError, TypeError, http.client.HTTPException)

# the three reads of an instance, in the order they are asked; "up" = all three answered before the deadline
ENDPOINTS = (("version", "/api/version"), ("tags", "/api/tags"), ("ps", "/api/ps"))


def time_left(deadline_at):
    """Seconds until the monotonic `deadline_at` (0 when past)."""
    return max(deadline_at - time.monotonic(), 0.0)


def instance_labels(instance):
    port = instance.get("port")
    if port is None:
        port = urlsplit(instance["url"]).port or ""
    return {"port": str(port), "gpu": str(instance.get("gpu", "")), "gpu_uuid": str(instance.get("gpu_uuid", ""))}


def ollama_families(limit):
    def family(name, extra=(), additive=True):
        return Family(name, INSTANCE_LABELS + tuple(extra), limit, additive)
    return {
        "up": family("gpufleet_ollama_up"),
        "api_up": family("gpufleet_ollama_api_up", ("endpoint",), additive=False),
        "version": family("gpufleet_ollama_version_info", ("version",)),
        "response": family("gpufleet_ollama_response_seconds"),
        "present_count": family("gpufleet_ollama_models_present"),
        "present": family("gpufleet_ollama_model_present", ("model",)),
        "loaded_count": family("gpufleet_ollama_models_loaded"),
        "size": family("gpufleet_ollama_model_size_bytes", ("model",)),
        "vram": family("gpufleet_ollama_model_vram_bytes", ("model",)),
        "ratio": family("gpufleet_ollama_model_gpu_ratio", ("model",), additive=False),
        "context": family("gpufleet_ollama_model_context_length", ("model",), additive=False),
    }


class InstanceProbe:
    """One instance asked in its own (daemon) thread: /api/version, then /api/tags and /api/ps, each request with
    min(timeout, time left to the deadline). The answers so far are read with `answers()` at any time; a thread
    still waiting at the deadline is abandoned (its late answers are never read)."""

    def __init__(self, url, timeout, deadline_at):
        self.url, self.timeout, self.deadline_at = url, timeout, deadline_at
        self.lock = threading.Lock()
        self.answered = {}  # endpoint -> (decoded body, seconds)
        self.thread = threading.Thread(target=self.run, name="probe " + str(url), daemon=True)

    def ask(self, path):
        left = time_left(self.deadline_at)
        if left <= 0:
            raise OSError("deadline reached before GET " + path)
        return http_get_json(self.url, path, min(self.timeout, left))

    def run(self):
        for endpoint, path in ENDPOINTS:
            started = time.monotonic()
            try:
                body = self.ask(path)
                if not isinstance(body, dict):
                    raise ValueError("GET %s: not a JSON object" % path)
            except HTTP_ERRORS:  # down, refusing, timing out or not Ollama: all the same to a scrape
                if endpoint == "version":
                    return  # not Ollama or not there: the other reads are not tried (they count as failed)
                continue
            with self.lock:
                self.answered[endpoint] = (body, round(time.monotonic() - started, 6))

    def answers(self):
        with self.lock:
            return dict(self.answered)


def add_instance(fam, labels, answers):
    """Fill `fam` from the answers of one instance ({endpoint: (body, seconds)}, those in by the deadline)."""
    for endpoint, dummy in ENDPOINTS:
        fam["api_up"].add(dict(labels, endpoint=endpoint), 1 if endpoint in answers else 0)
    if any(endpoint not in answers for endpoint, dummy in ENDPOINTS):
        fam["up"].add(labels, 0)
        return
    fam["up"].add(labels, 1)
    fam["version"].add(dict(labels, version=str(answers["version"][0].get("version", ""))), 1)
    tags, seconds = answers["tags"]
    tags = [m for m in tags.get("models") or [] if isinstance(m, dict)]
    fam["response"].add(labels, seconds)
    fam["present_count"].add(labels, len(tags))
    for model in tags:
        fam["present"].add(dict(labels, model=str(model.get("name", ""))), 1)
    loaded = [m for m in answers["ps"][0].get("models") or [] if isinstance(m, dict)]
    fam["loaded_count"].add(labels, len(loaded))
    for model in loaded:
        model_labels = dict(labels, model=str(model.get("name", "")))
        size, vram = model.get("size"), model.get("size_vram")
        if isinstance(size, (int, float)):
            fam["size"].add(model_labels, size)
        if isinstance(vram, (int, float)):
            fam["vram"].add(model_labels, vram)
        if isinstance(size, (int, float)) and isinstance(vram, (int, float)) and size > 0:
            fam["ratio"].add(model_labels, min(vram / size, 1.0))
        if isinstance(model.get("context_length"), (int, float)) and model.get("context_length"):
            fam["context"].add(model_labels, model["context_length"])


class GpuProbe:
    """One nvidia-smi run in its own (daemon) thread, in a new session so that the whole process group can be
    killed at the deadline (a wrapper script's children too)."""

    def __init__(self, nvidia_smi, timeout, deadline_at):
        self.nvidia_smi, self.timeout, self.deadline_at = nvidia_smi, timeout, deadline_at
        self.lock = threading.Lock()
        self.process = None
        self.output = None  # stdout text once nvidia-smi exited 0
        self.thread = threading.Thread(target=self.run, name="probe nvidia-smi", daemon=True)

    def run(self):
        command = [self.nvidia_smi, "--query-gpu=" + ",".join(GPU_FIELDS), "--format=csv,noheader,nounits"]
        try:
            with self.lock:
                self.process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                                stderr=subprocess.PIPE, env=command_env(), start_new_session=True)
            try:
                stdout, dummy = self.process.communicate(timeout=min(self.timeout, time_left(self.deadline_at)))
            except subprocess.TimeoutExpired:
                self.kill()
                return
            if self.process.returncode == 0:
                self.output = stdout.decode("utf-8", "replace")
        except (OSError, subprocess.SubprocessError, ValueError):
            return

    def kill(self):
        """Kill nvidia-smi's process group (also when nvidia-smi itself exited but a child of it still holds its
        output open); the group id is the leader's pid, which is not reused while the group has a member."""
        with self.lock:
            process = self.process
        if process is None:
            return
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except OSError:
            pass
        try:
            process.wait(timeout=1)
        except subprocess.TimeoutExpired:  # stuck in the kernel: abandoned with its thread
            pass


def gpu_families(output, limit):
    """The gpufleet_gpu_* families from nvidia-smi's output (None: it did not answer in time)."""
    names = ("gpu", "gpu_uuid")
    up = Family("gpufleet_gpu_up", (), limit)
    info = Family("gpufleet_gpu_info", names + ("name", "driver_version"), limit)
    gauges = [("memory.used", Family("gpufleet_gpu_memory_used_bytes", names, limit), 1048576),
              ("memory.total", Family("gpufleet_gpu_memory_total_bytes", names, limit), 1048576),
              ("utilization.gpu", Family("gpufleet_gpu_utilization_ratio", names, limit), 0.01),
              ("temperature.gpu", Family("gpufleet_gpu_temperature_celsius", names, limit), 1),
              ("power.draw", Family("gpufleet_gpu_power_watts", names, limit), 1)]
    up.add({}, 0 if output is None else 1)
    for line in (output or "").splitlines():
        fields = [field.strip() for field in line.split(",")]
        if len(fields) != len(GPU_FIELDS):
            continue
        row = dict(zip(GPU_FIELDS, fields))
        labels = {"gpu": row["index"], "gpu_uuid": row["uuid"]}
        info.add(dict(labels, name=row["name"], driver_version=row["driver_version"]), 1)
        for field, family, scale in gauges:
            number = parse_reading(row[field])
            if number is not None:
                value = number * scale
                family.add(labels, int(value) if scale == 1048576 and value.is_integer() else value)
    return [up, info] + [family for dummy, family, dummy2 in gauges]


def parse_reading(text):
    """A numeric nvidia-smi reading, None for `[N/A]`, `[Not Supported]` or anything else not a number."""
    try:
        value = float(text)
    except ValueError:
        return None
    return None if math.isnan(value) or math.isinf(value) else value


def start_ollama(config, limit, deadline_at):
    """Start asking every instance and nvidia-smi at once; returns collect(), which waits for them until
    `deadline_at` (no longer) and returns the families of gpufleet_ollama.prom. Whatever has not answered by then
    is down (instances up 0, gpu_up 0; nvidia-smi is killed)."""
    section = config.get("ollama") or {}
    timeout = float(section.get("timeout", 5))
    instances = [(instance_labels(instance), InstanceProbe(instance["url"], timeout, deadline_at))
                 for instance in section.get("instances") or []]
    gpu = None
    if config.get("nvidia_smi"):
        gpu = GpuProbe(config["nvidia_smi"], float(config.get("nvidia_smi_timeout", 10)), deadline_at)
    for thread in [asker.thread for dummy, asker in instances] + ([gpu.thread] if gpu else []):
        thread.start()

    def collect():
        for thread in [asker.thread for dummy, asker in instances] + ([gpu.thread] if gpu else []):
            thread.join(time_left(deadline_at))
        families = []
        if config.get("ollama"):
            fam = ollama_families(limit)
            for labels, asker in instances:
                add_instance(fam, labels, asker.answers())
            families.extend(fam.values())
        if gpu is not None:
            late = gpu.thread.is_alive()
            if late:
                gpu.kill()
            families.extend(gpu_families(None if late else gpu.output, limit))
        return families

    return collect


# ---------------------------------------------------------------- gateway
def last_upstream(value):
    """The last address of $upstream_addr ("a:1, b:2" or "a : b"); `-` stays `-`."""
    value = value.strip()
    if not value:
        return "-"
    return UPSTREAM_SEPARATOR.split(value)[-1].strip() or "-"


def parse_line(line):
    """(model, key, upstream, code, request_time) of an access log line, or None."""
    match = LOG_LINE.match(line)
    if not match:
        return None
    try:
        seconds = float(match.group("request_time"))
    except ValueError:
        return None
    if math.isnan(seconds) or seconds < 0:
        return None
    return (match.group("model") or "-", match.group("key") or "-", last_upstream(match.group("upstream")),
            match.group("status"), seconds)


class GatewayState:
    """Log position and counters, as saved in the state file."""

    def __init__(self, buckets, limit):
        self.buckets, self.limit = buckets, limit
        self.inode, self.offset = None, 0
        self.head_length, self.head_hash = 0, None
        self.requests = {}
        self.histogram = {}
        self.lines = {"parsed": 0, "unparsed": 0}

    @classmethod
    def load(cls, path, buckets, limit):
        """The saved state, or None when there is none or it cannot be used (corrupt: start afresh)."""
        try:
            with open(path, encoding="utf-8") as handle:
                data = json.load(handle)
            if data.get("version") != STATE_VERSION:
                return None
            state = cls(buckets, limit)
            state.inode, state.offset = int(data["inode"]), int(data["offset"])
            state.head_length, state.head_hash = int(data["head"][0]), data["head"][1]
            if state.offset < 0 or not 0 <= state.head_length <= HEAD_BYTES:
                return None
            state.lines = {"parsed": int(data["lines"]["parsed"]), "unparsed": int(data["lines"]["unparsed"])}
            for row in data["requests"][:limit]:
                state.requests[tuple(str(v) for v in row[:4])] = int(row[4])
            if [float(b) for b in data.get("buckets", [])] == buckets:
                for row in data["histogram"][:limit]:
                    counts = [int(c) for c in row[3]]
                    if len(counts) != len(buckets) + 1:
                        raise ValueError("bucket counts")
                    state.histogram[tuple(str(v) for v in row[:3])] = {
                        "counts": counts, "sum": float(row[4]), "count": int(row[5])}
            return state
        except (OSError, ValueError, KeyError, TypeError, IndexError, AttributeError):
            return None

    def dump(self):
        return json.dumps({
            "version": STATE_VERSION, "inode": self.inode, "offset": self.offset,
            "head": [self.head_length, self.head_hash], "lines": self.lines,
            "buckets": self.buckets,
            "requests": [list(key) + [count] for key, count in self.requests.items()],
            "histogram": [list(key) + [entry["counts"], entry["sum"], entry["count"]]
                          for key, entry in self.histogram.items()],
        }, separators=(",", ":")) + "\n"

    def count(self, line):
        parsed = parse_line(line)
        if parsed is None:
            self.lines["unparsed"] += 1
            return
        self.lines["parsed"] += 1
        model, key, upstream, code, seconds = (clip(parsed[0]), clip(parsed[1]), clip(parsed[2]), parsed[3],
                                               parsed[4])
        request_key = fold_key(self.requests, (model, key, upstream, code), REQUEST_LABELS, self.limit)
        self.requests[request_key] = self.requests.get(request_key, 0) + 1
        histogram_key = fold_key(self.histogram, (model, key, upstream), HISTOGRAM_LABELS, self.limit)
        entry = self.histogram.get(histogram_key)
        if entry is None:
            entry = self.histogram[histogram_key] = {"counts": [0] * (len(self.buckets) + 1), "sum": 0.0, "count": 0}
        index = len(self.buckets)
        for position, bound in enumerate(self.buckets):
            if seconds <= bound:
                index = position
                break
        entry["counts"][index] += 1
        entry["sum"] += seconds
        entry["count"] += 1

    def read(self, path, offset, budget, final):
        """Count the complete lines of `path` from `offset`, reading at most `budget` bytes. `final`: the file
        grows no more (a rotated log), so a last line without a newline counts too. (new offset, bytes used)."""
        used = 0
        with open(path, "rb") as handle:
            handle.seek(offset)
            pending = b""
            while used < budget:
                block = handle.read(min(READ_BLOCK, budget - used))
                if not block:
                    break
                used += len(block)
                lines = (pending + block).split(b"\n")
                pending = lines.pop()
                for raw in lines:
                    self.count(raw.decode("utf-8", "replace"))
                    offset += len(raw) + 1
            if pending:
                at_end = not handle.read(1)
                if (final and at_end) or len(pending) >= budget:
                    # a rotated log's unterminated last line, or one line longer than a whole run's budget
                    self.count(pending.decode("utf-8", "replace"))
                    offset += len(pending)
        return offset, used


def fingerprint(path, length):
    """sha256 of the first `length` bytes of `path` (None when it has fewer): the log's head never changes, so it
    tells the saved file from a new one that got the same inode number back."""
    with open(path, "rb") as handle:
        head = handle.read(length)
    return hashlib.sha256(head).hexdigest() if len(head) == length else None


def is_saved_file(state, path, stat):
    return stat.st_ino == state.inode and fingerprint(path, state.head_length) == state.head_hash


def remember(state, path):
    """Save the fingerprint of the file `state` now points into."""
    state.head_length = min(state.offset, HEAD_BYTES)
    state.head_hash = fingerprint(path, state.head_length)


def follow_log(state, log_path, budget=MAX_READ_BYTES):
    """Advance `state` over the new lines of the access log (rotation and truncation handled)."""
    try:
        current = os.stat(log_path)
    except FileNotFoundError:
        if state.inode is None:  # no log yet: the one that appears later is new, read from its start
            state.inode, state.offset = 0, 0
            state.head_length, state.head_hash = 0, hashlib.sha256(b"").hexdigest()
        return
    if state.inode is None:  # first run ever: start at the end, no history replay
        state.inode, state.offset = current.st_ino, current.st_size
        remember(state, log_path)
        return
    if not is_saved_file(state, log_path, current):
        rotated = log_path + ".1"
        try:
            rotated_stat = os.stat(rotated)
        except FileNotFoundError:
            rotated_stat = None
        if rotated_stat is not None and is_saved_file(state, rotated, rotated_stat):
            offset = state.offset if state.offset <= rotated_stat.st_size else 0
            offset, used = state.read(rotated, offset, budget, final=True)
            budget -= used
            state.offset = offset
            if offset < os.stat(rotated).st_size:
                return  # budget spent inside the rotated log: continue there next run
        state.inode, state.offset = current.st_ino, 0
    elif current.st_size < state.offset:  # truncated in place
        state.offset = 0
    if budget > 0:
        state.offset, dummy = state.read(log_path, state.offset, budget, final=False)
    remember(state, log_path)


def certificate_expiry(path, openssl="openssl", timeout=10):
    """Unix time of the certificate's notAfter, None when it cannot be read (no file, no openssl, no time left,
    openssl failing or its answer not understood)."""
    if not os.path.isfile(path) or timeout <= 0:
        return None
    try:
        result = subprocess.run([openssl, "x509", "-noout", "-enddate", "-in", path], stdin=subprocess.DEVNULL,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=command_env(), timeout=timeout,
                                check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    if result.returncode != 0:
        return None
    return parse_not_after(result.stdout.decode("ascii", "replace").strip())


def parse_not_after(text):
    """`notAfter=Jan  1 00:00:00 2027 GMT` (openssl's ASN1_TIME_print, C locale) as Unix time, else None."""
    match = NOT_AFTER.match(text)
    if not match or match.group(1) not in MONTHS:
        return None
    month = MONTHS[match.group(1)]
    day, hour, minute, second, year = (int(match.group(n)) for n in (2, 3, 4, 5, 6))
    try:
        return calendar.timegm((year, month, day, hour, minute, second, 0, 0, 0))
    except (ValueError, OverflowError):
        return None


def run_gateway(section, limit, deadline_at=None):
    """(families, success) for gpufleet_gateway.prom. The certificates are read first, each openssl run limited to
    min(10 s, time left to `deadline_at`)."""
    if deadline_at is None:
        deadline_at = time.monotonic() + DEFAULT_DEADLINE
    limit = max(int(section.get("max_series", limit)), 3)
    buckets = sorted(float(b) for b in (section.get("buckets") or DEFAULT_BUCKETS))
    expiry = Family("gpufleet_gateway_certificate_expiry_timestamp_seconds", ("path",), limit)
    readable = Family("gpufleet_gateway_certificate_read_success", ("path",), limit, additive=False)
    for path in section.get("certificates") or []:
        value = certificate_expiry(path, section.get("openssl", "openssl"), min(10.0, time_left(deadline_at)))
        readable.add({"path": path}, 0 if value is None else 1)
        if value is not None:
            expiry.add({"path": path}, value)
    success = True
    families = []
    log_path, state_path = section.get("access_log"), section.get("state_file")
    if log_path and state_path:
        state = GatewayState.load(state_path, buckets, limit) or GatewayState(buckets, limit)
        try:
            follow_log(state, log_path, int(section.get("max_read_bytes", MAX_READ_BYTES)))
        except OSError as exc:
            print("gateway access log %s: %s" % (log_path, exc), file=sys.stderr)
            success = False
        try:
            write_atomic(state_path, state.dump(), 0o644)
        except OSError as exc:
            print("gateway state %s: %s" % (state_path, exc), file=sys.stderr)
            success = False
        requests = Family("gpufleet_gateway_requests_total", REQUEST_LABELS, limit)
        requests.series = dict(state.requests)
        lines = Family("gpufleet_gateway_log_lines_total", ("result",), limit)
        for result in ("parsed", "unparsed"):
            lines.add({"result": result}, state.lines[result])
        families += [requests, Histogram("gpufleet_gateway_request_duration_seconds", HISTOGRAM_LABELS, buckets,
                                         state.histogram), lines]
    families += [expiry, readable]
    return families, success


# ---------------------------------------------------------------- main
def parse_deadline(config):
    """The config's `deadline` (seconds from the start of the run, > 0), else DEFAULT_DEADLINE."""
    value = config.get("deadline")
    if value is None:
        return DEFAULT_DEADLINE
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        seconds = math.nan
    if isinstance(value, bool) or not 0 < seconds < math.inf:
        print("config deadline %r: not a positive number of seconds, %s used" % (value, DEFAULT_DEADLINE),
              file=sys.stderr)
        return DEFAULT_DEADLINE
    return seconds


def run_section(probe, path, build, started=None):
    """Run one section and write its file; False when the section or the write failed. `started`: the monotonic
    time the section's work began (its duration is measured from it)."""
    if started is None:
        started = time.monotonic()
    try:
        families, success = build()
    except Exception as exc:  # pylint: disable=broad-exception-caught  # one section's bug never stops the other
        print("%s probe failed: %r" % (probe, exc), file=sys.stderr)
        families, success = [], False
    text = render(families + probe_footer(probe, success, started))
    try:
        write_atomic(path, text)
    except OSError as exc:
        print("cannot write %s: %s" % (path, exc), file=sys.stderr)
        return False
    return success


def remove_stale(path):
    """Remove the output file of a section that is no longer configured (only that file: a regular file or a
    symlink of that name; nothing else in the directory). False when it exists and cannot be removed."""
    try:
        stat = os.lstat(path)
    except FileNotFoundError:
        return True
    except OSError as exc:
        print("cannot check %s: %s" % (path, exc), file=sys.stderr)
        return False
    if not (S_ISREG(stat.st_mode) or S_ISLNK(stat.st_mode)):
        return True  # a directory or the like is not an output of the probe (the collector reads only files)
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
    except OSError as exc:
        print("cannot remove %s: %s" % (path, exc), file=sys.stderr)
        return False
    return True


def raiser(exc):
    """A function that raises `exc` (a section that failed to start fails when it is collected)."""
    def collect():
        raise exc
    return collect


def main(argv=None):
    started = time.monotonic()
    parser = argparse.ArgumentParser(description="gpufleet metrics probe (node-exporter textfile collector)")
    parser.add_argument("--config", default="/etc/gpufleet/metrics-probe.json")
    args = parser.parse_args(argv)
    try:
        with open(args.config, encoding="utf-8") as handle:
            config = json.load(handle)
        if not isinstance(config, dict):
            raise ValueError("not a JSON object")
    except (OSError, ValueError) as exc:
        print("config %s: %s" % (args.config, exc), file=sys.stderr)
        return 2
    deadline_at = started + parse_deadline(config)
    directory = config.get("textfile_dir") or DEFAULT_TEXTFILE_DIR
    limit = max(int(config.get("max_series") or DEFAULT_MAX_SERIES), 3)
    ollama_path = os.path.join(directory, "gpufleet_ollama.prom")
    gateway_path = os.path.join(directory, "gpufleet_gateway.prom")
    ok = True
    collect_ollama = None
    if config.get("ollama") or config.get("nvidia_smi"):
        # the instances and nvidia-smi are asked in threads while the gateway section runs here
        try:
            collect_ollama = start_ollama(config, limit, deadline_at)
        except Exception as exc:  # pylint: disable=broad-exception-caught  # reported by run_section below
            collect_ollama = raiser(exc)
    else:
        ok = remove_stale(ollama_path) and ok
    if config.get("gateway"):
        ok = run_section("gateway", gateway_path, lambda: run_gateway(config["gateway"], limit, deadline_at)) and ok
    else:
        ok = remove_stale(gateway_path) and ok
    if collect_ollama is not None:
        ok = run_section("ollama", ollama_path, lambda: (collect_ollama(), True), started) and ok
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
