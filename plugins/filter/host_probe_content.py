# -*- coding: utf-8 -*-
# Copyright (c) 2026, gpufleet maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: host_probe_content
short_description: The text of a small file as site.yml's host read shows it, or none when the read cannot tell
version_added: 0.3.0
author:
  - gpufleet maintainers (@gpufleet)
description:
  - Given the registered result of M(gpufleet.ollama.host_probe) and a path, returns the file's text when the read
    returned it (its O(gpufleet.ollama.host_probe#module:contents)), the O(missing) value when the read listed the
    file's directory and the file was not in it, and C(none) otherwise - a read without that part, a file it
    listed but did not return (unreadable, too large), a directory it did not list. C(none) means "read it
    yourself" - a role runs its own read (M(ansible.builtin.slurp)) only then.
options:
  _input:
    description: The result of M(gpufleet.ollama.host_probe) (C(gpufleet_host_probe)), or anything else (then C(none)).
    type: raw
    required: true
  path:
    description: The file's absolute path, as given to the probe.
    type: str
    required: true
  missing:
    description: What to return for a file the read shows does not exist.
    type: raw
    default: null
"""

EXAMPLES = r"""
- name: Read the drain set only when site.yml's read does not show it
  ansible.builtin.slurp:
    src: /var/lib/gpufleet/gateway/drained.json
  register: drained
  when: gpufleet_host_probe | default(none) | gpufleet.ollama.host_probe_content(drain_file, '[]') is none
"""

RETURN = r"""
_value:
  description: The file's text, O(missing), or C(none).
  type: raw
"""

import posixpath
from collections.abc import Mapping

from ansible.errors import AnsibleFilterError


def host_probe_content(probe, path, missing=None):
    if not isinstance(path, str) or not posixpath.isabs(path):
        raise AnsibleFilterError('host_probe_content needs an absolute path, got %r' % (path,))
    if not isinstance(probe, Mapping) or not isinstance(probe.get('contents'), Mapping):
        return None
    if path in probe['contents']:
        return probe['contents'][path]
    listed = [e for e in probe.get('files') or [] if isinstance(e, Mapping)]
    parent = posixpath.dirname(path)
    if any(e.get('path') == path for e in listed):
        return None                      # there, but not returned: unreadable, too large or not text
    if any(e.get('path') == parent and e.get('isdir') for e in listed):
        return missing                   # its directory was listed without it
    return None


class FilterModule(object):
    def filters(self):
        return {'host_probe_content': host_probe_content}
