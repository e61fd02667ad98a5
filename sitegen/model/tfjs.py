"""Read and check a TF.js graph model (``model.json`` + weight shards) without TensorFlow."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from sitegen.errors import ModelError

_DTYPE_BYTES = {"float32": 4, "int32": 4, "bool": 1, "float16": 2, "uint8": 1, "uint16": 2}


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
