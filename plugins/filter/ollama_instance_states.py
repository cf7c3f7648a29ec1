# -*- coding: utf-8 -*-
# Copyright (c) 2026, gpufleet maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: ollama_instance_states
short_description: Tell which Ollama instances serve now, with which release, and which of them need a restart
version_added: 0.1.0
author:
  - gpufleet maintainers (@gpufleet)
description:
  - Reads the output of C(systemctl show --timestamp=us+utc --property=Id,ActiveState,UnitFileState,ExecStart,ExecMainStartTimestamp)
    for the C(ollama@<port>.service) instances of a node, and the modification times of their unit files.
  - An instance B(serves) when its C(ActiveState) is C(active). Its B(release) is the version directory of the
    C(ExecStart) path systemd has loaded (C(<install_root>/<version>/bin/ollama)); empty when the path is elsewhere.
  - A serving instance needs a B(restart) when its release differs from O(version), or when a unit file that
    applies to it (C(ollama@.service), C(ollama@<port>.service.d/*.conf)) is newer than the start of its main
    process. The second rule is durable - a change written by a run that failed before the restart is still
    found by the next run.
  - An instance that does not serve needs no restart; starting it applies its configuration.
options:
  _input:
    description: Standard output of C(systemctl show) for the instances, one block per unit separated by a blank line.
    type: str
    required: true
  install_root:
    description: Directory holding one directory per installed release (the ollama role's C(ollama_install_root)).
    type: str
    required: true
  version:
    description: The release the instances must run.
    type: str
    required: true
  files:
    description:
      - The unit files, as the C(files) list of M(ansible.builtin.find) returns them (C(path) and C(mtime)).
    type: list
    elements: dict
    default: []
"""

EXAMPLES = r"""
- name: Read the instances
  ansible.builtin.command:
    argv:
      - systemctl
      - show
      - --timestamp=us+utc
      - --property=Id,ActiveState,UnitFileState,ExecStart,ExecMainStartTimestamp
      - ollama@11434.service
      - ollama@11435.service
  register: show
  changed_when: false

- name: Note which instances need a restart
  ansible.builtin.set_fact:
    states: "{{ show.stdout | gpufleet.ollama.ollama_instance_states('/opt/ollama', '0.14.1', units.files) }}"
  # -> {"11434": {"serves": true, "release": "0.12.3", "started": 1732980000.5, "restart": true,
  #               "reason": "runs 0.12.3, not 0.14.1", "enabled": true}, "11435": {...}}
"""

RETURN = r"""
_value:
  description: One entry per instance, keyed by port (a string).
  type: dict
  contains:
    serves:
      description: The instance's C(ActiveState) is C(active).
      type: bool
    release:
      description: The release of the loaded C(ExecStart), empty when it is not under O(install_root).
      type: str
    started:
      description: Start of the main process in seconds since the epoch, V(null) when it never started.
      type: float
    restart:
      description: The instance serves and needs a restart to run O(version) with its current unit files.
      type: bool
    reason:
      description: Why it needs a restart, empty when it does not.
      type: str
    enabled:
      description:
        - The instance starts at boot (its C(UnitFileState), when the output has it, is C(enabled) or another
          state that starts it). V(false) when the output lacks C(UnitFileState).
      type: bool
"""

import datetime
import os
import re

from ansible.errors import AnsibleFilterError

_UNIT = re.compile(r'^ollama@([0-9]+)\.service$')
# UnitFileState values of a unit that starts at boot (systemctl is-enabled says 'enabled' for these)
_ENABLED = ('enabled', 'enabled-runtime', 'static', 'alias', 'indirect', 'generated')
_DROPIN = re.compile(r'/ollama@([0-9]+)\.service\.d/[^/]+\.conf$')


def _timestamp(value):
    """'Mon 2026-11-30 17:00:00.123456 UTC' (us+utc) -> epoch seconds; None for '', 'n/a' or 0."""
    value = (value or '').strip()
    if value in ('', 'n/a', '0'):
        return None
    m = re.match(r'^(?:[A-Za-z]{3} )?([0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2})(?:\.([0-9]{1,6}))? UTC$', value)
    if not m:
        raise AnsibleFilterError('ollama_instance_states: cannot read the timestamp %r; run systemctl show with '
                                 '--timestamp=us+utc' % value)
    stamp = datetime.datetime.strptime(m.group(1), '%Y-%m-%d %H:%M:%S').replace(tzinfo=datetime.timezone.utc)
    return stamp.timestamp() + (int(m.group(2).ljust(6, '0')) / 1e6 if m.group(2) else 0.0)


def _release(exec_start, install_root):
    m = re.search(r'\bpath=(\S+)', exec_start or '')
    if not m:
        return ''
    root = os.path.normpath(install_root)
    path = os.path.normpath(m.group(1))
    rel = os.path.relpath(path, root) if path.startswith(root + '/') else ''
    parts = rel.split('/')
    return parts[0] if len(parts) == 3 and parts[1:] == ['bin', 'ollama'] else ''


def _blocks(text):
    block = {}
    for line in (text or '').splitlines():
        if not line.strip():
            if block:
                yield block
            block = {}
            continue
        key, sep, value = line.partition('=')
        if sep:
            block[key] = value
    if block:
        yield block


def ollama_instance_states(show, install_root, version, files=None):
    if not isinstance(show, str):
        raise AnsibleFilterError('ollama_instance_states expects the text of systemctl show, got %s' % type(show).__name__)
    if not isinstance(files or [], list):
        raise AnsibleFilterError('ollama_instance_states: files must be a list, got %s' % type(files).__name__)
    shared, own = 0.0, {}
    for f in files or []:
        path, mtime = str(f.get('path', '')), float(f.get('mtime') or 0)
        if path.endswith('/ollama@.service'):
            shared = max(shared, mtime)
            continue
        m = _DROPIN.search(path)
        if m:
            own[m.group(1)] = max(own.get(m.group(1), 0.0), mtime)
    states = {}
    for block in _blocks(show):
        m = _UNIT.match(block.get('Id', ''))
        if not m:
            continue
        port = m.group(1)
        serves = block.get('ActiveState') == 'active'
        release = _release(block.get('ExecStart'), install_root)
        started = _timestamp(block.get('ExecMainStartTimestamp'))
        reason = ''
        if serves:
            newest = max(shared, own.get(port, 0.0))
            if release != str(version):
                reason = 'runs %s, not %s' % (release or 'a release outside %s' % install_root, version)
            elif started is None or newest > started:
                reason = 'its unit or environment changed after it started'
        states[port] = {'serves': serves, 'release': release, 'started': started, 'restart': bool(reason),
                        'reason': reason, 'enabled': block.get('UnitFileState') in _ENABLED}
    return states


class FilterModule(object):
    def filters(self):
        return {'ollama_instance_states': ollama_instance_states}
