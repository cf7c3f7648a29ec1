# -*- coding: utf-8 -*-
# Copyright (c) 2026, gpufleet maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import pytest

from ansible.errors import AnsibleFilterError

from ansible_collections.gpufleet.ollama.plugins.filter.ollama_models_input_problems import (
    FilterModule, ollama_models_input_problems)

# roles/ollama_models/defaults/main.yml, with the lab's bundle root.
GOOD = {
    'ollama_models_prune': False,
    'ollama_models_bundle_dir': '/srv/lab/artifacts/bundles',
    'ollama_models_depot_host': '',
    'ollama_models_staging_host': '',
    'ollama_models_fanout_width': 1,
    'ollama_models_bwlimit_kib': 0,
    'ollama_models_transfer_timeout': 300,
    'ollama_models_peer_port': 873,
    'ollama_models_node_group': 'gpu_nodes',
    'ollama_models_disk_margin_percent': 5,
    'ollama_models_disk_margin_mib': 1024,
    'ollama_models_vram_check': 'fail',
    'ollama_models_vram_headroom_percent': 10,
    'ollama_models_verify_checksum': False,
}


def test_registered():
    assert FilterModule().filters()['ollama_models_input_problems'] is ollama_models_input_problems


def test_good_input_has_no_problem():
    assert ollama_models_input_problems(GOOD) == []


def test_missing_keys_are_not_checked():
    assert ollama_models_input_problems({}) == []


def test_not_a_mapping_is_an_error():
    with pytest.raises(AnsibleFilterError, match='mapping of variables'):
        ollama_models_input_problems('ollama_models_fanout_width=0')


@pytest.mark.parametrize('changes', [
    {'ollama_models_fanout_width': 4}, {'ollama_models_fanout_width': '2'}, {'ollama_models_bwlimit_kib': 102400},
    {'ollama_models_transfer_timeout': 1}, {'ollama_models_peer_port': 8730}, {'ollama_models_peer_port': 65535},
    {'ollama_models_disk_margin_percent': 0, 'ollama_models_disk_margin_mib': 0},
    {'ollama_models_vram_headroom_percent': 0}, {'ollama_models_vram_headroom_percent': 5000},
    {'ollama_models_vram_check': 'warn'}, {'ollama_models_vram_check': 'off'}, {'ollama_models_bundle_dir': ''},
    {'ollama_models_bundle_dir': None}, {'ollama_models_bundle_dir': '/srv/b\u00fcndel'},
    {'ollama_models_prune': 'yes'}, {'ollama_models_depot_host': 'depot01'},
])
def test_valid_settings_pass(changes):
    assert ollama_models_input_problems(dict(GOOD, **changes)) == []


@pytest.mark.parametrize('changes, words', [
    ({'ollama_models_fanout_width': 0}, ['ollama_models_fanout_width', '1 or more', 'wave', '(got 0)']),
    ({'ollama_models_fanout_width': -1}, ['ollama_models_fanout_width', '(got -1)']),
    ({'ollama_models_fanout_width': 'wide'}, ['ollama_models_fanout_width', "'wide'"]),
    ({'ollama_models_fanout_width': 1.5}, ['ollama_models_fanout_width', '1.5']),
    ({'ollama_models_bwlimit_kib': -1}, ['ollama_models_bwlimit_kib', '0 or more']),
    ({'ollama_models_transfer_timeout': 0}, ['ollama_models_transfer_timeout', 'for ever']),
    ({'ollama_models_peer_port': 0}, ['ollama_models_peer_port', '1-65535']),
    ({'ollama_models_peer_port': 70000}, ['ollama_models_peer_port', '(got 70000)']),
    ({'ollama_models_peer_port': 'rsync'}, ['ollama_models_peer_port', "'rsync'"]),
    ({'ollama_models_disk_margin_percent': -5}, ['ollama_models_disk_margin_percent']),
    ({'ollama_models_disk_margin_mib': '1 GiB'}, ['ollama_models_disk_margin_mib', "'1 GiB'"]),
    ({'ollama_models_vram_headroom_percent': -1}, ['ollama_models_vram_headroom_percent', '0 or more']),
    ({'ollama_models_vram_check': False}, ['ollama_models_vram_check', "'off' in quotes"]),
    ({'ollama_models_vram_check': 'strict'}, ['ollama_models_vram_check', 'fail, warn or off']),
    ({'ollama_models_bundle_dir': 'bundles'}, ['ollama_models_bundle_dir', 'absolute']),
    ({'ollama_models_bundle_dir': '~/bundles'}, ['ollama_models_bundle_dir', '~ is not expanded']),
    ({'ollama_models_bundle_dir': '/srv/bundles/'}, ['ollama_models_bundle_dir', 'trailing /']),
    ({'ollama_models_node_group': ''}, ['ollama_models_node_group']),
    ({'ollama_models_prune': 'sometimes'}, ['ollama_models_prune', 'true or false']),
    ({'ollama_models_verify_checksum': 2}, ['ollama_models_verify_checksum']),
    ({'ollama_models_staging_host': ['gpu01']}, ['ollama_models_staging_host']),
])
def test_each_mistake_is_named(changes, words):
    problems = ollama_models_input_problems(dict(GOOD, **changes))
    assert len(problems) == 1, problems
    for word in words:
        assert word in problems[0], (word, problems[0])


def test_several_mistakes_are_all_reported():
    problems = ollama_models_input_problems(dict(GOOD, ollama_models_fanout_width=0, ollama_models_peer_port=0,
                                                 ollama_models_transfer_timeout=0))
    assert len(problems) == 3


HOSTS = {'inventory_hosts': ['gpu-node-1', 'gpu-node-2', 'depot01', 'gw-1'], 'node_group_hosts': ['gpu-node-1', 'gpu-node-2'],
         'ollama_models_node_group': 'gpu_nodes'}


def test_a_depot_outside_the_gpu_nodes_passes():
    assert ollama_models_input_problems(dict(GOOD, ollama_models_depot_host='depot01', **HOSTS)) == []
    assert ollama_models_input_problems(dict(GOOD, ollama_models_depot_host='', **HOSTS)) == []


@pytest.mark.parametrize('depot, words', [
    ('depot02', ['ollama_models_depot_host: depot02 is not a host of the inventory', 'or empty for the controller']),
    ('gpu-node-2', ['ollama_models_depot_host: gpu-node-2 is a GPU node (group gpu_nodes)', 'outside the GPU nodes']),
])
def test_a_depot_that_cannot_be_one_is_named(depot, words):
    problems = ollama_models_input_problems(dict(GOOD, ollama_models_depot_host=depot, **HOSTS))
    assert len(problems) == 1 and all(w in problems[0] for w in words)
