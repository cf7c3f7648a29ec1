# -*- coding: utf-8 -*-
# Copyright (c) 2026, gpufleet maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Streaming-chat load generator for the gateway benchmarks. Python standard library only.

One asyncio event loop, raw sockets (``asyncio.open_connection``), one connection per request
(``Connection: close``, the same for the gateway and for the instances), so a client costs
little CPU on a 2-core machine. Every request gives one record (a dict):

    start, end      monotonic seconds
    status          HTTP status, or None when no status line arrived
    kind            "ok" or the kind of failure (FAILURE_KINDS)
    ttft            seconds from sending the request to the first token, None without a token
    tokens          tokens received (NDJSON lines or SSE events with content)
    upstream        the X-Ollama-Upstream header (the instance(s) nginx tried), or None
    target          the name of the target it was sent to
    detail          a short text for failures (exception name, error message)

A request is "ok" only when the status is 200 and the stream ended with Ollama's last chunk
(``"done": true`` on /api/*, ``data: [DONE]`` on /v1/*). Failures are classified by what came
back, never by status alone, so Ollama's own queue-full answer (503 ``{"error": "server busy,
please try again.  maximum pending requests exceeded"}``) is told apart from nginx's HTML error
pages and from broken streams.
"""

import asyncio
import json
import math
import resource
import ssl
import time

# Every value "kind" can take besides "ok".
FAILURE_KINDS = {
    "ollama_busy": "status 503 with Ollama's own JSON error 'server busy' (its queue is full)",
    "api_error": "a non-200 answer in the API's JSON error format ({'error': ...}), other than busy",
    "html": "a non-200 answer with an HTML body (nginx's error page)",
    "other_body": "a non-200 answer that is neither JSON nor HTML",
    "stream_error": "status 200, then an {'error': ...} object inside the stream",
    "truncated": "status 200, then the connection ended before the last chunk",
    "bad_stream": "status 200 with a body that is not a chat stream",
    "no_response": "the connection closed or reset before a status line",
    "connect_refused": "the TCP connection was refused",
    "connect_timeout": "the TCP connection did not open within the connect timeout",
    "connect_error": "the TCP connection failed otherwise (no route, TLS handshake, ...)",
    "timeout": "the whole request did not finish within the request timeout",
}

BUSY_TEXT = "server busy"
MAX_ERROR_BODY = 65536


class Target:
    """Where a request goes: host, port, path, optional TLS context and headers."""

    def __init__(self, name, host, port, path="/api/chat", tls=None, headers=None):
        self.name, self.host, self.port, self.path = name, host, int(port), path
        self.tls, self.headers = tls, dict(headers or {})

    def __repr__(self):
        return "Target(%s %s:%d%s)" % (self.name, self.host, self.port, self.path)


def tls_context(ca_file=None, verify=True):
    """An SSL context for https targets (the gateway's CA when given)."""
    ctx = ssl.create_default_context(cafile=ca_file)
    if not verify:
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    return ctx


def chat_body(model, prompt, num_predict, openai=False):
    """A streaming chat request body (/api/chat, or /v1/chat/completions when openai)."""
    messages = [{"role": "user", "content": prompt}]
    if openai:
        return json.dumps({"model": model, "messages": messages, "stream": True, "max_tokens": num_predict}).encode()
    return json.dumps({"model": model, "messages": messages, "stream": True,
                       "options": {"num_predict": num_predict}}).encode()


def request_bytes(target, body):
    head = ["POST %s HTTP/1.1" % target.path, "Host: %s:%d" % (target.host, target.port),
            "User-Agent: gpufleet-bench", "Accept: */*", "Content-Type: application/json",
            "Content-Length: %d" % len(body), "Connection: close"]
    head += ["%s: %s" % item for item in target.headers.items()]
    return ("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + body


def classify_error(status, body):
    """Kind of a non-200 answer from its body: ollama_busy, api_error, html or other_body."""
    text = body.decode("utf-8", "replace")
    try:
        data = json.loads(text)
    except ValueError:
        data = None
    if isinstance(data, dict) and "error" in data:
        error = data["error"]
        message = error.get("message", "") if isinstance(error, dict) else str(error)
        if status == 503 and BUSY_TEXT in message:
            return "ollama_busy", message[:120]
        return "api_error", message[:120]
    if "<html" in text[:512].lower():
        return "html", " ".join(text.split())[:120]
    return "other_body", " ".join(text.split())[:120]


async def _read_headers(reader):
    headers = {}
    while True:
        line = await reader.readline()
        if not line:
            raise ConnectionResetError("connection closed in the headers")
        line = line.decode("latin-1").rstrip("\r\n")
        if not line:
            return headers
        name, dummy, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()


async def _body_chunks(reader, headers):
    """Yield the body as it arrives: chunked, Content-Length, or until the connection closes.
    Raises ConnectionResetError when a framed body ends early."""
    if headers.get("transfer-encoding", "").lower() == "chunked":
        while True:
            size_line = await reader.readline()
            if not size_line:
                raise ConnectionResetError("connection closed inside the chunked body")
            size = int(size_line.split(b";", 1)[0].strip() or b"0", 16)
            if size == 0:
                await reader.readline()  # the CRLF after the last chunk (trailers are not used)
                return
            data = await reader.readexactly(size + 2)
            yield data[:-2]
    elif "content-length" in headers:
        left = int(headers["content-length"])
        while left > 0:
            data = await reader.read(min(left, 65536))
            if not data:
                raise ConnectionResetError("connection closed inside the body")
            left -= len(data)
            yield data
    else:
        while True:
            data = await reader.read(65536)
            if not data:
                return
            yield data


def _stream_event(line):
    """One line of a chat stream -> ('token'|'empty'|'done'|'error'|'skip'|'bad', text)."""
    line = line.strip()
    if not line:
        return "skip", ""
    if line.startswith(b"data:"):  # OpenAI server-sent events
        payload = line[5:].strip()
        if payload == b"[DONE]":
            return "done", ""
        try:
            data = json.loads(payload)
        except ValueError:
            return "bad", payload[:80].decode("utf-8", "replace")
        if isinstance(data, dict) and "error" in data:
            return "error", str(data["error"])[:120]
        choices = data.get("choices") or [{}] if isinstance(data, dict) else [{}]
        content = ((choices[0] or {}).get("delta") or {}).get("content") if choices else None
        return ("token", content) if content else ("empty", "")
    if line.startswith(b":") or line.startswith(b"event:") or line.startswith(b"id:"):
        return "skip", ""
    try:
        data = json.loads(line)
    except ValueError:
        return "bad", line[:80].decode("utf-8", "replace")
    if not isinstance(data, dict):
        return "bad", line[:80].decode("utf-8", "replace")
    if "error" in data:
        return "error", str(data["error"])[:120]
    if data.get("done"):
        return "done", ""
    content = (data.get("message") or {}).get("content") if "message" in data else data.get("response")
    return ("token", content) if content else ("empty", "")


async def _exchange(target, body, rec, sent_at):
    """Send one request on a fresh connection and fill rec; the caller bounds it in time."""
    try:
        reader, writer = await asyncio.wait_for(
            asyncio.open_connection(target.host, target.port, ssl=target.tls,
                                    server_hostname=target.host if target.tls else None),
            rec.pop("_connect_timeout"))
    except ConnectionRefusedError:
        rec["kind"] = "connect_refused"
        return
    except asyncio.TimeoutError:
        rec["kind"] = "connect_timeout"
        return
    except (OSError, ssl.SSLError) as exc:
        rec["kind"], rec["detail"] = "connect_error", type(exc).__name__
        return
    # connection set up (TCP, and the TLS handshake for an https target): TTFT is also reported without it,
    # which is what a client with a kept-alive connection (the ollama and openai libraries) sees
    rec["connect"] = time.monotonic() - sent_at
    try:
        writer.write(request_bytes(target, body))
        await writer.drain()
        status_line = await reader.readline()
        if not status_line:
            rec["kind"] = "no_response"
            return
        parts = status_line.decode("latin-1").split(None, 2)
        rec["status"] = int(parts[1])
        headers = await _read_headers(reader)
        rec["upstream"] = headers.get("x-ollama-upstream")
        if rec["status"] != 200:
            data = b""
            async for piece in _body_chunks(reader, headers):
                data += piece
                if len(data) > MAX_ERROR_BODY:
                    break
            rec["kind"], rec["detail"] = classify_error(rec["status"], data)
            return
        pending, done = b"", False
        async for piece in _body_chunks(reader, headers):
            pending += piece
            *lines, pending = pending.split(b"\n")
            for line in lines:
                event, text = _stream_event(line)
                if event == "token":
                    if rec["ttft"] is None:
                        rec["ttft"] = time.monotonic() - sent_at
                    rec["tokens"] += 1
                elif event == "done":
                    done = True
                elif event == "error":
                    rec["kind"], rec["detail"] = "stream_error", text
                    return
                elif event == "bad":
                    rec["kind"], rec["detail"] = "bad_stream", text
                    return
        if pending.strip():
            event, text = _stream_event(pending)
            done = done or event == "done"
            if event == "error":
                rec["kind"], rec["detail"] = "stream_error", text
                return
        rec["kind"] = "ok" if done else "truncated"
    except (ConnectionError, asyncio.IncompleteReadError, OSError, ValueError, ssl.SSLError) as exc:
        rec["kind"] = "truncated" if rec["status"] is not None else "no_response"
        rec["detail"] = type(exc).__name__
    finally:
        writer.close()


async def stream_chat(target, body, timeout=60.0, connect_timeout=3.0):
    """Send one streaming chat request; return its record (never raises for network trouble)."""
    start = time.monotonic()
    rec = {"target": target.name, "start": start, "end": None, "status": None, "kind": None,
           "ttft": None, "connect": None, "tokens": 0, "upstream": None, "detail": "",
           "_connect_timeout": connect_timeout}
    try:
        await asyncio.wait_for(_exchange(target, body, rec, start), timeout)
    except asyncio.TimeoutError:
        rec["kind"] = "timeout"
    rec.pop("_connect_timeout", None)
    rec["end"] = time.monotonic()
    return rec


class Load:
    """Bounded closed-loop load: `concurrency` clients, each sending requests one after the other
    until `seconds` have passed or it has sent `max_requests`, sleeping `backoff` after a failure.
    Client i sends to targets[i % len(targets)] (round-robin spread over the instances)."""

    def __init__(self, targets, concurrency, seconds, body, max_requests=1000, backoff=0.2,
                 timeout=60.0, connect_timeout=3.0):
        self.targets, self.concurrency, self.seconds, self.body = list(targets), concurrency, seconds, body
        self.max_requests, self.backoff = max_requests, backoff
        self.timeout, self.connect_timeout = timeout, connect_timeout
        self.records, self.started = [], None
        self.extend_until = None  # callers (fault actions) may keep the load going longer

    def stop_at(self):
        return self.started + max(self.seconds, self.extend_until or 0)

    async def _client(self, index):
        target = self.targets[index % len(self.targets)]
        for dummy in range(self.max_requests):
            if time.monotonic() >= self.stop_at():
                return
            rec = await stream_chat(target, self.body, self.timeout, self.connect_timeout)
            self.records.append(rec)
            if rec["kind"] != "ok":
                await asyncio.sleep(self.backoff)

    async def run(self, actions=()):
        """Run the clients and the `actions` (coroutine functions taking this Load) together."""
        self.started = time.monotonic()
        cpu0, wall0 = _cpu_seconds(), time.monotonic()
        tasks = [asyncio.ensure_future(self._client(i)) for i in range(self.concurrency)]
        tasks += [asyncio.ensure_future(action(self)) for action in actions]
        await asyncio.gather(*tasks)
        wall = time.monotonic() - wall0
        return {"wall_s": wall, "client_cpu_s": _cpu_seconds() - cpu0,
                "client_cpu_fraction": (_cpu_seconds() - cpu0) / wall if wall else 0.0}


def _cpu_seconds():
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def percentile(values, fraction):
    """Linear-interpolated percentile of a list (None when empty)."""
    if not values:
        return None
    ordered = sorted(values)
    pos = (len(ordered) - 1) * fraction
    low, high = math.floor(pos), math.ceil(pos)
    return ordered[low] + (ordered[high] - ordered[low]) * (pos - low)


def failure_key(rec):
    """'503 ollama_busy', '502 html', '- connect_refused', ..."""
    return "%s %s" % (rec["status"] if rec["status"] is not None else "-", rec["kind"])


def summarize(records, windows=None):
    """Counts, failures by kind and status, TTFT and throughput of a list of records.

    windows=[(t0, t1), ...] (non-overlapping): throughput counts the ok requests (and their tokens)
    that ended inside a window, divided by the windows' total length, so the warm-up and the final
    drain of each round do not dilute it."""
    ok = [r for r in records if r["kind"] == "ok"]
    failures = {}
    for rec in records:
        if rec["kind"] != "ok":
            key = failure_key(rec)
            failures[key] = failures.get(key, 0) + 1
    ttfts = [r["ttft"] for r in ok if r["ttft"] is not None]
    after = [r["ttft"] - r["connect"] for r in ok if r["ttft"] is not None and r.get("connect") is not None]
    connects = [r["connect"] for r in records if r.get("connect") is not None]
    out = {"requests": len(records), "ok": len(ok), "failed": len(records) - len(ok),
           "failures": dict(sorted(failures.items())),
           "ollama_busy": sum(1 for r in records if r["kind"] == "ollama_busy"),
           "ttft_p50_ms": _ms(percentile(ttfts, 0.5)), "ttft_p95_ms": _ms(percentile(ttfts, 0.95)),
           "connect_p50_ms": _ms(percentile(connects, 0.5)),
           "ttft_after_connect_p50_ms": _ms(percentile(after, 0.5))}
    if windows:
        inside = [r for r in ok if any(t0 <= r["end"] <= t1 for t0, t1 in windows)]
        span = sum(t1 - t0 for t0, t1 in windows)
        out.update(window_s=round(span, 3), ok_in_window=len(inside),
                   throughput_rps=round(len(inside) / span, 3) if span > 0 else None,
                   tokens_per_s=round(sum(r["tokens"] for r in inside) / span, 1) if span > 0 else None)
    return out


def _ms(seconds):
    return None if seconds is None else round(seconds * 1000.0, 2)
