# -*- coding: utf-8 -*-
# Copyright (c) 2026, gpufleet maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The strategy gpufleet.ollama.linear gives the results of ansible.builtin.linear.

One playbook with the shapes of condition the site uses (and the ones the strategy leaves to the worker: loops,
includes, delegation, handlers, errors, connection variables) runs under both strategies against local hosts; every
host's result of every task, the recap and the exit status must be the same. A second run counts the worker
processes each strategy forks, so the saving the strategy exists for is pinned as well."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BIN = os.path.dirname(sys.executable)

INVENTORY = textwrap.dedent("""\
    [h]
    a ansible_connection=local ansible_python_interpreter={python}
    b ansible_connection=local ansible_python_interpreter={python}
    c ansible_connection=local ansible_python_interpreter={python}
    """)

PLAYBOOK = textwrap.dedent("""\
    - name: Conditions of every shape
      hosts: h
      gather_facts: false
      tasks:
        - name: Skipped on a, registered
          ansible.builtin.command: /bin/true
          register: first
          changed_when: false
          when: inventory_hostname != 'a'
        - name: The registered skip, as the worker writes it
          ansible.builtin.debug:
            var: first
        - name: A fact set on one host
          ansible.builtin.set_fact:
            picked: "{{ inventory_hostname == 'b' }}"
        - name: Runs where the fact is true
          ansible.builtin.debug:
            msg: picked
          when: picked | bool
        - name: A connection variable the worker adds from the play context
          ansible.builtin.debug:
            msg: "{{ ansible_user }}"
          when: ansible_user is defined and inventory_hostname == 'c'
        - name: Two conditions, the second false on b
          ansible.builtin.debug:
            msg: both
          when:
            - true
            - inventory_hostname != 'b'
        - name: A block's condition reaches its tasks
          when: inventory_hostname == 'a'
          block:
            - name: In the block
              ansible.builtin.debug:
                msg: in
        - name: A loop (left to the worker)
          ansible.builtin.debug:
            msg: "{{ item }}"
          loop: [1, 2]
          when: item == 1 or inventory_hostname == 'c'
        - name: An include (left to the strategy's include handling)
          ansible.builtin.include_tasks: included.yml
          when: inventory_hostname == 'b'
        - name: Delegated (left to the worker)
          ansible.builtin.debug:
            msg: delegated
          delegate_to: a
          when: inventory_hostname == 'c'
        - name: Notifies only where it runs
          ansible.builtin.command: /bin/true
          when: inventory_hostname == 'a'
          notify: Handler
        - name: An undefined variable in a condition fails as it does in the worker
          ansible.builtin.debug:
            msg: never
          when: not_defined_anywhere.attr
          ignore_errors: true
        - name: A failure after a skip still fails
          ansible.builtin.fail:
            msg: failed on purpose
          when: inventory_hostname == 'c'
          ignore_errors: true
      handlers:
        - name: Handler
          ansible.builtin.debug:
            msg: handled
    """)

INCLUDED = textwrap.dedent("""\
    - name: Included
      ansible.builtin.debug:
        msg: included
      when: inventory_hostname != 'c'
    """)

TIMING = {"start", "end", "delta", "duration"}


def _scrub(value):
    if isinstance(value, dict):
        return {k: _scrub(v) for k, v in value.items() if k not in TIMING}
    if isinstance(value, list):
        return [_scrub(v) for v in value]
    return value


def _run(tmp_path, strategy, callback="ansible.posix.json", extra_env=None):
    (tmp_path / "inventory").write_text(INVENTORY.format(python=sys.executable))
    (tmp_path / "site.yml").write_text(PLAYBOOK)
    (tmp_path / "included.yml").write_text(INCLUDED)
    (tmp_path / "ansible.cfg").write_text("[defaults]\n")
    env = dict(os.environ,
               ANSIBLE_CONFIG=str(tmp_path / "ansible.cfg"),
               ANSIBLE_COLLECTIONS_PATH=os.path.join(ROOT, ".collections"),
               ANSIBLE_STRATEGY=strategy,
               ANSIBLE_STDOUT_CALLBACK=callback,
               ANSIBLE_DEPRECATION_WARNINGS="false",
               ANSIBLE_FORKS="3",
               **(extra_env or {}))
    return subprocess.run([os.path.join(BIN, "ansible-playbook"), "-i", "inventory", "site.yml", "-u", "someone"],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300, check=False)


def _results(proc):
    doc = json.loads(proc.stdout)
    tasks = [(t["task"]["name"], _scrub(t["hosts"])) for play in doc["plays"] for t in play["tasks"]]
    return tasks, doc["stats"]


def test_same_results_as_builtin_linear(tmp_path):
    builtin = _run(tmp_path, "ansible.builtin.linear")
    ours = _run(tmp_path, "gpufleet.ollama.linear")
    assert builtin.returncode == ours.returncode == 0, (builtin.stderr, ours.stderr)
    b_tasks, b_stats = _results(builtin)
    o_tasks, o_stats = _results(ours)
    assert [name for name, _ in o_tasks] == [name for name, _ in b_tasks]
    for (name, b_hosts), (_, o_hosts) in zip(b_tasks, o_tasks):
        assert o_hosts == b_hosts, name
    assert o_stats == b_stats
    # the playbook does exercise what it is meant to: skips, runs, a failure and the handler
    skipped = [name for name, hosts in o_tasks if any(r.get("skipped") for r in hosts.values())]
    assert "Skipped on a, registered" in skipped and "Two conditions, the second false on b" in skipped
    assert o_stats["c"]["ignored"] == 2 and o_stats["a"]["ignored"] == 1
    assert any(name == "Handler" for name, _ in o_tasks)


def test_false_conditions_fork_no_worker(tmp_path):
    """Workers started, counted by ansible's own debug log: the skips are the difference."""
    counts = {}
    for strategy in ("ansible.builtin.linear", "gpufleet.ollama.linear"):
        proc = _run(tmp_path, strategy, callback="ansible.builtin.minimal", extra_env={"ANSIBLE_DEBUG": "1"})
        assert proc.returncode == 0, proc.stderr[-2000:]
        log = proc.stdout + proc.stderr
        counts[strategy] = (log.count("entering _queue_task()"), log.count("skipped on the controller"))
    (b_queued, b_early), (o_queued, o_early) = counts["ansible.builtin.linear"], counts["gpufleet.ollama.linear"]
    assert b_early == 0
    # host-tasks of plain tasks whose condition is false, counted from the playbook: first task 1 (a), the fact 2
    # (a, c), ansible_user 2 (a, b), two conditions 1 (b), the block 2 (b, c), notify 2 (b, c), fail 2 (a, b) = 12
    assert o_early == 12
    assert o_queued == b_queued - o_early
