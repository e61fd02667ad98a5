"""Helpers for browser tests: serve a site, open a page that records its events and errors."""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path

from sitegen.serve import serve_in_thread


@contextmanager
def served(site: Path, *, prefix: str = "/", isolate: bool = True):
    server, url = serve_in_thread(site, prefix=prefix, isolate=isolate)
    try:
        yield url
    finally:
        server.shutdown()
        server.server_close()


class PageWatcher:
    """Collects console errors, page errors and every request URL of a page."""

    def __init__(self, page):
        self.page = page
        self.errors: list[str] = []
        self.requests: list[str] = []
        page.on("console", lambda m: m.type == "error" and self.errors.append(m.text))
        page.on("pageerror", lambda e: self.errors.append(f"uncaught: {e}"))
        page.on("request", lambda r: self.requests.append(r.url))

    def assert_clean(self, expected: tuple[str, ...] = ()) -> None:
        unexpected = [e for e in self.errors if not any(x in e for x in expected)]
        assert not unexpected, unexpected


def open_page(browser, url: str, *, viewport=(1280, 800), permissions=("camera",), bypass_csp=True):
    # Playwright's wait_for_function evaluates strings, which the page's CSP forbids (as it should);
    # test_page_contract checks the page under its real CSP.
    context = browser.new_context(
        viewport={"width": viewport[0], "height": viewport[1]}, bypass_csp=bypass_csp
    )
    if permissions:
        context.grant_permissions(list(permissions))
    page = context.new_page()
    watcher = PageWatcher(page)
    page.goto(url)
    return page, watcher


# Installs a listener that, for each detections event, copies the exact pixels the model saw
# (the page's input canvas, drawn before inference and untouched until the event is dispatched).
RECORD_EVENTS_JS = """
() => {
  window.__events = [];
  window.addEventListener('sitegen:detections', (event) => {
    const canvas = window.sitegen.inputCanvas;
    const ctx = canvas.getContext('2d', {willReadFrequently: true});
    const pixels = ctx.getImageData(0, 0, canvas.width, canvas.height).data;
    let rgb = '';
    for (let i = 0; i < pixels.length; i += 4) {
      rgb += String.fromCharCode(pixels[i], pixels[i + 1], pixels[i + 2]);
    }
    window.__events.push({detail: event.detail, input: {width: canvas.width,
      height: canvas.height, rgb: btoa(rgb)}});
  });
}
"""
