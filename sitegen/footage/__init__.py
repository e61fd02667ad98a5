"""Fake-camera footage: the user's video, image folder or image turned into a YUV4MPEG2 (.y4m) clip
that Chromium plays as a camera (``--use-file-for-fake-video-capture``), with a JSON description
of every frame beside it.

The values that flow between the footage stages live here: ``images`` and ``video`` give
letterboxed ``Frame``s, ``y4m`` writes and reads the clip; ``write_atomically`` is how every file
the footage and check commands write appears (whole, or not at all).
"""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import numpy as np

from sitegen.errors import FootageError, OutputError

# Chromium's video capture refuses frames past these; a webcam-like size is what a site sees.
MIN_SIDE, MAX_SIDE = 32, 4096


@dataclass(frozen=True)
class FrameSize:
    width: int
    height: int

    def __str__(self) -> str:
        return f"{self.width}x{self.height}"


def parse_frame_size(text: str) -> FrameSize:
    """``--size 640x480``: even numbers, since 4:2:0 chroma covers 2x2 pixel blocks."""
    match = re.fullmatch(r"\s*(\d+)\s*[xX×]\s*(\d+)\s*", text)
    if not match:
        raise FootageError(f"--size {text!r} is not a frame size; write it like 640x480")
    width, height = int(match.group(1)), int(match.group(2))
    if width % 2 or height % 2:
        raise FootageError(
            f"--size {text}: width and height must be even numbers (4:2:0 video), "
            f"such as {width + width % 2}x{height + height % 2}"
        )
    if not (MIN_SIDE <= width <= MAX_SIDE and MIN_SIDE <= height <= MAX_SIDE):
        raise FootageError(f"--size {text}: each side must be from {MIN_SIDE} to {MAX_SIDE}")
    return FrameSize(width, height)


@dataclass(frozen=True)
class Letterbox:
    """Where a source picture sits in the frame: ``frame = offset + source * scale`` (per axis,
    exact to half a pixel; ``placed / source`` is the exact factor of each axis)."""

    source_width: int
    source_height: int
    scale: float
    offset_x: int
    offset_y: int
    placed_width: int
    placed_height: int

    @classmethod
    def fit(cls, source_width: int, source_height: int, size: FrameSize) -> Letterbox:
        """Aspect kept, as large as fits, centred."""
        scale = min(size.width / source_width, size.height / source_height)
        placed_w = max(1, min(size.width, round(source_width * scale)))
        placed_h = max(1, min(size.height, round(source_height * scale)))
        return cls(
            source_width,
            source_height,
            scale,
            (size.width - placed_w) // 2,
            (size.height - placed_h) // 2,
            placed_w,
            placed_h,
        )

    def to_json(self) -> dict:
        return {
            "sourceWidth": self.source_width,
            "sourceHeight": self.source_height,
            "scale": round(self.scale, 6),
            "offsetX": self.offset_x,
            "offsetY": self.offset_y,
            "placedWidth": self.placed_width,
            "placedHeight": self.placed_height,
        }


@dataclass(frozen=True)
class Frame:
    """One footage frame: HxWx3 uint8 RGB at the footage size, and where it came from."""

    rgb: np.ndarray
    letterbox: Letterbox
    source: str  # the image file, or the video
    source_time: float | None = None  # seconds into the video; None for images


def description_path(footage: Path) -> Path:
    """Where a clip's description is: ``clip.y4m`` → ``clip.json`` (``sitegen check`` reads it)."""
    return footage.with_suffix(".json")


@contextlib.contextmanager
def write_atomically(path: Path, *, force: bool, option: str = "OUT") -> Iterator[BinaryIO]:
    """A binary stream whose contents become ``path`` only when the block ends without an error
    (a temporary file beside it is renamed), so no half-written clip is ever left behind."""
    refuse_to_overwrite(path, force=force, option=option)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as stream:
            yield stream
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise


def refuse_to_overwrite(path: Path, *, force: bool, option: str = "OUT") -> None:
    if path.is_dir():
        raise OutputError(f"{option} {path} is a folder; pass a file path")
    if path.exists() and not force:
        raise OutputError(f"{option} {path} exists; pass --force to replace it")
