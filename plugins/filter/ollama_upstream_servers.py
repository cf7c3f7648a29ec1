# -*- coding: utf-8 -*-
# Copyright (c) 2026, gpufleet maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: ollama_upstream_servers
short_description: Build the gateway's nginx upstream from the GPU nodes' published endpoints
version_added: 0.1.0
author:
  - gpufleet maintainers (@gpufleet)
description:
  - Takes the C(ollama_endpoints) fact of every host of the backend group (a mapping host name to endpoints, or
    V(false) for a host that published none) and returns the upstream servers with their connection cap and drain
    state, plus the problems that make the upstream unusable.
  - O(backends), when not empty, replaces the published endpoints (explicit C({address, port, num_parallel}) entries).
  - Endpoints whose C(enabled) is false (instances stopped on purpose) are left out.
  - The cap of a server is C(num_parallel + queue_per_instance), or no cap when O(queue_per_instance) is 0.
  - The C(models) an endpoint carries (from the ollama role's health check) are passed on, V(null) when unknown.
options:
  _input:
    description: Host name to its C(ollama_endpoints) list (V(false) or V(null) when the host published none).
    type: dict
    required: true
  backends:
    description: Explicit backends; when not empty the published endpoints are ignored.
    type: list
    elements: dict
    default: []
  drained_hosts:
    description: Hosts (C(gpu01)) or single instances (C(gpu01:11435)) whose servers are marked C(down).
    type: list
    elements: str
    default: []
  persisted_drained:
    description:
      - The drain set persisted on the gateway by the C(drain) entry point; like O(drained_hosts), but an entry
        naming a host that is no longer in the group is ignored instead of being a problem (it can still be undrained).
    type: list
    elements: str
    default: []
  remembered:
    description:
      - The endpoints this gateway rendered last time, host name to its list (the gateway's memory file). A host of
        the group that published none in this run (unreachable, or left out by C(--limit)) keeps its remembered
        instances, so the gateway never forgets a node of the inventory; nginx's passive health check skips them
        while they do not answer. A host that is neither published nor remembered is a warning, not a problem.
    type: dict
    default: {}
  queue_per_instance:
    description: Requests queued per instance on top of its E(OLLAMA_NUM_PARALLEL); 0 means no cap.
    type: int
    default: 0
  group:
    description: Name of the backend group, used in the problems.
    type: str
    default: gpu_nodes
"""

EXAMPLES = r"""
- name: Build the upstream
  ansible.builtin.set_fact:
    __ollama_gateway_upstream: >-
      {{ dict(__nodes | zip(__nodes | map('extract', hostvars) | map(attribute='ollama_endpoints', default=false)))
         | gpufleet.ollama.ollama_upstream_servers(ollama_gateway_backends, ollama_gateway_drained_hosts,
                                                   ollama_gateway_queue_per_instance, ollama_gateway_backend_group) }}
  vars:
    __nodes: "{{ groups[ollama_gateway_backend_group] | default([]) }}"
"""

RETURN = r"""
_value:
  description: The upstream servers and the problems found.
  type: dict
  contains:
    servers:
      description: One entry per server.
      type: list
      elements: dict
      sample: [{address: 10.0.0.5, port: 11434, max_conns: 0, down: false, host: gpu01, models: ["qwen2:7b"]}]
    problems:
      description: One sentence per problem (nothing to balance, bad entries).
      type: list
      elements: str
    warnings:
      description: One sentence per host of the group that published no endpoints (remembered or left out).
      type: list
      elements: str
    remembered:
      description: The hosts whose servers come from O(remembered) instead of this run.
      type: list
      elements: str
    memory:
      description: What the gateway remembers after this run, host name to endpoints (hosts of the group only).
      type: dict
"""

from ansible.errors import AnsibleFilterError
from ansible_collections.gpufleet.ollama.plugins.plugin_utils._settings import is_drained, to_bool, to_int


def ollama_upstream_servers(published, backends=None, drained_hosts=None, queue_per_instance=0, group='gpu_nodes',
                            persisted_drained=None, remembered=None):
    if not isinstance(published, dict):
        raise AnsibleFilterError('ollama_upstream_servers expects a mapping host -> endpoints, got %s'
                                 % type(published).__name__)
    backends = list(backends or [])
    strict = [str(h) for h in (drained_hosts or [])]
    drained = strict + [str(h) for h in (persisted_drained or [])]
    queue = to_int(queue_per_instance)
    if queue is None or queue < 0:
        raise AnsibleFilterError('ollama_upstream_servers: queue_per_instance must be 0 or more, got %r'
                                 % (queue_per_instance,))
    if remembered is not None and not isinstance(remembered, dict):
        raise AnsibleFilterError('ollama_upstream_servers: remembered must be a mapping host -> endpoints, got %s'
                                 % type(remembered).__name__)
    problems, warnings, from_memory = [], [], []
    memory = {}
    if backends:
        source = backends
    else:
        if not published:
            problems.append("group '%s' (ollama_gateway_backend_group) has no hosts and ollama_gateway_backends is "
                            "empty: there is nothing to balance." % group)
        # in host name order: the configuration does not depend on the order of the inventory
        for host, eps in sorted(published.items(), key=lambda item: str(item[0])):
            if isinstance(eps, list):
                # sorted models: the memory file changes only when what the node serves changes
                memory[host] = [dict(e, models=sorted(str(m) for m in e['models']))
                                if isinstance(e, dict) and isinstance(e.get('models'), list) else e for e in eps]
            elif isinstance((remembered or {}).get(host), list):
                memory[host] = remembered[host]
                from_memory.append(host)
        if from_memory:
            warnings.append('no ollama_endpoints from %s in this run (unreachable, or not in the play): the gateway '
                            'keeps the instances it had for %s, and skips them while they do not answer.'
                            % (', '.join(from_memory), 'it' if len(from_memory) == 1 else 'them'))
        unknown = sorted((h for h in published if h not in memory), key=str)
        if unknown:
            warnings.append('no ollama_endpoints from %s, and this gateway has never routed to %s: %s no traffic '
                            'until a run reaches %s (site.yml), or list the instances in ollama_gateway_backends.'
                            % (', '.join(unknown), 'it' if len(unknown) == 1 else 'them',
                               'it gets' if len(unknown) == 1 else 'they get', 'it' if len(unknown) == 1 else 'them'))
        source = [e for h, eps in memory.items() for e in eps if to_bool(e.get('enabled', True)) is not False]
    outside = [h for h in strict if h.rsplit(':', 1)[0] not in published and h not in published]
    if outside:
        problems.append("ollama_gateway_drained_hosts names hosts outside '%s': %s." % (group, ', '.join(outside)))
    servers = []
    for n, b in enumerate(source):
        if not isinstance(b, dict):
            problems.append('backend %d is not a mapping {address, port, num_parallel}: %r.' % (n, b))
            continue
        address = str(b.get('address') or '')
        port = to_int(b.get('port'))
        parallel = to_int(b.get('num_parallel', 1))
        if not address or port is None or not 1 <= port <= 65535 or parallel is None or parallel < 1:
            problems.append('backend %d needs an address, a port 1-65535 and num_parallel >= 1 (got %r).' % (n, b))
            continue
        host = str(b.get('host') or '')
        models = b.get('models')
        servers.append({'address': address, 'port': port, 'host': host,
                        'max_conns': parallel + queue if queue > 0 else 0,
                        'down': is_drained(host, port, drained),
                        'models': list(models) if isinstance(models, list) else None})
    if not servers and not problems:
        problems.append("the upstream is empty: no instance of group '%s' is enabled%s." % (
            group, ' or known' if published and not memory else ''))
    return {'servers': servers, 'problems': problems, 'warnings': warnings, 'remembered': from_memory,
            'memory': memory}


class FilterModule(object):
    def filters(self):
        return {'ollama_upstream_servers': ollama_upstream_servers}
