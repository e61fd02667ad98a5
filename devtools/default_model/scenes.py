"""Synthetic road-sign scenes: training data, held-out test sets and fake-camera footage.

No dataset can be downloaded at run time, so sitegen draws its own: yellow diamond signs with a
black kangaroo (class 1) and red round "STOP" signs (class 2) on varied backgrounds, with scale,
rotation, perspective, blur, lighting, noise, truncation at the frame edge and partial occlusion.
Everything is a pure function of a numpy ``Generator`` (or a seed), so a seed names a data set.

Only numpy and Pillow are needed. When scikit-image is installed its bundled sample photos are
used as extra backgrounds; without it the backgrounds are procedural only (still deterministic,
but a different data set for the same seed).
"""

from __future__ import annotations

import functools
import importlib.util
import json
import math
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

CLASSES: dict[int, str] = {1: "kangaroo", 2: "stop"}

# The frame code: 12 cells of 16x16 px in the top-left corner carry the frame index (LSB first),
# so a browser test can tell which frame the model saw. Signs never enter the band around it.
CODE_CELLS = 12
CODE_CELL_PX = 16
CODE_BAND = (200, 24)  # (width, height) of the corner that signs keep out of

_YELLOW = (250, 200, 20)
_BLACK = (18, 18, 18)
_RED = (200, 24, 32)
_WHITE = (245, 245, 245)

# A hopping kangaroo facing right, in the unit square (x right, y down), traced like the one on
# Australian warning signs: head and ears top right, big feet bottom, long tail to the left.
_KANGAROO = (
    (0.93, 0.23), (0.87, 0.29), (0.79, 0.34), (0.83, 0.42), (0.81, 0.46), (0.74, 0.43),
    (0.70, 0.47), (0.68, 0.58), (0.71, 0.69), (0.79, 0.81), (0.89, 0.86), (0.88, 0.91),
    (0.62, 0.91), (0.56, 0.85), (0.49, 0.75), (0.41, 0.71), (0.08, 0.89), (0.05, 0.86),
    (0.34, 0.62), (0.39, 0.47), (0.50, 0.35), (0.64, 0.25), (0.68, 0.07), (0.73, 0.05),
    (0.75, 0.16), (0.82, 0.15),
)  # fmt: skip

_PHOTO_NAMES = (
    "astronaut.png", "brick.png", "camera.png", "chelsea.png", "coffee.png", "coins.png",
    "grass.png", "gravel.png", "hubble_deep_field.jpg", "motorcycle_left.png",
    "motorcycle_right.png", "page.png", "retina.jpg", "rocket.jpg", "text.png", "moon.png",
    "color.png", "ihc.png", "cell.png", "logo.png",
)  # fmt: skip


@dataclass(frozen=True)
class Box:
    """A ground-truth box in pixel edges of its image: ``xmax = xmin + width``."""

    class_id: int
    xmin: float
    ymin: float
    xmax: float
    ymax: float

    @property
    def label(self) -> str:
        return CLASSES[self.class_id]

    @property
    def width(self) -> float:
        return self.xmax - self.xmin

    @property
    def height(self) -> float:
        return self.ymax - self.ymin


# --------------------------------------------------------------------------------------------
# Sign templates


@functools.lru_cache(maxsize=128)
def _sign_template(class_id: int, size: int) -> Image.Image:
    """The sign facing the camera, filling a ``size`` square, premultiplied RGBa."""
    scale = 4  # drawn large and shrunk, for anti-aliased edges
    big = size * scale
    image = Image.new("RGBA", (big, big), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    if class_id == 1:
        _draw_kangaroo_sign(draw, big)
    elif class_id == 2:
        _draw_stop_sign(draw, big)
    else:
        raise ValueError(f"unknown class id {class_id}")
    return image.resize((size, size), Image.Resampling.LANCZOS).convert("RGBa")


def _diamond(size: float, inset: float) -> list[tuple[float, float]]:
    half = size / 2
    return [(half, inset), (size - inset, half), (half, size - inset), (inset, half)]


def _draw_kangaroo_sign(draw: ImageDraw.ImageDraw, size: int) -> None:
    draw.polygon(_diamond(size, 0), fill=_YELLOW)
    border = size * 0.035
    # The black border line sits inside a thin yellow rim, as on the real sign.
    draw.polygon(_diamond(size, size * 0.045), fill=_BLACK)
    draw.polygon(_diamond(size, size * 0.045 + border * 1.4), fill=_YELLOW)
    figure = 0.5 * size
    origin = (size - figure) / 2
    draw.polygon(
        [(origin + x * figure, origin + 0.03 * size + y * figure) for x, y in _KANGAROO],
        fill=_BLACK,
    )


def _draw_stop_sign(draw: ImageDraw.ImageDraw, size: int) -> None:
    draw.ellipse((0, 0, size - 1, size - 1), fill=_WHITE)
    rim = size * 0.05
    draw.ellipse((rim, rim, size - 1 - rim, size - 1 - rim), fill=_RED)
    _draw_block_word(draw, "STOP", size * 0.17, size * 0.39, size * 0.66, size * 0.22, _WHITE)


def _draw_block_word(
    draw: ImageDraw.ImageDraw,
    word: str,
    left: float,
    top: float,
    width: float,
    height: float,
    colour: tuple[int, int, int],
) -> None:
    """Block capitals from rectangles (no font file, so identical on every machine)."""
    gap = width * 0.05
    letter_w = (width - gap * (len(word) - 1)) / len(word)
    stroke = letter_w * 0.28
    for index, letter in enumerate(word):
        x0 = left + index * (letter_w + gap)
        x1, y0, y1 = x0 + letter_w, top, top + height
        ym = (y0 + y1) / 2
        bars = _LETTER_BARS[letter](x0, x1, y0, ym, y1, stroke)
        for bar in bars:
            draw.rectangle(bar, fill=colour)


_Bar = tuple[float, float, float, float]


def _bars_s(x0: float, x1: float, y0: float, ym: float, y1: float, s: float) -> list[_Bar]:
    return [
        (x0, y0, x1, y0 + s),
        (x0, ym - s / 2, x1, ym + s / 2),
        (x0, y1 - s, x1, y1),
        (x0, y0, x0 + s, ym),
        (x1 - s, ym, x1, y1),
    ]


def _bars_t(x0: float, x1: float, y0: float, ym: float, y1: float, s: float) -> list[_Bar]:
    mid = (x0 + x1) / 2
    return [(x0, y0, x1, y0 + s), (mid - s / 2, y0, mid + s / 2, y1)]


def _bars_o(x0: float, x1: float, y0: float, ym: float, y1: float, s: float) -> list[_Bar]:
    return [(x0, y0, x1, y0 + s), (x0, y1 - s, x1, y1), (x0, y0, x0 + s, y1), (x1 - s, y0, x1, y1)]


def _bars_p(x0: float, x1: float, y0: float, ym: float, y1: float, s: float) -> list[_Bar]:
    return [
        (x0, y0, x0 + s, y1),
        (x0, y0, x1, y0 + s),
        (x0, ym - s / 2, x1, ym + s / 2),
        (x1 - s, y0, x1, ym),
    ]


_LETTER_BARS = {"S": _bars_s, "T": _bars_t, "O": _bars_o, "P": _bars_p}


# --------------------------------------------------------------------------------------------
# Sign geometry


@dataclass
class _SignPose:
    class_id: int
    cx: float
    cy: float
    size: float  # side of the template square, in pixels
    angle: float  # radians
    squash_x: float  # foreshortening when the sign is turned away (yaw)
    squash_y: float  # ... or tilted (pitch)
    jitter: np.ndarray = field(repr=False)  # 4x2 corner offsets in template units: perspective
    brightness: float = 1.0
    tint: tuple[float, float, float] = (1.0, 1.0, 1.0)
    shade: float = 0.0  # strength of a linear shadow across the sign
    shade_angle: float = 0.0
    blur: float = 0.0

    def quad(self) -> np.ndarray:
        """The template's corners (TL, TR, BR, BL) in image pixels."""
        unit = np.array([(-0.5, -0.5), (0.5, -0.5), (0.5, 0.5), (-0.5, 0.5)]) + self.jitter
        points = unit * np.array([self.squash_x, self.squash_y]) * self.size
        cos, sin = math.cos(self.angle), math.sin(self.angle)
        rotated = points @ np.array([[cos, sin], [-sin, cos]])
        return rotated + np.array([self.cx, self.cy])


def _random_pose(rng: np.random.Generator, class_id: int, cx: float, cy: float, size: float):
    return _SignPose(
        class_id=class_id,
        cx=cx,
        cy=cy,
        size=size,
        angle=math.radians(rng.normal(0, 7)) if rng.random() < 0.8 else rng.uniform(-0.4, 0.4),
        squash_x=float(rng.uniform(0.65, 1.0)) if rng.random() < 0.5 else 1.0,
        squash_y=float(rng.uniform(0.8, 1.0)) if rng.random() < 0.3 else 1.0,
        jitter=rng.uniform(-0.06, 0.06, size=(4, 2)) * (rng.random() < 0.6),
        brightness=float(rng.uniform(0.55, 1.15)),
        tint=tuple(float(t) for t in rng.uniform(0.85, 1.1, size=3)),
        shade=float(rng.uniform(0, 0.5)) if rng.random() < 0.4 else 0.0,
        shade_angle=float(rng.uniform(0, 2 * math.pi)),
        blur=float(rng.uniform(0, 1.6)) if rng.random() < 0.4 else 0.0,
    )


def _perspective_coefficients(dst: np.ndarray, src: np.ndarray) -> tuple[float, ...]:
    """PIL's PERSPECTIVE data mapping output points ``dst`` back to input points ``src``."""
    rows, rhs = [], []
    for (x, y), (u, v) in zip(dst, src, strict=True):
        rows.append([x, y, 1, 0, 0, 0, -u * x, -u * y])
        rows.append([0, 0, 0, x, y, 1, -v * x, -v * y])
        rhs.extend([u, v])
    return tuple(np.linalg.solve(np.array(rows, float), np.array(rhs, float)).tolist())


@dataclass
class _Layer:
    """A rendered sign: premultiplied colour and alpha on a patch placed at (left, top)."""

    left: int
    top: int
    colour: np.ndarray  # h x w x 3, premultiplied, 0..1
    alpha: np.ndarray  # h x w, 0..1


def _render_sign(pose: _SignPose) -> _Layer:
    quad = pose.quad()
    left, top = np.floor(quad.min(axis=0)).astype(int) - 2
    right, bottom = np.ceil(quad.max(axis=0)).astype(int) + 2
    extent = max(right - left, bottom - top)
    template_size = int(min(512, max(32, 16 * math.ceil(extent * 1.1 / 16))))
    template = _sign_template(pose.class_id, template_size)
    corners = np.array([(0, 0), (1, 0), (1, 1), (0, 1)], float) * template_size
    coefficients = _perspective_coefficients(quad - np.array([left, top]), corners)
    patch = template.transform(
        (int(right - left), int(bottom - top)),
        Image.Transform.PERSPECTIVE,
        coefficients,
        Image.Resampling.BILINEAR,
    )
    if pose.blur > 0:
        patch = patch.filter(ImageFilter.GaussianBlur(pose.blur))
    rgba = np.asarray(patch, dtype=np.float32) / 255.0
    colour, alpha = rgba[..., :3], rgba[..., 3]
    colour = colour * (pose.brightness * np.array(pose.tint, np.float32))
    if pose.shade > 0:
        colour = colour * _linear_shade(colour.shape[:2], pose.shade, pose.shade_angle)[..., None]
    return _Layer(int(left), int(top), colour.astype(np.float32), alpha)


def _linear_shade(shape: tuple[int, int], strength: float, angle: float) -> np.ndarray:
    h, w = shape
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    ramp = (xs / max(w, 1) - 0.5) * math.cos(angle) + (ys / max(h, 1) - 0.5) * math.sin(angle)
    return np.clip(1.0 - strength * (ramp + 0.5), 0.2, 1.0)


def _clip(layer: _Layer, width: int, height: int) -> tuple[int, int, int, int]:
    x0, y0 = max(layer.left, 0), max(layer.top, 0)
    x1 = min(layer.left + layer.alpha.shape[1], width)
    y1 = min(layer.top + layer.alpha.shape[0], height)
    return x0, y0, x1, y1


def _coverage(layer: _Layer, width: int, height: int) -> np.ndarray:
    """Where ``layer`` covers a ``width`` x ``height`` image (alpha >= 0.5)."""
    mask = np.zeros((height, width), bool)
    x0, y0, x1, y1 = _clip(layer, width, height)
    if x0 < x1 and y0 < y1:
        sx, sy = x0 - layer.left, y0 - layer.top
        mask[y0:y1, x0:x1] = layer.alpha[sy : sy + y1 - y0, sx : sx + x1 - x0] >= 0.5
    return mask


def _composite(canvas: np.ndarray, layer: _Layer) -> np.ndarray:
    """Blend ``layer`` into ``canvas`` in place; return its coverage as a full-size mask."""
    height, width = canvas.shape[:2]
    x0, y0, x1, y1 = _clip(layer, width, height)
    if x0 < x1 and y0 < y1:
        sx, sy = x0 - layer.left, y0 - layer.top
        alpha = layer.alpha[sy : sy + y1 - y0, sx : sx + x1 - x0]
        colour = layer.colour[sy : sy + y1 - y0, sx : sx + x1 - x0]
        region = canvas[y0:y1, x0:x1]
        region *= 1.0 - alpha[..., None]
        region += colour
    return _coverage(layer, width, height)


def _full_area(layer: _Layer) -> int:
    return int((layer.alpha >= 0.5).sum())


def _mask_box(class_id: int, mask: np.ndarray) -> Box | None:
    rows = np.flatnonzero(mask.any(axis=1))
    cols = np.flatnonzero(mask.any(axis=0))
    if rows.size == 0:
        return None
    return Box(class_id, float(cols[0]), float(rows[0]), float(cols[-1] + 1), float(rows[-1] + 1))


# --------------------------------------------------------------------------------------------
# Backgrounds and clutter


@functools.lru_cache(maxsize=1)
def _photos() -> tuple[np.ndarray, ...]:
    spec = importlib.util.find_spec("skimage")
    if spec is None or not spec.submodule_search_locations:
        return ()
    data_dir = Path(next(iter(spec.submodule_search_locations))) / "data"
    photos = []
    for name in _PHOTO_NAMES:
        path = data_dir / name
        if path.is_file():
            with Image.open(path) as image:
                photos.append(np.asarray(image.convert("RGB")))
    return tuple(photos)


def _smooth_noise(rng: np.random.Generator, height: int, width: int, cells: int) -> np.ndarray:
    """Value noise in 0..1 with about ``cells`` blobs across the longer side."""
    aspect = height / width
    small = rng.random((max(2, round(cells * aspect)), max(2, cells))).astype(np.float32)
    image = Image.fromarray(small, mode="F").resize((width, height), Image.Resampling.BICUBIC)
    return np.clip(np.asarray(image), 0.0, 1.0)


def _random_colour(rng: np.random.Generator) -> np.ndarray:
    return rng.random(3).astype(np.float32)


def _gradient_background(rng: np.random.Generator, height: int, width: int) -> np.ndarray:
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
    angle = rng.uniform(0, 2 * math.pi)
    ramp = xs / width * math.cos(angle) + ys / height * math.sin(angle)
    ramp = (ramp - ramp.min()) / max(float(ramp.max() - ramp.min()), 1e-6)
    start, end = _random_colour(rng), _random_colour(rng)
    return start + ramp[..., None] * (end - start)


def _noise_background(rng: np.random.Generator, height: int, width: int) -> np.ndarray:
    octaves = sum(
        _smooth_noise(rng, height, width, cells) * weight
        for cells, weight in ((4, 0.5), (12, 0.3), (40, 0.2))
    )
    low, high = _random_colour(rng), _random_colour(rng)
    return low + octaves[..., None] * (high - low)


def _texture_background(rng: np.random.Generator, height: int, width: int) -> np.ndarray:
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
    angle = rng.uniform(0, math.pi)
    period = rng.uniform(6, 60) * min(height, width) / 480
    u = xs * math.cos(angle) + ys * math.sin(angle)
    v = -xs * math.sin(angle) + ys * math.cos(angle)
    if rng.random() < 0.5:
        pattern = (np.floor(u / period) % 2).astype(np.float32)
    else:
        pattern = ((np.floor(u / period) + np.floor(v / period)) % 2).astype(np.float32)
    first, second = _random_colour(rng), _random_colour(rng)
    second = first + (second - first) * rng.uniform(0.2, 1.0)
    return first + pattern[..., None] * (second - first)


def _photo_background(rng: np.random.Generator, height: int, width: int) -> np.ndarray:
    photos = _photos()
    photo = photos[rng.integers(len(photos))]
    ph, pw = photo.shape[:2]
    crop = rng.uniform(0.35, 1.0)
    ch, cw = max(8, int(ph * crop)), max(8, int(pw * crop))
    y0, x0 = rng.integers(0, ph - ch + 1), rng.integers(0, pw - cw + 1)
    image = Image.fromarray(photo[y0 : y0 + ch, x0 : x0 + cw])
    if rng.random() < 0.5:
        image = image.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
    image = image.resize((width, height), Image.Resampling.BILINEAR)
    pixels = np.asarray(image, np.float32) / 255.0
    gains = rng.uniform(0.7, 1.2, size=3).astype(np.float32)
    return pixels * gains


def _background(rng: np.random.Generator, height: int, width: int) -> np.ndarray:
    makers = [_gradient_background, _noise_background, _texture_background]
    weights = [0.25, 0.35, 0.2]
    if _photos():
        makers.append(_photo_background)
        weights.append(0.45)
    probabilities = np.array(weights) / sum(weights)
    maker = makers[rng.choice(len(makers), p=probabilities)]
    return np.clip(maker(rng, height, width), 0.0, 1.0).astype(np.float32)


def _colour_tuple(rng: np.random.Generator, *, distractor: bool = False) -> tuple[int, ...]:
    if distractor:
        # Sign colours on other shapes teach the model that colour alone is not a sign.
        base = [_YELLOW, _RED, _WHITE, _BLACK][rng.integers(4)]
        return tuple(int(np.clip(c * rng.uniform(0.7, 1.1), 0, 255)) for c in base)
    return tuple(int(c) for c in rng.integers(0, 256, size=3))


def _draw_clutter_shape(
    draw: ImageDraw.ImageDraw, rng: np.random.Generator, width: int, height: int, scale: float
) -> None:
    """One random shape; about a fifth are 'near misses' of the real signs."""
    cx, cy = rng.uniform(-0.1, 1.1) * width, rng.uniform(-0.1, 1.1) * height
    radius = scale * math.exp(rng.uniform(math.log(0.03), math.log(0.35)))
    kind = rng.integers(7)
    distractor = rng.random() < 0.3
    colour = _colour_tuple(rng, distractor=distractor)
    if kind == 0:
        draw.ellipse((cx - radius, cy - radius * rng.uniform(0.3, 1.0), cx + radius, cy + radius),
                     fill=colour)  # fmt: skip
    elif kind == 1:
        w, h = radius * rng.uniform(0.3, 2.0), radius * rng.uniform(0.3, 2.0)
        draw.rectangle((cx - w, cy - h, cx + w, cy + h), fill=colour)
    elif kind == 2:
        corners = int(rng.integers(3, 9))
        angles = np.sort(rng.uniform(0, 2 * math.pi, corners))
        radii = radius * rng.uniform(0.4, 1.0, corners)
        draw.polygon(
            [
                (cx + r * math.cos(a), cy + r * math.sin(a))
                for a, r in zip(angles, radii, strict=True)
            ],
            fill=colour,
        )
    elif kind == 3:
        end = (cx + rng.normal(0, radius * 2), cy + rng.normal(0, radius * 2))
        draw.line((cx, cy, *end), fill=colour, width=max(1, int(radius * rng.uniform(0.05, 0.3))))
    elif kind == 4:
        # Warning-sign shapes that are not class 1: plain yellow diamonds (no border line, no
        # kangaroo), or bordered diamonds in other colours.
        draw.polygon(_diamond_at(cx, cy, radius), fill=_YELLOW if distractor else colour)
        if not distractor:
            inner = _diamond_at(cx, cy, radius * 0.85)
            draw.polygon(inner, outline=_BLACK, width=max(1, int(radius * 0.06)))
    elif kind == 5:
        # A red disc or ring without the STOP lettering.
        draw.ellipse((cx - radius, cy - radius, cx + radius, cy + radius),
                     fill=_RED if distractor else colour)  # fmt: skip
        if rng.random() < 0.5:
            inner = radius * 0.7
            draw.ellipse((cx - inner, cy - inner, cx + inner, cy + inner), fill=_WHITE)
    else:
        # Scribbles of text-like bars, as on posters and screens.
        rows = int(rng.integers(1, 5))
        for row in range(rows):
            y = cy + row * radius * 0.4
            draw.rectangle((cx, y, cx + radius * rng.uniform(0.5, 2), y + radius * 0.15),
                           fill=colour)  # fmt: skip


def _diamond_at(cx: float, cy: float, radius: float) -> list[tuple[float, float]]:
    return [(cx, cy - radius), (cx + radius, cy), (cx, cy + radius), (cx - radius, cy)]


def _scene_background(rng: np.random.Generator, width: int, height: int) -> Image.Image:
    pixels = _background(rng, height, width)
    image = Image.fromarray((pixels * 255).astype(np.uint8))
    draw = ImageDraw.Draw(image)
    scale = min(width, height)
    for _ in range(int(rng.integers(0, 14))):
        _draw_clutter_shape(draw, rng, width, height, scale)
    return image


def _draw_pole(draw: ImageDraw.ImageDraw, rng: np.random.Generator, pose: _SignPose) -> None:
    grey = int(rng.integers(90, 200))
    half = max(1.0, pose.size * 0.035)
    length = pose.size * rng.uniform(0.5, 3.0)
    draw.rectangle(
        (pose.cx - half, pose.cy, pose.cx + half, pose.cy + length), fill=(grey, grey, grey + 5)
    )


# --------------------------------------------------------------------------------------------
# Scenes


def _sign_size_range(width: int, height: int) -> tuple[float, float]:
    short = min(width, height)
    return 0.09 * short, 0.5 * short


def _quad_bounds(quad: np.ndarray) -> tuple[float, float, float, float]:
    (x0, y0), (x1, y1) = quad.min(axis=0), quad.max(axis=0)
    return float(x0), float(y0), float(x1), float(y1)


def _overlaps(a: tuple[float, ...], b: tuple[float, ...], margin: float) -> bool:
    return not (
        a[2] + margin <= b[0]
        or b[2] + margin <= a[0]
        or a[3] + margin <= b[1]
        or b[3] + margin <= a[1]
    )


def _place_signs(
    rng: np.random.Generator, width: int, height: int, count: int, keep_out: tuple[int, int] | None
) -> list[_SignPose]:
    """Poses for ``count`` signs that do not overlap each other (occluders come later)."""
    low, high = _sign_size_range(width, height)
    poses: list[_SignPose] = []
    bounds: list[tuple[float, float, float, float]] = []
    for _ in range(count * 30):
        if len(poses) == count:
            break
        size = math.exp(rng.uniform(math.log(low), math.log(high)))
        # One sign in five is cut by the frame edge.
        spill = 0.35 * size if rng.random() < 0.2 else -0.5 * size
        cx = rng.uniform(-spill, width + spill)
        cy = rng.uniform(-spill, height + spill)
        pose = _random_pose(rng, int(rng.integers(1, len(CLASSES) + 1)), cx, cy, size)
        box = _quad_bounds(pose.quad())
        if keep_out and box[0] < keep_out[0] and box[1] < keep_out[1]:
            continue
        if any(_overlaps(box, other, 0.02 * size) for other in bounds):
            continue
        poses.append(pose)
        bounds.append(box)
    return poses


_Occluder = tuple[Image.Image, np.ndarray]  # RGBA layer and its coverage mask


def _occluder_mask(
    rng: np.random.Generator, width: int, height: int, box: Box
) -> tuple[Image.Image, np.ndarray]:
    """A branch, pole or blob over part of ``box``: its RGBA layer and coverage mask."""
    layer = Image.new("RGBA", (width, height), (0, 0, 0, 0))
    draw = ImageDraw.Draw(layer)
    colour = (*_colour_tuple(rng), 255)
    span = max(box.width, box.height)
    if rng.random() < 0.5:
        # A pole or branch crossing the sign.
        x = rng.uniform(box.xmin, box.xmax)
        thickness = max(2, int(span * rng.uniform(0.08, 0.22)))
        tilt = rng.normal(0, span * 0.3)
        draw.line((x - tilt, box.ymin - span, x + tilt, box.ymax + span), fill=colour,
                  width=thickness)  # fmt: skip
    else:
        # Something in front covering one edge or corner.
        cx = rng.choice([box.xmin, box.xmax]) + rng.normal(0, span * 0.1)
        cy = rng.uniform(box.ymin, box.ymax)
        radius = span * rng.uniform(0.15, 0.35)
        draw.ellipse((cx - radius, cy - radius, cx + radius, cy + radius), fill=colour)
    coverage = np.asarray(layer.getchannel("A")) >= 128
    return layer, coverage


def _finish(rng: np.random.Generator, canvas: np.ndarray) -> Image.Image:
    """Camera effects over the whole frame: lighting, colour cast, contrast, blur, sensor noise."""
    height, width = canvas.shape[:2]
    gain = rng.uniform(0.6, 1.25) * rng.uniform(0.88, 1.12, size=3).astype(np.float32)
    contrast = np.float32(rng.uniform(0.75, 1.15))
    canvas = canvas * (gain * contrast)
    if rng.random() < 0.5:
        strength = rng.uniform(0.1, 0.5)
        light = 1 - strength + 2 * strength * _smooth_noise(rng, height, width, 3)
        canvas *= light[..., None]
    canvas += 0.5 * (1 - contrast)
    sigma = rng.uniform(0, 0.035)
    blur = rng.uniform(0.3, 1.3) if rng.random() < 0.3 else 0.0
    if blur:
        image = Image.fromarray(_to_uint8(canvas)).filter(ImageFilter.GaussianBlur(blur))
        canvas = np.asarray(image, np.float32) / 255.0
    if sigma > 0:
        canvas += rng.standard_normal(canvas.shape, dtype=np.float32) * np.float32(sigma)
    return Image.fromarray(_to_uint8(canvas))


def _to_uint8(canvas: np.ndarray) -> np.ndarray:
    return (np.clip(canvas, 0.0, 1.0) * 255 + 0.5).astype(np.uint8)


def render_scene(
    rng: np.random.Generator,
    width: int,
    height: int,
    *,
    max_objects: int = 3,
    empty: bool = False,
    keep_out: tuple[int, int] | None = None,
) -> tuple[Image.Image, list[Box]]:
    """One RGB scene and its boxes (the visible extent of each sign, in pixels).

    ``empty`` draws backgrounds and clutter only. ``keep_out=(w, h)`` keeps signs out of the
    top-left ``w`` x ``h`` corner (where footage draws its frame code).
    """
    background = _scene_background(rng, width, height)
    count = 0 if empty else int(rng.integers(1, max_objects + 1))
    poses = _place_signs(rng, width, height, count, keep_out)
    draw = ImageDraw.Draw(background)
    for pose in poses:
        if rng.random() < 0.4:
            _draw_pole(draw, rng, pose)
    canvas = np.asarray(background, np.float32) / 255.0
    boxes: list[Box] = []
    for pose in poses:
        layer = _render_sign(pose)
        if _coverage(layer, width, height).sum() < 0.5 * _full_area(layer):
            continue  # mostly outside the frame: a sliver is neither a clear positive nor empty
        visible = _composite(canvas, layer)
        box = _mask_box(pose.class_id, visible)
        if box is None:
            continue
        if rng.random() < 0.25:
            occluder, coverage = _occluder_mask(rng, width, height, box)
            remaining = visible & ~coverage
            if remaining.sum() >= 0.6 * visible.sum():
                _paste_rgba(canvas, occluder)
                visible = remaining
                box = _mask_box(pose.class_id, visible)
        if box is not None and box.width >= 4 and box.height >= 4:
            boxes.append(box)
    return _finish(rng, canvas), boxes


def _paste_rgba(canvas: np.ndarray, layer: Image.Image) -> None:
    bounds = layer.getbbox()
    if bounds is None:
        return
    x0, y0, x1, y1 = bounds
    rgba = np.asarray(layer.crop(bounds), np.float32) / 255.0
    alpha = rgba[..., 3:4]
    region = canvas[y0:y1, x0:x1]
    region *= 1.0 - alpha
    region += rgba[..., :3] * alpha


# --------------------------------------------------------------------------------------------
# Image sets: Pascal VOC (LabelImg) and COCO


def _voc_xml(file_name: str, image_path: Path, width: int, height: int, boxes: list[Box]) -> bytes:
    root = ET.Element("annotation")
    ET.SubElement(root, "folder").text = image_path.parent.name
    ET.SubElement(root, "filename").text = file_name
    ET.SubElement(root, "path").text = str(image_path)
    ET.SubElement(ET.SubElement(root, "source"), "database").text = "sitegen synthetic scenes"
    size = ET.SubElement(root, "size")
    for tag, value in (("width", width), ("height", height), ("depth", 3)):
        ET.SubElement(size, tag).text = str(value)
    ET.SubElement(root, "segmented").text = "0"
    for box in boxes:
        obj = ET.SubElement(root, "object")
        ET.SubElement(obj, "name").text = box.label
        ET.SubElement(obj, "pose").text = "Unspecified"
        touches_edge = box.xmin <= 0 or box.ymin <= 0 or box.xmax >= width or box.ymax >= height
        ET.SubElement(obj, "truncated").text = "1" if touches_edge else "0"
        ET.SubElement(obj, "difficult").text = "0"
        bndbox = ET.SubElement(obj, "bndbox")
        for tag, value in (
            ("xmin", box.xmin),
            ("ymin", box.ymin),
            ("xmax", box.xmax),
            ("ymax", box.ymax),
        ):
            ET.SubElement(bndbox, tag).text = str(round(value))
    ET.indent(root)
    return ET.tostring(root, encoding="utf-8")


def _coco_categories() -> list[dict]:
    return [{"id": i, "name": name, "supercategory": "sign"} for i, name in CLASSES.items()]


def write_image_set(
    out_dir: Path,
    *,
    count: int,
    seed: int,
    width: int = 640,
    height: int = 480,
    empty_fraction: float = 0.1,
    max_objects: int = 3,
    jpeg_quality: int = 92,
) -> Path:
    """Write ``count`` scenes: ``images/NNNNNN.jpg``, ``annotations/NNNNNN.xml`` (Pascal VOC as
    LabelImg writes it) and ``annotations.coco.json`` (COCO; ``file_name`` is relative to
    ``images/``). VOC and COCO carry the same boxes: pixel edges, ``xmax = x + width``."""
    out_dir = Path(out_dir)
    images_dir, xml_dir = out_dir / "images", out_dir / "annotations"
    images_dir.mkdir(parents=True, exist_ok=True)
    xml_dir.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    empties = set(rng.permutation(count)[: round(count * empty_fraction)].tolist())
    coco: dict = {"images": [], "annotations": [], "categories": _coco_categories()}
    for index in range(count):
        image, boxes = render_scene(
            rng, width, height, max_objects=max_objects, empty=index in empties
        )
        file_name = f"{index:06d}.jpg"
        image_path = images_dir / file_name
        image.save(image_path, quality=jpeg_quality)
        (xml_dir / f"{index:06d}.xml").write_bytes(
            _voc_xml(file_name, image_path, width, height, boxes)
        )
        image_id = index + 1
        coco["images"].append(
            {"id": image_id, "file_name": file_name, "width": width, "height": height}
        )
        for box in boxes:
            coco["annotations"].append(
                {
                    "id": len(coco["annotations"]) + 1,
                    "image_id": image_id,
                    "category_id": box.class_id,
                    "bbox": [box.xmin, box.ymin, box.width, box.height],
                    "area": box.width * box.height,
                    "iscrowd": 0,
                }
            )
    (out_dir / "annotations.coco.json").write_text(json.dumps(coco, indent=1))
    return out_dir


# --------------------------------------------------------------------------------------------
# Footage: YUV4MPEG2 for Chromium's fake camera, with per-frame ground truth


def draw_frame_code(rgb: np.ndarray, index: int) -> None:
    """Paint ``index`` into the top-left cells of an HxWx3 uint8 frame, in place."""
    for bit in range(CODE_CELLS):
        value = 255 if (index >> bit) & 1 else 0
        x0 = bit * CODE_CELL_PX
        rgb[0:CODE_CELL_PX, x0 : x0 + CODE_CELL_PX] = value


def decode_frame_code(rgb: np.ndarray, *, source_size: tuple[int, int] = (640, 480)) -> int:
    """Read the frame index back from a frame, also after it was scaled from ``source_size``
    (width, height) or went through YUV 4:2:0: each cell's centre is sampled proportionally."""
    height, width = rgb.shape[:2]
    scale_x, scale_y = width / source_size[0], height / source_size[1]
    luma = rgb[..., :3].astype(np.float32).mean(axis=2)
    index = 0
    for bit in range(CODE_CELLS):
        cx = (bit * CODE_CELL_PX + CODE_CELL_PX / 2) * scale_x
        cy = (CODE_CELL_PX / 2) * scale_y
        # Average the middle of the cell only: its edges blur into the neighbours when scaled.
        rx, ry = max(CODE_CELL_PX * scale_x / 4, 0.5), max(CODE_CELL_PX * scale_y / 4, 0.5)
        x0, x1 = math.floor(cx - rx), math.ceil(cx + rx)
        y0, y1 = math.floor(cy - ry), math.ceil(cy + ry)
        if luma[max(y0, 0) : y1, max(x0, 0) : x1].mean() > 127.5:
            index |= 1 << bit
    return index


# BT.601 coefficients. Y4M has no range flag that Chromium reads; video is "studio" (limited)
# range by default, which is how Chromium's fake camera turns it back into RGB.
_KR, _KB = 0.299, 0.114


def _rgb_to_i420(rgb: np.ndarray, *, full_range: bool) -> bytes:
    pixels = rgb.astype(np.float32)
    r, g, b = pixels[..., 0], pixels[..., 1], pixels[..., 2]
    y = _KR * r + (1 - _KR - _KB) * g + _KB * b
    cb = (b - y) / (2 * (1 - _KB))
    cr = (r - y) / (2 * (1 - _KR))
    if full_range:
        y_plane, u, v = y, cb + 128, cr + 128
    else:
        y_plane, u, v = 16 + y * 219 / 255, 128 + cb * 224 / 255, 128 + cr * 224 / 255
    height, width = y.shape
    # 4:2:0 "jpeg" siting: each chroma sample is the mean of a 2x2 block.
    u = u.reshape(height // 2, 2, width // 2, 2).mean(axis=(1, 3))
    v = v.reshape(height // 2, 2, width // 2, 2).mean(axis=(1, 3))
    planes = [np.clip(np.rint(p), 0, 255).astype(np.uint8) for p in (y_plane, u, v)]
    return b"".join(p.tobytes() for p in planes)


def _i420_to_rgb(data: bytes, width: int, height: int, *, full_range: bool) -> np.ndarray:
    y_size, c_size = width * height, (width // 2) * (height // 2)
    y = np.frombuffer(data, np.uint8, y_size).reshape(height, width).astype(np.float32)
    u = np.frombuffer(data, np.uint8, c_size, y_size).reshape(height // 2, width // 2)
    v = np.frombuffer(data, np.uint8, c_size, y_size + c_size).reshape(height // 2, width // 2)
    u = u.astype(np.float32).repeat(2, axis=0).repeat(2, axis=1) - 128
    v = v.astype(np.float32).repeat(2, axis=0).repeat(2, axis=1) - 128
    if not full_range:
        y, u, v = (y - 16) * 255 / 219, u * 255 / 224, v * 255 / 224
    r = y + 2 * (1 - _KR) * v
    b = y + 2 * (1 - _KB) * u
    g = (y - _KR * r - _KB * b) / (1 - _KR - _KB)
    return np.clip(np.rint(np.stack([r, g, b], axis=-1)), 0, 255).astype(np.uint8)


def _y4m_header(width: int, height: int, fps: int) -> bytes:
    return f"YUV4MPEG2 W{width} H{height} F{fps}:1 Ip A1:1 C420jpeg\n".encode("ascii")


def read_y4m(path: Path, *, full_range: bool = False) -> Iterator[np.ndarray]:
    """The frames of a 4:2:0 ``.y4m`` file as HxWx3 uint8 RGB arrays."""
    with open(path, "rb") as stream:
        header = stream.readline().decode("ascii").split()
        if not header or header[0] != "YUV4MPEG2":
            raise ValueError(f"{path} is not a YUV4MPEG2 file")
        fields = {token[0]: token[1:] for token in header[1:]}
        if not fields.get("C", "420jpeg").startswith("420"):
            raise ValueError(f"{path}: only 4:2:0 chroma is supported, not C{fields['C']}")
        width, height = int(fields["W"]), int(fields["H"])
        frame_size = width * height + 2 * (width // 2) * (height // 2)
        while True:
            marker = stream.readline()
            if not marker:
                return
            if not marker.startswith(b"FRAME"):
                raise ValueError(f"{path}: expected FRAME, found {marker[:16]!r}")
            data = stream.read(frame_size)
            if len(data) != frame_size:
                raise ValueError(f"{path}: truncated frame")
            yield _i420_to_rgb(data, width, height, full_range=full_range)


@dataclass
class _Track:
    """A sign crossing the frame between ``start`` and ``end`` (frame numbers)."""

    pose: _SignPose
    start: int
    end: int
    path: np.ndarray  # 2x2: entry and exit centre
    ease: float  # > 0 slows the sign down in the middle of its crossing
    size_change: float
    wobble: float

    def pose_at(self, frame: int) -> _SignPose | None:
        if not self.start <= frame <= self.end:
            return None
        u = (frame - self.start) / max(self.end - self.start, 1)
        u = u - self.ease * math.sin(2 * math.pi * u) / (2 * math.pi)
        cx, cy = self.path[0] + (self.path[1] - self.path[0]) * u
        base = self.pose
        return _SignPose(
            class_id=base.class_id,
            cx=float(cx),
            cy=float(cy),
            size=base.size * (1 + self.size_change * u),
            angle=base.angle + self.wobble * math.sin(2 * math.pi * u),
            squash_x=base.squash_x,
            squash_y=base.squash_y,
            jitter=base.jitter,
            brightness=base.brightness,
            tint=base.tint,
            shade=base.shade,
            shade_angle=base.shade_angle,
            blur=base.blur,
        )


def _footage_tracks(rng: np.random.Generator, width: int, height: int, frames: int) -> list[_Track]:
    """Two or three signs that enter, cross and leave; the first and last tenth of the clip stay
    empty. Signs travel in two lanes (upper and lower half, below the frame-code band) and one
    lane carries one sign at a time, so signs never cover each other."""
    first, last = max(1, frames // 10), frames - 1 - max(1, frames // 10)
    length = last - first
    lane_height = (height - CODE_BAND[1]) / 2
    low = max(_sign_size_range(width, height)[0], 0.15 * min(width, height))
    # A sign's extent grows with rotation, perspective and its size change: leave room.
    high = max(low, lane_height / 1.5)
    first_class = int(rng.integers(len(CLASSES)))
    lanes_free_from = [first, first + int(rng.uniform(0.1, 0.4) * length)]
    tracks = []
    for number in range(int(rng.integers(2, 4))):
        lane = number % 2
        start = lanes_free_from[lane]
        span = int(length * rng.uniform(0.45, 0.6))
        if start + span > last:
            span = last - start
        if span < length * 0.25:
            continue
        lanes_free_from[lane] = start + span + 2
        # Alternate classes so that clips show both.
        class_id = 1 + (first_class + number) % len(CLASSES)
        size = math.exp(rng.uniform(math.log(low), math.log(high)))
        reach = 0.75 * size
        lane_top = CODE_BAND[1] + lane * lane_height
        y_low, y_high = lane_top + reach, lane_top + lane_height - reach
        y_in, y_out = (
            rng.uniform(y_low, y_high, size=2)
            if y_low < y_high
            else (lane_top + lane_height / 2,) * 2
        )
        left_to_right = rng.random() < 0.5
        x_in, x_out = (-reach, width + reach) if left_to_right else (width + reach, -reach)
        pose = _random_pose(rng, class_id, x_in, y_in, size)
        pose.angle = float(rng.normal(0, 0.08))
        tracks.append(
            _Track(
                pose=pose,
                start=start,
                end=start + span,
                path=np.array([(x_in, y_in), (x_out, y_out)]),
                ease=float(rng.uniform(0.0, 0.9)),
                size_change=float(rng.uniform(-0.2, 0.2)),
                wobble=float(rng.uniform(0, 0.12)),
            )
        )
    return tracks


def _footage_frame_boxes(
    canvas: np.ndarray, poses: list[_SignPose], occluder: _Occluder | None
) -> list[dict]:
    """Composite the signs (and the occluder in front) and return the frame's ground truth."""
    height, width = canvas.shape[:2]
    layers = [_render_sign(pose) for pose in poses]
    coverages = [_composite(canvas, layer) for layer in layers]
    hidden = np.zeros((height, width), bool) if occluder is None else occluder[1].copy()
    visible_masks = []
    for coverage in reversed(coverages):  # what is drawn later hides what is behind it
        visible_masks.append(coverage & ~hidden)
        hidden |= coverage
    visible_masks.reverse()
    entries = []
    for pose, layer, visible in zip(poses, layers, visible_masks, strict=True):
        box = _mask_box(pose.class_id, visible)
        if box is None or box.width < 4 or box.height < 4:
            continue
        entries.append(
            {
                "classId": box.class_id,
                "label": box.label,
                "x": box.xmin,
                "y": box.ymin,
                "width": box.width,
                "height": box.height,
                # Share of the sign inside the frame and unoccluded: lets a test skip slivers.
                "visibleFraction": round(float(visible.sum()) / max(_full_area(layer), 1), 3),
            }
        )
    if occluder is not None:
        _paste_rgba(canvas, occluder[0])
    return entries


def write_footage(
    out_path: Path,
    *,
    seed: int,
    frames: int = 90,
    width: int = 640,
    height: int = 480,
    fps: int = 30,
    empty: bool = False,
    full_range: bool = False,
) -> Path:
    """Write a ``.y4m`` clip for Chromium's fake camera and ``<stem>.json`` ground truth beside
    it; return the JSON path. Signs cross the frame (entering and leaving at its sides), the
    first and last tenth of the clip are empty, and every frame carries its index as a code in
    the top-left corner. ``empty`` keeps signs out altogether."""
    if width % 2 or height % 2:
        raise ValueError("4:2:0 footage needs an even width and height")
    out_path = Path(out_path)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    background = np.asarray(_scene_background(rng, width, height), np.float32) / 255.0
    tracks = [] if empty else _footage_tracks(rng, width, height, frames)
    occluder = None
    if rng.random() < 0.5:
        # A fixed post in the foreground that signs pass behind.
        x = rng.uniform(0.25, 0.75) * width
        occluder = _occluder_mask(rng, width, height, Box(1, x, height * 0.3, x + 1, height * 0.7))
    camera_seed = int(rng.integers(2**31))
    noise = float(rng.uniform(0.0, 0.02))
    movers = _moving_clutter(rng, width, height, frames)
    records = []
    with open(out_path, "wb") as stream:
        stream.write(_y4m_header(width, height, fps))
        for index in range(frames):
            canvas = background.copy()
            _draw_movers(canvas, movers, index)
            poses = [p for p in (t.pose_at(index) for t in tracks) if p is not None]
            boxes = _footage_frame_boxes(canvas, poses, occluder)
            # Same lighting every frame (a camera does not flicker); fresh sensor noise each.
            frame_rng = np.random.default_rng([camera_seed, index])
            lighting_rng = np.random.default_rng(camera_seed)
            image = _finish_footage(lighting_rng, frame_rng, canvas, noise)
            rgb = np.array(image)
            draw_frame_code(rgb, index)
            stream.write(b"FRAME\n")
            stream.write(_rgb_to_i420(rgb, full_range=full_range))
            records.append({"index": index, "boxes": boxes})
    truth = {"width": width, "height": height, "fps": fps, "frames": records}
    json_path = out_path.with_suffix(".json")
    json_path.write_text(json.dumps(truth, indent=1))
    return json_path


def _finish_footage(
    lighting_rng: np.random.Generator,
    frame_rng: np.random.Generator,
    canvas: np.ndarray,
    noise: float,
) -> Image.Image:
    gain = lighting_rng.uniform(0.75, 1.15) * lighting_rng.uniform(0.92, 1.08, size=3)
    canvas = canvas * gain.astype(np.float32)
    if noise > 0:
        canvas += frame_rng.standard_normal(canvas.shape, dtype=np.float32) * np.float32(noise)
    return Image.fromarray(_to_uint8(canvas))


@dataclass
class _Mover:
    """A non-sign shape drifting across the clip, so empty footage still has motion."""

    layer: Image.Image
    start: np.ndarray
    velocity: np.ndarray


def _moving_clutter(rng: np.random.Generator, width: int, height: int, frames: int) -> list[_Mover]:
    movers = []
    for _ in range(int(rng.integers(1, 4))):
        size = int(min(width, height) * rng.uniform(0.1, 0.3))
        layer = Image.new("RGBA", (size * 2, size * 2), (0, 0, 0, 0))
        _draw_clutter_shape(ImageDraw.Draw(layer), rng, size * 2, size * 2, size)
        start = np.array([rng.uniform(0.1, 0.9) * width, rng.uniform(0.2, 0.9) * height])
        speed = rng.uniform(0.2, 0.6) * min(width, height) / max(frames, 1)
        heading = rng.uniform(0, 2 * math.pi)
        velocity = speed * np.array([math.cos(heading), math.sin(heading)])
        movers.append(_Mover(layer, start, velocity))
    return movers


def _draw_movers(canvas: np.ndarray, movers: list[_Mover], index: int) -> None:
    for mover in movers:
        rgba = np.asarray(mover.layer.convert("RGBa"), np.float32) / 255.0
        x, y = (mover.start + mover.velocity * index).astype(int) - rgba.shape[0] // 2
        _composite(canvas, _Layer(int(x), int(y), rgba[..., :3], rgba[..., 3]))


def main(argv: list[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(
        prog="python -m devtools.default_model scenes",
        description="Draw test scenes with ground truth: a VOC + COCO image set, or (OUT ends in "
        ".y4m) fake-camera footage with a per-frame JSON beside it.",
    )
    parser.add_argument("out", type=Path)
    parser.add_argument("--count", type=int, default=50, help="images (or footage frames)")
    parser.add_argument("--seed", type=int, default=0, help="same seed, same scenes")
    parser.add_argument("--empty", action="store_true", help="footage without any sign")
    args = parser.parse_args(argv)
    if args.out.suffix == ".y4m":
        truth = write_footage(args.out, seed=args.seed, frames=args.count, empty=args.empty)
        print(f"Wrote {args.out} and its ground truth {truth}")
    else:
        write_image_set(args.out, count=args.count, seed=args.seed)
        print(f"Wrote {args.count} images with VOC and COCO annotations to {args.out}")
    return 0
