#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026, gpufleet maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: ollama_bundle
short_description: Export an Ollama model into an offline bundle, or verify a bundle
description:
  - A bundle is a directory in the layout of an Ollama model store (C(blobs/sha256-<hex>),
    C(manifests/<host>/<namespace>/<model>/<tag>)) plus one index file per model,
    C(bundles/<host>/<namespace>/<model>/<tag>.json), that lists the manifest and every blob with its size.
    Many models share one bundle and the blobs they have in common are stored once.
  - With O(state=exported), copies one model from a model store (for example that of a staging host,
    where it was pulled or created) into the bundle. Blobs are hardlinked when the store and the bundle are
    on one filesystem, copied otherwise. The manifest is copied byte for byte, so the model keeps its digest.
  - With O(state=verified), checks that the bundle holds the model completely, as its index file describes it.
  - Blobs can be many GB. Only O(checksum=true) reads them; everything else looks at file sizes.
version_added: 0.1.0
author:
  - gpufleet maintainers (@gpufleet)
attributes:
  check_mode:
    support: full
    description: With O(state=exported), reports what would be linked or copied and writes nothing.
  diff_mode:
    support: full
    description: With O(state=exported), the digest of the model in the bundle before and after.
options:
  path:
    description:
      - The bundle root directory. It is created when missing.
      - A model store (an E(OLLAMA_MODELS) directory) is a valid bundle root too.
    type: path
    required: true
  name:
    description:
      - The model, as Ollama names it, for example V(deepseek-r1:32b), V(llama3.2) (tag V(latest)) or V(myorg/foo:q4).
      - Looked up in O(src) the way Ollama does, so case does not matter there.
    type: str
    required: true
  state:
    description:
      - V(exported) puts the model of O(src) into the bundle, then writes its index file and its manifest,
        the manifest last. A blob already in the bundle with the right size is left alone and not read,
        so a second run changes nothing and is fast.
      - V(verified) changes nothing; it fails, listing every problem found, when the manifest or a blob is missing,
        the manifest is not the one the index names, or a blob has the wrong size (or, with O(checksum=true),
        the wrong content).
    type: str
    choices: [exported, verified]
    default: exported
  src:
    description:
      - The model store to export from, for example C(/usr/share/ollama/.ollama/models).
      - Required with O(state=exported).
    type: path
  checksum:
    description:
      - With O(state=verified), also read every blob and compare its sha256 with its digest.
      - Ignored with O(state=exported).
    type: bool
    default: false
notes:
  - Ship the bundle to the nodes with rsync and put it in place with the C(gpufleet.ollama.ollama_models) role,
    which receives only the missing blobs and checks each one before the model appears.
  - A hardlinked blob is the same file as in O(src); blobs are never modified, so this is safe and costs no space.
seealso:
  - module: gpufleet.ollama.ollama_store_info
"""

EXAMPLES = r"""
- name: Export two models from the staging host's store into the bundle
  gpufleet.ollama.ollama_bundle:
    path: /srv/bundles/models
    src: /usr/share/ollama/.ollama/models
    name: "{{ item }}"
  loop:
    - deepseek-r1:32b
    - myorg/deepseek-r1-brief:32b
  register: ollama_bundle_export

- name: Check the bundle before shipping it, reading every blob
  gpufleet.ollama.ollama_bundle:
    path: /srv/bundles/models
    name: deepseek-r1:32b
    state: verified
    checksum: true
  register: ollama_bundle_check

- name: Show the digest the nodes will serve
  ansible.builtin.debug:
    msg: "{{ ollama_bundle_check.index.digest }}"
"""

RETURN = r"""
index:
  description:
    - The index of the model, as written to C(bundles/<host>/<namespace>/<model>/<tag>.json).
  returned: always
  type: dict
  sample:
    format: gpufleet.ollama/bundle-v1
    name: deepseek-r1:32b
    manifest: manifests/registry.ollama.ai/library/deepseek-r1/32b
    digest: edba8017331d6bbd67bd2d4c6eb3b8b3a1b3bd6e2c8b9c1dbbd3cbd3eb0d7c3a
    manifest_size: 857
    size: 19851336475
    blobs:
      - digest: sha256:6150cb382311b69f09cc0f9a1b69fc029cbd742b66bb8ec531aa5ecf5c613e93
        size: 19851331122
        media_type: application/vnd.ollama.image.model
  contains:
    format:
      description: Always V(gpufleet.ollama/bundle-v1).
      type: str
    name:
      description: Display name of the model, as C(ollama list) shows it.
      type: str
    manifest:
      description: Path of the manifest file relative to the bundle root, with C(/) separators.
      type: str
    digest:
      description: SHA-256 of the manifest file, the model digest of C(GET /api/tags).
      type: str
    manifest_size:
      description: Bytes of the manifest file.
      type: int
    size:
      description: Bytes, the sum of the sizes recorded in the manifest (the size of C(GET /api/tags)).
      type: int
    blobs:
      description: The config blob, then the layers, each once, with V(digest), V(size) and V(media_type).
      type: list
      elements: dict
copied:
  description: Digests of the blobs copied into the bundle (would be, in check mode).
  returned: always
  type: list
  elements: str
  sample: []
linked:
  description: Digests of the blobs hardlinked into the bundle (would be, in check mode).
  returned: always
  type: list
  elements: str
  sample:
    - sha256:6150cb382311b69f09cc0f9a1b69fc029cbd742b66bb8ec531aa5ecf5c613e93
problems:
  description:
    - What O(state=verified) found wrong, one sentence each; the module fails when there is any.
    - Always empty with O(state=exported).
  returned: always
  type: list
  elements: str
  sample:
    - "blob sha256:6150cb38...3e93 of model deepseek-r1:32b has 1048576 bytes instead of 19851331122:
      /srv/bundles/models/blobs/sha256-6150cb38...3e93"
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.gpufleet.ollama.plugins.module_utils._ollama import OllamaError
from ansible_collections.gpufleet.ollama.plugins.module_utils._store import (
    export,
    load_index,
    model_digest,
    verify,
)


def main():
    module = AnsibleModule(
        argument_spec=dict(
            path=dict(type='path', required=True),
            name=dict(type='str', required=True),
            state=dict(type='str', choices=['exported', 'verified'], default='exported'),
            src=dict(type='path'),
            checksum=dict(type='bool', default=False),
        ),
        required_if=[('state', 'exported', ['src'])],
        supports_check_mode=True,
    )
    p = module.params
    path, name = p['path'], p['name']

    if p['state'] == 'verified':
        try:
            index = load_index(path, name)
            problems = verify(path, index, checksum=p['checksum'])
        except OllamaError as e:
            module.fail_json(msg='Could not verify model %s in the bundle %s: %s' % (name, path, e))
        if problems:
            module.fail_json(msg='The bundle %s does not hold model %s completely (%d problems): %s'
                                 % (path, index['name'], len(problems), '; '.join(problems)),
                             index=index, copied=[], linked=[], problems=problems)
        module.exit_json(changed=False, index=index, copied=[], linked=[], problems=[])

    try:
        before = model_digest(path, name)
        result = export(p['src'], name, path, check_mode=module.check_mode)
    except (OllamaError, OSError) as e:
        module.fail_json(msg='Could not export model %s from the store %s into the bundle %s: %s'
                             % (name, p['src'], path, e))
    out = dict(changed=result['changed'], index=result['index'], copied=result['copied'], linked=result['linked'],
               problems=[])
    if module._diff:
        out['diff'] = dict(before=dict(name=result['index']['name'], digest=before),
                           after=dict(name=result['index']['name'], digest=result['index']['digest']))
    module.exit_json(**out)


if __name__ == '__main__':
    main()
