"""Split images into train and test, reproducibly from a seed, so that every class is in both.

The split is by image (boxes of one image never straddle the parts, or the test score would
flatter the model). The test part has exactly ``size_of_test_part(fraction, n)`` images. Within that, the
rarest classes pick first: each class with two or more images gets one in test and keeps one in
train, then each gets its share of the fraction, then random images fill the rest.
"""

from __future__ import annotations

import math
import random
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from sitegen.dataset import AnnotatedImage
from sitegen.dataset.voc import natural_key


@dataclass(frozen=True)
class Split:
    train: tuple[AnnotatedImage, ...]
    test: tuple[AnnotatedImage, ...]
    # Classes with two or more images that still miss from a part (the test part was too small).
    not_in_both: tuple[str, ...] = ()


def size_of_test_part(fraction: float, images: int) -> int:
    """round(fraction × images), half up, but leaving at least one image in each part."""
    wanted = math.floor(fraction * images + 0.5)
    if images < 2:
        return 0
    return min(max(wanted, 1), images - 1)


def split_images(images: Sequence[AnnotatedImage], fraction: float, seed: int) -> Split:
    order = sorted(images, key=lambda image: natural_key(image.filename))
    random.Random(seed).shuffle(order)  # sorted first: the same seed gives the same split anywhere
    chooser = _Chooser(order, size_of_test_part(fraction, len(order)))
    rarest_first = sorted(chooser.images_per_class, key=lambda c: (chooser.images_per_class[c], c))
    for label in rarest_first:
        if chooser.images_per_class[label] >= 2:
            chooser.move_until(label, 1)
    for label in rarest_first:
        chooser.move_until(label, math.floor(fraction * chooser.images_per_class[label] + 0.5))
    chooser.fill()
    return chooser.result()


class _Chooser:
    """Moves images from train to test, one at a time, in the shuffled order."""

    def __init__(self, order: list[AnnotatedImage], size: int):
        self.order = order
        self.size = size
        self.in_test: set[int] = set()  # indexes into order
        self.images_per_class = Counter(label for image in order for label in image.labels)
        self.test_per_class: Counter[str] = Counter()

    def move_until(self, label: str, wanted: int) -> None:
        for index, image in enumerate(self.order):
            if self.test_per_class[label] >= wanted or len(self.in_test) >= self.size:
                return
            if label in image.labels and self._may_move(index):
                self._move(index)

    def fill(self) -> None:
        for index in range(len(self.order)):
            if len(self.in_test) < self.size and self._may_move(index):
                self._move(index)
        # Only when the fraction is too large for every class to keep a train image: size wins.
        for index in range(len(self.order)):
            if len(self.in_test) < self.size and index not in self.in_test:
                self._move(index)

    def _may_move(self, index: int) -> bool:
        """Not yet in test, and no class of two or more images would lose its last train image."""
        if index in self.in_test:
            return False
        return all(
            self.images_per_class[label] < 2
            or self.images_per_class[label] - self.test_per_class[label] > 1
            for label in self.order[index].labels
        )

    def _move(self, index: int) -> None:
        self.in_test.add(index)
        self.test_per_class.update(self.order[index].labels)

    def result(self) -> Split:
        def by_name(images):
            return tuple(sorted(images, key=lambda image: natural_key(image.filename)))

        test = [image for index, image in enumerate(self.order) if index in self.in_test]
        train = [image for index, image in enumerate(self.order) if index not in self.in_test]
        missing = sorted(
            label
            for label, count in self.images_per_class.items()
            if count >= 2 and not 0 < self.test_per_class[label] < count
        )
        return Split(by_name(train), by_name(test), tuple(missing))
