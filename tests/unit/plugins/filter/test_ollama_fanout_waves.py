# -*- coding: utf-8 -*-
# Copyright (c) 2026, gpufleet maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""ollama_fanout_waves: the transfer waves of one model."""

from __future__ import annotations

import math

import pytest

from ansible.errors import AnsibleFilterError

from ansible_collections.gpufleet.ollama.plugins.filter.ollama_fanout_waves import ollama_fanout_waves


def nodes(n, first=2):
    return ['gpu%02d' % i for i in range(first, first + n)]


def check_invariants(waves, targets, holders, width):
    """Every target once, no source over `width` per wave, a source is a holder or a target of an earlier wave."""
    have = set(holders)
    received = []
    for wave in waves:
        assert wave, 'an empty wave'
        sources = [pair['source'] for pair in wave]
        for source in set(sources):
            assert sources.count(source) <= width
            assert source in have, '%s serves before it holds the model' % source
        for pair in wave:
            assert set(pair) == {'target', 'source'}
            assert pair['target'] not in have
        received.extend(pair['target'] for pair in wave)
        have.update(pair['target'] for pair in wave)
    wanted = [t for i, t in enumerate(targets) if t not in holders and t not in targets[:i]]
    assert received == wanted          # every target exactly once, in the order given
    return received


@pytest.mark.parametrize('n', range(0, 21))
def test_width_one_takes_log2_waves(n):
    targets = nodes(n)
    waves = ollama_fanout_waves(targets, ['localhost'])
    assert len(waves) == math.ceil(math.log2(n + 1))
    check_invariants(waves, targets, ['localhost'], 1)


@pytest.mark.parametrize('n', range(0, 30))
@pytest.mark.parametrize('width', [2, 3])
def test_wider_waves(n, width):
    targets = nodes(n)
    waves = ollama_fanout_waves(targets, ['localhost'], width)
    # the holders grow by a factor of width + 1 each wave: (w + 1) ** k - 1 targets after k waves
    expected = 0
    while (width + 1) ** expected - 1 < n:
        expected += 1
    assert len(waves) == expected
    check_invariants(waves, targets, ['localhost'], width)


@pytest.mark.parametrize('n, holders', [(n, h) for n in (1, 5, 12) for h in (2, 3)])
def test_more_holders(n, holders):
    start = ['localhost'] + ['gpu9%d' % i for i in range(holders - 1)]
    waves = ollama_fanout_waves(nodes(n), start)
    k = 0
    while holders * 2 ** k - holders < n:
        k += 1
    assert len(waves) == k
    check_invariants(waves, nodes(n), start, 1)


def test_documented_example():
    assert ollama_fanout_waves(['gpu02', 'gpu03', 'gpu04'], ['localhost', 'gpu01']) == [
        [{'target': 'gpu02', 'source': 'gpu01'}, {'target': 'gpu03', 'source': 'localhost'}],
        [{'target': 'gpu04', 'source': 'gpu01'}],
    ]


def test_seven_targets_width_one():
    assert ollama_fanout_waves(nodes(7), ['ctl']) == [
        [{'target': 'gpu02', 'source': 'ctl'}],
        [{'target': 'gpu03', 'source': 'gpu02'}, {'target': 'gpu04', 'source': 'ctl'}],
        [{'target': 'gpu05', 'source': 'gpu02'}, {'target': 'gpu06', 'source': 'gpu03'},
         {'target': 'gpu07', 'source': 'gpu04'}, {'target': 'gpu08', 'source': 'ctl'}],
    ]


def test_width_two():
    assert ollama_fanout_waves(nodes(8), ['ctl'], width=2) == [
        [{'target': 'gpu02', 'source': 'ctl'}, {'target': 'gpu03', 'source': 'ctl'}],
        [{'target': 'gpu04', 'source': 'gpu02'}, {'target': 'gpu05', 'source': 'gpu02'},
         {'target': 'gpu06', 'source': 'gpu03'}, {'target': 'gpu07', 'source': 'gpu03'},
         {'target': 'gpu08', 'source': 'ctl'}, {'target': 'gpu09', 'source': 'ctl'}],
    ]


@pytest.mark.parametrize('width', ['2', ' 2 '])
def test_width_as_a_string(width):
    assert ollama_fanout_waves(nodes(8), ['ctl'], width) == ollama_fanout_waves(nodes(8), ['ctl'], 2)


def test_duplicates_and_holders_are_skipped():
    targets = ['gpu02', 'gpu03', 'gpu02', 'gpu01', 'gpu04', 'gpu03']
    holders = ['ctl', 'gpu01', 'ctl', 'gpu01']
    waves = ollama_fanout_waves(targets, holders)
    assert waves == [
        [{'target': 'gpu02', 'source': 'gpu01'}, {'target': 'gpu03', 'source': 'ctl'}],
        [{'target': 'gpu04', 'source': 'gpu01'}],
    ]
    check_invariants(waves, targets, holders, 1)


@pytest.mark.parametrize('targets', [[], ['gpu01'], ['ctl', 'gpu01', 'gpu01']])
def test_nothing_to_send(targets):
    assert ollama_fanout_waves(targets, ['ctl', 'gpu01']) == []


def test_inputs_are_not_changed():
    targets, holders = ['gpu02', 'gpu03'], ['ctl']
    ollama_fanout_waves(targets, holders)
    assert targets == ['gpu02', 'gpu03']
    assert holders == ['ctl']


@pytest.mark.parametrize('width', [0, -1, '0', 'two', '', None, True, 1.5, [1]])
def test_invalid_width(width):
    with pytest.raises(AnsibleFilterError, match='ollama_models_fanout_width must be a whole number of at least 1'):
        ollama_fanout_waves(['gpu02'], ['ctl'], width)


@pytest.mark.parametrize('targets, holders', [
    ('gpu02', ['ctl']),
    (None, ['ctl']),
    (['gpu02'], []),
    (['gpu02'], 'ctl'),
    (['gpu02'], None),
])
def test_invalid_lists(targets, holders):
    with pytest.raises(AnsibleFilterError, match='ollama_fanout_waves expects'):
        ollama_fanout_waves(targets, holders)
