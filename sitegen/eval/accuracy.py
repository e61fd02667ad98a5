"""The accuracy of a built site's own page on annotated images, as typed results: what
``sitegen eval`` tabulates per backend and ``sitegen build --min-ap`` (and ``--quantize int8``'s
accuracy lines) judges. ``to_json`` gives the rows ``sitegen eval --json`` writes."""

from __future__ import annotations

import dataclasses
import json
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from sitegen.contract import ModelSpec
from sitegen.errors import EvalError, MissingDependencyError
from sitegen.eval import metrics, page_run
from sitegen.eval.ground_truth import GroundTruth
from sitegen.eval.parity import parity
from sitegen.progress import counted_stage, note


@dataclass(frozen=True)
class CocoSummary:
    """pycocotools' twelve summary numbers, in its order (``metrics.SUMMARY_NAMES``); -1 where
    there is nothing to measure, as pycocotools says it."""

    AP: float
    AP50: float
    AP75: float
    AP_small: float
    AP_medium: float
    AP_large: float
    AR1: float
    AR10: float
    AR100: float
    AR_small: float
    AR_medium: float
    AR_large: float


@dataclass(frozen=True)
class ClassAccuracy:
    AP: float
    AP50: float


@dataclass(frozen=True)
class ReferenceRun:
    """TensorFlow's detections on the pixels the page fed its model, per image id, and each
    image's (width, height): TensorFlow's accuracy and the page's parity come from them."""

    detections: dict[int, list[dict]]
    sizes: dict[int, tuple[int, int]]


@dataclass(frozen=True)
class PageAccuracy:
    """The COCO metrics of one run over the annotated images: the page on a backend, or
    TensorFlow on the same pixels."""

    what: str  # "page, <backend it ran on>" or "TensorFlow": how the tables name the row
    backend: str | None  # None: TensorFlow
    summary: CocoSummary
    per_class: dict[str, ClassAccuracy]
    detections: list[dict]  # the COCO results scored (the report draws them)
    parity: dict | None = None  # against TensorFlow on the same pixels (eval.parity), if run
    reference: ReferenceRun | None = field(default=None, repr=False, compare=False)

    def to_json(self) -> dict:
        row = {
            "what": self.what,
            "summary": dataclasses.asdict(self.summary),
            "per_class": {name: dataclasses.asdict(c) for name, c in self.per_class.items()},
            "detections": self.detections,
        }
        return row if self.parity is None else {**row, "parity": self.parity}


def page_accuracy(
    site: Path,
    truth: GroundTruth,
    backend: str | None = None,
    *,
    shown_as: str = "site",
    images: dict[int, Path] | None = None,
    browser: str | None = None,
    labels: dict[int, str] | None = None,
    saved_model: Path | None = None,
) -> PageAccuracy:
    """The COCO metrics of ``site``'s page on ``backend`` (None: the page's own choice) over
    ``truth``'s images. A measurement of several pages passes what they share: the ``images`` as
    ``page_run.prepared_images`` wrote them, the ``browser``, the site's ``labels`` (from
    ``site_labels``); alone, each is made here. With a ``saved_model``, TensorFlow runs on the
    pixels the page fed its model: the result's ``parity`` and ``reference``. ``shown_as`` names
    the site in the progress line ("site", or eval's --quantize variant)."""
    if images is None:  # measured alone: the images are prepared for it, in scratch
        with tempfile.TemporaryDirectory(prefix="sitegen-eval-") as scratch:
            images = page_run.prepared_images(truth, Path(scratch))
            browser = browser or chromium()
            return page_accuracy(
                site,
                truth,
                backend,
                shown_as=shown_as,
                images=images,
                browser=browser,
                labels=labels,
                saved_model=saved_model,
            )
    labels = site_labels(site, truth) if labels is None else labels
    running = f"{shown_as}, {backend or 'automatic'}"
    with counted_stage(
        f"Running the page ({running}) on {len(images)} images", len(images)
    ) as tick:
        run = page_run.run_page(site, images, backend, browser or chromium(), tick)
    page = scored(f"page, {run.backend}", run.backend, run.detections, run.sizes, labels, truth)
    if saved_model is None:
        return page
    spec = ModelSpec.from_json(_config(site)["model"])
    reference = page_run.tensorflow_detections(saved_model, run, spec)
    return dataclasses.replace(
        page,
        parity=parity(run.detections, reference),
        reference=ReferenceRun(reference, run.sizes),
    )


def tensorflow_accuracy(
    page: PageAccuracy, labels: dict[int, str], truth: GroundTruth
) -> PageAccuracy:
    """TensorFlow's COCO metrics on the pixels ``page`` fed its model (measured with a
    ``saved_model``)."""
    if page.reference is None:
        raise ValueError("the page was measured without TensorFlow's reference")
    run = page.reference
    return scored("TensorFlow", None, run.detections, run.sizes, labels, truth)


def scored(
    what: str,
    backend: str | None,
    detections: dict[int, list[dict]],
    sizes: dict[int, tuple[int, int]],
    labels: dict[int, str],
    truth: GroundTruth,
) -> PageAccuracy:
    """Page-event detections per image id scored against ``truth`` by pycocotools."""
    results = page_run.as_coco_results(detections, sizes, labels, truth.categories)
    coco = metrics.coco_summary(truth.coco, results)
    return PageAccuracy(
        what=what,
        backend=backend,
        summary=CocoSummary(**coco["summary"]),
        per_class={name: ClassAccuracy(**c) for name, c in coco["per_class"].items()},
        detections=results,
    )


def site_labels(site: Path, truth: GroundTruth) -> dict[int, str]:
    """The site's labels, checked against the annotations' classes: detections are matched to
    them by name, so none in common would score 0."""
    labels = {int(k): v for k, v in _config(site)["labels"].items()}
    known = set(truth.categories)
    shared = sorted(set(labels.values()) & known)
    if not shared:
        raise EvalError(
            f"none of the model's labels ({', '.join(sorted(set(labels.values())))}) is a class of "
            f"the annotations ({', '.join(sorted(known))}); build the site with --labels naming "
            "the annotations' classes"
        )
    ignored = sorted(set(labels.values()) - known)
    if ignored:
        note(
            f"  labels     = {', '.join(ignored)} not in the annotations: their detections are ignored"
        )
    return labels


def chromium() -> str:
    """The Chromium the page runs in; measuring needs one."""
    from sitegen.site.browser import find_browser

    path = find_browser()
    if path is None:
        raise MissingDependencyError("sitegen eval needs Chromium; run: apt-get install chromium")
    return path


def _config(site: Path) -> dict:
    return json.loads((site / "config.json").read_text(encoding="utf-8"))
