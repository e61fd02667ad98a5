"""Published sites in headless Chromium, served the way their host serves them: GitHub Pages (a
sub-path, no custom headers: the site's service worker isolates the page after one reload) and
Netlify (its generated _headers); both detect what TensorFlow detects, work offline after the
first visit, and pick up a rebuilt site on the next visit."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from sitegen.options import Host
from tests.helpers.browser import (
    RECORD_EVENTS_JS,
    assert_same_detections,
    expected_from_tensorflow,
    served,
)

pytestmark = pytest.mark.tensorflow
THRESHOLD = 0.3


@pytest.fixture(scope="module")
def scene(tmp_path_factory) -> Path:
    import numpy as np

    from devtools.default_model import scenes

    image, boxes = scenes.render_scene(np.random.default_rng(5), 640, 480, max_objects=3)
    assert boxes
    path = tmp_path_factory.mktemp("scene") / "signs.png"
    image.save(path)
    return path


def _publish(run_cli, site: Path, target: str, out: Path) -> Path:
    result = run_cli("publish", target, site, "--generate-dir", out, "--no-workflow")
    assert result.code == 0, result.err
    return out


def _poll(page, script: str, timeout: float = 60.0):
    from playwright.sync_api import Error

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            value = page.evaluate(script)
        except Error as error:  # the page reloaded (to become isolated) while this ran
            if "context was destroyed" not in str(error):
                raise
            value = None
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for: {script}")


def _open(browser, url: str):
    context = browser.new_context()  # the page's own CSP, as deployed
    page = context.new_page()
    navigations: list[str] = []
    page.on(
        "framenavigated", lambda frame: frame == page.main_frame and navigations.append(frame.url)
    )
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(url)
    _poll(page, "() => window.sitegen && window.sitegen.state === 'ready'")
    return context, page, navigations, errors


def _detect(page, scene: Path) -> dict:
    page.evaluate(RECORD_EVENTS_JS)
    page.set_input_files("input[type=file]", str(scene))
    _poll(page, "() => window.__events.some((e) => e.detail.source === 'image')")
    return page.evaluate("() => window.__events.filter((e) => e.detail.source === 'image').pop()")


def _assert_detects_like_tensorflow(page, scene: Path, saved_model: Path) -> None:
    event = _detect(page, scene)
    expected = expected_from_tensorflow(saved_model, event, THRESHOLD, 20)
    assert_same_detections(event["detail"]["detections"], expected)


def _assert_threads(page) -> str:
    readout = page.inner_text("#backend")
    assert page.evaluate("() => crossOriginIsolated") is True
    assert "threads" in readout and "single-threaded" not in readout, readout
    return readout


def test_github_pages_isolated_by_the_service_worker_and_offline(
    run_cli, browser, default_site, scene, tmp_path
):
    from sitegen.resources import default_model_dir

    saved_model = default_model_dir() / "saved_model"
    published = _publish(run_cli, default_site, "github-pages", tmp_path / "pages")
    with served(published, prefix="/some-repo/", as_host=Host.github_pages) as url:
        context, page, navigations, errors = _open(browser, url)
        assert page.evaluate("() => window.sitegen.isolation.state") == "isolated"
        assert len(navigations) == 2, navigations  # the first visit, and the one reload
        _assert_threads(page)
        _assert_detects_like_tensorflow(page, scene, saved_model)
        files = _poll(page, "() => window.sitegen.offlineFiles")
        assert files >= 10 and "Ready offline" in page.inner_text("#offline")

        page.reload()
        _poll(page, "() => window.sitegen && window.sitegen.state === 'ready'")
        assert len(navigations) == 3, navigations  # a reload does not reload again

        context.set_offline(True)
        page.reload()
        _poll(page, "() => window.sitegen && window.sitegen.state === 'ready'")
        _assert_threads(page)
        _assert_detects_like_tensorflow(page, scene, saved_model)
        assert not errors, errors
        context.close()


def test_netlify_isolated_by_its_headers_and_offline(
    run_cli, browser, default_site, scene, tmp_path
):
    from sitegen.resources import default_model_dir

    published = _publish(run_cli, default_site, "netlify", tmp_path / "netlify")
    with served(published, as_host=Host.netlify) as url:
        context, page, navigations, errors = _open(browser, url)
        assert len(navigations) == 1, navigations  # the headers isolate it: no reload
        _assert_threads(page)
        _poll(page, "() => window.sitegen.offlineFiles")
        context.set_offline(True)
        page.reload()
        _poll(page, "() => window.sitegen && window.sitegen.state === 'ready'")
        _assert_detects_like_tensorflow(page, scene, default_model_dir() / "saved_model")
        assert not errors, errors
        context.close()


def test_a_rebuilt_site_is_picked_up_on_the_next_visit(
    run_cli, browser, default_site, tiny_tf2, tmp_path
):
    published = tmp_path / "pages"
    _publish(run_cli, default_site, "github-pages", published)
    other = tmp_path / "other"
    assert run_cli("build", tiny_tf2, "--out", other, "--title", "Second build").code == 0
    with served(published, prefix="/some-repo/", as_host=Host.github_pages) as url:
        context, page, _, _ = _open(browser, url)
        first = page.evaluate("() => window.sitegen.config")
        _poll(page, "() => window.sitegen.offlineFiles")
        assert run_cli("publish", "github-pages", other, "--generate-dir", published,
                       "--no-workflow").code == 0  # fmt: skip
        page.reload()
        _poll(page, "() => window.sitegen && window.sitegen.state === 'ready'")
        second = page.evaluate("() => window.sitegen.config")
        assert first["title"] != second["title"] == "Second build"
        assert second["model"]["files"] != first["model"]["files"]
        assert page.evaluate("() => window.sitegen.state") == "ready"
        context.close()
