# -*- coding: utf-8 -*-
# Copyright (c) 2026, gpufleet maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Gateway benchmarks against the lab (scripts/lab): overload and faults. Standard library only.

    python3 bench/gateway.py ready                  exit 0 when the lab is up and the model 'tiny' answers
    python3 bench/gateway.py overload [--baseline]  gateway vs straight to the instances, alternating rounds
    python3 bench/gateway.py faults [--baseline]    failed/total under a bounded load while something breaks

Normally run through bench/run, which brings the lab up first. Results:
    bench/results/gateway-<kind>.json           summary of the latest run (small, committed)
    bench/results/baseline/gateway-<kind>.json  the "before" column of docs/performance.md (--baseline)
    bench/results/raw/gateway-<kind>-<UTC>.json every request of the run (not committed)

Traffic goes only to the lab's containers (backend 172.30.110.0/24, front 172.30.120.0/24), from
clients that stop by themselves (bounded requests per client and bounded time).

Environment (all optional):
    GPUFLEET_BENCH_GATEWAY_URL   gateway base URL (default http://<gateway-1 front address>)
    GPUFLEET_BENCH_API_KEY       sent as Authorization: Bearer ... to the gateway (never written out)
    GPUFLEET_BENCH_CA            CA file for an https gateway URL
    GPUFLEET_BENCH_VIP           the gateways' virtual IP (default: ollama_gateway_vip_address in the lab inventory)
    GPUFLEET_BENCH_DRAIN_ARGS    extra ansible-playbook args to drain   (default: -e drain=gpu-node-1)
    GPUFLEET_BENCH_UNDRAIN_ARGS  extra ansible-playbook args to undrain (default: -e undrain=gpu-node-1)
    GPUFLEET_BENCH_NOTE          a note stored with the results (how the lab was converged, ...)
"""

import argparse
import asyncio
import datetime
import glob
import hashlib
import ipaddress
import json
import os
import platform
import re
import shlex
import subprocess
import sys
import time
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import loadgen  # noqa: E402  pylint: disable=wrong-import-position

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RESULTS = os.path.join(ROOT, "bench", "results")
LAB_LABEL = "gpufleet.lab=lab"
BACKEND_NET, FRONT_NET = "gpufleet-lab-backend", "gpufleet-lab-front"
ALLOWED_PREFIXES = ("172.30.110.", "172.30.120.")  # the lab's networks, nothing else
# What the results keep of each overload round (the cases hold the full summaries).
ROUND_FIELDS = ("requests", "ok", "failed", "throughput_rps", "ttft_p50_ms", "client_cpu_fraction")
MODEL = "tiny"
PROMPT = "bench one two three four five six seven"


# ----------------------------------------------------------------------------- lab
def sh(argv, timeout=120, check=True):
    """Run a command, return its stdout (stripped); raise with its stderr when it fails."""
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, check=False)
    if check and proc.returncode != 0:
        raise RuntimeError("%s: exit %d: %s" % (" ".join(argv), proc.returncode, proc.stderr.strip()[-400:]))
    return proc.stdout.strip()


def log(msg):
    print("[bench %s] %s" % (time.strftime("%H:%M:%S"), msg), file=sys.stderr, flush=True)


class Lab:
    """What scripts/lab started, found through docker labels (nothing is hard-coded but the labels)."""

    def __init__(self):
        self.nodes, self.gateways = [], []
        rows = sh(["docker", "ps", "--filter", "label=" + LAB_LABEL, "--format",
                   '{{.Names}}\t{{.Label "gpufleet.group"}}'])
        for line in sorted(rows.splitlines()):
            name, dummy, group = line.partition("\t")
            nets = json.loads(sh(["docker", "inspect", "-f", "{{json .NetworkSettings.Networks}}", name]))
            entry = {"name": name, "backend": (nets.get(BACKEND_NET) or {}).get("IPAddress"),
                     "front": (nets.get(FRONT_NET) or {}).get("IPAddress")}
            if group == "gpu_nodes":
                units = sh(["docker", "exec", name, "systemctl", "list-units", "--all", "--plain", "--no-legend",
                            "ollama@*.service"])
                entry["ports"] = sorted(int(m) for m in re.findall(r"ollama@(\d+)\.service", units))
                self.nodes.append(entry)
            elif group == "ollama_gateways":
                self.gateways.append(entry)
        if not self.nodes or not self.gateways:
            raise RuntimeError("the lab is not up (no running gpu_nodes/ollama_gateways containers labelled %s)"
                               % LAB_LABEL)
        url = os.environ.get("GPUFLEET_BENCH_GATEWAY_URL") or "http://%s" % self.gateways[0]["front"]
        self.gateway_url = url
        parsed = urllib.parse.urlsplit(url)
        self.gateway_tls = None
        if parsed.scheme == "https":
            self.gateway_tls = loadgen.tls_context(os.environ.get("GPUFLEET_BENCH_CA") or None)
        self.gateway_host = parsed.hostname
        self.gateway_port = parsed.port or (443 if parsed.scheme == "https" else 80)
        key = os.environ.get("GPUFLEET_BENCH_API_KEY")
        self.gateway_headers = {"Authorization": "Bearer " + key} if key else {}
        for host in [self.gateway_host] + [n["backend"] for n in self.nodes]:
            if not str(host).startswith(ALLOWED_PREFIXES):
                raise RuntimeError("refusing to send load to %s: not a lab address (%s)" % (host, ALLOWED_PREFIXES))

    def instances(self):
        """Every instance as (node name, 'address:port'), interleaved across nodes (node1:a, node2:a, ...)."""
        width = max(len(n["ports"]) for n in self.nodes)
        out = []
        for i in range(width):
            out += [(n["name"], "%s:%d" % (n["backend"], n["ports"][i])) for n in self.nodes if i < len(n["ports"])]
        return out

    def gateway_target(self, host=None, name="gateway"):
        return loadgen.Target(name, host or self.gateway_host, self.gateway_port, tls=self.gateway_tls,
                              headers=self.gateway_headers)

    def instance_targets(self):
        return [loadgen.Target(addr, addr.rsplit(":", 1)[0], int(addr.rsplit(":", 1)[1]))
                for dummy, addr in self.instances()]

    def settings(self):
        """OLLAMA_* and STANDIN_* of the first instance's running process (what it really uses)."""
        node, port = self.nodes[0]["name"], self.nodes[0]["ports"][0]
        environ = sh(["docker", "exec", node, "sh", "-c",
                      "tr '\\0' '\\n' < /proc/$(systemctl show -p MainPID --value ollama@%d)/environ" % port])
        keep = ("OLLAMA_NUM_PARALLEL", "OLLAMA_MAX_QUEUE", "STANDIN_TOKENS_PER_S", "OLLAMA_KEEP_ALIVE")
        return dict(line.split("=", 1) for line in environ.splitlines() if line.split("=", 1)[0] in keep)

    def gateway_facts(self):
        gw = self.gateways[0]["name"]
        conf = sh(["docker", "exec", gw, "cat", "/etc/nginx/nginx.conf"], check=False)
        upstream = re.findall(r"^\s*upstream\s[^{]*\{[^}]*\}", conf, re.M)
        version = subprocess.run(["docker", "exec", gw, "nginx", "-v"], capture_output=True, text=True,
                                 check=False).stderr.strip()
        return {"nginx": version, "nginx_conf_sha256": hashlib.sha256(conf.encode()).hexdigest(),
                "upstream_blocks": [" ".join(u.split()) for u in upstream]}

    def describe(self):
        return {"nodes": [{"name": n["name"], "address": n["backend"], "ports": n["ports"]} for n in self.nodes],
                "instances": len(self.instances()),
                "gateways": [{"name": g["name"], "backend": g["backend"], "front": g["front"]} for g in self.gateways],
                "gateway_url": self.gateway_url, "api_key": bool(self.gateway_headers),
                "settings": self.settings(), "gateway": self.gateway_facts()}


def git_facts():
    def git(*args):
        return sh(["git", "-C", ROOT] + list(args), check=False)
    return {"commit": git("rev-parse", "HEAD"),
            "gateway_role_dirty": bool(git("status", "--porcelain", "--", "roles/ollama_gateway", "plugins"))}


def run_load(load, actions=()):
    return asyncio.run(load.run(actions))


def probe(targets, requests_each=1, num_predict=2, timeout=10.0):
    """Send requests_each short streaming chats to every target at once; return the records."""
    body = loadgen.chat_body(MODEL, PROMPT, num_predict)

    async def go():
        coros = [loadgen.stream_chat(t, body, timeout, 2.0) for t in targets for dummy in range(requests_each)]
        return await asyncio.gather(*coros)
    return asyncio.run(go())


def wait_healthy(lab, timeout=120.0):
    """Until every instance answers straight and the gateway answers 8 at once, all ok, and (when it
    sends X-Ollama-Upstream) every instance has answered through it. Returns seconds waited."""
    start, seen, want = time.monotonic(), set(), {addr for dummy, addr in lab.instances()}
    last = ""
    while time.monotonic() - start < timeout:
        direct = probe(lab.instance_targets())
        if all(r["kind"] == "ok" for r in direct):
            through = probe([lab.gateway_target()], requests_each=8, num_predict=4)
            seen |= {r["upstream"].split(",")[-1].strip() for r in through if r["upstream"]}
            headers = any(r["upstream"] for r in through)
            if all(r["kind"] == "ok" for r in through) and (not headers or want <= seen):
                return round(time.monotonic() - start, 1)
            last = "gateway: %s, instances seen %d/%d" % (
                sorted({loadgen.failure_key(r) for r in through}), len(seen & want), len(want))
        else:
            last = "instances: %s" % sorted({"%s %s" % (r["target"], r["kind"]) for r in direct if r["kind"] != "ok"})
            if any(r["kind"] in ("connect_refused", "connect_timeout") for r in direct):
                last += FIREWALL_HINT % _host_backend_address()
        time.sleep(1.0)
    raise RuntimeError("the lab did not answer within %.0f s: %s" % (timeout, last))


FIREWALL_HINT = ("; if the instances run but refuse this machine, the ollama_firewall role lets only the gateways "
                 "in: the benchmarks compare against direct requests from here, so allow this machine's backend "
                 "address %s with ollama_firewall_extra_sources in the lab inventory")


def _host_backend_address():
    """This machine's address on the lab's backend bridge (where direct requests come from)."""
    config = sh(["docker", "network", "inspect", "-f", "{{ json .IPAM.Config }}", BACKEND_NET], check=False)
    try:
        subnet = ipaddress.ip_network(json.loads(config)[0]["Subnet"])
    except (ValueError, IndexError, KeyError, TypeError):
        return "(unknown)"
    for addr in re.findall(r"\binet (\S+)/", sh(["ip", "-o", "-4", "addr", "show"], check=False)):
        if ipaddress.ip_address(addr) in subnet:
            return addr
    return "(unknown)"


# ----------------------------------------------------------------------------- overload
def derive_overload(gw, direct):
    """Gateway vs direct at one concurrency (both summaries of loadgen.summarize with a window).

    gateway_added_failures = failures through the gateway that are not Ollama's own queue-full 503
    plus the queue-full 503s beyond the direct rate (busy fraction above direct's, times requests)."""
    non_busy = gw["failed"] - gw["ollama_busy"]
    gw_frac = gw["ollama_busy"] / gw["requests"] if gw["requests"] else 0.0
    direct_frac = direct["ollama_busy"] / direct["requests"] if direct["requests"] else 0.0
    excess_busy = max(0, int(round(gw["requests"] * (gw_frac - direct_frac))))
    ratio = None
    if gw.get("throughput_rps") is not None and direct.get("throughput_rps"):
        ratio = round(gw["throughput_rps"] / direct["throughput_rps"], 3)
    diff = None
    if gw["ttft_p50_ms"] is not None and direct["ttft_p50_ms"] is not None:
        diff = round(gw["ttft_p50_ms"] - direct["ttft_p50_ms"], 2)
    diff_kept = None
    if gw.get("ttft_after_connect_p50_ms") is not None and direct.get("ttft_after_connect_p50_ms") is not None:
        diff_kept = round(gw["ttft_after_connect_p50_ms"] - direct["ttft_after_connect_p50_ms"], 2)
    return {"ttft_after_connect_p50_diff_ms": diff_kept,
            "gateway_added_failures": non_busy + excess_busy, "gateway_non_busy_failures": non_busy,
            "gateway_excess_busy": excess_busy, "direct_non_busy_failures": direct["failed"] - direct["ollama_busy"],
            "throughput_ratio": ratio, "ttft_p50_diff_ms": diff}


def overload(lab, args):
    body = loadgen.chat_body(MODEL, PROMPT, args.num_predict)
    targets = {"gateway": [lab.gateway_target()], "direct": lab.instance_targets()}
    rounds, raw, windows, records = [], [], {}, {}
    t_origin = time.monotonic()
    for rep in range(args.reps):
        for conc in args.concurrency:
            order = ("gateway", "direct") if rep % 2 == 0 else ("direct", "gateway")
            for via in order:
                load = loadgen.Load(targets[via], conc, args.seconds, body, max_requests=args.max_requests,
                                    backoff=args.backoff, timeout=args.timeout)
                client = run_load(load)
                window = (load.started + args.warmup, load.started + args.seconds)
                summary = loadgen.summarize(load.records, [window])
                summary.update({k: round(v, 3) for k, v in client.items()})
                rounds.append({"rep": rep, "concurrency": conc, "via": via,
                               **{k: summary[k] for k in ROUND_FIELDS}})
                log("overload rep %d c=%d %-7s: %d requests, %d ok, failures %s, %.2f req/s, ttft p50 %s ms, "
                    "client cpu %.0f%%" % (
                        rep, conc, via, summary["requests"], summary["ok"], summary["failures"],
                        summary["throughput_rps"], summary["ttft_p50_ms"], 100 * client["client_cpu_fraction"]))
                windows.setdefault((conc, via), []).append(window)
                records.setdefault((conc, via), []).extend(load.records)
                raw += [_raw(r, t_origin, rep=rep, concurrency=conc, via=via) for r in load.records]
                time.sleep(args.pause)
    cases = []
    for conc in args.concurrency:
        case = {"concurrency": conc}
        for via in ("gateway", "direct"):
            case[via] = loadgen.summarize(records[(conc, via)], windows[(conc, via)])
            cpu = [r["client_cpu_fraction"] for r in rounds if r["concurrency"] == conc and r["via"] == via]
            case[via]["client_cpu_fraction_max"] = max(cpu)
        case.update(derive_overload(case["gateway"], case["direct"]))
        cases.append(case)
    params = {"concurrency": args.concurrency, "reps": args.reps, "seconds_per_round": args.seconds,
              "warmup_s": args.warmup, "max_requests_per_client": args.max_requests, "backoff_s": args.backoff,
              "request_timeout_s": args.timeout, "num_predict": args.num_predict, "model": MODEL,
              "path": "/api/chat", "stream": True,
              "order": "alternating per concurrency: even reps gateway first, odd reps direct first",
              "direct_spread": "client i -> instance i mod %d" % len(targets["direct"])}
    return {"params": params, "cases": cases, "rounds": rounds}, raw


def _raw(rec, t_origin, **extra):
    out = {k: rec[k] for k in ("target", "status", "kind", "tokens", "upstream", "detail")}
    out.update(start=round(rec["start"] - t_origin, 4), end=round(rec["end"] - t_origin, 4),
               ttft=None if rec["ttft"] is None else round(rec["ttft"], 4), **extra)
    return out


# ----------------------------------------------------------------------------- faults
async def run_cmd(argv, timeout=300, tail=None):
    """Run a command from inside the event loop; (exit status, seconds, what it said when it failed), or with
    tail=N the last N characters of its output instead."""
    start = time.monotonic()
    proc = await asyncio.create_subprocess_exec(*argv, stdout=asyncio.subprocess.PIPE,
                                                stderr=asyncio.subprocess.STDOUT)
    try:
        out, dummy = await asyncio.wait_for(proc.communicate(), timeout)
    except asyncio.TimeoutError:
        proc.kill()
        await proc.wait()
        return 124, time.monotonic() - start, "timed out after %d s" % timeout
    if tail:
        return proc.returncode, time.monotonic() - start, out.decode("utf-8", "replace")[-tail:]
    return proc.returncode, time.monotonic() - start, _complaint(proc.returncode, out)


def _complaint(returncode, output):
    """The lines of a failed command's output that say why (Ansible's fatal/ERROR lines), shortened."""
    if returncode == 0 or not output:
        return ""
    lines = [line.strip() for line in output.decode("utf-8", "replace").splitlines() if line.strip()]
    why = [line for line in lines if re.match(r"(fatal:|failed:|\[?ERROR|msg:)", line)] or lines[-2:]
    return " | ".join(why)[:400]


def attribute(records, own, t0, t1):
    """Split failures into the affected instances' own in-flight requests and the rest.

    own: set of 'address:port' affected by the fault; [t0, t1]: from the start of the fault command
    until it returned. A failure is 'own in flight' when it started before t1, ended after t0 and
    nginx's X-Ollama-Upstream names an affected instance (without that header: on timing alone).
    in_flight_on_affected_at_fault counts the requests on the affected instances that were still
    open when the first of them failed (at t1 when none failed)."""
    def overlaps(r):
        return r["start"] <= t1 and r["end"] >= t0

    def on_own(r):
        if not r["upstream"]:
            return None
        return any(part.strip() in own for part in r["upstream"].split(","))
    failed = [r for r in records if r["kind"] != "ok"]
    failed_own = [r for r in failed if own and overlaps(r) and on_own(r) is not False]
    t_fail = min((r["end"] for r in failed_own), default=t1)
    in_flight = [r for r in records if own and r["start"] <= min(t_fail, t1) and r["end"] >= t_fail
                 and on_own(r) is not False]
    return {"in_flight_on_affected_at_fault": len(in_flight), "failed_own_in_flight": len(failed_own),
            "failed_other": len(failed) - len(failed_own),
            "attributed_by": "upstream header" if any(r["upstream"] for r in records) else "timing only"}


def _action(argv):
    """A command as recorded in the results: its last words, paths relative to the checkout."""
    return " ".join(argv[-4:]).replace(ROOT + os.sep, "")


def _docker_exec(container, *argv):
    return ["docker", "exec", container] + list(argv)


def _ansible_playbook():
    local = os.path.join(ROOT, ".venv", "bin", "ansible-playbook")
    return local if os.access(local, os.X_OK) else "ansible-playbook"


def _find_vip():
    vip = os.environ.get("GPUFLEET_BENCH_VIP")
    if vip:
        return vip
    for path in glob.glob(os.path.join(ROOT, "inventories", "lab", "group_vars", "*", "*.yml")):
        with open(path, encoding="utf-8") as f:
            match = re.search(r"^ollama_gateway_vip_address:\s*[\"']?([0-9.]+)", f.read(), re.M)
        if match:
            return match.group(1)
    return None


def fault_cases(lab):
    """The cases as (name, description, plan or a 'skipped: ...' string)."""
    node1 = lab.nodes[0]
    inst = "%s:%d" % (node1["backend"], node1["ports"][-1])
    port = node1["ports"][-1]
    cases = [
        ("instance_stopped", "systemctl stop ollama@%d on %s at t=5 s" % (port, node1["name"]),
         {"own": {inst}, "at": 5.0, "fault": [_docker_exec(node1["name"], "systemctl", "stop", "ollama@%d" % port)],
          "restore": [_docker_exec(node1["name"], "systemctl", "reset-failed", "ollama@%d" % port),
                      _docker_exec(node1["name"], "systemctl", "start", "ollama@%d" % port)]}),
        ("instance_killed", "systemctl kill -s KILL ollama@%d on %s at t=5 s" % (port, node1["name"]),
         {"own": {inst}, "at": 5.0,
          "fault": [_docker_exec(node1["name"], "systemctl", "kill", "-s", "KILL", "ollama@%d" % port)],
          "restore": [_docker_exec(node1["name"], "systemctl", "reset-failed", "ollama@%d" % port),
                      _docker_exec(node1["name"], "systemctl", "start", "ollama@%d" % port)]}),
        ("reloads", "10 x systemctl reload nginx on %s, spread over the load" % lab.gateways[0]["name"],
         {"own": set(), "reloads": 10, "fault": [_docker_exec(lab.gateways[0]["name"], "systemctl", "reload", "nginx")],
          "restore": []}),
    ]
    drain = os.path.join(ROOT, "playbooks", "drain.yml")
    if os.path.exists(drain):
        base = [_ansible_playbook(), drain, "-i", os.path.join(ROOT, "inventories", "lab")]
        drain_args = shlex.split(os.environ.get("GPUFLEET_BENCH_DRAIN_ARGS",
                                                "-e drain=%s -e drain_timeout=60" % node1["name"]))
        undrain_args = shlex.split(os.environ.get("GPUFLEET_BENCH_UNDRAIN_ARGS", "-e undrain=%s" % node1["name"]))
        cases.append(("drain", "playbooks/drain.yml %s at t=4 s, load until 4 s after it returns"
                      % " ".join(drain_args),
                      {"own": set(), "at": 4.0, "fault": [base + drain_args], "restore": [base + undrain_args],
                       "extend_after": 4.0, "fault_timeout": 300,
                       "drained": {"%s:%d" % (node1["backend"], p) for p in node1["ports"]}}))
    else:
        cases.append(("drain", "playbooks/drain.yml", "skipped: drain entry point not present"))
    if len(lab.nodes) >= 2:
        node = lab.nodes[-1]
        cases.append(("node_stopped", "docker stop %s at t=5 s, started again after the load" % node["name"],
                      {"own": {"%s:%d" % (node["backend"], p) for p in node["ports"]}, "at": 5.0,
                       "fault": [["docker", "stop", node["name"]]], "restore": [["docker", "start", node["name"]]],
                       "fault_timeout": 60, "boot": node["name"]}))
    else:
        cases.append(("node_stopped", "docker stop", "skipped: the lab has one GPU node"))
    vip = _find_vip()
    if len(lab.gateways) >= 2 and vip:
        cases.append(("gateway_failover", "SIGKILL nginx on the gateway that holds %s at t=5 s" % vip,
                      {"own": set(), "at": 5.0, "vip": vip, "fault": [], "restore": []}))
    else:
        found = "VIP %s" % vip if vip else "no VIP"
        cases.append(("gateway_failover", "keepalived VIP",
                      "skipped: the lab has %d gateway(s) and %s" % (len(lab.gateways), found)))
    return cases


def _active_gateway(lab, vip):
    for gw in lab.gateways:
        addrs = sh(_docker_exec(gw["name"], "ip", "-o", "-4", "addr", "show"), check=False)
        if re.search(r"\binet %s/" % re.escape(vip), addrs):
            return gw["name"]
    return None


def one_fault(lab, name, plan, args):
    body = loadgen.chat_body(MODEL, PROMPT, args.num_predict)
    target = lab.gateway_target()
    events = []
    if "vip" in plan:
        active = _active_gateway(lab, plan["vip"])
        if not active:
            return {"status": "skipped: no gateway holds the VIP %s" % plan["vip"]}
        target = lab.gateway_target(host=plan["vip"], name="vip")
        plan["fault"] = [_docker_exec(active, "systemctl", "kill", "-s", "KILL", "nginx")]
        plan["restore"] = [_docker_exec(active, "systemctl", "reset-failed", "nginx"),
                           _docker_exec(active, "systemctl", "start", "nginx")]
    load = loadgen.Load([target], args.fault_concurrency, args.fault_seconds, body, max_requests=args.max_requests,
                        backoff=args.fault_backoff, timeout=args.fault_timeout_request)

    async def act(ld):
        if plan.get("reloads"):
            for i in range(plan["reloads"]):
                step = max(0.5, (ld.seconds - 3.0) / plan["reloads"])  # 1.5 s in, 1.5 s before the end
                await asyncio.sleep(max(0.0, ld.started + 1.5 + step * i - time.monotonic()))
                t0 = time.monotonic()
                rc, secs, err = await run_cmd(plan["fault"][0], 60)
                events.append({"action": "reload %d" % (i + 1), "t0": t0, "t1": time.monotonic(), "rc": rc,
                               "seconds": round(secs, 2), "output": err})
            return
        await asyncio.sleep(plan["at"])
        for argv in plan["fault"]:
            t0 = time.monotonic()
            rc, secs, err = await run_cmd(argv, plan.get("fault_timeout", 60))
            events.append({"action": _action(argv), "t0": t0, "t1": time.monotonic(), "rc": rc,
                           "seconds": round(secs, 2), "output": err})
        if plan.get("extend_after") is not None:
            ld.extend_until = time.monotonic() - ld.started + plan["extend_after"]

    client = run_load(load, [act])
    restore = []
    for argv in plan["restore"]:
        proc = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=300, check=False)
        restore.append({"action": _action(argv), "rc": proc.returncode,
                        "output": _complaint(proc.returncode, proc.stdout)})
    if plan.get("boot"):
        _wait_booted(plan["boot"])
    summary = loadgen.summarize(load.records)
    t0 = min((e["t0"] for e in events), default=load.started)
    t1 = max((e["t1"] for e in events), default=load.started)
    out = {"status": "ran", "total": summary["requests"], "failed": summary["failed"], "ok": summary["ok"],
           "failures": summary["failures"], "ttft_p50_ms": summary["ttft_p50_ms"],
           "ttft_p95_ms": summary["ttft_p95_ms"], "load_s": round(client["wall_s"], 1),
           "client_cpu_fraction": round(client["client_cpu_fraction"], 3),
           "fault_events": [{k: (round(v - load.started, 2) if k in ("t0", "t1") else v) for k, v in e.items()}
                            for e in events],
           "restore": restore, **attribute(load.records, plan["own"], t0, t1)}
    if plan.get("drained"):
        after = [r for r in load.records if r["start"] > t1 and r["upstream"]
                 and any(p.strip() in plan["drained"] for p in r["upstream"].split(","))]
        out["new_requests_to_drained_after_drain"] = len(after)
    if any(e["rc"] != 0 for e in events):
        out["status"] = "ran, but the fault command failed: " + next(e["output"] for e in events if e["rc"] != 0)
    if any(r["rc"] != 0 for r in restore):
        out["status"] += "; a restore command failed: " + next(r["output"] for r in restore if r["rc"] != 0)
    return out, load.records, load.started


def _wait_booted(container, timeout=90):
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        state = sh(_docker_exec(container, "systemctl", "is-system-running"), check=False)
        if state in ("running", "degraded"):
            return
        time.sleep(1)
    raise RuntimeError("%s: systemd did not finish booting within %d s" % (container, timeout))


def faults(lab, args):
    cases, raw = [], []
    t_origin = time.monotonic()
    for name, description, plan in fault_cases(lab):
        if args.only and name not in args.only:
            continue
        if args.skip and name in args.skip:
            plan = "skipped: left out with --skip"
        if isinstance(plan, str):
            log("fault %s: %s" % (name, plan))
            cases.append({"case": name, "description": description, "status": plan})
            continue
        log("fault %s: %s" % (name, description))
        result = one_fault(lab, name, plan, args)
        if isinstance(result, dict):  # skipped at run time
            cases.append({"case": name, "description": description, **result})
            continue
        out, records, started = result
        try:
            out["restored_after_s"] = wait_healthy(lab)
        except RuntimeError as exc:
            out["restored_after_s"] = None
            out["status"] += "; restore failed: %s" % exc
            cases.append({"case": name, "description": description, **out})
            log("fault %s: %s" % (name, out["status"]))
            raise
        cases.append({"case": name, "description": description, **out})
        raw += [_raw(r, t_origin, case=name) for r in records]
        log("fault %s: failed %d/%d %s (own in-flight %d, other %d), lab answers again after %.1f s"
            % (name, out["failed"], out["total"], out["failures"], out["failed_own_in_flight"], out["failed_other"],
               out["restored_after_s"]))
    params = {"concurrency": args.fault_concurrency, "seconds": args.fault_seconds, "backoff_s": args.fault_backoff,
              "request_timeout_s": args.fault_timeout_request, "num_predict": args.num_predict, "model": MODEL,
              "path": "/api/chat", "stream": True, "max_requests_per_client": args.max_requests}
    return {"params": params, "cases": cases}, raw


# ----------------------------------------------------------------------------- main
def write_results(kind, result, raw, lab_shape, baseline, started):
    stamp = started.strftime("%Y%m%dT%H%M%SZ")
    doc = {"kind": "gateway-" + kind, "timestamp": started.isoformat(timespec="seconds"),
           "duration_s": round((datetime.datetime.now(datetime.timezone.utc) - started).total_seconds(), 1),
           "git": git_facts(), "note": os.environ.get("GPUFLEET_BENCH_NOTE", ""),
           "host": {"cpus": os.cpu_count(), "python": platform.python_version(), "loadavg": os.getloadavg()},
           "lab": lab_shape, **result}
    paths = [os.path.join(RESULTS, "gateway-%s.json" % kind)]
    if baseline:
        paths.append(os.path.join(RESULTS, "baseline", "gateway-%s.json" % kind))
    for path in paths:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w", encoding="utf-8") as f:
            json.dump(doc, f, indent=1, sort_keys=False)
            f.write("\n")
    raw_path = os.path.join(RESULTS, "raw", "gateway-%s-%s.json" % (kind, stamp))
    os.makedirs(os.path.dirname(raw_path), exist_ok=True)
    with open(raw_path, "w", encoding="utf-8") as f:
        json.dump({"kind": doc["kind"], "timestamp": doc["timestamp"], "records": raw}, f)
    log("wrote %s" % ", ".join(os.path.relpath(p, ROOT) for p in paths + [raw_path]))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("kind", choices=("ready", "overload", "faults"))
    parser.add_argument("--baseline", action="store_true", help="also store the summary as the 'before' column")
    parser.add_argument("--concurrency", type=int, nargs="+", default=[4, 64, 128])
    parser.add_argument("--reps", type=int, default=2, help="gateway/direct pairs per concurrency")
    parser.add_argument("--seconds", type=float, default=12.0, help="seconds each overload round starts requests")
    parser.add_argument("--warmup", type=float, default=2.0, help="seconds left out of the throughput window")
    parser.add_argument("--pause", type=float, default=1.0)
    parser.add_argument("--max-requests", type=int, default=400, help="requests per client, at most")
    parser.add_argument("--backoff", type=float, default=1.0,
                        help="seconds an overload client waits after a failure (like a client told 'try again')")
    parser.add_argument("--fault-backoff", type=float, default=0.2, help="the same for the fault cases")
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds per request, at most")
    parser.add_argument("--num-predict", type=int, default=16, help="tokens per answer")
    parser.add_argument("--fault-concurrency", type=int, default=16)
    parser.add_argument("--fault-seconds", type=float, default=20.0)
    parser.add_argument("--fault-timeout-request", type=float, default=30.0)
    parser.add_argument("--only", nargs="+", help="fault cases to run (default: all)")
    parser.add_argument("--skip", nargs="+", help="fault cases to leave out, recorded as skipped")
    args = parser.parse_args(argv)
    started = datetime.datetime.now(datetime.timezone.utc)
    try:
        lab = Lab()
        if args.kind == "ready":
            wait_healthy(lab, timeout=20)
            log("lab ready: %d nodes, %d instances, gateway %s" % (
                len(lab.nodes), len(lab.instances()), lab.gateway_url))
            return 0
        wait_healthy(lab)
        shape = lab.describe()
        log("lab: %s, settings %s" % (", ".join(a for dummy, a in lab.instances()), shape["settings"]))
        result, raw = (overload if args.kind == "overload" else faults)(lab, args)
    except RuntimeError as exc:
        log("ERROR: %s" % exc)
        return 1
    write_results(args.kind, result, raw, shape, args.baseline, started)
    return 0


if __name__ == "__main__":
    sys.exit(main())
