# -*- coding: utf-8 -*-
# Copyright (c) 2026, gpufleet maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

from ansible_collections.gpufleet.ollama.plugins.plugin_utils._report import text_table


def test_columns_padded_two_apart_without_trailing_blanks():
    assert text_table(('A', 'BB', 'C'), [('xxx', 'y', ''), ('z', 12, 'last')]) == [
        'A    BB  C',
        'xxx  y',
        'z    12  last',
    ]


def test_header_only():
    assert text_table(('ONE', 'TWO'), []) == ['ONE  TWO']
