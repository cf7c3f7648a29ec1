# -*- coding: utf-8 -*-
# Copyright (c) 2026, gpufleet maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""ollama_models_preflight: disk space and GPU memory of one node."""

from __future__ import annotations

import pytest

from ansible.errors import AnsibleFilterError

from ansible_collections.gpufleet.ollama.plugins.filter.ollama_models_preflight import ollama_models_preflight

GIB = 1024 ** 3
MIB = 1024 ** 2

MODELS = {
    'big:latest': {'name': 'big:latest', 'source': 'bundle'},
    'small:latest': {'name': 'small:latest', 'source': 'bundle'},
    'base:latest': {'name': 'base:latest', 'source': 'gguf', 'gguf': '/srv/base.gguf'},
    'chat:latest': {'name': 'chat:latest', 'source': 'from', 'from': 'big:latest'},
    'c1:latest': {'name': 'c1:latest', 'source': 'from', 'from': 'base:latest'},
    'c2:latest': {'name': 'c2:latest', 'source': 'from', 'from': 'c1:latest'},
}
INDEXES = {'big:latest': {'name': 'big:latest', 'size': 30 * GIB},
           'small:latest': {'name': 'small:latest', 'size': 2 * GIB}}
GPUS = [{'index': 0, 'uuid': 'GPU-aaaa', 'name': 'NVIDIA L4', 'memory_total_mib': 24 * 1024},
        {'index': 1, 'uuid': 'GPU-bbbb', 'name': 'NVIDIA L4', 'memory_total_mib': 24 * 1024}]


def blob(letter, size):
    return {'digest': 'sha256:' + letter * 64, 'size': size}


def check(present=(), free=1000 * GIB, plans=(), held=(), gguf_sizes=None, instances=None, gpus=None,
          vram_check='fail', headroom=10, margin_mib=0, margin_percent=0, host='gpu01'):
    data = {
        'host': host,
        'store': {'free_bytes': free, 'models': [{'name': n, 'digest': 'd' * 64} for n in held],
                  'plans': list(plans)},
        'catalog': {'models': MODELS, 'hosts': {host: {'present': list(present), 'absent': []},
                                                'gpu02': {'present': ['small:latest'], 'absent': []}}},
        'indexes': INDEXES,
        'gguf_sizes': {'base:latest': 5 * GIB} if gguf_sizes is None else gguf_sizes,
        'margin_mib': margin_mib,
        'margin_percent': margin_percent,
        'instances': [{'port': 11434, 'gpus': ['GPU-aaaa']}, {'port': 11435, 'gpus': ['GPU-bbbb']}]
        if instances is None else instances,
        'gpus': GPUS if gpus is None else gpus,
        'vram_check': vram_check,
        'vram_headroom_percent': headroom,
    }
    return ollama_models_preflight(data)


# --- disk -----------------------------------------------------------------------------------------------------

def test_disk_problem_text():
    result = check(present=['small:latest'], free=8 * GIB, plans=[{'name': 'small:latest', 'missing': [blob('a', 10 * GIB)]}],
                   margin_percent=5, margin_mib=1024)
    assert result['receive_bytes'] == 10 * GIB
    assert result['problems'] == [
        'gpu01: the model store has 8.00 GiB free but needs 11.50 GiB: 10.00 GiB to receive plus the margin '
        '(ollama_models_disk_margin_percent=5, ollama_models_disk_margin_mib=1024). Free space or place fewer models; '
        'nothing was transferred.']


@pytest.mark.parametrize('free, fits', [
    (int(10 * GIB * 1.05) + 1024 * MIB, True),          # exactly what is needed
    (int(10 * GIB * 1.05) + 1024 * MIB - 1, False),
    (0, False),
])
def test_disk_margin_boundary(free, fits):
    result = check(present=['small:latest'], free=free, plans=[{'missing': [blob('a', 10 * GIB)]}],
                   margin_percent='5', margin_mib='1024')
    assert (result['problems'] == []) is fits


def test_shared_blobs_are_counted_once():
    plans = [
        {'name': 'big:latest', 'missing': [blob('a', 4 * GIB), blob('b', 1000)]},
        {'name': 'chat:latest', 'missing': [blob('a', 4 * GIB), blob('c', 2 * GIB)]},
        {'name': 'small:latest', 'missing': []},
        {'name': 'other:latest'},
    ]
    result = check(present=['big:latest', 'chat:latest', 'small:latest'], plans=plans, vram_check='off')
    assert result['receive_bytes'] == 6 * GIB + 1000
    assert result['problems'] == []
    tight = check(present=['big:latest', 'chat:latest', 'small:latest'], plans=plans, free=6 * GIB + 1000, vram_check='off')
    assert tight['problems'] == []
    short = check(present=['big:latest', 'chat:latest', 'small:latest'], plans=plans, free=6 * GIB + 999, vram_check='off')
    assert len(short['problems']) == 1


@pytest.mark.parametrize('present, held, receive', [
    (['base:latest'], [], 5 * GIB),                        # a gguf model not held: its GGUF comes in
    (['base:latest'], ['base:latest'], 0),                 # held already
    (['base:latest', 'c1:latest', 'c2:latest'], [], 5 * GIB),   # a derived model shares its parent's weights
    (['c1:latest'], [], 0),
    (['small:latest'], [], 0),                             # bundles count through the plans only
])
def test_gguf_models_not_held_add_their_size(present, held, receive):
    result = check(present=present, held=held, free=0, vram_check='off')
    assert result['receive_bytes'] == receive
    assert bool(result['problems']) is bool(receive)      # nothing to receive needs no space, even with a margin


def test_gguf_and_plans_together():
    result = check(present=['base:latest', 'small:latest'], plans=[{'missing': [blob('a', 2 * GIB)]}],
                   free=int(7 * GIB * 1.1) - 1, margin_percent=10, vram_check='off')
    assert result['receive_bytes'] == 7 * GIB
    assert '7.00 GiB to receive' in result['problems'][0]
    assert 'ollama_models_disk_margin_percent=10' in result['problems'][0]


def test_nothing_to_receive_needs_no_margin():
    result = check(present=['small:latest'], free=0, margin_mib=4096, margin_percent=50)
    assert result['receive_bytes'] == 0
    assert result['problems'] == []


def test_other_hosts_declarations_do_not_count():
    result = check(present=[], host='gpu01', free=0)
    assert result == {'problems': [], 'warnings': [], 'receive_bytes': 0, 'sizes': {}}


# --- GPU memory -----------------------------------------------------------------------------------------------

def vram_text(model, size_gib, want_gib, port, vram_gib, headroom=10):
    return ('gpu01: model %s (%.2f GiB, %.2f GiB with ollama_models_vram_headroom_percent=%s) does not fit the GPU '
            'memory of instance gpu01:%d (%.2f GiB); it would run partly on the CPU.'
            % (model, size_gib, want_gib, headroom, port, vram_gib))


@pytest.mark.parametrize('policy, problems, warnings', [
    ('fail', 2, 0),
    ('warn', 0, 2),
    ('off', 0, 0),
])
def test_model_larger_than_an_instance(policy, problems, warnings):
    result = check(present=['big:latest', 'small:latest'], vram_check=policy)
    texts = [vram_text('big:latest', 30, 33, 11434, 24), vram_text('big:latest', 30, 33, 11435, 24)]
    assert result['problems'] == (texts if problems else [])
    assert result['warnings'] == (texts if warnings else [])
    assert result['sizes'] == {'big:latest': 30 * GIB, 'small:latest': 2 * GIB}


def test_vram_check_defaults_to_fail():
    data = {'host': 'gpu01', 'catalog': {'models': MODELS, 'hosts': {'gpu01': {'present': ['big:latest']}}},
            'indexes': INDEXES, 'instances': [{'port': 11434, 'gpus': []}], 'gpus': GPUS[:1]}
    result = ollama_models_preflight(data)
    assert result['problems'] == [vram_text('big:latest', 30, 30, 11434, 24, headroom=None)]


@pytest.mark.parametrize('instance_gpus, fits', [
    (['GPU-aaaa'], False),             # by UUID
    ([0], False),                      # by index
    (['1'], False),
    (['GPU-aaaa', 'GPU-bbbb'], True),  # both: 48 GiB
    ([0, 1], True),
    (['0', 'GPU-bbbb'], True),
    ([], True),                        # none: every GPU, summed
    (None, True),
])
def test_instance_gpus_as_uuids_or_indices(instance_gpus, fits):
    result = check(present=['big:latest'], instances=[{'port': 11434, 'gpus': instance_gpus}])
    assert result['problems'] == ([] if fits else [vram_text('big:latest', 30, 33, 11434, 24)])


@pytest.mark.parametrize('instances, gpus', [
    ([{'port': 11434, 'gpus': ['GPU-zzzz']}], GPUS),   # GPUs the node does not have
    ([{'port': 11434, 'gpus': []}], []),                 # a node without GPUs
    ([], GPUS),
])
def test_instances_without_gpu_memory_are_skipped(instances, gpus):
    result = check(present=['big:latest'], instances=instances, gpus=gpus)
    assert result['problems'] == []
    assert result['warnings'] == []


@pytest.mark.parametrize('size_gib, headroom, fits', [
    (22, 10, False),     # 24.2 GiB
    (22, 0, True),
    (24, 0, True),       # exactly the GPU memory
    (20, 20, True),      # 24 GiB
    (20, 21, False),
])
def test_headroom(size_gib, headroom, fits):
    indexes = dict(INDEXES, **{'small:latest': {'size': size_gib * GIB}})
    data = {'host': 'gpu01', 'catalog': {'models': MODELS, 'hosts': {'gpu01': {'present': ['small:latest']}}},
            'indexes': indexes, 'instances': [{'port': 11434, 'gpus': ['GPU-aaaa']}], 'gpus': GPUS,
            'vram_check': 'fail', 'vram_headroom_percent': headroom}
    result = ollama_models_preflight(data)
    assert (result['problems'] == []) is fits


def test_derived_models_use_their_root_parents_size():
    result = check(present=['big:latest', 'chat:latest', 'base:latest', 'c1:latest', 'c2:latest'],
                   gguf_sizes={'base:latest': 23 * GIB}, instances=[{'port': 11434, 'gpus': [0]}])
    assert result['sizes'] == {'big:latest': 30 * GIB, 'chat:latest': 30 * GIB, 'base:latest': 23 * GIB,
                               'c1:latest': 23 * GIB, 'c2:latest': 23 * GIB}
    assert [p.split(' (')[0] for p in result['problems']] == [
        'gpu01: model big:latest', 'gpu01: model chat:latest', 'gpu01: model base:latest', 'gpu01: model c1:latest',
        'gpu01: model c2:latest']


def test_unknown_sizes_are_not_checked():
    result = check(present=['base:latest', 'c2:latest'], gguf_sizes={}, instances=[{'port': 11434, 'gpus': [0]}])
    assert result['sizes'] == {}
    assert result['problems'] == []


@pytest.mark.parametrize('policy', ['strict', 'FAIL', '', None, True])
def test_invalid_vram_check_is_a_problem(policy):
    result = check(present=['small:latest'], vram_check=policy)
    assert result['problems'] == ['gpu01: ollama_models_vram_check: %r is not valid (valid: fail, warn, off).' % (policy,)]


def test_invalid_vram_check_still_checks_as_fail():
    result = check(present=['big:latest'], vram_check='strict')
    assert len(result['problems']) == 3
    assert result['warnings'] == []


def test_not_a_mapping():
    with pytest.raises(AnsibleFilterError, match='expects a mapping'):
        ollama_models_preflight(['gpu01'])
