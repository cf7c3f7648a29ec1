# -*- coding: utf-8 -*-
# Copyright (c) 2026, gpufleet maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""PRIVATE helpers for the gpufleet.ollama filters that format reports. Not a public API."""

from __future__ import annotations


def text_table(head, rows):
    """Lines of a plain-text table: columns padded to their widest cell, two spaces apart, no trailing blanks."""
    rows = [tuple(str(c) for c in r) for r in rows]
    widths = [max(len(r[i]) for r in [tuple(head)] + rows) for i in range(len(head))]
    return ['  '.join(cell.ljust(w) for cell, w in zip(r, widths)).rstrip() for r in [tuple(head)] + rows]
