# -*- coding: utf-8 -*-
# Copyright (c) 2026, gpufleet maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""What importing the collection's filter plugins costs every task.

Ansible imports every filter file of a collection in each task's worker process the first time a task uses one
of its filters, and the workers are forked per host and task: an import that drags in an HTTP client or a large
helper is paid hundreds of times per site run (docs/performance.md, "Site run at fleet size"). These tests pin
what the filters import, not how long it takes.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

from ansible_collections.gpufleet.ollama.plugins.filter import ollama_sha256sum

FILTER_DIR = os.path.dirname(os.path.abspath(ollama_sha256sum.__file__))
# .../ansible_collections/gpufleet/ollama/plugins/filter -> the directory that holds ansible_collections
ROOT = os.path.abspath(os.path.join(FILTER_DIR, *[os.pardir] * 5))

PROBE = r"""
import importlib, json, sys
import ansible.errors  # what a worker process has loaded already
before = set(sys.modules)
for name in sys.argv[1:]:
    importlib.import_module('ansible_collections.gpufleet.ollama.plugins.filter.' + name)
print(json.dumps(sorted(set(sys.modules) - before)))
"""


def imported_by_filters():
    names = sorted(f[:-3] for f in os.listdir(FILTER_DIR) if f.endswith('.py') and not f.startswith('_'))
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([ROOT] + sys.path))
    out = subprocess.run([sys.executable, '-c', PROBE] + names, env=env, capture_output=True, text=True,
                         check=True, timeout=120).stdout
    return names, json.loads(out)


def test_the_filters_do_not_import_the_http_client_or_the_store_helpers():
    names, modules = imported_by_filters()
    assert len(names) > 20
    assert 'ansible_collections.gpufleet.ollama.plugins.filter.ollama_models_catalog' in modules
    heavy = [m for m in modules
             if m in ('ansible.module_utils.urls', 'http.client', 'ssl')
             or m.startswith('ansible_collections.gpufleet.ollama.plugins.module_utils._')
             and m.rsplit('.', 1)[1] in ('_ollama', '_store', '_modelfile')]
    assert heavy == []
