# -*- coding: utf-8 -*-
# Copyright (c) 2026, gpufleet maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Checks of execution-environment.yml (docs/awx.md): the build context ansible-builder writes for it.

`ansible-builder create` only writes a Containerfile and a build context (no registry, no container
runtime), so this runs anywhere: from a scratch copy of the EE files with a freshly built collection
tarball beside them, as an operator does before `ansible-builder build`. Then:

- the galaxy stage installs the tarball that the context carries, from the path its requirements name
  (checked by installing that entry offline from the context's _build/ directory, the stage's WORKDIR);
- the EE carries every collection this one needs and the versions/pins the project tests with
  (meta/runtime.yml, pyproject.toml);
- the controller-side Python packages and commands (cryptography, rsync, ssh) reach the builder stage.
"""

from __future__ import annotations

import glob
import os
import re
import shutil
import subprocess
import sys
import tomllib

import pytest
import yaml

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
EE_FILE = "execution-environment.yml"
EE_DIR = "execution-environment"


def _tool(name):
    local = os.path.join(os.path.dirname(sys.executable), name)
    found = local if os.access(local, os.X_OK) else shutil.which(name)
    assert found, "%s is not installed in this environment (pyproject.toml's dev group pins it)" % name
    return found


def _yaml(path):
    with open(os.path.join(ROOT, path), encoding="utf-8") as f:
        return yaml.safe_load(f)


def _dev_pins():
    """{package: version} of the exact pins in pyproject.toml's dev group."""
    with open(os.path.join(ROOT, "pyproject.toml"), "rb") as f:
        dev = tomllib.load(f)["dependency-groups"]["dev"]
    return dict(d.split("==", 1) for d in dev if "==" in d)


def _run(argv, cwd, env=None):
    proc = subprocess.run(argv, cwd=cwd, capture_output=True, text=True, check=False, env=env)
    assert proc.returncode == 0, "%s failed (rc %d):\n%s%s" % (" ".join(argv), proc.returncode, proc.stdout, proc.stderr)
    return proc


@pytest.fixture(scope="module")
def context(tmp_path_factory):
    """The build context of a scratch copy of the EE files plus the collection tarball built beside them."""
    tmp = tmp_path_factory.mktemp("ee")
    src = tmp / "src"
    src.mkdir()
    shutil.copy(os.path.join(ROOT, EE_FILE), src)
    shutil.copytree(os.path.join(ROOT, EE_DIR), src / EE_DIR)
    env = {k: v for k, v in os.environ.items() if not k.startswith("ANSIBLE_")}
    _run([_tool("ansible-galaxy"), "collection", "build", "--output-path", str(src), ROOT], cwd=str(tmp), env=env)
    out = tmp / "context"
    _run([_tool("ansible-builder"), "create", "-f", EE_FILE, "-c", str(out), "--output-filename", "Containerfile"],
         cwd=str(src), env=env)
    return out


def test_containerfile_installs_the_pinned_toolchain(context):
    containerfile = (context / "Containerfile").read_text(encoding="utf-8")
    pins = _dev_pins()
    requires = _yaml("meta/runtime.yml")["requires_ansible"]           # ">=2.19.0,<2.20.0"
    lower, upper = re.match(r">=(\d+\.\d+)(?:\.0)?,<(\d+\.\d+)(?:\.0)?$", requires).groups()
    refs = re.search(r'^ARG ANSIBLE_INSTALL_REFS="(.*)"$', containerfile, re.M)
    assert refs, containerfile
    assert refs.group(1).split() == ["ansible-core>=%s,<%s" % (lower, upper), "ansible-runner==" + pins["ansible-runner"]]
    # the placeholder base image is a build argument the operator sets; nothing names a registry
    assert 'ARG EE_BASE_IMAGE="localhost/' in containerfile
    assert "FROM $EE_BASE_IMAGE AS base" in containerfile
    # ansible-core 2.19 needs Python 3.11+; the EE installs and uses the version the project tests on
    assert 'ARG PYCMD="/usr/bin/python3.11"' in containerfile
    assert "ansible-galaxy collection install $ANSIBLE_GALAXY_CLI_COLLECTION_OPTS -r requirements.yml" in containerfile
    assert "--user-pip=requirements.txt --user-bindep=bindep.txt" in containerfile


def test_context_carries_the_collection_its_requirements_name(context, tmp_path):
    build = context / "_build"
    galaxy = yaml.safe_load((build / "requirements.yml").read_text(encoding="utf-8"))["collections"]
    files = [c for c in galaxy if c.get("type") == "file"]
    assert len(files) == 1, galaxy
    version = _yaml("galaxy.yml")["version"]
    assert files[0]["name"] == "collections/gpufleet-ollama-%s.tar.gz" % version, (
        "execution-environment/requirements.yml names %s, galaxy.yml is at %s" % (files[0]["name"], version))
    assert (build / files[0]["name"]).is_file(), sorted(str(p) for p in build.rglob("*"))
    # What the galaxy stage does with that entry (WORKDIR /build = _build/), offline and without its
    # dependencies (Galaxy is out of reach here): the tarball is a collection gpufleet.ollama.
    only = tmp_path / "requirements.yml"
    only.write_text(yaml.safe_dump({"collections": files}), encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("ANSIBLE_")}
    _run([_tool("ansible-galaxy"), "collection", "install", "--offline", "--no-deps", "-r", str(only),
          "-p", str(tmp_path / "collections")], cwd=str(build), env=env)
    assert glob.glob(str(tmp_path / "collections/ansible_collections/gpufleet/ollama/MANIFEST.json"))


def test_ee_carries_every_collection_the_site_needs(context):
    galaxy = yaml.safe_load((context / "_build" / "requirements.yml").read_text(encoding="utf-8"))["collections"]
    named = {c["name"] for c in galaxy if c.get("type") != "file"}
    needed = set(_yaml("galaxy.yml").get("dependencies") or {})
    needed |= {c["name"] for c in _yaml("requirements.yml")["collections"]}
    # every collection FQCN the roles and playbooks use, besides ansible.builtin and this one
    used = set()
    for path in glob.glob(os.path.join(ROOT, "roles", "**", "*.yml"), recursive=True) + \
            glob.glob(os.path.join(ROOT, "playbooks", "**", "*.yml"), recursive=True):
        with open(path, encoding="utf-8") as f:
            used |= set(re.findall(r"^\s*-?\s*([a-z_]+\.[a-z_]+)\.[a-z_]+:", f.read(), re.M))
    used -= {"ansible.builtin", "gpufleet.ollama"}
    assert used, "no collection FQCN found in roles/ and playbooks/: is the pattern still right?"
    missing = sorted((needed | used) - named)
    assert not missing, "execution-environment/requirements.yml lacks %s" % ", ".join(missing)


def test_builder_stage_gets_the_controller_side_packages(context):
    pins = _dev_pins()
    pip = (context / "_build" / "requirements.txt").read_text(encoding="utf-8")
    assert re.search(r"^cryptography==%s\b" % re.escape(pins["cryptography"]), pip, re.M), pip
    bindep = (context / "_build" / "bindep.txt").read_text(encoding="utf-8")
    for package in ("rsync", "openssh-clients", "openssh-client"):
        assert re.search(r"^%s \[" % re.escape(package), bindep, re.M), (package, bindep)
