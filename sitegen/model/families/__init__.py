"""The model families sitegen understands, each named once in ``FAMILIES``: how a model is
recognised as one, where its cut lives, what its runtimes need, and which of the page's
post-processing modes (``contract.Postprocess``, the keys of ``OUTPUTS_FOR`` in
assets/js/contract.js) it uses. Each family's knowledge is in its module(s) beside this one.

Functions are named as ``"module:function"`` of this package and imported when asked for
(``Family.function``), so reading the table imports neither TensorFlow nor a family's converter.
A new family is one row here, its module, and one mode in assets/js/postprocess.js
(docs/architecture.md, "Adding a model family").
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sitegen.contract import Postprocess


@dataclass(frozen=True)
class Family:
    name: str  # its module in sitegen/model/families/
    title: str
    # "module:function" that tells a model is of this family, from its outputs and metadata
    # (never its file name).
    recognise: str
    # "module:function" that makes the family's cut: the outputs the converted model ends at.
    cut: str
    runtimes: str  # what the family needs of TF.js and LiteRT.js, in words
    postprocess: tuple[Postprocess, ...]  # the page's modes, first the one chosen by default
    # "module:function" (saved_model, spec) -> what the page is verified against.
    reference: str
    # "module:function" (source, spec) -> (labels, path, origin) or None: class names the family's
    # export carries itself; None: the label files (labels.py) alone.
    labels: str | None = None
    # "module:function" (model folder) -> the SavedModel exported beside a TF.js input, to verify
    # the page against; None: a TF.js input is not verified.
    saved_model_beside: str | None = None

    def function(self, field: str) -> Callable[..., Any]:
        """The function a field names, imported now."""
        module, name = getattr(self, field).split(":")
        return getattr(importlib.import_module(f"{__name__}.{module}"), name)


FAMILIES: tuple[Family, ...] = (
    Family(
        name="odapi_ssd",
        title="TF2 Object Detection API SSD",
        recognise="odapi_ssd:outputs_recognised",
        cut="odapi_ssd:ssd_into",
        runtimes=(
            "raw: TF.js, and LiteRT.js when the input size is fixed (pipeline.config's "
            "fixed_shape_resizer or the signature); graph: TF.js only, the NMS in the graph"
        ),
        postprocess=("raw", "graph"),
        reference="odapi_ssd:ssd_reference",
    ),
    Family(
        name="tf1_ssd",
        title="TF1 Object Detection API SSD (frozen graph or TF1 SavedModel)",
        recognise="tf1_ssd:cut_before_nms",
        cut="tf1_ssd:with_raw_cut",
        runtimes=(
            "cut before the post-processor's NMS, then as a TF2 SSD: raw on TF.js and LiteRT.js; "
            "uncut (graph) it needs TF.js's slow asynchronous executor"
        ),
        postprocess=("raw", "graph"),
        reference="odapi_ssd:ssd_reference",
    ),
    Family(
        name="yolo",
        title="Ultralytics YOLO detection, classic head [1, 4 + C, A]",
        recognise="yolo_saved_model:yolo_metadata",
        cut="yolo_saved_model:yolo_into",
        runtimes=(
            "TF.js and LiteRT.js (a .tflite converted from the SavedModel, or the export's own "
            "float .tflite carried as it is); letterboxed float32 pixels / 255; no int8"
        ),
        postprocess=("yolo",),
        reference="yolo_saved_model:yolo_reference",
        labels="yolo:labels_for",
        saved_model_beside="yolo:saved_model_beside",
    ),
)


def family_for(postprocess: str) -> Family:
    """The family a site's post-processing mode belongs to. Families that share a mode share its
    reference (a cut TF1 SSD is read exactly as a TF2 one), so the first that names it speaks
    for them all."""
    for family in FAMILIES:
        if postprocess in family.postprocess:
            return family
    raise ValueError(f"no model family uses post-processing {postprocess!r}")
