# -*- coding: utf-8 -*-
# Copyright (c) 2026, gpufleet maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""PRIVATE: model names, the blob path and OllamaError, without the HTTP client.

Not a public API. The controller's filter plugins import this file rather than _ollama: every task's worker
process imports the collection's filters, and _ollama's HTTP client
(ansible.module_utils.urls, http.client, ssl) cost each of them tens of milliseconds
(docs/performance.md, "Site run at fleet size").
"""

from __future__ import annotations

import os

DEFAULT_HOST = 'registry.ollama.ai'
DEFAULT_NAMESPACE = 'library'
DEFAULT_TAG = 'latest'


class OllamaError(Exception):
    """Any failure talking to Ollama, reading its store or running a command.

    ``status`` is the HTTP status of the answer, or None when no HTTP answer
    arrived at all (connection refused, timeout, DNS, TLS ...).

    ``permanent`` means that trying again cannot help: the server's TLS
    certificate failed verification, a CA or client certificate file cannot be
    loaded, or the server refused the credentials (HTTP 401/403).
    """

    def __init__(self, msg, status=None, permanent=False):
        super().__init__(msg)
        self.status = status
        self.permanent = permanent

    @property
    def unreachable(self):
        """No HTTP answer, for a reason that may go away (refused, timeout, dropped); not a TLS/credential problem."""
        return self.status is None and not self.permanent


# ---------------------------------------------------------------------------
# Model names
# ---------------------------------------------------------------------------

def normalize_model_name(name):
    """Return the display form of a model name, with the tag always present.

    ``llama3.2`` -> ``llama3.2:latest``;
    ``registry.ollama.ai/library/qwen2:7b`` -> ``qwen2:7b``;
    ``myorg/foo`` -> ``myorg/foo:latest``. The case is kept (see same_model()).
    """
    parts = name.strip().split('/')
    if ':' not in parts[-1]:
        parts[-1] += ':' + DEFAULT_TAG
    if len(parts) == 3 and parts[0].lower() == DEFAULT_HOST:
        parts = parts[1:]
    if len(parts) == 2 and parts[0].lower() == DEFAULT_NAMESPACE:
        parts = parts[1:]
    return '/'.join(parts)


def same_model(a, b):
    """Compare two model names the way Ollama looks them up: normalised, case-insensitive."""
    return normalize_model_name(a).lower() == normalize_model_name(b).lower()


def display_name(host, namespace, model, tag):
    """Shortest display name, like Ollama's Name.DisplayShortest()."""
    if host.lower() != DEFAULT_HOST:
        return '%s/%s/%s:%s' % (host, namespace, model, tag)
    if namespace.lower() != DEFAULT_NAMESPACE:
        return '%s/%s:%s' % (namespace, model, tag)
    return '%s:%s' % (model, tag)


def blob_path(models_dir, digest):
    """Where the store keeps the blob of a digest (sha256:<hex> -> blobs/sha256-<hex>)."""
    return os.path.join(models_dir, 'blobs', digest.replace(':', '-', 1))
