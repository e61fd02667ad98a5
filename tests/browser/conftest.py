"""Headless Chromium driving built sites: a shared browser, fake cameras, the default site.

The browser is found as the build's verification finds it (``sitegen.site.browser``). Each
fake-camera footage file needs its own browser process, since Chromium reads
--use-file-for-fake-video-capture once at launch.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from sitegen.site.browser import CHROMIUM_ARGS
from sitegen.site.browser import browser_path as find_browser_path

# The fake device is added per launch: camera="none" tests a machine without one.
BASE_ARGS = [*CHROMIUM_ARGS, "--use-fake-ui-for-media-stream"]


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/browser/" in str(item.fspath).replace("\\", "/"):
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def playwright_instance():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        yield playwright


@pytest.fixture(scope="session")
def browser_path(playwright_instance) -> str:
    path = find_browser_path(playwright_instance)
    if path is None:
        pytest.skip(
            "no Chromium found: install one (apt-get install chromium, or playwright install chromium)"
        )
    return path


@pytest.fixture(scope="session")
def launch(playwright_instance, browser_path):
    """launch(camera=None|'none'|Path to .y4m) -> a context manager yielding a Browser."""

    @contextmanager
    def _launch(camera: Path | str | None = None, extra_args: tuple[str, ...] = ()) -> Iterator:
        args = list(BASE_ARGS) + list(extra_args)
        if camera != "none":
            args.append("--use-fake-device-for-media-stream")
        if isinstance(camera, Path):
            args.append(f"--use-file-for-fake-video-capture={camera}")
        browser = playwright_instance.chromium.launch(
            executable_path=browser_path, headless=True, args=args
        )
        try:
            yield browser
        finally:
            browser.close()

    return _launch


@pytest.fixture(scope="session")
def browser(launch):
    """One shared browser with the default fake camera (a generated test pattern)."""
    with launch() as shared:
        yield shared


@pytest.fixture(scope="session")
def default_site(tmp_path_factory):
    """A site built from the embedded default model as `make site` builds it (backends verified
    and timed), shared by the tests that only read it."""
    from sitegen.commands.build import BuildOptions, build
    from sitegen.resources import default_model_dir

    out = tmp_path_factory.mktemp("default") / "site"
    build(BuildOptions(model=default_model_dir(), out=out, verify=True))
    return out
