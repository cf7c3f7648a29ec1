# -*- coding: utf-8 -*-
# Copyright (c) 2026, gpufleet maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A no-op site.yml over ssh at fleet size, against `ansible -m setup` on the same hosts (issue 10, must-have 6).

    python3 bench/fleet.py measure                 2, then 8 GPU nodes × 4 stand-in GPUs + 2 gateways, fresh each
    python3 bench/fleet.py measure --sizes 2 --reps 3
    python3 bench/fleet.py up --nodes N            a fleet to try by hand (.lab/fleet/inventory, ssh connection)
    python3 bench/fleet.py status | down

Normally run through `bench/run fleet`. The fleet is its own set of systemd Debian containers (the lab's image,
local/gpufleet-debian): fleet-node-1..N on the network gpufleet-fleet-backend (172.30.130.0/24), fleet-gateway-1..G on
it and on gpufleet-fleet-front (172.30.140.0/24), everything labelled gpufleet.lab=fleet, so it coexists with the lab
(scripts/lab, gpufleet.lab=lab) and `down` removes exactly what `up` made. Ansible reaches it as production does:
ssh as root with a key made for the fleet (.lab/fleet/ssh/, ed25519, no passphrase), pipelining, ControlPersist.
The inventory (.lab/fleet/inventory/) is static YAML; its group_vars link the lab's (inventories/lab/group_vars) and
add what differs on the fleet's networks (zz-fleet.yml: the gateways' virtual IP, their own CA).

What `measure` does for each size N, from fresh containers each time (docs/performance.md, "Site run at fleet size"):
up (containers, sshd, 4 stand-in GPUs per node in /etc/standin/nvidia-smi.json, tests/integration/lab_prepare.yml;
untimed), one `ansible all -m ping` that opens the ssh master connections (untimed), the first converge
(`ansible-playbook site.yml`, timed), then --reps rounds of `ansible all -m setup` and the second, no-op site.yml,
alternating which goes first; every no-op must end with changed=0 and failed=0 on every host (PLAY RECAP). Medians,
their ratio, and between the smallest and largest size the marginal cost of one more node: (t_large - t_small) /
(N_large - N_small) for the no-op, `-m setup` and the first converge.

Results: bench/results/fleet.json (committed), bench/results/raw/fleet-<UTC>.json and the command logs in
bench/results/raw/fleet-<UTC>/ (not committed). Traffic goes only to the fleet's containers (and, on the first
converge, the gateways' apt installs from the Debian mirror the image was built from). Every command has a time limit.
Exit status: 0 every size measured and every no-op unchanged, 1 a size failed or a no-op changed something,
2 this machine is not ready (docker, the image, a name or network in the way).
"""

import argparse
import datetime
import json
import os
import platform
import re
import shlex
import signal
import socket
import subprocess
import sys
import time
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from models import log, sh, run_streaming, banner_events, median, ratio, complaint, _venv, BANNER  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RESULTS = os.path.join(ROOT, "bench", "results")
STATE = os.environ.get("GF_STATE") or os.path.join(ROOT, ".lab")
FLEET_DIR = os.path.join(STATE, "fleet")
INVENTORY = os.path.join(FLEET_DIR, "inventory")
KEY = os.path.join(FLEET_DIR, "ssh", "id_ed25519")
LAB_GROUP_VARS = os.path.join(ROOT, "inventories", "lab", "group_vars")
LAB_SCRIPT = os.path.join(ROOT, "scripts", "lab")
PREPARE = os.path.join("tests", "integration", "lab_prepare.yml")
SITE = "site.yml"

LABEL_KEY, LABEL_VALUE = "gpufleet.lab", "fleet"
LABEL = "%s=%s" % (LABEL_KEY, LABEL_VALUE)
BACKEND_NET, BACKEND_PREFIX = "gpufleet-fleet-backend", "172.30.130"
FRONT_NET, FRONT_PREFIX = "gpufleet-fleet-front", "172.30.140"
VIP = FRONT_PREFIX + ".100"
IMAGE = "local/gpufleet-debian:bookworm"
MAX_NODES, MAX_GATEWAYS = 32, 2
SSH_ARGS = ("-o ControlMaster=auto -o ControlPersist=300s -o StrictHostKeyChecking=no "
            "-o UserKnownHostsFile=/dev/null")
GOALS = {"noop_to_setup": 8.0}
KINDS = ("setup", "noop")
GPU_MIB = 81559  # what the stand-in's default H100 reports
RECAP_KEYS = ("ok", "changed", "unreachable", "failed", "skipped", "rescued", "ignored")
# profile_tasks' summary line: "<role> : <task> ---------- 1.23s"
PROFILE_LINE = re.compile(r"^(?P<task>\S.*?) -{3,} (?P<s>\d+(?:\.\d+)?)s\s*$")
ADHOC_LINE = re.compile(r"^(?P<host>\S+) \| (?P<status>SUCCESS|CHANGED|FAILED!?|UNREACHABLE!?)\b")


class NotReady(Exception):
    """This machine cannot run the fleet: exit 2 with the message."""


class SizeFailed(Exception):
    """One fleet size could not be measured; the results say why."""


# ============================================================================ pure parts (bench/tests/test_fleet.py)
def fleet_plan(nodes, gateways=2):
    """Every host of a fleet: [{name, group, backend, front}]. Gateways at backend .10, .11 and front .10, .11 (the
    virtual IP is front .100); GPU nodes at backend .101 and up."""
    if not 1 <= nodes <= MAX_NODES:
        raise ValueError("--nodes must be 1..%d, got %r" % (MAX_NODES, nodes))
    if not 1 <= gateways <= MAX_GATEWAYS:
        raise ValueError("--gateways must be 1..%d, got %r" % (MAX_GATEWAYS, gateways))
    hosts = [{"name": "fleet-gateway-%d" % g, "group": "ollama_gateways", "backend": "%s.%d" % (BACKEND_PREFIX, 9 + g),
              "front": "%s.%d" % (FRONT_PREFIX, 9 + g)} for g in range(1, gateways + 1)]
    hosts += [{"name": "fleet-node-%d" % i, "group": "gpu_nodes", "backend": "%s.%d" % (BACKEND_PREFIX, 100 + i),
               "front": ""} for i in range(1, nodes + 1)]
    return hosts


def lab_driver_pin(release="12"):
    """The stand-in driver version the lab pins for a Debian release (inventories/lab/group_vars/all/main.yml): the
    fleet's nodes (bookworm) report it as the loaded module's, as nodes booted with it would."""
    import yaml
    with open(os.path.join(ROOT, "inventories", "lab", "group_vars", "all", "main.yml")) as f:
        return str(yaml.safe_load(f)["lab_nvidia_driver"][release]["pin"])


def standin_gpus(host, count, driver="580.95.05"):
    """The stand-in nvidia-smi's JSON (tests/standin/nvidia-smi) for `count` H100s with UUIDs unique to the host."""
    gpus = [{"name": "NVIDIA H100 80GB HBM3", "uuid": "GPU-%s" % uuid.uuid5(uuid.NAMESPACE_DNS, "%s.gpu%d.fleet" % (
        host, i)), "memory_total_mib": GPU_MIB, "memory_used_mib": 0} for i in range(count)]
    return {"driver_version": driver, "cuda_version": "13.0", "gpus": gpus}


def _yaml_str(value):
    """A YAML scalar in double quotes (JSON's string syntax is valid YAML)."""
    return json.dumps(str(value))


def render_inventory(plan, control_path_dir, ssh_args=SSH_ARGS):
    """The fleet's static inventory (YAML): the groups the site expects, every host's addresses as the lab's docker
    inventory composes them (lab_backend_address, lab_front_address), and the ssh connection on the group `fleet`
    only (the implicit localhost of lab_prepare.yml stays local)."""
    out = ["---",
           "# Generated by bench/fleet.py up (the next `up` rewrites it). The fleet's containers over ssh;",
           "# group_vars/ links the lab's (inventories/lab/group_vars) and adds zz-fleet.yml for the fleet's networks.",
           "all:",
           "  children:",
           "    fleet:",
           "      vars:",
           "        ansible_connection: ssh",
           "        ansible_user: root",
           "        ansible_ssh_private_key_file: %s" % _yaml_str("{{ inventory_dir | dirname }}/ssh/id_ed25519"),
           "        ansible_ssh_pipelining: true",
           "        ansible_ssh_args: %s" % _yaml_str(ssh_args),
           "        ansible_control_path_dir: %s" % _yaml_str(control_path_dir),
           "      children:"]
    for group in ("gpu_nodes", "ollama_gateways"):
        out += ["        %s:" % group, "          hosts:"]
        members = [h for h in plan if h["group"] == group]
        if not members:
            out[-1] += " {}"
        for h in members:
            out.append("            %s: {ansible_host: %s, lab_backend_address: %s, lab_front_address: %s}" % (
                h["name"], _yaml_str(h["backend"]), _yaml_str(h["backend"]), _yaml_str(h["front"])))
    return "\n".join(out) + "\n"


def render_overrides():
    """{group: YAML} loaded after the lab's group_vars files (same group, later file name): what the fleet's networks
    change. The gateways' virtual IP moves to the fleet's front network; their CA is the fleet's own."""
    return {"ollama_gateways": "\n".join([
        "---",
        "# Generated by bench/fleet.py up: loaded after the lab's main.yml (same group, later name), so it wins.",
        "ollama_gateway_vip_address: %s" % VIP,
        "ollama_gateway_pki_dir: %s" % _yaml_str("{{ inventory_dir | dirname }}/pki"),
        ""])}


def parse_systemd_opts(script_text):
    """The docker options that boot systemd as PID 1, read from scripts/lab's SYSTEMD_OPTS=( ... ) (one source)."""
    match = re.search(r"^SYSTEMD_OPTS=\((.*?)\)\s*$", script_text, re.M | re.S)
    if not match:
        raise ValueError("no SYSTEMD_OPTS=( ... ) in scripts/lab")
    return shlex.split(match.group(1), comments=True)


def parse_recap(lines):
    """{host: {ok, changed, unreachable, failed, skipped, rescued, ignored}} from the PLAY RECAP of ansible-playbook's
    output (lines: strings, or (t, text) pairs as run_streaming returns them). {} when there is no recap."""
    recap, seen = {}, False
    for line in lines:
        text = line[1] if isinstance(line, tuple) else line
        if text.startswith("PLAY RECAP"):
            seen, recap = True, {}
            continue
        if not seen:
            continue
        match = re.match(r"^(\S+)\s+:\s+(ok=\d+.*)$", text.strip())
        if not match:
            if text.strip() and recap:
                seen = False  # the recap ended (profile_tasks' summary follows)
            continue
        counts = dict((k, int(v)) for k, v in re.findall(r"(\w+)=(\d+)", match.group(2)))
        recap[match.group(1)] = {k: counts.get(k, 0) for k in RECAP_KEYS}
    return recap


def recap_totals(recap):
    """Sums over hosts, and the hosts that changed something, failed or were unreachable."""
    out = {k: sum(r[k] for r in recap.values()) for k in RECAP_KEYS}
    out["hosts"] = len(recap)
    for key in ("changed", "failed", "unreachable"):
        out[key + "_hosts"] = sorted(h for h, r in recap.items() if r[key])
    return out


def parse_adhoc(lines):
    """{host: SUCCESS | CHANGED | FAILED | UNREACHABLE} from the status lines of ad-hoc `ansible` output
    ("fleet-node-1 | SUCCESS => {", "fleet-node-2 | UNREACHABLE! => {")."""
    out = {}
    for line in lines:
        text = line[1] if isinstance(line, tuple) else line
        match = ADHOC_LINE.match(text)
        if match:
            out[match.group("host")] = match.group("status").rstrip("!")
    return out


def parse_profile(lines, top=12):
    """[{task, s}] from profile_tasks' summary at the end of the output, the slowest first."""
    rows = []
    for line in lines:
        text = line[1] if isinstance(line, tuple) else line
        match = PROFILE_LINE.match(text.rstrip())
        if match:
            rows.append({"task": match.group("task").strip(), "s": float(match.group("s"))})
    rows.sort(key=lambda r: -r["s"])
    return rows[:top]


def play_spans(events, end):
    """[{play, s}]: each PLAY banner to the next PLAY banner or the recap (or `end`)."""
    out = []
    for i, (t, kind, name) in enumerate(events):
        if kind != "PLAY":
            continue
        nxt = next((e[0] for e in events[i + 1:] if e[1] in ("PLAY", "PLAY RECAP")), end)
        out.append({"play": name, "s": round(nxt - t, 3)})
    return out


def run_order(reps, kinds=KINDS):
    """setup noop, noop setup, setup noop, ...: each kind goes first in every other round."""
    return [k for rep in range(reps) for k in (kinds if rep % 2 == 0 else tuple(reversed(kinds)))]


def marginal(small, large):
    """Seconds per added node between two sizes: (t_large - t_small) / (n_large - n_small). small, large: (n, t)."""
    (n1, t1), (n2, t2) = small, large
    if t1 is None or t2 is None or n2 == n1:
        return None
    return round((t2 - t1) / float(n2 - n1), 3)


def _ran(size):
    """Measured: 'ran', or 'ran, but the second site.yml is not a no-op: ...' (its times count, the report flags it)."""
    return str(size.get("status", "")).startswith("ran")


def derive(sizes):
    """Per-size ratios and, between the smallest and largest measured size, the marginal costs."""
    ok = sorted((s for s in sizes if _ran(s)), key=lambda s: s["nodes"])
    for s in ok:
        s["noop_to_setup"] = ratio(s["noop"]["median_s"], s["setup"]["median_s"], 2)
        s["goal_met"] = None if s["noop_to_setup"] is None else s["noop_to_setup"] <= GOALS["noop_to_setup"]
    if len(ok) < 2:
        return None
    a, b = ok[0], ok[-1]
    return {"from_nodes": a["nodes"], "to_nodes": b["nodes"],
            "noop_s_per_node": marginal((a["nodes"], a["noop"]["median_s"]), (b["nodes"], b["noop"]["median_s"])),
            "setup_s_per_node": marginal((a["nodes"], a["setup"]["median_s"]), (b["nodes"], b["setup"]["median_s"])),
            "first_converge_s_per_node": marginal((a["nodes"], a["first_converge"]["s"]),
                                                  (b["nodes"], b["first_converge"]["s"]))}


def parse_ansible_version(text):
    """'ansible [core 2.19.14]' (first line of `ansible --version`) -> '2.19.14'."""
    match = re.search(r"\[core ([^\]]+)\]", text)
    return match.group(1) if match else None


# ============================================================================ the fleet's containers
def _docker(*argv, timeout=60, check=True, stdin=None):
    return sh(["docker"] + list(argv), timeout=timeout, check=check, stdin=stdin)


def _exists(kind, name):
    return subprocess.run(["docker", kind, "inspect", name], capture_output=True, timeout=30,
                          check=False).returncode == 0


def _label(kind, name):
    return _docker(kind, "inspect", "-f", "{{ index .%sLabels %s }}" % ("Config." if kind == "container" else "",
                                                                         json.dumps(LABEL_KEY)), name, check=False)


def _ensure_network(name, prefix):
    if _exists("network", name):
        if _label("network", name) != LABEL_VALUE:
            raise NotReady("docker network %s exists and is not the fleet's (no label %s)" % (name, LABEL))
        return
    try:
        _docker("network", "create", "--label", LABEL, "--subnet", prefix + ".0/24", name)
    except RuntimeError as exc:
        raise NotReady("cannot create %s (%s.0/24): %s" % (name, prefix, exc)) from None


def fleet_containers():
    out = _docker("ps", "-a", "--filter", "label=" + LABEL, "--format", "{{.Names}}", timeout=30)
    return sorted(out.split())


def up(nodes, gateways=2, gpus=4, image=IMAGE, prepare=True, env=None):
    """Start the fleet (reusing the fleet's containers that exist), make ssh work, write the inventory, run
    lab_prepare.yml. Returns the plan."""
    plan = fleet_plan(nodes, gateways)
    if not _exists("image", image):
        raise NotReady("image %s is missing: build it with scripts/images.sh bookworm" % image)
    with open(LAB_SCRIPT, encoding="utf-8") as f:
        opts = parse_systemd_opts(f.read())
    for h in plan:
        if _exists("container", h["name"]) and _label("container", h["name"]) != LABEL_VALUE:
            raise NotReady("a container named %s exists and is not the fleet's (no label %s)" % (h["name"], LABEL))
    extra = sorted(set(fleet_containers()) - {h["name"] for h in plan})
    if extra:
        raise NotReady("the fleet has other containers (%s): run bench/fleet.py down first" % ", ".join(extra))
    _ensure_network(BACKEND_NET, BACKEND_PREFIX)
    _ensure_network(FRONT_NET, FRONT_PREFIX)
    for h in plan:
        if _exists("container", h["name"]):
            _docker("start", h["name"])
            continue
        _docker(*(["run", "-d", "--name", h["name"], "--hostname", h["name"], "--label", LABEL,
                   "--label", "gpufleet.group=" + h["group"], "--network", BACKEND_NET, "--ip", h["backend"]]
                  + opts + [image]), timeout=120)
        if h["front"]:
            _docker("network", "connect", "--ip", h["front"], FRONT_NET, h["name"])
    log("fleet: %d containers started (%s), waiting for systemd" % (len(plan), ", ".join(h["name"] for h in plan)))
    for h in plan:
        _wait_systemd(h["name"])
    pub = _ensure_key()
    for h in plan:
        _setup_ssh(h["name"], pub)
        if h["group"] == "gpu_nodes":
            _docker("exec", "-i", h["name"], "sh", "-c",
                    "mkdir -p /etc/standin && cat > /etc/standin/nvidia-smi.json",
                    stdin=json.dumps(standin_gpus(h["name"], gpus, lab_driver_pin()), indent=1) + "\n")
    for h in plan:
        _wait_port(h["backend"], 22)
    write_inventory(plan)
    close_masters()
    if prepare:
        env = env or ansible_env()
        log("fleet: %s (stand-in archives and nvidia-smi) over ssh" % PREPARE)
        rc, wall, lines = run_streaming([_tool("ansible-playbook"), PREPARE, "-i", INVENTORY], env, 1800)
        if rc != 0:
            raise NotReady("%s failed (exit %d): %s" % (PREPARE, rc, complaint(lines, rc, 1800)))
        log("fleet: prepared in %.1f s" % wall)
    log("fleet up: %d GPU nodes × %d stand-in GPUs, %d gateways; inventory %s (ssh)" % (
        nodes, gpus, gateways, os.path.relpath(INVENTORY, ROOT)))
    return plan


def _wait_systemd(name, limit=90):
    state = ""
    for dummy in range(limit):
        state = _docker("exec", name, "systemctl", "is-system-running", check=False, timeout=20)
        if state in ("running", "degraded"):
            return
        time.sleep(1)
    raise NotReady("%s: systemd did not finish booting in %d s (state: %s)" % (name, limit, state or "unknown"))


def _ensure_key():
    if not os.path.exists(KEY):
        os.makedirs(os.path.dirname(KEY), mode=0o700, exist_ok=True)
        sh(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "gpufleet-fleet", "-f", KEY], timeout=30)
    with open(KEY + ".pub", encoding="utf-8") as f:
        return f.read()


def _setup_ssh(name, pub):
    """The fleet's key for root, host keys of its own (the image ships one set for every container), sshd on."""
    script = ("set -e; umask 077; mkdir -p /root/.ssh; cat > /root/.ssh/authorized_keys; "
              "rm -f /etc/ssh/ssh_host_*; ssh-keygen -A >/dev/null; "
              "systemctl enable ssh >/dev/null 2>&1; systemctl restart ssh")
    _docker("exec", "-i", name, "sh", "-c", script, stdin=pub, timeout=60)


def _wait_port(address, port, limit=30):
    end = time.monotonic() + limit
    while True:
        try:
            with socket.create_connection((address, port), timeout=2):
                return
        except OSError as exc:
            if time.monotonic() > end:
                raise NotReady("%s:%d does not answer after %d s: %s" % (address, port, limit, exc)) from None
            time.sleep(0.5)


def control_path_dir():
    """Where ssh's master sockets live: under .lab/fleet when the path is short enough for a unix socket (ansible
    adds a 10-character hash; the limit is 108 bytes), else a directory of its own under the temp dir."""
    here = os.path.join(FLEET_DIR, "cp")
    return here if len(here) <= 80 else os.path.join("/tmp", "gpufleet-fleet-cp-%d" % os.getuid())


def write_inventory(plan):
    """.lab/fleet/inventory/: hosts.yml, and group_vars/<group>/ with links to the lab's files plus zz-fleet.yml."""
    if os.path.isdir(INVENTORY):
        subprocess.run(["rm", "-rf", "--", INVENTORY], check=True, timeout=60)
    os.makedirs(INVENTORY)
    cp_dir = control_path_dir()
    os.makedirs(cp_dir, mode=0o700, exist_ok=True)
    os.makedirs(os.path.join(FLEET_DIR, "pki"), exist_ok=True)
    with open(os.path.join(INVENTORY, "hosts.yml"), "w", encoding="utf-8") as f:
        f.write(render_inventory(plan, cp_dir))
    overrides = render_overrides()
    for group in sorted(set(os.listdir(LAB_GROUP_VARS)) | set(overrides)):
        gdir = os.path.join(INVENTORY, "group_vars", group)
        os.makedirs(gdir)
        src = os.path.join(LAB_GROUP_VARS, group)
        for name in sorted(os.listdir(src)) if os.path.isdir(src) else []:
            os.symlink(os.path.relpath(os.path.join(src, name), gdir), os.path.join(gdir, name))
        if group in overrides:
            with open(os.path.join(gdir, "zz-fleet.yml"), "w", encoding="utf-8") as f:
                f.write(overrides[group])


def close_masters():
    """Stop the ssh master connections of earlier fleets (a removed container's address is reused by the next one,
    and its master would hang), each by its own socket."""
    cp_dir = control_path_dir()
    if not os.path.isdir(cp_dir):
        return
    for name in os.listdir(cp_dir):
        path = os.path.join(cp_dir, name)
        sh(["ssh", "-o", "ControlPath=" + path, "-O", "exit", "fleet"], check=False, timeout=20)
        try:
            os.remove(path)
        except FileNotFoundError:
            pass    # the master removed its socket as it exited (it does so after answering -O exit)


def down():
    """Remove the containers and networks labelled gpufleet.lab=fleet, nothing else."""
    close_masters()
    names = fleet_containers()
    if names:
        _docker(*(["rm", "-f"] + names), timeout=300)
    nets = _docker("network", "ls", "-q", "--filter", "label=" + LABEL, timeout=30).split()
    if nets:
        _docker(*(["network", "rm"] + nets), timeout=120)
    log("fleet down: %d containers and %d networks labelled %s removed" % (len(names), len(nets), LABEL))


def status():
    print(_docker("ps", "-a", "--filter", "label=" + LABEL, "--format",
                  "table {{.Names}}\t{{.Status}}\t{{.Label \"gpufleet.group\"}}", timeout=30))


def instances(plan):
    """{node: [ports]} of the active ollama@ units on every GPU node."""
    out = {}
    for h in plan:
        if h["group"] != "gpu_nodes":
            continue
        units = _docker("exec", h["name"], "systemctl", "list-units", "--state=active", "--plain", "--no-legend",
                        "ollama@*.service", check=False, timeout=30)
        out[h["name"]] = sorted(int(p) for p in re.findall(r"ollama@(\d+)\.service", units))
    return out


# ============================================================================ the measured commands
def _tool(name):
    return _venv(name) or name


def ansible_env():
    env = dict(os.environ, ANSIBLE_CONFIG=os.path.join(ROOT, "ansible.cfg"), PYTHONUNBUFFERED="1",
               ANSIBLE_NOCOLOR="1", ANSIBLE_FORCE_COLOR="0", NO_COLOR="1")
    if _venv("python"):
        env["PATH"] = os.path.dirname(_venv("python")) + os.pathsep + env.get("PATH", "")
    return env


def commands(forks):
    inv = os.path.relpath(INVENTORY, ROOT)
    return {"setup": ["ansible", "all", "-i", inv, "-m", "ansible.builtin.setup", "-f", str(forks)],
            "site": ["ansible-playbook", SITE, "-i", inv, "-f", str(forks)],
            "ping": ["ansible", "all", "-i", inv, "-m", "ansible.builtin.ping", "-f", str(forks)]}


def _echo(t, text):
    match = BANNER.match(text)
    if match and match.group(1) == "PLAY":
        log("  %7.1f s  PLAY %s" % (t, match.group(2)))
    elif text.startswith(("fatal:", "failed:", "ERROR!", "[ERROR]")) or "UNREACHABLE" in text[:120]:
        log("  %7.1f s  %s" % (t, text[:300]))


class Runner:
    def __init__(self, env, raw_dir, forks):
        self.env, self.raw_dir, self.forks = env, raw_dir, forks
        self.cmds = commands(forks)

    def _run(self, label, argv, timeout, echo=None, keep=None):
        argv = [_tool(argv[0])] + argv[1:]
        rc, wall, lines = run_streaming(argv, self.env, timeout, echo)
        path = os.path.join(self.raw_dir, label + ".log")
        with open(path, "w", encoding="utf-8") as f:
            f.write("$ %s\n" % " ".join(shlex.quote(a) for a in [os.path.basename(argv[0])] + argv[1:]))
            f.writelines("[%9.3f] %s\n" % (t, text) for t, text in lines if keep is None or keep(text))
        return rc, round(wall, 3), lines, os.path.relpath(path, ROOT)

    def adhoc(self, label, kind, timeout=600):
        """ansible all -m setup (or ping); every host must answer SUCCESS. The log keeps each host's status line
        and the warnings, not the facts."""
        rc, wall, lines, path = self._run(label, self.cmds[kind], timeout,
                                          keep=lambda text: not text.startswith((" ", "\t", "}")))
        hosts = parse_adhoc(lines)
        out = {"rc": rc, "s": wall, "hosts": len(hosts), "log": path}
        bad = {h: s for h, s in hosts.items() if s != "SUCCESS"}
        if rc != 0 or bad or not hosts:
            out["complaint"] = "exit %d, hosts %s" % (rc, bad or "none answered")
        return out

    def site(self, label, timeout):
        rc, wall, lines, path = self._run(label, self.cmds["site"], timeout, echo=_echo)
        recap = parse_recap(lines)
        events = banner_events(lines)
        out = {"rc": rc, "s": wall, "recap": recap, "totals": recap_totals(recap), "plays": play_spans(events, wall),
               "slowest_tasks": parse_profile(lines), "log": path}
        if rc != 0 or not recap:
            out["complaint"] = complaint(lines, rc, timeout)
        return out


def measure_size(n, args, runner, env):
    """One fresh fleet of n GPU nodes: up, warm-up ping, first converge, then setup / no-op rounds."""
    log("=== %d GPU nodes: a fresh fleet" % n)
    down()
    t0 = time.monotonic()
    plan = up(n, args.gateways, args.gpus, args.image, prepare=True, env=env)
    out = {"nodes": n, "gateways": args.gateways, "hosts": len(plan), "gpus_per_node": args.gpus,
           "up_s": round(time.monotonic() - t0, 1), "status": "failed"}
    warm = runner.adhoc("%dn-ping" % n, "ping", timeout=300)
    if warm.get("complaint"):
        raise SizeFailed("ansible -m ping over ssh: %s" % warm["complaint"])
    out["warmup_ping_s"] = warm["s"]
    log("%d nodes: first converge (ansible-playbook site.yml -f %d)" % (n, args.forks))
    first = runner.site("%dn-first-converge" % n, timeout=args.converge_timeout)
    out["first_converge"] = {k: first[k] for k in ("s", "rc", "totals", "plays", "slowest_tasks", "log")}
    if first.get("complaint") or first["totals"]["failed"] or first["totals"]["unreachable"]:
        raise SizeFailed("the first converge failed: %s" % first.get("complaint", first["totals"]))
    log("%d nodes: first converge %.1f s (changed %d on %d hosts)" % (
        n, first["s"], first["totals"]["changed"], len(first["totals"]["changed_hosts"])))
    out["instances_per_node"] = instances(plan)
    out["instances"] = sum(len(p) for p in out["instances_per_node"].values())
    out["order"] = run_order(args.reps)
    setups, noops = [], []
    for i, kind in enumerate(out["order"]):
        label = "%dn-%d-%s" % (n, i + 1, kind)
        if kind == "setup":
            run = runner.adhoc(label, "setup", timeout=args.setup_timeout)
            if run.get("complaint"):
                raise SizeFailed("ansible -m setup: %s" % run["complaint"])
            setups.append(run)
        else:
            run = runner.site(label, timeout=args.noop_timeout)
            if run.get("complaint"):
                raise SizeFailed("the no-op site.yml failed: %s" % run["complaint"])
            noops.append(run)
        log("%d nodes, round %d: %s %.1f s" % (n, i + 1, kind, run["s"]))
    totals = [r["totals"] for r in noops]
    out["setup"] = {"runs_s": [r["s"] for r in setups], "median_s": median(r["s"] for r in setups),
                    "logs": [r["log"] for r in setups]}
    out["noop"] = {"runs_s": [r["s"] for r in noops], "median_s": median(r["s"] for r in noops),
                   "changed": sum(t["changed"] for t in totals), "failed": sum(t["failed"] for t in totals),
                   "unreachable": sum(t["unreachable"] for t in totals),
                   "changed_hosts": sorted({h for t in totals for h in t["changed_hosts"]}),
                   "recaps": [r["recap"] for r in noops], "plays": noops[-1]["plays"],
                   "slowest_tasks": noops[-1]["slowest_tasks"], "logs": [r["log"] for r in noops]}
    out["status"] = "ran"
    if out["noop"]["changed"] or out["noop"]["failed"] or out["noop"]["unreachable"]:
        out["status"] = "ran, but the second site.yml is not a no-op: changed %d (%s), failed %d" % (
            out["noop"]["changed"], ", ".join(out["noop"]["changed_hosts"]), out["noop"]["failed"])
    log("%d nodes: setup %.1f s, no-op %.1f s (medians), ratio %s; no-op changed %d, failed %d" % (
        n, out["setup"]["median_s"], out["noop"]["median_s"],
        ratio(out["noop"]["median_s"], out["setup"]["median_s"], 2), out["noop"]["changed"], out["noop"]["failed"]))
    return out


# ============================================================================ main
def git_facts():
    def git(*argv):
        return sh(["git", "-C", ROOT] + list(argv), check=False, timeout=30)
    return {"commit": git("rev-parse", "HEAD"),
            "dirty": bool(git("status", "--porcelain", "--", "roles", "plugins", "playbooks", "site.yml"))}


def method(args):
    c = commands(args.forks)
    return {
        "fleet": "fresh systemd Debian containers for every size: N GPU nodes with %d stand-in GPUs each "
                 "(ollama_instances: per_gpu, so %d instances per node) and %d gateways, the lab's group_vars "
                 "(virtual IP and CA moved to the fleet)" % (args.gpus, args.gpus, args.gateways),
        "connection": "ssh as root with a key, pipelining, ssh_args '%s'; the master connections are opened by an "
                      "untimed `ansible all -m ping` before the first converge and stay open for the whole "
                      "size" % SSH_ARGS,
        "setup": " ".join(c["setup"]),
        "site": " ".join(c["site"]),
        "order": "first converge once, then %d rounds of setup and no-op site, alternating which goes first; "
                 "medians" % args.reps,
        "marginal": "(t_large - t_small) / (N_large - N_small) between the smallest and largest size",
        "callbacks": "the repository's ansible.cfg (default stdout callback, profile_tasks)",
    }


def write_results(doc, raw, stamp):
    path = os.path.join(RESULTS, "fleet.json")
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(doc, f, indent=1)
        f.write("\n")
    os.replace(tmp, path)
    raw_path = os.path.join(RESULTS, "raw", "fleet-%s.json" % stamp)
    with open(raw_path, "w", encoding="utf-8") as f:
        json.dump({**raw, "summary": doc}, f)
    log("wrote %s and %s" % (os.path.relpath(path, ROOT), os.path.relpath(raw_path, ROOT)))


def _slim(size):
    """The committed summary keeps per-run times, totals and the slowest parts; the raw file keeps the recaps."""
    out = json.loads(json.dumps(size))
    if "noop" in out:
        out["noop"].pop("recaps", None)
    return out


def cmd_measure(args):
    started = datetime.datetime.now(datetime.timezone.utc)
    stamp = started.strftime("%Y%m%dT%H%M%SZ")
    raw_dir = os.path.join(RESULTS, "raw", "fleet-%s" % stamp)
    os.makedirs(raw_dir, exist_ok=True)
    env = ansible_env()
    version = parse_ansible_version(sh([_tool("ansible"), "--version"], check=False, timeout=60))
    runner = Runner(env, raw_dir, args.forks)
    load_start = os.getloadavg()
    sizes, raw = [], {"kind": "fleet", "timestamp": started.isoformat(timespec="seconds"), "sizes": []}
    status = 0
    try:
        for n in args.sizes:
            try:
                size = measure_size(n, args, runner, env)
            except (SizeFailed, NotReady, RuntimeError, subprocess.TimeoutExpired) as exc:
                log("%d nodes FAILED: %s" % (n, exc))
                size = {"nodes": n, "gateways": args.gateways, "gpus_per_node": args.gpus,
                        "status": "failed: %s" % str(exc)[:500]}
                if isinstance(exc, NotReady) and not sizes:
                    raise
            raw["sizes"].append(size)
            sizes.append(_slim(size))
            if size["status"] != "ran":
                status = 1
    except NotReady as exc:
        log("NOT READY: %s" % exc)
        status = 2
    finally:
        if not args.keep:
            try:
                down()
            except (RuntimeError, OSError, subprocess.TimeoutExpired) as exc:
                log("WARNING: bench/fleet.py down failed: %s" % exc)
        else:
            log("--keep: the last fleet stays up (bench/fleet.py down removes it)")
    if not sizes:
        return status
    doc = {"kind": "fleet", "timestamp": started.isoformat(timespec="seconds"),
           "duration_s": round((datetime.datetime.now(datetime.timezone.utc) - started).total_seconds(), 1),
           "git": git_facts(), "note": os.environ.get("GPUFLEET_BENCH_NOTE", ""),
           "host": {"cpus": os.cpu_count(), "python": platform.python_version(), "ansible_core": version,
                    "loadavg_start": [round(x, 2) for x in load_start],
                    "loadavg_end": [round(x, 2) for x in os.getloadavg()]},
           "settings": {"connection": "ssh", "pipelining": True, "ssh_args": SSH_ARGS, "forks": args.forks,
                        "reps": args.reps, "sizes": args.sizes, "gateways": args.gateways, "gpus_per_node": args.gpus,
                        "image": args.image},
           "method": method(args), "goals": GOALS, "sizes": sizes}
    doc["marginal"] = derive(doc["sizes"])
    derive(raw["sizes"])
    write_results(doc, raw, stamp)
    return status


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter,
                                     epilog="\n".join(__doc__.split("\n")[2:]))
    sub = parser.add_subparsers(dest="cmd", required=True)
    p_up = sub.add_parser("up", help="start a fleet and write its ssh inventory")
    p_me = sub.add_parser("measure", help="fresh fleets of each size: first converge, setup vs no-op site")
    for p in (p_up, p_me):
        p.add_argument("--gateways", type=int, default=2, help="gateways (1..2, default 2)")
        p.add_argument("--gpus", type=int, default=4, help="stand-in GPUs per node (default 4)")
        p.add_argument("--image", default=IMAGE)
    p_up.add_argument("--nodes", type=int, default=2, help="GPU nodes (1..%d, default 2)" % MAX_NODES)
    p_up.add_argument("--no-prepare", action="store_true", help="skip tests/integration/lab_prepare.yml")
    p_me.add_argument("--sizes", type=int, nargs="+", default=[2, 8], help="GPU node counts (default 2 8)")
    p_me.add_argument("--reps", type=int, default=2, help="setup / no-op rounds per size (default 2)")
    p_me.add_argument("--forks", type=int, default=16, help="ansible forks, at least the hosts (default 16)")
    p_me.add_argument("--keep", action="store_true", help="leave the last fleet up")
    p_me.add_argument("--converge-timeout", type=int, default=3600)
    p_me.add_argument("--noop-timeout", type=int, default=1800)
    p_me.add_argument("--setup-timeout", type=int, default=600)
    sub.add_parser("down", help="remove every container and network labelled %s" % LABEL)
    sub.add_parser("status", help="the fleet's containers")
    args = parser.parse_args(argv)

    def stop(signum, dummy):
        raise SystemExit(128 + signum)
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGHUP, stop)
    try:
        if args.cmd == "down":
            down()
        elif args.cmd == "status":
            status()
        elif args.cmd == "up":
            up(args.nodes, args.gateways, args.gpus, args.image, prepare=not args.no_prepare)
            print("ansible all -i %s -m ping" % os.path.relpath(INVENTORY, ROOT))
        else:
            if args.reps < 1:
                parser.error("--reps must be at least 1")
            for n in args.sizes:
                fleet_plan(n, args.gateways)
            hosts = max(args.sizes) + args.gateways
            if args.forks < hosts:
                parser.error("--forks %d is below the %d hosts of the largest fleet" % (args.forks, hosts))
            return cmd_measure(args)
    except ValueError as exc:
        parser.error(str(exc))
    except NotReady as exc:
        log("NOT READY: %s" % exc)
        return 2
    except RuntimeError as exc:
        log("FAILED: %s" % exc)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
