# -*- coding: utf-8 -*-
# Copyright (c) 2026, gpufleet maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The site fault suite (issue 10): failed requests / total and data lost while faults meet the site's own runs.

    python3 bench/site_faults.py [--only CASE...] [--skip CASE...]
    python3 bench/site_faults.py --list

Normally run through `bench/run site-faults`, which brings the lab (scripts/lab, 2 GPU nodes) up first. A bounded
streaming load runs through the gateway during every case (clients that stop by themselves: bounded requests
each, and the load ends a few seconds after the case's last command). Each case is reported as failed / total,
split into the in-flight requests of the instances the fault took away (X-Ollama-Upstream) and the rest, plus
"data lost": what the GPU nodes and gateways held before the case (model manifests and blobs, installed releases,
the gateways' upstream servers) and no longer hold after it, once the lab is restored. Goal (issue 10): nothing
lost beyond the in-flight requests of a killed instance, i.e. failed_other == 0 and data_lost == [] everywhere.

Results: bench/results/site-faults.json (summary, committed), bench/results/raw/site-faults-<UTC>.json (every
request, not committed). Traffic goes only to the lab's containers (gateway.Lab refuses anything else).
"""

import argparse
import asyncio
import datetime
import glob
import hashlib
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gateway as gw  # noqa: E402  pylint: disable=wrong-import-position
import loadgen  # noqa: E402  pylint: disable=wrong-import-position
import models as mb  # noqa: E402  pylint: disable=wrong-import-position

ROOT, RESULTS, log = gw.ROOT, gw.RESULTS, gw.log
INVENTORY = os.path.join(ROOT, "inventories", "lab")
INSTALL_ROOT = "/opt/ollama"   # roles/ollama/defaults/main.yml ollama_install_root (the lab keeps the default)
OTHER_VERSION = "0.12.3"        # a good stand-in release scripts/lab builds besides the lab's own
TRANSFER_MODEL, TRANSFER_SIZE = "bench-fault-256m:latest", 256 << 20
# In this order: full_disk needs OTHER_VERSION not installed yet (node_stopped_rolling installs it).
CASES = ("instance_killed", "corrupt_archive", "corrupt_archive_signed", "broken_render", "full_disk",
         "transfer_interrupted", "node_stopped_rolling", "site_node_down", "site_node_down_static", "gateway_killed",
         "site_under_runner")


# ----------------------------------------------------------------------------- what the fleet holds
SNAPSHOT_NODE = r"""
cd "$1" 2>/dev/null && find manifests -type f -exec sha256sum {} + 2>/dev/null | sed 's/^/M /'
cd "$1" 2>/dev/null && find blobs -maxdepth 1 -type f -printf 'B %f %s\n' 2>/dev/null
ls -1 "$2" 2>/dev/null | grep -v '^[.]' | sed 's/^/R /'
for u in $(systemctl list-units --all --plain --no-legend 'ollama@*.service' | awk '{print $1}'); do
  echo "X $u $(systemctl show -p ExecStart --value "$u" | grep -o 'path=[^ ;]*' | head -1)"
done
"""


def parse_node_snapshot(text):
    """The output of SNAPSHOT_NODE as {'manifests': {path: sha}, 'blobs': {name: size}, 'releases': [...],
    'running': {unit: binary}}."""
    out = {"manifests": {}, "blobs": {}, "releases": [], "running": {}}
    for line in text.splitlines():
        kind, dummy, rest = line.partition(" ")
        if kind == "M":
            sha, dummy, path = rest.strip().partition(" ")
            out["manifests"][path.strip()] = sha
        elif kind == "B":
            name, dummy, size = rest.rpartition(" ")
            out["blobs"][name] = int(size) if size.isdigit() else size
        elif kind == "R" and rest.strip():
            out["releases"].append(rest.strip())
        elif kind == "X":
            unit, dummy, path = rest.partition(" ")
            out["running"][unit] = path.strip().replace("path=", "")
    out["releases"].sort()
    return out


def upstream_servers(nginx_conf):
    """Every 'address:port' named by a server line inside an upstream block of nginx.conf."""
    servers = set()
    for block in re.findall(r"^\s*upstream\s[^{]*\{([^}]*)\}", nginx_conf, re.M):
        servers |= set(re.findall(r"\bserver\s+([0-9.]+:\d+)", block))
    return sorted(servers)


def snapshot(lab, models_dir):
    """What every running GPU node and gateway holds now (stopped containers are left out)."""
    snap = {"nodes": {}, "gateways": {}}
    for node in lab.nodes:
        if not _running(node["name"]):
            continue
        text = gw.sh(["docker", "exec", node["name"], "sh", "-c", SNAPSHOT_NODE, "-", models_dir, INSTALL_ROOT],
                     timeout=60, check=False)
        snap["nodes"][node["name"]] = parse_node_snapshot(text)
    for gate in lab.gateways:
        if not _running(gate["name"]):
            continue
        conf = gw.sh(["docker", "exec", gate["name"], "cat", "/etc/nginx/nginx.conf"], check=False)
        snap["gateways"][gate["name"]] = {"nginx_conf_sha256": hashlib.sha256(conf.encode()).hexdigest(),
                                          "upstream_servers": upstream_servers(conf)}
    return snap


def lost(before, after, ignore_models=()):
    """What `before` held that `after` does not (a changed manifest counts as lost; models in ignore_models,
    the ones a case itself adds, do not count). Hosts missing from `after` (stopped) are not compared."""
    out = []
    ignored = tuple("/%s/%s" % tuple(m.split(":", 1)) if ":" in m else "/%s/" % m for m in ignore_models)
    for name, node in sorted(before["nodes"].items()):
        now = after["nodes"].get(name)
        if now is None:
            continue
        for path, sha in sorted(node["manifests"].items()):
            if ignored and path.endswith(ignored):
                continue
            if now["manifests"].get(path) != sha:
                out.append("%s: manifest %s %s" % (name, path, "changed" if path in now["manifests"] else "gone"))
        out += ["%s: blob %s gone" % (name, b) for b in sorted(set(node["blobs"]) - set(now["blobs"]))]
        out += ["%s: release %s gone" % (name, r) for r in node["releases"] if r not in now["releases"]]
    for name, gate in sorted(before["gateways"].items()):
        now = after["gateways"].get(name)
        if now is None:
            continue
        out += ["%s: upstream server %s gone" % (name, s) for s in gate["upstream_servers"]
                if s not in now["upstream_servers"]]
    return out


def changes(before, after):
    """What changed on the hosts both snapshots saw: releases run by an instance, nginx.conf."""
    out = []
    for name, node in sorted(before["nodes"].items()):
        now = after["nodes"].get(name)
        if now is None:
            continue
        out += ["%s: %s runs %s (was %s)" % (name, unit, now["running"].get(unit), binary)
                for unit, binary in sorted(node["running"].items()) if now["running"].get(unit) != binary]
    for name, gate in sorted(before["gateways"].items()):
        now = after["gateways"].get(name)
        if now is not None and now["nginx_conf_sha256"] != gate["nginx_conf_sha256"]:
            out.append("%s: nginx.conf changed" % name)
    return out


def _running(container):
    return gw.sh(["docker", "inspect", "-f", "{{.State.Running}}", container], check=False) == "true"


# ----------------------------------------------------------------------------- the cases
def playbook(name, *extra, inventory=INVENTORY):
    return [gw._ansible_playbook(), os.path.join(ROOT, "playbooks", name), "-i", inventory] + list(extra)


def static_inventory(lab, folder):
    """The lab as a static inventory (as production keeps its servers): every container by name with the docker
    connection and the addresses the docker inventory composes, and the lab's group_vars beside it (a link).
    Returns the inventory file's path."""
    os.makedirs(folder, exist_ok=True)
    lines = ["# written by bench/site_faults.py: the lab as a static inventory", "all:",
             "  vars:", "    ansible_connection: community.docker.docker", "  children:"]
    # in the lab inventory's order: the gateways' VRRP priorities follow the group's order
    for group, hosts in (("gpu_nodes", inventory_order(lab.nodes, "gpu_nodes")),
                         ("ollama_gateways", inventory_order(lab.gateways, "ollama_gateways"))):
        lines += ["    %s:" % group, "      hosts:"]
        lines += ["        %s: {lab_backend_address: \"%s\", lab_front_address: \"%s\"}"
                  % (h["name"], h["backend"] or "", h.get("front") or "") for h in hosts]
    path = os.path.join(folder, "hosts.yml")
    with open(path, "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")
    link = os.path.join(folder, "group_vars")
    if not os.path.islink(link):
        os.symlink(os.path.join(INVENTORY, "group_vars"), link)
    return path


def _exec(container, script, *args):
    return ["docker", "exec", container, "sh", "-c", script, "-"] + list(args)


def artifacts_dir():
    """The lab's stand-in artifacts (<gpufleet_lab_artifacts>, the parent of the bundle root)."""
    return os.path.dirname(mb.bundle_dir())


def artifact_path(version):
    fmt = "tgz" if tuple(int(x) for x in version.split(".")) < (0, 14, 0) else "tar.zst"
    return os.path.join(artifacts_dir(), version, "ollama-linux-amd64." + fmt)


def make_corrupt_archives(lab_version):
    """Two broken copies of the lab's release archive under <artifacts>/bench-faults/: `corrupt` has bytes
    flipped after its sha256sum.txt was written (the checksum catches it), `signed` is cut short and its
    sha256sum.txt lists the cut file (a release broken before it was signed: only unpacking finds it)."""
    src = artifact_path(lab_version)
    base = os.path.join(os.path.dirname(os.path.dirname(src)), "bench-faults")
    out = {}
    for kind in ("corrupt", "signed"):
        folder = os.path.join(base, kind, "0.14.9")
        os.makedirs(folder, exist_ok=True)
        dest = os.path.join(folder, os.path.basename(src))
        with open(src, "rb") as f:
            data = f.read()
        good = hashlib.sha256(data).hexdigest()
        if kind == "corrupt":
            mid = len(data) // 2
            bad = data[:mid] + bytes(b ^ 0xFF for b in data[mid:mid + 4096]) + data[mid + 4096:]
            listed = good
        else:
            bad = data[:len(data) // 2]
            listed = hashlib.sha256(bad).hexdigest()
        with open(dest, "wb") as f:
            f.write(bad)
        with open(os.path.join(folder, "sha256sum.txt"), "w", encoding="utf-8") as f:
            f.write("%s  %s\n" % (listed, os.path.basename(dest)))
        out[kind] = dest
    return out


# A tmpfs over the install root holding a copy of it and 16 KiB more: the next release cannot be unpacked there.
FILL_INSTALL_ROOT = r"""
set -e
used=$(du -sk "$1" | cut -f1)
mkdir -p /run/bench-full
mount -t tmpfs -o size=$((used + 16))k bench-full /run/bench-full
cp -a "$1"/. /run/bench-full/
mount --bind /run/bench-full "$1"
df -k "$1" | tail -1
"""
EMPTY_INSTALL_ROOT = r"""
if mountpoint -q "$1"; then umount "$1"; fi
if mountpoint -q /run/bench-full; then umount /run/bench-full; fi
"""
# Kill the node-to-node transfer (the rsync client the role runs with --files-from=-) 2 s after it starts. The
# pattern's [=] keeps pkill from matching this script's own command line.
KILL_TRANSFER = r"""
for i in $(seq 1 1200); do
  if pgrep -f -- '--files-from[=]-' >/dev/null; then sleep 2; pkill -KILL -f -- '--files-from[=]-'; echo killed; exit 0; fi
  sleep 0.1
done
echo 'no transfer seen in 120 s'; exit 1
"""
# Wait until the first instance of this node runs another release than $1 (the rolling change reached it).
WAIT_SWITCHED = r"""
for i in $(seq 1 1200); do
  systemctl show -p ExecStart --value "ollama@$2" | grep -q "$1/" || { echo switched; exit 0; }
  sleep 0.25
done
echo 'no switch seen in 300 s'; exit 1
"""


def plans(lab, lab_version, static=None, runner=None):
    """{case: (description, plan)}; a plan is a dict:
    steps    [(name, at_s or None, argv, timeout_s, after)]: started at `at` s into the load, or right after the
             step named `after` ended; the load ends 4 s after the last step
    own      instances the fault takes away ('address:port'); their in-flight failures are expected
    fault    the step whose window counts as the fault (for attributing in-flight failures)
    expect   [(step, rc 'zero'/'nonzero', a regular expression the step's output must match, or None)]
    others_clean  a step whose PLAY RECAP must show failed=0 unreachable=0 for every host but the stopped ones
    unchanged  True when the case must leave every instance's release and nginx.conf as they were
    setup / restore  commands run before / after the load (not under measurement)
    boot     containers to wait for after restore
    """
    # the rolling batches follow the inventory's order of gpu_nodes: stop the node whose batches come last, once the
    # first node's first instance switched
    order = rolling_order(lab)
    first, last = order[0], order[-1]
    out = {}
    out["node_stopped_rolling"] = (
        "upgrade.yml to %s under load; docker stop %s once %s's first instance switched; restored with docker start "
        "and upgrade.yml back to %s" % (OTHER_VERSION, last["name"], first["name"], lab_version),
        {"steps": [("upgrade", 2.0, playbook("upgrade.yml", "-e", "ollama_version=" + OTHER_VERSION), 900, None),
                   ("wait", 2.0, _exec(first["name"], WAIT_SWITCHED, "%s/%s" % (INSTALL_ROOT, lab_version),
                                       str(first["ports"][0])), 320, None),
                   ("stop", None, ["docker", "stop", last["name"]], 60, "wait")],
         "own": {"%s:%d" % (last["backend"], p) for p in last["ports"]}, "fault": "stop",
         "expect": [("wait", "zero", "switched"), ("upgrade", "nonzero", None)],
         "restore": [["docker", "start", last["name"]],
                     playbook("upgrade.yml", "-e", "ollama_version=" + lab_version)],
         "boot_before_restore": [last["name"]]})
    out["transfer_interrupted"] = (
        "%s (%d MiB bundle) placed with bench/models-place.yml under a tc limit of 80 mbit on node egress; the "
        "node-to-node rsync killed on %s 2 s after it starts; then placed again without the fault, and removed"
        % (TRANSFER_MODEL, TRANSFER_SIZE >> 20, last["name"]),
        {"steps": [("place", 2.0, [gw._ansible_playbook(), os.path.join(ROOT, "bench", "models-place.yml"),
                                   "-i", INVENTORY, "-e", json.dumps({"ollama_models_only": [TRANSFER_MODEL]})],
                    600, None),
                   ("kill", 2.0, _exec(last["name"], KILL_TRANSFER), 130, None)],
         "own": set(), "fault": "kill", "ignore_models": [TRANSFER_MODEL],
         "expect": [("kill", "zero", "killed"), ("place", "nonzero", None)],
         "transfer": True})
    out["corrupt_archive"] = (
        "site.yml with ollama_version 0.14.9 whose archive had 4 KiB flipped after its sha256sum.txt was written",
        {"steps": [("site", 2.0, None, 900, None)], "own": set(), "fault": "site", "archive": "corrupt",
         "expect": [("site", "nonzero", "failed its checksum")], "unchanged": True})
    out["corrupt_archive_signed"] = (
        "site.yml with ollama_version 0.14.9 whose archive was cut in half before its sha256sum.txt was written",
        {"steps": [("site", 2.0, None, 900, None)], "own": set(), "fault": "site", "archive": "signed",
         "expect": [("site", "nonzero", None)], "unchanged": True})
    out["full_disk"] = (
        "upgrade.yml to %s with %s's install root on a file system 16 KiB larger than what it holds; restored by "
        "unmounting it and upgrade.yml back to %s" % (OTHER_VERSION, first["name"], lab_version),
        {"setup": [_exec(first["name"], FILL_INSTALL_ROOT, INSTALL_ROOT)],
         "steps": [("upgrade", 2.0, playbook("upgrade.yml", "-e", "ollama_version=" + OTHER_VERSION), 900, None)],
         "own": set(), "fault": "upgrade", "expect": [("upgrade", "nonzero", None)],
         "restore": [_exec(first["name"], EMPTY_INSTALL_ROOT, INSTALL_ROOT),
                     playbook("upgrade.yml", "-e", "ollama_version=" + lab_version)],
         "cleanup": [_exec(first["name"], EMPTY_INSTALL_ROOT, INSTALL_ROOT)]})
    out["broken_render"] = (
        "site.yml with ollama_gateway_extra_http_config naming a directive nginx does not know",
        {"steps": [("site", 2.0, playbook("site.yml", "-e", json.dumps(
            {"ollama_gateway_extra_http_config": "bench_no_such_directive on;"})), 900, None)],
         "own": set(), "fault": "site", "expect": [("site", "nonzero", "bench_no_such_directive")],
         "unchanged": True})
    out["site_node_down"] = (
        "docker stop %s, then site.yml under load; started again afterwards" % last["name"],
        {"steps": [("stop", 2.0, ["docker", "stop", last["name"]], 60, None),
                   ("site", None, playbook("site.yml"), 900, "stop")],
         "own": {"%s:%d" % (last["backend"], p) for p in last["ports"]}, "fault": "stop",
         # left out at the first task: unreachable over ssh; a stopped container fails the docker connection's
         # exec instead (failed=1); either way ok=0, and the summary lists the node as unreachable
         "expect": [("site", "nonzero",
                     r"(?m)^%s\s+:\s+ok=0\s+changed=0\s+(unreachable=[1-9]\d*\s+failed=\d+|unreachable=0\s+failed=1)\s"
                     % re.escape(last["name"])),
                    ("site", "nonzero", r"%s\s+-\s+unreachable\b" % re.escape(last["name"]))],
         "others_clean": "site",
         "restore": [["docker", "start", last["name"]]], "boot": [last["name"]], "keeps_node": last})
    if runner:
        argv = [mb._venv("ansible-runner") or "ansible-runner", "run", runner, "--playbook", "site.yml",
                "--inventory", INVENTORY, "--ident", "site", "--rotate-artifacts", "1", "--quiet"]
        out["site_under_runner"] = (
            "site.yml, unchanged, under `ansible-runner run` (the engine of AWX and Automation Platform, docs/awx.md) "
            "on the converged lab, under load: it must succeed with changed=0 on every host and cost no request",
            {"steps": [("runner", 2.0, argv, 900, None)], "own": set(), "fault": "runner",
             "expect": [("runner", "zero", None)], "runner": runner, "unchanged": True})
    if static:
        description, plan = out["site_node_down"]
        plan = dict(plan, steps=[plan["steps"][0], ("site", None, playbook("site.yml", inventory=static), 900, "stop")])
        out["site_node_down_static"] = (description + ", with the lab as a static inventory", plan)
    return out


def inventory_order(hosts, group, inventory=INVENTORY):
    """hosts (dicts with a name) in the order of the lab inventory's group (for the GPU nodes, the order of the
    rolling batches; for the gateways, of their VRRP priorities)."""
    proc = subprocess.run([mb._venv("ansible-inventory") or "ansible-inventory", "-i", inventory, "--list"],
                          stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, timeout=120, check=False)
    try:
        names = json.loads(proc.stdout)[group]["hosts"]
    except (ValueError, KeyError):
        return list(hosts)
    by_name = {h["name"]: h for h in hosts}
    return [by_name[n] for n in names if n in by_name] + [h for h in hosts if h["name"] not in names]


def rolling_order(lab):
    return inventory_order(lab.nodes, "gpu_nodes")


def runner_dir(folder):
    """ansible-runner's private data directory for the lab, as docs/awx.md describes one: project/ links the
    checkout's site.yml and playbooks/, env/envvars names the checkout's ansible.cfg and collections and the lab's
    artifacts. Returns the folder."""
    shutil.rmtree(os.path.join(folder, "artifacts"), ignore_errors=True)  # an earlier run's
    for sub in ("project", "env"):
        os.makedirs(os.path.join(folder, sub), exist_ok=True)
    for name in ("site.yml", "playbooks"):
        link = os.path.join(folder, "project", name)
        if not os.path.islink(link):
            os.symlink(os.path.join(ROOT, name), link)
    envvars = {"ANSIBLE_CONFIG": os.path.join(ROOT, "ansible.cfg"),
               "ANSIBLE_COLLECTIONS_PATH": os.path.join(ROOT, ".collections"),
               "ANSIBLE_NOCOLOR": "1", "GPUFLEET_LAB_ARTIFACTS": artifacts_dir()}
    with open(os.path.join(folder, "env", "envvars"), "w", encoding="utf-8") as f:
        json.dump(envvars, f, indent=1)  # JSON is YAML
        f.write("\n")
    return folder


def runner_result(folder, ident):
    """What ansible-runner recorded for the run `ident`: status, rc and the playbook_on_stats event's data."""
    base = os.path.join(folder, "artifacts", ident)
    out = {}
    for name in ("status", "rc"):
        try:
            with open(os.path.join(base, name), encoding="utf-8") as f:
                out[name] = f.read().strip()
        except OSError:
            out[name] = None
    out["stats"] = None
    for path in sorted(glob.glob(os.path.join(base, "job_events", "*.json"))):
        with open(path, encoding="utf-8") as f:
            event = json.load(f)
        if event.get("event") == "playbook_on_stats":
            out["stats"] = event.get("event_data", {})
    return out


def runner_checks(result, hosts):
    """[(what, held)]: the run succeeded and every host was processed, ok, unchanged, not failed, reachable."""
    stats = result.get("stats") or {}
    out = [("ansible-runner status successful (%s), rc 0 (%s)" % (result.get("status"), result.get("rc")),
            result.get("status") == "successful" and result.get("rc") == "0"),
           ("every host processed and ok", sorted(stats.get("processed", {})) == sorted(hosts)
            and all(h in stats.get("ok", {}) for h in hosts))]
    for key, what in (("changed", "changed"), ("failures", "failed"), ("dark", "unreachable")):
        bad = sorted(h for h, n in (stats.get(key) or {}).items() if n)
        out.append(("no host %s%s" % (what, " (%s)" % ", ".join(bad) if bad else ""), not bad))
    return out


def _archive_steps(plan, archives):
    path = archives[plan["archive"]]
    plan["steps"] = [("site", 2.0, playbook("site.yml", "-e", "ollama_version=0.14.9", "-e", "ollama_artifact=" + path),
                      900, plan["steps"][0][4])]


async def _run_steps(ld, steps, events):
    done = {}

    async def one(name, at, argv, timeout, after):
        if after:
            while after not in done:
                await asyncio.sleep(0.1)
        else:
            await asyncio.sleep(max(0.0, ld.started + at - time.monotonic()))
        t0 = time.monotonic()
        rc, secs, output = await gw.run_cmd(argv, timeout, tail=12000)
        events.append({"step": name, "t0": t0, "t1": time.monotonic(), "rc": rc, "seconds": round(secs, 1),
                       "output": output})
        done[name] = rc
    ld.extend_until = 10 ** 6  # until the steps end
    await asyncio.gather(*(one(*s) for s in steps))
    ld.extend_until = time.monotonic() - ld.started + 4.0


def _sync(argv, timeout=900):
    proc = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=timeout, check=False)
    return {"action": gw._action(argv), "rc": proc.returncode, "output": gw._complaint(proc.returncode, proc.stdout)}


def expectations(plan, events):
    """[(what, held)] for the plan's expectations on its steps' exit status and output."""
    out = []
    for step, rc, text in plan.get("expect", []):
        ev = next((e for e in events if e["step"] == step), None)
        if ev is None:
            out.append(("%s ran" % step, False))
            continue
        out.append(("%s exit %s (%d)" % (step, rc, ev["rc"]), (ev["rc"] == 0) == (rc == "zero")))
        if text:
            found = re.search(text, ev["output"]) or re.search(text, " ".join(ev["output"].split()))
            out.append(("%s says %r" % (step, text), found is not None))
    return out


def recap_line(output, host):
    match = re.search(r"^%s\s+:\s+(ok=.*)$" % re.escape(host), output, re.M)
    return " ".join(match.group(1).split()) if match else None


def run_case(lab, name, description, plan, args, models_dir):
    body = loadgen.chat_body(gw.MODEL, gw.PROMPT, args.num_predict)
    for argv in plan.get("setup", []):
        res = _sync(argv, 120)
        if res["rc"] != 0:
            for argv2 in plan.get("cleanup", []):
                _sync(argv2, 120)
            return {"status": "setup failed: %s" % res["output"]}, [], None
    before = snapshot(lab, models_dir)
    if plan.get("transfer"):
        links = mb.Lab(models_dir)
        links.limit_links("80mbit", "64kb", "400ms")
    load = loadgen.Load([lab.gateway_target()], args.concurrency, 5.0, body, max_requests=args.max_requests,
                        backoff=args.backoff, timeout=args.request_timeout)
    events = []

    async def act(ld):
        await _run_steps(ld, plan["steps"], events)
    client = gw.run_load(load, [act])
    if plan.get("transfer"):
        links.clear_links()
    after_fault = snapshot(lab, models_dir)
    restore = []
    for container in plan.get("boot_before_restore", []):
        restore.append(_sync(["docker", "start", container], 60))
        gw._wait_booted(container)
    for argv in plan.get("restore", []):
        if argv[:2] == ["docker", "start"] and argv[2] in plan.get("boot_before_restore", []):
            continue
        restore.append(_sync(argv))
    for container in plan.get("boot", []):
        gw._wait_booted(container)
    extra = {}
    if plan.get("transfer"):
        extra["placed_again"] = _sync([gw._ansible_playbook(), os.path.join(ROOT, "bench", "models-place.yml"),
                                       "-i", INVENTORY, "-e", json.dumps({"ollama_models_only": [TRANSFER_MODEL]})])
        index = mb.ensure_bundle(TRANSFER_MODEL, TRANSFER_SIZE, dict(os.environ))
        extra["removed"] = mb.Lab(models_dir).delete_model(TRANSFER_MODEL, mb.unique_blobs(index))
    summary = loadgen.summarize(load.records)
    fault = next((e for e in events if e["step"] == plan["fault"]), None)
    t0, t1 = (fault["t0"], fault["t1"]) if fault else (load.started, load.started)
    out = {"status": "ran", "total": summary["requests"], "failed": summary["failed"], "ok": summary["ok"],
           "failures": summary["failures"], "load_s": round(client["wall_s"], 1),
           "client_cpu_fraction": round(client["client_cpu_fraction"], 3),
           **gw.attribute(load.records, plan["own"], t0, t1),
           "steps": [{"step": e["step"], "t0": round(e["t0"] - load.started, 1), "t1": round(e["t1"] - load.started, 1),
                      "rc": e["rc"], "why": gw._complaint(e["rc"], e["output"].encode())} for e in events],
           "restore": restore, **extra}
    out["checks"] = [{"check": what, "held": held} for what, held in expectations(plan, events)]
    for e in events:
        for host in [n["name"] for n in lab.nodes] + [g["name"] for g in lab.gateways]:
            line = recap_line(e["output"], host)
            if line:
                out.setdefault("recap", {}).setdefault(e["step"], {})[host] = line
    try:
        out["restored_after_s"] = gw.wait_healthy(lab, timeout=180)
    except RuntimeError as exc:
        out["restored_after_s"] = None
        out["status"] += "; restore failed: %s" % exc
    after = snapshot(lab, models_dir)
    ignore = plan.get("ignore_models", [])
    out["data_lost"] = sorted(set(lost(before, after_fault, ignore) + lost(before, after, ignore)))
    if plan.get("unchanged"):
        out["changed_by_the_failed_run"] = changes(before, after_fault)
        out["checks"].append({"check": "no release switched, nginx.conf kept",
                              "held": not out["changed_by_the_failed_run"]})
    if plan.get("others_clean"):
        recaps = out.get("recap", {}).get(plan["others_clean"], {})
        stopped = {plan["keeps_node"]["name"]} if plan.get("keeps_node") else set()
        others = {h: line for h, line in recaps.items() if h not in stopped}
        out["checks"].append({"check": "%s: every other host failed=0 unreachable=0" % plan["others_clean"],
                              "held": bool(others) and all(re.search(r"unreachable=0 failed=0", line)
                                                           for line in others.values())})
    if plan.get("runner"):
        out["runner"] = runner_result(plan["runner"], "site")
        hosts = [n["name"] for n in lab.nodes] + [g["name"] for g in lab.gateways]
        out["checks"] += [{"check": what, "held": held} for what, held in runner_checks(out["runner"], hosts)]
    if plan.get("keeps_node"):
        node = plan["keeps_node"]
        kept = [s for s in after_fault["gateways"].values()
                if all("%s:%d" % (node["backend"], p) in s["upstream_servers"] for p in node["ports"])]
        out["checks"].append({"check": "every gateway still lists %s" % node["name"],
                              "held": len(kept) == len(after_fault["gateways"]) > 0})
    if any(r["rc"] != 0 for r in restore) or any(r["rc"] != 0 for r in [extra.get("placed_again", {"rc": 0})]):
        out["status"] += "; a restore command failed"
    out["goal_met"] = (out["failed_other"] == 0 and not out["data_lost"] and all(c["held"] for c in out["checks"])
                       and out["status"] == "ran")
    return out, load.records, load.started


def gateway_case(lab, name, args, models_dir):
    """instance_killed and gateway_killed: bench/gateway.py's own cases, with data lost added."""
    source = {"instance_killed": "instance_killed", "gateway_killed": "gateway_failover"}[name]
    description, plan = next((d, p) for n, d, p in gw.fault_cases(lab) if n == source)
    if isinstance(plan, str):
        return description, {"status": plan}, [], None
    before = snapshot(lab, models_dir)
    fargs = argparse.Namespace(num_predict=args.num_predict, fault_concurrency=args.concurrency, fault_seconds=20.0,
                               max_requests=args.max_requests, fault_backoff=args.backoff,
                               fault_timeout_request=args.request_timeout)
    result = gw.one_fault(lab, source, plan, fargs)
    if isinstance(result, dict):
        return description, result, [], None
    out, records, started = result
    try:
        out["restored_after_s"] = gw.wait_healthy(lab, timeout=180)
    except RuntimeError as exc:
        out["restored_after_s"] = None
        out["status"] += "; restore failed: %s" % exc
    out["data_lost"] = lost(before, snapshot(lab, models_dir))
    out["checks"] = []
    if name == "gateway_killed" and out.get("fault_events"):
        out.update(handover(records, started + out["fault_events"][0]["t0"], started + out["fault_events"][0]["t1"]))
    out["goal_met"] = out["failed_other"] == 0 and not out["data_lost"] and out["status"] == "ran"
    return description, out, records, started


REFUSED = ("connect_refused", "connect_timeout")


def handover(records, t_fault, t_done=None):
    """A killed gateway: the requests it had in flight die with it (own in-flight: started before the kill command
    returned at t_done, ended after it began at t_fault), and connections to the virtual IP are refused until
    keepalived moves it to the other gateway (refused during the handover: no request reached a server, a client's
    retry succeeds). Everything else that failed is failed_other. Times in monotonic seconds."""
    t_done = t_fault if t_done is None else t_done
    ok_after = [r["start"] for r in records if r["kind"] == "ok" and r["start"] >= t_fault]
    back = min(ok_after) if ok_after else None
    own = [r for r in records if r["kind"] not in ("ok",) + REFUSED and r["start"] < t_done
           and (r["end"] is None or r["end"] >= t_fault)]
    refused = [r for r in records if r["kind"] in REFUSED and r["start"] >= t_fault and (back is None or r["start"] < back)]
    failed = [r for r in records if r["kind"] != "ok"]
    return {"failed_own_in_flight": len(own), "failed_refused_in_handover": len(refused),
            "failed_other": len(failed) - len(own) - len(refused),
            "handover_s": None if back is None else round(back - t_fault, 2),
            "attributed_by": "in flight through the killed gateway at the kill; refused until the first request after "
                             "the kill succeeded through the virtual IP (the handover)"}


# ----------------------------------------------------------------------------- the table (bench/report.py)
BEGIN = "<!-- BEGIN generated by bench/report.py from bench/results/site-faults.json: do not edit -->"
END = "<!-- END generated by bench/report.py from bench/results/site-faults.json -->"


def _cell(text):
    return str(text).replace("|", "\\|").replace("\n", " ")


def render(doc):
    """The markdown between BEGIN and END in docs/performance.md for a site-faults.json (None: no results)."""
    lines = [BEGIN, ""]
    if not doc:
        return "\n".join(lines + ["No results yet: run `bench/run site-faults`.", "", END])
    lines += ["Run %s, commit %s, %s cases, %.0f s; %d GPU nodes, %d instances; load %d streams through %s. Goal "
              "(issue 10): nothing lost beyond the in-flight requests of what the fault took away." % (
                  doc["timestamp"], doc["git"]["commit"][:10], len(doc["cases"]), doc["duration_s"],
                  len(doc["lab"]["nodes"]), doc["lab"]["instances"], doc["params"]["concurrency"],
                  doc["lab"]["gateway_url"]),
              "", "| case | failed / total | of those, in flight on what the fault took | refused during the VIP "
              "handover | failed beyond those | data lost | checks | goal |", "|---|---|---|---|---|---|---|---|"]
    for case in doc["cases"]:
        if "total" not in case:
            lines.append("| %s | %s | | | | | | |" % (case["case"], _cell(case.get("status", ""))))
            continue
        failed = [c["check"] for c in case.get("checks", []) if not c["held"]]
        checks = ("all %d held" % len(case.get("checks", [])) if not failed
                  else "failed: " + "; ".join(failed))
        handover_cell = ("%d in %s s" % (case["failed_refused_in_handover"], case.get("handover_s"))
                         if "failed_refused_in_handover" in case else "-")
        lines.append("| %s | %d / %d | %d | %s | %d | %s | %s | %s |" % (
            case["case"], case["failed"], case["total"], case.get("failed_own_in_flight", 0), handover_cell,
            case["failed_other"], _cell("; ".join(case.get("data_lost", [])) or "none"), _cell(checks),
            "met" if case.get("goal_met") else "**missed**" + (
                "" if case.get("status") == "ran" else " (%s)" % _cell(case.get("status", "")[:160]))))
    lines += ["", "What each case did:", ""]
    lines += ["- `%s`: %s" % (case["case"], case.get("description", "")) for case in doc["cases"]]
    return "\n".join(lines + ["", END])


# ----------------------------------------------------------------------------- main
def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--only", nargs="+", choices=CASES)
    parser.add_argument("--skip", nargs="+", choices=CASES)
    parser.add_argument("--list", action="store_true", help="print the cases and exit")
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--max-requests", type=int, default=3000, help="requests per client, at most")
    parser.add_argument("--backoff", type=float, default=0.2)
    parser.add_argument("--request-timeout", type=float, default=30.0)
    parser.add_argument("--num-predict", type=int, default=16)
    args = parser.parse_args(argv)
    if args.list:
        print("\n".join(CASES))
        return 0
    os.environ.setdefault("ANSIBLE_CONFIG", os.path.join(ROOT, "ansible.cfg"))
    os.environ.setdefault("ANSIBLE_NOCOLOR", "1")
    os.environ["LC_ALL"] = "C.UTF-8"  # ansible-playbook refuses a non-UTF-8 locale
    venv_bin = os.path.dirname(mb._venv("python") or sys.executable)
    os.environ["PATH"] = venv_bin + os.pathsep + os.environ.get("PATH", "")  # ansible-runner finds this ansible
    started = datetime.datetime.now(datetime.timezone.utc)
    try:
        lab = gw.Lab()
        gw.wait_healthy(lab)
        shape = lab.describe()
    except RuntimeError as exc:
        log("ERROR: %s" % exc)
        return 1
    models_dir = mb.lab_models_dir()
    lab_version = re.search(r"^ollama_version:\s*\"?([0-9.]+)", open(
        os.path.join(INVENTORY, "group_vars", "gpu_nodes", "main.yml"), encoding="utf-8").read(), re.M).group(1)
    archives = make_corrupt_archives(lab_version)
    mb.ensure_bundle(TRANSFER_MODEL, TRANSFER_SIZE, dict(os.environ))
    static = static_inventory(lab, os.path.join(os.path.dirname(artifacts_dir()), "static-inventory"))
    runner = runner_dir(os.path.join(os.path.dirname(artifacts_dir()), "runner"))
    all_plans = plans(lab, lab_version, static, runner)
    cases, raw, t_origin, status = [], [], time.monotonic(), 0
    for name in CASES:
        if (args.only and name not in args.only) or (args.skip and name in args.skip):
            continue
        log("case %s" % name)
        if name in ("instance_killed", "gateway_killed"):
            description, out, records, dummy = gateway_case(lab, name, args, models_dir)
        else:
            description, plan = all_plans[name]
            if "archive" in plan:
                _archive_steps(plan, archives)
            out, records, dummy = run_case(lab, name, description, plan, args, models_dir)
        cases.append({"case": name, "description": description, **out})
        raw += [gw._raw(r, t_origin, case=name) for r in records]
        log("case %s: %s, failed %s/%s (own in-flight %s, other %s), data lost %s, checks %s" % (
            name, out.get("status"), out.get("failed"), out.get("total"), out.get("failed_own_in_flight"),
            out.get("failed_other"), out.get("data_lost"),
            [c["check"] for c in out.get("checks", []) if not c["held"]] or "held"))
        if out.get("restored_after_s") is None and out.get("status", "").startswith("ran"):
            log("the lab did not come back after %s: stopping here" % name)
            status = 1
            break
    doc = {"kind": "site-faults", "timestamp": started.isoformat(timespec="seconds"),
           "duration_s": round((datetime.datetime.now(datetime.timezone.utc) - started).total_seconds(), 1),
           "git": gw.git_facts(), "note": os.environ.get("GPUFLEET_BENCH_NOTE", ""),
           "host": {"cpus": os.cpu_count(), "python": platform.python_version(), "loadavg": os.getloadavg()},
           "lab": shape,
           "params": {"concurrency": args.concurrency, "max_requests_per_client": args.max_requests,
                      "backoff_s": args.backoff, "request_timeout_s": args.request_timeout,
                      "num_predict": args.num_predict, "model": gw.MODEL, "path": "/api/chat", "stream": True,
                      "load_ends": "4 s after the case's last command"},
           "cases": cases}
    path = os.path.join(RESULTS, "site-faults.json")
    if args.only or args.skip:
        # a partial run updates its cases in the summary and keeps the others
        try:
            with open(path, encoding="utf-8") as f:
                old = {c["case"]: c for c in json.load(f).get("cases", [])}
        except (OSError, ValueError):
            old = {}
        old.update({c["case"]: c for c in cases})
        doc["cases"] = [old[c] for c in CASES if c in old]
    with open(path, "w", encoding="utf-8") as f:
        json.dump(doc, f, indent=1)
        f.write("\n")
    raw_path = os.path.join(RESULTS, "raw", "site-faults-%s.json" % started.strftime("%Y%m%dT%H%M%SZ"))
    os.makedirs(os.path.dirname(raw_path), exist_ok=True)
    with open(raw_path, "w", encoding="utf-8") as f:
        json.dump({"kind": "site-faults", "records": raw}, f)
    log("wrote %s and %s" % (os.path.relpath(path, ROOT), os.path.relpath(raw_path, ROOT)))
    if not all(c.get("goal_met") for c in doc["cases"]):
        status = status or 3
    return status


if __name__ == "__main__":
    shutil.which("docker") or sys.exit("docker is needed")
    sys.exit(main())
