"""Write a part of the dataset as the files training tools read: the CSV of the TF Object
Detection API tutorials, COCO JSON, and the OD API's labelmap.pbtxt. No checks here: the images
and boxes have passed ``validate`` already."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Sequence
from pathlib import Path

from sitegen import __version__
from sitegen.dataset import AnnotatedImage
from sitegen.errors import OutputError

CSV_COLUMNS = ("filename", "width", "height", "class", "xmin", "ymin", "xmax", "ymax", "source")
LABELMAP_FILE = "labelmap.pbtxt"


def check_out_holds_no_image(out: Path, images: Sequence[AnnotatedImage]) -> None:
    """``--out`` replaces its folder (with --force, moves it aside): never the images' folder, which
    ``check_output`` cannot know of before the annotations are read."""
    target = out.resolve()
    for image in images:
        if target in image.path.resolve().parents:
            raise OutputError(
                f"--out {out} holds the dataset's image {image.path}, and sitegen never replaces "
                "such a folder, not even with --force; pass a new folder"
            )


def class_ids(names: Iterable[str]) -> dict[str, int]:
    """1-based ids (0 is the OD API's background) in name order, so they never depend on which
    file happened to be read first."""
    return {name: number for number, name in enumerate(sorted(set(names)), start=1)}


def write_csv(path: Path, images: Sequence[AnnotatedImage]) -> None:
    """One row per box, coordinates in pixels as the annotation gave them."""
    with path.open("w", newline="", encoding="utf-8") as file:
        writer = csv.writer(file)
        writer.writerow(CSV_COLUMNS)
        for image in images:
            for box in image.boxes:
                writer.writerow(
                    [image.filename, image.width, image.height, box.label]
                    + [_number(value) for value in (box.xmin, box.ymin, box.xmax, box.ymax)]
                    + [image.source]
                )


def coco_document(images: Sequence[AnnotatedImage], ids: dict[str, int], description: str) -> dict:
    """COCO detection JSON: bbox is [x, y, width, height] in pixels; ids count from 1."""
    image_entries, annotations = [], []
    for image_id, image in enumerate(images, start=1):
        image_entries.append(
            {
                "id": image_id,
                "file_name": image.filename,
                "width": image.width,
                "height": image.height,
            }
        )
        for box in image.boxes:
            annotations.append(
                {
                    "id": len(annotations) + 1,
                    "image_id": image_id,
                    "category_id": ids[box.label],
                    "bbox": [_number(v) for v in (box.xmin, box.ymin, box.width, box.height)],
                    "area": _number(box.width * box.height),
                    "iscrowd": 0,
                }
            )
    return {
        "info": {"description": description, "version": f"sitegen {__version__}"},
        "images": image_entries,
        "annotations": annotations,
        "categories": [{"id": number, "name": name} for name, number in ids.items()],
    }


def write_coco(
    path: Path, images: Sequence[AnnotatedImage], ids: dict[str, int], description: str
) -> None:
    path.write_text(json.dumps(coco_document(images, ids, description), indent=1), encoding="utf-8")


def labelmap_text(ids: dict[str, int]) -> str:
    """As the OD API writes it: ``item { id: 1 name: 'raccoon' }``, one item per class."""
    items = (
        f"item {{\n  id: {number}\n  name: '{_quoted(name)}'\n}}\n" for name, number in ids.items()
    )
    return "\n".join(items)


def write_labelmap(path: Path, ids: dict[str, int]) -> None:
    path.write_text(labelmap_text(ids), encoding="utf-8")


def _quoted(name: str) -> str:
    # Backslashes first, or the ones added for quotes would be doubled; newlines would end the item.
    return name.replace("\\", "\\\\").replace("'", "\\'").replace("\n", "\\n")


def _number(value: float) -> int | float:
    """Whole numbers without a trailing .0, as LabelImg writes them."""
    return int(value) if float(value).is_integer() else value
