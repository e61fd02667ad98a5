"""Page behaviour beyond the camera: uploads, errors, backends, memory, layout."""

from __future__ import annotations

import json
import shutil

import pytest

from devtools.default_model import scenes
from sitegen.site.page import page_url
from sitegen.site.verify import box_iou
from tests.helpers.browser import RECORD_EVENTS_JS, open_page, served, two_sign_scene

pytestmark = pytest.mark.tensorflow


@pytest.fixture(scope="module")
def scene(tmp_path_factory):
    """A generated photo with signs, and its ground truth (normalised boxes)."""
    image, truth = two_sign_scene()
    path = tmp_path_factory.mktemp("scene") / "scene.png"
    image.save(path)
    return path, truth


def _box(d: dict) -> list[float]:
    return [d["box"]["x"], d["box"]["y"], d["box"]["width"], d["box"]["height"]]


def _upload(page, path):
    page.evaluate(RECORD_EVENTS_JS)
    page.wait_for_function("window.sitegen && window.sitegen.state !== 'loading'")
    page.set_input_files("input[type=file]", str(path))
    page.wait_for_function("window.__events.some(e => e.detail.source === 'image')")
    return page.evaluate("window.__events.filter(e => e.detail.source === 'image')")[-1]["detail"]


def test_image_upload_finds_the_signs(browser, default_site, scene):
    path, truth = scene
    with served(default_site) as url:
        page, watcher = open_page(browser, url)
        detail = _upload(page, path)
        listed = page.locator("#detections li").all_inner_texts()
        watcher.assert_clean()
    found = detail["detections"]
    assert len(found) == len(truth), found
    for sign in truth:
        assert any(
            d["label"] == sign["label"] and box_iou(d["box"], sign["box"]) >= 0.5 for d in found
        ), (sign, found)
    assert sorted(t.split()[0] for t in listed) == sorted(d["label"] for d in found)


def test_camera_permission_denied_shows_error(browser, default_site):
    with served(default_site) as url:
        page, watcher = open_page(browser, url, permissions=())
        page.context.clear_permissions()
        page.evaluate(
            "() => { navigator.mediaDevices.getUserMedia = () => "
            "Promise.reject(new DOMException('Permission denied', 'NotAllowedError')); }"
        )
        page.get_by_role("button", name="Start camera", exact=True).click()
        page.wait_for_function("document.querySelector('#error').textContent.length > 0")
        text = page.inner_text("#error")
        assert "refused" in text and "Start camera" in text
        assert page.is_visible("#error")
        watcher.assert_clean(expected=("Permission denied", "NotAllowedError"))
        assert not [e for e in watcher.errors if e.startswith("uncaught")]


def test_no_camera_device_shows_error(launch, default_site):
    with launch(camera="none") as browser, served(default_site) as url:
        page, watcher = open_page(browser, url)
        page.get_by_role("button", name="Start camera", exact=True).click()
        page.wait_for_function("document.querySelector('#error').textContent.length > 0")
        assert "No camera was found" in page.inner_text("#error")
        assert not [e for e in watcher.errors if e.startswith("uncaught")]


@pytest.mark.parametrize("runtime", ["tfjs", "litert"])
@pytest.mark.parametrize("damage", ["missing", "truncated"])
def test_broken_model_file_is_named(browser, default_site, tmp_path, damage, runtime):
    site = tmp_path / "site"
    shutil.copytree(default_site, site)
    config = json.loads((site / "config.json").read_text())
    if runtime == "tfjs":  # a site without a .tflite (built from a TF.js model, say)
        config["model"]["litert"] = None
        broken = config["model"]["files"][-1]["path"]
    else:  # only LiteRT.js allowed, so nothing can fall back
        config["backends"]["order"] = ["litert-wasm"]
        broken = config["model"]["litert"]["files"][-1]["path"]
    (site / "config.json").write_text(json.dumps(config))
    if damage == "missing":
        (site / broken).unlink()
    else:
        (site / broken).write_bytes((site / broken).read_bytes()[:1000])
    with served(site) as url:
        page, watcher = open_page(browser, url)
        page.wait_for_function("window.sitegen && window.sitegen.state === 'error'")
        text = page.inner_text("#error")
        assert broken in text, text
        assert ("404" in text) if damage == "missing" else ("1000 bytes" in text)
        assert not [e for e in watcher.errors if e.startswith("uncaught")]


@pytest.mark.parametrize(
    "backend, isolate",
    [
        ("litert-wasm", True),
        ("litert-wasm", False),
        ("wasm", True),
        ("wasm", False),
        ("webgl", True),
        ("cpu", True),
    ],
)
def test_backends_agree(browser, default_site, scene, backend, isolate):
    path, _ = scene
    results = {}
    for name, iso in (("reference", True), (backend, isolate)):
        forced = "cpu" if name == "reference" else backend
        with served(default_site, isolate=iso) as url:
            page, watcher = open_page(browser, page_url(url, backend=forced))
            detail = _upload(page, path)
            assert detail["backend"] == forced
            results[name] = detail["detections"]
            watcher.assert_clean()
            page.context.close()
    reference, actual = results["reference"], results[backend]
    assert len(reference) > 0 and len(actual) == len(reference)
    for got, want in zip(actual, reference, strict=True):
        assert got["label"] == want["label"]
        assert got["score"] == pytest.approx(want["score"], abs=1e-3)
        assert _box(got) == pytest.approx(_box(want), abs=2e-3)


@pytest.mark.parametrize("backend", ["litert-wasm", "wasm"])
def test_no_tensor_leak(launch, default_site, tmp_path, backend):
    footage = tmp_path / "leak.y4m"
    scenes.write_footage(footage, seed=3, frames=30)
    with launch(camera=footage) as browser, served(default_site) as url:
        page, watcher = open_page(browser, page_url(url, autostart=True, backend=backend))
        page.evaluate(
            "() => { window.__counts = {}; addEventListener('sitegen:detections', (e) => {"
            " if (e.detail.frame === 50 || e.detail.frame === 300)"
            " window.__counts[e.detail.frame] = window.sitegen.memory().numTensors; }); }"
        )
        page.wait_for_function("window.__counts[300] !== undefined", timeout=240_000)
        counts = page.evaluate("window.__counts")
        watcher.assert_clean()
    assert counts["50"] == counts["300"], counts


@pytest.mark.parametrize("viewport", [(390, 844), (1280, 800)])
def test_boxes_align_with_the_picture(browser, default_site, scene, viewport, tmp_path_factory):
    path, _ = scene
    with served(default_site) as url:
        page, watcher = open_page(browser, url, viewport=viewport)
        detail = _upload(page, path)
        overlay = page.evaluate("window.sitegen.overlay()")
        shots = tmp_path_factory.mktemp("screenshots")
        page.screenshot(path=str(shots / f"page-{viewport[0]}x{viewport[1]}.png"), full_page=True)
        watcher.assert_clean()
    content = overlay["content"]
    assert content["width"] > 0 and content["height"] > 0
    # The picture keeps its 4:3 shape on screen (object-fit: contain, no stretching).
    assert content["width"] / content["height"] == pytest.approx(640 / 480, rel=0.02)
    assert content["width"] <= viewport[0]
    drawn = overlay["boxes"]
    assert len(drawn) == len(detail["detections"])
    for d, box in zip(detail["detections"], drawn, strict=True):
        expected = [
            content["x"] + d["box"]["x"] * content["width"],
            content["y"] + d["box"]["y"] * content["height"],
            d["box"]["width"] * content["width"],
            d["box"]["height"] * content["height"],
        ]
        assert [box["x"], box["y"], box["width"], box["height"]] == pytest.approx(expected, abs=1.5)
        assert box["label"] == d["label"]


def test_label_markup_is_shown_as_text(browser, tmp_path, scene):
    from sitegen.build import BuildOptions, build
    from sitegen.resources import default_model_dir

    labels = tmp_path / "labels.txt"
    labels.write_text("<img src=x onerror=alert(1)>\nstop\n")
    site = tmp_path / "site"
    build(BuildOptions(model=default_model_dir(), out=site, labels=labels))
    with served(site) as url:
        page, watcher = open_page(browser, url)
        page.on("dialog", lambda d: pytest.fail(f"a dialog opened: {d.message}"))
        detail = _upload(page, scene[0])
        assert "<img src=x onerror=alert(1)>" in [d["label"] for d in detail["detections"]]
        assert page.locator("img[src=x]").count() == 0
        assert "<img src=x onerror=alert(1)>" in page.inner_text("body")
        watcher.assert_clean()


def test_tfjs_wasm_takes_a_thread_per_core_when_isolated(browser, default_site):
    """TF.js's own default is half the cores (one on 2 cores); the page gives TF.js WASM as many
    threads as LiteRT.js (one per core, at most 4) when it is cross-origin isolated, and says so."""
    with served(default_site) as url:
        page, watcher = open_page(browser, page_url(url, backend="wasm"))
        page.wait_for_function("window.sitegen && window.sitegen.state !== 'loading'")
        cores = page.evaluate("navigator.hardwareConcurrency")
        threads = max(1, min(cores, 4))
        plural = "thread" if threads == 1 else "threads"
        assert page.inner_text("#backend").startswith(f"TF.js WASM, {threads} {plural}")
        watcher.assert_clean()
    with served(default_site, isolate=False) as url:
        page, _ = open_page(browser, page_url(url, backend="wasm"))
        page.wait_for_function("window.sitegen && window.sitegen.state !== 'loading'")
        readout = page.inner_text("#backend")
        assert readout.startswith("TF.js WASM, single-threaded (page is not cross-origin isolated)")


def test_page_runs_under_its_own_content_security_policy(browser, default_site, scene):
    with served(default_site) as url:
        page, watcher = open_page(browser, url, bypass_csp=False)
        page.evaluate(
            "() => { window.__first = new Promise((resolve) => addEventListener("
            "'sitegen:detections', (e) => resolve(e.detail), {once: true})); }"
        )
        page.set_input_files("input[type=file]", str(scene[0]))
        detail = page.evaluate("window.__first")
        assert detail["detections"]
        watcher.assert_clean()


def test_backend_that_failed_verification_is_never_auto_selected(browser, default_site, tmp_path):
    site = tmp_path / "site"
    shutil.copytree(default_site, site)
    config = json.loads((site / "config.json").read_text())
    config["backends"]["verified"] = {
        "litert-wasm": False,
        "wasm": False,
        "webgl": None,
        "cpu": True,
    }
    (site / "config.json").write_text(json.dumps(config))
    with served(site) as url:
        page, watcher = open_page(browser, url)
        page.wait_for_function("window.sitegen && window.sitegen.state !== 'loading'")
        assert page.evaluate("window.sitegen.backend") not in ("litert-wasm", "wasm")
        page.context.close()
        forced, _ = open_page(browser, page_url(url, backend="wasm"))
        forced.wait_for_function("window.sitegen && window.sitegen.state !== 'loading'")
        assert forced.evaluate("window.sitegen.backend") == "wasm"
        assert "wasm" in forced.inner_text("body").lower()
        watcher.assert_clean()
