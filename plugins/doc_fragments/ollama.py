# -*- coding: utf-8 -*-
# Copyright (c) 2026, gpufleet maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment:
    # Common options of the modules that talk to one Ollama instance, or the gateway in front of it, over HTTP(S).
    # Keep in sync with OLLAMA_COMMON_ARGS in plugins/module_utils/_ollama.py.
    DOCUMENTATION = r"""
options:
  url:
    description:
      - Base URL of the Ollama instance or of the gateway in front of it,
        for example V(http://10.0.0.5:11434) or V(https://ollama.example.com).
      - A value without a scheme (the E(OLLAMA_HOST) form V(10.0.0.5:11434)) gets V(http://).
      - The request is made from the host the module runs on, directly (proxy environment variables are ignored).
    type: str
    default: http://127.0.0.1:11434
  timeout:
    description:
      - Timeout in seconds for each HTTP request to the instance.
    type: float
    default: 10
  validate_certs:
    description:
      - Whether to verify the TLS certificate of an V(https://) O(url), that is its chain up to a trusted CA and
        that it was issued for the host name (or IP address) in O(url).
      - Set it to V(false) only for a test server with a throw-away certificate; give O(ca_path) instead where possible.
    type: bool
    default: true
  ca_path:
    description:
      - PEM file with the CA certificates that may sign the server certificate, for example the CA of the gateway.
      - When set, only these CAs are trusted, not the system CA store.
      - The file is read on the host the module runs on.
    type: path
  client_cert:
    description:
      - PEM file with a client certificate, for a server or gateway that requires mutual TLS.
      - The file may hold the private key too; otherwise give it in O(client_key).
    type: path
  client_key:
    description:
      - PEM file with the private key of O(client_cert), when it is not in that file.
      - Requires O(client_cert).
    type: path
  api_key:
    description:
      - "API key sent as C(Authorization: Bearer <api_key>) with every request, as the Ollama and OpenAI clients do.
        The gateway requires one; a bare Ollama instance ignores it."
      - If not set, the environment variable E(OLLAMA_API_KEY) of the module (on the host it runs on) is used.
        An empty value sends no key.
      - The key is never logged and never part of a result or an error message. Keep it in Ansible Vault.
      - It is not sent again when the server redirects the request elsewhere.
      - With an V(http://) O(url) the key crosses the network in clear text; use V(https://) for anything
        but the loopback address.
    type: str
notes:
  - The modules that talk to Ollama form the action group C(ollama) of the collection, so a play or block can set
    O(url), O(ca_path), O(api_key) and the other connection options once for all of them with
    C(module_defaults) under the key C(group/gpufleet.ollama.ollama).
"""
