"""Ultralytics YOLO detection exports: what makes a model one, and how its output is read.

Ultralytics writes a ``metadata.yaml`` beside every export (SavedModel, TF.js web model and the
``.tflite`` files inside the SavedModel folder): the task, the input size and the class names.
Its detection head has one output, ``[1, 4 + C, A]``: centre x, y, width and height of a box,
then C sigmoid class scores (no objectness), for each of A anchors, A being the cells of the
stride 8, 16 and 32 grids. A model is taken for a YOLO detector by its metadata and its output
shape, never by its file name; without metadata, by the output shape alone.

The letterbox and the post-processing here are Ultralytics' predict (``LetterBox``,
``ops.non_max_suppression`` with ``multi_label=False``, ``scale_boxes``), the reference the page's
JavaScript (assets/js/postprocess.js, frame.js) is verified against. An Ultralytics TF.js export
is copied as it is (``tfjs_spec``); its SavedModel is converted by ``yolo_saved_model``. Only numpy
and PyYAML at import; TensorFlow where a function says so.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from sitegen.contract import (
    YOLO_IOU_THRESHOLD,
    YOLO_MAX_DETECTIONS,
    ModelSpec,
    NmsSettings,
    YoloSettings,
)
from sitegen.errors import ModelError
from sitegen.model.source import METADATA_FILE
from sitegen.progress import note

if TYPE_CHECKING:
    from sitegen.model.source import ModelSource
    from sitegen.model.tfjs import TfjsModel

STRIDES = (8, 16, 32)
# Ultralytics' class offset in its NMS: boxes of different classes never overlap once shifted.
CLASS_OFFSET = 7680.0
SUPPORTED = (
    "sitegen reads Ultralytics detection exports (task: detect; format saved_model, tfjs or tflite)"
)
# Ultralytics' predict defaults; the page's own threshold decides what is shown. The floor only
# spares the page sorting anchors nobody will see (Ultralytics' own validation uses 0.001).
YOLO_NMS = NmsSettings(
    score_threshold=0.001,
    iou_threshold=YOLO_IOU_THRESHOLD,
    max_per_class=YOLO_MAX_DETECTIONS,
    max_total=YOLO_MAX_DETECTIONS,
    class_agnostic=False,
    source="Ultralytics predict defaults",
)

# A median box centre beyond this is not a fraction of the input: it is in pixels.
_NORMALISED_LIMIT = 2.0


@dataclass(frozen=True)
class YoloMetadata:
    names: dict[int, str]  # Ultralytics' 0-based class index -> name
    imgsz: tuple[int, int]  # (height, width)
    task: str
    version: str = ""
    path: Path | None = None  # the metadata.yaml, None when inferred from the output shape


def labels_from(metadata: YoloMetadata) -> dict[int, str]:
    """sitegen's labels (1-based ids, as the OD API's and every label file's) from the names."""
    return {index + 1: name for index, name in sorted(metadata.names.items())}


def labels_for(source: ModelSource, spec: ModelSpec):
    """A YOLO export's class names from its metadata.yaml, as (labels, path, origin), or None
    without one (``--labels`` overrides them)."""
    metadata = read_metadata(source.metadata) if source.metadata else None
    if metadata is None:
        return None
    return (
        labels_from(metadata),
        source.metadata,
        f"{source.metadata} names ({spec.num_classes} classes)",
    )


def saved_model_beside(model_dir: Path) -> Path | None:
    """The SavedModel Ultralytics writes beside a TF.js export (``<name>_saved_model/`` next to
    ``<name>_web_model/``): what a page built from the web model is verified against."""
    if not model_dir.name.endswith("_web_model"):
        return None
    sibling = model_dir.with_name(model_dir.name[: -len("_web_model")] + "_saved_model")
    return sibling if (sibling / "saved_model.pb").is_file() else None


def find_metadata(*folders: Path) -> Path | None:
    """The first ``metadata.yaml`` in ``folders`` (the model's own folder first)."""
    for folder in folders:
        if (folder / METADATA_FILE).is_file():
            return folder / METADATA_FILE
    return None


def read_metadata(path: Path) -> YoloMetadata | None:
    """An Ultralytics ``metadata.yaml``: None when it is not Ultralytics' (another tool's file of
    that name); an error for an Ultralytics export of another task."""
    import yaml

    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise ModelError(
            f"{path} is not readable YAML ({_first_line(exc)}); export again"
        ) from None
    if not isinstance(data, dict) or "names" not in data or "task" not in data:
        return None
    task = str(data["task"])
    if task != "detect":
        raise ModelError(
            f"{path} says this is an Ultralytics {task} model; {SUPPORTED}: export a detection "
            "model (yolov8n.pt, yolo11n.pt, ...)"
        )
    names = data["names"]
    if isinstance(names, list):
        names = dict(enumerate(names))
    if not isinstance(names, dict) or not names:
        raise ModelError(f"{path} has no class names; export the model again")
    imgsz = data.get("imgsz")
    if isinstance(imgsz, int):
        imgsz = [imgsz, imgsz]
    if not (isinstance(imgsz, list) and len(imgsz) == 2 and all(isinstance(v, int) for v in imgsz)):
        raise ModelError(f"{path} has no imgsz [height, width]; export the model again")
    return YoloMetadata(
        names={int(k): str(v) for k, v in names.items()},
        imgsz=(imgsz[0], imgsz[1]),
        task=task,
        version=str(data.get("version", "")),
        path=path,
    )


def anchors_for(imgsz: tuple[int, int]) -> int:
    """A: the cells of the three grids (stride 8, 16, 32) of a ``(height, width)`` input."""
    return sum((imgsz[0] // s) * (imgsz[1] // s) for s in STRIDES)


def layout_problem(shape: tuple, imgsz: tuple[int, int], num_classes: int | None) -> str | None:
    """Why ``shape`` is not a YOLO detection output ``[1, 4 + C, A]`` for this input, or None."""
    want_anchors = anchors_for(imgsz)
    want = f"[1, {4 + num_classes if num_classes else '4 + classes'}, {want_anchors}]"
    if len(shape) != 3 or shape[0] not in (1, None):
        return f"has shape {list(shape)}, not {want}"
    channels, anchors = shape[1], shape[2]
    if anchors is not None and anchors != want_anchors:
        return f"has {anchors} anchors where a {imgsz[0]}x{imgsz[1]} input has {want_anchors}"
    if channels is not None and num_classes is not None and channels != 4 + num_classes:
        return f"has {channels} rows where 4 box rows and {num_classes} classes make {want}"
    if channels is not None and channels < 5:
        return f"has shape {list(shape)}, not {want}"
    return None


def inferred_metadata(output_shape: tuple, input_size: tuple[int, int] | None):
    """Metadata for an export without ``metadata.yaml`` whose one output is ``[1, 4 + C, A]`` for
    its fixed input size; None when the shape says nothing of the kind."""
    if input_size is None or len(output_shape) != 3 or output_shape[1] is None:
        return None
    if layout_problem(output_shape, input_size, None) is not None or output_shape[2] is None:
        return None
    classes = output_shape[1] - 4
    return YoloMetadata(names={i: str(i) for i in range(classes)}, imgsz=input_size, task="detect")


def box_units(predictions: np.ndarray) -> str:
    """ "pixels" or "normalized": what one run's ``[4 + C, A]`` boxes are in. Ultralytics writes
    pixels for saved_model and tfjs exports and fractions of the input for tflite ones, and records
    neither. The anchors' centres cover the input evenly, so the median centre x is mid-input
    whatever the weights: about 0.5 in fractions, half the width in pixels. (Widths say less: an
    untrained box can be twice the input.)"""
    middle = float(np.median(predictions[0])) if predictions.size else 0.0
    return "pixels" if middle > _NORMALISED_LIMIT else "normalized"


def tfjs_spec(
    folder: Path, model: TfjsModel, metadata: YoloMetadata, postprocess: str
) -> ModelSpec:
    """An Ultralytics TF.js export (``<name>_web_model/``): its one output is the YOLO head in
    input pixels (Ultralytics makes it from its pixel-unit SavedModel), its input a placeholder."""
    from sitegen.model.tfjs import NO_TFLITE_FROM_TFJS, copy_model_files, tensor_shape

    if postprocess != "auto":
        raise ModelError(
            f"--postprocess {postprocess} is for SSD models; a YOLO model is always "
            "post-processed in the page: leave --postprocess out"
        )
    outputs = list(model.manifest.get("signature", {}).get("outputs", {}).values())
    inputs = [
        n for n in model.manifest["modelTopology"].get("node", []) if n["op"] == "Placeholder"
    ]
    if len(outputs) != 1 or len(inputs) != 1:
        raise ModelError(
            f"{model.model_json} has {len(inputs)} inputs and {len(outputs)} outputs; an "
            f"Ultralytics detection export has one of each ({SUPPORTED})"
        )
    shape = tensor_shape(inputs[0].get("attr", {}).get("shape", {}))
    if shape not in ((1, *metadata.imgsz, 3), (None, *metadata.imgsz, 3)):
        raise ModelError(
            f"{model.model_json} takes input {list(shape)}, not [1, {metadata.imgsz[0]}, "
            f"{metadata.imgsz[1]}, 3] as its metadata.yaml's imgsz says; export it again"
        )
    note(f"  family     = Ultralytics YOLO detection ({metadata.path.name}, {metadata.version})")
    note(f"  input      = {metadata.imgsz[0]}x{metadata.imgsz[1]}, letterboxed, pixels / 255")
    note(f"  output     = {outputs[0]['name']}: cx, cy, w, h in pixels then class scores")
    copied = copy_model_files(folder, model)
    return ModelSpec(
        litert_missing=NO_TFLITE_FROM_TFJS,
        input_name=inputs[0]["name"],
        input_dtype="float32",
        input_size=metadata.imgsz,
        outputs={"predictions": outputs[0]["name"].split(":")[0]},
        postprocess="yolo",
        num_classes=len(metadata.names),
        nms=YOLO_NMS,
        files=copied.site_files(),
        yolo=YoloSettings(box_units="pixels"),
    )


# ---- the reference: Ultralytics' predict on the pixels the page used ------------------------


@dataclass(frozen=True)
class Placement:
    """Where the frame lies in the letterboxed input, as Ultralytics' ``LetterBox`` draws it and
    ``scale_boxes`` maps boxes back (their paddings can differ by a pixel; each is kept)."""

    gain: float
    width: int  # the scaled frame's size in the input
    height: int
    left: int  # LetterBox's padding, where the frame is drawn
    top: int
    map_left: float  # scale_boxes' padding, what boxes are mapped back with
    map_top: float


def letterbox(frame_size: tuple[int, int], input_size: tuple[int, int]) -> Placement:
    """``frame_size`` and ``input_size`` as (height, width). Python's round is half-even, as in
    Ultralytics."""
    (frame_h, frame_w), (input_h, input_w) = frame_size, input_size
    gain = min(input_h / frame_h, input_w / frame_w)
    width, height = round(frame_w * gain), round(frame_h * gain)
    dw, dh = (input_w - width) / 2, (input_h - height) / 2
    return Placement(
        gain=gain,
        width=width,
        height=height,
        left=round(dw - 0.1),
        top=round(dh - 0.1),
        map_left=round((input_w - frame_w * gain) / 2 - 0.1),
        map_top=round((input_h - frame_h * gain) / 2 - 0.1),
    )


def reference_detections(
    predictions: np.ndarray,
    *,
    units: str,
    input_size: tuple[int, int],
    frame_size: tuple[int, int],
    threshold: float,
    limit: int = YOLO_MAX_DETECTIONS,
    iou_threshold: float = YOLO_IOU_THRESHOLD,
    agnostic: bool = False,
) -> list[dict]:
    """Ultralytics' predict post-processing of one ``[4 + C, A]`` output, in the page's event
    format (boxes as fractions of the frame). Needs TensorFlow (its NMS kernel)."""
    import tensorflow as tf

    values = np.asarray(predictions, np.float32)
    if units == "normalized":
        scale = np.array([input_size[1], input_size[0]] * 2, np.float32)[:, None]
        values = np.concatenate([values[:4] * scale, values[4:]])
    scores = values[4:].max(axis=0)
    classes = values[4:].argmax(axis=0)
    keep = np.flatnonzero(scores > threshold)
    cx, cy, w, h = values[:4, keep]
    corners = np.stack([cy - h / 2, cx - w / 2, cy + h / 2, cx + w / 2], axis=1)  # y1 x1 y2 x2
    shifted = corners + (0 if agnostic else classes[keep, None] * np.float32(CLASS_OFFSET))
    chosen = tf.image.non_max_suppression(
        shifted.astype(np.float32), scores[keep], min(limit, YOLO_MAX_DETECTIONS), iou_threshold
    ).numpy()
    place = letterbox(frame_size, input_size)
    found = []
    for index in chosen:
        y1, x1, y2, x2 = corners[index]
        left = _clip((x1 - place.map_left) / place.gain / frame_size[1])
        right = _clip((x2 - place.map_left) / place.gain / frame_size[1])
        top = _clip((y1 - place.map_top) / place.gain / frame_size[0])
        bottom = _clip((y2 - place.map_top) / place.gain / frame_size[0])
        anchor = keep[index]
        found.append(
            {
                "classId": int(classes[anchor]) + 1,  # 1-based, as everywhere in sitegen
                "score": float(scores[anchor]),
                "box": {"x": left, "y": top, "width": right - left, "height": bottom - top},
            }
        )
    return found


def _clip(value: float) -> float:
    return min(max(float(value), 0.0), 1.0)


def _first_line(exc: Exception) -> str:
    text = str(exc).strip()
    return text.splitlines()[0][:200] if text else type(exc).__name__
