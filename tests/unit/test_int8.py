"""--quantize int8: a full-integer .tflite (int8 weights and activations, the model's own input
type in, float32 out) calibrated on images, the TF.js model left float32, --calibration-images
checked, and the verification criterion an int8 model is held to (sitegen.site.verify.compare_int8).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from sitegen.model import convert_tflite
from sitegen.site.verify import compare_int8


def _interpreter(site: Path):
    import tensorflow as tf

    parts = sorted((site / "model").glob("model.tflite.part*"), key=lambda p: int(p.suffix[5:]))
    return tf.lite.Interpreter(model_content=b"".join(p.read_bytes() for p in parts))


def _images(folder: Path, count: int, suffix: str = ".png") -> Path:
    folder.mkdir(parents=True)
    rng = np.random.default_rng(3)
    for index in range(count):
        pixels = rng.integers(0, 256, (48, 64, 3), dtype=np.uint8)
        Image.fromarray(pixels).save(folder / f"frame{index:02d}{suffix}")
    return folder


@pytest.mark.tensorflow
def test_int8_tflite_is_full_integer_with_float_outputs(run_cli, tmp_path, tiny_tf2):
    out = tmp_path / "dist"
    result = run_cli("build", tiny_tf2, "--out", out, "--quantize", "int8")
    assert result.code == 0, result.err
    interpreter = _interpreter(out)
    dtypes = {t["index"]: t["dtype"].__name__ for t in interpreter.get_tensor_details()}
    convolutions = [op for op in interpreter._get_ops_details() if op["op_name"] in ("CONV_2D",)]
    assert len(convolutions) == 4
    for op in convolutions:
        activation, weights = op["inputs"][:2]
        assert dtypes[weights] == "int8" and dtypes[activation] == "int8", op
        assert all(dtypes[i] == "int8" for i in op["outputs"]), op
    # The page feeds uint8 pixels (the model's own input type) and reads float32 outputs.
    assert [d["dtype"].__name__ for d in interpreter.get_input_details()] == ["uint8"]
    assert {d["dtype"].__name__ for d in interpreter.get_output_details()} == {"float32"}
    model = json.loads((out / "config.json").read_text())["model"]
    assert model["litert"]["quantization"] == "int8"
    assert model["litert"]["input"] == {"name": "image", "dtype": "uint8", "size": [64, 64]}
    # The TF.js model, the fallback, stays float32: no quantized weights in its manifest.
    manifest = json.loads((out / "model" / "model.json").read_text())["weightsManifest"]
    weights = [w for group in manifest for w in group["weights"]]
    assert weights and all("quantization" not in w for w in weights)
    assert {w["dtype"] for w in weights} <= {"float32", "int32"}
    assert "quantization none: int8 is for the .tflite" in result.err
    assert "full int8 (int8 weights and activations, float32 outputs)" in result.err
    assert "36 of 36 ops int8, uint8 input, float32 outputs" in result.err
    assert "calibrated = on verify-scene.jpg and 31 variations of it" in result.err
    recorded = json.loads((out / ".sitegen-site.json").read_text())["build"]["arguments"]
    assert recorded[recorded.index("--quantize") + 1] == "int8"


@pytest.mark.tensorflow
def test_calibration_images_folder_is_used(run_cli, tmp_path, tiny_tf2):
    folder = _images(tmp_path / "frames", 9, ".jpg")
    out = tmp_path / "dist"
    result = run_cli(
        "build", tiny_tf2, "--out", out, "--quantize", "int8", "--calibration-images", folder
    )
    assert result.code == 0, result.err
    assert f"calibrated = on 9 images from {folder}" in result.err
    recorded = json.loads((out / ".sitegen-site.json").read_text())["build"]["arguments"]
    assert recorded[recorded.index("--calibration-images") + 1] == str(folder.resolve())


def test_calibration_images_errors_are_one_line(run_cli, tmp_path):
    model = tmp_path / "no-model-needed"  # checked before the model is even looked at
    few = _images(tmp_path / "few", 3)
    (tmp_path / "empty").mkdir()
    (tmp_path / "file.png").write_bytes(b"x")
    cases = {
        tmp_path / "missing": "does not exist",
        tmp_path / "file.png": "is not a folder",
        tmp_path / "empty": "has 0 JPEG or PNG images; int8 calibration needs at least 8",
        few: "has 3 JPEG or PNG images",
    }
    for folder, message in cases.items():
        out = tmp_path / "dist"
        result = run_cli(
            "build", model, "--out", out, "--quantize", "int8", "--calibration-images", folder
        )
        assert result.code == 5, result.err
        assert message in result.error_line and str(folder) in result.error_line
    result = run_cli("build", model, "--out", tmp_path / "dist", "--calibration-images", few)
    assert result.code == 5 and "add --quantize int8" in result.error_line


def test_calibration_uses_at_most_200_evenly_spaced_and_names_an_unreadable_one(tmp_path):
    folder = tmp_path / "many"
    folder.mkdir()
    for index in range(450):
        (folder / f"{index:03d}.png").write_bytes(b"")
    (folder / "notes.txt").write_text("not an image")
    files = convert_tflite.calibration_files(folder)
    assert len(files) == convert_tflite.MAX_CALIBRATION_IMAGES
    assert files[0].name == "000.png" and files[-1].name in ("447.png", "448.png")
    from sitegen.errors import ConversionError

    with pytest.raises(ConversionError, match=r"000\.png cannot be read as an image"):
        convert_tflite.load_calibration(folder, tmp_path / "unused.jpg")


def test_default_calibration_is_the_verify_image_and_31_variations():
    from sitegen.resources import verify_image

    calibration = convert_tflite.load_calibration(None, verify_image())
    assert len(calibration.images) == 32
    assert calibration.what.startswith("verify-scene.jpg and 31 variations of it")
    fed = [convert_tflite.as_fed(image, (64, 48)) for image in calibration.images]
    assert all(pixels.shape == (64, 48, 3) and pixels.dtype == np.uint8 for pixels in fed)
    assert len({pixels.tobytes() for pixels in fed}) == 32  # all different
    again = convert_tflite.load_calibration(None, verify_image())
    assert [np.asarray(i).tobytes() for i in again.images] == [
        np.asarray(i).tobytes() for i in calibration.images
    ]  # deterministic: the same build gives the same model


def _detection(class_id: int, score: float, x: float, y: float, size: float = 0.3) -> dict:
    return {
        "classId": class_id,
        "score": score,
        "box": {"x": x, "y": y, "width": size, "height": size},
    }


TENSORFLOW = [
    _detection(1, 0.91, 0.10, 0.10),
    _detection(2, 0.72, 0.50, 0.40),
    _detection(1, 0.08, 0.60, 0.05),
]


def test_int8_criterion_accepts_small_differences():
    page = [
        _detection(1, 0.88, 0.11, 0.12),
        _detection(2, 0.66, 0.52, 0.41),
        _detection(2, 0.09, 0.0, 0.6),  # low-score noise is not compared
    ]
    problem, compared = compare_int8(page, TENSORFLOW, threshold=0.5)
    assert problem is None
    assert "2 TensorFlow and 2 page detections >= 0.5 matched by class" in compared
    assert "IoU >= 0.5, scores within 0.1" in compared
    # A borderline detection just under the threshold on one side still matches the other's.
    tensorflow = [_detection(1, 0.91, 0.1, 0.1), _detection(2, 0.52, 0.5, 0.4)]
    borderline = [_detection(1, 0.87, 0.1, 0.1), _detection(2, 0.45, 0.5, 0.4)]
    assert compare_int8(borderline, tensorflow, threshold=0.5)[0] is None


@pytest.mark.parametrize(
    ("page", "problem"),
    [
        ([_detection(1, 0.9, 0.1, 0.1)], "TensorFlow's class 2 at 0.720 has no page detection"),
        (
            [_detection(1, 0.9, 0.1, 0.1), _detection(1, 0.7, 0.5, 0.4)],
            "TensorFlow's class 2",
        ),  # the wrong class
        (
            [_detection(1, 0.9, 0.1, 0.1), _detection(2, 0.7, 0.3, 0.4)],
            "best IoU",
        ),  # moved too far
        (
            [_detection(1, 0.9, 0.1, 0.1), _detection(2, 0.55, 0.5, 0.4)],
            "scoring within 0.1",
        ),  # score too far off
        (
            [*TENSORFLOW[:2], _detection(1, 0.8, 0.6, 0.6)],
            "page's class 1 at 0.800 has no TensorFlow detection",
        ),  # a confident detection TensorFlow does not have
    ],
)
def test_int8_criterion_refuses_what_a_person_would_see(page, problem):
    found, _ = compare_int8(page, TENSORFLOW, threshold=0.5)
    assert found is not None and problem in found, found


def test_int8_criterion_with_nothing_confident_still_compares_the_highest_score():
    quiet = [_detection(1, 0.013, 0.2, 0.2), _detection(1, 0.012, 0.6, 0.6)]
    near = [_detection(1, 0.012, 0.5, 0.1)]
    problem, compared = compare_int8(near, quiet, threshold=0.5)
    assert problem is None and "no detection >= 0.5 on either side" in compared
    broken = compare_int8([], [_detection(1, 0.3, 0.2, 0.2)], threshold=0.5)[0]
    assert broken is not None and "highest score is 0.000, TensorFlow's 0.300" in broken
