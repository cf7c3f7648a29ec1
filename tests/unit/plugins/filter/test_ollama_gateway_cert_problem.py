# -*- coding: utf-8 -*-
# Copyright (c) 2026, gpufleet maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""gpufleet.ollama.ollama_gateway_cert_problem: issue the gateway's certificate again only when it must be."""

from __future__ import annotations

import datetime
import ipaddress

import pytest

from ansible.errors import AnsibleFilterError

from ansible_collections.gpufleet.ollama.plugins.filter.ollama_gateway_cert_problem import ollama_gateway_cert_problem

# the venv of `ansible-test units` has no cryptography (nor does the filter work without it on a controller)
x509 = pytest.importorskip('cryptography.x509')
from cryptography.hazmat.primitives import hashes, serialization  # noqa: E402
from cryptography.hazmat.primitives.asymmetric import ec  # noqa: E402

NAMES = ('DNS:gw1', 'DNS:localhost', 'IP:127.0.0.1', 'IP:172.30.140.10')
NOW = datetime.datetime.now(datetime.timezone.utc)


def _key():
    return ec.generate_private_key(ec.SECP256R1())


def _cert(key, issuer_key, issuer_name, names=NAMES, days=825, subject='gw1'):
    san = [x509.DNSName(n[4:]) if n.startswith('DNS:') else x509.IPAddress(ipaddress.ip_address(n[3:])) for n in names]
    return (x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(x509.oid.NameOID.COMMON_NAME, subject)]))
            .issuer_name(issuer_name).public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(NOW - datetime.timedelta(days=1)).not_valid_after(NOW + datetime.timedelta(days=days))
            .add_extension(x509.SubjectAlternativeName(san), critical=False)
            .sign(issuer_key, hashes.SHA256()))


def _write(path, obj):
    if hasattr(obj, 'private_bytes'):
        data = obj.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                 serialization.NoEncryption())
    else:
        data = obj.public_bytes(serialization.Encoding.PEM)
    path.write_bytes(data)
    return str(path)


@pytest.fixture
def pki(tmp_path):
    ca_key = _key()
    ca_name = x509.Name([x509.NameAttribute(x509.oid.NameOID.COMMON_NAME, 'gpufleet.ollama gateway CA')])
    ca = _cert(ca_key, ca_key, ca_name, names=['DNS:ca'], days=3650, subject='gpufleet.ollama gateway CA')
    key = _key()

    def issue(names=NAMES, days=825, by=None, for_key=None):
        signer, signer_name = by or (ca_key, ca_name)
        return _write(tmp_path / 'gw1.crt', _cert(for_key or key, signer, signer_name, names=names, days=days))
    paths = dict(ca=_write(tmp_path / 'ca.crt', ca), key=_write(tmp_path / 'gw1.key', key))
    return issue, paths, tmp_path


def test_a_current_certificate_needs_nothing(pki):
    issue, paths = pki[:2]
    cert = issue()
    assert ollama_gateway_cert_problem(cert, paths['key'], paths['ca'], list(reversed(NAMES))) == ''


def test_each_reason_to_issue_it_again(pki):
    issue, paths, tmp = pki
    assert ollama_gateway_cert_problem(str(tmp / 'gw1.crt'), paths['key'], paths['ca'], list(NAMES)) == \
        'its certificate %s does not exist' % (tmp / 'gw1.crt')
    cert = issue(names=NAMES[:-1])
    assert ollama_gateway_cert_problem(cert, paths['key'], paths['ca'], list(NAMES)) == (
        'its names DNS:gw1, DNS:localhost, IP:127.0.0.1 are not those asked for, '
        'DNS:gw1, DNS:localhost, IP:127.0.0.1, IP:172.30.140.10')
    other = _key()
    issue(by=(other, x509.Name([x509.NameAttribute(x509.oid.NameOID.COMMON_NAME, 'gpufleet.ollama gateway CA')])))
    assert ollama_gateway_cert_problem(cert, paths['key'], paths['ca'], list(NAMES)) == \
        'it was not issued by the CA in %s' % paths['ca']
    issue(for_key=_key())
    assert ollama_gateway_cert_problem(cert, paths['key'], paths['ca'], list(NAMES)) == \
        'it does not belong to the key %s' % paths['key']
    issue(days=20)
    assert ollama_gateway_cert_problem(cert, paths['key'], paths['ca'], list(NAMES), renew_days=30).startswith(
        'it expires in 19 days')
    assert ollama_gateway_cert_problem(cert, paths['key'], paths['ca'], list(NAMES), renew_days=7) == ''


def test_an_unreadable_key_is_named_never_shown(pki):
    issue, paths, tmp = pki
    cert = issue()
    secret = tmp / 'bad.key'
    secret.write_text('-----BEGIN PRIVATE KEY-----\nc2VjcmV0LXNlY3JldA==\n-----END PRIVATE KEY-----\n')
    problem = ollama_gateway_cert_problem(cert, str(secret), paths['ca'], list(NAMES))
    assert problem == 'its key %s cannot be read as an unencrypted PEM key' % secret
    assert 'c2VjcmV0' not in problem


def test_names_must_be_a_list(pki):
    issue, paths = pki[:2]
    with pytest.raises(AnsibleFilterError, match='names must be a list, got str'):
        ollama_gateway_cert_problem(issue(), paths['key'], paths['ca'], 'DNS:gw1')
