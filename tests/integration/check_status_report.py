# -*- coding: utf-8 -*-
# Copyright (c) 2026, gpufleet maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Check the HTML fleet report of playbooks/status.yml in a real browser (headless Chromium, controller only).

    check_status_report.py REPORT.html OUT_DIR NODE:PORT [NODE:PORT ...]
                           [--expect-problem ID ...] [--expect-version VERSION] [--chromium PATH]

Chromium renders REPORT twice: `--dump-dom` (the DOM after parsing, written to OUT_DIR/status.dom.html) and
`--screenshot=OUT_DIR/status.png --window-size=1400,2000`. The dumped DOM is then read with the standard library's
html.parser and checked:

- every expected instance (NODE:PORT) has its row (an element with data-instance="NODE:PORT"), and the row's
  visible text (not inside a hidden element, <style> or <script>) holds the version and the health the row
  carries in data-version and data-health; with --expect-version, every such row whose health is "ok" shows
  VERSION (an instance that does not answer cannot tell its version);
- the "Problems" section (id="problems") comes before the instances and lists every --expect-problem ID (an
  element with data-problem="ID"; ID is NODE:PORT, or a node's name for a row about a whole node), and each such
  row has the class "problem";
- the screenshot is a PNG with a non-empty image.

Exit status 0 when every check passes, 1 with one line per failed check on stderr, 2 when the report or a
Chromium binary is missing or Chromium fails. Chromium is looked up as --chromium, $CHROMIUM, then
/usr/lib/chromium/chromium-headless-shell and chromium-headless-shell on PATH (Debian's chromium-headless-shell
package, preferred), then chromium / chromium-browser on PATH (run with --headless).
"""

from __future__ import annotations

import argparse
import os
import shutil
import struct
import subprocess
import sys
import tempfile

from html.parser import HTMLParser

HEADLESS_SHELLS = ('/usr/lib/chromium/chromium-headless-shell', 'chromium-headless-shell')
BROWSERS = ('chromium', 'chromium-browser')
WINDOW = '1400,2000'
VOID = {'area', 'base', 'br', 'col', 'embed', 'hr', 'img', 'input', 'link', 'meta', 'source', 'track', 'wbr'}
INVISIBLE = {'head', 'style', 'script', 'template', 'noscript', 'title'}
PNG_SIGNATURE = b'\x89PNG\r\n\x1a\n'


class CheckError(Exception):
    """A problem that stops the check before the report can be judged (exit status 2)."""


def find_chromium(explicit=None):
    """(path, needs_headless_flag) of the browser to run, or None."""
    for candidate in [explicit, os.environ.get('CHROMIUM')]:
        if candidate:
            path = shutil.which(candidate) or (candidate if os.access(candidate, os.X_OK) else None)
            if path:
                return path, 'headless-shell' not in os.path.basename(path)
    for name in HEADLESS_SHELLS:
        path = shutil.which(name) or (name if os.path.isabs(name) and os.access(name, os.X_OK) else None)
        if path:
            return path, False
    for name in BROWSERS:
        path = shutil.which(name)
        if path:
            return path, True
    return None


def run_chromium(browser, url, extra, timeout=120):
    path, headless = browser
    with tempfile.TemporaryDirectory(prefix='status-chromium-') as profile:
        argv = [path] + (['--headless'] if headless else []) + [
            '--no-sandbox', '--disable-gpu', '--no-first-run', '--user-data-dir=%s' % profile] + extra + [url]
        try:
            proc = subprocess.run(argv, capture_output=True, text=True, timeout=timeout,
                                  env=dict(os.environ, HOME=profile))
        except subprocess.TimeoutExpired:
            raise CheckError('%s did not finish within %ss' % (' '.join(argv), timeout))
    if proc.returncode != 0:
        raise CheckError('%s exited with %s: %s' % (' '.join(argv), proc.returncode, proc.stderr.strip()[-2000:]))
    return proc.stdout


class ReportParser(HTMLParser):
    """Collects the visible text of every element with data-instance, the data-problem ids and the section order."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.stack = []        # (tag, hidden, row id or None)
        self.rows = {}         # id -> {'attrs': {...}, 'classes': set, 'text': [...]}
        self.problems = []     # data-problem ids, in order
        self.sections = []     # ids of <section> elements, in order

    @staticmethod
    def _hidden(tag, attrs):
        style = (attrs.get('style') or '').replace(' ', '').lower()
        return tag in INVISIBLE or 'hidden' in attrs or 'display:none' in style or 'visibility:hidden' in style

    def handle_starttag(self, tag, attrs):
        attrs = dict((k, v if v is not None else '') for k, v in attrs)
        hidden = self._hidden(tag, attrs) or any(h for dummy, h, dummy2 in self.stack)
        row = attrs.get('data-instance')
        if row is not None:
            self.rows.setdefault(row, {'attrs': attrs, 'classes': set(attrs.get('class', '').split()),
                                       'text': [], 'hidden': hidden})
        if 'data-problem' in attrs and not hidden:
            self.problems.append(attrs['data-problem'])
        if tag == 'section' and attrs.get('id'):
            self.sections.append(attrs['id'])
        if tag not in VOID:
            self.stack.append((tag, hidden, row))

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)
        if tag not in VOID:
            self.handle_endtag(tag)

    def handle_endtag(self, tag):
        for i in range(len(self.stack) - 1, -1, -1):
            if self.stack[i][0] == tag:
                del self.stack[i:]
                return

    def handle_data(self, data):
        if not self.stack or self.stack[-1][1]:
            return
        for dummy, dummy2, row in self.stack:
            if row is not None:
                self.rows[row]['text'].append(data)


def png_size(path):
    """(width, height) of a PNG file, or None when it is not one."""
    try:
        with open(path, 'rb') as f:
            head = f.read(24)
    except OSError:
        return None
    if len(head) < 24 or head[:8] != PNG_SIGNATURE or head[12:16] != b'IHDR':
        return None
    return struct.unpack('>II', head[16:24])


def check_dom(dom, instances, expect_problems=(), expect_version=None):
    """The failed checks of the dumped DOM, one sentence each (empty when all pass)."""
    parser = ReportParser()
    parser.feed(dom)
    parser.close()
    failures = []
    for rid in instances:
        row = parser.rows.get(rid)
        if row is None:
            failures.append('no row for instance %s (no element with data-instance="%s")' % (rid, rid))
            continue
        if row['hidden']:
            failures.append('the row of %s is not visible' % rid)
            continue
        text = ' '.join(' '.join(row['text']).split())
        version = row['attrs'].get('data-version')
        if expect_version and row['attrs'].get('data-health') == 'ok' and version != expect_version:
            failures.append('the row of %s shows version %r, not %r' % (rid, version, expect_version))
        for what, value in (('version', version), ('health', row['attrs'].get('data-health'))):
            if not value:
                failures.append('the row of %s has no %s (data-%s)' % (rid, what, what))
            elif value not in text:
                failures.append('the row of %s does not show its %s %r; its text is: %s' % (rid, what, value, text))
    if expect_problems:
        if 'problems' not in parser.sections:
            failures.append('no Problems section (<section id="problems">)')
        elif 'instances' in parser.sections and parser.sections.index('problems') > parser.sections.index('instances'):
            failures.append('the Problems section comes after the instances')
    for pid in expect_problems:
        if pid not in parser.problems:
            failures.append('the Problems section does not list %s (it lists: %s)'
                            % (pid, ', '.join(sorted(set(parser.problems))) or 'nothing'))
        row = parser.rows.get(pid)
        if row is None:
            failures.append('no row for the problem %s' % pid)
        elif 'problem' not in row['classes']:
            failures.append('the row of %s lacks the class "problem"' % pid)
    return failures


def check_report(report, out_dir, instances, expect_problems=(), expect_version=None, chromium=None):
    """Render REPORT with Chromium into OUT_DIR and check it; returns the failed checks (raises CheckError)."""
    if not os.path.isfile(report):
        raise CheckError('no report at %s' % report)
    browser = find_chromium(chromium)
    if browser is None:
        raise CheckError('no Chromium found: install the Debian package chromium-headless-shell (or chromium), '
                         'or name the binary with --chromium or $CHROMIUM')
    os.makedirs(out_dir, exist_ok=True)
    url = 'file://' + os.path.abspath(report)
    dom = run_chromium(browser, url, ['--dump-dom'])
    with open(os.path.join(out_dir, 'status.dom.html'), 'w', encoding='utf-8') as f:
        f.write(dom)
    shot = os.path.join(out_dir, 'status.png')
    if os.path.exists(shot):
        os.unlink(shot)
    run_chromium(browser, url, ['--screenshot=%s' % shot, '--window-size=%s' % WINDOW])
    failures = check_dom(dom, instances, expect_problems, expect_version)
    size = png_size(shot)
    if size is None:
        failures.append('the screenshot %s is missing or not a PNG' % shot)
    elif 0 in size or os.path.getsize(shot) <= 100:
        failures.append('the screenshot %s is empty (%sx%s, %d bytes)' % (shot, size[0], size[1], os.path.getsize(shot)))
    return failures


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n', 1)[0])
    parser.add_argument('report', help='the HTML report (ollama_status_report_path)')
    parser.add_argument('out_dir', help='where the dumped DOM and the screenshot go')
    parser.add_argument('instances', nargs='*', metavar='NODE:PORT', help='instances whose rows must be there')
    parser.add_argument('--expect-problem', action='append', default=[], metavar='ID',
                        help='a row id (NODE:PORT, or NODE) the Problems section must list; repeatable')
    parser.add_argument('--expect-version', help='the version every expected instance row with health "ok" must show')
    parser.add_argument('--chromium', help='the Chromium binary to run')
    args = parser.parse_args(argv)
    try:
        failures = check_report(args.report, args.out_dir, args.instances, args.expect_problem, args.expect_version,
                                args.chromium)
    except CheckError as e:
        print('check_status_report: %s' % e, file=sys.stderr)
        return 2
    for failure in failures:
        print('check_status_report: FAILED: %s' % failure, file=sys.stderr)
    if failures:
        return 1
    print('check_status_report: OK: %d instance row(s), %d problem(s) as expected; screenshot %s'
          % (len(args.instances), len(args.expect_problem), os.path.join(args.out_dir, 'status.png')))
    return 0


if __name__ == '__main__':
    sys.exit(main())
