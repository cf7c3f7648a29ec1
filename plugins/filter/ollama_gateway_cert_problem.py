# -*- coding: utf-8 -*-
# Copyright (c) 2026, gpufleet maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: ollama_gateway_cert_problem
short_description: Why a gateway's certificate from the internal CA must be issued again, or nothing
version_added: 0.3.0
author:
  - gpufleet maintainers (@gpufleet)
description:
  - Reads a gateway's certificate, its key and the internal CA's certificate on the controller (the filter runs
    there) and returns why the certificate must be issued again - it is missing, its names are not exactly
    O(names), another CA issued it, it does not belong to the key, or it expires within O(renew_days) days - or
    an empty string when it is current. The role issues the certificate only then, so a converged gateway costs no
    key, signing request and certificate module runs.
  - The key never leaves the function; a message names the file, never its content.
  - Needs the Python package C(cryptography) on the controller (as community.crypto does).
options:
  _input:
    description: Path of the certificate (PEM) on the controller.
    type: path
    required: true
  key:
    description: Path of its private key (PEM, unencrypted).
    type: path
    required: true
  ca:
    description: Path of the CA certificate that must have issued it.
    type: path
    required: true
  names:
    description: The subject alternative names it must carry, as C(DNS:name) or C(IP:address), in any order.
    type: list
    elements: str
    required: true
  renew_days:
    description: Renew a certificate that expires within this many days.
    type: int
    default: 30
"""

EXAMPLES = r"""
- name: Issue this gateway's certificate only when it is not current
  community.crypto.x509_certificate:
    path: pki/gw1.crt
    csr_content: "{{ csr.csr }}"
    provider: ownca
    ownca_path: pki/ca.crt
    ownca_privatekey_path: pki/ca.key
  when: "'pki/gw1.crt' | gpufleet.ollama.ollama_gateway_cert_problem('pki/gw1.key', 'pki/ca.crt', ['DNS:gw1']) != ''"
"""

RETURN = r"""
_value:
  description: Why the certificate must be issued again (a sentence), or an empty string when it is current.
  type: str
"""

import datetime
import ipaddress

from ansible.errors import AnsibleFilterError


def _normal(name):
    kind, sep, value = str(name).partition(':')
    if kind == 'IP' and sep:
        try:
            return 'IP:' + str(ipaddress.ip_address(value))
        except ValueError:
            pass
    return '%s%s%s' % (kind, sep, value)


def _read(path):
    with open(path, 'rb') as f:
        return f.read()


def ollama_gateway_cert_problem(cert, key, ca, names, renew_days=30):
    if not isinstance(names, list):
        raise AnsibleFilterError('ollama_gateway_cert_problem: names must be a list, got %s' % type(names).__name__)
    # imported here: every task that uses any filter of the collection imports this file (test_filter_imports)
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization

    loaded = {}
    for what, path, load in (('certificate', cert, x509.load_pem_x509_certificate),
                             ('CA certificate', ca, x509.load_pem_x509_certificate),
                             ('key', key, lambda data: serialization.load_pem_private_key(data, password=None))):
        try:
            loaded[what] = load(_read(path))
        except FileNotFoundError:
            return 'its %s %s does not exist' % (what, path)
        except Exception:   # never show what was read: one of them is the key
            return 'its %s %s cannot be read as an unencrypted PEM %s' % (what, path, what)
    crt, ca_crt, private = loaded['certificate'], loaded['CA certificate'], loaded['key']
    try:
        sans = crt.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        have = ['DNS:' + n for n in sans.get_values_for_type(x509.DNSName)] + \
               ['IP:' + str(a) for a in sans.get_values_for_type(x509.IPAddress)]
    except x509.ExtensionNotFound:
        have = []
    if sorted(set(map(_normal, have))) != sorted(set(map(_normal, names))):
        return 'its names %s are not those asked for, %s' % (', '.join(sorted(have)), ', '.join(sorted(names)))
    try:
        crt.verify_directly_issued_by(ca_crt)
    except Exception:
        return 'it was not issued by the CA in %s' % ca
    der = serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    if private.public_key().public_bytes(*der) != crt.public_key().public_bytes(*der):
        return 'it does not belong to the key %s' % key
    left = crt.not_valid_after_utc - datetime.datetime.now(datetime.timezone.utc)
    if left < datetime.timedelta(days=int(renew_days)):
        return 'it expires in %d days (renewed within %s days of expiry)' % (left.days, renew_days)
    return ''


class FilterModule(object):
    def filters(self):
        return {'ollama_gateway_cert_problem': ollama_gateway_cert_problem}
