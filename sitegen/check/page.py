"""Run a site in headless Chromium with footage as its camera, and collect the page's events.

Chromium reads the fake camera's file once at launch, so each check starts a browser of its own.
The page is served by sitegen's own server (COOP/COEP on, as ``sitegen serve``), opened with
``?autostart=1`` and its real CSP; a script installed before the page's own records each camera
event with the time it came and a small summary of the pixels the model saw (``frames.py``
matches it to the footage). Python polls with ``page.evaluate``: Playwright's
``wait_for_function`` evaluates strings, which the page's CSP rightly forbids.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from sitegen.check import CheckError, PageEvent
from sitegen.check.frames import GRID_COLUMNS, GRID_ROWS
from sitegen.site import page as page_client
from sitegen.site.browser import own_thread

POLL_SECONDS = 0.2

# Installed before the page's scripts run (and again if it reloads to become isolated). The grid
# is read inside the listener: the event is dispatched before the next frame is drawn.
_RECORDER_JS = """
(() => {
  const columns = COLUMNS, rows = ROWS;
  const record = { events: [], errors: [], ready: null };
  window.__sitegenCheck = record;
  addEventListener('sitegen:ready', (event) => { record.ready = event.detail; });
  addEventListener('sitegen:error', (event) => { record.errors.push(event.detail.message); });
  addEventListener('sitegen:detections', (event) => {
    if (event.detail.source !== 'camera') return;
    record.events.push({ detail: event.detail, at: performance.now(), grid: lumaGrid() });
  });
  function lumaGrid() {
    const canvas = window.sitegen.inputCanvas;
    const { width, height } = canvas;
    const pixels = canvas.getContext('2d', { willReadFrequently: true })
      .getImageData(0, 0, width, height).data;
    const sums = new Float64Array(columns * rows), counts = new Float64Array(columns * rows);
    for (let y = 0; y < height; y += 1) {
      const row = Math.floor((y * rows) / height) * columns;
      for (let x = 0; x < width; x += 1) {
        const i = (y * width + x) * 4, cell = row + Math.floor((x * columns) / width);
        sums[cell] += 0.299 * pixels[i] + 0.587 * pixels[i + 1] + 0.114 * pixels[i + 2];
        counts[cell] += 1;
      }
    }
    return Array.from(sums, (sum, cell) => Math.round((sum / counts[cell]) * 10) / 10);
  }
})();
""".replace("COLUMNS", str(GRID_COLUMNS)).replace("ROWS", str(GRID_ROWS))

# Takes the events recorded so far (the page keeps no growing list), and the page's state.
_DRAIN_JS = """
() => {
  const record = window.__sitegenCheck;
  if (!record) return null;
  return { events: record.events.splice(0), errors: record.errors.splice(0), ready: record.ready,
    state: window.sitegen ? window.sitegen.state : 'loading',
    error: document.getElementById('error')?.innerText || '' };
}
"""


@dataclass(frozen=True)
class PageRun:
    events: list[PageEvent]
    ready: dict  # the sitegen:ready detail: the backend and those that failed before it


def page_query(backend: str | None, threshold: float | None) -> page_client.PageQuery:
    return page_client.PageQuery(autostart=True, backend=backend, threshold=threshold)


@own_thread
def collect_events(
    site: Path,
    footage: Path,
    browser_path: str,
    query: page_client.PageQuery,
    count: int,
    timeout_s: float,
) -> PageRun:
    """The page's first ``count`` camera events, within ``timeout_s`` seconds."""
    from playwright.sync_api import Error as PlaywrightError

    with (
        page_client.served(site) as url,
        page_client.playwright_started() as playwright,
        page_client.launched(playwright, browser_path, camera=footage) as browser,
    ):
        try:
            page, _ = page_client.open_page(
                browser, page_client.page_url(url, query), init_scripts=(_RECORDER_JS,)
            )
            return _poll(page, count, timeout_s)
        except PlaywrightError as exc:
            raise CheckError(f"headless Chromium failed: {_first_line(exc)}") from None


def _poll(page, count: int, timeout_s: float) -> PageRun:
    started = time.monotonic()
    events: list[PageEvent] = []
    ready: dict | None = None
    while len(events) < count:
        status = _drain(page)
        if status is not None:
            _raise_page_errors(status)
            ready = status["ready"] or ready
            events += [PageEvent(e["detail"], e["at"], e["grid"]) for e in status["events"]]
        if time.monotonic() - started > timeout_s:
            raise CheckError(_timeout_message(len(events), count, timeout_s, ready))
        if len(events) < count:
            time.sleep(POLL_SECONDS)
    return PageRun(events[:count], ready or {})


def _drain(page) -> dict | None:
    """The recorder's news, or None while the page is between documents (a site's service
    worker reloads it once to become cross-origin isolated; the recorder is installed again)."""
    from playwright.sync_api import Error as PlaywrightError

    try:
        return page.evaluate(_DRAIN_JS)
    except PlaywrightError as exc:
        if "context was destroyed" in str(exc) or "navigat" in str(exc):
            return None
        raise


def _raise_page_errors(status: dict) -> None:
    if status["errors"] or status["state"] == "error":
        message = (status["errors"] or [status["error"]])[0] or "no message"
        raise CheckError(f"the page reported an error: {' '.join(message.split())}")


def _timeout_message(seen: int, count: int, timeout_s: float, ready: dict | None) -> str:
    if ready is None:
        return (
            f"the page's detector did not start within {timeout_s:.0f} s; pass a longer --timeout"
        )
    return (
        f"only {seen} of {count} frames were processed within {timeout_s:.0f} s "
        f"(backend {ready.get('backend')}); pass fewer --frames or a longer --timeout"
    )


def _first_line(exc: Exception) -> str:
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    return lines[0] if lines else type(exc).__name__
