"""What ``sitegen serve --lan --https`` needs to reach a phone: this machine's LAN address, a
self-signed certificate made for this run, and the URL as a QR code for the terminal.

``cryptography`` and ``segno`` are imported inside the functions that use them, so ``sitegen
--help`` does not pay for them.
"""

from __future__ import annotations

import datetime
import ipaddress
import re
import socket
from typing import NamedTuple

# Where the UDP socket "connects" to learn which interface the default route uses. Connecting a
# UDP socket only picks a route: nothing is sent. TEST-NET-1 (RFC 5737) is never a real host.
ROUTE_PROBE_ADDRESS = ("192.0.2.1", 9)

# Apple's limit for a certificate a user trusts is 825 days, and browsers refuse server
# certificates valid for more than 398: keep under both.
CERTIFICATE_LIFETIME = datetime.timedelta(days=397)
# The phone's clock may be a little behind this machine's.
CLOCK_SKEW_ALLOWANCE = datetime.timedelta(hours=1)

_DNS_NAME = re.compile(r"^(?!-)[A-Za-z0-9-]{1,63}(?<!-)(\.(?!-)[A-Za-z0-9-]{1,63}(?<!-))*$")


class Certificate(NamedTuple):
    """A certificate and its private key, both PEM, and the certificate's SHA-256 fingerprint as
    browsers show it (``AB:CD:...``)."""

    cert_pem: bytes
    key_pem: bytes
    fingerprint: str


def lan_address() -> str | None:
    """This machine's IPv4 address on its local network, or None when it has none (only loopback
    or link-local addresses): the outgoing interface's address first, then the hostname's."""
    for candidate in (_outgoing_interface_address(), *_hostname_addresses()):
        if candidate is not None and is_lan_address(candidate):
            return candidate
    return None


def is_lan_address(address: str) -> bool:
    """Whether another device on the network could reach ``address`` (loopback, link-local,
    multicast and the unspecified address cannot be served to a phone)."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return not (ip.is_loopback or ip.is_link_local or ip.is_multicast or ip.is_unspecified)


def _outgoing_interface_address() -> str | None:
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            probe.connect(ROUTE_PROBE_ADDRESS)
            return probe.getsockname()[0]
    except OSError:  # no route at all: no network
        return None


def _hostname_addresses() -> list[str]:
    try:
        found = socket.getaddrinfo(socket.gethostname(), None, socket.AF_INET, socket.SOCK_STREAM)
    except OSError:
        return []
    return [info[4][0] for info in found]


def self_signed_certificate(ip: str, hostname: str) -> Certificate:
    """A server certificate for ``ip`` and ``hostname`` (and localhost), signed by its own new
    ECDSA P-256 key: only this run's server holds the key, so trusting it trusts only this run."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, f"sitegen serve {ip}"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "sitegen (made for one run only)"),
        ]
    )
    now = datetime.datetime.now(datetime.timezone.utc)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - CLOCK_SKEW_ALLOWANCE)
        .not_valid_after(now + CERTIFICATE_LIFETIME)
        .add_extension(x509.SubjectAlternativeName(_alternative_names(ip, hostname)), False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), False)
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    digest = certificate.fingerprint(hashes.SHA256())
    return Certificate(
        certificate.public_bytes(serialization.Encoding.PEM),
        key_pem,
        ":".join(f"{byte:02X}" for byte in digest),
    )


def _alternative_names(ip: str, hostname: str) -> list:
    from cryptography import x509

    addresses = dict.fromkeys([ipaddress.ip_address(ip), ipaddress.ip_address("127.0.0.1")])
    names = [x509.IPAddress(address) for address in addresses]
    # A hostname that is not a valid DNS name (spaces, non-ASCII) cannot be in a certificate.
    for dns_name in dict.fromkeys([hostname, "localhost"]):
        if _DNS_NAME.match(dns_name):
            names.append(x509.DNSName(dns_name))
    return names


# The four half-block characters by (top module dark, bottom module dark), so that one line of
# text holds two rows of modules and the code stays about square in a terminal.
HALF_BLOCKS = {(True, True): "█", (True, False): "▀", (False, True): "▄", (False, False): " "}
QUIET_ZONE_MODULES = 4  # the QR standard's light margin; a dark terminal around it is then fine
# Black on bright white whatever the terminal's theme: phones read dark modules on light.
_DARK_ON_LIGHT = "\x1b[30;107m"
_RESET = "\x1b[0m"


def qr_text(url: str, *, ansi_colours: bool = False) -> str:
    """``url`` as a QR code in text, two module rows per line, dark modules drawn and light ones
    blank, with its light quiet zone. With ``ansi_colours`` each line is painted black on white,
    so it scans on a dark terminal too; without, it is plain text (for pipes and logs)."""
    import segno

    code = segno.make(url, micro=False)
    rows = [list(row) for row in code.matrix_iter(scale=1, border=QUIET_ZONE_MODULES)]
    if len(rows) % 2:
        rows.append([False] * len(rows[0]))  # a light row: half of the last line's blocks
    lines = []
    for top, bottom in zip(rows[::2], rows[1::2], strict=True):
        line = "".join(HALF_BLOCKS[bool(t), bool(b)] for t, b in zip(top, bottom, strict=True))
        lines.append(f"{_DARK_ON_LIGHT}{line}{_RESET}" if ansi_colours else line)
    return "\n".join(lines)
