# -*- coding: utf-8 -*-
# Copyright (c) 2026, gpufleet maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: ollama_models_catalog
short_description: Check every GPU node's declared models and work out what to build and where
version_added: 0.1.0
author:
  - gpufleet maintainers (@gpufleet)
description:
  - Takes the C(ollama_models) list of every GPU node of the play and checks each entry before anything changes
    (the C(gpufleet.ollama.ollama_models) role's preflight). A problem names the host, the variable, the value
    given and what is valid.
  - An entry is a mapping with C(name) and one source. V(bundle) (the default) - an exported bundle in
    C(ollama_models_bundle_dir); V(gguf) - C(gguf), a GGUF file on the controller, with optional C(modelfile) lines
    (C(TEMPLATE), C(SYSTEM), C(PARAMETER), C(LICENSE), C(MESSAGE), C(ADAPTER); never C(FROM)); V(from) - C(from), a
    parent model declared too, with overrides C(template), C(system), C(parameters), C(license) and C(messages).
    C(state) is V(present) (default) or V(absent).
  - Models of the V(gguf) and V(from) sources are built once, on the staging host, in an order where every parent
    comes before its children; the other nodes receive the result as a bundle.
  - The same model declared differently on two hosts is a problem (it is built once).
options:
  _input:
    description: Pairs C([host, ollama_models]) for every GPU node of the play.
    type: list
    elements: list
    required: true
  staging_host:
    description:
      - Host that builds the V(gguf) and V(from) models (C(ollama_models_staging_host)).
      - Empty - the first host of O(_input) that declares every built model and its parents.
    type: str
    default: ""
  only:
    description:
      - Restrict the catalog to these models (the rollout playbook's C(-e model=...)) and the parents they need.
      - A name that no host declares becomes a V(bundle) model of every host of O(_input).
    type: list
    elements: str
    default: []
"""

EXAMPLES = r"""
- name: Check every node's models and plan the builds
  ansible.builtin.set_fact:
    __ollama_models_catalog: >-
      {{ ansible_play_hosts | zip(ansible_play_hosts | map('extract', hostvars)
         | map(attribute='ollama_models', default=[])) | gpufleet.ollama.ollama_models_catalog(ollama_models_staging_host) }}
  run_once: true
"""

RETURN = r"""
_value:
  description: The checked catalog.
  type: dict
  contains:
    problems:
      description: Every problem found, one sentence each; empty when the input is fine.
      type: list
      elements: str
    models:
      description: Every model declared present anywhere, by display name, normalised (C(name), C(source), C(gguf),
        C(modelfile), C(from), C(template), C(system), C(parameters), C(license), C(messages)).
      type: dict
    hosts:
      description: For each host, the display names of its present models (in declaration order) and its absent ones.
      type: dict
      sample: {gpu01: {present: ["qwen2:7b"], absent: ["old:latest"]}}
    bundles:
      description: Names of the V(bundle) models, in declaration order.
      type: list
      elements: str
    built:
      description: Names of the V(gguf) and V(from) models, parents first.
      type: list
      elements: str
    staging_host:
      description: The host that builds them (empty when nothing is built).
      type: str
"""

from ansible.errors import AnsibleFilterError
from ansible_collections.gpufleet.ollama.plugins.module_utils._names import normalize_model_name

# _store and _modelfile are imported by the function that uses them: every task's worker process imports all of
# the collection's filters, and compiling those two files cost each of them about 10 ms (docs/performance.md).

KEYS = {
    'bundle': {'name', 'state', 'source'},
    'gguf': {'name', 'state', 'source', 'gguf', 'modelfile'},
    'from': {'name', 'state', 'source', 'from', 'template', 'system', 'parameters', 'license', 'messages'},
}
SOURCES = ('bundle', 'gguf', 'from')


def name_problem(text):
    """None when ``text`` is a valid Ollama model name (types/model/name.go rules), else why not."""
    from ansible_collections.gpufleet.ollama.plugins.module_utils._store import StoreError, name_parts
    if not isinstance(text, str) or not text.strip():
        return 'a model name must be a non-empty string'
    try:
        name_parts(text)
    except StoreError as e:
        return str(e)
    return None


def _normal(entry, canonical):
    """The comparable definition of a present model."""
    source = entry['source']
    out = {'name': entry['name'], 'source': source}
    for key in sorted(KEYS[source] - {'name', 'state', 'source'}):
        if key in entry:
            out[key] = entry[key]
    if 'from' in out:
        parent = normalize_model_name(out['from'])
        out['from'] = canonical.setdefault(parent.lower(), parent)
    if isinstance(out.get('license'), str):
        out['license'] = [out['license']]
    return out


def _entry_problems(where, entry):
    """The problems of one ollama_models entry."""
    from ansible_collections.gpufleet.ollama.plugins.module_utils._modelfile import ModelfileError, parse_modelfile
    problems = []
    source = entry.get('source') or ('gguf' if 'gguf' in entry else 'from' if 'from' in entry else 'bundle')
    if source not in SOURCES:
        return ['%s.source: %r is not a source (valid: %s).' % (where, source, ', '.join(SOURCES))], None
    state = entry.get('state', 'present')
    if state not in ('present', 'absent'):
        problems.append('%s.state: %r is not valid (valid: present, absent).' % (where, state))
    unknown = sorted(set(entry) - KEYS[source])
    if unknown:
        problems.append('%s: unknown key(s) %s for source %s (valid: %s).'
                        % (where, ', '.join(unknown), source, ', '.join(sorted(KEYS[source]))))
    if source == 'gguf':
        if not isinstance(entry.get('gguf'), str) or not entry['gguf'].strip():
            problems.append('%s.gguf: give the path of the GGUF file on the controller, got %r.'
                            % (where, entry.get('gguf')))
        modelfile = entry.get('modelfile', '')
        if not isinstance(modelfile, str):
            problems.append('%s.modelfile: give Modelfile lines as one string, got %r.' % (where, modelfile))
        else:
            try:
                # The role writes the FROM line itself (the GGUF); the lines given must add none.
                # appended last, so that the line numbers of the errors are the user's
                commands = parse_modelfile(modelfile + '\nFROM ./model.gguf\n', path='in ollama_models')[:-1]
            except ModelfileError as e:
                problems.append('%s.modelfile: %s.' % (where, e))
            else:
                if any(c.name == 'model' for c in commands):
                    problems.append('%s.modelfile: has a FROM line; the weights come from gguf, leave FROM out.'
                                    % where)
    if source == 'from':
        parent = entry.get('from')
        why = name_problem(parent) if isinstance(parent, str) else 'it is not a string'
        if why:
            problems.append('%s.from: %r is not a model name: %s.' % (where, parent, why))
        if 'parameters' in entry and not isinstance(entry['parameters'], dict):
            problems.append('%s.parameters: give a mapping such as {temperature: 0.6}, got %r.'
                            % (where, entry['parameters']))
        if 'messages' in entry and not (isinstance(entry['messages'], list) and all(
                isinstance(m, dict) and set(m) == {'role', 'content'} for m in entry['messages'])):
            problems.append('%s.messages: give a list of {role, content} mappings, got %r.' % (where, entry['messages']))
        for key in ('template', 'system'):
            if key in entry and not isinstance(entry[key], str):
                problems.append('%s.%s: give a string, got %r.' % (where, key, entry[key]))
    return problems, dict(entry, source=source, state=state)


def _build_order(built, models):
    """Parents first (a parent that is itself built comes before its children)."""
    order, seen = [], set()

    def visit(name, chain):
        if name in seen:
            return
        if name in chain:
            raise ValueError(' -> '.join(chain + [name]))
        parent = models[name].get('from')
        if parent in models and models[parent]['source'] != 'bundle':
            visit(parent, chain + [name])
        seen.add(name)
        order.append(name)

    for name in built:
        visit(name, [])
    return order


def ollama_models_catalog(pairs, staging_host='', only=None):
    if not isinstance(pairs, list):
        raise AnsibleFilterError('ollama_models_catalog expects pairs [host, ollama_models], got %s'
                                 % type(pairs).__name__)
    problems, models, hosts, first_host, canonical, seen = [], {}, {}, {}, {}, {}
    for name in only or []:
        why = name_problem(name)
        if why:
            problems.append('model (the models to roll out): %r is not a model name: %s.' % (name, why))
    only = [normalize_model_name(n) for n in (only or []) if not name_problem(n)]
    for pair in pairs:
        host, declared = pair[0], pair[1]
        hosts[host] = {'present': [], 'absent': []}
        if declared is None:
            declared = []
        if not isinstance(declared, list):
            problems.append('%s: ollama_models must be a list of mappings, got %r.' % (host, declared))
            continue
        for index, entry in enumerate(declared):
            where = '%s: ollama_models[%d]' % (host, index)
            if not isinstance(entry, dict):
                problems.append('%s: must be a mapping with at least a name, got %r.' % (where, entry))
                continue
            why = name_problem(entry.get('name'))
            if why:
                problems.append('%s.name: %r is not a model name: %s.' % (where, entry.get('name'), why))
                continue
            name = normalize_model_name(entry['name'])
            name = canonical.setdefault(name.lower(), name)
            where = '%s (%s)' % (where, name)
            if name in seen.setdefault(host, {}):
                problems.append('%s: %s is declared twice on this host (also ollama_models[%d]); keep one entry.'
                                % (where, name, seen[host][name]))
                continue
            seen[host][name] = index
            found, entry = _entry_problems(where, dict(entry, name=name))
            problems.extend(found)
            if found:
                continue
            if entry['state'] == 'absent':
                hosts[host]['absent'].append(name)
                continue
            hosts[host]['present'].append(name)
            normal = _normal(entry, canonical)
            if name in models and models[name] != normal:
                problems.append('%s: declared differently on %s (%r); a model is built once, so every host must declare '
                                'it the same way.' % (where, first_host[name], models[name]))
                continue
            models.setdefault(name, normal)
            first_host.setdefault(name, host)

    for model in models.values():
        if model.get('from'):
            model['from'] = canonical.get(model['from'].lower(), model['from'])
    only = [canonical.setdefault(n.lower(), n) for n in only]
    only = [n for i, n in enumerate(only) if n not in only[:i]]
    if only:
        wanted = set()
        for name in only:
            if name not in models:
                models[name] = {'name': name, 'source': 'bundle'}
                for host in hosts:
                    if name not in hosts[host]['absent']:
                        hosts[host]['present'].append(name)
            while name in models and name not in wanted:
                wanted.add(name)
                name = models[name].get('from')
        models = {n: m for n, m in models.items() if n in wanted}
        for host in hosts:
            hosts[host] = {'present': [n for n in hosts[host]['present'] if n in wanted], 'absent': []}

    for name, model in models.items():
        parent = model.get('from')
        if parent and parent not in models:
            problems.append('%s: ollama_models[%d] (%s) is derived from %s, which no GPU node declares; declare the '
                            'parent too (it is placed first and its weights are shared).'
                            % (first_host.get(name, '?'), seen.get(first_host.get(name), {}).get(name, -1), name,
                               parent))
    built = [n for n, m in models.items() if m['source'] != 'bundle']
    try:
        built = _build_order(built, models)
    except ValueError as e:
        problems.append('ollama_models: the models derive from each other in a circle: %s.' % e)
        built = []

    needed = set(built)
    for name in built:
        parent = models[name].get('from')
        while parent in models:
            needed.add(parent)
            parent = models[parent].get('from')
    if built and not staging_host:
        staging_host = next((h for h in hosts if needed <= set(hosts[h]['present'])), '')
        if not staging_host:
            problems.append('ollama_models: no GPU node declares every built model (%s) and its parents; set '
                            'ollama_models_staging_host to a node that does.' % ', '.join(sorted(needed)))
    elif built and staging_host not in hosts:
        problems.append('ollama_models_staging_host: %r is not a GPU node of this play (valid: %s).'
                        % (staging_host, ', '.join(hosts)))
    elif built and not needed <= set(hosts[staging_host]['present']):
        problems.append('ollama_models_staging_host: %s does not declare %s; the staging host must declare every built '
                        'model and its parents.' % (staging_host, ', '.join(sorted(needed - set(hosts[staging_host]['present'])))))
    return {
        'problems': problems,
        'models': models,
        'hosts': hosts,
        'bundles': [n for n, m in models.items() if m['source'] == 'bundle'],
        'built': built,
        'staging_host': staging_host if built else '',
    }


class FilterModule(object):
    def filters(self):
        return {'ollama_models_catalog': ollama_models_catalog}
