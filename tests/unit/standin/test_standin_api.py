# -*- coding: utf-8 -*-
# Copyright (c) 2026, gpufleet maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""HTTP API of the stand-in, pinned to ref §4-5 (server/routes.go, create.go, openai/, middleware/)."""
import hashlib
import json
import threading
import time

import pytest

import ollama_standin
from ansible_collections.gpufleet.ollama.tests.unit.standin.standin_helpers import baked


def ndjson(raw):
    return [json.loads(line) for line in raw.decode().splitlines() if line.strip()]


def test_health_and_version(server):
    """GET/HEAD / -> 200 "Ollama is running"; /api/version -> {"version": ...} (routes.go GenerateRoutes)."""
    s = server()
    assert s.request("GET", "/")[::2] == (200, b"Ollama is running")
    status, headers, body = s.request("HEAD", "/")
    assert (status, body, headers["Content-Length"]) == (200, b"", "17")
    assert s.json("GET", "/api/version") == (200, {"version": "0.0.0"})
    assert s.request("HEAD", "/api/version")[0] == 200
    assert s.request("GET", "/nope")[::2] == (404, b"404 page not found")
    assert s.request("GET", "/api/create")[::2] == (405, b"405 method not allowed")


def test_keep_alive_connection_reuse(server):
    """HTTP/1.1 keep-alive: one connection serves several requests, unread small bodies (404, 403) are
    discarded as Go's net/http does, streams are chunked."""
    s = server()
    conn = ollama_standin.http.client.HTTPConnection(s.host, s.port)
    for method, path, body, headers, status in (
            ("POST", "/nope", b"x" * 10, {}, 404), ("GET", "/", b"y" * 5, {"Host": "evil.example"}, 403),
            ("POST", "/api/generate", b'{"model":"missing"}', {}, 404), ("GET", "/api/version", None, {}, 200)):
        conn.request(method, path, body=body, headers=headers)
        resp = conn.getresponse()
        resp.read()
        assert (resp.status, resp.will_close) == (status, False), path


def test_host_check_on_loopback(server):
    """allowedHostsMiddleware: on loopback a foreign Host gets a bare 403; local names and IPs pass (#3215)."""
    s = server()
    status, headers, body = s.request("GET", "/api/tags", headers={"Host": "ollama.example.com"})
    assert (status, body) == (403, b"") and "Content-Type" not in headers
    for host in ("localhost:11434", "127.0.0.1", "10.1.2.3:80", "node1.local", "x.internal", "0.0.0.0:1"):
        assert s.request("GET", "/", headers={"Host": host})[0] == 200, host
    assert ollama_standin.host_allowed("8.8.8.8") is False
    assert ollama_standin.host_allowed("[::1]") is False  # no port: SplitHostPort fails, brackets stay


def test_host_check_off_when_not_loopback(server):
    """Binding 0.0.0.0 turns the Host check off (ref §5)."""
    s = server(host="0.0.0.0:0")
    assert s.request("GET", "/", headers={"Host": "ollama.example.com"})[0] == 200


def test_blob_upload_codes(server):
    """CreateBlobHandler: 201 created, 200 when present without reading the body, 400 on mismatch;
    HeadBlobHandler: 404/200 (ref §4.1)."""
    s = server()
    data = b"GGUF-not-really"
    digest = "sha256:" + hashlib.sha256(data).hexdigest()
    assert s.request("HEAD", f"/api/blobs/{digest}")[0] == 404
    assert s.request("POST", f"/api/blobs/{digest}", data)[0] == 201
    assert (s.models / "blobs" / digest.replace(":", "-")).read_bytes() == data
    assert oct((s.models / "blobs" / digest.replace(":", "-")).stat().st_mode & 0o777) == "0o644"
    assert s.request("HEAD", f"/api/blobs/{digest}")[0] == 200
    assert s.request("POST", f"/api/blobs/{digest}", b"different body, not read")[0] == 200
    status, body = s.json("POST", f"/api/blobs/sha256:{'0' * 64}", b"abc")
    assert status == 400 and body["error"].startswith('digest mismatch, expected "sha256:000')
    assert s.json("POST", "/api/blobs/sha256:123", b"abc") == (400, {"error": "invalid digest format"})


def test_create_files_no_rehash_and_statuses(server, tmp_path):
    """v0.29-and-older create: layer digest = uploaded file digest, `from` = blob path; statuses NDJSON
    parsing GGUF / using existing layer / creating new layer / writing manifest / success (ref §4.2)."""
    s = server()
    gguf = ollama_standin.os.path.join(tmp_path, "m.gguf")
    data = open(__import__("fixtures").write_gguf(gguf, 8192), "rb").read()
    digest = "sha256:" + hashlib.sha256(data).hexdigest()
    assert s.request("POST", f"/api/blobs/{digest}", data)[0] == 201
    status, headers, raw = s.request("POST", "/api/create", {
        "model": "demo", "files": {"m.gguf": digest}, "template": "{{ .Prompt }}", "system": "be brief",
        "parameters": {"num_ctx": 1024, "stop": ["</s>"]}})
    assert status == 200 and headers["Content-Type"] == "application/x-ndjson"
    statuses = [e["status"] for e in ndjson(raw)]
    assert statuses[0] == "parsing GGUF" and statuses[1] == f"using existing layer {digest}"
    assert all(x.startswith("creating new layer sha256:") for x in statuses[2:5])
    assert statuses[-2:] == ["writing manifest", "success"]
    path = s.models / "manifests/registry.ollama.ai/library/demo/latest"
    raw_manifest = path.read_bytes()
    manifest = json.loads(raw_manifest)
    assert raw_manifest.endswith(b"}\n") and b": " not in raw_manifest  # json.Encoder: compact + newline
    assert manifest["schemaVersion"] == 2
    assert manifest["mediaType"] == "application/vnd.docker.distribution.manifest.v2+json"
    assert manifest["config"]["mediaType"] == "application/vnd.docker.container.image.v1+json"
    model = manifest["layers"][0]
    blob_path = str(s.models / "blobs" / digest.replace(":", "-"))
    assert model == {"mediaType": "application/vnd.ollama.image.model", "digest": digest,
                     "size": len(data), "from": blob_path}
    kinds = [layer["mediaType"].rsplit(".", 1)[1] for layer in manifest["layers"]]
    assert kinds == ["model", "template", "system", "params"]
    config = json.loads((s.models / "blobs" / manifest["config"]["digest"].replace(":", "-")).read_text())
    assert (config["model_format"], config["model_family"], config["file_type"]) == ("gguf", "llama", "F16")
    assert config["rootfs"]["diff_ids"] == [layer["digest"] for layer in manifest["layers"]]
    tags = s.json("GET", "/api/tags")[1]["models"]
    assert tags[0]["digest"] == hashlib.sha256(raw_manifest).hexdigest()


def test_create_errors(server):
    """Legacy `modelfile` body -> 400 neither 'from' or 'files' (v0.5.5+); invalid names -> 400;
    a missing `from` model is pulled and fails offline: stream -> 200 + error line, stream:false -> 500."""
    s = server()
    assert s.json("POST", "/api/create", {"model": "x", "modelfile": "FROM llama3"}) == (
        400, {"error": "neither 'from' or 'files' was specified"})
    assert s.json("POST", "/api/create", {"model": "bad name!", "from": "x"}) == (400, {"error": "invalid model name"})
    assert s.json("POST", "/api/create", {"model": "x", "files": {"/abs.gguf": "sha256:" + "0" * 64}}) == (
        400, {"error": "file path must be relative"})
    assert s.json("POST", "/api/create", b"") == (400, {"error": "missing request body"})
    status, dummy, raw = s.request("POST", "/api/create", {"model": "x", "from": "missing.gguf"})
    events = ndjson(raw)
    assert status == 200 and events[0] == {"status": "pulling manifest"}
    assert events[1]["error"].startswith('pull model manifest: Get "https://registry.ollama.ai/v2/library/'
                                         'missing.gguf/manifests/latest"')
    status, body = s.json("POST", "/api/create", {"model": "x", "from": "missing", "stream": False})
    assert status == 500 and body["error"].startswith("pull model manifest:")


def test_create_from_existing_model_and_retag_cleanup(server):
    """`from` reuses the base layers (no copy); re-creating a tag removes its now-unused layers."""
    s = server()
    s.add_model("base:latest")
    status, body = s.json("POST", "/api/create", {"model": "v", "from": "base", "system": "one", "stream": False})
    assert (status, body) == (200, {"status": "success"})
    first = json.loads((s.models / "manifests/registry.ollama.ai/library/v/latest").read_text())
    system_one = [la for la in first["layers"] if la["mediaType"].endswith("system")][0]["digest"]
    assert first["layers"][0]["from"] == "base:latest"
    assert s.json("POST", "/api/create", {"model": "v", "from": "base", "system": "two", "stream": False})[0] == 200
    assert not (s.models / "blobs" / system_one.replace(":", "-")).exists()


def test_tags_fields_order_and_skip(server):
    """/api/tags: fields, newest first, rescanned on every call (rsync'd models appear without restart),
    models whose config blob is missing are skipped (ref §3.4, §5)."""
    s = server()
    assert s.json("GET", "/api/tags") == (200, {"models": []})
    digest_a = s.add_model("a:1")
    path_a = s.models / "manifests/registry.ollama.ai/library/a/1"
    ollama_standin.os.utime(path_a, (time.time() - 100, time.time() - 100))
    s.add_model("team/b:latest", size=70000)
    models = s.json("GET", "/api/tags")[1]["models"]
    assert [m["name"] for m in models] == ["team/b:latest", "a:1"]
    a = models[1]
    assert list(a) == ["name", "model", "modified_at", "size", "digest", "details"]
    assert a["digest"] == digest_a and a["model"] == "a:1"
    assert list(a["details"]) == ["parent_model", "format", "family", "families", "parameter_size",
                                  "quantization_level"]
    manifest = json.loads(path_a.read_text())
    assert a["size"] == sum(la["size"] for la in manifest["layers"]) + manifest["config"]["size"]
    (s.models / "blobs" / manifest["config"]["digest"].replace(":", "-")).unlink()
    assert [m["name"] for m in s.json("GET", "/api/tags")[1]["models"]] == ["team/b:latest"]


def test_delete_and_copy(server):
    """DELETE /api/delete and POST /api/copy: 200 empty or 404; copy duplicates only the manifest (ref §5)."""
    s = server()
    digest = s.add_model()
    status, dummy, body = s.request("POST", "/api/copy", {"source": "tiny", "destination": "other:v2"})
    assert (status, body) == (200, b"")
    tags = {m["name"]: m["digest"] for m in s.json("GET", "/api/tags")[1]["models"]}
    assert tags == {"tiny:latest": digest, "other:v2": digest}
    assert s.json("POST", "/api/copy", {"source": "ghost", "destination": "x"}) == (
        404, {"error": 'model "ghost" not found'})
    assert s.json("DELETE", "/api/delete", {"model": "ghost"}) == (404, {"error": "model 'ghost' not found"})
    assert s.request("DELETE", "/api/delete", {"model": "TINY"})[::2] == (200, b"")  # case-insensitive
    assert len(list((s.models / "blobs").iterdir())) == 4  # still used by other:v2
    assert s.request("DELETE", "/api/delete", {"model": "other:v2"})[0] == 200
    assert list((s.models / "blobs").iterdir()) == []


def test_show(server):
    """POST /api/show: modelfile starts with the generated header and FROM <blob path> (ref §6)."""
    s = server()
    s.add_model()
    status, info = s.json("POST", "/api/show", {"model": "tiny"})
    assert status == 200
    lines = info["modelfile"].splitlines()
    assert lines[0] == '# Modelfile generated by "ollama show"' and lines[2] == "# FROM tiny:latest"
    assert lines[4].startswith("FROM " + str(s.models / "blobs" / "sha256-"))
    assert "PARAMETER num_ctx 2048" in lines and "PARAMETER stop <|end|>" in lines
    assert info["details"]["family"] == "llama" and info["capabilities"] == ["completion"]
    assert info["model_info"]["general.architecture"] == "llama"
    assert s.json("POST", "/api/show", {"model": "nope"}) == (404, {"error": "model 'nope' not found"})


def test_generate_ndjson_stream(server):
    """/api/generate streams NDJSON by default; the last chunk is done:true with durations in ns."""
    s = server()
    s.add_model()
    body = {"model": "tiny", "prompt": "hello world", "options": {"num_predict": 3}}
    status, headers, raw = s.request("POST", "/api/generate", body)
    assert status == 200 and headers["Content-Type"] == "application/x-ndjson"
    assert headers["Transfer-Encoding"] == "chunked"
    chunks = ndjson(raw)
    assert [c["response"] for c in chunks] == ["hello", " world", " hello", ""]
    assert all(c["done"] is False for c in chunks[:-1])
    final = chunks[-1]
    assert final["done"] is True and final["done_reason"] == "length" and final["eval_count"] == 3
    for key in ("total_duration", "load_duration", "prompt_eval_duration", "eval_duration"):
        assert isinstance(final[key], int) and final[key] > 0
    assert final["created_at"].endswith("Z")


def test_generate_stream_false_default_length(server):
    """stream:false returns one JSON object; with num_predict unset the stand-in stops after 16 tokens."""
    s = server()
    s.add_model()
    status, body = s.json("POST", "/api/generate", {"model": "tiny", "prompt": "a", "stream": False})
    assert status == 200 and body["response"] == " ".join(["a"] * 16) and body["done_reason"] == "stop"
    assert s.json("POST", "/api/generate", {"model": "ghost", "prompt": "x"}) == (
        404, {"error": "model 'ghost' not found"})


def test_keep_alive_load_unload_and_ps(server):
    """Only the model -> done_reason load; keep_alive 0 -> unload; /api/ps size_vram == size with a GPU,
    keep_alive -1 gives a far-future expires_at (ref §5)."""
    s = server()
    s.add_model()
    status, body = s.json("POST", "/api/chat", {"model": "tiny", "keep_alive": -1})
    assert (status, body["done_reason"], body["message"]) == (200, "load", {"role": "assistant", "content": ""})
    models = s.json("GET", "/api/ps")[1]["models"]
    assert len(models) == 1 and models[0]["size_vram"] == models[0]["size"] > 0
    assert int(models[0]["expires_at"][:4]) > 2200
    assert list(models[0]) == ["name", "model", "size", "digest", "details", "expires_at", "size_vram",
                               "context_length"]
    status, body = s.json("POST", "/api/generate", {"model": "tiny", "keep_alive": 0})
    assert (status, body["done_reason"]) == (200, "unload")
    assert s.json("GET", "/api/ps")[1] == {"models": []}
    s.json("POST", "/api/generate", {"model": "tiny", "keep_alive": "10m"})
    expires = ollama_standin.parse_go_time(s.json("GET", "/api/ps")[1]["models"][0]["expires_at"])
    assert 590 < expires.timestamp() - time.time() <= 600
    assert s.json("POST", "/api/generate", {"model": "tiny", "keep_alive": "soon"})[0] == 400


@pytest.mark.parametrize("env", [{"CUDA_VISIBLE_DEVICES": "-1"}, {"STANDIN_NVIDIA_SMI_JSON": "nogpus"},
                                 {"CUDA_VISIBLE_DEVICES": "GPU-ffffffff"}])
def test_ps_cpu_only(server, tmp_path, env):
    """size_vram is 0 without a visible GPU: CUDA_VISIBLE_DEVICES=-1 (docs/gpu.mdx), no GPU listed, or
    no GPU matching the UUID given."""
    if env.get("STANDIN_NVIDIA_SMI_JSON"):
        (tmp_path / "nogpus.json").write_text('{"gpus": []}')
        env = {"STANDIN_NVIDIA_SMI_JSON": str(tmp_path / "nogpus.json")}
    s = server(**env)
    s.add_model()
    s.json("POST", "/api/generate", {"model": "tiny"})
    assert s.json("GET", "/api/ps")[1]["models"][0]["size_vram"] == 0


@pytest.mark.parametrize("value, fraction", [("0.25", 0.25), ("0", 0.0), (" 1 ", 1.0)])
def test_ps_partial_gpu_offload(server, value, fraction):
    """STANDIN_GPU_OFFLOAD (stand-in only): size_vram = int(size * fraction), as a real server that put only some
    layers on the GPU (sched.go vramSize/totalSize -> PsHandler); `ollama ps` shows the CPU/GPU split."""
    s = server(STANDIN_GPU_OFFLOAD=value)
    s.add_model(size=100000)
    assert s.json("POST", "/api/generate", {"model": "tiny"})[0] == 200
    model = s.json("GET", "/api/ps")[1]["models"][0]
    assert model["size"] > 0 and model["size_vram"] == int(model["size"] * fraction)
    if value == "0.25":
        row = s.cli("ps").stdout.splitlines()[1]
        assert "75%/25% CPU/GPU" in row


@pytest.mark.parametrize("value", ["half", "1.5", "-0.1", "nan"])
def test_ps_gpu_offload_invalid_counts_as_one(server, value):
    """An invalid STANDIN_GPU_OFFLOAD is logged and treated as 1 (all on the GPU)."""
    s = server(STANDIN_GPU_OFFLOAD=value)
    s.add_model()
    s.json("POST", "/api/generate", {"model": "tiny"})
    model = s.json("GET", "/api/ps")[1]["models"][0]
    assert model["size_vram"] == model["size"] > 0
    assert "invalid STANDIN_GPU_OFFLOAD, using 1" in s.log() and f"STANDIN_GPU_OFFLOAD={value}" in s.log()


def test_ps_gpu_offload_ignored_on_cpu(server):
    """Without a visible GPU size_vram stays 0 whatever STANDIN_GPU_OFFLOAD says."""
    s = server(STANDIN_GPU_OFFLOAD="0.5", CUDA_VISIBLE_DEVICES="-1")
    s.add_model()
    s.json("POST", "/api/generate", {"model": "tiny"})
    assert s.json("GET", "/api/ps")[1]["models"][0]["size_vram"] == 0


def test_chat_ndjson(server):
    """/api/chat chunks carry message{role,content}; the final chunk is done:true."""
    s = server()
    s.add_model()
    body = {"model": "tiny", "options": {"num_predict": 2}, "messages": [{"role": "user", "content": "hi you"}]}
    chunks = ndjson(s.request("POST", "/api/chat", body)[2])
    assert [c["message"]["content"] for c in chunks] == ["hi", " you", ""]
    assert chunks[-1]["done"] is True and "context" not in chunks[-1]
    assert s.json("POST", "/api/chat", {"model": "", "messages": []}) == (400, {"error": "model is required"})


def test_openai_sse_and_default_non_stream(server):
    """/v1/chat/completions: SSE `data: {...}` chunks then `data: [DONE]` when streaming; stream defaults
    to false; errors are {"error":{"message","type"}} (openai/openai.go, middleware/openai.go)."""
    s = server()
    s.add_model()
    status, headers, raw = s.request("POST", "/v1/chat/completions", {
        "model": "tiny", "stream": True, "max_tokens": 2, "stream_options": {"include_usage": True},
        "messages": [{"role": "user", "content": "x y"}]})
    assert status == 200 and headers["Content-Type"] == "text/event-stream"
    events = raw.decode().split("\n\n")
    assert events[-2:] == ["data: [DONE]", ""]
    chunks = [json.loads(e[len("data: "):]) for e in events[:-2]]
    assert all(e.startswith("data: ") for e in events[:-2])
    assert chunks[0]["object"] == "chat.completion.chunk" and chunks[0]["id"].startswith("chatcmpl-")
    assert chunks[0]["choices"][0]["delta"] == {"role": "assistant", "content": "x"}
    assert chunks[0]["choices"][0]["finish_reason"] is None
    assert chunks[2]["choices"][0]["finish_reason"] == "length"
    assert chunks[3]["choices"] == [] and chunks[3]["usage"]["completion_tokens"] == 2
    status, body = s.json("POST", "/v1/chat/completions", {"model": "tiny", "messages": [
        {"role": "user", "content": "q"}]})
    assert status == 200 and body["object"] == "chat.completion"
    assert body["choices"][0]["message"]["content"] == " ".join(["q"] * 16)
    assert s.json("POST", "/v1/chat/completions", {"model": "zz", "messages": [{"role": "user", "content": "q"}]}) \
        == (404, {"error": {"message": "model 'zz' not found", "type": "api_error", "param": None, "code": None}})
    status, body = s.json("POST", "/v1/chat/completions", {"model": "tiny", "messages": []})
    assert status == 400 and body["error"]["type"] == "invalid_request_error"


def test_openai_models(server):
    """/v1/models: {"object":"list","data":[{id,object,created,owned_by}]}; data is null when empty."""
    s = server()
    assert s.json("GET", "/v1/models") == (200, {"object": "list", "data": None})
    s.add_model()
    data = s.json("GET", "/v1/models")[1]["data"]
    assert data[0]["id"] == "tiny:latest" and data[0]["owned_by"] == "library" and data[0]["object"] == "model"


def test_queue_limit_503(server):
    """More waiting requests than OLLAMA_MAX_QUEUE -> 503 server busy (sched.go ErrMaxQueue, ref §2)."""
    s = server(OLLAMA_NUM_PARALLEL="1", OLLAMA_MAX_QUEUE="1", STANDIN_TOKENS_PER_S="40")
    s.add_model()
    body = {"model": "tiny", "prompt": "slow", "stream": False, "options": {"num_predict": 10}}
    results = []
    threads = [threading.Thread(target=lambda: results.append(s.json("POST", "/api/generate", body)))
               for dummy in range(3)]
    for t in threads:
        t.start()
        time.sleep(0.05)
    for t in threads:
        t.join()
    assert sorted(r[0] for r in results) == [200, 200, 503]
    assert [r[1] for r in results if r[0] == 503] == [
        {"error": "server busy, please try again.  maximum pending requests exceeded"}]


def _generate_and_time(instance, ended):
    """A non-streamed /api/generate of 6 tokens; appends the time it ended to `ended`."""
    body = {"model": "tiny", "prompt": "p", "stream": False, "options": {"num_predict": 6}}
    assert instance.json("POST", "/api/generate", body)[0] == 200
    ended.append(time.monotonic())


def test_num_parallel_runs_concurrently(server):
    """OLLAMA_NUM_PARALLEL (default 1) is the number of parallel requests per model; the rest queue.
    Each request below takes at least 5 token gaps of 100 ms = 0.5 s: run in parallel, two requests
    end together; queued, the second ends about 0.5 s after the first (sleeps: load makes it later,
    never sooner). Only end times are compared, not durations, so a slow machine does not fail it."""
    gap = {}
    for parallel in ("2", None):
        s = server(OLLAMA_NUM_PARALLEL=parallel, STANDIN_TOKENS_PER_S="10")
        s.add_model()
        ended = []
        threads = [threading.Thread(target=_generate_and_time, args=(s, ended)) for dummy in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        s.stop()
        assert len(ended) == 2, parallel
        gap[parallel] = abs(ended[1] - ended[0])
    assert gap["2"] < 0.3 and gap[None] >= 0.45, gap


def test_streaming_is_incremental(server):
    """Tokens are spaced by STANDIN_TOKENS_PER_S, so a proxy sees the first chunk well before the last."""
    s = server(STANDIN_TOKENS_PER_S="20")
    s.add_model()
    conn = ollama_standin.http.client.HTTPConnection(s.host, s.port)
    conn.request("POST", "/api/generate", json.dumps({"model": "tiny", "prompt": "a", "options": {"num_predict": 6}}))
    resp = conn.getresponse()
    started = time.time()
    first = resp.readline()
    first_at = time.time() - started
    resp.read()
    assert json.loads(first)["response"] == "a" and first_at < 0.1 and time.time() - started > 0.2


def test_serve_start_and_home(server, tmp_path):
    """serve creates ~/.ollama/id_ed25519 and dies without a usable HOME (#9148); logs `server config
    env=map[...]`, `Listening on ... (version V)` and "user overrode visible devices" (ref §2)."""
    s = server(binary=baked(tmp_path, "0.14.1"), CUDA_VISIBLE_DEVICES="GPU-x", OLLAMA_KEEP_ALIVE="1h")
    assert (s.home / ".ollama" / "id_ed25519").exists() and (s.home / ".ollama" / "id_ed25519.pub").exists()
    log = s.log()
    assert 'msg="server config" env="map[CUDA_VISIBLE_DEVICES:GPU-x ' in log
    assert "OLLAMA_KEEP_ALIVE:1h0m0s" in log and "OLLAMA_NUM_PARALLEL:1 " in log
    assert f"Listening on 127.0.0.1:{s.port} (version 0.14.1)" in log
    assert 'msg="user overrode visible devices" CUDA_VISIBLE_DEVICES=GPU-x' in log
    blocker = tmp_path / "file"
    blocker.write_text("")
    for home, message in ((None, "Error: $HOME is not defined"),
                          (str(blocker / "home"), "Error: could not create directory mkdir")):
        with pytest.raises(RuntimeError) as err:
            server(HOME=home)
        assert message in str(err.value)


@pytest.mark.parametrize("value,expected", [
    ("", ("http", "127.0.0.1", 11434)), ("0.0.0.0", ("http", "0.0.0.0", 11434)),
    (":8080", ("http", "", 8080)), ("http://example.com", ("http", "example.com", 80)),
    ("https://example.com", ("https", "example.com", 443)), ("'[::1]:1234'", ("http", "::1", 1234)),
    ("example.com:99999", ("http", "example.com", 11434)), ("  10.0.0.1:5000/path ", ("http", "10.0.0.1", 5000)),
])
def test_ollama_host_parsing(monkeypatch, value, expected):
    """envconfig.Host: default 127.0.0.1:11434, scheme default ports, trimmed quotes, bad port -> default."""
    monkeypatch.setenv("OLLAMA_HOST", value)
    assert ollama_standin.ollama_host() == expected
