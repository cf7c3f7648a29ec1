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
nvidia_smi:
  description: The C(nvidia-smi) that was run, or V(null) when none was found.
  returned: always
  type: str
  sample: /usr/bin/nvidia-smi
  version_added: 0.3.0
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.gpufleet.ollama.plugins.module_utils._nvidia import ParseError, read_gpus


def main():
    module = AnsibleModule(
        argument_spec=dict(nvidia_smi_path=dict(type='path')),
        supports_check_mode=True,
    )
    try:
        info = read_gpus(module, module.params['nvidia_smi_path'])
    except ParseError as e:
        module.fail_json(msg=str(e))
    module.exit_json(changed=False, **info)


if __name__ == '__main__':
    main()
