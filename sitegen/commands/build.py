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
    # --quantize int8: a folder of JPEG/PNG images to calibrate on (None: the verification image
    # and variations of it).
    calibration_images: Path | None = None
    shard_bytes: int = 4 * 1024 * 1024
    postprocess: str = "auto"  # "auto" | "raw" | "graph"
    force: bool = False
    verify: bool = False  # run the page per backend in headless Chromium against TensorFlow
    verify_image: Path | None = None
    # Refuse the site when the page's AP@.5 on these annotated images is below min_ap; with
    # --quantize int8 (and no floor) they are measured too, int8 next to float.
    min_ap: float | None = None
    eval_images: Path | None = None
    eval_annotations: Path | None = None

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


def build(options: BuildOptions) -> BuildResult:
    write.check_output(options.out, force=options.force, model=options.model)
    runtime_dir()  # fail before a long conversion, not after it
    litert_runtime_dir()
    texts = _page_texts(options)  # a missing or oversized file stops the build here, not later
    _check_calibration(options)
    truth = _accuracy_set(options)
    with tempfile.TemporaryDirectory(prefix="sitegen-") as workdir:
        source = locate(options.model, Path(workdir))
        pipeline = read_pipeline_config(source.pipeline_config)
        staging = write.staging_folder(options.out)
        # --quantize int8 compares itself with a float32 .tflite of the same cut, in a site of
        # its own (not shipped), when it verifies or measures accuracy.
        twin = Path(workdir) / "float-twin"
        compare = options.quantize == "int8" and (options.verify or truth is not None)
        conversion = dataclasses.replace(
            options.conversion, float_twin=twin / MODEL_FOLDER if compare else None
        )
        try:
            with errors_in_user_terms(source):
                config = _site_into(staging, source, pipeline, options, texts, conversion, twin)
            if truth is not None:
                _check_accuracy(staging, truth, options, _twin_if_made(staging, config, twin))
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
        "--calibration-images": options.calibration_images
        and str(options.calibration_images.resolve()),
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
    conversion: ConvertOptions,
    twin: Path,
) -> SiteConfig:
    spec = model_into(staging / MODEL_FOLDER, source, pipeline, conversion)
    config = dataclasses.replace(_site_config(options, source, spec), **texts)
    with stage("Rendering the page"):
        _write_generated(staging, config)
        write.copy_static(staging, litert=spec.litert is not None)
    if options.verify:
        config = _verify(staging, source, config, options, _twin_if_made(staging, config, twin))
    return config


def _check_calibration(options: BuildOptions) -> None:
    """--calibration-images, checked before any slow work."""
    if options.calibration_images is None:
        return
    from sitegen.errors import ConversionError
    from sitegen.model.convert_tflite import calibration_files

    if options.quantize != "int8":
        raise ConversionError(
            "--calibration-images calibrates --quantize int8; add --quantize int8 or leave it out"
        )
    calibration_files(options.calibration_images)


def _twin_if_made(staging: Path, config: SiteConfig, twin: Path) -> Path | None:
    """The int8 site's float twin: the staged site with the float32 .tflite of the same cut (which
    the conversion wrote into ``twin``) in place of the int8 one, or None without one. Made once,
    in the build's scratch folder; never shipped."""
    parts = sorted(
        (twin / MODEL_FOLDER).glob("model.tflite.part*"), key=lambda p: int(p.suffix[5:])
    )
    litert = config.model.litert
    if litert is None or litert.quantization != "int8" or not parts:
        return None
    if not (twin / "config.json").is_file():
        import shutil

        def int8_parts(folder: str, names: list[str]) -> list[str]:
            if Path(folder) != staging / MODEL_FOLDER:
                return []
            return [name for name in names if name.startswith("model.tflite.part")]

        shutil.copytree(staging, twin, dirs_exist_ok=True, ignore=int8_parts)
        files = tuple((f"{MODEL_FOLDER}/{p.name}", p.stat().st_size) for p in parts)
        float_litert = dataclasses.replace(litert, files=files, quantization="none")
        model = dataclasses.replace(config.model, litert=float_litert)
        write.write_text_files(twin, render_site(dataclasses.replace(config, model=model)))
    return twin


def _accuracy_set(options: BuildOptions):
    """The annotated images --min-ap (or --quantize int8) is measured on, read before any slow
    work."""
    int8 = options.quantize == "int8" and options.eval_images is not None
    if options.min_ap is None and not int8:
        return None
    from sitegen.errors import EvalError
    from sitegen.eval.ground_truth import load_ground_truth

    if options.eval_images is None or options.eval_annotations is None:
        what = "--min-ap" if options.min_ap is not None else "measuring int8's accuracy"
        raise EvalError(f"{what} needs --eval-images DIR and --eval-annotations FILE_OR_DIR")
    return load_ground_truth(options.eval_annotations, options.eval_images)


def _check_accuracy(staging: Path, truth, options: BuildOptions, twin: Path | None) -> None:
    from sitegen.commands.eval import page_summary
    from sitegen.errors import EvalError

    floor = options.min_ap
    images = len(truth.coco["images"])
    if options.quantize == "int8":
        row = _int8_accuracy(staging, truth, options, twin)
    else:
        row = page_summary(staging, truth)
        note(
            f"  accuracy   = AP@.5 {row['summary']['AP50']:.3f} on {images} images ({row['what']})"
        )
    ap50 = row["summary"]["AP50"]
    if floor is None:
        return
    note(f"  floor      = --min-ap {floor:g}: AP@.5 {ap50:.3f} ({row['what']})")
    if ap50 < floor:
        raise EvalError(
            f"the page's AP@.5 is {ap50:.3f} on {images} images, below --min-ap {floor:g}; "
            "nothing was written (try without --quantize, or check the labels)"
        )


def _int8_accuracy(staging: Path, truth, options: BuildOptions, twin: Path | None) -> dict:
    """The int8 site's COCO summary on LiteRT.js WASM (its .tflite), and its float twin's on the
    same images, printed side by side; returns the int8 row (the one --min-ap judges)."""
    from sitegen.commands.eval import page_summary

    images = len(truth.coco["images"])
    rows = {"int8": page_summary(staging, truth, backend="litert-wasm")}
    if twin is not None:
        rows["float32"] = page_summary(twin, truth, backend="litert-wasm")
    for name, row in rows.items():
        summary = row["summary"]
        note(
            f"  accuracy   = {name:<7} .tflite: AP@.5 {summary['AP50']:.3f}, AP@[.5:.95] "
            f"{summary['AP']:.3f} on {images} images ({row['what']})"
        )
    if "float32" in rows:
        cost = {
            k: round(rows["float32"]["summary"][k] - rows["int8"]["summary"][k], 3) + 0.0
            for k in ("AP50", "AP")
        }
        note(
            f"  int8 cost  = AP@.5 {cost['AP50']:.3f}, AP@[.5:.95] {cost['AP']:.3f} (float32 "
            "minus int8, the same page and images; negative: int8 scored higher)"
        )
    calibration = (
        f" --calibration-images {options.calibration_images}" if options.calibration_images else ""
    )
    note(
        f"  compare    = sitegen eval {options.model} --images {options.eval_images} "
        f"--annotations {options.eval_annotations} --quantize none,int8{calibration} "
        "--backend litert-wasm --backend wasm"
    )
    return rows["int8"]


def _write_generated(staging: Path, config: SiteConfig) -> None:
    """The files that depend on the config: the page, config.json, and model.json's record."""
    write.write_text_files(staging, render_site(config))
    record_metadata(staging / MODEL_FOLDER / TFJS_MODEL_FILE, config.model, config.labels)


def _verify(
    staging: Path,
    source: ModelSource,
    config: SiteConfig,
    options: BuildOptions,
    twin: Path | None = None,
) -> SiteConfig:
    from sitegen.contract import LITERT_BACKENDS
    from sitegen.site import browser, verify

    reference_model = _reference_saved_model(source, config.model)
    if reference_model is None:
        note("Backend verification skipped: a TF.js model input has no TensorFlow reference")
        return config
    browser_path = browser.find_browser()
    if browser_path is None:
        note("Backend verification skipped: no Chromium found (apt-get install chromium)")
        return config
    image = options.verify_image or verify.sample_image()
    backends = verify.backends_to_verify(config.model.backends)
    litert = config.model.litert
    int8 = LITERT_BACKENDS if litert is not None and litert.quantization == "int8" else ()
    float_result = None
    with stage("Verifying each backend in headless Chromium against TensorFlow"):
        function = verify.reference_for(reference_model, config.model)
        results = _check_backends(staging, source, config, function, image, browser_path, backends)
        if twin is not None:
            (float_result,) = verify.check_site(
                twin, function, image, browser_path, ("litert-wasm",)
            )
    wasm = next((r for r in results if r.backend == "litert-wasm"), None)
    if int8 and wasm is not None and wasm.agrees is False:
        # Headless Chromium has no WebGPU to check litert-webgpu on; it runs the same int8 file.
        detail = "not run here; it runs the same int8 .tflite that disagreed on litert-wasm"
        results.append(verify.BackendResult("litert-webgpu", False, detail))
    for line in verify.summary_lines(results, config.model.backends):
        note(line)
    if float_result is not None:
        for line in _speed_lines(results, float_result):
            note(line)
    config = verify.with_results(config, results)
    _write_generated(staging, config)
    return config


def _check_backends(staging, source, config, function, image, browser_path, backends):
    """Each backend's verdict against ``function``; a user's .tflite (a YOLO export's) is checked
    on the LiteRT.js backends against TensorFlow Lite running the same file."""
    from sitegen.contract import LITERT_BACKENDS
    from sitegen.site import verify

    litert = config.model.litert
    int8 = LITERT_BACKENDS if litert is not None and litert.quantization == "int8" else ()
    if source.tflite is None:
        return verify.check_site(
            staging, function, image, browser_path, backends, int8=int8, threshold=config.threshold
        )
    from sitegen.model.yolo_saved_model import tflite_reference

    on_tflite = tuple(b for b in backends if b in LITERT_BACKENDS)
    on_saved = tuple(b for b in backends if b not in LITERT_BACKENDS)
    results = verify.check_site(staging, function, image, browser_path, on_saved)
    tflite = tflite_reference(source.tflite, config.model)
    results += verify.check_site(staging, tflite, image, browser_path, on_tflite)
    return sorted(results, key=lambda result: backends.index(result.backend))


def _reference_saved_model(source: ModelSource, spec: ModelSpec) -> Path | None:
    """The SavedModel the page is verified against: the input itself, or for an Ultralytics TF.js
    export the SavedModel it wrote beside the web model (``<name>_saved_model/``)."""
    if source.kind == "saved_model":
        return source.path
    if spec.postprocess != "yolo" or not source.model_dir.name.endswith("_web_model"):
        return None
    sibling = source.model_dir.with_name(
        source.model_dir.name[: -len("_web_model")] + "_saved_model"
    )
    return sibling if (sibling / "saved_model.pb").is_file() else None


def _speed_lines(results, float_result) -> list[str]:
    """The float32 .tflite's verdict (not shipped), and int8's litert-wasm time next to it."""
    from sitegen.site.verify import TIMING_RUNS

    verdict = "agrees" if float_result.agrees else "DISAGREES"
    lines = [
        f"  float32    = {float_result.backend} on a float32 .tflite of the same cut (not "
        f"shipped) {verdict}: {float_result.detail}"
    ]
    int8 = next((r for r in results if r.backend == float_result.backend), None)
    if int8 is not None and int8.median_ms and float_result.median_ms:
        ratio = float_result.median_ms / int8.median_ms
        lines.append(
            f"  speed      = {int8.backend} int8 {int8.median_ms:.1f} ms vs float32 "
            f"{float_result.median_ms:.1f} ms per frame: {ratio:.2f}x (medians of "
            f"{TIMING_RUNS} frames, one run each; a busy machine moves them)"
        )
    return lines


def _site_config(options: BuildOptions, source: ModelSource, spec: ModelSpec) -> SiteConfig:
    recorded = recorded_model(read_tfjs_model(source.path)) if source.kind == "tfjs" else None
    labels, label_path, origin = label_files.choose_labels(
        options.labels, source.labels, recorded.labels if recorded else {}
    )
    if spec.postprocess == "yolo" and not options.labels and not recorded:
        labels, label_path, origin = _yolo_labels(source, spec) or (labels, label_path, origin)
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


def _yolo_labels(source: ModelSource, spec: ModelSpec):
    """A YOLO export's class names from its metadata.yaml (``--labels`` overrides them)."""
    from sitegen.model import yolo

    metadata = yolo.read_metadata(source.metadata) if source.metadata else None
    if metadata is None:
        return None
    return (
        yolo.labels_from(metadata),
        source.metadata,
        f"{source.metadata} names ({spec.num_classes} classes)",
    )


def _default_title(labels: dict[int, str]) -> str:
    names = list(labels.values())[:3]
    return f"{', '.join(names).capitalize()} detector" if names else "Object detector"
