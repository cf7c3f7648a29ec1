# -*- coding: utf-8 -*-
# Copyright (c) 2026, gpufleet maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Self-check of bench/site_faults.py's pure parts: reading what a node and a gateway hold, what a case lost or
changed, the checks on a step's exit status and output, and the corrupt archives it writes. No lab, no network."""

import hashlib
import json
import os
import sys
import tarfile
import tempfile
import unittest
from unittest import mock

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, ".."))
import site_faults as sf  # noqa: E402  pylint: disable=wrong-import-position

NODE = """M 1111  manifests/registry.ollama.ai/library/tiny/latest
M 2222  manifests/registry.ollama.ai/library/bench-fault-256m/latest
B sha256-aa 1048576
B sha256-bb 300
R 0.12.3
R 0.14.1
X ollama@11434.service /opt/ollama/0.14.1/bin/ollama
X ollama@11435.service /opt/ollama/0.14.1/bin/ollama
"""
NGINX = """http {
  upstream ollama_any { zone z 256k; least_conn;
    server 172.30.110.11:11434 max_fails=1 fail_timeout=10s; # gpu-node-1
    server 172.30.110.12:11434 max_fails=1 fail_timeout=10s; # gpu-node-2
    keepalive 32; }
  upstream ollama_p0 { server 172.30.110.11:11434; server 172.30.110.11:11435 backup; }
  server { listen 80; }
}"""


def snap(node_text=NODE, servers=("172.30.110.11:11434",), conf="x"):
    return {"nodes": {"gpu-node-1": sf.parse_node_snapshot(node_text)},
            "gateways": {"gateway-1": {"nginx_conf_sha256": conf, "upstream_servers": list(servers)}}}


class TestSnapshot(unittest.TestCase):
    def test_node(self):
        got = sf.parse_node_snapshot(NODE)
        self.assertEqual(got["manifests"]["manifests/registry.ollama.ai/library/tiny/latest"], "1111")
        self.assertEqual(got["blobs"], {"sha256-aa": 1048576, "sha256-bb": 300})
        self.assertEqual(got["releases"], ["0.12.3", "0.14.1"])
        self.assertEqual(got["running"]["ollama@11435.service"], "/opt/ollama/0.14.1/bin/ollama")

    def test_upstream_servers_only_inside_upstream_blocks(self):
        self.assertEqual(sf.upstream_servers(NGINX),
                         ["172.30.110.11:11434", "172.30.110.11:11435", "172.30.110.12:11434"])


class TestLostAndChanged(unittest.TestCase):
    def test_nothing_lost(self):
        self.assertEqual(sf.lost(snap(), snap()), [])

    def test_gone_and_changed(self):
        after = NODE.replace("M 1111", "M 9999").replace("B sha256-bb 300\n", "").replace("R 0.12.3\n", "")
        got = sf.lost(snap(), snap(after, servers=()))
        self.assertEqual(got, [
            "gpu-node-1: manifest manifests/registry.ollama.ai/library/tiny/latest changed",
            "gpu-node-1: blob sha256-bb gone", "gpu-node-1: release 0.12.3 gone",
            "gateway-1: upstream server 172.30.110.11:11434 gone"])

    def test_a_model_the_case_adds_is_ignored(self):
        after = NODE.replace("M 2222  manifests/registry.ollama.ai/library/bench-fault-256m/latest\n", "")
        self.assertEqual(sf.lost(snap(), snap(after), ["bench-fault-256m:latest"]), [])
        self.assertEqual(len(sf.lost(snap(), snap(after))), 1)

    def test_a_stopped_host_is_not_compared(self):
        after = {"nodes": {}, "gateways": {}}
        self.assertEqual(sf.lost(snap(), after), [])

    def test_changes(self):
        after = NODE.replace("X ollama@11434.service /opt/ollama/0.14.1", "X ollama@11434.service /opt/ollama/0.12.3")
        self.assertEqual(sf.changes(snap(), snap(after, conf="y")), [
            "gpu-node-1: ollama@11434.service runs /opt/ollama/0.12.3/bin/ollama (was /opt/ollama/0.14.1/bin/ollama)",
            "gateway-1: nginx.conf changed"])
        self.assertEqual(sf.changes(snap(), snap()), [])


class TestExpectations(unittest.TestCase):
    def test_exit_status_and_output(self):
        plan = {"expect": [("site", "nonzero", "failed its checksum"), ("wait", "zero", None), ("gone", "zero", None)]}
        events = [{"step": "site", "rc": 2, "output": "fatal: [n1]: FAILED! =>\n  msg: ... failed its\n  checksum ..."},
                  {"step": "wait", "rc": 1, "output": ""}]
        got = sf.expectations(plan, events)
        self.assertEqual(got, [("site exit nonzero (2)", True), ("site says 'failed its checksum'", True),
                               ("wait exit zero (1)", False), ("gone ran", False)])

    def test_recap(self):
        out = "PLAY RECAP ***\ngpu-node-2                 : ok=1    changed=0    unreachable=1    failed=0\n"
        self.assertEqual(sf.recap_line(out, "gpu-node-2"), "ok=1 changed=0 unreachable=1 failed=0")
        self.assertIsNone(sf.recap_line(out, "gpu-node-1"))


class TestCorruptArchives(unittest.TestCase):
    def test_corrupt_fails_its_checksum_and_signed_lists_its_own(self):
        with tempfile.TemporaryDirectory() as tmp:
            release = os.path.join(tmp, "artifacts", "0.14.1")
            os.makedirs(release)
            payload = os.path.join(tmp, "ollama")
            with open(payload, "wb") as f:
                f.write(os.urandom(64 * 1024))
            src = os.path.join(release, "ollama-linux-amd64.tar.zst")
            with tarfile.open(src, "w") as tar:  # any bytes do: only their checksum and length matter here
                tar.add(payload, arcname="bin/ollama")
            with mock.patch.object(sf, "artifact_path", lambda version: src):
                got = sf.make_corrupt_archives("0.14.1")
            with open(src, "rb") as f:
                good = f.read()
            for kind, path in got.items():
                with open(path, "rb") as f:
                    data = f.read()
                with open(os.path.join(os.path.dirname(path), "sha256sum.txt"), encoding="utf-8") as f:
                    listed, name = f.read().split()
                self.assertEqual(name, os.path.basename(path))
                self.assertNotEqual(data, good)
                if kind == "corrupt":
                    self.assertEqual(len(data), len(good))
                    self.assertEqual(listed, hashlib.sha256(good).hexdigest())
                else:
                    self.assertEqual(data, good[:len(good) // 2])
                    self.assertEqual(listed, hashlib.sha256(data).hexdigest())


class TestCases(unittest.TestCase):
    def test_every_case_has_a_plan_or_comes_from_gateway_py(self):
        lab = mock.Mock()
        lab.nodes = [{"name": "gpu-node-1", "backend": "172.30.110.11", "ports": [11434, 11435]},
                     {"name": "gpu-node-2", "backend": "172.30.110.12", "ports": [11434, 11435]}]
        plans = sf.plans(lab, "0.14.1", "/inv/hosts.yml", "/runner")
        self.assertIn("/inv/hosts.yml", plans["site_node_down_static"][1]["steps"][1][2])
        self.assertNotIn("/inv/hosts.yml", plans["site_node_down"][1]["steps"][1][2])
        self.assertIn("/runner", plans["site_under_runner"][1]["steps"][0][2])
        for case in sf.CASES:
            self.assertTrue(case in plans or case in ("instance_killed", "gateway_killed"), case)
        for description, plan in plans.values():
            names = [s[0] for s in plan["steps"]]
            self.assertIn(plan["fault"], names, description)
            for step, dummy, dummy2 in plan["expect"]:
                self.assertIn(step, names, description)


class TestStaticInventory(unittest.TestCase):
    def test_written_with_group_vars_beside_it(self):
        lab = mock.Mock()
        lab.nodes = [{"name": "gpu-node-1", "backend": "172.30.110.11", "front": None}]
        lab.gateways = [{"name": "gateway-1", "backend": "172.30.110.10", "front": "172.30.120.10"}]
        with tempfile.TemporaryDirectory() as tmp:
            path = sf.static_inventory(lab, os.path.join(tmp, "inv"))
            with open(path, encoding="utf-8") as f:
                text = f.read()
            self.assertIn('gpu-node-1: {lab_backend_address: "172.30.110.11", lab_front_address: ""}', text)
            self.assertIn('gateway-1: {lab_backend_address: "172.30.110.10", lab_front_address: "172.30.120.10"}', text)
            self.assertTrue(os.path.isdir(os.path.join(tmp, "inv", "group_vars", "gpu_nodes")))
            sf.static_inventory(lab, os.path.join(tmp, "inv"))  # a second time keeps the link


class TestRunner(unittest.TestCase):
    def test_private_data_dir_and_result(self):
        with tempfile.TemporaryDirectory() as tmp:
            folder = sf.runner_dir(os.path.join(tmp, "runner"))
            self.assertTrue(os.path.islink(os.path.join(folder, "project", "site.yml")))
            with open(os.path.join(folder, "env", "envvars"), encoding="utf-8") as f:
                self.assertIn("ANSIBLE_CONFIG", f.read())
            self.assertEqual(sf.runner_result(folder, "site"), {"status": None, "rc": None, "stats": None})
            base = os.path.join(folder, "artifacts", "site")
            os.makedirs(os.path.join(base, "job_events"))
            for name, text in (("status", "successful\n"), ("rc", "0")):
                with open(os.path.join(base, name), "w", encoding="utf-8") as f:
                    f.write(text)
            stats = {"processed": {"a": 1, "b": 1}, "ok": {"a": 9, "b": 9}, "changed": {"b": 1}, "failures": {},
                     "dark": {}}
            with open(os.path.join(base, "job_events", "9-x.json"), "w", encoding="utf-8") as f:
                f.write('{"event": "playbook_on_stats", "event_data": %s}' % json.dumps(stats))
            with open(os.path.join(base, "job_events", "1-y.json"), "w", encoding="utf-8") as f:
                f.write('{"event": "playbook_on_start", "event_data": {}}')
            got = sf.runner_result(folder, "site")
            self.assertEqual(got["status"], "successful")
            self.assertEqual(got["stats"], stats)
            checks = dict(sf.runner_checks(got, ["a", "b"]))
            self.assertEqual(checks, {"ansible-runner status successful (successful), rc 0 (0)": True,
                                      "every host processed and ok": True, "no host changed (b)": False,
                                      "no host failed": True, "no host unreachable": True})
            self.assertFalse(dict(sf.runner_checks(got, ["a", "b", "c"]))["every host processed and ok"])


class TestHandover(unittest.TestCase):
    def test_in_flight_refused_and_other(self):
        def rec(kind, start, end):
            return {"kind": kind, "start": start, "end": end}
        records = [rec("ok", 0.0, 1.0),
                   rec("truncated", 9.0, 10.1),         # in flight through the killed gateway
                   rec("no_response", 9.5, 10.0),       # in flight
                   rec("connect_refused", 10.2, 10.2),  # during the handover
                   rec("connect_refused", 11.0, 11.0),
                   rec("ok", 11.6, 12.0),               # the virtual IP answers again
                   rec("connect_refused", 12.5, 12.5),  # after the handover: another failure
                   rec("truncated", 10.05, 10.1),       # started while the kill command ran: in flight
                   rec("timeout", 3.0, 4.0)]            # before the kill: another failure
        got = sf.handover(records, 10.0, 10.1)
        self.assertEqual((got["failed_own_in_flight"], got["failed_refused_in_handover"], got["failed_other"],
                          got["handover_s"]), (3, 2, 2, 1.6))


class TestRender(unittest.TestCase):
    def test_no_results(self):
        self.assertIn("No results yet", sf.render(None))

    def test_table(self):
        doc = {"timestamp": "t", "git": {"commit": "0123456789abc"}, "duration_s": 10.0,
               "lab": {"nodes": [1, 2], "instances": 4, "gateway_url": "https://gw"}, "params": {"concurrency": 8},
               "cases": [{"case": "a", "description": "d", "status": "ran", "total": 10, "failed": 1,
                          "failed_own_in_flight": 1, "failed_other": 0, "data_lost": [],
                          "checks": [{"check": "x", "held": True}], "goal_met": True},
                         {"case": "b", "description": "e", "status": "ran; a restore command failed", "total": 5,
                          "failed": 2, "failed_other": 2, "data_lost": ["n: blob b gone"],
                          "failed_refused_in_handover": 0, "handover_s": 1.5,
                          "checks": [{"check": "y|z", "held": False}], "goal_met": False},
                         {"case": "c", "description": "f", "status": "skipped: one gateway"}]}
        text = sf.render(doc)
        self.assertIn("| a | 1 / 10 | 1 | - | 0 | none | all 1 held | met |", text)
        self.assertIn("| b | 2 / 5 | 0 | 0 in 1.5 s | 2 | n: blob b gone | failed: y\\|z | **missed** (ran; a restore",
                      text)
        self.assertIn("| c | skipped: one gateway |", text)
        self.assertTrue(text.startswith(sf.BEGIN) and text.endswith(sf.END))


if __name__ == "__main__":
    unittest.main()
