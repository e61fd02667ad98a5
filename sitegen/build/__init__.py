"""The build: model in → understood → converted → site rendered → verified → measured → written.

Each step is a stage of its own module; ``build`` orders them and passes their values on. Beside
it: ``options`` (what a build is asked for and gives, and its record), ``staged`` (the staged
site's generated files, int8's float twin), ``verification`` (``--verify``) and ``accuracy``
(``--min-ap``, int8's accuracy lines).
"""

from __future__ import annotations

import dataclasses
import tempfile
from pathlib import Path

from sitegen import __version__
from sitegen.build.accuracy import accuracy_set, check_accuracy
from sitegen.build.options import BuildOptions, BuildResult, build_record
from sitegen.build.staged import float_twin, write_generated
from sitegen.build.verification import verified_config
from sitegen.contract import MODEL_FOLDER, ModelSpec, SiteConfig
from sitegen.model import ConvertOptions, model_into
from sitegen.model import labels as label_files
from sitegen.model.families import family_for
from sitegen.model.pipeline_config import PipelineSettings, read_pipeline_config
from sitegen.model.source import ModelSource, errors_in_user_terms, locate
from sitegen.model.tfjs import read_tfjs_model, recorded_model
from sitegen.options import Quantize
from sitegen.progress import note, stage
from sitegen.resources import litert_runtime_dir, runtime_dir
from sitegen.site import page_text, write

__all__ = ["BuildOptions", "BuildResult", "build", "build_record"]


def build(options: BuildOptions) -> BuildResult:
    write.check_output(options.out, force=options.force, model=options.model)
    runtime_dir()  # fail before a long conversion, not after it
    litert_runtime_dir()
    texts = _page_texts(options)  # a missing or oversized file stops the build here, not later
    _check_calibration(options)
    truth = accuracy_set(options)
    with tempfile.TemporaryDirectory(prefix="sitegen-") as workdir:
        source = locate(options.model, Path(workdir))
        pipeline = read_pipeline_config(source.pipeline_config)
        staging = write.staging_folder(options.out)
        # --quantize int8 compares itself with a float32 .tflite of the same cut, in a site of
        # its own (not shipped), when it verifies or measures accuracy.
        twin = Path(workdir) / "float-twin"
        compare = options.quantize is Quantize.int8 and (options.verify or truth is not None)
        conversion = dataclasses.replace(
            options.conversion, float_twin=twin / MODEL_FOLDER if compare else None
        )
        try:
            with errors_in_user_terms(source):
                config = _site_into(staging, source, pipeline, options, texts, conversion, twin)
            if truth is not None:
                check_accuracy(staging, truth, options, float_twin(staging, config, twin))
            count = sum(1 for p in staging.rglob("*") if p.is_file())
            model_bytes = sum(size for _, size in config.model.files)
            set_aside = write.publish(staging, options.out, {"build": build_record(options)})
        except BaseException:
            write.discard(staging)
            raise
    if set_aside is not None:
        note(f"The previous contents of {options.out} (not made by sitegen) are now in {set_aside}")
    return BuildResult(options.out, config, model_bytes, count, set_aside)


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
        write_generated(staging, config)
        write.copy_static(staging, litert=spec.litert is not None)
    if options.verify:
        twin_site = float_twin(staging, config, twin)
        config = verified_config(staging, source, config, options, twin_site)
    return config


def _check_calibration(options: BuildOptions) -> None:
    """--calibration-images, checked before any slow work."""
    if options.calibration_images is None:
        return
    from sitegen.errors import ConversionError
    from sitegen.model.convert_tflite import calibration_files

    if options.quantize is not Quantize.int8:
        raise ConversionError(
            "--calibration-images calibrates --quantize int8; add --quantize int8 or leave it out"
        )
    calibration_files(options.calibration_images)


def _site_config(options: BuildOptions, source: ModelSource, spec: ModelSpec) -> SiteConfig:
    recorded = recorded_model(read_tfjs_model(source.path)) if source.kind == "tfjs" else None
    labels, label_path, origin = label_files.choose_labels(
        options.labels, source.labels, recorded.labels if recorded else {}
    )
    family = family_for(spec.postprocess)
    if family.labels and not options.labels and not recorded:
        own = family.function("labels")(source, spec)
        labels, label_path, origin = own or (labels, label_path, origin)
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
