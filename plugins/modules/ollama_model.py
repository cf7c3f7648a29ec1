#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026, gpufleet maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: ollama_model
short_description: Create or remove a model on an Ollama instance, from a bundle, a Modelfile or another model
description:
  - Makes model O(name) present on one Ollama instance, or removes it, like C(ollama create) and C(ollama rm)
    but without the CLI, through the HTTP API and the model store.
  - O(source=bundle) moves a model that was copied to the node (rsync) into the store in O(models_dir) and checks
    that the running server lists it with the expected digest. The server picks the model up on its next
    C(GET /api/tags); no restart and no C(ollama create) is needed.
  - O(source=modelfile) reads a Modelfile on the node. When its C(FROM) names a file (a GGUF), the file is hashed
    once (the digest is kept in O(cache_dir)), hard-linked into the store when O(models_dir) is on its filesystem or
    else uploaded with C(POST /api/blobs), and the model is created with C(POST /api/create).
    When C(FROM) names no existing file it is a model name, as with O(source=from).
  - O(source=from) creates a variant of the model O(parent), which must already be on the instance; the new model
    reuses the parent's layers, so no weights are copied.
  - Creating is deterministic, so a model made from the same input keeps its digest. For O(source=modelfile) and
    O(source=from) the module keeps a record per model in O(cache_dir) (a fingerprint of the create request and the
    digest it gave); when the instance still lists the model with that digest and the input is the same,
    nothing is sent and no file is read.
  - O(state=absent) deletes the model with C(DELETE /api/delete); the server removes the blobs no other model uses.
version_added: 0.1.0
author:
  - gpufleet maintainers (@gpufleet)
extends_documentation_fragment:
  - gpufleet.ollama.ollama
attributes:
  action_group:
    description: Use C(group/gpufleet.ollama.ollama) in C(module_defaults) to set defaults for this module.
    support: full
    membership:
      - gpufleet.ollama.ollama
  check_mode:
    support: full
    description:
      - Nothing is written, linked, uploaded, created or deleted. The model list of the instance is read and a
        Modelfile is parsed; a referenced file whose digest is not in O(cache_dir) yet is hashed (that reads it all).
      - A model that would be created is reported as changed, with the digest V(unknown) in the diff.
  diff_mode:
    support: full
    description: The digest and size of the model before and after, and its layers when O(models_dir) is set.
options:
  name:
    description:
      - Name of the model, for example V(qwen2:7b) or V(myorg/assistant:v2). Without a tag V(latest) is meant.
      - Compared the way Ollama looks names up, so V(Qwen2:7B) is the same model as V(qwen2:7b).
    type: str
    required: true
  state:
    description:
      - V(present) makes the model exist as O(source) describes it; V(absent) deletes it.
    type: str
    choices: [present, absent]
    default: present
  source:
    description:
      - Where the model comes from. Required with O(state=present).
      - V(bundle), a model copied to the node as a bundle (its files in O(incoming), its index in O(bundle)).
      - V(modelfile), the Modelfile O(modelfile) on the node.
      - V(from), the model O(parent) of the same instance.
    type: str
    choices: [bundle, modelfile, from]
  bundle:
    description:
      - The index of the bundle, for O(source=bundle); required there. It names the model, the relative path and
        the sha256 of its manifest, and the digest and size of each blob, as the bundle's index file holds them.
      - Its model must be O(name).
    type: dict
  models_dir:
    description:
      - The model store of the instance (its E(OLLAMA_MODELS)), for example C(/usr/share/ollama/.ollama/models).
      - Required for O(source=bundle).
      - With O(source=modelfile), a referenced file that the instance does not have yet and that lies on the
        filesystem of O(models_dir) is hard-linked into C(blobs/) instead of uploaded, so it takes no extra disk space.
        That file and the blob are then one file, which gets the mode C(0644) and the owner O(owner):O(group).
      - When set, the diff lists the layers of the model, read from its manifest.
    type: path
  incoming:
    description:
      - Directory where the files of the bundle were received, laid out like a store
        (C(blobs/sha256-<hex>), C(manifests/...)), on the filesystem of O(models_dir); they are verified and moved.
      - Defaults to C(<models_dir>/.gpufleet-incoming).
    type: path
  owner:
    description: User that owns the files moved or linked into the store, the user the Ollama service runs as.
    type: str
    default: ollama
  group:
    description: Group of the files moved or linked into the store.
    type: str
    default: ollama
  modelfile:
    description:
      - Path of the Modelfile on the node, for O(source=modelfile); required there.
      - A C(FROM), C(ADAPTER) or C(DRAFT) path is relative to the directory of the Modelfile. A C(FROM) that names
        no existing file or directory is a model name, which must be on the instance already.
      - The commands are those of C(ollama create) (C(FROM), C(PARAMETER), C(TEMPLATE), C(SYSTEM), C(ADAPTER),
        C(LICENSE), C(MESSAGE), C(REQUIRES), C(DRAFT), C(RENDERER), C(PARSER)); a line that is not one fails
        the module with its line number.
    type: path
  parent:
    description:
      - The model to derive from, for O(source=from); required there. It must be on the instance already
        (this module never pulls from a registry).
    type: str
  template:
    description:
      - Prompt template (Go template syntax) of the model, replacing the parent's or the Modelfile's C(TEMPLATE).
    type: str
  system:
    description: System prompt of the model, replacing the parent's or the Modelfile's C(SYSTEM).
    type: str
  parameters:
    description:
      - 'Parameters of the model, for example V({"num_ctx": 8192, "temperature": 0.2, "stop": ["<|im_end|>"]}).'
      - Typed as Ollama types C(PARAMETER) lines (integers, floats, booleans; V(stop) takes a list of strings);
        an unknown name or a value of the wrong type fails the module.
      - They are added to the parent's and the Modelfile's parameters and replace those of the same name.
    type: dict
  license:
    description: License texts of the model, replacing the Modelfile's C(LICENSE) lines.
    type: list
    elements: str
  messages:
    description: Messages the model starts every chat with, replacing the Modelfile's C(MESSAGE) lines.
    type: list
    elements: dict
    suboptions:
      role:
        description: Who speaks.
        type: str
        choices: [system, user, assistant]
        required: true
      content:
        description: The text.
        type: str
        required: true
  cache_dir:
    description:
      - Directory on the node where the module keeps the digests of the files it hashed (C(digests.json), keyed by
        path, device, inode, size and modification time) and one record per created model (C(models/)).
      - Losing it costs one hash of each file and one create request per model on the next run, nothing else.
    type: path
    default: /var/lib/gpufleet/ollama_model
  create_timeout:
    description:
      - Timeout in seconds of the requests that upload a blob or create the model. The server answers a create
        only when it is done, and from Ollama 0.30 that includes a full copy of a GGUF; O(timeout) applies to the
        other requests.
    type: float
    default: 1800
notes:
  - The module reads and writes files on the host it runs on, so run it on the node of the instance.
  - The server must be running, also for O(source=bundle), whose result is checked through C(GET /api/tags).
  - From Ollama 0.21 the server updates the modification time of a blob it creates a model from, so a hard-linked
    file gets a new modification time when a model is created from it; the module then keeps the file's digest.
seealso:
  - module: gpufleet.ollama.ollama_model_info
"""

EXAMPLES = r"""
- name: Move a model received with rsync into the store
  gpufleet.ollama.ollama_model:
    name: qwen2:7b
    source: bundle
    bundle: "{{ ollama_bundle_index }}"   # the bundle's index file, e.g. read with ansible.builtin.slurp | from_json
    models_dir: /usr/share/ollama/.ollama/models
    incoming: /usr/share/ollama/.ollama/models/.gpufleet-incoming

- name: Create a model from a GGUF next to its Modelfile (hard-linked into the store, hashed once)
  gpufleet.ollama.ollama_model:
    name: myorg/assistant:v2
    source: modelfile
    modelfile: /srv/ollama-build/assistant/Modelfile
    models_dir: /usr/share/ollama/.ollama/models

- name: Derive a variant with a system prompt and a bigger context
  gpufleet.ollama.ollama_model:
    name: qwen2:7b-support
    source: from
    parent: qwen2:7b
    system: You answer questions about our GPU fleet, briefly.
    parameters:
      num_ctx: 8192
      temperature: 0.2
      stop: ["<|im_end|>"]
    messages:
      - role: user
        content: Who are you?
      - role: assistant
        content: The fleet's support assistant.

- name: Remove a model from the instance behind the TLS gateway
  gpufleet.ollama.ollama_model:
    url: https://ollama.example.com
    ca_path: /etc/ssl/certs/gpufleet-ca.pem
    api_key: "{{ vault_ollama_api_key }}"
    name: qwen2:7b-support
    state: absent
"""

RETURN = r"""
name:
  description: Display name of the model, with its tag.
  returned: always
  type: str
  sample: qwen2:7b-support
digest:
  description:
    - Digest of the model after the task (the sha256 of its manifest, as C(GET /api/tags) shows it).
    - V(null) when the model is absent, or in check mode when it would be created.
  returned: always
  type: str
  sample: 6a0746a1ec1aef3e7ec53868f220ff6e389f6f8ef87a01d77c96807de94ca2aa
before_digest:
  description: Digest of the model before the task, V(null) when it was not listed.
  returned: always
  type: str
  sample: null
size:
  description: Size of the model in bytes after the task (the sum of the sizes in its manifest), V(null) when absent.
  returned: always
  type: int
  sample: 4431388192
uploaded:
  description: Digests of the blobs sent to the server with C(POST /api/blobs).
  returned: always
  type: list
  elements: str
  sample: ["sha256:43f7a214e5329f672bb05404cfba1913cbb70fdaa1a17497224e1925046b0ed5"]
linked:
  description: Digests of the blobs hard-linked into C(<models_dir>/blobs) instead of uploaded.
  returned: always
  type: list
  elements: str
  sample: []
activated:
  description: What moving the bundle into the store did, for O(source=bundle); V(null) when it was in place already.
  returned: when O(source=bundle)
  type: dict
  contains:
    changed:
      description: Whether a blob or the manifest was moved.
      type: bool
    moved:
      description: Digests of the blobs moved into the store.
      type: list
      elements: str
    verified:
      description: Digests of the received blobs whose sha256 was checked.
      type: list
      elements: str
    manifest_written:
      description: Whether the manifest was written.
      type: bool
  sample:
    changed: true
    moved: ["sha256:43f7a214e5329f672bb05404cfba1913cbb70fdaa1a17497224e1925046b0ed5"]
    verified: ["sha256:43f7a214e5329f672bb05404cfba1913cbb70fdaa1a17497224e1925046b0ed5"]
    manifest_written: true
"""

import grp
import hashlib
import json
import os
import pwd
import urllib.parse

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.common.text.converters import to_text

from ansible_collections.gpufleet.ollama.plugins.module_utils._modelfile import (
    DigestCache,
    build_request,
    expand_path,
    format_parameters,
    read_modelfile,
    write_json_atomic,
)
from ansible_collections.gpufleet.ollama.plugins.module_utils._ollama import (
    OLLAMA_COMMON_ARGS,
    OLLAMA_COMMON_REQUIRED_BY,
    OllamaClient,
    OllamaError,
)
from ansible_collections.gpufleet.ollama.plugins.module_utils._names import blob_path as _blob_path
from ansible_collections.gpufleet.ollama.plugins.module_utils._names import normalize_model_name, same_model
from ansible_collections.gpufleet.ollama.plugins.module_utils._store import (
    StoreError,
    activate,
    check_index,
    model_index,
)

# the options that describe the model's content besides its weights
OVERRIDES = ('template', 'system', 'parameters', 'license', 'messages')
INCOMING_DEFAULT = '.gpufleet-incoming'


def _fingerprint(data):
    """sha256 of the canonical JSON of ``data``."""
    return hashlib.sha256(json.dumps(data, sort_keys=True, separators=(',', ':')).encode()).hexdigest()


def _same_file(a, b):
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


class ModelRecords:
    """``<cache_dir>/models/<name>.json``: the fingerprint of the last create request of a model and its digest."""

    def __init__(self, cache_dir):
        self.directory = os.path.join(cache_dir, 'models')

    def path(self, name):
        return os.path.join(self.directory, urllib.parse.quote(normalize_model_name(name).lower(), safe='') + '.json')

    def get(self, name):
        try:
            with open(self.path(name), 'rb') as f:
                record = json.loads(to_text(f.read()))
        except (OSError, ValueError):
            return None
        return record if isinstance(record, dict) else None

    def put(self, name, request, digest):
        write_json_atomic(self.path(name), dict(request=request, digest=digest))

    def drop(self, name):
        try:
            os.remove(self.path(name))
        except FileNotFoundError:
            pass


class ModelManager:
    def __init__(self, module):
        self.module = module
        self.params = p = module.params
        self.name = normalize_model_name(p['name'])
        self.client = OllamaClient.from_module(module)
        self.models_dir = p['models_dir']
        self.records = ModelRecords(p['cache_dir'])
        self.result = dict(changed=False, name=self.name, digest=None, before_digest=None, size=None,
                           uploaded=[], linked=[])
        self.before = self.before_state = None
        self._ids = None

    # -- helpers ---------------------------------------------------------------

    def fail(self, msg):
        self.module.fail_json(msg=msg, **self.result)

    def fail_api(self, doing, error):
        if error.unreachable and self.module.check_mode:
            # check mode on a node whose instances do not run yet (a fresh node): nothing to ask, so the model
            # would be created by a real run (and there is nothing to remove)
            self.module.warn('check mode: the Ollama instance at %s is not answering, so model %s is assumed %s'
                             % (self.client.base_url, self.name,
                                'absent' if self.params['state'] == 'present' else 'gone'))
            self.result['changed'] = self.params['state'] == 'present'
            self.module.exit_json(**self.result)
        if error.unreachable:
            self.fail('Could not %s: the Ollama instance at %s is not answering (is the service running?): %s'
                      % (doing, self.client.base_url, error))
        self.fail('Could not %s on the Ollama instance at %s: %s' % (doing, self.client.base_url, error))

    def tags(self):
        """The models of ``GET /api/tags``."""
        try:
            return self.client.list_models()
        except OllamaError as e:
            self.fail_api('list the models to manage model %s' % self.name, e)

    @staticmethod
    def find(models, name):
        """The entry of model ``name`` in a /api/tags list, or None."""
        return next((m for m in models if same_model(m.get('name') or m.get('model') or '', name)), None)

    def begin(self, models=None):
        """Note the model as it is before the task (from ``models``, else from a fresh /api/tags)."""
        self.before = self.find(self.tags() if models is None else models, self.name)
        self.before_state = self.state(self.before) if self.module._diff else None
        self.result['before_digest'] = self.before and self.before.get('digest')

    def owner_ids(self):
        """``(uid, gid)`` of the options owner and group."""
        if self._ids is None:
            try:
                uid = pwd.getpwnam(self.params['owner']).pw_uid
            except KeyError:
                self.fail('owner %s does not exist on this host; set owner to the user the Ollama service runs as'
                          % self.params['owner'])
            try:
                gid = grp.getgrnam(self.params['group']).gr_gid
            except KeyError:
                self.fail('group %s does not exist on this host; set group to the group of the Ollama service'
                          % self.params['group'])
            self._ids = (uid, gid)
        return self._ids

    def state(self, entry):
        """The diff side of a /api/tags entry (None: absent); the layers come from the store."""
        state = dict(digest=entry and entry.get('digest'), size=entry and entry.get('size'))
        if self.models_dir:
            try:
                state['layers'] = model_index(self.models_dir, self.name)['blobs'] if entry else []
            except StoreError:
                state['layers'] = []
        return state

    def finish(self, after):
        """Exit with the result; ``after`` is the /api/tags entry, None (absent) or 'unknown' (check mode)."""
        if after != 'unknown':
            self.result.update(digest=after and after.get('digest'), size=after and after.get('size'))
        if self.module._diff:
            after_state = dict(digest='unknown', size='unknown') if after == 'unknown' else self.state(after)
            self.result['diff'] = dict(before=self.before_state, after=after_state)
        self.module.exit_json(**self.result)

    # -- state=absent ----------------------------------------------------------

    def absent(self):
        self.begin()
        if self.module.check_mode:
            self.result['changed'] = self.before is not None
        else:
            try:
                self.result['changed'] = self.client.delete_model(self.name)
            except OllamaError as e:
                self.fail_api('delete model %s' % self.name, e)
            try:
                self.records.drop(self.name)
            except OSError as e:
                self.module.warn('cannot remove the record of model %s from cache_dir %s: %s'
                                 % (self.name, self.params['cache_dir'], e.strerror or e))
        self.finish(None)

    # -- source=bundle ---------------------------------------------------------

    def bundle(self):
        p = self.params
        try:
            index = check_index(p['bundle'], 'the option bundle')
        except StoreError as e:
            self.fail(str(e))
        if not same_model(index['name'], self.name):
            self.fail('the option bundle describes model %s, not %s (name)' % (index['name'], self.name))
        self.begin()
        try:
            in_store = model_index(self.models_dir, self.name)['digest']
        except StoreError:
            in_store = None
        self.result['activated'] = None
        if in_store != index['digest']:   # else nothing is read: the manifest in place has the digest
            incoming = p['incoming'] or os.path.join(self.models_dir, INCOMING_DEFAULT)
            uid, gid = self.owner_ids()
            try:
                activated = activate(self.models_dir, incoming, index, uid=uid, gid=gid,
                                     check_mode=self.module.check_mode)
            except StoreError as e:
                self.fail('Could not move model %s into the store %s: %s' % (self.name, self.models_dir, e))
            self.result.update(activated=activated, changed=activated['changed'])
            if self.module.check_mode and activated['changed']:
                self.finish('unknown')
        after = self.find(self.tags(), self.name)
        if not after or after.get('digest') != index['digest']:
            self.fail('model %s is in the store %s with the digest %s, but the Ollama instance at %s %s; is models_dir '
                      'the store of that instance, and can its user read every file (the config blob above all)?'
                      % (self.name, self.models_dir, index['digest'], self.client.base_url,
                         'lists it with the digest %s' % after['digest'] if after else 'does not list it'))
        self.finish(after)

    # -- source=modelfile / source=from ----------------------------------------

    def request(self, digests):
        """The create request the options describe, and ``{field: {name: path}}`` of the files it references."""
        p = self.params
        if p['source'] == 'from':
            request, files = {'from': p['parent']}, {}
        else:
            modelfile = os.path.abspath(p['modelfile'])
            try:
                request, files, warnings = build_request(read_modelfile(modelfile), os.path.dirname(modelfile),
                                                         modelfile)
            except OllamaError as e:
                self.fail('Could not create model %s: %s' % (self.name, e))
            for warning in warnings:
                self.module.warn(warning)
        for key in ('template', 'system'):
            if p[key] is not None:
                request[key] = p[key]
        for key in ('license', 'messages'):
            if p[key]:
                request[key] = p[key]
        if p['parameters']:
            try:
                request['parameters'] = dict(request.get('parameters') or {}, **format_parameters(p['parameters']))
            except ValueError as e:
                self.fail('Could not create model %s: the option parameters: %s' % (self.name, e))
        for field, named in files.items():
            request[field] = {}
            for key, path in named.items():
                try:
                    request[field][key] = 'sha256:' + digests.digest(path)
                except (OSError, OllamaError) as e:
                    self.fail('Could not create model %s: cannot read %s: %s'
                              % (self.name, path, getattr(e, 'strerror', None) or e))
        request.update(model=self.name, stream=False)
        return request, files

    def link_blob(self, digest, path):
        """Hard-link ``path`` into the store as the blob ``digest`` when both are on one filesystem; True if done."""
        blobs = os.path.join(self.models_dir, 'blobs')
        if not os.path.isdir(blobs) or os.stat(path).st_dev != os.stat(blobs).st_dev:
            return False
        target = _blob_path(self.models_dir, digest)
        uid, gid = self.owner_ids()
        try:
            os.link(path, target)
        except FileExistsError:
            return False   # not ours to change; the upload tells the server's view
        except OSError as e:
            self.module.warn('cannot hard-link %s to %s (%s); uploading it instead' % (path, target, e.strerror or e))
            return False
        try:
            os.chmod(target, 0o644)
            os.chown(target, uid, gid)
        except OSError as e:
            self.fail('Could not create model %s: cannot give %s (hard-linked to %s) the mode 0644 and the owner %s:%s: %s'
                      % (self.name, target, path, self.params['owner'], self.params['group'], e.strerror or e))
        if not self.client.blob_exists(digest):
            self.fail('Could not create model %s: %s was hard-linked to %s, but the Ollama instance at %s does not '
                      'see the blob %s; is models_dir the store of that instance?'
                      % (self.name, path, target, self.client.base_url, digest))
        return True

    def place_blob(self, digest, path):
        """Make the server have the blob of the file at ``path``: nothing, a hard link into the store, or an upload."""
        if self.client.blob_exists(digest):
            return
        if self.models_dir and self.link_blob(digest, path):
            self.result['linked'].append(digest)
            return
        self.client.upload_blob(digest, path, timeout=self.params['create_timeout'])
        self.result['uploaded'].append(digest)

    def send(self, request, files):
        """Place the blobs of the files, create the model; return its new /api/tags entry."""
        try:
            for field, named in files.items():
                for key, path in named.items():
                    self.place_blob(request[field][key], path)
            self.client.create(request, timeout=self.params['create_timeout'])
        except OllamaError as e:
            self.fail_api('create model %s' % self.name, e)
        except OSError as e:
            self.fail('Could not create model %s: %s: %s' % (self.name, e.filename, e.strerror or e))
        after = self.find(self.tags(), self.name)
        if after is None:
            self.fail('Could not create model %s: the Ollama instance at %s answered the create with success but does '
                      'not list the model' % (self.name, self.client.base_url))
        return after

    def save(self, digests, files, request, record=None):
        """Write the digest cache and the model's record (when given) to cache_dir; a failure is only a warning.

        A file that is one with its blob got a new mtime from the server (v0.21+ touches the blobs a model is
        created from): its digest is kept for that mtime.
        """
        try:
            if self.models_dir:
                for field, named in files.items():
                    for key, path in named.items():
                        digest = request[field][key]
                        if _same_file(path, _blob_path(self.models_dir, digest)):
                            digests.remember(path, digest.split(':', 1)[1])
            digests.save()
            if record:
                self.records.put(self.name, *record)
        except OSError as e:
            self.module.warn('cannot write to cache_dir %s (%s); the next run will hash the files and send the create '
                             'request again' % (self.params['cache_dir'], e.strerror or e))

    def create(self):
        p = self.params
        digests = DigestCache(p['cache_dir'])
        request, files = self.request(digests)
        models = self.tags()
        self.begin(models)
        parent_digest = None
        if 'from' in request:
            parent = self.find(models, request['from'])
            if parent is None:
                hint = ''
                if p['source'] == 'modelfile':   # a mistyped path is a model name to Ollama
                    hint = ' (FROM %s names no file %s either)' % (
                        request['from'], expand_path(request['from'], os.path.dirname(os.path.abspath(p['modelfile']))))
                self.fail('Could not create model %s: parent model %s is not on this instance (%s); place it first%s'
                          % (self.name, request['from'], self.client.base_url, hint))
            parent_digest = parent.get('digest')
        # names compare without case, as Ollama looks them up
        fingerprint = _fingerprint(dict(request=dict(request, model=self.name.lower()), parent=parent_digest))
        unchanged = bool(self.before) and \
            self.records.get(self.name) == dict(request=fingerprint, digest=self.before.get('digest'))
        if self.module.check_mode:
            self.result['changed'] = not unchanged
            self.finish(self.before if unchanged else 'unknown')
        if unchanged:
            self.save(digests, files, request)
            self.finish(self.before)
        after = self.send(request, files)
        self.result['changed'] = not self.before or self.before.get('digest') != after.get('digest')
        self.save(digests, files, request, record=(fingerprint, after.get('digest')))
        self.finish(after)

    def run(self):
        p = self.params
        if p['state'] == 'absent':
            self.absent()
        given = [key for key in OVERRIDES if p[key] is not None]
        if p['source'] == 'bundle' and given:
            self.fail('%s cannot be used with source=bundle: a bundle is a finished model' % ', '.join(given))
        if p['source'] == 'modelfile' and p['parent'] is not None:
            self.fail('parent cannot be used with source=modelfile: the FROM line of the Modelfile names the parent')
        if p['source'] == 'bundle':
            self.bundle()
        self.create()


def main():
    argument_spec = dict(
        name=dict(type='str', required=True),
        state=dict(type='str', default='present', choices=['present', 'absent']),
        source=dict(type='str', choices=['bundle', 'modelfile', 'from']),
        bundle=dict(type='dict'),
        models_dir=dict(type='path'),
        incoming=dict(type='path'),
        owner=dict(type='str', default='ollama'),
        group=dict(type='str', default='ollama'),
        modelfile=dict(type='path'),
        parent=dict(type='str'),
        template=dict(type='str'),
        system=dict(type='str'),
        parameters=dict(type='dict'),
        license=dict(type='list', elements='str'),
        messages=dict(type='list', elements='dict', options=dict(
            role=dict(type='str', required=True, choices=['system', 'user', 'assistant']),
            content=dict(type='str', required=True),
        )),
        cache_dir=dict(type='path', default='/var/lib/gpufleet/ollama_model'),
        create_timeout=dict(type='float', default=1800.0),
    )
    argument_spec.update(OLLAMA_COMMON_ARGS)
    module = AnsibleModule(
        argument_spec=argument_spec,
        required_by=OLLAMA_COMMON_REQUIRED_BY,
        required_if=[
            ('state', 'present', ['source']),
            ('source', 'bundle', ['bundle', 'models_dir']),
            ('source', 'modelfile', ['modelfile']),
            ('source', 'from', ['parent']),
        ],
        supports_check_mode=True,
    )
    ModelManager(module).run()


if __name__ == '__main__':
    main()
