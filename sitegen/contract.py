"""The contract between the Python build and the page: the one place that spells it.

``config.json`` is the seam between the two: the page reads nothing about the model that is not
written there. Its keys are camelCase because JavaScript reads them; the ``to_json``/``from_json``
methods below are the only code that spells them, as ``recorded_json``/``RecordedModel`` are for
what a converted ``model.json`` keeps about itself (``userDefinedMetadata.sitegen``). Backend
names, output roles, the HTTP headers a host must send (in ``contract_headers.py``, re-exported
here) and the shared defaults live here too.

The page's JavaScript has its own copy of the names and defaults in ``assets/js/contract.js``, and
the repository's ``netlify.toml`` its copy of the headers; ``tests/unit/test_contract.py`` fails
when either differs from this module, so change them together.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Literal

# The HTTP headers are a part of the contract of their own (sitegen/contract_headers.py), here
# under the same names.
from sitegen.contract_headers import (  # noqa: F401 (re-exported)
    CONTENT_HASHED_PATTERNS,
    HEADER_CSP,
    IMMUTABLE,
    ISOLATION_HEADERS,
    NO_CACHE,
    NO_CACHE_PATHS,
    PAGE_CSP,
    SECURITY_HEADERS,
    SERVICE_WORKER_FILE,
    SITE_HEADERS,
    WASM_CONTENT_TYPE,
    format_header_rules,
    headers_file,
    host_header_rules,
    parse_header_rules,
)

# The post-processing settings too (sitegen/contract_postprocess.py), under the same names.
from sitegen.contract_postprocess import (  # noqa: F401 (re-exported)
    YOLO_IOU_THRESHOLD,
    YOLO_MAX_DETECTIONS,
    YOLO_PAD_VALUE,
    NmsSettings,
    YoloSettings,
)

CONFIG_SCHEMA = 1
# The site's folder for the model files (TF.js model.json and shards, .tflite parts).
MODEL_FOLDER = "model"

# ---- backends ------------------------------------------------------------------------------------

# TF.js backends by their TF.js names; LiteRT.js accelerators prefixed "litert-".
Backend = Literal["litert-wasm", "litert-webgpu", "wasm", "webgl", "webgpu", "cpu"]
LITERT_BACKENDS: tuple[Backend, ...] = ("litert-wasm", "litert-webgpu")
TFJS_BACKENDS: tuple[Backend, ...] = ("wasm", "webgpu", "webgl", "cpu")
# Without measurements, LiteRT.js first: on the SSD backbones measured it is ~2.5x faster than
# TF.js WASM on a CPU. A build that verifies the backends reorders them by measured speed.
ALL_BACKENDS: tuple[Backend, ...] = (*LITERT_BACKENDS, *TFJS_BACKENDS)
# Backends that compute on the CPU. Their speed at build time says something about a user's
# device (WASM engines are alike across machines); a GPU backend's speed depends on the GPU.
CPU_BACKENDS: tuple[Backend, ...] = ("litert-wasm", "wasm", "cpu")
# What the build checks against TensorFlow in headless Chromium: the WebGPU backends need a GPU
# adapter, which headless Chromium on a server does not have.
VERIFIED_BACKENDS: tuple[Backend, ...] = ("litert-wasm", "wasm", "webgl", "cpu")
# What the build times, to order the page's candidates: the CPU backends worth running (TF.js's
# plain-JS "cpu" backend takes seconds a frame and is never the fastest).
TIMED_BACKENDS: tuple[Backend, ...] = ("litert-wasm", "wasm")

# ---- output roles --------------------------------------------------------------------------------

# The roles a detector's outputs can play. "graph" post-processing reads boxes/scores/classes/count
# computed inside the model; "raw" post-processing reads raw_boxes/raw_scores (decoded boxes and
# per-class scores with a background column, before non-maximum suppression) and does the rest in JS.
# "yolo" post-processing reads one output, predictions: an Ultralytics YOLO detection head's
# [1, 4 + C, A] (centre x, y, width, height, then C class scores, for each of A anchors).
OutputRole = Literal[
    "boxes", "scores", "classes", "count", "raw_boxes", "raw_scores", "predictions"
]
GRAPH_ROLES: tuple[OutputRole, ...] = ("boxes", "scores", "classes", "count")
RAW_ROLES: tuple[OutputRole, ...] = ("raw_boxes", "raw_scores")
YOLO_ROLES: tuple[OutputRole, ...] = ("predictions",)
Postprocess = Literal["graph", "raw", "yolo"]


def roles_for(postprocess: str) -> tuple[OutputRole, ...]:
    return {"raw": RAW_ROLES, "yolo": YOLO_ROLES}.get(postprocess, GRAPH_ROLES)


def role_key(role: str) -> str:
    """The role's key in config.json ("raw_boxes" -> "rawBoxes")."""
    head, *rest = role.split("_")
    return head + "".join(part.title() for part in rest)


def role_from_key(key: str) -> str:
    """The inverse of ``role_key`` ("rawBoxes" -> "raw_boxes")."""
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in key)


# ---- weights and tensor types --------------------------------------------------------------------

# config.json's model.litert.quantization: how the .tflite stores its weights. The page compares
# a full-integer one with the float backends more loosely (assets/js/tuning.js), as the build does.
LitertQuantization = Literal["none", "float16", "int8"]
LITERT_FLOAT32: LitertQuantization = "none"
LITERT_FLOAT16: LitertQuantization = "float16"
LITERT_FULL_INTEGER: LitertQuantization = "int8"
# Tensor types by their TensorFlow, numpy and TF.js name. A model's image input is uint8 or
# float32, and config.json's litert.input.dtype says which the .tflite takes (its model's own).
UINT8 = "uint8"
FLOAT16 = "float16"
IMAGE_DTYPES = (UINT8, "float32")

# ---- shared defaults -----------------------------------------------------------------------------

DEFAULT_THRESHOLD = 0.5
DEFAULT_MAX_DETECTIONS = 20

# ---- the page's address --------------------------------------------------------------------------

# The query parameters the page reads (assets/js/config.js readQuery), by what each one sets:
# autostart=1, backend=NAME, threshold=0..1, max=1..1000, tune=auto|all|off, worker=off.
QUERY = {
    "autostart": "autostart",
    "backend": "backend",
    "threshold": "threshold",
    "max_detections": "max",
    "tune": "tune",
    "worker": "worker",
}

# ---- config.json ---------------------------------------------------------------------------------


def _files_to_json(files: tuple[tuple[str, int], ...]) -> list[dict]:
    return [{"path": path, "bytes": size} for path, size in files]


def _files_from_json(data: list[dict]) -> tuple[tuple[str, int], ...]:
    return tuple((str(f["path"]), int(f["bytes"])) for f in data)


def _outputs_to_json(outputs: dict[str, str]) -> dict[str, str]:
    return {role_key(role): name for role, name in outputs.items()}


def _outputs_from_json(data: dict[str, str]) -> dict[str, str]:
    return {role_from_key(key): str(name) for key, name in data.items()}


def _size_from_json(size) -> tuple[int, int] | None:
    return (int(size[0]), int(size[1])) if size else None


@dataclass(frozen=True)
class LitertSpec:
    """The same raw-output cut as a ``.tflite`` for LiteRT.js, stored in parts."""

    files: tuple[tuple[str, int], ...]  # (site-relative path, bytes) of each part, in order
    input_name: str
    input_dtype: str  # "uint8" or "float32": LiteRT takes the model's own input type
    input_size: tuple[int, int]
    outputs: dict[str, str]  # role (raw_boxes, raw_scores) -> output name in the signature
    # "none" (float32), "float16" (float16-stored weights, float32 compute) or "int8" (full
    # integer: int8 weights and activations, float32 outputs; close to float TensorFlow, not
    # equal to it: docs/int8.md). The input and outputs' types are the same whichever it is.
    quantization: LitertQuantization = LITERT_FLOAT32
    # YOLO: the .tflite's own box units when they differ from the TF.js model's (the user's
    # .tflite from Ultralytics' tflite export is normalised, its SavedModel may not be).
    box_units: str | None = None

    def to_json(self) -> dict:
        return {
            "format": "tflite",
            "boxUnits": self.box_units,
            "files": _files_to_json(self.files),
            "input": {
                "name": self.input_name,
                "dtype": self.input_dtype,
                "size": list(self.input_size),
            },
            "outputs": _outputs_to_json(self.outputs),
            "quantization": self.quantization,
        }

    @classmethod
    def from_json(cls, data: dict) -> LitertSpec:
        size = _size_from_json(data["input"]["size"])
        assert size is not None, "a .tflite always has a fixed input size"
        return cls(
            files=_files_from_json(data["files"]),
            input_name=str(data["input"]["name"]),
            input_dtype=str(data["input"]["dtype"]),
            input_size=size,
            outputs=_outputs_from_json(data["outputs"]),
            quantization=str(data.get("quantization") or LITERT_FLOAT32),
            box_units=data.get("boxUnits") or None,
        )


@dataclass(frozen=True)
class ModelSpec:
    """What the page needs to run the converted graph model."""

    input_name: str  # tensor name in model.json, e.g. "input_tensor:0"
    input_dtype: str  # "int32" (uint8 inputs become int32 in TF.js) or "float32"
    input_size: tuple[int, int] | None  # (height, width) the model resizes to, when known
    outputs: dict[
        str, str
    ]  # role -> tensor name in model.json ("Identity_1:0", "detection_boxes:0")
    postprocess: Postprocess
    num_classes: int
    nms: NmsSettings = field(default_factory=NmsSettings)
    url: str = f"{MODEL_FOLDER}/model.json"
    # (site-relative path, size in bytes) of each weight shard, so the page can name a missing or
    # truncated file instead of failing inside TF.js with a shape error.
    files: tuple[tuple[str, int], ...] = ()
    # The .tflite for LiteRT.js, or None with the reason in ``litert_missing``.
    litert: LitertSpec | None = None
    litert_missing: str = ""
    # SHA-256 of the model's files (sitegen.model.content_hash): the page keys what it measured
    # about the model on a device (its fastest backend) by it.
    sha256: str = ""
    # An Ultralytics YOLO model (postprocess "yolo"): letterbox, input scale and box units.
    yolo: YoloSettings | None = None

    @property
    def backends(self) -> tuple[str, ...]:
        """The backends this model can run on: LiteRT.js only where there is a .tflite."""
        return ALL_BACKENDS if self.litert else TFJS_BACKENDS

    def to_json(self) -> dict:
        return {
            "url": self.url,
            "format": "graph-model",
            "files": _files_to_json(self.files),
            "input": {
                "name": self.input_name,
                "dtype": self.input_dtype,
                "size": list(self.input_size) if self.input_size else None,
            },
            "outputs": _outputs_to_json(self.outputs),
            "postprocess": self.postprocess,
            "numClasses": self.num_classes,
            "nms": self.nms.to_json(),
            "litert": self.litert.to_json() if self.litert else None,
            "litertMissing": self.litert_missing or None,
            "sha256": self.sha256 or None,
            "yolo": self.yolo.to_json() if self.yolo else None,
        }

    @classmethod
    def from_json(cls, data: dict) -> ModelSpec:
        return cls(
            url=str(data["url"]),
            files=_files_from_json(data.get("files", [])),
            input_name=str(data["input"]["name"]),
            input_dtype=str(data["input"]["dtype"]),
            input_size=_size_from_json(data["input"].get("size")),
            outputs=_outputs_from_json(data["outputs"]),
            postprocess=data["postprocess"],
            num_classes=int(data["numClasses"]),
            nms=NmsSettings.from_json(data["nms"]),
            litert=LitertSpec.from_json(data["litert"]) if data.get("litert") else None,
            litert_missing=data.get("litertMissing") or "",
            sha256=str(data.get("sha256") or ""),
            yolo=YoloSettings.from_json(data["yolo"]) if data.get("yolo") else None,
        )

    def recorded_json(self, labels: dict[int, str]) -> dict:
        """What a converted ``model.json`` keeps about itself (``userDefinedMetadata.sitegen``),
        so the TF.js model can be rebuilt alone: how to feed and post-process it, its labels, and
        its ``.tflite`` parts (named as they lie beside model.json)."""
        site_only = ("files", "url", "litert", "litertMissing")
        recorded = {
            "labels": _labels_to_json(labels),
            "input": self.input_name,
            "outputs": dict(self.outputs),
            "model": {k: v for k, v in self.to_json().items() if k not in site_only},
        }
        if self.litert:
            litert = self.litert.to_json()
            litert["files"] = [{**f, "path": f["path"].rsplit("/", 1)[-1]} for f in litert["files"]]
            recorded["litert"] = litert
        return recorded


@dataclass(frozen=True)
class RecordedModel:
    """``userDefinedMetadata.sitegen`` of a model.json sitegen converted (see ``recorded_json``)."""

    labels: dict[int, str]
    input_name: str
    outputs: dict[str, str]  # role -> tensor name
    input_dtype: str
    input_size: tuple[int, int] | None
    num_classes: int
    nms: NmsSettings | None
    litert: LitertSpec | None  # file paths are names beside model.json
    yolo: YoloSettings | None = None

    @property
    def postprocess(self) -> Postprocess:
        if set(self.outputs) == set(YOLO_ROLES):
            return "yolo"
        return "raw" if set(self.outputs) == set(RAW_ROLES) else "graph"

    @classmethod
    def from_json(cls, data: dict) -> RecordedModel:
        model = data.get("model", {})
        size = model.get("input", {}).get("size")
        return cls(
            labels={int(k): str(v) for k, v in data.get("labels", {}).items()},
            input_name=str(data["input"]),
            outputs=dict(data["outputs"]),
            input_dtype=str(model.get("input", {}).get("dtype", "int32")),
            input_size=_size_from_json(size),
            num_classes=int(model.get("numClasses") or 0),
            nms=NmsSettings.from_json(model["nms"]) if model.get("nms") else None,
            litert=LitertSpec.from_json(data["litert"]) if data.get("litert") else None,
            yolo=YoloSettings.from_json(model["yolo"]) if model.get("yolo") else None,
        )


def _labels_to_json(labels: dict[int, str]) -> dict[str, str]:
    return {str(k): v for k, v in sorted(labels.items())}


@dataclass(frozen=True)
class SiteConfig:
    """Everything the page is configured with, loaded once per build."""

    title: str
    threshold: float
    max_detections: int
    labels: dict[int, str]
    model: ModelSpec
    # The page's own words, as the Markdown the build was given (--description, --model-card);
    # rendered into the page by sitegen.site.page_text, at build time and again by publish.
    description: str = ""
    model_card: str = ""
    # backend -> True (agrees with TensorFlow), False (disagrees: never auto-selected), or None
    # (not verified); the page tries backends in ``backend_order`` and skips the False ones.
    verified_backends: dict[str, bool | None] = field(default_factory=dict)
    # backend -> median ms per frame measured in headless Chromium at build time (CPU backends
    # only mean something across machines: WASM engines are alike, GPUs are not).
    backend_timing: dict[str, float] = field(default_factory=dict)
    # Empty: the model's default order (``ModelSpec.backends``).
    backend_order: tuple[str, ...] = ()
    sitegen_version: str = ""

    def to_json(self) -> dict:
        return {
            "schema": CONFIG_SCHEMA,
            "generator": f"sitegen {self.sitegen_version}".strip(),
            "title": self.title,
            "description": self.description,
            "modelCard": self.model_card,
            "threshold": self.threshold,
            "maxDetections": self.max_detections,
            "labels": _labels_to_json(self.labels),
            "model": self.model.to_json(),
            "backends": {
                "order": list(self.backend_order or self.model.backends),
                "verified": dict(self.verified_backends),
                "timingMs": dict(self.backend_timing),
            },
        }

    @classmethod
    def from_json(cls, data: dict) -> SiteConfig:
        if data.get("schema") != CONFIG_SCHEMA:
            raise ValueError(f"config.json schema {data.get('schema')!r}, expected {CONFIG_SCHEMA}")
        backends = data.get("backends", {})
        generator = str(data.get("generator", ""))
        return cls(
            title=str(data["title"]),
            description=str(data.get("description") or ""),
            model_card=str(data.get("modelCard") or ""),
            threshold=float(data["threshold"]),
            max_detections=int(data["maxDetections"]),
            labels={int(k): str(v) for k, v in data["labels"].items()},
            model=ModelSpec.from_json(data["model"]),
            verified_backends=dict(backends.get("verified", {})),
            backend_timing={k: float(v) for k, v in backends.get("timingMs", {}).items()},
            backend_order=tuple(backends.get("order", ())),
            sitegen_version=generator.removeprefix("sitegen").strip(),
        )

    def dumps(self) -> str:
        return json.dumps(self.to_json(), indent=2, ensure_ascii=False) + "\n"
