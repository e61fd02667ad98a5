"""A local static server for a built site: correct ``.wasm`` MIME type, no caching surprises, the
site's security headers and the cross-origin-isolation headers (COOP/COEP) that let WebAssembly
use threads, as a host that reads the site's ``_headers`` would send them.

``as_host`` serves a site the way a host would instead, to see the deployed behaviour first:
``github-pages`` (under a sub-path such as /REPO/, no custom headers, Pages' caching),
``netlify`` (exactly the headers of the site's own ``_headers``) or ``static`` (no custom headers).
"""

from __future__ import annotations

import fnmatch
import functools
import http.server
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

HOSTS = ("local", "github-pages", "netlify", "static")
PAGES_BASE_PATH = "/repo/"


@dataclass(frozen=True)
class HostProfile:
    """What a host sends: header rules by path pattern, Cache-Control where no rule sets it, and
    the URL path the site lives under."""

    rules: list[tuple[str, dict[str, str]]] = field(default_factory=list)
    cache_control: str | None = None
    prefix: str = "/"


def host_profile(
    as_host: str, directory: Path, *, isolate: bool = True, prefix: str | None = None
) -> HostProfile:
    if as_host == "github-pages":
        return HostProfile([], "max-age=600", prefix or PAGES_BASE_PATH)
    if as_host == "netlify":
        headers = directory / "_headers"
        if not headers.is_file():
            raise OutputError(
                f"{directory} has no _headers; publish it for Netlify first: "
                f"sitegen publish netlify {directory} --generate-dir DIR"
            )
        rules = parse_header_rules(headers.read_text(encoding="utf-8"))
        return HostProfile(rules, "public, max-age=0, must-revalidate", prefix or "/")
    if as_host == "static":
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


def make_server(
    directory: Path,
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    isolate: bool = True,
    prefix: str | None = None,
    as_host: str = "local",
    quiet: bool = False,
) -> http.server.ThreadingHTTPServer:
    if not (directory / "index.html").is_file():
        raise OutputError(f"{directory} has no index.html; build a site first: sitegen build MODEL")
    profile = host_profile(as_host, directory, isolate=isolate, prefix=prefix)
    profile = HostProfile(profile.rules, profile.cache_control, _slashed(profile.prefix))
    handler = type("Handler", (SiteRequestHandler,), {"profile": profile})
    try:
        server = http.server.ThreadingHTTPServer(
            (host, port), functools.partial(handler, directory=str(directory))
        )
    except OSError as exc:
        raise OutputError(
            f"cannot listen on {host}:{port} ({exc.strerror}); pick another --port"
        ) from None
    server.quiet = quiet  # type: ignore[attr-defined]
    server.daemon_threads = True
    return server


def serve_in_thread(directory: Path, **kwargs) -> tuple[http.server.ThreadingHTTPServer, str]:
    """Start a server in a background thread; returns it and its base URL (for tests, benchmarks)."""
    server = make_server(directory, quiet=True, **kwargs)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, base_url(server)


def base_url(server: http.server.ThreadingHTTPServer) -> str:
    host, port = server.server_address[:2]
    return f"http://{host}:{port}{server.RequestHandlerClass.func.profile.prefix}"


def _slashed(prefix: str) -> str:
    return "/" + prefix.strip("/") + "/" if prefix.strip("/") else "/"
