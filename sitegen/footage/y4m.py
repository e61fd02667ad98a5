"""YUV4MPEG2 (.y4m) as Chromium's fake camera reads it (media/capture/video/
file_video_capture_device.cc): a header line of tokens, then each frame as ``FRAME\\n`` and the
raw I420 planes (Y, then U and V at half width and height).

Chromium is strict, and a file it cannot parse crashes its capture process instead of failing
politely, so ``read_info`` checks everything it relies on: the header within the first 200
bytes, a 4:2:0 colour space (``C420``, ``C420jpeg``, ``C420mpeg2``, ``C420paldv``), no mixed
interlacing, an integer frame rate of at least 1 (it divides the F fraction in integers), and
frames of exactly one size, each marked by a bare ``FRAME\\n`` (no per-frame parameters).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import numpy as np

from sitegen.footage import FootageError, FrameSize

HEADER_LIMIT = 200  # Chromium looks for the first FRAME within the first 200 bytes
FRAME_MARKER = b"FRAME\n"
CHROMIUM_COLOUR_SPACES = ("420", "420jpeg", "420mpeg2", "420paldv")

# BT.601 in studio (limited) range: Chromium's fake camera has no range flag to read, so it
# converts back to RGB as limited-range video, and black must be Y=16 to stay black on the page.
_KR, _KB = 0.299, 0.114


def header(size: FrameSize, fps: int) -> bytes:
    # C420jpeg: chroma sited between the 2x2 luma samples it covers, as rgb_to_i420 averages them.
    return f"YUV4MPEG2 W{size.width} H{size.height} F{fps}:1 Ip A1:1 C420jpeg\n".encode("ascii")


def rgb_to_i420(rgb: np.ndarray) -> bytes:
    """HxWx3 uint8 RGB (even sides) as the Y, U and V planes of one I420 frame."""
    pixels = rgb.astype(np.float32)
    r, g, b = pixels[..., 0], pixels[..., 1], pixels[..., 2]
    y = _KR * r + (1 - _KR - _KB) * g + _KB * b
    cb = (b - y) / (2 * (1 - _KB))
    cr = (r - y) / (2 * (1 - _KR))
    height, width = y.shape
    luma = 16 + y * (219 / 255)
    u = 128 + _block_mean(cb, height, width) * (224 / 255)
    v = 128 + _block_mean(cr, height, width) * (224 / 255)
    return b"".join(np.clip(np.rint(p), 0, 255).astype(np.uint8).tobytes() for p in (luma, u, v))


def _block_mean(plane: np.ndarray, height: int, width: int) -> np.ndarray:
    return plane.reshape(height // 2, 2, width // 2, 2).mean(axis=(1, 3))


class Y4mWriter:
    """Writes frames of one size to ``stream`` after the header; counts them."""

    def __init__(self, stream: BinaryIO, size: FrameSize, fps: int):
        self.stream, self.size, self.frames = stream, size, 0
        stream.write(header(size, fps))

    def write(self, rgb: np.ndarray, repeat: int = 1) -> None:
        """``rgb`` ``repeat`` times (a still image is converted once)."""
        if rgb.shape != (self.size.height, self.size.width, 3):
            raise ValueError(f"frame of shape {rgb.shape}, footage is {self.size}")
        frame = FRAME_MARKER + rgb_to_i420(rgb)
        for _ in range(repeat):
            self.stream.write(frame)
        self.frames += repeat


def frame_bytes(size: FrameSize) -> int:
    return size.width * size.height + 2 * ((size.width + 1) // 2) * ((size.height + 1) // 2)


@dataclass(frozen=True)
class Y4mInfo:
    path: Path
    size: FrameSize
    fps: int  # as Chromium plays it: the F fraction divided in integers
    frames: int
    header_bytes: int  # where the first FRAME marker starts

    @property
    def seconds(self) -> float:
        return self.frames / self.fps


def read_info(path: Path) -> Y4mInfo:
    """The clip's size, rate and length, checked as Chromium will read it."""
    if not path.is_file():
        raise FootageError(
            f"{path} does not exist; make footage with: sitegen footage INPUT {path}"
        )
    if path.suffix.lower() != ".y4m":
        raise _not_y4m(path, "Chromium plays only files named .y4m")
    with open(path, "rb") as stream:
        start = stream.read(HEADER_LIMIT)
    end = start.find(b"FRAME")
    if not start.startswith(b"YUV4MPEG2 ") or end < 0 or b"\n" not in start[:end]:
        raise _not_y4m(path, "no YUV4MPEG2 header with a frame after it")
    line = start[: start.index(b"\n")].decode("ascii", errors="replace")
    size, fps = _parse_header(path, line.split()[1:])
    frames = _count_frames(path, end, size)
    return Y4mInfo(path, size, fps, frames, end)


def _parse_header(path: Path, tokens: list[str]) -> tuple[FrameSize, int]:
    fields = {token[0]: token[1:] for token in tokens if token}
    try:
        width, height = int(fields["W"]), int(fields["H"])
        numerator, denominator = (int(part) for part in fields.get("F", "").split(":"))
    except (KeyError, ValueError):
        raise _not_y4m(path, "its header lacks W, H or an F rate such as F30:1") from None
    if width < 2 or height < 2:
        raise _not_y4m(path, f"frames of {width}x{height}")
    if denominator <= 0 or numerator // denominator < 1:
        raise _not_y4m(path, f"frame rate F{fields['F']} is under 1 frame per second")
    colour = fields.get("C", "420")
    if colour not in CHROMIUM_COLOUR_SPACES:
        raise _not_y4m(path, f"colour space C{colour}; Chromium plays 4:2:0 (C420) only")
    if fields.get("I", "p").startswith("m"):
        raise _not_y4m(path, "mixed interlacing (Im)")
    return FrameSize(width, height), numerator // denominator


def _count_frames(path: Path, first: int, size: FrameSize) -> int:
    step = len(FRAME_MARKER) + frame_bytes(size)
    total = path.stat().st_size - first
    if total < step or total % step:
        raise _not_y4m(path, f"{total} bytes of frames is not a whole number of {size} frames")
    frames = total // step
    with open(path, "rb") as stream:
        # The first and last markers: a file with per-frame parameters or another size fails.
        for index in {0, frames - 1}:
            stream.seek(first + index * step)
            if stream.read(len(FRAME_MARKER)) != FRAME_MARKER:
                raise _not_y4m(path, f"frame {index} does not start with a bare FRAME line")
    return frames


def _not_y4m(path: Path, why: str) -> FootageError:
    return FootageError(
        f"{path} is not footage Chromium can play ({why}); make some with: "
        f"sitegen footage INPUT {path.with_suffix('.y4m').name}"
    )


def luma_planes(info: Y4mInfo) -> Iterator[np.ndarray]:
    """Each frame's Y plane (HxW uint8, limited range), read without the chroma planes."""
    size = info.size
    luma = size.width * size.height
    step = len(FRAME_MARKER) + frame_bytes(size)
    with open(info.path, "rb") as stream:
        for index in range(info.frames):
            stream.seek(info.header_bytes + index * step + len(FRAME_MARKER))
            plane = np.frombuffer(stream.read(luma), np.uint8)
            yield plane.reshape(size.height, size.width)
