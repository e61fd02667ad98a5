"""LiteRT.js beside TF.js: the site's .tflite gives the same detections as TF.js and TensorFlow,
works without cross-origin isolation (single-threaded, and says so), and a broken .tflite falls
back to TF.js with the broken file named."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from devtools.default_model import scenes
from sitegen.resources import default_model_dir
from sitegen.site.page import PageQuery, page_url
from tests.helpers.browser import (
    assert_same_detections,
    detections_in_page,
    expected_from_tensorflow,
    open_page,
    served,
)

pytestmark = [pytest.mark.tensorflow]

THRESHOLD = 0.05  # low, so dozens of candidates are compared, not just the confident few


@pytest.fixture(scope="module")
def busy_scene(tmp_path_factory):
    image, _ = scenes.render_scene(np.random.default_rng(5), 640, 480, max_objects=3)
    path = tmp_path_factory.mktemp("litert-scene") / "scene.png"
    image.save(path)
    return path


def test_default_site_carries_a_tflite_in_parts(default_site):
    config = json.loads((default_site / "config.json").read_text())
    litert = config["model"]["litert"]
    assert litert["input"] == {"name": "image", "dtype": "uint8", "size": [256, 256]}
    assert litert["outputs"] == {"rawBoxes": "raw_boxes", "rawScores": "raw_scores"}
    for part in litert["files"]:
        assert (default_site / part["path"]).stat().st_size == part["bytes"] <= 4 * 1024 * 1024
    runtime = json.loads((default_site / "vendor/litert/runtime.json").read_text())
    for variant in runtime["variants"].values():
        for part in variant["wasm"]:
            size = (default_site / "vendor/litert" / part["path"]).stat().st_size
            assert size == part["bytes"] <= 4 * 1024 * 1024
    # Verified at build time, and first in the page's order only if it was measured faster.
    assert config["backends"]["verified"]["litert-wasm"] is True
    timing = config["backends"]["timingMs"]
    fastest = min(timing, key=timing.get)
    assert config["backends"]["order"][0] == fastest


@pytest.mark.parametrize("backend", ["litert-wasm", "wasm"])
def test_default_model_matches_tensorflow(browser, default_site, busy_scene, backend):
    events = detections_in_page(
        browser, default_site, busy_scene, PageQuery(backend=backend, threshold=THRESHOLD)
    )
    event = events[-1]
    assert event["detail"]["backend"] == backend
    expected = expected_from_tensorflow(default_model_dir() / "saved_model", event, THRESHOLD, 100)
    assert len(expected) >= 3
    assert_same_detections(event["detail"]["detections"], expected, box_tol=1e-3, score_tol=1e-4)


def test_without_isolation_litert_runs_single_threaded_and_says_so(
    browser, default_site, busy_scene
):
    with served(default_site, isolate=False) as url:
        page, watcher = open_page(browser, page_url(url, backend="litert-wasm"))
        page.wait_for_function("window.sitegen && window.sitegen.state !== 'loading'")
        assert page.evaluate("window.crossOriginIsolated") is False
        assert page.evaluate("window.sitegen.backend") == "litert-wasm"
        readout = page.inner_text("#backend")
        assert "single-threaded (page is not cross-origin isolated)" in readout, readout
        page.evaluate(
            "() => { window.__first = new Promise((resolve) => addEventListener("
            "'sitegen:detections', (e) => resolve(e.detail), {once: true})); }"
        )
        page.set_input_files("input[type=file]", str(busy_scene))
        assert page.evaluate("window.__first")["detections"]
        watcher.assert_clean()
    with served(default_site) as url:
        page, _ = open_page(browser, page_url(url, backend="litert-wasm"))
        page.wait_for_function("window.sitegen && window.sitegen.state !== 'loading'")
        assert page.inner_text("#backend").startswith("LiteRT.js WASM, 2 threads")


def test_broken_tflite_falls_back_to_tfjs_and_names_the_part(browser, default_site, tmp_path):
    site = tmp_path / "site"
    shutil.copytree(default_site, site)
    config = json.loads((site / "config.json").read_text())
    part = config["model"]["litert"]["files"][0]["path"]
    (site / part).unlink()
    config["backends"]["order"] = ["litert-wasm", "wasm", "cpu"]
    (site / "config.json").write_text(json.dumps(config))
    with served(site) as url:
        page, watcher = open_page(browser, url)
        page.wait_for_function("window.sitegen && window.sitegen.state !== 'loading'")
        assert page.evaluate("window.sitegen.backend") == "wasm"
        warning = page.inner_text("#warning")
        assert part in warning and "404" in warning, warning
        watcher.assert_clean(expected=("404",))


def test_tuning_times_every_backend_on_the_first_frame_and_keeps_the_fastest_agreeing(
    browser, default_site, busy_scene
):
    """?tune=all makes the page time every other backend (software GPU ones included) on the
    first frame, as it does GPU backends on real graphics hardware."""
    with served(default_site) as url:
        page, watcher = open_page(browser, page_url(url, tune="all"))
        page.evaluate(
            "() => { window.__tuned = new Promise((resolve) => addEventListener("
            "'sitegen:tuned', (e) => resolve(e.detail), {once: true})); }"
        )
        page.wait_for_function("window.sitegen && window.sitegen.state !== 'loading'")
        first = page.evaluate("window.sitegen.backend")
        page.set_input_files("input[type=file]", str(busy_scene))
        tuned = page.evaluate("window.__tuned")
        trials = {trial["name"]: trial for trial in tuned["trials"]}
        assert tuned["trials"][0]["name"] == first
        assert {"wasm", "webgl", "cpu"} <= set(trials) | {first}
        for name in ("litert-webgpu", "webgpu"):  # no GPU adapter in headless Chromium here
            assert trials[name]["medianMs"] is None and trials[name]["error"], trials[name]
        timed = [t for t in tuned["trials"] if t["agrees"]]
        assert {t["name"] for t in timed} >= {first, "wasm", "cpu"}, tuned["trials"]
        assert tuned["backend"] == min(timed, key=lambda t: t["medianMs"])["name"]
        assert page.evaluate("window.sitegen.backend") == tuned["backend"]
        assert "measured here" in page.inner_text("#backend")
        watcher.assert_clean()


def test_missing_litert_runtime_part_falls_back_to_tfjs_and_names_it(
    browser, default_site, tmp_path
):
    site = tmp_path / "site"
    shutil.copytree(default_site, site)
    runtime = json.loads((site / "vendor/litert/runtime.json").read_text())
    part = runtime["variants"]["threaded"]["wasm"][1]["path"]
    (site / "vendor/litert" / part).unlink()
    with served(site) as url:
        page, watcher = open_page(browser, url)
        page.wait_for_function("window.sitegen && window.sitegen.state !== 'loading'")
        assert page.evaluate("window.sitegen.backend") == "wasm"
        warning = page.inner_text("#warning")
        assert f"vendor/litert/{part}" in warning and "404" in warning, warning
        watcher.assert_clean(expected=("404",))
