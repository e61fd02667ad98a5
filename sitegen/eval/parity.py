"""How far the page's detections are from TensorFlow's on the same pixels."""

from __future__ import annotations

from sitegen.site import verify

BOX_TOLERANCE, SCORE_TOLERANCE = 1e-3, 1e-4


def parity(page: dict[int, list[dict]], tensorflow: dict[int, list[dict]]) -> dict:
    """Largest box-edge and score differences over the detections both have at each rank, and
    the images whose detections differ beyond the tolerances (count, order, class, box, score)."""
    largest_box = largest_score = 0.0
    differing = []
    for image_id, expected in tensorflow.items():
        actual = page.get(image_id, [])
        for got, want in zip(actual, expected, strict=False):
            largest_score = max(largest_score, abs(got["score"] - want["score"]))
            edges = [abs(got["box"][k] - want["box"][k]) for k in ("x", "y", "width", "height")]
            largest_box = max(largest_box, *edges)
        problem = verify.compare(actual, expected, box_tol=BOX_TOLERANCE, score_tol=SCORE_TOLERANCE)
        if problem is not None:
            differing.append({"image_id": image_id, "difference": problem})
    return {
        "largest_box_difference": largest_box,
        "largest_score_difference": largest_score,
        "images_that_differ": differing,
        "images": len(tensorflow),
    }
