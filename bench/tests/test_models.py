# -*- coding: utf-8 -*-
# Copyright (c) 2026, gpufleet maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Self-check of bench/models.py's pure parts: the link arithmetic (rates, waves, --bwlimit, the link-speed limit),
the task times read from ansible-playbook's banners, the facts of the placement play, the disk sampler (run here,
on a temporary directory) and its peak-extra arithmetic, and the report's model tables. No lab, no network:

    python3 -m unittest discover -s bench/tests -v      (or: bench/run check)
"""

import json
import os
import subprocess
import sys
import tempfile
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(HERE, ".."))
import models  # noqa: E402  pylint: disable=wrong-import-position
import report  # noqa: E402  pylint: disable=wrong-import-position

GIB = 1 << 30
ROLE = "gpufleet.ollama.ollama_models : "


def fake_play(waves):
    """Timestamped ansible-playbook lines of a placement with the given waves [(fetch_s, push_s, activate_s)]."""
    t, lines = 0.0, []

    def banner(kind, name, dur):
        nonlocal t
        lines.append((t, "%s [%s] %s" % (kind, name, "*" * 40)))
        lines.append((t + 0.01, "%s 30 November 2026  13:31:50 +0000 (0:00:01.234)       0:00:05.678 *****" % "Sunday"))
        t += dur
    banner("PLAY", "Read the GPU nodes' instances (changes nothing)", 0.1)
    banner("TASK", "Publish each node's endpoints with the ollama role's read-only entry point", 4.0)
    banner("PLAY", models.PLAY_ROLE, 0.1)
    banner("TASK", ROLE + "Require the facts the ollama role publishes", 3.0)
    banner("RUNNING HANDLER", ROLE + "Restart the model rsync daemon", 1.0)
    banner("TASK", ROLE + "Find what each node lacks: bench-1g:latest", 1.0)
    banner("TASK", ROLE + "Plan the waves: bench-1g:latest", 0.5)
    banner("TASK", ROLE + "Transfer wave by wave: bench-1g:latest", 0.2)
    lines.append((t, "included: /x/roles/ollama_models/tasks/wave.yml for gpu-node-1, gpu-node-2"))
    for fetch, push, activate in waves:
        banner("TASK", ROLE + "Create the incoming directory (outside blobs/ and manifests/, on the store's "
                                 "filesystem)", 0.5)
        banner("TASK", ROLE + "Fetch from a node or the depot host (its read-only rsync daemon)", fetch)
        banner("TASK", ROLE + "Write the list of files to push from the controller", 0.2)
        banner("TASK", ROLE + "Push from the controller", push)
        banner("TASK", ROLE + "Verify the new blobs, move them into the store, then write the manifest", activate)
        banner("TASK", ROLE + "Note the transfer", 0.1)
    banner("TASK", ROLE + "Build on the staging host", 0.3)
    banner("PLAY", "Hand every node's transfers to the benchmark", 0.1)
    banner("TASK", "Write ollama_models_transfers and ollama_models_result of every node to bench_facts_out", 0.4)
    lines.append((t, "PLAY RECAP " + "*" * 60))
    lines.append((t + 0.1, "gpu-node-1 : ok=40 changed=3 unreachable=0 failed=0"))
    return lines, t + 0.2


def fake_facts(pairs, model="bench-1g:latest", status="placed"):
    """bench/models-place.yml's facts file for transfers [(target, source, wave)]."""
    transfers, results = {}, {}
    for target, source, wave in pairs:
        stats = {} if source == "localhost" else {"literal_data": GIB, "total_bytes_received": GIB + 900}
        transfers.setdefault(target, []).append({"model": model, "source": source, "wave": wave, "stats": stats})
        results[target] = {"models": [{"name": model.split(":")[0], "digest": "abc", "status": status}]}
    return {"transfers": transfers, "results": results}


FANOUT_6 = [("gpu-node-1", "localhost", 1), ("gpu-node-2", "localhost", 2), ("gpu-node-3", "gpu-node-1", 2),
            ("gpu-node-4", "localhost", 3), ("gpu-node-5", "gpu-node-1", 3), ("gpu-node-6", "gpu-node-2", 3),
            ("gpu-node-7", "gpu-node-3", 3)][:6]


class ArithmeticTest(unittest.TestCase):
    def test_rates_in_tc_units(self):
        self.assertEqual(models.parse_rate("400mbit"), 400e6)
        self.assertEqual(models.parse_rate("1gbit"), 1e9)
        self.assertEqual(models.parse_rate("50mbps"), 400e6)  # tc: bps is BYTES per second
        self.assertEqual(models.parse_rate("1000000"), 1e6)  # a bare number is bits per second
        self.assertEqual(models.parse_rate("1mibit"), 1048576)
        self.assertEqual(models.parse_rate("2.5Gbit"), 2.5e9)
        for bad in ("fast", "400 mbits", "-1mbit", "0mbit", ""):
            with self.assertRaises(ValueError, msg=bad):
                models.parse_rate(bad)

    def test_min_waves_is_ceil_log2_n_plus_1(self):
        self.assertEqual([models.min_waves(n) for n in range(1, 9)], [1, 2, 2, 3, 3, 3, 3, 4])

    def test_plan_waves(self):
        self.assertEqual(models.plan_waves(6, 1), 3)
        self.assertEqual(models.plan_waves(6, 6), 1)  # the push: one wave
        self.assertEqual(models.plan_waves(8, 1), 4)
        self.assertEqual(models.plan_waves(6, 2), 2)
        self.assertEqual(models.plan_waves(2, 1, holders=4), 1)  # the disk case: two targets, many holders
        self.assertEqual(models.plan_waves(0, 1), 0)
        with self.assertRaises(ValueError):
            models.plan_waves(6, 0)

    def test_plan_waves_agrees_with_the_roles_filter(self):
        sys.path.insert(0, os.path.join(ROOT, ".collections"))
        try:
            from ansible_collections.gpufleet.ollama.plugins.filter.ollama_fanout_waves import (  # noqa: E402
                ollama_fanout_waves)
        except ImportError as exc:  # ansible not installed in this Python
            self.skipTest("the collection's filter does not import here: %s" % exc)
        finally:
            sys.path.remove(os.path.join(ROOT, ".collections"))
        for n in range(1, 9):
            for width in (1, 2, 3, n):
                for holders in (0, 1, 3):
                    nodes = ["n%d" % i for i in range(n)]
                    held = ["h%d" % i for i in range(holders)]
                    waves = ollama_fanout_waves(nodes, ["localhost"] + held, width)
                    self.assertEqual(models.plan_waves(n, width, holders), len(waves), (n, width, holders))

    def test_bwlimit_shares_one_link(self):
        rate = models.parse_rate("400mbit")
        self.assertEqual(models.bwlimit_kib(rate), 48828)  # 50e6 B/s in rsync's KiB (1024 bytes)
        self.assertEqual(models.bwlimit_kib(rate, 6), 8138)
        with self.assertRaises(ValueError):
            models.bwlimit_kib(8000, 2)

    def test_link_speed_limit(self):
        rate = models.parse_rate("400mbit")
        one = models.transfer_seconds(GIB, rate)
        self.assertAlmostEqual(one, 21.47, places=2)
        self.assertAlmostEqual(one * models.min_waves(6), 64.42, places=2)
        self.assertEqual(models.ratio(80.5, 64.4), 1.25)
        self.assertIsNone(models.ratio(None, 64.4))
        self.assertIsNone(models.ratio(1.0, 0))

    def test_backend_interface(self):
        out = ("1: lo    inet 127.0.0.1/8 scope host lo\\       valid_lft forever preferred_lft forever\n"
               "17: eth0    inet 172.30.110.11/24 brd 172.30.110.255 scope global eth0\\       valid_lft forever\n"
               "19: eth1@if20    inet 172.30.120.10/24 brd 172.30.120.255 scope global eth1\n")
        self.assertEqual(models.backend_iface(out, "172.30.110.11"), "eth0")
        self.assertEqual(models.backend_iface(out, "172.30.120.10"), "eth1")
        self.assertIsNone(models.backend_iface(out, "172.30.110.12"))

    def test_alternating_order_and_median(self):
        order = models.alternate(["A", "B"], 3)
        self.assertEqual("".join(m for dummy, m in order), "ABABAB")
        self.assertEqual([rep for rep, dummy in order], [0, 0, 1, 1, 2, 2])
        self.assertEqual(models.median([3.0, 1.0, 2.0]), 2.0)
        self.assertIsNone(models.median([None]))


class PlayOutputTest(unittest.TestCase):
    def test_banners_and_task_spans(self):
        lines, end = fake_play([(0.3, 21.5, 2.0)])
        events = models.banner_events(lines)
        self.assertEqual(events[0][1:], ("PLAY", "Read the GPU nodes' instances (changes nothing)"))
        self.assertEqual(events[-1][1:], ("PLAY RECAP", ""))
        spans = models.task_spans(events, end)
        names = [s["name"] for s in spans]
        self.assertIn("Restart the model rsync daemon", names)  # handlers count as tasks
        self.assertTrue(all(" : " not in n for n in names))  # the role prefix is dropped
        push = next(s for s in spans if s["name"] == "Push from the controller")
        self.assertAlmostEqual(push["s"], 21.5, places=2)
        self.assertAlmostEqual(models.play_span(events, end, models.PLAY_ROLE), 5.1 + 0.5 + 0.2 + 0.5 + 0.3 + 0.2 + 21.5
                               + 2.0 + 0.1 + 0.3, places=2)
        self.assertIsNone(models.play_span(events, end, "no such play"))

    def test_wave_breakdown_of_a_fanout(self):
        # 6 nodes, width 1: wave 1 the controller alone; waves 2 and 3 a peer fetch task, then the controller's push
        lines, end = fake_play([(0.3, 21.5, 2.0), (21.6, 21.4, 2.5), (22.0, 21.5, 3.0)])
        spans = models.task_spans(models.banner_events(lines), end)
        out = models.wave_breakdown(spans)
        self.assertEqual(len(out["waves"]), 3)
        w1, w2, w3 = out["waves"]
        self.assertEqual((w1["fetch_s"], w1["push_s"], w1["activate_s"]), (0.3, 21.7, 2.0))
        self.assertEqual((w2["fetch_s"], w2["push_s"]), (21.6, 21.6))
        self.assertAlmostEqual(w3["s"], 0.5 + 22.0 + 0.2 + 21.5 + 3.0 + 0.1, places=2)
        self.assertAlmostEqual(out["transfer_s"], 0.3 + 21.7 + 21.6 + 21.6 + 22.0 + 21.7, places=2)
        self.assertAlmostEqual(out["activate_s"], 7.5, places=2)
        # from "Find what each node lacks" (1.0 s) and the plan and the include (0.7 s) to the end of wave 3
        self.assertAlmostEqual(out["place_s"], 1.0 + 0.5 + 0.2 + sum(w["s"] for w in out["waves"]), places=2)

    def test_wave_breakdown_without_waves(self):
        lines, end = fake_play([])  # a re-run: nothing to place
        out = models.wave_breakdown(models.task_spans(models.banner_events(lines), end))
        self.assertEqual((out["waves"], out["place_s"], out["transfer_s"]), ([], None, 0))

    def test_transfers_and_statuses_from_the_facts(self):
        facts = fake_facts(FANOUT_6)
        facts["transfers"]["gpu-node-1"].append({"model": "other:7b", "source": "localhost", "wave": 9, "stats": {}})
        out = models.transfer_summary(facts, "bench-1g")  # the tag latest is implied
        self.assertEqual(out["waves"], 3)
        self.assertEqual([(r["wave"], r["target"], r["source"]) for r in out["transfers"]][:3],
                         [(1, "gpu-node-1", "localhost"), (2, "gpu-node-2", "localhost"),
                          (2, "gpu-node-3", "gpu-node-1")])
        self.assertEqual(out["transfers"][0]["bytes"], None)
        self.assertEqual(out["transfers"][2]["bytes"], GIB)
        self.assertEqual(set(models.node_statuses(facts, "bench-1g:latest").values()), {"placed"})
        self.assertEqual(models.node_statuses(facts, "bench-4g:latest")["gpu-node-1"], None)
        self.assertEqual(models.transfer_summary(None, "x"), {"transfers": [], "waves": 0})

    def test_check_placed(self):
        run = {"rc": 0, "facts": fake_facts(FANOUT_6)}
        models._check_placed(run, "bench-1g:latest", ("placed",))  # pylint: disable=protected-access
        with self.assertRaises(models.CaseFailed):
            models._check_placed(run, "bench-1g:latest", ("in place",))  # pylint: disable=protected-access
        with self.assertRaises(models.CaseFailed):
            failed = {"rc": 2, "facts": None, "complaint": "x"}
            models._check_placed(failed, "m", ("placed",))  # pylint: disable=protected-access

    def test_streaming_stamps_lines_and_stops_at_the_timeout(self):
        child = "import time\nfor i in range(3):\n    print('TASK [t%d] ****' % i, flush=True)\n    time.sleep(0.2)\n"
        rc, wall, lines = models.run_streaming([sys.executable, "-c", child], dict(os.environ), 20)
        self.assertEqual(rc, 0)
        spans = models.task_spans(models.banner_events(lines), wall)
        self.assertEqual([s["name"] for s in spans], ["t0", "t1", "t2"])
        self.assertTrue(all(0.1 < s["s"] < 2.0 for s in spans), spans)
        start = time.monotonic()
        rc, wall, lines = models.run_streaming([sys.executable, "-c", "import time; time.sleep(60)"],
                                               dict(os.environ), 0.5)
        self.assertEqual(rc, 124)
        self.assertLess(time.monotonic() - start, 15)


class DiskTest(unittest.TestCase):
    def test_sampler_counts_each_inode_once_and_stops(self):
        with tempfile.TemporaryDirectory() as tmp:
            store = os.path.join(tmp, "models")
            os.makedirs(os.path.join(store, "blobs"))
            os.makedirs(os.path.join(store, models.INCOMING, "blobs"))
            blob = os.path.join(store, models.INCOMING, "blobs", "sha256-aa")
            with open(blob, "wb") as f:
                f.write(b"x" * 100000)
            os.link(blob, os.path.join(store, "blobs", "sha256-aa"))  # one inode in two places
            stop = os.path.join(tmp, "stop")
            proc = subprocess.Popen([sys.executable, "-c", models.SAMPLER, store, stop, "0.05", "20"],
                                    stdout=subprocess.PIPE, text=True)
            time.sleep(0.4)
            open(stop, "w").close()
            out, dummy = proc.communicate(timeout=10)
        samples = models.parse_samples(out + "123.0 4")  # a cut last line is dropped
        self.assertGreaterEqual(len(samples), 2)
        t, alloc, apparent, entries = samples[-1]
        self.assertEqual(entries, 4)  # blobs/, .gpufleet-incoming/, its blobs/ and the file: once, not twice
        self.assertLess(apparent, 100000 + 5 * 65536)
        self.assertGreaterEqual(apparent, 100000)
        self.assertGreater(t, 1e9)

    @staticmethod
    def samples(during):
        """0.2 s samples: 5 before the play (t < 10), `during`, 5 after (t > 20)."""
        before = [(9.0 + i * 0.2, 5000, 5000, 3) for i in range(5)]
        after = [(20.2 + i * 0.2, 5000 + GIB, 5000 + GIB, 6) for i in range(5)]
        return before + during + after

    def test_extra_is_zero_when_blobs_are_renamed(self):
        during = [(10 + i, 5000 + i * GIB // 10, 5000 + i * GIB // 10, 5) for i in range(10)]
        out = models.disk_extra(self.samples(during), 10.0, 20.0, GIB)
        self.assertEqual(out["status"], "ran")
        self.assertEqual(out["alloc"]["extra"], 0)
        self.assertEqual(out["alloc"]["extra_fraction"], 0.0)
        self.assertEqual(out["alloc"]["grown"], GIB)
        self.assertEqual(out["during"], 10)

    def test_extra_of_a_copy(self):
        during = [(15.0, 5000 + 2 * GIB, 5000 + 2 * GIB, 6)]  # incoming copy + store copy at once
        out = models.disk_extra(self.samples(during), 10.0, 20.0, GIB)
        self.assertEqual(out["alloc"]["extra"], GIB)
        self.assertEqual(out["alloc"]["extra_fraction"], 1.0)
        self.assertEqual(out["alloc"]["peak_at_s"], 5.0)
        self.assertEqual(out["alloc"]["peak_over_after"], GIB)

    def test_too_few_samples(self):
        out = models.disk_extra([(15.0, 1, 1, 1)], 10.0, 20.0, GIB)
        self.assertTrue(out["status"].startswith("too few samples"))


class FakeLab:
    """The lab as the cases see it, without docker: deletions and links are recorded, samples made up."""

    def __init__(self, n=6):
        self.nodes = [{"name": "gpu-node-%d" % i, "address": "172.30.110.%d" % (10 + i), "ports": [11434, 11435],
                       "iface": "eth0", "qdisc": "qdisc tbf 8001: root"} for i in range(1, n + 1)]
        self.deleted = []

    def delete_model(self, name, unique, nodes=None):
        self.deleted.append((name, [n["name"] for n in nodes or self.nodes]))

    @staticmethod
    def start_sampler(node, interval, limit_s, tag):
        return {"node": node, "chunks": ["x"] * 3, "t0": time.time()}

    @staticmethod
    def stop_sampler(sampler):
        t0, now = sampler["t0"], time.time()
        samples = [(t0 - 1.0 + i * 0.2, 8192, 5000, 3) for i in range(5)]
        samples += [(t0 + 0.02, 8192 + GIB // 2, 5000 + GIB // 2, 5), (now, 8192 + GIB + 4096, 5000 + GIB, 6)]
        return samples


class FakeRunner:
    """Answers each placement as the lab would: the plays' task times and the facts the play writes."""

    def __init__(self, lab):
        self.lab, self.calls = lab, []

    def place(self, label, names, width=1, bwlimit=0, timeout=None, quiet=False):
        self.calls.append((label, tuple(names), width, bwlimit))
        nodes = [n["name"] for n in self.lab.nodes]
        if label.startswith(("fanout", "push", "disk")) and label != "disk-prepare":
            if label == "disk":
                pairs = [("gpu-node-1", "localhost", 1), ("gpu-node-2", "gpu-node-3", 1)]
            elif width == 1:
                pairs = FANOUT_6
            else:
                pairs = [(n, "localhost", 1) for n in nodes]
            waves = sorted({w for dummy, dummy, w in pairs})
            lines, end = fake_play([(21.5 if w > 1 else 0.3, 21.5 * (6 if width > 1 else 1), 2.0) for w in waves])
            facts = fake_facts(pairs, names[0])
        else:
            lines, end = fake_play([])
            status = "placed" if label == "rerun-initial" else "in place"
            facts = {"transfers": {}, "results": {n: {"models": [{"name": m, "status": status} for m in names]}
                                                  for n in nodes}}
        events = models.banner_events(lines)
        return {"rc": 0, "play_s": round(end + (0.5 if "4g" in label else 0.0), 3),
                "role_play_s": models.play_span(events, end, models.PLAY_ROLE),
                "spans": models.task_spans(events, end), "facts": facts, "log": "x.log"}


class OrchestrationTest(unittest.TestCase):
    """The cases end to end against FakeLab and FakeRunner, and the report of what they return."""

    def test_all_cases_and_their_report(self):
        args = models.argparse.Namespace(reps=1, rerun_reps=3, sample_interval=0.2, play_timeout=0)
        lab = FakeLab()
        index = {m: {"size": size, "blobs": [{"digest": "sha256:c-" + m, "size": 500, "media_type": "x.config"},
                                             {"digest": "sha256:g-" + m, "size": size - 500,
                                              "media_type": "application/vnd.ollama.image.model"},
                                             {"digest": "sha256:t", "size": 30,
                                              "media_type": "application/vnd.ollama.image.template"}]}
                 for m, size in ((models.MODEL_FANOUT, GIB), (models.MODEL_SMALL, 64 << 20),
                                 (models.MODEL_LARGE, 4 * GIB))}
        raw = {"runs": []}
        ctx = models.Context(args, lab, FakeRunner(lab), models.parse_rate("400mbit"), index, raw)
        self.assertEqual(ctx.unique[models.MODEL_FANOUT], ["sha256:c-bench-1g:latest", "sha256:g-bench-1g:latest"])
        cases = {}
        for name, fn in (("rerun", models.case_rerun), ("fanout", models.case_fanout), ("disk", models.case_disk)):
            cases[name] = models._case(fn, ctx)  # pylint: disable=protected-access
            self.assertEqual(cases[name]["status"], "ran", cases[name])
            ctx.all_hold = name == "fanout"
        fan, rer, dsk = cases["fanout"], cases["rerun"], cases["disk"]
        self.assertEqual([r["mode"] for r in fan["runs"]], ["fanout", "push"])
        self.assertEqual((fan["modes"]["fanout"]["waves"], fan["modes"]["push"]["waves"]), (3, 1))
        self.assertEqual(fan["runs"][1]["bwlimit_kib"], 8138)
        self.assertEqual(fan["runs"][0]["per_wave"][1]["pairs"], ["controller→gpu-node-2", "gpu-node-1→gpu-node-3"])
        self.assertIsNone(fan["runs"][0]["per_wave"][0]["fetch_mbit"])  # wave 1: the controller alone
        self.assertAlmostEqual(fan["modes"]["fanout"]["limit_s"], 64.4, places=0)
        self.assertGreater(fan["fanout_to_push_place"], 0)
        self.assertEqual(rer["order"], "ABABAB")
        self.assertEqual(rer["large_to_small_play"], models.ratio(rer["large"]["median_play_s"],
                                                                 rer["small"]["median_play_s"]))
        self.assertEqual([n["source"] for n in dsk["nodes"]], ["localhost", "gpu-node-3"])
        self.assertEqual(dsk["nodes"][0]["alloc"]["extra"], 4096)
        self.assertEqual(lab.deleted[-1], (models.MODEL_FANOUT, ["gpu-node-1", "gpu-node-2"]))
        calls = [c[0] for c in ctx.runner.calls]
        self.assertEqual(calls[:2], ["rerun-initial", "rerun-bench-64m-1"])
        self.assertNotIn("disk-prepare", calls)  # the fan-out left the model on every node
        doc = {"kind": "models", "timestamp": "t", "duration_s": 1.0, "git": {"commit": "abc"}, "lab": {"gpu_nodes": 6},
               "settings": {"rate": "400mbit"}, "goals": models.GOALS, "cases": cases}
        text = report.render_models(json.loads(json.dumps(doc)))
        self.assertIn("| fan-out placement / link-speed limit (6 nodes, 1.0 GiB) | ≤ 1.25 |", text)
        self.assertIn("gpu-node-1 from the controller, gpu-node-2 from gpu-node-3", text)

    def test_a_failed_play_fails_only_its_case(self):
        args = models.argparse.Namespace(reps=1, rerun_reps=1, sample_interval=0.2, play_timeout=0)
        lab = FakeLab()
        runner = FakeRunner(lab)
        runner.place = lambda *a, **k: {"rc": 2, "play_s": 3.0, "role_play_s": None, "spans": [], "facts": None,
                                        "complaint": "fatal: [gpu-node-1]: FAILED! => no space"}
        index = {models.MODEL_FANOUT: {"size": GIB, "blobs": []}}
        ctx = models.Context(args, lab, runner, 4e8, index, {"runs": []})
        out = models._case(models.case_fanout, ctx)  # pylint: disable=protected-access
        self.assertTrue(out["status"].startswith("failed: the placement play failed (exit 2): fatal:"), out)


class ReportTest(unittest.TestCase):
    def doc(self):
        rate = models.parse_rate("400mbit")
        lines, end = fake_play([(0.3, 21.5, 2.0), (21.6, 21.4, 2.5), (22.0, 21.5, 3.0)])
        waves = models.wave_breakdown(models.task_spans(models.banner_events(lines), end))
        for wave in waves["waves"]:
            wave.update(pairs=["controller→gpu-node-%d" % wave["wave"]], fetch_mbit=390.0, push_mbit=None)
        run = {"mode": "fanout", "run": 1, "width": 1, "bwlimit_kib": 48828, "play_s": end, "role_play_s": end - 4,
               "place_s": waves["place_s"], "transfer_s": waves["transfer_s"], "activate_s": waves["activate_s"],
               "waves": 3, "expected_waves": 3, "limit_s": 64.4, "place_to_limit": 1.7, "play_to_limit": 2.0,
               "per_wave": waves["waves"], "transfers": []}
        push = dict(run, mode="push", width=6, bwlimit_kib=8138, waves=1, expected_waves=1, per_wave=[],
                    place_s=140.0, limit_s=128.8)
        disk = models.disk_extra(DiskTest.samples([]), 10.0, 20.0, GIB)
        return {"kind": "models", "timestamp": "2026-12-01T10:00:00+00:00", "duration_s": 1500.0,
                "git": {"commit": "0123456789abcdef", "models_role_dirty": False}, "note": "",
                "lab": {"gpu_nodes": 6}, "goals": models.GOALS,
                "settings": {"rate": "400mbit", "rate_bits_per_s": rate, "size_mib": 1024, "small_mib": 64,
                             "large_mib": 4096, "reps": 1, "rerun_reps": 3, "sample_interval_s": 0.2,
                             "tc": "tc qdisc replace dev <backend interface> root tbf rate 400mbit burst 256kb "
                                   "latency 50ms"},
                "cases": {
                    "fanout": {"status": "ran", "gpu_nodes": 6, "size_bytes": GIB, "runs": [run, push],
                               "modes": {"fanout": {"place_s": run["place_s"], "limit_s": 64.4,
                                                    "place_to_limit": 1.7},
                                         "push": {"place_s": 140.0, "limit_s": 128.8, "place_to_limit": 1.09}},
                               "fanout_to_push_place": 0.79},
                    "rerun": {"status": "ran", "order": "ABABAB",
                              "small": {"model": models.MODEL_SMALL, "size_bytes": 64 << 20, "play_s": [40.1, 39.0, 41],
                                        "median_play_s": 40.1, "median_role_play_s": 30.0},
                              "large": {"model": models.MODEL_LARGE, "size_bytes": 4 * GIB, "play_s": [40.5, 40, 40.2],
                                        "median_play_s": 40.2, "median_role_play_s": 30.1},
                              "large_to_small_play": 1.002},
                    "disk": {"status": "failed: the disk sampler did not start"}}}

    def test_render_without_results(self):
        text = report.render_models(None)
        self.assertTrue(text.startswith(report.MODELS_BEGIN) and text.endswith(report.MODELS_END))
        self.assertIn("No results yet: run `bench/run models`.", text)
        self.assertIn("48828 KiB/s in the fan-out", text)
        self.assertIn("8138 KiB/s for each of the 6 pushes", text)
        self.assertIn("21.5 s × 3", text)

    def test_render_with_results(self):
        text = report.render_models(self.doc())
        self.assertIn("| fan-out placement / link-speed limit (6 nodes, 1.0 GiB) | ≤ 1.25 | 1.70 (", text)
        self.assertIn("| fan-out / push, placement | measured | 0.79 (", text)
        self.assertIn("| re-run, 4096 MiB / 64 MiB (median wall time) | ≤ 1.05 | 1.00 (40.2 s / 40.1 s) |", text)
        self.assertIn("| peak extra disk during placement and import / model size | 0 | failed: the disk sampler", text)
        self.assertIn("| fanout | 3 | controller→gpu-node-3 |", text)
        self.assertIn("fetch 390 Mbit/s", text)
        width = None
        for line in text.splitlines():  # every row of a table has as many cells as its header
            if not line.startswith("|"):
                width = None
                continue
            width = width or line.count("|")
            self.assertEqual(line.count("|"), width, line)
        json.dumps(self.doc())  # the summary is plain JSON

    def test_the_doc_has_the_markers(self):
        with open(report.DOC, encoding="utf-8") as f:
            text = f.read()
        self.assertIn(report.MODELS_BEGIN, text)
        self.assertIn(report.MODELS_END, text)


if __name__ == "__main__":
    unittest.main()
