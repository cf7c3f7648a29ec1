# -*- coding: utf-8 -*-
# Copyright (c) 2026, gpufleet maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Build TEST STAND-IN NVIDIA .deb packages for the lab (controller only: python3 and dpkg-deb).

    python tests/standin/build_debs.py --out DIR --driver-version 535.247.01-1 [--driver-version 535.261.03-1 ...]
                                       --kernel 6.1.0-41-amd64 [--toolkit-version 1.18.1-1]

Importable: build(out_dir, driver_versions, kernel, toolkit_version="1.18.1-1") -> list of the .deb paths.

The packages carry the real Debian names (plugins/filter/nvidia_driver_packages.py, `_debian`) and versions, so
that apt pins, holds and upgrades behave as with the real ones, but they contain NO driver, kernel module or
library - only the stand-in tools of this directory and marker files. Per driver version V:
  nvidia-driver (V)            Depends nvidia-smi (= V), nvidia-persistenced,
                               nvidia-kernel-dkms (= V) | nvidia-open-kernel-dkms (= V)
  nvidia-kernel-dkms (V)       Conflicts nvidia-open-kernel-dkms; /usr/share/gpufleet-standin/<pkg>.version
  nvidia-open-kernel-dkms (V)  Conflicts nvidia-kernel-dkms; /usr/share/gpufleet-standin/<pkg>.version
  nvidia-smi (V)               /usr/bin/nvidia-smi (tests/standin/nvidia-smi)
  nvidia-persistenced (V)      /usr/bin/nvidia-persistenced, /lib/systemd/system/nvidia-persistenced.service
and once: linux-headers-<KERNEL> (0.0-gpufleet-standin), nvidia-container-toolkit-base (T: /usr/bin/nvidia-ctk,
the nvidia-cdi-refresh units) and nvidia-container-toolkit (T). Every package has
/usr/share/gpufleet-standin/<pkg>.version (its version) and no maintainer scripts.

Reproducible: fixed mtimes and SOURCE_DATE_EPOCH (dpkg-deb(1): the ar member timestamps, and the clamp for the
tar entries), owner root:root (--root-owner-group). A .deb whose bytes would not change is left alone (same
mtime), so the index of gpufleet.ollama.deb_repository does not re-read it.
"""
import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
MTIME = 1735689600  # 2025-01-01T00:00:00Z, as build_artifacts.py
MAINTAINER = "gpufleet tests <tests@gpufleet.invalid>"
HEADERS_VERSION = "0.0-gpufleet-standin"
MARKER_DIR = "usr/share/gpufleet-standin"
DRIVER_VERSION = re.compile(r"^(?P<branch>[0-9]{3})\.(?P<minor>[0-9]+)\.(?P<patch>[0-9]+)-(?P<debrev>[0-9A-Za-z.+~]+)$")
TOOLKIT_VERSION = re.compile(r"^(?P<upstream>[0-9]+\.[0-9]+\.[0-9]+(~[0-9A-Za-z.]+)?)-(?P<debrev>[0-9A-Za-z.+~]+)$")
KERNEL = re.compile(r"^[a-z0-9][a-z0-9.+-]*$")  # what a Debian package name allows after linux-headers-
NO_DRIVER = ("It contains no NVIDIA driver, kernel module or library: it exists so that the gpufleet.ollama tests "
             "can install, pin, hold and upgrade packages with the real names and versions.")

# nvidia-persistenced stand-in: logs one line and sleeps until it is stopped (SIGTERM ends `sleep`)
PERSISTENCED = """#!/bin/sh
# gpufleet TEST STAND-IN for nvidia-persistenced: NOT NVIDIA's daemon; it holds no GPU open.
echo "nvidia-persistenced (gpufleet TEST STAND-IN): started with: $*; no driver, sleeping until stopped" >&2
exec sleep infinity
"""

# real: github.com/NVIDIA/nvidia-persistenced init/systemd/nvidia-persistenced.service.template is Type=forking
# with ExecStart=/usr/bin/nvidia-persistenced --user __USER__ (the packaging names the user) and
# ExecStopPost=/bin/rm -rf /var/run/nvidia-persistenced. The stand-in does not fork, drop privileges or write a
# pid file, so its unit is Type=simple and runs it in the foreground; the [Install] section is the template's.
PERSISTENCED_UNIT = """[Unit]
Description=NVIDIA Persistence Daemon (gpufleet TEST STAND-IN)
Wants=syslog.target

[Service]
Type=simple
ExecStart=/usr/bin/nvidia-persistenced --verbose
ExecStopPost=/bin/rm -rf /var/run/nvidia-persistenced

[Install]
WantedBy=multi-user.target
"""


def read(name):
    with open(os.path.join(HERE, name), "rb") as f:
        return f.read()


def cdi_refresh_files():
    """The nvidia-cdi-refresh files of nvidia-container-toolkit-base, as the real 1.18 package installs them
    (real: NVIDIA/nvidia-container-toolkit v1.18.1 packaging/debian/nvidia-container-toolkit-base.install:
    the units into /etc/systemd/system/, the env file into /etc/nvidia-container-toolkit/; content from
    deployments/systemd/, the license headers shortened)."""
    header = ("# Copyright (c) 2025, NVIDIA CORPORATION.  All rights reserved.\n"
              "# Licensed under the Apache License, Version 2.0 (deployments/systemd/ of NVIDIA/nvidia-container-"
              "toolkit v1.18.1).\n# Installed by the gpufleet TEST STAND-IN package.\n\n")
    service = header + """[Unit]
Description=Refresh NVIDIA CDI specification file
ConditionPathExists=|/usr/bin/nvidia-smi
ConditionPathExists=|/usr/sbin/nvidia-smi
ConditionPathExists=/usr/bin/nvidia-ctk

[Service]
Type=oneshot
# Values from Environment will be replaced if defined in EnvironmentFile
Environment=NVIDIA_CTK_CDI_OUTPUT_FILE_PATH=/var/run/cdi/nvidia.yaml
EnvironmentFile=-/etc/nvidia-container-toolkit/nvidia-cdi-refresh.env
ExecCondition=/usr/bin/grep -qE '/(nvidia|nvidia-current)\\.ko[:]' /lib/modules/%v/modules.dep
ExecStart=/usr/bin/nvidia-ctk cdi generate
CapabilityBoundingSet=CAP_SYS_MODULE CAP_SYS_ADMIN CAP_MKNOD

[Install]
WantedBy=multi-user.target
"""
    path = header + """[Unit]
Description=Trigger CDI refresh on NVIDIA driver or toolkit install / upgrade events

[Path]
PathChanged=/lib/modules/%v/modules.dep
PathChanged=/lib/modules/%v/modules.dep.bin
PathChanged=/usr/bin/nvidia-ctk

[Install]
WantedBy=multi-user.target
"""
    env = """# This file can be used to override the configuration of the
#   nvidia-ctk cdi generate
# command invoked by the nvidia-cdi-refresh.service.
#
# This is done by specifying the name and value of the environment variables in
# this file as follows:
#
# ENVVAR=value
#
# For a list of envvars that can be set set the output of:
#
#   nvidia-ctk --help
#
# and
#
#   nvidia-ctk cdi generate --help
#
# For example, to change the for the generated CDI specification update and
# uncomment the following line:
# NVIDIA_CTK_CDI_OUTPUT_FILE_PATH=/var/run/cdi/nvidia.yaml
"""
    return [("etc/systemd/system/nvidia-cdi-refresh.service", service.encode(), 0o644),
            ("etc/systemd/system/nvidia-cdi-refresh.path", path.encode(), 0o644),
            ("etc/nvidia-container-toolkit/nvidia-cdi-refresh.env", env.encode(), 0o644)]


def nvidia_ctk(upstream):
    """tests/standin/nvidia-ctk with the toolkit's upstream version baked in."""
    text = read("nvidia-ctk").decode()
    baked, count = re.subn(r'^VERSION = "[^"]*"$', 'VERSION = "%s"' % upstream, text, count=1, flags=re.M)
    if count != 1:
        raise RuntimeError("nvidia-ctk has no VERSION line to bake the version into")
    return baked.encode()


def driver_packages(version):
    """[(package, control fields, files, description)] of one driver version."""
    return [
        # real (loosely): Debian's src:nvidia-graphics-drivers debian/control, nvidia-driver's Depends on the
        # module package alternatives, nvidia-smi and nvidia-persistenced; the real list is much longer (the
        # libraries, Xorg driver, nvidia-alternative, firmware) and names the modules by their Provides.
        ("nvidia-driver", [("Depends", "nvidia-smi (= %s), nvidia-persistenced, nvidia-kernel-dkms (= %s) | "
                                       "nvidia-open-kernel-dkms (= %s)" % (version, version, version))], [],
         "Metapackage: depends on the stand-in nvidia-smi, nvidia-persistenced and one of the kernel module "
         "packages."),
        ("nvidia-kernel-dkms", [("Conflicts", "nvidia-open-kernel-dkms")], [],
         "Stands in for the proprietary kernel module built by DKMS: builds nothing."),
        ("nvidia-open-kernel-dkms", [("Conflicts", "nvidia-kernel-dkms")], [],
         "Stands in for the open kernel module built by DKMS: builds nothing."),
        ("nvidia-smi", [], [("usr/bin/nvidia-smi", read("nvidia-smi"), 0o755)],
         "Installs the stand-in /usr/bin/nvidia-smi, which prints the GPUs described in "
         "/etc/standin/nvidia-smi.json."),
        ("nvidia-persistenced", [],
         [("usr/bin/nvidia-persistenced", PERSISTENCED.encode(), 0o755),
          ("lib/systemd/system/nvidia-persistenced.service", PERSISTENCED_UNIT.encode(), 0o644)],
         "Installs a /usr/bin/nvidia-persistenced that logs one line and sleeps, and a simple systemd unit for it "
         "(neither enabled nor started: no maintainer scripts)."),
    ]


def packages(driver_versions, kernel, toolkit_version):
    """[(package, version, control fields, [(path, bytes, mode)])] for the whole set."""
    out = []
    for version in driver_versions:
        for name, fields, files, description in driver_packages(version):
            out.append((name, version, fields, files,
                        "gpufleet TEST STAND-IN for NVIDIA's %s\n %s\n %s" % (name, description, NO_DRIVER)))
    out.append(("linux-headers-%s" % kernel, HEADERS_VERSION, [], [],
                "gpufleet TEST STAND-IN for the kernel headers of %s\n The lab containers run the host's kernel, "
                "whose real headers package may not exist in the container's release; this empty package stands in "
                "for it so that the driver install can name linux-headers-$(uname -r). It contains no headers and "
                "no NVIDIA driver." % kernel))
    upstream = TOOLKIT_VERSION.match(toolkit_version).group("upstream")
    out.append(("nvidia-container-toolkit-base", toolkit_version, [],
                [("usr/bin/nvidia-ctk", nvidia_ctk(upstream), 0o755)] + cdi_refresh_files(),
                "gpufleet TEST STAND-IN for NVIDIA's nvidia-container-toolkit-base\n Installs the stand-in "
                "/usr/bin/nvidia-ctk (runtime configure, cdi generate, cdi list) and the nvidia-cdi-refresh units, "
                "neither enabled nor started; no nvidia-container-runtime. " + NO_DRIVER))
    out.append(("nvidia-container-toolkit", toolkit_version,
                [("Depends", "nvidia-container-toolkit-base (= %s)" % toolkit_version)], [],
                "gpufleet TEST STAND-IN for NVIDIA's nvidia-container-toolkit\n Depends on the stand-in "
                "nvidia-container-toolkit-base; no nvidia-container-runtime-hook. " + NO_DRIVER))
    return out


def control(name, version, fields, description):
    lines = [("Package", name), ("Version", version), ("Architecture", "amd64"), ("Maintainer", MAINTAINER),
             ("Section", "misc"), ("Priority", "optional")] + fields
    # dpkg: an extended description's lines start with a space; an empty line is " ."
    body = "\n".join(line if line.strip() else " ." for line in description.split("\n"))
    return "".join("%s: %s\n" % kv for kv in lines) + "Description: %s\n" % body


def tree(root, name, version, fields, files, description):
    """The package tree under root: DEBIAN/control (+ conffiles for /etc), the files, the version marker."""
    files = files + [("%s/%s.version" % (MARKER_DIR, name), (version + "\n").encode(), 0o644)]
    os.makedirs(os.path.join(root, "DEBIAN"))
    with open(os.path.join(root, "DEBIAN", "control"), "w", encoding="utf-8") as f:
        f.write(control(name, version, fields, description))
    os.chmod(os.path.join(root, "DEBIAN", "control"), 0o644)
    conffiles = sorted("/" + path for path, dummy, dummy in files if path.startswith("etc/"))
    if conffiles:  # what dh_installdeb makes of every file in /etc
        with open(os.path.join(root, "DEBIAN", "conffiles"), "w", encoding="utf-8") as f:
            f.write("".join(c + "\n" for c in conffiles))
        os.chmod(os.path.join(root, "DEBIAN", "conffiles"), 0o644)
    for path, data, mode in files:
        full = os.path.join(root, path)
        os.makedirs(os.path.dirname(full), exist_ok=True)
        with open(full, "wb") as f:
            f.write(data)
        os.chmod(full, mode)
    for directory, subdirs, names in os.walk(root):
        os.chmod(directory, 0o755)
        for entry in subdirs + names:
            os.utime(os.path.join(directory, entry), (MTIME, MTIME))
    os.utime(root, (MTIME, MTIME))


def check(driver_versions, kernel, toolkit_version):
    if isinstance(driver_versions, str):
        driver_versions = [driver_versions]
    driver_versions = list(driver_versions)
    if not driver_versions:
        raise ValueError("at least one --driver-version is needed")
    for version in driver_versions:
        if not DRIVER_VERSION.match(version):
            raise ValueError("driver version %r is not <branch>.<minor>.<patch>-<debian revision>, such as "
                             "535.247.01-1" % (version,))
    if len(set(driver_versions)) != len(driver_versions):
        raise ValueError("driver versions repeat: %s" % ", ".join(driver_versions))
    if not TOOLKIT_VERSION.match(toolkit_version or ""):
        raise ValueError("toolkit version %r is not <x>.<y>.<z>-<debian revision>, such as 1.18.1-1"
                         % (toolkit_version,))
    if not KERNEL.match(kernel or ""):
        raise ValueError("kernel %r cannot be part of a package name (lower-case letters, digits, '.', '+', '-'); "
                         "give `uname -r` of the lab host" % (kernel,))
    return driver_versions


def build(out_dir, driver_versions, kernel, toolkit_version="1.18.1-1"):
    """Build every package into out_dir; returns the .deb paths (driver packages per version, then the headers
    and the toolkit). An existing .deb with the same bytes is kept as it is."""
    driver_versions = check(driver_versions, kernel, toolkit_version)
    os.makedirs(out_dir, exist_ok=True)
    dpkg_deb = shutil.which("dpkg-deb")
    if not dpkg_deb:
        raise RuntimeError("dpkg-deb is not installed (Debian: apt-get install dpkg)")
    env = dict(os.environ, SOURCE_DATE_EPOCH=str(MTIME), LC_ALL="C.UTF-8")
    paths = []
    work = tempfile.mkdtemp(prefix=".build-debs-", dir=out_dir)
    try:
        for name, version, fields, files, description in packages(driver_versions, kernel, toolkit_version):
            base = "%s_%s_amd64" % (name, version)
            root = os.path.join(work, base)
            tree(root, name, version, fields, files, description)
            built = os.path.join(work, base + ".deb")
            result = subprocess.run([dpkg_deb, "--root-owner-group", "-Zxz", "--build", root, built], env=env,
                                    capture_output=True, text=True, check=False)
            if result.returncode != 0:
                raise RuntimeError("dpkg-deb --build %s failed (rc=%d): %s"
                                   % (name, result.returncode, (result.stderr or result.stdout).strip()))
            target = os.path.join(out_dir, base + ".deb")
            if not same_bytes(built, target):
                os.chmod(built, 0o644)
                os.replace(built, target)
            paths.append(target)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return paths


def same_bytes(a, b):
    if not os.path.isfile(b) or os.path.getsize(a) != os.path.getsize(b):
        return False
    with open(a, "rb") as fa, open(b, "rb") as fb:
        return fa.read() == fb.read()


def main(argv=None):
    parser = argparse.ArgumentParser(description="Build TEST STAND-IN NVIDIA .deb packages (no driver inside).")
    parser.add_argument("--out", required=True, help="directory for the .deb files")
    parser.add_argument("--driver-version", action="append", required=True, dest="driver_versions",
                        help="a Debian driver package version such as 535.247.01-1 (repeatable)")
    parser.add_argument("--kernel", required=True, help="the kernel release (uname -r) for linux-headers-<kernel>")
    parser.add_argument("--toolkit-version", default="1.18.1-1", help="NVIDIA Container Toolkit package version")
    args = parser.parse_args(argv)
    try:
        check(args.driver_versions, args.kernel, args.toolkit_version)
    except ValueError as e:
        parser.error(str(e))
    for path in build(args.out, args.driver_versions, args.kernel, args.toolkit_version):
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
