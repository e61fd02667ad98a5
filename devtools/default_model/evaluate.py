"""Measure a detector on freshly generated scenes: COCO AP (pycocotools), false positives on
empty scenes, and native TensorFlow latency.

    python -m devtools.default_model evaluate models/default/saved_model --seed 12345
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

from devtools.default_model import scenes

DISPLAY_THRESHOLD = 0.5


def coco_metrics(gt_coco_json: Path, detections: list[dict]) -> dict[str, dict[str, float]]:
    """COCO AP@0.5 ("AP50") and AP@[.5:.95] ("AP") per class name and over "all" classes.

    ``detections`` are COCO result dicts: ``image_id``, ``category_id``, ``bbox`` [x, y, w, h]
    in pixels and ``score``. A class without ground truth reports -1, as pycocotools does."""
    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval

    with contextlib.redirect_stdout(io.StringIO()):  # pycocotools prints as it goes
        ground_truth = COCO(str(gt_coco_json))
        categories = {c["id"]: c["name"] for c in ground_truth.loadCats(ground_truth.getCatIds())}
        if not detections:
            return {
                name: {"AP50": 0.0 if _has_truth(ground_truth, ids) else -1.0,
                       "AP": 0.0 if _has_truth(ground_truth, ids) else -1.0}
                for name, ids in _category_groups(categories).items()
            }  # fmt: skip
        results = ground_truth.loadRes(detections)
        metrics = {}
        for name, ids in _category_groups(categories).items():
            evaluation = COCOeval(ground_truth, results, iouType="bbox")
            evaluation.params.catIds = ids
            evaluation.evaluate()
            evaluation.accumulate()
            evaluation.summarize()
            metrics[name] = {
                "AP50": float(evaluation.stats[1]),
                "AP": float(evaluation.stats[0]),
            }
    return metrics


def _category_groups(categories: dict[int, str]) -> dict[str, list[int]]:
    groups = {name: [cat_id] for cat_id, name in sorted(categories.items())}
    groups["all"] = sorted(categories)
    return groups


def _has_truth(ground_truth, category_ids: list[int]) -> bool:
    return bool(ground_truth.getAnnIds(catIds=category_ids))


def _load_detector(saved_model_dir: Path):
    import tensorflow as tf

    return tf.saved_model.load(str(saved_model_dir)).signatures["serving_default"]


def _detect(detector, pixels: np.ndarray) -> dict[str, np.ndarray]:
    import tensorflow as tf

    outputs = detector(input_tensor=tf.constant(pixels[None]))
    count = int(outputs["num_detections"][0])
    return {
        "boxes": outputs["detection_boxes"][0, :count].numpy(),
        "scores": outputs["detection_scores"][0, :count].numpy(),
        "classes": outputs["detection_classes"][0, :count].numpy().astype(int),
    }


def _coco_results(image_id: int, found: dict[str, np.ndarray], width: int, height: int):
    results = []
    for (ymin, xmin, ymax, xmax), score, class_id in zip(
        found["boxes"], found["scores"], found["classes"], strict=True
    ):
        results.append(
            {
                "image_id": image_id,
                "category_id": int(class_id),
                "bbox": [
                    float(xmin * width),
                    float(ymin * height),
                    float((xmax - xmin) * width),
                    float((ymax - ymin) * height),
                ],
                "score": float(score),
            }
        )
    return results


def _read_rgb(path: Path) -> np.ndarray:
    with Image.open(path) as image:
        return np.asarray(image.convert("RGB"))


def evaluate_saved_model(
    saved_model_dir: Path,
    *,
    seed: int,
    count: int = 200,
    latency_frames: int = 30,
) -> dict:
    """Generate ``count`` held-out scenes (and ``count`` empty ones) from ``seed``, run the
    SavedModel's ``serving_default`` on each and measure it."""
    detector = _load_detector(Path(saved_model_dir))
    with tempfile.TemporaryDirectory(prefix="sitegen-eval-") as tmp:
        held_out = scenes.write_image_set(Path(tmp) / "held_out", count=count, seed=seed)
        coco = json.loads((held_out / "annotations.coco.json").read_text())
        detections: list[dict] = []
        timings: list[float] = []
        for image in coco["images"]:
            pixels = _read_rgb(held_out / "images" / image["file_name"])
            started = time.perf_counter()
            found = _detect(detector, pixels)
            timings.append(time.perf_counter() - started)
            detections += _coco_results(image["id"], found, image["width"], image["height"])
        metrics = coco_metrics(held_out / "annotations.coco.json", detections)

        # A different stream of scenes for the empty set, still named by the same seed.
        empty_seed = int(np.random.SeedSequence([seed, 1]).generate_state(1)[0])
        empty_dir = scenes.write_image_set(
            Path(tmp) / "empty", count=count, seed=empty_seed, empty_fraction=1.0
        )
        false_positives = 0
        for path in sorted((empty_dir / "images").iterdir()):
            found = _detect(detector, _read_rgb(path))
            false_positives += int((found["scores"] >= DISPLAY_THRESHOLD).sum())
    # The first calls include tracing and warm-up: time the last frames only.
    steady = timings[-latency_frames:] if len(timings) > latency_frames else timings[1:] or timings
    return {
        "seed": seed,
        "images": count,
        "objects": len(coco["annotations"]),
        "metrics": metrics,
        "empty_frames": count,
        "empty_false_positives": false_positives,
        "empty_false_positives_per_frame": false_positives / max(count, 1),
        "latency_ms_median": 1000 * statistics.median(steady),
    }


def format_report(report: dict) -> str:
    lines = [
        f"held-out set: seed {report['seed']}, {report['images']} images, "
        f"{report['objects']} objects",
        f"{'class':<10} {'AP@0.5':>8} {'AP@[.5:.95]':>12}",
    ]
    for name, values in report["metrics"].items():
        lines.append(f"{name:<10} {values['AP50']:>8.3f} {values['AP']:>12.3f}")
    lines.append(
        f"empty scenes: {report['empty_false_positives']} detections >= {DISPLAY_THRESHOLD} "
        f"in {report['empty_frames']} frames "
        f"({report['empty_false_positives_per_frame'] * 20:.2f} per 20 frames)"
    )
    lines.append(f"native TF latency (640x480): {report['latency_ms_median']:.1f} ms median")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m devtools.default_model evaluate",
        description="COCO AP of a SavedModel detector on freshly generated scenes.",
    )
    parser.add_argument("saved_model", type=Path)
    parser.add_argument("--seed", type=int, default=12345)
    parser.add_argument("--count", type=int, default=200)
    parser.add_argument("--json", type=Path, help="also write the report here")
    args = parser.parse_args(argv)
    report = evaluate_saved_model(args.saved_model, seed=args.seed, count=args.count)
    print(format_report(report))
    if args.json:
        args.json.write_text(json.dumps(report, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
