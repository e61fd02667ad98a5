"""Read the few settings the page needs from an OD API ``pipeline.config``: class count, the fixed
input size and the non-maximum-suppression numbers. Absent or unreadable fields keep defaults."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from sitegen.contract import NmsSettings


@dataclass(frozen=True)
class PipelineSettings:
    num_classes: int | None = None
    input_size: tuple[int, int] | None = None  # (height, width)
    nms: NmsSettings = field(default_factory=NmsSettings)
    # Where input_size came from: pipeline.config's resizer, or (a TF1 SSD graph without one) the
    # graph's own resize (families/tf1_ssd.completed_from_graph).
    input_size_source: str = ""


def read_pipeline_config(path: Path | None) -> PipelineSettings:
    if path is None or not path.is_file():
        return PipelineSettings()
    text = re.sub(r"#[^\n]*", "", path.read_text(encoding="utf-8", errors="replace"))
    nms_block = _block(text, "batch_non_max_suppression") or ""
    resizer = _block(text, "fixed_shape_resizer")
    defaults = NmsSettings()
    nms = NmsSettings(
        score_threshold=_number(nms_block, "score_threshold", defaults.score_threshold),
        iou_threshold=_number(nms_block, "iou_threshold", defaults.iou_threshold),
        max_per_class=int(_number(nms_block, "max_detections_per_class", defaults.max_per_class)),
        max_total=int(_number(nms_block, "max_total_detections", defaults.max_total)),
        class_agnostic=bool(re.search(r"use_class_agnostic_nms\s*:\s*true", nms_block)),
        source="pipeline.config" if nms_block else "defaults",
    )
    size = None
    if resizer:
        height, width = _number(resizer, "height", 0), _number(resizer, "width", 0)
        size = (int(height), int(width)) if height and width else None
    classes = _number(text, "num_classes", 0)
    where = "pipeline.config fixed_shape_resizer" if size else ""
    return PipelineSettings(int(classes) or None, size, nms, where)


def _block(text: str, name: str) -> str | None:
    match = re.search(rf"\b{name}\s*\{{", text)
    if not match:
        return None
    depth, start = 1, match.end()
    for i in range(start, len(text)):
        depth += {"{": 1, "}": -1}.get(text[i], 0)
        if depth == 0:
            return text[start:i]
    return None


def _number(text: str, key: str, default: float) -> float:
    match = re.search(rf"\b{key}\s*:\s*([-+0-9.eE]+)", text)
    return float(match.group(1)) if match else default
