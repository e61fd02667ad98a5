"""Check each annotation against its image: find the image, read it, compare sizes, check each box
and class. A problem skips the file (or drops the box) and is reported; the rest goes on, so one
bad file in a thousand does not stop a dataset."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from PIL import Image

from sitegen.dataset import AnnotatedImage, Box, Problem
from sitegen.dataset.voc import COORDINATES, AnnotationError, VocAnnotation, VocObject
from sitegen.dataset.voc import read_annotation as read_voc

# Where LabelImg and VOC put the images, relative to the annotations folder (besides <folder>).
IMAGE_FOLDERS = ("images", "JPEGImages")

# What PIL raises for a file it cannot decode: not an image, truncated, or absurdly large.
_UNREADABLE = (OSError, SyntaxError, ValueError, Image.DecompressionBombError)


@dataclass
class Validated:
    images: list[AnnotatedImage] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    without_boxes: list[Path] = field(default_factory=list)  # annotations left with no box at all


class _Skip(Exception):
    """This annotation file cannot be used: the problem that says why."""

    def __init__(self, line: int | None, message: str):
        super().__init__(message)
        self.line = line
        self.message = message


def validate_all(
    files: Iterable[Path],
    voc_dir: Path,
    classes: frozenset[str] | None = None,
    advance: Callable[[], None] = lambda: None,
) -> Validated:
    """Every file's ``AnnotatedImage``, or the problems that skip it; ``classes`` allow-lists names."""
    result = Validated()
    annotation_by_filename: dict[str, Path] = {}
    for file in files:
        image, problems = validate_file(file, voc_dir, classes)
        result.problems.extend(problems)
        if image is not None and image.filename in annotation_by_filename:
            other = annotation_by_filename[image.filename]
            message = (
                f"image name {image.filename} is already used by {other}; names must be unique"
            )
            result.problems.append(Problem(file, None, message, skipped_file=True))
        elif image is not None and not image.boxes:
            result.without_boxes.append(file)
        elif image is not None:
            annotation_by_filename[image.filename] = file
            result.images.append(image)
        advance()
    return result


def validate_file(
    file: Path, voc_dir: Path, classes: frozenset[str] | None = None
) -> tuple[AnnotatedImage | None, list[Problem]]:
    try:
        annotation = read_voc(file)
        image_path = find_image(annotation, voc_dir)
        width, height, image_format = _check_image(annotation, image_path)
    except (AnnotationError, _Skip) as problem:
        return None, [Problem(file, problem.line, problem.message, skipped_file=True)]
    boxes, problems = [], []
    for number, voc_object in enumerate(annotation.objects, start=1):
        try:
            boxes.append(_check_box(voc_object, number, width, height, classes))
        except _Skip as problem:
            problems.append(Problem(file, problem.line, problem.message, skipped_file=False))
    image = AnnotatedImage(
        filename=annotation.filename,
        path=image_path,
        width=width,
        height=height,
        image_format=image_format,
        source=annotation.path or annotation.database or file.name,
        annotation=file,
        boxes=tuple(boxes),
    )
    return image, problems


def find_image(annotation: VocAnnotation, voc_dir: Path) -> Path:
    if not annotation.filename:
        raise _Skip(annotation.filename_line, "names no image (<filename> and <path> are empty)")
    candidates = image_candidates(annotation, voc_dir)
    for candidate in candidates:
        if candidate.is_file():
            return candidate
    folders = ", ".join(dict.fromkeys(str(c.parent) for c in candidates))
    raise _Skip(annotation.filename_line, f"image {annotation.filename} not found in {folders}")


def image_candidates(annotation: VocAnnotation, voc_dir: Path) -> list[Path]:
    """Nearby folders first: a <path> written on the annotator's machine may name an old copy."""
    here = annotation.file.parent
    folders = [here]
    if annotation.folder:
        folders += [here.parent / annotation.folder, here / annotation.folder]
    folders += [
        voc_dir,
        *(base / name for base in (here.parent, voc_dir.parent) for name in IMAGE_FOLDERS),
    ]
    candidates = [folder / annotation.filename for folder in folders]
    if annotation.path:
        recorded = Path(annotation.path)
        candidates.append(recorded if recorded.is_absolute() else here / recorded)
    return list(dict.fromkeys(candidates))


def _check_image(annotation: VocAnnotation, path: Path) -> tuple[int, int, str]:
    try:
        with Image.open(path) as image:
            image.load()  # decode it all: a truncated file opens fine and fails only here
            width, height, image_format = image.width, image.height, image.format or ""
    except _UNREADABLE as exc:
        raise _Skip(
            annotation.filename_line, f"cannot read image {path} ({_reason(exc)})"
        ) from None
    if annotation.size is not None and annotation.size != (width, height):
        raise _Skip(
            annotation.size_line,
            f"<size> says {annotation.size[0]}x{annotation.size[1]} but image {path} is "
            f"{width}x{height}",
        )
    return width, height, image_format


def _reason(exc: Exception) -> str:
    return getattr(exc, "strerror", None) or str(exc) or type(exc).__name__


def _check_box(
    voc_object: VocObject, number: int, width: int, height: int, classes: frozenset[str] | None
) -> Box:
    what = f"object {number}"
    if not voc_object.name:
        raise _Skip(voc_object.line, f"{what} has an empty class name (<name>)")
    if classes is not None and voc_object.name not in classes:
        allowed = ", ".join(sorted(classes))
        raise _Skip(
            voc_object.line, f"{what} has class {voc_object.name!r}, not one of --classes {allowed}"
        )
    what = f"{what} ({voc_object.name})"
    if voc_object.coordinates is None:
        raise _Skip(voc_object.line, f"{what} has no <bndbox>")
    xmin, ymin, xmax, ymax = (
        _coordinate(voc_object, what, key, voc_object.coordinates[key]) for key in COORDINATES
    )
    if xmax <= xmin or ymax <= ymin:
        raise _Skip(
            voc_object.line,
            f"{what} is empty (x {_show(xmin)}..{_show(xmax)}, y {_show(ymin)}..{_show(ymax)})",
        )
    if xmin < 0 or ymin < 0 or xmax > width or ymax > height:
        raise _Skip(
            voc_object.line,
            f"{what} box (x {_show(xmin)}..{_show(xmax)}, y {_show(ymin)}..{_show(ymax)}) "
            f"is outside the {width}x{height} image",
        )
    return Box(voc_object.name, xmin, ymin, xmax, ymax)


def _coordinate(voc_object: VocObject, what: str, key: str, text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value):  # "nan" and "inf" parse, but would slip past every comparison
        raise _Skip(voc_object.line, f"{what} has <{key}> {text!r}, not a number")
    return value


def _show(value: float) -> str:
    return f"{value:g}"
