"""A numpy twin of the OD API's per-class non-maximum suppression, written only as a test oracle
for the page's JavaScript post-processing and the default model's exported graph."""

from __future__ import annotations

import numpy as np


def reference_postprocess(
    raw_boxes: np.ndarray,
    raw_scores: np.ndarray,
    *,
    score_threshold: float,
    iou_threshold: float,
    max_detections_per_class: int,
    max_total_detections: int,
) -> dict[str, np.ndarray]:
    """numpy twin of the exported graph's post-processing (and so of the page's), for parity
    tests: ``raw_boxes`` [A, 4] and ``raw_scores`` [A, 1 + classes] of one image in, the valid
    ``boxes``, ``scores`` and 1-based ``classes`` out, best first."""
    candidates = []
    for column in range(1, raw_scores.shape[1]):
        for index, score in _greedy_nms(
            raw_boxes, raw_scores[:, column], score_threshold, iou_threshold,
            max_detections_per_class,
        ):  # fmt: skip
            candidates.append((score, column, np.clip(raw_boxes[index], 0.0, 1.0)))
    # Stable sort by score, like tf.math.top_k: ties keep class order.
    candidates.sort(key=lambda c: -c[0])
    kept = [c for c in candidates if (c[2][2] - c[2][0]) * (c[2][3] - c[2][1]) > 0]
    kept = kept[:max_total_detections]
    return {
        "boxes": np.array([c[2] for c in kept], np.float32).reshape(-1, 4),
        "scores": np.array([c[0] for c in kept], np.float32),
        "classes": np.array([c[1] for c in kept], np.int64),
    }


def _greedy_nms(
    boxes: np.ndarray, scores: np.ndarray, score_threshold: float, iou_threshold: float, limit: int
) -> list[tuple[int, float]]:
    """TensorFlow's NonMaxSuppressionV5 without soft-NMS: scores > threshold, highest first
    (ties: lower index first), drop a box whose IoU with a kept one is > ``iou_threshold``."""
    order = [i for i in np.argsort(-scores, kind="stable") if scores[i] > score_threshold]
    kept: list[tuple[int, float]] = []
    for index in order:
        if len(kept) == limit:
            break
        if all(_iou(boxes[index], boxes[other]) <= iou_threshold for other, _ in kept):
            kept.append((int(index), float(scores[index])))
    return kept


def _iou(a: np.ndarray, b: np.ndarray) -> float:
    def corners(box: np.ndarray) -> tuple[float, float, float, float]:
        return min(box[0], box[2]), min(box[1], box[3]), max(box[0], box[2]), max(box[1], box[3])

    ay0, ax0, ay1, ax1 = corners(a)
    by0, bx0, by1, bx1 = corners(b)
    area_a, area_b = (ay1 - ay0) * (ax1 - ax0), (by1 - by0) * (bx1 - bx0)
    if area_a <= 0 or area_b <= 0:
        return 0.0
    inter = max(min(ay1, by1) - max(ay0, by0), 0.0) * max(min(ax1, bx1) - max(ax0, bx0), 0.0)
    return float(inter / (area_a + area_b - inter))
