#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026, gpufleet maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: nvidia_gpu_info
short_description: List the NVIDIA GPUs of a host with nvidia-smi
description:
  - Runs C(nvidia-smi --query-gpu=index,uuid,name,memory.total,memory.used,driver_version --format=csv,noheader,nounits)
    in the C locale and returns one entry per GPU.
  - A host without C(nvidia-smi), without a GPU, or whose driver is not loaded is not an error;
    the module then returns an empty RV(gpus) list and says why in RV(reason).
  - The module fails only when C(nvidia-smi) prints a line it cannot parse.
version_added: 0.1.0
author:
  - gpufleet maintainers (@gpufleet)
attributes:
  check_mode:
    support: full
    description: The module only reads; it runs C(nvidia-smi) in check mode too.
  diff_mode:
    support: none
    description: The module changes nothing, so there is no diff.
options:
  nvidia_smi_path:
    description:
      - Path of the C(nvidia-smi) executable.
      - By default it is looked up on E(PATH) and in C(/usr/bin).
    type: path
seealso:
  - module: gpufleet.ollama.ollama_health
"""

EXAMPLES = r"""
- name: Read the GPUs of the node
  gpufleet.ollama.nvidia_gpu_info:
  register: gpu_nodes_gpus

- name: Require at least one GPU
  ansible.builtin.assert:
    that: gpu_nodes_gpus.gpu_count > 0
    fail_msg: "No usable GPU: {{ gpu_nodes_gpus.reason }}"

- name: Use a driver-bundled nvidia-smi
  gpufleet.ollama.nvidia_gpu_info:
    nvidia_smi_path: /opt/nvidia/bin/nvidia-smi
"""

RETURN = r"""
gpus:
  description:
    - One entry per GPU, in C(nvidia-smi) index order.
    - Values that C(nvidia-smi) reports as C([N/A]) or C([Not Supported]) are V(null).
  returned: always
  type: list
  elements: dict
  sample:
    - index: 0
      uuid: GPU-3f2a6c1e-9b0d-4e6f-8a7b-1c2d3e4f5a6b
      name: NVIDIA H100 80GB HBM3
      memory_total_mib: 81559
      memory_used_mib: 4
      driver_version: "570.124.06"
  contains:
    index:
      description: GPU index as used by E(CUDA_VISIBLE_DEVICES).
      type: int
    uuid:
      description: GPU UUID, stable across reboots; also accepted by E(CUDA_VISIBLE_DEVICES).
      type: str
    name:
      description: Product name.
      type: str
    memory_total_mib:
      description: Total memory in MiB.
      type: int
    memory_used_mib:
      description: Used memory in MiB.
      type: int
    driver_version:
      description: Driver version.
      type: str
gpu_count:
  description: Number of GPUs in RV(gpus).
  returned: always
  type: int
  sample: 1
driver_version:
  description: Driver version of the first GPU, or V(null) when there is none.
  returned: always
  type: str
  sample: "570.124.06"
reason:
  description:
    - V(null) when C(nvidia-smi) listed GPUs; otherwise why RV(gpus) is empty.
    - "V(nvidia-smi not found) (or V(nvidia-smi not found at <path>) for O(nvidia_smi_path)),
      V(nvidia-smi reported no GPU: <output>) (exit code 6, or nothing listed),
      or V(nvidia-smi failed (rc=<rc>\\): <output>) (for example the driver is not loaded)."
  returned: always
  type: str
  sample: "nvidia-smi reported no GPU: No devices were found"
"""

import os

from ansible.module_utils.basic import AnsibleModule

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


def main():
    module = AnsibleModule(
        argument_spec=dict(nvidia_smi_path=dict(type='path')),
        supports_check_mode=True,
    )
    path = module.params['nvidia_smi_path']
    if path:
        nvidia_smi = path if os.access(path, os.X_OK) and os.path.isfile(path) else None
        not_found = 'nvidia-smi not found at %s' % path
    else:
        nvidia_smi = module.get_bin_path('nvidia-smi', opt_dirs=['/usr/bin'])
        not_found = 'nvidia-smi not found'

    gpus, reason = [], not_found
    if nvidia_smi:
        try:
            gpus, reason = query_gpus(module, nvidia_smi)
        except ParseError as e:
            module.fail_json(msg=str(e))

    module.exit_json(
        changed=False,
        gpus=gpus,
        gpu_count=len(gpus),
        driver_version=gpus[0]['driver_version'] if gpus else None,
        reason=reason,
    )


if __name__ == '__main__':
    main()
