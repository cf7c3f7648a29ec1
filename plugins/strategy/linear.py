# -*- coding: utf-8 -*-
# Copyright (c) 2026, gpufleet maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: linear
short_description: The linear strategy, with a false condition skipped on the controller
description:
  - Runs exactly like C(ansible.builtin.linear) - every host runs a task before any host starts the next one - with one
    difference in cost, not in result - a task whose C(when) is false for a host is reported as skipped by the
    controller itself instead of by a worker process forked for it.
  - "Why: on a no-op run of the site about 40 % of the host-tasks are skips (the collection's tasks are guarded by
    reads), and with the builtin strategy each costs a fork of the controller, a task executor and a round trip of
    the result queue (see docs/performance.md for the measured difference)."
  - The condition is evaluated with the same variables the worker would get; the result is the one the worker returns
    for a false condition (C(skipped), C(skip_reason), C(false_condition)), so callbacks, C(register), handlers and the
    play recap see no difference.
  - Before it forks a worker it moves the controller's objects to the garbage collector's permanent generation
    (C(gc.freeze())), so the worker's collections do not copy the parent's memory page by page.
  - A task keeps the worker path when it loops, includes or imports, is delegated, is a handler, when its condition
    cannot be evaluated on the controller (an error, which the worker then reports as it always does), or when the
    condition is true.
  - The project's C(ansible.cfg) selects it (C(strategy = gpufleet.ollama.linear)); C(ansible.builtin.linear) runs the
    same playbooks with the same results, only slower. ansible-core warns once per run that strategy plugins outside
    C(ansible.builtin) are deprecated, and the plugin uses ansible-core internals (tested with the ansible-core this
    collection supports, by a test that compares every result with the builtin strategy's).
  - Callbacks that treat only a strategy named C(linear) as lockstep (C(ansible.posix.json)) see it as a
    free-running strategy.
  - A condition that is true is evaluated twice, on the controller and again by the worker; a lookup with side effects
    (C(pipe)) in a C(when) would run twice (the collection has none).
author:
  - gpufleet maintainers (@gpufleet)
version_added: 0.3.0
"""

import gc

from ansible.executor.task_result import _RawTaskResult
from ansible.playbook.handler import Handler
from ansible.plugins.strategy.linear import StrategyModule as LinearStrategyModule
from ansible.utils.display import Display

from ansible_collections.gpufleet.ollama.plugins.plugin_utils._skip_early import false_condition_result

display = Display()


class StrategyModule(LinearStrategyModule):
    """ansible.builtin.linear, with false conditions answered on the controller."""

    def _queue_task(self, host, task, task_vars, play_context):
        if not isinstance(task, Handler):
            result = false_condition_result(host, task, task_vars, play_context, self._loader)
            if result is not None:
                self._post_skipped(host, task, task_vars, play_context, result)
                return
        # The worker is a fork of this process: objects moved to the permanent generation are not scanned by the
        # worker's garbage collector, which would otherwise touch (and so copy) most of the parent's pages - as the
        # Python documentation of gc.freeze() advises before a fork without exec.
        gc.freeze()
        super()._queue_task(host, task, task_vars, play_context)

    def _post_skipped(self, host, task, task_vars, play_context, result):
        """Hand the skip to the results queue as a worker would (the wire form, so the task is copied the same way)."""
        self._queued_task_cache[(host.name, task._uuid)] = {
            'host': host,
            'task': task,
            'task_vars': task_vars,
            'play_context': play_context,
        }
        self._tqm.send_callback('v2_runner_on_start', host, task)
        wire = _RawTaskResult(host=host, task=task, return_data=result, task_fields=task.dump_attrs()).as_wire_task_result()
        raw = self._convert_wire_task_result_to_raw(wire)
        with self._results_lock:
            self._results.append(raw)
        self._pending_results += 1
        display.debug("skipped on the controller: %s/%s" % (host.name, task.action))
