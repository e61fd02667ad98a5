"""``sitegen build`` and ``sitegen inspect``: a model in."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated

import typer

from sitegen.cli.app import app
from sitegen.contract import DEFAULT_MAX_DETECTIONS, DEFAULT_THRESHOLD
from sitegen.options import QUANTIZE_HELP, PostprocessChoice, Quantize

ModelArg = Annotated[
    Path,
    typer.Argument(
        help="OD API export folder, SavedModel, frozen_inference_graph.pb, a .zip/.tar.gz of one, "
        "or a TF.js model.json",
        show_default=False,
    ),
]


def parse_size(text: str) -> int:
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*(B|KB|KIB|MB|MIB)?\s*", text.upper())
    if not match:
        raise typer.BadParameter(f"{text!r} is not a size; write it like 4MB or 512KB")
    number, unit = float(match.group(1)), match.group(2) or "B"
    factor = {"B": 1, "KB": 1024, "KIB": 1024, "MB": 1024**2, "MIB": 1024**2}[unit]
    size = int(number * factor)
    if size < 1024:
        raise typer.BadParameter("shards must be at least 1KB")
    return size


def _threshold(value: float) -> float:
    if not 0.0 <= value <= 1.0:
        raise typer.BadParameter(f"{value} is outside 0..1; pass a score such as 0.5")
    return value


@app.command()
def build(
    model: ModelArg,
    out: Annotated[Path, typer.Option("--out", "-o", help="Folder to write the site to")] = Path(
        "dist"
    ),
    labels: Annotated[
        Path | None,
        typer.Option(help="labelmap.pbtxt, labels.txt or labels.json (found beside the model)"),
    ] = None,
    title: Annotated[str | None, typer.Option(help="Page title (default from the labels)")] = None,
    description: Annotated[
        str | None,
        typer.Option(
            help="Text under the title, Markdown (at most 2,000 characters); "
            "or a .md/.txt file holding it",
            show_default=False,
        ),
    ] = None,
    model_card: Annotated[
        Path | None,
        typer.Option(
            help="Markdown file (at most 100 KB) shown under 'About this model': "
            "intended use, training data, metrics",
            show_default=False,
        ),
    ] = None,
    threshold: Annotated[
        float, typer.Option(help="Default score threshold", callback=_threshold)
    ] = DEFAULT_THRESHOLD,
    max_detections: Annotated[
        int, typer.Option(min=1, max=1000, help="Boxes shown at most")
    ] = DEFAULT_MAX_DETECTIONS,
    quantize: Annotated[
        Quantize,
        typer.Option(help=QUANTIZE_HELP),
    ] = Quantize.none,
    calibration_images: Annotated[
        Path | None,
        typer.Option(
            help="--quantize int8: folder of JPEG/PNG images like the camera's to calibrate on "
            "(8 or more; up to 200 used). Default: the verify image and variations of it",
            show_default=False,
        ),
    ] = None,
    shard_size: Annotated[
        str, typer.Option(help="Largest weight file, e.g. 4MB (CDN and cache friendly)")
    ] = "4MB",
    postprocess: Annotated[
        PostprocessChoice,
        typer.Option(help="raw: NMS in the page (needs raw outputs); graph: in the model"),
    ] = PostprocessChoice.auto,
    force: Annotated[
        bool, typer.Option(help="Replace --out even if sitegen did not create it")
    ] = False,
    verify: Annotated[
        bool,
        typer.Option(help="Check each TF.js backend against TensorFlow in headless Chromium"),
    ] = True,
    verify_image: Annotated[
        Path | None,
        typer.Option(exists=True, dir_okay=False, help="Image for --verify (default: generated)"),
    ] = None,
    allow_unverified: Annotated[
        bool,
        typer.Option(
            "--allow-unverified",
            help="Build even when no backend runs the model and agrees with TensorFlow "
            "(the page will refuse to start); without it such a build fails and writes nothing",
        ),
    ] = False,
    min_ap: Annotated[
        float | None,
        typer.Option(
            min=0.0, max=1.0, help="Refuse the site if the page's AP@.5 on --eval-images is lower"
        ),
    ] = None,
    eval_images: Annotated[
        Path | None,
        typer.Option(help="Annotated images for --min-ap (and --quantize int8's accuracy)"),
    ] = None,
    eval_annotations: Annotated[
        Path | None, typer.Option(help="Their annotations: COCO JSON, CSV or a VOC folder")
    ] = None,
) -> None:
    """Build a complete static site from MODEL into --out."""
    from sitegen.build import BuildOptions
    from sitegen.commands.build import build_site

    options = BuildOptions(
        model=model,
        out=out,
        labels=labels,
        title=title,
        description=description,
        model_card=model_card,
        threshold=threshold,
        max_detections=max_detections,
        quantize=quantize,
        calibration_images=calibration_images,
        shard_bytes=parse_size(shard_size),
        postprocess=postprocess,
        force=force,
        verify=verify,
        verify_image=verify_image,
        allow_unverified=allow_unverified,
        min_ap=min_ap,
        eval_images=eval_images,
        eval_annotations=eval_annotations,
    )
    typer.echo(build_site(options))


@app.command()
def inspect(
    model: ModelArg,
    verify: Annotated[
        bool,
        typer.Option(help="Also run each TF.js backend in headless Chromium against TensorFlow"),
    ] = False,
) -> None:
    """Show what build would use: input, output mapping, labels, unsupported ops, weight sizes."""
    from sitegen.commands.inspect import inspect_model, verification_table

    typer.echo(inspect_model(model))
    if verify:
        typer.echo(verification_table(model))
