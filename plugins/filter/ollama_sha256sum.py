# -*- coding: utf-8 -*-
# Copyright (c) 2026, gpufleet maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: ollama_sha256sum
short_description: Find a file's digest in a release's sha256sum.txt
version_added: 0.1.0
author:
  - gpufleet maintainers (@gpufleet)
description:
  - Reads the text of a C(sha256sum) listing (as shipped with every Ollama release) and returns the lower-case digest
    of the file named O(filename), or an empty string when the listing does not name it.
  - Accepts the three forms C(sha256sum) writes and reads, C(<hex>  name), C(<hex> *name) (binary mode) and
    C(<hex>  ./name); only the base name of O(filename) is compared.
options:
  _input:
    description: The text of C(sha256sum.txt).
    type: str
    required: true
  filename:
    description: The file (a path or a base name) whose digest is wanted.
    type: str
    required: true
"""

EXAMPLES = r"""
- name: Read the expected digest of the archive
  ansible.builtin.set_fact:
    __digest: "{{ lookup('ansible.builtin.file', '/srv/ollama/0.14.1/sha256sum.txt')
                  | gpufleet.ollama.ollama_sha256sum('ollama-linux-amd64.tar.zst') }}"
"""

RETURN = r"""
_value:
  description: 64 lower-case hex digits, or an empty string when the file is not listed.
  type: str
  sample: 3c2a1b0e9f8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a2f1e0d9c8b7a6f5e4d3c2b
"""

import posixpath
import re

from ansible.errors import AnsibleFilterError

LINE_RE = re.compile(r'^([0-9a-fA-F]{64})\s+\*?(.+)$')


def ollama_sha256sum(text, filename):
    if text is None:
        return ''
    if not isinstance(text, str):
        raise AnsibleFilterError('ollama_sha256sum expects the text of sha256sum.txt, got %s' % type(text).__name__)
    want = posixpath.basename(str(filename))
    for line in text.splitlines():
        m = LINE_RE.match(line.strip())
        if not m:
            continue
        name = m.group(2).strip()
        if name.startswith('./'):
            name = name[2:]
        if name == want:
            return m.group(1).lower()
    return ''


class FilterModule(object):
    def filters(self):
        return {'ollama_sha256sum': ollama_sha256sum}
