"""Testinfra checks of the backend firewall (roles/ollama_firewall), run by `molecule verify` on every instance.

The Ollama ports of a GPU node accept connections from the node itself and from the gateways only; another
host on the backend network is refused at once (TCP reset). Addresses come from the inventory
(`lab_backend_address`), so the same file runs against the lab.
"""
import json

import pytest

PORTS = (11434, 11435)
TABLE = "gpufleet_ollama"


def variables(host, name=None):
    """Inventory variables of `name` (default: this instance); values from inventory plugins arrive wrapped as unsafe."""
    raw = host.ansible.get_variables() if name is None else host.backend.ansible_runner.get_variables(name)
    return {k: v["__ansible_unsafe"] if isinstance(v, dict) and "__ansible_unsafe" in v else v for k, v in raw.items()}


def only(host, group):
    if group not in variables(host).get("group_names", []):
        pytest.skip("not in %s" % group)


def backend_addresses(host, group):
    """Host name -> lab_backend_address of every host of `group`."""
    return {name: variables(host, name)["lab_backend_address"] for name in sorted(variables(host)["groups"][group])}


def connect(host, address, port, timeout=3):
    """TCP connect from `host` to address:port with python3: ('ok'|'refused'|'timeout'|error name, seconds)."""
    code = (
        "import json, socket, time\n"
        "t=time.monotonic()\n"
        "try:\n"
        "    socket.create_connection((%r, %d), timeout=%d).close(); r='ok'\n"
        "except ConnectionRefusedError: r='refused'\n"
        "except socket.timeout: r='timeout'\n"
        "except OSError as e: r=type(e).__name__\n"
        "print(json.dumps([r, time.monotonic()-t]))" % (address, port, timeout))
    result, seconds = json.loads(host.check_output("timeout %s python3 -c %s", str(timeout + 5), code))
    return result, seconds


def test_table_loaded_enabled_and_persistent(host):
    only(host, "gpu_nodes")
    assert host.file("/etc/nftables.d/gpufleet-ollama.nft").contains("Ansible managed")
    unit = host.service("gpufleet-ollama-firewall")
    assert unit.is_enabled  # loads the table at boot (a restarted container gets a fresh netns)
    assert unit.is_running
    rules = host.check_output("nft list table inet %s", TABLE)
    for port in PORTS:
        assert str(port) in rules
    assert "reject with tcp reset" in rules


def test_other_tables_untouched(host):
    """Docker's own `ip nat` table (its embedded DNS) survives: the policy never flushes the ruleset."""
    only(host, "gpu_nodes")
    tables = host.check_output("nft list tables").splitlines()
    assert "table inet %s" % TABLE in tables
    assert "table ip nat" in tables
    # Docker's resolver (127.0.0.11, reached through that table) still answers
    gateway = sorted(variables(host)["groups"]["ollama_gateways"])[0]
    assert host.run("getent hosts %s", gateway).rc == 0


def test_allowed_sources_are_the_gateways(host):
    """The gateways' backend addresses, plus the lab's one extra source: the docker host's address on the
    backend bridge (.1, ollama_firewall_extra_sources in inventories/lab), where bench/ sends direct load."""
    only(host, "gpu_nodes")
    listed = host.check_output("nft list set inet %s allowed_ipv4", TABLE).split("elements = {")[1].split("}")[0]
    allowed = sorted(a.strip() for a in listed.split(",") if a.strip())
    bridge = variables(host)["lab_backend_address"].rsplit(".", 1)[0] + ".1"
    assert allowed == sorted(list(backend_addresses(host, "ollama_gateways").values()) + [bridge])
    # the other GPU nodes are not among them
    assert not set(allowed) & set(a for n, a in backend_addresses(host, "gpu_nodes").items())


@pytest.mark.parametrize("port", PORTS)
def test_node_reaches_its_own_instances(host, port):
    """The node's own connections to its backend address (the health checks) pass: they arrive over loopback."""
    only(host, "gpu_nodes")
    assert connect(host, variables(host)["lab_backend_address"], port)[0] == "ok"


@pytest.mark.parametrize("port", PORTS)
def test_gateway_reaches_every_instance(host, port):
    only(host, "ollama_gateways")
    for name, address in backend_addresses(host, "gpu_nodes").items():
        assert connect(host, address, port)[0] == "ok", "gateway -> %s %s:%d" % (name, address, port)


@pytest.mark.parametrize("port", PORTS)
def test_other_nodes_are_refused_at_once(host, port):
    """A GPU node is not a gateway: its connection to another node's Ollama port is reset, not left hanging."""
    only(host, "gpu_nodes")
    me = variables(host)["inventory_hostname"]
    others = {n: a for n, a in backend_addresses(host, "gpu_nodes").items() if n != me}
    if not others:
        pytest.skip("a single GPU node")
    for name, address in others.items():
        result, seconds = connect(host, address, port)
        assert result == "refused", "%s -> %s %s:%d: %s" % (me, name, address, port, result)
        assert seconds < 1.0, seconds


def test_other_ports_untouched(host):
    """Only the Ollama ports are guarded: sshd on a GPU node still answers another GPU node."""
    only(host, "gpu_nodes")
    me = variables(host)["inventory_hostname"]
    for name, address in backend_addresses(host, "gpu_nodes").items():
        if name != me:
            assert connect(host, address, 22)[0] == "ok", "%s -> %s %s:22" % (me, name, address)
