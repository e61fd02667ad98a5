"""Convert the same raw-output cut of the serving function to a ``.tflite`` model for LiteRT.js.

LiteRT.js (XNNPACK in threaded WASM, or WebGPU) runs SSD backbones about 2.5x faster than TF.js
WASM on a CPU, so the site carries both: the TF.js graph model stays as the compatible path and
fallback, and the ``.tflite`` ends at the same ``raw_detection_boxes`` / ``raw_detection_scores``
so the page's JavaScript post-processing serves both runtimes. TensorFlow's own converter does
the work; the graph gets a fixed [1, H, W, 3] input (the page stretches frames to that size
anyway), which lets it fold the resize away and plan every tensor ahead.

The file is written in parts no larger than the weight shards (static hosts and CDNs cache files
of a few MB well), which the page downloads with progress and joins in memory.

``--quantize int8`` makes the .tflite full-integer (int8 weights and activations, XNNPACK's int8
kernels: about 1.3x faster in LiteRT.js WASM and a quarter of the bytes), calibrated on images fed
exactly as the page feeds them; its input stays the model's own (uint8 or float32 pixels) and its
outputs float32, the types LiteRT.js's JavaScript tensors take. See docs/int8.md.

Needs TensorFlow; imported only by commands that convert.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from sitegen.contract import (
    IMAGE_DTYPES,
    LITERT_FLOAT16,
    LITERT_FULL_INTEGER,
    RAW_ROLES,
    UINT8,
    LitertSpec,
)
from sitegen.errors import ConversionError
from sitegen.model.convert_tfjs import import_converter, quiet_native_logs
from sitegen.model.signature import SignatureInfo
from sitegen.options import Quantize

INPUT_NAME = "image"
WHY_INT8 = (
    "XNNPACK's int8 kernels run about 1.3x faster than float in LiteRT.js WASM, from a quarter "
    "of the bytes; the TF.js model (the fallback) stays float32"
)
# Calibration for --quantize int8: at least this many images from --calibration-images, at most
# this many used (evenly spaced over the sorted names).
MIN_CALIBRATION_IMAGES = 8
MAX_CALIBRATION_IMAGES = 200
CALIBRATION_SUFFIXES = (".jpg", ".jpeg", ".png")
# The .tflite signature's outputs are named by their roles (raw_boxes, raw_scores; predictions):
# the page reads outputs by these names, never by position.


@dataclass(frozen=True)
class LitertOutcome:
    """The .tflite written, or why the site carries none (shown in the build summary)."""

    spec: LitertSpec | None
    reason: str
    details: tuple[str, ...] = ()  # more summary lines (--quantize int8: what and why)


def why_not(postprocess: str, input_size: tuple[int, int] | None) -> str | None:
    """Why this model cannot get a .tflite, or None when it can."""
    if postprocess != "raw":
        return (
            "post-processing runs inside the graph (no raw_detection_boxes/raw_detection_scores "
            "outputs, or --postprocess graph), and LiteRT.js runs only the raw-output cut"
        )
    if input_size is None:
        return "the model's input size is not fixed (no fixed_shape_resizer in pipeline.config)"
    return None


def convert_tflite(
    signature: SignatureInfo,
    input_size: tuple[int, int],
    folder: Path,
    *,
    quantize: Quantize = Quantize.none,
    part_bytes: int = 4 * 1024 * 1024,
    prefix: str = "model",
    calibration: Calibration | None = None,
    roles: tuple[str, ...] = RAW_ROLES,
) -> LitertOutcome:
    """Write ``model.tflite.partN`` files into ``folder``; a model TensorFlow's converter refuses
    gives a reason instead of an error, since the TF.js model serves on its own. With
    a full-integer ``quantize`` (int8, which needs ``calibration``) a model that cannot be made
    full-integer is an error instead: the user asked for it."""
    import_converter()
    import tensorflow as tf

    height, width = input_size
    dtype = tf.uint8 if signature.input.dtype == UINT8 else tf.float32
    full_integer = quantize.effect.tflite == LITERT_FULL_INTEGER
    serving = signature.function
    input_key = signature.input.key
    keys = {role: signature.roles[role].key for role in roles}

    @tf.function(input_signature=[tf.TensorSpec([1, height, width, 3], dtype, name=INPUT_NAME)])
    def raw_outputs(image):
        outputs = serving(**{input_key: image})
        return {role: outputs[key] for role, key in keys.items()}

    try:
        with quiet_native_logs():
            converter = tf.lite.TFLiteConverter.from_concrete_functions(
                [raw_outputs.get_concrete_function()], signature.loaded
            )
            # What each --quantize makes of the .tflite is sitegen.options' table; none is
            # dynamic-range. float16: float16-stored weights, float32 compute, half the bytes.
            if quantize.effect.tflite == LITERT_FLOAT16:
                converter.optimizations = [tf.lite.Optimize.DEFAULT]
                converter.target_spec.supported_types = [tf.float16]
            elif full_integer:
                _full_integer(converter, calibration, (height, width), dtype)
            data = converter.convert()
    except ConversionError:
        raise
    except Exception as exc:  # the MLIR converter raises many types for ops it cannot lower
        first = _first_line(exc)
        if full_integer:
            raise ConversionError(
                f"--quantize int8: TensorFlow's TFLite converter cannot make the model "
                f"full-integer ({first}); build without --quantize int8"
            ) from None
        return LitertOutcome(None, f"TensorFlow's TFLite converter refused the model ({first})")

    details = ()
    if full_integer:
        details = (
            f"int8       = {integer_check(data)}",
            f"calibrated = on {calibration.what}",
            f"why int8   = {WHY_INT8}",
        )
    files = write_parts(data, folder, part_bytes=part_bytes, prefix=prefix)
    spec = LitertSpec(
        files=files,
        input_name=INPUT_NAME,
        input_dtype=dtype.name,
        input_size=(height, width),
        outputs={role: role for role in roles},
        quantization=quantize.effect.tflite,
    )
    parts = "part" if len(files) == 1 else "parts"
    reason = f"{len(data) / 1e6:.1f} MB in {len(files)} {parts}, {quantize.effect.tflite_weights}"
    return LitertOutcome(spec, reason, details)


def _first_line(exc: Exception) -> str:
    """The converter's message, first meaningful line (MLIR errors start with a location)."""
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    for line in lines:
        if "error:" in line:
            return line.split("error:", 1)[1].strip()[:200]
    return lines[0][:200] if lines else type(exc).__name__


# ---- --quantize int8 -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Calibration:
    """The images --quantize int8 calibrates on, each an RGB PIL image at its own size (the
    converter gets them as the page feeds the model: stretched to the input size), and what they
    are in the build summary's words."""

    images: tuple
    what: str


def _full_integer(converter, calibration: Calibration | None, size: tuple[int, int], dtype) -> None:
    """Full-integer quantization: int8 weights and activations, int8 kernels only
    (TFLITE_BUILTINS_INT8; an op that has no int8 kernel, such as SQRT, the converter still
    keeps in float between a dequantize and a quantize, and ``integer_check`` names it). The
    input keeps the model's own type (uint8 pixels stay uint8, the graph's Cast then being its
    first op; float32 stays float32, quantized inside) and the outputs are float32: LiteRT.js's
    JavaScript tensors take float32, int32 and uint8 only."""
    import tensorflow as tf

    if calibration is None:
        raise ConversionError("--quantize int8 needs calibration images")
    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    converter.representative_dataset = representative_dataset(calibration, size, dtype)
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    converter.inference_input_type = tf.float32 if dtype == tf.float32 else dtype
    converter.inference_output_type = tf.float32


def representative_dataset(
    calibration: Calibration, size: tuple[int, int], dtype
) -> Callable[[], object]:
    """The converter's calibration input: each image stretched to the model's input size (as the
    page draws a frame on its input canvas, no letterbox), as [1, H, W, 3] pixels 0..255 in the
    model's input type, exactly what the page hands LiteRT.js."""
    numpy_dtype = dtype.as_numpy_dtype

    def samples():
        for image in calibration.images:
            yield [as_fed(image, size).astype(numpy_dtype)[None]]

    return samples


def as_fed(image, size: tuple[int, int]):
    """An RGB PIL image as the page feeds it: stretched to (height, width), HxWx3 uint8."""
    import numpy as np
    from PIL import Image

    return np.asarray(image.resize((size[1], size[0]), Image.BILINEAR), np.uint8)


def integer_check(data: bytes) -> str:
    """What the written .tflite computes in, read back with TensorFlow's interpreter, for the build
    summary. Refuses one whose input or outputs LiteRT.js's JS tensors cannot take, or whose
    convolutions stayed float (that is not full-integer). The converter keeps an op without an
    int8 kernel (SQRT, say) in float between a dequantize and a quantize; such ops are named."""
    import warnings

    import numpy as np
    import tensorflow as tf

    with quiet_native_logs(), warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # "tf.lite.Interpreter is deprecated"
        interpreter = tf.lite.Interpreter(model_content=data)
    tensors = {t["index"]: t for t in interpreter.get_tensor_details()}
    inputs = [d["dtype"].__name__ for d in interpreter.get_input_details()]
    outputs = [d["dtype"].__name__ for d in interpreter.get_output_details()]
    if not set(inputs) <= set(IMAGE_DTYPES) or set(outputs) != {"float32"}:
        raise ConversionError(
            f"--quantize int8 made a .tflite with {'/'.join(inputs)} input and "
            f"{'/'.join(outputs)} outputs; LiteRT.js needs uint8 or float32 in, float32 out"
        )
    ops = [op for op in interpreter._get_ops_details() if op["op_name"] not in _CONVERSIONS]
    float_ops = sorted(
        {
            op["op_name"]
            for op in ops
            if any(tensors[i]["dtype"].__name__ == "float32" for i in op["outputs"] if i >= 0)
        }
    )
    if set(float_ops) & _HEAVY_OPS:
        raise ConversionError(
            f"--quantize int8 left {', '.join(sorted(set(float_ops) & _HEAVY_OPS))} in float: "
            "the model cannot be made full-integer; build without --quantize int8"
        )
    float_outputs = [
        tensors[i]
        for op in ops
        for i in op["outputs"]
        if i >= 0 and tensors[i]["dtype"].__name__ == "float32"
    ]
    floats = sum(
        1
        for op in ops
        if any(tensors[i]["dtype"].__name__ == "float32" for i in op["outputs"] if i >= 0)
    )
    values = sum(int(np.prod(t["shape"])) for t in float_outputs)
    kept = (
        f" ({', '.join(float_ops)} kept in float by the converter, on {values:,} values)"
        if float_ops
        else ""
    )
    return f"{len(ops) - floats} of {len(ops)} ops int8{kept}, {inputs[0]} input, float32 outputs"


# Ops that only change a tensor's type, and the ops that hold the compute.
_CONVERSIONS = {"QUANTIZE", "DEQUANTIZE", "CAST"}
_HEAVY_OPS = {"CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED", "TRANSPOSE_CONV", "BATCH_MATMUL"}


def calibration_files(folder: Path) -> list[Path]:
    """The JPEG and PNG files of ``--calibration-images DIR`` to calibrate on: at least
    MIN_CALIBRATION_IMAGES, at most MAX_CALIBRATION_IMAGES of them evenly spaced over the sorted
    names. Checked before any slow work."""
    if not folder.is_dir():
        what = "is not a folder" if folder.exists() else "does not exist"
        raise ConversionError(
            f"--calibration-images {folder} {what}; pass a folder of JPEG or PNG images"
        )
    files = sorted(
        p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in CALIBRATION_SUFFIXES
    )
    if len(files) < MIN_CALIBRATION_IMAGES:
        raise ConversionError(
            f"--calibration-images {folder} has {len(files)} JPEG or PNG images; int8 "
            f"calibration needs at least {MIN_CALIBRATION_IMAGES} (up to "
            f"{MAX_CALIBRATION_IMAGES} are used) of what the camera will see"
        )
    if len(files) > MAX_CALIBRATION_IMAGES:
        step = len(files) / MAX_CALIBRATION_IMAGES
        files = [files[int(i * step)] for i in range(MAX_CALIBRATION_IMAGES)]
    return files


def load_calibration(folder: Path | None, base: Path) -> Calibration:
    """--calibration-images DIR's images, or by default ``base`` (the verification image) and
    deterministic variations of it (crops, mirror images, brightness and contrast)."""
    from PIL import Image, UnidentifiedImageError

    if folder is not None:
        files = calibration_files(folder)
        images = []
        for path in files:
            try:
                with Image.open(path) as image:
                    images.append(image.convert("RGB"))
            except (OSError, UnidentifiedImageError) as exc:
                raise ConversionError(
                    f"--calibration-images: {path} cannot be read as an image ({exc})"
                ) from None
        return Calibration(tuple(images), f"{len(images)} images from {folder}")
    with Image.open(base) as image:
        images = variations(image.convert("RGB"))
    return Calibration(
        tuple(images),
        f"{base.name} and {len(images) - 1} variations of it (crops, mirrored, brightness, "
        "contrast; --calibration-images DIR to calibrate on your own images)",
    )


def variations(image) -> list:
    """``image`` and 31 deterministic variations: mirrored, crops at three scales in five places
    (every other one mirrored), brightness and contrast changes, and washed-out colour. One scene
    is a thin calibration set; the variations spread the activation ranges over the framings and
    exposures a camera gives."""
    from PIL import ImageEnhance, ImageOps

    width, height = image.size
    out = [image, ImageOps.mirror(image)]
    for scale in (0.85, 0.7, 0.55):
        w, h = int(width * scale), int(height * scale)
        places = ((0, 0), (width - w, 0), (0, height - h), (width - w, height - h))
        places += (((width - w) // 2, (height - h) // 2),)
        for index, (x, y) in enumerate(places):
            crop = image.crop((x, y, x + w, y + h))
            out.append(ImageOps.mirror(crop) if index % 2 else crop)
    for factor in (0.5, 0.7, 0.85, 1.15, 1.3, 1.6):
        out.append(ImageEnhance.Brightness(image).enhance(factor))
    for factor in (0.6, 0.8, 1.25, 1.5):
        out.append(ImageEnhance.Contrast(image).enhance(factor))
    mirrored = out[1]
    for factor in (0.6, 1.4):
        out.append(ImageEnhance.Brightness(mirrored).enhance(factor))
    for factor in (0.7, 1.35):
        out.append(ImageEnhance.Contrast(mirrored).enhance(factor))
    out.append(ImageEnhance.Color(image).enhance(0.3))  # washed-out colour
    return out


def write_parts(
    data: bytes, folder: Path, *, part_bytes: int, prefix: str
) -> tuple[tuple[str, int], ...]:
    """Split ``data`` into ``model.tflite.part0``, ``.part1``... of at most ``part_bytes`` each.
    Returns (site-relative path, size) of each, in order."""
    folder.mkdir(parents=True, exist_ok=True)
    files = []
    for index, start in enumerate(range(0, max(len(data), 1), part_bytes)):
        name = f"model.tflite.part{index}"
        chunk = data[start : start + part_bytes]
        (folder / name).write_bytes(chunk)
        files.append((f"{prefix}/{name}", len(chunk)))
    return tuple(files)
