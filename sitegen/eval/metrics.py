"""COCO detection metrics by pycocotools (the reference implementation); nothing here computes a
metric itself. Ground truth and detections are COCO dicts in image pixels."""

from __future__ import annotations

import contextlib
import copy
import io

from sitegen.errors import MissingDependencyError

# COCOeval.stats, in its order, under their usual names.
SUMMARY_NAMES = (
    "AP",
    "AP50",
    "AP75",
    "AP_small",
    "AP_medium",
    "AP_large",
    "AR1",
    "AR10",
    "AR100",
    "AR_small",
    "AR_medium",
    "AR_large",
)


def _pycocotools():
    try:
        from pycocotools.coco import COCO
        from pycocotools.cocoeval import COCOeval
    except ImportError:
        raise MissingDependencyError(
            "sitegen eval needs pycocotools; run: pip install 'sitegen[eval]'"
        ) from None
    return COCO, COCOeval


def coco_summary(ground_truth: dict, detections: list[dict]) -> dict:
    """{"summary": {AP, AP50, ... AR_large}, "per_class": {name: {"AP", "AP50"}}} for
    ``detections`` (COCO results: image_id, category_id, bbox [x, y, w, h], score). Classes
    without ground truth report -1, as pycocotools does."""
    COCO, COCOeval = _pycocotools()
    with contextlib.redirect_stdout(io.StringIO()):  # pycocotools prints as it goes
        truth = COCO()
        truth.dataset = copy.deepcopy(ground_truth)
        truth.createIndex()
        results = truth.loadRes(copy.deepcopy(detections)) if detections else None
        summary = _evaluate(COCOeval, truth, results, truth.getCatIds())
        per_class = {}
        for category in truth.loadCats(truth.getCatIds()):
            stats = _evaluate(COCOeval, truth, results, [category["id"]])
            per_class[category["name"]] = {"AP": stats["AP"], "AP50": stats["AP50"]}
    return {"summary": summary, "per_class": per_class}


def _evaluate(COCOeval, truth, results, category_ids: list[int]) -> dict[str, float]:
    if results is None:  # no detections at all: nothing found, where there was something to find
        has_truth = bool(truth.getAnnIds(catIds=category_ids))
        return dict.fromkeys(SUMMARY_NAMES, 0.0 if has_truth else -1.0)
    evaluation = COCOeval(truth, results, iouType="bbox")
    evaluation.params.catIds = category_ids
    evaluation.evaluate()
    evaluation.accumulate()
    evaluation.summarize()
    return {name: float(value) for name, value in zip(SUMMARY_NAMES, evaluation.stats, strict=True)}


def precision_recall(ground_truth: dict, detections: list[dict], category_id: int):
    """(recall, precision) points of one class at IoU 0.5, from pycocotools' accumulation: what
    the report plots."""
    COCO, COCOeval = _pycocotools()
    with contextlib.redirect_stdout(io.StringIO()):
        truth = COCO()
        truth.dataset = copy.deepcopy(ground_truth)
        truth.createIndex()
        if not detections:
            return [], []
        evaluation = COCOeval(truth, truth.loadRes(copy.deepcopy(detections)), iouType="bbox")
        evaluation.params.catIds = [category_id]
        evaluation.evaluate()
        evaluation.accumulate()
    # precision[T, R, K, A, M]: IoU 0.5 (T=0), every recall step, the class, all areas, 100 dets.
    precision = evaluation.eval["precision"][0, :, 0, 0, -1]
    recall = evaluation.params.recThrs
    points = [(float(r), float(p)) for r, p in zip(recall, precision, strict=True) if p >= 0]
    return [r for r, _ in points], [p for _, p in points]
