"""The genuine TF2 Object Detection API export (../shared/fixtures) detects on every backend.

On this export TF.js WASM returns no detections from the in-graph post-processing; sitegen cuts the
graph at the raw outputs and post-processes in the page, so LiteRT.js (the same cut as a .tflite)
and TF.js wasm, cpu and webgl must all match
TensorFlow's own detection_* outputs: same order, boxes within 1e-3, scores within 1e-4.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from sitegen.site.page import PageQuery
from tests.helpers.browser import (
    assert_same_detections,
    detections_in_page,
    expected_from_tensorflow,
)

pytestmark = [pytest.mark.tensorflow, pytest.mark.fixtures]

THRESHOLD = 0.005  # random weights: every score is about 0.007-0.013


@pytest.fixture(scope="module")
def odapi_site(tmp_path_factory, odapi_fixture):
    from sitegen.build import BuildOptions, build

    out = tmp_path_factory.mktemp("odapi") / "site"
    build(BuildOptions(model=odapi_fixture, out=out, max_detections=100))
    return out


@pytest.fixture(scope="module")
def scene(tmp_path_factory):
    from devtools.default_model import scenes

    image, _ = scenes.render_scene(np.random.default_rng(11), 640, 480)
    path = tmp_path_factory.mktemp("scene") / "scene.png"
    image.save(path)
    return path


def test_site_uses_raw_outputs(odapi_site):
    model = json.loads((odapi_site / "config.json").read_text())["model"]
    assert model["postprocess"] == "raw"
    assert model["input"]["size"] == [300, 300]
    assert model["nms"] == {
        "scoreThreshold": 1e-8,
        "iouThreshold": 0.6,
        "maxPerClass": 100,
        "maxTotal": 100,
        "classAgnostic": False,
        "source": "pipeline.config",
    }


@pytest.mark.parametrize("backend", ["litert-wasm", "wasm", "cpu", "webgl"])
def test_matches_tensorflow(browser, odapi_site, odapi_fixture, scene, backend):
    events = detections_in_page(
        browser, odapi_site, scene, PageQuery(backend=backend, threshold=THRESHOLD)
    )
    event = events[-1]
    assert event["detail"]["backend"] == backend
    expected = expected_from_tensorflow(odapi_fixture / "saved_model", event, THRESHOLD, 100)
    assert len(expected) == 100
    assert_same_detections(event["detail"]["detections"], expected, box_tol=1e-3, score_tol=1e-4)
    assert {d["label"] for d in event["detail"]["detections"]} == {"kangaroo"}
