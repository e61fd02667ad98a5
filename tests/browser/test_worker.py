"""LiteRT.js runs in the detector worker, off the page's main thread, and gives the same
detections as on the main thread; a browser where the worker cannot run falls back to the main
thread and says why."""

from __future__ import annotations

import pytest

from sitegen.site.page import page_url
from tests.helpers.browser import RECORD_EVENTS_JS, open_page, served

pytestmark = pytest.mark.tensorflow

WORKER_MESSAGE = "The detector runs on the page's main thread"


def _detect_scene(page, scene_path):
    page.evaluate(RECORD_EVENTS_JS)
    page.wait_for_function("window.sitegen && window.sitegen.state === 'ready'")
    page.set_input_files("#file", str(scene_path))
    page.wait_for_function("window.__events.some(e => e.detail.source === 'image')")
    return page.evaluate("window.__events.map(e => e.detail)")[-1]


@pytest.fixture(scope="module")
def scene_path(tmp_path_factory):
    import numpy as np

    from devtools.default_model import scenes

    image, _ = scenes.render_scene(np.random.default_rng(5), 640, 480, max_objects=3)
    path = tmp_path_factory.mktemp("worker") / "scene.png"
    image.save(path)
    return path


def test_litert_runs_in_the_worker_with_the_same_detections(browser, default_site, scene_path):
    with served(default_site) as url:
        page, watcher = open_page(browser, page_url(url, backend="litert-wasm"))
        in_worker = _detect_scene(page, scene_path)
        readout = page.inner_text("#backend")
        memory = page.evaluate("window.sitegen.memory()")
        watcher.assert_clean()
        page.context.close()

        page, watcher = open_page(browser, page_url(url, backend="litert-wasm", worker=False))
        on_page = _detect_scene(page, scene_path)
        main_readout = page.inner_text("#backend")
        watcher.assert_clean()
        page.context.close()
    assert readout.startswith("LiteRT.js WASM, 2 threads") and readout.endswith("in a worker")
    assert "worker" not in main_readout
    assert memory == {"numTensors": 0, "runtime": "litert"}, (
        "every LiteRT tensor freed in the worker"
    )
    assert in_worker["detections"], "the scene has signs"
    assert in_worker["detections"] == on_page["detections"]
    # The engine's run is timed where it runs, and lies inside the frame's whole time; the
    # worker's round trip adds up to less than the frame (the page also draws and reads it).
    for detail in (in_worker, on_page):
        assert 0 < detail["engineMs"] < detail["inferenceMs"]
    trip = in_worker["roundTrip"]
    assert trip["runMs"] == in_worker["engineMs"]
    assert trip["runMs"] < trip["workerMs"]
    assert all(trip[key] >= 0 for key in ("toWorkerMs", "workerMs", "backMs")), trip
    assert trip["toWorkerMs"] + trip["workerMs"] + trip["backMs"] < in_worker["inferenceMs"]
    assert "roundTrip" not in on_page


# A browser whose workers cannot import modules (the worker's dynamic import fails) is like the
# second case; one with no Worker at all cannot run WebAssembly threads either.
@pytest.mark.parametrize("how", ["worker script fails", "worker file missing"])
def test_without_the_worker_the_page_runs_on_its_main_thread(
    browser, default_site, scene_path, how
):
    with served(default_site) as url:
        context = browser.new_context(bypass_csp=True)
        if how == "worker script fails":
            context.route(
                "**/js/detector_worker.js",
                lambda route: route.fulfill(
                    content_type="text/javascript", body="throw new Error('no modules here');"
                ),
            )
        else:
            context.route("**/js/detector_worker.js", lambda route: route.fulfill(status=404))
        page = context.new_page()
        errors = []
        page.on("console", lambda m: m.type == "error" and errors.append(m.text))
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(page_url(url, backend="litert-wasm"))
        event = _detect_scene(page, scene_path)
        warning = page.inner_text("#warning")
        readout = page.inner_text("#backend")
        context.close()
    assert event["backend"] == "litert-wasm" and event["detections"]
    assert WORKER_MESSAGE in warning, warning
    assert "worker" not in readout
    assert all("404" in e for e in errors), errors
