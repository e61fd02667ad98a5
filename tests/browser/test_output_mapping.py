"""The converted model, run by the page in Chromium, finds what TensorFlow finds on the same pixels.

This is what proves the output mapping: a swapped scores/classes pair, a wrong tensor or a wrong
post-processing would all move boxes or scores far beyond the tolerance.
"""

from __future__ import annotations

import json
import tarfile
import zipfile
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


def _scene(path: Path, seed: int = 3) -> Path:
    rng = np.random.default_rng(seed)
    pixels = rng.integers(0, 255, (12, 16, 3), dtype=np.uint8)
    Image.fromarray(pixels).resize((320, 240), Image.NEAREST).save(path)
    return path


def _check(
    run_cli,
    browser,
    tmp_path,
    model_arg,
    saved_model,
    *,
    postprocess="auto",
    backend="cpu",
    image=None,
):
    site = tmp_path / "site"
    assert run_cli("build", model_arg, "--out", site, "--postprocess", postprocess).code == 0
    config = json.loads((site / "config.json").read_text())
    threshold = 0.3
    events = detections_in_page(
        browser,
        site,
        image or _scene(tmp_path / "scene.png"),
        PageQuery(backend=backend, threshold=threshold),
    )
    event = events[-1]
    assert event["detail"]["backend"] == backend
    expected_size = (640, 480) if image else (320, 240)
    assert (event["detail"]["width"], event["detail"]["height"]) == expected_size
    expected = expected_from_tensorflow(saved_model, event, threshold, config["maxDetections"])
    assert_same_detections(event["detail"]["detections"], expected, box_tol=1e-3, score_tol=1e-4)
    labels = {d["label"] for d in event["detail"]["detections"]}
    assert labels <= {"kangaroo", "stop"}
    return config


@pytest.mark.parametrize("backend", ["cpu", "wasm"])
def test_tf2_export_raw_outputs(run_cli, browser, tmp_path, tiny_tf2, backend):
    config = _check(run_cli, browser, tmp_path, tiny_tf2, tiny_tf2 / "saved_model", backend=backend)
    assert config["model"]["postprocess"] == "raw"


def test_tf2_export_graph_outputs(run_cli, browser, tmp_path, tiny_graph_only):
    config = _check(run_cli, browser, tmp_path, tiny_graph_only, tiny_graph_only / "saved_model")
    assert config["model"]["postprocess"] == "graph"


@pytest.mark.parametrize("postprocess", ["raw", "graph"])
def test_tf1_style_export(run_cli, browser, tmp_path, tiny_tf1, postprocess):
    _check(run_cli, browser, tmp_path, tiny_tf1, tiny_tf1 / "saved_model", postprocess=postprocess)


@pytest.mark.parametrize("postprocess", ["raw", "graph"])
def test_tf1_export_with_unknown_output_shapes(
    run_cli, browser, tmp_path, tiny_tf1_unknown_shapes, postprocess
):
    """Canonical names decide when the signature has no shapes; the build checks them by running
    the model once."""
    model = tiny_tf1_unknown_shapes
    config = _check(
        run_cli, browser, tmp_path, model, model / "saved_model", postprocess=postprocess
    )
    assert config["model"]["postprocess"] == postprocess
    assert config["model"]["numClasses"] == 2


@pytest.mark.parametrize("given", ["file", "folder", "tar.gz"])
def test_tf1_frozen_graph(run_cli, browser, tmp_path, tiny_tf1_frozen, tiny_tf1, given):
    """frozen_inference_graph.pb as a file, in its folder, or as the model zoo's .tar.gz; TensorFlow
    runs tiny_tf1's SavedModel, which holds the same graph and weights, as the reference."""
    if given == "file":
        model = tiny_tf1_frozen / "frozen_inference_graph.pb"
    elif given == "folder":
        model = tiny_tf1_frozen
    else:
        model = tmp_path / "ssd_tiny_coco_2018_01_28.tar.gz"
        with tarfile.open(model, "w:gz") as archive:
            archive.add(tiny_tf1_frozen, arcname="ssd_tiny_coco_2018_01_28")
    config = _check(run_cli, browser, tmp_path, model, tiny_tf1 / "saved_model")
    assert config["model"]["postprocess"] == "graph"
    assert config["title"] == "Kangaroo, stop detector"  # the label map beside the graph


def test_zipped_export(run_cli, browser, tmp_path, tiny_tf2):
    archive = tmp_path / "model.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for path in tiny_tf2.rglob("*"):
            if path.is_file():
                zf.write(path, Path("inference-graph") / path.relative_to(tiny_tf2))
    _check(run_cli, browser, tmp_path, archive, tiny_tf2 / "saved_model")


def test_preconverted_tfjs_model(run_cli, browser, tmp_path, tiny_tf2):
    first = tmp_path / "first"
    assert run_cli("build", tiny_tf2, "--out", first).code == 0
    _check(run_cli, browser, tmp_path, first / "model" / "model.json", tiny_tf2 / "saved_model")


@pytest.mark.parametrize("backend", ["wasm", "webgl"])
def test_tf1_style_export_raw_on_fast_backends(run_cli, browser, tmp_path, tiny_tf1, backend):
    _check(run_cli, browser, tmp_path, tiny_tf1, tiny_tf1 / "saved_model", backend=backend)


@pytest.mark.parametrize("backend", ["wasm", "cpu"])
def test_default_model_matches_tensorflow(run_cli, browser, tmp_path, backend):
    from devtools.default_model import scenes
    from sitegen.resources import default_model_dir

    image, boxes = scenes.render_scene(np.random.default_rng(5), 640, 480, max_objects=3)
    assert boxes
    image.save(tmp_path / "signs.png")
    model = default_model_dir()
    _check(
        run_cli,
        browser,
        tmp_path,
        model,
        model / "saved_model",
        backend=backend,
        image=tmp_path / "signs.png",
    )
