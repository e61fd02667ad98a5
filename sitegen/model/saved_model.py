"""The SavedModel stage: read the serving signature, convert the chosen cut to a TF.js graph model
and, where the page can use one, to a ``.tflite`` for LiteRT.js.

Needs TensorFlow; imported only by commands that convert.
"""

from __future__ import annotations

from pathlib import Path

from sitegen.contract import MODEL_FOLDER, UINT8, ModelSpec, roles_for
from sitegen.errors import ConversionError, ModelError
from sitegen.model import ConvertOptions, convert_tfjs, convert_tflite, signature
from sitegen.model.pipeline_config import PipelineSettings
from sitegen.model.tfjs import TFJS_MODEL_FILE, read_tfjs_model
from sitegen.options import Quantize
from sitegen.progress import note, stage
from sitegen.resources import verify_image


def sample_pixels(size: tuple[int, int] | None):
    """The verification scene as HxWx3 uint8, at the model's input size when it has one."""
    import numpy as np
    from PIL import Image

    image = Image.open(verify_image()).convert("RGB")
    if size is not None:
        image = image.resize((size[1], size[0]), Image.BILINEAR)
    return np.asarray(image, np.uint8)


def saved_model_into(
    folder: Path,
    saved_model_dir: Path,
    pipeline: PipelineSettings,
    options: ConvertOptions,
    *,
    shown: str = "",
    metadata: Path | None = None,
    tflite: Path | None = None,
) -> ModelSpec:
    """``metadata``: an Ultralytics metadata.yaml found with the model; ``tflite``: the .tflite
    the user gave, which only a YOLO export may bring."""
    with stage(f"Loading the {shown or f'SavedModel {saved_model_dir}'}"):
        convert_tfjs.import_converter()
        info = signature.load_signature(saved_model_dir, detection_outputs=False)
    from sitegen.model import yolo_saved_model

    found = yolo_saved_model.yolo_metadata(info, metadata)
    if found is not None:
        return yolo_saved_model.yolo_into(folder, info, found, options, tflite=tflite)
    if tflite is not None:
        raise ModelError(
            f"{tflite}: a .tflite is read as an Ultralytics YOLO export, and the SavedModel beside "
            "it is not one (no metadata.yaml with task: detect, no [1, 4 + C, A] output); pass "
            "the SavedModel folder instead"
        )
    signature.check_detection_outputs(info, saved_model_dir)
    info = _cut_tf1_ssd(info, pipeline, options)
    mode = signature.choose_postprocess(
        options.postprocess, info.has_raw_outputs, info.has_graph_outputs
    )
    roles = roles_for(mode)
    info = signature.establish_shapes(info, roles, sample_pixels(pipeline.input_size))
    for role in roles:
        note(f"  {role:<10} = {info.roles[role].key} ({info.roles[role].reason})")
    shown_quantize = options.quantize.effect.tfjs_shown
    with stage(f"Converting to TF.js ({mode} outputs, quantization {shown_quantize})"):
        converted = convert_tfjs.convert(
            info, roles, folder, quantize=options.quantize, shard_bytes=options.shard_bytes
        )
    model = read_tfjs_model(folder / TFJS_MODEL_FILE)
    input_size = pipeline.input_size or signature.fixed_size(info.input.shape)
    litert = _tflite_into(folder, info, mode, input_size, options)
    return ModelSpec(
        input_name=converted.input_name,
        input_dtype="int32" if info.input.dtype == UINT8 else "float32",
        input_size=input_size,
        outputs=converted.outputs,
        postprocess=mode,
        num_classes=info.num_classes_from_raw or pipeline.num_classes or 0,
        nms=pipeline.nms,
        files=model.site_files(),
        litert=litert.spec,
        litert_missing=litert.reason if litert.spec is None else "",
    )


def _cut_tf1_ssd(
    info: signature.SignatureInfo, pipeline: PipelineSettings, options: ConvertOptions
) -> signature.SignatureInfo:
    """A TF1 SSD export without raw outputs gets them by cutting its graph before the NMS,
    unless the user asked for the in-graph post-processing."""
    if info.has_raw_outputs or options.postprocess == "graph":
        return info
    from sitegen.model import tf1_ssd

    input_size = pipeline.input_size or signature.fixed_size(info.input.shape)
    outcome = tf1_ssd.cut_before_nms(info, input_size)
    if outcome.signature is None:
        note(f"  raw cut    = none: {outcome.reason}; post-processing stays in the graph")
        return info
    note(f"  raw cut    = {outcome.reason}")
    return outcome.signature


def _tflite_into(
    folder: Path, info, mode: str, input_size, options: ConvertOptions
) -> convert_tflite.LitertOutcome:
    reason = convert_tflite.why_not(mode, input_size)
    if reason is not None:
        if options.quantize is Quantize.int8:
            raise ConversionError(f"--quantize int8 makes the .tflite full-integer, but {reason}")
        note(f"  LiteRT.js  = not carried: {reason}")
        return convert_tflite.LitertOutcome(None, reason)
    calibration = None
    if options.quantize is Quantize.int8:
        calibration = convert_tflite.load_calibration(
            options.calibration_images, options.calibration_base or verify_image()
        )
    title = "full-integer (int8) " if calibration else ""
    with stage(f"Converting the same cut to a {title}.tflite for LiteRT.js"):
        outcome = convert_tflite.convert_tflite(
            info,
            input_size,
            folder,
            quantize=options.quantize,
            part_bytes=options.shard_bytes,
            prefix=MODEL_FOLDER,
            calibration=calibration,
        )
    carried = "carried" if outcome.spec else "not carried"
    note(f"  LiteRT.js  = {carried}: {outcome.reason}")
    for line in outcome.details:
        note(f"  {line}")
    if calibration and options.float_twin is not None:
        with stage("Converting a float32 .tflite too, to compare int8 with (not shipped)"):
            convert_tflite.convert_tflite(
                info,
                input_size,
                options.float_twin,
                part_bytes=options.shard_bytes,
                prefix=MODEL_FOLDER,
            )
    return outcome
