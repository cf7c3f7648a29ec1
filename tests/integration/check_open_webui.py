# -*- coding: utf-8 -*-
# Copyright (c) 2026, gpufleet maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Drive Open WebUI in a real browser (headless Chromium over the DevTools protocol; controller only, stdlib only).

    check_open_webui.py --url URL --email EMAIL --out DIR
                        [--resolve HOST:IP ...] [--cert FILE | --ca-cert FILE | --insecure]
                        [--model ID] [--model-by-url] [--expect-models ID,ID,...]
                        [--message TEXT --expect-answer TEXT] [--expect-chat TEXT]
                        [--timeout S] [--answer-timeout S] [--chromium PATH]

The admin's password is read from $OPEN_WEBUI_PASSWORD. Chromium runs with --remote-debugging-pipe (the
DevTools protocol as NUL-terminated JSON on its fds 3 and 4) and a throw-away profile, and is killed at the end.
In order, each step bounded by --timeout seconds (the answer by --answer-timeout):

1. open URL; it must show the sign-in form (#email, #password); screenshot 01-signin.png;
2. sign in as EMAIL through that form (click, type with Input.insertText, click the form's submit button); the
   session token must appear in localStorage and the chat input (#chat-input) on the page; a modal dialog that
   opens over it (the admin's "what's new" on a new version) is closed; screenshot 02-signed-in.png;
3. --expect-chat TEXT: a chat of this user whose title or messages contain TEXT must exist (asked through the
   page's own API, GET /api/v1/chats/ and /api/v1/chats/ID with the page's token); whether the sidebar shows it
   is reported;
4. --expect-models / --model: the model selector of the chat input (#model-selector-model-button) is opened;
   the models it offers ([role=listbox] [role=option][data-value]) must be exactly --expect-models; the --model
   option is clicked and the selector must then name it; screenshot 03-models.png. With --model-by-url the model is picked
   by opening URL?model=ID instead (Open WebUI's own query parameter) and the selector is only read;
5. --message TEXT: TEXT is typed into the chat input (the ProseMirror editor #chat-input: click, then
   Input.insertText) and sent with the send button (#send-message-button); the last assistant message
   (.chat-assistant) must contain --expect-answer (white space normalised) within --answer-timeout; the chat's id
   (from the URL /c/ID) and the final answer go into the summary; screenshot 04-answer.png.

With --resolve HOST:IP Chromium resolves HOST to IP (--host-resolver-rules), so a test reaches a TLS server by
its server name. For an https URL, the server's certificate is trusted for this browser only through
--ignore-certificate-errors-spki-list: --cert FILE names the server's certificate (PEM, the first one in the file;
further ones, a chain, are trusted too); --ca-cert FILE names a CA: the server's certificate is fetched and
verified against it (name and chain, by Python's ssl) before its key is trusted; --insecure trusts any
certificate. Every request the page makes to another host than URL's is listed in the summary (foreign_requests).

DIR receives the screenshots and summary.json (what was seen: version, models, answer, chat, timings, failures).
Exit status 0 when every check passes; 1 with one line per failed check on stderr (and DIR/failure.png, the page
when it failed); 2 when the environment is wrong: no Chromium, no password, a certificate file that cannot be
read, Chromium failing to start or dying. Chromium is --chromium or $CHROMIUM when given (it must exist), else the
first of /usr/lib/chromium/chromium-headless-shell, chromium-headless-shell (Debian's chromium-headless-shell
package), chromium, chromium-browser (these two run with --headless).
"""

from __future__ import annotations

import argparse
import base64
import fcntl
import hashlib
import json
import os
import re
import select
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import traceback
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import check_status_report  # noqa: E402 (beside this file: the same Chromium lookup)

WIDTH, HEIGHT = 1400, 1000
PNG_SIGNATURE = b'\x89PNG\r\n\x1a\n'
POLL = 0.25
# the model selector of the chat input (0.12: id "model"; earlier releases numbered it: 0)
MODEL_BUTTON = '#model-selector-model-button, #model-selector-0-button'
# its options (0.12.4 names the list #model-selector-list, 0.12.3 does not)
MODEL_OPTION = '[role="listbox"] [role="option"][data-value]'
MAX_CHATS_READ = 50          # chats read one by one for --expect-chat
MAX_MESSAGE_BYTES = 64 << 20  # a DevTools message larger than this is a broken pipe
EVENTS = ('Page.loadEventFired', 'Network.requestWillBeSent', 'Network.loadingFailed', 'Runtime.exceptionThrown')


class EnvironmentProblem(Exception):
    """The check cannot run (exit status 2)."""


class CheckFailed(Exception):
    """A check failed and the next steps depend on it (exit status 1)."""


# ------------------------------------------------------------------ certificates

def _der_read(data, pos):
    """(tag, start of content, end of content) of the DER element at pos."""
    if pos + 2 > len(data):
        raise ValueError('truncated DER')
    tag, length = data[pos], data[pos + 1]
    pos += 2
    if length & 0x80:
        count = length & 0x7f
        if count == 0 or count > 4 or pos + count > len(data):
            raise ValueError('bad DER length')
        length = int.from_bytes(data[pos:pos + count], 'big')
        pos += count
    if pos + length > len(data):
        raise ValueError('truncated DER')
    return tag, pos, pos + length


def spki_of(der):
    """The DER SubjectPublicKeyInfo of a DER X.509 certificate."""
    tag, start, dummy = _der_read(der, 0)          # Certificate
    if tag != 0x30:
        raise ValueError('not a certificate')
    tag, pos, end = _der_read(der, start)          # TBSCertificate
    if tag != 0x30:
        raise ValueError('not a certificate')
    fields = []
    while pos < end and len(fields) < 8:
        tag, cstart, cend = _der_read(der, pos)
        fields.append((tag, pos, cend))
        pos = cend
    if fields and fields[0][0] == 0xa0:            # [0] version
        fields = fields[1:]
    # serialNumber, signature, issuer, validity, subject, subjectPublicKeyInfo
    if len(fields) < 6 or fields[5][0] != 0x30:
        raise ValueError('no subjectPublicKeyInfo')
    return der[fields[5][1]:fields[5][2]]


def spki_hash(der):
    """base64(sha256(SPKI)), the form --ignore-certificate-errors-spki-list takes."""
    return base64.b64encode(hashlib.sha256(spki_of(der)).digest()).decode()


def pem_certificates(path):
    """The DER certificates in a PEM file (or the one DER certificate of a DER file)."""
    try:
        with open(path, 'rb') as f:
            data = f.read()
    except OSError as e:
        raise EnvironmentProblem('cannot read the certificate %s: %s' % (path, e.strerror))
    blocks = re.findall(rb'-----BEGIN CERTIFICATE-----(.*?)-----END CERTIFICATE-----', data, re.S)
    try:
        ders = [base64.b64decode(b''.join(block.split())) for block in blocks] if blocks else [data]
        for der in ders:
            spki_of(der)
    except (ValueError, IndexError) as e:
        raise EnvironmentProblem('%s holds no readable certificate (%s)' % (path, e))
    return ders


def parse_resolve(values):
    """{host: ip} from HOST:IP strings (IP may be IPv6, with or without brackets)."""
    mapping = {}
    for value in values:
        host, sep, ip = value.partition(':')
        ip = ip.strip('[]')
        if not sep or not host or not ip:
            raise EnvironmentProblem('--resolve takes HOST:IP, not %r' % value)
        mapping[host.lower()] = ip
    return mapping


def server_certificate(url, resolve, ca_file, timeout):
    """The server's leaf certificate (DER), verified against ca_file for the URL's host name."""
    parts = urllib.parse.urlsplit(url)
    host, port = parts.hostname, parts.port or 443
    address = resolve.get(host.lower(), host)
    context = ssl.create_default_context(cafile=ca_file)
    try:
        with socket.create_connection((address, port), timeout=timeout) as sock:
            with context.wrap_socket(sock, server_hostname=host) as tls:
                return tls.getpeercert(binary_form=True)
    except ssl.SSLCertVerificationError as e:
        raise CheckFailed('the certificate of %s:%s (at %s) does not verify against %s: %s'
                          % (host, port, address, ca_file, e.verify_message or e))
    except (OSError, ssl.SSLError) as e:
        raise CheckFailed('cannot fetch the certificate of %s:%s (at %s): %s' % (host, port, address, e))


# ------------------------------------------------------------------ Chromium + DevTools over a pipe

def find_chromium(explicit=None):
    """(path, needs_headless_flag) of the browser to run, or None. A browser named by --chromium or $CHROMIUM must
    exist (no fallback to another one)."""
    for candidate in [explicit, os.environ.get('CHROMIUM')]:
        if candidate:
            path = shutil.which(candidate) or (candidate if os.access(candidate, os.X_OK) else None)
            return (path, 'headless-shell' not in os.path.basename(path)) if path else None
    # neither is set: the fleet report's check looks the browser up (Debian's headless shell first)
    return check_status_report.find_chromium()


class Browser:
    """A Chromium process and one page, spoken to over --remote-debugging-pipe (flat sessions)."""

    def __init__(self, browser, extra_args, log_path, timeout):
        path, headless = browser
        self.timeout = timeout
        self.profile = tempfile.mkdtemp(prefix='owui-chromium-')
        self.next_id = 0
        self.buffer = b''
        self.events = []
        self.session = None
        self.proc = None
        # Chromium reads commands on fd 3 and writes replies on fd 4. subprocess's pass_fds keeps descriptors
        # under their own numbers, so the pipe ends are moved to 3 and 4 in the child (preexec_fn, before exec);
        # they are first lifted to >= 10 so that dup2 always makes a fresh, inheritable copy.
        cmd_read, cmd_write = os.pipe()
        reply_read, reply_write = os.pipe()
        child_read = fcntl.fcntl(cmd_read, fcntl.F_DUPFD_CLOEXEC, 10)
        child_write = fcntl.fcntl(reply_write, fcntl.F_DUPFD_CLOEXEC, 10)
        os.close(cmd_read)
        os.close(reply_write)

        def to_3_and_4():
            os.dup2(child_read, 3)
            os.dup2(child_write, 4)

        argv = [path] + (['--headless'] if headless else []) + [
            '--no-sandbox', '--disable-gpu', '--no-first-run', '--no-default-browser-check',
            '--disable-background-networking', '--disable-component-update', '--disable-sync',
            '--disable-extensions', '--disable-default-apps', '--mute-audio', '--hide-scrollbars',
            '--password-store=basic', '--use-mock-keychain',
            '--window-size=%d,%d' % (WIDTH, HEIGHT), '--user-data-dir=%s' % self.profile,
            '--remote-debugging-pipe'] + extra_args + ['about:blank']
        self.argv = argv
        try:
            with open(log_path, 'wb') as log:
                # close_fds=False: Python's own descriptors are close-on-exec anyway (PEP 446); only 3 and 4 go over
                self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=log, stderr=log, close_fds=False,
                                             preexec_fn=to_3_and_4, start_new_session=True,
                                             env=dict(os.environ, HOME=self.profile))
        except OSError as e:
            for fd in (cmd_write, reply_read, child_read, child_write):
                os.close(fd)
            shutil.rmtree(self.profile, ignore_errors=True)
            raise EnvironmentProblem('cannot start %s: %s' % (path, e))
        os.close(child_read)
        os.close(child_write)
        os.set_blocking(cmd_write, False)
        self.wfd, self.rfd = cmd_write, reply_read

    # -- transport
    def _read_messages(self, deadline):
        """Read what is there (waiting at most until deadline); returns the complete messages."""
        wait = max(0.0, deadline - time.monotonic())
        ready, dummy, dummy2 = select.select([self.rfd], [], [], wait)
        if not ready:
            return []
        chunk = os.read(self.rfd, 1 << 20)
        if not chunk:
            raise EnvironmentProblem('Chromium closed the DevTools pipe (it died? exit status %s)' % self.proc.poll())
        self.buffer += chunk
        if len(self.buffer) > MAX_MESSAGE_BYTES:
            raise EnvironmentProblem('a DevTools message is larger than %d bytes' % MAX_MESSAGE_BYTES)
        *messages, self.buffer = self.buffer.split(b'\0')
        try:
            messages = [json.loads(m) for m in messages if m]
        except ValueError as e:
            raise EnvironmentProblem('Chromium sent a DevTools message that is not JSON: %s' % e)
        # keep the replies and the few events the checks look at
        return [m for m in messages if 'id' in m or m.get('method') in EVENTS]

    def send(self, method, params=None, session=True, timeout=None):
        """Send one command and wait for its reply; returns its result (raises CheckFailed on a protocol error)."""
        self.next_id += 1
        ident = self.next_id
        message = {'id': ident, 'method': method, 'params': params or {}}
        if session and self.session:
            message['sessionId'] = self.session
        data = json.dumps(message).encode() + b'\0'
        deadline = time.monotonic() + (timeout or self.timeout)
        try:
            while data:
                if not select.select([], [self.wfd], [], max(0.0, deadline - time.monotonic()))[1]:
                    raise EnvironmentProblem('Chromium does not read its DevTools pipe (%s)' % method)
                try:
                    data = data[os.write(self.wfd, data):]
                except BlockingIOError:
                    continue
        except OSError as e:
            raise EnvironmentProblem('cannot write to Chromium (%s): exit status %s' % (e, self.proc.poll()))
        while time.monotonic() < deadline:
            for reply in self._read_messages(deadline):
                if reply.get('id') == ident:
                    if 'error' in reply:
                        raise CheckFailed('%s failed: %s' % (method, reply['error'].get('message')))
                    return reply.get('result', {})
                if 'method' in reply:
                    self.events.append(reply)
        raise CheckFailed('Chromium did not answer %s within %ss' % (method, timeout or self.timeout))

    def pump(self, seconds):
        """Collect events for a while."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            self.events.extend(m for m in self._read_messages(deadline) if 'method' in m)

    def take_events(self, method):
        found = [e for e in self.events if e.get('method') == method]
        self.events = [e for e in self.events if e.get('method') != method]
        return found

    # -- page
    def open_page(self):
        target = self.send('Target.createTarget', {'url': 'about:blank'}, session=False)['targetId']
        self.session = self.send('Target.attachToTarget', {'targetId': target, 'flatten': True},
                                 session=False)['sessionId']
        for method in ('Page.enable', 'Runtime.enable', 'Network.enable'):
            self.send(method)
        self.send('Emulation.setDeviceMetricsOverride',
                  {'width': WIDTH, 'height': HEIGHT, 'deviceScaleFactor': 1, 'mobile': False})

    def evaluate(self, expression, timeout=None):
        """The JSON value of a JavaScript expression (promises awaited)."""
        result = self.send('Runtime.evaluate', {'expression': expression, 'returnByValue': True,
                                                'awaitPromise': True, 'userGesture': True}, timeout=timeout)
        if 'exceptionDetails' in result:
            details = result['exceptionDetails']
            text = (details.get('exception') or {}).get('description') or details.get('text')
            raise CheckFailed('the page failed to evaluate %s: %s' % (expression[:80], text))
        return result.get('result', {}).get('value')

    def wait_for(self, expression, timeout, what):
        """Poll a JavaScript expression until it is truthy; returns its value, or raises CheckFailed."""
        deadline = time.monotonic() + timeout
        while True:
            value = self.evaluate(expression)
            if value:
                return value
            if time.monotonic() >= deadline:
                raise CheckFailed('%s within %ss' % (what, timeout))
            self.pump(POLL)

    def click(self, selector):
        """A real mouse click in the middle of the element (scrolled into view); fails when something covers it."""
        box = self.evaluate('''(() => { const e = document.querySelector(%s); if (!e) return null;
            e.scrollIntoView({block: 'center', inline: 'center'}); const r = e.getBoundingClientRect();
            const x = r.left + r.width / 2, y = r.top + r.height / 2; const hit = document.elementFromPoint(x, y);
            return {x, y, w: r.width, h: r.height, hit: !!hit && (hit === e || e.contains(hit)),
                    over: hit ? hit.tagName + (hit.id ? '#' + hit.id : '') : null}; })()''' % json.dumps(selector))
        if not box:
            raise CheckFailed('no element %s to click' % selector)
        if not box['w'] or not box['h']:
            raise CheckFailed('the element %s is not visible (size %sx%s)' % (selector, box['w'], box['h']))
        if not box['hit']:
            raise CheckFailed('the element %s is covered by %s' % (selector, box['over']))
        for kind, count in (('mouseMoved', 0), ('mousePressed', 1), ('mouseReleased', 1)):
            self.send('Input.dispatchMouseEvent', {'type': kind, 'x': box['x'], 'y': box['y'], 'button': 'left',
                                                   'buttons': 1 if kind == 'mousePressed' else 0, 'clickCount': count})

    def type_text(self, text):
        self.send('Input.insertText', {'text': text})

    def press(self, key, code, keycode):
        for kind in ('rawKeyDown', 'keyUp'):
            self.send('Input.dispatchKeyEvent', {'type': kind, 'key': key, 'code': code,
                                                 'windowsVirtualKeyCode': keycode, 'nativeVirtualKeyCode': keycode})

    def navigate(self, url, timeout):
        self.pump(0.05)
        self.take_events('Page.loadEventFired')
        result = self.send('Page.navigate', {'url': url}, timeout=timeout)
        if result.get('errorText'):
            raise CheckFailed('cannot open %s: %s' % (url, result['errorText']))
        deadline = time.monotonic() + timeout
        while not self.take_events('Page.loadEventFired'):
            if time.monotonic() >= deadline:
                raise CheckFailed('%s did not finish loading within %ss' % (url, timeout))
            self.pump(POLL)

    def screenshot(self, path):
        for attempt in range(3):
            try:
                data = self.send('Page.captureScreenshot', {'format': 'png'})['data']
                break
            except CheckFailed as e:
                # right after a failed navigation the error page is still being committed
                if 'Not attached' not in str(e) or attempt == 2:
                    raise
                self.pump(1.0)
        png = base64.b64decode(data)
        if not png.startswith(PNG_SIGNATURE):
            raise CheckFailed('the screenshot %s is not a PNG' % path)
        with open(path, 'wb') as f:
            f.write(png)
        return path

    def close(self):
        """End Chromium for sure (Browser.close, then SIGTERM, then SIGKILL to its process group)."""
        try:
            if self.proc and self.proc.poll() is None:
                try:
                    self.session = None
                    self.send('Browser.close', session=False, timeout=3)
                except (CheckFailed, EnvironmentProblem, OSError, ValueError):
                    pass
                for sig, wait in ((None, 3), (signal.SIGTERM, 3), (signal.SIGKILL, 5)):
                    if sig is not None:
                        try:
                            os.killpg(self.proc.pid, sig)
                        except ProcessLookupError:
                            pass
                    try:
                        self.proc.wait(timeout=wait)
                        break
                    except subprocess.TimeoutExpired:
                        continue
            if self.proc:
                try:
                    os.killpg(self.proc.pid, signal.SIGKILL)   # helpers left in the group (zygote, utility)
                except (ProcessLookupError, PermissionError):
                    pass
        finally:
            for fd in (getattr(self, 'wfd', None), getattr(self, 'rfd', None)):
                if fd is not None:
                    try:
                        os.close(fd)
                    except OSError:
                        pass
            shutil.rmtree(self.profile, ignore_errors=True)


# ------------------------------------------------------------------ the checks

JS_STATE = '''(() => ({token: !!localStorage.token, path: location.pathname,
    input: !!document.querySelector('#chat-input'), form: !!document.querySelector('#email'),
    toast: [...document.querySelectorAll('[data-sonner-toast][data-type="error"]')].map(t => t.innerText).join(' / ')}))()'''
JS_MODAL = '''(() => { const d = [...document.querySelectorAll('[role="dialog"][aria-modal="true"]')]
    .filter(e => e.getBoundingClientRect().width > 0); return d.length; })()'''
JS_API = '''(async () => { const r = await fetch(%s, {headers: {Authorization: 'Bearer ' + localStorage.token}});
    let body = null; try { body = await r.json(); } catch (e) {} return {status: r.status, body}; })()'''
JS_OPTIONS = '''[...document.querySelectorAll(%s)].map(e => e.getAttribute('data-value'))''' % json.dumps(MODEL_OPTION)
# the list is virtualised (only the rows in view exist): scroll it through, collecting the options, or until one shows
JS_SCROLL_OPTIONS = '''(async (want) => { const list = document.querySelector('[role="listbox"]'); if (!list) return [];
    const seen = new Set(); const pause = () => new Promise(r => setTimeout(r, 80));
    const grab = () => { list.querySelectorAll('[role="option"][data-value]').forEach(e => seen.add(e.getAttribute('data-value')));
        return want !== null && seen.has(want); };
    list.scrollTop = 0; await pause(); if (grab()) return [...seen];
    for (let i = 0; i < 200 && list.scrollTop + list.clientHeight < list.scrollHeight - 1; i++) {
        list.scrollTop += Math.max(list.clientHeight / 2, 16); await pause(); if (grab()) return [...seen]; }
    if (want === null) { list.scrollTop = 0; await pause(); } return [...seen]; })(%s)'''
JS_ASSISTANT = '''(() => { const m = [...document.querySelectorAll('.chat-assistant')]; const last = m[m.length - 1];
    return {count: m.length, text: last ? last.innerText : ''}; })()'''


class Run:
    def __init__(self, args, password):
        self.args = args
        self.password = password
        self.out = args.out
        self.summary = {'url': args.url, 'email': args.email, 'checks': [], 'failures': [], 'screenshots': [],
                        'timings': {}}
        self.t0 = time.monotonic()
        self.browser = None

    def mark(self, name):
        self.summary['timings'][name] = round(time.monotonic() - self.t0, 2)

    def ok(self, text):
        self.summary['checks'].append(text)

    def shot(self, name):
        path = self.browser.screenshot(os.path.join(self.out, name))
        self.summary['screenshots'].append(name)
        return path

    def api(self, path):
        return self.browser.evaluate(JS_API % json.dumps(path))

    def chromium_args(self):
        args = self.args
        extra = []
        resolve = parse_resolve(args.resolve)
        if resolve:
            extra.append('--host-resolver-rules=' + ', '.join(
                'MAP %s %s' % (host, '[%s]' % ip if ':' in ip else ip) for host, ip in resolve.items()))
        https = urllib.parse.urlsplit(args.url).scheme == 'https'
        if args.insecure:
            extra.append('--ignore-certificate-errors')
        elif https and (args.cert or args.ca_cert):
            hashes = []
            if args.cert:
                hashes += [spki_hash(der) for der in pem_certificates(args.cert)]
            if args.ca_cert:
                cas = pem_certificates(args.ca_cert)
                leaf = server_certificate(args.url, resolve, args.ca_cert, args.timeout)
                hashes += [spki_hash(leaf)] + [spki_hash(der) for der in cas]
            hashes = list(dict.fromkeys(hashes))
            self.summary['trusted_spki'] = hashes
            extra.append('--ignore-certificate-errors-spki-list=' + ','.join(hashes))
        return extra

    def run(self):
        args = self.args
        os.makedirs(self.out, exist_ok=True)
        browser = find_chromium(args.chromium)
        named = args.chromium or os.environ.get('CHROMIUM')
        if browser is None and named:
            raise EnvironmentProblem('no Chromium at %s (named by %s)' % (named, '--chromium' if args.chromium else '$CHROMIUM'))
        if browser is None:
            raise EnvironmentProblem('no Chromium found: install the Debian package chromium-headless-shell (or '
                                     'chromium), or name the binary with --chromium or $CHROMIUM')
        extra = self.chromium_args()
        self.browser = Browser(browser, extra, os.path.join(self.out, 'chromium.log'), args.timeout)
        self.summary['chromium'] = self.browser.argv[0]
        self.summary['chromium_version'] = self.browser.send('Browser.getVersion', session=False).get('product')
        self.browser.open_page()
        self.mark('browser')
        try:
            self.sign_in()
            if args.expect_chat:
                self.check_chat()
            if args.expect_models or args.model:
                self.check_models()
            if args.message:
                self.chat()
        finally:
            self.collect_network()

    # -- steps
    def sign_in(self):
        args, b = self.args, self.browser
        b.navigate(args.url, args.timeout)
        state = b.wait_for('(() => { const s = %s; return (s.form || (s.token && s.input)) ? s : null; })()'
                           % JS_STATE, args.timeout, 'no sign-in form (#email) on %s' % args.url)
        self.mark('page')
        if not state['form']:
            raise CheckFailed('%s shows no sign-in form: the browser is already signed in' % args.url)
        version = (self.api('/api/version') or {}).get('body') or {}
        self.summary['version'] = version.get('version')
        self.shot('01-signin.png')
        b.click('#email')
        b.type_text(args.email)
        b.click('#password')
        b.type_text(self.password)
        typed = b.evaluate("[document.querySelector('#email').value, document.querySelector('#password').value.length]")
        if typed != [args.email, len(self.password)]:
            raise CheckFailed('typing into the sign-in form did not work (the form holds %r, %s password characters)'
                              % (typed[0], typed[1]))
        b.click('form button[type="submit"]')
        deadline = time.monotonic() + args.timeout
        while True:
            state = b.evaluate(JS_STATE)
            if state['token'] and state['input'] and not state['path'].startswith('/auth'):
                break
            if state['toast']:
                raise CheckFailed('signing in as %s failed: %s' % (args.email, state['toast']))
            if time.monotonic() >= deadline:
                raise CheckFailed('signing in as %s did not reach the chat page within %ss (at %s)'
                                  % (args.email, args.timeout, state['path']))
            b.pump(POLL)
        self.mark('signed_in')
        me = self.api('/api/v1/auths/')
        if me and me['status'] == 200:
            self.summary['user'] = {k: me['body'].get(k) for k in ('email', 'name', 'role')}
        self.ok('signed in as %s' % args.email)
        self.close_dialogs()
        self.shot('02-signed-in.png')

    def close_dialogs(self):
        """Close modal dialogs over the chat page (the admin's changelog on a new version): its button, else Escape."""
        b = self.browser
        b.pump(1.0)
        for dummy in range(4):
            if not b.evaluate(JS_MODAL):
                return
            clicked = b.evaluate('''(() => { const d = [...document.querySelectorAll('[role="dialog"][aria-modal="true"]')].pop();
                const btn = [...d.querySelectorAll('button')].filter(x => /let.s go|close|ok/i.test(x.innerText + ' '
                    + (x.getAttribute('aria-label') || ''))).pop(); if (btn) { btn.click(); return true; } return false; })()''')
            if not clicked:
                b.press('Escape', 'Escape', 27)
            self.summary.setdefault('dialogs_closed', 0)
            self.summary['dialogs_closed'] += 1
            b.pump(1.0)
        if b.evaluate(JS_MODAL):
            raise CheckFailed('a modal dialog stays open over the chat page')

    def check_chat(self):
        args = self.args
        text = args.expect_chat
        listing = self.api('/api/v1/chats/?page=1')
        if not listing or listing['status'] != 200 or not isinstance(listing['body'], list):
            self.fail('cannot list the chats (GET /api/v1/chats/ answered %s)' % (listing or {}).get('status'))
            return
        chats = listing['body']
        self.summary['chats'] = len(chats)
        found = None
        for chat in chats:
            if text.lower() in (chat.get('title') or '').lower():
                found = chat
                break
        if found is None:
            for chat in chats[:MAX_CHATS_READ]:
                full = self.api('/api/v1/chats/%s' % urllib.parse.quote(chat['id']))
                if full and full['status'] == 200 and text.lower() in json.dumps(full['body'], ensure_ascii=False).lower():
                    found = chat
                    break
        if found is None:
            self.fail('no chat of %s holds %r (%d chat(s): %s)' % (args.email, text, len(chats),
                                                                   ', '.join(repr(c.get('title')) for c in chats[:10])))
            return
        in_sidebar = self.browser.evaluate('!!document.querySelector(%s)' % json.dumps('a[href="/c/%s"]' % found['id']))
        self.summary['expect_chat'] = {'id': found['id'], 'title': found.get('title'), 'in_sidebar': in_sidebar}
        self.ok('chat %s (%r) holds %r%s' % (found['id'], found.get('title'), text, ', shown in the sidebar'
                                             if in_sidebar else ''))

    def check_models(self):
        args, b = self.args, self.browser
        if args.model and args.model_by_url:
            sep = '&' if '?' in args.url else '?'
            url = args.url.split('#')[0] + sep + 'model=' + urllib.parse.quote(args.model)
            b.navigate(url, args.timeout)
            b.wait_for("!!document.querySelector('#chat-input')", args.timeout, 'no chat input after opening %s' % url)
            self.close_dialogs()
        b.wait_for('!!document.querySelector(%s)' % json.dumps(MODEL_BUTTON), args.timeout,
                   'no model selector (%s)' % MODEL_BUTTON)
        b.click(MODEL_BUTTON)
        options = b.wait_for('(() => { const o = %s; return o.length ? o : null; })()' % JS_OPTIONS, args.timeout,
                             'the model selector lists no models')
        b.pump(0.5)
        options = b.evaluate(JS_SCROLL_OPTIONS % 'null', timeout=args.timeout)
        self.summary['models_offered'] = options
        self.shot('03-models.png')
        if args.expect_models is not None:
            expected = [m.strip() for m in args.expect_models.split(',') if m.strip()]
            if sorted(options) != sorted(expected):
                self.fail('the model selector offers %s, not %s' % (', '.join(options) or 'nothing', ', '.join(expected)))
            else:
                self.ok('the model selector offers exactly %s' % ', '.join(expected))
        if args.model and not args.model_by_url:
            if args.model not in options:
                raise CheckFailed('the model selector does not offer %s (it offers %s)' % (args.model, ', '.join(options)))
            b.evaluate(JS_SCROLL_OPTIONS % json.dumps(args.model), timeout=args.timeout)
            b.click('%s[data-value=%s]' % (MODEL_OPTION, json.dumps(args.model)))
        else:
            b.press('Escape', 'Escape', 27)
        if args.model:
            label = b.wait_for('''(() => { const l = document.querySelector(%s).getAttribute('aria-label') || '';
                return l.includes(%s) && !document.querySelector(%s) ? l : null; })()'''
                               % (json.dumps(MODEL_BUTTON), json.dumps(args.model), json.dumps(MODEL_OPTION)),
                               args.timeout, 'the model selector does not name %s after picking it' % args.model)
            self.summary['model_selected'] = args.model
            self.ok('model %s selected (%s, selector says %r)' % (args.model, 'by URL' if args.model_by_url else 'in the selector',
                                                                  label))
        self.mark('models')

    def chat(self):
        args, b = self.args, self.browser
        before = b.evaluate(JS_ASSISTANT)['count']
        b.wait_for("!!document.querySelector('#chat-input')", args.timeout, 'no chat input')
        b.click('#chat-input')
        b.type_text(args.message)
        b.wait_for('''(() => { const s = document.querySelector('#send-message-button'); return !!s && !s.disabled; })()''',
                   args.timeout, 'the send button does not become active after typing the message')
        b.click('#send-message-button')
        self.mark('sent')
        deadline = time.monotonic() + args.answer_timeout
        expected = ' '.join(args.expect_answer.split()) if args.expect_answer else None
        seen = {'count': before, 'text': ''}
        while True:
            seen = b.evaluate(JS_ASSISTANT)
            text = ' '.join(seen['text'].split())
            if seen['count'] > before and text and (expected is None or expected in text):
                break
            if time.monotonic() >= deadline:
                self.summary['answer'] = seen['text']
                if seen['count'] <= before:
                    raise CheckFailed('no assistant message within %ss of sending %r' % (args.answer_timeout, args.message))
                raise CheckFailed('the assistant message does not contain %r within %ss; it shows: %s'
                                  % (expected, args.answer_timeout, ' '.join(seen['text'].split())[:300]))
            b.pump(POLL)
        self.mark('answered')
        # let the stream finish (the text stops changing), bounded
        last, stable_since = seen['text'], time.monotonic()
        end = time.monotonic() + min(10, args.answer_timeout)
        while time.monotonic() < end and time.monotonic() - stable_since < 1.5:
            b.pump(POLL)
            text = b.evaluate(JS_ASSISTANT)['text']
            if text != last:
                last, stable_since = text, time.monotonic()
        self.summary['answer'] = last
        path = b.evaluate('location.pathname')
        if path.startswith('/c/'):
            self.summary['chat_id'] = path[3:]
        self.ok('the answer to %r contains %r' % (args.message, expected) if expected else 'an answer came')
        self.shot('04-answer.png')

    def collect_network(self):
        host = urllib.parse.urlsplit(self.args.url).netloc.lower()
        foreign, failed = [], []
        for event in self.browser.take_events('Network.requestWillBeSent'):
            url = event['params']['request']['url']
            parts = urllib.parse.urlsplit(url)
            if parts.scheme in ('http', 'https', 'ws', 'wss') and parts.netloc.lower() != host:
                foreign.append(url)
        for event in self.browser.take_events('Network.loadingFailed'):
            params = event['params']
            if not params.get('canceled'):
                failed.append(params.get('errorText'))
        self.summary['foreign_requests'] = sorted(set(foreign))
        self.summary['failed_requests'] = len(failed)
        errors = []
        for event in self.browser.take_events('Runtime.exceptionThrown'):
            details = event['params']['exceptionDetails']
            errors.append(((details.get('exception') or {}).get('description') or details.get('text') or '')[:200])
        self.summary['page_exceptions'] = errors[:20]

    def fail(self, text):
        self.summary['failures'].append(text)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n', 1)[0])
    parser.add_argument('--url', required=True, help='Open WebUI, e.g. https://chat.lab.invalid/')
    parser.add_argument('--email', required=True, help="the admin's e-mail address (password: $OPEN_WEBUI_PASSWORD)")
    parser.add_argument('--out', required=True, help='where screenshots and summary.json go')
    parser.add_argument('--resolve', action='append', default=[], metavar='HOST:IP', help='resolve HOST to IP; repeatable')
    trust = parser.add_mutually_exclusive_group()
    trust.add_argument('--cert', help="the server's certificate (PEM): its key is trusted")
    trust.add_argument('--ca-cert', help="a CA (PEM): the server's certificate is verified against it, then trusted")
    trust.add_argument('--insecure', action='store_true', help='trust any certificate')
    parser.add_argument('--model', help='the model to pick in the model selector')
    parser.add_argument('--model-by-url', action='store_true', help='pick --model with URL?model=ID, not in the selector')
    parser.add_argument('--expect-models', help='comma-separated ids: exactly the models the selector must offer')
    parser.add_argument('--message', help='a message to send')
    parser.add_argument('--expect-answer', help='text the answer to --message must contain')
    parser.add_argument('--expect-chat', help='text of an existing chat (title or message) that must be there')
    parser.add_argument('--timeout', type=float, default=30, help='seconds for each step (default 30)')
    parser.add_argument('--answer-timeout', type=float, default=60, help='seconds for the answer (default 60)')
    parser.add_argument('--chromium', help='the Chromium binary to run')
    args = parser.parse_args(argv)
    if args.expect_answer and not args.message:
        parser.error('--expect-answer needs --message')
    if args.model_by_url and not args.model:
        parser.error('--model-by-url needs --model')

    password = os.environ.get('OPEN_WEBUI_PASSWORD')

    def terminated(signum, frame):
        raise EnvironmentProblem('terminated by signal %d' % signum)
    signal.signal(signal.SIGTERM, terminated)   # so that Chromium is still ended (finally below), e.g. under timeout(1)
    try:
        os.makedirs(args.out, exist_ok=True)
    except OSError as e:
        print('check_open_webui: cannot create %s: %s' % (args.out, e.strerror), file=sys.stderr)
        return 2
    run = Run(args, password)
    status = 0
    reason = None
    try:
        if not password:
            raise EnvironmentProblem('OPEN_WEBUI_PASSWORD is not set')
        try:
            run.run()
        except CheckFailed as e:
            run.fail(str(e))
            reason = str(e)
    except EnvironmentProblem as e:
        status, reason = 2, str(e)
        run.summary['environment_problem'] = reason
    except KeyboardInterrupt:
        status, reason = 2, 'interrupted'
    except Exception as e:  # a bug here, or a page far from what is expected: still exit 2, not a traceback only
        traceback.print_exc()
        status, reason = 2, 'unexpected error: %r' % e
        run.summary['environment_problem'] = reason
    finally:
        if run.browser is not None:
            if run.summary['failures'] and status != 2:
                try:
                    run.shot('failure.png')
                except (CheckFailed, EnvironmentProblem, OSError, ValueError):
                    pass
            run.browser.close()
    run.summary['elapsed_s'] = round(time.monotonic() - run.t0, 2)
    if status == 0 and run.summary['failures']:
        status = 1
    run.summary['status'] = status
    if os.path.isdir(args.out):
        with open(os.path.join(args.out, 'summary.json'), 'w', encoding='utf-8') as f:
            json.dump(run.summary, f, indent=1, ensure_ascii=False)
            f.write('\n')
    if status == 2:
        print('check_open_webui: %s' % reason, file=sys.stderr)
    for failure in run.summary['failures']:
        print('check_open_webui: FAILED: %s' % failure, file=sys.stderr)
    if status == 0:
        print('check_open_webui: OK: %s; summary %s'
              % ('; '.join(run.summary['checks']), os.path.join(args.out, 'summary.json')))
    return status


if __name__ == '__main__':
    sys.exit(main())
