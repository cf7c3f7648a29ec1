# -*- coding: utf-8 -*-
# Copyright (c) 2026, gpufleet maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Shared pytest set-up: import the checkout as the collection gpufleet.ollama.

The checkout is linked at .collections/ansible_collections/gpufleet/ollama (scripts/lib.sh
creates the link; it is recreated here so a bare `pytest` works too).
"""
import os
import sys

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
_COLL = os.path.join(ROOT, ".collections")
_LINK = os.path.join(_COLL, "ansible_collections", "gpufleet", "ollama")
if not os.path.islink(_LINK):
    os.makedirs(os.path.dirname(_LINK), exist_ok=True)
    os.symlink("../../..", _LINK)
if _COLL not in sys.path:
    sys.path.insert(0, _COLL)
