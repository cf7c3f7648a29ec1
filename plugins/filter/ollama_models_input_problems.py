# -*- coding: utf-8 -*-
# Copyright (c) 2026, gpufleet maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: ollama_models_input_problems
short_description: Check the settings of the ollama_models role for their meaning, before any host changes
version_added: 0.1.0
author:
  - gpufleet maintainers (@gpufleet)
description:
  - Takes a mapping of the role's settings (named as in the role, for example C(ollama_models_fanout_width)) and
    returns one sentence per problem found, each naming the variable, what was given and what is valid; an empty
    list means the settings are usable. Variables missing from the mapping are not checked.
  - "What the argument spec's types cannot say: the fan-out width 1 or more (the waves need a source to feed at least
    one node), the rsync daemon's port 1-65535, a transfer timeout above 0 (0 would wait for ever on a stalled
    transfer), bandwidth limit and disk margins 0 or more, the GPU memory headroom 0 percent or more, a bundle root that
    is an absolute path, an inventory group name, a depot host of the inventory that is not a GPU node (its rsync
    daemon serves the bundle root; a node's serves its store) - given C(inventory_hosts) and C(node_group_hosts) in
    the mapping."
  - The model declarations (C(ollama_models), C(ollama_models_only), C(ollama_models_staging_host)) are checked by
    P(gpufleet.ollama.ollama_models_catalog#filter); the address and port of the rsync daemon against the host by
    P(gpufleet.ollama.ollama_host_problems#filter).
options:
  _input:
    description: The role's settings, keyed by variable name.
    type: dict
    required: true
"""

EXAMPLES = r"""
- name: Check the fan-out and store settings
  ansible.builtin.assert:
    that: __ollama_models_input_problems | length == 0
    fail_msg: "{{ inventory_hostname }}: {{ __ollama_models_input_problems | join(' ') }} Nothing was changed."
    quiet: true
  vars:
    __ollama_models_input_problems: >-
      {{ {'ollama_models_fanout_width': ollama_models_fanout_width,
          'ollama_models_peer_port': ollama_models_peer_port,
          'ollama_models_transfer_timeout': ollama_models_transfer_timeout}
         | gpufleet.ollama.ollama_models_input_problems }}
"""

RETURN = r"""
_value:
  description: One sentence per problem, each naming the variable, what was given and what is valid.
  type: list
  elements: str
  sample:
    - "ollama_models_fanout_width must be an integer, 1 or more: each source feeds that many nodes at once in a wave
      (got 0)."
"""

from ansible.errors import AnsibleFilterError
from ansible_collections.gpufleet.ollama.plugins.plugin_utils._settings import path_shape_problem, to_bool, to_int

# (variable, lowest, highest or None, what the value means)
INTEGERS = (
    ('ollama_models_fanout_width', 1, None, ': each source feeds that many nodes at once in a wave'),
    ('ollama_models_bwlimit_kib', 0, None, ' (0 = no limit)'),
    ('ollama_models_transfer_timeout', 1, None, ': seconds without data before a transfer is given up; 0 would wait '
                                                'for ever on a stalled transfer'),
    ('ollama_models_peer_port', 1, 65535, ': the TCP port of the rsync daemon'),
    ('ollama_models_disk_margin_percent', 0, None, ''),
    ('ollama_models_disk_margin_mib', 0, None, ''),
    ('ollama_models_vram_headroom_percent', 0, None, ': GPU memory a model needs beyond its size, in percent of it'),
)


def ollama_models_input_problems(settings):
    if not isinstance(settings, dict):
        raise AnsibleFilterError('ollama_models_input_problems expects a mapping of variables, got %s'
                                 % type(settings).__name__)
    s = settings
    p = []
    for name, low, high, why in INTEGERS:
        if name not in s:
            continue
        value = to_int(s[name])
        if value is None or value < low or (high is not None and value > high):
            valid = ('%d or more' % low) if high is None else ('%d-%d' % (low, high))
            p.append('%s must be an integer, %s%s (got %r).' % (name, valid, why, s[name]))
    for name in ('ollama_models_prune', 'ollama_models_verify_checksum'):
        if name in s and to_bool(s[name]) is None:
            p.append('%s must be true or false (got %r).' % (name, s[name]))
    if 'ollama_models_vram_check' in s and s['ollama_models_vram_check'] not in ('fail', 'warn', 'off'):
        hint = " (write 'off' in quotes: unquoted, YAML reads a boolean)" if isinstance(
            s['ollama_models_vram_check'], bool) else ''
        p.append('ollama_models_vram_check must be fail, warn or off%s (got %r).' % (hint, s['ollama_models_vram_check']))
    bundle_dir = s.get('ollama_models_bundle_dir')
    if 'ollama_models_bundle_dir' in s and bundle_dir not in ('', None):
        shape = path_shape_problem(bundle_dir)
        if shape:
            p.append('ollama_models_bundle_dir must be empty (no bundle models) or %s, such as /srv/ollama/bundles '
                     '(got %r).' % (shape, bundle_dir))
    if 'ollama_models_node_group' in s and not str(s['ollama_models_node_group'] or '').strip():
        p.append('ollama_models_node_group must name the inventory group of the GPU nodes, such as gpu_nodes (got %r).'
                 % (s['ollama_models_node_group'],))
    for name in ('ollama_models_depot_host', 'ollama_models_staging_host'):
        if name in s and s[name] is not None and not isinstance(s[name], str):
            p.append('%s must be an inventory host name, or empty (got %r).' % (name, s[name]))
    depot = s.get('ollama_models_depot_host')
    if isinstance(depot, str) and depot and isinstance(s.get('inventory_hosts'), list):
        nodes = s.get('node_group_hosts') if isinstance(s.get('node_group_hosts'), list) else []
        if depot not in s['inventory_hosts']:
            p.append('ollama_models_depot_host: %s is not a host of the inventory (valid: an inventory host outside '
                     'the GPU nodes that holds ollama_models_bundle_dir, or empty for the controller).' % depot)
        elif depot in nodes:
            # its rsync daemon would serve the bundle root and the node's store in turn, one file for both
            p.append('ollama_models_depot_host: %s is a GPU node (group %s); a node serves its own store to its peers '
                     '(valid: an inventory host outside the GPU nodes that holds ollama_models_bundle_dir, or empty '
                     'for the controller).' % (depot, s.get('ollama_models_node_group')))
    return p


class FilterModule(object):
    def filters(self):
        return {'ollama_models_input_problems': ollama_models_input_problems}
