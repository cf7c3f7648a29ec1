"""Testinfra checks of the gateways' virtual IP (role ollama_gateway_vip), run by `molecule verify`.

The VIP is on exactly one gateway; when nginx stops on that gateway the address moves to another
one within a bounded wait; nginx is started again and the test waits until one gateway holds the
address again (the first gateway may take it back by preemption), so the lab is left as found.
The failover test acts across gateways, so it runs once (on the first gateway) and reaches the
others through docker. Also runs against the lab:
  pytest --hosts='ansible://all' --ansible-inventory=inventories/lab molecule/default/tests/test_vip.py
"""
import time
from urllib.parse import urlsplit, urlunsplit

import pytest
import testinfra

CONFIG = "/etc/keepalived/keepalived.conf"
MOVE_TIMEOUT_S = 15      # fall 2 x interval 1 s, plus the backup's takeover: ~3 s measured
SETTLE_TIMEOUT_S = 40    # nginx back, rise 2, preemption, gratuitous ARP
STABLE_S = 3


def variables(host):
    """The host's inventory variables (values from inventory plugins arrive wrapped as unsafe)."""
    return {k: v["__ansible_unsafe"] if isinstance(v, dict) and "__ansible_unsafe" in v else v
            for k, v in host.ansible.get_variables().items()}


def vip_setup(host):
    """(vip, gateways, check url through the VIP), or skip where the role configures no VIP."""
    v = variables(host)
    if "ollama_gateways" not in v.get("group_names", []):
        pytest.skip("not a gateway")
    gateways = sorted(v["groups"].get("ollama_gateways", []))
    vip = str(v.get("ollama_gateway_vip_address") or "")
    if not vip or "{{" in vip or len(gateways) < 2:
        pytest.skip("no virtual IP in this inventory (ollama_gateway_vip_address, two or more gateways)")
    check = urlsplit(str(v.get("ollama_gateway_vip_check_url") or "http://127.0.0.1/healthz"))
    url = urlunsplit((check.scheme, vip + (":%d" % check.port if check.port else ""), check.path, check.query, ""))
    return vip, gateways, url


def gateway(name):
    return testinfra.get_host("docker://%s" % name)


def holders(vip, gateways):
    return [g for g in gateways if gateway(g).run("ip -o -4 addr show to %s/32", vip).stdout.strip()]


def wait_for(what, timeout_s, probe):
    """Poll probe() every 0.5 s until it returns something true; fail with the last value after timeout_s."""
    deadline = time.monotonic() + timeout_s
    value = probe()
    while not value and time.monotonic() < deadline:
        time.sleep(0.5)
        value = probe()
    assert value, "%s: not within %d s" % (what, timeout_s)
    return value


def settled(vip, gateways):
    """One holder, unchanged for STABLE_S seconds: its name, else None."""
    first = holders(vip, gateways)
    if len(first) != 1:
        return None
    time.sleep(STABLE_S)
    return first[0] if holders(vip, gateways) == first else None


def journal(name):
    return gateway(name).run("journalctl -u keepalived -n 30 --no-pager").stdout


def test_keepalived_validated_running_on_the_front_interface(host):
    vip, _, _ = vip_setup(host)
    assert host.package("keepalived").is_installed
    service = host.service("keepalived")
    assert service.is_running and service.is_enabled, host.run("journalctl -u keepalived -n 30 --no-pager").stdout
    config = host.file(CONFIG)
    assert config.user == "root" and config.mode == 0o600      # may hold the VRRP password
    assert config.contains("Ansible managed")
    assert host.run("keepalived -t -f %s", CONFIG).rc == 0
    text = config.content_string
    assert "%s/" % vip in text
    interface = text.split("\n    interface ", 1)[1].split()[0]
    front = str(variables(host).get("lab_front_address") or "")
    if front:
        # the interface was found from the front address, not guessed
        assert "inet %s/" % front in host.check_output("ip -o -4 addr show dev %s", interface)
        assert "unicast_src_ip %s" % front in text


def test_vip_on_exactly_one_gateway(host):
    vip, gateways, url = vip_setup(host)
    if variables(host)["inventory_hostname"] != gateways[0]:
        pytest.skip("checked once, from the first gateway")
    holder = wait_for("exactly one gateway holds %s" % vip, SETTLE_TIMEOUT_S, lambda: settled(vip, gateways))
    others = [g for g in gateways if g != holder]
    # reachable through the front network from another gateway (ARP to the holder)
    answer = gateway(others[0]).run("curl -fsS -k --max-time 2 %s", url)
    assert answer.rc == 0, answer.stderr


def test_vip_moves_when_nginx_stops_on_the_holder(host):
    vip, gateways, url = vip_setup(host)
    if variables(host)["inventory_hostname"] != gateways[0]:
        pytest.skip("checked once, from the first gateway")
    holder = wait_for("exactly one gateway holds %s" % vip, SETTLE_TIMEOUT_S, lambda: settled(vip, gateways))
    old = gateway(holder)
    assert old.run("systemctl stop nginx").rc == 0

    def moved_away():
        now = holders(vip, gateways)
        return [] if holder in now else now

    try:
        moved = wait_for("%s moves away from %s after nginx stopped there" % (vip, holder), MOVE_TIMEOUT_S, moved_away)
        assert len(moved) == 1, "more than one holder: %s" % moved
        assert "FAULT" in journal(holder)
        # the old holder reaches the address through the front network: the new holder answers
        answer = old.run("curl -fsS -k --max-time 2 %s", url)
        assert answer.rc == 0, answer.stderr
    finally:
        old.run("systemctl start nginx")
        back = wait_for("one gateway holds %s again after nginx restarted on %s" % (vip, holder), SETTLE_TIMEOUT_S,
                        lambda: settled(vip, gateways))
    assert back in gateways and old.service("nginx").is_running
