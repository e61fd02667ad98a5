"""Understand a SavedModel's serving signature: which input takes the image and which output is
boxes, scores, classes, count and the raw (pre-NMS) tensors. Roles come from the signature's
output *names* and are checked against dtype and shape; never from an output's position.

Needs TensorFlow; the CLI imports this module only for commands that convert.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sitegen.contract import GRAPH_ROLES, IMAGE_DTYPES, RAW_ROLES, UINT8
from sitegen.errors import ModelError

# role -> (exact names, substring that identifies it, substrings that rule it out, rank, last dim)
_ROLE_RULES: dict[str, tuple[tuple[str, ...], str, tuple[str, ...], int, int | None]] = {
    "raw_boxes": (("raw_detection_boxes",), "raw_detection_box", (), 3, 4),
    "raw_scores": (("raw_detection_scores",), "raw_detection_score", (), 3, None),
    "boxes": (("detection_boxes",), "box", ("raw", "anchor"), 3, 4),
    "scores": (("detection_scores",), "score", ("raw", "multiclass"), 2, None),
    "classes": (("detection_classes",), "class", ("raw", "multiclass"), 2, None),
    "count": (("num_detections",), "num_detection", ("raw",), 1, None),
}


@dataclass(frozen=True)
class TensorInfo:
    key: str  # name in the signature
    dtype: str
    shape: tuple[int | None, ...]  # () when the rank is unknown too (see rank_known)
    rank_known: bool = True


@dataclass(frozen=True)
class RoleMatch:
    key: str
    reason: str


@dataclass
class SignatureInfo:
    signature_key: str
    input: TensorInfo
    outputs: dict[str, TensorInfo]
    roles: dict[str, RoleMatch]
    function: Any = field(repr=False)  # the loaded ConcreteFunction
    loaded: Any = field(repr=False)  # keeps the SavedModel's variables alive

    @property
    def has_raw_outputs(self) -> bool:
        return all(role in self.roles for role in RAW_ROLES)

    @property
    def has_graph_outputs(self) -> bool:
        return all(role in self.roles for role in GRAPH_ROLES)

    @property
    def num_classes_from_raw(self) -> int | None:
        if "raw_scores" not in self.roles:
            return None
        shape = self.outputs[self.roles["raw_scores"].key].shape
        return shape[-1] - 1 if shape and shape[-1] else None


def load_signature(
    saved_model_dir: Path, signature_key: str | None = None, *, detection_outputs: bool = True
) -> SignatureInfo:
    """The serving signature; with ``detection_outputs``, an error unless it has the OD API's
    outputs (a YOLO export is told apart by its caller first)."""
    _check_saved_model_proto(saved_model_dir)
    import tensorflow as tf

    try:
        loaded = tf.saved_model.load(str(saved_model_dir))
    except Exception as exc:  # TensorFlow raises many types for broken models
        first_line = (
            str(exc).strip().splitlines()[0][:200] if str(exc).strip() else type(exc).__name__
        )
        raise ModelError(
            f"TensorFlow cannot load {saved_model_dir} ({first_line}); re-export the model"
        ) from None
    signatures = dict(loaded.signatures)
    if not signatures:
        raise ModelError(f"{saved_model_dir} has no serving signature; export it with one")
    key = signature_key or ("serving_default" if "serving_default" in signatures else None)
    if key is None and len(signatures) == 1:
        key = next(iter(signatures))
    if key not in signatures:
        raise ModelError(
            f"{saved_model_dir} has no signature {key or 'serving_default'!r} "
            f"(it has {', '.join(sorted(signatures))}); pass --signature NAME"
        )
    function = signatures[key]
    inputs = {
        name: _info(name, spec) for name, spec in function.structured_input_signature[1].items()
    }
    outputs = {name: _info(name, spec) for name, spec in function.structured_outputs.items()}
    image_input = _image_input(saved_model_dir, inputs)
    roles = map_roles(outputs)
    info = SignatureInfo(key, image_input, outputs, roles, function, loaded)
    if detection_outputs:
        check_detection_outputs(info, saved_model_dir)
    return info


def check_detection_outputs(info: SignatureInfo, saved_model_dir: Path) -> None:
    """An error naming the outputs, unless the OD API's outputs are there."""
    if info.has_raw_outputs or info.has_graph_outputs:
        return
    listed = ", ".join(f"{k} {v.dtype}{list(v.shape)}" for k, v in sorted(info.outputs.items()))
    raise ModelError(
        f"{saved_model_dir} has no recognisable detection outputs (it has: {listed}); export it "
        "with the TF Object Detection API exporter (detection_boxes, detection_scores, "
        "detection_classes, num_detections), or pass an Ultralytics YOLO detection export with "
        "its metadata.yaml"
    )


def map_roles(outputs: dict[str, TensorInfo]) -> dict[str, RoleMatch]:
    """Assign each detection role to at most one signature output, by name, checked by shape."""
    roles: dict[str, RoleMatch] = {}
    taken: set[str] = set()
    for role, (exact, part, excluded, rank, last_dim) in _ROLE_RULES.items():
        candidates = [k for k in outputs if k.split(":")[0] in exact and k not in taken]
        reason = "signature name"
        unknown = [k for k in candidates if _unknown_shape_fits(outputs[k])]
        if len(candidates) == 1 and unknown:
            # Frozen-graph exports often lose static shapes; the exact name decides, and the
            # shape is checked by running the model once (establish_shapes).
            roles[role] = RoleMatch(unknown[0], f"{reason}; shape unknown until the model runs")
            taken.add(unknown[0])
            continue
        if not candidates:
            candidates = [
                k
                for k in sorted(outputs)
                if part in k.lower()
                and not any(x in k.lower() for x in excluded)
                and k not in taken
            ]
            reason = f"signature name contains '{part}'"
        candidates = [k for k in candidates if _shape_fits(outputs[k], rank, last_dim)]
        if len(candidates) == 1:
            key = candidates[0]
            shape = list(outputs[key].shape)
            roles[role] = RoleMatch(key, f"{reason}; {outputs[key].dtype} {shape} fits")
            taken.add(key)
    return roles


def fixed_size(shape: tuple) -> tuple[int, int] | None:
    """(height, width) of an image input [1, H, W, 3] whose size is fixed, else None."""
    if len(shape) == 4 and shape[1] and shape[2] and shape[1] > 0 and shape[2] > 0:
        return (int(shape[1]), int(shape[2]))
    return None


def _unknown_shape_fits(info: TensorInfo) -> bool:
    return info.dtype.startswith("float") and not info.rank_known


# role -> the shape each output must have for one image (None: any size; "classes+1": raw scores).
_EXPECTED_RANK = {role: rule[3] for role, rule in _ROLE_RULES.items()}


def establish_shapes(info: SignatureInfo, roles: tuple[str, ...], image) -> SignatureInfo:
    """Run the model once on ``image`` (HxWx3 uint8) when an output chosen for ``roles`` has no
    static shape, and check what it returns; the outputs then carry the shapes seen."""
    keys = {role: info.roles[role].key for role in roles}
    if all(info.outputs[key].rank_known for key in keys.values()):
        return info
    import tensorflow as tf

    pixels = tf.constant(image[None], tf.uint8 if info.input.dtype == UINT8 else tf.float32)
    returned = info.function(**{info.input.key: pixels})
    outputs = dict(info.outputs)
    for role, key in keys.items():
        shape = tuple(returned[key].shape.as_list())
        _check_returned(role, key, shape)
        outputs[key] = TensorInfo(key, returned[key].dtype.name, shape)
    return dataclasses.replace(info, outputs=outputs)


def _check_returned(role: str, key: str, shape: tuple[int, ...]) -> None:
    last = _ROLE_RULES[role][4]
    rank = _EXPECTED_RANK[role]
    fits = len(shape) == rank and shape[0] == 1 and (last is None or shape[-1] == last)
    if not fits:
        wanted = {1: "[1]", 2: "[1, N]", 3: "[1, N, 4]" if last == 4 else "[1, N, classes + 1]"}
        raise ModelError(
            f"output {key} returned shape {list(shape)} for a sample image, but as the model's "
            f"{role} it must be {wanted[rank]}; export the model with the OD API exporter"
        )


def _shape_fits(info: TensorInfo, rank: int, last_dim: int | None) -> bool:
    if not info.dtype.startswith("float"):
        return False
    if len(info.shape) != rank:
        return False
    return last_dim is None or info.shape[-1] in (None, last_dim)


def _info(name: str, spec: Any) -> TensorInfo:
    if spec.shape.rank is None:
        return TensorInfo(name, spec.dtype.name, (), rank_known=False)
    return TensorInfo(name, spec.dtype.name, tuple(spec.shape.as_list()))


def _image_input(saved_model_dir: Path, inputs: dict[str, TensorInfo]) -> TensorInfo:
    images = [
        t
        for t in inputs.values()
        if len(t.shape) == 4 and t.shape[-1] == 3 and t.dtype in IMAGE_DTYPES
    ]
    if len(inputs) != 1 or len(images) != 1:
        listed = ", ".join(f"{t.key} {t.dtype}{list(t.shape)}" for t in inputs.values())
        raise ModelError(
            f"{saved_model_dir} must take one image input [1,H,W,3] uint8 or float32 "
            f"(it takes: {listed}); export it with an image input"
        )
    return images[0]


def _check_saved_model_proto(saved_model_dir: Path) -> None:
    """Fail with a clear message on a truncated or corrupt saved_model.pb before TF loads it."""
    from google.protobuf.message import DecodeError
    from tensorflow.core.protobuf import saved_model_pb2

    pb = saved_model_dir / "saved_model.pb"
    proto = saved_model_pb2.SavedModel()
    try:
        proto.ParseFromString(pb.read_bytes())
    except (DecodeError, OSError, RuntimeWarning) as exc:
        raise ModelError(
            f"{pb} is corrupt or truncated ({exc}); copy or download the model again"
        ) from None
    if not proto.meta_graphs:
        raise ModelError(f"{pb} holds no graph (empty or truncated); copy the model again")
