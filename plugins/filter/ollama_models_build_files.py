# -*- coding: utf-8 -*-
# Copyright (c) 2026, gpufleet maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: ollama_models_build_files
short_description: The build directory of the built models, as files for managed_files
version_added: 0.3.0
author:
  - gpufleet maintainers (@gpufleet)
description:
  - Given the models built on the staging host, returns the O(gpufleet.ollama.managed_files#module:files) that
    prepare their build directory in one module run - a directory per model (its name with every character
    outside C([A-Za-z0-9_.-]) replaced by C(_)) and, for a model built from a GGUF, its C(Modelfile)
    (C(FROM ./<the GGUF's file name>) on a line, then the model's own C(modelfile) text as given).
options:
  _input:
    description: The built models, parents first (C(built) of P(gpufleet.ollama.ollama_models_catalog#filter)).
    type: list
    elements: str
    required: true
  models:
    description: The catalog's models by name (C(models) of P(gpufleet.ollama.ollama_models_catalog#filter)).
    type: dict
    required: true
  build_dir:
    description: The build directory on the staging host.
    type: path
    required: true
"""

EXAMPLES = r"""
- name: Create the build directories and write each GGUF model's Modelfile
  gpufleet.ollama.managed_files:
    files: "{{ ['tiny:latest'] | gpufleet.ollama.ollama_models_build_files(catalog.models, '/srv/models/.gpufleet-build') }}"
  # -> [{path: /srv/models/.gpufleet-build/tiny_latest, state: directory, ...},
  #     {path: /srv/models/.gpufleet-build/tiny_latest/Modelfile, content: "FROM ./tiny.gguf\n", ...}]
"""

RETURN = r"""
_value:
  description: The directories, then the Modelfiles, each with owner and group C(root).
  type: list
  elements: dict
"""

import posixpath
import re
from collections.abc import Mapping

from ansible.errors import AnsibleFilterError


def build_dir_of(build_dir, name):
    """The build directory of one model."""
    return posixpath.join(build_dir, re.sub(r'[^A-Za-z0-9_.-]', '_', name))


def ollama_models_build_files(built, models, build_dir):
    if not isinstance(built, list) or not isinstance(models, Mapping):
        raise AnsibleFilterError('ollama_models_build_files expects a list of model names and a dict of models, got '
                                 '%s and %s' % (type(built).__name__, type(models).__name__))
    if not isinstance(build_dir, str) or not build_dir.startswith('/'):
        raise AnsibleFilterError('ollama_models_build_files: build_dir must be an absolute path, got %r' % (build_dir,))
    dirs, modelfiles = [], []
    for name in built:
        model = models.get(name)
        if not isinstance(model, Mapping):
            raise AnsibleFilterError('ollama_models_build_files: model %s is not in the catalog' % name)
        path = build_dir_of(build_dir, name)
        dirs.append(dict(path=path, state='directory', owner='root', group='root', mode='0755'))
        if model.get('gguf'):
            content = 'FROM ./%s\n%s' % (posixpath.basename(model['gguf']), model.get('modelfile') or '')
            modelfiles.append(dict(path=path + '/Modelfile', content=content, owner='root', group='root', mode='0644'))
    return dirs + modelfiles


class FilterModule(object):
    def filters(self):
        return {'ollama_models_build_files': ollama_models_build_files}
