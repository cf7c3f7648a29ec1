# -*- coding: utf-8 -*-
# Copyright (c) 2026, gpufleet maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import pytest

from ansible.errors import AnsibleFilterError

from ansible_collections.gpufleet.ollama.plugins.filter.deb_missing import deb_missing


def test_absent_and_other_versions_are_missing():
    installed = {'nvidia-driver': '535.247.01-1', 'nvidia-smi': '535.261.03-1', 'rsync': '3.2.7-1'}
    specs = ['nvidia-driver=535.261.03-*', 'nvidia-smi=535.261.03-*', 'nvidia-persistenced', 'rsync', 'zstd:amd64']
    assert deb_missing(specs, installed) == ['nvidia-driver=535.261.03-*', 'nvidia-persistenced', 'zstd:amd64']


def test_nothing_missing_and_bad_input():
    assert deb_missing(['rsync', ''], {'rsync': '3.2.7-1'}) == []
    with pytest.raises(AnsibleFilterError, match='mapping'):
        deb_missing(['rsync'], ['rsync'])
