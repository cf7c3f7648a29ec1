# -*- coding: utf-8 -*-
# Copyright (c) 2026, gpufleet maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""TLS fixtures (see tests/unit/plugins/module_utils/tls_helpers.py).

- pki: a throw-away CA with server and client certificates, made once per session.
- tls_ollama: the fake Ollama server of fake_ollama, on https with a certificate of that CA.
- mtls_ollama: the same, requiring a client certificate of that CA.
- module_process (autouse): modules run as in their own process on the managed node, not the controller.
"""

from __future__ import annotations

import pytest

from ansible.module_utils import _internal as module_utils_internal

from ansible_collections.gpufleet.ollama.tests.unit.plugins.module_utils.tls_helpers import make_pki, tls_server


@pytest.fixture(scope='session')
def pki(tmp_path_factory):
    return make_pki(tmp_path_factory.mktemp('pki'))


@pytest.fixture
def tls_ollama(fake_ollama, pki):
    with tls_server(type(fake_ollama), pki) as server:
        yield server


@pytest.fixture
def mtls_ollama(fake_ollama, pki):
    with tls_server(type(fake_ollama), pki, client_ca=pki.ca) as server:
        yield server


@pytest.fixture(autouse=True)
def module_process(monkeypatch):
    """Once any controller code is imported (the filter plugin tests import ansible.errors), ansible-core marks the
    process as the controller and module.warn() goes to the controller's Display instead of the module result."""
    monkeypatch.setattr(module_utils_internal, 'is_controller', False)
