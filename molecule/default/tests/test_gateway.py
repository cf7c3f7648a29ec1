"""The gateway as a client sees it: TLS with the role's CA, API keys, model-aware routing, errors in the
API's own format. These run on the controller (the molecule host) against the gateway's front address,
with the real `ollama` and `openai` Python clients where a client library is involved.

The keys are the lab's (inventories/lab/group_vars/ollama_gateways/main.yml); the CA is the one the role
created in the scenario's ephemeral directory (GPUFLEET_LAB_PKI).
"""
import json
import os
import ssl
import urllib.error
import urllib.request

import pytest
import yaml

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
KEYS = {k["name"]: k["key"] for k in yaml.safe_load(
    open(os.path.join(ROOT, "inventories", "lab", "group_vars", "ollama_gateways", "main.yml")))["ollama_gateway_api_keys"]}


def only_gateway(host):
    if "ollama_gateways" not in host.ansible.get_variables().get("group_names", []):
        pytest.skip("not a gateway")
    v = host.ansible.get_variables()["lab_front_address"]
    return v["__ansible_unsafe"] if isinstance(v, dict) else v


def ca_file():
    return os.path.join(os.environ["MOLECULE_EPHEMERAL_DIRECTORY"], "pki", "ca.crt")


def call(gw, path, body=None, key="lab-user", method=None, scheme="https", port=None):
    """(status, headers, parsed JSON or text) of one request to the gateway."""
    url = "%s://%s%s%s" % (scheme, gw, ":%d" % port if port else "", path)
    headers = {"Content-Type": "application/json"}
    if key:
        headers["Authorization"] = "Bearer " + KEYS.get(key, key)
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, headers=headers, method=method)
    ctx = ssl.create_default_context(cafile=ca_file())
    try:
        with urllib.request.urlopen(req, timeout=60, context=ctx) as r:
            status, hdrs, raw = r.status, dict(r.headers), r.read()
    except urllib.error.HTTPError as e:
        status, hdrs, raw = e.code, dict(e.headers), e.read()
    text = raw.decode()
    try:
        return status, hdrs, json.loads(text.strip().splitlines()[-1]) if text.strip() else None
    except ValueError:
        return status, hdrs, text


GEN = {"model": "tiny", "prompt": "ping", "stream": False, "options": {"num_predict": 2}}
CHAT = {"model": "tiny", "messages": [{"role": "user", "content": "ping"}], "max_tokens": 2}


def test_no_key_is_401_in_each_api_format(host):
    gw = only_gateway(host)
    status, hdrs, body = call(gw, "/api/generate", GEN, key=None)
    assert status == 401 and "API key" in body["error"]
    assert hdrs["Content-Type"].startswith("application/json")
    status, _, body = call(gw, "/v1/chat/completions", CHAT, key="sk-not-a-key-of-this-gateway")
    assert status == 401 and body["error"]["type"] == "authentication_error"
    assert call(gw, "/api/tags", key=None)[0] == 401
    assert call(gw, "/api/version", key=None)[0] == 401


def test_a_key_reaches_the_model(host):
    gw = only_gateway(host)
    status, _, body = call(gw, "/api/generate", GEN)
    assert status == 200 and body["done"] is True, body


def test_model_outside_the_keys_list_is_403(host):
    gw = only_gateway(host)
    assert call(gw, "/api/generate", GEN, key="lab-tiny-only")[0] == 200
    status, _, body = call(gw, "/api/generate", dict(GEN, model="solo"), key="lab-tiny-only")
    assert status == 403 and "not allowed for key lab-tiny-only" in body["error"]


def test_unknown_model_is_404_at_once(host):
    gw = only_gateway(host)
    status, hdrs, body = call(gw, "/api/chat", {"model": "no-such-model", "messages": []})
    assert status == 404 and "not found on any instance" in body["error"]
    assert "X-Ollama-Upstream" not in hdrs          # answered by the gateway, no instance asked
    status, _, body = call(gw, "/v1/chat/completions", dict(CHAT, model="no-such-model"))
    assert status == 404 and body["error"]["type"] == "not_found_error"


def test_management_needs_an_admin_key(host):
    gw = only_gateway(host)
    status, _, body = call(gw, "/api/delete", {"model": "no-such-model"}, method="DELETE")
    assert status == 403 and "admin" in body["error"]
    status, _, body = call(gw, "/api/copy", {"source": "tiny", "destination": "x"})
    assert status == 403
    # an admin key is let through to an instance, which answers for itself (the model does not exist)
    status, hdrs, body = call(gw, "/api/delete", {"model": "no-such-model"}, key="lab-admin", method="DELETE")
    assert status == 404 and "X-Ollama-Upstream" in hdrs, (status, body)


def test_rate_limit_is_429_in_api_format(host):
    gw = only_gateway(host)
    statuses = [call(gw, "/api/version", key="lab-slow") for _ in range(6)]
    assert [s for s, _, _ in statuses].count(429) >= 1, statuses
    limited = next(b for s, _, b in statuses if s == 429)
    assert "rate limit" in limited["error"]


def test_tags_and_models_list_what_the_instances_serve(host):
    gw = only_gateway(host)
    status, _, body = call(gw, "/api/tags")
    names = sorted(m["name"] for m in body["models"])
    assert status == 200 and "tiny:latest" in names and "solo:latest" in names
    assert len(names) == len(set(names))
    status, _, body = call(gw, "/api/tags", key="lab-tiny-only")
    assert [m["name"] for m in body["models"]] == ["tiny:latest"]
    status, _, body = call(gw, "/v1/models")
    assert status == 200 and body["object"] == "list" and "tiny:latest" in [m["id"] for m in body["data"]]


def test_a_model_on_one_node_is_always_routed_there(host):
    """solo was created on mol-gpu-node-2 only (side_effect.yml): every request lands there."""
    gw = only_gateway(host)
    upstreams = set()
    for _ in range(12):
        status, hdrs, body = call(gw, "/api/generate", dict(GEN, model="solo"))
        assert status == 200, body
        upstreams.add(hdrs["X-Ollama-Upstream"].rsplit(":", 1)[0])
    assert upstreams == {"172.30.10.12"}


def test_plain_http_redirects_to_tls(host):
    gw = only_gateway(host)
    req = urllib.request.Request("http://%s/api/tags" % gw, method="GET")

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    with pytest.raises(urllib.error.HTTPError) as e:
        urllib.request.build_opener(NoRedirect).open(req, timeout=10)
    assert e.value.code == 308 and e.value.headers["Location"] == "https://%s/api/tags" % gw


def test_tls_is_verified_against_the_roles_ca_and_old_protocols_are_refused(host):
    gw = only_gateway(host)
    with pytest.raises(urllib.error.URLError) as e:
        urllib.request.urlopen("https://%s/healthz" % gw, timeout=10, context=ssl.create_default_context())
    assert "CERTIFICATE_VERIFY_FAILED" in str(e.value)
    for version in (ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_3):
        ctx = ssl.create_default_context(cafile=ca_file())
        ctx.minimum_version = ctx.maximum_version = version
        assert urllib.request.urlopen("https://%s/healthz" % gw, timeout=10, context=ctx).status == 200
    old = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    old.load_verify_locations(ca_file())
    try:
        old.minimum_version = old.maximum_version = ssl.TLSVersion.TLSv1_1
        old.set_ciphers("ALL:@SECLEVEL=0")
    except (ValueError, ssl.SSLError):
        pytest.skip("this controller's OpenSSL cannot even offer TLS 1.1")
    with pytest.raises((ssl.SSLError, urllib.error.URLError, ConnectionError)):
        urllib.request.urlopen("https://%s/healthz" % gw, timeout=10, context=old)
    assert "ssl_protocols TLSv1.2 TLSv1.3;" in host.file("/etc/nginx/nginx.conf").content_string


def test_real_ollama_client_over_tls(host):
    gw = only_gateway(host)
    ollama = pytest.importorskip("ollama")
    client = ollama.Client(host="https://%s" % gw, headers={"Authorization": "Bearer " + KEYS["lab-user"]},
                           verify=ca_file())
    answer = client.generate(model="tiny", prompt="ping", options={"num_predict": 2})
    assert answer.done is True
    assert "tiny:latest" in [m.model for m in client.list().models]
    chunks = list(client.chat(model="tiny", messages=[{"role": "user", "content": "hi"}], stream=True,
                              options={"num_predict": 4}))
    assert len(chunks) >= 2 and chunks[-1].done


def test_real_openai_client_over_tls(host):
    gw = only_gateway(host)
    openai = pytest.importorskip("openai")
    httpx = pytest.importorskip("httpx")
    client = openai.OpenAI(base_url="https://%s/v1" % gw, api_key=KEYS["lab-user"],
                           http_client=httpx.Client(verify=ca_file()))
    answer = client.chat.completions.create(model="tiny", messages=[{"role": "user", "content": "hi"}], max_tokens=2)
    assert answer.choices[0].message.content
    stream = client.chat.completions.create(model="tiny", messages=[{"role": "user", "content": "hi"}],
                                            max_tokens=4, stream=True)
    assert len([c for c in stream]) >= 2
    with pytest.raises(openai.NotFoundError):
        client.chat.completions.create(model="no-such-model", messages=[{"role": "user", "content": "hi"}])
    bad = openai.OpenAI(base_url="https://%s/v1" % gw, api_key="sk-wrong-wrong-wrong",
                        http_client=httpx.Client(verify=ca_file()))
    with pytest.raises(openai.AuthenticationError):
        bad.models.list()
