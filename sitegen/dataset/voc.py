"""Read Pascal VOC / LabelImg annotation files, one XML file per image.

Annotations come from strangers (downloaded datasets), so the XML parser is defusedxml's: a file
that declares entities (the "billion laughs" expansion bomb, external entities that read local
files) is refused rather than expanded. Elements keep their line numbers so that problems can point
at the line to fix.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from xml.etree.ElementTree import Element, ParseError, TreeBuilder

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import DefusedXMLParser

from sitegen.dataset import DatasetError

# A dataset root often holds the XML files one level down (VOC's layout, or LabelImg's habit).
ANNOTATION_SUBFOLDERS = ("Annotations", "annotations")
COORDINATES = ("xmin", "ymin", "xmax", "ymax")


class AnnotationError(Exception):
    """The whole file is unusable: unreadable, not XML, refused by defusedxml, or not VOC."""

    def __init__(self, line: int | None, message: str):
        super().__init__(message)
        self.line = line
        self.message = message


@dataclass(frozen=True)
class VocObject:
    name: str  # stripped; "" when <name> is empty or missing
    line: int | None  # of its <object> element
    coordinates: dict[str, str] | None  # the <bndbox> texts by COORDINATES key; None if no <bndbox>


@dataclass(frozen=True)
class VocAnnotation:
    file: Path
    filename: str  # "" when neither <filename> nor <path> names the image
    filename_line: int | None
    folder: str
    path: str
    database: str
    size: tuple[int, int] | None  # (width, height) from <size>, None when it gives none
    size_line: int | None
    objects: tuple[VocObject, ...]


def find_annotation_files(voc_dir: Path) -> list[Path]:
    """The XML files in ``voc_dir`` (or in its Annotations/ folder), in natural name order."""
    if not voc_dir.exists():
        raise DatasetError(
            f"{voc_dir} does not exist; pass the folder holding the Pascal VOC / LabelImg .xml files"
        )
    if not voc_dir.is_dir():
        raise DatasetError(
            f"{voc_dir} is a file; pass the folder holding the Pascal VOC / LabelImg .xml files"
        )
    for folder in (voc_dir, *(voc_dir / name for name in ANNOTATION_SUBFOLDERS)):
        files = sorted(folder.glob("*.xml"), key=lambda p: natural_key(p.name))
        if files:
            return files
    if not any(voc_dir.iterdir()):
        raise DatasetError(f"{voc_dir} is empty; pass the folder LabelImg saved its .xml files to")
    raise DatasetError(
        f"{voc_dir} has no .xml annotation files (nor an Annotations/ folder with some); "
        "pass the folder LabelImg saved them to"
    )


def natural_key(name: str) -> tuple:
    """Sort "img-2" before "img-10", as a person would."""
    return tuple(int(part) if part.isdigit() else part.lower() for part in re.split(r"(\d+)", name))


def read_annotation(file: Path) -> VocAnnotation:
    root, lines = _parse_safely(file)
    if root.tag != "annotation":
        raise AnnotationError(
            lines.get(root), f"not a Pascal VOC annotation (its root is <{root.tag}>)"
        )
    filename_element = root.find("filename")
    path = _text(root, "path")
    filename = Path(_text(root, "filename") or path.replace("\\", "/")).name
    size, size_line = _size(root, lines)
    return VocAnnotation(
        file=file,
        filename=filename,
        filename_line=lines.get(filename_element if filename_element is not None else root),
        folder=_text(root, "folder"),
        path=path,
        database=_text(root, "source/database"),
        size=size,
        size_line=size_line,
        objects=tuple(_object(element, lines) for element in root.iter("object")),
    )


def _parse_safely(file: Path) -> tuple[Element, dict[Element, int]]:
    try:
        data = file.read_bytes()
    except OSError as exc:
        raise AnnotationError(None, f"cannot read it ({exc.strerror})") from None
    builder = _LineRecordingBuilder()
    parser = DefusedXMLParser(target=builder)
    builder.expat = parser.parser
    try:
        parser.feed(data)
        return parser.close(), builder.lines
    except ParseError as exc:
        line = exc.position[0] if exc.position else None
        reason = str(exc).split(":")[0]  # expat's own words, without the position it repeats
        raise AnnotationError(line, f"malformed XML ({reason})") from None
    except DefusedXmlException as exc:
        raise AnnotationError(
            builder.expat.CurrentLineNumber,
            f"XML with entity declarations or external references is refused "
            f"({type(exc).__name__}: entity expansion can exhaust memory or read local files)",
        ) from None


class _LineRecordingBuilder:
    """A parser target that builds the usual tree and notes the line each element starts on
    (ElementTree keeps no positions of its own)."""

    def __init__(self):
        self._builder = TreeBuilder()
        self.lines: dict[Element, int] = {}
        self.expat = None  # the parser's expat object, set once the parser exists

    def start(self, tag, attributes):
        element = self._builder.start(tag, attributes)
        self.lines[element] = self.expat.CurrentLineNumber
        return element

    def end(self, tag):
        return self._builder.end(tag)

    def data(self, text):
        self._builder.data(text)

    def close(self):
        return self._builder.close()


def _text(element: Element, path: str) -> str:
    return (element.findtext(path) or "").strip()


def _size(root: Element, lines: dict[Element, int]) -> tuple[tuple[int, int] | None, int | None]:
    size = root.find("size")
    if size is None or not (_text(size, "width") or _text(size, "height")):
        return None, None  # nothing to check the image against; its own size is used
    try:
        width, height = (int(float(_text(size, key))) for key in ("width", "height"))
    except ValueError:
        raise AnnotationError(
            lines.get(size),
            f"<size> has width {_text(size, 'width')!r} and height {_text(size, 'height')!r}, "
            "not whole numbers",
        ) from None
    return (width, height), lines.get(size)


def _object(element: Element, lines: dict[Element, int]) -> VocObject:
    box = element.find("bndbox")
    coordinates = None if box is None else {key: _text(box, key) for key in COORDINATES}
    return VocObject(_text(element, "name"), lines.get(element), coordinates)
