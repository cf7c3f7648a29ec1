# -*- coding: utf-8 -*-
# Copyright (c) 2026, gpufleet maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The reach play's host_probe reads the directories of the roles' fixed files (playbooks/upgrade.yml), so that
their managed_files writes leave out the remote run on a no-op. A file moved to another directory would silently
lose that (the write still runs, only slower): this pins every fixed path a role writes with `known` from the
probe to a directory the probe reads."""

from __future__ import annotations

import os
import re
import sys

import yaml

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
# the checkout as the collection gpufleet.ollama (tests/unit/conftest.py does the same for a run of both directories)
if os.path.join(ROOT, ".collections") not in sys.path:
    sys.path.insert(0, os.path.join(ROOT, ".collections"))


def _probe_task():
    with open(os.path.join(ROOT, "playbooks", "upgrade.yml")) as f:
        plays = yaml.safe_load(f)
    for task in plays[0]["tasks"]:
        if "gpufleet.ollama.host_probe" in task:
            return task["gpufleet.ollama.host_probe"]
    raise AssertionError("the reach play of playbooks/upgrade.yml has no host_probe task")


def _probe_files():
    return _probe_task()["files"]


def _role_vars(role):
    with open(os.path.join(ROOT, "roles", role, "vars", "main.yml")) as f:
        return yaml.safe_load(f)


def _resolve(value, variables):
    """A role constant with its {{ var }} references to other constants filled in (only plain references)."""
    return re.sub(r"\{\{\s*(\w+)\s*\}\}", lambda m: str(variables[m.group(1)]), value)


def test_every_fixed_file_written_with_the_probe_is_in_a_directory_it_reads():
    read = set(_probe_files())
    models = _role_vars("ollama_models")
    firewall = _role_vars("ollama_firewall")
    gateway = _role_vars("ollama_gateway")
    vip = _role_vars("ollama_gateway_vip")
    fixed = [models["__ollama_models_rsyncd_conf"],
             "/etc/systemd/system/" + models["__ollama_models_rsyncd_unit"],
             firewall["__ollama_firewall_file"],
             _resolve(firewall["__ollama_firewall_unit_path"], firewall),
             # the gateway's files (configure.yml, install.yml, tls.yml) and keepalived's
             "/etc/nginx/nginx.conf", "/etc/systemd/system/nginx.service.d/gpufleet.conf",
             gateway["__ollama_gateway_conf_dir"] + "/gateway.js",
             gateway["__ollama_gateway_conf_dir"], gateway["__ollama_gateway_state_dir"],
             "/etc/systemd/system/nginx.service.d",
             _resolve(gateway["__ollama_gateway_memory_file"], gateway),
             vip["__ollama_gateway_vip_config_file"]]
    source = _role_vars("package_source")
    driver = _role_vars("nvidia_driver")
    fixed += [source["__package_source_list"], source["__package_source_apt_conf"], source["__package_source_parts"],
              driver["__nvidia_driver_pin_file"], driver["__nvidia_driver_unattended_file"],
              driver["__nvidia_driver_blacklist_file"], driver["__nvidia_driver_cuda_list"]]
    ollama = _role_vars("ollama")
    metrics = _role_vars("ollama_metrics")
    fixed += [ollama["__ollama_journald_file"], "/etc/logrotate.d/nginx", "/etc/systemd/system/logrotate.timer.d/gpufleet.conf",
              metrics["__ollama_metrics_node_exporter_default"], metrics["__ollama_metrics_nginx_exporter_default"],
              metrics["__ollama_metrics_probe"], metrics["__ollama_metrics_config"],
              metrics["__ollama_metrics_unit_dir"] + "/" + metrics["__ollama_metrics_probe_unit"] + ".service"]
    monitoring = _role_vars("ollama_monitoring")
    fixed += [_resolve(monitoring[name], monitoring) for name in
              ("__ollama_monitoring_rules_file", "__ollama_monitoring_config_file", "__ollama_monitoring_default_file")]
    for path in fixed:
        assert os.path.dirname(path) in read, "%s is not in a directory the reach play's host_probe reads" % path


def test_the_gateways_state_files_and_account_are_those_the_probe_returns():
    probe = _probe_task()
    gateway = _role_vars("ollama_gateway")
    source = _role_vars("package_source")
    driver = _role_vars("nvidia_driver")
    assert sorted(probe["contents"]) == sorted(
        [_resolve(gateway[name], gateway) for name in ("__ollama_gateway_drain_file", "__ollama_gateway_memory_file")]
        + [source["__package_source_stamp"], driver["__nvidia_driver_module_version"],
           driver["__nvidia_driver_nouveau_state"],
           "/etc/docker/daemon.json"])
    assert probe["users"] == [_role_vars("ollama_gateway_vip")["__ollama_gateway_vip_script_user"]]
    # the content filter tells "missing" from "not read" by the listing of the file's directory
    for name in ("__ollama_gateway_drain_file", "__ollama_gateway_memory_file"):
        path = _resolve(gateway[name], gateway)
        assert os.path.dirname(path) in probe["files"], path


def test_the_roles_that_use_the_probes_files_are_those_checked_here():
    users = []
    for dirpath, _dirs, files in os.walk(os.path.join(ROOT, "roles")):
        for name in files:
            if name.endswith(".yml"):
                with open(os.path.join(dirpath, name)) as f:
                    text = f.read()
                    # the gateway role reads it through __ollama_gateway_probe (the read while no drain rewrote them)
                    if "gpufleet_host_probe.files" in text or "__ollama_gateway_probe.files" in text:
                        users.append(os.path.relpath(os.path.join(dirpath, name), ROOT))
    assert sorted(users) == ["roles/nvidia_driver/tasks/install.yml", "roles/nvidia_driver/tasks/repository.yml",
                             "roles/nvidia_driver/tasks/services.yml", "roles/ollama/tasks/journal.yml",
                             "roles/ollama_firewall/tasks/configure.yml",
                             "roles/ollama_gateway/vars/main.yml", "roles/ollama_gateway_vip/tasks/configure.yml",
                             "roles/ollama_metrics/tasks/configure.yml", "roles/ollama_models/tasks/peers.yml",
                             "roles/ollama_monitoring/tasks/configure.yml", "roles/package_source/tasks/network.yml",
                             "roles/package_source/tasks/offline.yml"]


def test_the_instances_read_in_preflight_and_in_service_ask_systemd_the_same():
    """roles/ollama/tasks/state.yml reads the instances itself unless ollama_node_info's read (instances) stands in
    for it; ollama_instance_states parses either, so both must ask for the same properties in the same format."""
    from ansible_collections.gpufleet.ollama.plugins.modules.ollama_node_info import INSTANCES_SHOW
    with open(os.path.join(ROOT, "roles", "ollama", "tasks", "state.yml")) as f:
        argv = yaml.safe_load(f)[0]["ansible.builtin.command"]["argv"]
    asked = re.findall(r"'(--[a-z]+=[^']+)'", argv)
    assert asked == [a for a in INSTANCES_SHOW if a.startswith("--")]
