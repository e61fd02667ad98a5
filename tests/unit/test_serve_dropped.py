"""A browser that drops a connection mid-download (a closed tab, a reload) is not an error of the
site server: it prints no traceback, and goes on serving."""

from __future__ import annotations

import socket
import struct
import time
import urllib.request

from sitegen.site.page import served


def _drop_mid_download(host: str, port: int, path: str) -> None:
    """Ask for a large file, read a little of it, then reset the connection (RST, not FIN)."""
    with socket.create_connection((host, port)) as client:
        client.sendall(f"GET {path} HTTP/1.1\r\nHost: {host}\r\n\r\n".encode())
        client.recv(1024)
        client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))


def test_a_dropped_connection_prints_no_traceback(tmp_path, capfd):
    site = tmp_path / "site"
    site.mkdir()
    (site / "index.html").write_text("<!doctype html><title>t</title>")
    (site / "big.bin").write_bytes(bytes(16 * 1024 * 1024))
    with served(site) as url:
        host, port = url.split("//")[1].rstrip("/").split(":")
        for _ in range(3):
            _drop_mid_download(host, int(port), "/big.bin")
        time.sleep(0.5)  # the server's thread finds the reset when it writes next
        with urllib.request.urlopen(url) as response:  # and still serves
            assert b"<title>t</title>" in response.read()
    err = capfd.readouterr().err
    assert "Traceback" not in err and "ConnectionResetError" not in err, err
