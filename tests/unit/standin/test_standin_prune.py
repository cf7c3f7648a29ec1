# -*- coding: utf-8 -*-
# Copyright (c) 2026, gpufleet maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Startup prune and blob-name fixing, pinned to ref §3.4 (server/routes.go Serve, images.go PruneLayers)."""
import os
import time

from ansible_collections.gpufleet.ollama.tests.unit.standin.standin_helpers import baked

HEX = "ab" * 32


def blob(instance, name, age_s=0, data=b"x"):
    blobs = instance.models / "blobs"
    blobs.mkdir(parents=True, exist_ok=True)
    path = blobs / name
    path.write_bytes(data)
    when = time.time() - age_s
    os.utime(path, (when, when))
    return path


def test_invalid_names_deleted(server, tmp_path):
    """Files in blobs/ that do not form sha256-<64hex> (partials, stray files) are deleted (PruneLayers)."""
    s = server(start=False)
    partial = blob(s, f"sha256-{HEX}-partial", age_s=7200)
    stray = blob(s, "rsync.tmp", age_s=7200)
    short = blob(s, "sha256-abc", age_s=7200)
    s.start()
    assert not partial.exists() and not stray.exists() and not short.exists()


def test_unreferenced_old_deleted_young_kept(server):
    """v0.21+: unreferenced blobs are deleted unless younger than 1 h (commit 2bb7ea0); referenced ones stay."""
    s = server(start=False)
    s.add_model()
    old = blob(s, f"sha256-{'01' * 32}", age_s=7200)
    young = blob(s, f"sha256-{'02' * 32}", age_s=60)
    young_partial = blob(s, f"sha256-{HEX}-partial", age_s=60)
    s.start()
    assert not old.exists()
    assert young.exists() and young_partial.exists()  # HEAD checks the grace period first
    assert "total unused blobs removed: 1" in s.log()
    status, tags = s.json("GET", "/api/tags")
    assert [m["name"] for m in tags["models"]] == ["tiny:latest"]


def test_no_grace_period_before_v0_21(server, tmp_path):
    """Before v0.21.0 there was no grace period: a young unreferenced blob goes too (ref §3.4, #3669)."""
    s = server(start=False, binary=baked(tmp_path, "0.14.1"))
    young = blob(s, f"sha256-{'02' * 32}", age_s=60)
    young_partial = blob(s, f"sha256-{HEX}-partial", age_s=60)
    s.start()
    assert not young.exists() and not young_partial.exists()


def test_corrupt_manifest_skips_prune(server):
    """A manifest that fails to parse skips the whole prune ("corrupt manifests detected")."""
    s = server(start=False)
    s.add_model()
    bad = s.models / "manifests/registry.ollama.ai/library/broken/latest"
    bad.parent.mkdir(parents=True)
    bad.write_text("{not json")
    old = blob(s, f"sha256-{'01' * 32}", age_s=7200)
    stray = blob(s, "stray", age_s=7200)
    s.start()
    assert old.exists() and stray.exists()
    assert "corrupt manifests detected, skipping prune operation." in s.log()


def test_noprune_parsing(server):
    """OLLAMA_NOPRUNE: values are trimmed of spaces and quotes; unparsable counts as true (envconfig.Bool)."""
    for value, pruned in ((' "1" ', False), ("yes", False), ("false", True), ("", True)):
        s = server(start=False, OLLAMA_NOPRUNE=value)
        stray = blob(s, "stray", age_s=7200)
        s.start()
        assert stray.exists() is not pruned, value
        s.stop()


def test_empty_manifest_dirs_removed(server):
    """PruneDirectory removes empty manifest directories (the manifests root included)."""
    s = server(start=False)
    s.add_model()
    empty = s.models / "manifests/registry.ollama.ai/library/gone"
    empty.mkdir(parents=True)
    s.start()
    assert not empty.exists()
    assert (s.models / "manifests/registry.ollama.ai/library/tiny/latest").exists()


def test_legacy_colon_names_fixed(server):
    """server/fixblobs.go: blobs named sha256:<hex> are renamed to sha256-<hex> at start."""
    s = server(start=False, OLLAMA_NOPRUNE="1")
    legacy = blob(s, f"sha256:{HEX}")
    s.start()
    assert not legacy.exists() and (s.models / "blobs" / f"sha256-{HEX}").exists()
