# -*- coding: utf-8 -*-
# Copyright (c) 2026, gpufleet maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The documentation blocks of every module parse, name a real author and use the shared HTTP options."""

from __future__ import annotations

import importlib
import os

import pytest
import yaml

from ansible_collections.gpufleet.ollama.plugins.module_utils._ollama import OLLAMA_COMMON_ARGS
from ansible_collections.gpufleet.ollama.plugins.modules import (
    managed_files, nvidia_gpu_info, ollama_health, ollama_model, ollama_model_info)

# every module of the collection, found on disk (a new module is checked without being listed here)
MODULES = [importlib.import_module('ansible_collections.gpufleet.ollama.plugins.modules.' + name[:-3])
           for name in sorted(os.listdir(os.path.dirname(os.path.abspath(managed_files.__file__))))
           if name.endswith('.py') and not name.startswith('_')]
HTTP_MODULES = [ollama_health, ollama_model, ollama_model_info]


def test_every_module_is_found():
    names = [m.__name__.rsplit('.', 1)[-1] for m in MODULES]
    assert {'managed_files', 'host_probe', 'ollama_node_info', 'deb_packages', 'nvidia_gpu_info'} <= set(names)


@pytest.mark.parametrize('module', MODULES, ids=lambda m: m.__name__.rsplit('.', 1)[-1])
def test_documentation_parses_and_names_the_author(module):
    doc = yaml.safe_load(module.DOCUMENTATION)
    assert doc['module'] == module.__name__.rsplit('.', 1)[-1]
    assert doc['author'] == ['gpufleet maintainers (@gpufleet)']
    assert isinstance(yaml.safe_load(module.EXAMPLES), list)
    assert isinstance(yaml.safe_load(module.RETURN), dict)


@pytest.mark.parametrize('module', HTTP_MODULES, ids=lambda m: m.__name__.rsplit('.', 1)[-1])
def test_http_modules_take_the_shared_options_from_the_fragment(module):
    doc = yaml.safe_load(module.DOCUMENTATION)
    assert 'gpufleet.ollama.ollama' in doc['extends_documentation_fragment']
    assert not set(doc['options']) & set(OLLAMA_COMMON_ARGS), 'documented again instead of via the fragment'
    tasks = yaml.safe_load(module.EXAMPLES)
    https = [t for t in tasks if str((t.get('gpufleet.ollama.' + doc['module']) or {}).get('url', '')).startswith('https://')]
    assert https and all('ca_path' in t['gpufleet.ollama.' + doc['module']] for t in https)
    assert all('vault_' in t['gpufleet.ollama.' + doc['module']]['api_key'] for t in https)


def test_nvidia_gpu_info_does_not_talk_http():
    doc = yaml.safe_load(nvidia_gpu_info.DOCUMENTATION)
    assert 'extends_documentation_fragment' not in doc
    assert not set(doc['options']) & set(OLLAMA_COMMON_ARGS)
