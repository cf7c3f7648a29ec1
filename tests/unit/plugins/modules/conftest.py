# -*- coding: utf-8 -*-
# Copyright (c) 2026, gpufleet maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Module test set-up (the TLS fixtures live in tests/unit/plugins/conftest.py).

- module_process (autouse): modules run as in their own process on the managed node, not the controller.
"""

from __future__ import annotations

import pytest

from ansible.module_utils import _internal as module_utils_internal


@pytest.fixture(autouse=True)
def module_process(monkeypatch):
    """Once any controller code is imported (the filter plugin tests import ansible.errors), ansible-core marks the
    process as the controller and module.warn() goes to the controller's Display instead of the module result."""
    monkeypatch.setattr(module_utils_internal, 'is_controller', False)
