"""Typed values that flow between the stages, and the site's ``config.json`` they end up in.

``config.json`` is the seam between the Python build and the page's JavaScript: the page reads
nothing about the model that is not written here. Its keys are camelCase because JavaScript reads
them; ``SiteConfig.to_json`` is the only place that spells them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Literal

CONFIG_SCHEMA_VERSION = 1

# TF.js backends by their TF.js names; LiteRT.js accelerators prefixed "litert-".
Backend = Literal["litert-wasm", "litert-webgpu", "wasm", "webgl", "webgpu", "cpu"]
TFJS_BACKENDS: tuple[Backend, ...] = ("wasm", "webgpu", "webgl", "cpu")
LITERT_BACKENDS: tuple[Backend, ...] = ("litert-wasm", "litert-webgpu")
# Without measurements, LiteRT.js first: on the SSD backbones measured it is ~2.5x faster than
# TF.js WASM on a CPU. A build that verifies the backends reorders them by measured speed.
ALL_BACKENDS: tuple[Backend, ...] = (*LITERT_BACKENDS, *TFJS_BACKENDS)

# The roles a detector's outputs can play. "graph" post-processing reads boxes/scores/classes/count
# computed inside the model; "raw" post-processing reads raw_boxes/raw_scores (decoded boxes and
# per-class scores with a background column, before non-maximum suppression) and does the rest in JS.
OutputRole = Literal["boxes", "scores", "classes", "count", "raw_boxes", "raw_scores"]
GRAPH_ROLES: tuple[OutputRole, ...] = ("boxes", "scores", "classes", "count")
RAW_ROLES: tuple[OutputRole, ...] = ("raw_boxes", "raw_scores")


@dataclass(frozen=True)
class NmsSettings:
    """Post-processing done in the page for "raw" models; defaults are the TF2 OD API SSD configs'."""

    score_threshold: float = 1e-8
    iou_threshold: float = 0.6
    max_per_class: int = 100
    max_total: int = 100
    class_agnostic: bool = False
    source: str = "defaults"  # where the numbers came from: "pipeline.config" or "defaults"

    @classmethod
    def from_json(cls, data: dict) -> NmsSettings:
        return cls(
            score_threshold=float(data["scoreThreshold"]),
            iou_threshold=float(data["iouThreshold"]),
            max_per_class=int(data["maxPerClass"]),
            max_total=int(data["maxTotal"]),
            class_agnostic=bool(data["classAgnostic"]),
            source=str(data.get("source", "model.json")),
        )

    def to_json(self) -> dict:
        return {
            "scoreThreshold": self.score_threshold,
            "iouThreshold": self.iou_threshold,
            "maxPerClass": self.max_per_class,
            "maxTotal": self.max_total,
            "classAgnostic": self.class_agnostic,
            "source": self.source,
        }


@dataclass(frozen=True)
class LitertSpec:
    """The same raw-output cut as a ``.tflite`` for LiteRT.js, stored in parts."""

    files: tuple[tuple[str, int], ...]  # (site-relative path, bytes) of each part, in order
    input_name: str
    input_dtype: str  # "uint8" or "float32": LiteRT takes the model's own input type
    input_size: tuple[int, int]
    outputs: dict[str, str]  # role (raw_boxes, raw_scores) -> output name in the signature

    def to_json(self) -> dict:
        return {
            "format": "tflite",
            "files": [{"path": path, "bytes": size} for path, size in self.files],
            "input": {
                "name": self.input_name,
                "dtype": self.input_dtype,
                "size": list(self.input_size),
            },
            "outputs": {_camel(role): name for role, name in self.outputs.items()},
        }


@dataclass(frozen=True)
class ModelSpec:
    """What the page needs to run the converted graph model."""

    input_name: str  # tensor name in model.json, e.g. "input_tensor:0"
    input_dtype: str  # "int32" (uint8 inputs become int32 in TF.js) or "float32"
    input_size: tuple[int, int] | None  # (height, width) the model resizes to, when known
    outputs: dict[
        str, str
    ]  # role -> tensor name in model.json ("Identity_1:0", "detection_boxes:0")
    postprocess: Literal["graph", "raw"]
    num_classes: int
    nms: NmsSettings = field(default_factory=NmsSettings)
    url: str = "model/model.json"
    # (site-relative path, size in bytes) of each weight shard, so the page can name a missing or
    # truncated file instead of failing inside TF.js with a shape error.
    files: tuple[tuple[str, int], ...] = ()
    # The .tflite for LiteRT.js, or None with the reason in ``litert_missing``.
    litert: LitertSpec | None = None
    litert_missing: str = ""

    @property
    def backends(self) -> tuple[str, ...]:
        """The backends this model can run on: LiteRT.js only where there is a .tflite."""
        return ALL_BACKENDS if self.litert else TFJS_BACKENDS

    def to_json(self) -> dict:
        return {
            "url": self.url,
            "format": "graph-model",
            "files": [{"path": path, "bytes": size} for path, size in self.files],
            "input": {
                "name": self.input_name,
                "dtype": self.input_dtype,
                "size": list(self.input_size) if self.input_size else None,
            },
            "outputs": {_camel(role): name for role, name in self.outputs.items()},
            "postprocess": self.postprocess,
            "numClasses": self.num_classes,
            "nms": self.nms.to_json(),
            "litert": self.litert.to_json() if self.litert else None,
            "litertMissing": self.litert_missing or None,
        }


@dataclass(frozen=True)
class SiteConfig:
    """Everything the page is configured with, loaded once per build."""

    title: str
    threshold: float
    max_detections: int
    labels: dict[int, str]
    model: ModelSpec
    # backend -> True (agrees with TensorFlow), False (disagrees: never auto-selected), or None
    # (not verified); the page tries backends in ``backend_order`` and skips the False ones.
    verified_backends: dict[str, bool | None] = field(default_factory=dict)
    # backend -> median ms per frame measured in headless Chromium at build time (CPU backends
    # only mean something across machines: WASM engines are alike, GPUs are not).
    backend_timing: dict[str, float] = field(default_factory=dict)
    # Empty: the model's default order (``ModelSpec.backends``).
    backend_order: tuple[str, ...] = ()
    sitegen_version: str = ""

    def to_json(self) -> dict:
        return {
            "schema": CONFIG_SCHEMA_VERSION,
            "generator": f"sitegen {self.sitegen_version}".strip(),
            "title": self.title,
            "threshold": self.threshold,
            "maxDetections": self.max_detections,
            "labels": {str(k): v for k, v in sorted(self.labels.items())},
            "model": self.model.to_json(),
            "backends": {
                "order": list(self.backend_order or self.model.backends),
                "verified": dict(self.verified_backends),
                "timingMs": dict(self.backend_timing),
            },
        }

    def dumps(self) -> str:
        return json.dumps(self.to_json(), indent=2, ensure_ascii=False) + "\n"


def _camel(role: str) -> str:
    head, *rest = role.split("_")
    return head + "".join(part.title() for part in rest)
