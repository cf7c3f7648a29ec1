"""Test glue for molecule's bad-input side effect: run site.yml once per mistake and check how it failed.

Each case of CASES (molecule/default/bad_input_cases.yml) is a mistake a new operator makes in group_vars,
given as extra vars. For each, `ansible-playbook SITE -i INVENTORY -e @case-vars` must
  - fail (rc != 0) in the site's preflight play (it never reaches the first play that changes a host),
  - change nothing on any host (every PLAY RECAP line says changed=0; a case marked `staged: true` may
    unpack the release into its staging directory, which the run removes again, but nothing else),
  - say what is wrong: every string of the case's `expect` (the variable's name, the value given) appears in
    a failure message.
Writes OUT (JSON): per case name, passed, rc, the recap, the messages and why it failed. Runs the cases one
after the other, each bounded by --timeout seconds. Traffic: only the molecule instances.
Usage: bad_input.py SITE INVENTORY CASES OUT [--only NAME] [--timeout S]
"""
import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time

import yaml

FIRST_CHANGE = 'PLAY [Package source'   # playbooks/upgrade.yml, the first play after the preflight play
RECAP = re.compile(r'^(\S+)\s+: ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)', re.M)


def messages(stdout):
    """The failure messages of a run with ANSIBLE_CALLBACK_RESULT_FORMAT=json: fatal results and [ERROR] lines."""
    found = []
    for m in re.finditer(r'^(?:fatal|failed): \[[^\]]+\].*?=> (\{.*)$', stdout, re.M):
        try:
            result = json.loads(m.group(1))
        except ValueError:
            found.append(m.group(1))
            continue
        found.append(str(result.get('msg', '')))
        for item in result.get('results', []) or []:
            if isinstance(item, dict) and item.get('failed'):
                found.append(str(item.get('msg', '')))
    found += re.findall(r'^\[ERROR\]: (.*)$', stdout, re.M)
    return found


def run_case(case, site, inventory, timeout):
    with tempfile.NamedTemporaryFile('w', suffix='.json', delete=False) as f:
        json.dump(case.get('vars', {}), f)
        path = f.name
    argv = ['ansible-playbook', site, '-i', inventory, '-e', '@' + path]
    if case.get('limit'):
        argv += ['--limit', case['limit']]
    env = dict(os.environ, ANSIBLE_CALLBACK_RESULT_FORMAT='json', ANSIBLE_NOCOLOR='1', LC_ALL='C.UTF-8')
    env.pop('ANSIBLE_FORCE_COLOR', None)
    started = time.monotonic()
    try:
        proc = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, env=env, check=False)
        rc, out = proc.returncode, proc.stdout + proc.stderr
    except subprocess.TimeoutExpired as e:
        rc, out = None, (e.stdout or b'').decode(errors='replace') if isinstance(e.stdout, bytes) else (e.stdout or '')
    finally:
        os.unlink(path)
    recap = {h: {'ok': int(o), 'changed': int(c), 'unreachable': int(u), 'failed': int(fl)}
             for h, o, c, u, fl in RECAP.findall(out)}
    msgs = messages(out)
    text = '\n'.join(msgs)
    why = []
    if rc in (0, None):
        why.append('the run %s' % ('succeeded' if rc == 0 else 'timed out'))
    if not recap:
        why.append('no PLAY RECAP')
    changed = {h: r['changed'] for h, r in recap.items() if r['changed']}
    if changed and not case.get('staged'):
        why.append('changed hosts: %s' % changed)
    # Failed in the preflight: the run never reached the first play that changes a host.
    if not case.get('staged') and FIRST_CHANGE in out:
        why.append('the run got past the preflight (it reached "%s")' % FIRST_CHANGE)
    missing = [s for s in case.get('expect', []) if str(s) not in text]
    if missing:
        why.append('the messages do not name %s' % ', '.join(map(str, missing)))
    return {'name': case['name'], 'passed': not why, 'why': why, 'rc': rc, 'recap': recap, 'messages': msgs[:6],
            'seconds': round(time.monotonic() - started, 1)}


def main():
    p = argparse.ArgumentParser()
    for name in ('site', 'inventory', 'cases', 'out'):
        p.add_argument(name)
    p.add_argument('--only')
    p.add_argument('--timeout', type=float, default=300)
    a = p.parse_args()
    with open(a.cases, encoding='utf-8') as f:
        cases = yaml.safe_load(f)
    results = []
    for case in cases:
        if a.only and case['name'] != a.only:
            continue
        results.append(run_case(case, a.site, a.inventory, a.timeout))
        r = results[-1]
        print('%s %5.1fs %s%s' % ('ok  ' if r['passed'] else 'FAIL', r['seconds'], r['name'],
                                  '' if r['passed'] else ': ' + '; '.join(r['why'])), flush=True)
    summary = {'cases': len(results), 'passed': sum(r['passed'] for r in results), 'results': results}
    with open(a.out + '.tmp', 'w', encoding='utf-8') as f:
        json.dump(summary, f, indent=1)
    os.replace(a.out + '.tmp', a.out)
    return 0 if summary['passed'] == summary['cases'] else 1


if __name__ == '__main__':
    sys.exit(main())
