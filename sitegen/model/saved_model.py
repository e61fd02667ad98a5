"""The SavedModel stage: read the serving signature and hand the model to its family
(``sitegen.model.families``), which converts its cut to a TF.js graph model and, where the page
can use one, to a ``.tflite`` for LiteRT.js.

Needs TensorFlow; imported only by commands that convert.
"""

from __future__ import annotations

from pathlib import Path

from sitegen.contract import ModelSpec
from sitegen.errors import ModelError
from sitegen.model import ConvertOptions, convert_tfjs, signature
from sitegen.model.pipeline_config import PipelineSettings
from sitegen.progress import stage


def saved_model_into(
    folder: Path,
    saved_model_dir: Path,
    pipeline: PipelineSettings,
    options: ConvertOptions,
    *,
    shown: str = "",
    metadata: Path | None = None,
    tflite: Path | None = None,
) -> ModelSpec:
    """``metadata``: an Ultralytics metadata.yaml found with the model; ``tflite``: the .tflite
    the user gave, which only a YOLO export may bring."""
    with stage(f"Loading the {shown or f'SavedModel {saved_model_dir}'}"):
        convert_tfjs.import_converter()
        info = signature.load_signature(saved_model_dir, detection_outputs=False)
    # YOLO first: its one output has no OD API name, and a YOLO export may bring a .tflite.
    from sitegen.model.families import yolo_saved_model

    found = yolo_saved_model.yolo_metadata(info, metadata)
    if found is not None:
        return yolo_saved_model.yolo_into(folder, info, found, options, tflite=tflite)
    if tflite is not None:
        raise ModelError(
            f"{tflite}: a .tflite is read as an Ultralytics YOLO export, and the SavedModel beside "
            "it is not one (no metadata.yaml with task: detect, no [1, 4 + C, A] output); pass "
            "the SavedModel folder instead"
        )
    signature.check_detection_outputs(info, saved_model_dir)
    from sitegen.model.families import odapi_ssd

    return odapi_ssd.ssd_into(folder, info, pipeline, options)
