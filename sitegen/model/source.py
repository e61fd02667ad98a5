"""Find the model inside whatever the user pointed at: a SavedModel folder, an OD API export
folder, a TF1 frozen graph (``frozen_inference_graph.pb``, or a folder holding one), a ``.zip`` or
``.tar.gz`` of any of these, or a converted TF.js ``model.json``; and its companions (label map,
``pipeline.config``). This is the one place that looks for them: ``build`` and ``inspect`` both
take what ``locate`` found.

Archives are unpacked, and frozen graphs made into a SavedModel, below the build's scratch
folder; a ``ModelSource`` remembers what the user gave, so messages name the archive and its
member or the ``.pb`` file, never a temporary path."""

from __future__ import annotations

import contextlib
import dataclasses
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from sitegen.errors import ModelError, SitegenError
from sitegen.model.archives import is_archive, unpack
from sitegen.model.labels import LABEL_FILE_NAMES
from sitegen.model.tfjs import TFJS_MODEL_FILE

SAVED_MODEL_FILE = "saved_model.pb"
FROZEN_GRAPH_FILE = "frozen_inference_graph.pb"
PIPELINE_CONFIG_FILE = "pipeline.config"
_SEARCH_DEPTH = 3

# An Ultralytics export's metadata (names, imgsz, task) beside its model: found here with the
# other companions, read by model/families/yolo.py.
METADATA_FILE = "metadata.yaml"


@dataclass(frozen=True)
class ModelSource:
    kind: Literal["saved_model", "tfjs"]
    path: Path  # the SavedModel folder, or the model.json file
    export_dir: Path  # where labelmap.pbtxt / pipeline.config of an export would be
    description: str  # what the user gave, for messages
    labels: Path | None = None  # the label file found with the model, if any
    pipeline_config: Path | None = None  # the OD API pipeline.config found with it, if any
    archive: Path | None = None  # the .zip / .tar.gz the model came in ...
    unpacked: Path | None = None  # ... and the scratch folder it was unpacked into
    frozen_graph: Path | None = None  # the .pb the SavedModel at ``path`` was made from
    # An Ultralytics export's metadata.yaml (task, imgsz, class names), when there is one.
    metadata: Path | None = None
    # The .tflite the user gave (Ultralytics writes them inside its SavedModel folder): used for
    # LiteRT.js as it is, instead of one converted from the SavedModel.
    tflite: Path | None = None

    @property
    def model_dir(self) -> Path:
        """The SavedModel folder, or the folder holding model.json."""
        return self.path if self.path.is_dir() else self.path.parent

    @property
    def what(self) -> str:
        if self.frozen_graph is not None:
            return "frozen graph"
        return "TF.js model" if self.kind == "tfjs" else "SavedModel"

    def shown(self, path: Path) -> str:
        """``path`` as the user knows it: the .pb for a converted frozen graph, archive:member
        for what was unpacked."""
        if self.frozen_graph is not None and (path == self.path or self.path in path.parents):
            path = self.frozen_graph
        if self.unpacked is not None and (path == self.unpacked or self.unpacked in path.parents):
            member = path.relative_to(self.unpacked).as_posix()
            return f"{self.archive}:{member}" if member != "." else str(self.archive)
        return str(path)

    def in_user_terms(self, text: str) -> str:
        """``text`` with every scratch path replaced as ``shown`` does."""
        if self.frozen_graph is not None:
            text = text.replace(str(self.path), self.shown(self.path))
        if self.unpacked is not None:
            text = text.replace(f"{self.unpacked}/", f"{self.archive}:")
            text = text.replace(str(self.unpacked), str(self.archive))
        return text


@contextlib.contextmanager
def errors_in_user_terms(source: ModelSource) -> Iterator[None]:
    """Re-raise a SitegenError whose message names a scratch path with the user's path instead."""
    try:
        yield
    except SitegenError as error:
        text = source.in_user_terms(str(error))
        if text == str(error):
            raise
        raise type(error)(text) from None


def locate(model: Path, workdir: Path) -> ModelSource:
    """Resolve ``model`` to a ModelSource with its companions. Archives are unpacked and frozen
    graphs made into SavedModels below ``workdir``; companions beside an archive count too."""
    if not model.exists():
        raise ModelError(
            f"{model} does not exist; pass a SavedModel folder, a .zip or a model.json"
        )
    if is_archive(model):
        folder = unpack(model, Path(tempfile.mkdtemp(prefix="unpacked-", dir=workdir)))
        found = _locate_in_folder(folder, str(model))
        found = dataclasses.replace(found, archive=model, unpacked=folder)
        return _ready(_with_companions(found, model.parent), workdir)
    if model.is_file() and model.name == TFJS_MODEL_FILE:
        return _with_companions(ModelSource("tfjs", model, model.parent, str(model)))
    if model.is_file() and model.name == SAVED_MODEL_FILE:
        saved_dir = model.parent
        return _with_companions(
            ModelSource("saved_model", saved_dir, _export_dir(saved_dir), str(model))
        )
    if model.is_file() and model.suffix.lower() == ".tflite":
        return _with_companions(_tflite_source(model))
    if model.is_file() and model.suffix.lower() == ".pb":
        frozen = ModelSource("saved_model", model, model.parent, str(model), frozen_graph=model)
        return _ready(_with_companions(frozen), workdir)
    if model.is_file():
        raise ModelError(
            f"{model} is not a model; pass a SavedModel folder, a frozen graph (.pb), "
            "a .zip or .tar.gz of either, a TF.js model.json, or a YOLO .tflite in its "
            "SavedModel folder"
        )
    return _ready(_with_companions(_locate_in_folder(model, description=str(model))), workdir)


def _ready(source: ModelSource, workdir: Path) -> ModelSource:
    """A frozen graph becomes a SavedModel in ``workdir``; everything else is ready as it is."""
    if source.frozen_graph is None:
        return source
    from sitegen.model.frozen_graph import frozen_graph_to_saved_model

    target = Path(tempfile.mkdtemp(prefix="frozen-", dir=workdir)) / "saved_model"
    with errors_in_user_terms(source):
        frozen_graph_to_saved_model(source.frozen_graph, target, source.shown(source.path))
    return dataclasses.replace(source, path=target)


def _tflite_source(model: Path) -> ModelSource:
    """A .tflite is taken with the SavedModel it was exported beside (Ultralytics writes both into
    ``<name>_saved_model/``): the SavedModel gives the TF.js model and the reference it is
    verified against, the .tflite runs in LiteRT.js as it is."""
    if not (model.parent / SAVED_MODEL_FILE).is_file():
        raise ModelError(
            f"{model} has no SavedModel beside it (no {SAVED_MODEL_FILE} in {model.parent}); "
            "sitegen builds a .tflite together with the SavedModel it was exported with "
            "(Ultralytics writes both into <name>_saved_model/): keep them together"
        )
    saved_dir = model.parent
    return ModelSource("saved_model", saved_dir, _export_dir(saved_dir), str(model), tflite=model)


def _with_companions(source: ModelSource, *more: Path) -> ModelSource:
    """The label map and pipeline.config: beside the export (where the OD API writes them), in
    the model's own folder (where users often copy them), then beside an archive; an
    Ultralytics metadata.yaml in the model's own folder (where Ultralytics writes it), then
    beside it."""
    folders = (source.export_dir, source.model_dir, *more)
    labels = _first_file(folders, LABEL_FILE_NAMES)
    pipeline = _first_file(folders, (PIPELINE_CONFIG_FILE,))
    metadata = _first_file((source.model_dir, source.export_dir), (METADATA_FILE,))
    return dataclasses.replace(source, labels=labels, pipeline_config=pipeline, metadata=metadata)


def _first_file(folders: tuple[Path, ...], names: tuple[str, ...]) -> Path | None:
    for folder in folders:
        for name in names:
            if (folder / name).is_file():
                return folder / name
    return None


def _locate_in_folder(folder: Path, description: str) -> ModelSource:
    """A SavedModel first (TF1 zoo archives hold one beside their frozen graph), then a frozen
    graph, then a TF.js model."""
    saved = _find_files(folder, SAVED_MODEL_FILE)
    if len(saved) > 1:
        found = ", ".join(str(p.parent.relative_to(folder)) for p in saved)
        raise ModelError(f"{description} holds several SavedModels ({found}); pass one of them")
    if saved:
        saved_dir = saved[0].parent
        return ModelSource("saved_model", saved_dir, _export_dir(saved_dir), description)
    frozen = _find_files(folder, FROZEN_GRAPH_FILE)
    if len(frozen) == 1:
        pb = frozen[0]
        return ModelSource("saved_model", pb, pb.parent, description, frozen_graph=pb)
    tfjs = _find_files(folder, TFJS_MODEL_FILE)
    if len(tfjs) == 1:
        return ModelSource("tfjs", tfjs[0], tfjs[0].parent, description)
    raise ModelError(
        f"{description} contains no SavedModel (no {SAVED_MODEL_FILE}), no frozen graph "
        f"({FROZEN_GRAPH_FILE}) and no TF.js {TFJS_MODEL_FILE}; pass the exported model folder "
        "(the one with saved_model/ inside)"
    )


def _find_files(folder: Path, name: str) -> list[Path]:
    found = []
    for depth in range(_SEARCH_DEPTH + 1):
        found.extend(p for p in folder.glob("/".join(["*"] * depth + [name])) if p.is_file())
    return sorted(p for p in found if "__MACOSX" not in p.parts)


def _export_dir(saved_model_dir: Path) -> Path:
    # The OD API writes labelmap/pipeline.config beside saved_model/, users often put them inside.
    return saved_model_dir.parent if saved_model_dir.name == "saved_model" else saved_model_dir
