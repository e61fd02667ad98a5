"""``sitegen dataset``, ``eval``, ``footage`` and ``check``: proof that what is deployed works."""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Annotated

import typer

from sitegen.cli.app import app
from sitegen.contract import ALL_BACKENDS
from sitegen.options import Quantize


def _test_fraction(value: float) -> float:
    if not 0.0 < value < 1.0:
        raise typer.BadParameter(f"{value} is not between 0 and 1; pass a fraction such as 0.2")
    return value


@app.command()
def dataset(
    voc_dir: Annotated[
        Path,
        typer.Argument(
            help="Folder of Pascal VOC / LabelImg .xml files, one per image", show_default=False
        ),
    ],
    out: Annotated[
        Path, typer.Option("--out", "-o", help="Folder to write the dataset to", show_default=False)
    ],
    test_fraction: Annotated[
        float, typer.Option(help="Share of the images held out to test", callback=_test_fraction)
    ] = 0.2,
    seed: Annotated[int, typer.Option(help="Seed of the split: the same seed, the same split")] = 0,
    classes: Annotated[
        str | None,
        typer.Option(help="Class names to keep, comma-separated; a box of any other is a problem"),
    ] = None,
    strict: Annotated[
        bool, typer.Option(help="Make any problem an error, and write nothing")
    ] = False,
    tfrecord: Annotated[
        bool, typer.Option(help="Also write train.record and test.record (needs TensorFlow)")
    ] = False,
    force: Annotated[
        bool, typer.Option(help="Replace --out even if sitegen did not create it")
    ] = False,
) -> None:
    """Check a Pascal VOC / LabelImg dataset and split it into train and test: CSV, COCO JSON,
    labelmap.pbtxt (and TFRecords)."""
    from sitegen.commands.dataset import DatasetOptions, class_list, prepare_dataset

    options = DatasetOptions(
        voc_dir=voc_dir,
        out=out,
        test_fraction=test_fraction,
        seed=seed,
        strict=strict,
        tfrecord=tfrecord,
        classes=class_list(classes) if classes is not None else None,
        force=force,
    )
    typer.echo(prepare_dataset(options).summary_line())


def _list(text: str | None) -> tuple[str, ...]:
    return tuple(part.strip() for part in (text or "").split(",") if part.strip())


def _quantize_variants(text: str | None) -> tuple[Quantize, ...]:
    """--quantize none,int8: the variants to build, each a Quantize."""
    variants = _list(text)
    unknown = [q for q in variants if q not in {q.value for q in Quantize}]
    if unknown:
        raise typer.BadParameter(
            f"{', '.join(unknown)}; choose from {', '.join(q.value for q in Quantize)}",
            param_hint="--quantize",
        )
    return tuple(Quantize(q) for q in variants)


@app.command(name="eval")
def eval_command(
    target: Annotated[
        Path,
        typer.Argument(help="A site built by sitegen, or a model to build", show_default=False),
    ],
    images: Annotated[
        Path, typer.Option(help="Folder of the annotated images", show_default=False)
    ],
    annotations: Annotated[
        Path,
        typer.Option(
            help="COCO JSON, the CSV of sitegen dataset, or a VOC folder", show_default=False
        ),
    ],
    backend: Annotated[
        list[str] | None,
        typer.Option(help="Backend to run the page on (repeat; default: its choice)"),
    ] = None,
    quantize: Annotated[
        str | None,
        typer.Option(
            help="For a model: variants to build and compare, e.g. none,float16,uint8,int8"
        ),
    ] = None,
    calibration_images: Annotated[
        Path | None,
        typer.Option(help="The int8 variant's calibration images (as build's)", show_default=False),
    ] = None,
    saved_model: Annotated[
        Path | None, typer.Option(help="TensorFlow's reference (default: the site's own model)")
    ] = None,
    report: Annotated[
        Path | None, typer.Option(help="Write an HTML report into this new folder")
    ] = None,
    json_path: Annotated[
        Path | None, typer.Option("--json", help="Write every number here")
    ] = None,
) -> None:
    """COCO metrics of the built page itself in headless Chromium, per backend, beside TensorFlow
    on the same pixels."""
    from sitegen.commands.eval import EvalOptions, evaluate, summary_table

    variants = _quantize_variants(quantize)
    wrong = [b for b in backend or () if b not in ALL_BACKENDS]
    if wrong:
        raise typer.BadParameter(
            f"{', '.join(wrong)}; choose from {', '.join(ALL_BACKENDS)}", param_hint="--backend"
        )
    result = evaluate(
        EvalOptions(
            target,
            images,
            annotations,
            tuple(backend or ()),
            variants,
            saved_model,
            report,
            json_path,
            calibration_images,
        )
    )
    typer.echo(summary_table(result))


# Backend names are spelled once, in sitegen.contract.
PageBackend = Enum("PageBackend", {name: name for name in ALL_BACKENDS}, type=str)
PageBackend.__doc__ = "A page backend (?backend=)."


@app.command()
def footage(
    source: Annotated[
        Path,
        typer.Argument(
            metavar="INPUT",
            help="A video file, a folder of images, or one image",
            show_default=False,
        ),
    ],
    out: Annotated[
        Path,
        typer.Argument(
            help="The .y4m to write (OUT.json, describing each frame, goes beside it)",
            show_default=False,
        ),
    ],
    size: Annotated[
        str, typer.Option(help="Frame size WxH, even numbers (letterboxed)")
    ] = "640x480",
    fps: Annotated[int, typer.Option(min=1, max=120, help="Frames per second")] = 30,
    seconds: Annotated[
        float | None,
        typer.Option(
            min=0.01, help="Length: one image's (default 5); at most this much of a video or folder"
        ),
    ] = None,
    seconds_per_image: Annotated[
        float, typer.Option(min=0.01, help="How long each image of a folder is shown")
    ] = 1.0,
    force: Annotated[bool, typer.Option(help="Replace OUT and OUT.json if they exist")] = False,
) -> None:
    """Turn a video, a folder of images or an image into fake-camera footage for sitegen check."""
    from sitegen.commands.footage import FootageOptions, make_footage

    result = make_footage(
        FootageOptions(
            source=source,
            out=out,
            size=size,
            fps=fps,
            seconds=seconds,
            seconds_per_image=seconds_per_image,
            force=force,
        )
    )
    typer.echo(
        f"Wrote {result.out} ({result.frames} frames of {result.size} at {result.fps} fps, "
        f"{result.seconds:.1f} s) and {result.description}. "
        f"Try it: sitegen check SITE --footage {result.out}"
    )


@app.command()
def check(
    site: Annotated[Path, typer.Argument(help="A site built by sitegen build", show_default=False)],
    footage: Annotated[
        Path,
        typer.Option(
            help="Fake-camera footage (.y4m), e.g. from sitegen footage", show_default=False
        ),
    ],
    backend: Annotated[
        PageBackend | None, typer.Option(help="Force a backend (default: the page's own choice)")
    ] = None,
    frames: Annotated[
        int | None, typer.Option(min=1, help="Frames to process (default: the footage's length)")
    ] = None,
    threshold: Annotated[
        float | None, typer.Option(min=0.0, max=1.0, help="Score threshold (default: the site's)")
    ] = None,
    expect: Annotated[
        Path | None, typer.Option(help="Expected detections, JSON (see docs/check.md)")
    ] = None,
    json_path: Annotated[
        Path | None, typer.Option("--json", help="Write every frame's detections to this file")
    ] = None,
    per_frame: Annotated[
        bool, typer.Option(help="Print a line per processed frame before the summary")
    ] = False,
    timeout: Annotated[
        float | None,
        typer.Option(min=1, help="Seconds to wait for the frames (default: 120 + 2 per frame)"),
    ] = None,
) -> None:
    """Run a built site in headless Chromium on footage; summarise and check its detections."""
    from sitegen.commands.check import CheckOptions, check_site

    check_site(
        CheckOptions(
            site=site,
            footage=footage,
            backend=backend.value if backend else None,
            frames=frames,
            threshold=threshold,
            expect=expect,
            json_out=json_path,
            per_frame=per_frame,
            timeout_s=timeout,
        ),
        echo=typer.echo,
    )
