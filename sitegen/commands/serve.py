"""``sitegen serve``: serve a built site locally until Ctrl+C."""

from __future__ import annotations

from pathlib import Path

from sitegen.site.serve import make_server


def serve_forever(directory: Path, *, host: str, port: int, isolate: bool) -> None:
    server = make_server(directory, host=host, port=port, isolate=isolate)
    bound_host, bound_port = server.server_address[:2]
    print(f"Serving {directory} at http://{bound_host}:{bound_port}/ (Ctrl+C stops)", flush=True)
    try:
        server.serve_forever()
    finally:
        server.server_close()
