# -*- coding: utf-8 -*-
# Copyright (c) 2026, gpufleet maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The metric contract between the metrics probe and the monitoring role.

The probe writes the gpufleet_* series through node-exporter's textfile collector on the GPU nodes and gateways;
the alert rules (role ollama_monitoring, filter ollama_prometheus_config) and the Grafana dashboard read them.
Every metric name a rule or a panel uses must be one the probe writes (or Prometheus' own `up`, or a series of
prometheus-nginx-exporter), so a renamed metric cannot leave an alert that never fires. The shipped rule file
must equal what the role writes with its defaults, and every built-in alert needs a promtool test.
"""

from __future__ import annotations

import json
import os
import re

import pytest
import yaml

from ansible_collections.gpufleet.ollama.plugins.filter.ollama_prometheus_config import (
    ALERTS, DEFAULTS, ollama_prometheus_config)

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
ROLE = os.path.join(ROOT, "roles", "ollama_monitoring")
RULES_FILE = os.path.join(ROLE, "files", "gpufleet-ollama.rules.yml")
DASHBOARD = os.path.join(ROLE, "files", "grafana-dashboard.json")
PROMTOOL_TEST = os.path.join(ROOT, "tests", "integration", "promtool", "rules_test.yml")

CONTRACT = {
    # Ollama, labels port, gpu, gpu_uuid (+ model)
    "gpufleet_ollama_up", "gpufleet_ollama_version_info", "gpufleet_ollama_response_seconds",
    "gpufleet_ollama_models_present", "gpufleet_ollama_model_present", "gpufleet_ollama_models_loaded",
    "gpufleet_ollama_model_size_bytes", "gpufleet_ollama_model_vram_bytes", "gpufleet_ollama_model_gpu_ratio",
    "gpufleet_ollama_model_context_length",
    # GPUs, labels gpu, gpu_uuid
    "gpufleet_gpu_up", "gpufleet_gpu_info", "gpufleet_gpu_memory_used_bytes", "gpufleet_gpu_memory_total_bytes",
    "gpufleet_gpu_utilization_ratio", "gpufleet_gpu_temperature_celsius", "gpufleet_gpu_power_watts",
    # Gateways
    "gpufleet_gateway_requests_total",
    "gpufleet_gateway_request_duration_seconds_bucket", "gpufleet_gateway_request_duration_seconds_sum",
    "gpufleet_gateway_request_duration_seconds_count",
    "gpufleet_gateway_log_lines_total", "gpufleet_gateway_certificate_expiry_timestamp_seconds",
    "gpufleet_gateway_certificate_read_success", "gpufleet_ollama_api_up",
    # The probe itself
    "gpufleet_probe_success", "gpufleet_probe_timestamp_seconds", "gpufleet_probe_duration_seconds",
    # Prometheus
    "up",
}

# PromQL words that are not metric names (functions are recognised by the "(" after them).
KEYWORDS = {"by", "without", "on", "ignoring", "group_left", "group_right", "and", "or", "unless", "offset", "bool",
            "atan2", "inf", "nan", "sum", "avg", "min", "max", "count", "stddev", "stdvar", "topk", "bottomk",
            "quantile", "count_values", "group"}


def metric_names(expr):
    """The metric names a PromQL expression reads (best effort, enough for this collection's expressions)."""
    text = re.sub(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'', '""', expr)   # string literals
    text = re.sub(r'\{[^}]*\}', ' ', text)                                  # label matchers
    text = re.sub(r'\[[^\]]*\]', ' ', text)                                 # ranges, subqueries
    text = re.sub(r'\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)', ' ', text)   # label lists
    text = re.sub(r'\$\{?\w+\}?', ' ', text)                                # Grafana variables
    names = set()
    for match in re.finditer(r'(?<![\w.])([a-zA-Z_:][a-zA-Z0-9_:]*)(\s*\()?', text):
        word, call = match.group(1), match.group(2)
        if call or word.lower() in KEYWORDS or re.match(r'^[0-9.]+(e[0-9]+)?$', word):
            continue
        names.add(word)
    return names


def allowed(name):
    return name in CONTRACT or name.startswith("nginx_")


def role_defaults():
    with open(os.path.join(ROLE, "defaults", "main.yml"), encoding="utf-8") as f:
        return yaml.safe_load(f)


def default_rules():
    """The rules the role writes with its default variables."""
    settings = {k: v for k, v in role_defaults().items() if k.startswith("ollama_monitoring_")}
    settings.update({"host": "mon01", "gpu_nodes": ["gpu01"], "gateways": ["gw01"], "monitoring": ["mon01"],
                     "addresses": {"gpu01": "10.0.0.11", "gw01": "10.0.0.10"}})
    result = ollama_prometheus_config(settings)
    assert result["problems"] == []
    return result["rules"]


def dashboard():
    with open(DASHBOARD, encoding="utf-8") as f:
        return json.load(f)


def dashboard_panels():
    out = []
    for panel in dashboard()["panels"]:
        out.append(panel)
        out.extend(panel.get("panels") or [])          # panels inside collapsed rows
    return out


@pytest.mark.parametrize("expr, names", [
    ('gpufleet_ollama_up == 0', {"gpufleet_ollama_up"}),
    ('up{job="nginx"} == 0 or nginx_up == 0', {"up", "nginx_up"}),
    ('sum by (host) (rate(gpufleet_gateway_requests_total{code=~"5.."}[5m])) / sum by (host) '
     '(rate(gpufleet_gateway_requests_total[5m])) > 0.05', {"gpufleet_gateway_requests_total"}),
    ('histogram_quantile(0.95, sum by (le) (rate(x_bucket[$__rate_interval])))', {"x_bucket"}),
    ('time() - gpufleet_probe_timestamp_seconds > 300', {"gpufleet_probe_timestamp_seconds"}),
    ('count(a < 1) or vector(0)', {"a"}),
    ('a - time() < 21 * 86400', {"a"}),
    ('1e3 * b offset 5m', {"b"}),
])
def test_metric_names(expr, names):
    assert metric_names(expr) == names


def test_the_shipped_rule_file_is_what_the_role_writes_with_its_defaults():
    with open(RULES_FILE, encoding="utf-8") as f:
        shipped = yaml.safe_load(f)
    assert shipped == default_rules(), (
        "roles/ollama_monitoring/files/gpufleet-ollama.rules.yml differs from the filter's rules with the role's "
        "defaults: regenerate it with .venv/bin/python scripts/gen-monitoring-rules")


def test_the_filter_defaults_are_the_role_defaults():
    defaults = role_defaults()
    for key, value in DEFAULTS.items():
        assert defaults["ollama_monitoring_" + key] == value, key


def test_the_rules_read_only_contract_metrics():
    rules = default_rules()["groups"][0]["rules"]
    assert sorted(r["alert"] for r in rules) == sorted(ALERTS)
    for rule in rules:
        names = metric_names(rule["expr"])
        assert names, rule["alert"]
        bad = sorted(n for n in names if not allowed(n))
        assert not bad, "%s reads %s, which the probe does not write" % (rule["alert"], bad)


def test_the_dashboard_is_json_with_panels_reading_only_contract_metrics():
    data = dashboard()
    assert data["uid"] and data["title"]
    panels = [p for p in dashboard_panels() if p.get("type") != "row"]
    assert len(panels) >= 10
    ids = [p["id"] for p in dashboard_panels()]
    assert len(ids) == len(set(ids)), "panel ids must be unique"
    used = set()
    for panel in panels:
        assert panel.get("title"), panel
        assert panel.get("targets"), "panel %r has no query" % panel.get("title")
        assert {"h", "w", "x", "y"} <= set(panel["gridPos"])
        for target in panel["targets"]:
            names = metric_names(target["expr"])
            assert names, (panel["title"], target["expr"])
            bad = sorted(n for n in names if not allowed(n))
            assert not bad, "panel %r reads %s, which the probe does not write" % (panel["title"], bad)
            used |= names
    # the dashboard shows every series of the contract
    missing = sorted(CONTRACT - used)
    assert not missing, "the dashboard shows nothing of %s" % missing
    assert "datasource" in [v["name"] for v in data["templating"]["list"]]


def test_every_alert_has_a_promtool_test():
    if not os.path.exists(PROMTOOL_TEST):
        pytest.skip("tests/integration is not part of this copy of the collection")
    with open(PROMTOOL_TEST, encoding="utf-8") as f:
        suite = yaml.safe_load(f)
    base = os.path.dirname(PROMTOOL_TEST)
    assert [os.path.realpath(os.path.join(base, p)) for p in suite["rule_files"]] == [os.path.realpath(RULES_FILE)]
    tested = {case["alertname"] for test in suite["tests"] for case in test.get("alert_rule_test", [])}
    fired = {case["alertname"] for test in suite["tests"] for case in test.get("alert_rule_test", [])
             if case.get("exp_alerts")}
    assert sorted(tested) == sorted(ALERTS)
    assert sorted(fired) == sorted(ALERTS), "every alert needs a case where it fires"
    for test in suite["tests"]:
        for series in test["input_series"]:
            assert allowed(series["series"].split("{")[0].strip()), series["series"]
