"""Test glue for molecule's drain side effect: one streamed /api/generate through the gateway.

Writes a JSON status file as soon as the response headers arrive (which instance answered) and again
at the end (how many chunks, whether the stream finished with done=true). Bounded by --timeout.
Usage: stream_client.py URL KEY CAFILE STATUSFILE [--tokens N] [--timeout S]
"""
import argparse
import http.client
import json
import os
import ssl
import time
import urllib.parse


def write(path, data):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(data, f)
    os.replace(tmp, path)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("url")
    p.add_argument("key")
    p.add_argument("cafile")
    p.add_argument("status")
    p.add_argument("--tokens", type=int, default=200)
    p.add_argument("--timeout", type=float, default=60)
    a = p.parse_args()
    u = urllib.parse.urlsplit(a.url)
    conn = http.client.HTTPSConnection(u.hostname, u.port or 443, timeout=a.timeout,
                                       context=ssl.create_default_context(cafile=a.cafile))
    body = json.dumps({"model": "tiny", "prompt": "count slowly", "options": {"num_predict": a.tokens}})
    t0 = time.monotonic()
    conn.request("POST", "/api/generate", body, {"Authorization": "Bearer " + a.key,
                                                 "Content-Type": "application/json"})
    r = conn.getresponse()
    state = {"status": r.status, "upstream": r.getheader("X-Ollama-Upstream"), "chunks": 0, "done": False}
    write(a.status, state)
    for line in r:
        if not line.strip():
            continue
        msg = json.loads(line)
        state["chunks"] += 1
        state["done"] = bool(msg.get("done"))
        if time.monotonic() - t0 > a.timeout:
            break
    state["seconds"] = round(time.monotonic() - t0, 2)
    state["finished"] = True
    write(a.status, state)


if __name__ == "__main__":
    main()
