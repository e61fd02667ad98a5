"""The ``sitegen`` command line: parse options, call ``sitegen.commands``, turn errors into one
line on stderr and an exit code (``sitegen.errors``). TensorFlow is imported only inside commands
that need it, so ``--help`` is instant."""

from __future__ import annotations

import re
import sys
from enum import Enum
from pathlib import Path
from typing import Annotated

import typer

from sitegen.contract import ALL_BACKENDS, DEFAULT_MAX_DETECTIONS, DEFAULT_THRESHOLD
from sitegen.errors import USAGE_EXIT_CODE, SitegenError
from sitegen.model import PostprocessChoice, Quantize
from sitegen.publish import Target

# Click's exception base (Typer re-exports its subclasses but not the base; newer Typer versions
# vendor Click, so it is found through BadParameter rather than imported from ``click``).
_ClickException = next(c for c in typer.BadParameter.__mro__ if c.__name__ == "ClickException")

app = typer.Typer(
    help="Turn a trained TensorFlow object detector into a static webcam detector site.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

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
    threshold: Annotated[
        float, typer.Option(help="Default score threshold", callback=_threshold)
    ] = DEFAULT_THRESHOLD,
    max_detections: Annotated[
        int, typer.Option(min=1, max=1000, help="Boxes shown at most")
    ] = DEFAULT_MAX_DETECTIONS,
    quantize: Annotated[Quantize, typer.Option(help="Weight quantization")] = Quantize.none,
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
    min_ap: Annotated[
        float | None,
        typer.Option(
            min=0.0, max=1.0, help="Refuse the site if the page's AP@.5 on --eval-images is lower"
        ),
    ] = None,
    eval_images: Annotated[Path | None, typer.Option(help="Annotated images for --min-ap")] = None,
    eval_annotations: Annotated[
        Path | None, typer.Option(help="Their annotations: COCO JSON, CSV or a VOC folder")
    ] = None,
) -> None:
    """Build a complete static site from MODEL into --out."""
    from sitegen.commands.build import BuildOptions
    from sitegen.commands.build import build as run_build

    options = BuildOptions(
        model=model,
        out=out,
        labels=labels,
        title=title,
        threshold=threshold,
        max_detections=max_detections,
        quantize=quantize.value,
        shard_bytes=parse_size(shard_size),
        postprocess=postprocess.value,
        force=force,
        verify=verify,
        verify_image=verify_image,
        min_ap=min_ap,
        eval_images=eval_images,
        eval_annotations=eval_annotations,
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
    from sitegen.commands.inspect import inspect_model, verification_table

    typer.echo(inspect_model(model))
    if verify:
        typer.echo(verification_table(model))


class ServeAs(str, Enum):
    """Which host's behaviour ``serve --as`` imitates."""

    local = "local"
    github_pages = "github-pages"
    netlify = "netlify"
    static = "static"


@app.command()
def serve(
    directory: Annotated[Path, typer.Argument(help="A built site folder")] = Path("dist"),
    port: Annotated[int, typer.Option(min=0, max=65535, help="Port (0 picks a free one)")] = 8000,
    host: Annotated[str, typer.Option(help="Address to listen on")] = "127.0.0.1",
    isolate: Annotated[
        bool, typer.Option(help="Send COOP/COEP headers so WASM can use threads")
    ] = True,
    as_host: Annotated[
        ServeAs,
        typer.Option(
            "--as",
            help="Serve as a host would: github-pages (under /repo/, no custom headers), "
            "netlify (the site's _headers), static (no custom headers)",
        ),
    ] = ServeAs.local,
    base_path: Annotated[
        str | None, typer.Option(help="URL path to serve under, e.g. /my-repo/ (Pages: /repo/)")
    ] = None,
) -> None:
    """Serve a built site locally with the right MIME types and cross-origin isolation."""
    from sitegen.commands.serve import serve_forever

    serve_forever(
        directory,
        host=host,
        port=port,
        isolate=isolate,
        as_host=as_host.value,
        base_path=base_path,
    )


@app.command()
def publish(
    target: Annotated[Target, typer.Argument(help="Where the site goes", show_default=False)],
    site: Annotated[Path, typer.Argument(help="A site built by sitegen build")] = Path("dist"),
    generate_dir: Annotated[
        Path, typer.Option(help="Folder to write the deployable copy to (SITE is never changed)")
    ] = Path("_site"),
    workflow: Annotated[
        Path | None,
        typer.Option(
            help="github-pages: the GitHub Actions workflow to write "
            "(default .github/workflows/sitegen-pages.yml in this git repository)"
        ),
    ] = None,
    write_workflow: Annotated[
        bool, typer.Option("--workflow-file/--no-workflow", help="github-pages: write the workflow")
    ] = True,
    model: Annotated[
        Path | None,
        typer.Option(help="The workflow's model (default: the one SITE was built from)"),
    ] = None,
    install: Annotated[
        str | None, typer.Option(help="The workflow's command that installs sitegen")
    ] = None,
    deploy: Annotated[
        bool, typer.Option(help="Deploy with the host's own CLI (gh, netlify) when installed")
    ] = False,
    force: Annotated[
        bool, typer.Option(help="Move a non-empty --generate-dir sitegen did not make aside")
    ] = False,
) -> None:
    """Write a deployable copy of a built site for GitHub Pages, Netlify or any static host."""
    from sitegen.commands.publish import PublishOptions
    from sitegen.commands.publish import publish as run_publish
    from sitegen.publish.github_pages import DEFAULT_INSTALL

    result = run_publish(
        PublishOptions(
            target=target,
            site=site,
            generate_dir=generate_dir,
            workflow=workflow,
            write_workflow=write_workflow,
            model=model,
            install=install or DEFAULT_INSTALL,
            deploy=deploy,
            force=force,
        )
    )
    typer.echo(
        f"Wrote {result.generate_dir} for {target.value} (build {result.build_id}). "
        f"Try it: sitegen serve {result.generate_dir} --as {target.value}"
    )


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
        typer.Option(help="For a model: variants to build and compare, e.g. none,float16,uint8"),
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

    variants = _list(quantize)
    unknown = [q for q in variants if q not in {q.value for q in Quantize}]
    if unknown:
        raise typer.BadParameter(
            f"{', '.join(unknown)}; choose from none, float16, uint8", param_hint="--quantize"
        )
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


def main() -> None:
    try:
        code = app(standalone_mode=False)
    except SitegenError as error:
        typer.echo(f"Error: {error}", err=True)
        sys.exit(error.exit_code)
    except _ClickException as error:
        sys.exit(_usage_error(error))
    except (KeyboardInterrupt, typer.Abort):
        sys.exit(130)
    sys.exit(code if isinstance(code, int) else 0)


def _usage_error(error) -> int:
    """A bad option or argument: one line naming it, and where the choices are listed."""
    context = getattr(error, "ctx", None)
    if type(error).__name__ == "NoArgsIsHelpError" and context is not None:
        typer.echo(context.get_help())  # plain `sitegen` (or a verb alone) shows the help
        return 0
    where = f" (see: {context.command_path} --help)" if context is not None else ""
    message = " ".join(error.format_message().split())
    typer.echo(f"Error: {message}{where}", err=True)
    return error.exit_code if error.exit_code != 1 else USAGE_EXIT_CODE


if __name__ == "__main__":
    main()
