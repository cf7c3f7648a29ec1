"""Metrics, the monitoring host and logs (issue 12) on the converged lab.

The node exporter of every GPU node and gateway is read the way the monitoring host reads it (HTTP on the host's
backend address, from this machine, which sits on the backend bridge); the Ollama, GPU and gateway series carry the
labels docs/metrics.md lists, with the values the stand-ins report (tests/standin: nvidia-smi's JSON, Ollama 0.14.1).
"""
import json
import os
import re
import time
import urllib.request

import pytest
import yaml

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
KEYS = {k["name"]: k["key"] for k in yaml.safe_load(
    open(os.path.join(ROOT, "inventories", "lab", "group_vars", "ollama_gateways", "main.yml")))["ollama_gateway_api_keys"]}


def var(host, name):
    v = host.ansible.get_variables()[name]
    return v["__ansible_unsafe"] if isinstance(v, dict) and "__ansible_unsafe" in v else v


def groups(host):
    return host.ansible.get_variables().get("group_names", [])


def scrape(address, port):
    with urllib.request.urlopen("http://%s:%d/metrics" % (address, port), timeout=10) as r:
        return r.read().decode()


def series(text, name):
    """{frozenset(labels): value} of one metric name in the exposition text."""
    out = {}
    for m in re.finditer(r'(?m)^%s(?:\{([^}]*)\})? (\S+)$' % re.escape(name), text):
        labels = frozenset(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', m.group(1) or ""))
        out[labels] = float(m.group(2))
    return out


def test_gpu_node_exports_each_instance_and_gpu_with_their_labels(host):
    if "gpu_nodes" not in groups(host):
        pytest.skip("not a GPU node")
    text = scrape(var(host, "lab_backend_address"), 9100)
    gpus = [dict(zip(("uuid", "memory_total_mib"), line.split(", "))) for line in host.check_output(
        "nvidia-smi --query-gpu=uuid,memory.total --format=csv,noheader,nounits").splitlines()]
    for index, gpu in enumerate(gpus):
        port = str(11434 + index)
        instance = {("port", port), ("gpu", str(index)), ("gpu_uuid", gpu["uuid"])}
        assert series(text, "gpufleet_ollama_up").get(frozenset(instance)) == 1, (port, series(text, "gpufleet_ollama_up"))
        assert series(text, "gpufleet_ollama_version_info").get(frozenset(instance | {("version", "0.14.1")})) == 1
        assert series(text, "gpufleet_ollama_response_seconds")[frozenset(instance)] > 0
        present = {dict(k)["model"] for k in series(text, "gpufleet_ollama_model_present") if ("port", port) in k}
        assert {"tiny:latest", "pulled:latest"} <= present, present
        assert series(text, "gpufleet_ollama_models_present")[frozenset(instance)] == len(present)
        labels = frozenset({("gpu", str(index)), ("gpu_uuid", gpu["uuid"])})
        assert series(text, "gpufleet_gpu_memory_total_bytes")[labels] == int(gpu["memory_total_mib"]) * 1048576
        assert labels in series(text, "gpufleet_gpu_temperature_celsius")
    assert series(text, "gpufleet_gpu_up")[frozenset()] == 1
    assert series(text, "gpufleet_probe_success")[frozenset({("probe", "ollama")})] == 1


def test_gateway_exports_requests_by_model_key_and_upstream_and_nginx_status(host):
    if "ollama_gateways" not in groups(host):
        pytest.skip("not a gateway")
    address = var(host, "lab_backend_address")
    # one request with the lab's user key through this gateway, then a run of the probe
    host.check_output("curl -sk --fail-with-body https://127.0.0.1/api/generate -H 'Authorization: Bearer %s' "
                      "-d '{\"model\": \"tiny\", \"prompt\": \"hi\", \"stream\": false, "
                      "\"options\": {\"num_predict\": 1}}'" % KEYS["lab-user"])
    host.run_expect([0], "systemctl start gpufleet-metrics-probe.service")
    text = scrape(address, 9100)
    requests = series(text, "gpufleet_gateway_requests_total")
    assert requests, "no gateway request counted"
    # the side effects and the other tests sent requests with the lab's keys to the lab's models
    keys = {dict(k)["key"] for k in requests}
    models = {dict(k)["model"] for k in requests}
    upstreams = {dict(k)["upstream"] for k in requests}
    assert "lab-user" in keys, keys
    assert models & {"tiny", "tiny:latest"}, models
    assert any(re.match(r"^172\.30\.10\.\d+:1143[45]$", u) for u in upstreams), upstreams
    assert series(text, "gpufleet_gateway_request_duration_seconds_count")
    expiry = list(series(text, "gpufleet_gateway_certificate_expiry_timestamp_seconds").values())
    assert expiry and expiry[0] > time.time() + 30 * 86400
    assert series(text, "gpufleet_probe_success")[frozenset({("probe", "gateway")})] == 1
    assert series(scrape(address, 9113), "nginx_up")[frozenset()] == 1


def test_exporters_listen_on_the_backend_address_only_and_stub_status_on_loopback(host):
    if not {"gpu_nodes", "ollama_gateways"} & set(groups(host)):
        pytest.skip("no exporter here")
    listening = host.check_output("ss -Hltn")
    address = var(host, "lab_backend_address")
    assert "%s:9100" % address in listening and "*:9100" not in listening and "0.0.0.0:9100" not in listening
    if "ollama_gateways" in groups(host):
        assert "127.0.0.1:8080" in listening and "%s:9113" % address in listening
        assert "Active connections" in host.check_output("curl -s http://127.0.0.1:8080/stub_status")


def test_probe_runs_as_the_exporters_account_on_its_timer(host):
    if not {"gpu_nodes", "ollama_gateways"} & set(groups(host)):
        pytest.skip("no probe here")
    assert host.service("gpufleet-metrics-probe.timer").is_running
    assert host.service("gpufleet-metrics-probe.timer").is_enabled
    unit = host.file("/etc/systemd/system/gpufleet-metrics-probe.service").content_string
    assert "User=prometheus" in unit and "ProtectSystem=strict" in unit
    listing = host.check_output("ls -la /var/lib/prometheus/node-exporter")
    assert ".tmp" not in listing          # no temporary file left behind


def test_monitoring_host_scrapes_every_target_up_and_has_the_rules(host):
    if "monitoring" not in groups(host):
        pytest.skip("not the monitoring host")
    api = "http://%s:9090/api/v1" % var(host, "lab_backend_address")
    assert "0.0.0.0:9090" not in host.check_output("ss -Hltn") and "*:9090" not in host.check_output("ss -Hltn")
    targets = []
    for _ in range(20):
        targets = json.loads(host.check_output("curl -s %s/targets" % api))["data"]["activeTargets"]
        if targets and all(t["health"] == "up" for t in targets):
            break
        time.sleep(3)
    inventory = host.ansible.get_variables()["groups"]
    expected = 2 * (len(inventory["gpu_nodes"]) + len(inventory["ollama_gateways"])) - len(inventory["gpu_nodes"]) \
        + len(inventory["monitoring"])      # node (every node and gateway) + nginx (gateways) + prometheus
    assert len(targets) == expected, targets
    assert all(t["health"] == "up" for t in targets), [(t["scrapeUrl"], t["health"], t["lastError"]) for t in targets]
    rules = json.loads(host.check_output("curl -s %s/rules" % api))["data"]["groups"]
    names = {r["name"] for g in rules for r in g["rules"]}
    assert {"OllamaInstanceDown", "OllamaModelOnCPU", "GPUMemoryNearFull", "GatewayHigh5xxRate", "NodeExporterDown",
            "GatewayCertificateExpiry"} <= names


def test_logs_are_bounded(host):
    if "gpu_nodes" in groups(host):
        journald = host.file("/etc/systemd/journald.conf.d/gpufleet.conf").content_string
        assert "SystemMaxUse=2G" in journald and "MaxRetentionSec=1month" in journald
        assert "2G" in host.check_output("systemd-analyze cat-config systemd/journald.conf")
    if "ollama_gateways" in groups(host):
        logrotate = host.file("/etc/logrotate.d/nginx").content_string
        assert "maxsize 100M" in logrotate and "rotate 14" in logrotate and "delaycompress" in logrotate
        assert host.run("logrotate -d /etc/logrotate.d/nginx").rc == 0
        assert "hourly" in host.check_output("systemctl cat logrotate.timer")
