"""A local static server for a built site: correct ``.wasm`` MIME type, no caching surprises, the
site's security headers and the cross-origin-isolation headers (COOP/COEP) that let WebAssembly
use threads, as a host that reads the site's ``_headers`` would send them."""

from __future__ import annotations

import functools
import http.server
import threading
from pathlib import Path
from typing import ClassVar

from sitegen.contract import ISOLATION_HEADERS, SECURITY_HEADERS, WASM_CONTENT_TYPE
from sitegen.errors import OutputError


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
    isolate = True
    prefix = "/"  # serve the site under this URL path, as GitHub Pages does with /repo/
    # Keep-alive: a page loads ~30 files, and a browser opens at most 6 connections to a host.
    protocol_version = "HTTP/1.1"

    def end_headers(self) -> None:
        # The headers a host that can send them sends (sitegen.contract; the site's _headers).
        for name, value in SECURITY_HEADERS.items():
            self.send_header(name, value)
        if self.isolate:
            for name, value in ISOLATION_HEADERS.items():
                self.send_header(name, value)
        self.send_header("Cache-Control", "no-cache")
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
                return str(Path(self.directory) / "\0missing")
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
    prefix: str = "/",
    quiet: bool = False,
) -> http.server.ThreadingHTTPServer:
    if not (directory / "index.html").is_file():
        raise OutputError(f"{directory} has no index.html; build a site first: sitegen build MODEL")
    handler = type(
        "Handler", (SiteRequestHandler,), {"isolate": isolate, "prefix": prefix.rstrip("/") + "/"}
    )
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
    host, port = server.server_address[:2]
    prefix = kwargs.get("prefix", "/").rstrip("/") + "/"
    return server, f"http://{host}:{port}{prefix}"
