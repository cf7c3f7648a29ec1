# -*- coding: utf-8 -*-
# Copyright (c) 2026, gpufleet maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: ollama_environment
short_description: The environment of one Ollama instance, from the role's typed variables
version_added: 0.1.0
author:
  - gpufleet maintainers (@gpufleet)
description:
  - Returns the variables (name to string value, in a fixed order) that one instance of the ollama role runs with,
    E(OLLAMA_HOST), E(OLLAMA_MODELS), the parallelism and scheduling settings, E(CUDA_VISIBLE_DEVICES) for its GPUs,
    then C(ollama_extra_env) and the instance's own C(env) (sorted by name).
  - Booleans and their string spellings mean the same thing everywhere (V(true), V(on), V(yes), V(1) ...), so
    C(ollama_flash_attention) written as an unquoted C(on) in YAML renders E(OLLAMA_FLASH_ATTENTION=1).
  - Values the server treats as "use the default" (V(0) for C(ollama_max_loaded_models) and
    C(ollama_context_length), V(auto) for C(ollama_flash_attention), an empty C(ollama_origins)) are left out.
  - Run P(gpufleet.ollama.ollama_input_problems#filter) first, since this filter assumes valid input.
options:
  _input:
    description: One instance from P(gpufleet.ollama.ollama_instances#filter) (C(port), C(gpus), C(env), C(prune)).
    type: dict
    required: true
  settings:
    description: The role's variables, keyed by variable name (C(ollama_bind_address), C(ollama_models_dir), ...).
    type: dict
    required: true
"""

EXAMPLES = r"""
- name: Render each instance's environment
  ansible.builtin.template:
    src: environment.conf.j2
    dest: "/etc/systemd/system/ollama@{{ item.port }}.service.d/environment.conf"
    mode: "0644"
  loop: "{{ __ollama_instances }}"
# environment.conf.j2:
# {% for name, value in (item | gpufleet.ollama.ollama_environment(__ollama_settings)).items() %}
# Environment="{{ name }}={{ value }}"
# {% endfor %}
"""

RETURN = r"""
_value:
  description: Variable name to value, all values strings, in the order they should be written.
  type: dict
  sample: {OLLAMA_HOST: "10.0.0.5:11434", OLLAMA_MODELS: /var/lib/ollama/models, OLLAMA_NUM_PARALLEL: "4"}
"""

from ansible.errors import AnsibleFilterError
from ansible_collections.gpufleet.ollama.plugins.plugin_utils._settings import to_bool, to_int, tristate, url_host


def _text(value):
    if isinstance(value, bool):
        return 'true' if value else 'false'
    return str(value)


def ollama_environment(instance, settings):
    if not isinstance(instance, dict) or 'port' not in instance:
        raise AnsibleFilterError('ollama_environment expects one instance {port, gpus, env}, got %r' % (instance,))
    if not isinstance(settings, dict):
        raise AnsibleFilterError('ollama_environment expects the role variables as a mapping, got %s'
                                 % type(settings).__name__)
    s = settings

    def get(name):
        try:
            return s[name]
        except KeyError:
            raise AnsibleFilterError('ollama_environment: settings lack %s' % name)

    env = {}
    env['OLLAMA_HOST'] = '%s:%s' % (url_host(get('ollama_bind_address')), instance['port'])
    env['OLLAMA_MODELS'] = _text(get('ollama_models_dir'))
    env['OLLAMA_NUM_PARALLEL'] = _text(get('ollama_num_parallel'))
    if (to_int(get('ollama_max_loaded_models')) or 0) > 0:
        env['OLLAMA_MAX_LOADED_MODELS'] = _text(get('ollama_max_loaded_models'))
    env['OLLAMA_MAX_QUEUE'] = _text(get('ollama_max_queue'))
    env['OLLAMA_KEEP_ALIVE'] = _text(get('ollama_keep_alive'))
    flash = tristate(get('ollama_flash_attention'))
    if flash is None:
        raise AnsibleFilterError('ollama_environment: ollama_flash_attention must be auto, on or off, got %r'
                                 % (get('ollama_flash_attention'),))
    if flash != 'auto':
        env['OLLAMA_FLASH_ATTENTION'] = '1' if flash == 'on' else '0'
    env['OLLAMA_KV_CACHE_TYPE'] = _text(get('ollama_kv_cache_type'))
    env['OLLAMA_SCHED_SPREAD'] = _text(bool(to_bool(get('ollama_sched_spread'))))
    if (to_int(get('ollama_context_length')) or 0) > 0:
        env['OLLAMA_CONTEXT_LENGTH'] = _text(get('ollama_context_length'))
    env['OLLAMA_LOAD_TIMEOUT'] = _text(get('ollama_load_timeout'))
    # Instances share one store: exactly one prunes it at start (ollama/ollama #3669).
    env['OLLAMA_NOPRUNE'] = _text(not instance.get('prune', False))
    env['OLLAMA_NO_CLOUD'] = _text(bool(to_bool(get('ollama_no_cloud'))))
    origins = get('ollama_origins') or []
    if origins:
        env['OLLAMA_ORIGINS'] = ','.join(str(o) for o in origins)
    gpus = instance.get('gpus') or []
    if gpus:
        env['CUDA_VISIBLE_DEVICES'] = ','.join(str(g) for g in gpus)
    extra = dict(get('ollama_extra_env') or {})
    extra.update(instance.get('env') or {})
    for name in sorted(extra):
        env[str(name)] = _text(extra[name])
    return env


class FilterModule(object):
    def filters(self):
        return {'ollama_environment': ollama_environment}
