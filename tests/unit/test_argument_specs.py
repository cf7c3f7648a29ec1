"""Every role's defaults/main.yml and meta/argument_specs.yml describe the same variables.

The argument spec is the role's typed interface (checked before any task runs); the defaults
are what it does when the operator says nothing. A key in one and not the other is drift.
"""
import glob
import os

import pytest
import yaml

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
ROLES = sorted(os.path.basename(os.path.dirname(p)) for p in glob.glob(os.path.join(ROOT, "roles", "*", "meta")))


def _load(role, path):
    full = os.path.join(ROOT, "roles", role, path)
    if not os.path.exists(full):
        return None
    with open(full, encoding="utf-8") as f:
        return yaml.safe_load(f) or {}


def test_there_are_roles():
    assert ROLES, "no role under roles/ has a meta/ directory"


@pytest.mark.parametrize("role", ROLES)
def test_defaults_match_argument_specs(role):
    specs = _load(role, "meta/argument_specs.yml")
    assert specs is not None, "roles/%s/meta/argument_specs.yml is missing" % role
    options = specs["argument_specs"]["main"].get("options") or {}
    defaults = _load(role, "defaults/main.yml") or {}
    only_defaults = sorted(set(defaults) - set(options))
    only_specs = sorted(k for k, v in options.items() if k not in defaults and not v.get("required"))
    assert not only_defaults, "roles/%s: in defaults/main.yml but not in argument_specs: %s" % (role, only_defaults)
    assert not only_specs, "roles/%s: optional in argument_specs but missing from defaults/main.yml: %s" % (role, only_specs)


@pytest.mark.parametrize("role", ROLES)
def test_every_public_variable_carries_the_role_prefix(role):
    defaults = _load(role, "defaults/main.yml") or {}
    prefix = role.lstrip("_")
    # A role's one main list may carry the role's own name (ollama_models: the models to place).
    bad = sorted(k for k in defaults if not k.startswith(prefix + "_") and k != prefix)
    assert not bad, "roles/%s: variables without the '%s_' prefix: %s" % (role, role, bad)


@pytest.mark.parametrize("role", ROLES)
def test_every_option_is_documented(role):
    options = (_load(role, "meta/argument_specs.yml") or {})["argument_specs"]["main"].get("options") or {}
    undocumented = sorted(k for k, v in options.items() if not v.get("description"))
    assert not undocumented, "roles/%s: options without a description: %s" % (role, undocumented)
