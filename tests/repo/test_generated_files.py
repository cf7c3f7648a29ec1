# -*- coding: utf-8 -*-
# Copyright (c) 2026, gpufleet maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Checks of the repository (not of the installed collection): generated files and changelog fragments.

- docs/variables.md is what scripts/gen-variable-reference renders from roles/*/meta/argument_specs.yml.
- CHANGELOG.rst and CHANGELOG.md are what scripts/gen-changelog renders with antsibull-changelog.
- `antsibull-changelog lint` accepts every fragment.
- Shipped content changed since the last release comes with at least one fragment.

Regenerate with `scripts/gen-variable-reference` and `scripts/gen-changelog` (from the venv).
"""

from __future__ import annotations

import difflib
import glob
import importlib.machinery
import importlib.util
import os
import shutil
import subprocess
import sys

import pytest
import yaml

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
# What the collection ships and a user sees change (docs and tests excluded).
SHIPPED = ("galaxy.yml", "meta", "playbooks", "plugins", "roles", "site.yml")


def _script(name):
    """Import scripts/<name> (no .py suffix) as a module."""
    path = os.path.join(ROOT, "scripts", name)
    loader = importlib.machinery.SourceFileLoader(name.replace("-", "_"), path)
    spec = importlib.util.spec_from_loader(loader.name, loader)
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module


def _read(path):
    with open(os.path.join(ROOT, path), encoding="utf-8") as f:
        return f.read()


def _assert_same(path, fresh, command):
    committed = _read(path) if os.path.exists(os.path.join(ROOT, path)) else ""
    if committed != fresh:
        diff = "".join(difflib.unified_diff(committed.splitlines(True), fresh.splitlines(True),
                                            path + " (committed)", path + " (fresh render)"))
        pytest.fail("%s is out of date; run %s\n%s" % (path, command, diff))


def _tool(name):
    local = os.path.join(os.path.dirname(sys.executable), name)
    found = local if os.access(local, os.X_OK) else shutil.which(name)
    assert found, "%s is not installed in this environment (pip install antsibull-changelog)" % name
    return found


# ------------------------------------------------------------------------- variable reference

VARREF = _script("gen-variable-reference")


def test_variable_reference_matches_argument_specs():
    _assert_same(VARREF.OUTPUT, VARREF.render(), "scripts/gen-variable-reference")


@pytest.mark.parametrize("spec_path", sorted(glob.glob(os.path.join(ROOT, "roles", "*", "meta", "argument_specs.yml"))))
def test_variable_reference_names_every_option_with_its_default(spec_path):
    role = spec_path.split(os.sep)[-3]
    with open(spec_path, encoding="utf-8") as f:
        options = yaml.safe_load(f)["argument_specs"]["main"].get("options") or {}
    rows = {line.split("|")[1].strip().strip("`"): line for line in VARREF.render().splitlines()
            if line.startswith("| `")}
    assert "## `gpufleet.ollama.%s`" % role in VARREF.render()
    for name, spec in options.items():
        assert name in rows, "%s: option %s is missing from the reference" % (role, name)
        if "default" in spec and spec["default"] not in ("", [], {}):
            shown = rows[name].split("|")[3].strip() if "\\|" not in rows[name] else rows[name]
            assert VARREF._value(spec["default"]).replace("|", "\\|") in shown, (name, shown)


@pytest.mark.parametrize("text, markdown", [
    ("Set O(ollama_version).", "Set `ollama_version`."),
    ("C(per_gpu) or V(single)", "`per_gpu` or `single`"),
    ("E(OLLAMA_HOST) and RV(models[].name)", "`OLLAMA_HOST` and `models[].name`"),
    ("waits with M(gpufleet.ollama.ollama_health)", "waits with `gpufleet.ollama.ollama_health`"),
    ("I(only) B(this)", "*only* **this**"),
    ("see L(the docs,https://docs.ansible.com) or U(https://ollama.com)",
     "see [the docs](https://docs.ansible.com) or <https://ollama.com>"),
    ("C(a|b)", "`a\\|b`"),
    ("C(http(s\\)://) only", "`http(s)://` only"),
    ("C(http(s)://) is markup that ends early", "`http(s`://) is markup that ends early"),
    ("two\n   lines", "two lines"),
    ("no markup: ROOT(x) FOO", "no markup: ROOT(x) FOO"),
])
def test_markup_to_markdown(text, markdown):
    assert VARREF.markup(text) == markdown


@pytest.mark.parametrize("value, spelled", [
    ("per_gpu", "per_gpu"), ("", "''"), ("0", "'0'"), ("on", "'on'"), (True, "true"), (2, "2"),
    ([], "[]"), ({}, "{}"), (["render", "video"], "[render, video]"), (None, "null"),
    ("{{ ansible_host }}", "'{{ ansible_host }}'"),
])
def test_defaults_are_spelled_as_yaml_reads_them(value, spelled):
    assert VARREF._value(value) == spelled
    assert yaml.safe_load(spelled) == value


# ------------------------------------------------------------------------------------ changelog

def test_changelog_fragments_lint_clean():
    proc = subprocess.run([_tool("antsibull-changelog"), "lint"], cwd=ROOT, capture_output=True, text=True, check=False)
    assert proc.returncode == 0 and not proc.stdout.strip(), proc.stdout + proc.stderr


def test_changelog_files_match_fresh_render():
    fresh = _script("gen-changelog").render()
    for name, text in sorted(fresh.items()):
        _assert_same(name, text, "scripts/gen-changelog")


def _git(*args):
    return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, check=False)


def test_shipped_changes_since_the_last_release_have_a_fragment():
    fragments = [f for f in os.listdir(os.path.join(ROOT, "changelogs", "fragments")) if f.endswith((".yml", ".yaml"))]
    with open(os.path.join(ROOT, "changelogs", "changelog.yaml"), encoding="utf-8") as f:
        released = sorted(((yaml.safe_load(f) or {}).get("releases") or {}),
                          key=lambda v: [int(x) if x.isdigit() else x for x in v.replace("-", ".").split(".")])
    if not released:
        assert fragments, "nothing is released yet, so changelogs/fragments/ must describe what will be"
        return
    if not shutil.which("git") or _git("rev-parse", "--git-dir").returncode:
        pytest.skip("not a git checkout: cannot tell what changed since %s" % released[-1])
    tag = next((t for t in (released[-1], "v" + released[-1]) if not _git("rev-parse", "-q", "--verify",
                                                                           "refs/tags/" + t).returncode), None)
    assert tag, "release %s has no git tag (%s or v%s)" % (released[-1], released[-1], released[-1])
    changed = _git("diff", "--name-only", tag, "--", *SHIPPED).stdout.split()
    assert not changed or fragments, (
        "shipped files changed since %s without a changelog fragment in changelogs/fragments/: %s"
        % (tag, ", ".join(changed[:10])))
