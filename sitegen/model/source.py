"""Find the model inside whatever the user pointed at: a SavedModel folder, an OD API export
folder, a ``.zip`` of either (what a Colab download gives), or a converted TF.js ``model.json``;
and its companions (label map, ``pipeline.config``). This is the one place that looks for them:
``build`` and ``inspect`` both take what ``locate`` found."""

from __future__ import annotations

import dataclasses
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Literal

from sitegen.errors import ModelError
from sitegen.model.labels import LABEL_FILE_NAMES

SAVED_MODEL_FILE = "saved_model.pb"
TFJS_MODEL_FILE = "model.json"
_SEARCH_DEPTH = 3


PIPELINE_CONFIG_FILE = "pipeline.config"


@dataclass(frozen=True)
class ModelSource:
    kind: Literal["saved_model", "tfjs"]
    path: Path  # the SavedModel folder, or the model.json file
    export_dir: Path  # where labelmap.pbtxt / pipeline.config of an export would be
    description: str  # what the user gave, for messages
    labels: Path | None = None  # the label file found with the model, if any
    pipeline_config: Path | None = None  # the OD API pipeline.config found with it, if any

    @property
    def model_dir(self) -> Path:
        """The SavedModel folder, or the folder holding model.json."""
        return self.path if self.path.is_dir() else self.path.parent


def locate(model: Path, workdir: Path) -> ModelSource:
    """Resolve ``model`` to a ModelSource with its companions; zips are extracted safely below
    ``workdir``, and companions beside the zip count too."""
    if not model.exists():
        raise ModelError(
            f"{model} does not exist; pass a SavedModel folder, a .zip or a model.json"
        )
    if model.is_file() and model.suffix.lower() == ".zip":
        extracted = extract_zip(model, Path(tempfile.mkdtemp(prefix="zip-", dir=workdir)))
        return _with_companions(_locate_in_folder(extracted, str(model)), model.parent)
    if model.is_file() and model.name == TFJS_MODEL_FILE:
        return _with_companions(ModelSource("tfjs", model, model.parent, str(model)))
    if model.is_file() and model.name == SAVED_MODEL_FILE:
        saved_dir = model.parent
        return _with_companions(
            ModelSource("saved_model", saved_dir, _export_dir(saved_dir), str(model))
        )
    if model.is_file():
        raise ModelError(
            f"{model} is not a model; pass a SavedModel folder, its .zip, or a TF.js model.json"
        )
    return _with_companions(_locate_in_folder(model, description=str(model)))


def _with_companions(source: ModelSource, *more: Path) -> ModelSource:
    """The label map and pipeline.config: beside the export (where the OD API writes them), in
    the model's own folder (where users often copy them), then beside an archive."""
    folders = (source.export_dir, source.model_dir, *more)
    labels = _first_file(folders, LABEL_FILE_NAMES)
    pipeline = _first_file(folders, (PIPELINE_CONFIG_FILE,))
    return dataclasses.replace(source, labels=labels, pipeline_config=pipeline)


def _first_file(folders: tuple[Path, ...], names: tuple[str, ...]) -> Path | None:
    for folder in folders:
        for name in names:
            if (folder / name).is_file():
                return folder / name
    return None


def _locate_in_folder(folder: Path, description: str) -> ModelSource:
    saved = _find_files(folder, SAVED_MODEL_FILE)
    if len(saved) > 1:
        found = ", ".join(str(p.parent.relative_to(folder)) for p in saved)
        raise ModelError(f"{description} holds several SavedModels ({found}); pass one of them")
    if saved:
        saved_dir = saved[0].parent
        return ModelSource("saved_model", saved_dir, _export_dir(saved_dir), description)
    tfjs = _find_files(folder, TFJS_MODEL_FILE)
    if len(tfjs) == 1:
        return ModelSource("tfjs", tfjs[0], tfjs[0].parent, description)
    raise ModelError(
        f"{description} contains no SavedModel (no {SAVED_MODEL_FILE}) and no TF.js {TFJS_MODEL_FILE};"
        " pass the exported model folder (the one with saved_model/ inside)"
    )


def _find_files(folder: Path, name: str) -> list[Path]:
    found = []
    for depth in range(_SEARCH_DEPTH + 1):
        found.extend(p for p in folder.glob("/".join(["*"] * depth + [name])) if p.is_file())
    return sorted(p for p in found if "__MACOSX" not in p.parts)


def _export_dir(saved_model_dir: Path) -> Path:
    # The OD API writes labelmap/pipeline.config beside saved_model/, users often put them inside.
    return saved_model_dir.parent if saved_model_dir.name == "saved_model" else saved_model_dir


def extract_zip(archive: Path, target: Path) -> Path:
    """Extract ``archive`` into ``target``, refusing members that would land outside it."""
    try:
        with zipfile.ZipFile(archive) as zf:
            for member in zf.infolist():
                _check_member(archive, member.filename)
            zf.extractall(target)
    except zipfile.BadZipFile as exc:
        raise ModelError(f"{archive} is not a readable zip ({exc}); download it again") from None
    return target


def _check_member(archive: Path, name: str) -> None:
    path = PurePosixPath(name.replace("\\", "/"))
    if path.is_absolute() or ".." in path.parts or (path.parts and ":" in path.parts[0]):
        raise ModelError(
            f"{archive} contains the unsafe path '{name}' (absolute or with '..'); "
            "re-create the zip with relative paths inside one folder"
        )
