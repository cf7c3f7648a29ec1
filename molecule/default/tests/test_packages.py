"""Testinfra checks of the package source and the NVIDIA stack (issue 11) on the converged lab.

Every package a role installed came from the local repository the package_source role published from the files
staged on the controller (tests/integration/stage_packages.py, tests/standin/build_debs.py); the NVIDIA packages are
stand-ins (no kernel module), pinned, held and verified.
"""
import json

import pytest

REPO_SOURCE = "/etc/apt/sources.list.d/gpufleet-packages.sources"


def groups(host):
    return host.ansible.get_variables().get("group_names", [])


def only(host, group):
    if group not in groups(host):
        pytest.skip("not in %s" % group)


def release(host):
    return host.check_output(". /etc/os-release && echo $VERSION_ID")


def lab_pin(host):
    return host.ansible.get_variables()["lab_nvidia_driver"][release(host)]["pin"]


def test_apt_reads_the_local_repository_first(host):
    source = host.file(REPO_SOURCE).content_string
    assert "Trusted: yes" in source and "URIs: file:/var/lib/gpufleet/packages/debian-%s" % release(host) in source
    offline = host.file("/etc/apt/apt.conf.d/01gpufleet-offline").content_string
    assert 'Dir::Etc::SourceList "%s";' % REPO_SOURCE in offline
    sources = host.check_output("LC_ALL=C apt-get indextargets --format '$(SITE)' | sort -u").split()
    assert sources == ["file:/var/lib/gpufleet/packages/debian-%s" % release(host)], sources
    assert host.file("/var/lib/gpufleet/packages/debian-%s/Packages" % release(host)).exists


@pytest.mark.parametrize("package", ["nginx", "libnginx-mod-http-js", "keepalived", "rsync", "zstd", "nftables",
                                     "logrotate", "prometheus-node-exporter", "prometheus-nginx-exporter",
                                     "prometheus"])
def test_every_role_package_came_from_the_local_repository(host, package):
    """The package is installed and its installed version is the local repository's (apt-cache policy lists the
    file: source under the installed version)."""
    wanted = {"nginx", "libnginx-mod-http-js", "keepalived", "logrotate", "prometheus-nginx-exporter"} \
        if "ollama_gateways" in groups(host) else {"rsync", "zstd", "nftables"}
    wanted |= {"prometheus-node-exporter"} | ({"prometheus"} if "monitoring" in groups(host) else set())
    if package not in wanted:
        pytest.skip("%s is not installed on this host's role" % package)
    policy = host.check_output("LC_ALL=C apt-cache policy %s", package)
    lines = policy.split("Version table:")[1].splitlines()
    start = [n for n, line in enumerate(lines) if line.startswith(" *** ")][0]
    sources = []
    for line in lines[start + 1:]:
        if not line.startswith("        "):       # the next version of the table
            break
        sources.append(line.split()[1])
    assert "file:/var/lib/gpufleet/packages/debian-%s" % release(host) in sources, policy


def test_driver_installed_at_the_pin_and_held(host):
    only(host, "gpu_nodes")
    version = lab_pin(host)
    for package in ("nvidia-driver", "nvidia-open-kernel-dkms", "nvidia-smi"):
        assert host.package(package).version == version + "-1", package
    held = host.check_output("apt-mark showhold").split()
    assert {"nvidia-driver", "nvidia-open-kernel-dkms", "nvidia-smi", "nvidia-persistenced"} <= set(held)
    pin = host.file("/etc/apt/preferences.d/gpufleet-nvidia-driver.pref").content_string
    assert "Pin: version %s-*" % version in pin and "Pin-Priority: 1001" in pin
    unattended = host.file("/etc/apt/apt.conf.d/51gpufleet-nvidia-driver").content_string
    assert "Unattended-Upgrade::Package-Blacklist" in unattended and '"nvidia-";' in unattended


def test_nouveau_blacklisted_and_persistenced_running(host):
    only(host, "gpu_nodes")
    assert "blacklist nouveau" in host.file("/etc/modprobe.d/gpufleet-blacklist-nouveau.conf").content_string
    persistenced = host.service("nvidia-persistenced")
    assert persistenced.is_running and persistenced.is_enabled


def test_nvidia_smi_of_the_package_reports_the_pinned_driver(host):
    only(host, "gpu_nodes")
    assert host.check_output("command -v nvidia-smi") == "/usr/bin/nvidia-smi"
    assert host.check_output("nvidia-smi --query-gpu=driver_version --format=csv,noheader").splitlines() == \
        [lab_pin(host)] * 2


def test_docker_runtime_configured_keeping_the_existing_keys(host):
    """lab_prepare.yml wrote a daemon.json with two keys of its own; nvidia-ctk added the runtime beside them."""
    only(host, "gpu_nodes")
    config = json.loads(host.file("/etc/docker/daemon.json").content_string)
    assert config["live-restore"] is True and config["log-driver"] == "journald"
    assert config["runtimes"]["nvidia"]["path"] == "nvidia-container-runtime"
    assert "default-runtime" not in config
    assert host.package("nvidia-container-toolkit").version == host.ansible.get_variables()["lab_nvidia_container_toolkit"]
    assert "nvidia-container-toolkit" in host.check_output("apt-mark showhold").split()


def test_cdi_spec_lists_the_gpus(host):
    only(host, "gpu_nodes")
    listed = host.check_output("nvidia-ctk cdi list")
    assert "nvidia.com/gpu=all" in listed and "nvidia.com/gpu=0" in listed and "nvidia.com/gpu=1" in listed
