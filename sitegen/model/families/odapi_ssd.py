"""The TF2 Object Detection API SSD family: a SavedModel whose serving signature names the OD API's
outputs (``detection_*`` after the in-graph NMS, ``raw_detection_*`` before it), recognised by those
names (``signature.map_roles``), never by a file name.

Its cut: the converted graph ends at the raw outputs (page post-processing "raw": the page runs the
NMS with pipeline.config's settings, on TF.js and on a LiteRT.js ``.tflite``) or, where the model
lacks them or ``--postprocess graph`` asks, at the post-NMS outputs (mode "graph": TF.js only, the
NMS inside the graph). A TF1 SSD export reaches this stage with raw outputs cut out of its graph
(``tf1_ssd``) and is post-processed the same way. Its reference, what the page is verified against,
is the SavedModel's own serving function, NMS included.

Needs TensorFlow where a function says so; imported only by commands that convert.
"""

from __future__ import annotations

from pathlib import Path

from sitegen.contract import GRAPH_ROLES, MODEL_FOLDER, RAW_ROLES, UINT8, ModelSpec, roles_for
from sitegen.errors import ConversionError, ModelError
from sitegen.model import ConvertOptions, convert_tfjs, convert_tflite, signature
from sitegen.model.pipeline_config import PipelineSettings
from sitegen.model.tfjs import (
    NO_TFLITE_FROM_TFJS,
    TFJS_MODEL_FILE,
    TfjsModel,
    copy_model_files,
    read_tfjs_model,
    tensor_dtype,
    tensor_shape,
)
from sitegen.options import Quantize
from sitegen.progress import note, stage
from sitegen.resources import verify_image


def outputs_recognised(info: signature.SignatureInfo) -> bool:
    """Whether the signature has the OD API's outputs, before or after the NMS."""
    return info.has_raw_outputs or info.has_graph_outputs


def choose_postprocess(requested: str, has_raw: bool, has_graph: bool) -> str:
    """Where non-maximum suppression runs: "raw" (in the page) or "graph" (in the model)."""
    if requested == "raw" and not has_raw:
        raise ModelError(
            "--postprocess raw needs raw_detection_boxes and raw_detection_scores outputs, "
            "which this model lacks; use --postprocess graph"
        )
    if requested == "graph" and not has_graph:
        raise ModelError("--postprocess graph needs detection_boxes/scores/classes/num_detections")
    if requested in ("raw", "graph"):
        return str(requested)  # config.json's plain string, not --postprocess's enum
    # Raw outputs let the page skip the in-graph NMS: faster, and correct on the WASM backend.
    return "raw" if has_raw else "graph"


def sample_pixels(size: tuple[int, int] | None):
    """The verification scene as HxWx3 uint8, at the model's input size when it has one."""
    import numpy as np
    from PIL import Image

    image = Image.open(verify_image()).convert("RGB")
    if size is not None:
        image = image.resize((size[1], size[0]), Image.BILINEAR)
    return np.asarray(image, np.uint8)


def ssd_into(
    folder: Path,
    info: signature.SignatureInfo,
    pipeline: PipelineSettings,
    options: ConvertOptions,
) -> ModelSpec:
    """Convert an OD API SSD (TF2, or TF1 with its raw outputs cut out) into ``folder``: the
    chosen cut as a TF.js graph model and, where the page can use one, a ``.tflite``."""
    from sitegen.model.families import tf1_ssd

    info, pipeline = tf1_ssd.with_raw_cut(info, pipeline, options)
    mode = choose_postprocess(options.postprocess, info.has_raw_outputs, info.has_graph_outputs)
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


# ---- the reference: the SavedModel's own serving function, NMS in its graph -----------------


def serving_function(saved_model: Path):
    """The SavedModel's serving function, kept with what it needs alive."""
    import tensorflow as tf

    loaded = tf.saved_model.load(str(saved_model))
    function = loaded.signatures["serving_default"]
    function._sitegen_keepalive = loaded  # the function needs its SavedModel's variables
    return function


def ssd_reference(saved_model: Path, spec: ModelSpec):
    """What an SSD site's page is checked against, whichever of its modes the page runs: the
    exporter's serving function, whose detections are after the graph's own NMS."""
    del spec  # one reference serves "raw" and "graph" alike
    return serving_function(saved_model)


def tfjs_spec(
    folder: Path, model: TfjsModel, model_json: Path, pipeline: PipelineSettings, postprocess: str
) -> ModelSpec:
    """A TF.js model of an SSD (anyone's conversion, without sitegen's record): its outputs mapped
    to roles by their signature names, copied into ``folder``."""
    signature_ = model.manifest.get("signature", {})
    outputs = {
        key: signature.TensorInfo(key, tensor_dtype(value.get("dtype", "")), tensor_shape(value))
        for key, value in signature_.get("outputs", {}).items()
    }
    roles = signature.map_roles(outputs)
    has_raw = all(r in roles for r in RAW_ROLES)
    has_graph = all(r in roles for r in GRAPH_ROLES)
    if not (has_raw or has_graph):
        listed = ", ".join(sorted(outputs)) or "none named"
        raise ModelError(
            f"cannot tell which outputs of {model_json} are boxes, scores, classes and count "
            f"(outputs: {listed}); build from the SavedModel instead so sitegen can read its signature"
        )
    mode = choose_postprocess(postprocess, has_raw, has_graph)
    names = {
        role: signature_["outputs"][roles[role].key]["name"].split(":")[0]
        for role in roles_for(mode)
    }
    inputs = signature_.get("inputs", {})
    input_name, input_info = next(iter(inputs.items()), ("input_tensor", {}))
    copied = copy_model_files(folder, model)
    raw_scores = outputs.get(roles["raw_scores"].key) if "raw_scores" in roles else None
    num_classes = (raw_scores.shape[-1] - 1) if raw_scores and raw_scores.shape[-1] else 0
    return ModelSpec(
        litert_missing=NO_TFLITE_FROM_TFJS,
        input_name=input_info.get("name", input_name).split(":")[0],
        input_dtype="float32" if "FLOAT" in input_info.get("dtype", "") else "int32",
        input_size=pipeline.input_size or signature.fixed_size(tensor_shape(input_info)),
        outputs=names,
        postprocess=mode,
        num_classes=num_classes or pipeline.num_classes or 0,
        nms=pipeline.nms,
        files=copied.site_files(),
    )
