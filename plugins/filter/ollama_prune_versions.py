# -*- coding: utf-8 -*-
# Copyright (c) 2026, gpufleet maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: ollama_prune_versions
short_description: Pick the installed Ollama releases to remove
version_added: 0.1.0
author:
  - gpufleet maintainers (@gpufleet)
description:
  - Given the versions installed on a node, returns those beyond the O(keep) newest ones besides O(current),
    oldest last. O(current) is never returned.
  - Versions are compared as release numbers (C(0.9.6) is older than C(0.12.3)); a pre-release such as
    C(0.14.0-rc1) sorts before its release, and C(rc2) before C(rc10).
options:
  _input:
    description: The installed versions (directory names such as C(0.14.1)).
    type: list
    elements: str
    required: true
  current:
    description: The active version; always kept.
    type: str
    required: true
  keep:
    description: How many versions to keep besides O(current).
    type: int
    default: 2
"""

EXAMPLES = r"""
- name: Remove versions beyond ollama_keep_versions
  ansible.builtin.file:
    path: "/opt/ollama/{{ item }}"
    state: absent
  loop: "{{ ['0.9.6', '0.12.3', '0.13.5', '0.14.1'] | gpufleet.ollama.ollama_prune_versions('0.14.1', 2) }}"
  # -> ['0.9.6']
"""

RETURN = r"""
_value:
  description: The versions to remove, newest first.
  type: list
  elements: str
"""

import re

from ansible.errors import AnsibleFilterError
from ansible_collections.gpufleet.ollama.plugins.plugin_utils._settings import to_int


def version_key(version):
    """Sort key for X.Y.Z[-pre]: numbers compared as numbers, a pre-release before its release."""
    m = re.match(r'^([0-9]+)\.([0-9]+)\.([0-9]+)(?:-(.+))?$', str(version))
    if not m:
        return ((-1, -1, -1), 0, ())
    pre = m.group(4)
    # natural order inside the pre-release: rc2 < rc10
    pre_key = tuple((0, int(p), '') if p.isdigit() else (1, 0, p) for p in re.findall(r'[0-9]+|[^0-9.]+', pre)) if pre else ()
    return (tuple(int(m.group(n)) for n in (1, 2, 3)), 0 if pre else 1, pre_key)


def ollama_prune_versions(versions, current, keep=2):
    if not isinstance(versions, list):
        raise AnsibleFilterError('ollama_prune_versions expects a list of versions, got %s' % type(versions).__name__)
    n = to_int(keep)
    if n is None or n < 0:
        raise AnsibleFilterError('ollama_prune_versions: keep must be 0 or more, got %r' % (keep,))
    others = sorted({str(v) for v in versions if str(v) != str(current)}, key=version_key, reverse=True)
    return others[n:]


class FilterModule(object):
    def filters(self):
        return {'ollama_prune_versions': ollama_prune_versions}
