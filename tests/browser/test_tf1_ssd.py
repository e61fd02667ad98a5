"""TF1 OD API SSD exports are cut before their post-processor's NMS: the page runs the NMS (and
LiteRT.js gets a .tflite), and its detections equal TensorFlow's full graph on the same pixels."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from sitegen.site.page import PageQuery
from tests.helpers.browser import (
    assert_same_detections,
    detections_in_page,
    expected_from_tensorflow,
)

pytestmark = pytest.mark.tensorflow
THRESHOLD = 0.05  # random weights: many boxes between 0.05 and 0.7


@pytest.fixture(scope="module")
def ssd_site(tmp_path_factory, tiny_tf1_ssd):
    """Built from the frozen graph, as the TF1 model zoo hands it out."""
    from sitegen.build import BuildOptions, build

    out = tmp_path_factory.mktemp("tf1-ssd") / "site"
    build(BuildOptions(model=tiny_tf1_ssd / "frozen_inference_graph.pb", out=out))
    return out


@pytest.fixture(scope="module")
def bare_ssd_site(tmp_path_factory, tiny_tf1_ssd_no_config):
    """Built from a frozen graph with no pipeline.config anywhere."""
    from sitegen.build import BuildOptions, build

    out = tmp_path_factory.mktemp("tf1-ssd-bare") / "site"
    build(BuildOptions(model=tiny_tf1_ssd_no_config / "frozen_inference_graph.pb", out=out))
    return out


def _scene(path: Path) -> Path:
    rng = np.random.default_rng(21)
    Image.fromarray(rng.integers(0, 255, (30, 40, 3), dtype=np.uint8)).resize(
        (320, 240), Image.BILINEAR
    ).save(path)
    return path


def test_frozen_tf1_ssd_is_cut_before_the_nms(ssd_site):
    model = json.loads((ssd_site / "config.json").read_text())["model"]
    assert model["postprocess"] == "raw"
    assert model["input"] == {"name": "resized_image", "dtype": "float32", "size": [96, 96]}
    assert model["litert"] is not None and model["numClasses"] == 2
    manifest = json.loads((ssd_site / "model" / "model.json").read_text())
    ops = {node["op"] for node in manifest["modelTopology"]["node"]}
    assert not ops & {"Enter", "Exit", "Merge", "Switch", "LoopCond", "NonMaxSuppressionV5"}, ops


# The site built from the frozen graph, and the export whose SavedModel is the reference: with
# its pipeline.config, and without one (the settings then come from the graph itself).
SITES = {
    "with-config": ("ssd_site", "tiny_tf1_ssd"),
    "no-config": ("bare_ssd_site", "tiny_tf1_ssd_no_config"),
}


@pytest.mark.parametrize("backend", ["litert-wasm", "wasm"])
@pytest.mark.parametrize("built", SITES)
def test_tf1_ssd_page_matches_the_full_tensorflow_graph(request, browser, tmp_path, built, backend):
    site, export = (request.getfixturevalue(name) for name in SITES[built])
    events = detections_in_page(
        browser,
        site,
        _scene(tmp_path / "scene.png"),
        PageQuery(backend=backend, threshold=THRESHOLD),
    )
    event = events[-1]
    assert event["detail"]["backend"] == backend
    assert (event["input"]["width"], event["input"]["height"]) == (96, 96)
    expected = expected_from_tensorflow(export / "saved_model", event, THRESHOLD, 20)
    assert len(expected) >= 5
    assert_same_detections(event["detail"]["detections"], expected, box_tol=1e-3, score_tol=1e-4)


def test_tf1_ssd_saved_model_is_cut_too(run_cli, tmp_path, tiny_tf1_ssd):
    site = tmp_path / "site"
    result = run_cli("build", tiny_tf1_ssd, "--out", site)
    assert result.code == 0, result.err
    assert "raw cut    = cut before the TF1 post-processor's NMS" in result.err
    assert json.loads((site / "config.json").read_text())["model"]["postprocess"] == "raw"
    inspected = run_cli("inspect", tiny_tf1_ssd)
    assert "Raw cut: cut before the TF1 post-processor's NMS" in inspected.out
    assert "Build would use: raw post-processing" in inspected.out


def test_graph_that_does_not_match_keeps_in_graph_post_processing(
    run_cli, tmp_path, tiny_tf1_frozen
):
    result = run_cli("build", tiny_tf1_frozen, "--out", tmp_path / "site")
    assert result.code == 0, result.err
    assert "raw cut    = none: not a TF1 OD API SSD graph" in result.err
    inspected = run_cli("inspect", tiny_tf1_frozen)
    assert "Raw cut: none, not a TF1 OD API SSD graph" in inspected.out


def test_tf1_ssd_without_pipeline_config_takes_its_settings_from_the_graph(bare_ssd_site):
    """The resize size and the NMS numbers tiny_models wrote into the graph (and into the
    pipeline.config this export lacks): not sitegen's defaults (IoU 0.6, 100 boxes)."""
    from tests.helpers import tiny_models

    model = json.loads((bare_ssd_site / "config.json").read_text())["model"]
    assert model["postprocess"] == "raw"
    assert model["input"] == {"name": "resized_image", "dtype": "float32", "size": [96, 96]}
    assert model["litert"] is not None and model["numClasses"] == 2
    assert model["nms"] == {
        "scoreThreshold": tiny_models.SCORE_THRESHOLD,
        "iouThreshold": tiny_models.IOU_THRESHOLD,
        "maxPerClass": tiny_models.MAX_TOTAL,
        "maxTotal": tiny_models.MAX_TOTAL,
        "classAgnostic": False,
        "source": "graph",
    }


def test_tf1_ssd_saved_model_without_pipeline_config_is_cut_and_says_where_from(
    run_cli, tmp_path, tiny_tf1_ssd_no_config
):
    site = tmp_path / "site"
    result = run_cli("build", tiny_tf1_ssd_no_config, "--out", site)
    assert result.code == 0, result.err
    resize = "Preprocessor/map/while/ResizeImage/resize/ResizeBilinear"
    assert f"input size = 96x96 from graph: {resize}" in result.err
    assert (
        "NMS        = score > 0.05, IoU 0.5, 20 per class, 20 in all (from the graph's"
        in result.err
    )
    assert "raw cut    = cut before the TF1 post-processor's NMS" in result.err
    model = json.loads((site / "config.json").read_text())["model"]
    assert model["postprocess"] == "raw" and model["litert"] is not None
    inspected = run_cli("inspect", tiny_tf1_ssd_no_config)
    assert "Raw cut: cut before the TF1 post-processor's NMS" in inspected.out
    assert "Post-processing settings (graph): score > 0.05, IoU 0.5, 20 per class" in inspected.out
    assert f"Input size (graph: {resize}): 96x96" in inspected.out
