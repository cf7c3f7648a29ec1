# -*- coding: utf-8 -*-
# Copyright (c) 2026, gpufleet maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Stand-in NVIDIA packages (build_debs.py) and the mokutil stand-in (lcp/mokutil src/mokutil.c)."""
import os
import shutil
import signal
import subprocess
import sys
import time

import pytest

import build_debs
from ansible_collections.gpufleet.ollama.plugins.filter.nvidia_secure_boot_problem import nvidia_secure_boot_problem
from ansible_collections.gpufleet.ollama.tests.unit.standin.standin_helpers import STANDIN

MOKUTIL = os.path.join(STANDIN, "mokutil")
V1, V2, KERNEL = "535.247.01-1", "535.261.03-1", "6.1.0-41-amd64"
needs_dpkg = pytest.mark.skipif(not shutil.which("dpkg-deb"), reason="needs dpkg-deb")


def field(deb, name):
    return subprocess.run(["dpkg-deb", "-f", deb, name], capture_output=True, text=True, check=True).stdout.strip()


def contents(deb):
    """{path: (mode string, owner)} from dpkg-deb -c."""
    out = subprocess.run(["dpkg-deb", "-c", deb], capture_output=True, text=True, check=True).stdout
    rows = [line.split() for line in out.splitlines()]
    return {r[5].lstrip("."): (r[0], r[1]) for r in rows}


def extract(deb, tmp_path):
    root = tmp_path / os.path.basename(deb)
    subprocess.run(["dpkg-deb", "-x", deb, str(root)], check=True)
    return root


@pytest.fixture(scope="module")
def debs(tmp_path_factory):
    out = tmp_path_factory.mktemp("debs")
    paths = build_debs.build(str(out), [V1, V2], KERNEL)
    return {os.path.basename(p): p for p in paths}


@needs_dpkg
def test_names_versions_and_common_fields(debs):
    """The real Debian names (nvidia_driver_packages `_debian`) at the driver versions given, the headers of the
    lab kernel, the toolkit; every one amd64, by the test maintainer, described as a stand-in without a driver."""
    names = {"%s_%s_amd64.deb" % (p, v) for v in (V1, V2) for p in (
        "nvidia-driver", "nvidia-kernel-dkms", "nvidia-open-kernel-dkms", "nvidia-smi", "nvidia-persistenced")}
    names |= {"linux-headers-%s_0.0-gpufleet-standin_amd64.deb" % KERNEL,
              "nvidia-container-toolkit-base_1.18.1-1_amd64.deb", "nvidia-container-toolkit_1.18.1-1_amd64.deb"}
    assert set(debs) == names and len(debs) == 13
    for name, deb in debs.items():
        package, version = name.split("_")[:2]
        assert (field(deb, "Package"), field(deb, "Version"), field(deb, "Architecture")) == (package, version,
                                                                                              "amd64")
        assert field(deb, "Maintainer") == "gpufleet tests <tests@gpufleet.invalid>"
        description = field(deb, "Description")
        assert description.startswith("gpufleet TEST STAND-IN for "), name
        assert "no NVIDIA driver" in description, name
        if not package.startswith("linux-headers-"):
            assert description.startswith("gpufleet TEST STAND-IN for NVIDIA's %s\n" % package)


@needs_dpkg
def test_dependencies_and_conflicts(debs):
    driver = debs["nvidia-driver_%s_amd64.deb" % V2]
    assert field(driver, "Depends") == ("nvidia-smi (= {v}), nvidia-persistenced, nvidia-kernel-dkms (= {v}) | "
                                        "nvidia-open-kernel-dkms (= {v})".format(v=V2))
    assert field(debs["nvidia-open-kernel-dkms_%s_amd64.deb" % V1], "Conflicts") == "nvidia-kernel-dkms"
    assert field(debs["nvidia-kernel-dkms_%s_amd64.deb" % V1], "Conflicts") == "nvidia-open-kernel-dkms"
    assert field(debs["nvidia-container-toolkit_1.18.1-1_amd64.deb"], "Depends") == \
        "nvidia-container-toolkit-base (= 1.18.1-1)"
    headers = debs["linux-headers-%s_0.0-gpufleet-standin_amd64.deb" % KERNEL]
    assert field(headers, "Depends") == ""
    assert "headers package may not exist in the container's release" in field(headers, "Description")


@needs_dpkg
def test_files_modes_and_content(debs, tmp_path):
    """nvidia-smi is the stand-in (0755); the dkms packages only mark their version; nvidia-persistenced has a
    Type=simple unit; the toolkit ships nvidia-ctk and the nvidia-cdi-refresh files where the real 1.18.1
    package does (packaging/debian/nvidia-container-toolkit-base.install), the /etc ones as conffiles."""
    smi = debs["nvidia-smi_%s_amd64.deb" % V1]
    assert contents(smi)["/usr/bin/nvidia-smi"] == ("-rwxr-xr-x", "root/root")
    root = extract(smi, tmp_path)
    assert (root / "usr/bin/nvidia-smi").read_bytes() == open(os.path.join(STANDIN, "nvidia-smi"), "rb").read()

    dkms = debs["nvidia-open-kernel-dkms_%s_amd64.deb" % V2]
    files = {p for p, (mode, _size) in contents(dkms).items() if not mode.startswith("d")}
    assert files == {"/usr/share/gpufleet-standin/nvidia-open-kernel-dkms.version"}
    assert (extract(dkms, tmp_path) / "usr/share/gpufleet-standin/nvidia-open-kernel-dkms.version").read_text() \
        == V2 + "\n"

    persistenced = debs["nvidia-persistenced_%s_amd64.deb" % V1]
    listing = contents(persistenced)
    assert listing["/usr/bin/nvidia-persistenced"][0] == "-rwxr-xr-x"
    assert listing["/lib/systemd/system/nvidia-persistenced.service"][0] == "-rw-r--r--"
    unit = (extract(persistenced, tmp_path) / "lib/systemd/system/nvidia-persistenced.service").read_text()
    assert "Type=simple\n" in unit and "ExecStart=/usr/bin/nvidia-persistenced" in unit
    assert "[Install]\nWantedBy=multi-user.target\n" in unit
    control = subprocess.run(["dpkg-deb", "-I", persistenced], capture_output=True, text=True, check=True).stdout
    assert "postinst" not in control and "prerm" not in control

    base = debs["nvidia-container-toolkit-base_1.18.1-1_amd64.deb"]
    listing = contents(base)
    assert listing["/usr/bin/nvidia-ctk"] == ("-rwxr-xr-x", "root/root")
    for path in ("/etc/systemd/system/nvidia-cdi-refresh.service", "/etc/systemd/system/nvidia-cdi-refresh.path",
                 "/etc/nvidia-container-toolkit/nvidia-cdi-refresh.env"):
        assert listing[path] == ("-rw-r--r--", "root/root"), path
    root = extract(base, tmp_path)
    service = (root / "etc/systemd/system/nvidia-cdi-refresh.service").read_text()
    assert "Type=oneshot\n" in service and "ExecStart=/usr/bin/nvidia-ctk cdi generate\n" in service
    assert "Environment=NVIDIA_CTK_CDI_OUTPUT_FILE_PATH=/var/run/cdi/nvidia.yaml\n" in service
    assert "PathChanged=/usr/bin/nvidia-ctk\n" in (root / "etc/systemd/system/nvidia-cdi-refresh.path").read_text()
    control = subprocess.run(["dpkg-deb", "--ctrl-tarfile", base], capture_output=True, check=True).stdout
    assert b"./conffiles" in control
    version = subprocess.run([str(root / "usr/bin/nvidia-ctk"), "--version"], capture_output=True, text=True,
                             check=True).stdout
    assert version.startswith("NVIDIA Container Toolkit CLI version 1.18.1\ncommit: ")


@needs_dpkg
def test_persistenced_standin_logs_and_stops_on_sigterm(debs, tmp_path):
    root = extract(debs["nvidia-persistenced_%s_amd64.deb" % V1], tmp_path)
    proc = subprocess.Popen([str(root / "usr/bin/nvidia-persistenced"), "--verbose"], stderr=subprocess.PIPE,
                            text=True)
    line = proc.stderr.readline()
    assert "nvidia-persistenced (gpufleet TEST STAND-IN): started" in line
    time.sleep(0.2)
    assert proc.poll() is None
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(10) == -signal.SIGTERM


@needs_dpkg
def test_rebuild_keeps_identical_files(debs, tmp_path):
    """Fixed mtimes and SOURCE_DATE_EPOCH: a rebuild gives the same bytes, and an existing identical .deb is left
    alone (same mtime), so deb_repository's index does not read it again; another toolkit version is a new file
    whose nvidia-ctk says that version."""
    out = tmp_path / "out"
    first = build_debs.build(str(out), [V1], KERNEL)
    before = {p: (os.stat(p).st_mtime_ns, open(p, "rb").read()) for p in first}
    for path in first:
        os.utime(path, ns=(1, 1))  # an old mtime: a rewrite would show
    time.sleep(0.01)
    second = build_debs.build(str(out), V1, KERNEL)
    assert second == first
    assert all(os.stat(p).st_mtime_ns == 1 and open(p, "rb").read() == before[p][1] for p in second)
    for path in first:
        assert open(path, "rb").read() == open(debs[os.path.basename(path)], "rb").read(), path
    assert not [n for n in os.listdir(out) if not n.endswith(".deb")]

    other = build_debs.build(str(out), [V1], KERNEL, toolkit_version="1.17.8-1")
    base = [p for p in other if os.path.basename(p).startswith("nvidia-container-toolkit-base_")][0]
    assert os.path.basename(base) == "nvidia-container-toolkit-base_1.17.8-1_amd64.deb"
    version = subprocess.run([str(extract(base, tmp_path) / "usr/bin/nvidia-ctk"), "--version"],
                             capture_output=True, text=True, check=True).stdout
    assert version == "NVIDIA Container Toolkit CLI version 1.17.8\n"
    assert os.stat(first[0]).st_mtime_ns == 1


@pytest.mark.parametrize("versions, kernel, toolkit, message", [
    (["535.247.01"], KERNEL, "1.18.1-1", "not <branch>.<minor>.<patch>-<debian revision>"),
    (["535.247-1"], KERNEL, "1.18.1-1", "not <branch>.<minor>.<patch>"),
    (["5350.1.2-1"], KERNEL, "1.18.1-1", "not <branch>"),
    ([V1, V1], KERNEL, "1.18.1-1", "repeat"),
    ([], KERNEL, "1.18.1-1", "at least one"),
    ([V1], "5.15.0-WSL2", "1.18.1-1", "cannot be part of a package name"),
    ([V1], KERNEL, "1.18.1", "toolkit version"),
])
def test_version_checks(tmp_path, versions, kernel, toolkit, message):
    with pytest.raises(ValueError, match=message.replace(".", r"\.").replace("+", r"\+")):
        build_debs.build(str(tmp_path), versions, kernel, toolkit)
    assert not os.listdir(tmp_path)


def test_cli_rejects_a_bad_driver_version(tmp_path):
    result = subprocess.run([sys.executable, os.path.join(STANDIN, "build_debs.py"), "--out", str(tmp_path),
                             "--driver-version", V1, "--driver-version", "535.261.03", "--kernel", KERNEL],
                            capture_output=True, text=True, check=False)
    assert result.returncode == 2 and "driver version '535.261.03' is not" in result.stderr
    assert not os.listdir(tmp_path)


@needs_dpkg
def test_cli_prints_the_paths(tmp_path):
    result = subprocess.run([sys.executable, os.path.join(STANDIN, "build_debs.py"), "--out", str(tmp_path),
                             "--driver-version", V2, "--kernel", KERNEL, "--toolkit-version", "1.18.1-1"],
                            capture_output=True, text=True, check=True)
    printed = result.stdout.splitlines()
    assert len(printed) == 8 and sorted(os.path.basename(p) for p in printed) == sorted(os.listdir(tmp_path))


# --- mokutil --sb-state (lcp/mokutil src/mokutil.c: sb_state_internal, sb_state, is_sb_enabled, main) ---------

def mokutil(*args, state=None, script=MOKUTIL):
    env = {k: v for k, v in os.environ.items() if k != "STANDIN_MOKUTIL_SB_STATE"}
    if state is not None:
        env["STANDIN_MOKUTIL_SB_STATE"] = state
    result = subprocess.run([script, *args], capture_output=True, text=True, env=env, check=False)
    return result.returncode, result.stdout, result.stderr


@pytest.mark.parametrize("state, sb_state, is_sb_enabled", [
    ("enabled", (0, "SecureBoot enabled\n", ""), (0, "SecureBoot enabled\n", "")),
    ("disabled", (0, "SecureBoot disabled\n", ""), (1, "SecureBoot disabled\n", "")),
    ("no-efi", (1, "", "EFI variables are not supported on this system\n"),
     (1, "", "EFI variables are not supported on this system\n")),
    ("validation-disabled", (0, "SecureBoot enabled\nSecureBoot validation is disabled in shim\n", ""),
     (0, "SecureBoot enabled\nSecureBoot validation is disabled in shim\n", "")),
    ("setup-mode", (0, "SecureBoot disabled\nPlatform is in Setup Mode\n", ""),
     (1, "SecureBoot disabled\nPlatform is in Setup Mode\n", "")),
    ("unsupported", (255, "", "This system doesn't support Secure Boot\n"),
     (255, "", "This system doesn't support Secure Boot\n")),
])
def test_mokutil_states(state, sb_state, is_sb_enabled):
    """--sb-state exits 0 for enabled and disabled alike (sb_state ignores sb_state_internal's 1); --is-sb-enabled
    exits 1 when disabled; no EFI is stderr and exit(1) before any command; no SecureBoot variable is ret -1."""
    assert mokutil("--sb-state", state=state) == sb_state
    assert mokutil("--is-sb-enabled", state=state) == is_sb_enabled


@pytest.mark.parametrize("state, blocked", [("enabled", True), ("disabled", False), ("no-efi", False),
                                            ("validation-disabled", False), ("setup-mode", False)])
def test_mokutil_output_feeds_the_secure_boot_filter(state, blocked):
    """The collection reads `mokutil --sb-state` stdout (nvidia_secure_boot_problem): only enabled blocks."""
    dummy, stdout, dummy = mokutil("--sb-state", state=state)
    assert bool(nvidia_secure_boot_problem(stdout, "none", "node")) == blocked


def test_mokutil_state_file_and_default(tmp_path):
    """The state file (first word), the environment over it, "disabled" without either; other arguments and
    unknown states are the stand-in's own errors (exit 2)."""
    state_file = tmp_path / "mokutil-sb-state"
    script = tmp_path / "mokutil"
    script.write_text(open(MOKUTIL, encoding="utf-8").read().replace("/etc/standin/mokutil-sb-state", str(state_file)))
    script.chmod(0o755)
    assert mokutil("--sb-state", script=str(script)) == (0, "SecureBoot disabled\n", "")
    state_file.write_text("enabled\n")
    assert mokutil("--sb-state", script=str(script)) == (0, "SecureBoot enabled\n", "")
    state_file.write_text("no-efi  # lab node booted by BIOS\n")
    assert mokutil("--sb-state", script=str(script))[0] == 1
    assert mokutil("--sb-state", state="disabled", script=str(script)) == (0, "SecureBoot disabled\n", "")
    assert mokutil("--list-enrolled", state="enabled")[0] == 2
    code, dummy, err = mokutil("--sb-state", state="on")
    assert code == 2 and "unknown state 'on'" in err
