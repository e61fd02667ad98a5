"""``sitegen serve``: serve a built site locally until Ctrl+C; with ``--lan`` to the phones on the
same network (the URL as a QR code), with ``--https`` over TLS with a certificate made for this
run (a phone gives the camera only to a secure origin)."""

from __future__ import annotations

import socket
import sys
from dataclasses import dataclass
from pathlib import Path

from sitegen.errors import OutputError
from sitegen.options import Host
from sitegen.progress import note
from sitegen.site import lan
from sitegen.site.serve import SiteServer, base_url, make_server

LOOPBACK = "127.0.0.1"


@dataclass(frozen=True)
class ServeOptions:
    directory: Path
    host: str | None = None  # None: 127.0.0.1, or the LAN address with ``lan``
    port: int = 8000
    isolate: bool = True
    as_host: Host = Host.local
    base_path: str | None = None
    lan: bool = False
    https: bool = False
    quiet: bool = False  # no request log lines (tests)


@dataclass(frozen=True)
class OpenServer:
    """A bound server, not yet serving, and what to tell the user about it."""

    server: SiteServer
    url: str
    fingerprint: str | None  # the certificate's SHA-256, with ``https``


def serve_forever(options: ServeOptions) -> None:
    opened = open_server(options)
    try:
        announce(opened, options)
        opened.server.serve_forever()
    finally:
        opened.server.server_close()


def open_server(options: ServeOptions) -> OpenServer:
    host = listen_address(options)
    certificate = lan.self_signed_certificate(host, socket.gethostname()) if options.https else None
    server = make_server(
        options.directory,
        host=host,
        port=options.port,
        isolate=options.isolate,
        as_host=options.as_host,
        prefix=options.base_path,
        quiet=options.quiet,
        tls=(certificate.cert_pem, certificate.key_pem) if certificate else None,
    )
    return OpenServer(server, base_url(server), certificate.fingerprint if certificate else None)


def listen_address(options: ServeOptions) -> str:
    if not options.lan:
        return options.host or LOOPBACK
    address = lan.lan_address()
    if address is None:
        raise OutputError(
            "this machine has no LAN address (only loopback or link-local ones); connect it to "
            "the phone's network, or pass --host ADDRESS instead of --lan"
        )
    return address


def announce(opened: OpenServer, options: ServeOptions) -> None:
    """The URL; with ``--lan`` its QR code; with ``--https`` the one line about the warning the
    browser shows; with ``--lan`` alone, that phones need https for the camera."""
    how = "" if options.as_host is Host.local else f" as {options.as_host} would"
    print(f"Serving {options.directory}{how} at {opened.url} (Ctrl+C stops)", flush=True)
    if options.lan:
        print(lan.qr_text(opened.url, ansi_colours=sys.stdout.isatty()), flush=True)
    if opened.fingerprint:
        print(certificate_line(opened.fingerprint), flush=True)
    elif options.lan:
        note(
            "Warning: a phone allows the camera (and WebAssembly threads) only on https pages; "
            "add --https to use them from a phone"
        )


def certificate_line(fingerprint: str) -> str:
    return (
        "The browser warns that the connection is not private: the certificate is self-signed, "
        "made for this run only; accept it once if its SHA-256 fingerprint is " + fingerprint
    )
