"""``sitegen serve --lan --https``: a phone on the same network opens the site over TLS, with the
isolation headers, from a QR code printed in the terminal; bad input gets one line.

The LAN address is always stubbed to loopback: these tests never send traffic to a LAN address."""

from __future__ import annotations

import datetime
import ipaddress
import queue
import re
import socket
import ssl
import threading
import urllib.request
from contextlib import contextmanager
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.x509.oid import ExtendedKeyUsageOID

from sitegen import contract
from sitegen.site import lan
from sitegen.site.serve import SiteServer
from tests.helpers.support import tree_digest

STUBBED_LAN_ADDRESS = "127.0.0.1"
FINGERPRINT = re.compile(r"SHA-256 fingerprint is ((?:[0-9A-F]{2}:){31}[0-9A-F]{2})")
ANSI_ESCAPE = re.compile(r"\x1b\[[0-9;]*m")


@pytest.fixture
def site(tmp_path) -> Path:
    folder = tmp_path / "site"
    folder.mkdir()
    (folder / "index.html").write_text("<!doctype html><title>t</title>")
    return folder


@pytest.fixture
def stubbed_lan(monkeypatch):
    monkeypatch.setattr(lan, "lan_address", lambda: STUBBED_LAN_ADDRESS)


@pytest.fixture
def private_tmp(tmp_path, monkeypatch) -> Path:
    """The temporary folder the server's key may pass through, to see that it is left empty."""
    folder = tmp_path / "tmp"
    folder.mkdir()
    monkeypatch.setattr("tempfile.tempdir", str(folder))
    return folder


@contextmanager
def serving(run_cli, monkeypatch, *args: str | Path):
    """Run ``sitegen serve ARGS --port 0`` in a thread; yields the listening server and a list
    that holds the CLI's result once the server is shut down (on leaving the block)."""
    started: queue.Queue[SiteServer] = queue.Queue()
    original = SiteServer.serve_forever

    def serve_and_report(server, *a, **k):
        started.put(server)
        original(server, *a, **k)

    monkeypatch.setattr(SiteServer, "serve_forever", serve_and_report)
    outcome: list = []

    def run() -> None:
        try:
            outcome.append(run_cli("serve", *args, "--port", "0"))
        except BaseException as error:  # the assertion inside run_cli, raised here below
            outcome.append(error)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    try:
        server = started.get(timeout=5)
    except queue.Empty:
        thread.join(5)
        raise AssertionError(f"the server did not start: {outcome}") from None
    results: list = []
    try:
        yield server, results
    finally:
        server.shutdown()
        thread.join(5)
    if isinstance(outcome[0], BaseException):
        raise outcome[0]
    results.append(outcome[0])


def _address(server: SiteServer) -> tuple[str, int]:
    return server.server_address[0], server.server_address[1]


def _fetch(url: str, context: ssl.SSLContext | None = None) -> tuple[bytes, dict[str, str]]:
    with urllib.request.urlopen(url, context=context, timeout=5) as response:
        return response.read(), dict(response.headers)


def test_a_phone_opens_the_page_over_tls_with_the_isolation_headers(
    run_cli, monkeypatch, site, stubbed_lan, private_tmp
):
    before = tree_digest(site)
    with serving(run_cli, monkeypatch, site, "--lan", "--https") as (server, result):
        host, port = _address(server)
        assert host == STUBBED_LAN_ADDRESS
        # As a phone does: take the certificate the server presents, then trust only that one.
        served_pem = ssl.get_server_certificate((host, port))
        trusting_only_it = ssl.create_default_context(cadata=served_pem)
        assert trusting_only_it.check_hostname
        body, headers = _fetch(f"https://{host}:{port}/index.html", trusting_only_it)
        assert not list(private_tmp.iterdir()), "the key stayed on disk"
    assert b"<title>t</title>" in body
    for name, value in contract.SITE_HEADERS.items():
        assert headers.get(name) == value, name
    assert headers["Cross-Origin-Opener-Policy"] == "same-origin"
    assert "Cross-Origin-Embedder-Policy" in headers

    out = result[0].out
    url = f"https://{host}:{port}/"
    assert f"at {url} " in out.splitlines()[0]
    served = x509.load_pem_x509_certificate(served_pem.encode())
    printed_fingerprint = FINGERPRINT.search(out).group(1)
    assert printed_fingerprint.replace(":", "") == served.fingerprint(hashes.SHA256()).hex().upper()
    names = served.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert ipaddress.ip_address(host) in names.get_values_for_type(x509.IPAddress)
    assert _decoded_qr(out) == url
    assert tree_digest(site) == before, "serving wrote into the site folder"
    assert "Warning" not in result[0].err


def test_the_certificate_names_the_lan_address_and_the_hostname():
    certificate = lan.self_signed_certificate("192.0.2.10", "phone-test-host")
    parsed = x509.load_pem_x509_certificate(certificate.cert_pem)
    names = parsed.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert ipaddress.ip_address("192.0.2.10") in names.get_values_for_type(x509.IPAddress)
    assert "phone-test-host" in names.get_values_for_type(x509.DNSName)
    usage = parsed.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert ExtendedKeyUsageOID.SERVER_AUTH in usage
    constraints = parsed.extensions.get_extension_for_class(x509.BasicConstraints)
    assert constraints.critical and not constraints.value.ca
    lifetime = parsed.not_valid_after_utc - parsed.not_valid_before_utc
    assert lifetime < datetime.timedelta(days=825)
    assert parsed.not_valid_before_utc < datetime.datetime.now(datetime.timezone.utc)
    assert (
        certificate.fingerprint.replace(":", "")
        == parsed.fingerprint(hashes.SHA256()).hex().upper()
    )
    assert b"PRIVATE KEY" in certificate.key_pem


def test_a_hostname_that_is_no_dns_name_is_left_out():
    parsed = x509.load_pem_x509_certificate(
        lan.self_signed_certificate("192.0.2.10", "my laptop").cert_pem
    )
    names = parsed.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert names.get_values_for_type(x509.DNSName) == ["localhost"]


def test_the_coloured_qr_code_decodes_too():
    url = "https://192.0.2.10:8000/repo/"
    coloured = lan.qr_text(url, ansi_colours=True)
    assert "\x1b[" in coloured
    assert _decoded_qr(ANSI_ESCAPE.sub("", coloured)) == url


def test_lan_without_https_warns_that_phones_need_https_for_the_camera(
    run_cli, monkeypatch, site, stubbed_lan
):
    with serving(run_cli, monkeypatch, site, "--lan") as (server, result):
        host, port = _address(server)
        _, headers = _fetch(f"http://{host}:{port}/")
    assert (
        headers["Cross-Origin-Embedder-Policy"]
        == contract.ISOLATION_HEADERS["Cross-Origin-Embedder-Policy"]
    )
    warnings = [line for line in result[0].err.splitlines() if line.startswith("Warning:")]
    assert len(warnings) == 1 and "camera" in warnings[0] and "--https" in warnings[0]
    assert _decoded_qr(result[0].out) == f"http://{host}:{port}/"


def test_https_alone_serves_loopback_without_a_qr_code(run_cli, monkeypatch, site):
    monkeypatch.setattr(lan, "lan_address", lambda: pytest.fail("--lan was not asked for"))
    with serving(run_cli, monkeypatch, site, "--https") as (server, result):
        assert _address(server)[0] == "127.0.0.1"
        assert ssl.get_server_certificate(_address(server))
    out = result[0].out
    assert out.splitlines()[0].startswith(f"Serving {site} at https://127.0.0.1:")
    assert FINGERPRINT.search(out) and "█" not in out


def test_without_lan_it_still_listens_on_loopback_only(run_cli, monkeypatch, site):
    monkeypatch.setattr(lan, "lan_address", lambda: pytest.fail("--lan was not asked for"))
    with serving(run_cli, monkeypatch, site) as (server, result):
        assert _address(server)[0] == "127.0.0.1"
    assert result[0].out.startswith(f"Serving {site} at http://127.0.0.1:")
    assert "█" not in result[0].out and not result[0].err


def test_no_lan_address_is_one_line(run_cli, monkeypatch, site):
    monkeypatch.setattr(lan, "lan_address", lambda: None)
    result = run_cli("serve", site, "--lan", "--https", "--port", "0")
    assert result.code == 6
    assert "no LAN address" in result.error_line and "--host" in result.error_line


def test_a_port_in_use_is_one_line(run_cli, site, stubbed_lan):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = run_cli("serve", site, "--lan", "--https", "--port", str(port))
    assert result.code == 6
    assert f"cannot listen on 127.0.0.1:{port}" in result.error_line
    assert "--port" in result.error_line


def test_lan_with_an_explicit_host_is_one_line(run_cli, site, stubbed_lan):
    result = run_cli("serve", site, "--lan", "--host", "127.0.0.1", "--port", "0")
    assert result.code == 2
    assert "--lan" in result.error_line and "--host" in result.error_line


def test_loopback_and_link_local_addresses_are_no_lan_address(monkeypatch):
    monkeypatch.setattr(lan, "_outgoing_interface_address", lambda: "127.0.0.1")
    monkeypatch.setattr(lan, "_hostname_addresses", lambda: ["169.254.7.8", "127.0.1.1"])
    assert lan.lan_address() is None
    monkeypatch.setattr(lan, "_hostname_addresses", lambda: ["169.254.7.8", "192.0.2.7"])
    assert lan.lan_address() == "192.0.2.7"
    monkeypatch.setattr(lan, "_outgoing_interface_address", lambda: "192.0.2.99")
    assert lan.lan_address() == "192.0.2.99"
    assert not lan.is_lan_address("0.0.0.0") and not lan.is_lan_address("not an address")


def _decoded_qr(printed: str) -> str:
    """The QR code in ``printed`` (its half-block lines) drawn as an image, as a phone sees the
    terminal, and read back by zxing (light on dark refused: phones read dark on light)."""
    import zxingcpp
    from PIL import Image

    matrix = _modules(printed)
    scale, margin = 8, 4  # margin: the dark terminal around the code's own light quiet zone
    width, height = len(matrix[0]), len(matrix)
    image = Image.new("L", ((width + 2 * margin) * scale, (height + 2 * margin) * scale), 0)
    for y, row in enumerate(matrix):
        for x, dark in enumerate(row):
            if not dark:
                left, top = (x + margin) * scale, (y + margin) * scale
                image.paste(255, (left, top, left + scale, top + scale))
    found = zxingcpp.read_barcodes(image, try_invert=False)
    assert len(found) == 1, f"{len(found)} codes found"
    return found[0].text


def _modules(printed: str) -> list[list[bool]]:
    """Two rows of modules per line: ▀ dark above, ▄ dark below, █ both, a space neither."""
    halves = {char: pair for pair, char in lan.HALF_BLOCKS.items()}
    lines = [line for line in printed.splitlines() if line and set(line) <= set(halves)]
    assert lines, "no QR code printed"
    assert len({len(line) for line in lines}) == 1, "the QR lines differ in width"
    rows: list[list[bool]] = []
    for line in lines:
        rows.append([halves[char][0] for char in line])
        rows.append([halves[char][1] for char in line])
    return rows
