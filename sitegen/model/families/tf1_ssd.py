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

from dataclasses import dataclass
from typing import TYPE_CHECKING

from sitegen.model.signature import SignatureInfo, TensorInfo, fixed_size, map_roles
from sitegen.progress import note

if TYPE_CHECKING:
    from sitegen.model import ConvertOptions
    from sitegen.model.pipeline_config import PipelineSettings

RAW_BOX_LOCATIONS = "Postprocessor/raw_box_locations:0"
RAW_BOX_SCORES = "Postprocessor/raw_box_scores:0"
NORMALISATION_OP = "Preprocessor/mul"
CUT_INPUT_NAME = "resized_image"


@dataclass(frozen=True)
class CutOutcome:
    """The cut signature, or why the graph keeps its in-graph post-processing."""

    signature: SignatureInfo | None
    reason: str


def with_raw_cut(
    info: SignatureInfo, pipeline: PipelineSettings, options: ConvertOptions
) -> SignatureInfo:
    """A TF1 SSD export without raw outputs gets them by cutting its graph before the NMS,
    unless the user asked for the in-graph post-processing; any other graph comes back as it is."""
    if info.has_raw_outputs or options.postprocess == "graph":
        return info
    input_size = pipeline.input_size or fixed_size(info.input.shape)
    outcome = cut_before_nms(info, input_size)
    if outcome.signature is None:
        note(f"  raw cut    = none: {outcome.reason}; post-processing stays in the graph")
        return info
    note(f"  raw cut    = {outcome.reason}")
    return outcome.signature


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
            None, "the model's input size is not fixed (no fixed_shape_resizer in pipeline.config)"
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
