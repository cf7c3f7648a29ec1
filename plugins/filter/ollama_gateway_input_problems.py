# -*- coding: utf-8 -*-
# Copyright (c) 2026, gpufleet maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: ollama_gateway_input_problems
short_description: Check the variables of the ollama_gateway role for their meaning, before any host changes
version_added: 0.1.0
author:
  - gpufleet maintainers (@gpufleet)
description:
  - Takes a mapping of the role's variables (named as in the role, for example C(ollama_gateway_listen_port)) and
    returns one sentence per problem found, each naming the variable, what was given and what is valid; an empty
    list means the input is usable. Variables missing from the mapping are not checked.
  - "What the argument spec's types cannot say: ports 1-65535 and the TLS port apart from the plain one; the
    timeouts in nginx's time syntax (C(1s), C(900s), C(1m30s), C(500ms); units C(ms s m h d w), C(y) and C(M) only in
    C(ollama_gateway_fail_timeout)) and above 0; body sizes in nginx's size syntax (C(16m), C(512k), C(0) for
    the management limit; C(g) only there); the default rate (C(10r/s), C(600r/m)) and burst; C(keepalive) 1 or more
    (Debian's nginx refuses 0), C(worker_connections) within the open-file limit the role derives from it; the
    certificate and key given together; names for the certificate (C(DNS:name), C(IP:address), C(email:),
    C(URI:), C(RID:)); a C(server_name) nginx can parse; drained hosts as C(host) or C(host:port); the drain
    settings; raw C(ollama_gateway_extra_http_config) with balanced braces, closed quotes and a final C(;) or C(});
    and API keys required (C(ollama_gateway_auth)) with no key at all, which would answer 401 to everyone."
  - The API keys themselves (names, secrets, rates) are checked by P(gpufleet.ollama.ollama_gateway_config#filter).
  - "Cross-role, when present in the mapping: C(ollama_load_timeout) (the GPU nodes' value, or a list of them) must
    stay below C(ollama_gateway_read_timeout), since a model load sends nothing until it ends; with
    C(ollama_gateway_vip_address) set, C(ollama_gateway_vip_check_url) (role ollama_gateway_vip) must reach a port
    this gateway listens on; and a certificate name C(IP:<address>) that is no address names
    C(ollama_gateway_vip_address) when that is where it comes from (the example inventories put the virtual IP into
    the certificate)."
options:
  _input:
    description: The role's variables, keyed by variable name (plus the optional cross-role ones above).
    type: dict
    required: true
"""

EXAMPLES = r"""
- name: Check the gateway variables
  ansible.builtin.assert:
    that: __ollama_gateway_input_problems | length == 0
    fail_msg: "{{ inventory_hostname }}: {{ __ollama_gateway_input_problems | join(' ') }} Nothing was changed."
    quiet: true
  vars:
    __ollama_gateway_input_problems: >-
      {{ {'ollama_gateway_listen_port': ollama_gateway_listen_port, 'ollama_gateway_tls_port': ollama_gateway_tls_port,
          'ollama_gateway_tls_enabled': ollama_gateway_tls_enabled,
          'ollama_gateway_read_timeout': ollama_gateway_read_timeout,
          'ollama_load_timeout': groups['gpu_nodes'] | map('extract', hostvars, 'ollama_load_timeout') | list}
         | gpufleet.ollama.ollama_gateway_input_problems }}
"""

RETURN = r"""
_value:
  description: One sentence per problem, each naming the variable, what was given and what is valid.
  type: list
  elements: str
  sample:
    - "ollama_gateway_read_timeout must be an nginx time above 0 such as 900s, 15m or 1m30s (units ms, s, m, h, d,
      w, in that order, no spaces) (got '15 min')."
"""

import ipaddress
import re
from urllib.parse import urlsplit

from ansible.errors import AnsibleFilterError
from ansible_collections.gpufleet.ollama.plugins.plugin_utils._settings import (
    nginx_size, nginx_time, ollama_duration, to_bool, to_int)

RATE_RE = re.compile(r'^([0-9]+)r/[sm]$')
BOOLEANS = ('ollama_gateway_tls_enabled', 'ollama_gateway_auth', 'ollama_gateway_upstream_header',
            'ollama_gateway_drain_force')
# (variable, lowest, highest or None, why)
INTEGERS = (
    ('ollama_gateway_default_burst', 0, None, ''),
    ('ollama_gateway_max_fails', 0, None, ''),
    ('ollama_gateway_queue_per_instance', 0, None, ''),
    ('ollama_gateway_keepalive', 1, None, ": the nginx of Debian 12 and 13 refuses 'keepalive 0'"),
    ('ollama_gateway_next_upstream_tries', 0, None, ''),
    ('ollama_gateway_tls_validity_days', 1, None, ''),
    ('ollama_gateway_drain_timeout', 1, None, ''),
    ('ollama_gateway_log_rotate', 1, None, ''),
    # worker_rlimit_nofile = 2 x worker_connections + 1024 must stay within fs.nr_open (1048576 by default);
    # below 16, nginx has no connection left once its listening sockets took theirs.
    ('ollama_gateway_worker_connections', 16, (1048576 - 1024) // 2,
     ': the role sets worker_rlimit_nofile to 2 x worker_connections + 1024, which the kernel caps at fs.nr_open '
     '(1048576 by default)'),
)
# nginx time values in milliseconds (proxy_*_timeout: ngx_conf_set_msec_slot).
MSEC_TIMES = ('ollama_gateway_connect_timeout', 'ollama_gateway_read_timeout', 'ollama_gateway_send_timeout')
TIME_EXAMPLES = {
    'ollama_gateway_connect_timeout': '1s, 500ms or 2s',
    'ollama_gateway_read_timeout': '900s, 15m or 1h',
    'ollama_gateway_send_timeout': '900s, 15m or 1h',
}
# logrotate's size units (maxsize): bytes, or k, M, G (logrotate(8), "size")
LOG_SIZE_RE = re.compile(r'^[0-9]+[kMG]?$')
# nginx `listen address:port` for the stub_status server: IPv4 or [IPv6] with a port
STATUS_LISTEN_RE = re.compile(r'^(?P<address>[0-9.]+|\[[0-9A-Fa-f:.]+\]):(?P<port>[0-9]+)$')
SAN_PREFIXES = ('DNS:', 'IP:', 'email:', 'URI:', 'RID:', 'dirName:', 'otherName:')
DNS_LABEL_RE = re.compile(r'^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$')
HOST_RE = re.compile(r'^[A-Za-z0-9_]([A-Za-z0-9_.-]*[A-Za-z0-9_])?$')
SERVER_NAME_BAD = frozenset(';{}"\'\\#$')


def _int_problem(s, name, low, high, why, p):
    if name not in s:
        return None
    value = to_int(s[name])
    if value is None or value < low or (high is not None and value > high):
        valid = ('%d or more' % low) if high is None else ('%d-%d' % (low, high))
        p.append('%s must be an integer, %s%s (got %r).' % (name, valid, why, s[name]))
        return None
    return value


def _port(s, name, p):
    if name not in s:
        return None
    value = to_int(s[name])
    if value is None or not 1 <= value <= 65535:
        p.append('%s must be a port number 1-65535 (got %r).' % (name, s[name]))
        return None
    return value


def _dns_name_problem(name):
    if not name:
        return 'an empty name'
    bare = name[2:] if name.startswith('*.') else name
    try:
        ascii_name = bare.encode('idna').decode('ascii')
    except UnicodeError:
        return 'not a valid host name'
    if len(ascii_name) > 253 or not all(DNS_LABEL_RE.match(label) for label in ascii_name.rstrip('.').split('.')):
        return 'not a valid host name'
    return ''


def _san_problems(sans, vip=None):
    """Problems of the certificate names; ``vip`` (ollama_gateway_vip_address, when given) names the variable an
    IP: entry most likely comes from."""
    if sans is None:
        return []
    if not isinstance(sans, list):
        return ['ollama_gateway_tls_subject_alt_names must be a list such as [DNS:llm.example.internal, IP:10.0.0.100] '
                '(got %r).' % (sans,)]
    p = []
    for n, san in enumerate(sans):
        where = 'ollama_gateway_tls_subject_alt_names[%d]' % n
        text = san if isinstance(san, str) else ''
        prefix = next((x for x in SAN_PREFIXES if text.startswith(x)), None)
        if prefix is None:
            hint = ''
            if isinstance(san, str) and ':' not in san:
                hint = ' (DNS: or IP: forgotten?)'
            elif isinstance(san, str) and san.split(':', 1)[0].upper() in ('DNS', 'IP'):
                hint = ' (the type is case-sensitive: DNS: or IP:)'
            p.append('%s must be a type and a value such as DNS:llm.example.internal or IP:10.0.0.100%s (got %r).'
                     % (where, hint, san))
            continue
        value = text[len(prefix):]
        if prefix == 'IP:':
            try:
                ipaddress.ip_network(value) if '/' in value else ipaddress.ip_address(value)
            except ValueError:
                source = ''
                if vip is not None and value == str(vip).strip():
                    source = ', from ollama_gateway_vip_address%s' % (', which is empty' if not value else '')
                elif not value:
                    source = '; is the variable it comes from empty?'
                p.append('%s must carry an IP address after IP:, such as IP:10.0.0.100 (got %r%s).'
                         % (where, san, source))
        elif prefix == 'DNS:':
            why = _dns_name_problem(value)
            if why:
                p.append('%s must carry a host name after DNS:, such as DNS:llm.example.internal (got %r: %s).'
                         % (where, san, why))
        elif not value or any(c.isspace() for c in value):
            p.append('%s must carry a value without spaces after %s (got %r).' % (where, prefix, san))
    return p


def _nginx_text_problem(text):
    """Why raw nginx lines would not parse as a sequence of complete directives; '' when they would."""
    depth, quote, comment, last, word_start = 0, None, False, '', True
    i = 0
    while i < len(text):
        c = text[i]
        if comment:
            if c == '\n':
                comment, word_start = False, True
            i += 1
            continue
        if quote:
            if c == '\\':
                i += 2
                continue
            if c == quote:
                quote, word_start = None, False
            i += 1
            continue
        if c == '$' and text[i + 1:i + 2] == '{':
            end = text.find('}', i)
            if end < 0:
                return 'has a ${ without its }'
            i, last, word_start = end + 1, 'x', False
            continue
        if c == '#' and word_start:
            comment = True
        elif c in '"\'' and word_start:
            quote, last = c, 'x'
        elif c == '{':
            depth, last, word_start = depth + 1, '{', True
        elif c == '}':
            depth -= 1
            if depth < 0:
                return 'closes a } that was never opened'
            last, word_start = '}', True
        elif c == ';':
            last, word_start = ';', True
        elif c.isspace():
            word_start = True
        else:
            last, word_start = 'x', False
        i += 1
    if quote:
        return 'leaves a quote open'
    if depth:
        return 'leaves %d { open' % depth
    if last not in ('', ';', '}'):
        return 'does not end with ; or }'
    return ''


def _drained_problems(drained):
    if drained is None:
        return []
    if not isinstance(drained, list):
        return ['ollama_gateway_drained_hosts must be a list of GPU nodes (gpu01) or instances (gpu01:11435) '
                '(got %r).' % (drained,)]
    bad = []
    for entry in drained:
        text = entry if isinstance(entry, str) else ''
        host, _sep, port = text.partition(':')
        if not HOST_RE.match(host) or (_sep and (to_int(port) is None or not 1 <= to_int(port) <= 65535
                                                 or not port.isdigit())):
            bad.append(repr(entry))
    if bad:
        return ['ollama_gateway_drained_hosts entries must be inventory names of GPU nodes (gpu01) or instances '
                '(gpu01:11435) (got %s).' % ', '.join(bad)]
    return []


def _check_url_problems(s, listen, tls_port, tls_on, p):
    vip = str(s.get('ollama_gateway_vip_address') or '').strip()
    url = s.get('ollama_gateway_vip_check_url')
    if not vip or not isinstance(url, str) or listen is None:
        return
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return  # the shape is ollama_gateway_vip_config's to report
    if parts.scheme == 'https':
        if not tls_on:
            p.append("ollama_gateway_vip_check_url is https, but ollama_gateway_tls_enabled is false: nginx serves "
                     "no TLS, so every check would fail and no gateway would hold the virtual IP (got '%s'); valid: "
                     "http://127.0.0.1:%d/healthz." % (url, listen))
        elif tls_port is not None and (port or 443) != tls_port:
            p.append("ollama_gateway_vip_check_url asks port %d, but the gateway serves TLS on "
                     "ollama_gateway_tls_port %d: every check would fail and no gateway would hold the virtual IP "
                     "(got '%s'); valid: https://127.0.0.1:%d/healthz." % (port or 443, tls_port, url, tls_port))
    elif parts.scheme == 'http' and (port or 80) != listen:
        p.append("ollama_gateway_vip_check_url asks port %d, but the gateway listens on ollama_gateway_listen_port %d: "
                 "every check would fail and no gateway would hold the virtual IP (got '%s'); valid: "
                 "http://127.0.0.1:%d/healthz." % (port or 80, listen, url, listen))
    elif (parts.scheme == 'http' and tls_on and str(s.get('ollama_gateway_http_mode')) == 'off'
          and (parts.hostname or '') not in ('127.0.0.1', 'localhost')):
        p.append("ollama_gateway_vip_check_url must ask 127.0.0.1: with ollama_gateway_http_mode off the plain port "
                 "listens on 127.0.0.1 only (got '%s'); valid: http://127.0.0.1:%d/healthz." % (url, listen))


def ollama_gateway_input_problems(settings):
    if not isinstance(settings, dict):
        raise AnsibleFilterError('ollama_gateway_input_problems expects a mapping of variables, got %s'
                                 % type(settings).__name__)
    s = settings
    p = []
    for name in BOOLEANS:
        if name in s and to_bool(s[name]) is None:
            p.append('%s must be true or false (got %r).' % (name, s[name]))
    tls_on = to_bool(s.get('ollama_gateway_tls_enabled', True)) is not False

    listen = _port(s, 'ollama_gateway_listen_port', p)
    tls_port = _port(s, 'ollama_gateway_tls_port', p)
    if tls_on and listen is not None and listen == tls_port:
        p.append('ollama_gateway_tls_port must differ from ollama_gateway_listen_port: with TLS on, nginx listens on '
                 'both (got %d for both); valid: two ports, such as 443 and 80.' % listen)
    if 'ollama_gateway_http_mode' in s and s['ollama_gateway_http_mode'] not in ('redirect', 'off'):
        hint = " (write 'off' in quotes: unquoted, YAML reads a boolean)" if isinstance(
            s['ollama_gateway_http_mode'], bool) else ''
        p.append('ollama_gateway_http_mode must be redirect or off%s (got %r).' % (hint, s['ollama_gateway_http_mode']))

    if 'ollama_gateway_log_max_size' in s and not LOG_SIZE_RE.match(str(s['ollama_gateway_log_max_size'])):
        p.append("ollama_gateway_log_max_size must be a size logrotate reads, bytes or with k, M or G, such as 100M or "
                 "1G (got %r)." % (s['ollama_gateway_log_max_size'],))
    status = s.get('ollama_gateway_status_listen')
    if status not in (None, ''):
        m = STATUS_LISTEN_RE.match(str(status))
        if not m or not 1 <= int(m.group('port')) <= 65535:
            p.append("ollama_gateway_status_listen must be an address and port on this host, such as 127.0.0.1:8080 "
                     "or [::1]:8080, or '' for no stub_status (got %r). A port another listener of the host uses is "
                     "refused by the site's check of the host's ports (ollama_host_problems)." % (status,))

    cert = str(s.get('ollama_gateway_tls_cert_src') or '')
    key = str(s.get('ollama_gateway_tls_key_src') or '')
    if 'ollama_gateway_tls_cert_src' in s and 'ollama_gateway_tls_key_src' in s and bool(cert) != bool(key):
        p.append("ollama_gateway_tls_cert_src and ollama_gateway_tls_key_src must be set together, or both left empty "
                 "for a certificate from the internal CA (got %s and %s)."
                 % ("'%s'" % cert if cert else 'no certificate', 'a key' if key else 'no key'))
    if 'ollama_gateway_pki_dir' in s and not str(s['ollama_gateway_pki_dir'] or '').strip():
        p.append("ollama_gateway_pki_dir must be a directory on the controller for the internal CA (got %r)."
                 % (s['ollama_gateway_pki_dir'],))
    if 'ollama_gateway_tls_subject_alt_names' in s:
        p.extend(_san_problems(s['ollama_gateway_tls_subject_alt_names'], s.get('ollama_gateway_vip_address')))
    if 'ollama_gateway_server_name' in s:
        name = s['ollama_gateway_server_name']
        if (not isinstance(name, str) or not name.strip()
                or any(c in SERVER_NAME_BAD or (ord(c) < 32 and c != ' ') for c in name)):
            p.append("ollama_gateway_server_name must be _ or host names separated by spaces, without ; { } quotes, # "
                     "or $ (got %r)." % (name,))

    for name, low, high, why in INTEGERS:
        _int_problem(s, name, low, high, why, p)
    if 'ollama_gateway_drain_interval' in s:
        value = s['ollama_gateway_drain_interval']
        try:
            ok = not isinstance(value, bool) and float(value) > 0
        except (TypeError, ValueError):
            ok = False
        if not ok:
            p.append('ollama_gateway_drain_interval must be a number of seconds above 0, such as 1 or 0.5 (got %r).'
                     % (value,))
    if 'ollama_gateway_drain_state' in s and s['ollama_gateway_drain_state'] not in ('drained', 'active'):
        p.append('ollama_gateway_drain_state must be drained or active (got %r).' % (s['ollama_gateway_drain_state'],))

    times = {}
    for name in MSEC_TIMES:
        if name not in s:
            continue
        value = nginx_time(s[name])
        if not value:
            p.append("%s must be an nginx time above 0 such as %s (units ms, s, m, h, d, w, each once and in that "
                     "order, no spaces) (got %r)." % (name, TIME_EXAMPLES[name], s[name]))
        else:
            times[name] = value
    if 'ollama_gateway_fail_timeout' in s:
        value = nginx_time(s['ollama_gateway_fail_timeout'], seconds=True)
        max_fails = to_int(s.get('ollama_gateway_max_fails', 1))
        if value is None or (value == 0 and (max_fails or 0) > 0):
            p.append("ollama_gateway_fail_timeout must be an nginx time in seconds above 0 such as 10s, 30s or 1m "
                     "(units s, m, h, d, w, M, y, each once and in that order; no ms, no spaces) (got %r)."
                     % (s['ollama_gateway_fail_timeout'],))
    read = times.get('ollama_gateway_read_timeout')
    if read and s.get('ollama_load_timeout') is not None:
        loads = s['ollama_load_timeout'] if isinstance(s['ollama_load_timeout'], list) else [s['ollama_load_timeout']]
        parsed = [ollama_duration(v) for v in loads]
        longest = max([ns for ns in parsed if ns is not None and ns > 0] or [0])
        if longest and read * 10 ** 6 <= longest:
            p.append("ollama_gateway_read_timeout (%s) must be longer than the GPU nodes' ollama_load_timeout (%s): a "
                     "model load sends nothing until it ends, so nginx would give up on it first; valid: more than "
                     "%d s, such as %ds." % (s['ollama_gateway_read_timeout'], ', '.join(sorted({str(v) for v in loads})),
                                             longest // 10 ** 9, longest // 10 ** 9 * 3))

    if 'ollama_gateway_inference_max_body_size' in s:
        value = nginx_size(s['ollama_gateway_inference_max_body_size'])
        if not value:
            p.append("ollama_gateway_inference_max_body_size must be an nginx size above 0 such as 16m or 512k (a "
                     "number, optionally followed by k or m; no g, no spaces): the gateway holds the request body in "
                     "memory to read its model (got %r)." % (s['ollama_gateway_inference_max_body_size'],))
    if 'ollama_gateway_client_max_body_size' in s and nginx_size(s['ollama_gateway_client_max_body_size'],
                                                                 offset=True) is None:
        p.append("ollama_gateway_client_max_body_size must be an nginx size such as 0 (no limit), 100g or 512m (a "
                 "number, optionally followed by k, m or g; no spaces) (got %r)."
                 % (s['ollama_gateway_client_max_body_size'],))

    if 'ollama_gateway_default_rate' in s:
        rate = s['ollama_gateway_default_rate']
        m = RATE_RE.match(rate.strip()) if isinstance(rate, str) else None
        if not (isinstance(rate, str) and not rate.strip()) and not (m and int(m.group(1)) > 0):
            p.append("ollama_gateway_default_rate must be a request rate such as 10r/s or 600r/m (a whole number above "
                     "0, r/s or r/m), or empty for no limit (got %r)." % (rate,))
    if 'ollama_gateway_api_keys' in s:
        keys = s['ollama_gateway_api_keys']
        if keys is not None and not isinstance(keys, list):
            p.append('ollama_gateway_api_keys must be a list of {name, key | key_sha256, models, admin, rate, burst} '
                     '(got a %s).' % type(keys).__name__)
        elif not keys and to_bool(s.get('ollama_gateway_auth', True)) is True:
            p.append('ollama_gateway_api_keys is empty while ollama_gateway_auth is true: every API request would get '
                     '401; valid: at least one key, or ollama_gateway_auth: false to serve without keys.')
    if 'ollama_gateway_drained_hosts' in s:
        p.extend(_drained_problems(s['ollama_gateway_drained_hosts']))
    if 'ollama_gateway_backend_group' in s and not str(s['ollama_gateway_backend_group'] or '').strip():
        p.append('ollama_gateway_backend_group must name the inventory group of the GPU nodes, such as gpu_nodes '
                 '(got %r).' % (s['ollama_gateway_backend_group'],))
    if 'ollama_gateway_extra_http_config' in s:
        extra = s['ollama_gateway_extra_http_config']
        why = _nginx_text_problem(extra) if isinstance(extra, str) else 'is not text'
        if why:
            p.append('ollama_gateway_extra_http_config must be complete nginx directives for inside http {}, but it %s '
                     '(got %r).' % (why, extra))
    _check_url_problems(s, listen, tls_port, tls_on, p)
    _webui_problems(s, p)
    return p


WEBUI_BACKEND_RE = re.compile(r'^(?:\[(?P<v6>[0-9A-Fa-f:.]+)\]|(?P<host>[A-Za-z0-9.-]+)):(?P<port>[0-9]{1,5})$')


def _webui_problems(s, p):
    """The chat UI's server: a host name of its own (not the API's), a backend host:port, a body size."""
    name = s.get('ollama_gateway_webui_server_name')
    if name in (None, ''):
        return
    why = _dns_name_problem(name) if isinstance(name, str) else 'not text'
    if why or name.startswith('*.'):
        p.append("ollama_gateway_webui_server_name must be one host name the chat UI is served under, such as "
                 "chat.example.internal, or '' for no UI (got %r: %s)." % (name, why or 'a wildcard'))
        return
    api_names = str(s.get('ollama_gateway_server_name') or '').split()
    if name in api_names:
        p.append('ollama_gateway_webui_server_name %r is also a name of the API (ollama_gateway_server_name %r); the UI '
                 'needs a host name of its own (Open WebUI cannot live under a path).' % (name, s.get('ollama_gateway_server_name')))
    backend = s.get('ollama_gateway_webui_backend')
    m = WEBUI_BACKEND_RE.match(str(backend or ''))
    if not m or not 1 <= int(m.group('port')) <= 65535:
        p.append('ollama_gateway_webui_backend must be the host:port Open WebUI listens on, such as 10.0.0.5:3000 '
                 '(empty: the host of the inventory group webui, from its open_webui_listen_address and '
                 'open_webui_port), but it is %r%s.' % (backend, '' if backend else ' and the inventory has no webui host'))
    size = s.get('ollama_gateway_webui_max_body_size')
    if size is not None and nginx_size(size) is None:
        p.append('ollama_gateway_webui_max_body_size must be an nginx size such as 50m (got %r).' % (size,))


class FilterModule(object):
    def filters(self):
        return {'ollama_gateway_input_problems': ollama_gateway_input_problems}
