"""Convert the same raw-output cut of the serving function to a ``.tflite`` model for LiteRT.js.

LiteRT.js (XNNPACK in threaded WASM, or WebGPU) runs SSD backbones about 2.5x faster than TF.js
WASM on a CPU, so the site carries both: the TF.js graph model stays as the compatible path and
fallback, and the ``.tflite`` ends at the same ``raw_detection_boxes`` / ``raw_detection_scores``
so the page's JavaScript post-processing serves both runtimes. TensorFlow's own converter does
the work; the graph gets a fixed [1, H, W, 3] input (the page stretches frames to that size
anyway), which lets it fold the resize away and plan every tensor ahead.

The file is written in parts no larger than the weight shards (static hosts and CDNs cache files
of a few MB well), which the page downloads with progress and joins in memory.

Needs TensorFlow; imported only by commands that convert.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sitegen.contract import LitertSpec
from sitegen.model.convert_tfjs import import_converter, quiet_native_logs
from sitegen.model.signature import SignatureInfo

INPUT_NAME = "image"
# What each --quantize makes of the .tflite's weights (never dynamic-range: 4x slower in WASM).
TFLITE_WEIGHTS = {
    "none": "float32 weights",
    "float16": "float16-stored weights",
    "uint8": "float32 weights (uint8 applies to the TF.js weights; a dynamic-range .tflite "
    "runs about 4x slower in LiteRT.js)",
}
# Output names of the .tflite signature; the page reads outputs by these names, never by position.
OUTPUT_NAMES = {"raw_boxes": "raw_boxes", "raw_scores": "raw_scores"}


@dataclass(frozen=True)
class LitertOutcome:
    """The .tflite written, or why the site carries none (shown in the build summary)."""

    spec: LitertSpec | None
    reason: str


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
    quantize: str = "none",
    part_bytes: int = 4 * 1024 * 1024,
    prefix: str = "model",
) -> LitertOutcome:
    """Write ``model.tflite.partN`` files into ``folder``; a model TensorFlow's converter refuses
    gives a reason instead of an error, since the TF.js model serves on its own."""
    import_converter()
    import tensorflow as tf

    height, width = input_size
    dtype = tf.uint8 if signature.input.dtype == "uint8" else tf.float32
    serving = signature.function
    input_key = signature.input.key
    raw_keys = {role: signature.roles[role].key for role in OUTPUT_NAMES}

    @tf.function(input_signature=[tf.TensorSpec([1, height, width, 3], dtype, name=INPUT_NAME)])
    def raw_outputs(image):
        outputs = serving(**{input_key: image})
        return {OUTPUT_NAMES[role]: outputs[key] for role, key in raw_keys.items()}

    try:
        with quiet_native_logs():
            converter = tf.lite.TFLiteConverter.from_concrete_functions(
                [raw_outputs.get_concrete_function()], signature.loaded
            )
            if quantize == "float16":  # float16-stored weights, float32 compute: half the bytes
                converter.optimizations = [tf.lite.Optimize.DEFAULT]
                converter.target_spec.supported_types = [tf.float16]
            # --quantize uint8 quantizes the TF.js weights only: its .tflite counterpart,
            # dynamic-range quantization, runs about 4x slower in LiteRT.js's WebAssembly
            # (docs/benchmarks.md), so the .tflite keeps float32 weights.
            data = converter.convert()
    except Exception as exc:  # the MLIR converter raises many types for ops it cannot lower
        first = str(exc).strip().splitlines()[0][:200] if str(exc).strip() else type(exc).__name__
        return LitertOutcome(None, f"TensorFlow's TFLite converter refused the model ({first})")

    files = write_parts(data, folder, part_bytes=part_bytes, prefix=prefix)
    spec = LitertSpec(
        files=files,
        input_name=INPUT_NAME,
        input_dtype="uint8" if dtype == tf.uint8 else "float32",
        input_size=(height, width),
        outputs={"raw_boxes": OUTPUT_NAMES["raw_boxes"], "raw_scores": OUTPUT_NAMES["raw_scores"]},
    )
    parts = "part" if len(files) == 1 else "parts"
    weights = TFLITE_WEIGHTS[quantize]
    return LitertOutcome(spec, f"{len(data) / 1e6:.1f} MB in {len(files)} {parts}, {weights}")


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
