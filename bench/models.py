# -*- coding: utf-8 -*-
# Copyright (c) 2026, gpufleet maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Model placement benchmarks against the lab (scripts/lab): fan-out vs push, re-run cost, peak extra disk.

    python3 bench/models.py                  all three cases, on a lab of (at least) 6 GPU nodes
    python3 bench/models.py --setup          first `scripts/lab up --nodes 6` and `scripts/lab converge` when the
                                             lab has fewer GPU nodes (without it: exit 2 and the command to run)
    python3 bench/models.py --only fanout    one case (fanout: fan-out vs push, rerun, disk)

Normally run through `bench/run models`. What each case does, exactly, is in docs/performance.md (rendered by
bench/report.py from the METHOD text below and the settings of the run):

- fanout: a bundle model of --size-mib (bench-1g:latest) is deleted on every node and placed again by
  bench/models-place.yml, once with ollama_models_fanout_width=1 (the fan-out, ceil(log2(N+1)) waves) and once
  with width N (push: the controller feeds every node in one wave). Every GPU node's egress is limited with
  `tc ... tbf rate --rate`; the controller's pushes travel through `docker exec -i` pipes (the lab's Ansible
  connection), which no qdisc sees, so they are limited with rsync --bwlimit to the same rate shared by the nodes
  the controller feeds at once (the rate in the fan-out, rate/N each in the push).
- rerun: bench-64m and bench-4g placed once (untimed, no limit), then the placement play for each alone,
  alternating A B A B A B: nothing moves, so the time must not grow with the model's size.
- disk: the 1 GiB model deleted on two nodes and placed again while a sampler in each node sums the allocated
  blocks under the models dir every 0.2 s: the peak above (before + model size) is the extra disk.

Results: bench/results/models.json (summary, committed), bench/results/raw/models-<UTC>.json (every task span,
transfer and disk sample) and bench/results/raw/models-<UTC>/ (the ansible-playbook logs); neither raw is
committed. Traffic goes only to the lab's containers; every command has a timeout, the qdiscs are removed and
(unless --keep-models) the benchmark's models deleted from the nodes at the end, also after a failure or Ctrl-C.
Exit status: 0 all cases ran, 1 a case failed (the results say which), 2 the lab or the machine is not ready.
"""

import argparse
import datetime
import json
import os
import platform
import re
import signal
import statistics
import subprocess
import sys
import threading
import time
import traceback
import urllib.error
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RESULTS = os.path.join(ROOT, "bench", "results")
PLAYBOOK = os.path.join("bench", "models-place.yml")
INVENTORY = os.path.join("inventories", "lab")
LAB_LABEL = "gpufleet.lab=lab"
BACKEND_NET = "gpufleet-lab-backend"
BACKEND_PREFIX = "172.30.110."  # the lab's backend network: the only addresses this benchmark talks to
NODE_NAME = re.compile(r"^gpu-node-(\d+)$")
MIB = 1 << 20
MODEL_FANOUT, MODEL_SMALL, MODEL_LARGE = "bench-1g:latest", "bench-64m:latest", "bench-4g:latest"
CASES = ("fanout", "rerun", "disk")
GOALS = {"fanout_to_limit": 1.25, "rerun_large_to_small": 1.05, "disk_extra_fraction": 0.0}
INCOMING = ".gpufleet-incoming"  # roles/ollama_models/vars/main.yml __ollama_models_incoming, below the models dir

# Task names of roles/ollama_models (place.yml, wave.yml), as the default callback prints them in its banners.
TASK_PLACE_START = "Find what each node lacks"
TASK_WAVE_START = "Create the incoming directory"
TASK_FETCH = "Fetch from a node or the depot host"
TASK_PUSH = ("Write the list of files to push from the controller", "Push from the controller")
TASK_ACTIVATE = "Verify the new blobs, move them into the store"
TASK_NOTE = "Note the transfer"
PLAY_ROLE = "Place the benchmark's models"
BANNER = re.compile(r"^(PLAY RECAP|RUNNING HANDLER|TASK|PLAY)(?: \[(.*)\])? ?\*{3,}\s*$")

# Runs inside a node (python3 is there for Ansible): every interval, the allocated bytes, apparent bytes and number
# of entries under the models dir, each inode counted once (a blob renamed from the incoming directory into blobs/
# during the walk is not counted twice). It stops when the stop file exists or after the time limit.
SAMPLER = r"""
import os, sys, time
root, stop, interval, end = sys.argv[1], sys.argv[2], float(sys.argv[3]), time.time() + float(sys.argv[4])
while time.time() < end and not os.path.exists(stop):
    seen, alloc, apparent, entries = set(), 0, 0, 0
    for top, dirs, names in os.walk(root):
        for name in dirs + names:
            try:
                st = os.lstat(os.path.join(top, name))
            except OSError:
                continue
            if (st.st_dev, st.st_ino) not in seen:
                seen.add((st.st_dev, st.st_ino))
                alloc += st.st_blocks * 512
                apparent += st.st_size
                entries += 1
    print("%.3f %d %d %d" % (time.time(), alloc, apparent, entries), flush=True)
    time.sleep(interval)
"""


class NotReady(Exception):
    """The lab or this machine is not ready: exit 2 with the message (it says what to run)."""


class CaseFailed(Exception):
    """One case could not be measured; the others still run."""


def log(msg):
    print("[bench %s] %s" % (time.strftime("%H:%M:%S"), msg), file=sys.stderr, flush=True)


def sh(argv, timeout=60, check=True, stdin=None):
    """Run a command, return its stdout (stripped); raise RuntimeError with its stderr when it fails."""
    try:
        proc = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, check=False, input=stdin)
    except subprocess.TimeoutExpired:
        raise RuntimeError("%s: no answer within %d s" % (" ".join(argv[:6]), timeout)) from None
    if check and proc.returncode != 0:
        raise RuntimeError("%s: exit %d: %s" % (" ".join(argv[:6]), proc.returncode,
                                                (proc.stderr or proc.stdout).strip()[-400:]))
    return proc.stdout.strip()


# ============================================================================ pure parts (bench/tests/test_models.py)
_RATE_UNITS = {"": 1, "bit": 1, "kbit": 1e3, "mbit": 1e6, "gbit": 1e9, "tbit": 1e12,
               "kibit": 1024, "mibit": 1024 ** 2, "gibit": 1024 ** 3, "tibit": 1024 ** 4,
               "bps": 8, "kbps": 8e3, "mbps": 8e6, "gbps": 8e9, "tbps": 8e12,
               "kibps": 8 * 1024, "mibps": 8 * 1024 ** 2, "gibps": 8 * 1024 ** 3, "tibps": 8 * 1024 ** 4}


def parse_rate(text):
    """A tc rate (tc(8) units: 'bit' or a bare number is bits/s, 'bps' BYTES/s, SI and IEC prefixes) -> bits/s."""
    match = re.match(r"^\s*([0-9]+(?:\.[0-9]+)?)\s*([a-zA-Z]*)\s*$", str(text))
    if not match or match.group(2).lower() not in _RATE_UNITS:
        raise ValueError("not a tc rate: %r (examples: 400mbit, 1gbit, 50mbps)" % (text,))
    bits = float(match.group(1)) * _RATE_UNITS[match.group(2).lower()]
    if bits <= 0:
        raise ValueError("the rate must be above 0: %r" % (text,))
    return bits


def min_waves(nodes):
    """ceil(log2(nodes + 1)): the waves a fan-out of width 1 from one origin needs to reach every node."""
    return int(nodes).bit_length()


def plan_waves(nodes, width, holders=0):
    """How many waves roles/ollama_models takes (filter ollama_fanout_waves: the origin and every holder feed
    `width` targets per wave) for `nodes` targets."""
    if width < 1:
        raise ValueError("width must be at least 1")
    have, pending, waves = 1 + holders, nodes, 0
    while pending > 0:
        sent = min(pending, have * width)
        pending -= sent
        have += sent
        waves += 1
    return waves


def bwlimit_kib(rate_bits, share=1):
    """rsync --bwlimit (KiB/s, units of 1024 bytes) for one of `share` transfers sharing a link of rate_bits/s."""
    kib = int(rate_bits / 8 / 1024 / share)
    if kib < 1:
        raise ValueError("a link of %d bit/s shared %d ways is below rsync's 1 KiB/s" % (rate_bits, share))
    return kib


def transfer_seconds(size_bytes, rate_bits):
    return size_bytes * 8.0 / rate_bits


def backend_iface(ip_addr_output, address):
    """The interface holding `address`, from `ip -o -4 addr show` ("2: eth0    inet 172.30.110.11/24 ...")."""
    for line in ip_addr_output.splitlines():
        match = re.match(r"^\d+:\s+(\S+)\s+inet\s+([0-9.]+)/", line)
        if match and match.group(2) == address:
            return match.group(1).split("@", 1)[0]
    return None


def banner_events(lines):
    """[(t, kind, name)] from timestamped ansible-playbook lines [(t, text)]: the default callback prints a banner
    when a task (or handler, or play) starts, so a task ends when the next banner appears."""
    events = []
    for t, text in lines:
        match = BANNER.match(text)
        if match:
            events.append((t, match.group(1), (match.group(2) or "").strip()))
    return events


def task_spans(events, end):
    """Each TASK or RUNNING HANDLER banner as {name, start, end, s}, its end the next banner (or `end`)."""
    spans = []
    for i, (t, kind, name) in enumerate(events):
        if kind not in ("TASK", "RUNNING HANDLER"):
            continue
        stop = events[i + 1][0] if i + 1 < len(events) else end
        spans.append({"name": name.split(" : ", 1)[-1], "start": round(t, 3), "end": round(stop, 3),
                      "s": round(stop - t, 3)})
    return spans


def play_span(events, end, name):
    """Seconds from the banner of the play `name` to the next play banner (or the recap, or `end`)."""
    for i, (t, kind, title) in enumerate(events):
        if kind == "PLAY" and title == name:
            nxt = next((e[0] for e in events[i + 1:] if e[1] in ("PLAY", "PLAY RECAP")), end)
            return round(nxt - t, 3)
    return None


def _is(name, prefixes):
    prefixes = (prefixes,) if isinstance(prefixes, str) else prefixes
    return any(name.startswith(p) for p in prefixes)


def wave_breakdown(spans):
    """The placement of one model from the role's task spans: {place_s, waves: [{wave, start, s, fetch_s, push_s,
    activate_s}], transfer_s, activate_s}. place_s runs from the plan ("Find what each node lacks") to the end of
    the last wave; None when the role placed nothing (no wave task ran) or its task names changed."""
    place_start, waves = None, []
    wave_tasks = (TASK_WAVE_START, TASK_FETCH, TASK_ACTIVATE, TASK_NOTE) + TASK_PUSH
    for span in spans:
        name = span["name"]
        if place_start is None and _is(name, TASK_PLACE_START):
            place_start = span["start"]
        if _is(name, TASK_WAVE_START):
            waves.append({"wave": len(waves) + 1, "start": span["start"], "end": span["end"],
                          "fetch_s": 0.0, "push_s": 0.0, "activate_s": 0.0})
        elif waves and _is(name, wave_tasks):
            wave = waves[-1]
            wave["end"] = span["end"]
            key = "fetch_s" if _is(name, TASK_FETCH) else "push_s" if _is(name, TASK_PUSH) else \
                "activate_s" if _is(name, TASK_ACTIVATE) else None
            if key:
                wave[key] = round(wave[key] + span["s"], 3)
    for wave in waves:
        wave["s"] = round(wave["end"] - wave["start"], 3)
    out = {"place_s": None, "waves": waves,
           "transfer_s": round(sum(w["fetch_s"] + w["push_s"] for w in waves), 3),
           "activate_s": round(sum(w["activate_s"] for w in waves), 3)}
    if waves and place_start is not None:
        out["place_s"] = round(waves[-1]["end"] - place_start, 3)
    return out


def transfer_summary(facts, model):
    """From bench/models-place.yml's facts file: every transfer of `model` as {target, source, wave, bytes} and the
    number of waves (the highest wave number any node noted). bytes: rsync's literal data (the file bytes that
    crossed, the same for the sender and the receiver), None when the role noted no rsync statistics."""
    model_key = _model_key(model)
    rows = []
    for host, transfers in sorted((facts or {}).get("transfers", {}).items()):
        for tr in transfers or []:
            if _model_key(tr.get("model", "")) != model_key:
                continue
            stats = tr.get("stats") or {}
            rows.append({"target": host, "source": tr.get("source"), "wave": tr.get("wave"),
                         "bytes": stats.get("literal_data")})
    rows.sort(key=lambda r: (r["wave"] or 0, r["target"]))
    return {"transfers": rows, "waves": max((r["wave"] or 0 for r in rows), default=0)}


def _model_key(name):
    name = str(name).lower()
    return name if ":" in name.rsplit("/", 1)[-1] else name + ":latest"


def node_statuses(facts, model):
    """{host: status} of `model` in every node's ollama_models_result (placed, in place, MISSING, ...)."""
    out = {}
    for host, result in sorted((facts or {}).get("results", {}).items()):
        rows = (result or {}).get("models") or []
        row = next((r for r in rows if _model_key(r.get("name", "")) == _model_key(model)), None)
        out[host] = row.get("status") if row else None
    return out


def median(values):
    values = [v for v in values if v is not None]
    return round(statistics.median(values), 3) if values else None


def ratio(a, b, digits=3):
    return round(a / b, digits) if a is not None and b else None


def alternate(models, reps):
    """A B A B ...: `reps` rounds of every model in turn."""
    return [(rep, m) for rep in range(reps) for m in models]


def parse_samples(text):
    """The sampler's lines 't alloc apparent entries' -> [(t, alloc, apparent, entries)]; partial lines are dropped."""
    out = []
    for line in text.splitlines():
        parts = line.split()
        if len(parts) == 4:
            try:
                out.append((float(parts[0]), int(parts[1]), int(parts[2]), int(parts[3])))
            except ValueError:
                continue
    return out


def disk_extra(samples, t_start, t_end, size):
    """Peak extra disk of one node: before = median of the samples before the play started, after = median of
    those after it ended, peak = the largest of all; extra = peak - (before + size), also as a fraction of size.
    Both for allocated blocks (the result) and apparent sizes."""
    before = [s for s in samples if s[0] < t_start]
    after = [s for s in samples if s[0] > t_end]
    if not before or not after:
        return {"status": "too few samples (%d before the play, %d after it)" % (len(before), len(after)),
                "samples": len(samples)}
    out = {"status": "ran", "samples": len(samples),
           "during": len([s for s in samples if t_start <= s[0] <= t_end]),
           "interval_s": round((samples[-1][0] - samples[0][0]) / max(1, len(samples) - 1), 3)}
    for key, col in (("alloc", 1), ("apparent", 2)):
        b = int(statistics.median(s[col] for s in before))
        a = int(statistics.median(s[col] for s in after))
        peak = max(samples, key=lambda s, c=col: s[c])
        extra = peak[col] - (b + size)
        out[key] = {"before": b, "after": a, "grown": a - b, "peak": peak[col],
                    "peak_at_s": round(peak[0] - t_start, 2), "extra": extra, "extra_fraction": round(extra / size, 4),
                    "peak_over_after": peak[col] - a}
    return out


# ============================================================================ the lab
class Lab:
    """The GPU nodes scripts/lab started (containers gpu-node-N labelled gpufleet.lab=lab, group gpu_nodes)."""

    def __init__(self, models_dir):
        self.models_dir = models_dir
        try:
            rows = sh(["docker", "ps", "--filter", "label=" + LAB_LABEL, "--filter", "label=gpufleet.group=gpu_nodes",
                       "--format", "{{.Names}}"], timeout=30)
        except (RuntimeError, OSError) as exc:
            raise NotReady("docker does not answer (%s): start the lab with scripts/lab up --nodes 6" % exc) from None
        names = sorted((n for n in rows.split() if NODE_NAME.match(n)), key=lambda n: int(NODE_NAME.match(n).group(1)))
        self.nodes = []
        for name in names:
            nets = json.loads(sh(["docker", "inspect", "-f", "{{json .NetworkSettings.Networks}}", name]))
            address = (nets.get(BACKEND_NET) or {}).get("IPAddress") or ""
            if not address.startswith(BACKEND_PREFIX):
                raise NotReady("%s has no address on %s (%r): not a lab node" % (name, BACKEND_NET, address))
            units = sh(["docker", "exec", name, "systemctl", "list-units", "--all", "--plain", "--no-legend",
                        "ollama@*.service"], check=False)
            ports = sorted(int(m) for m in re.findall(r"ollama@(\d+)\.service", units))
            self.nodes.append({"name": name, "address": address, "ports": ports, "iface": None, "qdisc": None})

    def node(self, name):
        return next(n for n in self.nodes if n["name"] == name)

    def describe(self):
        return {"nodes": [{k: n[k] for k in ("name", "address", "ports", "iface")} for n in self.nodes],
                "gpu_nodes": len(self.nodes), "models_dir": self.models_dir}

    # ------------------------------------------------------------------ link limit
    def limit_links(self, rate, burst, latency):
        """tbf on the backend interface of every node (egress); returns the command as recorded."""
        for node in self.nodes:
            out = sh(["docker", "exec", node["name"], "ip", "-o", "-4", "addr", "show"])
            node["iface"] = backend_iface(out, node["address"])
            if not node["iface"]:
                raise CaseFailed("%s: no interface holds %s (ip -o -4 addr show: %s)" % (node["name"], node["address"],
                                                                                     out[:200]))
            argv = ["tc", "qdisc", "replace", "dev", node["iface"], "root", "tbf", "rate", rate, "burst", burst,
                    "latency", latency]
            try:
                sh(["docker", "exec", node["name"]] + argv)
            except RuntimeError as exc:
                raise CaseFailed("%s: %s failed (%s); the lab's containers need NET_ADMIN (scripts/lab gives it) "
                                 "and the host kernel the tbf qdisc (sch_tbf)" % (node["name"], " ".join(argv), exc))
            node["qdisc"] = sh(["docker", "exec", node["name"], "tc", "qdisc", "show", "dev", node["iface"]])
            if " tbf " not in " %s " % node["qdisc"]:
                raise CaseFailed("%s: tc shows no tbf qdisc after adding it: %s" % (node["name"], node["qdisc"]))
        return "tc qdisc replace dev <backend interface> root tbf rate %s burst %s latency %s" % (rate, burst, latency)

    def clear_links(self):
        """Remove a tbf root qdisc from every node's backend interface (what limit_links or an earlier, interrupted
        run left); any other qdisc is left alone. Never raises."""
        for node in self.nodes:
            try:
                iface = node["iface"] or backend_iface(
                    sh(["docker", "exec", node["name"], "ip", "-o", "-4", "addr", "show"], timeout=20), node["address"])
                if iface and " tbf " in " %s " % sh(["docker", "exec", node["name"], "tc", "qdisc", "show", "dev",
                                                     iface], timeout=20):
                    sh(["docker", "exec", node["name"], "tc", "qdisc", "del", "dev", iface, "root"], timeout=20)
                    log("%s: tbf qdisc removed from %s" % (node["name"], iface))
            except (RuntimeError, OSError) as exc:
                log("WARNING %s: could not remove the tbf qdisc: %s (remove it with: docker exec %s tc qdisc del "
                    "dev eth0 root)" % (node["name"], exc, node["name"]))

    # ------------------------------------------------------------------ models on the nodes
    def delete_model(self, name, unique_blobs, nodes=None):
        """Delete a model on each node as ollama_model state=absent does (DELETE /api/delete on the node's first
        instance: the server removes its manifest and the blobs no other model uses), then the role's incoming
        directory, and any blob of the model the server left. Returns {node: what was done}."""
        done = {}
        for node in nodes or self.nodes:
            if not node["ports"]:
                raise CaseFailed("%s runs no ollama@ instance: converge the lab (scripts/lab converge)" % node["name"])
            body = json.dumps({"model": name}).encode()
            url = "http://%s:%d/api/delete" % (node["address"], node["ports"][0])
            try:
                req = urllib.request.Request(url, data=body, method="DELETE",
                                             headers={"Content-Type": "application/json"})
                with urllib.request.urlopen(req, timeout=30) as answer:
                    status = answer.status
            except urllib.error.HTTPError as exc:
                status = exc.code
            except (urllib.error.URLError, OSError):  # this machine may not reach it: ask from inside the node
                out = sh(["docker", "exec", node["name"], "curl", "-s", "-o", "/dev/null", "-w", "%{http_code}",
                          "-m", "30", "-X", "DELETE", "-H", "Content-Type: application/json", "-d", body.decode(), url],
                         check=False, timeout=40)
                status = int(out) if out.isdigit() else 0
            if status not in (200, 404):
                raise CaseFailed("%s: DELETE %s answered %s" % (node["name"], url, status or "nothing"))
            held = sh(["docker", "exec", node["name"], "ls", "-1", "%s/blobs" % self.models_dir], check=False,
                      timeout=30).split()
            left = [b for b in unique_blobs if b.replace(":", "-") in held]
            argv = ["rm", "-rf", "%s/%s" % (self.models_dir, INCOMING)]
            argv += ["%s/blobs/%s" % (self.models_dir, b.replace(":", "-")) for b in left]
            sh(["docker", "exec", node["name"]] + argv, timeout=60)
            done[node["name"]] = {"deleted": status == 200, "leftover_blobs_removed": len(left)}
        return done

    def start_sampler(self, node, interval, limit_s, tag):
        stop = "/tmp/gpufleet-bench-sampler-%s.stop" % tag
        sh(["docker", "exec", node["name"], "rm", "-f", stop], timeout=20)
        proc = subprocess.Popen(["docker", "exec", node["name"], "python3", "-c", SAMPLER, self.models_dir, stop,
                                 str(interval), str(limit_s)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True)
        chunks = []
        thread = threading.Thread(target=lambda: chunks.extend(proc.stdout), daemon=True)
        thread.start()
        return {"node": node, "proc": proc, "chunks": chunks, "thread": thread, "stop": stop}

    @staticmethod
    def stop_sampler(sampler):
        try:
            sh(["docker", "exec", sampler["node"]["name"], "touch", sampler["stop"]], timeout=20, check=False)
            sampler["proc"].wait(timeout=15)
        except subprocess.TimeoutExpired:
            sampler["proc"].kill()
            sampler["proc"].wait(timeout=10)
        sampler["thread"].join(timeout=5)
        sh(["docker", "exec", sampler["node"]["name"], "rm", "-f", sampler["stop"]], timeout=20, check=False)
        return parse_samples("".join(sampler["chunks"]))


# ============================================================================ bundles on the controller
def bundle_dir():
    """The lab's ollama_models_bundle_dir (inventories/lab/group_vars/gpu_nodes: <gpufleet_lab_artifacts>/bundles)."""
    artifacts = os.environ.get("GPUFLEET_LAB_ARTIFACTS") or os.path.join(ROOT, ".lab", "artifacts")
    return os.path.join(artifacts, "bundles")


def lab_models_dir():
    """ollama_models_dir of the lab's GPU nodes (read from the group vars, no YAML parser needed)."""
    path = os.path.join(ROOT, "inventories", "lab", "group_vars", "gpu_nodes", "main.yml")
    try:
        with open(path, encoding="utf-8") as f:
            match = re.search(r"^ollama_models_dir:\s*[\"']?([^\s\"'#]+)", f.read(), re.M)
        return match.group(1) if match else "/data/ollama/models"
    except OSError:
        return "/data/ollama/models"


def index_path(root, name):
    model, dummy, tag = name.partition(":")
    namespace, dummy, model = model.rpartition("/")
    return os.path.join(root, "bundles", "registry.ollama.ai", namespace or "library", model,
                        (tag or "latest") + ".json")


def gguf_size(index):
    return next((b["size"] for b in index.get("blobs", []) if str(b.get("media_type", "")).endswith(".model")), None)


def ensure_bundle(name, size_bytes, env):
    """The bundle of `name` with one GGUF of exactly size_bytes in the lab's bundle root: reused when its index says
    so (and the bundle verifies, sizes only), else written with tests/standin/fixtures.py (a sparse file on the
    controller) and exported with gpufleet.ollama.ollama_bundle (hard links, same filesystem). Returns the index."""
    root = bundle_dir()
    path = index_path(root, name)
    if os.path.exists(path):
        with open(path, encoding="utf-8") as f:
            index = json.load(f)
        if gguf_size(index) == size_bytes and _ansible_bundle(["path=%s" % root, "name=%s" % name, "state=verified"],
                                                             env, check=False):
            return index
    store = os.path.join(os.path.dirname(root), "bench-stores", name.replace(":", "_").replace("/", "_"))
    log("making bundle %s (%d MiB GGUF, sparse on the controller) in %s" % (name, size_bytes // MIB,
                                                                          os.path.relpath(root, ROOT)))
    if os.path.isdir(store):
        subprocess.run(["rm", "-rf", "--", store], check=True, timeout=300)
    python = _venv("python") or sys.executable
    sh([python, os.path.join(ROOT, "tests", "standin", "fixtures.py"), "store", store, "--name", name,
        "--size", str(size_bytes)], timeout=1800)
    _ansible_bundle(["src=%s" % store, "path=%s" % root, "name=%s" % name], env, check=True)
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def _ansible_bundle(args, env, check):
    argv = [_venv("ansible") or "ansible", "localhost", "-m", "gpufleet.ollama.ollama_bundle", "-a", " ".join(args)]
    proc = subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, text=True, timeout=1800, check=False)
    if check and proc.returncode != 0:
        raise NotReady("exporting the bundle failed: %s\n%s" % (" ".join(argv),
                                                                proc.stdout[-1500:] + proc.stderr[-800:]))
    return proc.returncode == 0


def _venv(tool):
    path = os.path.join(os.environ.get("GF_VENV") or os.path.join(ROOT, ".venv"), "bin", tool)
    return path if os.access(path, os.X_OK) else None


def unique_blobs(index):
    """The model's own blobs: its config (the index lists it first) and its GGUF, whose digests depend on the GGUF's
    size; never the template or params layers the fixture models share with each other."""
    blobs = index.get("blobs") or []
    return [b["digest"] for i, b in enumerate(blobs) if i == 0 or str(b.get("media_type", "")).endswith(".model")]


# ============================================================================ the placement play
class Runner:
    def __init__(self, lab, env, raw_dir, play_timeout):
        self.lab, self.env, self.raw_dir, self.play_timeout = lab, env, raw_dir, play_timeout

    def place(self, label, models, width=1, bwlimit=0, timeout=None, quiet=False):
        """bench/models-place.yml for `models`; returns {rc, play_s, role_play_s, spans, facts, complaint}."""
        facts_path = os.path.join(self.raw_dir, label + ".facts.json")
        extra = {"ollama_models_only": list(models), "ollama_models_fanout_width": width,
                 "ollama_models_bwlimit_kib": bwlimit, "bench_facts_out": facts_path}
        argv = [_venv("ansible-playbook") or "ansible-playbook", PLAYBOOK, "-i", INVENTORY, "-e", json.dumps(extra)]
        timeout = timeout or self.play_timeout
        shown = json.dumps({k: v for k, v in extra.items() if k != "bench_facts_out"})
        log("%s: ansible-playbook %s -i %s -e '%s' (at most %d s)" % (label, PLAYBOOK, INVENTORY, shown, timeout))
        if os.path.exists(facts_path):
            os.remove(facts_path)
        rc, wall, lines = run_streaming(argv, self.env, timeout, None if quiet else _echo)
        with open(os.path.join(self.raw_dir, label + ".log"), "w", encoding="utf-8") as f:
            f.writelines("[%9.3f] %s\n" % (t, text) for t, text in lines)
        events = banner_events(lines)
        facts = None
        if os.path.exists(facts_path):
            with open(facts_path, encoding="utf-8") as f:
                facts = json.load(f)
        out = {"rc": rc, "play_s": round(wall, 3), "role_play_s": play_span(events, wall, PLAY_ROLE),
               "spans": task_spans(events, wall), "facts": facts, "log": os.path.relpath(
                   os.path.join(self.raw_dir, label + ".log"), ROOT)}
        if rc != 0:
            out["complaint"] = complaint(lines, rc, timeout)
            log("%s: FAILED (exit %d): %s" % (label, rc, out["complaint"]))
        else:
            log("%s: %.1f s" % (label, wall))
        return out


def _echo(t, text):
    """Progress on the terminal: the plays, the role's placement tasks and every failure (the log has it all)."""
    match = BANNER.match(text)
    shown = (TASK_PLACE_START, TASK_WAVE_START, TASK_FETCH, TASK_ACTIVATE) + TASK_PUSH
    if match and (match.group(1) == "PLAY" or _is((match.group(2) or "").split(" : ", 1)[-1], shown)):
        log("  %7.1f s  %s %s" % (t, match.group(1), match.group(2)))
    elif text.startswith(("fatal:", "failed:", "ERROR!", "[ERROR]")):
        log("  %7.1f s  %s" % (t, text[:300]))


def complaint(lines, rc, timeout):
    if rc == 124:
        return "timed out after %d s (killed); the log is in bench/results/raw/" % timeout
    texts = [text.strip() for dummy, text in lines if text.strip()]
    why = [t for t in texts if re.match(r"(fatal:|failed:|\[?ERROR|msg:)", t)] or texts[-3:]
    return " | ".join(why)[:600]


def run_streaming(argv, env, timeout, echo=None):
    """Run argv in its own process group, each output line stamped with the seconds since the start; on timeout
    (or when this benchmark is stopped) that process group, and only it, is terminated. (rc, wall_s, lines)."""
    start = time.monotonic()
    proc = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            bufsize=1, errors="replace", start_new_session=True)
    lines = []

    def reader():
        for text in proc.stdout:
            t = time.monotonic() - start
            lines.append((t, text.rstrip("\n")))
            if echo:
                echo(t, text.rstrip("\n"))
    thread = threading.Thread(target=reader, daemon=True)
    thread.start()
    try:
        rc = proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        _kill_group(proc)
        rc = 124
    except BaseException:
        _kill_group(proc)
        raise
    wall = time.monotonic() - start
    thread.join(timeout=10)
    proc.stdout.close()
    return rc, wall, lines


def _kill_group(proc):
    for sig, wait in ((signal.SIGTERM, 10), (signal.SIGKILL, 10)):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            return
        try:
            proc.wait(timeout=wait)
            return
        except subprocess.TimeoutExpired:
            continue


def _check_placed(run, model, want):
    statuses = node_statuses(run["facts"], model)
    bad = {h: s for h, s in statuses.items() if s not in want}
    if run["rc"] != 0:
        raise CaseFailed("the placement play failed (exit %d): %s" % (run["rc"], run.get("complaint", "")))
    if not statuses or bad:
        raise CaseFailed("%s is not %s on every node: %s" % (model, " or ".join(want), bad or "no facts written"))


# ============================================================================ the cases
def case_fanout(ctx):
    """Fan-out (width 1) against push (width N), each after deleting the model on every node; limits on."""
    a, lab, n = ctx.args, ctx.lab, len(ctx.lab.nodes)
    size, rate = ctx.index[MODEL_FANOUT]["size"], ctx.rate_bits
    one = transfer_seconds(size, rate)
    modes = {"fanout": {"width": 1, "bwlimit_kib": bwlimit_kib(rate, 1), "expected_waves": plan_waves(n, 1),
                        "limit_s": round(one * min_waves(n), 3),
                        "limit": "size / rate × ceil(log2(N + 1)) = %.1f s × %d" % (one, min_waves(n))},
             "push": {"width": n, "bwlimit_kib": bwlimit_kib(rate, n), "expected_waves": plan_waves(n, n),
                      "limit_s": round(one * n, 3),
                      "limit": "N × size / rate (one uplink for every node) = %d × %.1f s" % (n, one)}}
    order = [m for rep in range(a.reps) for m in (("fanout", "push") if rep % 2 == 0 else ("push", "fanout"))]
    runs = []
    for i, mode in enumerate(order):
        conf = modes[mode]
        log("fanout case: %s, run %d/%d: delete %s on every node" % (mode, i + 1, len(order), MODEL_FANOUT))
        lab.delete_model(MODEL_FANOUT, ctx.unique[MODEL_FANOUT])
        run = ctx.runner.place("%s-%d" % (mode, i + 1), [MODEL_FANOUT], conf["width"], conf["bwlimit_kib"],
                               timeout=ctx.timeout_for(conf["limit_s"]))
        ctx.raw["runs"].append({"label": "%s-%d" % (mode, i + 1), **run})
        _check_placed(run, MODEL_FANOUT, ("placed",))
        waves = wave_breakdown(run["spans"])
        tr = transfer_summary(run["facts"], MODEL_FANOUT)
        for wave in waves["waves"]:
            rows = [r for r in tr["transfers"] if r["wave"] == wave["wave"]]
            wave["pairs"] = ["%s→%s" % ("controller" if r["source"] == "localhost" else r["source"], r["target"])
                             for r in rows]
            # what one transfer achieved: the model's bytes over its task's time (all of that task's transfers
            # run at once), when the wave had such a transfer
            pushed = any(r["source"] == "localhost" for r in rows)
            fetched = any(r["source"] != "localhost" for r in rows)
            wave["fetch_mbit"] = round(size * 8 / wave["fetch_s"] / 1e6, 1) if fetched and wave["fetch_s"] else None
            wave["push_mbit"] = round(size * 8 / wave["push_s"] / 1e6, 1) if pushed and wave["push_s"] else None
            for key in ("start", "end"):
                wave.pop(key, None)
        if waves["place_s"] is None:
            log("WARNING: no wave task of roles/ollama_models in the output (task names changed?): only the play's "
                "wall time is recorded")
        if tr["waves"] != conf["expected_waves"]:
            log("WARNING: %s took %d waves, the plan says %d" % (mode, tr["waves"], conf["expected_waves"]))
        runs.append({"mode": mode, "run": i + 1, "width": conf["width"], "bwlimit_kib": conf["bwlimit_kib"],
                     "play_s": run["play_s"], "role_play_s": run["role_play_s"], "place_s": waves["place_s"],
                     "transfer_s": waves["transfer_s"], "activate_s": waves["activate_s"], "waves": tr["waves"],
                     "expected_waves": conf["expected_waves"], "limit_s": conf["limit_s"],
                     "place_to_limit": ratio(waves["place_s"], conf["limit_s"]),
                     "play_to_limit": ratio(run["play_s"], conf["limit_s"]),
                     "per_wave": waves["waves"], "transfers": tr["transfers"]})
        log("%s: placement %s s (limit %.1f s, ratio %s), play %.1f s, %d waves" % (
            mode, waves["place_s"], conf["limit_s"], ratio(waves["place_s"], conf["limit_s"]), run["play_s"],
            tr["waves"]))
    out = {"model": MODEL_FANOUT, "size_bytes": size, "gpu_nodes": n, "one_transfer_s": round(one, 3),
           "modes": {m: {k: v for k, v in c.items()} for m, c in modes.items()}, "runs": runs}
    for mode in modes:
        mine = [r for r in runs if r["mode"] == mode]
        out["modes"][mode].update({"place_s": median(r["place_s"] for r in mine),
                                   "play_s": median(r["play_s"] for r in mine),
                                   "waves": max((r["waves"] for r in mine), default=None)})
        out["modes"][mode]["place_to_limit"] = ratio(out["modes"][mode]["place_s"], modes[mode]["limit_s"])
        out["modes"][mode]["play_to_limit"] = ratio(out["modes"][mode]["play_s"], modes[mode]["limit_s"])
    f, p = out["modes"]["fanout"], out["modes"]["push"]
    out["fanout_to_push_place"] = ratio(f["place_s"], p["place_s"])
    out["fanout_to_push_play"] = ratio(f["play_s"], p["play_s"])
    return out


def case_rerun(ctx):
    """Both models placed once (untimed, no limit), then the play for each alone, A B A B A B."""
    a, names = ctx.args, [MODEL_SMALL, MODEL_LARGE]
    log("rerun case: placing %s once (untimed, no limit)" % ", ".join(names))
    first = ctx.runner.place("rerun-initial", names, 1, 0, timeout=max(ctx.args.play_timeout or 0, 3600))
    ctx.raw["runs"].append({"label": "rerun-initial", **first})
    for name in names:
        _check_placed(first, name, ("placed", "in place"))
    rows = []
    for rep, name in alternate(names, a.rerun_reps):
        label = "rerun-%s-%d" % (name.split(":")[0], rep + 1)
        run = ctx.runner.place(label, [name], 1, 0, timeout=ctx.timeout_for(0), quiet=True)
        ctx.raw["runs"].append({"label": label, **run})
        _check_placed(run, name, ("in place",))
        moved = transfer_summary(run["facts"], name)["transfers"]
        if moved:
            raise CaseFailed("the re-run of %s transferred to %d nodes: it was not in place" % (name, len(moved)))
        rows.append({"model": name, "rep": rep + 1, "play_s": run["play_s"], "role_play_s": run["role_play_s"]})
    out = {"order": "".join("AB"[names.index(r["model"])] for r in rows), "runs": rows}
    for key, name in (("small", MODEL_SMALL), ("large", MODEL_LARGE)):
        mine = [r for r in rows if r["model"] == name]
        out[key] = {"model": name, "size_bytes": ctx.index[name]["size"],
                    "play_s": [r["play_s"] for r in mine], "role_play_s": [r["role_play_s"] for r in mine],
                    "median_play_s": median(r["play_s"] for r in mine),
                    "median_role_play_s": median(r["role_play_s"] for r in mine)}
    out["large_to_small_play"] = ratio(out["large"]["median_play_s"], out["small"]["median_play_s"])
    out["large_to_small_role_play"] = ratio(out["large"]["median_role_play_s"], out["small"]["median_role_play_s"])
    log("rerun: medians %s s (64 MiB) and %s s (4 GiB), ratio %s" % (
        out["small"]["median_play_s"], out["large"]["median_play_s"], out["large_to_small_play"]))
    return out


def case_disk(ctx):
    """The model deleted on the first two nodes, placed again (width 1, limits on) while both are sampled."""
    lab, size = ctx.lab, ctx.index[MODEL_FANOUT]["size"]
    targets = lab.nodes[:2]
    log("disk case: %s deleted on %s, placed again while sampling their models dir every %.1f s" % (
        MODEL_FANOUT, ", ".join(n["name"] for n in targets), ctx.args.sample_interval))
    # every node must hold it, so that exactly the two targets receive it (one from the controller, one from a peer)
    if not ctx.all_hold:
        others = ctx.runner.place("disk-prepare", [MODEL_FANOUT], 1, 0, timeout=ctx.timeout_for(0), quiet=True)
        ctx.raw["runs"].append({"label": "disk-prepare", **others})
        _check_placed(others, MODEL_FANOUT, ("placed", "in place"))
    lab.delete_model(MODEL_FANOUT, ctx.unique[MODEL_FANOUT], nodes=targets)
    limit_s = ctx.timeout_for(transfer_seconds(size, ctx.rate_bits) * 2) + 120
    samplers = [lab.start_sampler(n, ctx.args.sample_interval, limit_s, "%d-%s" % (os.getpid(), n["name"]))
                for n in targets]
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and any(len(s["chunks"]) < 3 for s in samplers):
            time.sleep(0.1)
        if any(len(s["chunks"]) < 3 for s in samplers):
            raise CaseFailed("the disk sampler in the nodes did not start (python3 in the node?)")
        t_start = time.time()
        run = ctx.runner.place("disk", [MODEL_FANOUT], 1, bwlimit_kib(ctx.rate_bits, 1),
                               timeout=ctx.timeout_for(transfer_seconds(size, ctx.rate_bits) * 2))
        t_end = time.time()
        time.sleep(max(1.0, ctx.args.sample_interval * 5))
    finally:
        samples = {s["node"]["name"]: lab.stop_sampler(s) for s in samplers}
    ctx.raw["runs"].append({"label": "disk", **run})
    ctx.raw["disk_samples"] = {"t_start": t_start, "t_end": t_end, "columns": ["t", "alloc", "apparent", "entries"],
                               "nodes": samples}
    _check_placed(run, MODEL_FANOUT, ("placed", "in place"))
    sources = {r["target"]: r["source"] for r in transfer_summary(run["facts"], MODEL_FANOUT)["transfers"]}
    nodes = []
    for node in targets:
        row = {"node": node["name"], "source": sources.get(node["name"]),
               **disk_extra(samples[node["name"]], t_start, t_end, size)}
        nodes.append(row)
        if row["status"] == "ran":
            log("disk %s (from %s): before %d, peak %d, after %d bytes: extra %d (%.4f of the model)" % (
                node["name"], row["source"], row["alloc"]["before"], row["alloc"]["peak"], row["alloc"]["after"],
                row["alloc"]["extra"], row["alloc"]["extra_fraction"]))
    fractions = [r["alloc"]["extra_fraction"] for r in nodes if r["status"] == "ran"]
    return {"model": MODEL_FANOUT, "size_bytes": size, "play_s": run["play_s"], "nodes": nodes,
            "extra_fraction_max": max(fractions) if fractions else None}


class Context:
    def __init__(self, args, lab, runner, rate_bits, index, raw):
        self.args, self.lab, self.runner, self.rate_bits = args, lab, runner, rate_bits
        self.index, self.raw = index, raw
        self.unique = {name: unique_blobs(idx) for name, idx in index.items()}
        self.all_hold = False  # every node holds MODEL_FANOUT (after the fan-out case)

    def timeout_for(self, limit_s):
        """A play's time limit: --play-timeout, or 15 minutes plus four times the link-speed limit."""
        return self.args.play_timeout or int(900 + 4 * limit_s)


# ============================================================================ main
def check_disk(lab, sizes):
    """Every node writes every byte it receives (the sparse fixture is sparse only on the controller), and all the
    containers share docker's filesystem: refuse to start without room for the largest moment."""
    need = len(lab.nodes) * sum(sizes) * 1.1 + 2 * 1024 * MIB
    try:
        root = sh(["docker", "info", "-f", "{{.DockerRootDir}}"], timeout=30)
        st = os.statvfs(root)
    except (RuntimeError, OSError) as exc:
        log("WARNING: cannot check docker's free disk space (%s); %.1f GiB are needed" % (exc, need / 1024 / MIB))
        return None
    free = st.f_bavail * st.f_frsize
    if free < need:
        raise NotReady("docker's filesystem %s has %.1f GiB free; the benchmark needs %.1f GiB (%d nodes × %.2f GiB "
                       "+ 10%% + 2 GiB): free some, or use a smaller --size-mib/--large-mib" % (
                           root, free / 1024 / MIB, need / 1024 / MIB, len(lab.nodes), sum(sizes) / 1024 / MIB))
    return round(free / 1024 / MIB, 1)


def ensure_lab(args, models_dir):
    lab = Lab(models_dir)
    if len(lab.nodes) < args.nodes or (args.converge and not args.setup_done):
        if len(lab.nodes) < args.nodes and not args.setup:
            raise NotReady("the lab has %d GPU node(s) (%s), the benchmark needs %d. Run:\n\n    scripts/lab up "
                           "--nodes %d && scripts/lab converge\n\nor give --setup (bench/run models -- --setup) "
                           "to have the benchmark run them (10 to 20 minutes)." % (
                               len(lab.nodes), ", ".join(n["name"] for n in lab.nodes) or "none", args.nodes,
                               args.nodes))
        lab_cmd = os.path.join(ROOT, "scripts", "lab")
        if len(lab.nodes) < args.nodes:
            log("--setup: scripts/lab up --nodes %d" % args.nodes)
            if subprocess.run([lab_cmd, "up", "--nodes", str(args.nodes)], cwd=ROOT, timeout=3600,
                              check=False).returncode != 0:
                raise NotReady("scripts/lab up --nodes %d failed" % args.nodes)
        log("scripts/lab converge")
        if subprocess.run([lab_cmd, "converge"], cwd=ROOT, timeout=5400, check=False).returncode != 0:
            raise NotReady("scripts/lab converge failed")
        args.setup_done = True
        lab = Lab(models_dir)
        if len(lab.nodes) < args.nodes:
            raise NotReady("the lab still has only %d GPU nodes" % len(lab.nodes))
    missing = [n["name"] for n in lab.nodes if not n["ports"]]
    if missing:
        raise NotReady("%s run no ollama@ instance: converge the lab first (scripts/lab converge, or --converge)"
                       % ", ".join(missing))
    if len(lab.nodes) > args.nodes:
        log("the lab has %d GPU nodes (more than --nodes %d): all of them take part, N = %d" % (
            len(lab.nodes), args.nodes, len(lab.nodes)))
    return lab


def git_facts():
    def git(*argv):
        return sh(["git", "-C", ROOT] + list(argv), check=False, timeout=30)
    return {"commit": git("rev-parse", "HEAD"),
            "models_role_dirty": bool(git("status", "--porcelain", "--", "roles/ollama_models", "plugins"))}


def method(args, rate_bits, n):
    """What was limited where, in words (stored with the results and shown in docs/performance.md)."""
    return {
        "node_to_node": "tc qdisc replace dev <backend interface> root tbf rate %s burst %s latency %s on every "
                        "GPU node (egress): a node feeds its peers at %.0f Mbit/s at most" % (
                            args.rate, args.tc_burst, args.tc_latency, rate_bits / 1e6),
        "controller_to_node": "the controller's pushes (ansible.posix.synchronize over the lab's docker connection) "
                              "travel through `docker exec -i` pipes, which no qdisc sees: they are limited with "
                              "rsync --bwlimit (ollama_models_bwlimit_kib) to the same link shared by the nodes the "
                              "controller feeds at once: %d KiB/s in the fan-out (one node per wave), %d KiB/s each "
                              "in the push (%d nodes at once)" % (bwlimit_kib(rate_bits, 1),
                                                                  bwlimit_kib(rate_bits, n), n),
        "also": "ollama_models_bwlimit_kib is one setting for every transfer of a run, so in the fan-out the peers' "
                "fetches carry the same --bwlimit as the tbf rate; node ingress is not limited",
        "rerun": "no limit (nothing is transferred)",
        "disk": "the fan-out's limits (width 1)",
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter,
                                     epilog="\n".join(__doc__.split("\n")[2:]))
    parser.add_argument("--nodes", type=int, default=6, help="GPU nodes the lab must have (default 6)")
    parser.add_argument("--size-mib", type=int, default=1024, help="GGUF size of %s (default 1024)" % MODEL_FANOUT)
    parser.add_argument("--small-mib", type=int, default=64, help="GGUF size of %s (default 64)" % MODEL_SMALL)
    parser.add_argument("--large-mib", type=int, default=4096, help="GGUF size of %s (default 4096)" % MODEL_LARGE)
    parser.add_argument("--rate", default="400mbit", help="tc rate of every link (default 400mbit)")
    parser.add_argument("--tc-burst", default="256kb")
    parser.add_argument("--tc-latency", default="50ms")
    parser.add_argument("--reps", type=int, default=1, help="fan-out/push pairs (alternating order; default 1)")
    parser.add_argument("--rerun-reps", type=int, default=3, help="A B rounds of the re-run case (default 3)")
    parser.add_argument("--sample-interval", type=float, default=0.2, help="disk sampler interval (s)")
    parser.add_argument("--only", nargs="+", choices=CASES, help="cases to run (default: all)")
    parser.add_argument("--setup", action="store_true",
                        help="run scripts/lab up --nodes N and scripts/lab converge when the lab has fewer nodes")
    parser.add_argument("--converge", action="store_true", help="run scripts/lab converge first")
    parser.add_argument("--keep-models", action="store_true",
                        help="leave the benchmark's models on the nodes at the end (a later run skips their "
                             "untimed placement; about N × 5 GiB of docker's disk)")
    parser.add_argument("--play-timeout", type=int, default=0,
                        help="seconds one placement play may take (default: 900 + 4 × its link-speed limit)")
    args = parser.parse_args(argv)
    args.setup_done = False
    cases = [c for c in CASES if not args.only or c in args.only]
    try:
        rate_bits = parse_rate(args.rate)
    except ValueError as exc:
        parser.error(str(exc))
    started = datetime.datetime.now(datetime.timezone.utc)
    stamp = started.strftime("%Y%m%dT%H%M%SZ")
    raw_dir = os.path.join(RESULTS, "raw", "models-%s" % stamp)
    env = dict(os.environ, ANSIBLE_CONFIG=os.path.join(ROOT, "ansible.cfg"), PYTHONUNBUFFERED="1",
               ANSIBLE_NOCOLOR="1", ANSIBLE_FORCE_COLOR="0", NO_COLOR="1",
               ANSIBLE_DISPLAY_SKIPPED_HOSTS="true", ANSIBLE_DISPLAY_OK_HOSTS="true",
               ANSIBLE_STDOUT_CALLBACK="ansible.builtin.default")
    if _venv("python"):
        env["PATH"] = os.path.dirname(_venv("python")) + os.pathsep + env.get("PATH", "")

    def stop(signum, dummy):
        raise SystemExit(128 + signum)
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGHUP, stop)

    models_dir = lab_models_dir()
    lab = None
    try:
        lab = ensure_lab(args, models_dir)
        n = len(lab.nodes)
        sizes = {MODEL_FANOUT: args.size_mib * MIB, MODEL_SMALL: args.small_mib * MIB,
                 MODEL_LARGE: args.large_mib * MIB}
        free_gib = check_disk(lab, [sizes[MODEL_FANOUT]] + ([sizes[MODEL_SMALL], sizes[MODEL_LARGE]]
                                                            if "rerun" in cases else []))
        log("lab: %d GPU nodes (%s), models dir %s, rate %s; cases: %s" % (
            n, ", ".join(x["name"] for x in lab.nodes), models_dir, args.rate, ", ".join(cases)))
        wanted = [MODEL_FANOUT] if cases != ["rerun"] else []
        wanted += [MODEL_SMALL, MODEL_LARGE] if "rerun" in cases else []
        index = {name: ensure_bundle(name, sizes[name], env) for name in wanted}
    except NotReady as exc:
        log("NOT READY: %s" % exc)
        return 2
    except (RuntimeError, OSError, subprocess.TimeoutExpired) as exc:
        log("NOT READY: %s" % exc)
        return 2

    os.makedirs(raw_dir, exist_ok=True)
    raw = {"kind": "models", "timestamp": started.isoformat(timespec="seconds"), "runs": []}
    runner = Runner(lab, env, raw_dir, args.play_timeout)
    ctx = Context(args, lab, runner, rate_bits, index, raw)
    results, status = {}, 0
    tc_command = None
    try:
        lab.clear_links()  # an interrupted earlier run may have left its qdisc
        if "rerun" in cases:
            results["rerun"] = _case(case_rerun, ctx)
            if not args.keep_models:
                _cleanup_models(lab, ctx, [MODEL_SMALL, MODEL_LARGE])
        if "fanout" in cases or "disk" in cases:
            try:
                tc_command = lab.limit_links(args.rate, args.tc_burst, args.tc_latency)
                raw["qdiscs"] = {x["name"]: x["qdisc"] for x in lab.nodes}
                log("links limited: %s on %s" % (tc_command, ", ".join("%s:%s" % (x["name"], x["iface"])
                                                                       for x in lab.nodes)))
            except CaseFailed as exc:
                for case in ("fanout", "disk"):
                    if case in cases:
                        results[case] = {"status": "failed: %s" % exc}
            else:
                for case, fn in (("fanout", case_fanout), ("disk", case_disk)):
                    if case in cases:
                        results[case] = _case(fn, ctx)
                        ctx.all_hold = case == "fanout" and results[case]["status"] == "ran"
    finally:
        lab.clear_links()
        if not args.keep_models:
            _cleanup_models(lab, ctx, list(index))
    status = 0 if all(r.get("status") == "ran" for r in results.values()) else 1

    doc = {"kind": "models", "timestamp": started.isoformat(timespec="seconds"),
           "duration_s": round((datetime.datetime.now(datetime.timezone.utc) - started).total_seconds(), 1),
           "git": git_facts(), "note": os.environ.get("GPUFLEET_BENCH_NOTE", ""),
           "host": {"cpus": os.cpu_count(), "python": platform.python_version(), "loadavg": os.getloadavg(),
                    "docker_free_gib_at_start": free_gib},
           "lab": lab.describe(),
           "settings": {"rate": args.rate, "rate_bits_per_s": rate_bits, "tc": tc_command, "size_mib": args.size_mib,
                        "small_mib": args.small_mib, "large_mib": args.large_mib, "reps": args.reps,
                        "rerun_reps": args.rerun_reps, "sample_interval_s": args.sample_interval,
                        "cases": cases, "playbook": PLAYBOOK, "keep_models": args.keep_models},
           "limits": method(args, rate_bits, len(lab.nodes)), "goals": GOALS,
           "cases": {c: results.get(c, {"status": "not run"}) for c in CASES}}
    write_results(doc, raw, stamp)
    return status


def _case(fn, ctx):
    """Run one case; a failure is recorded with the case and the next case still runs."""
    try:
        out = fn(ctx)
        out["status"] = "ran"
        return out
    except CaseFailed as exc:
        log("case %s FAILED: %s" % (fn.__name__[5:], exc))
        return {"status": "failed: %s" % str(exc)[:500]}
    except Exception as exc:  # pylint: disable=broad-except  (a bug here must not lose the other cases' numbers)
        log("case %s FAILED: %s\n%s" % (fn.__name__[5:], exc, traceback.format_exc()))
        return {"status": "failed: %s: %s" % (type(exc).__name__, str(exc)[:400])}


def _cleanup_models(lab, ctx, names):
    for name in names:
        try:
            lab.delete_model(name, ctx.unique.get(name, []))
        except (CaseFailed, RuntimeError, OSError, subprocess.TimeoutExpired) as exc:
            log("WARNING: could not delete %s on every node: %s" % (name, exc))
    if names:
        log("deleted %s on every node (--keep-models keeps them)" % ", ".join(names))


def write_results(doc, raw, stamp):
    path = os.path.join(RESULTS, "models.json")
    with open(path, "w", encoding="utf-8") as f:
        json.dump(doc, f, indent=1)
        f.write("\n")
    raw_path = os.path.join(RESULTS, "raw", "models-%s.json" % stamp)
    with open(raw_path, "w", encoding="utf-8") as f:
        json.dump({**raw, "summary": doc}, f)
    log("wrote %s, %s and the logs in %s/" % (os.path.relpath(path, ROOT), os.path.relpath(raw_path, ROOT),
                                              os.path.relpath(raw_path[:-5], ROOT)))


if __name__ == "__main__":
    sys.exit(main())
