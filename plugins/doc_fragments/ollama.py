# -*- coding: utf-8 -*-
# Copyright (c) 2026, gpufleet maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment:
    # Common options of the modules that talk to one Ollama instance over HTTP.
    # Keep in sync with OLLAMA_COMMON_ARGS in plugins/module_utils/_ollama.py.
    DOCUMENTATION = r"""
options:
  url:
    description:
      - Base URL of the Ollama instance, for example V(http://10.0.0.5:11434).
      - A value without a scheme (the E(OLLAMA_HOST) form V(10.0.0.5:11434)) gets V(http://).
      - The request is made from the host the module runs on, directly (proxy environment variables are ignored).
    type: str
    default: http://127.0.0.1:11434
  timeout:
    description:
      - Timeout in seconds for each HTTP request to the instance.
    type: float
    default: 10
"""
