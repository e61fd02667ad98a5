"""Headless Chromium for checking and measuring built sites: where to find one, its arguments,
and Playwright started. The page client (``sitegen.site.page``) launches it and drives the page.

Playwright's own Chromium is used when installed; otherwise a system Chromium (Debian's
/usr/bin/chromium in CI; Playwright cannot download its own everywhere).
"""

from __future__ import annotations

import concurrent.futures
import functools
import importlib.util
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

SYSTEM_BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")

# Headless Chromium for checks and measurements: no sandbox (containers, root), and none of the
# browser's own traffic (updates, sync), so a run makes only the requests the page makes.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
# A fake camera that needs no permission prompt; add --use-file-for-fake-video-capture=F.y4m.
FAKE_CAMERA_ARGS = ["--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream"]


def own_thread(function):
    """Run ``function`` in a thread of its own: Playwright's sync API refuses to start where an
    asyncio loop already runs (a caller's own Playwright session, a notebook)."""

    @functools.wraps(function)
    def wrapper(*args, **kwargs):
        with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
            return pool.submit(function, *args, **kwargs).result()

    return wrapper


def browser_path(playwright) -> str | None:
    """Given a started Playwright: its own Chromium when installed, else a system one, else None."""
    own = Path(playwright.chromium.executable_path)
    if own.is_file():
        return str(own)
    return next((found for name in SYSTEM_BROWSERS if (found := shutil.which(name))), None)


@contextmanager
def playwright_started() -> Iterator:
    """Playwright's sync API, started in the calling thread (see ``own_thread``). The browser
    itself is launched by the page client, ``sitegen.site.page``."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        yield playwright


@own_thread
def find_browser() -> str | None:
    """A Chromium to drive, or None when there is none (or Playwright is not installed)."""
    if importlib.util.find_spec("playwright") is None:
        return None
    with playwright_started() as playwright:
        return browser_path(playwright)
