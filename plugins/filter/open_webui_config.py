# -*- coding: utf-8 -*-
# Copyright (c) 2026, gpufleet maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: open_webui_config
short_description: Check the open_webui role's settings and work out Open WebUI's environment and wheel set
version_added: 0.4.0
author:
  - gpufleet maintainers (@gpufleet)
description:
  - Takes a mapping of the C(open_webui) role's inputs (named as the role's variables) plus what the role read on
    the controller (the release's requirements file, the wheel files staged, the gateway's keys and addresses) and
    returns Open WebUI's environment, the URL and key it reaches the gateway with, the wheels the release installs,
    and one sentence per problem found, each naming the host, the variable, the value given and what is valid.
  - "The environment keeps Open WebUI offline: C(OFFLINE_MODE), C(HF_HUB_OFFLINE), C(TRANSFORMERS_OFFLINE), no
    telemetry (C(SCARF_NO_ANALYTICS), C(DO_NOT_TRACK), C(ANONYMIZED_TELEMETRY)), no model auto-update, no pip
    installs from tool front matter, no version check, no community sharing, no web search and no image generation.
    Only the OpenAI-compatible connection is on, to the gateway's C(/v1) with the UI's own key. With a slim wheel
    set (no C(sentence-transformers)), C(USE_SLIM_DOCKER) is on, so no local embedding model is loaded."
  - Settings the role writes from typed variables cannot be set again through C(open_webui_extra_env).
options:
  _input:
    description:
      - The inputs, keyed by name. Every C(open_webui_*) variable of the role (see the role's argument spec) and
        the keys below. A missing key takes the empty value.
    type: dict
    required: true
    suboptions:
      host:
        description: The inventory name of the host the configuration is for.
        type: str
      webui_hosts:
        description: Hosts of the UI's inventory group (Open WebUI keeps users and chats in one SQLite file).
        type: list
        elements: str
      requirements:
        description: Text of the release's C(requirements.txt) on the controller (empty when it is missing).
        type: str
      wheel_files:
        description: File names in the wheelhouse's C(wheels) directory on the controller.
        type: list
        elements: str
      gateway_keys:
        description: The gateway's C(ollama_gateway_api_keys) (only the names are read, and the key of C(open_webui_gateway_key_name)).
        type: list
        elements: dict
      gateway_default_url:
        description: The gateway URL to use when C(open_webui_gateway_url) is empty (from the gateway's inventory).
        type: str
"""

EXAMPLES = r"""
- name: Check the settings and work out the environment
  ansible.builtin.set_fact:
    __open_webui: >-
      {{ {'host': inventory_hostname, 'webui_hosts': groups['webui'],
          'requirements': lookup('ansible.builtin.file', '/srv/artifacts/open-webui/0.12.4/requirements.txt'),
          'wheel_files': ['open_webui-0.12.4-py3-none-any.whl'],
          'gateway_keys': [{'name': 'open-webui', 'key': 'secret'}],
          'gateway_default_url': 'https://10.0.0.100:443/v1',
          'open_webui_version': '0.12.4', 'open_webui_gateway_key_name': 'open-webui',
          'open_webui_admin_email': 'admin@example.com', 'open_webui_admin_password': 'secret'}
         | gpufleet.ollama.open_webui_config }}
"""

RETURN = r"""
_value:
  description: The configuration worked out, or the problems found.
  type: dict
  contains:
    problems:
      description: One sentence per problem; empty when the settings can work.
      type: list
      elements: str
    env:
      description: Open WebUI's environment (name to value), secrets included; empty when there are problems.
      type: dict
    env_lines:
      description: The environment as the lines of a systemd C(EnvironmentFile) (values double-quoted, escaped).
      type: list
      elements: str
    gateway_url:
      description: The OpenAI-compatible base URL of the gateway (ends with C(/v1)).
      type: str
    wheels:
      description: The wheel file names the release installs (one per line of the requirements file).
      type: list
      elements: str
    slim:
      description: Whether the wheel set leaves out the local embedding stack (no C(sentence-transformers)).
      type: bool
    requirements_sha256:
      description: SHA-256 of the requirements text; an installed release records it.
      type: str
"""

import hashlib
import re

from ansible_collections.gpufleet.ollama.plugins.plugin_utils._settings import path_shape_problem, to_bool, to_int

ROLES = ('pending', 'user', 'admin')
ENV_NAME = re.compile(r'^[A-Z_][A-Z0-9_]*$')
VERSION = re.compile(r'^[0-9]+(\.[0-9]+){1,3}$')
EMAIL = re.compile(r'^[^@\s]+@[^@\s]+\.[^@\s]+$')
REQ_LINE = re.compile(r'^([A-Za-z0-9][A-Za-z0-9._-]*)==(\S+)\s+--hash=sha256:([0-9a-f]{64})$')
URL = re.compile(r'^https?://[^/\s]+(/\S*)?$')
WHEEL = re.compile(r'^([^-]+)-([^-]+)-.*\.whl$')
# Names the role writes from its typed variables (or from the offline settings) and that extra_env cannot override.
TYPED = {
    'DATA_DIR': 'open_webui_data_dir', 'PORT': 'open_webui_port', 'HOST': 'open_webui_listen_address',
    'WEBUI_SECRET_KEY': 'open_webui_secret_key', 'WEBUI_ADMIN_EMAIL': 'open_webui_admin_email',
    'WEBUI_ADMIN_PASSWORD': 'open_webui_admin_password', 'WEBUI_ADMIN_NAME': 'open_webui_admin_name',
    'ENABLE_SIGNUP': 'open_webui_enable_signup', 'DEFAULT_USER_ROLE': 'open_webui_default_user_role',
    'OPENAI_API_BASE_URLS': 'open_webui_gateway_url', 'OPENAI_API_KEYS': 'open_webui_gateway_key_name',
    'OPENAI_API_BASE_URL': 'open_webui_gateway_url', 'OPENAI_API_KEY': 'open_webui_gateway_key_name',
    'WEBUI_URL': 'open_webui_public_url', 'CORS_ALLOW_ORIGIN': 'open_webui_public_url', 'WEBUI_NAME': 'open_webui_name',
    'AIOHTTP_CLIENT_SSL_CERT_FILE': 'open_webui_gateway_ca', 'SSL_CERT_FILE': 'open_webui_gateway_ca',
    'REQUESTS_CA_BUNDLE': 'open_webui_gateway_ca',
    'RAG_EMBEDDING_MODEL': 'open_webui_embedding_model', 'ENABLE_PERSISTENT_CONFIG': 'open_webui_persistent_config',
    'OLLAMA_BASE_URL': 'open_webui_gateway_url', 'OLLAMA_BASE_URLS': 'open_webui_gateway_url',
}
OFFLINE = {
    'OFFLINE_MODE': 'true', 'HF_HUB_OFFLINE': '1', 'TRANSFORMERS_OFFLINE': '1', 'HF_HUB_DISABLE_TELEMETRY': '1',
    'SCARF_NO_ANALYTICS': 'true', 'DO_NOT_TRACK': 'true', 'ANONYMIZED_TELEMETRY': 'false',
    'RAG_EMBEDDING_MODEL_AUTO_UPDATE': 'false', 'RAG_RERANKING_MODEL_AUTO_UPDATE': 'false',
    'WHISPER_MODEL_AUTO_UPDATE': 'false', 'ENABLE_PIP_INSTALL_FRONTMATTER_REQUIREMENTS': 'false',
    'ENABLE_VERSION_UPDATE_CHECK': 'false', 'ENABLE_COMMUNITY_SHARING': 'false', 'ENABLE_WEB_SEARCH': 'false',
    'ENABLE_IMAGE_GENERATION': 'false', 'ENABLE_OLLAMA_API': 'false', 'ENABLE_OPENAI_API': 'true',
    'ENABLE_DIRECT_CONNECTIONS': 'false', 'ENV': 'prod',
}


# Computed by the role from its settings or the wheel set; extra_env cannot set them either.
ROLE_OWNED = frozenset(('STATIC_DIR', 'HOME', 'USE_SLIM_DOCKER', 'RAG_EMBEDDING_ENGINE', 'RAG_OPENAI_API_BASE_URL',
                        'RAG_OPENAI_API_KEY', 'WEBUI_AUTH', 'DATABASE_URL'))


def canonical(name):
    """PEP 503 normalised project name (wheel file names use _ where the project uses - or .)."""
    return re.sub(r'[-_.]+', '-', name).lower()


def parse_requirements(text):
    """[(name, version, sha256)] of a staged requirements file and the lines it cannot read."""
    pins, bad = [], []
    for line in (text or '').splitlines():
        line = line.strip()
        if not line or line.startswith('#'):
            continue
        match = REQ_LINE.match(line)
        if match:
            pins.append((canonical(match.group(1)), match.group(2), match.group(3)))
        else:
            bad.append(line)
    return pins, bad


def env_line(name, value):
    """NAME="value" as systemd reads an EnvironmentFile line (backslash and double quote escaped)."""
    return '%s="%s"' % (name, str(value).replace('\\', '\\\\').replace('"', '\\"'))


def _wheel_index(files):
    index = {}
    for name in files or []:
        match = WHEEL.match(str(name))
        if match:
            index.setdefault((canonical(match.group(1)), match.group(2)), []).append(str(name))
    return index


def open_webui_config(settings):
    if not isinstance(settings, dict):
        raise TypeError('open_webui_config expects a mapping of the role inputs, got %r' % (settings,))
    s = settings
    host = s.get('host') or '?'
    problems = []

    def bad(variable, given, valid):
        problems.append('%s: %s is %r; %s.' % (host, variable, given, valid))

    version = str(s.get('open_webui_version') or '')
    if not VERSION.match(version):
        bad('open_webui_version', s.get('open_webui_version'), 'give a staged release number like 0.12.4')
    hosts = list(s.get('webui_hosts') or [])
    if len(hosts) > 1:
        problems.append('%s: the UI group holds %d hosts (%s); Open WebUI keeps users and chats in one SQLite file on '
                        'its host, so run it on one host (the gateways proxy to it).' % (host, len(hosts), ', '.join(hosts)))
    for variable in ('open_webui_install_root', 'open_webui_data_dir', 'open_webui_wheel_cache_dir'):
        why = path_shape_problem(s.get(variable))
        if why:
            bad(variable, s.get(variable), 'give ' + why)
    port = to_int(s.get('open_webui_port'))
    if port is None or not 1 <= port <= 65535:
        bad('open_webui_port', s.get('open_webui_port'), 'give a TCP port, 1-65535')
    listen = s.get('open_webui_listen_address')
    others = [g for g in (s.get('gateways') or []) if g != host]
    if not isinstance(listen, str) or not listen:
        bad('open_webui_listen_address', listen, 'give an IP address this host owns')
    elif listen in ('0.0.0.0', '::', '*'):
        bad('open_webui_listen_address', listen, 'give the one address the gateways reach this host at (the gateways '
            'proxy to it; every address would also expose the UI without TLS)')
    elif (listen.startswith('127.') or listen in ('::1', 'localhost')) and others:
        bad('open_webui_listen_address', listen, 'give an address the other gateways (%s) reach this host at: they '
            'proxy to it too' % ', '.join(others))
    keep = to_int(s.get('open_webui_keep_versions'))
    if keep is None or keep < 2:
        bad('open_webui_keep_versions', s.get('open_webui_keep_versions'),
            'give 2 or more (the running release and the one to roll back to)')

    email = s.get('open_webui_admin_email')
    if not isinstance(email, str) or not EMAIL.match(email):
        bad('open_webui_admin_email', email, 'give the e-mail address the admin signs in with (name@domain.tld)')
    password = s.get('open_webui_admin_password')
    if not isinstance(password, str) or len(password) < 8 or any(ord(c) < 32 for c in password):
        problems.append('%s: open_webui_admin_password is %s; give one line of 8 characters or more (keep it in a '
                        'vault).' % (host, 'empty' if not password else 'too short' if len(str(password)) < 8
                                     else 'not one line'))
    persistent = to_bool(s.get('open_webui_persistent_config', False))
    if persistent is None:
        bad('open_webui_persistent_config', s.get('open_webui_persistent_config'), 'give true or false')
    signup = to_bool(s.get('open_webui_enable_signup'))
    if signup is None:
        bad('open_webui_enable_signup', s.get('open_webui_enable_signup'), 'give true or false')
    role = s.get('open_webui_default_user_role')
    if role not in ROLES:
        bad('open_webui_default_user_role', role, 'valid: ' + ', '.join(ROLES))
    secret = s.get('open_webui_secret_key') or ''
    if not isinstance(secret, str) or (secret and (len(secret) < 32 or any(c.isspace() for c in secret))):
        problems.append('%s: open_webui_secret_key must be empty (Open WebUI generates one in its data directory) or '
                        '32 characters or more without spaces (keep it in a vault).' % host)

    # The gateway: its URL, the UI's own key from the gateway's key list.
    url = s.get('open_webui_gateway_url') or s.get('gateway_default_url') or ''
    if not isinstance(url, str) or not URL.match(url):
        bad('open_webui_gateway_url', s.get('open_webui_gateway_url'),
            'give the gateway\'s OpenAI-compatible URL, like https://llm.example.internal/v1 (empty: the gateways\' '
            'virtual IP or first gateway, when the inventory has ollama_gateways)')
    else:
        url = url.rstrip('/')
        if not url.endswith('/v1'):
            url = url + '/v1'
    key_name = s.get('open_webui_gateway_key_name') or ''
    keys = [k for k in (s.get('gateway_keys') or []) if isinstance(k, dict)]
    names = [str(k.get('name')) for k in keys]
    key = ''
    if key_name not in names:
        bad('open_webui_gateway_key_name', key_name,
            'name a key of the gateway\'s ollama_gateway_api_keys with its key in clear (vault): %s'
            % (', '.join(names) or 'the gateway has none'))
    else:
        entry = keys[names.index(key_name)]
        key = entry.get('key') or ''
        if ';' in str(key) or any(ord(c) < 33 for c in str(key)):
            problems.append('%s: the gateway key %r has a ; or white space, which Open WebUI would read as two keys '
                            '(OPENAI_API_KEYS is a ;-separated list); give it a key without them.' % (host, key_name))
        if not key:
            problems.append('%s: open_webui_gateway_key_name %r names a gateway key given only as key_sha256; the UI '
                            'sends the key itself: give that entry its key (vault).' % (host, key_name))
        if to_bool(entry.get('admin', False)) is not False:
            problems.append('%s: open_webui_gateway_key_name %r is an admin key of the gateway; give the UI a key of '
                            'its own without admin rights (it only lists models and chats).' % (host, key_name))
    ca = s.get('open_webui_gateway_ca') or ''
    if url.startswith('https://') and not ca:
        bad('open_webui_gateway_ca', ca, 'give the CA certificate file (on the controller) the gateway\'s '
            'certificate is issued by')

    # The staged release.
    pins, unreadable = parse_requirements(s.get('requirements'))
    wheels = []
    slim = True
    where = 'open_webui_wheelhouse_dir %s/%s/requirements.txt' % (s.get('open_webui_wheelhouse_dir'), version)
    if not s.get('requirements'):
        problems.append('%s: %s is missing or empty; stage the release on a connected machine with '
                        'stage_wheelhouse.py --dest %s --version %s (docs/open-webui.md).'
                        % (host, where, s.get('open_webui_wheelhouse_dir'), version))
    else:
        if unreadable:
            problems.append('%s: %s has lines that are not name==version --hash=sha256:<hex>: %s.'
                            % (host, where, '; '.join(unreadable[:3])))
        own = [p for p in pins if p[0] == 'open-webui']
        if not own or own[0][1] != version:
            problems.append('%s: %s pins open-webui %s, not open_webui_version %s.'
                            % (host, where, own[0][1] if own else 'nowhere', version))
        index = _wheel_index(s.get('wheel_files'))
        missing = []
        for name, ver, _digest in pins:
            found = index.get((name, ver))
            if found:
                wheels.append(sorted(found)[0])
            else:
                missing.append('%s==%s' % (name, ver))
        if missing:
            problems.append('%s: %d wheels %s lists are not in its wheels directory: %s%s; stage the release again.'
                            % (host, len(missing), where, ', '.join(missing[:5]), ' ...' if len(missing) > 5 else ''))
        slim = not any(p[0] == 'sentence-transformers' for p in pins)

    extra = s.get('open_webui_extra_env') or {}
    if not isinstance(extra, dict):
        bad('open_webui_extra_env', extra, 'give a mapping of NAME: value')
        extra = {}
    for name, value in extra.items():
        if not ENV_NAME.match(str(name)):
            bad('open_webui_extra_env', name, 'names are environment variable names (A-Z, 0-9, _)')
        elif str(name) in ROLE_OWNED:
            problems.append('%s: open_webui_extra_env sets %s, which the role writes itself (the data and static '
                            'directories, sign-in, the slim mode, the gateway for embeddings).' % (host, name))
        elif str(name) in TYPED:
            problems.append('%s: open_webui_extra_env sets %s; use %s instead.' % (host, name, TYPED[str(name)]))
        elif str(name) in OFFLINE:
            problems.append('%s: open_webui_extra_env sets %s, which the role sets to %s to keep the UI offline and on '
                            'the gateway.' % (host, name, OFFLINE[str(name)]))
        elif isinstance(value, (dict, list)) or any(ord(c) < 32 for c in str(value)):
            bad('open_webui_extra_env.' + str(name), value, 'give one line of text')

    if problems:
        return {'problems': problems, 'env': {}, 'env_lines': [], 'gateway_url': url, 'wheels': [], 'slim': slim,
                'requirements_sha256': ''}

    env = dict(OFFLINE)
    env.update({
        'DATA_DIR': s['open_webui_data_dir'],
        'STATIC_DIR': s['open_webui_data_dir'] + '/static',
        'HOME': s['open_webui_data_dir'],
        'USE_SLIM_DOCKER': 'true' if slim else 'false',
        'OPENAI_API_BASE_URLS': url,
        # the Ollama API is off; an unset base URL makes Open WebUI probe localhost:11434 at import (config.py)
        'OLLAMA_BASE_URL': url[:-len('/v1')],
        'OPENAI_API_KEYS': key,
        'RAG_EMBEDDING_ENGINE': 'openai',
        'RAG_OPENAI_API_BASE_URL': url,
        'RAG_OPENAI_API_KEY': key,
        'RAG_EMBEDDING_MODEL': s.get('open_webui_embedding_model') or '',
        'WEBUI_AUTH': 'true',
        'WEBUI_ADMIN_EMAIL': email,
        'WEBUI_ADMIN_PASSWORD': password,
        'WEBUI_ADMIN_NAME': s.get('open_webui_admin_name') or 'Admin',
        'ENABLE_SIGNUP': 'true' if signup else 'false',
        'DEFAULT_USER_ROLE': role,
        'WEBUI_NAME': s.get('open_webui_name') or 'Open WebUI',
        # false: the inventory's settings win at every start; true: the database keeps what admins set in the UI,
        # and the environment counts only for keys it does not have yet (the first start)
        'ENABLE_PERSISTENT_CONFIG': 'true' if persistent else 'false',
    })
    if s.get('open_webui_public_url'):
        env['WEBUI_URL'] = s['open_webui_public_url']
        env['CORS_ALLOW_ORIGIN'] = s['open_webui_public_url']
    if secret:
        env['WEBUI_SECRET_KEY'] = secret
    if url.startswith('https://'):
        # aiohttp (the model list and chats) reads AIOHTTP_CLIENT_SSL_CERT_FILE (open_webui/env.py); requests and the
        # standard library read the other two.
        env['AIOHTTP_CLIENT_SSL_CERT_FILE'] = env['SSL_CERT_FILE'] = env['REQUESTS_CA_BUNDLE'] = s.get('ca_path') or ''
    env.update(dict((str(k), str(v)) for k, v in extra.items()))
    return {
        'problems': [],
        'env': env,
        'env_lines': [env_line(k, env[k]) for k in sorted(env)],
        'gateway_url': url,
        'wheels': wheels,
        'slim': slim,
        'requirements_sha256': hashlib.sha256((s.get('requirements') or '').encode('utf-8')).hexdigest(),
    }


class FilterModule(object):
    def filters(self):
        return {'open_webui_config': open_webui_config}
