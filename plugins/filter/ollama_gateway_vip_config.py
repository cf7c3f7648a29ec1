# -*- coding: utf-8 -*-
# Copyright (c) 2026, gpufleet maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: ollama_gateway_vip_config
short_description: Work out and check one gateway's keepalived VRRP settings for the gateways' virtual IP
version_added: 0.1.0
author:
  - gpufleet maintainers (@gpufleet)
description:
  - Takes what every gateway of the group published (its front address and its priority, or V(false) for a gateway
    that published nothing in this run), in the group's order, and returns the VRRP settings of O(host) together
    with the problems that make them unusable.
  - The interface and the prefix length come from O(ip_addr), the parsed output of C(ip -j -4 addr show) on O(host);
    the interface is the one holding O(host)'s front address (unless C(ollama_gateway_vip_interface) names one), the
    prefix is that address's prefix length (unless C(ollama_gateway_vip_prefix) is set).
  - The virtual IP must lie in the front network of every gateway, must not be a gateway's own address, nor the
    network or broadcast address of that network.
  - Priorities follow the group's order (first gateway 150, then 140, 130, ...; the first is the MASTER candidate)
    unless a gateway sets C(ollama_gateway_vip_priority); every gateway needs a different priority.
  - With an empty C(ollama_gateway_vip_address), or fewer than two gateways in the group, the result is not
    C(enabled) and C(notes) says why; nothing is checked further.
options:
  _input:
    description:
      - Gateway host name to C({front_address, priority}) (V(false) or V(null) when that gateway published nothing),
        in the group's order; C(priority) 0 means derived from the position.
    type: dict
    required: true
  host:
    description: The gateway whose settings are wanted (C(inventory_hostname)).
    type: str
    required: true
  ip_addr:
    description: Parsed C(ip -j -4 addr show) of O(host) (a list of interfaces with C(ifname) and C(addr_info)).
    type: list
    elements: dict
    required: true
  settings:
    description:
      - The role's variables keyed by name (C(ollama_gateway_vip_address), C(ollama_gateway_vip_prefix),
        C(ollama_gateway_vip_interface), C(ollama_gateway_vip_router_id), C(ollama_gateway_vip_advert_int),
        C(ollama_gateway_vip_check_url), C(ollama_gateway_vip_check_interval),
        C(ollama_gateway_vip_check_fall), C(ollama_gateway_vip_check_rise), C(ollama_gateway_vip_auth_pass),
        C(ollama_gateway_vip_group)). Missing ones take the role's defaults.
      - The password is only measured, never returned or quoted in a problem.
    type: dict
    default: {}
"""

EXAMPLES = r"""
- name: Work out this gateway's VRRP settings
  ansible.builtin.set_fact:
    __ollama_gateway_vip: >-
      {{ dict(__gateways | zip(__gateways | map('extract', hostvars)
                                | map(attribute='__ollama_gateway_vip_published', default=false)))
         | gpufleet.ollama.ollama_gateway_vip_config(inventory_hostname, __ip.stdout | from_json, __settings) }}
  vars:
    __gateways: "{{ groups[ollama_gateway_vip_group] | default([]) }}"
  no_log: true
"""

RETURN = r"""
_value:
  description: The settings of O(host) and what was found wrong.
  type: dict
  contains:
    enabled:
      description: Whether keepalived should hold the virtual IP on O(host).
      type: bool
    notes:
      description: Why the virtual IP is not configured (empty when C(enabled)).
      type: list
      elements: str
    problems:
      description: One sentence per problem, naming the host, the variable, what was given and what is valid.
      type: list
      elements: str
    address:
      description: The virtual IP.
      type: str
      sample: 172.30.20.100
    prefix:
      description: Its prefix length.
      type: int
      sample: 24
    interface:
      description: The interface that carries the virtual IP and the VRRP adverts.
      type: str
      sample: eth1
    source:
      description: O(host)'s front address (C(unicast_src_ip)).
      type: str
    peers:
      description: The other gateways' front addresses, in the group's order (C(unicast_peer)).
      type: list
      elements: str
    priority:
      description: O(host)'s VRRP priority.
      type: int
      sample: 150
    vip_check_url:
      description: C(ollama_gateway_vip_check_url) with its host replaced by the virtual IP (asked after a change).
      type: str
      sample: http://172.30.20.100/healthz
"""

import ipaddress
from urllib.parse import urlsplit, urlunsplit

from ansible.errors import AnsibleFilterError
from ansible_collections.gpufleet.ollama.plugins.plugin_utils._settings import to_int

DEFAULTS = {
    'ollama_gateway_vip_address': '',
    'ollama_gateway_vip_prefix': 0,
    'ollama_gateway_vip_interface': '',
    'ollama_gateway_vip_router_id': 51,
    'ollama_gateway_vip_advert_int': 1,
    'ollama_gateway_vip_check_url': 'http://127.0.0.1/healthz',
    'ollama_gateway_vip_check_interval': 1,
    'ollama_gateway_vip_check_fall': 2,
    'ollama_gateway_vip_check_rise': 2,
    'ollama_gateway_vip_auth_pass': '',
    'ollama_gateway_vip_group': 'ollama_gateways',
}
# (variable, lowest, highest): keepalived's own ranges.
RANGES = (
    ('ollama_gateway_vip_router_id', 1, 255),
    ('ollama_gateway_vip_advert_int', 1, 255),
    ('ollama_gateway_vip_check_interval', 1, 3600),
    ('ollama_gateway_vip_check_fall', 1, 255),
    ('ollama_gateway_vip_check_rise', 1, 255),
)
FIRST_PRIORITY = 150
PRIORITY_STEP = 10
AUTH_PASS_MAX = 8  # VRRPv2 simple-text authentication carries 8 bytes


def _ipv4(value):
    try:
        return ipaddress.IPv4Address(str(value).strip())
    except (ipaddress.AddressValueError, ValueError):
        return None


def _local_addresses(ip_addr):
    """(interface, address, prefixlen) of every IPv4 address in `ip -j -4 addr show` output."""
    found = []
    for link in ip_addr:
        if not isinstance(link, dict):
            continue
        for info in link.get('addr_info') or []:
            if isinstance(info, dict) and info.get('family', 'inet') == 'inet' and info.get('local'):
                found.append((str(link.get('ifname', '')), str(info['local']), to_int(info.get('prefixlen'))))
    return found


def ollama_gateway_vip_config(published, host, ip_addr, settings=None):
    if not isinstance(published, dict):
        raise AnsibleFilterError('ollama_gateway_vip_config expects a mapping gateway -> published settings, got %s'
                                 % type(published).__name__)
    if not isinstance(ip_addr, list):
        raise AnsibleFilterError('ollama_gateway_vip_config: ip_addr must be the parsed output of '
                                 '`ip -j -4 addr show` (a list), got %s' % type(ip_addr).__name__)
    if settings is not None and not isinstance(settings, dict):
        raise AnsibleFilterError('ollama_gateway_vip_config: settings must be a mapping of variables, got %s'
                                 % type(settings).__name__)
    s = dict(DEFAULTS, **(settings or {}))
    host = str(host)
    group = str(s['ollama_gateway_vip_group'])
    result = {'enabled': False, 'notes': [], 'problems': [], 'address': '', 'prefix': 0, 'interface': '',
              'source': '', 'peers': [], 'priority': 0, 'vip_check_url': ''}
    notes, problems = result['notes'], result['problems']

    vip_text = str(s['ollama_gateway_vip_address'] or '').strip()
    if not vip_text:
        notes.append('ollama_gateway_vip_address is empty: no virtual IP is configured and keepalived is left alone '
                     'on %s.' % host)
        return result
    if len(published) < 2:
        notes.append("group '%s' (ollama_gateway_vip_group) has %d gateway(s): a virtual IP needs two or more, so "
                     "keepalived is not configured on %s." % (group, len(published), host))
        return result
    result['enabled'] = True
    if host not in published:
        problems.append("%s is not in group '%s' (ollama_gateway_vip_group): run the role on that group's hosts."
                        % (host, group))
        return result

    vip = _ipv4(vip_text)
    if vip is None:
        problems.append("ollama_gateway_vip_address must be one IPv4 address such as 192.0.2.100, without a prefix "
                        "(set ollama_gateway_vip_prefix for that); got '%s'." % vip_text)
    for name, low, high in RANGES:
        value = to_int(s[name])
        if value is None or not low <= value <= high:
            problems.append('%s must be an integer from %d to %d (got %r).' % (name, low, high, s[name]))
    prefix_setting = to_int(s['ollama_gateway_vip_prefix'])
    if prefix_setting is None or not 0 <= prefix_setting <= 32:
        problems.append('ollama_gateway_vip_prefix must be 0 (the prefix of the front address) or 1 to 32 (got %r).'
                        % (s['ollama_gateway_vip_prefix'],))
        prefix_setting = None
    url = urlsplit(str(s['ollama_gateway_vip_check_url']))
    try:
        port_ok = url.port is None or url.port > 0
    except ValueError:
        port_ok = False
    unsafe = any(c.isspace() or c in '"\'\\' for c in str(s['ollama_gateway_vip_check_url']))
    if url.scheme not in ('http', 'https') or not url.hostname or not port_ok or unsafe:
        problems.append("ollama_gateway_vip_check_url must be an http:// or https:// URL of the local nginx without "
                        "spaces, quotes or backslashes, such as http://127.0.0.1/healthz (got '%s')."
                        % s['ollama_gateway_vip_check_url'])
        url = None
    auth_pass = str(s['ollama_gateway_vip_auth_pass'] or '')
    if len(auth_pass) > AUTH_PASS_MAX or any(c.isspace() or c in '"{}#!' for c in auth_pass):
        problems.append('ollama_gateway_vip_auth_pass must be empty (no VRRP authentication) or 1 to %d characters '
                        'without spaces, quotes, braces, # or ! (the given one has %d characters; it is not shown).'
                        % (AUTH_PASS_MAX, len(auth_pass)))

    # Every gateway's front address and priority, in the group's order.
    fronts, priorities = {}, {}
    for position, (name, entry) in enumerate(published.items()):
        if not isinstance(entry, dict):
            problems.append("%s published no front address in this run: run the role on every host of group '%s' "
                            "(a --limit that leaves a gateway out cannot build the peer list)." % (name, group))
            continue
        front = _ipv4(entry.get('front_address'))
        if front is None:
            problems.append("%s: ollama_gateway_vip_front_address must be the gateway's IPv4 address on the front "
                            "network (got '%s')." % (name, entry.get('front_address')))
        else:
            fronts[name] = front
        priority = to_int(entry.get('priority', 0))
        if priority is None or not 0 <= priority <= 254:
            problems.append('%s: ollama_gateway_vip_priority must be 0 (from the group order) or 1 to 254 (got %r).'
                            % (name, entry.get('priority')))
            continue
        if priority == 0:
            priority = FIRST_PRIORITY - PRIORITY_STEP * position
            if priority < 1:
                problems.append('%s: its place in the group (%d) leaves no derived priority: set '
                                'ollama_gateway_vip_priority (1 to 254) on the gateways.' % (name, position + 1))
                continue
        priorities[name] = priority
    by_address = {}
    for name, front in fronts.items():
        by_address.setdefault(front, []).append(name)
    for front, names in by_address.items():
        if len(names) > 1:
            problems.append('%s share the front address %s (ollama_gateway_vip_front_address): every gateway needs '
                            'its own.' % (' and '.join(names), front))
    by_priority = {}
    for name, priority in priorities.items():
        by_priority.setdefault(priority, []).append(name)
    for priority, names in sorted(by_priority.items()):
        if len(names) > 1:
            problems.append('%s have the same VRRP priority %d: give each gateway its own '
                            'ollama_gateway_vip_priority (or 0 for the group order).' % (' and '.join(names), priority))

    # This gateway's interface and prefix.
    own = fronts.get(host)
    local = _local_addresses(ip_addr)
    wanted_if = str(s['ollama_gateway_vip_interface'] or '')
    interface, prefix = '', None
    if own is not None:
        holding = [(i, p) for i, a, p in local if a == str(own)]
        if not holding:
            problems.append('%s: ollama_gateway_vip_front_address %s is not an address of this host (it has %s).'
                            % (host, own, ', '.join('%s %s/%s' % t for t in local) or 'no IPv4 address'))
        elif wanted_if and wanted_if not in [name for name, dummy in holding]:
            problems.append('%s: ollama_gateway_vip_interface %s does not hold the front address %s (%s does); leave '
                            'it empty to use that one.' % (host, wanted_if, own, holding[0][0]))
        else:
            interface, prefix = next((i, p) for i, p in holding if not wanted_if or i == wanted_if)
    if prefix_setting:
        prefix = prefix_setting
    if own is None or prefix is None or vip is None:
        return result

    # The virtual IP against every gateway's front network.
    for name, front in fronts.items():
        network = ipaddress.IPv4Network('%s/%d' % (front, prefix), strict=False)
        if vip == front:
            problems.append("ollama_gateway_vip_address %s is %s's own front address: pick a free address in %s."
                            % (vip, name, network))
        elif vip not in network:
            problems.append('ollama_gateway_vip_address %s is outside the front network of %s (%s, from '
                            'ollama_gateway_vip_front_address %s and prefix %d): every gateway must share the '
                            "virtual IP's network." % (vip, name, network, front, prefix))
        elif prefix <= 30 and vip in (network.network_address, network.broadcast_address):
            problems.append('ollama_gateway_vip_address %s is the network or broadcast address of %s: pick a host '
                            'address.' % (vip, network))
    if problems:
        return result
    result.update({
        'address': str(vip), 'prefix': prefix, 'interface': interface, 'source': str(own),
        'peers': [str(fronts[n]) for n in published if n != host and n in fronts],
        'priority': priorities[host],
        'vip_check_url': urlunsplit((url.scheme, str(vip) + (':%d' % url.port if url.port else ''), url.path,
                                     url.query, '')),
    })
    return result


class FilterModule(object):
    def filters(self):
        return {'ollama_gateway_vip_config': ollama_gateway_vip_config}
