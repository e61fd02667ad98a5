"""The model stages: find the model and its companions (``source``), understand it
(``signature``, ``pipeline_config``, ``labels``), and put it into the site's model folder, converted
(``saved_model``, with ``convert_tfjs`` and ``convert_tflite``) or copied (``tfjs``)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from sitegen.options import PostprocessChoice, Quantize

if TYPE_CHECKING:
    from sitegen.contract import ModelSpec
    from sitegen.model.pipeline_config import PipelineSettings
    from sitegen.model.source import ModelSource


@dataclass(frozen=True)
class ConvertOptions:
    """How the model is converted: the build options that reach the model stages."""

    postprocess: PostprocessChoice = PostprocessChoice.auto
    quantize: Quantize = Quantize.none
    shard_bytes: int = 4 * 1024 * 1024
    # --quantize int8: the folder of images to calibrate on, or None for the verification image
    # (``calibration_base``, default the shipped scene) and deterministic variations of it.
    calibration_images: Path | None = None
    calibration_base: Path | None = None
    # --quantize int8: where to write a float32 .tflite of the same cut too (not shipped), so the
    # build can time and measure int8 next to float; None: no such twin.
    float_twin: Path | None = None

    def __post_init__(self) -> None:
        # A script may name a choice by its string ("int8"); the stages get the enum.
        object.__setattr__(self, "postprocess", PostprocessChoice(self.postprocess))
        object.__setattr__(self, "quantize", Quantize(self.quantize))


def model_into(
    folder: Path, source: ModelSource, pipeline: PipelineSettings, options: ConvertOptions
) -> ModelSpec:
    """Put the model into the site's ``folder`` and say how the page runs it."""
    shown = f"{source.what} {source.shown(source.path)}"
    if source.kind == "tfjs":
        from sitegen.model.copy_tfjs import tfjs_model_into

        if options.quantize is Quantize.int8:
            from sitegen.errors import ConversionError

            raise ConversionError(
                "--quantize int8 converts a SavedModel to a full-integer .tflite; a TF.js "
                "model.json is copied as it is: pass the SavedModel (or its export folder)"
            )
        spec = tfjs_model_into(
            folder,
            source.path,
            pipeline,
            options.postprocess,
            shown=shown,
            metadata=source.metadata,
        )
    else:
        from sitegen.model.saved_model import saved_model_into

        spec = saved_model_into(
            folder,
            source.path,
            pipeline,
            options,
            shown=shown,
            metadata=source.metadata,
            tflite=source.tflite,
        )
    return replace(spec, sha256=content_hash(folder.parent, spec))


def content_hash(site: Path, spec: ModelSpec) -> str:
    """SHA-256 over the model's bytes: the TF.js weight shards, then the .tflite parts, each in
    order, so the same model gives the same hash in every build, however it is sharded. The page
    remembers which backend was fastest for the model on a device by it, and measures again when
    the model changes."""
    digest = hashlib.sha256()
    groups = (spec.files, spec.litert.files if spec.litert else ())
    for group in groups:
        digest.update(b"\0group\0")
        for path, _ in group:
            with open(site / path, "rb") as file:
                for block in iter(lambda: file.read(1 << 20), b""):
                    digest.update(block)
    return digest.hexdigest()
