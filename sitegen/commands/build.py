"""``sitegen build``: model in → understood → converted → site rendered → verified → written.

Each step is a stage of its own module; this file only orders them and passes their values on.
"""

from __future__ import annotations

import dataclasses
import tempfile
from dataclasses import dataclass
from pathlib import Path

from sitegen import __version__
from sitegen.contract import (
    DEFAULT_MAX_DETECTIONS,
    DEFAULT_THRESHOLD,
    MODEL_FOLDER,
    ModelSpec,
    SiteConfig,
)
from sitegen.model import ConvertOptions, model_into
from sitegen.model import labels as label_files
from sitegen.model.pipeline_config import PipelineSettings, read_pipeline_config
from sitegen.model.source import ModelSource, errors_in_user_terms, locate
from sitegen.model.tfjs import TFJS_MODEL_FILE, read_tfjs_model, record_metadata, recorded_model
from sitegen.progress import note, stage
from sitegen.resources import litert_runtime_dir, runtime_dir
from sitegen.site import page_text, write
from sitegen.site.render import render_site


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
    quantize: str = "none"
    shard_bytes: int = 4 * 1024 * 1024
    postprocess: str = "auto"  # "auto" | "raw" | "graph"
    force: bool = False
    verify: bool = False  # run the page per backend in headless Chromium against TensorFlow
    verify_image: Path | None = None
    # Refuse the site when the page's AP@.5 on these annotated images is below min_ap.
    min_ap: float | None = None
    eval_images: Path | None = None
    eval_annotations: Path | None = None

    @property
    def conversion(self) -> ConvertOptions:
        return ConvertOptions(self.postprocess, self.quantize, self.shard_bytes)


@dataclass(frozen=True)
class BuildResult:
    out: Path
    config: SiteConfig
    model_bytes: int
    files: int
    set_aside: Path | None = None  # where a foreign --out folder's contents went (--force)


def build(options: BuildOptions) -> BuildResult:
    write.check_output(options.out, force=options.force, model=options.model)
    runtime_dir()  # fail before a long conversion, not after it
    litert_runtime_dir()
    texts = _page_texts(options)  # a missing or oversized file stops the build here, not later
    truth = _accuracy_set(options)
    with tempfile.TemporaryDirectory(prefix="sitegen-") as workdir:
        source = locate(options.model, Path(workdir))
        pipeline = read_pipeline_config(source.pipeline_config)
        staging = write.staging_folder(options.out)
        try:
            with errors_in_user_terms(source):
                config = _site_into(staging, source, pipeline, options, texts)
            if truth is not None:
                _check_accuracy(staging, truth, options.min_ap)
            count = sum(1 for p in staging.rglob("*") if p.is_file())
            model_bytes = sum(size for _, size in config.model.files)
            set_aside = write.publish(staging, options.out, {"build": build_record(options)})
        except BaseException:
            write.discard(staging)
            raise
    if set_aside is not None:
        note(f"The previous contents of {options.out} (not made by sitegen) are now in {set_aside}")
    return BuildResult(options.out, config, model_bytes, count, set_aside)


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
        "--quantize": options.quantize != defaults.quantize and options.quantize,
        "--shard-size": options.shard_bytes != defaults.shard_bytes and f"{options.shard_bytes}B",
        "--postprocess": options.postprocess != defaults.postprocess and options.postprocess,
        "--verify-image": options.verify_image and str(options.verify_image.resolve()),
    }
    arguments = [item for flag, value in flags.items() if value for item in (flag, value)]
    arguments.append("--verify" if options.verify else "--no-verify")
    return {"model": str(options.model.resolve()), "arguments": arguments}


def _description_argument(value: str) -> str:
    """--description as recorded: a file by its absolute path (publish makes it relative to the
    repository, as --labels), text as it is."""
    path = page_text.description_file(value)
    return str(path.resolve()) if path else value


def _page_texts(options: BuildOptions) -> dict[str, str]:
    """The description's and the model card's Markdown, checked, with a note on what the page
    shows as text (links and images that would not work from the site)."""
    texts = {
        "description": page_text.read_description(options.description),
        "model_card": page_text.read_model_card(options.model_card),
    }
    for field, option in (("description", "--description"), ("model_card", "--model-card")):
        changed = page_text.shown_as_text(texts[field])
        if changed:
            more = f" and {len(changed) - 3} more" if len(changed) > 3 else ""
            note(
                f"  {option}: shown as text on the page: {', '.join(changed[:3])}{more} (the page "
                "links only to https:, http: and mailto: addresses, and shows no images)"
            )
    return texts


def _site_into(
    staging: Path,
    source: ModelSource,
    pipeline: PipelineSettings,
    options: BuildOptions,
    texts: dict[str, str],
) -> SiteConfig:
    spec = model_into(staging / MODEL_FOLDER, source, pipeline, options.conversion)
    config = dataclasses.replace(_site_config(options, source, spec), **texts)
    with stage("Rendering the page"):
        _write_generated(staging, config)
        write.copy_static(staging, litert=spec.litert is not None)
    if options.verify:
        config = _verify(staging, source, config, options)
    return config


def _accuracy_set(options: BuildOptions):
    """The annotated images --min-ap is measured on, read before any slow work."""
    if options.min_ap is None:
        return None
    from sitegen.errors import EvalError
    from sitegen.eval.ground_truth import load_ground_truth

    if options.eval_images is None or options.eval_annotations is None:
        raise EvalError("--min-ap needs --eval-images DIR and --eval-annotations FILE_OR_DIR")
    return load_ground_truth(options.eval_annotations, options.eval_images)


def _check_accuracy(staging: Path, truth, floor: float) -> None:
    from sitegen.commands.eval import page_summary
    from sitegen.errors import EvalError

    row = page_summary(staging, truth)
    ap50 = row["summary"]["AP50"]
    images = len(truth.coco["images"])
    note(f"  accuracy   = AP@.5 {ap50:.3f} on {images} images ({row['what']}), floor {floor:g}")
    if ap50 < floor:
        raise EvalError(
            f"the page's AP@.5 is {ap50:.3f} on {images} images, below --min-ap {floor:g}; "
            "nothing was written (try without --quantize, or check the labels)"
        )


def _write_generated(staging: Path, config: SiteConfig) -> None:
    """The files that depend on the config: the page, config.json, and model.json's record."""
    write.write_text_files(staging, render_site(config))
    record_metadata(staging / MODEL_FOLDER / TFJS_MODEL_FILE, config.model, config.labels)


def _verify(
    staging: Path, source: ModelSource, config: SiteConfig, options: BuildOptions
) -> SiteConfig:
    from sitegen.site import browser, verify

    if source.kind != "saved_model":
        note("Backend verification skipped: a TF.js model input has no TensorFlow reference")
        return config
    browser_path = browser.find_browser()
    if browser_path is None:
        note("Backend verification skipped: no Chromium found (apt-get install chromium)")
        return config
    image = options.verify_image or verify.sample_image()
    backends = verify.backends_to_verify(config.model.backends)
    with stage("Verifying each backend in headless Chromium against TensorFlow"):
        results = verify.verify_site(staging, source.path, image, browser_path, backends)
    for line in verify.summary_lines(results, config.model.backends):
        note(line)
    config = verify.with_results(config, results)
    _write_generated(staging, config)
    return config


def _site_config(options: BuildOptions, source: ModelSource, spec: ModelSpec) -> SiteConfig:
    recorded = recorded_model(read_tfjs_model(source.path)) if source.kind == "tfjs" else None
    labels, label_path, origin = label_files.choose_labels(
        options.labels, source.labels, recorded.labels if recorded else {}
    )
    note(f"  labels     = {origin}")
    num_classes = spec.num_classes or (max(labels) if labels else 0)
    label_files.check_labels_fit(labels, spec.num_classes or None, label_path)
    if not spec.num_classes:
        spec = dataclasses.replace(spec, num_classes=num_classes)
    return SiteConfig(
        title=options.title or _default_title(labels),
        threshold=options.threshold,
        max_detections=options.max_detections,
        labels=label_files.labels_with_fallback(labels, num_classes),
        model=spec,
        sitegen_version=__version__,
    )


def _default_title(labels: dict[int, str]) -> str:
    names = list(labels.values())[:3]
    return f"{', '.join(names).capitalize()} detector" if names else "Object detector"
