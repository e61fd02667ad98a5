"""Still pictures as footage frames: read upright (EXIF orientation applied), as RGB, and
letterboxed into the footage size (aspect kept, centred, black bars)."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from sitegen.footage import FootageError, Frame, FrameSize, Letterbox


def is_image(path: Path) -> bool:
    """Whether Pillow recognises ``path`` as a picture (by its content, whatever its name)."""
    try:
        with Image.open(path) as image:
            image.verify()
    except Image.DecompressionBombError:
        return True  # a picture, too large: open_upright_rgb says so
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError):
        return False
    return True


def is_animated(path: Path) -> bool:
    """An animated GIF, WebP or PNG: footage of its own, to play as a video."""
    with Image.open(path) as image:
        return bool(getattr(image, "is_animated", False))


def image_files(folder: Path) -> tuple[list[Path], list[Path]]:
    """The folder's pictures in name order, numbers compared as numbers (frame2 before frame10),
    and the files named like pictures that Pillow cannot read. Other files (annotations, a
    footage description) are left out."""
    extensions = set(Image.registered_extensions())
    named = [p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in extensions]
    readable = [p for p in named if is_image(p)]
    unreadable = [p for p in named if p not in readable]
    return sorted(readable, key=_natural_key), sorted(unreadable, key=_natural_key)


def _natural_key(path: Path) -> list:
    return [int(part) if part.isdigit() else part.lower() for part in re.split(r"(\d+)", path.name)]


def open_upright_rgb(path: Path) -> Image.Image:
    """The picture as the camera that took it meant it (EXIF orientation), in RGB. Transparent
    parts become black, as the letterbox bars are."""
    try:
        with Image.open(path) as image:
            image.seek(0)  # an animated GIF or WebP: its first frame
            upright = ImageOps.exif_transpose(image)
            return _to_rgb(upright)
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError) as exc:
        raise FootageError(f"cannot read image {path} ({exc}); save it as PNG or JPEG") from None
    except Image.DecompressionBombError:
        raise FootageError(f"image {path} is too large to read; scale it down first") from None


def _to_rgb(image: Image.Image) -> Image.Image:
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        black = Image.new("RGBA", rgba.size, (0, 0, 0, 255))
        return Image.alpha_composite(black, rgba).convert("RGB")
    if image.mode in ("I;16", "I;16B", "I;16L", "I"):
        # 16-bit grey: scale to 8 bits rather than let the conversion clip at 255.
        pixels = np.asarray(image, np.float64)
        peak = max(float(pixels.max()), 1.0)
        depth = 65535.0 if peak > 255 else 255.0
        return Image.fromarray((pixels * 255 / depth).round().astype(np.uint8)).convert("RGB")
    return image.convert("RGB")


def letterbox(image: Image.Image, size: FrameSize) -> tuple[np.ndarray, Letterbox]:
    """``image`` scaled to fit ``size`` with its aspect kept, centred on black."""
    box = Letterbox.fit(image.width, image.height, size)
    placed = image
    if (box.placed_width, box.placed_height) != image.size:
        placed = image.resize(
            (box.placed_width, box.placed_height), Image.Resampling.LANCZOS, reducing_gap=3.0
        )
    canvas = np.zeros((size.height, size.width, 3), np.uint8)
    x, y = box.offset_x, box.offset_y
    canvas[y : y + box.placed_height, x : x + box.placed_width] = np.asarray(placed)
    return canvas, box


def image_frame(path: Path, size: FrameSize) -> Frame:
    rgb, box = letterbox(open_upright_rgb(path), size)
    return Frame(rgb, box, str(path))
