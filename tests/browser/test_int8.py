"""--quantize int8 on the embedded model (real trained weights): the full-integer .tflite is
verified against float TensorFlow by the int8 criterion, timed and measured next to a float32
.tflite, runs in the page on LiteRT.js WASM and finds the signs; sitegen eval compares the two."""

from __future__ import annotations

import contextlib
import io
import json

import pytest

from devtools.default_model import scenes
from sitegen.resources import default_model_dir
from sitegen.site.page import PageQuery
from sitegen.site.verify import box_iou, compare_int8
from tests.helpers.browser import detections_in_page, expected_from_tensorflow, two_sign_scene

pytestmark = pytest.mark.tensorflow
pytest.importorskip("pycocotools")


@pytest.fixture(scope="module")
def eval_set(tmp_path_factory):
    """6 held-out scenes with COCO JSON (images/, annotations.coco.json)."""
    folder = tmp_path_factory.mktemp("int8-eval") / "set"
    scenes.write_image_set(folder, count=6, seed=777)
    return folder


@pytest.fixture(scope="module")
def int8_site(tmp_path_factory, eval_set):
    """The embedded model built with --quantize int8, verified, with its accuracy measured; the
    site and what the build printed."""
    from sitegen.build import BuildOptions, build

    out = tmp_path_factory.mktemp("int8") / "site"
    options = BuildOptions(
        model=default_model_dir(), out=out, quantize="int8", verify=True,
        eval_images=eval_set / "images", eval_annotations=eval_set / "annotations.coco.json",
    )  # fmt: skip
    printed = io.StringIO()
    with contextlib.redirect_stderr(printed):
        build(options)
    return out, printed.getvalue()


@pytest.fixture(scope="module")
def scene(tmp_path_factory):
    """A generated photo with both signs, big enough to find (as test_page.py's), and its truth."""
    image, truth = two_sign_scene()
    path = tmp_path_factory.mktemp("int8-scene") / "scene.png"
    image.save(path)
    return path, truth


def test_int8_site_is_verified_timed_and_measured_next_to_float(int8_site):
    site, printed = int8_site
    config = json.loads((site / "config.json").read_text())
    assert config["model"]["litert"]["quantization"] == "int8"
    assert config["backends"]["verified"]["litert-wasm"] is True
    assert config["backends"]["verified"]["wasm"] is True  # TF.js: float32, the strict check
    assert config["backends"]["timingMs"]["litert-wasm"] > 0
    assert "litert-wasm agrees: int8 vs float TensorFlow: 2 TensorFlow and 2 page" in printed
    assert "wasm        agrees: " in printed and "detections agree" in printed
    assert "float32    = litert-wasm on a float32 .tflite of the same cut" in printed
    assert "speed      = litert-wasm int8 " in printed
    for line in ("accuracy   = int8    .tflite: AP@.5", "accuracy   = float32 .tflite: AP@.5"):
        assert line in printed, printed
    assert "int8 cost  = AP@.5" in printed
    assert "--quantize none,int8 --backend litert-wasm" in printed
    assert not list((site / "model").glob("*.float*"))  # the float32 .tflite is not shipped
    assert sum(f["bytes"] for f in config["model"]["litert"]["files"]) < 300_000


def test_int8_site_finds_the_signs_on_litert_wasm(browser, int8_site, scene):
    site, _ = int8_site
    path, truth = scene
    event = detections_in_page(
        browser, site, path, PageQuery(backend="litert-wasm", threshold=0, max_detections=100)
    )[-1]
    assert event["detail"]["backend"] == "litert-wasm"
    found = event["detail"]["detections"]
    expected = expected_from_tensorflow(default_model_dir() / "saved_model", event, 0.0, len(found))
    problem, compared = compare_int8(found, expected, threshold=0.5)
    assert problem is None, problem
    assert f"{len(truth)} TensorFlow and {len(truth)} page detections >= 0.5" in compared
    confident = [d for d in found if d["score"] >= 0.5]
    assert len(confident) == len(truth), confident
    for sign in truth:
        assert any(
            d["label"] == sign["label"] and box_iou(d["box"], sign["box"]) >= 0.5 for d in confident
        ), (sign, confident)


def test_eval_compares_int8_with_float(eval_set, tmp_path):
    from sitegen.commands.eval import EvalOptions, evaluate, summary_table

    options = EvalOptions(
        default_model_dir(), eval_set / "images", eval_set / "annotations.coco.json",
        backends=("litert-wasm",), quantize=("none", "int8"),
    )  # fmt: skip
    result = evaluate(options)
    rows = {name: {row["what"]: row for row in rows} for name, rows in result["variants"].items()}
    float_ap = rows["none"]["page, litert-wasm"]["summary"]["AP50"]
    int8_ap = rows["int8"]["page, litert-wasm"]["summary"]["AP50"]
    assert float_ap > 0.8 and abs(float_ap - int8_ap) <= 0.05, (float_ap, int8_ap)
    assert "int8      page, litert-wasm" in summary_table(result)
