# -*- coding: utf-8 -*-
# Copyright (c) 2026, gpufleet maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""PRIVATE: the node's GPUs as nvidia-smi lists them.

Not a public API. Used by nvidia_gpu_info and ollama_node_info (which reads them with the rest of the node in one
run).
"""

from __future__ import annotations

import os

from ansible_collections.gpufleet.ollama.plugins.module_utils._ollama import CommandRunner

QUERY_FIELDS = ('index', 'uuid', 'name', 'memory.total', 'memory.used', 'driver_version')
NVIDIA_SMI_ARGS = ('--query-gpu=' + ','.join(QUERY_FIELDS), '--format=csv,noheader,nounits')
RC_NO_DEVICES = 6   # nvidia-smi: "No devices were found"


class ParseError(Exception):
    pass


def _value(text):
    """A CSV field: stripped, V(None) for [N/A] / [Not Supported] style values."""
    text = text.strip()
    if not text or (text.startswith('[') and text.endswith(']')):
        return None
    return text


def _int(text, field, line):
    value = _value(text)
    if value is None:
        return None
    try:
        return int(value)
    except ValueError:
        raise ParseError('cannot parse nvidia-smi output line %r: %s %r is not an integer' % (line, field, value))


def parse_gpu_line(line):
    """Parse one CSV line; the name may contain commas, so it is what lies between uuid and the last three fields."""
    head = line.split(',', 2)
    tail = head[-1].rsplit(',', 3) if len(head) == 3 else []
    if len(tail) != 4:
        raise ParseError('cannot parse nvidia-smi output line %r: expected %d comma-separated fields (%s)'
                         % (line, len(QUERY_FIELDS), ', '.join(QUERY_FIELDS)))
    index, uuid = head[0], head[1]
    name, total, used, driver = tail
    return dict(
        index=_int(index, 'index', line),
        uuid=_value(uuid),
        name=_value(name),
        memory_total_mib=_int(total, 'memory.total', line),
        memory_used_mib=_int(used, 'memory.used', line),
        driver_version=_value(driver),
    )


def query_gpus(module, nvidia_smi):
    """Return ``(gpus, reason)``; reason is None when nvidia-smi listed GPUs."""
    rc, out, err = CommandRunner(module, nvidia_smi).run(*NVIDIA_SMI_ARGS)
    output = (err.strip() or out.strip()) or 'no output'
    if rc == RC_NO_DEVICES:
        return [], 'nvidia-smi reported no GPU: %s' % output
    if rc != 0:
        return [], 'nvidia-smi failed (rc=%d): %s' % (rc, output)
    gpus = [parse_gpu_line(line) for line in out.splitlines() if line.strip()]
    if not gpus:
        return [], 'nvidia-smi reported no GPU: %s' % output
    return gpus, None


def read_gpus(module, path=None):
    """{gpus, gpu_count, driver_version, reason, nvidia_smi} of nvidia-smi at path (or on PATH and in /usr/bin);
    reason is None when it listed GPUs, nvidia_smi is the program run (None when none was found). Raises ParseError
    on a line it cannot read."""
    if path:
        nvidia_smi = path if os.access(path, os.X_OK) and os.path.isfile(path) else None
        not_found = 'nvidia-smi not found at %s' % path
    else:
        nvidia_smi = module.get_bin_path('nvidia-smi', opt_dirs=['/usr/bin'])
        not_found = 'nvidia-smi not found'
    gpus, reason = [], not_found
    if nvidia_smi:
        gpus, reason = query_gpus(module, nvidia_smi)
    return dict(gpus=gpus, gpu_count=len(gpus), driver_version=gpus[0]['driver_version'] if gpus else None,
                reason=reason, nvidia_smi=nvidia_smi)
