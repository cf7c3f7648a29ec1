#!/usr/bin/env python3
# -*- coding: utf-8 -*-
# Copyright (c) 2026, gpufleet maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Gateway failover under a bounded load: how many requests does the virtual IP lose?

Sends short GETs to http://<VIP><path> at a fixed rate (default 10/s for 20 s) from this machine
while the gateway holding the VIP fails, once per scenario:

  nginx-kill      `systemctl kill -s KILL nginx` in the holder (keepalived's check fails, FAULT)
  container-stop  `docker stop` of the holder (with --stop-signal SIGRTMIN+3 systemd halts cleanly)
  container-kill  `docker kill` of the holder (SIGKILL: a crash or power loss, no goodbye advert)

The fault comes at --fault-at seconds; at --restore-at the gateway is brought back (nginx started,
container started), so the same window also shows the failback (preemption). Which gateway holds
the VIP is polled with `ip -o -4 addr show to <VIP>/32` in every gateway all along.

Writes bench/results/ha-failover.json (inputs, machine facts, every request, the holder timeline,
and per scenario: failed/total before and after the restore, the outage window, the handover
time) and prints a table. Traffic goes only to the VIP, which must lie in a network of the
gateway containers; every loop is bounded in count and time.

    bench/failover.py --vip 172.30.120.100 --gateways gateway-1,gateway-2
"""
import argparse
import concurrent.futures
import ipaddress
import json
import os
import platform
import ssl
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request

SCENARIOS = ('nginx-kill', 'container-stop', 'container-kill')
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def sh(args, timeout=30, check=True):
    """Run a command (argv list) and return its stdout."""
    done = subprocess.run(args, capture_output=True, text=True, timeout=timeout)
    if check and done.returncode != 0:
        raise RuntimeError('%s failed (rc=%d): %s' % (' '.join(args), done.returncode, done.stderr.strip()))
    return done.stdout


def holders(gateways, vip):
    """The gateways that have the VIP on an interface now (a stopped container holds nothing)."""
    found = []
    for gw in gateways:
        try:
            done = subprocess.run(['docker', 'exec', gw, 'ip', '-o', '-4', 'addr', 'show', 'to', '%s/32' % vip],
                                  capture_output=True, text=True, timeout=5)
        except subprocess.TimeoutExpired:
            continue
        if done.returncode == 0 and done.stdout.strip():
            found.append(gw)
    return found


TLS = None  # ssl.SSLContext for https, set in main()


def get(url, timeout):
    """One short GET on a new connection: (ok, status, error)."""
    try:
        with urllib.request.urlopen(url, timeout=timeout, context=TLS) as answer:
            answer.read()
            return answer.status == 200, answer.status, ''
    except urllib.error.HTTPError as e:
        return False, e.code, 'HTTP %d' % e.code
    except Exception as e:  # connection refused, timeout, reset: what a client sees
        reason = getattr(e, 'reason', e)
        return False, 0, '%s: %s' % (type(reason).__name__, reason)


def wait_settled(gateways, vip, url, timeout_s, stable_s=3.0):
    """Wait until exactly one gateway holds the VIP, unchanged for stable_s, and the VIP answers."""
    deadline = time.monotonic() + timeout_s
    last, since = None, time.monotonic()
    while time.monotonic() < deadline:
        now = holders(gateways, vip)
        if now != last:
            last, since = now, time.monotonic()
        if len(now) == 1 and time.monotonic() - since >= stable_s and get(url, 1.0)[0]:
            return now[0]
        time.sleep(0.3)
    raise RuntimeError('the VIP %s did not settle on exactly one gateway within %d s (holders: %s)'
                       % (vip, timeout_s, last))


def wait_booted(container, timeout_s=60):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        done = subprocess.run(['docker', 'exec', container, 'systemctl', 'is-system-running'],
                              capture_output=True, text=True, timeout=10)
        if done.stdout.strip() in ('running', 'degraded'):
            return
        time.sleep(0.5)
    raise RuntimeError('%s: systemd did not finish booting within %d s' % (container, timeout_s))


def fault(scenario, holder):
    if scenario == 'nginx-kill':
        sh(['docker', 'exec', holder, 'systemctl', 'kill', '-s', 'KILL', 'nginx'])
    elif scenario == 'container-stop':
        sh(['docker', 'stop', holder], timeout=60)
    else:
        sh(['docker', 'kill', holder], timeout=60)


def restore(scenario, holder):
    if scenario == 'nginx-kill':
        sh(['docker', 'exec', holder, 'systemctl', 'start', 'nginx'])
    else:
        sh(['docker', 'start', holder])
        wait_booted(holder)


def summarize(samples, t_fault, t_restore):
    """failed/total before and after the restore, and the outage window around the fault."""
    def part(rows):
        failed = [r for r in rows if not r['ok']]
        errors = {}
        for r in failed:
            errors[r['error'].split(':')[0]] = errors.get(r['error'].split(':')[0], 0) + 1
        window = None
        if failed:
            first = failed[0]['start']
            after = [r['start'] for r in rows if r['ok'] and r['start'] > failed[-1]['start']]
            window = round((after[0] if after else failed[-1]['end']) - first, 3)
        return {'total': len(rows), 'failed': len(failed), 'errors': errors, 'outage_s': window,
                'first_failure_after_fault_s': round(failed[0]['start'] - t_fault, 3) if failed else None}
    return {
        'failover': part([r for r in samples if r['start'] < t_restore]),
        'failback': part([r for r in samples if r['start'] >= t_restore]),
    }


def run_scenario(scenario, args, url):
    holder = wait_settled(args.gateways, args.vip, url, args.settle_timeout)
    samples, timeline, events = [], [], {}
    stop = threading.Event()

    def poll():
        last = None
        while not stop.is_set():
            # t is when the poll started: `docker exec` takes a while, so the state read is at t or later.
            t = round(time.monotonic() - t0, 3)
            now = holders(args.gateways, args.vip)
            if now != last:
                timeline.append({'t': t, 'holders': now})
                last = now
            stop.wait(args.poll_interval)

    def one(i):
        start = time.monotonic()
        ok, status, error = get(url, args.timeout)
        samples.append({'i': i, 'start': round(start - t0, 4), 'end': round(time.monotonic() - t0, 4),
                        'ok': ok, 'status': status, 'error': error})

    def actions():
        time.sleep(max(0.0, t0 + args.fault_at - time.monotonic()))
        events['fault_start'] = round(time.monotonic() - t0, 3)
        fault(scenario, holder)
        events['fault_done'] = round(time.monotonic() - t0, 3)
        time.sleep(max(0.0, t0 + args.restore_at - time.monotonic()))
        events['restore_start'] = round(time.monotonic() - t0, 3)
        restore(scenario, holder)
        events['restore_done'] = round(time.monotonic() - t0, 3)

    count = int(args.rate * args.duration)
    t0 = time.monotonic()
    poller = threading.Thread(target=poll, daemon=True)
    poller.start()
    actor = concurrent.futures.ThreadPoolExecutor(max_workers=1)
    acted = actor.submit(actions)
    with concurrent.futures.ThreadPoolExecutor(max_workers=min(256, count)) as pool:
        for i in range(count):
            time.sleep(max(0.0, t0 + i / args.rate - time.monotonic()))
            pool.submit(one, i)
    acted.result(timeout=120)
    actor.shutdown()
    settled_on = wait_settled(args.gateways, args.vip, url, args.settle_timeout)
    stop.set()
    poller.join(timeout=10)
    samples.sort(key=lambda r: r['i'])
    moved = [e['t'] for e in timeline if e['t'] >= events['fault_start'] and e['holders']
             and holder not in e['holders']]
    result = {
        'scenario': scenario, 'holder_before': holder, 'holder_after': settled_on, 'events': events,
        'handover_s': round(moved[0] - events['fault_start'], 3) if moved else None,
        'requests': count,
        'failed': sum(1 for r in samples if not r['ok']),
    }
    result.update(summarize(samples, events['fault_start'], events['restore_start']))
    result['timeline'] = timeline
    result['samples'] = samples
    return result


def check_target(args):
    """The VIP must be inside a network of the gateway containers (nothing else is ever loaded)."""
    vip = ipaddress.ip_address(args.vip)
    subnets, stop_signals = [], {}
    for gw in args.gateways:
        info = json.loads(sh(['docker', 'inspect', gw]))[0]
        stop_signals[gw] = info['Config'].get('StopSignal') or 'SIGTERM (default)'
        for name in info['NetworkSettings']['Networks']:
            for cfg in json.loads(sh(['docker', 'network', 'inspect', name]))[0]['IPAM']['Config'] or []:
                if cfg.get('Subnet'):
                    subnets.append(ipaddress.ip_network(cfg['Subnet']))
    if not any(vip in net for net in subnets):
        sys.exit('refusing to load %s: it is in none of the gateways\' networks (%s)'
                 % (vip, ', '.join(map(str, sorted(set(subnets), key=str)))))
    return stop_signals


def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--vip', required=True, help='the virtual IP (ollama_gateway_vip_address)')
    p.add_argument('--gateways', required=True, help='comma-separated gateway container names')
    p.add_argument('--path', default='/healthz', help='path asked through the VIP (default /healthz)')
    p.add_argument('--scheme', choices=('http', 'https'), default='http')
    p.add_argument('--port', type=int, default=0, help='default 80 for http, 443 for https')
    p.add_argument('--ca', default='', help='CA file for https (without it the certificate is not verified)')
    p.add_argument('--rate', type=float, default=10.0, help='requests per second (default 10)')
    p.add_argument('--duration', type=float, default=20.0, help='seconds of load per scenario (default 20)')
    p.add_argument('--fault-at', type=float, default=3.0, help='seconds into the load (default 3)')
    p.add_argument('--restore-at', type=float, default=12.0, help='seconds into the load (default 12)')
    p.add_argument('--timeout', type=float, default=1.0, help='per-request timeout in seconds (default 1)')
    p.add_argument('--poll-interval', type=float, default=0.2)
    p.add_argument('--settle-timeout', type=float, default=60.0)
    p.add_argument('--scenarios', default=','.join(SCENARIOS), help='comma-separated: %s' % ', '.join(SCENARIOS))
    p.add_argument('--where', default='', help='where this ran, recorded in the results')
    p.add_argument('--out', default=os.path.join(ROOT, 'bench', 'results', 'ha-failover.json'))
    args = p.parse_args()
    args.gateways = [g for g in args.gateways.split(',') if g]
    scenarios = [s for s in args.scenarios.split(',') if s]
    bad = [s for s in scenarios if s not in SCENARIOS]
    if bad or len(args.gateways) < 2 or not 0 < args.fault_at < args.restore_at < args.duration <= 120 \
            or not 0 < args.rate <= 100:
        p.error('need 2+ gateways, known scenarios (%s), 0 < fault-at < restore-at < duration <= 120 s and '
                'a rate of at most 100/s' % ', '.join(SCENARIOS))
    stop_signals = check_target(args)
    global TLS
    if args.scheme == 'https':
        TLS = ssl.create_default_context(cafile=args.ca or None)
        TLS.check_hostname = False   # the VIP is an address; the certificate names the service
        if not args.ca:
            TLS.verify_mode = ssl.CERT_NONE
    url = '%s://%s:%d%s' % (args.scheme, args.vip, args.port or (443 if args.scheme == 'https' else 80), args.path)
    keepalived = subprocess.run(['docker', 'exec', args.gateways[0], 'keepalived', '--version'], capture_output=True,
                                text=True, timeout=30)
    keepalived = (keepalived.stdout + keepalived.stderr).strip()
    report = {
        'benchmark': 'ha-failover',
        'where': args.where,
        'inputs': {'vip': args.vip, 'url': url, 'gateways': args.gateways, 'rate_per_s': args.rate,
                   'duration_s': args.duration, 'fault_at_s': args.fault_at, 'restore_at_s': args.restore_at,
                   'request_timeout_s': args.timeout, 'scenarios': scenarios},
        'machine': {'kernel': platform.release(), 'cpus': os.cpu_count(), 'python': platform.python_version(),
                    'docker': sh(['docker', 'version', '--format', '{{ .Server.Version }}'], check=False).strip(),
                    'keepalived': keepalived.splitlines()[0] if keepalived else '',
                    'stop_signals': stop_signals},
        'started': time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime()),
        'scenarios': [],
    }
    for scenario in scenarios:
        print('%s: %d requests at %g/s, fault at %g s, restore at %g s ...'
              % (scenario, int(args.rate * args.duration), args.rate, args.fault_at, args.restore_at), flush=True)
        report['scenarios'].append(run_scenario(scenario, args, url))
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    with open(args.out, 'w', encoding='utf-8') as f:
        json.dump(report, f, indent=1)
        f.write('\n')
    print('\n| scenario | failover failed/total | outage | VIP handover | failback failed/total '
          '| holder before -> after |')
    print('|---|---|---|---|---|---|')
    for s in report['scenarios']:
        fo, fb = s['failover'], s['failback']
        print('| %s | %d/%d | %s | %s | %d/%d | %s -> %s |' % (
            s['scenario'], fo['failed'], fo['total'],
            '%.2f s' % fo['outage_s'] if fo['outage_s'] is not None else '0',
            '%.2f s' % s['handover_s'] if s['handover_s'] is not None else '-',
            fb['failed'], fb['total'], s['holder_before'], s['holder_after']))
    print('\nraw results: %s' % os.path.relpath(args.out))


if __name__ == '__main__':
    main()
