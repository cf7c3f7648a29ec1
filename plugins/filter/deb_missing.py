# -*- coding: utf-8 -*-
# Copyright (c) 2026, gpufleet maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: deb_missing
short_description: The package specs that a read of dpkg's database does not satisfy
version_added: 0.3.0
author:
  - gpufleet maintainers (@gpufleet)
description:
  - Given package specs as M(ansible.builtin.apt) takes them (V(nginx), V(nvidia-driver=535.261.03-*)) and what is
    installed (the C(packages) of M(gpufleet.ollama.host_probe)), returns the specs that are absent or installed at a
    version the spec's pattern does not match - the rule M(gpufleet.ollama.deb_packages) installs by.
options:
  _input:
    description: The package specs.
    type: list
    elements: str
    required: true
  installed:
    description: Package name to installed version.
    type: dict
    required: true
"""

EXAMPLES = r"""
- name: Ask mokutil only while a driver package is still to be installed
  ansible.builtin.command:
    argv: [mokutil, --sb-state]
  when: (['nvidia-driver=535.261.03-*'] | gpufleet.ollama.deb_missing(gpufleet_host_probe.packages)) | length > 0
"""

RETURN = r"""
_value:
  description: The specs not satisfied, in their order.
  type: list
  elements: str
"""

from collections.abc import Mapping

from ansible.errors import AnsibleFilterError

from ansible_collections.gpufleet.ollama.plugins.module_utils._deb import missing_packages


def deb_missing(specs, installed):
    if not isinstance(installed, Mapping):
        raise AnsibleFilterError('deb_missing expects installed as a mapping of package to version, got %s'
                                 % type(installed).__name__)
    return missing_packages([s for s in specs or [] if isinstance(s, str) and s.strip()], installed)


class FilterModule(object):
    def filters(self):
        return {'deb_missing': deb_missing}
