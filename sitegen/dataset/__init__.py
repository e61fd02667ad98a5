"""Training data: Pascal VOC / LabelImg annotations in, checked and split into the files the TF
Object Detection API and COCO tools read (CSV, COCO JSON, labelmap.pbtxt, TFRecord).

The values that flow between the dataset stages live here: ``voc`` reads an XML file,
``validate`` turns it into an ``AnnotatedImage`` (or ``Problem``s), ``split`` divides the images,
``writers`` and ``tfrecord`` write them.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sitegen.errors import DatasetError

__all__ = ["AnnotatedImage", "Box", "DatasetError", "Problem"]


@dataclass(frozen=True)
class Box:
    """One labelled box in image pixels, as the annotation gives it (xmin < xmax, ymin < ymax)."""

    label: str
    xmin: float
    ymin: float
    xmax: float
    ymax: float

    @property
    def width(self) -> float:
        return self.xmax - self.xmin

    @property
    def height(self) -> float:
        return self.ymax - self.ymin


@dataclass(frozen=True)
class AnnotatedImage:
    """An image that passed every check, and its boxes that did."""

    filename: str  # its name in the outputs; unique across the dataset
    path: Path  # where it is on this machine
    width: int
    height: int
    image_format: str  # PIL's name for it: "JPEG", "PNG", ...
    source: (
        str  # where it came from: the XML's <path>, else <source><database>, else the XML's name
    )
    annotation: Path
    boxes: tuple[Box, ...]

    @property
    def labels(self) -> frozenset[str]:
        return frozenset(box.label for box in self.boxes)


@dataclass(frozen=True)
class Problem:
    """Something wrong in one annotation file, and what was done about it."""

    file: Path
    line: int | None
    message: str
    skipped_file: bool  # False: only one box was dropped

    @property
    def headline(self) -> str:
        """``FILE:LINE: what is wrong``, as compilers point at a line."""
        where = f"{self.file}:{self.line}" if self.line else f"{self.file}"
        return f"{where}: {self.message}"

    def __str__(self) -> str:
        return f"{self.headline}; {'file skipped' if self.skipped_file else 'box dropped'}"
