"""``sitegen footage INPUT OUT.y4m``: a video, a folder of images or one image in → letterboxed
frames at the footage's size and rate → a .y4m clip for Chromium's fake camera and ``OUT.json``
(each frame's source and letterbox) beside it, both written atomically.

Everything the options and the input can be checked for is checked before anything is written;
the stages live in ``sitegen.footage``, this file plans the frames and orders the writing.
"""

from __future__ import annotations

import contextlib
import json
import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from sitegen.footage import (
    FootageError,
    Frame,
    FrameSize,
    description_path,
    parse_frame_size,
    refuse_to_overwrite,
    video,
    write_atomically,
)
from sitegen.footage import images as still
from sitegen.footage.y4m import Y4mWriter, frame_bytes
from sitegen.progress import counted_stage, note, stage

SINGLE_IMAGE_SECONDS = 5.0
MAX_FPS = 120
# What the page's camera.js asks getUserMedia for (ideal): larger fake cameras are scaled to it.
PAGE_CAMERA = FrameSize(640, 480)


@dataclass(frozen=True)
class FootageOptions:
    source: Path  # a video file, a folder of images, or one image
    out: Path  # the .y4m to write; OUT.json is written beside it
    size: str = "640x480"
    fps: int = 30
    seconds: float | None = None  # one image: its length (default 5 s); else: the most to write
    seconds_per_image: float = 1.0  # a folder's images
    force: bool = False  # replace OUT (and OUT.json) when they exist


@dataclass(frozen=True)
class FootageResult:
    out: Path
    description: Path  # OUT.json
    kind: str  # "image", "images" or "video"
    frames: int
    size: FrameSize
    fps: int

    @property
    def seconds(self) -> float:
        return self.frames / self.fps


@dataclass(frozen=True)
class _Plan:
    kind: str
    frames: Callable[[], Iterator[tuple[Frame, int]]]  # each frame and how many times it is shown
    total: int | None  # None: not known before decoding


def make_footage(options: FootageOptions) -> FootageResult:
    size = _checked(options)
    plan = _plan(options, size)
    if plan.total:
        megabytes = plan.total * frame_bytes(size) / 1e6
        note(
            f"  footage    = {plan.total} frames of {size} at {options.fps} fps ({megabytes:.0f} MB)"
        )
    description = description_path(options.out)
    with write_atomically(options.out, force=options.force) as stream:
        writer = Y4mWriter(stream, size, options.fps)
        with _progress(f"Writing {options.out.name}", plan.total) as advance:
            records = []
            for frame, repeat in plan.frames():
                writer.write(frame.rgb, repeat)
                first = len(records)
                records.extend(_record(frame, first + i, options.fps) for i in range(repeat))
                for _ in range(repeat):
                    advance()
        if not records:
            raise FootageError(f"{options.source} gave no frames; pass a longer video or --seconds")
        text = json.dumps(_description(options, size, plan.kind, records), indent=1)
        # Inside the clip's block: if the description cannot be written, neither is the clip.
        with write_atomically(description, force=options.force) as json_stream:
            json_stream.write(text.encode("utf-8") + b"\n")
    return FootageResult(options.out, description, plan.kind, len(records), size, options.fps)


def _checked(options: FootageOptions) -> FrameSize:
    size = parse_frame_size(options.size)
    if options.out.suffix.lower() != ".y4m":
        raise FootageError(
            f"OUT {options.out} must end in .y4m: Chromium reads fake-camera files by their name"
        )
    if not 1 <= options.fps <= MAX_FPS:
        raise FootageError(f"--fps {options.fps}: pass a whole number from 1 to {MAX_FPS}")
    if options.seconds is not None and options.seconds <= 0:
        raise FootageError(f"--seconds {options.seconds:g}: pass a positive number of seconds")
    if options.seconds_per_image <= 0:
        raise FootageError(
            f"--seconds-per-image {options.seconds_per_image:g}: pass a positive number"
        )
    refuse_to_overwrite(options.out, force=options.force)
    refuse_to_overwrite(description_path(options.out), force=options.force, option="OUT's")
    _warn_if_cropped(size)
    return size


def _warn_if_cropped(size: FrameSize) -> None:
    """Chromium fits a fake camera larger than the page's request to its 4:3 by cropping, and a
    cropped frame no longer matches the footage's boxes."""
    larger = size.width > PAGE_CAMERA.width and size.height > PAGE_CAMERA.height
    if larger and size.width * PAGE_CAMERA.height != size.height * PAGE_CAMERA.width:
        note(
            f"  warning    the page asks its camera for {PAGE_CAMERA}: Chromium will crop {size} "
            "footage to 4:3, and sitegen check cannot compare boxes; 4:3 sizes are safe"
        )


def _frames_for(seconds: float, fps: int) -> int:
    return max(1, round(seconds * fps))


def _plan(options: FootageOptions, size: FrameSize) -> _Plan:
    source = options.source
    if not source.exists():
        raise FootageError(
            f"{source} does not exist; pass a video file, a folder of images or an image"
        )
    limit = _frames_for(options.seconds, options.fps) if options.seconds else None
    if source.is_dir():
        return _folder_plan(
            source, size, _frames_for(options.seconds_per_image, options.fps), limit
        )
    if still.is_image(source) and not still.is_animated(source):
        count = _frames_for(options.seconds or SINGLE_IMAGE_SECONDS, options.fps)
        return _Plan("image", lambda: iter([(still.image_frame(source, size), count)]), count)
    return _video_plan(source, size, options.fps, limit)


def _folder_plan(folder: Path, size: FrameSize, each: int, limit: int | None) -> _Plan:
    pictures, unreadable = still.image_files(folder)
    if unreadable:
        names = ", ".join(p.name for p in unreadable[:3]) + (", …" if len(unreadable) > 3 else "")
        note(f"  skipped    = {len(unreadable)} files Pillow cannot read as pictures: {names}")
    if not pictures:
        raise FootageError(
            f"{folder} has no images (such as .jpg or .png); put pictures in it, "
            "or pass a video file or one image"
        )
    total = len(pictures) * each if limit is None else min(limit, len(pictures) * each)

    def frames() -> Iterator[tuple[Frame, int]]:
        left = total
        for picture in pictures:
            if left <= 0:
                return
            shown = min(each, left)
            yield still.image_frame(picture, size), shown
            left -= shown

    return _Plan("images", frames, total)


def _video_plan(path: Path, size: FrameSize, fps: int, limit: int | None) -> _Plan:
    seconds = video.duration_seconds(path)  # opens it: an unreadable file fails here, first
    estimate = math.ceil(seconds * fps) if seconds else None
    total = min(filter(None, (estimate, limit)), default=None)
    return _Plan(
        "video", lambda: ((f, 1) for f in video.video_frames(path, size, fps, limit)), total
    )


def _record(frame: Frame, index: int, fps: int) -> dict:
    record = {"index": index, "time": round(index / fps, 6), "source": frame.source}
    if frame.source_time is not None:
        record["sourceTime"] = frame.source_time
    record["letterbox"] = frame.letterbox.to_json()
    return record


def _description(options: FootageOptions, size: FrameSize, kind: str, records: list) -> dict:
    return {
        "footage": options.out.name,
        "input": str(options.source),
        "kind": kind,
        "width": size.width,
        "height": size.height,
        "fps": options.fps,
        "frameCount": len(records),
        "frames": records,
    }


@contextlib.contextmanager
def _progress(message: str, total: int | None) -> Iterator[Callable[[], None]]:
    """A bar (or a line per tenth) when the frame count is known; a video that does not say how
    long it is gets the plain stage."""
    if total:
        with counted_stage(message, total) as advance:
            yield advance
    else:
        with stage(message):
            yield lambda: None
