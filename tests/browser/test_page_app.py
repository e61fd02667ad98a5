"""The page as people use it: videos, drag-and-drop and paste, the snapshot, the front camera,
a hidden tab, remembered settings and files the page cannot open. Each test drives the built
default site in headless Chromium and checks the numbers the page reports (the
``sitegen:detections`` event, the overlay's drawn boxes, the snapshot's pixels)."""

from __future__ import annotations

import base64
import io
import json
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from devtools.default_model import scenes
from sitegen.site.page import page_url
from sitegen.site.verify import box_iou
from tests.helpers.browser import RECORD_EVENTS_JS, open_page, served, two_sign_scene

pytestmark = pytest.mark.tensorflow


@pytest.fixture(scope="module")
def scene(tmp_path_factory):
    """A 640x480 picture with two signs, its PNG bytes, and the signs' boxes (normalised)."""
    image, truth = two_sign_scene()
    folder = tmp_path_factory.mktemp("scene")
    path = folder / "scene.png"
    image.save(path)
    return {"path": path, "image": image, "truth": truth, "folder": folder}


@pytest.fixture(scope="module")
def scene_video(scene):
    """Two seconds of the scene as a VP8 WebM: a video the browser plays at its own speed."""
    import av

    path = scene["folder"] / "scene.webm"
    frame = np.asarray(scene["image"].convert("RGB"))
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libvpx", rate=10)
        stream.width, stream.height, stream.pix_fmt = 640, 480, "yuv420p"
        stream.options = {"b": "2M"}
        for _ in range(20):
            container.mux(stream.encode(av.VideoFrame.from_ndarray(frame, format="rgb24")))
        container.mux(stream.encode(None))
    return path


@pytest.fixture(scope="module")
def sign_footage(tmp_path_factory):
    """Camera footage with signs in most frames (Chromium's fake camera reads it)."""
    folder = tmp_path_factory.mktemp("camera")
    scenes.write_footage(folder / "signs.y4m", seed=2024, frames=60)
    return folder / "signs.y4m"


def _assert_finds(truth, detections):
    assert len(detections) == len(truth), detections
    for sign in truth:
        assert any(
            d["label"] == sign["label"] and box_iou(d["box"], sign["box"]) >= 0.5
            for d in detections
        ), (sign, detections)


def _ready(page):
    page.evaluate(RECORD_EVENTS_JS)
    page.wait_for_function("window.sitegen && window.sitegen.state === 'ready'")


def _events(page, source=None):
    events = page.evaluate("window.__events.map(e => e.detail)")
    return [e for e in events if source is None or e["source"] == source]


def _wait_events(page, source, count=1, timeout=30_000):
    page.wait_for_function(
        f"window.__events.filter(e => e.detail.source === '{source}').length >= {count}",
        timeout=timeout,
    )
    return _events(page, source)


def _set_range(page, selector, value):
    page.evaluate(
        """([selector, value]) => {
          const input = document.querySelector(selector);
          input.value = String(value);
          input.dispatchEvent(new Event('input', {bubbles: true}));
        }""",
        [selector, value],
    )


def _give_file(page, how: str, name: str, data: bytes, mime: str):
    """Drops `data` on the picture or pastes it, as a browser does with a file from the desktop."""
    page.evaluate(
        """([how, name, b64, mime]) => {
          const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
          const transfer = new DataTransfer();
          transfer.items.add(new File([bytes], name, {type: mime}));
          if (how === 'paste') {
            document.dispatchEvent(new ClipboardEvent('paste', {clipboardData: transfer, bubbles: true}));
          } else {
            const stage = document.getElementById('stage');
            stage.dispatchEvent(new DragEvent('dragover', {dataTransfer: transfer, bubbles: true, cancelable: true}));
            stage.dispatchEvent(new DragEvent('drop', {dataTransfer: transfer, bubbles: true, cancelable: true}));
          }
        }""",
        [how, name, base64.b64encode(data).decode(), mime],
    )


def test_video_upload_plays_with_boxes_and_pauses(browser, default_site, scene, scene_video):
    with served(default_site) as url:
        page, watcher = open_page(browser, url)
        _ready(page)
        page.set_input_files("#file", str(scene_video))
        events = _wait_events(page, "video", count=5)
        for event in events:
            assert (event["width"], event["height"]) == (640, 480)
            _assert_finds(scene["truth"], event["detections"])
        assert page.get_by_role("button", name="Pause video").is_visible()
        assert page.evaluate("window.sitegen.state") == "running"

        page.get_by_role("button", name="Pause video").click()
        page.wait_for_function("document.getElementById('video').paused")
        time.sleep(0.3)
        paused_at = len(_events(page, "video"))
        time.sleep(1.0)
        assert len(_events(page, "video")) == paused_at, "a paused video is not detected again"
        # A paused frame is detected again when a setting changes: everything above 0.95 only.
        _set_range(page, "#threshold", 0.95)
        page.wait_for_function(
            f"window.__events.filter(e => e.detail.source === 'video').length > {paused_at}"
        )
        last = _events(page, "video")[-1]
        assert all(d["score"] >= 0.95 for d in last["detections"])

        page.get_by_role("button", name="Play video").click()
        _wait_events(page, "video", count=paused_at + 4)
        watcher.assert_clean()
        page.context.close()


@pytest.mark.parametrize("how", ["drop", "paste"])
def test_dropped_or_pasted_image_is_detected(browser, default_site, scene, how):
    with served(default_site) as url:
        page, watcher = open_page(browser, url)
        _ready(page)
        _give_file(page, how, "scene.png", scene["path"].read_bytes(), "image/png")
        (event,) = _wait_events(page, "image")
        _assert_finds(scene["truth"], event["detections"])
        assert page.locator("#image").is_visible()
        counts = page.inner_text("#counts")
        for label in {t["label"] for t in scene["truth"]}:
            expected = sum(t["label"] == label for t in scene["truth"])
            assert f"{expected} {label}" in counts, counts
        watcher.assert_clean()
        page.context.close()


def test_threshold_and_max_change_the_detections(browser, default_site, scene):
    with served(default_site) as url:
        page, watcher = open_page(browser, page_url(url, threshold=0.05))
        _ready(page)
        page.set_input_files("#file", str(scene["path"]))
        (low,) = _wait_events(page, "image")
        assert len(low["detections"]) > len(scene["truth"]), "0.05 shows the doubtful ones too"
        _set_range(page, "#threshold", 0.5)
        high = _wait_events(page, "image", 2)[-1]
        assert {d["score"] for d in high["detections"]} == {
            d["score"] for d in low["detections"] if d["score"] >= 0.5
        }
        page.fill("#max-detections", "1")
        page.dispatch_event("#max-detections", "change")
        one = _wait_events(page, "image", 3)[-1]
        assert one["detections"] == high["detections"][:1]
        watcher.assert_clean()
        page.context.close()


def test_snapshot_is_the_picture_at_its_size_with_the_boxes(browser, default_site, scene):
    with served(default_site) as url:
        page, watcher = open_page(browser, url)
        _ready(page)
        page.set_input_files("#file", str(scene["path"]))
        (event,) = _wait_events(page, "image")
        with page.expect_download() as download:
            page.get_by_role("button", name="Save snapshot").click()
        saved = download.value
        assert saved.suggested_filename.endswith(".png")
        png = Image.open(io.BytesIO(Path(saved.path()).read_bytes()))
        watcher.assert_clean()
        page.context.close()
    assert png.format == "PNG" and png.size == (640, 480)
    shot = np.asarray(png.convert("RGB")).astype(int)
    original = np.asarray(scene["image"].convert("RGB")).astype(int)
    assert event["detections"]
    for d in event["detections"]:
        x0, y0 = round(d["box"]["x"] * 640), round(d["box"]["y"] * 480)
        x1 = round((d["box"]["x"] + d["box"]["width"]) * 640)
        y1 = round((d["box"]["y"] + d["box"]["height"]) * 480)
        ymid = (y0 + y1) // 2
        # The left and right edges carry the box's line (colour over a dark outline)...
        for x in (x0, x1):
            edge = shot[ymid - 5 : ymid + 5, max(0, x - 3) : x + 4]
            source = original[ymid - 5 : ymid + 5, max(0, x - 3) : x + 4]
            assert np.abs(edge - source).max() > 60, ("no box line", d, x)
        # ... and the picture inside the box is the picture.
        cx, cy = (x0 + x1) // 2, (y0 + ymid) // 2 + (y1 - y0) // 4
        assert (
            np.abs(
                shot[cy - 3 : cy + 3, cx - 3 : cx + 3] - original[cy - 3 : cy + 3, cx - 3 : cx + 3]
            ).max()
            <= 2
        )


# Chromium's fake camera says nothing about which way it faces; a phone's front camera says "user".
FRONT_CAMERA_JS = """
() => {
  const settings = MediaStreamTrack.prototype.getSettings;
  MediaStreamTrack.prototype.getSettings = function () {
    return {...settings.call(this), facingMode: 'user'};
  };
}
"""


def test_front_camera_is_mirrored_with_its_boxes(launch, default_site, sign_footage):
    with launch(camera=sign_footage) as browser, served(default_site) as url:
        context = browser.new_context(viewport={"width": 1280, "height": 800}, bypass_csp=True)
        context.grant_permissions(["camera"])
        context.add_init_script(script=f"({FRONT_CAMERA_JS})()")
        page = context.new_page()
        page.goto(page_url(url, autostart=True))
        page.evaluate(
            """() => {
              window.__drawn = [];
              addEventListener('sitegen:detections', (e) => {
                if (!e.detail.detections.length) return;
                window.__drawn.push({detail: e.detail, overlay: window.sitegen.overlay()});
              });
            }"""
        )
        page.wait_for_function("window.__drawn.length >= 5", timeout=60_000)
        drawn = page.evaluate("window.__drawn")
        transform = page.evaluate("getComputedStyle(document.getElementById('video')).transform")
        mirrored = page.evaluate("document.getElementById('stage').classList.contains('mirrored')")
        context.close()
    assert mirrored and transform.startswith("matrix(-1, 0, 0, 1"), transform
    for record in drawn:
        content = record["overlay"]["content"]
        boxes = record["overlay"]["boxes"]
        detections = record["detail"]["detections"]
        assert len(boxes) == len(detections)
        for d, box in zip(detections, boxes, strict=True):
            # The event keeps the camera's coordinates; the overlay draws them mirrored.
            expected_x = content["x"] + (1 - d["box"]["x"] - d["box"]["width"]) * content["width"]
            assert box["x"] == pytest.approx(expected_x, abs=1.5)
            assert box["y"] == pytest.approx(
                content["y"] + d["box"]["y"] * content["height"], abs=1.5
            )
            assert box["width"] == pytest.approx(d["box"]["width"] * content["width"], abs=1.5)


# Headless Chromium keeps every tab visible; the page learns of a hidden tab from these two.
SET_VISIBILITY_JS = """
(state) => {
  Object.defineProperty(document, 'visibilityState', {value: state, configurable: true});
  Object.defineProperty(document, 'hidden', {value: state === 'hidden', configurable: true});
  document.dispatchEvent(new Event('visibilitychange'));
}
"""


def test_hidden_tab_releases_the_camera_and_resumes(browser, default_site):
    with served(default_site) as url:
        page, watcher = open_page(browser, page_url(url, autostart=True))
        _ready_or_running = "window.sitegen && window.sitegen.state === 'running'"
        page.evaluate(RECORD_EVENTS_JS)
        page.wait_for_function(_ready_or_running, timeout=30_000)
        _wait_events(page, "camera", count=3)
        page.evaluate(
            "() => { window.__track = document.getElementById('video').srcObject.getVideoTracks()[0]; }"
        )
        page.evaluate(SET_VISIBILITY_JS, "hidden")
        time.sleep(0.3)
        hidden_at = len(_events(page, "camera"))
        time.sleep(1.5)
        assert len(_events(page, "camera")) == hidden_at, "no inference while hidden"
        assert page.evaluate("window.__track.readyState") == "ended", "the camera is released"
        assert "hidden" in page.inner_text("#status")

        page.evaluate(SET_VISIBILITY_JS, "visible")
        _wait_events(page, "camera", count=hidden_at + 3)
        assert page.evaluate("window.sitegen.state") == "running"
        watcher.assert_clean()
        page.context.close()


def test_settings_survive_a_reload_and_the_address_wins(browser, default_site):
    with served(default_site) as url:
        page, watcher = open_page(browser, url)
        _ready(page)
        _set_range(page, "#threshold", 0.8)
        page.fill("#max-detections", "3")
        page.dispatch_event("#max-detections", "change")
        page.get_by_label("Show labels on boxes").uncheck()
        page.reload()
        _ready(page)
        assert page.input_value("#threshold") == "0.8"
        assert page.inner_text("#threshold-value") == "0.80"
        assert page.input_value("#max-detections") == "3"
        assert not page.get_by_label("Show labels on boxes").is_checked()
        page.goto(page_url(url, threshold=0.3, max_detections=7))
        _ready(page)
        assert page.input_value("#threshold") == "0.3"
        assert page.input_value("#max-detections") == "7"
        stored = page.evaluate("JSON.stringify(Object.entries(localStorage))")
        watcher.assert_clean()
        page.context.close()
    ((key, value),) = json.loads(stored)
    assert key.startswith("sitegen:settings:/")
    assert json.loads(value)["threshold"] == 0.8


def _big_png(width: int, height: int) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (40, 90, 160)).save(buffer, "PNG")
    return buffer.getvalue()


BAD_FILES = {
    "broken.png": (b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8, "image/png", "cannot decode it"),
    "broken.webm": (bytes(range(256)) * 64, "video/webm", "cannot decode this video format"),
    "empty.jpg": (b"", "image/jpeg", "is empty (0 bytes)"),
    "notes.txt": (b"just text", "text/plain", "is not an image or a video"),
    "huge.png": (None, "image/png", "50 megapixels"),
}


def test_files_the_page_cannot_open_keep_the_picture(browser, default_site, scene):
    with served(default_site) as url:
        page, watcher = open_page(browser, url)
        _ready(page)
        page.set_input_files("#file", str(scene["path"]))
        _wait_events(page, "image")
        for name, (data, mime, message) in BAD_FILES.items():
            data = _big_png(8660, 5774) if data is None else data
            page.evaluate(
                "window.__errors = []; addEventListener('sitegen:error', (e) => window.__errors.push(e.detail.message))"
            )
            page.set_input_files("#file", files=[{"name": name, "mimeType": mime, "buffer": data}])
            page.wait_for_function("window.__errors.length > 0", timeout=30_000)
            shown = page.inner_text("#error")
            assert name in shown and message in shown, (name, shown)
            # What was on show stays on show, with its detections.
            assert page.evaluate("window.sitegen.state") == "ready"
            assert page.locator("#image").is_visible(), name
            assert page.locator("#detections li").count() == len(scene["truth"]), name
        watcher.assert_clean()
        page.context.close()
