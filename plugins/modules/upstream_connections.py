#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026, gpufleet maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: upstream_connections
short_description: Count this host's TCP connections to upstream servers and wait until none is left
description:
  - Reads C(/proc/net/tcp) and C(/proc/net/tcp6) (no C(ss) or C(netstat) needed) and counts, per endpoint, the TCP
    connections of this host whose B(remote) end is the endpoint's address and port and whose state is C(ESTABLISHED)
    or C(SYN_SENT) (a connect in progress is about to carry a request too). Connections in other states
    (C(TIME_WAIT), C(CLOSE_WAIT), ...) and connections that arrive at a local port are not counted.
  - With O(wait=true) it polls every O(interval) seconds until no endpoint has a connection left, for at most
    O(wait_timeout) seconds, and fails on timeout with a message naming every endpoint still busy and its count.
  - Made for draining a server out of an nginx upstream. After a reload that marks the server C(down), nginx's new
    workers never connect to it, and the old workers finish their in-flight requests, close their idle keepalive
    connections and exit; the count reaches 0 when the last request through this host has ended. (M(ansible.builtin.wait_for)
    with C(state=drained) watches connections to a B(local) port, not to a remote server.)
  - "Connections that belong to nginx workers that are shutting down (process title C(nginx: worker process is shutting
    down)) are counted separately as a hint of who still holds them (reading another process's file descriptors needs
    root; without it the hint is 0)."
  - With O(nginx_config), an endpoint is only reported empty once every nginx worker that is not shutting down started
    after the file was last modified, that is once the reload that applied the file has taken effect. This keeps a
    count taken in the moment between writing the configuration and nginx acting on the reload from being reported
    as drained, and it makes a reload that never happened fail the wait instead of passing it.
version_added: 0.1.0
author:
  - gpufleet maintainers (@gpufleet)
attributes:
  check_mode:
    support: full
    description:
      - The module only reads. In check mode it reports the current counts once and never waits, because the change it
        would wait for (a reload) was not made either.
  diff_mode:
    support: none
    description: The module changes nothing, so there is no diff.
options:
  endpoints:
    description:
      - The upstream servers to watch.
    type: list
    elements: dict
    required: true
    suboptions:
      address:
        description:
          - IP address of the server (IPv4 or IPv6, brackets allowed) or a name; a name counts every address it resolves to.
        type: str
        required: true
      port:
        description: TCP port of the server.
        type: int
        required: true
      name:
        description: Label used in RV(endpoints), RV(busy) and messages, for example V(gpu01:11434). Defaults to C(address:port).
        type: str
  wait:
    description:
      - Wait until no endpoint has a connection left (and, with O(nginx_config), nginx has reloaded).
      - When V(false) the counts are read once and returned; busy endpoints are not an error.
    type: bool
    default: false
  wait_timeout:
    description: Seconds to wait at most with O(wait=true).
    type: float
    default: 300
  interval:
    description: Seconds between two counts.
    type: float
    default: 1
  nginx_config:
    description:
      - Path of the nginx configuration file whose change the wait belongs to (the file the reload applied).
      - Endpoints count as empty only once every nginx worker that is not shutting down started after this file's
        modification time.
    type: path
seealso:
  - module: ansible.builtin.wait_for
"""

EXAMPLES = r"""
- name: Count the connections to two instances
  gpufleet.ollama.upstream_connections:
    endpoints:
      - {address: 10.0.0.5, port: 11434, name: "gpu01:11434"}
      - {address: 10.0.0.5, port: 11435, name: "gpu01:11435"}
  register: gateway_connections

- name: Wait until the drained instances have finished their requests through this gateway
  gpufleet.ollama.upstream_connections:
    endpoints:
      - {address: 10.0.0.5, port: 11434, name: "gpu01:11434"}
    wait: true
    wait_timeout: 900
    nginx_config: /etc/nginx/nginx.conf
"""

RETURN = r"""
endpoints:
  description: One entry per endpoint, in the order of O(endpoints).
  returned: always
  type: list
  elements: dict
  sample:
    - name: "gpu01:11434"
      address: 10.0.0.5
      port: 11434
      addresses: [10.0.0.5]
      connections: 0
      in_shutting_down_workers: 0
      empty_after: 12.41
  contains:
    name:
      description: The endpoint's label (O(endpoints[].name), or C(address:port)).
      type: str
    address:
      description: The address as given.
      type: str
    port:
      description: The port.
      type: int
    addresses:
      description: The IP addresses that were matched (the address itself, or what the name resolved to).
      type: list
      elements: str
    connections:
      description: Connections to the endpoint at the last count.
      type: int
    in_shutting_down_workers:
      description: How many of RV(endpoints[].connections) belong to nginx workers that are shutting down.
      type: int
    empty_after:
      description:
        - Seconds after the module started at which the endpoint was first seen empty (and stayed empty until the
          end); V(null) while it is busy, or while O(nginx_config) has not been applied by a reload yet.
      type: float
connections:
  description: Sum of RV(endpoints[].connections).
  returned: always
  type: int
  sample: 0
busy:
  description: Names of the endpoints that still had connections at the last count.
  returned: always
  type: list
  elements: str
  sample: []
waited:
  description: Seconds the module spent counting and waiting.
  returned: always
  type: float
  sample: 12.52
nginx:
  description: What the module saw of nginx's worker processes at the last count.
  returned: always
  type: dict
  sample: {workers: 2, shutting_down: 1, reloaded: true}
  contains:
    workers:
      description: Worker processes that serve with the current configuration.
      type: int
    shutting_down:
      description: Worker processes of an older configuration that are finishing their requests.
      type: int
    reloaded:
      description:
        - Whether every worker in RV(nginx.workers) started after O(nginx_config) was modified; V(null) without
          O(nginx_config).
      type: bool
"""

import collections
import ipaddress
import os
import re
import socket
import sys
import time

from ansible.module_utils.basic import AnsibleModule

PROC = '/proc'
TCP_TABLES = ('net/tcp', 'net/tcp6')
# include/net/tcp_states.h: the states in which a connection still carries (or is about to carry) a request
TCP_ESTABLISHED = 0x01
TCP_SYN_SENT = 0x02
BUSY_STATES = frozenset((TCP_ESTABLISHED, TCP_SYN_SENT))
# nginx's process titles (ngx_setproctitle): a worker, and a worker of an older configuration finishing its requests
NGINX_WORKER = re.compile(r'^nginx: worker process( is shutting down)?$')
SOCKET_LINK = re.compile(r'^socket:\[(\d+)\]$')

Connection = collections.namedtuple('Connection', 'local_address local_port remote_address remote_port state inode')
Worker = collections.namedtuple('Worker', 'pid shutting_down start_ticks inodes')
Endpoint = collections.namedtuple('Endpoint', 'name address port addresses')


class ParseError(Exception):
    pass


# ---------------------------------------------------------------------------
# Pure parsing and counting
# ---------------------------------------------------------------------------

def normalize_ip(text):
    """An IP address as one spelling: brackets and zone dropped, IPv4-mapped IPv6 as IPv4; ValueError if not an IP."""
    text = text.strip()
    if text.startswith('[') and text.endswith(']'):
        text = text[1:-1]
    ip = ipaddress.ip_address(text.split('%', 1)[0])
    if ip.version == 6 and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    return str(ip)


def decode_address(text, byteorder=sys.byteorder):
    """``HEXADDR:HEXPORT`` of /proc/net/tcp{,6} -> (ip, port).

    The kernel prints the address as 32-bit words in host byte order (each word reversed on a little-endian host)
    and the port as a plain number.
    """
    hexaddr, sep, hexport = text.partition(':')
    if not sep or len(hexaddr) not in (8, 32):
        raise ValueError('not an address %r' % text)
    raw = bytes.fromhex(hexaddr)
    words = [raw[i:i + 4] for i in range(0, len(raw), 4)]
    if byteorder == 'little':
        words = [w[::-1] for w in words]
    ip = ipaddress.ip_address(b''.join(words))
    if ip.version == 6 and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    return str(ip), int(hexport, 16)


def parse_proc_net_tcp(text, byteorder=sys.byteorder, source='/proc/net/tcp'):
    """The connections listed in the text of /proc/net/tcp or /proc/net/tcp6 (header line skipped)."""
    connections = []
    for number, line in enumerate(text.splitlines(), 1):
        fields = line.split()
        if not fields or fields[0] == 'sl':
            continue
        try:
            local_address, local_port = decode_address(fields[1], byteorder)
            remote_address, remote_port = decode_address(fields[2], byteorder)
            connections.append(Connection(local_address, local_port, remote_address, remote_port,
                                          int(fields[3], 16), int(fields[9])))
        except (IndexError, ValueError) as e:
            raise ParseError('cannot parse line %d of %s: %r (%s)' % (number, source, line.strip(), e))
    return connections


def parse_stat_start_ticks(text):
    """Field 22 (starttime, clock ticks after boot) of /proc/<pid>/stat; the name in (...) may hold spaces and ')'."""
    try:
        return int(text[text.rindex(')') + 2:].split()[19])
    except (ValueError, IndexError):
        raise ParseError('cannot parse /proc/<pid>/stat: %r' % text[:200])


def nginx_worker_kind(cmdline):
    """'worker', 'shutting_down' or None for the raw bytes of /proc/<pid>/cmdline."""
    match = NGINX_WORKER.match(cmdline.replace(b'\0', b' ').decode('utf-8', 'replace').strip())
    if not match:
        return None
    return 'shutting_down' if match.group(1) else 'worker'


def count_connections(connections, endpoints, old_inodes=frozenset()):
    """{endpoint name: (busy connections, of which held by workers shutting down)}."""
    counts = {}
    for endpoint in endpoints:
        busy = [c for c in connections
                if c.state in BUSY_STATES and c.remote_port == endpoint.port and c.remote_address in endpoint.addresses]
        counts[endpoint.name] = (len(busy), sum(1 for c in busy if c.inode in old_inodes))
    return counts


def workers_reloaded(workers, boot_epoch, clock_ticks, mtime):
    """True when every worker that is not shutting down started after mtime (epoch seconds)."""
    return all(boot_epoch + float(w.start_ticks) / clock_ticks > mtime for w in workers if not w.shutting_down)


Count = collections.namedtuple('Count', 'counts reloaded workers shutting_down')


def wait_until_empty(probe, wait, wait_timeout, interval, clock=time.monotonic, sleep=time.sleep):
    """Call probe() (-> Count) until every endpoint is empty and nginx has reloaded, or until wait_timeout.

    Returns (last Count, seconds waited, {name: seconds at which it was first seen empty, for the endpoints empty
    at the end}, done).
    """
    start = clock()
    empty_since = {}
    while True:
        count = probe()
        elapsed = clock() - start
        for name, (connections, dummy) in count.counts.items():
            if connections == 0 and count.reloaded is not False:
                empty_since.setdefault(name, round(elapsed, 3))
            else:
                empty_since.pop(name, None)
        done = count.reloaded is not False and all(n == 0 for n, dummy in count.counts.values())
        if done or not wait or elapsed >= wait_timeout:
            return count, round(elapsed, 3), empty_since, done
        sleep(max(0.0, min(interval, wait_timeout - elapsed)))


def timeout_message(count, endpoints, wait_timeout, nginx_config):
    parts = []
    if count.reloaded is False:
        parts.append('nginx has not reloaded since %s changed (a worker process started before it still serves)'
                     % nginx_config)
    busy = []
    for endpoint in endpoints:
        connections, old = count.counts[endpoint.name]
        if connections:
            busy.append('%s (%s) %d connection%s%s' % (
                endpoint.name, endpoint_label(endpoint.address, endpoint.port), connections,
                '' if connections == 1 else 's',
                ', %d in nginx workers shutting down' % old if old else ''))
    if busy:
        parts.append('still busy: %s' % '; '.join(busy))
    return 'not drained after %gs: %s' % (wait_timeout, '. '.join(parts))


# ---------------------------------------------------------------------------
# Reading the host
# ---------------------------------------------------------------------------

def read_connections(proc=None):
    proc = proc or PROC
    connections = []
    for table in TCP_TABLES:
        path = os.path.join(proc, table)
        try:
            with open(path) as f:
                text = f.read()
        except FileNotFoundError:      # no IPv6 in this kernel
            continue
        connections.extend(parse_proc_net_tcp(text, source=path))
    return connections


def _socket_inodes(proc, pid):
    inodes = set()
    fd_dir = os.path.join(proc, pid, 'fd')
    try:
        fds = os.listdir(fd_dir)
    except OSError:                    # not root, or the process is gone
        return inodes
    for fd in fds:
        try:
            match = SOCKET_LINK.match(os.readlink(os.path.join(fd_dir, fd)))
        except OSError:
            continue
        if match:
            inodes.add(int(match.group(1)))
    return inodes


def read_nginx_workers(proc=None):
    proc = proc or PROC
    workers = []
    for pid in os.listdir(proc):
        if not pid.isdigit():
            continue
        try:
            with open(os.path.join(proc, pid, 'cmdline'), 'rb') as f:
                kind = nginx_worker_kind(f.read())
            if kind is None:
                continue
            with open(os.path.join(proc, pid, 'stat')) as f:
                start_ticks = parse_stat_start_ticks(f.read())
        except OSError:                # the process went away while we looked
            continue
        workers.append(Worker(int(pid), kind == 'shutting_down', start_ticks, _socket_inodes(proc, pid)))
    return workers


def boot_epoch(proc=None):
    """Epoch seconds of the boot, from /proc/uptime (1/100 s) rather than btime (whole seconds)."""
    with open(os.path.join(proc or PROC, 'uptime')) as f:
        return time.time() - float(f.read().split()[0])


def resolve(address, port):
    try:
        return frozenset([normalize_ip(address)])
    except ValueError:
        pass
    infos = socket.getaddrinfo(address, port, 0, socket.SOCK_STREAM)
    return frozenset(normalize_ip(info[4][0]) for info in infos)


ARGUMENT_SPEC = dict(
    endpoints=dict(type='list', elements='dict', required=True, options=dict(
        address=dict(type='str', required=True),
        port=dict(type='int', required=True),
        name=dict(type='str'),
    )),
    wait=dict(type='bool', default=False),
    wait_timeout=dict(type='float', default=300),
    interval=dict(type='float', default=1),
    nginx_config=dict(type='path'),
)


def endpoint_label(address, port):
    """address:port, with an IPv6 address in brackets."""
    address = address.strip()
    if address.startswith('[') and address.endswith(']'):
        address = address[1:-1]
    return '[%s]:%d' % (address, port) if ':' in address else '%s:%d' % (address, port)


def main():
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    p = module.params
    if p['interval'] <= 0 or p['wait_timeout'] < 0:
        module.fail_json(msg='interval must be more than 0 and wait_timeout 0 or more, got interval=%g wait_timeout=%g'
                         % (p['interval'], p['wait_timeout']))

    endpoints = []
    for e in p['endpoints']:
        name = e['name'] or endpoint_label(e['address'], e['port'])
        if not 1 <= e['port'] <= 65535:
            module.fail_json(msg='endpoint %s: port must be 1-65535, got %d' % (name, e['port']))
        try:
            addresses = resolve(e['address'], e['port'])
        except (socket.gaierror, UnicodeError) as err:
            module.fail_json(msg='endpoint %s: cannot resolve %s: %s' % (name, e['address'], err))
        endpoints.append(Endpoint(name, e['address'], e['port'], addresses))
    if len(set(e.name for e in endpoints)) != len(endpoints):
        module.fail_json(msg='endpoint names must be unique, got %s' % ', '.join(e.name for e in endpoints))

    mtime = None
    if p['nginx_config']:
        try:
            mtime = os.stat(p['nginx_config']).st_mtime
        except OSError as err:
            module.fail_json(msg='nginx_config %s: %s' % (p['nginx_config'], err))
    clock_ticks = os.sysconf('SC_CLK_TCK')

    def probe():
        workers = read_nginx_workers()
        old_inodes = frozenset(i for w in workers if w.shutting_down for i in w.inodes)
        reloaded = None if mtime is None else workers_reloaded(workers, boot_epoch(), clock_ticks, mtime)
        return Count(count_connections(read_connections(), endpoints, old_inodes), reloaded,
                     sum(1 for w in workers if not w.shutting_down), sum(1 for w in workers if w.shutting_down))

    wait = p['wait'] and not module.check_mode
    try:
        count, waited, empty_since, done = wait_until_empty(probe, wait, p['wait_timeout'], p['interval'])
    except ParseError as err:
        module.fail_json(msg=str(err))

    result = dict(
        changed=False,
        endpoints=[dict(name=e.name, address=e.address, port=e.port, addresses=sorted(e.addresses),
                        connections=count.counts[e.name][0], in_shutting_down_workers=count.counts[e.name][1],
                        empty_after=empty_since.get(e.name)) for e in endpoints],
        connections=sum(n for n, dummy in count.counts.values()),
        busy=[e.name for e in endpoints if count.counts[e.name][0]],
        waited=waited,
        nginx=dict(workers=count.workers, shutting_down=count.shutting_down, reloaded=count.reloaded),
    )
    if wait and not done:
        module.fail_json(msg=timeout_message(count, endpoints, p['wait_timeout'], p['nginx_config']), **result)
    module.exit_json(**result)


if __name__ == '__main__':
    main()
