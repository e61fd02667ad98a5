"""The YOLO stage: an Ultralytics detection SavedModel converted to a TF.js graph model and a
``.tflite`` for LiteRT.js (or the user's own ``.tflite`` from the same export, checked and carried
as it is), to be run with a letterboxed input of pixels / 255 and read as one ``[1, 4 + C, A]``
output. The same SavedModel is the reference the page is verified against.

Needs TensorFlow; imported only by commands that convert.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from sitegen.contract import (
    LITERT_FLOAT16,
    LITERT_FLOAT32,
    MODEL_FOLDER,
    YOLO_IOU_THRESHOLD,
    YOLO_MAX_DETECTIONS,
    YOLO_ROLES,
    LitertSpec,
    ModelSpec,
    NmsSettings,
    YoloSettings,
)
from sitegen.errors import ConversionError, ModelError
from sitegen.model import ConvertOptions, convert_tfjs, convert_tflite
from sitegen.model.families import yolo
from sitegen.model.families.yolo import YOLO_NMS
from sitegen.model.signature import RoleMatch, SignatureInfo, fixed_size
from sitegen.model.tfjs import TFJS_MODEL_FILE, read_tfjs_model
from sitegen.options import PostprocessChoice, Quantize
from sitegen.progress import note, stage
from sitegen.resources import verify_image


def yolo_metadata(info: SignatureInfo, metadata: Path | None) -> yolo.YoloMetadata | None:
    """The model's YOLO metadata: its ``metadata.yaml``, or, without one, what a single
    ``[1, 4 + C, A]`` output of a fixed-size image input says; None for any other model."""
    if metadata is not None:
        found = yolo.read_metadata(metadata)
        if found is not None:
            return found
    if info.roles or len(info.outputs) != 1:
        return None
    (output,) = info.outputs.values()
    return yolo.inferred_metadata(output.shape, fixed_size(info.input.shape))


def letterboxed_sample(imgsz: tuple[int, int]) -> np.ndarray:
    """The verification scene letterboxed into ``imgsz`` as the page does it, [1, H, W, 3] 0..1."""
    from PIL import Image

    image = Image.open(verify_image()).convert("RGB")
    place = yolo.letterbox((image.height, image.width), imgsz)
    canvas = Image.new("RGB", (imgsz[1], imgsz[0]), (114, 114, 114))
    canvas.paste(image.resize((place.width, place.height), Image.BILINEAR), (place.left, place.top))
    return (np.asarray(canvas, np.float32) / np.float32(255))[None]


def yolo_into(
    folder: Path,
    info: SignatureInfo,
    metadata: yolo.YoloMetadata,
    options: ConvertOptions,
    *,
    tflite: Path | None = None,
) -> ModelSpec:
    _check_options(options)
    imgsz = metadata.imgsz
    info = yolo_into_roles(info, metadata)
    key = info.roles["predictions"].key
    predictions = run_saved_model(info, letterboxed_sample(imgsz))
    problem = yolo.layout_problem(predictions.shape, imgsz, len(metadata.names))
    if problem:
        raise ModelError(f"output {key} {problem} when run; {yolo.SUPPORTED}")
    units = yolo.box_units(predictions[0])
    _describe(metadata, key, predictions.shape, units)
    shown_quantize = options.quantize.effect.tfjs_shown
    with stage(f"Converting to TF.js (YOLO output, quantization {shown_quantize})"):
        converted = convert_tfjs.convert(
            info, YOLO_ROLES, folder, quantize=options.quantize, shard_bytes=options.shard_bytes
        )
    if tflite is not None:
        litert = carry_tflite(tflite, folder, metadata, units, options.shard_bytes)
        litert_missing = ""
    else:
        litert, litert_missing = _converted_tflite(folder, info, imgsz, options)
    return ModelSpec(
        input_name=converted.input_name,
        input_dtype="float32",
        input_size=imgsz,
        outputs=converted.outputs,
        postprocess="yolo",
        num_classes=len(metadata.names),
        nms=YOLO_NMS,
        files=read_tfjs_model(folder / TFJS_MODEL_FILE).site_files(),
        litert=litert,
        litert_missing=litert_missing,
        yolo=YoloSettings(box_units=units),
    )


def yolo_into_roles(info: SignatureInfo, metadata: yolo.YoloMetadata) -> SignatureInfo:
    """``info`` with its YOLO head as the one role, "predictions"."""
    key = _predictions_key(info, metadata.imgsz, len(metadata.names))
    return dataclasses.replace(info, roles={"predictions": RoleMatch(key, "the YOLO head")})


def _check_options(options: ConvertOptions) -> None:
    if options.quantize is Quantize.int8:
        raise ConversionError(
            "--quantize int8 calibrates SSD models only so far; build the YOLO model without it "
            "(--quantize float16 halves its download)"
        )
    if options.postprocess is not PostprocessChoice.auto:
        raise ModelError(
            f"--postprocess {options.postprocess} is for SSD models; a YOLO model is always "
            "post-processed in the page: leave --postprocess out"
        )


def _predictions_key(info: SignatureInfo, imgsz: tuple[int, int], classes: int) -> str:
    """The signature output that is the YOLO head: the only one, or the only one shaped so."""
    if info.input.dtype != "float32":
        raise ModelError(
            f"the model's input {info.input.key} is {info.input.dtype}; a YOLO export takes "
            f"float32 pixels / 255 ({yolo.SUPPORTED})"
        )
    fitting = [
        key
        for key, output in info.outputs.items()
        if not output.shape or yolo.layout_problem(output.shape, imgsz, classes) is None
    ]
    if len(fitting) != 1:
        shapes = ", ".join(f"{k} {list(o.shape)}" for k, o in sorted(info.outputs.items()))
        raise ModelError(
            f"cannot tell which output is the YOLO head (outputs: {shapes}; want one "
            f"[1, {4 + classes}, {yolo.anchors_for(imgsz)}]); {yolo.SUPPORTED}"
        )
    return fitting[0]


def run_saved_model(info: SignatureInfo, pixels: np.ndarray) -> np.ndarray:
    """The YOLO head's value for float32 [1, H, W, 3] ``pixels``."""
    import tensorflow as tf

    key = info.roles["predictions"].key
    outputs = info.function(**{info.input.key: tf.constant(pixels, tf.float32)})
    return outputs[key].numpy()


def _describe(metadata: yolo.YoloMetadata, key: str, shape: tuple, units: str) -> None:
    origin = (
        f"{metadata.path.name}, Ultralytics {metadata.version}".strip(", ")
        if metadata.path
        else "no metadata.yaml: recognised by its output shape; classes are numbered"
    )
    height, width = metadata.imgsz
    note(f"  family     = Ultralytics YOLO detection ({origin})")
    note(f"  input      = {height}x{width}, letterboxed (grey 114), pixels / 255")
    note(
        f"  output     = {key} {list(shape)}: cx, cy, w, h in {units} then "
        f"{len(metadata.names)} class scores, for {shape[-1]} anchors"
    )
    note(f"  nms        = per class, IoU {YOLO_IOU_THRESHOLD}, at most {YOLO_MAX_DETECTIONS}")


def _converted_tflite(folder: Path, info: SignatureInfo, imgsz, options: ConvertOptions):
    with stage("Converting the same model to a .tflite for LiteRT.js"):
        outcome = convert_tflite.convert_tflite(
            info,
            imgsz,
            folder,
            quantize=options.quantize,
            part_bytes=options.shard_bytes,
            prefix=MODEL_FOLDER,
            roles=YOLO_ROLES,
        )
    carried = "carried" if outcome.spec else "not carried"
    note(f"  LiteRT.js  = {carried}: {outcome.reason}")
    return outcome.spec, "" if outcome.spec else outcome.reason


def carry_tflite(
    path: Path, folder: Path, metadata: yolo.YoloMetadata, saved_units: str, part_bytes: int
) -> LitertSpec:
    """The user's ``.tflite``, checked (float32 [1, H, W, 3] in, one ``[1, 4 + C, A]`` out) and
    run once for its box units, then stored in parts."""
    import tensorflow as tf

    try:
        interpreter = tf.lite.Interpreter(model_path=str(path))
        interpreter.allocate_tensors()
    except (ValueError, RuntimeError) as exc:
        raise ModelError(f"{path} is not a .tflite TensorFlow Lite can load ({exc})") from None
    inputs, outputs = interpreter.get_input_details(), interpreter.get_output_details()
    if len(inputs) != 1 or len(outputs) != 1:
        raise ModelError(
            f"{path} has {len(inputs)} inputs and {len(outputs)} outputs; a YOLO detection "
            f"export has one of each ({yolo.SUPPORTED})"
        )
    _check_tflite_input(path, inputs[0], metadata.imgsz)
    # Ultralytics' .tflite files have no signature: LiteRT.js then names the model's inputs and
    # outputs by their tensor names ("images", "Identity"); with one, by the signature's names.
    input_name, output_name = inputs[0]["name"], outputs[0]["name"]
    signatures = list(interpreter.get_signature_list().values())
    if len(signatures) == 1 and len(signatures[0]["inputs"]) == len(signatures[0]["outputs"]) == 1:
        (input_name,), (output_name,) = signatures[0]["inputs"], signatures[0]["outputs"]
    interpreter.set_tensor(inputs[0]["index"], letterboxed_sample(metadata.imgsz))
    interpreter.invoke()
    result = interpreter.get_tensor(outputs[0]["index"])
    problem = yolo.layout_problem(result.shape, metadata.imgsz, len(metadata.names))
    if problem:
        raise ModelError(f"{path}: its output {output_name} {problem}; {yolo.SUPPORTED}")
    units = yolo.box_units(result[0])
    data = path.read_bytes()
    files = convert_tflite.write_parts(data, folder, part_bytes=part_bytes, prefix=MODEL_FOLDER)
    # Ultralytics names the export whose weights are stored as float16 "<name>_float16.tflite".
    stored = LITERT_FLOAT16 if LITERT_FLOAT16 in path.stem else LITERT_FLOAT32
    note(
        f"  LiteRT.js  = {path.name} as it is ({len(data) / 1e6:.1f} MB, input {input_name}, "
        f"output {output_name}, boxes in {units})"
    )
    return LitertSpec(
        files=files,
        input_name=input_name,
        input_dtype="float32",
        input_size=metadata.imgsz,
        outputs={"predictions": output_name},
        quantization=stored,
        box_units=units if units != saved_units else None,
    )


def _check_tflite_input(path: Path, detail: dict, imgsz: tuple[int, int]) -> None:
    dtype = np.dtype(detail["dtype"]).name
    if dtype != "float32":
        raise ModelError(
            f"{path} takes {dtype} input, which the page cannot feed: LiteRT.js gets float32 "
            "pixels / 255 for a YOLO model; pass the export's _float32.tflite or _float16.tflite "
            "(Ultralytics' int8 export quantizes its input too)"
        )
    shape = [int(v) for v in detail["shape"]]
    if shape != [1, imgsz[0], imgsz[1], 3]:
        raise ModelError(
            f"{path} takes input {shape}, not [1, {imgsz[0]}, {imgsz[1]}, 3] (NHWC at the "
            "metadata's imgsz); pass the .tflite Ultralytics exported beside this SavedModel"
        )


@dataclass(frozen=True)
class YoloReference:
    """A YOLO model run natively (TensorFlow on the SavedModel, or TensorFlow Lite on the user's
    .tflite) and read the way Ultralytics' predict reads it: what the build verifies the page's
    detections against, on the page's own letterboxed pixels."""

    run: Callable[[np.ndarray], np.ndarray]  # float32 [1, H, W, 3] -> the head's [1, 4 + C, A]
    units: str
    input_size: tuple[int, int]
    nms: NmsSettings = YOLO_NMS
    keepalive: Any = None  # what ``run`` needs alive (the loaded SavedModel)

    def detections(
        self, pixels: np.ndarray, frame_size: tuple[int, int], *, threshold: float, limit: int
    ) -> list[dict]:
        """For uint8 HxWx3 ``pixels`` (the page's input canvas) of a ``(height, width)`` frame."""
        scaled = pixels.astype(np.float32)[None] * np.float32(1 / 255)
        return yolo.reference_detections(
            self.run(scaled)[0],
            units=self.units,
            input_size=self.input_size,
            frame_size=frame_size,
            threshold=max(threshold, self.nms.score_threshold),
            limit=limit,
            iou_threshold=self.nms.iou_threshold,
            agnostic=self.nms.class_agnostic,
        )


def yolo_reference(saved_model: Path, spec: ModelSpec) -> YoloReference:
    """The reference for a YOLO site built from ``saved_model``: TensorFlow running it."""
    from sitegen.model import signature

    assert spec.yolo is not None and spec.input_size is not None
    info = signature.load_signature(saved_model, detection_outputs=False)
    info = dataclasses.replace(
        info,
        roles={
            "predictions": RoleMatch(_predictions_key(info, spec.input_size, spec.num_classes), "")
        },
    )
    return YoloReference(
        lambda pixels: run_saved_model(info, pixels),
        spec.yolo.box_units,
        spec.input_size,
        keepalive=info.loaded,
    )


def tflite_reference(tflite: Path, spec: ModelSpec) -> YoloReference:
    """The reference for the LiteRT.js backends of a site that carries the user's ``tflite``:
    TensorFlow Lite running that same file (a float16 .tflite's rounded weights make it differ
    from the float32 SavedModel by more than the check allows)."""
    import tensorflow as tf

    assert spec.yolo is not None and spec.input_size is not None and spec.litert is not None
    interpreter = tf.lite.Interpreter(model_path=str(tflite))
    interpreter.allocate_tensors()
    (feed,), (head,) = interpreter.get_input_details(), interpreter.get_output_details()

    def run(pixels: np.ndarray) -> np.ndarray:
        interpreter.set_tensor(feed["index"], pixels)
        interpreter.invoke()
        return interpreter.get_tensor(head["index"])

    units = spec.litert.box_units or spec.yolo.box_units
    return YoloReference(run, units, spec.input_size, keepalive=interpreter)
