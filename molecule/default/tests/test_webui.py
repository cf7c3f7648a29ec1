"""The chat UI (issue 13) on the converged lab: Open WebUI on the webui host, behind both gateways.

Read from this machine the way a browser and the gateways reach it: through each gateway's TLS server under the UI's
own name (SNI and certificate checked against the lab CA), and on the host itself for what only it can show.
"""
import json
import os
import re
import ssl
import http.client

import pytest
import yaml

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
LAB = os.path.join(ROOT, "inventories", "lab", "group_vars")
GATEWAY_VARS = yaml.safe_load(open(os.path.join(LAB, "ollama_gateways", "main.yml")))
ALL_VARS = yaml.safe_load(open(os.path.join(LAB, "all", "main.yml")))
WEBUI_VARS = yaml.safe_load(open(os.path.join(LAB, "webui", "main.yml")))
KEYS = {k["name"]: k["key"] for k in GATEWAY_VARS["ollama_gateway_api_keys"]}
NAME = ALL_VARS["lab_webui_server_name"]
CA = os.path.join(os.environ.get("GPUFLEET_LAB_PKI") or os.path.join(os.environ["MOLECULE_EPHEMERAL_DIRECTORY"], "pki"),
                  "ca.crt")


def var(host, name):
    v = host.ansible.get_variables()[name]
    return v["__ansible_unsafe"] if isinstance(v, dict) and "__ansible_unsafe" in v else v


def groups(host):
    return host.ansible.get_variables().get("group_names", [])


def https(address, path, server_name=NAME, method="GET", body=None, headers=None):
    """(status, headers, body) of a request to address:443 with SNI and Host server_name, verified against the lab CA."""
    context = ssl.create_default_context(cafile=CA)

    class Conn(http.client.HTTPSConnection):
        def connect(self):
            import socket
            sock = socket.create_connection((address, 443), timeout=20)
            self.sock = context.wrap_socket(sock, server_hostname=server_name)

    conn = Conn(server_name, 443, timeout=20)
    conn.request(method, path, body=body, headers=dict(headers or {}, Host=server_name))
    resp = conn.getresponse()
    data = resp.read()
    conn.close()
    return resp.status, dict(resp.getheaders()), data


def front(host):
    return var(host, "lab_front_address")


@pytest.fixture
def webui_host(host):
    if "webui" not in groups(host):
        pytest.skip("not the chat UI's host")
    return host


@pytest.fixture
def gateway(host):
    if "ollama_gateways" not in groups(host):
        pytest.skip("not a gateway")
    return host


def test_the_service_runs_the_converged_release_as_its_own_account(webui_host):
    svc = webui_host.service("open-webui")
    assert svc.is_running and svc.is_enabled
    link = webui_host.file("/opt/open-webui/current")
    assert link.is_symlink and link.linked_to == "/opt/open-webui/" + ALL_VARS["lab_open_webui"]["version"]
    user = webui_host.check_output("systemctl show -p User --value open-webui.service")
    assert user == "open-webui"
    pid = webui_host.check_output("systemctl show -p MainPID --value open-webui.service")
    assert webui_host.check_output("ps -o user= -p %s" % pid).strip() == "open-webui"


def test_the_unit_is_hardened(webui_host):
    show = webui_host.check_output(
        "systemctl show -p NoNewPrivileges -p ProtectSystem -p PrivateDevices -p CapabilityBoundingSet "
        "-p ReadWritePaths -p ProtectHome open-webui.service")
    assert "NoNewPrivileges=yes" in show and "ProtectSystem=strict" in show and "PrivateDevices=yes" in show
    assert "ProtectHome=yes" in show and "ReadWritePaths=/var/lib/open-webui" in show
    assert re.search(r"(?m)^CapabilityBoundingSet=$", show)


def test_it_listens_only_on_the_backend_address(webui_host):
    listening = webui_host.check_output("ss -Htlnp 'sport = :3000'")
    assert var(webui_host, "lab_backend_address") + ":3000" in listening
    assert "0.0.0.0:3000" not in listening and "*:3000" not in listening


def test_secrets_are_readable_only_by_root_and_the_service(webui_host):
    env = webui_host.file("/etc/open-webui/open-webui.env")
    assert env.user == "root" and env.group == "open-webui" and env.mode == 0o640
    data = webui_host.file("/var/lib/open-webui")
    assert data.user == "open-webui" and data.mode == 0o750
    assert webui_host.file("/var/lib/open-webui/.webui_secret_key").exists   # generated once, kept with the data


def test_the_environment_keeps_it_offline_and_on_the_gateway(webui_host):
    with webui_host.sudo():
        text = webui_host.file("/etc/open-webui/open-webui.env").content_string
    env = dict(re.findall(r'(?m)^([A-Z_][A-Z0-9_]*)="(.*)"$', text))
    for name, value in {"OFFLINE_MODE": "true", "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1",
                        "ENABLE_VERSION_UPDATE_CHECK": "false", "SCARF_NO_ANALYTICS": "true", "DO_NOT_TRACK": "true",
                        "ANONYMIZED_TELEMETRY": "false", "ENABLE_OLLAMA_API": "false", "ENABLE_SIGNUP": "false",
                        "ENABLE_PIP_INSTALL_FRONTMATTER_REQUIREMENTS": "false", "USE_SLIM_DOCKER": "true",
                        "OPENAI_API_KEYS": KEYS["lab-webui"]}.items():
        assert env.get(name) == value, name
    assert env["OPENAI_API_BASE_URLS"].startswith("https://") and env["OPENAI_API_BASE_URLS"].endswith("/v1")
    # the installed venv has no torch (slim wheelhouse)
    assert webui_host.run("ls -d /opt/open-webui/current/lib/python3*/site-packages/open_webui").rc == 0
    assert webui_host.run("ls -d /opt/open-webui/current/lib/python3*/site-packages/torch").rc != 0


def test_every_gateway_serves_the_ui_under_its_name_with_the_lab_certificate(gateway):
    status, _headers, body = https(front(gateway), "/api/config")
    assert status == 200
    config = json.loads(body)
    assert config["version"] == ALL_VARS["lab_open_webui"]["version"]
    assert config["features"]["enable_signup"] is False and config["features"]["auth"] is True
    # the API keeps its own server: the same path without the UI's name is the API's, which wants a key
    status, _headers, body = https(front(gateway), "/api/config", server_name=front(gateway))
    assert status == 401 and b"missing or invalid API key" in body


def test_the_ui_lists_exactly_the_models_the_gateway_routes_for_its_key(gateway):
    status, _h, body = https(front(gateway), "/api/v1/auths/signin", method="POST", headers={
        "Content-Type": "application/json"}, body=json.dumps({"email": WEBUI_VARS["open_webui_admin_email"],
                                                              "password": WEBUI_VARS["open_webui_admin_password"]}))
    assert status == 200
    token = json.loads(body)["token"]
    status, _h, body = https(front(gateway), "/api/models", headers={"Authorization": "Bearer " + token})
    assert status == 200
    ui = sorted(m["id"] for m in json.loads(body)["data"])
    status, _h, body = https(front(gateway), "/v1/models", server_name=front(gateway),
                             headers={"Authorization": "Bearer " + KEYS["lab-webui"]})
    assert status == 200
    routed = sorted(m["id"] for m in json.loads(body)["data"])
    assert ui == routed and routed


def test_the_websocket_upgrade_reaches_the_ui(gateway):
    status, headers, _body = https(front(gateway), "/ws/socket.io/?EIO=4&transport=websocket", headers={
        "Connection": "Upgrade", "Upgrade": "websocket", "Sec-WebSocket-Version": "13",
        "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ=="})
    assert status == 101, (status, headers)
    assert headers.get("Upgrade", headers.get("upgrade", "")).lower() == "websocket"
