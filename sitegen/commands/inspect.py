"""``sitegen inspect``: what build would use, and why."""

from __future__ import annotations

import tempfile
from pathlib import Path

from sitegen.contract import GRAPH_ROLES, RAW_ROLES, roles_for
from sitegen.model import labels as label_files
from sitegen.model.pipeline_config import PipelineSettings, read_pipeline_config
from sitegen.model.source import ModelSource, errors_in_user_terms, locate
from sitegen.model.tfjs import read_tfjs_model, recorded_model
from sitegen.options import Quantize


def inspect_model(model: Path) -> str:
    with tempfile.TemporaryDirectory(prefix="sitegen-") as workdir:
        source = locate(model, Path(workdir))
        with errors_in_user_terms(source):
            return "\n".join(_describe(source))


def _describe(source: ModelSource) -> list[str]:
    lines = [f"Model: {source.description} ({source.what} at {source.shown(source.path)})"]
    yolo_lines = _yolo_description(source)
    if yolo_lines is not None:
        return lines + yolo_lines
    pipeline = read_pipeline_config(source.pipeline_config)
    recorded = None
    if source.kind == "tfjs":
        tfjs = read_tfjs_model(source.path)
        recorded = recorded_model(tfjs)
        lines.append(f"Weights: {tfjs.weight_bytes / 1e6:.2f} MB in {len(tfjs.shards)} files")
        lines.append(f"Ops: {', '.join(sorted(tfjs.op_names))}")
        lines.append("Runtimes: TF.js only (build from the SavedModel to add a LiteRT.js .tflite)")
    else:
        saved_model_lines, pipeline = _saved_model_lines(source.path, pipeline)
        lines.extend(saved_model_lines)
    nms = pipeline.nms
    lines.append(
        f"Post-processing settings ({nms.source}): score > {nms.score_threshold:g}, "
        f"IoU {nms.iou_threshold:g}, {nms.max_per_class} per class, {nms.max_total} in all"
        + (", class-agnostic" if nms.class_agnostic else "")
    )
    if pipeline.input_size:
        height, width = pipeline.input_size
        lines.append(f"Input size ({pipeline.input_size_source}): {height}x{width}")
    labels, path, _ = label_files.choose_labels(
        None, source.labels, recorded.labels if recorded else {}
    )
    if labels:
        shown = ", ".join(f"{i}: {n}" for i, n in sorted(labels.items())[:20])
        where = source.shown(path) if path else "the model.json sitegen recorded"
        lines.append(f"Labels from {where}: {shown}")
    else:
        lines.append("Labels: none found (pass --labels to build)")
    return lines


def _yolo_description(source: ModelSource) -> list[str] | None:
    """What build would make of an Ultralytics YOLO export, or None for any other model."""
    from sitegen.model.families import yolo

    metadata = yolo.read_metadata(source.metadata) if source.metadata else None
    if source.kind == "tfjs":
        if metadata is None or recorded_model(read_tfjs_model(source.path)):
            return None
        tfjs = read_tfjs_model(source.path)
        head = f"the TF.js graph's output, in pixels ({tfjs.weight_bytes / 1e6:.2f} MB of weights)"
        runtimes = "Runtimes: TF.js only (build from the SavedModel to add a LiteRT.js .tflite)"
        return _yolo_lines(metadata, head, runtimes, source)
    from sitegen.model import convert_tfjs, signature
    from sitegen.model.families.yolo_saved_model import (
        letterboxed_sample,
        run_saved_model,
        yolo_into_roles,
        yolo_metadata,
    )

    convert_tfjs.import_converter()
    info = signature.load_signature(source.path, detection_outputs=False)
    metadata = yolo_metadata(info, source.metadata)
    if metadata is None:
        return None
    info = yolo_into_roles(info, metadata)
    predictions = run_saved_model(info, letterboxed_sample(metadata.imgsz))
    key = info.roles["predictions"].key
    units = yolo.box_units(predictions[0])
    head = f"{key} {list(predictions.shape)}, boxes in {units}"
    tflite = (
        f"the given {source.tflite.name}, as it is" if source.tflite else "one converted from it"
    )
    runtimes = f"Runtimes: TF.js graph model and a LiteRT.js .tflite ({tflite})"
    return _yolo_lines(metadata, head, runtimes, source)


def _yolo_lines(metadata, head: str, runtimes: str, source: ModelSource) -> list[str]:
    from sitegen.model.families import yolo
    from sitegen.model.families.yolo import YOLO_NMS

    height, width = metadata.imgsz
    origin = (
        f"{source.shown(metadata.path)}, Ultralytics {metadata.version}"
        if metadata.path
        else "no metadata.yaml: recognised by its output shape"
    )
    names = ", ".join(f"{i + 1}: {n}" for i, n in sorted(metadata.names.items())[:20])
    more = f" (+{len(metadata.names) - 20} more)" if len(metadata.names) > 20 else ""
    return [
        f"Family: Ultralytics YOLO detection ({origin})",
        f"Input: {height}x{width} RGB float32 pixels / 255, the frame letterboxed (centred, grey "
        "114) as Ultralytics' predict does",
        f"Output: {head}",
        f"  layout [1, 4 + {len(metadata.names)}, {yolo.anchors_for(metadata.imgsz)}]: cx, cy, "
        "w, h, then one sigmoid score per class (no objectness), per anchor of the stride 8, "
        "16 and 32 grids",
        f"Post-processing ({YOLO_NMS.source}): each anchor's best class, NMS per class at IoU "
        f"{YOLO_NMS.iou_threshold:g}, at most {YOLO_NMS.max_total}; the page's threshold decides "
        "what is shown",
        runtimes,
        f"Labels from {'metadata.yaml names' if metadata.path else 'nowhere: numbered'} "
        f"({len(metadata.names)} classes): {names}{more} (--labels overrides them)",
    ]


def _saved_model_lines(
    saved_model_dir: Path, pipeline: PipelineSettings
) -> tuple[list[str], PipelineSettings]:
    """The signature's lines, and ``pipeline`` with what a TF1 SSD graph says of the settings it
    lacks (a frozen graph handed around without its pipeline.config)."""
    from sitegen.model import convert_tfjs, convert_tflite, signature
    from sitegen.model.families import odapi_ssd, tf1_ssd

    convert_tfjs.import_converter()
    info = signature.load_signature(saved_model_dir)
    lines = [
        f"Signature: {info.signature_key}",
        f"Input: {info.input.key} {info.input.dtype} {list(info.input.shape)}",
        "Outputs:",
    ]
    for key, tensor in sorted(info.outputs.items()):
        lines.append(f"  {key:<30} {tensor.dtype} {list(tensor.shape)}")
    lines.append("Roles (how each was decided):")
    for role in (*GRAPH_ROLES, *RAW_ROLES):
        match = info.roles.get(role)
        lines.append(f"  {role:<10} " + (f"{match.key}: {match.reason}" if match else "not found"))
    if not info.has_raw_outputs:
        pipeline = tf1_ssd.completed_from_graph(info, pipeline)
    size = pipeline.input_size or signature.fixed_size(info.input.shape)
    if not info.has_raw_outputs:
        outcome = tf1_ssd.cut_before_nms(info, size)
        lines.append(f"Raw cut: {'' if outcome.signature else 'none, '}{outcome.reason}")
        if outcome.signature is not None:
            info = outcome.signature
            lines.append(f"  cut input: {info.input.key} float32 {list(info.input.shape)}")
    mode = odapi_ssd.choose_postprocess("auto", info.has_raw_outputs, info.has_graph_outputs)
    roles = roles_for(mode)
    lines.append(f"Build would use: {mode} post-processing (outputs {', '.join(roles)})")
    missing_litert = convert_tflite.why_not(mode, size)
    lines.append(
        "Runtimes: TF.js graph model"
        + (f"; no LiteRT.js .tflite: {missing_litert}" if missing_litert else "")
        + ("" if missing_litert else f" and a LiteRT.js .tflite ({size[0]}x{size[1]} input)")
    )
    missing = convert_tfjs.unsupported_ops(info, roles)
    lines.append("Ops TF.js cannot run: " + (", ".join(missing) if missing else "none"))
    # The variables the serving function captures are the weights that end up in the shards.
    weights = sum(int(v.shape.num_elements() or 0) for v in info.function.variables)
    sizes = ", ".join(
        f"{q} {weights * q.effect.tfjs_bytes_per_weight / 1e6:.1f} MB" for q in _tfjs_weight_types()
    )
    lines.append(f"Weights: {weights:,} values; size by --quantize: {sizes}")
    return lines, pipeline


def _tfjs_weight_types() -> list[Quantize]:
    """One --quantize value per TF.js weight type, the first that gives it: values that leave the
    TF.js weights alike (int8 and none) would show the same size twice."""
    first: dict[str | None, Quantize] = {}
    for value in Quantize:
        first.setdefault(value.effect.tfjs_dtype, value)
    return list(first.values())


def verification_table(model: Path) -> str:
    """Build into a scratch folder with verification on and report each backend's verdict."""
    from sitegen.build import BuildOptions, build

    with tempfile.TemporaryDirectory(prefix="sitegen-inspect-") as scratch:
        result = build(BuildOptions(model=model, out=Path(scratch) / "site", verify=True))
    verified = result.config.verified_backends
    if not verified:
        return "Backends: not verified (no Chromium, or no TensorFlow reference for this input)"
    words = {
        True: "agrees with TensorFlow",
        False: "DISAGREES: never auto-selected",
        None: "unavailable",
    }
    timing = result.config.backend_timing
    rows = [
        f"  {b:<13} {words[ok]}" + (f", {timing[b]:.0f} ms per frame" if b in timing else "")
        for b, ok in verified.items()
    ]
    order = result.config.backend_order or result.config.model.backends
    return "Backends:\n" + "\n".join(rows) + f"\nPage order: {', '.join(order)}"
