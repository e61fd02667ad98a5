"""Run a built site's own page over images in headless Chromium, one backend at a time, and
TensorFlow on the exact pixels the page fed its model. Both give COCO results in image pixels."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from sitegen.errors import EvalError
from sitegen.eval.ground_truth import GroundTruth
from sitegen.site import page as page_client
from sitegen.site import verify
from sitegen.site.browser import own_thread

MAX_DETECTIONS = 100  # COCO's AR@100 counts up to 100 per image


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
    query = page_client.PageQuery(
        backend=backend, threshold=0, max_detections=MAX_DETECTIONS, tune="off"
    )
    with (
        page_client.served(site) as url,
        page_client.playwright_started() as playwright,
        page_client.launched(playwright, browser_path) as browser,
    ):
        page, _ = page_client.open_page(browser, page_client.page_url(url, query), permissions=())
        state = page_client.wait_ready(page)
        if state.startswith("error") or (backend and state != backend):
            raise EvalError(f"the page cannot run on {backend or 'any backend'} here ({state})")
        run = PageRun(state)
        for image_id, path in images.items():
            _one_image(page, path, image_id, run)
            progress()
    return run


def _one_image(page, path: Path, image_id: int, run: PageRun) -> None:
    event = page_client.detect_image(page, path)
    run.pixels[image_id] = event.pixels
    run.sizes[image_id] = event.frame_size
    run.detections[image_id] = event.detections


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
