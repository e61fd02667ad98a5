"""The ``sitegen`` command line: parse options, call the stage functions, turn SitegenError into one
line on stderr and an exit code. TensorFlow is imported only inside commands that need it."""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Annotated

import typer

from sitegen.errors import SitegenError

app = typer.Typer(
    help="Turn a trained TensorFlow object detector into a static webcam detector site.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

ModelArg = Annotated[
    Path,
    typer.Argument(
        help="SavedModel folder, OD API export folder, a .zip of either, or a TF.js model.json",
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
    threshold: Annotated[
        float, typer.Option(help="Default score threshold", callback=_threshold)
    ] = 0.5,
    max_detections: Annotated[int, typer.Option(min=1, max=1000, help="Boxes shown at most")] = 20,
    quantize: Annotated[
        str, typer.Option(help="Weight quantization: none, float16 or uint8")
    ] = "none",
    shard_size: Annotated[
        str, typer.Option(help="Largest weight file, e.g. 4MB (CDN and cache friendly)")
    ] = "4MB",
    postprocess: Annotated[
        str,
        typer.Option(help="auto, raw (NMS in the page; needs raw outputs) or graph (in the model)"),
    ] = "auto",
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
) -> None:
    """Build a complete static site from MODEL into --out."""
    from sitegen.build import BuildOptions
    from sitegen.build import build as run_build

    if quantize not in ("none", "float16", "uint8"):
        raise typer.BadParameter(
            f"{quantize!r}; choose none, float16 or uint8", param_hint="--quantize"
        )
    if postprocess not in ("auto", "raw", "graph"):
        raise typer.BadParameter(
            f"{postprocess!r}; choose auto, raw or graph", param_hint="--postprocess"
        )
    options = BuildOptions(
        model=model,
        out=out,
        labels=labels,
        title=title,
        threshold=threshold,
        max_detections=max_detections,
        quantize=quantize,
        shard_bytes=parse_size(shard_size),
        postprocess=postprocess,
        force=force,
        verify=verify,
        verify_image=verify_image,
    )
    result = run_build(options)
    spec = result.config.model
    runtimes = "TF.js + LiteRT.js" if spec.litert else "TF.js only"
    typer.echo(
        f"Built {result.out} ({result.files} files, model {result.model_bytes / 1e6:.1f} MB, "
        f"{spec.postprocess} post-processing, {runtimes}). Try it: sitegen serve {result.out}"
    )


@app.command()
def inspect(
    model: ModelArg,
    verify: Annotated[
        bool,
        typer.Option(help="Also run each TF.js backend in headless Chromium against TensorFlow"),
    ] = False,
) -> None:
    """Show what build would use: input, output mapping, labels, unsupported ops, weight sizes."""
    from sitegen.inspect import inspect_model, verification_table

    typer.echo(inspect_model(model))
    if verify:
        typer.echo(verification_table(model))


@app.command()
def serve(
    directory: Annotated[Path, typer.Argument(help="A built site folder")] = Path("dist"),
    port: Annotated[int, typer.Option(min=0, max=65535, help="Port (0 picks a free one)")] = 8000,
    host: Annotated[str, typer.Option(help="Address to listen on")] = "127.0.0.1",
    isolate: Annotated[
        bool, typer.Option(help="Send COOP/COEP headers so WASM can use threads")
    ] = True,
) -> None:
    """Serve a built site locally with the right MIME types and cross-origin isolation."""
    from sitegen.serve import serve_forever

    serve_forever(directory, host=host, port=port, isolate=isolate)


@app.command()
def scenes(
    out: Annotated[Path, typer.Argument(help="Folder for images + annotations, or a .y4m path")],
    count: Annotated[int, typer.Option(min=1, help="Images (or footage frames) to draw")] = 50,
    seed: Annotated[int, typer.Option(help="Same seed, same scenes")] = 0,
    empty: Annotated[bool, typer.Option(help="Footage without any sign")] = False,
) -> None:
    """Draw test scenes with ground truth: a VOC + COCO image set, or (OUT ends in .y4m) fake-camera
    footage for Chromium's --use-file-for-fake-video-capture with a per-frame JSON beside it."""
    from sitegen import scenes as scene_files

    if out.suffix == ".y4m":
        truth = scene_files.write_footage(out, seed=seed, frames=count, empty=empty)
        typer.echo(f"Wrote {out} and its ground truth {truth}")
    else:
        scene_files.write_image_set(out, count=count, seed=seed)
        typer.echo(f"Wrote {count} images with VOC and COCO annotations to {out}")


@app.command()
def train(
    out: Annotated[Path, typer.Option(help="Folder for the exported model")] = Path(
        "models/default"
    ),
    seed: Annotated[int, typer.Option(help="Seed for data, initialisation and batch order")] = 0,
) -> None:
    """Retrain the embedded default model on generated scenes (about 13 minutes on 2 cores)."""
    from sitegen.training import train as run_training

    run_training(out, seed=seed)


def main() -> None:
    try:
        app()
    except SitegenError as error:
        typer.echo(f"Error: {error}", err=True)
        sys.exit(error.exit_code)
    except KeyboardInterrupt:
        sys.exit(130)


if __name__ == "__main__":
    main()
