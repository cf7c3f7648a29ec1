# -*- coding: utf-8 -*-
# Copyright (c) 2026, gpufleet maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: ollama_firewall_policy
short_description: Work out which Ollama ports of a GPU node the firewall guards and who may connect to them
version_added: 0.1.0
author:
  - gpufleet maintainers (@gpufleet)
description:
  - Takes a mapping of the C(ollama_firewall) role's inputs (named as the role's variables, plus the node's
    C(ollama_endpoints) fact and the port Ansible connects to) and returns the data the nftables policy is rendered
    from (the guarded ports, the allowed IPv4 and IPv6 sources) and one sentence per problem found.
  - The guarded ports are O(_input.ollama_firewall_ports) when not empty, else the ports of every endpoint the
    C(gpufleet.ollama.ollama) role published on the node (stopped instances included, so a later start is guarded).
  - Sources must be IP addresses or networks (no host names, since nft would resolve them once at load time, and a
    boot without DNS would then load no policy). Overlapping entries are merged; a network with host bits set, a
    prefix of length 0 (every address) and an empty list are problems.
  - A policy that would guard the port Ansible connects to (O(_input.connection_port)) or the SSH port 22 is a
    problem, so the role can never lock out its own connection.
options:
  _input:
    description: The inputs, keyed by name.
    type: dict
    required: true
    suboptions:
      ollama_firewall_ports:
        description: Explicit ports; empty means the ports of O(_input.ollama_endpoints).
        type: list
        elements: int
      ollama_firewall_allowed_sources:
        description: Addresses or networks of the gateways.
        type: list
        elements: str
      ollama_firewall_extra_sources:
        description: More addresses or networks allowed to connect (monitoring, a bastion).
        type: list
        elements: str
      ollama_endpoints:
        description: The node's published endpoints (list of C({host, address, port, ...})), or V(false)/V(null)
          when the node published none.
        type: raw
      connection_port:
        description: The port Ansible connects to (C(ansible_port), 22 when unset).
        type: int
      gateways:
        description: Gateway host name to the address found for it; only used to name a gateway whose address is
          missing in the problems.
        type: dict
      gateway_address_var:
        description: Name of the host variable the gateway addresses come from, for the problems.
        type: str
"""

EXAMPLES = r"""
- name: Work out the policy
  ansible.builtin.set_fact:
    __ollama_firewall_policy: >-
      {{ {'ollama_firewall_ports': ollama_firewall_ports,
          'ollama_firewall_allowed_sources': ollama_firewall_allowed_sources,
          'ollama_firewall_extra_sources': ollama_firewall_extra_sources,
          'ollama_endpoints': ollama_endpoints | default(false),
          'connection_port': ansible_port | default(22)} | gpufleet.ollama.ollama_firewall_policy }}

# {'ollama_firewall_ports': [], 'ollama_firewall_allowed_sources': ['10.0.0.10', '10.0.0.0/24'],
#  'ollama_firewall_extra_sources': ['fd00::5'],
#  'ollama_endpoints': [{'host': 'gpu01', 'address': '10.0.0.11', 'port': 11435},
#                       {'host': 'gpu01', 'address': '10.0.0.11', 'port': 11434}]}
# gives {'ports': [11434, 11435], 'ipv4': ['10.0.0.0/24'], 'ipv6': ['fd00::5'], 'problems': []}
"""

RETURN = r"""
_value:
  description: What the policy is rendered from, and the problems that make it unusable.
  type: dict
  contains:
    ports:
      description: The guarded TCP ports, sorted, each once.
      type: list
      elements: int
      sample: [11434, 11435]
    ipv4:
      description: Allowed IPv4 sources, merged and sorted (single addresses without C(/32)).
      type: list
      elements: str
      sample: [10.0.0.10, 10.0.1.0/24]
    ipv6:
      description: Allowed IPv6 sources, merged and sorted (single addresses without C(/128)).
      type: list
      elements: str
      sample: []
    problems:
      description: One sentence per problem, each naming the variable, what was given and what is valid.
      type: list
      elements: str
"""

import ipaddress

from ansible.errors import AnsibleFilterError
from ansible_collections.gpufleet.ollama.plugins.plugin_utils._settings import to_int

SSH_PORT = 22


def _as_list(value, name, problems):
    if value is None:
        return []
    if isinstance(value, (list, tuple)):
        return list(value)
    problems.append('%s must be a list (got %r).' % (name, value))
    return []


def _networks(entries, name, problems, missing_hint=''):
    networks = []
    for entry in entries:
        text = '' if entry is None else str(entry).strip()
        if not text:
            problems.append('%s has an empty entry%s.' % (name, missing_hint))
            continue
        try:
            net = ipaddress.ip_network(text, strict=True)
        except ValueError:
            try:
                host = ipaddress.ip_interface(text)
            except ValueError:
                problems.append("%s: '%s' is not an IP address or network (valid: 192.0.2.10, 192.0.2.0/24, "
                                "2001:db8::10; host names are not allowed)." % (name, text))
                continue
            problems.append("%s: '%s' has host bits set (valid: %s or %s)."
                            % (name, text, host.ip, host.network))
            continue
        if net.prefixlen == 0:
            problems.append("%s: '%s' allows every address, which is no firewall; list the gateways' addresses."
                            % (name, text))
            continue
        networks.append(net)
    return networks


def _render(networks, version):
    merged = ipaddress.collapse_addresses(n for n in networks if n.version == version)
    full = 32 if version == 4 else 128
    return [str(n.network_address) if n.prefixlen == full else str(n) for n in sorted(merged)]


def ollama_firewall_policy(settings):
    if not isinstance(settings, dict):
        raise AnsibleFilterError('ollama_firewall_policy expects a mapping of the role inputs, got %s'
                                 % type(settings).__name__)
    problems = []

    # Ports: explicit, else what the ollama role published on this node.
    explicit = _as_list(settings.get('ollama_firewall_ports'), 'ollama_firewall_ports', problems)
    endpoints = settings.get('ollama_endpoints')
    ports = []
    if explicit:
        for port in explicit:
            value = to_int(port)
            if value is None or not 1 <= value <= 65535:
                problems.append('ollama_firewall_ports: %r is not a TCP port (valid: 1-65535).' % (port,))
            else:
                ports.append(value)
    elif isinstance(endpoints, list):
        for endpoint in endpoints:
            value = to_int(endpoint.get('port')) if isinstance(endpoint, dict) else None
            if value is None or not 1 <= value <= 65535:
                problems.append('ollama_endpoints has an entry without a valid port: %r.' % (endpoint,))
            else:
                ports.append(value)
        if not endpoints:
            problems.append('ollama_endpoints lists no instance on this node and ollama_firewall_ports is empty: '
                            'there is no port to guard.')
    else:
        problems.append('this node published no ollama_endpoints: run the gpufleet.ollama.ollama role on it in the '
                        'same run (site.yml) or list the ports in ollama_firewall_ports.')
    ports = sorted(set(ports))

    connection = to_int(settings.get('connection_port', SSH_PORT))
    if connection is None:
        raise AnsibleFilterError('ollama_firewall_policy: connection_port must be a port number, got %r'
                                 % (settings.get('connection_port'),))
    locked_out = sorted(set(ports) & {connection, SSH_PORT})
    if locked_out:
        problems.append('the policy would guard port %s, which Ansible (ansible_port %d) or SSH uses: that would '
                        'lock out the connection; take it out of ollama_firewall_ports or the instances\' ports.'
                        % (', '.join(str(p) for p in locked_out), connection))

    # Sources: the gateways, plus extra ones.
    hint = ''
    gateways = settings.get('gateways') or {}
    if isinstance(gateways, dict):
        bare = sorted(str(h) for h, a in gateways.items() if a is None or not str(a).strip())
        if bare:
            hint = (" (gateway%s without '%s': %s)"
                    % ('s' if len(bare) > 1 else '', settings.get('gateway_address_var') or 'an address',
                       ', '.join(bare)))
    allowed = _as_list(settings.get('ollama_firewall_allowed_sources'), 'ollama_firewall_allowed_sources', problems)
    extra = _as_list(settings.get('ollama_firewall_extra_sources'), 'ollama_firewall_extra_sources', problems)
    networks = (_networks(allowed, 'ollama_firewall_allowed_sources', problems, hint)
                + _networks(extra, 'ollama_firewall_extra_sources', problems))
    if not allowed and not extra:
        problems.append('ollama_firewall_allowed_sources and ollama_firewall_extra_sources are both empty: no '
                        'gateway could reach the Ollama ports (is the gateway group empty?). List the gateways\' '
                        'addresses, or set ollama_firewall_enabled: false.')

    return {'ports': ports, 'ipv4': _render(networks, 4), 'ipv6': _render(networks, 6), 'problems': problems}


class FilterModule(object):
    def filters(self):
        return {'ollama_firewall_policy': ollama_firewall_policy}
