"""Ultralytics YOLO exports build into the same site, and the page's detections equal
Ultralytics' own predict.

Random-init YOLOv8n and YOLO11n (imgsz 320), recalibrated so their scores spread out
(tests/helpers/yolo_fixture.py), are exported by Ultralytics 8.4.82 to a SavedModel, a TF.js web
model and .tflite files. A site is built from each form; headless Chromium runs the page on
two scenes, a 320x320 one and a 1280x720 one (letterboxed to 320x180 with 70 px of grey above
and below), and its detections must be predict's: same classes in the same order, boxes within
1e-3 of the frame, scores within 1e-4. The scenes are made of flat 4x4 blocks where they are
scaled, so the browser's resize and OpenCV's give the same pixels.
"""

from __future__ import annotations

import contextlib
import importlib.util
import io
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from sitegen.site.page import page_url
from sitegen.site.verify import compare
from tests.helpers.browser import RECORD_EVENTS_JS, open_page, served

pytestmark = pytest.mark.tensorflow
# Looked up, not imported: importing ultralytics patches PIL.Image.open for the whole process
# (it then wants pi_heif for any file PIL cannot identify), which other tests would feel. The
# exports run in their own process.
if importlib.util.find_spec("ultralytics") is None:
    pytest.skip(
        "the YOLO tests need the yolo-test extra (make test installs it)", allow_module_level=True
    )

MODELS = ("yolov8n", "yolo11n", "yolo26n")  # yolo26n: its classic head (yolo_fixture)
SCENES = ("square", "wide")
BOX_TOLERANCE, SCORE_TOLERANCE = 1e-3, 1e-4


@pytest.fixture(scope="session")
def yolo_exports(tmp_path_factory) -> dict[str, Path]:
    """model -> its fixture folder (exports, scenes, fixture.json with predict's detections)."""
    root = tmp_path_factory.mktemp("yolo")
    folders = {}
    for model in MODELS:
        folder = root / model
        # Its own process: PyTorch and Ultralytics stay out of the test process.
        subprocess.run(
            [sys.executable, "-m", "tests.helpers.yolo_fixture", str(folder), "--model", model],
            check=True,
            cwd=Path(__file__).resolve().parents[2],
        )
        folders[model] = folder
    return folders


def fixture_of(folder: Path) -> dict:
    return json.loads((folder / "fixture.json").read_text())


def _build(model: Path, out: Path, **options) -> str:
    from sitegen.build import BuildOptions, build

    printed = io.StringIO()
    with contextlib.redirect_stderr(printed):
        build(BuildOptions(model=model, out=out, **options))
    return printed.getvalue()


# What each build is made from, and the backends its page is checked on.
FORMS = {
    "saved_model": ("saved_model", ("litert-wasm", "wasm")),  # TF.js + a .tflite converted
    "web_model": ("web_model", ("wasm",)),  # the TF.js export as it is
    "tflite": ("tflite_float32", ("litert-wasm",)),  # the user's .tflite (normalised boxes)
}


@pytest.fixture(scope="session")
def yolo_sites(yolo_exports, tmp_path_factory) -> dict[tuple[str, str], tuple[Path, str]]:
    """(model, form) -> (site, what the build printed). The SavedModel builds are verified in
    Chromium against TensorFlow on the square scene, as a user's build would be."""
    sites = {}
    for model, folder in yolo_exports.items():
        exports = fixture_of(folder)["exports"]
        for form, (key, _) in FORMS.items():
            out = tmp_path_factory.mktemp(f"{model}-{form}") / "site"
            verify = form == "saved_model"
            printed = _build(
                folder / exports[key], out, verify=verify, verify_image=folder / "square.png"
            )
            sites[model, form] = out, printed
    folder = yolo_exports["yolov8n"]
    out = tmp_path_factory.mktemp("yolov8n-tflite16") / "site"
    tflite16 = folder / fixture_of(folder)["exports"]["tflite_float16"]
    printed = _build(tflite16, out, verify=True, verify_image=folder / "square.png")
    sites["yolov8n", "tflite16"] = out, printed
    return sites


def page_detections(browser, site: Path, backend: str, images: list[Path]) -> list[list[dict]]:
    """The page's detections on each image in turn, on ``backend``, at predict's conf."""
    with served(site) as url:
        page, watcher = open_page(
            browser, page_url(url, backend=backend, threshold=0.25, max_detections=300)
        )
        page.evaluate(RECORD_EVENTS_JS)
        page.wait_for_function("window.sitegen && window.sitegen.state !== 'loading'")
        assert page.evaluate("window.sitegen.backend") == backend, page.inner_text("#status")
        found = []
        for image in images:
            page.evaluate("window.__events = []")
            page.set_input_files("input[type=file]", str(image))
            page.wait_for_function("window.__events.some(e => e.detail.source === 'image')")
            event = page.evaluate("window.__events.find(e => e.detail.source === 'image')")
            found.append(event["detail"]["detections"])
        watcher.assert_clean()
        page.context.close()
    return found


def predicted(scene: dict) -> list[dict]:
    """Ultralytics' predict, in the page's terms: 1-based classes, boxes as fractions."""
    width, height = scene["width"], scene["height"]
    return [
        {
            "classId": d["class"] + 1,
            "score": d["score"],
            "box": {
                "x": d["box"][0] / width,
                "y": d["box"][1] / height,
                "width": (d["box"][2] - d["box"][0]) / width,
                "height": (d["box"][3] - d["box"][1]) / height,
            },
        }
        for d in scene["detections"]
    ]


CASES = [
    (model, form, backend)
    for model in MODELS
    for form, (_, backends) in FORMS.items()
    for backend in backends
]


@pytest.mark.parametrize(("model", "form", "backend"), CASES)
def test_page_detections_equal_ultralytics_predict(
    browser, yolo_exports, yolo_sites, model, form, backend
):
    fixture = fixture_of(yolo_exports[model])
    site, _ = yolo_sites[model, form]
    images = [yolo_exports[model] / fixture["scenes"][name]["path"] for name in SCENES]
    for name, actual in zip(SCENES, page_detections(browser, site, backend, images), strict=True):
        expected = predicted(fixture["scenes"][name])
        assert len(expected) >= 5, f"{name}: predict found too little to compare"
        problem = compare(actual, expected, box_tol=BOX_TOLERANCE, score_tol=SCORE_TOLERANCE)
        assert problem is None, f"{model} {form} {backend} {name}: {problem}"


def test_wide_frame_maps_boxes_back_from_the_letterbox(browser, yolo_exports, yolo_sites):
    """The 1280x720 frame: some of predict's boxes lie outside the letterbox's middle rows
    (where a stretched or unmapped box would land), and the page's match them."""
    fixture = fixture_of(yolo_exports["yolov8n"])
    scene = fixture["scenes"]["wide"]
    site, _ = yolo_sites["yolov8n", "saved_model"]
    (actual,) = page_detections(
        browser, site, "litert-wasm", [yolo_exports["yolov8n"] / "wide.png"]
    )
    expected = predicted(scene)
    # Predict's y extents in the frame reach the top and bottom (0 and 1), which in the 320x320
    # input are rows 70 and 250: a page that skipped the mapping would report 0.22..0.78.
    assert min(d["box"]["y"] for d in expected) < 0.05
    assert max(d["box"]["y"] + d["box"]["height"] for d in expected) > 0.95
    assert compare(actual, expected, box_tol=BOX_TOLERANCE, score_tol=SCORE_TOLERANCE) is None


def test_build_recognises_and_verifies_yolo(yolo_exports, yolo_sites):
    for model in MODELS:
        site, printed = yolo_sites[model, "saved_model"]
        config = json.loads((site / "config.json").read_text())
        assert config["model"]["postprocess"] == "yolo"
        assert config["model"]["yolo"]["boxUnits"] == "pixels"
        assert config["model"]["input"]["size"] == [320, 320]
        assert config["labels"]["1"] == "0" and len(config["labels"]) == 80  # metadata names
        assert "Ultralytics YOLO detection" in printed
        assert "[1, 84, 2100]" in printed
        assert config["backends"]["verified"]["litert-wasm"] is True, printed
        assert config["backends"]["verified"]["wasm"] is True, printed
        tflite_site, tflite_printed = yolo_sites[model, "tflite"]
        tflite = json.loads((tflite_site / "config.json").read_text())["model"]
        assert tflite["yolo"]["boxUnits"] == "normalized"  # Ultralytics' tflite export
        assert f"{model}_float32.tflite as it is" in tflite_printed
        web = json.loads((yolo_sites[model, "web_model"][0] / "config.json").read_text())
        assert web["model"]["litert"] is None and web["model"]["postprocess"] == "yolo"


def test_a_float16_tflite_is_verified_against_itself(yolo_sites):
    """A float16 .tflite holds rounded weights (scores 0.04 off the float32 SavedModel's here):
    its LiteRT.js backends are checked against TensorFlow Lite running the same file, the TF.js
    ones against the SavedModel, and all agree."""
    site, printed = yolo_sites["yolov8n", "tflite16"]
    config = json.loads((site / "config.json").read_text())
    assert config["model"]["litert"]["quantization"] == "float16"
    verified = config["backends"]["verified"]
    assert verified["litert-wasm"] is True and verified["wasm"] is True, printed


# ---- bad input ---------------------------------------------------------------------------------


def _copy_saved_model(yolo_exports, tmp_path) -> Path:
    folder = yolo_exports["yolov8n"]
    source = folder / fixture_of(folder)["exports"]["saved_model"]
    target = tmp_path / source.name
    shutil.copytree(source, target)
    return target


@pytest.mark.parametrize("task", ["segment", "pose", "classify", "obb"])
def test_other_tasks_are_refused_with_what_is_supported(yolo_exports, tmp_path, run_cli, task):
    model = _copy_saved_model(yolo_exports, tmp_path)
    metadata = model / "metadata.yaml"
    metadata.write_text(metadata.read_text().replace("task: detect", f"task: {task}"))
    result = run_cli("build", model, "--out", tmp_path / "site")
    assert result.code == 3
    assert f"Ultralytics {task} model" in result.error_line
    assert "task: detect" in result.error_line
    assert not (tmp_path / "site").exists()


def test_no_metadata_and_an_unrecognisable_output_is_refused(tmp_path, run_cli):
    """A SavedModel with no metadata.yaml whose outputs are neither the OD API's nor a YOLO head."""
    from tests.helpers.tiny_models import save_odd_output_model

    model = save_odd_output_model(tmp_path / "odd")
    result = run_cli("build", model, "--out", tmp_path / "site")
    assert result.code == 3
    assert "no recognisable detection outputs" in result.error_line
    assert "Ultralytics YOLO detection export" in result.error_line


def test_no_metadata_but_a_yolo_head_builds_with_numbered_classes(yolo_exports, tmp_path, run_cli):
    model = _copy_saved_model(yolo_exports, tmp_path)
    (model / "metadata.yaml").unlink()
    result = run_cli("build", model, "--out", tmp_path / "site")
    assert result.code == 0, result.err
    assert "recognised by its output shape" in result.err
    config = json.loads((tmp_path / "site" / "config.json").read_text())
    assert config["model"]["postprocess"] == "yolo" and config["model"]["numClasses"] == 80


def test_an_int8_input_tflite_is_refused(yolo_exports, tmp_path, run_cli):
    from tests.helpers.tiny_models import save_int8_input_tflite

    model = _copy_saved_model(yolo_exports, tmp_path)
    tflite = save_int8_input_tflite(model / "yolov8n_int8.tflite", size=320)
    result = run_cli("build", tflite, "--out", tmp_path / "site")
    assert result.code == 3
    assert "takes int8 input, which the page cannot feed" in result.error_line
    assert "_float32.tflite" in result.error_line


def test_a_lone_tflite_says_to_keep_its_saved_model(yolo_exports, tmp_path, run_cli):
    folder = yolo_exports["yolov8n"]
    lone = tmp_path / "yolov8n_float32.tflite"
    shutil.copy(folder / fixture_of(folder)["exports"]["tflite_float32"], lone)
    result = run_cli("build", lone, "--out", tmp_path / "site")
    assert result.code == 3
    assert "has no SavedModel beside it" in result.error_line


def test_postprocess_options_are_for_ssd(yolo_exports, tmp_path, run_cli):
    model = _copy_saved_model(yolo_exports, tmp_path)
    result = run_cli("build", model, "--out", tmp_path / "site", "--postprocess", "raw")
    assert result.code == 3
    assert "always post-processed in the page" in result.error_line


def test_inspect_explains_a_yolo_export(yolo_exports, run_cli):
    folder = yolo_exports["yolo11n"]
    result = run_cli("inspect", folder / fixture_of(folder)["exports"]["tflite_float32"])
    assert result.code == 0, result.err
    assert "Family: Ultralytics YOLO detection" in result.out
    assert "Input: 320x320 RGB float32 pixels / 255, the frame letterboxed" in result.out
    assert "[1, 84, 2100], boxes in normalized" in result.out
    assert "layout [1, 4 + 80, 2100]: cx, cy, w, h" in result.out
    assert "NMS per class at IoU 0.7, at most 300" in result.out
    assert "the given yolo11n_float32.tflite, as it is" in result.out
    assert "(80 classes)" in result.out


def test_eval_measures_a_yolo_site_beside_tensorflow(yolo_exports, yolo_sites, tmp_path, run_cli):
    """sitegen eval on a YOLO site, with predict's own boxes as the annotations: the page scores
    AP@.5 1.0 and agrees with the SavedModel read as predict reads it."""
    folder = yolo_exports["yolov8n"]
    fixture = fixture_of(folder)
    images, annotations, categories = tmp_path / "images", [], {}
    images.mkdir()
    coco_images = []
    for image_id, name in enumerate(SCENES, start=1):
        scene = fixture["scenes"][name]
        shutil.copy(folder / scene["path"], images / scene["path"])
        coco_images.append(
            {
                "id": image_id,
                "file_name": scene["path"],
                "width": scene["width"],
                "height": scene["height"],
            }
        )
        for d in scene["detections"]:
            category = categories.setdefault(str(d["class"]), len(categories) + 1)
            x1, y1, x2, y2 = d["box"]
            annotations.append({
                "id": len(annotations) + 1, "image_id": image_id, "category_id": category,
                "bbox": [x1, y1, x2 - x1, y2 - y1], "area": (x2 - x1) * (y2 - y1), "iscrowd": 0,
            })  # fmt: skip
    coco = {
        "images": coco_images,
        "annotations": annotations,
        "categories": [{"id": i, "name": n} for n, i in categories.items()],
    }
    (tmp_path / "truth.json").write_text(json.dumps(coco))
    site, _ = yolo_sites["yolov8n", "saved_model"]
    report = tmp_path / "eval.json"
    result = run_cli(
        "eval", site, "--images", images, "--annotations", tmp_path / "truth.json",
        "--backend", "litert-wasm", "--json", report,
    )  # fmt: skip
    assert result.code == 0, result.err
    result = json.loads(report.read_text())
    (rows,) = result["variants"].values()
    page = next(r for r in rows if r["what"].startswith("page"))
    assert page["summary"]["AP50"] > 0.99, page["summary"]
    assert page["parity"]["images"] == 2 and page["parity"]["images_that_differ"] == [], page[
        "parity"
    ]
    assert page["parity"]["largest_score_difference"] < SCORE_TOLERANCE
    assert any(r["what"] == "TensorFlow" for r in rows)


def test_the_test_process_never_imports_ultralytics():
    """Ultralytics patches PIL.Image.open when imported; the exports run in their own process."""
    assert "ultralytics" not in sys.modules
