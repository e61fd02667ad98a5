from __future__ import annotations

import pytest

from sitegen.errors import LabelError
from sitegen.model.labels import check_labels_fit, labels_with_fallback, read_labels
from sitegen.model.pipeline_config import read_pipeline_config


def test_od_api_label_map_with_comments_and_both_quote_styles(tmp_path):
    path = tmp_path / "labelmap.pbtxt"
    path.write_text(
        "# exported by the OD API\n"
        "item {\n  id: 1\n  name: 'kangaroo'\n}\n"
        'item { name: "stop" id: 2 display_name: "Stop sign" }  # trailing comment\n'
    )
    assert read_labels(path) == {1: "kangaroo", 2: "Stop sign"}


def test_plain_text_and_json(tmp_path):
    (tmp_path / "labels.txt").write_text("kangaroo\n\nstop\n")
    assert read_labels(tmp_path / "labels.txt") == {1: "kangaroo", 2: "stop"}
    (tmp_path / "a.json").write_text('["kangaroo", "stop"]')
    assert read_labels(tmp_path / "a.json") == {1: "kangaroo", 2: "stop"}
    (tmp_path / "b.json").write_text('[{"id": 3, "name": "emu"}]')
    assert read_labels(tmp_path / "b.json") == {3: "emu"}
    (tmp_path / "c.json").write_text('{"1": "kangaroo"}')
    assert read_labels(tmp_path / "c.json") == {1: "kangaroo"}


@pytest.mark.parametrize(
    "text, words",
    [
        ("item { id: 1 name: 'a' ", "not a valid label map"),
        ("item { name: 'a' }", "no integer id"),
        ("item { id: 1 name: 'a' } item { id: 1 name: 'b' }", "appears twice"),
        ("item { id: 0 name: 'a' }", "id >= 1"),
    ],
)
def test_malformed_label_maps(tmp_path, text, words):
    path = tmp_path / "labelmap.pbtxt"
    path.write_text(text)
    with pytest.raises(LabelError, match=words.replace("[", r"\[")):
        read_labels(path)


def test_ids_must_fit_the_model_and_missing_ones_fall_back():
    with pytest.raises(LabelError, match=r"ids \[3\]"):
        check_labels_fit({1: "a", 3: "c"}, 2, None)
    assert labels_with_fallback({2: "stop"}, 3) == {1: "class 1", 2: "stop", 3: "class 3"}


def test_pipeline_config_nms_and_input_size(tmp_path):
    path = tmp_path / "pipeline.config"
    path.write_text(
        "model { ssd { num_classes: 3\n image_resizer { fixed_shape_resizer { height: 300 width: 320 } }\n"
        "post_processing { batch_non_max_suppression { score_threshold: 1e-08 iou_threshold: 0.6\n"
        "max_detections_per_class: 50 max_total_detections: 70 use_class_agnostic_nms: true } } } }"
    )
    settings = read_pipeline_config(path)
    assert settings.num_classes == 3 and settings.input_size == (300, 320)
    nms = settings.nms
    assert (nms.score_threshold, nms.iou_threshold, nms.max_per_class, nms.max_total) == (
        1e-8,
        0.6,
        50,
        70,
    )
    assert nms.class_agnostic and nms.source == "pipeline.config"
    assert read_pipeline_config(None).nms.source == "defaults"
