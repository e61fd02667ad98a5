"""The built default site, fed by Chromium's fake camera with generated footage, finds the signs
where the footage's ground truth says they are.

Every footage frame carries its index as a visual code in its top-left corner; a listener reads it
from the page's input canvas (the exact pixels the model saw) when each detections event fires, so
each event is matched with the right ground-truth frame even though the camera loops on its own
clock.
"""

from __future__ import annotations

import base64
import json

import numpy as np
import pytest

from devtools.default_model import scenes
from sitegen.site.page import PageQuery, page_url
from tests.helpers.browser import open_page, served

pytestmark = pytest.mark.tensorflow

SAMPLED_EVENTS = 40
MIN_VISIBLE = 0.8  # signs mostly out of frame or occluded are not required (nor penalised)
IOU_MATCH = 0.5

# Copies only the band with the frame code, to keep 40 events cheap.
RECORD_CODES_JS = """
() => {
  window.__events = [];
  window.addEventListener('sitegen:detections', (event) => {
    const canvas = window.sitegen.inputCanvas;
    const band = Math.ceil(canvas.height * 24 / 480);
    const ctx = canvas.getContext('2d', {willReadFrequently: true});
    const pixels = ctx.getImageData(0, 0, canvas.width, band).data;
    let rgb = '';
    for (let i = 0; i < pixels.length; i += 4) {
      rgb += String.fromCharCode(pixels[i], pixels[i + 1], pixels[i + 2]);
    }
    window.__events.push({detail: event.detail, width: canvas.width, height: canvas.height,
      band, rgb: btoa(rgb)});
  });
}
"""


@pytest.fixture(scope="module")
def moving_footage(tmp_path_factory):
    folder = tmp_path_factory.mktemp("footage")
    truth = scenes.write_footage(folder / "moving.y4m", seed=2024, frames=90)
    return folder / "moving.y4m", json.loads(truth.read_text())


@pytest.fixture(scope="module")
def empty_footage(tmp_path_factory):
    folder = tmp_path_factory.mktemp("empty")
    truth = scenes.write_footage(folder / "empty.y4m", seed=7, frames=60, empty=True)
    return folder / "empty.y4m", json.loads(truth.read_text())


def camera_events(
    launch, site, footage, *, query=PageQuery(autostart=True), count=SAMPLED_EVENTS, prefix="/"
):
    with launch(camera=footage) as browser, served(site, prefix=prefix) as url:
        page, watcher = open_page(browser, page_url(url, query))
        page.evaluate(RECORD_CODES_JS)
        page.wait_for_function(f"window.__events.length >= {count}", timeout=120_000)
        events = page.evaluate("window.__events")
        listed = page.locator("#detections li").all_inner_texts()
        watcher.assert_clean()
        assert not watcher.foreign_requests(url), watcher.foreign_requests(url)
        page.context.close()
    return events, listed


def frame_index(event: dict) -> int:
    band = np.frombuffer(base64.b64decode(event["rgb"]), np.uint8)
    frame = np.zeros((event["height"], event["width"], 3), np.uint8)
    frame[: event["band"]] = band.reshape(event["band"], event["width"], 3)
    return scenes.decode_frame_code(frame)


def iou(a: dict, b: dict) -> float:
    ax1, ay1, ax2, ay2 = a["x"], a["y"], a["x"] + a["width"], a["y"] + a["height"]
    bx1, by1, bx2, by2 = b["x"], b["y"], b["x"] + b["width"], b["y"] + b["height"]
    inter = max(0.0, min(ax2, bx2) - max(ax1, bx1)) * max(0.0, min(ay2, by2) - max(ay1, by1))
    union = a["width"] * a["height"] + b["width"] * b["height"] - inter
    return inter / union if union > 0 else 0.0


def frame_result(event: dict, truth: dict) -> tuple[bool, str]:
    """(every clearly visible sign found with the right label, and nothing else found)."""
    index = frame_index(event)
    assert 0 <= index < len(truth["frames"]), f"decoded frame code {index} is out of range"
    width, height = truth["width"], truth["height"]
    boxes = [
        {
            **b,
            "box": {
                "x": b["x"] / width,
                "y": b["y"] / height,
                "width": b["width"] / width,
                "height": b["height"] / height,
            },
        }
        for b in truth["frames"][index]["boxes"]
    ]
    detections = event["detail"]["detections"]
    unmatched = list(range(len(detections)))
    for sign in boxes:
        match = next(
            (
                i
                for i in unmatched
                if detections[i]["label"] == sign["label"]
                and iou(detections[i]["box"], sign["box"]) >= IOU_MATCH
            ),
            None,
        )
        if match is not None:
            unmatched.remove(match)
        elif sign.get("visibleFraction", 1.0) >= MIN_VISIBLE:
            return False, f"frame {index}: missed {sign['label']} at {sign['box']}"
    # A detection of a partly visible sign (entering, leaving, occluded) is not a false positive.
    extra = [
        detections[i]
        for i in unmatched
        if not any(iou(detections[i]["box"], s["box"]) >= 0.3 for s in boxes)
    ]
    if extra:
        return False, f"frame {index}: unexpected {extra}"
    return True, ""


def test_moving_signs_are_found_where_the_ground_truth_says(launch, default_site, moving_footage):
    footage, truth = moving_footage
    events, listed = camera_events(
        launch, default_site, footage, query=PageQuery(autostart=True, backend="wasm")
    )
    assert all(e["detail"]["source"] == "camera" for e in events)
    assert all((e["detail"]["width"], e["detail"]["height"]) == (640, 480) for e in events)
    results = [frame_result(e, truth) for e in events]
    passed = sum(ok for ok, _ in results)
    frames_with_signs = sum(1 for e in events if truth["frames"][frame_index(e)]["boxes"])
    assert frames_with_signs >= len(events) // 3, "the sample saw too few signs to prove anything"
    failures = [why for ok, why in results if not ok]
    assert passed >= 0.9 * len(events), failures
    # The list mirrors the last event; every entry names a known label.
    assert all(text.split()[0] in ("kangaroo", "stop") for text in listed)


def test_empty_footage_finds_nothing(launch, default_site, empty_footage):
    footage, _ = empty_footage
    events, listed = camera_events(launch, default_site, footage, count=30)
    found = [e["detail"]["detections"] for e in events if e["detail"]["detections"]]
    assert len(found) <= 1, found  # fewer than 1 false positive per 20 frames
    assert events[-1]["detail"]["detections"] or listed == []


def test_works_under_a_github_pages_sub_path(launch, default_site, moving_footage):
    footage, truth = moving_footage
    events, _ = camera_events(
        launch, default_site, footage, count=10, prefix="/repo/", query=PageQuery(autostart=True)
    )
    assert sum(frame_result(e, truth)[0] for e in events) >= 8
