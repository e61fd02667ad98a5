"""``sitegen eval --report DIR``: a static HTML report with no external requests: the tables, a
precision-recall curve per class (generated SVG), and the images with predicted and ground-truth
boxes, worst first (most missed plus false boxes at IoU 0.5)."""

from __future__ import annotations

from pathlib import Path

from sitegen.eval import metrics
from sitegen.eval.ground_truth import GroundTruth
from sitegen.site import write
from sitegen.site.render import environment

GALLERY_LIMIT = 60
THUMBNAIL = 480
SHOWN_SCORE = 0.5  # boxes drawn in the gallery: what the page shows at its default threshold


def write_report(out: Path, result: dict, truth: GroundTruth, images: dict[int, Path]) -> None:
    write.check_output(out, force=False, option="--report", source="images")
    staging = write.staging_folder(out)
    try:
        (staging / "images").mkdir()
        variant, rows = next(iter(result["variants"].items()))
        best = rows[0]
        gallery = _gallery(truth, best["detections"], images, staging / "images")
        page = (
            environment()
            .get_template("eval_report.html")
            .render(
                result=result,
                names=metrics.SUMMARY_NAMES,
                curves=_curves(truth, rows),
                gallery=gallery,
                gallery_of=f"{variant}, {best['what']}",
                shown_score=SHOWN_SCORE,
            )
        )
        (staging / "index.html").write_text(page, encoding="utf-8")
        write.publish(staging, out, {"report": "sitegen eval"})
    except BaseException:
        write.discard(staging)
        raise


def _curves(truth: GroundTruth, rows: list[dict]) -> list[dict]:
    """One SVG polyline per class and row, in a 0..1 square (y grows down in SVG)."""
    curves = []
    for category in truth.coco["categories"]:
        lines = []
        for row in rows:
            recall, precision = metrics.precision_recall(
                truth.coco, row["detections"], category["id"]
            )
            points = " ".join(
                f"{r * 100:.1f},{(1 - p) * 100:.1f}" for r, p in zip(recall, precision, strict=True)
            )
            lines.append({"what": row["what"], "points": points})
        curves.append({"name": category["name"], "lines": lines})
    return curves


def _gallery(truth: GroundTruth, detections: list[dict], images: dict[int, Path], folder: Path):
    from PIL import Image

    entries = []
    for image in truth.coco["images"]:
        if image["id"] not in images:
            continue
        found = [
            d for d in detections if d["image_id"] == image["id"] and d["score"] >= SHOWN_SCORE
        ]
        expected = [a for a in truth.coco["annotations"] if a["image_id"] == image["id"]]
        missed, false = _mistakes(found, expected)
        entries.append(
            {"image": image, "found": found, "expected": expected, "missed": missed, "false": false}
        )
    entries.sort(key=lambda e: -(e["missed"] + e["false"]))
    for entry in entries[:GALLERY_LIMIT]:
        image = entry["image"]
        with Image.open(images[image["id"]]) as picture:
            picture.thumbnail((THUMBNAIL, THUMBNAIL))
            name = f"{image['id']}.jpg"
            picture.convert("RGB").save(folder / name, quality=85)
        entry["src"] = f"images/{name}"
    return entries[:GALLERY_LIMIT]


def _mistakes(found: list[dict], expected: list[dict]) -> tuple[int, int]:
    """Greedy matching at IoU 0.5 by score, class by class: (missed boxes, false boxes)."""
    unmatched = list(expected)
    false = 0
    for detection in sorted(found, key=lambda d: -d["score"]):
        same = [a for a in unmatched if a["category_id"] == detection["category_id"]]
        match = max(same, key=lambda a: _iou(a["bbox"], detection["bbox"]), default=None)
        if match is not None and _iou(match["bbox"], detection["bbox"]) >= 0.5:
            unmatched.remove(match)
        else:
            false += 1
    return len(unmatched), false


def _iou(a: list[float], b: list[float]) -> float:
    ax, ay, aw, ah = a
    bx, by, bw, bh = b
    width = max(0.0, min(ax + aw, bx + bw) - max(ax, bx))
    height = max(0.0, min(ay + ah, by + bh) - max(ay, by))
    inter = width * height
    union = aw * ah + bw * bh - inter
    return inter / union if union > 0 else 0.0
