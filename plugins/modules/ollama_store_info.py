#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026, gpufleet maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: ollama_store_info
short_description: Read an Ollama model store to plan a model distribution
description:
  - Reads a model store (an E(OLLAMA_MODELS) directory) or a bundle root (see M(gpufleet.ollama.ollama_bundle))
    on the host the module runs on, without the server. It returns the free space, the models the store holds, what it still needs
    of given models and the bundle indexes of the models it can serve as a source for.
  - Reads manifests and file sizes only, never a blob, so it is fast on stores of any size.
version_added: 0.1.0
author:
  - gpufleet maintainers (@gpufleet)
extends_documentation_fragment:
  - gpufleet.ollama.read_only
options:
  path:
    description:
      - The model store or bundle root, for example C(/usr/share/ollama/.ollama/models).
      - It does not need to exist yet; then nothing is present in it and RV(free_bytes) is that of its nearest
        existing parent directory.
    type: path
    required: true
  indexes:
    description:
      - Bundle indexes of models to plan for (the RV(gpufleet.ollama.ollama_bundle#module:index) of the bundle,
        or RV(indexes) of this module run on a source host); RV(plans) has one entry for each, in this order.
    type: list
    elements: dict
    default: []
  names:
    description:
      - Models of this store to describe as bundle indexes, in RV(indexes) (a host that holds a model can serve
        as the source of its distribution).
      - The module fails when one of them is not in the store.
    type: list
    elements: str
    default: []
  complete:
    description:
      - Models of this store to check for completeness, from their own manifests - RV(complete) lists those whose
        manifest and every blob it names, with its size, are in the store (stat only, no blob is read).
      - A node can tell this way, before the index of a model built elsewhere is known, that it already holds the
        model with a given digest; a model not in the store is not listed.
    type: list
    elements: str
    default: []
  files:
    description:
      - Paths to describe in RV(files) as M(ansible.builtin.find) would (a regular file up to 4 MiB with its sha1
        checksum), each path itself only - a directory's entries are not listed, so a GGUF beside the files asked
        for is never read. M(gpufleet.ollama.managed_files) takes such a list as
        O(gpufleet.ollama.managed_files#module:known) (the role's build directories, Modelfiles and GGUF stamps on
        the staging host).
    type: list
    elements: path
    default: []
  incoming:
    description:
      - The directory into which the missing files are received, laid out like a store
        (C(blobs/sha256-<hex>)), for example C(<path>/.gpufleet-incoming).
      - Blobs already complete there count as received in RV(plans[].bytes).
    type: path
seealso:
  - module: gpufleet.ollama.ollama_bundle
  - module: gpufleet.ollama.ollama_model_info
"""

EXAMPLES = r"""
- name: Describe the models on the staging host
  gpufleet.ollama.ollama_store_info:
    path: /usr/share/ollama/.ollama/models
    names:
      - deepseek-r1:32b
  register: ollama_store_source

- name: Plan what each GPU node still needs
  gpufleet.ollama.ollama_store_info:
    path: /usr/share/ollama/.ollama/models
    indexes: "{{ ollama_store_source.indexes }}"
    incoming: /usr/share/ollama/.ollama/models/.gpufleet-incoming
  register: ollama_store_plan

- name: Fail early when a node lacks the space
  ansible.builtin.assert:
    that:
      - ollama_store_plan.plans | map(attribute='bytes') | sum < ollama_store_plan.free_bytes
    fail_msg: "{{ inventory_hostname }} needs more free space in its model store"
"""

RETURN = r"""
free_bytes:
  description: Bytes available on the filesystem of O(path) (of its nearest existing parent when it does not exist).
  returned: always
  type: int
  sample: 1839756926976
models:
  description: Every model whose manifest is in the store, by display name, whether its blobs are complete or not.
  returned: always
  type: list
  elements: dict
  sample:
    - name: deepseek-r1:32b
      digest: edba8017331d6bbd67bd2d4c6eb3b8b3a1b3bd6e2c8b9c1dbbd3cbd3eb0d7c3a
  contains:
    name:
      description: Display name, with the tag.
      type: str
    digest:
      description: SHA-256 of the manifest file.
      type: str
plans:
  description: For each of O(indexes), in the same order, what the store still needs of that model.
  returned: always
  type: list
  elements: dict
  sample:
    - name: deepseek-r1:32b
      digest: edba8017331d6bbd67bd2d4c6eb3b8b3a1b3bd6e2c8b9c1dbbd3cbd3eb0d7c3a
      present: false
      missing:
        - digest: sha256:6150cb382311b69f09cc0f9a1b69fc029cbd742b66bb8ec531aa5ecf5c613e93
          size: 19851331122
      bytes: 19851332000
  contains:
    name:
      description: The model.
      type: str
    digest:
      description: The model digest of the index.
      type: str
    present:
      description: Whether the manifest with that digest and every blob with its size are in the store.
      type: bool
    missing:
      description: V(digest) and V(size) of each blob not in the store with its size.
      type: list
      elements: dict
    bytes:
      description: Bytes still to receive, the missing blobs not yet complete in O(incoming) plus the manifest
        when it is not in place.
      type: int
complete:
  description: Each model of O(complete) whose manifest and every blob (with its size) are in the store.
  returned: always
  type: list
  elements: dict
  sample:
    - {name: "qwen-lab:latest", digest: 1f0e0bb4d8e5a0a35d3c30e0b6b4f1d88a6c7bcb2e4c3b1a2f9e8d7c6b5a4f3e}
  contains:
    name:
      description: The model, named as in its bundle index (RV(indexes)).
      type: str
    digest:
      description: SHA-256 of its manifest file (the model digest of its bundle index).
      type: str
files:
  description: Each existing path of O(files), as M(ansible.builtin.find) lists it.
  returned: always
  type: list
  elements: dict
  sample:
    - {path: /usr/share/ollama/.ollama/models/.gpufleet-build/tiny/Modelfile, isdir: false, isreg: true, islnk: false,
       mode: "0644", uid: 0, gid: 0, pw_name: root, gr_name: root, mtime: 1764590000.0,
       checksum: 0b1c6bd2c6f54c1a52b5f8ee1e5a2bb4c1c0e0a1}
indexes:
  description:
    - For each of O(names), in the same order, the bundle index built from the store's manifest
      (see RV(gpufleet.ollama.ollama_bundle#module:index)).
  returned: always
  type: list
  elements: dict
  sample:
    - format: gpufleet.ollama/bundle-v1
      name: deepseek-r1:32b
      manifest: manifests/registry.ollama.ai/library/deepseek-r1/32b
      digest: edba8017331d6bbd67bd2d4c6eb3b8b3a1b3bd6e2c8b9c1dbbd3cbd3eb0d7c3a
      manifest_size: 857
      size: 19851336475
      blobs:
        - digest: sha256:6150cb382311b69f09cc0f9a1b69fc029cbd742b66bb8ec531aa5ecf5c613e93
          size: 19851331122
          media_type: application/vnd.ollama.image.model
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.gpufleet.ollama.plugins.module_utils._files import described
from ansible_collections.gpufleet.ollama.plugins.module_utils._ollama import OllamaError
from ansible_collections.gpufleet.ollama.plugins.module_utils._store import (
    check_index,
    free_bytes,
    model_index,
    models,
    plan,
)


def complete(path, names):
    """{name, digest} of each model of names whose manifest and every blob with its size are in the store."""
    found = []
    for name in names:
        try:
            index = model_index(path, name)
        except OllamaError:
            continue    # not in the store (or an unreadable manifest): not complete
        if plan(path, index)['present']:
            found.append(dict(name=index['name'], digest=index['digest']))
    return found


def main():
    module = AnsibleModule(
        argument_spec=dict(
            path=dict(type='path', required=True),
            indexes=dict(type='list', elements='dict', default=[]),
            names=dict(type='list', elements='str', default=[]),
            complete=dict(type='list', elements='str', default=[]),
            files=dict(type='list', elements='path', default=[]),
            incoming=dict(type='path'),
        ),
        supports_check_mode=True,
    )
    path, incoming = module.params['path'], module.params['incoming']
    try:
        result = dict(changed=False, free_bytes=free_bytes(path), models=models(path), plans=[], indexes=[],
                      complete=[], files=[])
        for i, index in enumerate(module.params['indexes']):
            check_index(index, 'indexes[%d]' % i)
            result['plans'].append(dict(plan(path, index, incoming), name=index['name'], digest=index['digest']))
        for name in module.params['names']:
            result['indexes'].append(model_index(path, name))
        result['complete'] = complete(path, module.params['complete'])
        result['files'] = described(module.params['files'])
    except OllamaError as e:
        module.fail_json(msg='Could not read the model store %s: %s' % (path, e))
    module.exit_json(**result)


if __name__ == '__main__':
    main()
