"""``sitegen dataset VOC_DIR --out DIR``: Pascal VOC / LabelImg annotations in → checked → split
into train and test → CSV, COCO JSON, labelmap.pbtxt (and TFRecords) written atomically.

Everything is read and checked before anything is written, so ``--strict`` leaves no trace; the
stages live in ``sitegen.dataset``, this file orders them and prints the summary."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sitegen.dataset import DatasetError, Problem
from sitegen.dataset import writers as dataset_writers
from sitegen.dataset.report import summary_lines
from sitegen.dataset.split import Split, split_images
from sitegen.dataset.validate import Validated, validate_all
from sitegen.dataset.voc import find_annotation_files
from sitegen.progress import counted_stage, note, stage
from sitegen.site import write

DEFAULT_TEST_FRACTION = 0.2
DEFAULT_SEED = 0
PARTS = ("train", "test")


@dataclass(frozen=True)
class DatasetOptions:
    voc_dir: Path
    out: Path
    test_fraction: float = DEFAULT_TEST_FRACTION
    seed: int = DEFAULT_SEED
    strict: bool = False  # any problem is an error, and nothing is written
    tfrecord: bool = False  # also train.record / test.record (needs TensorFlow)
    classes: tuple[str, ...] | None = None  # the allow-list; None: every non-empty name
    force: bool = False  # replace an --out folder sitegen did not make (its contents moved aside)


@dataclass(frozen=True)
class DatasetResult:
    out: Path
    split: Split
    class_ids: dict[str, int]
    problems: tuple[Problem, ...]
    files: tuple[str, ...]  # written into out, sorted
    set_aside: Path | None = None  # where a foreign --out folder's contents went (--force)

    def boxes(self, part: str) -> int:
        return sum(len(image.boxes) for image in getattr(self.split, part))

    def summary_line(self) -> str:
        """What the CLI prints on stdout when done."""
        train, test = len(self.split.train), len(self.split.test)
        problems = (
            f"{_count(len(self.problems), 'problem')} (listed above)"
            if self.problems
            else "no problems"
        )
        return (
            f"Wrote {self.out}: {train} train and {test} test images, "
            f"{self.boxes('train')} + {self.boxes('test')} boxes, "
            f"{_count(len(self.class_ids), 'class', 'classes')}, {problems}"
        )


def _count(number: int, singular: str, plural: str | None = None) -> str:
    return f"{number} {singular if number == 1 else plural or singular + 's'}"


def class_list(text: str) -> tuple[str, ...]:
    """``--classes raccoon,cat`` as names; spaces around commas do not count."""
    names = tuple(dict.fromkeys(name.strip() for name in text.split(",") if name.strip()))
    if not names:
        raise DatasetError(f"--classes {text!r} names no class; pass names separated by commas")
    return names


def prepare_dataset(options: DatasetOptions) -> DatasetResult:
    _check_fraction(options.test_fraction)
    files = find_annotation_files(options.voc_dir)
    write.check_output(
        options.out, force=options.force, model=options.voc_dir, option="--out", source="dataset"
    )
    tf = _tensorflow() if options.tfrecord else None  # before the slow part, not after it
    validated = _validate(files, options)
    dataset_writers.check_out_holds_no_image(options.out, validated.images)
    with stage(f"Splitting {len(validated.images)} images into train and test"):
        split = split_images(validated.images, options.test_fraction, options.seed)
    ids = dataset_writers.class_ids(
        options.classes or (box.label for image in validated.images for box in image.boxes)
    )
    staging = write.staging_folder(options.out)
    try:
        _write_parts(staging, split, ids, tf, options)
        written = tuple(sorted(p.name for p in staging.iterdir()))
        set_aside = write.publish(staging, options.out, {"dataset": _record(options)})
    except BaseException:
        write.discard(staging)
        raise
    for line in summary_lines(split, list(ids), validated.problems, len(validated.without_boxes)):
        note(line)
    if set_aside is not None:
        note(f"The previous contents of {options.out} (not made by sitegen) are now in {set_aside}")
    return DatasetResult(options.out, split, ids, tuple(validated.problems), written, set_aside)


def _check_fraction(fraction: float) -> None:
    if not 0.0 < fraction < 1.0:
        raise DatasetError(
            f"--test-fraction {fraction} is not between 0 and 1; pass a fraction such as 0.2"
        )


def _tensorflow():
    from sitegen.dataset.tfrecord import import_tensorflow

    with stage("Loading TensorFlow for --tfrecord"):
        return import_tensorflow()


def _validate(files: list[Path], options: DatasetOptions) -> Validated:
    classes = frozenset(options.classes) if options.classes else None
    with counted_stage(
        f"Checking {len(files)} annotation files and their images", len(files)
    ) as advance:
        validated = validate_all(files, options.voc_dir, classes, advance)
    for problem in validated.problems:
        note(str(problem))
    if options.strict and validated.problems:
        raise DatasetError(
            f"--strict: {_count(len(validated.problems), 'problem')} in the annotations "
            f"(first: {validated.problems[0].headline}); fix them, or leave out --strict "
            "to skip those files and boxes"
        )
    if not validated.images:
        no_boxes = len(validated.without_boxes)
        raise DatasetError(
            f"nothing left of {options.voc_dir} after the checks: of {_count(len(files), 'annotation file')}, "
            f"{_count(len(validated.problems), 'problem')} (listed above) and "
            f"{_count(no_boxes, 'image')} without boxes; fix the annotations and run again"
        )
    return validated


def _write_parts(
    staging: Path, split: Split, ids: dict[str, int], tf, options: DatasetOptions
) -> None:
    with stage("Writing CSV, COCO JSON and labelmap.pbtxt"):
        for part in PARTS:
            images = getattr(split, part)
            dataset_writers.write_csv(staging / f"{part}_labels.csv", images)
            description = f"{part} part of {options.voc_dir.resolve()}"
            dataset_writers.write_coco(staging / f"{part}.json", images, ids, description)
        dataset_writers.write_labelmap(staging / dataset_writers.LABELMAP_FILE, ids)
    if tf is None:
        return
    from sitegen.dataset.tfrecord import write_tfrecord

    total = len(split.train) + len(split.test)
    with counted_stage(
        f"Writing {total} images into train.record and test.record", total
    ) as advance:
        for part in PARTS:
            write_tfrecord(tf, staging / f"{part}.record", getattr(split, part), ids, advance)


def _record(options: DatasetOptions) -> dict:
    """How this folder was made, in the marker file: enough to make it again."""
    return {
        "voc_dir": str(options.voc_dir.resolve()),
        "test_fraction": options.test_fraction,
        "seed": options.seed,
        "classes": list(options.classes) if options.classes else None,
        "strict": options.strict,
        "tfrecord": options.tfrecord,
    }
