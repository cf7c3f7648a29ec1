# -*- coding: utf-8 -*-
# Copyright (c) 2026, gpufleet maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""gpufleet.ollama.ollama_models_build_files: the staging host's build directory in one managed_files run."""

from __future__ import annotations

import pytest

from ansible.errors import AnsibleFilterError

from ansible_collections.gpufleet.ollama.plugins.filter.ollama_models_build_files import ollama_models_build_files

MODELS = {
    'tiny:latest': {'source': 'gguf', 'gguf': '/srv/artifacts/tiny.gguf', 'modelfile': 'PARAMETER temperature 0\n'},
    'bare:latest': {'source': 'gguf', 'gguf': '/srv/artifacts/bare.gguf'},
    'pulled-think:latest': {'source': 'from', 'from': 'pulled:latest'},
    'me/odd:v1': {'source': 'from', 'from': 'pulled:latest'},
}


def test_a_directory_for_every_built_model_then_a_modelfile_for_each_gguf():
    files = ollama_models_build_files(['tiny:latest', 'pulled-think:latest', 'bare:latest', 'me/odd:v1'], MODELS,
                                      '/data/models/.gpufleet-build')
    root = dict(owner='root', group='root')
    assert files == [
        dict(root, path='/data/models/.gpufleet-build/tiny_latest', state='directory', mode='0755'),
        dict(root, path='/data/models/.gpufleet-build/pulled-think_latest', state='directory', mode='0755'),
        dict(root, path='/data/models/.gpufleet-build/bare_latest', state='directory', mode='0755'),
        dict(root, path='/data/models/.gpufleet-build/me_odd_v1', state='directory', mode='0755'),
        # the bytes the role's Modelfile always had: the FROM line, then the modelfile text as given
        dict(root, path='/data/models/.gpufleet-build/tiny_latest/Modelfile', mode='0644',
             content='FROM ./tiny.gguf\nPARAMETER temperature 0\n'),
        dict(root, path='/data/models/.gpufleet-build/bare_latest/Modelfile', mode='0644', content='FROM ./bare.gguf\n'),
    ]


def test_nothing_built_nothing_to_prepare():
    assert ollama_models_build_files([], MODELS, '/data/models/.gpufleet-build') == []


@pytest.mark.parametrize('built, models, build_dir, message', [
    ('tiny:latest', MODELS, '/b', 'expects a list of model names and a dict of models, got str and dict'),
    (['nope:latest'], MODELS, '/b', 'model nope:latest is not in the catalog'),
    (['tiny:latest'], MODELS, 'relative/b', "build_dir must be an absolute path, got 'relative/b'"),
])
def test_bad_input_says_what_is_wrong(built, models, build_dir, message):
    with pytest.raises(AnsibleFilterError, match=message):
        ollama_models_build_files(built, models, build_dir)
