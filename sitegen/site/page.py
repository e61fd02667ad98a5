"""The Python client of the page's public contract: the one place that serves a built site for a
browser, launches the browser, builds the page's address and waits on the page.

``verify`` (the build's per-backend check), ``eval``, ``check``, the benchmarks and the browser
tests all drive the page through this module, so that a new browser engine or a new way of
serving a site is added here once. It speaks only the contract the README documents: the query
parameters (``contract.QUERY``), ``window.sitegen`` (``ready``, ``state``, ``backend``,
``inputCanvas``, ``timeDetector``), the ``sitegen:detections`` event and the page's file input.

The page's CSP forbids ``eval``, and Playwright's ``wait_for_function`` compiles its string in
the page: waits here poll ``page.evaluate`` of plain expressions instead (``poll``).
"""

from __future__ import annotations

import base64
import time
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from sitegen.contract import QUERY
from sitegen.options import Host
from sitegen.site.browser import CHROMIUM_ARGS, FAKE_CAMERA_ARGS, playwright_started  # noqa: F401

# A camera for the page: None gives Chromium's generated test pattern, "none" no camera device at
# all, a path a .y4m clip played as the camera (Chromium reads it once, at launch).
Camera = Path | str | None
NO_CAMERA = "none"

POLL_SECONDS = 0.05

# Settles with the backend the page runs on, or "error: ..." when it could not start.
READY_JS = "() => window.sitegen.ready.then(() => window.sitegen.backend, (e) => 'error: ' + e)"

# Keeps the sitegen:ready event's detail: the backend, and why each one tried before it failed.
READY_RECORDER_JS = (
    "addEventListener('sitegen:ready', (e) => { window.__sitegenReady = e.detail; });"
)

# Resolves with the first image event and the exact pixels the model saw (the page's input canvas
# is untouched until the event has been dispatched).
FIRST_IMAGE_EVENT_JS = """
() => new Promise((resolve) => {
  addEventListener('sitegen:detections', function listener(event) {
    if (event.detail.source !== 'image') return;
    removeEventListener('sitegen:detections', listener);
    const canvas = window.sitegen.inputCanvas;
    const data = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
    let rgb = '';
    for (let i = 0; i < data.length; i += 4) {
      rgb += String.fromCharCode(data[i], data[i + 1], data[i + 2]);
    }
    resolve({detail: event.detail, width: canvas.width, height: canvas.height, rgb: btoa(rgb)});
  });
})
"""


# ---- the address ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class PageQuery:
    """What the page is asked for in its address; None (or the default) leaves a parameter out."""

    autostart: bool = False
    backend: str | None = None
    threshold: float | None = None
    max_detections: int | None = None
    tune: str | None = None  # "auto" | "all" | "off"
    worker: bool = True  # False: LiteRT.js on the page's main thread

    def encoded(self) -> str:
        values = {
            "autostart": "1" if self.autostart else None,
            "backend": self.backend,
            "threshold": None if self.threshold is None else f"{self.threshold:g}",
            "max_detections": None if self.max_detections is None else str(self.max_detections),
            "tune": self.tune,
            "worker": None if self.worker else "off",
        }
        return urllib.parse.urlencode(
            [(QUERY[key], value) for key, value in values.items() if value is not None]
        )


def parse_query(text: str) -> PageQuery:
    """A PageQuery from an address's query text ("worker=off&threshold=0.3"); ValueError names a
    parameter the page does not read."""
    fields = {name: key for key, name in QUERY.items()}
    values: dict = {}
    for name, value in urllib.parse.parse_qsl(
        text.lstrip("?&"), strict_parsing=bool(text.strip("?&"))
    ):
        if name not in fields:
            raise ValueError(f"the page reads no {name}=; it reads {', '.join(QUERY.values())}")
        values[fields[name]] = value
    converters = {
        "autostart": lambda v: v.lower() in ("1", "true", "yes"),
        "threshold": float,
        "max_detections": int,
        "worker": lambda v: v.lower() != "off",
    }
    return PageQuery(**{k: converters.get(k, str)(v) for k, v in values.items()})


def page_url(base_url: str, query: PageQuery | None = None, **fields) -> str:
    """The page's address under ``base_url`` with ``query`` (or a PageQuery of ``fields``)."""
    encoded = (query or PageQuery(**fields)).encoded()
    return f"{base_url}?{encoded}" if encoded else base_url


# ---- serving and launching -----------------------------------------------------------------------


@contextmanager
def served(
    site: Path, *, as_host: Host = Host.local, prefix: str | None = None, isolate: bool = True
) -> Iterator[str]:
    """The site served on loopback as ``as_host`` would serve it; yields its base URL."""
    from sitegen.site.serve import serve_in_thread

    server, url = serve_in_thread(site, prefix=prefix, isolate=isolate, as_host=as_host)
    try:
        yield url
    finally:
        server.shutdown()
        server.server_close()


def launch_args(camera: Camera = None, extra_args: tuple[str, ...] = ()) -> list[str]:
    """Chromium's arguments for ``camera``: the permission prompt always answered yes."""
    args = [*CHROMIUM_ARGS, FAKE_CAMERA_ARGS[0], *extra_args]
    if camera != NO_CAMERA:
        args.append(FAKE_CAMERA_ARGS[1])
    if isinstance(camera, Path):
        args.append(f"--use-file-for-fake-video-capture={camera}")
    return args


def launch(playwright, executable: str, *, camera: Camera = None, extra_args: tuple[str, ...] = ()):
    """A headless browser for sitegen pages (the one place that launches one); close it after."""
    return playwright.chromium.launch(
        executable_path=executable, headless=True, args=launch_args(camera, extra_args)
    )


@contextmanager
def launched(
    playwright, executable: str, *, camera: Camera = None, extra_args: tuple[str, ...] = ()
) -> Iterator:
    browser = launch(playwright, executable, camera=camera, extra_args=extra_args)
    try:
        yield browser
    finally:
        browser.close()


# ---- one page ------------------------------------------------------------------------------------


class PageWatcher:
    """Collects a page's console errors, uncaught errors and the URL of every request it makes."""

    def __init__(self, page):
        self.page = page
        self.errors: list[str] = []
        self.requests: list[str] = []
        page.on("console", lambda m: m.type == "error" and self.errors.append(m.text))
        page.on("pageerror", lambda e: self.errors.append(f"uncaught: {e}"))
        page.on("request", lambda r: self.requests.append(r.url))

    def foreign_requests(self, base_url: str) -> list[str]:
        """Requests to anywhere but the site's own origin (data: and blob: URLs are local)."""
        origin = urllib.parse.urlsplit(base_url)[:2]
        return [
            url
            for url in self.requests
            if not url.startswith(("data:", "blob:")) and urllib.parse.urlsplit(url)[:2] != origin
        ]

    def assert_clean(self, expected: tuple[str, ...] = ()) -> None:
        unexpected = [e for e in self.errors if not any(x in e for x in expected)]
        assert not unexpected, unexpected


def open_page(
    browser,
    url: str,
    *,
    viewport: tuple[int, int] = (1280, 800),
    permissions: tuple[str, ...] = ("camera",),
    bypass_csp: bool = False,
    init_scripts: tuple[str, ...] = (),
    **context_options,
):
    """``url`` in a new browser context of its own; returns (page, PageWatcher). ``bypass_csp``
    is for tests that use Playwright's string waits; the page's own CSP is the default."""
    context = browser.new_context(
        viewport={"width": viewport[0], "height": viewport[1]},
        bypass_csp=bypass_csp,
        **context_options,
    )
    if permissions:
        context.grant_permissions(list(permissions))
    for script in (READY_RECORDER_JS, *init_scripts):
        context.add_init_script(script)
    page = context.new_page()
    watcher = PageWatcher(page)
    page.goto(url)
    return page, watcher


def wait_ready(page) -> str:
    """The backend the page started on, or ``error: ...`` when it could not start."""
    return page.evaluate(READY_JS)


def backend_failures(page) -> list[str]:
    """Why each backend the page tried before the one it runs could not start ("wasm (reason)")."""
    return page.evaluate("() => (window.__sitegenReady && window.__sitegenReady.failures) || []")


def poll(page, expression: str, *, timeout_s: float = 30.0, arg=None):
    """The first truthy value of ``expression`` (a plain function expression, evaluated with
    ``arg``), polled until ``timeout_s``: the CSP-safe ``wait_for_function``."""
    deadline = time.monotonic() + timeout_s
    while True:
        value = page.evaluate(expression, arg)
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"{expression} stayed false for {timeout_s:g} s")
        time.sleep(POLL_SECONDS)


@dataclass(frozen=True)
class ImageEvent:
    """The page's ``sitegen:detections`` event for an image, and the pixels its model saw."""

    detail: dict
    pixels: np.ndarray  # uint8 HxWx3: the page's input canvas when the event was dispatched

    @property
    def detections(self) -> list[dict]:
        return self.detail["detections"]

    @property
    def frame_size(self) -> tuple[int, int]:
        """The image's (width, height) in the event: what its boxes are normalised to."""
        return self.detail["width"], self.detail["height"]


def detect_image(page, image: Path) -> ImageEvent:
    """``image`` given to the page through its file input, as a person would; its event."""
    # Arm the listener without awaiting it (evaluate would wait for the promise).
    page.evaluate(f"() => {{ window.__sitegenImage = ({FIRST_IMAGE_EVENT_JS})(); }}")
    page.set_input_files("input[type=file]", str(image))
    event = page.evaluate("window.__sitegenImage")
    pixels = np.frombuffer(base64.b64decode(event["rgb"]), np.uint8)
    return ImageEvent(event["detail"], pixels.reshape(event["height"], event["width"], 3))


def time_detector(page, runs: int) -> list[float]:
    """The page's detector timed back to back on its last input (``window.sitegen``), in ms."""
    return page.evaluate(f"() => window.sitegen.timeDetector({int(runs)})")
