"""Run a built site's own page over images in headless Chromium, one backend at a time, and
TensorFlow on the exact pixels the page fed its model. Both give COCO results in image pixels."""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from sitegen.errors import EvalError
from sitegen.eval.ground_truth import GroundTruth
from sitegen.site import verify
from sitegen.site.browser import CHROMIUM_ARGS, own_thread
from sitegen.site.serve import serve_in_thread

MAX_DETECTIONS = 100  # COCO's AR@100 counts up to 100 per image
_READY_JS = "() => window.sitegen.ready.then(() => window.sitegen.backend, (e) => 'error: ' + e)"


@dataclass
class PageRun:
    backend: str  # what the page ran on
    detections: dict[int, list[dict]] = field(
        default_factory=dict
    )  # image id -> page events' boxes
    pixels: dict[int, np.ndarray] = field(default_factory=dict)  # image id -> what the model saw
    sizes: dict[int, tuple[int, int]] = field(default_factory=dict)  # image id -> (width, height)


def prepared_images(truth: GroundTruth, folder: Path) -> dict[int, Path]:
    """Each image decoded as the page shows it (EXIF orientation applied; RGB), saved as PNG, so
    grayscale, RGBA, palette and rotated camera JPEGs all reach the model upright in RGB."""
    from PIL import Image, ImageOps, UnidentifiedImageError

    prepared = {}
    for image_id, path in truth.paths.items():
        try:
            with Image.open(path) as image:
                upright = ImageOps.exif_transpose(image).convert("RGB")
        except (OSError, UnidentifiedImageError) as exc:
            truth.problems.append(f"{path.name}: cannot be decoded ({exc}); skipped")
            continue
        target = folder / f"{image_id}.png"
        upright.save(target)
        prepared[image_id] = target
    if not prepared:
        raise EvalError("none of the images could be decoded; pass JPEG or PNG images")
    return prepared


@own_thread
def run_page(
    site: Path, images: dict[int, Path], backend: str | None, browser_path: str, progress
) -> PageRun:
    from playwright.sync_api import sync_playwright

    server, url = serve_in_thread(site)
    query = f"?threshold=0&max={MAX_DETECTIONS}&tune=off" + (
        f"&backend={backend}" if backend else ""
    )
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=browser_path, headless=True, args=CHROMIUM_ARGS
            )
            try:
                page = browser.new_context().new_page()
                page.goto(url + query)
                state = page.evaluate(
                    "() => window.sitegen.ready.then(() => window.sitegen.backend, (e) => 'error: ' + e)"
                )
                if state.startswith("error") or (backend and state != backend):
                    raise EvalError(
                        f"the page cannot run on {backend or 'any backend'} here ({state})"
                    )
                run = PageRun(state)
                for image_id, path in images.items():
                    _one_image(page, path, image_id, run)
                    progress()
            finally:
                browser.close()
    finally:
        server.shutdown()
        server.server_close()
    return run


def _one_image(page, path: Path, image_id: int, run: PageRun) -> None:
    page.evaluate(f"() => {{ window.__sitegenEval = ({verify.FIRST_IMAGE_EVENT_JS})(); }}")
    page.set_input_files("input[type=file]", str(path))
    event = page.evaluate("window.__sitegenEval")
    detail = event["detail"]
    pixels = np.frombuffer(base64.b64decode(event["rgb"]), np.uint8)
    run.pixels[image_id] = pixels.reshape(event["height"], event["width"], 3)
    run.sizes[image_id] = (detail["width"], detail["height"])
    run.detections[image_id] = detail["detections"]


def tensorflow_detections(saved_model: Path, run: PageRun, spec) -> dict[int, list[dict]]:
    """The SavedModel on the pixels the page fed its model for each image (an SSD's own graph
    resizes them as the page's input size requires; a YOLO reference maps its boxes from the
    letterbox to each image), for the site's ``spec`` (its ModelSpec)."""
    function = verify.reference_for(saved_model, spec)
    return {
        image_id: verify.reference_detections(
            function,
            pixels,
            threshold=0.0,
            limit=MAX_DETECTIONS,
            frame_size=(run.sizes[image_id][1], run.sizes[image_id][0]),
        )
        for image_id, pixels in run.pixels.items()
    }


def as_coco_results(
    detections: dict[int, list[dict]], sizes, labels: dict[int, str], categories: dict[str, int]
):
    """Page-event detections (normalised boxes, class ids) as COCO results in image pixels, with
    the model's labels mapped to the annotations' categories by name."""
    results = []
    for image_id, found in detections.items():
        width, height = sizes[image_id]
        for detection in found:
            category = categories.get(labels.get(detection["classId"], ""))
            if category is None:
                continue  # a class the annotations do not have
            box = detection["box"]
            results.append({
                "image_id": image_id, "category_id": category, "score": float(detection["score"]),
                "bbox": [box["x"] * width, box["y"] * height, box["width"] * width, box["height"] * height],
            })  # fmt: skip
    return results
