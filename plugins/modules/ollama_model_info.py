#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026, gpufleet maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: ollama_model_info
short_description: List the models of an Ollama instance
description:
  - Reads C(GET /api/tags) of one Ollama instance, the data behind C(ollama list).
  - When the instance cannot be reached and O(models_dir) is set, the model store is read from disk instead,
    the same way the server would list it, and a warning says so.
version_added: 0.1.0
author:
  - gpufleet maintainers (@gpufleet)
extends_documentation_fragment:
  - gpufleet.ollama.ollama
  - gpufleet.ollama.read_only
attributes:
  action_group:
    description: Use C(group/gpufleet.ollama.ollama) in C(module_defaults) to set defaults for this module.
    support: full
    membership:
      - gpufleet.ollama.ollama
options:
  name:
    description:
      - Return only this model.
      - Compared the way Ollama looks names up, so V(llama3.2) matches V(llama3.2:latest) and case does not matter.
      - A model that does not exist gives an empty RV(models) list, not an error.
    type: str
  models_dir:
    description:
      - Model store of the instance (its E(OLLAMA_MODELS)), for example C(/usr/share/ollama/.ollama/models).
      - Read only when the server cannot be reached (connection refused, timeout); an HTTP error from the server,
        a failed TLS certificate verification or a refused O(api_key) still fails the module.
      - Models whose manifest or config blob cannot be read are skipped with a warning.
    type: path
notes:
  - The store fallback reads the files on the host the module runs on, so run the module on the node itself.
seealso:
  - module: gpufleet.ollama.ollama_health
"""

EXAMPLES = r"""
- name: List the models of the local instance
  gpufleet.ollama.ollama_model_info:
  register: ollama_models_present

- name: Look up one model on the second instance, from disk if the server is down
  gpufleet.ollama.ollama_model_info:
    url: http://127.0.0.1:11435
    name: qwen2:7b
    models_dir: /srv/ollama/models
  register: ollama_models_qwen

- name: Show its digest
  ansible.builtin.debug:
    msg: "{{ ollama_models_qwen.models[0].digest | default('absent') }}"

- name: List the models served by the TLS gateway, with an API key from the vault
  gpufleet.ollama.ollama_model_info:
    url: https://ollama.example.com
    ca_path: /etc/ssl/certs/gpufleet-ca.pem
    api_key: "{{ vault_ollama_api_key }}"
  register: ollama_models_gateway
"""

RETURN = r"""
models:
  description:
    - The models, newest first, as C(GET /api/tags) returns them (fields the server adds are kept).
    - Filtered to O(name) when given.
  returned: always
  type: list
  elements: dict
  sample:
    - name: llama3.2:latest
      model: llama3.2:latest
      modified_at: "2026-09-01T10:15:32.123456+02:00"
      size: 2019393189
      digest: a80c4f17acd55265feec403c7aef86be0c25983ab279d83f3bcd3abbcb5b8b72
      details:
        parent_model: ""
        format: gguf
        family: llama
        families: [llama]
        parameter_size: 3.2B
        quantization_level: Q4_K_M
  contains:
    name:
      description: Display name, with the tag.
      type: str
    model:
      description: Same as RV(models[].name).
      type: str
    digest:
      description: SHA-256 of the manifest file (64 hex characters); its first 12 are the C(ollama list) ID.
      type: str
    size:
      description: Bytes, the sum of the sizes recorded in the manifest.
      type: int
    modified_at:
      description: Modification time of the manifest, ISO 8601.
      type: str
    details:
      description: V(format), V(family), V(families), V(parameter_size), V(quantization_level) and V(parent_model).
      type: dict
source:
  description: Where RV(models) comes from, V(api) (the server) or V(store) (the files in O(models_dir)).
  returned: always
  type: str
  sample: api
server_reachable:
  description: Whether the server answered.
  returned: always
  type: bool
  sample: true
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.gpufleet.ollama.plugins.module_utils._ollama import (
    OLLAMA_COMMON_ARGS,
    OLLAMA_COMMON_REQUIRED_BY,
    OllamaClient,
    OllamaError,
    read_store,
)
from ansible_collections.gpufleet.ollama.plugins.module_utils._names import same_model


def main():
    argument_spec = dict(
        name=dict(type='str'),
        models_dir=dict(type='path'),
    )
    argument_spec.update(OLLAMA_COMMON_ARGS)
    module = AnsibleModule(argument_spec=argument_spec, required_by=OLLAMA_COMMON_REQUIRED_BY,
                           supports_check_mode=True)
    name, models_dir = module.params['name'], module.params['models_dir']
    client = OllamaClient.from_module(module)

    source, reachable = 'api', True
    try:
        models = client.list_models()
    except OllamaError as e:
        if not (e.unreachable and models_dir):
            hint = '' if models_dir or not e.unreachable else ' (set models_dir to read the model store from disk instead)'
            module.fail_json(msg='Could not list the models of the Ollama instance at %s: %s%s' % (client.base_url, e, hint))
        source, reachable = 'store', False
        module.warn('Ollama server at %s is unreachable (%s); listing the model store %s from disk instead'
                    % (client.base_url, e, models_dir))
        try:
            models, warnings = read_store(models_dir)
        except OllamaError as store_error:
            module.fail_json(msg='Could not list the models of the Ollama instance at %s: the server is unreachable '
                                 '(%s) and %s' % (client.base_url, e, store_error))
        for warning in warnings:
            module.warn(warning)

    if name:
        models = [m for m in models if same_model(m.get('name') or m.get('model') or '', name)]

    module.exit_json(changed=False, models=models, source=source, server_reachable=reachable)


if __name__ == '__main__':
    main()
