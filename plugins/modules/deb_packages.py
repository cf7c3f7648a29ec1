#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026, gpufleet maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: deb_packages
short_description: Install Debian packages only when dpkg does not list them installed
description:
  - Asks C(dpkg-query) which of the packages are installed (and at which version) and hands only the missing
    ones to M(ansible.builtin.apt), with its O(update_cache), O(cache_valid_time) and O(policy_rc_d).
  - A package that is installed already costs no apt run. M(ansible.builtin.apt) opens the whole package cache on
    every run, which at fleet size is the slowest step of a run that changes nothing.
  - The action plugin does this; the module on its own only reports (RV(installed), RV(missing)) and changes nothing.
  - Packages come from the node's configured apt sources (the fleet's package mirror when air-gapped); nothing is
    downloaded when every package is installed, not even the package lists.
version_added: 0.3.0
author:
  - gpufleet maintainers (@gpufleet)
attributes:
  action:
    support: full
    description: The action plugin runs the module, then M(ansible.builtin.apt) for what is missing.
  check_mode:
    support: full
    description: M(ansible.builtin.apt) runs in check mode and reports what it would install.
  diff_mode:
    support: none
    description: No diff; RV(missing) lists what is or would be installed.
  platform:
    support: full
    platforms: debian
    description: Debian and derivatives (dpkg and apt).
options:
  name:
    description:
      - Packages, as M(ansible.builtin.apt) takes them - V(nginx), V(nginx:amd64), or pinned V(nginx=1.22.1-9),
        V(nvidia-driver=535.*) (an fnmatch pattern of the version).
      - A pinned package whose installed version does not match is missing, and apt installs the pinned version.
    type: list
    elements: str
    required: true
  update_cache:
    description: Update apt's package lists before installing, only when something is missing.
    type: bool
    default: false
  cache_valid_time:
    description: With O(update_cache), lists younger than this many seconds are not updated again.
    type: int
    default: 0
  policy_rc_d:
    description:
      - Exit status of C(policy-rc.d) while apt installs, for example V(101) so that a package does not start its
        service before the role has written its configuration. Not set - the host's own policy.
    type: int
  allow_change_held_packages:
    description: Let apt move a package that is on hold to the pinned version (the role that holds it asks for it).
    type: bool
    default: false
    version_added: 0.3.0
  allow_downgrade:
    description: Let apt install a pinned version older than the one installed (a pin moved back).
    type: bool
    default: false
    version_added: 0.3.0
  install_recommends:
    description:
      - Install the packages' Recommends too (apt's default). V(false) installs only what they depend on, for example
        the node exporter without the collector scripts Debian recommends with it.
    type: bool
    default: true
    version_added: 0.3.0
  installed:
    description:
      - What a recent read of the host says is installed, a mapping of package to version - the C(packages) of
        M(gpufleet.ollama.host_probe), which C(site.yml) reads in its first play. When it shows every package of
        O(name) at its pin, the task ends there without a run on the host; otherwise the host is read as usual.
      - Handled by the action plugin. It can only save a run - a package it wrongly shows missing is read again.
    type: dict
seealso:
  - module: gpufleet.ollama.host_probe
  - module: ansible.builtin.apt
"""

EXAMPLES = r"""
- name: Install nginx and its njs module (nothing runs apt when both are installed)
  gpufleet.ollama.deb_packages:
    name: [nginx, libnginx-mod-http-js]
    update_cache: true
    cache_valid_time: 3600
    policy_rc_d: 101
  register: gateway_packages

- name: A pinned driver
  gpufleet.ollama.deb_packages:
    name: ["nvidia-driver=535.*"]
"""

RETURN = r"""
installed:
  description: Each package of O(name) that dpkg lists installed, with its version.
  returned: always
  type: dict
  sample: {nginx: 1.22.1-9, libnginx-mod-http-js: 0.7.10-1}
missing:
  description: The entries of O(name) that are not installed (or not at the pinned version); what apt installs.
  returned: always
  type: list
  elements: str
  sample: ["libnginx-mod-http-js"]
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.gpufleet.ollama.plugins.module_utils._deb import DPKG_FORMAT, missing_packages, parse_dpkg, split_spec


def main():
    module = AnsibleModule(
        argument_spec=dict(
            name=dict(type='list', elements='str', required=True),
            update_cache=dict(type='bool', default=False),
            cache_valid_time=dict(type='int', default=0),
            policy_rc_d=dict(type='int'),
            allow_change_held_packages=dict(type='bool', default=False),
            allow_downgrade=dict(type='bool', default=False),
            install_recommends=dict(type='bool', default=True),
            installed=dict(type='dict'),   # the action plugin's: it never reaches the host
        ),
        supports_check_mode=True,
    )
    specs = [s for s in module.params['name'] if s.strip()]
    names = sorted({split_spec(s)[0] for s in specs})
    if not names:
        module.exit_json(changed=False, installed={}, missing=[])
    dpkg_query = module.get_bin_path('dpkg-query')
    if dpkg_query is None:
        module.fail_json(msg='deb_packages: dpkg-query is not on this host; the module is for Debian and derivatives')
    # rc 1: some package is unknown to dpkg (it says so on stderr); the others are still listed
    rc, out, err = module.run_command([dpkg_query, '--show', '--showformat=' + DPKG_FORMAT] + names,
                                      environ_update=dict(LC_ALL='C'))
    if rc not in (0, 1):
        module.fail_json(msg='deb_packages: dpkg-query --show %s failed (exit %d): %s' % (' '.join(names), rc, err.strip()))
    installed = parse_dpkg(out)
    module.exit_json(changed=False, installed=dict((n, installed[n]) for n in names if n in installed),
                     missing=missing_packages(specs, installed))


if __name__ == '__main__':
    main()
