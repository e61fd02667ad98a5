"""``sitegen serve``: serve a built site locally until Ctrl+C."""

from __future__ import annotations

from pathlib import Path

from sitegen.site.serve import base_url, make_server


def serve_forever(
    directory: Path,
    *,
    host: str,
    port: int,
    isolate: bool,
    as_host: str = "local",
    base_path: str | None = None,
) -> None:
    server = make_server(
        directory, host=host, port=port, isolate=isolate, as_host=as_host, prefix=base_path
    )
    how = "" if as_host == "local" else f" as {as_host} would"
    print(f"Serving {directory}{how} at {base_url(server)} (Ctrl+C stops)", flush=True)
    try:
        server.serve_forever()
    finally:
        server.server_close()
