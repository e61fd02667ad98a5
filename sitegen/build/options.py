"""What a build is asked for (``BuildOptions``), what it gives (``BuildResult``), and how it is
recorded in the site (``build_record``) so that ``sitegen publish`` can build it again."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sitegen.contract import DEFAULT_MAX_DETECTIONS, DEFAULT_THRESHOLD, SiteConfig
from sitegen.model import ConvertOptions
from sitegen.options import PostprocessChoice, Quantize
from sitegen.site import page_text


@dataclass(frozen=True)
class BuildOptions:
    model: Path
    out: Path
    labels: Path | None = None
    title: str | None = None
    # Markdown under the title: the text itself, or a .md/.txt file holding it (page_text).
    description: str | None = None
    model_card: Path | None = None  # a Markdown file shown under "About this model"
    threshold: float = DEFAULT_THRESHOLD
    max_detections: int = DEFAULT_MAX_DETECTIONS
    quantize: Quantize = Quantize.none
    # --quantize int8: a folder of JPEG/PNG images to calibrate on (None: the verification image
    # and variations of it).
    calibration_images: Path | None = None
    shard_bytes: int = 4 * 1024 * 1024
    postprocess: PostprocessChoice = PostprocessChoice.auto
    force: bool = False
    verify: bool = False  # run the page per backend in headless Chromium against TensorFlow
    verify_image: Path | None = None
    # Build the site even when no backend runs the model and agrees with TensorFlow (its page
    # then refuses to start); without it such a build fails and writes nothing.
    allow_unverified: bool = False
    # Refuse the site when the page's AP@.5 on these annotated images is below min_ap; with
    # --quantize int8 (and no floor) they are measured too, int8 next to float.
    min_ap: float | None = None
    eval_images: Path | None = None
    eval_annotations: Path | None = None

    def __post_init__(self) -> None:
        # A script may name a choice by its string ("int8"); the stages get the enum.
        object.__setattr__(self, "quantize", Quantize(self.quantize))
        object.__setattr__(self, "postprocess", PostprocessChoice(self.postprocess))

    @property
    def conversion(self) -> ConvertOptions:
        return ConvertOptions(
            self.postprocess,
            self.quantize,
            self.shard_bytes,
            calibration_images=self.calibration_images,
            calibration_base=self.verify_image,
        )


@dataclass(frozen=True)
class BuildResult:
    out: Path
    config: SiteConfig
    model_bytes: int
    files: int
    set_aside: Path | None = None  # where a foreign --out folder's contents went (--force)


def build_record(options: BuildOptions) -> dict:
    """How this site was built, as ``sitegen build`` arguments (paths absolute), so that
    ``sitegen publish`` can write a workflow that builds it again."""
    defaults = BuildOptions(model=options.model, out=options.out)
    flags = {
        "--labels": options.labels and str(options.labels.resolve()),
        "--title": options.title,
        "--description": options.description and _description_argument(options.description),
        "--model-card": options.model_card and str(options.model_card.resolve()),
        "--threshold": options.threshold != defaults.threshold and f"{options.threshold:g}",
        "--max-detections": options.max_detections != defaults.max_detections
        and str(options.max_detections),
        "--quantize": options.quantize != defaults.quantize and options.quantize.value,
        "--calibration-images": options.calibration_images
        and str(options.calibration_images.resolve()),
        "--shard-size": options.shard_bytes != defaults.shard_bytes and f"{options.shard_bytes}B",
        "--postprocess": options.postprocess != defaults.postprocess and options.postprocess.value,
        "--verify-image": options.verify_image and str(options.verify_image.resolve()),
    }
    arguments = [item for flag, value in flags.items() if value for item in (flag, value)]
    arguments.append("--verify" if options.verify else "--no-verify")
    if options.allow_unverified:
        arguments.append("--allow-unverified")
    return {"model": str(options.model.resolve()), "arguments": arguments}


def _description_argument(value: str) -> str:
    """--description as recorded: a file by its absolute path (publish makes it relative to the
    repository, as --labels), text as it is."""
    path = page_text.description_file(value)
    return str(path.resolve()) if path else value
