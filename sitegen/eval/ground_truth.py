"""Ground truth for ``sitegen eval``: COCO JSON, the CSV ``sitegen dataset`` writes, or a Pascal VOC
folder, as one COCO dataset in image pixels; and the images it names, found in ``--images``,
decoded the way the page will see them (EXIF orientation applied, RGB)."""

from __future__ import annotations

import csv
import dataclasses
import json
from dataclasses import dataclass, field
from pathlib import Path

from sitegen.dataset import AnnotatedImage, Box
from sitegen.dataset.writers import class_ids, coco_document
from sitegen.errors import EvalError

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".gif", ".webp", ".tif", ".tiff")
CSV_COLUMNS = ("filename", "width", "height", "class", "xmin", "ymin", "xmax", "ymax")


@dataclass
class GroundTruth:
    coco: dict  # images (id, file_name, width, height), annotations, categories
    paths: dict[int, Path]  # image id -> the image file in --images
    problems: list[str] = field(default_factory=list)  # reported, then skipped

    @property
    def categories(self) -> dict[str, int]:
        return {c["name"]: c["id"] for c in self.coco["categories"]}


def load_ground_truth(annotations: Path, images: Path) -> GroundTruth:
    if not images.is_dir() or not any(_image_files(images)):
        raise EvalError(
            f"--images {images} holds no images; pass the folder of the annotated images"
        )
    if not annotations.exists():
        raise EvalError(
            f"--annotations {annotations} does not exist; pass COCO JSON, a CSV or a VOC folder"
        )
    if annotations.is_dir():
        coco, problems = _from_voc(annotations)
    elif annotations.suffix.lower() == ".csv":
        coco, problems = _from_csv(annotations)
    else:
        coco, problems = _from_coco_json(annotations), []
    truth = _with_images(coco, images, annotations)
    truth.problems[:0] = problems
    return truth


def _image_files(folder: Path):
    return (p for p in folder.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file())


def _from_coco_json(path: Path) -> dict:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        for key in ("images", "annotations", "categories"):
            if not isinstance(data[key], list):
                raise TypeError(f'"{key}" is not a list')
    except (OSError, UnicodeDecodeError, ValueError, KeyError, TypeError) as exc:
        raise EvalError(
            f"{path} is not COCO JSON ({exc}); pass COCO JSON, the CSV of sitegen dataset, or a "
            "VOC folder"
        ) from None
    return data


def _from_csv(path: Path) -> tuple[dict, list[str]]:
    try:
        with path.open(newline="", encoding="utf-8") as file:
            rows = list(csv.DictReader(file))
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise EvalError(f"cannot read {path} ({exc})") from None
    if not rows or not set(CSV_COLUMNS) <= set(rows[0]):
        raise EvalError(
            f"{path} needs the columns {','.join(CSV_COLUMNS)} (as sitegen dataset writes)"
        )
    images: dict[str, AnnotatedImage] = {}
    for number, row in enumerate(rows, start=2):
        try:
            box = Box(row["class"], *(float(row[k]) for k in ("xmin", "ymin", "xmax", "ymax")))
            width, height = int(row["width"]), int(row["height"])
        except ValueError:
            raise EvalError(f"{path}:{number}: a size or box value is not a number") from None
        name = row["filename"]
        known = images.get(name) or AnnotatedImage(
            name, Path(name), width, height, "", "", path, ()
        )
        images[name] = dataclasses.replace(known, boxes=(*known.boxes, box))
    return _coco(list(images.values()), path), []


def _from_voc(folder: Path) -> tuple[dict, list[str]]:
    """Read as ``sitegen dataset`` reads it: the same checks, and the same problems reported."""
    from sitegen.dataset.validate import validate_all
    from sitegen.dataset.voc import find_annotation_files

    validated = validate_all(find_annotation_files(folder), folder)
    return _coco(validated.images, folder), [str(problem) for problem in validated.problems]


def _coco(images: list[AnnotatedImage], source: Path) -> dict:
    names = {box.label for image in images for box in image.boxes}
    return coco_document(images, class_ids(names), f"ground truth from {source}")


def _with_images(coco: dict, folder: Path, annotations: Path) -> GroundTruth:
    by_name = {}
    for path in _image_files(folder):
        by_name.setdefault(str(path.relative_to(folder)), path)
        by_name.setdefault(path.name, path)
    paths, problems = {}, []
    for image in coco["images"]:
        name = str(image["file_name"])
        found = by_name.get(name) or by_name.get(Path(name).name)
        if found is None:
            problems.append(f"{name}: named in {annotations.name} but not in {folder}; skipped")
        else:
            paths[image["id"]] = found
    if not paths:
        raise EvalError(
            f"the annotations {annotations} match none of the images in {folder}; "
            "pass the folder that holds the annotated images"
        )
    kept = set(paths)
    coco = {
        **coco,
        "images": [i for i in coco["images"] if i["id"] in kept],
        "annotations": [a for a in coco["annotations"] if a["image_id"] in kept],
    }
    return GroundTruth(coco, paths, problems)
