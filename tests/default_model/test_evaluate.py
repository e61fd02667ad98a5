"""coco_metrics on tiny hand-made cases whose AP is known."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("pycocotools")

from devtools.default_model.evaluate import coco_metrics

GROUND_TRUTH = [  # (image_id, category_id, [x, y, w, h])
    (1, 1, [10, 20, 100, 100]),
    (1, 2, [200, 50, 80, 80]),
    (2, 1, [300, 300, 60, 90]),
    (3, 2, [5, 5, 120, 120]),
]


@pytest.fixture
def gt_json(tmp_path: Path) -> Path:
    coco = {
        "images": [
            {"id": i, "file_name": f"{i}.jpg", "width": 640, "height": 480} for i in (1, 2, 3)
        ],
        "annotations": [
            {"id": n, "image_id": image, "category_id": category, "bbox": box,
             "area": box[2] * box[3], "iscrowd": 0}
            for n, (image, category, box) in enumerate(GROUND_TRUTH, start=1)
        ],
        "categories": [{"id": 1, "name": "kangaroo"}, {"id": 2, "name": "stop"}],
    }  # fmt: skip
    path = tmp_path / "gt.json"
    path.write_text(json.dumps(coco))
    return path


def _detection(image: int, category: int, box: list[float], score: float = 0.9) -> dict:
    return {"image_id": image, "category_id": category, "bbox": box, "score": score}


def test_perfect_detections_score_one(gt_json: Path) -> None:
    detections = [_detection(image, category, box) for image, category, box in GROUND_TRUTH]
    metrics = coco_metrics(gt_json, detections)
    assert set(metrics) == {"kangaroo", "stop", "all"}
    for values in metrics.values():
        assert values["AP50"] == pytest.approx(1.0)
        assert values["AP"] == pytest.approx(1.0)


def test_no_detections_score_zero(gt_json: Path) -> None:
    metrics = coco_metrics(gt_json, [])
    for values in metrics.values():
        assert values == {"AP50": 0.0, "AP": 0.0}


def test_wrong_class_scores_zero(gt_json: Path) -> None:
    detections = [_detection(image, 3 - category, box) for image, category, box in GROUND_TRUTH]
    metrics = coco_metrics(gt_json, detections)
    assert metrics["all"]["AP50"] == pytest.approx(0.0)


def test_loose_boxes_pass_at_half_iou_only(gt_json: Path) -> None:
    # Each box keeps its width and 72% of its height: IoU 0.72, a match at the IoU thresholds
    # 0.50 ... 0.70 (5 of the 10 that AP@[.5:.95] averages) and a miss above.
    detections = [
        _detection(image, category, [x, y, w, h * 0.72])
        for image, category, (x, y, w, h) in GROUND_TRUTH
    ]
    metrics = coco_metrics(gt_json, detections)
    assert metrics["all"]["AP50"] == pytest.approx(1.0)
    assert metrics["all"]["AP"] == pytest.approx(0.5)


def test_a_missed_object_halves_recall(gt_json: Path) -> None:
    detections = [_detection(image, category, box) for image, category, box in GROUND_TRUTH[1:]]
    metrics = coco_metrics(gt_json, detections)
    assert metrics["stop"]["AP50"] == pytest.approx(1.0)
    # One of two kangaroos found, with nothing wrong ranked above it: precision 1 up to
    # recall 0.5, so the 101-point interpolated AP is 51/101.
    assert metrics["kangaroo"]["AP50"] == pytest.approx(51 / 101)


MODEL_DIR = Path(__file__).resolve().parents[2] / "models" / "default"


@pytest.mark.tensorflow
def test_default_model_has_the_od_api_signature() -> None:
    tf = pytest.importorskip("tensorflow")
    if not (MODEL_DIR / "saved_model").is_dir():
        pytest.skip("models/default is not trained yet")
    detector = tf.saved_model.load(str(MODEL_DIR / "saved_model")).signatures["serving_default"]
    (spec,) = detector.structured_input_signature[1].values()
    assert spec.name == "input_tensor" and spec.dtype == tf.uint8
    assert spec.shape.as_list() == [1, None, None, 3]
    frame = np.zeros((1, 300, 500, 3), np.uint8)  # any size goes in
    outputs = detector(input_tensor=tf.constant(frame))
    count = outputs["num_detections"].shape[0]
    assert count == 1
    boxes = outputs["detection_boxes"].numpy()
    assert boxes.shape[0] == 1 and boxes.shape[2] == 4
    n = boxes.shape[1]
    assert outputs["detection_scores"].shape == (1, n)
    assert outputs["detection_classes"].shape == (1, n)
    raw_boxes = outputs["raw_detection_boxes"].numpy()
    raw_scores = outputs["raw_detection_scores"].numpy()
    assert raw_boxes.shape[2] == 4 and raw_scores.shape == (1, raw_boxes.shape[1], 3)
    assert raw_boxes.min() >= 0 and raw_boxes.max() <= 1
    assert raw_scores.min() >= 0 and raw_scores.max() <= 1
    config = (MODEL_DIR / "pipeline.config").read_text()
    assert f"max_total_detections: {n}" in config
    assert "id: 1\n  name: 'kangaroo'" in (MODEL_DIR / "labelmap.pbtxt").read_text()


@pytest.mark.tensorflow
def test_training_resize_matches_the_graph_resize() -> None:
    tf = pytest.importorskip("tensorflow")
    from devtools.default_model.training import INPUT_SIZE, resize_bilinear

    image = np.random.default_rng(0).integers(0, 256, (480, 640, 3)).astype(np.uint8)
    expected = tf.image.resize(tf.cast(image, tf.float32), (INPUT_SIZE, INPUT_SIZE)).numpy()
    assert np.allclose(resize_bilinear(image), expected, atol=1e-3)


def _pipeline_numbers() -> dict[str, float]:
    text = (MODEL_DIR / "pipeline.config").read_text()
    keys = ("score_threshold", "iou_threshold", "max_detections_per_class", "max_total_detections")
    return {key: float(re.search(rf"{key}: ([0-9.e-]+)", text).group(1)) for key in keys}


@pytest.mark.tensorflow
def test_in_graph_post_processing_matches_the_reference() -> None:
    tf = pytest.importorskip("tensorflow")
    if not (MODEL_DIR / "saved_model").is_dir():
        pytest.skip("models/default is not trained yet")
    from devtools.default_model import scenes
    from tests.helpers.nms_oracle import reference_postprocess

    detector = tf.saved_model.load(str(MODEL_DIR / "saved_model")).signatures["serving_default"]
    numbers = _pipeline_numbers()
    rng = np.random.default_rng(2024)
    for _ in range(3):
        image, _boxes = scenes.render_scene(rng, 640, 480, max_objects=4)
        outputs = detector(input_tensor=tf.constant(np.asarray(image)[None]))
        expected = reference_postprocess(
            outputs["raw_detection_boxes"].numpy()[0],
            outputs["raw_detection_scores"].numpy()[0],
            score_threshold=numbers["score_threshold"],
            iou_threshold=numbers["iou_threshold"],
            max_detections_per_class=int(numbers["max_detections_per_class"]),
            max_total_detections=int(numbers["max_total_detections"]),
        )
        count = int(outputs["num_detections"][0])
        assert count == len(expected["scores"])
        assert np.allclose(outputs["detection_scores"][0, :count], expected["scores"], atol=1e-6)
        assert np.allclose(outputs["detection_boxes"][0, :count], expected["boxes"], atol=1e-6)
        assert np.array_equal(outputs["detection_classes"][0, :count], expected["classes"])
