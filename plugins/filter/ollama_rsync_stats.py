# -*- coding: utf-8 -*-
# Copyright (c) 2026, gpufleet maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: ollama_rsync_stats
short_description: The numbers of an rsync --stats summary
version_added: 0.1.0
author:
  - gpufleet maintainers (@gpufleet)
description:
  - Reads the summary C(rsync --stats) prints and returns its byte counts as integers, so that a play can show and
    test how much a transfer actually sent (a resumed transfer sends only the missing bytes as literal data).
  - Thousands separators are ignored; a count rsync did not print, or printed in a human-readable unit (C(-h)),
    is absent.
options:
  _input:
    description: The standard output of C(rsync --stats), as one string or as its lines (C(stdout_lines)).
    type: raw
    required: true
"""

EXAMPLES = r"""
- name: Show how many bytes crossed the network
  ansible.builtin.debug:
    msg: "{{ (rsync_result.stdout_lines | gpufleet.ollama.ollama_rsync_stats).literal_data }}"
"""

RETURN = r"""
_value:
  description: C(files_transferred), C(total_file_size), C(total_transferred_file_size), C(literal_data),
    C(matched_data), C(total_bytes_sent) and C(total_bytes_received), where rsync printed them.
  type: dict
  sample: {files_transferred: 3, literal_data: 1048576, matched_data: 0, total_bytes_received: 1049000}
"""

import re

from ansible.errors import AnsibleFilterError

FIELDS = {
    'Number of regular files transferred': 'files_transferred',
    'Total file size': 'total_file_size',
    'Total transferred file size': 'total_transferred_file_size',
    'Literal data': 'literal_data',
    'Matched data': 'matched_data',
    'Total bytes sent': 'total_bytes_sent',
    'Total bytes received': 'total_bytes_received',
}
LINE = re.compile(r'^\s*([A-Za-z ]+):\s*([0-9][0-9,.]*)(?=\s|$)')


def ollama_rsync_stats(text):
    if isinstance(text, list):
        text = '\n'.join(str(line) for line in text)
    if not isinstance(text, str):
        raise AnsibleFilterError('ollama_rsync_stats expects the text rsync --stats printed, got %s' % type(text).__name__)
    stats = {}
    for line in text.splitlines():
        match = LINE.match(line)
        if match and match.group(1).strip() in FIELDS:
            stats[FIELDS[match.group(1).strip()]] = int(re.sub(r'[,.]', '', match.group(2)))
    return stats


class FilterModule(object):
    def filters(self):
        return {'ollama_rsync_stats': ollama_rsync_stats}
