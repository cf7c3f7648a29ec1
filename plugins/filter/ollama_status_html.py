# -*- coding: utf-8 -*-
# Copyright (c) 2026, gpufleet maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: ollama_status_html
short_description: Render the fleet status rows as one self-contained HTML page
version_added: 0.3.0
author:
  - gpufleet maintainers (@gpufleet)
description:
  - Takes the rows of P(gpufleet.ollama.ollama_status_rows#filter) and returns one HTML page - inline CSS, no
    script, no external font, style sheet, image or link - with a header (time and counts), a C(Problems) section
    first, then a table with one row per instance (node, port and URL, GPUs with their memory as bars, version,
    health, models present, models loaded with the share of each in GPU memory).
  - Every value is HTML-escaped.
  - Each row is a C(tr) with C(id) and C(data-instance) set to the row's C(id) (C(node:port), or the node's name for a
    row about the whole node), C(data-version) and C(data-health) set to the version and health it shows, and the
    class C(problem) when it has one; each problem is an C(li) with
    C(data-problem) set to that C(id), so a browser test can find them.
options:
  _input:
    description: The rows.
    type: list
    elements: dict
    required: true
  generated:
    description: When the data was read, shown in the header (for example V(2026-11-30 17:00:00 UTC)).
    type: str
    default: ""
  title:
    description: The page's title and heading.
    type: str
    default: gpufleet.ollama fleet status
"""

EXAMPLES = r"""
- name: Write the HTML report on the controller
  ansible.builtin.copy:
    content: "{{ __status_rows | gpufleet.ollama.ollama_status_html(generated=now(utc=true).strftime('%Y-%m-%d %H:%M:%S UTC')) }}"
    dest: /tmp/gpufleet-status.html
    mode: "0644"
  delegate_to: localhost
"""

RETURN = r"""
_value:
  description: The page, C(<!DOCTYPE html>) first.
  type: str
"""

from collections.abc import Mapping
from html import escape

from ansible.errors import AnsibleFilterError

CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:1.5rem;color:#1d1d1f;background:#fafafa}
h1{font-size:1.5rem;margin:0 0 .25rem}h2{font-size:1.15rem;margin:1.5rem 0 .5rem}
.meta{color:#555;margin:0}.counts span{display:inline-block;margin-right:1rem}
#problems ul{margin:0;padding-left:1.25rem}#problems li{margin:.2rem 0}#problems .none{color:#1a7f37}
table{border-collapse:collapse;width:100%;background:#fff}
th,td{border:1px solid #ddd;padding:.35rem .5rem;text-align:left;vertical-align:top;font-size:.9rem}
th{background:#f0f0f0}tr.problem{background:#fff4f4}tr.problem td:first-child{border-left:4px solid #cf222e}
.health-ok{color:#1a7f37;font-weight:600}.health-down,.health-unreachable,.health-failed{color:#cf222e;font-weight:600}
.health-unknown{color:#9a6700;font-weight:600}
.url,.uuid,.mem{color:#555;font-size:.8rem}.gpu{margin-bottom:.4rem;min-width:14rem}
.bar{height:.6rem;background:#e5e5e5;border-radius:3px;overflow:hidden;margin:.15rem 0}
.fill{height:100%;background:#2da44e}.fill.full{background:#cf222e}
ul.plain{margin:0;padding-left:1rem}.partial{color:#cf222e}.row-problems{color:#cf222e;font-size:.8rem}
"""


def _e(value):
    return escape('' if value is None else str(value), quote=True)


def _gpu_cell(gpus):
    parts = []
    for g in gpus:
        percent = g.get('percent')
        width = 0.0 if percent is None else min(max(float(percent), 0.0), 100.0)
        memory = ('%s / %s MiB (%s%%)' % (g.get('used_mib'), g.get('total_mib'), percent) if percent is not None
                  else 'memory unknown')
        parts.append('<div class="gpu"><div>%s %s</div><div class="uuid">%s</div>'
                     '<div class="bar"><div class="fill%s" style="width:%.1f%%"></div></div>'
                     '<div class="mem">%s</div></div>'
                     % (_e(g.get('index')), _e(g.get('name')), _e(g.get('uuid')),
                        ' full' if percent is not None and percent > 95 else '', width, _e(memory)))
    return ''.join(parts) or '-'


def _list(items, partial=None):
    if not items:
        return '-'
    return '<ul class="plain">%s</ul>' % ''.join(
        '<li%s>%s</li>' % (' class="partial"' if partial and partial(i) else '', _e(i.get('label') if partial else i))
        for i in items)


def _row(r):
    rid = _e(r.get('id'))
    health = str(r.get('health') or 'unknown')
    version = _e(r.get('version') or '-')
    port = '-' if r.get('port') is None else r.get('port')
    problems = ''.join('<div class="row-problems">%s</div>' % _e(p) for p in r.get('problems') or [])
    cells = [_e(r.get('node')), '%s<div class="url">%s</div>' % (_e(port), _e(r.get('url'))),
             _gpu_cell(r.get('gpus') or []), version,
             '<span class="health-%s">%s</span>%s' % (_e(''.join(c for c in health if c.isalnum())), _e(health), problems),
             _list(r.get('models')),
             _list(r.get('loaded'), partial=lambda m: m.get('percent') is not None and m['percent'] < 100)]
    return '<tr id="%s" data-instance="%s" data-version="%s" data-health="%s"%s>%s</tr>' % (
        rid, rid, version, _e(health), ' class="problem"' if r.get('problems') else '',
        ''.join('<td>%s</td>' % c for c in cells))


def ollama_status_html(rows, generated='', title='gpufleet.ollama fleet status'):
    if not isinstance(rows, list) or not all(isinstance(r, Mapping) for r in rows):
        raise AnsibleFilterError('ollama_status_html expects the rows of ollama_status_rows (a list of mappings)')
    problems = [(r.get('id'), p) for r in rows for p in r.get('problems') or []]
    counts = [('nodes', len({r.get('node') for r in rows})),
              ('instances', len([r for r in rows if r.get('port') is not None])),
              ('healthy', len([r for r in rows if r.get('health') == 'ok' and not r.get('problems')])),
              ('with a problem', len([r for r in rows if r.get('problems')])),
              ('GPUs', len({(r.get('node'), g.get('uuid') or g.get('index')) for r in rows for g in r.get('gpus') or []}))]
    problem_items = ''.join('<li data-problem="%s"><a href="#%s">%s</a>: %s</li>' % (_e(i), _e(i), _e(i), _e(p))
                            for i, p in problems)
    return '\n'.join([
        '<!DOCTYPE html>',
        '<html lang="en"><head><meta charset="utf-8"><title>%s</title><style>%s</style></head><body>' % (_e(title), CSS),
        '<header><h1>%s</h1><p class="meta">Read <time>%s</time></p><p class="meta counts">%s</p></header>'
        % (_e(title), _e(generated or 'unknown'),
           ''.join('<span data-count="%s">%d %s</span>' % (_e(k), v, _e(k)) for k, v in counts)),
        '<section id="problems"><h2>Problems (%d)</h2>%s</section>'
        % (len(problems), '<ul>%s</ul>' % problem_items if problems else '<p class="none">No problem found.</p>'),
        '<section id="instances"><h2>Instances</h2><table><thead><tr><th>Node</th><th>Instance</th><th>GPU</th>'
        '<th>Version</th><th>Health</th><th>Models present</th><th>Loaded (share on GPU)</th></tr></thead><tbody>',
        '\n'.join(_row(r) for r in rows) or '<tr><td colspan="7">No GPU node in this run.</td></tr>',
        '</tbody></table></section></body></html>',
        '',
    ])


class FilterModule(object):
    def filters(self):
        return {'ollama_status_html': ollama_status_html}
