"""Helpers for browser tests on top of the page client (``sitegen.site.page``): open a page that
records its events and errors, compare its detections with TensorFlow's."""

from __future__ import annotations

import base64
import functools
from pathlib import Path

import numpy as np

from sitegen.model.families.odapi_ssd import serving_function
from sitegen.site import page as page_client
from sitegen.site import verify
from sitegen.site.page import PageQuery, PageWatcher, page_url, served  # noqa: F401 (the tests' API)

# The contexts the running test opened, and whether to trace them: tests/browser/conftest.py's
# failure_artifacts keeps a trace and a screenshot of each when the test fails.
OPENED: list = []
TRACING = False


def open_page(browser, url: str, *, bypass_csp: bool = True, **options):
    """The page client's ``open_page``, by default with the page's CSP bypassed: these tests wait
    with Playwright's ``wait_for_function``, which compiles a string in the page (the CSP forbids
    it, as it should); test_page_runs_under_its_own_content_security_policy keeps it."""
    page, watcher = page_client.open_page(browser, url, bypass_csp=bypass_csp, **options)
    OPENED.append(page.context)
    if TRACING:
        page.context.tracing.start(screenshots=True, snapshots=True)
    return page, watcher


# Installs a listener that, for each detections event, copies the exact pixels the model saw
# (the page's input canvas, drawn before inference and untouched until the event is dispatched).
RECORD_EVENTS_JS = """
() => {
  window.__events = [];
  window.addEventListener('sitegen:detections', (event) => {
    const canvas = window.sitegen.inputCanvas;
    const ctx = canvas.getContext('2d', {willReadFrequently: true});
    const pixels = ctx.getImageData(0, 0, canvas.width, canvas.height).data;
    let rgb = '';
    for (let i = 0; i < pixels.length; i += 4) {
      rgb += String.fromCharCode(pixels[i], pixels[i + 1], pixels[i + 2]);
    }
    window.__events.push({detail: event.detail, input: {width: canvas.width,
      height: canvas.height, rgb: btoa(rgb)}});
  });
}
"""


# Loading a SavedModel takes seconds; tests compare several pages against the same one.
_serving_function = functools.lru_cache(maxsize=4)(serving_function)


def reference_outputs(saved_model: Path, image: np.ndarray) -> dict[str, np.ndarray]:
    """TensorFlow's outputs for one uint8 HxWx3 image, keyed by signature name."""
    import tensorflow as tf

    function = _serving_function(saved_model)
    (key,) = function.structured_input_signature[1].keys()
    outputs = function(**{key: tf.constant(image[None], tf.uint8)})
    return {k.split(":")[0]: v.numpy() for k, v in outputs.items()}


def detections_in_page(browser, site: Path, image: Path, query: PageQuery) -> list[dict]:
    with served(site) as url:
        page, watcher = open_page(browser, page_url(url, query))
        page.evaluate(RECORD_EVENTS_JS)
        page.wait_for_function("window.sitegen && window.sitegen.state !== 'loading'")
        assert page.evaluate("window.sitegen.state") != "error", page.inner_text("#error")
        page.set_input_files("input[type=file]", str(image))
        page.wait_for_function("window.__events.some(e => e.detail.source === 'image')")
        events = page.evaluate("window.__events.filter(e => e.detail.source === 'image')")
        watcher.assert_clean()
        page.context.close()
    return events


def expected_from_tensorflow(saved_model: Path, event: dict, threshold: float, limit: int):
    """TensorFlow's detections on the exact pixels the page fed its model for ``event``."""
    input_ = event["input"]
    rgb = np.frombuffer(base64.b64decode(input_["rgb"]), np.uint8)
    pixels = rgb.reshape(input_["height"], input_["width"], 3)
    function = _serving_function(saved_model)
    return verify.reference_detections(function, pixels, threshold=threshold, limit=limit)


def assert_same_detections(
    actual: list[dict], expected: list[dict], *, box_tol: float = 1e-3, score_tol: float = 1e-3
) -> None:
    """Same detections in the same order (the build's own check, sitegen.verify.compare)."""
    assert len(expected) > 0, "the reference found nothing: the comparison would prove nothing"
    problem = verify.compare(actual, expected, box_tol=box_tol, score_tol=score_tol)
    assert problem is None, problem


def two_sign_scene(seed: int = 31):
    """A generated 640x480 photo with both signs, each at least 64 px, and its truth: one
    ``{"label", "box": {x, y, width, height}}`` per sign, normalised as the page's events are.
    The picture several browser tests upload."""
    from devtools.default_model import scenes

    rng = np.random.default_rng(seed)
    while True:
        image, boxes = scenes.render_scene(rng, 640, 480, max_objects=3)
        big = all(b.xmax - b.xmin >= 64 and b.ymax - b.ymin >= 64 for b in boxes)
        if len(boxes) >= 2 and {b.class_id for b in boxes} == {1, 2} and big:
            break
    truth = [
        {
            "label": scenes.CLASSES[b.class_id],
            "box": {
                "x": b.xmin / 640,
                "y": b.ymin / 480,
                "width": (b.xmax - b.xmin) / 640,
                "height": (b.ymax - b.ymin) / 480,
            },
        }
        for b in boxes
    ]
    return image, truth
