"""Test glue for molecule's rollout side effect: a steady, bounded load through the gateway.

Keeps CONCURRENCY clients sending short non-streamed /api/generate requests to URL until STOPFILE
exists or MAX_S seconds have passed, then writes a JSON summary to OUT: requests, ok, failed (any
answer but 200, or a connection error) and the first failures. Traffic goes only to the lab's gateway.

Connections are kept alive, as API clients do. When nginx reloads, its old workers close their idle
keep-alive connections; a request sent on such a connection at that moment gets no answer at all. Like
HTTP clients do for a stale pooled connection (the openai client retries connection errors), such a
request is sent again once on a new connection; these are counted in stale_retries, not hidden.
Usage: steady_load.py URL KEY CAFILE MODEL STOPFILE OUT [--concurrency N] [--max-s S]
"""
import argparse
import http.client
import json
import os
import ssl
import threading
import time
import urllib.parse


def main():
    p = argparse.ArgumentParser()
    for name in ("url", "key", "cafile", "model", "stopfile", "out"):
        p.add_argument(name)
    p.add_argument("--concurrency", type=int, default=4)
    p.add_argument("--max-s", type=float, default=600)
    a = p.parse_args()
    url = urllib.parse.urlsplit(a.url)
    ctx = ssl.create_default_context(cafile=a.cafile)
    body = json.dumps({"model": a.model, "prompt": "ping", "stream": False, "options": {"num_predict": 2}})
    headers = {"Authorization": "Bearer " + a.key, "Content-Type": "application/json"}
    deadline = time.monotonic() + a.max_s
    lock = threading.Lock()
    stats = {"requests": 0, "ok": 0, "failed": 0, "stale_retries": 0, "failures": [], "upstreams": {}}

    def client():
        conn = None
        while time.monotonic() < deadline and not os.path.exists(a.stopfile):
            for attempt in (1, 2):
                reused = conn is not None
                try:
                    if conn is None:
                        conn = http.client.HTTPSConnection(url.hostname, url.port or 443, context=ctx, timeout=60)
                    conn.request("POST", url.path, body, headers)
                    resp = conn.getresponse()
                    data = resp.read()
                    ok, what = resp.status == 200, "%d %s" % (resp.status, data[:200].decode(errors="replace"))
                    upstream = resp.getheader("X-Ollama-Upstream", "?")
                    break
                except (OSError, http.client.HTTPException) as e:
                    ok, what, upstream = False, "%s: %s" % (type(e).__name__, e), "-"
                    conn = None
                    # No answer on a pooled connection the server had closed: send it again, once.
                    stale = reused and isinstance(e, (ssl.SSLEOFError, ConnectionResetError, BrokenPipeError,
                                                      http.client.RemoteDisconnected))
                    if not (stale and attempt == 1):
                        break
                    with lock:
                        stats["stale_retries"] += 1
            with lock:
                stats["requests"] += 1
                stats["ok" if ok else "failed"] += 1
                stats["upstreams"][upstream] = stats["upstreams"].get(upstream, 0) + 1
                if not ok and len(stats["failures"]) < 20:
                    stats["failures"].append(what)
            time.sleep(0.05)

    threads = [threading.Thread(target=client) for dummy in range(a.concurrency)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    with open(a.out + ".tmp", "w") as f:
        json.dump(stats, f)
    os.replace(a.out + ".tmp", a.out)


if __name__ == "__main__":
    main()
