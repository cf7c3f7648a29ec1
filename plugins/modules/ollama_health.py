#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026, gpufleet maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: ollama_health
short_description: Wait for an Ollama instance and check that it serves what it should
description:
  - Polls the instance until C(GET /) answers 200 and C(GET /api/version) returns a version, for up to O(wait_timeout) seconds.
  - Then runs the requested checks in the order O(expect_version), O(expect_models), O(smoke_model)
    (a one-token C(POST /api/generate)) and O(check_gpu_offload) (C(GET /api/ps) after the smoke generation),
    and fails at the first one that does not pass.
  - With O(loaded), it also reads the models the instance has loaded (C(GET /api/ps)) once the instance answered,
    and returns them in RV(loaded).
  - "Every failure message names the instance (O(instance)), the check and the reason, for example
    C(instance gpu-node-1:11435: expect_version failed: running 0.12.3, expected 0.14.1)."
  - With O(targets), one run of the module checks several instances, for example all instances of a node,
    at the same time (up to 16 at once); each target is checked as a single instance would be and gets its own
    result in RV(results).
  - The module changes nothing on the host. The smoke generation loads the model into memory on the instance,
    where it stays for the instance's E(OLLAMA_KEEP_ALIVE).
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
      - In check mode the readiness, version and model checks run; the smoke generation and the GPU check are
        skipped and reported as V(skipped (check mode\)) in RV(checks), or in RV(results[].checks) of each target.
      - The O(loaded) read (C(GET /api/ps)) changes nothing and runs in check mode too.
  diff_mode:
    support: none
    description: The module changes nothing, so there is no diff.
options:
  instance:
    description:
      - Name of the instance used in messages, for example V(gpu-node-1:11435).
      - Defaults to O(url).
      - Mutually exclusive with O(targets); use O(targets[].instance) there.
    type: str
  targets:
    description:
      - Instances to check in one run of the module, concurrently (up to 16 at the same time),
        instead of the one at O(url).
      - Every other option (O(wait_timeout), O(expect_models), the smoke and GPU options, O(timeout), O(api_key),
        the TLS options ...) applies to each target. Each target has its own O(wait_timeout), counted from the
        start of its check.
      - When O(targets) is set, O(url) is ignored (targets win, so a O(url) set by C(module_defaults) does not get in
        the way), and O(instance) and O(expect_version) must not be set.
      - The result is RV(results), one element per target in the order of O(targets). The module fails when any
        target fails, with the messages of the failed targets, and returns RV(results) then too.
      - An empty list checks nothing and succeeds.
    type: list
    elements: dict
    suboptions:
      url:
        description:
          - Base URL of the instance, as O(url).
        type: str
        required: true
      instance:
        description:
          - Name of the instance used in messages, as O(instance).
          - Defaults to O(targets[].url).
        type: str
      expect_version:
        description:
          - Version this instance must run, as O(expect_version).
        type: str
      item:
        description:
          - Any value, returned unchanged in RV(results[].item), for example the loop item the target was built from.
          - Not set - RV(results[].item) is the target itself.
        type: raw
  wait_timeout:
    description:
      - Seconds to wait for the instance to become ready.
      - Problems that waiting cannot fix end the wait at once, namely a failed TLS certificate verification,
        a CA or client certificate that cannot be loaded, and HTTP 401/403 (a missing or refused O(api_key)).
    type: float
    default: 60
  interval:
    description: Seconds between two readiness probes.
    type: float
    default: 1
  expect_version:
    description:
      - Version the instance must run, compared as a string with the C(/api/version) answer (V(0.12.3), no V(v)).
      - Mutually exclusive with O(targets); use O(targets[].expect_version) there.
    type: str
  expect_models:
    description:
      - Models that must be listed by C(GET /api/tags).
      - Names are normalised and compared without case, so V(llama3.2) matches V(llama3.2:latest).
    type: list
    elements: str
  smoke_model:
    description:
      - Model for a short generation (C(POST /api/generate) with C(stream=false)) that proves the instance can load and run it.
      - The time it took is returned in RV(timings.smoke_s).
    type: str
  smoke_prompt:
    description: Prompt of the smoke generation.
    type: str
    default: ping
  smoke_num_predict:
    description: Number of tokens the smoke generation may produce (C(options.num_predict)).
    type: int
    default: 1
  smoke_keep_alive:
    description:
      - How long the instance keeps the smoke model loaded afterwards (C(keep_alive) of the generation), for example
        V(30m), V(-1) (until it is unloaded or the server stops) or V(0) (unload at once); a preload.
      - Not set - the instance's own E(OLLAMA_KEEP_ALIVE).
    type: str
  smoke_timeout:
    description:
      - Timeout in seconds for the smoke generation, which includes loading the model; O(timeout) applies to the other requests.
    type: float
    default: 300
  smoke_smallest:
    description:
      - Without O(smoke_model), run the smoke generation (and O(check_gpu_offload)) with the smallest model the
        instance lists in C(GET /api/tags); an instance without models skips both (RV(checks) say V(skipped)).
      - For a health check after a restart that proves the GPU is used, whatever models a node holds.
    type: bool
    default: false
  check_gpu_offload:
    description:
      - After the smoke generation, require C(GET /api/ps) to show O(smoke_model) with C(size_vram) above 0, that is,
        at least partly loaded on a GPU. A model that runs on the CPU only fails the check.
      - A model that is only partly in GPU memory passes with a warning.
      - Requires O(smoke_model) or O(smoke_smallest).
    type: bool
    default: false
  loaded:
    description:
      - Also read the models the instance has loaded (C(GET /api/ps)) and return them in RV(loaded), or in
        RV(results[].loaded) of each target.
      - The read is made once the instance answered (V(ready) is V(ok) in RV(checks)), after the other checks, even when
        one of them failed; an instance that did not answer gets no C(GET /api/ps).
      - When the GPU check (O(check_gpu_offload)) ran, its answer of C(GET /api/ps) is used, with no second request.
      - A failed read does not fail the module; RV(loaded) is V(null) then and RV(loaded_error) says why.
      - Read-only, so it runs in check mode too.
    type: bool
    default: false
    version_added: 0.3.0
seealso:
  - module: gpufleet.ollama.ollama_model_info
  - module: gpufleet.ollama.nvidia_gpu_info
"""

EXAMPLES = r"""
- name: Wait for the local instance
  gpufleet.ollama.ollama_health:
    wait_timeout: 120

- name: Gate a rolling update on the second instance of the node
  gpufleet.ollama.ollama_health:
    url: "http://{{ ansible_host }}:11435"
    instance: "{{ inventory_hostname }}:11435"
    expect_version: "0.12.3"
    expect_models:
      - llama3.2
      - qwen2:7b
    smoke_model: llama3.2
    check_gpu_offload: true
  register: ollama_health_result

- name: Show the smoke latency
  ansible.builtin.debug:
    msg: "{{ ollama_health_result.timings.smoke_s }} s, {{ ollama_health_result.gpu_offload.size_vram }} bytes in VRAM"

- name: Check the four instances of the node in one run of the module, at the same time
  gpufleet.ollama.ollama_health:
    targets: "{{ ollama_health_targets | from_yaml }}"
    wait_timeout: 120
    smoke_smallest: true
    check_gpu_offload: true
  vars:
    ollama_ports: [11434, 11435, 11436, 11437]
    ollama_health_targets: |
      {% for port in ollama_ports %}
      - url: "http://{{ ansible_host }}:{{ port }}"
        instance: "{{ inventory_hostname }}:{{ port }}"
        expect_version: "0.12.3"
        item: {port: {{ port }}}
      {% endfor %}
  register: ollama_health_node

- name: Show the version of each instance
  ansible.builtin.debug:
    msg: "{{ ollama_health_node.results | items2dict(key_name='instance', value_name='version') }}"

- name: Read the release and the loaded models of every instance of the node, in check mode too
  gpufleet.ollama.ollama_health:
    targets: "{{ ollama_health_targets | from_yaml }}"
    wait_timeout: 5
    loaded: true
  vars:
    ollama_health_targets: |
      {% for port in [11434, 11435] %}
      - url: "http://{{ ansible_host }}:{{ port }}"
        item: {port: {{ port }}}
      {% endfor %}
  register: ollama_loaded_node

- name: Show the loaded models of each instance
  ansible.builtin.debug:
    msg: "{{ item.item.port }}: {{ (item.loaded or []) | map(attribute='name') | join(', ') or item.loaded_error or 'none' }}"
  loop: "{{ ollama_loaded_node.results }}"
  loop_control:
    label: "{{ item.item.port }}"

- name: Check the model through the TLS gateway, with an API key from the vault
  gpufleet.ollama.ollama_health:
    url: https://ollama.example.com
    ca_path: /etc/ssl/certs/gpufleet-ca.pem
    api_key: "{{ vault_ollama_api_key }}"
    instance: gateway
    smoke_model: llama3.2

- name: Set the gateway connection once for every Ollama module of a block
  module_defaults:
    group/gpufleet.ollama.ollama:
      url: https://ollama.example.com
      ca_path: /etc/ssl/certs/gpufleet-ca.pem
      api_key: "{{ vault_ollama_api_key }}"
  block:
    - name: Wait for the gateway
      gpufleet.ollama.ollama_health:
        wait_timeout: 120

    - name: List the models behind it
      gpufleet.ollama.ollama_model_info:
      register: ollama_models_gateway
"""

RETURN = r"""
version:
  description: Version reported by C(/api/version).
  returned: unless O(targets) is set
  type: str
  sample: "0.12.3"
models:
  description: Names of the models listed by C(GET /api/tags).
  returned: unless O(targets) is set
  type: list
  elements: str
  sample: [llama3.2:latest, qwen2:7b]
timings:
  description: How long things took, in seconds.
  returned: unless O(targets) is set
  type: dict
  contains:
    ready_s:
      description: From the start of the module until the instance was ready.
      type: float
    smoke_s:
      description: Latency of the smoke generation, V(null) when it did not run.
      type: float
  sample: {ready_s: 0.012, smoke_s: 0.84}
gpu_offload:
  description:
    - The smoke model as C(GET /api/ps) shows it, V(null) when O(check_gpu_offload) did not run.
    - RV(gpu_offload.size_vram) equal to RV(gpu_offload.size) means fully on the GPU.
  returned: unless O(targets) is set
  type: dict
  contains:
    model:
      description: Model name.
      type: str
    size:
      description: Bytes the loaded model uses.
      type: int
    size_vram:
      description: Bytes of it in GPU memory.
      type: int
  sample: {model: llama3.2:latest, size: 3300000000, size_vram: 3300000000}
checks:
  description:
    - Outcome of each check, V(ok), V(skipped) (not asked for) or V(skipped (check mode\)).
    - Keys are V(ready), V(expect_version), V(expect_models), V(smoke_model) and V(check_gpu_offload).
    - Also returned when the module fails, with the checks that ran before the failing one.
  returned: unless O(targets) is set
  type: dict
  sample:
    ready: ok
    expect_version: ok
    expect_models: skipped
    smoke_model: ok
    check_gpu_offload: ok
loaded:
  description:
    - The models the instance has loaded, as C(GET /api/ps) lists them, when O(loaded) is V(true).
    - V(null) when O(loaded) is V(false), when the instance did not answer, or when the read failed
      (RV(loaded_error) says why then).
    - Each element has the fields below as Ollama returns them; a field this Ollama release does not return is V(null).
    - Also returned when the module fails.
  returned: unless O(targets) is set
  type: list
  elements: dict
  contains:
    name:
      description: Model name.
      type: str
    model:
      description: Model name, as Ollama returns it next to RV(loaded[].name).
      type: str
    size:
      description: Bytes the loaded model uses.
      type: int
    size_vram:
      description: Bytes of it in GPU memory; equal to RV(loaded[].size) means fully on the GPU.
      type: int
    context_length:
      description: Context length the model is loaded with.
      type: int
    expires_at:
      description: When the instance unloads the model, as an RFC 3339 time stamp.
      type: str
  sample:
    - name: llama3.2:latest
      model: llama3.2:latest
      size: 3300000000
      size_vram: 3300000000
      context_length: 4096
      expires_at: "2026-09-01T10:05:00.000000000Z"
loaded_error:
  description:
    - "Why RV(loaded) is V(null) although O(loaded) is V(true), for example
      V(GET http://127.0.0.1:11434/api/ps failed: HTTP 500: boom), or
      V(not read: the instance did not answer)."
    - V(null) when RV(loaded) was read or O(loaded) is V(false).
  returned: unless O(targets) is set
  type: str
  sample: null
results:
  description:
    - One result per target, in the order of O(targets).
    - Also returned when the module fails, with the results of every target, those that passed included.
  returned: when O(targets) is set
  type: list
  elements: dict
  contains:
    item:
      description: O(targets[].item) of the target, or the target itself when it has none.
      type: raw
    instance:
      description: Name of the instance, O(targets[].instance) or else its URL.
      type: str
    failed:
      description: Whether a check of this target failed.
      type: bool
    msg:
      description:
        - "Why the target failed, in the form of the module's message for a single instance,
          for example V(instance gpu-node-1:11435: expect_version failed: running 0.12.3, expected 0.14.1)."
        - Only present when RV(results[].failed) is V(true).
      type: str
    version:
      description: As RV(version).
      type: str
    models:
      description: As RV(models).
      type: list
      elements: str
    timings:
      description: As RV(timings); RV(results[].timings.ready_s) counts from the start of the target's check.
      type: dict
      contains:
        ready_s:
          description: From the start of the target's check until the instance was ready.
          type: float
        smoke_s:
          description: Latency of the smoke generation, V(null) when it did not run.
          type: float
    gpu_offload:
      description: As RV(gpu_offload).
      type: dict
      contains:
        model:
          description: Model name.
          type: str
        size:
          description: Bytes the loaded model uses.
          type: int
        size_vram:
          description: Bytes of it in GPU memory.
          type: int
    checks:
      description: As RV(checks).
      type: dict
    loaded:
      description: As RV(loaded).
      type: list
      elements: dict
      contains:
        name:
          description: Model name.
          type: str
        model:
          description: Model name, as Ollama returns it next to RV(results[].loaded[].name).
          type: str
        size:
          description: Bytes the loaded model uses.
          type: int
        size_vram:
          description: Bytes of it in GPU memory.
          type: int
        context_length:
          description: Context length the model is loaded with.
          type: int
        expires_at:
          description: When the instance unloads the model, as an RFC 3339 time stamp.
          type: str
    loaded_error:
      description: As RV(loaded_error).
      type: str
  sample:
    - item: {port: 11434}
      instance: gpu-node-1:11434
      failed: false
      version: 0.12.3
      models: [llama3.2:latest]
      timings: {ready_s: 0.012, smoke_s: 0.84}
      gpu_offload: {model: llama3.2:latest, size: 3300000000, size_vram: 3300000000}
      checks: {ready: ok, expect_version: ok, expect_models: skipped, smoke_model: ok, check_gpu_offload: ok}
      loaded:
        - {name: llama3.2:latest, model: llama3.2:latest, size: 3300000000, size_vram: 3300000000,
           context_length: 4096, expires_at: "2026-09-01T10:05:00.000000000Z"}
      loaded_error: null
    - item: {port: 11435}
      instance: gpu-node-1:11435
      failed: true
      msg: "instance gpu-node-1:11435: expect_version failed: running 0.12.2, expected 0.12.3"
      version: 0.12.2
      models: [llama3.2:latest]
      timings: {ready_s: 0.015, smoke_s: null}
      gpu_offload: null
      checks: {ready: ok, expect_version: skipped, expect_models: skipped, smoke_model: skipped,
               check_gpu_offload: skipped}
      loaded: null
      loaded_error: "GET http://192.0.2.11:11435/api/ps failed: no answer within 10s"
"""

import time
from concurrent.futures import ThreadPoolExecutor

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.gpufleet.ollama.plugins.module_utils._ollama import (
    OLLAMA_COMMON_ARGS,
    OLLAMA_COMMON_REQUIRED_BY,
    OllamaClient,
    OllamaError,
)
from ansible_collections.gpufleet.ollama.plugins.module_utils._names import normalize_model_name, same_model

CHECKS = ('ready', 'expect_version', 'expect_models', 'smoke_model', 'check_gpu_offload')

# The fields of a loaded model (GET /api/ps) that RV(loaded) returns.
LOADED_FIELDS = ('name', 'model', 'size', 'size_vram', 'context_length', 'expires_at')

# The keys of a targets element; True: required.
TARGET_KEYS = dict(url=True, instance=False, expect_version=False, item=False)
MAX_WORKERS = 16


class HealthCheckFailed(Exception):
    """A check failed: ``msg`` is the module's message, ``result`` the result as far as it got."""

    def __init__(self, msg, result):
        super().__init__(msg)
        self.msg = msg
        self.result = result


class HealthCheck:
    """The checks of one instance. Failures raise HealthCheckFailed; nothing here exits the module.

    ``params`` are the module's parameters (copied: list_models() may pick the smoke model), with ``url``,
    ``instance`` and ``expect_version`` those of this instance; ``warn`` takes the warnings.
    """

    def __init__(self, client, params, check_mode, warn):
        self.client = client
        self.params = dict(params)
        self.check_mode = check_mode
        self.warn = warn
        self.instance = self.params['instance'] or self.client.base_url
        self.start = time.monotonic()
        self.result = dict(
            version=None,
            models=[],
            timings=dict(ready_s=None, smoke_s=None),
            gpu_offload=None,
            checks=dict((name, 'skipped') for name in CHECKS),
            loaded=None,
            loaded_error=None,
        )
        self._running = None   # the models of GET /api/ps once read, or the OllamaError of the read

    def fail(self, check, why):
        raise HealthCheckFailed('instance %s: %s failed: %s' % (self.instance, check, why), self.result)

    def ok(self, check):
        self.result['checks'][check] = 'ok'

    def wait_ready(self):
        """Poll GET / and GET /api/version until both answer, or fail after wait_timeout."""
        wait_timeout, interval = self.params['wait_timeout'], self.params['interval']
        deadline = self.start + wait_timeout
        while True:
            remaining = deadline - time.monotonic()
            timeout = max(min(self.params['timeout'], remaining), 0.1)
            try:
                self.client.get_text('/', timeout=timeout)
                version = self.client.get_field('/api/version', 'version', timeout=timeout)
                if version:
                    break
                last_error = 'GET %s answered without a version' % self.client.url_for('/api/version')
            except OllamaError as e:
                if e.permanent:   # TLS verification, certificates, refused credentials: waiting cannot help
                    self.fail('ready', str(e))
                last_error = str(e)
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                self.fail('ready', 'not ready within %gs, last error: %s' % (wait_timeout, last_error))
            time.sleep(min(interval, remaining))
        self.result['version'] = version
        self.result['timings']['ready_s'] = round(time.monotonic() - self.start, 3)
        self.ok('ready')

    def check_version(self):
        expected = self.params['expect_version']
        if expected is None:
            return
        if self.result['version'] != expected:
            self.fail('expect_version', 'running %s, expected %s' % (self.result['version'], expected))
        self.ok('expect_version')

    def list_models(self):
        try:
            models = self.client.list_models()
        except OllamaError as e:
            self.fail('model listing', str(e))
        self.result['models'] = [m.get('name') or m.get('model') for m in models]
        if self.params['smoke_smallest'] and not self.params['smoke_model'] and models:
            smallest = min(models, key=lambda m: (int(m.get('size') or 0), m.get('name') or m.get('model') or ''))
            self.params['smoke_model'] = smallest.get('name') or smallest.get('model')

    def check_models(self):
        expected = self.params['expect_models']
        if not expected:
            return
        present = self.result['models']
        missing = [normalize_model_name(want) for want in expected
                   if not any(same_model(have, want) for have in present)]
        if missing:
            self.fail('expect_models', 'missing %s (the instance has: %s)'
                      % (', '.join(missing), ', '.join(present) or 'no models'))
        self.ok('expect_models')

    def smoke(self):
        model = self.params['smoke_model']
        body = dict(model=model, prompt=self.params['smoke_prompt'],
                    options=dict(num_predict=self.params['smoke_num_predict']))
        if self.params['smoke_keep_alive'] is not None:
            keep_alive = self.params['smoke_keep_alive']
            body['keep_alive'] = int(keep_alive) if keep_alive.lstrip('-').isdigit() else keep_alive
        started = time.monotonic()
        try:
            self.client.post_json('/api/generate', body, timeout=self.params['smoke_timeout'])
        except OllamaError as e:
            self.fail('smoke_model', 'generation with %s failed: %s' % (model, e))
        self.result['timings']['smoke_s'] = round(time.monotonic() - started, 3)
        self.ok('smoke_model')

    def running_models(self):
        """The models list of GET /api/ps, read once per check (the GPU check and the loaded read share it)."""
        if self._running is None:
            try:
                running = self.client.list_models('/api/ps')
                if not isinstance(running, list):
                    raise OllamaError('GET %s failed: expected a list of models, got %r'
                                      % (self.client.url_for('/api/ps'), running))
                self._running = running
            except OllamaError as e:
                self._running = e
        if isinstance(self._running, OllamaError):
            raise self._running
        return self._running

    def check_gpu_offload(self):
        model = self.params['smoke_model']
        try:
            running = self.running_models()
        except OllamaError as e:
            self.fail('check_gpu_offload', 'cannot list the running models: %s' % e)
        loaded = [m for m in running if same_model(m.get('name') or m.get('model') or '', model)]
        if not loaded:
            self.fail('check_gpu_offload', 'model %s is not loaded according to GET %s after the smoke generation'
                      % (model, self.client.url_for('/api/ps')))
        size, size_vram = int(loaded[0].get('size') or 0), int(loaded[0].get('size_vram') or 0)
        self.result['gpu_offload'] = dict(model=loaded[0].get('name') or model, size=size, size_vram=size_vram)
        if size_vram <= 0:
            self.fail('check_gpu_offload', 'model %s runs on CPU (size_vram 0 of %d bytes)' % (model, size))
        if size_vram < size:
            self.warn('instance %s: model %s is only partly on the GPU (%d of %d bytes in VRAM)'
                      % (self.instance, model, size_vram, size))
        self.ok('check_gpu_offload')

    def read_loaded(self):
        """With ``loaded``, the loaded models into result['loaded'] (or the reason into loaded_error); never fails."""
        if not self.params['loaded']:
            return
        if self.result['checks']['ready'] != 'ok':
            self.result['loaded_error'] = 'not read: the instance did not answer'
            return
        try:
            running = self.running_models()
        except OllamaError as e:
            self.result['loaded_error'] = str(e)
            return
        self.result['loaded'] = [dict((field, m.get(field)) for field in LOADED_FIELDS)
                                 for m in running if isinstance(m, dict)]

    def run(self):
        """The result of the checks; raises HealthCheckFailed at the first one that fails.

        With ``loaded`` the loaded models are read after the checks, whether they passed or not, as long as the
        instance answered."""
        try:
            self.run_checks()
        except HealthCheckFailed:
            self.read_loaded()
            raise
        self.read_loaded()
        return self.result

    def run_checks(self):
        self.wait_ready()
        self.check_version()
        self.list_models()
        self.check_models()
        if self.check_mode:
            for check in ('smoke_model', 'check_gpu_offload'):
                if self.params[check]:
                    self.result['checks'][check] = 'skipped (check mode)'
        else:
            if self.params['smoke_model']:
                self.smoke()
            if self.params['check_gpu_offload'] and self.params['smoke_model']:
                self.check_gpu_offload()


def parse_target(index, target):
    """The element ``index`` of targets with its url, instance and expect_version as strings (None when not set);
    raises ValueError with the reason when it is unusable."""
    where = 'targets[%d]' % index
    unknown = sorted(set(target) - set(TARGET_KEYS), key=str)
    if unknown:
        raise ValueError('%s: unknown key %s (a target takes: %s)'
                         % (where, ', '.join(repr(k) for k in unknown), ', '.join(TARGET_KEYS)))
    parsed = {}
    for key, required in TARGET_KEYS.items():
        value = target.get(key)
        if key == 'item':
            continue
        if required and (value is None or not str(value).strip()):
            raise ValueError('%s: %s is required' % (where, key))
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            value = str(value)   # as a str option would take it, e.g. expect_version: 0.13
        elif value is not None and not isinstance(value, str):
            raise ValueError('%s: %s must be a string, got %s %r' % (where, key, type(value).__name__, value))
        parsed[key] = value
    return parsed


def check_targets(module):
    """Check every target in one run of the module, concurrently; exit with their results."""
    p = module.params
    parsed = []
    for index, target in enumerate(p['targets']):
        try:
            parsed.append(parse_target(index, target))
        except ValueError as e:
            module.fail_json(msg=str(e))
    checks = []
    for target, own in zip(p['targets'], parsed):
        params = dict(p, **own)
        checks.append((target, OllamaClient.from_module(module, url=params['url']), params, []))

    def check_one(check):
        target, client, params, warnings = check
        health = HealthCheck(client, params, module.check_mode, warnings.append)
        result = dict(item=target['item'] if 'item' in target else target, instance=health.instance)
        try:
            result.update(health.run(), failed=False)
        except HealthCheckFailed as e:
            result.update(e.result, failed=True, msg=e.msg)
        return result

    results = []
    if checks:
        with ThreadPoolExecutor(max_workers=min(len(checks), MAX_WORKERS)) as executor:
            results = list(executor.map(check_one, checks))
    for target, client, params, warnings in checks:   # in the order of the targets
        for warning in warnings:
            module.warn(warning)
    failed = [r['msg'] for r in results if r['failed']]
    if failed:
        module.fail_json(msg=' '.join(failed), changed=False, results=results)
    module.exit_json(changed=False, results=results)


def main():
    argument_spec = dict(
        instance=dict(type='str'),
        targets=dict(type='list', elements='dict'),
        wait_timeout=dict(type='float', default=60.0),
        interval=dict(type='float', default=1.0),
        expect_version=dict(type='str'),
        expect_models=dict(type='list', elements='str'),
        smoke_model=dict(type='str'),
        smoke_keep_alive=dict(type='str'),
        smoke_prompt=dict(type='str', default='ping'),
        smoke_num_predict=dict(type='int', default=1),
        smoke_timeout=dict(type='float', default=300.0),
        smoke_smallest=dict(type='bool', default=False),
        check_gpu_offload=dict(type='bool', default=False),
        loaded=dict(type='bool', default=False),
    )
    argument_spec.update(OLLAMA_COMMON_ARGS)
    module = AnsibleModule(
        argument_spec=argument_spec,
        # url has a default (and may come from module_defaults): with targets it is ignored instead
        mutually_exclusive=[('targets', 'instance'), ('targets', 'expect_version')],
        required_by=OLLAMA_COMMON_REQUIRED_BY,
        supports_check_mode=True,
    )
    if module.params['check_gpu_offload'] and not (module.params['smoke_model'] or module.params['smoke_smallest']):
        module.fail_json(msg='check_gpu_offload needs a model to load: set smoke_model, or smoke_smallest=true')
    if module.params['targets'] is not None:
        check_targets(module)   # exits
    health = HealthCheck(OllamaClient.from_module(module), module.params, module.check_mode, module.warn)
    try:
        result = health.run()
    except HealthCheckFailed as e:
        module.fail_json(msg=e.msg, changed=False, **e.result)
    module.exit_json(changed=False, **result)


if __name__ == '__main__':
    main()
