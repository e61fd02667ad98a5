"""The build's accuracy floor (``--min-ap``) and ``--quantize int8``'s accuracy lines: the staged
site's page measured on annotated images by the eval package (``sitegen.eval.accuracy``)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from sitegen.build.options import BuildOptions
from sitegen.errors import EvalError
from sitegen.options import Quantize
from sitegen.progress import note

if TYPE_CHECKING:
    from sitegen.eval.accuracy import PageAccuracy
    from sitegen.eval.ground_truth import GroundTruth


def accuracy_set(options: BuildOptions) -> GroundTruth | None:
    """The annotated images --min-ap (or --quantize int8) is measured on, read before any slow
    work; None when nothing is measured."""
    int8 = options.quantize is Quantize.int8 and options.eval_images is not None
    if options.min_ap is None and not int8:
        return None
    from sitegen.eval.ground_truth import load_ground_truth

    if options.eval_images is None or options.eval_annotations is None:
        what = "--min-ap" if options.min_ap is not None else "measuring int8's accuracy"
        raise EvalError(f"{what} needs --eval-images DIR and --eval-annotations FILE_OR_DIR")
    return load_ground_truth(options.eval_annotations, options.eval_images)


def check_accuracy(
    staging: Path, truth: GroundTruth, options: BuildOptions, twin: Path | None
) -> None:
    """Print the staged page's accuracy; refuse the site below --min-ap."""
    from sitegen.eval.accuracy import page_accuracy

    floor = options.min_ap
    images = len(truth.coco["images"])
    if options.quantize is Quantize.int8:
        page = _int8_accuracy(staging, truth, options, twin)
    else:
        page = page_accuracy(staging, truth)
        note(f"  accuracy   = AP@.5 {page.summary.AP50:.3f} on {images} images ({page.what})")
    ap50 = page.summary.AP50
    if floor is None:
        return
    note(f"  floor      = --min-ap {floor:g}: AP@.5 {ap50:.3f} ({page.what})")
    if ap50 < floor:
        raise EvalError(
            f"the page's AP@.5 is {ap50:.3f} on {images} images, below --min-ap {floor:g}; "
            "nothing was written (try without --quantize, or check the labels)"
        )


def _int8_accuracy(
    staging: Path, truth: GroundTruth, options: BuildOptions, twin: Path | None
) -> PageAccuracy:
    """The int8 site's COCO summary on LiteRT.js WASM (its .tflite), and its float twin's on the
    same images, printed side by side; returns the int8 one (the one --min-ap judges)."""
    from sitegen.eval.accuracy import page_accuracy

    images = len(truth.coco["images"])
    int8 = page_accuracy(staging, truth, backend="litert-wasm")
    float32 = page_accuracy(twin, truth, backend="litert-wasm") if twin is not None else None
    note(_accuracy_line(str(Quantize.int8), int8, images))
    if float32 is not None:
        note(_accuracy_line("float32", float32, images))
        note(_cost_line(int8, float32))
    note(_compare_line(options))
    return int8


def _accuracy_line(name: str, page: PageAccuracy, images: int) -> str:
    return (
        f"  accuracy   = {name:<7} .tflite: AP@.5 {page.summary.AP50:.3f}, AP@[.5:.95] "
        f"{page.summary.AP:.3f} on {images} images ({page.what})"
    )


def _cost_line(int8: PageAccuracy, float32: PageAccuracy) -> str:
    # + 0.0 turns a rounded -0.0 into 0.0, which prints without a minus sign.
    ap50 = round(float32.summary.AP50 - int8.summary.AP50, 3) + 0.0
    ap = round(float32.summary.AP - int8.summary.AP, 3) + 0.0
    return (
        f"  int8 cost  = AP@.5 {ap50:.3f}, AP@[.5:.95] {ap:.3f} (float32 "
        "minus int8, the same page and images; negative: int8 scored higher)"
    )


def _compare_line(options: BuildOptions) -> str:
    """The ``sitegen eval`` command that measures int8 against float in full."""
    calibration = (
        f" --calibration-images {options.calibration_images}" if options.calibration_images else ""
    )
    return (
        f"  compare    = sitegen eval {options.model} --images {options.eval_images} "
        f"--annotations {options.eval_annotations} --quantize none,int8{calibration} "
        "--backend litert-wasm --backend wasm"
    )
