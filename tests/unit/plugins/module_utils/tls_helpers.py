# -*- coding: utf-8 -*-
# Copyright (c) 2026, gpufleet maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""A throw-away PKI and a TLS variant of the fake Ollama server, for the unit tests.

- make_pki(directory): CA, server certificate for 127.0.0.1/localhost, client certificate and an
  unrelated CA, as PEM files; made with python ``cryptography`` where it is importable, else with the
  ``openssl`` command (the venv of ``ansible-test units --venv`` has no cryptography, so the tests
  run there with openssl); skips the test when neither exists.
- tls_server(server_class, pki, client_ca=None): start a FakeOllama that speaks https.
"""

from __future__ import annotations

import collections
import contextlib
import datetime
import ipaddress
import os
import shutil
import ssl
import subprocess

import pytest

Pki = collections.namedtuple('Pki', 'ca server_cert server_key client_cert client_key client_combined other_ca backend')

ONE_DAY = datetime.timedelta(days=1)


def _have_cryptography():
    try:
        import cryptography  # pylint: disable=unused-import  # noqa: F401
    except ImportError:
        return False
    return True


def _write(path, *chunks):
    with open(path, 'wb') as f:
        for chunk in chunks:
            f.write(chunk)
    return path


def _pki_cryptography(directory):
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    now = datetime.datetime.now(datetime.timezone.utc)

    def key_pem(key):
        return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                 serialization.NoEncryption())

    def cert_pem(cert):
        return cert.public_bytes(serialization.Encoding.PEM)

    def build(common_name, key, issuer=None, issuer_key=None, usage=None, san=None):
        """A CA (no issuer) or a leaf certificate signed by ``issuer``; strict enough for VERIFY_X509_STRICT."""
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
        builder = (x509.CertificateBuilder()
                   .subject_name(name)
                   .issuer_name(issuer.subject if issuer else name)
                   .public_key(key.public_key())
                   .serial_number(x509.random_serial_number())
                   .not_valid_before(now - ONE_DAY)
                   .not_valid_after(now + ONE_DAY)
                   .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False))
        if issuer is None:
            builder = (builder
                       .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
                       .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=False,
                                                    key_encipherment=False, data_encipherment=False,
                                                    key_agreement=False, key_cert_sign=True, crl_sign=True,
                                                    encipher_only=False, decipher_only=False), critical=True))
            return builder.sign(key, hashes.SHA256())
        builder = (builder
                   .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key()),
                                  critical=False)
                   .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
                   .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=False,
                                                key_encipherment=False, data_encipherment=False,
                                                key_agreement=False, key_cert_sign=False, crl_sign=False,
                                                encipher_only=False, decipher_only=False), critical=True)
                   .add_extension(x509.ExtendedKeyUsage([usage]), critical=False))
        if san:
            builder = builder.add_extension(x509.SubjectAlternativeName(san), critical=False)
        return builder.sign(issuer_key, hashes.SHA256())

    ca_key, other_key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    server_key, client_key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca = build('gpufleet test CA', ca_key)
    other_ca = build('unrelated test CA', other_key)
    server = build('127.0.0.1', server_key, ca, ca_key, ExtendedKeyUsageOID.SERVER_AUTH,
                   [x509.IPAddress(ipaddress.ip_address('127.0.0.1')), x509.DNSName('localhost')])
    client = build('gpufleet test client', client_key, ca, ca_key, ExtendedKeyUsageOID.CLIENT_AUTH)

    def path(name):
        return os.path.join(directory, name)

    return Pki(
        ca=_write(path('ca.pem'), cert_pem(ca)),
        server_cert=_write(path('server.pem'), cert_pem(server)),
        server_key=_write(path('server.key'), key_pem(server_key)),
        client_cert=_write(path('client.pem'), cert_pem(client)),
        client_key=_write(path('client.key'), key_pem(client_key)),
        client_combined=_write(path('client-combined.pem'), cert_pem(client), key_pem(client_key)),
        other_ca=_write(path('other-ca.pem'), cert_pem(other_ca)),
        backend='cryptography',
    )


_OPENSSL_CONFIG = """\
[req]
distinguished_name = dn
prompt = no
[dn]
[ca]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
[server]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = IP:127.0.0.1, DNS:localhost
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[client]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = clientAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
"""


def _pki_openssl(directory):
    openssl = shutil.which('openssl')

    def path(name):
        return os.path.join(directory, name)

    config = _write(path('openssl.cnf'), _OPENSSL_CONFIG.encode())

    def run(*args):
        subprocess.run([openssl] + list(args), check=True, capture_output=True, cwd=directory)

    def new_key(name):
        run('req', '-new', '-config', config, '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
            '-keyout', path(name + '.key'), '-out', path(name + '.csr'), '-subj', '/CN=' + name)

    def new_ca(name):
        run('req', '-x509', '-config', config, '-extensions', 'ca', '-newkey', 'ec',
            '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1',
            '-keyout', path(name + '.key'), '-out', path(name + '.pem'), '-subj', '/CN=' + name)

    def sign(name, extensions):
        new_key(name)
        run('x509', '-req', '-in', path(name + '.csr'), '-CA', path('ca.pem'), '-CAkey', path('ca.key'),
            '-set_serial', str(int.from_bytes(os.urandom(8), 'big')), '-days', '1',
            '-extfile', config, '-extensions', extensions, '-out', path(name + '.pem'))

    new_ca('ca')
    new_ca('other-ca')
    sign('server', 'server')
    sign('client', 'client')
    with open(path('client.pem'), 'rb') as cert, open(path('client.key'), 'rb') as key:
        combined = _write(path('client-combined.pem'), cert.read(), key.read())
    return Pki(ca=path('ca.pem'), server_cert=path('server.pem'), server_key=path('server.key'),
               client_cert=path('client.pem'), client_key=path('client.key'), client_combined=combined,
               other_ca=path('other-ca.pem'), backend='openssl')


def available_backends():
    return [name for name, ok in (('cryptography', _have_cryptography()), ('openssl', bool(shutil.which('openssl'))))
            if ok]


def make_pki(directory, backend=None):
    """Write the PEM files into ``directory`` with ``backend`` (default: the first available one)."""
    backends = available_backends()
    if backend is None:
        if not backends:
            pytest.skip('cannot make test certificates: neither the python cryptography library nor openssl is available')
        backend = backends[0]
    elif backend not in backends:
        pytest.skip('cannot make test certificates with %s: it is not available' % backend)
    return (_pki_cryptography if backend == 'cryptography' else _pki_openssl)(str(directory))


@contextlib.contextmanager
def tls_server(server_class, pki, client_ca=None):
    """A started ``server_class`` (FakeOllama) on https://127.0.0.1:<port>; requires client certificates of ``client_ca``."""
    server = server_class()
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(pki.server_cert, pki.server_key)
    if client_ca:
        context.verify_mode = ssl.CERT_REQUIRED
        context.load_verify_locations(client_ca)
    server.server.socket = context.wrap_socket(server.server.socket, server_side=True)
    server.url = 'https://127.0.0.1:%d' % server.server.server_address[1]
    server.start()
    try:
        yield server
    finally:
        server.stop()
