"""The page's post-processing settings in config.json, a part of the contract of their own
(re-exported by ``sitegen/contract.py`` under the same names): the NMS a "raw" model's page runs,
and how a YOLO model's page feeds and reads it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal


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


# Ultralytics' predict defaults, which a YOLO site's page reproduces: IoU 0.7, at most 300 boxes,
# NMS per class (agnostic_nms=False), grey 114 letterbox padding.
YOLO_IOU_THRESHOLD = 0.7
YOLO_MAX_DETECTIONS = 300
YOLO_PAD_VALUE = 114


@dataclass(frozen=True)
class YoloSettings:
    """How the page feeds and reads an Ultralytics YOLO model: the frame letterboxed (scaled to
    fit, centred, padded grey) into the input, pixels divided by 255, boxes as centre x, y, width,
    height in input pixels ("pixels": SavedModel and TF.js exports) or in 0..1 of the input
    ("normalized": Ultralytics' tflite export)."""

    box_units: Literal["pixels", "normalized"] = "pixels"
    input_scale: float = 1 / 255
    pad_value: int = YOLO_PAD_VALUE

    def to_json(self) -> dict:
        return {
            "boxUnits": self.box_units,
            "inputScale": self.input_scale,
            "padValue": self.pad_value,
        }

    @classmethod
    def from_json(cls, data: dict) -> YoloSettings:
        return cls(
            box_units=data["boxUnits"],
            input_scale=float(data["inputScale"]),
            pad_value=int(data["padValue"]),
        )
