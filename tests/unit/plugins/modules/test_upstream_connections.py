# -*- coding: utf-8 -*-
# Copyright (c) 2026, gpufleet maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""upstream_connections: /proc/net/tcp{,6} parsing on fixture text, counting, the wait loop on a fake clock, the module
on a fake /proc tree (nginx workers, reload check) and on this host's real /proc with real localhost sockets."""

from __future__ import annotations

import os
import socket
import threading
import time

import pytest
import yaml

from ansible_collections.gpufleet.ollama.plugins.modules import upstream_connections as uc

# Written the way the kernel prints them (x86, little-endian): local, remote, state, ..., inode (field 10).
HEADER = ('  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n')
TCP = HEADER + (
    # gateway 10.0.0.10:40000 -> gpu01 10.0.0.5:11434 ESTABLISHED, inode 1001
    '   0: 0A00000A:9C40 0500000A:2CAA 01 00000000:00000000 00:00000000 00000000     0        0 1001 1 0 20 4 30 10 -1\n'
    # -> 10.0.0.5:11434 SYN_SENT, inode 1002
    '   1: 0A00000A:9C41 0500000A:2CAA 02 00000000:00000000 01:00000064 00000002     0        0 1002 1 0 200 0 0 10 -1\n'
    # -> 10.0.0.5:11434 TIME_WAIT (over, inode 0)
    '   2: 0A00000A:9C42 0500000A:2CAA 06 00000000:00000000 03:00000F9E 00000000     0        0 0 3 0\n'
    # -> 10.0.0.5:11434 CLOSE_WAIT (the server closed; not a request in flight)
    '   3: 0A00000A:9C43 0500000A:2CAA 08 00000000:00000000 00:00000000 00000000     0        0 1004 1 0 20 4 30 10 -1\n'
    # -> 10.0.0.5:11435 ESTABLISHED, inode 1005
    '   4: 0A00000A:9C44 0500000A:2CAB 01 00000000:00000000 00:00000000 00000000     0        0 1005 1 0 20 4 30 10 -1\n'
    # -> 10.0.0.6:11434 ESTABLISHED (gpu02)
    '   5: 0A00000A:9C45 0600000A:2CAA 01 00000000:00000000 00:00000000 00000000     0        0 1006 1 0 20 4 30 10 -1\n'
    # listener on 0.0.0.0:80
    '   6: 00000000:0050 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1007 1 0 100 0 0 10 0\n'
    # a client 10.0.1.7:50000 -> this host's port 11434 (the endpoint's port is local here: not counted)
    '   7: 0A00000A:2CAA 0701000A:C350 01 00000000:00000000 00:00000000 00000000     0        0 1008 1 0 20 4 30 10 -1\n'
)
TCP6 = HEADER.replace('local_address rem_address  ', 'local_address                         remote_address') + (
    # [2001:db8::a]:40000 -> [2001:db8::5]:11434 ESTABLISHED
    '   0: B80D01200000000000000000'
    '0A000000:9C40 B80D0120000000000000000005000000:2CAA 01 00000000:00000000 00:00000000 00000000     0        0 2001 1 0\n'
    # IPv4-mapped: [::ffff:10.0.0.10]:40010 -> [::ffff:10.0.0.5]:11434 ESTABLISHED (counts as 10.0.0.5)
    '   1: 0000000000000000FFFF00000A00000A:9C4A 0000000000000000FFFF00000500000A:2CAA 01 00000000:00000000 00:00000000'
    ' 00000000     0        0 2002 1 0\n'
)

GPU01_A = uc.Endpoint('gpu01:11434', '10.0.0.5', 11434, frozenset(['10.0.0.5']))
GPU01_B = uc.Endpoint('gpu01:11435', '10.0.0.5', 11435, frozenset(['10.0.0.5']))
GPU02_A = uc.Endpoint('gpu02:11434', '10.0.0.6', 11434, frozenset(['10.0.0.6']))
GPU03_V6 = uc.Endpoint('gpu03:11434', '2001:db8::5', 11434, frozenset(['2001:db8::5']))
IDLE = uc.Endpoint('idle:11434', '10.0.0.9', 11434, frozenset(['10.0.0.9']))


# ---------------------------------------------------------------------------
# Parsing
# ---------------------------------------------------------------------------

@pytest.mark.parametrize('text, byteorder, expected', [
    ('0100007F:2CAA', 'little', ('127.0.0.1', 11434)),
    ('7F000001:2CAA', 'big', ('127.0.0.1', 11434)),
    ('0500000A:0050', 'little', ('10.0.0.5', 80)),
    ('00000000:0000', 'little', ('0.0.0.0', 0)),
    ('B80D0120000000000000000005000000:2CAA', 'little', ('2001:db8::5', 11434)),
    ('20010DB8000000000000000000000005:2CAA', 'big', ('2001:db8::5', 11434)),
    ('00000000000000000000000001000000:2CAA', 'little', ('::1', 11434)),
    ('0000000000000000FFFF00000500000A:2CAA', 'little', ('10.0.0.5', 11434)),   # IPv4-mapped
    ('00000000000000000000FFFF0A000005:2CAA', 'big', ('10.0.0.5', 11434)),
])
def test_decode_address(text, byteorder, expected):
    assert uc.decode_address(text, byteorder) == expected


@pytest.mark.parametrize('text', ['0100007F', '0100007:2CAA', 'ZZ00007F:2CAA', '0100007F:', '0100007F01:2CAA'])
def test_decode_address_rejects(text):
    with pytest.raises(ValueError):
        uc.decode_address(text, 'little')


def test_parse_proc_net_tcp_ipv4():
    connections = uc.parse_proc_net_tcp(TCP, 'little')
    assert len(connections) == 8                       # the header is skipped
    assert connections[0] == uc.Connection('10.0.0.10', 40000, '10.0.0.5', 11434, 1, 1001)
    assert connections[2] == uc.Connection('10.0.0.10', 40002, '10.0.0.5', 11434, 6, 0)
    assert connections[6] == uc.Connection('0.0.0.0', 80, '0.0.0.0', 0, 0x0A, 1007)


def test_parse_proc_net_tcp_ipv6():
    assert uc.parse_proc_net_tcp(TCP6, 'little') == [
        uc.Connection('2001:db8::a', 40000, '2001:db8::5', 11434, 1, 2001),
        uc.Connection('10.0.0.10', 40010, '10.0.0.5', 11434, 1, 2002),
    ]


def test_parse_proc_net_tcp_empty_table():
    assert uc.parse_proc_net_tcp(HEADER + '\n', 'little') == []


@pytest.mark.parametrize('line', [
    '   0: 0A00000A:9C40 0500000A:2CAA\n',                                                     # truncated
    '   0: 0A00000A:9C40 0500000A:2CAA 0G 00000000:00000000 00:00000000 00000000 0 0 1 1\n',     # bad state
    '   0: 0A00000A:9C40 0500000A:2CAA 01 00000000:00000000 00:00000000 00000000 0 0 x 1\n',     # bad inode
])
def test_parse_proc_net_tcp_names_the_bad_line(line):
    with pytest.raises(uc.ParseError, match=r'line 2 of /proc/net/tcp: .*0A00000A:9C40'):
        uc.parse_proc_net_tcp(HEADER + line, 'little')


@pytest.mark.parametrize('text, expected', [
    ('1234 (nginx) S 1 1234 1234 0 -1 4194624 5 0 0 0 0 0 0 0 20 0 1 0 987654 10000 100', 987654),
    ('77 (a b) c) R 1 77 77 0 -1 4194624 5 0 0 0 0 0 0 0 20 0 1 0 42 10000 100', 42),
])
def test_parse_stat_start_ticks(text, expected):
    assert uc.parse_stat_start_ticks(text) == expected


def test_parse_stat_start_ticks_rejects_garbage():
    with pytest.raises(uc.ParseError):
        uc.parse_stat_start_ticks('1234 (nginx) S 1 2')


@pytest.mark.parametrize('cmdline, expected', [
    (b'nginx: worker process' + b'\0' * 30, 'worker'),
    (b'nginx: worker process is shutting down\0\0', 'shutting_down'),
    (b'nginx: master process /usr/sbin/nginx -g daemon on; master_process on;\0', None),
    (b'nginx: cache manager process\0', None),
    (b'/usr/bin/python3\0nginx: worker process\0', None),
    (b'', None),
])
def test_nginx_worker_kind(cmdline, expected):
    assert uc.nginx_worker_kind(cmdline) == expected


@pytest.mark.parametrize('address, expected', [
    ('10.0.0.5', '10.0.0.5'),
    (' 10.0.0.5 ', '10.0.0.5'),
    ('[2001:DB8::5]', '2001:db8::5'),
    ('fe80::1%eth0', 'fe80::1'),
    ('::ffff:10.0.0.5', '10.0.0.5'),
])
def test_normalize_ip(address, expected):
    assert uc.normalize_ip(address) == expected


@pytest.mark.parametrize('address, port, expected', [
    ('10.0.0.5', 11434, '10.0.0.5:11434'),
    ('2001:db8::5', 11434, '[2001:db8::5]:11434'),
    ('[2001:db8::5]', 11434, '[2001:db8::5]:11434'),
    ('gpu01.example', 80, 'gpu01.example:80'),
])
def test_endpoint_label(address, port, expected):
    assert uc.endpoint_label(address, port) == expected


# ---------------------------------------------------------------------------
# Counting
# ---------------------------------------------------------------------------

def test_count_connections():
    connections = uc.parse_proc_net_tcp(TCP, 'little') + uc.parse_proc_net_tcp(TCP6, 'little')
    counts = uc.count_connections(connections, [GPU01_A, GPU01_B, GPU02_A, GPU03_V6, IDLE], old_inodes={1001, 2002, 1006})
    assert counts == {
        # ESTABLISHED 1001 + SYN_SENT 1002 + the IPv4-mapped one in tcp6 (2002); not TIME_WAIT, CLOSE_WAIT,
        # nor the connection that arrives at the local port 11434
        'gpu01:11434': (3, 2),
        'gpu01:11435': (1, 0),
        'gpu02:11434': (1, 1),
        'gpu03:11434': (1, 0),
        'idle:11434': (0, 0),
    }


def test_count_connections_ipv6():
    counts = uc.count_connections(uc.parse_proc_net_tcp(TCP6, 'little'), [GPU03_V6])
    assert counts == {'gpu03:11434': (1, 0)}


def test_count_connections_matches_every_resolved_address():
    both = uc.Endpoint('gpu0x', 'gpu0x.example', 11434, frozenset(['10.0.0.5', '10.0.0.6']))
    assert uc.count_connections(uc.parse_proc_net_tcp(TCP, 'little'), [both]) == {'gpu0x': (3, 0)}


@pytest.mark.parametrize('starts, mtime, expected', [
    ([(False, 2000)], 1019.0, True),        # started at 1000 + 20.00 s > 1019
    ([(False, 2000)], 1021.0, False),       # started before the file changed
    ([(True, 100), (False, 2000)], 1019.0, True),   # old workers shutting down do not count
    ([(False, 100), (False, 2000)], 1019.0, False),  # one stale worker still serving
    ([], 1019.0, True),                     # nginx not running: nothing routes to the endpoints
])
def test_workers_reloaded(starts, mtime, expected):
    workers = [uc.Worker(n, old, ticks, set()) for n, (old, ticks) in enumerate(starts)]
    assert uc.workers_reloaded(workers, 1000.0, 100, mtime) is expected


# ---------------------------------------------------------------------------
# The wait loop, on a fake clock
# ---------------------------------------------------------------------------

class FakeClock:
    def __init__(self):
        self.now = 100.0
        self.sleeps = []

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.sleeps.append(seconds)
        self.now += seconds


def probes(*states):
    """probe() returning one Count per call: each state is ({name: n}, reloaded)."""
    it = iter(states)

    def probe():
        counts, reloaded = next(it)
        return uc.Count({k: (v, 0) for k, v in counts.items()}, reloaded, 2, 1)
    return probe


def test_wait_until_empty_polls_until_every_endpoint_is_empty():
    clock = FakeClock()
    probe = probes(({'a': 2, 'b': 1}, None), ({'a': 1, 'b': 0}, None), ({'a': 0, 'b': 0}, None))
    count, waited, empty_since, done = uc.wait_until_empty(probe, True, 10, 0.5, clock, clock.sleep)
    assert done is True
    assert waited == 1.0
    assert clock.sleeps == [0.5, 0.5]
    assert empty_since == {'a': 1.0, 'b': 0.5}
    assert count.counts == {'a': (0, 0), 'b': (0, 0)}


def test_wait_until_empty_restarts_an_endpoint_that_got_busy_again():
    clock = FakeClock()
    probe = probes(({'a': 0, 'b': 1}, None), ({'a': 1, 'b': 1}, None), ({'a': 0, 'b': 0}, None))
    dummy, dummy, empty_since, done = uc.wait_until_empty(probe, True, 10, 1, clock, clock.sleep)
    assert done and empty_since == {'a': 2.0, 'b': 2.0}


def test_wait_until_empty_waits_for_the_reload():
    clock = FakeClock()
    probe = probes(({'a': 0}, False), ({'a': 0}, False), ({'a': 0}, True))
    dummy, waited, empty_since, done = uc.wait_until_empty(probe, True, 10, 1, clock, clock.sleep)
    assert done and waited == 2.0 and empty_since == {'a': 2.0}


def test_wait_until_empty_times_out():
    clock = FakeClock()
    probe = probes(*[({'a': 1, 'b': 0}, None)] * 10)
    count, waited, empty_since, done = uc.wait_until_empty(probe, True, 2.5, 1, clock, clock.sleep)
    assert done is False
    assert waited == 2.5
    assert clock.sleeps == [1, 1, 0.5]          # never sleeps past the timeout
    assert empty_since == {'b': 0.0}
    assert count.counts['a'] == (1, 0)


def test_wait_until_empty_without_wait_counts_once():
    clock = FakeClock()
    probe = probes(({'a': 3}, None))
    count, waited, empty_since, done = uc.wait_until_empty(probe, False, 10, 1, clock, clock.sleep)
    assert (done, waited, empty_since, clock.sleeps) == (False, 0.0, {}, [])
    assert count.counts == {'a': (3, 0)}


def test_timeout_message_names_every_busy_endpoint():
    count = uc.Count({'gpu01:11434': (3, 2), 'gpu01:11435': (1, 0), 'idle:11434': (0, 0)}, False, 1, 1)
    msg = uc.timeout_message(count, [GPU01_A, GPU01_B, IDLE], 30, '/etc/nginx/nginx.conf')
    assert msg == ('not drained after 30s: nginx has not reloaded since /etc/nginx/nginx.conf changed (a worker process '
                   'started before it still serves). still busy: gpu01:11434 (10.0.0.5:11434) 3 connections, 2 in nginx '
                   'workers shutting down; gpu01:11435 (10.0.0.5:11435) 1 connection')


# ---------------------------------------------------------------------------
# The module on a fake /proc tree
# ---------------------------------------------------------------------------

def _stat(pid, ticks):
    return '%d (nginx) S 1 1 1 0 -1 4194624 5 0 0 0 0 0 0 0 20 0 1 0 %d 10000 100\n' % (pid, ticks)


@pytest.fixture
def fake_proc(tmp_path, monkeypatch):
    """A /proc with the TCP fixture, an nginx master, a current worker, a worker shutting down and an unrelated process.

    Uptime is such that the boot was 100000 s ago; the current worker started 99000 s before now (ticks 100000 at
    100 Hz = 1000 s after boot), the old one at boot + 10 s. Returns the epoch second at which the current worker
    started.
    """
    proc = tmp_path / 'proc'
    (proc / 'net').mkdir(parents=True)
    (proc / 'net' / 'tcp').write_text(TCP)
    (proc / 'uptime').write_text('100000.00 5.00\n')
    processes = {
        '10': (b'nginx: master process /usr/sbin/nginx -g daemon on; master_process on;\0', 50, []),
        '20': (b'nginx: worker process\0\0\0\0', 100000, [1002, 1005]),
        '30': (b'nginx: worker process is shutting down\0', 1000, [1001]),
        '40': (b'/usr/bin/python3\0-m\0http.server\0', 60, [1006]),
    }
    for pid, (cmdline, ticks, inodes) in processes.items():
        (proc / pid / 'fd').mkdir(parents=True)
        (proc / pid / 'cmdline').write_bytes(cmdline)
        (proc / pid / 'stat').write_text(_stat(int(pid), ticks))
        os.symlink('/dev/null', str(proc / pid / 'fd' / '0'))
        for n, inode in enumerate(inodes, 3):
            os.symlink('socket:[%d]' % inode, str(proc / pid / 'fd' / str(n)))
    (proc / 'self').mkdir()
    monkeypatch.setattr(uc, 'PROC', str(proc))
    monkeypatch.setattr(uc.sys, 'byteorder', 'little')
    monkeypatch.setattr(uc.os, 'sysconf', lambda name: 100)
    now = time.time()
    monkeypatch.setattr(uc.time, 'time', lambda: now)
    return now - 100000 + 1000


ENDPOINTS = [dict(address='10.0.0.5', port=11434, name='gpu01:11434'), dict(address='10.0.0.5', port=11435)]


def test_module_counts_and_attributes_connections_to_old_workers(run_module, fake_proc):
    result = run_module(uc, dict(endpoints=ENDPOINTS))
    assert result['changed'] is False
    assert result['endpoints'] == [
        dict(name='gpu01:11434', address='10.0.0.5', port=11434, addresses=['10.0.0.5'], connections=2,
             in_shutting_down_workers=1, empty_after=None),
        dict(name='10.0.0.5:11435', address='10.0.0.5', port=11435, addresses=['10.0.0.5'], connections=1,
             in_shutting_down_workers=0, empty_after=None),
    ]
    assert result['connections'] == 3
    assert result['busy'] == ['gpu01:11434', '10.0.0.5:11435']
    assert result['nginx'] == dict(workers=1, shutting_down=1, reloaded=None)


@pytest.mark.parametrize('offset, reloaded', [(-5, True), (5, False)])
def test_module_checks_that_nginx_reloaded_after_the_config_changed(run_module, fake_proc, tmp_path, offset, reloaded):
    config = tmp_path / 'nginx.conf'
    config.write_text('events {}\n')
    os.utime(str(config), (fake_proc + offset, fake_proc + offset))
    result = run_module(uc, dict(endpoints=[dict(address='10.0.0.9', port=11434)], nginx_config=str(config)))
    assert result['nginx']['reloaded'] is reloaded
    empty_after = result['endpoints'][0]['empty_after']
    assert (0 <= empty_after < 1) if reloaded else empty_after is None


def test_module_fails_the_wait_when_nginx_never_reloaded(run_module, fake_proc, tmp_path):
    config = tmp_path / 'nginx.conf'
    config.write_text('events {}\n')
    os.utime(str(config), (fake_proc + 5, fake_proc + 5))
    result = run_module(uc, dict(endpoints=[dict(address='10.0.0.9', port=11434)], nginx_config=str(config),
                                 wait=True, wait_timeout=0.2, interval=0.05))
    assert result['failed'] is True
    assert result['msg'] == ('not drained after 0.2s: nginx has not reloaded since %s changed (a worker process '
                             'started before it still serves)' % config)
    assert result['connections'] == 0


def test_module_fails_on_a_missing_nginx_config(run_module, fake_proc, tmp_path):
    result = run_module(uc, dict(endpoints=ENDPOINTS, nginx_config=str(tmp_path / 'nope.conf')))
    assert result['failed'] and result['msg'].startswith('nginx_config %s: ' % (tmp_path / 'nope.conf'))


def test_module_fails_on_an_unparsable_table(run_module, fake_proc):
    with open(os.path.join(uc.PROC, 'net', 'tcp'), 'a') as f:
        f.write('garbage\n')
    result = run_module(uc, dict(endpoints=ENDPOINTS))
    assert result['failed'] and result['msg'] == "cannot parse line 10 of %s/net/tcp: 'garbage' (list index out of range)" % uc.PROC


@pytest.mark.parametrize('args, msg', [
    (dict(interval=0), 'interval must be more than 0 and wait_timeout 0 or more, got interval=0 wait_timeout=300'),
    (dict(wait_timeout=-1), 'interval must be more than 0 and wait_timeout 0 or more, got interval=1 wait_timeout=-1'),
    (dict(endpoints=[dict(address='10.0.0.5', port=0)]), 'endpoint 10.0.0.5:0: port must be 1-65535, got 0'),
    (dict(endpoints=[dict(address='10.0.0.5', port=1, name='x'), dict(address='10.0.0.6', port=1, name='x')]),
     'endpoint names must be unique, got x, x'),
])
def test_module_rejects_bad_arguments(run_module, fake_proc, args, msg):
    result = run_module(uc, dict(dict(endpoints=ENDPOINTS), **args))
    assert result['failed'] and result['msg'] == msg


def test_module_resolves_names(run_module, fake_proc, monkeypatch):
    def getaddrinfo(host, port, family, kind):
        assert (host, port) == ('gpu01.example', 11434)
        return [(socket.AF_INET, kind, 6, '', ('10.0.0.5', port)),
                (socket.AF_INET6, kind, 6, '', ('2001:db8::5', port, 0, 0))]
    monkeypatch.setattr(uc.socket, 'getaddrinfo', getaddrinfo)
    result = run_module(uc, dict(endpoints=[dict(address='gpu01.example', port=11434)]))
    assert result['endpoints'][0]['addresses'] == ['10.0.0.5', '2001:db8::5']
    assert result['endpoints'][0]['connections'] == 2


def test_module_fails_on_a_name_that_does_not_resolve(run_module, fake_proc, monkeypatch):
    def getaddrinfo(*args):
        raise socket.gaierror(-2, 'Name or service not known')
    monkeypatch.setattr(uc.socket, 'getaddrinfo', getaddrinfo)
    result = run_module(uc, dict(endpoints=[dict(address='gone.example', port=11434, name='gpu09:11434')]))
    assert result['failed']
    assert result['msg'] == 'endpoint gpu09:11434: cannot resolve gone.example: [Errno -2] Name or service not known'


# ---------------------------------------------------------------------------
# The module on this host's /proc with real connections on 127.0.0.1 and ::1
# ---------------------------------------------------------------------------

@pytest.fixture(params=[('127.0.0.1', socket.AF_INET), ('::1', socket.AF_INET6)], ids=['ipv4', 'ipv6'])
def upstream(request):
    """A listening socket, with a connection to it held open by the test (``.client``) until ``.close()``."""
    address, family = request.param
    server = socket.socket(family, socket.SOCK_STREAM)
    server.bind((address, 0))
    server.listen(8)

    class Upstream:
        port = server.getsockname()[1]
        endpoint = dict(address=address, port=server.getsockname()[1], name='local')
        client = socket.create_connection((address, server.getsockname()[1]))
        accepted = server.accept()[0]

        def close(self):
            self.client.close()
            self.accepted.close()

    up = Upstream()
    yield up
    up.close()
    server.close()


def test_live_counts_a_held_connection(run_module, upstream):
    result = run_module(uc, dict(endpoints=[upstream.endpoint]))
    assert result['connections'] == 1
    assert result['busy'] == ['local']


def test_live_wait_returns_when_the_connection_closes(run_module, upstream):
    timer = threading.Timer(0.5, upstream.close)
    timer.start()
    try:
        result = run_module(uc, dict(endpoints=[upstream.endpoint], wait=True, wait_timeout=10, interval=0.05))
    finally:
        timer.join()
    assert not result.get('failed'), result
    assert result['connections'] == 0 and result['busy'] == []
    assert 0.4 <= result['waited'] < 5
    assert result['endpoints'][0]['empty_after'] == result['waited']


def test_live_wait_times_out_naming_the_busy_endpoint(run_module, upstream):
    result = run_module(uc, dict(endpoints=[upstream.endpoint], wait=True, wait_timeout=0.3, interval=0.05))
    assert result['failed'] is True
    where = '[::1]' if upstream.endpoint['address'] == '::1' else '127.0.0.1'
    assert result['msg'] == 'not drained after 0.3s: still busy: local (%s:%d) 1 connection' % (where, upstream.port)
    assert result['busy'] == ['local'] and result['waited'] >= 0.3


def test_live_check_mode_reports_without_waiting(run_module, upstream):
    started = time.monotonic()
    result = run_module(uc, dict(endpoints=[upstream.endpoint], wait=True, wait_timeout=30), check_mode=True)
    assert not result.get('failed') and time.monotonic() - started < 5
    assert result['connections'] == 1 and result['waited'] < 1 and result['busy'] == ['local']


def test_live_other_ports_do_not_count(run_module, upstream):
    result = run_module(uc, dict(endpoints=[dict(upstream.endpoint, port=upstream.port + 1 if upstream.port < 65535 else 1)]))
    assert result['connections'] == 0


# ---------------------------------------------------------------------------
# Documentation
# ---------------------------------------------------------------------------

def test_documentation_matches_the_argument_spec():
    doc = yaml.safe_load(uc.DOCUMENTATION)
    assert doc['module'] == 'upstream_connections'
    assert doc['author'] == ['gpufleet maintainers (@gpufleet)']
    assert doc['version_added'] == '0.1.0'
    assert set(doc['options']) == set(uc.ARGUMENT_SPEC)
    for name, spec in uc.ARGUMENT_SPEC.items():
        assert doc['options'][name]['type'] == spec['type'], name
        assert doc['options'][name].get('default') == spec.get('default'), name
    assert set(doc['options']['endpoints']['suboptions']) == set(uc.ARGUMENT_SPEC['endpoints']['options'])
    tasks = yaml.safe_load(uc.EXAMPLES)
    assert all('gpufleet.ollama.upstream_connections' in t for t in tasks)
    assert set(yaml.safe_load(uc.RETURN)) == {'endpoints', 'connections', 'busy', 'waited', 'nginx'}
