"""``sitegen eval SITE_OR_MODEL --images DIR --annotations FILE_OR_DIR``: the COCO metrics of what is
deployed, the built page itself per backend, beside TensorFlow on the same pixels; for a model,
each ``--quantize`` variant is built and measured side by side."""

from __future__ import annotations

import json
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from sitegen.errors import EvalError
from sitegen.eval import metrics, page_run
from sitegen.eval.accuracy import (
    PageAccuracy,
    chromium,
    page_accuracy,
    site_labels,
    tensorflow_accuracy,
)
from sitegen.eval.ground_truth import GroundTruth, load_ground_truth
from sitegen.options import Quantize
from sitegen.progress import note


@dataclass(frozen=True)
class EvalOptions:
    target: Path  # a built site, or a model to build
    images: Path
    annotations: Path
    backends: tuple[str, ...] = ()  # empty: the page's own choice
    quantize: tuple[Quantize, ...] = ()  # for a model: one variant per value (default none)
    saved_model: Path | None = None  # TensorFlow's reference; default: the model the site came from
    report: Path | None = None
    json_path: Path | None = None
    calibration_images: Path | None = None  # the int8 variant's (build --calibration-images)

    def __post_init__(self) -> None:
        # A script may name a variant by its string ("int8"); the stages get the enum.
        object.__setattr__(self, "quantize", tuple(Quantize(q) for q in self.quantize))


@dataclass
class Variant:
    name: str  # "site", or the --quantize value
    site: Path
    rows: list[PageAccuracy] = field(default_factory=list)  # one per backend, then TensorFlow


def evaluate(options: EvalOptions) -> dict:
    if not options.target.exists():
        raise EvalError(f"{options.target} does not exist; pass a site built by sitegen or a model")
    truth = load_ground_truth(options.annotations, options.images)
    with tempfile.TemporaryDirectory(prefix="sitegen-eval-") as scratch:
        images = page_run.prepared_images(truth, Path(scratch))
        for problem in truth.problems:  # reported, and the image or box skipped
            note(f"  problem: {problem}")
        variants, saved_model = _variants(options, Path(scratch))
        browser = chromium()
        for variant in variants:
            _measure(variant, truth, images, options.backends, saved_model, browser)
        result = _result(truth, variants, saved_model)
        if options.report:
            from sitegen.eval.report import write_report

            write_report(options.report, result, truth, images)
    if options.json_path:
        options.json_path.write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    return result


def _variants(options: EvalOptions, scratch: Path) -> tuple[list[Variant], Path | None]:
    from sitegen.site import write

    marker = write.read_marker(options.target) if options.target.is_dir() else None
    if marker is not None and (options.target / "config.json").is_file():
        if options.quantize or options.calibration_images:
            raise EvalError(
                "--quantize (and --calibration-images) build variants of a model; pass the "
                "model, not a built site"
            )
        recorded = marker.get("build", {}).get("model")
        saved_model = (
            options.saved_model or _saved_model(Path(recorded), scratch)
            if recorded
            else options.saved_model
        )
        return [Variant("site", options.target)], saved_model
    return _built_variants(options, scratch), options.saved_model or _saved_model(
        options.target, scratch
    )


def _built_variants(options: EvalOptions, scratch: Path) -> list[Variant]:
    from sitegen.build import BuildOptions, build

    if options.calibration_images and Quantize.int8 not in options.quantize:
        raise EvalError("--calibration-images calibrates the int8 variant; add int8 to --quantize")
    variants = []
    for quantize in options.quantize or (Quantize.none,):
        out = scratch / f"site-{quantize}"
        note(f"Building the {quantize} variant of {options.target}")
        calibration = options.calibration_images if quantize is Quantize.int8 else None
        build(
            BuildOptions(
                model=options.target,
                out=out,
                quantize=quantize,
                calibration_images=calibration,
                verify=False,
            )
        )
        variants.append(Variant(quantize.value, out))
    return variants


def _saved_model(model: Path, scratch: Path) -> Path | None:
    """The SavedModel TensorFlow runs as the reference, when there is one and TensorFlow too."""
    import importlib.util

    from sitegen.model.source import locate

    if importlib.util.find_spec("tensorflow") is None or not model.exists():
        note("  reference  = none: no TensorFlow or no SavedModel; the page is measured alone")
        return None
    source = locate(model, scratch)
    return source.path if source.kind == "saved_model" else None


def _measure(variant, truth: GroundTruth, images, backends, saved_model, browser) -> None:
    labels = site_labels(variant.site, truth)
    for backend in backends or (None,):
        page = page_accuracy(
            variant.site,
            truth,
            backend,
            shown_as=variant.name,
            images=images,
            browser=browser,
            labels=labels,
            saved_model=saved_model,
        )
        variant.rows.append(page)
    if saved_model is not None:  # on the pixels the page fed its model (the same on every backend)
        variant.rows.append(tensorflow_accuracy(page, labels, truth))


def _result(truth: GroundTruth, variants: list[Variant], saved_model: Path | None) -> dict:
    return {
        "images": len(truth.coco["images"]),
        "boxes": len(truth.coco["annotations"]),
        "categories": truth.coco["categories"],
        "problems": truth.problems,
        "reference": str(saved_model) if saved_model else None,
        "variants": {v.name: [row.to_json() for row in v.rows] for v in variants},
    }


def summary_table(result: dict) -> str:
    """The COCO summary per variant and backend, then AP per class, then parity."""
    names = metrics.SUMMARY_NAMES
    header = f"{'variant':<9} {'what':<22} " + " ".join(f"{n:>9}" for n in names)
    lines = [f"{result['images']} images, {result['boxes']} boxes", header]
    for variant, rows in result["variants"].items():
        for row in rows:
            values = " ".join(f"{row['summary'][n]:>9.3f}" for n in names)
            lines.append(f"{variant:<9} {row['what']:<22} {values}")
    lines.append("AP@[.5:.95] / AP@.5 per class:")
    for variant, rows in result["variants"].items():
        for row in rows:
            per_class = ", ".join(
                f"{c} {v['AP']:.3f}/{v['AP50']:.3f}" for c, v in row["per_class"].items()
            )
            lines.append(f"  {variant:<9} {row['what']:<22} {per_class}")
    for variant, rows in result["variants"].items():
        for row in (r for r in rows if "parity" in r):
            p = row["parity"]
            lines.append(
                f"parity {variant}, {row['what']} vs TensorFlow: largest box difference "
                f"{p['largest_box_difference']:.2e}, score {p['largest_score_difference']:.2e}, "
                f"{len(p['images_that_differ'])} of {p['images']} images differ"
            )
    return "\n".join(lines)
