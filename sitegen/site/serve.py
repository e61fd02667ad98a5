"""A local static server for a built site: correct ``.wasm`` MIME type, no caching surprises, the
site's security headers and the cross-origin-isolation headers (COOP/COEP) that let WebAssembly
use threads, as a host that reads the site's ``_headers`` would send them.

``as_host`` serves a site the way a host would instead, to see the deployed behaviour first:
``github-pages`` (under a sub-path such as /REPO/, no custom headers, Pages' caching),
``netlify`` (exactly the headers of the site's own ``_headers``) or ``static`` (no custom headers).

``tls`` (a certificate and key, PEM) makes it an HTTPS server with the same headers: a phone
gives the camera only to a secure origin (``sitegen serve --lan --https``).
"""

from __future__ import annotations

import fnmatch
import functools
import http.server
import os
import shutil
import ssl
import sys
import tempfile
import threading
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar

from sitegen.contract import (
    ISOLATION_HEADERS,
    SECURITY_HEADERS,
    WASM_CONTENT_TYPE,
    parse_header_rules,
)
from sitegen.errors import OutputError
from sitegen.options import Host

PAGES_BASE_PATH = "/repo/"
# A client that connects and never finishes the TLS handshake holds only its own thread, this long.
TLS_HANDSHAKE_TIMEOUT_S = 10


@dataclass(frozen=True)
class HostProfile:
    """What a host sends: header rules by path pattern, Cache-Control where no rule sets it, and
    the URL path the site lives under."""

    rules: list[tuple[str, dict[str, str]]] = field(default_factory=list)
    cache_control: str | None = None
    prefix: str = "/"


def host_profile(
    as_host: Host, directory: Path, *, isolate: bool = True, prefix: str | None = None
) -> HostProfile:
    if as_host == Host.github_pages:
        return HostProfile([], "max-age=600", prefix or PAGES_BASE_PATH)
    if as_host == Host.netlify:
        headers = directory / "_headers"
        if not headers.is_file():
            raise OutputError(
                f"{directory} has no _headers; publish it for Netlify first: "
                f"sitegen publish netlify {directory} --generate-dir DIR"
            )
        rules = parse_header_rules(headers.read_text(encoding="utf-8"))
        return HostProfile(rules, "public, max-age=0, must-revalidate", prefix or "/")
    if as_host == Host.static:
        return HostProfile([], None, prefix or "/")
    sent = {**SECURITY_HEADERS, **(ISOLATION_HEADERS if isolate else {})}
    return HostProfile([("/*", sent)], "no-cache", prefix or "/")


def headers_for(profile: HostProfile, site_path: str) -> dict[str, str]:
    """The headers ``profile``'s rules give the site path (later rules add to or override
    earlier ones, as Netlify merges them); Content-Type is the server's own."""
    headers: dict[str, str] = {}
    for pattern, values in profile.rules:
        if fnmatch.fnmatchcase(site_path, pattern):
            headers.update(values)
    headers.pop("Content-Type", None)
    if profile.cache_control and "Cache-Control" not in headers:
        headers["Cache-Control"] = profile.cache_control
    return headers


class SiteRequestHandler(http.server.SimpleHTTPRequestHandler):
    extensions_map: ClassVar[dict[str, str]] = {
        **http.server.SimpleHTTPRequestHandler.extensions_map,
        ".wasm": WASM_CONTENT_TYPE,
        ".js": "text/javascript",
        ".mjs": "text/javascript",
        ".json": "application/json",
        ".bin": "application/octet-stream",
        ".y4m": "application/octet-stream",
    }
    profile = HostProfile()
    # Keep-alive: a page loads ~30 files, and a browser opens at most 6 connections to a host.
    protocol_version = "HTTP/1.1"

    @property
    def prefix(self) -> str:  # the site's URL path, as GitHub Pages serves /repo/
        return self.profile.prefix

    def end_headers(self) -> None:
        path = urllib.parse.urlsplit(self.path).path
        site_path = "/" + path[len(self.prefix) :] if path.startswith(self.prefix) else path
        for name, value in headers_for(self.profile, site_path).items():
            self.send_header(name, value)
        super().end_headers()

    def copyfile(self, source, outputfile) -> None:
        # The kernel copies the file (the model and the runtimes are megabytes): no Python loop.
        try:
            self.request.sendfile(source)
        except (AttributeError, OSError, ValueError):
            super().copyfile(source, outputfile)

    def translate_path(self, path: str) -> str:
        if self.prefix != "/":
            if not path.startswith(self.prefix):
                return str(Path(self.directory) / ".outside-the-base-path")  # a 404
            path = "/" + path[len(self.prefix) :]
        return super().translate_path(path)

    def log_message(self, format: str, *args) -> None:
        if getattr(self.server, "quiet", False):
            return
        super().log_message(format, *args)


class SiteServer(http.server.ThreadingHTTPServer):
    """The threading HTTP server; with TLS, each connection's handshake runs in its own thread
    (not in the loop that accepts connections) and a refused one is a log line, not a traceback;
    nor is a connection the browser dropped."""

    daemon_threads = True
    quiet = False
    scheme = "http"

    def finish_request(self, request, client_address) -> None:
        if isinstance(request, ssl.SSLSocket) and not self._handshake(request, client_address):
            return
        super().finish_request(request, client_address)

    def handle_error(self, request, client_address) -> None:
        """A browser that drops a connection (a closed tab, a cancelled download, a reload) is
        not an error of the server: no traceback for it; anything else as socketserver prints."""
        if isinstance(sys.exc_info()[1], (ConnectionResetError, BrokenPipeError)):
            return
        super().handle_error(request, client_address)

    def _handshake(self, connection: ssl.SSLSocket, client_address) -> bool:
        connection.settimeout(TLS_HANDSHAKE_TIMEOUT_S)
        try:
            connection.do_handshake()
        except ssl.SSLError as error:
            self._log_refused_handshake(client_address[0], error)
            return False
        except OSError:  # a timeout, or a browser's spare connection closed unused
            return False
        connection.settimeout(None)
        return True

    def _log_refused_handshake(self, client: str, error: ssl.SSLError) -> None:
        if self.quiet or isinstance(error, ssl.SSLEOFError):
            return
        reason = error.reason or str(error)
        if reason == "HTTP_REQUEST":
            why = "it asked for http://; open the https:// address"
        elif "CERTIFICATE" in reason or "UNKNOWN_CA" in reason:
            why = "its browser does not trust the certificate yet; accept the warning once"
        else:
            why = f"TLS failed: {reason}"
        print(f"{client}: {why}", file=sys.stderr, flush=True)


def make_server(
    directory: Path,
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    isolate: bool = True,
    prefix: str | None = None,
    as_host: Host = Host.local,
    quiet: bool = False,
    tls: tuple[bytes, bytes] | None = None,
) -> SiteServer:
    """A server for ``directory`` on ``host``:``port``; ``tls`` is (certificate PEM, key PEM)."""
    if not (directory / "index.html").is_file():
        raise OutputError(f"{directory} has no index.html; build a site first: sitegen build MODEL")
    profile = host_profile(as_host, directory, isolate=isolate, prefix=prefix)
    profile = HostProfile(profile.rules, profile.cache_control, _slashed(profile.prefix))
    handler = type("Handler", (SiteRequestHandler,), {"profile": profile})
    try:
        server = SiteServer((host, port), functools.partial(handler, directory=str(directory)))
    except OSError as exc:
        raise OutputError(
            f"cannot listen on {host}:{port} ({exc.strerror}); pick another --port"
        ) from None
    server.quiet = quiet
    if tls is not None:
        _use_tls(server, *tls)
    return server


def _use_tls(server: SiteServer, cert_pem: bytes, key_pem: bytes) -> None:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.set_alpn_protocols(["http/1.1"])
    _load_certificate(context, cert_pem, key_pem)
    # Handshakes wait for the connection's own thread (SiteServer.finish_request).
    server.socket = context.wrap_socket(
        server.socket, server_side=True, do_handshake_on_connect=False
    )
    server.scheme = "https"


def _load_certificate(context: ssl.SSLContext, cert_pem: bytes, key_pem: bytes) -> None:
    """``load_cert_chain`` reads only files: the key is on disk, readable by this user alone, in
    a private folder of its own, for as long as that call takes."""
    folder = tempfile.mkdtemp(prefix="sitegen-tls-")  # mode 0700
    try:
        cert_path, key_path = os.path.join(folder, "cert.pem"), os.path.join(folder, "key.pem")
        _write_private(cert_path, cert_pem)
        _write_private(key_path, key_pem)
        context.load_cert_chain(cert_path, key_path)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _write_private(path: str, data: bytes) -> None:
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as file:
        file.write(data)


def serve_in_thread(directory: Path, **kwargs) -> tuple[SiteServer, str]:
    """Start a server in a background thread; returns it and its base URL (for tests, benchmarks)."""
    server = make_server(directory, quiet=True, **kwargs)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, base_url(server)


def base_url(server: SiteServer) -> str:
    host, port = server.server_address[:2]
    prefix = server.RequestHandlerClass.func.profile.prefix
    return f"{server.scheme}://{host}:{port}{prefix}"


def _slashed(prefix: str) -> str:
    return "/" + prefix.strip("/") + "/" if prefix.strip("/") else "/"
