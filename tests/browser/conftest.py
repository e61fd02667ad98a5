"""Headless Chromium driving built sites: a shared browser, fake cameras, the default site.

pytest-playwright gives the tests their Playwright (``playwright``), the shared browser
(``browser``, launched by ``launch_browser`` with ``browser_type_launch_args``) and the
``--output``/``--tracing``/``--screenshot`` options. Every browser is launched by the page
client (``sitegen.site.page.launch``, the one place that launches one), found as the build's
verification finds it. A fake-camera clip needs a browser process of its own (Chromium reads
--use-file-for-fake-video-capture once, at launch): ``launch(camera=...)``.

The pages themselves are opened by ``tests.helpers.browser.open_page`` (the page client's, under
Playwright's string waits), not by pytest-playwright's ``page`` fixture: a test opens several, in
browsers of different cameras. So the failure artifacts pytest-playwright keeps for its own
contexts are kept here for those pages: a trace and a screenshot of each, under --output.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from sitegen.site import page as page_client
from sitegen.site.browser import browser_path as find_browser_path
from tests.helpers import browser as helpers


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/browser/" in str(item.fspath).replace("\\", "/"):
            item.add_marker(pytest.mark.browser)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    if report.when == "call":
        item.sitegen_failed = report.failed
    return report


@pytest.fixture(scope="session")
def browser_path(playwright) -> str:
    path = find_browser_path(playwright)
    if path is None:
        pytest.skip(
            "no Chromium found: install one (apt-get install chromium, or playwright install chromium)"
        )
    return path


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_path) -> dict:
    """The shared browser's: the default fake camera (a generated test pattern). A module can
    override this fixture to give its shared browser another camera."""
    return {"executable_path": browser_path, "camera": None, "extra_args": ()}


@pytest.fixture(scope="session")
def launch_browser(playwright, browser_type_launch_args):
    """pytest-playwright's launcher (its ``browser`` fixture calls it), through the page client."""

    def launch(**overrides):
        options = {**browser_type_launch_args, **overrides}
        return page_client.launch(
            playwright,
            options["executable_path"],
            camera=options["camera"],
            extra_args=tuple(options["extra_args"]),
        )

    return launch


@pytest.fixture(scope="session")
def launch(launch_browser):
    """launch(camera=None|'none'|Path to .y4m) -> a context manager yielding a Browser."""

    @contextmanager
    def _launch(camera: Path | str | None = None, extra_args: tuple[str, ...] = ()) -> Iterator:
        browser = launch_browser(camera=camera, extra_args=extra_args)
        try:
            yield browser
        finally:
            browser.close()

    return _launch


@pytest.fixture(autouse=True)
def failure_artifacts(request, pytestconfig):
    """pytest-playwright's --tracing and --screenshot for the pages the test opened: each one's
    trace and screenshot under --output when the test fails (retain-on-failure,
    only-on-failure), nothing when it passes."""
    tracing = pytestconfig.getoption("--tracing", "off")
    screenshot = pytestconfig.getoption("--screenshot", "off")
    helpers.OPENED.clear()
    helpers.TRACING = tracing != "off"
    yield
    failed = getattr(request.node, "sitegen_failed", False)
    folder = Path(pytestconfig.getoption("--output")) / re.sub(
        r"[^\w.-]+", "-", request.node.nodeid
    )
    for number, context in enumerate(helpers.OPENED):
        _keep_artifacts(context, folder, number, failed, tracing, screenshot)
    helpers.OPENED.clear()


def _keep_artifacts(context, folder: Path, number: int, failed: bool, tracing, screenshot) -> None:
    from playwright.sync_api import Error as PlaywrightError

    try:
        if screenshot == "on" or (screenshot == "only-on-failure" and failed):
            folder.mkdir(parents=True, exist_ok=True)
            for index, page in enumerate(context.pages):
                page.screenshot(path=str(folder / f"page-{number}-{index}.png"), timeout=5000)
        if tracing == "on" or (tracing == "retain-on-failure" and failed):
            folder.mkdir(parents=True, exist_ok=True)
            context.tracing.stop(path=str(folder / f"trace-{number}.zip"))
        elif tracing != "off":
            context.tracing.stop()
    except PlaywrightError:
        pass  # the test closed the page (or its browser) itself: nothing left to keep


@pytest.fixture(scope="session")
def default_site(tmp_path_factory):
    """A site built from the embedded default model as `make site` builds it (backends verified
    and timed), shared by the tests that only read it."""
    from sitegen.build import BuildOptions, build
    from sitegen.resources import default_model_dir

    out = tmp_path_factory.mktemp("default") / "site"
    build(BuildOptions(model=default_model_dir(), out=out, verify=True))
    return out
