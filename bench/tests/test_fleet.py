# -*- coding: utf-8 -*-
# Copyright (c) 2026, gpufleet maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Self-check of bench/fleet.py's pure parts: the fleet's addresses and stand-in GPUs, the ssh inventory and its
group_vars, the PLAY RECAP, ad-hoc and profile_tasks parsers, the alternating order, the ratio and marginal
arithmetic, and the report's fleet table. No containers, no network:

    python3 -m unittest discover -s bench/tests -v      (or: bench/run check)
"""

import json
import os
import sys
import tempfile
import unittest
from unittest import mock

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(HERE, ".."))
import fleet  # noqa: E402  pylint: disable=wrong-import-position
import models  # noqa: E402  pylint: disable=wrong-import-position
import report  # noqa: E402  pylint: disable=wrong-import-position

try:
    import yaml
except ImportError:  # the harness runs with python3 too; the YAML checks need PyYAML (the venv has it)
    yaml = None

RECAP = """\
TASK [Show every node's models (node, model, digest, on GPU, status)] **********
ok: [fleet-node-1] =>
    msg: |-
        node          model  digest        on GPU  status
PLAY RECAP *********************************************************************
fleet-gateway-1            : ok=53   changed=0    unreachable=0    failed=0    skipped=5    rescued=0    ignored=0   
fleet-node-1               : ok=121  changed=2    unreachable=0    failed=0    skipped=45   rescued=0    ignored=0   
fleet-node-2               : ok=3    changed=0    unreachable=1    failed=1    skipped=0    rescued=1    ignored=0   


TASKS RECAP ********************************************************************
Monday 30 November 2026  23:05:32 +0000 (0:00:00.159)       0:02:45.822 *******
===============================================================================
gpufleet.ollama.ollama : Render each instance's environment ------------- 7.75s
gpufleet.ollama.ollama : Write each instance's release ------------------ 7.70s
Reach the host ---------------------------------------------------------- 2.45s
gpufleet.ollama.ollama : Wait until every instance answers (one that waits) --- 9.16s
"""


class PlanTest(unittest.TestCase):
    def test_addresses_on_the_fleets_own_networks(self):
        plan = fleet.fleet_plan(8, 2)
        self.assertEqual([h["name"] for h in plan], ["fleet-gateway-1", "fleet-gateway-2"] +
                         ["fleet-node-%d" % i for i in range(1, 9)])
        self.assertEqual(len({h["backend"] for h in plan}), 10)
        for h in plan:
            self.assertTrue(h["backend"].startswith("172.30.130."), h)
            self.assertNotIn(h["backend"].rsplit(".", 1)[1], ("0", "1", "255"))
        gws = [h for h in plan if h["group"] == "ollama_gateways"]
        self.assertEqual([g["front"] for g in gws], ["172.30.140.10", "172.30.140.11"])
        self.assertNotIn(fleet.VIP, [g["front"] for g in gws])
        self.assertTrue(all(h["front"] == "" for h in plan if h["group"] == "gpu_nodes"))
        self.assertNotIn("172.30.110.", json.dumps(plan))  # never the lab's networks

    def test_sizes_out_of_range(self):
        for nodes, gws in ((0, 2), (fleet.MAX_NODES + 1, 2), (2, 0), (2, 3)):
            with self.assertRaises(ValueError):
                fleet.fleet_plan(nodes, gws)

    def test_standin_gpus(self):
        one = fleet.standin_gpus("fleet-node-1", 4)
        self.assertEqual(len(one["gpus"]), 4)
        uuids = [g["uuid"] for g in one["gpus"]] + [g["uuid"] for g in fleet.standin_gpus("fleet-node-2", 4)["gpus"]]
        self.assertEqual(len(set(uuids)), 8)
        self.assertTrue(all(u.startswith("GPU-") and len(u) == 40 for u in uuids))
        self.assertEqual(one, fleet.standin_gpus("fleet-node-1", 4))  # the same on every `up`
        self.assertEqual(set(one), {"driver_version", "cuda_version", "gpus"})
        self.assertEqual(set(one["gpus"][0]), {"name", "uuid", "memory_total_mib", "memory_used_mib"})

    def test_systemd_options_come_from_scripts_lab(self):
        with open(fleet.LAB_SCRIPT, encoding="utf-8") as f:
            opts = fleet.parse_systemd_opts(f.read())
        self.assertIn("--cgroupns", opts)
        self.assertIn("SIGRTMIN+3", opts)
        self.assertEqual(fleet.parse_systemd_opts('X=1\nSYSTEMD_OPTS=(--a b  # why\n  --c "d e")\n'),
                         ["--a", "b", "--c", "d e"])
        with self.assertRaises(ValueError):
            fleet.parse_systemd_opts("nothing here")


class InventoryTest(unittest.TestCase):
    def test_rendered_inventory(self):
        text = fleet.render_inventory(fleet.fleet_plan(2, 2), "/tmp/cp")
        self.assertTrue(text.startswith("---\n"))
        if yaml is None:
            self.skipTest("PyYAML is not installed")
        inv = yaml.safe_load(text)
        self.assertEqual(list(inv), ["all"])
        self.assertNotIn("vars", inv["all"])  # the implicit localhost of lab_prepare.yml stays local
        group = inv["all"]["children"]["fleet"]
        v = group["vars"]
        self.assertEqual(v["ansible_connection"], "ssh")
        self.assertEqual(v["ansible_user"], "root")
        self.assertIs(v["ansible_ssh_pipelining"], True)
        for opt in ("ControlMaster=auto", "ControlPersist=300s", "StrictHostKeyChecking=no",
                    "UserKnownHostsFile=/dev/null"):
            self.assertIn(opt, v["ansible_ssh_args"])
        self.assertEqual(v["ansible_control_path_dir"], "/tmp/cp")
        self.assertIn("{{ inventory_dir", v["ansible_ssh_private_key_file"])
        nodes = group["children"]["gpu_nodes"]["hosts"]
        gws = group["children"]["ollama_gateways"]["hosts"]
        self.assertEqual(sorted(nodes), ["fleet-node-1", "fleet-node-2"])
        self.assertEqual(nodes["fleet-node-1"], {"ansible_host": "172.30.130.101",
                                                 "lab_backend_address": "172.30.130.101", "lab_front_address": ""})
        self.assertEqual(gws["fleet-gateway-2"], {"ansible_host": "172.30.130.11",
                                                  "lab_backend_address": "172.30.130.11",
                                                  "lab_front_address": "172.30.140.11"})

    def test_overrides_move_the_vip_to_the_fleet(self):
        over = fleet.render_overrides()
        self.assertEqual(set(over), {"ollama_gateways"})
        if yaml is None:
            self.skipTest("PyYAML is not installed")
        gw = yaml.safe_load(over["ollama_gateways"])
        self.assertEqual(gw["ollama_gateway_vip_address"], "172.30.140.100")
        self.assertIn("inventory_dir", gw["ollama_gateway_pki_dir"])
        with open(os.path.join(fleet.LAB_GROUP_VARS, "ollama_gateways", "main.yml"), encoding="utf-8") as f:
            lab = yaml.safe_load(f)
        self.assertIn("ollama_gateway_vip_address", lab)  # what the override replaces still exists in the lab

    def test_written_inventory_links_the_labs_group_vars(self):
        with tempfile.TemporaryDirectory() as tmp:
            inv = os.path.join(tmp, "fleet", "inventory")
            with mock.patch.object(fleet, "FLEET_DIR", os.path.join(tmp, "fleet")), \
                    mock.patch.object(fleet, "INVENTORY", inv):
                fleet.write_inventory(fleet.fleet_plan(1, 1))
                fleet.write_inventory(fleet.fleet_plan(2, 2))  # rewritten, not added to
            with open(os.path.join(inv, "hosts.yml"), encoding="utf-8") as f:
                self.assertIn("fleet-gateway-2", f.read())
            for group in os.listdir(fleet.LAB_GROUP_VARS):
                for name in os.listdir(os.path.join(fleet.LAB_GROUP_VARS, group)):
                    link = os.path.join(inv, "group_vars", group, name)
                    self.assertTrue(os.path.islink(link), link)
                    self.assertFalse(os.path.isabs(os.readlink(link)))
                    self.assertTrue(os.path.samefile(link, os.path.join(fleet.LAB_GROUP_VARS, group, name)))
            names = sorted(os.listdir(os.path.join(inv, "group_vars", "ollama_gateways")))
            self.assertEqual(names[-1], "zz-fleet.yml")  # loaded last: it wins over the lab's file


class OutputTest(unittest.TestCase):
    def test_play_recap(self):
        recap = fleet.parse_recap(RECAP.splitlines())
        self.assertEqual(sorted(recap), ["fleet-gateway-1", "fleet-node-1", "fleet-node-2"])
        self.assertEqual(recap["fleet-node-1"], {"ok": 121, "changed": 2, "unreachable": 0, "failed": 0,
                                                 "skipped": 45, "rescued": 0, "ignored": 0})
        totals = fleet.recap_totals(recap)
        self.assertEqual((totals["changed"], totals["failed"], totals["unreachable"], totals["hosts"]), (2, 1, 1, 3))
        self.assertEqual(totals["changed_hosts"], ["fleet-node-1"])
        self.assertEqual(totals["unreachable_hosts"], ["fleet-node-2"])

    def test_recap_from_stamped_lines_and_without_recap(self):
        stamped = [(0.5 * i, text) for i, text in enumerate(RECAP.splitlines())]
        self.assertEqual(fleet.parse_recap(stamped), fleet.parse_recap(RECAP.splitlines()))
        self.assertEqual(fleet.parse_recap(["ERROR! the playbook could not be found"]), {})
        self.assertEqual(fleet.recap_totals({})["hosts"], 0)

    def test_profile_tasks_summary(self):
        rows = fleet.parse_profile(RECAP.splitlines(), top=3)
        self.assertEqual([r["s"] for r in rows], [9.16, 7.75, 7.7])
        self.assertEqual(rows[0]["task"], "gpufleet.ollama.ollama : Wait until every instance answers (one that waits)")

    def test_adhoc_status_lines(self):
        lines = ["fleet-node-1 | SUCCESS => {", '    "ansible_facts": {', "fleet-node-2 | UNREACHABLE! => {",
                 "fleet-gateway-1 | FAILED! => {", "fleet-gateway-2 | CHANGED => {", "[WARNING]: something"]
        self.assertEqual(fleet.parse_adhoc(lines), {"fleet-node-1": "SUCCESS", "fleet-node-2": "UNREACHABLE",
                                                    "fleet-gateway-1": "FAILED", "fleet-gateway-2": "CHANGED"})

    def test_play_spans(self):
        lines = [(0.0, "PLAY [Reach every host of the site] " + "*" * 20), (0.1, "TASK [Reach the host] " + "*" * 20),
                 (2.0, "PLAY [Summary] " + "*" * 20), (3.5, "PLAY RECAP " + "*" * 20)]
        self.assertEqual(fleet.play_spans(models.banner_events(lines), 4.0),
                         [{"play": "Reach every host of the site", "s": 2.0}, {"play": "Summary", "s": 1.5}])

    def test_ansible_version(self):
        self.assertEqual(fleet.parse_ansible_version("ansible [core 2.19.14]\n  config file = x"), "2.19.14")
        self.assertIsNone(fleet.parse_ansible_version(""))


def size(nodes, setup, noop, first, changed=0):
    return {"nodes": nodes, "status": "ran", "instances": 4 * nodes, "hosts": nodes + 2,
            "setup": {"runs_s": setup, "median_s": models.median(setup)},
            "noop": {"runs_s": noop, "median_s": models.median(noop), "changed": changed, "failed": 0,
                     "unreachable": 0, "changed_hosts": ["fleet-node-1"] if changed else [],
                     "plays": [{"play": "Summary", "s": 0.4}], "slowest_tasks": [{"task": "Reach the host", "s": 2.5}]},
            "first_converge": {"s": first, "plays": [{"play": "Summary", "s": 0.5}]}}


class ArithmeticTest(unittest.TestCase):
    def test_alternating_order(self):
        self.assertEqual(fleet.run_order(1), ["setup", "noop"])
        self.assertEqual(fleet.run_order(3), ["setup", "noop", "noop", "setup", "setup", "noop"])
        for reps in range(1, 6):
            order = fleet.run_order(reps)
            self.assertEqual(order.count("setup"), reps)
            self.assertEqual(order.count("noop"), reps)

    def test_marginal(self):
        self.assertEqual(fleet.marginal((2, 27.6), (8, 99.0)), 11.9)
        self.assertEqual(fleet.marginal((2, 10.0), (8, 7.0)), -0.5)
        self.assertIsNone(fleet.marginal((2, None), (8, 99.0)))
        self.assertIsNone(fleet.marginal((2, 1.0), (2, 3.0)))

    def test_derive_ratios_and_marginal_costs(self):
        sizes = [size(8, [5.0, 5.4], [80.0, 84.0], 99.0), size(2, [3.0, 3.2], [27.0, 29.0], 27.6)]
        m = fleet.derive(sizes)
        self.assertEqual(sizes[1]["noop_to_setup"], 9.03)  # 28.0 / 3.1
        self.assertEqual(sizes[0]["noop_to_setup"], 15.77)  # 82.0 / 5.2
        self.assertFalse(sizes[0]["goal_met"])
        self.assertEqual(m, {"from_nodes": 2, "to_nodes": 8, "noop_s_per_node": 9.0, "setup_s_per_node": 0.35,
                             "first_converge_s_per_node": 11.9})

    def test_derive_with_one_size_or_a_failed_one(self):
        ok = size(2, [3.0], [12.0], 27.6)
        self.assertIsNone(fleet.derive([ok]))
        self.assertTrue(ok["goal_met"])  # 4.0 ≤ 8
        self.assertIsNone(fleet.derive([ok, {"nodes": 8, "status": "failed: the first converge failed"}]))
        changed = size(8, [5.0], [20.0], 60.0, changed=3)
        changed["status"] = "ran, but the second site.yml is not a no-op: changed 3 (fleet-node-1), failed 0"
        self.assertEqual(fleet.derive([ok, changed])["noop_s_per_node"], 1.333)  # its times still count
        self.assertEqual(changed["noop_to_setup"], 4.0)


class ReportTest(unittest.TestCase):
    def doc(self):
        sizes = [size(2, [3.0, 3.2], [27.0, 29.0], 27.6), size(8, [5.0, 5.4], [80.0, 84.0], 99.0, changed=1)]
        marg = fleet.derive(sizes)
        return {"kind": "fleet", "timestamp": "2026-11-30T23:00:00+00:00", "duration_s": 1800,
                "git": {"commit": "0123456789abcdef", "dirty": False}, "note": "",
                "host": {"cpus": 2, "ansible_core": "2.19.14", "loadavg_start": [1.5, 1, 1], "loadavg_end": [2, 1, 1]},
                "settings": {"connection": "ssh", "forks": 16, "reps": 2, "gateways": 2, "gpus_per_node": 4},
                "goals": fleet.GOALS, "sizes": sizes, "marginal": marg}

    def test_render_without_results(self):
        text = report.render_fleet(None)
        self.assertTrue(text.startswith(report.FLEET_BEGIN) and text.endswith(report.FLEET_END))
        self.assertIn("No results yet: run `bench/run fleet`.", text)

    def test_render_with_results(self):
        text = report.render_fleet(self.doc())
        self.assertIn("| 2 | 8 | 4 | 3.1 s (3.0, 3.2) | 28.0 s (27.0, 29.0) | 9.0× | ≤ 8×: **missed** | 0 / 0 | "
                      "27.6 s | – |", text)
        self.assertIn("| 8 | 32 | 10 |", text)
        self.assertIn("**1 / 0** (fleet-node-1)", text)  # a no-op that changed something stands out
        self.assertIn("no-op +9.0 s, setup +0.3 s, first converge +11.9 s (2 → 8 nodes)", text)
        self.assertIn("checkout at `0123456789`", text)

    def test_render_a_failed_size(self):
        doc = self.doc()
        doc["sizes"][1] = {"nodes": 8, "status": "failed: the first converge failed: x | y"}
        doc["marginal"] = None
        text = report.render_fleet(doc)
        self.assertIn("| 8 | – |", text)
        self.assertIn("failed: the first converge failed: x / y", text)

    def test_the_doc_has_the_markers(self):
        with open(report.DOC, encoding="utf-8") as f:
            text = f.read()
        self.assertIn(report.FLEET_BEGIN, text)
        self.assertIn(report.FLEET_END, text)


if __name__ == "__main__":
    unittest.main()
