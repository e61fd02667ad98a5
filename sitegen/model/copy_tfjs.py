"""The TF.js-model stage: a converted model given as input is checked and copied into the site,
and its family says how the page runs it."""

from __future__ import annotations

from pathlib import Path

from sitegen.contract import ModelSpec
from sitegen.model.families import odapi_ssd, yolo
from sitegen.model.pipeline_config import PipelineSettings
from sitegen.model.tfjs import read_tfjs_model, recorded_model, spec_from_recorded
from sitegen.progress import stage


def tfjs_model_into(
    folder: Path,
    model_json: Path,
    pipeline: PipelineSettings,
    postprocess: str,
    *,
    shown: str = "",
    metadata: Path | None = None,
) -> ModelSpec:
    """Check the TF.js model at ``model_json``, copy it into ``folder`` and say how the page runs
    it: from what sitegen recorded in it, from an Ultralytics ``metadata.yaml`` beside it, or else
    from its signature's output names (an SSD's)."""
    with stage(f"Checking the {shown or f'TF.js model {model_json}'}"):
        model = read_tfjs_model(model_json)
    recorded = recorded_model(model)
    if recorded:
        return spec_from_recorded(folder, model, recorded, pipeline)
    found = yolo.read_metadata(metadata) if metadata else None
    if found is not None:
        return yolo.tfjs_spec(folder, model, found, postprocess)
    return odapi_ssd.tfjs_spec(folder, model, model_json, pipeline, postprocess)
