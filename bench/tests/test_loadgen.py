# -*- coding: utf-8 -*-
# Copyright (c) 2026, gpufleet maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Self-check of the benchmark harness: the client against a local stdlib HTTP server on 127.0.0.1
that answers each way the lab can (a stream, Ollama's 503 busy JSON, nginx's 502 HTML page, a cut
stream, ...), so a failure is always counted under the right kind. No lab, standard library only:

    python3 -m unittest discover -s bench/tests -v      (or: bench/run check)
"""

import asyncio
import json
import os
import socket
import sys
import threading
import time
import unittest
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import gateway  # noqa: E402  pylint: disable=wrong-import-position
import loadgen  # noqa: E402  pylint: disable=wrong-import-position

BUSY = {"error": "server busy, please try again.  maximum pending requests exceeded"}
NGINX_502 = (b"<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway"
             b"</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n")
FIRST_TOKEN_DELAY = 0.15


def ndjson(content, done=False):
    chunk = {"model": "tiny", "created_at": "2026-01-01T00:00:00Z",
             "message": {"role": "assistant", "content": content}, "done": done}
    if done:
        chunk["done_reason"] = "stop"
    return json.dumps(chunk).encode() + b"\n"


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    def _answer(self, status, body, ctype, upstream=None):
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        if upstream:
            self.send_header("X-Ollama-Upstream", upstream)
        self.end_headers()
        self.wfile.write(body)

    def _stream(self, pieces, ctype="application/x-ndjson", finish=True, delay=0.0):
        self.send_response(200)
        self.send_header("Content-Type", ctype)
        self.send_header("Transfer-Encoding", "chunked")
        self.send_header("X-Ollama-Upstream", "10.0.0.1:11434")
        self.end_headers()
        self.wfile.flush()
        for i, piece in enumerate(pieces):
            if i == 0 and delay:
                time.sleep(delay)
            self.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece))
            self.wfile.flush()
        if finish:
            self.wfile.write(b"0\r\n\r\n")
        self.close_connection = True

    def do_POST(self):  # noqa: N802 (http.server's name)
        self.rfile.read(int(self.headers.get("Content-Length", "0")))
        path = self.path
        if path == "/ok":
            self._stream([ndjson("a"), ndjson(" b"), ndjson(" c"), ndjson("", done=True)], delay=FIRST_TOKEN_DELAY)
        elif path == "/ok-split":  # one JSON line cut across two chunks, the last one without a newline
            line = ndjson("a")
            self._stream([line[:10], line[10:] + ndjson(" b"), ndjson("", done=True).rstrip(b"\n")])
        elif path == "/busy":
            self._answer(503, json.dumps(BUSY).encode(), "application/json; charset=utf-8", "10.0.0.1:11434")
        elif path == "/openai-busy":
            body = {"error": {"message": BUSY["error"], "type": "api_error", "param": None, "code": None}}
            self._answer(503, json.dumps(body).encode(), "application/json")
        elif path == "/gateway-busy":  # a 503 in the API format that is not Ollama's queue
            self._answer(503, b'{"error": "no instance available"}', "application/json")
        elif path == "/html502":
            self._answer(502, NGINX_502, "text/html", "10.0.0.1:11434, 10.0.0.2:11434")
        elif path == "/notfound":
            self._answer(404, b'{"error":"model \\"nope\\" not found, try pulling it first"}', "application/json")
        elif path == "/plain500":
            self._answer(500, b"Internal Server Error", "text/plain")
        elif path == "/truncate":
            self._stream([ndjson("a"), ndjson(" b")], finish=False)
        elif path == "/nodone":
            self._stream([ndjson("a"), ndjson(" b")])
        elif path == "/streamerror":
            self._stream([ndjson("a"), b'{"error":"an error was encountered while running the model"}\n'])
        elif path == "/garbage":
            self._stream([b"hello world\n"])
        elif path == "/sse":
            events = [{"choices": [{"index": 0, "delta": {"role": "assistant", "content": w}}]} for w in ("x", " y")]
            self._stream([b"data: " + json.dumps(e).encode() + b"\n\n" for e in events] + [b"data: [DONE]\n\n"],
                         ctype="text/event-stream")
        elif path == "/slow":
            time.sleep(1.5)
            self._stream([ndjson("", done=True)])
        elif path == "/close":
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
        else:
            self._answer(404, b"404 page not found", "text/plain")


class QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        pass  # a client that timed out on /slow leaves a broken pipe behind: expected


class HarnessTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = QuietServer(("127.0.0.1", 0), Handler)
        cls.port = cls.server.server_address[1]
        threading.Thread(target=cls.server.serve_forever, daemon=True).start()
        closed = socket.socket()
        closed.bind(("127.0.0.1", 0))
        cls.closed_port = closed.getsockname()[1]
        closed.close()  # nothing listens there now: connection refused

    @classmethod
    def tearDownClass(cls):
        cls.server.shutdown()
        cls.server.server_close()

    def ask(self, path, port=None, timeout=5.0):
        target = loadgen.Target(path, "127.0.0.1", port or self.port, path=path)
        body = loadgen.chat_body("tiny", "a b c", 3)
        return asyncio.run(loadgen.stream_chat(target, body, timeout=timeout, connect_timeout=2.0))

    # ------------------------------------------------------------------ classification
    def test_each_answer_is_counted_under_its_kind(self):
        table = [  # path, status, kind, tokens
            ("/ok", 200, "ok", 3),
            ("/ok-split", 200, "ok", 2),
            ("/sse", 200, "ok", 2),
            ("/busy", 503, "ollama_busy", 0),
            ("/openai-busy", 503, "ollama_busy", 0),
            ("/gateway-busy", 503, "api_error", 0),
            ("/html502", 502, "html", 0),
            ("/notfound", 404, "api_error", 0),
            ("/plain500", 500, "other_body", 0),
            ("/truncate", 200, "truncated", 2),
            ("/nodone", 200, "truncated", 2),
            ("/streamerror", 200, "stream_error", 1),
            ("/garbage", 200, "bad_stream", 0),
            ("/close", None, "no_response", 0),
        ]
        for path, status, kind, tokens in table:
            with self.subTest(path=path):
                rec = self.ask(path)
                self.assertEqual((rec["status"], rec["kind"], rec["tokens"]), (status, kind, tokens), rec)
                self.assertGreaterEqual(rec["end"], rec["start"])

    def test_connection_refused(self):
        rec = self.ask("/ok", port=self.closed_port)
        self.assertEqual((rec["status"], rec["kind"]), (None, "connect_refused"))

    def test_request_timeout(self):
        rec = self.ask("/slow", timeout=0.5)
        self.assertEqual(rec["kind"], "timeout")
        self.assertLess(rec["end"] - rec["start"], 1.4)

    def test_time_to_first_token_and_upstream(self):
        rec = self.ask("/ok")
        self.assertGreaterEqual(rec["ttft"], FIRST_TOKEN_DELAY)
        self.assertLess(rec["ttft"], FIRST_TOKEN_DELAY + 1.0)
        self.assertEqual(rec["upstream"], "10.0.0.1:11434")
        self.assertIsNone(self.ask("/busy")["ttft"])

    def test_error_detail_keeps_the_message(self):
        self.assertIn("server busy", self.ask("/busy")["detail"])
        self.assertIn("502 Bad Gateway", self.ask("/html502")["detail"])

    # ------------------------------------------------------------------ load and summary
    def test_load_is_bounded_and_round_robin(self):
        targets = [loadgen.Target("t%d" % i, "127.0.0.1", self.port, path="/ok-split") for i in range(4)]
        load = loadgen.Load(targets, concurrency=8, seconds=30, body=b"{}", max_requests=3)
        stats = asyncio.run(load.run())
        self.assertEqual(len(load.records), 24)  # 8 clients x 3 requests, long before 30 s
        self.assertEqual(sorted({r["target"] for r in load.records}), ["t0", "t1", "t2", "t3"])
        self.assertEqual(sum(1 for r in load.records if r["target"] == "t0"), 6)
        self.assertLess(stats["wall_s"], 10)

    def test_load_stops_in_time(self):
        target = loadgen.Target("busy", "127.0.0.1", self.port, path="/busy")
        load = loadgen.Load([target], concurrency=2, seconds=0.5, body=b"{}", max_requests=1000, backoff=0.1)
        asyncio.run(load.run())
        self.assertTrue(2 <= len(load.records) <= 20, len(load.records))
        self.assertTrue(all(r["kind"] == "ollama_busy" for r in load.records))

    def test_summary_counts_failures_by_status_and_kind(self):
        recs = [self.ask(p) for p in ("/ok", "/ok", "/busy", "/html502", "/html502")]
        t0 = min(r["start"] for r in recs)
        summary = loadgen.summarize(recs, [(t0, t0 + 100)])
        self.assertEqual((summary["requests"], summary["ok"], summary["failed"], summary["ollama_busy"]), (5, 2, 3, 1))
        self.assertEqual(summary["failures"], {"502 html": 2, "503 ollama_busy": 1})
        self.assertEqual(summary["ok_in_window"], 2)
        self.assertAlmostEqual(summary["throughput_rps"], 0.02)
        self.assertAlmostEqual(summary["tokens_per_s"], 0.1)  # 6 tokens / 100 s, rounded to 0.1
        outside = loadgen.summarize(recs, [(t0 - 10, t0 - 5)])
        self.assertEqual(outside["ok_in_window"], 0)

    def test_percentile(self):
        self.assertIsNone(loadgen.percentile([], 0.5))
        self.assertEqual(loadgen.percentile([3, 1, 2], 0.5), 2)
        self.assertAlmostEqual(loadgen.percentile([0, 10], 0.95), 9.5)

    # ------------------------------------------------------------------ derived numbers
    def test_gateway_added_failures(self):
        def s(requests, failed, busy, rps, p50):
            return {"requests": requests, "failed": failed, "ollama_busy": busy, "throughput_rps": rps,
                    "ttft_p50_ms": p50}
        table = [  # gateway, direct, added, ratio, ttft diff
            (s(100, 0, 0, 19.8, 12.0), s(100, 0, 0, 20.0, 10.0), 0, 0.99, 2.0),
            (s(400, 300, 0, 10.0, 5.0), s(100, 0, 0, 20.0, 5.0), 300, 0.5, 0.0),  # nginx 502s
            (s(200, 100, 100, 20.0, 5.0), s(200, 100, 100, 20.0, 5.0), 0, 1.0, 0.0),  # Ollama's own 503s
            (s(200, 150, 150, 20.0, 5.0), s(200, 100, 100, 20.0, 5.0), 50, 1.0, 0.0),  # more 503s than direct
            (s(200, 120, 100, 20.0, 5.0), s(200, 150, 150, 20.0, 5.0), 20, 1.0, 0.0),  # fewer 503s, some 502s
        ]
        for gw, direct, added, ratio, diff in table:
            with self.subTest(gw=gw, direct=direct):
                out = gateway.derive_overload(gw, direct)
                self.assertEqual(out["gateway_added_failures"], added)
                self.assertAlmostEqual(out["throughput_ratio"], ratio)
                self.assertAlmostEqual(out["ttft_p50_diff_ms"], diff)

    def test_fault_attribution(self):
        def r(start, end, kind, upstream):
            return {"start": start, "end": end, "kind": kind, "upstream": upstream}
        own = {"10.0.0.1:11435"}
        records = [
            r(0, 1, "ok", "10.0.0.1:11435"),                    # finished before the fault
            r(4, 6, "truncated", "10.0.0.1:11435"),             # own, in flight at t=5: lost
            r(4, 5.5, "html", "10.0.0.1:11435, 10.0.0.2:11434"),  # own, nginx tried it first
            r(4, 6, "ok", "10.0.0.2:11434"),                    # another instance, fine
            r(4, 6, "truncated", "10.0.0.2:11434"),             # another instance lost: not own
            r(7, 7.1, "html", "10.0.0.1:11435"),                # sent after the fault: not own
            r(5.1, 8, "ok", "10.0.0.1:11435"),                  # own, open when it failed, survived
        ]
        out = gateway.attribute(records, own, 5.0, 5.2)
        self.assertEqual((out["in_flight_on_affected_at_fault"], out["failed_own_in_flight"], out["failed_other"]),
                         (3, 2, 2))
        self.assertEqual(out["attributed_by"], "upstream header")
        self.assertEqual(gateway.attribute(records, set(), 5.0, 5.2)["failed_other"], 4)
        # without the header a failure during the fault counts as the affected instance's (timing only)
        bare = [dict(rec, upstream=None) for rec in records]
        out = gateway.attribute(bare, own, 5.0, 5.2)
        self.assertEqual((out["failed_own_in_flight"], out["failed_other"], out["attributed_by"]),
                         (3, 1, "timing only"))

    def test_complaint_names_the_failure(self):
        output = b"PLAY [x]\nTASK [y]\nfatal: [gw]: FAILED! => bad\n  msg: drain timed out\nPLAY RECAP\n"
        self.assertEqual(gateway._complaint(2, output), "fatal: [gw]: FAILED! => bad | msg: drain timed out")
        self.assertEqual(gateway._complaint(0, output), "")
        self.assertEqual(gateway._complaint(1, b"one\ntwo\nthree\n"), "two | three")


if __name__ == "__main__":
    unittest.main()
