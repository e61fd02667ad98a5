from __future__ import annotations

import json
import shutil
import zipfile
from pathlib import Path

import pytest


@pytest.mark.tensorflow
def test_inspect_explains_the_mapping(run_cli, tiny_tf2):
    result = run_cli("inspect", tiny_tf2)
    assert result.code == 0, result.err
    out = result.out
    assert "Input: input_tensor uint8 [1, None, None, 3]" in out
    for role, key in [
        ("boxes", "detection_boxes"),
        ("scores", "detection_scores"),
        ("classes", "detection_classes"),
        ("count", "num_detections"),
        ("raw_boxes", "raw_detection_boxes"),
        ("raw_scores", "raw_detection_scores"),
    ]:
        assert f"{role:<10} {key}: signature name" in out
    assert "Build would use: raw post-processing" in out
    assert "Ops TF.js cannot run: none" in out
    assert "Runtimes: TF.js graph model and a LiteRT.js .tflite (64x64 input)" in out
    assert "size by --quantize: none" in out and "float16" in out and "uint8" in out
    assert "Labels from" in out and "1: kangaroo, 2: stop" in out
    assert "iou 0.5" in out.lower()


@pytest.mark.tensorflow
def test_inspect_tf1_export(run_cli, tiny_tf1):
    result = run_cli("inspect", tiny_tf1)
    assert result.code == 0, result.err
    assert "Input: inputs uint8" in result.out
    assert "boxes      detection_boxes" in result.out
    assert "and a LiteRT.js .tflite (64x64 input)" in result.out


def test_inspect_missing_model(run_cli, tmp_path):
    result = run_cli("inspect", tmp_path / "nope")
    assert result.code == 3 and "does not exist" in result.error_line


@pytest.mark.tensorflow
@pytest.mark.browser
def test_inspect_verify_reports_backends(run_cli, tiny_tf2):
    result = run_cli("inspect", tiny_tf2, "--verify")
    assert result.code == 0, result.err
    rows = {line.split()[0]: line for line in result.out.splitlines() if line.startswith("  ")}
    for backend in ("litert-wasm", "wasm", "cpu"):
        assert "agrees with TensorFlow" in rows[backend], result.out
    assert "ms per frame" in rows["litert-wasm"] and "ms per frame" in rows["wasm"]
    assert "Page order: " in result.out


def _move_companions_into_saved_model(export: Path) -> None:
    for name in ("labelmap.pbtxt", "pipeline.config"):
        shutil.move(export / name, export / "saved_model" / name)


def _zip_without_companions(export: Path, archive: Path) -> None:
    with zipfile.ZipFile(archive, "w") as zf:
        for path in (export / "saved_model").rglob("*"):
            if path.is_file():
                zf.write(path, Path("export") / path.relative_to(export))
    for name in ("labelmap.pbtxt", "pipeline.config"):
        shutil.copy(export / name, archive.parent / name)


@pytest.mark.tensorflow
@pytest.mark.parametrize("layout", ["export-folder", "inside-saved_model", "beside-zip"])
def test_inspect_and_build_find_the_same_companions(run_cli, tmp_path, tiny_tf2, layout):
    """Labels and NMS settings from pipeline.config, wherever users keep them."""
    export = tmp_path / "export"
    shutil.copytree(tiny_tf2, export)
    model: Path = export
    if layout == "inside-saved_model":
        _move_companions_into_saved_model(export)
        model = export / "saved_model"
    elif layout == "beside-zip":
        (tmp_path / "zipped").mkdir()
        model = tmp_path / "zipped" / "export.zip"
        _zip_without_companions(export, model)
    inspected = run_cli("inspect", model)
    assert inspected.code == 0, inspected.err
    assert "1: kangaroo, 2: stop" in inspected.out
    assert "Post-processing settings (pipeline.config): score > 0.05, IoU 0.5" in inspected.out
    site = tmp_path / "site"
    assert run_cli("build", model, "--out", site).code == 0
    config = json.loads((site / "config.json").read_text())
    assert config["labels"] == {"1": "kangaroo", "2": "stop"}
    nms = config["model"]["nms"]
    assert (nms["source"], nms["scoreThreshold"], nms["iouThreshold"]) == (
        "pipeline.config",
        0.05,
        0.5,
    )
    roles = {line.split()[0] for line in inspected.out.splitlines() if ": signature name" in line}
    assert {"raw_boxes", "raw_scores"} <= roles and config["model"]["postprocess"] == "raw"
