"""The TF1 OD API SSD cut: run a TF1 SSD export's backbone, box decoding and score conversion in
the converted model, and its non-maximum suppression in the page.

TF1 exports (frozen graphs and the SavedModels made from them) have only the post-NMS outputs
(``detection_*``). Their NMS is a while loop per class, and their preprocessor resizes each image
in another loop: together they force TF.js's slow asynchronous executor and leave LiteRT.js
nothing it can run. The OD API's post-processor names what it hands to the NMS:
``Postprocessor/raw_box_locations`` (boxes decoded from the anchors with the box coder, [1, A, 4])
and ``Postprocessor/raw_box_scores`` (scores after the score converter, background column first,
[1, A, C+1]) — the same tensors a TF2 export returns as ``raw_detection_boxes`` and
``raw_detection_scores``. The cut feeds the graph at the preprocessor's resized image (the
non-constant input of ``Preprocessor/mul``, the feature extractor's normalisation) and ends at those
two tensors, so the page post-processes a TF1 SSD exactly as it does a TF2 export: same contract,
same JavaScript NMS with the pipeline.config settings, and a ``.tflite`` for LiteRT.js. The page
already draws each frame at the model's fixed input size, where resizing would change nothing.

docs/tf1-ssd-graph.md lists the names and where they come from. Needs TensorFlow.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sitegen.contract import NmsSettings
from sitegen.model.signature import SignatureInfo, TensorInfo, fixed_size, map_roles
from sitegen.progress import note

if TYPE_CHECKING:
    from sitegen.model import ConvertOptions
    from sitegen.model.pipeline_config import PipelineSettings

RAW_BOX_LOCATIONS = "Postprocessor/raw_box_locations:0"
RAW_BOX_SCORES = "Postprocessor/raw_box_scores:0"
NORMALISATION_OP = "Preprocessor/mul"
CUT_INPUT_NAME = "resized_image"
NMS_SCOPE = "Postprocessor/BatchMultiClassNonMaxSuppression"
RESIZE_OPS = ("ResizeBilinear", "ResizeNearestNeighbor", "ResizeBicubic", "ResizeArea")
NMS_OPS = (
    "NonMaxSuppressionV2",
    "NonMaxSuppressionV3",
    "NonMaxSuppressionV4",
    "NonMaxSuppressionV5",
)


@dataclass(frozen=True)
class CutOutcome:
    """The cut signature, or why the graph keeps its in-graph post-processing."""

    signature: SignatureInfo | None
    reason: str


def with_raw_cut(
    info: SignatureInfo, pipeline: PipelineSettings, options: ConvertOptions
) -> tuple[SignatureInfo, PipelineSettings]:
    """A TF1 SSD export without raw outputs gets them by cutting its graph before the NMS,
    unless the user asked for the in-graph post-processing; any other graph comes back as it is.
    Settings pipeline.config does not give (there is none beside a frozen graph handed around on
    its own) come from the graph itself where it holds them."""
    if info.has_raw_outputs or options.postprocess == "graph":
        return info, pipeline
    pipeline = completed_from_graph(info, pipeline, report=note)
    input_size = pipeline.input_size or fixed_size(info.input.shape)
    outcome = cut_before_nms(info, input_size)
    if outcome.signature is None:
        note(f"  raw cut    = none: {outcome.reason}; post-processing stays in the graph")
        return info, pipeline
    note(f"  raw cut    = {outcome.reason}")
    return outcome.signature, pipeline


def completed_from_graph(info: SignatureInfo, pipeline: PipelineSettings, report=None):
    """``pipeline`` with the input size and NMS settings it lacks read from a TF1 SSD graph: the
    preprocessor's resize to a constant size, and the constant thresholds and limits of the
    post-processor's NMS ops. ``report`` (a line printer) hears where each value came from."""
    graph = info.function.graph
    if not _is_tf1_ssd(graph):
        return pipeline
    changes = {}
    if pipeline.input_size is None:
        size, where = resize_in_graph(graph)
        if size is not None:
            changes["input_size"], changes["input_size_source"] = size, f"graph: {where}"
    if pipeline.nms.source == "defaults":
        nms = nms_in_graph(graph)
        if nms is not None:
            changes["nms"] = nms
    if report is not None and changes:
        if "input_size" in changes:
            height, width = changes["input_size"]
            report(f"  input size = {height}x{width} from {changes['input_size_source']}")
        if "nms" in changes:
            report(f"  NMS        = {describe_nms(changes['nms'])}")
    return dataclasses.replace(pipeline, **changes)


def describe_nms(nms: NmsSettings) -> str:
    agnostic = ", class-agnostic" if nms.class_agnostic else ""
    return (
        f"score > {nms.score_threshold:g}, IoU {nms.iou_threshold:g}, {nms.max_per_class} per "
        f"class, {nms.max_total} in all{agnostic} (from {_NMS_SOURCES.get(nms.source, nms.source)})"
    )


_NMS_SOURCES = {"graph": "the graph's NMS ops", "defaults": "the OD API's SSD defaults"}


def resize_in_graph(graph) -> tuple[tuple[int, int] | None, str]:
    """The one constant (height, width) the preprocessor resizes every image to, and the op that
    says so; (None, "") when its resizes have no constant size, or more than one."""
    sizes = {}
    for op in graph.get_operations():
        if op.type in RESIZE_OPS and op.name.startswith("Preprocessor/"):
            value = _constant(op.inputs[1])
            if value is not None and value.shape == (2,):
                sizes.setdefault((int(value[0]), int(value[1])), op.name)
    if len(sizes) != 1:
        return None, ""
    ((size, where),) = sizes.items()
    return size, where


def nms_in_graph(graph) -> NmsSettings | None:
    """The NMS settings the post-processor's ops hold as constants: the IoU threshold, the score
    threshold (NonMaxSuppressionV3 and later) and the per-class limit of each class's NMS op (all
    alike), the total limit of the merge (the Minimum that caps it); None where they are not
    constants. One NMS op for several classes is the class-agnostic NMS."""
    ops = [
        op
        for op in graph.get_operations()
        if op.type in NMS_OPS and op.name.startswith("Postprocessor/")
    ]
    found = {_nms_constants(op) for op in ops}
    if len(found) != 1 or None in found:
        return None
    max_per_class, iou, score = found.pop()
    defaults = NmsSettings()
    classes = _class_count(graph)
    return NmsSettings(
        score_threshold=defaults.score_threshold if score is None else score,
        iou_threshold=iou,
        max_per_class=max_per_class,
        max_total=_total_limit(graph) or defaults.max_total,
        class_agnostic=len(ops) == 1 and classes > 1,
        source="graph",
    )


def _nms_constants(op) -> tuple[int, float, float | None] | None:
    limit, iou = _constant(op.inputs[2]), _constant(op.inputs[3])
    score = _constant(op.inputs[4]) if len(op.inputs) > 4 else None
    if limit is None or iou is None or (len(op.inputs) > 4 and score is None):
        return None
    # float32 constants, shown as the config would have them (0.05, not 0.0500000007)
    return int(limit), _shortest(iou), None if score is None else _shortest(score)


def _shortest(value) -> float:
    return float(f"{float(value):.7g}")


def _total_limit(graph) -> int | None:
    """The merge's cap on all classes' boxes: min(count, max_total_size) in the OD API's
    multiclass NMS, a Minimum with one constant integer input."""
    limits = set()
    for op in graph.get_operations():
        if op.type == "Minimum" and op.name.startswith(NMS_SCOPE):
            for tensor in op.inputs:
                value = _constant(tensor)
                if value is not None and value.shape == () and value.dtype.kind == "i":
                    limits.add(int(value))
    return limits.pop() if len(limits) == 1 else None


def _class_count(graph) -> int:
    scores = graph.get_operation_by_name(RAW_BOX_SCORES.split(":")[0]).outputs[0]
    last = scores.shape[-1] if scores.shape.rank else None
    return int(last) - 1 if last else 0


def _is_tf1_ssd(graph) -> bool:
    names = {op.name for op in graph.get_operations()}
    return all(t.split(":")[0] in names for t in (RAW_BOX_LOCATIONS, RAW_BOX_SCORES))


def _constant(tensor):
    """The tensor's value when the graph fixes it (a Const, or ops of Consts), else None."""
    import tensorflow as tf

    try:
        return tf.get_static_value(tensor)
    except (TypeError, ValueError):
        return None


def cut_before_nms(info: SignatureInfo, input_size: tuple[int, int] | None) -> CutOutcome:
    graph = info.function.graph
    names = {op.name for op in graph.get_operations()}
    missing = [t for t in (RAW_BOX_LOCATIONS, RAW_BOX_SCORES) if t.split(":")[0] not in names]
    if missing:
        return CutOutcome(None, f"not a TF1 OD API SSD graph (no {', '.join(missing)})")
    if not hasattr(info.loaded, "prune"):
        return CutOutcome(None, "only a TF1-format SavedModel or frozen graph can be cut")
    if NORMALISATION_OP not in names:
        return CutOutcome(None, f"its preprocessor has no {NORMALISATION_OP} to feed the cut at")
    feed = _resized_image(graph)
    if feed is None:
        return CutOutcome(None, f"the input of {NORMALISATION_OP} is not an image [1, H, W, 3]")
    if input_size is None:
        return CutOutcome(
            None,
            "the model's input size is not fixed (no fixed_shape_resizer in pipeline.config, "
            "and the graph resizes to no constant size)",
        )
    cut = _cut_signature(info, feed.name, input_size)
    where = f"{feed.name} to {RAW_BOX_LOCATIONS}, {RAW_BOX_SCORES}"
    return CutOutcome(cut, f"cut before the TF1 post-processor's NMS ({where})")


def _resized_image(graph):
    inputs = graph.get_operation_by_name(NORMALISATION_OP).inputs
    images = [t for t in inputs if t.op.type != "Const" and t.dtype.name == "float32"]
    if len(images) != 1:
        return None
    shape = images[0].shape
    if shape.rank not in (None, 4) or (shape.rank == 4 and shape[-1] not in (None, 3)):
        return None
    return images[0]


def _cut_signature(info: SignatureInfo, feed: str, input_size: tuple[int, int]) -> SignatureInfo:
    import tensorflow as tf

    pruned = info.loaded.prune(
        feeds=[feed],
        fetches={"raw_detection_boxes": RAW_BOX_LOCATIONS, "raw_detection_scores": RAW_BOX_SCORES},
    )
    height, width = input_size

    @tf.function(
        input_signature=[tf.TensorSpec([1, height, width, 3], tf.float32, name=CUT_INPUT_NAME)]
    )
    def raw_outputs(resized_image):
        return pruned(resized_image)

    function = raw_outputs.get_concrete_function()
    outputs = {
        key: TensorInfo(key, spec.dtype.name, tuple(spec.shape.as_list()))
        for key, spec in function.structured_outputs.items()
    }
    image = TensorInfo(CUT_INPUT_NAME, "float32", (1, height, width, 3))
    return SignatureInfo(
        f"{info.signature_key}, cut before the NMS",
        image,
        outputs,
        map_roles(outputs),
        function,
        info.loaded,
    )
