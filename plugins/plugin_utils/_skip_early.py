# -*- coding: utf-8 -*-
# Copyright (c) 2026, gpufleet maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""PRIVATE: decide on the controller that a host-task skips, as ansible-core's task executor would.

Not a public API. Used by the strategy plugin gpufleet.ollama.linear. What it mirrors is
ansible-core's TaskExecutor.run() and _execute_internal() up to the conditional (the search path
set before the loop check, the play context overridden by the task and its variables, the magic
connection variables added where missing), and the result those return for a false condition.
"""

from __future__ import annotations

from ansible import constants as C
from ansible._internal import _display_utils, _task
from ansible._internal._templating._engine import TemplateEngine
from ansible.playbook.task_include import TaskInclude

# Results of the worker for a false condition (ansible-core TaskExecutor._execute_internal).
SKIP_REASON = 'Conditional result was False'


def early_skip_candidate(task):
    """Whether a task's skip can be decided before it reaches a worker: a plain task with a condition."""
    if not task.when or task.loop_with or task.loop is not None:
        return False
    if isinstance(task, TaskInclude) or task.action in C._ACTION_ALL_INCLUDE_IMPORT_TASKS + C._ACTION_ALL_PROPER_INCLUDE_IMPORT_ROLES:
        return False
    if task.delegate_to is not None or task.action in C._ACTION_META:
        return False
    return True


def false_condition_result(host, task, task_vars, play_context, loader):
    """The worker's result when the task's condition is false for these variables; None when it is true or unknown.

    None means "let the worker decide": a condition that is true, or one that raises here (the worker then
    raises it in the same way and reports it as it always does).
    """
    if not early_skip_candidate(task):
        return None
    variables = dict(task_vars)
    try:
        with _task.TaskContext(task), _display_utils.DeferredWarningContext(variables=variables) as warnings:
            search_path = task.get_search_path()
            if loader.get_basedir() not in search_path:
                search_path.append(loader.get_basedir())
            variables['ansible_search_path'] = search_path
            templar = TemplateEngine(loader=loader, variables=variables)
            context = play_context.set_task_and_variable_override(task=task, variables=variables, templar=templar)
            context.post_validate(templar=templar)
            if not context.remote_addr:
                context.remote_addr = host.address
            context.update_vars(variables)
            detail = {}
            if task._resolve_conditional(task.when, variables, result_context=detail):
                return None
            result = dict(changed=False, skipped=True, skip_reason=SKIP_REASON) | detail
            task.update_result_no_log(templar, result)
            if warnings.get_warnings() or warnings.get_deprecation_warnings():
                return None  # the worker records them with its result; let it
    except Exception:  # pylint: disable=broad-exception-caught
        return None
    return result
