# -*- coding: utf-8 -*-
# Copyright (c) 2026, gpufleet maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: ollama_gateway_config
short_description: The gateway's routing table, upstream pools and hashed API keys
version_added: 0.1.0
author:
  - gpufleet maintainers (@gpufleet)
description:
  - Takes the upstream servers from P(gpufleet.ollama.ollama_upstream_servers#filter) (each may carry the C(models)
    its instance serves) and the API keys of the inventory, and returns what the ollama_gateway role renders into
    C(nginx.conf) (upstream pools, rate-limit classes) and into the JSON document its njs script loads (model to
    pool, key hash to key name and rights, backends to merge C(/api/tags) from).
  - "Model-aware routing: instances with the same set of models form one pool (one nginx C(upstream) with its own
    shared-memory C(zone) and least-connections balancing); a model maps to the pool of exactly the instances that
    serve it. A model no instance serves is absent, so the gateway answers 404 at once. Instances whose models are
    unknown (the health check did not run) serve only requests that name no model."
  - Model names are normalised the way Ollama looks them up (C(tiny) is C(tiny:latest),
    C(registry.ollama.ai/library/x:1b) is C(x:1b), case-insensitive).
  - API keys are stored only as sha256 hashes; the plain key never appears in the result. Each key has a name, an
    optional list of allowed models (empty means every model), an C(admin) flag (management endpoints) and a request
    rate (C(10r/s), C(600r/m)) with a burst; keys with the same rate and burst share one nginx C(limit_req) zone.
options:
  _input:
    description: The upstream servers (C(address), C(port), C(host), C(down), optional C(models)).
    type: list
    elements: dict
    required: true
  api_keys:
    description:
      - The keys, each C({name, key | key_sha256, models, admin, rate, burst}).
      - C(key) is the secret itself, C(key_sha256) its lower-case sha256 in hex (one of the two is required).
    type: list
    elements: dict
    default: []
  default_rate:
    description: Rate of a key that sets none, in nginx C(limit_req_zone) syntax (C(10r/s)); empty means no limit.
    type: str
    default: ""
  default_burst:
    description: Burst of a key that sets none.
    type: int
    default: 0
  auth:
    description: Whether the gateway requires an API key at all.
    type: bool
    default: true
"""

EXAMPLES = r"""
- name: Build the gateway configuration
  ansible.builtin.set_fact:
    __ollama_gateway_config: >-
      {{ __ollama_gateway_servers | gpufleet.ollama.ollama_gateway_config(ollama_gateway_api_keys,
         ollama_gateway_default_rate, ollama_gateway_default_burst, ollama_gateway_auth) }}
  no_log: true
"""

RETURN = r"""
_value:
  description: The gateway configuration.
  type: dict
  contains:
    pools:
      description: One entry per upstream pool, C({name, models, servers}); C(ollama_any) holds every server.
      type: list
      elements: dict
    njs:
      description: The document the njs script loads (C(auth), C(models), C(keys), C(backends)).
      type: dict
    rate_classes:
      description: One entry per distinct C({rate, burst}), C({name, rate, burst, members}) (C(members) are key names).
      type: list
      elements: dict
    problems:
      description: One sentence per bad key (missing name or secret, duplicate name or secret, bad rate).
      type: list
      elements: str
"""

import hashlib
import re

from ansible.errors import AnsibleFilterError
from ansible_collections.gpufleet.ollama.plugins.plugin_utils._settings import to_bool, to_int, url_host

DEFAULT_HOST = 'registry.ollama.ai'
DEFAULT_NAMESPACE = 'library'
KEY_NAME_RE = re.compile(r'^[A-Za-z0-9][A-Za-z0-9_.@-]{0,63}$')
RATE_RE = re.compile(r'^[1-9][0-9]*r/[sm]$')
SHA256_RE = re.compile(r'^[0-9a-f]{64}$')
ANY_POOL = 'ollama_any'


def normalize_model(name):
    """Lower-case display name with the tag, as Ollama resolves it (kept in sync with files/gateway.js)."""
    parts = str(name).strip().lower().split('/')
    if ':' not in parts[-1]:
        parts[-1] += ':latest'
    if len(parts) == 3 and parts[0] == DEFAULT_HOST:
        parts = parts[1:]
    if len(parts) == 2 and parts[0] == DEFAULT_NAMESPACE:
        parts = parts[1:]
    return '/'.join(parts)


def server_id(server):
    return '%s:%s' % (url_host(server['address']), server['port'])


def _keys(api_keys, default_rate, default_burst):
    problems, keys, classes = [], {}, {}
    names = set()
    for n, k in enumerate(api_keys or []):
        where = 'ollama_gateway_api_keys[%d]' % n
        if not isinstance(k, dict):
            problems.append('%s must be a mapping {name, key, models, admin, rate, burst}.' % where)
            continue
        name = str(k.get('name') or '')
        if not KEY_NAME_RE.match(name):
            problems.append("%s.name must be 1-64 letters, digits, '_', '.', '@' or '-' (got %r)." % (where, name))
            continue
        where = "ollama_gateway_api_keys[%d] (%s)" % (n, name)
        if name in names:
            problems.append('%s: the name is used by another key; names must be unique.' % where)
            continue
        names.add(name)
        unknown = sorted(set(k) - {'name', 'key', 'key_sha256', 'models', 'admin', 'rate', 'burst'})
        if unknown:
            problems.append('%s has unknown keys %s; valid: name, key, key_sha256, models, admin, rate, burst.'
                            % (where, ', '.join(unknown)))
        secret, digest = k.get('key'), str(k.get('key_sha256') or '').strip().lower()
        if secret and digest:
            problems.append('%s sets both key and key_sha256; set one.' % where)
            continue
        if secret:
            secret = str(secret)
            if len(secret) < 16 or re.search(r'\s', secret):
                problems.append('%s: the key must be at least 16 characters without spaces (its value is not shown).'
                                % where)
                continue
            digest = hashlib.sha256(secret.encode('utf-8')).hexdigest()
        elif not SHA256_RE.match(digest):
            problems.append('%s needs key (the secret) or key_sha256 (64 hex digits).' % where)
            continue
        if digest in keys:
            problems.append('%s has the same secret as key %s; every key must be different.' % (where, keys[digest]['name']))
            continue
        models = k.get('models') or []
        if not isinstance(models, list):
            problems.append('%s.models must be a list of model names (got %r).' % (where, models))
            continue
        admin = to_bool(k.get('admin', False))
        if admin is None:
            problems.append('%s.admin must be true or false (got %r).' % (where, k.get('admin')))
            continue
        rate = str(k.get('rate') if k.get('rate') is not None else default_rate or '').strip()
        burst = to_int(k.get('burst') if k.get('burst') is not None else default_burst)
        if rate and not RATE_RE.match(rate):
            problems.append('%s.rate must look like 10r/s or 600r/m (got %r).' % (where, rate))
            continue
        if burst is None or burst < 0:
            problems.append('%s.burst must be 0 or more (got %r).' % (where, k.get('burst')))
            continue
        rate_class = ''
        if rate:
            cls = classes.setdefault((rate, burst), {'name': 'gw_rl_%d' % len(classes), 'rate': rate, 'burst': burst,
                                                     'members': []})
            cls['members'].append(name)
            rate_class = cls['name']
        keys[digest] = {'name': name, 'models': sorted({normalize_model(m) for m in models}) or None,
                        'admin': admin, 'rate_class': rate_class}
    return keys, sorted(classes.values(), key=lambda c: c['name']), problems


def ollama_gateway_config(servers, api_keys=None, default_rate='', default_burst=0, auth=True):
    if not isinstance(servers, list):
        raise AnsibleFilterError('ollama_gateway_config expects the list of upstream servers, got %s'
                                 % type(servers).__name__)
    default_rate = str(default_rate or '').strip()
    if default_rate and not RATE_RE.match(default_rate):
        raise AnsibleFilterError('ollama_gateway_config: default_rate must look like 10r/s or 600r/m, got %r'
                                 % (default_rate,))
    pools = [{'name': ANY_POOL, 'models': [], 'servers': list(servers)}]
    by_models = {}
    for s in servers:
        models = s.get('models')
        if models is None:
            continue
        key = tuple(sorted({normalize_model(m) for m in models}))
        if key:
            by_models.setdefault(key, []).append(s)
    model_servers = {}
    for models, members in by_models.items():
        for m in models:
            model_servers.setdefault(m, []).extend(members)
    # one pool per distinct set of servers, named in a stable order
    groups = {}
    for m in sorted(model_servers):
        ids = tuple(sorted(server_id(s) for s in model_servers[m]))
        groups.setdefault(ids, {'models': [], 'servers': model_servers[m]})['models'].append(m)
    route = {}
    for n, ids in enumerate(sorted(groups, key=lambda i: groups[i]['models'][0])):
        g = groups[ids]
        name = 'ollama_p%d' % n
        pools.append({'name': name, 'models': g['models'],
                      'servers': sorted(g['servers'], key=lambda s: (str(s.get('host')), s['port']))})
        for m in g['models']:
            route[m] = name
    keys, rate_classes, problems = _keys(api_keys, default_rate, default_burst)
    njs = {
        'auth': bool(to_bool(auth)),
        'models': route,
        'keys': keys,
        'backends': [server_id(s) for s in servers if not s.get('down')],
    }
    return {'pools': pools, 'njs': njs, 'rate_classes': rate_classes, 'problems': problems}


class FilterModule(object):
    def filters(self):
        return {'ollama_gateway_config': ollama_gateway_config}
