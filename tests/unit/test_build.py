"""Builds real sites into tmp_path from each kind of model input and checks what was written."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from sitegen.site.write import MARKER
from tests.helpers.support import tree_digest

MAX_FILE_BYTES = 4 * 1024 * 1024
XSS_LABEL = "<img src=x onerror=alert(1)>"


def _config(site: Path) -> dict:
    return json.loads((site / "config.json").read_text())


def _check_site(site: Path) -> dict:
    assert (site / "index.html").is_file()
    assert (site / MARKER).is_file()
    config = _config(site)
    for entry in config["model"]["files"]:
        assert (site / entry["path"]).stat().st_size == entry["bytes"]
    for path in site.rglob("*"):
        if path.is_file():
            assert path.stat().st_size <= MAX_FILE_BYTES, path
    # Every URL the page uses is relative, so the site works under a GitHub Pages sub-path.
    for path in [site / "index.html", *site.glob("js/*.js"), *site.glob("css/*.css")]:
        text = path.read_text()
        assert not re.search(r"""(src|href)\s*=\s*["']/(?!/)""", text), path
        assert not re.search(r"""(src|href)\s*=\s*["'](https?:)?//""", text), path
        assert not re.search(r"""\bfrom\s+["']/""", text), path
        assert "cdn." not in text.lower(), path
    return config


@pytest.mark.tensorflow
def test_tf2_export_folder_builds_with_raw_outputs(run_cli, tmp_path, tiny_tf2):
    out = tmp_path / "dist"
    result = run_cli("build", tiny_tf2, "--out", out, "--title", "Roo")
    assert result.code == 0, result.err
    config = _check_site(out)
    model = config["model"]
    assert model["postprocess"] == "raw"
    assert set(model["outputs"]) == {"rawBoxes", "rawScores"}
    assert model["input"] == {"name": "input_tensor", "dtype": "int32", "size": [64, 64]}
    assert model["nms"]["source"] == "pipeline.config"
    assert model["nms"]["iouThreshold"] == 0.5
    assert config["labels"] == {"1": "kangaroo", "2": "stop"}
    assert config["title"] == "Roo"
    litert = model["litert"]
    assert litert["input"] == {"name": "image", "dtype": "uint8", "size": [64, 64]}
    assert [f["path"] for f in litert["files"]] == ["model/model.tflite.part0"]
    assert config["backends"]["order"][:2] == ["litert-wasm", "litert-webgpu"]
    assert (out / "vendor" / "litert" / "runtime.json").is_file()
    recorded = json.loads((out / "model" / "model.json").read_text())["userDefinedMetadata"]
    assert "litert" not in recorded["sitegen"]["model"]
    assert recorded["sitegen"]["outputs"] == {
        "raw_boxes": model["outputs"]["rawBoxes"],
        "raw_scores": model["outputs"]["rawScores"],
    }


@pytest.mark.tensorflow
def test_graph_postprocess_maps_outputs_by_name(run_cli, tmp_path, tiny_graph_only):
    out = tmp_path / "dist"
    assert run_cli("build", tiny_graph_only, "--out", out).code == 0
    model = _check_site(out)["model"]
    assert model["postprocess"] == "graph"
    assert set(model["outputs"]) == {"boxes", "scores", "classes", "count"}
    topology = json.loads((out / "model" / "model.json").read_text())["modelTopology"]
    names = {node["name"] for node in topology["node"]}
    assert set(model["outputs"].values()) <= names


@pytest.mark.tensorflow
def test_tf1_export_keeps_tensor_names(run_cli, tmp_path, tiny_tf1):
    out = tmp_path / "dist"
    assert run_cli("build", tiny_tf1, "--out", out, "--postprocess", "graph").code == 0
    model = _check_site(out)["model"]
    assert model["input"]["name"] == "image_tensor"
    assert model["outputs"] == {
        "boxes": "detection_boxes",
        "scores": "detection_scores",
        "classes": "detection_classes",
        "count": "num_detections",
    }
    assert model["litert"] is None and "only the raw-output cut" in model["litertMissing"]
    assert not (out / "vendor" / "litert").exists()  # ~28 MB a site without a .tflite never uses


@pytest.mark.tensorflow
def test_zip_of_export_folder(run_cli, tmp_path, tiny_tf2):
    archive = tmp_path / "exported-model.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for path in tiny_tf2.rglob("*"):
            if path.is_file():
                zf.write(path, Path("inference-graph") / path.relative_to(tiny_tf2))
    out = tmp_path / "dist"
    assert run_cli("build", archive, "--out", out).code == 0
    assert _check_site(out)["labels"]["1"] == "kangaroo"


@pytest.mark.tensorflow
def test_rebuild_replaces_own_output_and_small_shards(run_cli, tmp_path, tiny_tf2):
    out = tmp_path / "dist"
    assert run_cli("build", tiny_tf2, "--out", out).code == 0
    first = _check_site(out)["model"]["sha256"]
    assert run_cli("build", tiny_tf2, "--out", out, "--shard-size", "2KB").code == 0
    model = _check_site(out)["model"]
    for files in (model["files"], model["litert"]["files"]):
        assert len(files) > 1 and all(f["bytes"] <= 2 * 1024 for f in files)
    # The page keys what it measured on a device by this: the same model, however sharded.
    assert re.fullmatch("[0-9a-f]{64}", first) and model["sha256"] == first
    assert run_cli("build", tiny_tf2, "--out", out, "--quantize", "float16").code == 0
    assert _check_site(out)["model"]["sha256"] != first


@pytest.mark.tensorflow
def test_force_replaces_a_foreign_folder(run_cli, tmp_path, tiny_tf2):
    out = tmp_path / "dist"
    out.mkdir()
    (out / "old.txt").write_text("x")
    assert run_cli("build", tiny_tf2, "--out", out, "--force").code == 0
    assert not (out / "old.txt").exists()
    assert (tmp_path / "dist.previous-1" / "old.txt").read_text() == "x"  # moved aside, not lost


@pytest.mark.tensorflow
def test_label_markup_is_escaped(run_cli, tmp_path, tiny_tf2):
    labels = tmp_path / "labels.txt"
    labels.write_text(f"{XSS_LABEL}\nstop\n")
    out = tmp_path / "dist"
    assert (
        run_cli("build", tiny_tf2, "--labels", labels, "--out", out, "--title", XSS_LABEL).code == 0
    )
    html = (out / "index.html").read_text()
    assert XSS_LABEL not in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
    assert _config(out)["labels"]["1"] == XSS_LABEL


@pytest.mark.tensorflow
def test_prebuilt_tfjs_model_builds_without_tensorflow(run_cli, tmp_path, tiny_tf2):
    first = tmp_path / "first"
    assert run_cli("build", tiny_tf2, "--out", first).code == 0
    model_json = first / "model" / "model.json"
    (first / "model" / "labels.txt").write_text("kangaroo\nstop\n")
    out = tmp_path / "second"
    # A fresh interpreter in which importing TensorFlow fails, as on a machine without it.
    code = (
        "import sys; sys.modules['tensorflow'] = None; sys.modules['tensorflowjs'] = None\n"
        "from sitegen.cli import main; sys.argv = ['sitegen', 'build', sys.argv[1], '--out', sys.argv[2]]\n"
        "main()"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, str(model_json), str(out)], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    first_config, second_config = _config(first), _config(out)
    assert second_config["model"]["outputs"] == first_config["model"]["outputs"]
    assert second_config["model"]["postprocess"] == "raw"
    assert second_config["model"]["litert"] == first_config["model"]["litert"]  # carried over
    copied = tree_digest(first / "model")
    del copied["labels.txt"]
    assert tree_digest(out / "model") == copied
    assert second_config["labels"] == {"1": "kangaroo", "2": "stop"}


@pytest.mark.tensorflow
def test_rebuild_from_model_json_names_a_missing_tflite_part(run_cli, tmp_path, tiny_tf2):
    first = tmp_path / "first"
    assert run_cli("build", tiny_tf2, "--out", first).code == 0
    (first / "model" / "model.tflite.part0").unlink()
    out = tmp_path / "second"
    assert run_cli("build", first / "model" / "model.json", "--out", out).code == 0
    model = _config(out)["model"]
    assert model["litert"] is None
    assert (
        model["litertMissing"]
        == "model.tflite.part0 beside model.json is missing or the wrong size"
    )
    assert not (out / "vendor" / "litert").exists()


def test_help_is_fast_and_imports_no_tensorflow():
    code = (
        "import sys, runpy; sys.argv = ['sitegen', '--help']\n"
        "from sitegen.cli import app\n"
        "try:\n    app()\nexcept SystemExit:\n    pass\n"
        "assert 'tensorflow' not in sys.modules, 'TensorFlow imported by --help'\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "build" in done.stdout and "serve" in done.stdout and "inspect" in done.stdout


@pytest.mark.tensorflow
@pytest.mark.browser
def test_verify_records_backends_that_agree_with_tensorflow(run_cli, tmp_path, tiny_tf2):
    out = tmp_path / "dist"
    result = run_cli("build", tiny_tf2, "--out", out, "--verify")
    assert result.code == 0, result.err
    assert "agrees" in result.err
    verified = _config(out)["backends"]["verified"]
    assert verified["wasm"] is True and verified["cpu"] is True
    recorded = json.loads((out / "model" / "model.json").read_text())["userDefinedMetadata"]
    assert recorded["sitegen"]["model"]["numClasses"] == 2


@pytest.mark.tensorflow
@pytest.mark.parametrize("quantize", ["none", "float16", "uint8", "int8"])
def test_no_quantize_option_makes_a_dynamic_range_tflite(run_cli, tmp_path, tiny_tf2, quantize):
    """Dynamic-range quantization (int8 weights feeding float kernels) runs ~4x slower in
    LiteRT.js: no option may produce it. Its mark is int8 tensors in the file; --quantize int8's
    full-integer file has them, but every op with an int8 input computes in int8 (only its
    output DEQUANTIZE ops make float)."""
    import tensorflow as tf

    out = tmp_path / "dist"
    result = run_cli("build", tiny_tf2, "--out", out, "--quantize", quantize)
    assert result.code == 0, result.err
    parts = sorted((out / "model").glob("model.tflite.part*"), key=lambda p: int(p.suffix[5:]))
    interpreter = tf.lite.Interpreter(model_content=b"".join(p.read_bytes() for p in parts))
    if quantize == "int8":
        dtypes = {t["index"]: t["dtype"].__name__ for t in interpreter.get_tensor_details()}
        hybrid = [
            op["op_name"]
            for op in interpreter._get_ops_details()
            if op["op_name"] != "DEQUANTIZE"
            and any(dtypes[i] == "int8" for i in op["inputs"] if i >= 0)
            and any(dtypes[i] == "float32" for i in op["outputs"])
        ]
        assert not hybrid, hybrid
        assert "full int8 (int8 weights and activations, float32 outputs)" in result.err
        return
    inputs = {detail["index"] for detail in interpreter.get_input_details()}  # uint8 pixels
    types = {
        detail["dtype"].__name__
        for detail in interpreter.get_tensor_details()
        if detail["index"] not in inputs
    }
    assert not types & {"int8", "uint8"}, types
    assert ("float16" in types) == (quantize == "float16"), types
    assert {"float16": "float16-stored weights"}.get(quantize, "float32 weights") in result.err
