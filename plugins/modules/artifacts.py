#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026, gpufleet maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: artifacts
short_description: Check the files the site copies from the controller against one sha256 manifest, or write it
description:
  - The site copies files from the controller to the nodes (Ollama release archives, the staged C(.deb) packages of
    each distribution, model bundles). They live below one directory, O(root), and one manifest lists each with
    its sha256, in the format of C(sha256sum), so C(cd <root> && sha256sum -c SHA256SUMS) checks it too.
  - With O(state=verified) (the default) the module is a preflight that changes nothing; run it on the controller
    (C(delegate_to) V(localhost), C(run_once) V(true)) before any host is changed. It fails listing every problem
    at once, each with its path, what is wrong and how to fix it - a manifest that is missing or has malformed
    lines (named by their line number), a required path the manifest lists nothing for, a listed file that is
    missing or whose sha256 differs, a file on disk that the manifest does not list.
  - With O(state=written) it writes or refreshes the manifest from the files below O(root) - what the staging
    machine runs once it has staged the artifacts (playbook C(gpufleet.ollama.manifest)). The manifest is replaced
    atomically and only when its content changes.
  - The manifest lists every regular file below O(root), sorted by path, with paths relative to O(root) and C(/)
    separators. Hidden files and directories (a name starting with C(.)) and the manifest itself are not listed;
    symbolic links are followed.
  - Hashing multi-GB files is what takes time, so a file's sha256 is kept in O(cache) and taken from there while
    the file's size, modification time (in nanoseconds) and inode stay the same.
version_added: 0.3.0
author:
  - gpufleet maintainers (@gpufleet)
attributes:
  check_mode:
    support: full
    description: >-
      With O(state=written), reports whether the manifest would change and shows the lines in the diff, writing no
      manifest. The hash cache is still updated: it is the controller's cache, not what the module manages.
  diff_mode:
    support: full
    description: With O(state=written), the manifest before and after.
  platform:
    support: full
    platforms: posix
    description: Runs on the controller (or wherever the artifacts are staged); reads the files, runs no program.
options:
  root:
    description: The artifacts directory; it must exist.
    type: path
    required: true
  manifest:
    description:
      - The manifest file. Default C(<root>/SHA256SUMS).
      - With O(state=written) its directory must exist.
    type: path
  state:
    description:
      - V(verified) checks the files against the manifest and changes nothing.
      - V(written) writes the manifest from the files below O(root).
    type: str
    choices: [verified, written]
    default: verified
  require:
    description:
      - Paths relative to O(root), files or directories, that the site needs (V(ollama/0.12.3),
        V(packages/ubuntu-24.04)). Each must have at least one entry in the manifest, at that path or below it.
      - With O(state=verified) and O(require) given, only the entries below these paths are checked (an artifact
        the site does not use does not slow it down), and only these directories are searched for files the
        manifest does not list. Without O(require), every entry is checked and all of O(root) is searched.
      - With O(state=written), the manifest is written only when each of these paths has files.
    type: list
    elements: str
    default: []
  cache:
    description:
      - A JSON file with the sha256 of each file hashed before, per absolute path, valid while the file's size,
        modification time and inode are the same. It is replaced atomically; a cache that cannot be read or written
        is ignored with a warning.
      - An empty string disables the cache, so every file is read (a check that also finds a file changed in
        place with its modification time restored).
    type: path
    default: ~/.cache/gpufleet/sha256.json
  hash:
    description:
      - V(false) checks only that the files are present (the C(sha256sum) format has no sizes), hashing nothing.
      - Only with O(state=verified); O(state=written) always hashes (through O(cache)).
    type: bool
    default: true
notes:
  - Names that C(sha256sum) would escape (with a backslash, a newline or a carriage return) and names that are not
    UTF-8 are refused; rename those files.
seealso:
  - module: gpufleet.ollama.deb_repository
  - module: gpufleet.ollama.ollama_bundle
"""

EXAMPLES = r"""
- name: Check the artifacts this site uses before changing any host
  gpufleet.ollama.artifacts:
    root: "{{ gpufleet_artifacts_dir }}"
    require:
      - "ollama/{{ ollama_version }}"
      - packages/ubuntu-24.04
  delegate_to: localhost
  run_once: true
  register: site_artifacts

- name: Write the manifest on the staging machine, after staging
  gpufleet.ollama.artifacts:
    root: /srv/gpufleet/artifacts
    state: written

- name: Check that every listed file is present, without hashing
  gpufleet.ollama.artifacts:
    root: /srv/gpufleet/artifacts
    hash: false
  delegate_to: localhost
  run_once: true
"""

RETURN = r"""
files:
  description:
    - Path relative to O(root) -> sha256 of each entry checked (O(state=verified), the manifest's values) or written
      (O(state=written), every file).
  returned: always
  type: dict
  sample: {ollama/0.12.3/ollama-linux-amd64.tar.zst: 0f1e5b5bb7b2f1c3a6f0e8a2b9a1d4c7e6f5a4b3c2d1e0f9a8b7c6d5e4f3a2b1}
required:
  description:
    - Each path of O(require) -> the sha256 of its manifest lines (the lines at or below it, sorted by path, joined
      with newlines), a digest of what that file or directory should hold. It changes when a file there changes
      and not when a file elsewhere does, so a role can compare it with what a node last received.
  returned: always
  type: dict
  sample: {packages/ubuntu-24.04: 5d41402abc4b2a76b9719d911017c5925d41402abc4b2a76b9719d911017c592}
problems:
  description: Every problem found, each naming its path, what is wrong and how to fix it (empty on success).
  returned: always
  type: list
  elements: str
hashed:
  description: How many files were read to compute their sha256.
  returned: always
  type: int
cached:
  description: >-
    How many sha256 were taken from O(cache) instead (the file's size, modification time and inode unchanged).
  returned: always
  type: int
"""

import os

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.gpufleet.ollama.plugins.module_utils import _artifacts as manifest_utils
from ansible_collections.gpufleet.ollama.plugins.module_utils._artifacts import ArtifactsError, HashCache
from ansible_collections.gpufleet.ollama.plugins.module_utils._files import write_text_atomic

SHOWN = 25      # problems spelled out in the message; `problems` holds them all
REFRESH = ('refresh the manifest on the staging machine: ansible-playbook gpufleet.ollama.manifest '
           '-e gpufleet_artifacts_dir=%s (this module with state=written)')


def read_manifest(path):
    """The manifest's text, None when there is none; ArtifactsError when it cannot be read."""
    try:
        with open(path, 'rb') as f:
            data = f.read()
    except FileNotFoundError:
        return None
    except OSError as e:
        raise ArtifactsError('cannot read the manifest: %s' % (e.strerror or e))
    try:
        return data.decode('utf-8')
    except UnicodeDecodeError as e:
        raise ArtifactsError('the manifest is not UTF-8 text (byte %d)' % e.start)


class Run:
    def __init__(self, module):
        self.module = module
        params = module.params
        self.root = os.path.abspath(params['root'])
        self.manifest = os.path.abspath(params['manifest'] or os.path.join(self.root, 'SHA256SUMS'))
        self.cache = HashCache(os.path.abspath(params['cache']) if params['cache'] else None)
        self.refresh = REFRESH % self.root
        self.problems = []
        self.exclude = set()        # the manifest and the cache, when they are below the root
        for path in (self.manifest, self.cache.path):
            if path and path.startswith(os.path.join(self.root, '')):
                self.exclude.add(os.path.relpath(path, self.root).replace(os.sep, '/'))
        try:
            self.require = [(path, manifest_utils.normalize_require(path)) for path in params['require']]
        except ArtifactsError as e:
            self.fail(str(e))

    def local(self, relpath):
        return os.path.join(self.root, *relpath.split('/')) if relpath else self.root

    def fail(self, msg, **result):
        for warning in self.cache.warnings:
            self.module.warn(warning)
        self.module.fail_json(msg='artifacts: %s: %s' % (self.manifest, msg), **result)

    def odd(self, relpaths):
        for relpath in relpaths:
            self.problems.append('%s: not a regular file (a broken symbolic link, a socket or a device; remove it '
                                 'or re-stage it)' % relpath)

    def unlisted(self, listed, prefixes):
        """Problems for what is on disk at or below the prefixes and not listed in the manifest."""
        files, odd = set(), set()
        for prefix in prefixes:
            found, strange = manifest_utils.walk(self.local(prefix), self.root, self.exclude)
            files.update(found)
            odd.update(strange)
        for relpath in sorted(files - set(listed)):
            why = manifest_utils.path_problem(relpath)
            self.problems.append('%s: %s' % (relpath, why) if why else
                                 '%s: on disk but not in the manifest (remove it, or refresh the manifest)' % relpath)
        self.odd(sorted(odd))

    def sha256(self, relpath):
        try:
            return self.cache.sha256(self.local(relpath))
        except ArtifactsError as e:
            self.problems.append('%s: %s (fix its permissions, or re-stage it)' % (relpath, e))
            return None

    def required_missing(self, entries):
        for given, prefix in self.require:
            if not any(manifest_utils.under(relpath, prefix) for relpath in entries):
                self.problems.append(
                    '%s: required, but the manifest lists nothing at or below it (%s)'
                    % (given, 'it is on disk: refresh the manifest' if os.path.exists(self.local(prefix))
                       else 'it is not on disk either: stage it, then refresh the manifest'))

    def verified(self):
        try:
            text = read_manifest(self.manifest)
        except ArtifactsError as e:
            self.fail('%s (fix its permissions, or %s)' % (e, self.refresh), **self.result({}, {}))
        if text is None:
            self.fail('the manifest is missing (stage the artifacts below %s, then %s)' % (self.root, self.refresh),
                      **self.result({}, {}))
        entries, self.problems = manifest_utils.parse(text)
        self.required_missing(entries)
        prefixes = [prefix for dummy, prefix in self.require] or ['']
        checked = {relpath: sha for relpath, sha in entries.items()
                   if any(manifest_utils.under(relpath, prefix) for prefix in prefixes)}
        for relpath in sorted(checked):
            path = self.local(relpath)
            if not os.path.exists(path):
                self.problems.append('%s: listed in the manifest but missing on disk (re-stage it)' % relpath)
            elif not os.path.isfile(path):
                self.problems.append('%s: listed in the manifest but not a regular file on disk (re-stage it)'
                                     % relpath)
            elif self.module.params['hash']:
                actual = self.sha256(relpath)
                if actual and actual != checked[relpath]:
                    self.problems.append('%s: sha256 %s, the manifest says %s (re-stage it, or refresh the manifest '
                                         'if this file is the one wanted)' % (relpath, actual, checked[relpath]))
        self.unlisted(entries, prefixes)
        self.finish(checked, entries, changed=False)

    def written(self):
        if not self.module.params['hash']:
            self.module.warn('artifacts: hash=false is ignored with state=written: the manifest needs every sha256')
        try:
            before = read_manifest(self.manifest)
        except ArtifactsError as e:
            before = None
            self.module.warn('artifacts: %s: %s; writing it anew' % (self.manifest, e))
        if not os.path.isdir(os.path.dirname(self.manifest)):
            self.fail('the directory of the manifest does not exist (create it, or give another manifest path)')
        files, odd = manifest_utils.walk(self.root, self.root, self.exclude)
        self.odd(odd)
        entries = {}
        for relpath in files:
            why = manifest_utils.path_problem(relpath)
            if why:
                self.problems.append('%s: %s' % (relpath, why))
                continue
            sha = self.sha256(relpath)
            if sha:
                entries[relpath] = sha
        self.required_missing(entries)
        after = manifest_utils.text(entries)
        changed = after != before and not self.problems
        if changed and not self.module.check_mode:
            try:
                write_text_atomic(self.manifest, after)
            except OSError as e:
                self.problems.append('cannot write the manifest: %s (fix the permissions of %s)'
                                     % (e.strerror or e, os.path.dirname(self.manifest)))
        diff = None
        if self.module._diff:
            diff = dict(before=before or '', after=after, before_header=self.manifest, after_header=self.manifest)
        self.finish(entries, entries, changed=changed, diff=diff)

    def result(self, checked, entries):
        return dict(files=checked,
                    required={given: manifest_utils.digest(entries, prefix) for given, prefix in self.require},
                    problems=self.problems, hashed=self.cache.hashed, cached=self.cache.cached)

    def finish(self, checked, entries, changed, diff=None):
        self.cache.prune(self.root)
        self.cache.save()
        result = self.result(checked, entries)
        if self.problems:
            shown = self.problems[:SHOWN]
            more = len(self.problems) - len(shown)
            self.fail('%d problem%s below %s: %s%s. Re-stage what is missing or differs; when the files on disk are '
                      'the ones wanted, %s.' % (
                          len(self.problems), '' if len(self.problems) == 1 else 's', self.root, '; '.join(shown),
                          '; and %d more (see problems)' % more if more else '', self.refresh), **result)
        for warning in self.cache.warnings:
            self.module.warn(warning)
        if diff is not None:
            result['diff'] = diff
        self.module.exit_json(changed=changed, **result)


def main():
    module = AnsibleModule(
        argument_spec=dict(
            root=dict(type='path', required=True),
            manifest=dict(type='path'),
            state=dict(type='str', default='verified', choices=['verified', 'written']),
            require=dict(type='list', elements='str', default=[]),
            cache=dict(type='path', default='~/.cache/gpufleet/sha256.json'),
            hash=dict(type='bool', default=True),
        ),
        supports_check_mode=True,
    )
    run = Run(module)
    if not os.path.isdir(run.root):
        run.fail('the artifacts root %s is not a directory (stage the artifacts there first)' % run.root)
    if module.params['state'] == 'written':
        run.written()
    else:
        run.verified()


if __name__ == '__main__':
    main()
