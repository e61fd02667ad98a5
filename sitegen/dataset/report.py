"""What the dataset command shows on stderr: a counted stage for the slow loops, and the summary
table (images and boxes per class in each part, problems)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from sitegen.dataset import AnnotatedImage, Problem
from sitegen.dataset.split import Split


def summary_lines(
    split: Split, class_names: Sequence[str], problems: Sequence[Problem], without_boxes: int
) -> list[str]:
    train, test = _boxes_per_class(split.train), _boxes_per_class(split.test)
    rows = [("images", len(split.train), len(split.test))]
    rows += [(f"boxes: {name}", train[name], test[name]) for name in class_names]
    if len(class_names) > 1:
        rows.append(("boxes: all", sum(train.values()), sum(test.values())))
    lines = _table(("", "train", "test", "total"), [(*row, row[1] + row[2]) for row in rows])
    skipped = sum(1 for problem in problems if problem.skipped_file)
    lines.append(
        f"problems: {len(problems)} ({skipped} files skipped, {len(problems) - skipped} boxes dropped)"
    )
    if without_boxes:
        lines.append(f"left out: {without_boxes} images with no boxes (CSV rows need a box)")
    if split.not_in_both:
        names = ", ".join(split.not_in_both)
        lines.append(f"not in both parts (too few test images for them): {names}")
    return lines


def _boxes_per_class(images: Sequence[AnnotatedImage]) -> Counter[str]:
    return Counter(box.label for image in images for box in image.boxes)


def _table(header: tuple, rows: list[tuple]) -> list[str]:
    first = max(len(str(row[0])) for row in [header, *rows])
    others = [max(len(str(row[i])) for row in [header, *rows]) for i in range(1, len(header))]

    def line(row: tuple) -> str:
        cells = [str(row[0]).ljust(first)] + [
            str(v).rjust(w) for v, w in zip(row[1:], others, strict=True)
        ]
        return "  ".join(cells).rstrip()

    return [line(header), *map(line, rows)]
