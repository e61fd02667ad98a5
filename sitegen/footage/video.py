"""A video file as footage frames: decoded with PyAV (FFmpeg's libraries, shipped in its wheel),
turned upright, resampled to the footage's frame rate and letterboxed into its size.

Resampling holds each decoded frame until the next one is due, as a camera shows the latest
picture: output frame k shows the last source frame whose time is at or before k / fps, so a
slower video repeats frames and a faster one drops them.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

from PIL import Image

from sitegen.errors import MissingDependencyError
from sitegen.footage import FootageError, Frame, FrameSize
from sitegen.footage.images import letterbox

CONVERT_HINT = "convert it to MP4 (H.264) or WebM"


def _av():
    try:
        import av
    except ImportError:
        raise MissingDependencyError(
            "reading video needs PyAV: pip install av (or pass a folder of images)"
        ) from None
    return av


def cannot_read(path: Path, why: str) -> FootageError:
    return FootageError(f"cannot read video {path} ({why}); {CONVERT_HINT}")


@contextlib.contextmanager
def opened_video(path: Path):
    """The container and its first video stream; a file FFmpeg cannot read is a FootageError."""
    av = _av()
    try:
        container = av.open(str(path))
    except (av.FFmpegError, OSError, ValueError) as exc:
        raise cannot_read(path, _reason(exc)) from None
    try:
        if not container.streams.video:
            raise cannot_read(path, "it has no video stream")
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"  # frame-parallel decoding: several times faster for H.264
        yield container, stream
    finally:
        container.close()


def _reason(exc: Exception) -> str:
    text = getattr(exc, "strerror", None) or str(exc)
    return text.split(": '", 1)[0].strip() or type(exc).__name__


def duration_seconds(path: Path) -> float | None:
    """How long the video says it is, when its container knows (to size a progress bar)."""
    with opened_video(path) as (container, stream):
        if stream.duration is not None and stream.time_base is not None:
            return float(stream.duration * stream.time_base)
        if container.duration is not None:
            return container.duration / 1_000_000
    return None


def video_frames(path: Path, size: FrameSize, fps: int, limit: int | None) -> Iterator[Frame]:
    """The video's frames at ``fps`` (at most ``limit`` of them), letterboxed into ``size``."""
    av = _av()
    with opened_video(path) as (container, stream):
        default_step = 1 / float(stream.average_rate) if stream.average_rate else 1 / fps
        held = None  # (source frame, its time from the video's start, its letterboxed Frame)
        start = None
        emitted = 0
        try:
            for decoded in container.decode(stream):
                if decoded.time is None:
                    continue
                start = decoded.time if start is None else start
                now = decoded.time - start
                while held is not None and emitted / fps < now and not _full(emitted, limit):
                    held = _letterboxed(held, path, size)
                    yield held[2]
                    emitted += 1
                if _full(emitted, limit):
                    return
                held = (decoded, now, None)
        except av.FFmpegError as exc:
            raise cannot_read(
                path, f"decoding failed after {emitted} frames: {_reason(exc)}"
            ) from None
        if held is None:
            raise cannot_read(path, "it has no frame to decode")
        # The last picture lasts one source frame, as it does in a player.
        end = held[1] + default_step
        while (emitted == 0 or emitted / fps < end - 1e-9) and not _full(emitted, limit):
            held = _letterboxed(held, path, size)
            yield held[2]
            emitted += 1


def _full(emitted: int, limit: int | None) -> bool:
    return limit is not None and emitted >= limit


def _letterboxed(held, path: Path, size: FrameSize):
    """``held`` with its Frame made (once: a held picture may be shown several times)."""
    decoded, time, frame = held
    if frame is None:
        rgb, box = letterbox(upright(decoded), size)
        frame = Frame(rgb, box, str(path), round(time, 6))
    return decoded, time, frame


def upright(decoded) -> Image.Image:
    """The frame as a player shows it: phones record sideways and say how to turn the picture
    (the display matrix), counterclockwise degrees that Pillow's rotate takes as they are."""
    image = decoded.to_image()
    rotation = getattr(decoded, "rotation", 0) or 0
    if rotation % 360:
        image = image.rotate(rotation, expand=True)
    return image
