# -*- coding: utf-8 -*-
# Copyright (c) 2026, gpufleet maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""PRIVATE: dpkg's package database read and matched against package specs.

Not a public API. Used by the deb_packages module and its action plugin, and by host_probe.
"""

from __future__ import annotations

import fnmatch

# the format of `dpkg-query --show`: name, status abbreviation (ii = installed, hi = installed and held), version
DPKG_FORMAT = '${Package}\t${db:Status-Abbrev}\t${Version}\n'


def split_spec(spec):
    """'nginx:amd64=1.2*' -> ('nginx', '1.2*'); the architecture is not part of dpkg's ${Package}."""
    name, version = spec.partition('=')[::2]
    return name.partition(':')[0].strip(), version.strip()


def parse_dpkg(stdout):
    """dpkg-query's lines -> {package: version} for the packages installed (status ii, hi)."""
    installed = {}
    for line in stdout.splitlines():
        fields = line.split('\t')
        if len(fields) == 3 and fields[1][1:2] == 'i':
            installed[fields[0]] = fields[2]
    return installed


def parse_held(stdout):
    """dpkg-query's lines -> the installed packages whose selection is hold (status hi)."""
    return [f[0] for f in (line.split('\t') for line in stdout.splitlines()) if len(f) == 3 and f[1][:2] == 'hi']


def missing_packages(specs, installed):
    """The specs that installed ({package: version}) does not satisfy: absent, or not at the pinned version (an
    fnmatch pattern)."""
    missing = []
    for spec in specs:
        name, version = split_spec(spec)
        have = installed.get(name)
        if have is None or version and not fnmatch.fnmatchcase(have, version):
            missing.append(spec)
    return missing
