"""TF.js graph models (``model.json`` + weight shards), without TensorFlow: read and check one,
and the stage that takes a converted model as the build's input (copy it, and work out how the page
runs it from what sitegen recorded in it or from its signature)."""

from __future__ import annotations

import dataclasses
import json
import shutil
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from sitegen.contract import (
    FLOAT16,
    MODEL_FOLDER,
    UINT8,
    LitertSpec,
    ModelSpec,
    RecordedModel,
)
from sitegen.errors import ModelError
from sitegen.model.pipeline_config import PipelineSettings
from sitegen.progress import note, stage

TFJS_MODEL_FILE = "model.json"

_DTYPE_BYTES = {"float32": 4, "int32": 4, "bool": 1, FLOAT16: 2, UINT8: 1, "uint16": 2}


@dataclass(frozen=True)
class TfjsModel:
    model_json: Path
    manifest: dict
    shards: tuple[tuple[Path, int], ...]  # every weight file with its size on disk

    @property
    def folder(self) -> Path:
        return self.model_json.parent

    @property
    def weight_bytes(self) -> int:
        return sum(size for _, size in self.shards)

    @property
    def op_names(self) -> set[str]:
        topology = self.manifest.get("modelTopology", {})
        nodes = list(topology.get("node", []))
        for function in topology.get("library", {}).get("function", []):
            nodes.extend(function.get("nodeDef", []))
        return {node["op"] for node in nodes if "op" in node}

    def site_files(self) -> tuple[tuple[str, int], ...]:
        """(site-relative path, bytes) of each weight shard, as the site's model folder holds them."""
        return tuple((f"{MODEL_FOLDER}/{path.name}", size) for path, size in self.shards)


def read_tfjs_model(model_json: Path) -> TfjsModel:
    """Parse model.json and check every shard it names is present with the expected size."""
    try:
        manifest = json.loads(model_json.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ModelError(
            f"{model_json} is not a readable model.json ({exc}); convert again"
        ) from None
    if manifest.get("format") != "graph-model" or "weightsManifest" not in manifest:
        raise ModelError(
            f"{model_json} is not a TF.js graph model (format {manifest.get('format')!r}); "
            "convert with tensorflowjs_converter --output_format=tfjs_graph_model"
        )
    shards = []
    for group in manifest["weightsManifest"]:
        expected = sum(_weight_bytes(w) for w in group["weights"])
        paths = [model_json.parent / p for p in group["paths"]]
        sizes = []
        for path in paths:
            if not path.is_file():
                raise ModelError(
                    f"weight shard {path.name} named in {model_json} is missing; "
                    "copy every group*-shard*.bin file beside model.json"
                )
            sizes.append(path.stat().st_size)
        if sum(sizes) != expected:
            raise ModelError(
                f"the weight shards {', '.join(p.name for p in paths)} hold {sum(sizes)} bytes but "
                f"{model_json.name} expects {expected}; a shard is truncated or from another model"
            )
        shards.extend(zip(paths, sizes, strict=True))
    return TfjsModel(model_json, manifest, tuple(shards))


def _weight_bytes(weight: dict) -> int:
    count = int(np.prod(weight.get("shape", []), dtype=np.int64))
    quantization = weight.get("quantization")
    if quantization:
        return count * _DTYPE_BYTES[quantization["dtype"]]
    if weight["dtype"] == "string":
        raise ModelError("string weights are not supported by sitegen; remove lookup tables")
    return count * _DTYPE_BYTES[weight["dtype"]]


# ---- the TF.js-model stage: a converted model given as input is checked and copied -----------

NO_TFLITE_FROM_TFJS = (
    "the input is a TF.js model; build from the SavedModel to get a .tflite for LiteRT.js"
)


def recorded_model(model: TfjsModel) -> RecordedModel | None:
    """What sitegen recorded in a model.json it converted, or None for anyone else's."""
    recorded = model.manifest.get("userDefinedMetadata", {}).get("sitegen")
    return RecordedModel.from_json(recorded) if recorded else None


def record_metadata(model_json: Path, spec: ModelSpec, labels: dict[int, str]) -> None:
    """Keep how to run the model (and its labels) inside model.json, so the converted model can be
    rebuilt alone."""
    manifest = json.loads(model_json.read_text(encoding="utf-8"))
    metadata = manifest.setdefault("userDefinedMetadata", {})
    metadata["sitegen"] = {**metadata.get("sitegen", {}), **spec.recorded_json(labels)}
    model_json.write_text(json.dumps(manifest, separators=(",", ":")), encoding="utf-8")


def copy_model_files(folder: Path, model: TfjsModel) -> TfjsModel:
    with stage("Copying the TF.js model"):
        folder.mkdir(parents=True)
        shutil.copy2(model.model_json, folder / TFJS_MODEL_FILE)
        for path, _ in model.shards:
            shutil.copy2(path, folder / path.name)
    return read_tfjs_model(folder / TFJS_MODEL_FILE)


def spec_from_recorded(
    folder: Path, model: TfjsModel, recorded: RecordedModel, pipeline: PipelineSettings
) -> ModelSpec:
    """A model sitegen converted before: its model.json says which output is which, and how the
    page must feed and post-process it."""
    copied = copy_model_files(folder, model)
    litert, litert_missing = _recorded_litert(folder, model, recorded.litert)
    keep_recorded_nms = pipeline.nms.source == "defaults" and recorded.nms is not None
    return ModelSpec(
        litert=litert,
        litert_missing=litert_missing,
        input_name=recorded.input_name,
        input_dtype=recorded.input_dtype,
        input_size=pipeline.input_size or recorded.input_size,
        outputs=dict(recorded.outputs),
        postprocess=recorded.postprocess,
        num_classes=recorded.num_classes or pipeline.num_classes or 0,
        nms=recorded.nms if keep_recorded_nms else pipeline.nms,
        files=copied.site_files(),
        yolo=recorded.yolo,
    )


def _recorded_litert(folder: Path, model: TfjsModel, recorded: LitertSpec | None):
    """The .tflite parts a sitegen-built model.json names, copied, when all are there intact."""
    if recorded is None:
        return None, NO_TFLITE_FROM_TFJS
    parts = [(model.folder / name, size) for name, size in recorded.files]
    broken = [p.name for p, size in parts if not p.is_file() or p.stat().st_size != size]
    if broken:
        return None, f"{', '.join(broken)} beside model.json is missing or the wrong size"
    for path, _ in parts:
        shutil.copy2(path, folder / path.name)
    spec = dataclasses.replace(
        recorded, files=tuple((f"{MODEL_FOLDER}/{p.name}", size) for p, size in parts)
    )
    note(f"  LiteRT.js  = carried over: {len(parts)} .tflite parts beside {model.model_json.name}")
    return spec, ""


def tensor_dtype(tf_dtype: str) -> str:
    """A signature entry's TF dtype ("DT_FLOAT") as the page names it ("float32")."""
    return {"DT_FLOAT": "float32", "DT_INT32": "int32", "DT_UINT8": UINT8}.get(tf_dtype, tf_dtype)


def tensor_shape(value: dict) -> tuple:
    """A signature entry's ``tensorShape``, or a placeholder attr's ``shape``."""
    dims = (value.get("tensorShape") or value.get("shape") or {}).get("dim", [])
    return tuple(int(d.get("size", -1)) if int(d.get("size", -1)) >= 0 else None for d in dims)
