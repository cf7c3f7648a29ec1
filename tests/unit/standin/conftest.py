# -*- coding: utf-8 -*-
# Copyright (c) 2026, gpufleet maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Fixtures of the Ollama stand-in tests (helpers in standin_helpers.py)."""
import pytest

from ansible_collections.gpufleet.ollama.tests.unit.standin.standin_helpers import Instance


@pytest.fixture
def server(tmp_path):
    instances = []

    def start(**kwargs):
        sub = tmp_path / f"i{len(list(tmp_path.glob('i*')))}"
        sub.mkdir()
        instance = Instance(sub, start=False, **{k: v for k, v in kwargs.items() if k != "start"})
        instances.append(instance)
        return instance.start() if kwargs.get("start", True) else instance

    yield start
    for instance in instances:
        instance.stop()
