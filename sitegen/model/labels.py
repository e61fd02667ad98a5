"""Read class labels: TF Object Detection API ``labelmap.pbtxt``, a plain ``labels.txt``, or JSON."""

from __future__ import annotations

import json
import re
from pathlib import Path

from sitegen.errors import LabelError

LABEL_FILE_NAMES = ("labelmap.pbtxt", "label_map.pbtxt", "labels.txt", "labels.json")

_ITEM = re.compile(r"\bitem\s*\{(?P<body>[^{}]*)\}", re.S)
_FIELD = re.compile(r"(?P<key>\w+)\s*:\s*(?P<value>\"(?:[^\"\\]|\\.)*\"|'(?:[^'\\]|\\.)*'|[-\w.]+)")


def read_labels(path: Path) -> dict[int, str]:
    """Return {class id: display name}; ids are 1-based as the OD API numbers them."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise LabelError(
            f"cannot read label file {path} ({exc}); pass a readable UTF-8 file"
        ) from None
    if path.suffix == ".json":
        labels = _parse_json(path, text)
    elif path.suffix == ".pbtxt" or ("item" in text and "{" in text):
        labels = _parse_pbtxt(path, text)
    else:
        labels = {i + 1: line.strip() for i, line in enumerate(_lines(text))}
    if not labels:
        raise LabelError(f"{path} contains no labels; add one class name per item or line")
    return labels


def check_labels_fit(labels: dict[int, str], num_classes: int | None, path: Path | None) -> None:
    if num_classes is None:
        return
    beyond = sorted(i for i in labels if i > num_classes)
    if beyond:
        raise LabelError(
            f"{path or 'labels'} has ids {beyond} but the model has {num_classes} classes "
            f"(ids 1..{num_classes}); use the label map the model was trained with"
        )


def labels_with_fallback(labels: dict[int, str], num_classes: int) -> dict[int, str]:
    return {i: labels.get(i, f"class {i}") for i in range(1, num_classes + 1)} | labels


def _lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.strip() and not line.startswith("#")]


def _parse_pbtxt(path: Path, text: str) -> dict[int, str]:
    text = re.sub(r"#[^\n]*", "", text)
    labels: dict[int, str] = {}
    items = list(_ITEM.finditer(text))
    leftover = _ITEM.sub("", text).strip()
    if leftover or not items:
        raise LabelError(
            f"{path} is not a valid label map (expected items like "
            "item {{ id: 1 name: 'kangaroo' }}); fix the syntax near: "
            f"{(leftover or text.strip())[:40]!r}"
        )
    for item in items:
        fields = {m["key"]: _unquote(m["value"]) for m in _FIELD.finditer(item["body"])}
        name = fields.get("display_name") or fields.get("name")
        try:
            class_id = int(fields["id"])
        except (KeyError, ValueError):
            raise LabelError(
                f"{path}: an item has no integer id ({item[0].strip()[:60]!r})"
            ) from None
        if class_id < 1 or not name:
            raise LabelError(f"{path}: item id {class_id} needs an id >= 1 and a name")
        if class_id in labels:
            raise LabelError(f"{path}: id {class_id} appears twice; give each class its own id")
        labels[class_id] = name
    return labels


def _unquote(value: str) -> str:
    if value[:1] in "\"'":
        return (
            bytes(value[1:-1], "utf-8").decode("unicode_escape").encode("latin-1").decode("utf-8")
        )
    return value


def _parse_json(path: Path, text: str) -> dict[int, str]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise LabelError(f"{path} is not valid JSON ({exc.msg} at line {exc.lineno})") from None
    try:
        if isinstance(data, list) and all(isinstance(x, str) for x in data):
            return {i + 1: name for i, name in enumerate(data)}
        if isinstance(data, list):
            return {int(x["id"]): str(x.get("display_name") or x["name"]) for x in data}
        if isinstance(data, dict):
            return {int(k): str(v) for k, v in data.items()}
    except (KeyError, TypeError, ValueError):
        pass
    raise LabelError(
        f'{path} must be a list of names, a list of {{id, name}} or an object {{"1": "name"}}'
    )


def choose_labels(
    explicit: Path | None, found: Path | None, recorded: dict[int, str]
) -> tuple[dict[int, str], Path | None, str]:
    """The labels a build uses: ``--labels``, else the file found with the model, else those a
    sitegen-converted model.json recorded. Returns them, their file, and where they came from."""
    path = explicit or found
    if path is not None:
        labels = read_labels(path)
        return labels, path, f"{path} ({len(labels)} classes)"
    if recorded:
        return recorded, None, f"recorded in model.json ({len(recorded)} classes)"
    return {}, None, "none found; classes are shown as 'class N' (pass --labels FILE)"
