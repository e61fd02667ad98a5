"""Check the built page against TensorFlow, per backend, in headless Chromium.

TF.js backends do not all compute every op right (WASM returns nothing from the OD API's in-graph
post-processing, for one), so the build runs the staged site on a sample image with each backend
forced, runs the SavedModel on the exact pixels the page fed its model, and records which backends
agree. The page never picks a backend that disagreed.

Float backends must give TensorFlow's detections to 1e-3. A full-integer (``--quantize int8``)
.tflite cannot: its LiteRT.js backends are held to what a person sees instead (``compare_int8``):
the same confident detections, by class and IoU, with scores close. docs/int8.md explains it.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from sitegen.contract import DEFAULT_THRESHOLD, TIMED_BACKENDS, VERIFIED_BACKENDS, SiteConfig
from sitegen.resources import verify_image
from sitegen.site import page as page_client
from sitegen.site.browser import own_thread

TIMING_RUNS = 5
BOX_TOLERANCE = 1e-3
SCORE_TOLERANCE = 1e-3
TIE = 1e-6  # scores closer than float32 noise may trade places between implementations
# An int8 .tflite against float TensorFlow (compare_int8): a confident detection on either side
# must have a counterpart of the same class overlapping it this much, scoring this close; and the
# highest scores must be as close. On the embedded model over 60 scenes int8 moved confident
# scores by 0.016 at most and kept IoU >= 0.87 (docs/int8.md).
INT8_MIN_IOU = 0.5
INT8_SCORE_TOLERANCE = 0.1


@dataclass(frozen=True)
class BackendResult:
    backend: str
    agrees: bool | None  # None: could not run (the backend is unavailable in this browser)
    detail: str
    median_ms: float | None = None  # per frame, for TIMED_BACKENDS that ran


def backends_to_verify(available: tuple[str, ...]) -> tuple[str, ...]:
    """The backends of ``available`` the build can check in headless Chromium."""
    return tuple(b for b in VERIFIED_BACKENDS if b in available)


def summary_lines(results: list[BackendResult], available: tuple[str, ...]) -> list[str]:
    """The build summary's lines: each backend's verdict, then the page's order."""
    verdict = {True: "agrees", False: "DISAGREES (never auto-selected)", None: "skipped"}
    lines = [f"  {r.backend:<11} {verdict[r.agrees]}: {r.detail}" for r in results]
    return [*lines, f"  page order  {', '.join(backend_order(results, available))}"]


def with_results(config: SiteConfig, results: list[BackendResult]) -> SiteConfig:
    """``config`` with the verdicts, timings and the backend order they give."""
    return dataclasses.replace(
        config,
        verified_backends={r.backend: r.agrees for r in results},
        backend_timing={r.backend: round(r.median_ms, 1) for r in results if r.median_ms},
        backend_order=backend_order(results, config.model.backends),
    )


def backend_order(results: list[BackendResult], default: tuple[str, ...]) -> tuple[str, ...]:
    """The page's order: timed backends that agree, fastest first, then the rest as ``default``
    has them (the page skips those that disagreed)."""
    timed = sorted(
        (r for r in results if r.agrees and r.median_ms is not None and r.backend in default),
        key=lambda r: r.median_ms,
    )
    first = [r.backend for r in timed]
    return (*first, *(b for b in default if b not in first))


def verify_site(
    site: Path,
    saved_model: Path,
    image: Path,
    browser_path: str,
    backends: tuple[str, ...] = VERIFIED_BACKENDS,
    *,
    int8: tuple[str, ...] = (),
    threshold: float = DEFAULT_THRESHOLD,
) -> list[BackendResult]:
    """Each of ``backends`` checked against TensorFlow; those in ``int8`` (the LiteRT.js backends
    of a site whose .tflite is full-integer) by ``compare_int8`` at the site's ``threshold``."""
    from sitegen.model.families.odapi_ssd import serving_function

    function = serving_function(saved_model)
    return check_site(site, function, image, browser_path, backends, int8=int8, threshold=threshold)


def check_site(
    site: Path,
    function,
    image: Path,
    browser_path: str,
    backends: tuple[str, ...],
    *,
    int8: tuple[str, ...] = (),
    threshold: float = DEFAULT_THRESHOLD,
) -> list[BackendResult]:
    """``verify_site`` with TensorFlow's reference already loaded (``reference_for``),
    so that more than one site can be checked against it."""
    return _run_pages(site, image, browser_path, function, backends, int8, threshold)


@own_thread
def _run_pages(
    site: Path,
    image: Path,
    browser_path: str,
    function,
    backends: tuple[str, ...],
    int8: tuple[str, ...] = (),
    threshold: float = DEFAULT_THRESHOLD,
) -> list[BackendResult]:
    results = []
    with (
        page_client.served(site) as url,
        page_client.playwright_started() as playwright,
        page_client.launched(playwright, browser_path) as browser,
    ):
        for backend in backends:
            floor = threshold if backend in int8 else None
            results.append(_check_backend(browser, url, backend, image, function, floor))
    return results


def _check_backend(
    browser, url: str, backend: str, image: Path, function, int8_threshold: float | None = None
) -> BackendResult:
    """One backend's verdict: TensorFlow's detections to 1e-3, or with ``int8_threshold`` (an
    int8 .tflite) ``compare_int8``'s criterion at that threshold."""
    address = page_client.page_url(url, backend=backend, threshold=0)
    page, _ = page_client.open_page(browser, address, permissions=())
    try:
        state = page_client.wait_ready(page)
        if state != backend:
            why = _why_not_started(backend, state, page_client.backend_failures(page))
            return BackendResult(backend, None, f"could not run here: {why}")
        event = page_client.detect_image(page, image)
        timings = []
        if backend in TIMED_BACKENDS:
            timings = page_client.time_detector(page, TIMING_RUNS)
    finally:
        page.context.close()
    limit = len(event.detections) or 1
    with Image.open(image) as frame:
        frame_size = (frame.height, frame.width)
    expected = reference_detections(
        function, event.pixels, threshold=0.0, limit=limit, frame_size=frame_size
    )
    actual = event.detections
    if int8_threshold is None:
        problem = compare(actual, expected)
        agreed = f"{len(expected)} detections agree"
    else:
        problem, agreed = compare_int8(actual, expected, threshold=int8_threshold)
        agreed = f"int8 vs float TensorFlow: {agreed}"
    median = float(np.median(timings)) if timings else None
    detail = problem or agreed
    if median is not None:
        detail += f", {median:.0f} ms per frame"
    return BackendResult(backend, problem is None, detail, median)


def _why_not_started(backend: str, state: str, failures: list[str]) -> str:
    """The page's own reason (a TF.js op that failed names itself: "Error in conv2d: ..."), else
    what it ran instead."""
    mine = next((f for f in failures if f.startswith(f"{backend} (")), None)
    if mine is None:
        return state if state.startswith("error") else f"the page ran {state} instead"
    reason = mine[len(backend) + 2 : -1]
    # The page tells a visitor what to do as well; the build wants the runtime's own words.
    cause = re.search(r"could not run: (.*?)\.? The site's config\.json", reason)
    return cause.group(1).rstrip(".") if cause else reason


def reference_for(saved_model: Path, spec):
    """What a site's page is checked against: the SavedModel's serving function (SSD models
    post-process in their graph), or a ``YoloReference`` (Ultralytics' post-processing)."""
    from sitegen.model.families import family_for

    return family_for(spec.postprocess).function("reference")(saved_model, spec)


def reference_detections(
    function,
    pixels: np.ndarray,
    *,
    threshold: float,
    limit: int,
    frame_size: tuple[int, int] | None = None,
):
    """TensorFlow's detections for uint8 HxWx3 ``pixels`` (the page's input canvas), in the
    page's event format. A YOLO reference maps its boxes from the letterbox to the frame of
    ``frame_size`` (height, width); an SSD's input is the whole frame stretched."""
    import tensorflow as tf

    if hasattr(function, "detections"):
        size = frame_size or pixels.shape[:2]
        return function.detections(pixels, size, threshold=threshold, limit=limit)

    (key,) = function.structured_input_signature[1].keys()
    outputs = function(**{key: tf.constant(pixels[None], tf.uint8)})
    out = {k.split(":")[0]: v.numpy() for k, v in outputs.items()}
    found = []
    for i in range(int(out["num_detections"][0])):
        score = float(out["detection_scores"][0, i])
        if score >= threshold:
            ymin, xmin, ymax, xmax = (float(v) for v in out["detection_boxes"][0, i])
            found.append(
                {
                    "classId": int(out["detection_classes"][0, i]),
                    "score": score,
                    "box": {"x": xmin, "y": ymin, "width": xmax - xmin, "height": ymax - ymin},
                }
            )
    return found[:limit]


def compare(
    actual: list[dict],
    expected: list[dict],
    *,
    box_tol: float = BOX_TOLERANCE,
    score_tol: float = SCORE_TOLERANCE,
) -> str | None:
    """None when ``actual`` has the same detections in the same order as ``expected`` (near-equal
    scores may trade places); else what differs."""
    if len(actual) != len(expected):
        return f"{len(actual)} detections where TensorFlow has {len(expected)}"
    unused = list(range(len(actual)))
    for rank, want in enumerate(expected):
        if abs(actual[rank]["score"] - want["score"]) > score_tol:
            return (
                f"score {actual[rank]['score']:.5f} at rank {rank}, TensorFlow {want['score']:.5f}"
            )
        candidates = [
            i for i in unused if i == rank or abs(actual[i]["score"] - want["score"]) <= TIE
        ]
        match = next((i for i in candidates if _same(actual[i], want, box_tol)), None)
        if match is None:
            return f"rank {rank}: page {actual[rank]}, TensorFlow {want}"
        unused.remove(match)
    return None


def compare_int8(
    actual: list[dict],
    expected: list[dict],
    *,
    threshold: float = DEFAULT_THRESHOLD,
    min_iou: float = INT8_MIN_IOU,
    score_tol: float = INT8_SCORE_TOLERANCE,
) -> tuple[str | None, str]:
    """An int8 model's detections (``actual``) against float TensorFlow's (``expected``), both
    best first at threshold 0: (what differs or None, what was compared). They agree when

    - every detection scoring at least ``threshold`` (the site's) on either side has a detection
      of the same class on the other side with IoU >= ``min_iou`` and a score within
      ``score_tol`` (one to one, best overlap first), and
    - the highest scores agree within ``score_tol`` (so that where neither finds anything
      confident, the int8 model must still score like TensorFlow; a broken one scores 0).

    Quantization moves boxes by a few pixels and scores by a few hundredths; this is what a person
    sees, not bit-exactness."""
    pairs = []
    for side, mine, theirs in (("TensorFlow", expected, actual), ("page", actual, expected)):
        unused = list(range(len(theirs)))
        for want in (d for d in mine if d["score"] >= threshold):
            scored = [
                (box_iou(want["box"], theirs[i]["box"]), i)
                for i in unused
                if theirs[i]["classId"] == want["classId"]
                and abs(theirs[i]["score"] - want["score"]) <= score_tol
            ]
            best_iou, best = max(scored, default=(0.0, None))
            if best is None or best_iou < min_iou:
                other = "page" if side == "TensorFlow" else "TensorFlow"
                return (
                    f"{side}'s class {want['classId']} at {want['score']:.3f} has no {other} "
                    f"detection of that class with IoU >= {min_iou:g} scoring within "
                    f"{score_tol:g} (best IoU {best_iou:.2f})",
                    "",
                )
            unused.remove(best)
            pairs.append((best_iou, abs(theirs[best]["score"] - want["score"])))
    highest = [found[0]["score"] if found else 0.0 for found in (actual, expected)]
    top_diff = abs(highest[0] - highest[1])
    if top_diff > score_tol:
        return (
            f"the highest score is {highest[0]:.3f}, TensorFlow's {highest[1]:.3f} "
            f"(> {score_tol:g} apart)",
            "",
        )
    if pairs:
        counts = [sum(1 for d in found if d["score"] >= threshold) for found in (expected, actual)]
        worst_iou = min(iou for iou, _ in pairs)
        worst_score = max(diff for _, diff in pairs)
        matched = (
            f"{counts[0]} TensorFlow and {counts[1]} page detections >= {threshold:g} matched "
            f"by class, IoU >= {worst_iou:.2f}, scores within {worst_score:.3f}"
        )
    else:
        matched = f"no detection >= {threshold:g} on either side"
    return None, (
        f"{matched}; highest scores {top_diff:.3f} apart (criterion: same class, IoU >= "
        f"{min_iou:g}, scores within {score_tol:g})"
    )


def box_iou(a: dict, b: dict) -> float:
    """Intersection over union of two page-format boxes (x, y, width, height)."""
    width = min(a["x"] + a["width"], b["x"] + b["width"]) - max(a["x"], b["x"])
    height = min(a["y"] + a["height"], b["y"] + b["height"]) - max(a["y"], b["y"])
    inter = max(0.0, width) * max(0.0, height)
    union = a["width"] * a["height"] + b["width"] * b["height"] - inter
    return inter / union if union > 0 else 0.0


def _same(got: dict, want: dict, box_tol: float) -> bool:
    return got["classId"] == want["classId"] and all(
        abs(a - b) <= box_tol
        for a, b in zip(_extent(got["box"]), _extent(want["box"]), strict=True)
    )


def _extent(box: dict) -> tuple[float, float, float, float]:
    """A box's region as (left, top, right, bottom). A degenerate box with a negative width or
    height (Ultralytics' xywh2xyxy and clip_boxes keep a negative predicted width as x1 > x2)
    is the same region as its corners swapped, which is how a page may report it."""
    left, right = sorted((box["x"], box["x"] + box["width"]))
    top, bottom = sorted((box["y"], box["y"] + box["height"]))
    return left, top, right, bottom


def sample_image() -> Path:
    """A committed scene with two signs: something for every backend to find."""
    return verify_image()
