# -*- coding: utf-8 -*-
# Copyright (c) 2026, gpufleet maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: ollama_host_problems
short_description: Check one host's addresses and ports across every role the site puts on it
version_added: 0.1.0
author:
  - gpufleet maintainers (@gpufleet)
description:
  - Takes what the site would put on one host - the addresses its roles bind, the sockets they open - and the
    addresses the host really has, and returns one sentence per problem, each naming the host, the variable(s),
    what was given and what is valid. An empty list means the host can take the configuration.
  - "Addresses (O(_input.addresses_to_own)): each must be an IP literal (a name is refused: the gateways' upstream,
    the firewall and the rsync daemons' admission lists take IP addresses, and a name may resolve to an address
    the host does not have), one the host has (skipped when O(_input.addresses) is V(null)), not a wildcard unless
    the entry allows it, not loopback where the entry forbids it (other hosts must reach it), and not an IPv6
    link-local address (it needs an interface zone and is not routed). Any 127.0.0.0/8 address counts as the host's
    when it has a loopback address."
  - "Ports (O(_input.listeners), O(_input.reserved)): each listener's ports (O(_input.listeners[].count) of them from
    O(_input.listeners[].port) upward) lie in 1-65535, and no two listeners whose addresses can collide share a port.
    Addresses collide when they are equal, or when either is the wildcard of the other's family (C(0.0.0.0) for
    IPv4, C(::) for IPv6). Dual-stack sockets (IPv4-mapped addresses) are not considered."
  - The sentences do not end with C(Nothing was changed.); the caller's assert adds it.
options:
  _input:
    description: The host, its addresses, and what the site would bind on it.
    type: dict
    required: true
    suboptions:
      host:
        description: The inventory name, put at the start of every sentence.
        type: str
        default: ""
      addresses:
        description:
          - The host's addresses, as strings (V(10.0.0.5), V(10.0.0.5/24), V(fe80::1%eth0)) or as the parsed output of
            C(ip -j addr show) (a list of links with C(addr_info)).
          - V(null) when unknown; the checks against the host's addresses are then skipped.
        type: raw
      addresses_to_own:
        description: Addresses a role binds or publishes for this host, each C({variable, address, wildcard_ok, loopback_ok}).
        type: list
        elements: dict
        default: []
        suboptions:
          variable:
            description: The variable that sets it, named in the sentences.
            type: str
            required: true
          address:
            description: The address as configured.
            type: raw
            required: true
          wildcard_ok:
            description: Whether V(0.0.0.0) or V(::) is acceptable here.
            type: bool
            default: false
          loopback_ok:
            description: Whether a loopback address is acceptable (false where other hosts must connect to it).
            type: bool
            default: true
      listeners:
        description: The TCP sockets the site would open on this host, each C({variable, address, port, count, owner}).
        type: list
        elements: dict
        default: []
        suboptions:
          variable:
            description: The variable(s) that set it, named in the sentences (V(ollama_bind_address/ollama_base_port)).
            type: str
            required: true
          address:
            description:
              - The address it binds, or a list of them (nginx's V(0.0.0.0) and V(::)). V(0.0.0.0), V(*) and an empty
                string are the IPv4 wildcard, V(::) the IPv6 one.
            type: raw
            required: true
          port:
            description: Its (first) port.
            type: raw
            required: true
          count:
            description: How many consecutive ports it takes from O(_input.listeners[].port) (the instances of a node).
            type: int
            default: 1
          owner:
            description: What listens there, in words (V(ollama instances)); defaults to the variable.
            type: str
      reserved:
        description:
          - "Ports something outside the site already uses on the host, each C({port, owner, address}), for example
            C({port: 22, owner: SSH (ansible_port)}). Without C(address) the port is taken on every address."
        type: list
        elements: dict
        default: []
"""

EXAMPLES = r"""
- name: Read this host's addresses
  gpufleet.ollama.host_probe:
    parts: [addresses]
  register: __site_probe

- name: Check the addresses and ports the site puts on this GPU node
  ansible.builtin.assert:
    that: __site_host_problems | length == 0
    fail_msg: "{{ __site_host_problems | join(' ') }} Nothing was changed."
    quiet: true
  vars:
    __site_host_problems: >-
      {{ {'host': inventory_hostname,
          'addresses': __site_probe.addresses,
          'addresses_to_own': [
            {'variable': 'ollama_bind_address', 'address': ollama_bind_address, 'loopback_ok': false},
            {'variable': 'ollama_models_peer_address', 'address': ollama_models_peer_address, 'loopback_ok': false}],
          'listeners': [
            {'variable': 'ollama_bind_address/ollama_base_port', 'owner': 'ollama instances',
             'address': ollama_bind_address, 'port': ollama_base_port, 'count': __ollama_instances | length},
            {'variable': 'ollama_models_peer_address/ollama_models_peer_port', 'owner': 'model rsync daemon',
             'address': ollama_models_peer_address, 'port': ollama_models_peer_port}],
          'reserved': [{'port': ansible_port | default(22), 'owner': 'SSH (ansible_port)'}]}
         | gpufleet.ollama.ollama_host_problems }}
"""

RETURN = r"""
_value:
  description: One sentence per problem, each naming the host, the variable(s), what was given and what is valid.
  type: list
  elements: str
  sample:
    - "gpu01: ollama_models_peer_address/ollama_models_peer_port (model rsync daemon on 10.0.0.5:11435) and
      ollama_bind_address/ollama_base_port (ollama instances on 10.0.0.5:11434-11435) both use port 11435; valid: a
      port no other socket on gpu01 uses (taken there: 11434-11435 by ollama instances, 22 by SSH (ansible_port))."
    - "gpu01: ollama_bind_address must be an address of gpu01 (got '10.9.9.9'); valid: 10.0.0.5."
"""

import ipaddress

from ansible.errors import AnsibleFilterError
from ansible_collections.gpufleet.ollama.plugins.plugin_utils._settings import to_bool, to_int

IPV4_WILDCARDS = ('0.0.0.0', '*', '')
IPV6_WILDCARDS = ('::', '[::]')
LINK_LOCAL_V6 = ipaddress.ip_network('fe80::/10')


def _classify(address):
    """('wild', 4|6), ('ip', ip_address), ('name', text) or ('bad', text) for one configured address."""
    text = '' if address is None else str(address).strip()
    if text in IPV4_WILDCARDS:
        return ('wild', 4)
    if text in IPV6_WILDCARDS:
        return ('wild', 6)
    bare = text[1:-1] if text.startswith('[') and text.endswith(']') else text
    try:
        ip = ipaddress.ip_address(bare)
    except ValueError:
        ip = None
    if ip is not None:
        return ('wild', ip.version) if ip.is_unspecified else ('ip', ip)
    if '/' in bare or '%' in bare or ':' in bare or bare.replace('.', '').isdigit():
        return ('bad', text)
    if all(c.isalnum() or c in '.-_' for c in bare) and bare.isascii():
        return ('name', bare.lower().rstrip('.'))
    return ('bad', text)


def _host_addresses(addresses):
    """The host's addresses as ip_address objects, from strings or from `ip -j addr show` output."""
    found = []
    for entry in addresses:
        texts = []
        if isinstance(entry, dict):
            texts = [i.get('local') for i in entry.get('addr_info') or [] if isinstance(i, dict) and i.get('local')]
        elif entry is not None:
            texts = [entry]
        for text in texts:
            bare = str(text).strip().split('/', 1)[0].split('%', 1)[0].strip('[]')
            try:
                found.append(ipaddress.ip_address(bare))
            except ValueError:
                raise AnsibleFilterError('ollama_host_problems: addresses has %r, which is not an IP address' % (text,))
    return found


def _show(kind):
    if kind[0] == 'wild':
        return '0.0.0.0' if kind[1] == 4 else '[::]'
    if kind[0] == 'ip':
        return '[%s]' % kind[1] if kind[1].version == 6 else str(kind[1])
    return kind[1]


def _ports(first, count):
    return str(first) if count == 1 else '%d-%d' % (first, first + count - 1)


def _collide(a, b):
    if a is None or b is None:
        return True
    family = {'wild': lambda k: k[1], 'ip': lambda k: k[1].version}
    if a[0] == 'wild' or b[0] == 'wild':
        fa = family[a[0]](a) if a[0] in family else None
        fb = family[b[0]](b) if b[0] in family else None
        return fa is None or fb is None or fa == fb
    return a[0] == b[0] and a[1] == b[1]


def _own_problems(prefix, host, entry, have):
    variable = entry['variable']
    wildcard_ok = to_bool(entry.get('wildcard_ok', False)) is True
    loopback_ok = to_bool(entry.get('loopback_ok', True)) is not False
    kind = _classify(entry.get('address'))
    given = entry.get('address')
    usable = sorted((a for a in (have or []) if not (a.version == 6 and a in LINK_LOCAL_V6)
                     and (loopback_ok or not a.is_loopback)), key=lambda a: a.is_loopback)
    valid = ', '.join(str(a) for a in usable) if have is not None else 'one of its IP addresses'
    if kind[0] == 'wild':
        if wildcard_ok:
            return []
        return ["%s%s must be an address of %s, not the wildcard %r, which listens on every network of the host "
                "(got %r); valid: %s." % (prefix, variable, host or 'the host', _show(kind), given, valid)]
    if kind[0] == 'name':
        return ["%s%s must be an IP address of %s, not a name: the gateways' upstream, the firewall and the rsync "
                "daemons' admission lists take IP addresses, and a name may resolve to an address the host does not "
                "have (got %r); valid: %s." % (prefix, variable, host or 'the host', given, valid)]
    if kind[0] == 'bad':
        return ['%s%s must be one IP address such as 10.0.0.5 or fd00::5, without a prefix length or zone (got %r); '
                'valid: %s.' % (prefix, variable, given, valid)]
    ip = kind[1]
    if ip.is_loopback and not loopback_ok:
        return ['%s%s must not be a loopback address: the other hosts (gateways, peers) must reach it (got %r); valid: '
                '%s.' % (prefix, variable, given, valid)]
    if ip.version == 6 and ip in LINK_LOCAL_V6:
        return ['%s%s must not be an IPv6 link-local address (fe80::/10): it needs an interface zone and is not '
                'routed (got %r); valid: %s.' % (prefix, variable, given, valid)]
    if ip.version == 6 and ip.ipv4_mapped is not None:
        return []
    if have is None:
        return []
    if ip in have or (ip.is_loopback and ip.version == 4 and any(a.is_loopback and a.version == 4 for a in have)):
        return []
    return ['%s%s must be an address of %s (got %r); valid: %s.'
            % (prefix, variable, host or 'the host', given, valid or 'none found')]


def _listeners(prefix, entries, reserved, problems):
    """Normalised sockets: dicts {variable, owner, kinds, port, count}; bad ports go to problems."""
    sockets = []
    for n, entry in enumerate(entries):
        if not isinstance(entry, dict) or not entry.get('variable'):
            raise AnsibleFilterError('ollama_host_problems: listeners[%d] must be a mapping with a variable, got %r'
                                     % (n, entry))
        variable = str(entry['variable'])
        owner = str(entry.get('owner') or variable)
        count = to_int(entry.get('count', 1))
        if count is None or count < 1:
            raise AnsibleFilterError('ollama_host_problems: listeners[%d] (%s) count must be 1 or more, got %r'
                                     % (n, variable, entry.get('count')))
        address = entry.get('address')
        kinds = [_classify(a) for a in (address if isinstance(address, list) else [address])]
        port = to_int(entry.get('port'))
        if port is None or not 1 <= port <= 65535:
            problems.append('%s%s must be a port number 1-65535 for the %s (got %r).'
                            % (prefix, variable, owner, entry.get('port')))
            continue
        if port + count - 1 > 65535:
            problems.append('%s%s: the %s take %d ports from %d, up to %d, past 65535 (got %r); valid: a port of at '
                            'most %d.' % (prefix, variable, owner, count, port, port + count - 1, entry.get('port'),
                                          65536 - count))
            continue
        sockets.append({'variable': variable, 'owner': owner, 'kinds': kinds, 'port': port, 'count': count,
                        'reserved': False})
    for n, entry in enumerate(reserved):
        if not isinstance(entry, dict):
            raise AnsibleFilterError('ollama_host_problems: reserved[%d] must be a mapping {port, owner}, got %r'
                                     % (n, entry))
        port = to_int(entry.get('port'))
        if port is None:
            raise AnsibleFilterError('ollama_host_problems: reserved[%d] needs a port, got %r' % (n, entry))
        owner = str(entry.get('owner') or 'port %d' % port)
        kinds = [None] if entry.get('address') is None else [_classify(entry['address'])]
        sockets.append({'variable': owner, 'owner': owner, 'kinds': kinds, 'port': port, 'count': 1, 'reserved': True})
    return sockets


def _where(socket):
    shown = ' and '.join('%s:%s' % ('*' if k is None else _show(k), _ports(socket['port'], socket['count']))
                         for k in socket['kinds'])
    return '%s on %s' % (socket['owner'], shown)


def ollama_host_problems(data):
    if not isinstance(data, dict):
        raise AnsibleFilterError('ollama_host_problems expects a mapping {host, addresses, addresses_to_own, listeners}, '
                                 'got %s' % type(data).__name__)
    host = str(data.get('host') or '')
    prefix = '%s: ' % host if host else ''
    addresses = data.get('addresses')
    if addresses is not None and not isinstance(addresses, list):
        raise AnsibleFilterError('ollama_host_problems: addresses must be a list or null, got %s'
                                 % type(addresses).__name__)
    have = None if addresses is None else _host_addresses(addresses)
    problems = []
    for n, entry in enumerate(data.get('addresses_to_own') or []):
        if not isinstance(entry, dict) or not entry.get('variable'):
            raise AnsibleFilterError('ollama_host_problems: addresses_to_own[%d] must be a mapping with a variable, '
                                     'got %r' % (n, entry))
        problems.extend(_own_problems(prefix, host, entry, have))
    sockets = _listeners(prefix, data.get('listeners') or [], data.get('reserved') or [], problems)
    for i, a in enumerate(sockets):
        for b in sockets[i + 1:]:
            if a['reserved'] and b['reserved']:
                continue
            if (a['variable'], a['owner']) == (b['variable'], b['owner']):
                continue
            low = max(a['port'], b['port'])
            high = min(a['port'] + a['count'], b['port'] + b['count']) - 1
            if low > high or not any(_collide(x, y) for x in a['kinds'] for y in b['kinds']):
                continue
            mine, other = (b, a) if a['reserved'] else (a, b)
            taken = ', '.join('%s by %s' % (_ports(s['port'], s['count']), s['owner'])
                              for s in sockets if s is not mine)
            shared = 'port %d' % low if low == high else 'ports %d-%d' % (low, high)
            if other['reserved']:
                problems.append('%s%s (%s) uses %s, which %s uses already; valid: a port no other socket on %s uses '
                                '(taken there: %s).' % (prefix, mine['variable'], _where(mine), shared,
                                                        other['owner'], host or 'the host', taken))
            else:
                problems.append('%s%s (%s) and %s (%s) both use %s; valid: a port no other socket on %s uses (taken '
                                'there: %s).' % (prefix, mine['variable'], _where(mine), other['variable'],
                                                 _where(other), shared, host or 'the host', taken))
    return problems


class FilterModule(object):
    def filters(self):
        return {'ollama_host_problems': ollama_host_problems}
