"""``sitegen build``: model in → understood → converted → site rendered → written."""

from __future__ import annotations

import dataclasses
import json
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from sitegen import __version__
from sitegen.config import GRAPH_ROLES, RAW_ROLES, LitertSpec, ModelSpec, NmsSettings, SiteConfig
from sitegen.errors import ModelError
from sitegen.model import labels as label_files
from sitegen.model.locate import ModelSource, locate
from sitegen.model.pipeline_config import PipelineSettings, read_pipeline_config
from sitegen.model.tfjs import read_tfjs_model
from sitegen.progress import note, stage
from sitegen.resources import assets_dir, litert_runtime_dir, runtime_dir
from sitegen.site import write
from sitegen.site.render import render_site, runtime_version

MODEL_FOLDER = "model"


@dataclass(frozen=True)
class BuildOptions:
    model: Path
    out: Path
    labels: Path | None = None
    title: str | None = None
    threshold: float = 0.5
    max_detections: int = 20
    quantize: str = "none"
    shard_bytes: int = 4 * 1024 * 1024
    postprocess: str = "auto"  # "auto" | "raw" | "graph"
    force: bool = False
    verify: bool = False  # run the page per backend in headless Chromium against TensorFlow
    verify_image: Path | None = None


@dataclass(frozen=True)
class BuildResult:
    out: Path
    config: SiteConfig
    model_bytes: int
    files: int


def build(options: BuildOptions) -> BuildResult:
    write.check_output(options.out, force=options.force)
    runtime = runtime_dir()
    litert_runtime_dir()  # fail before a long conversion, not after it
    with tempfile.TemporaryDirectory(prefix="sitegen-") as workdir:
        source = locate(options.model, Path(workdir))
        pipeline = read_pipeline_config(_pipeline_path(source))
        staging = write.staging_folder(options.out)
        try:
            spec = _model_into(staging / MODEL_FOLDER, source, pipeline, options)
            config = _site_config(options, source, spec, pipeline)
            _record_spec(staging / MODEL_FOLDER / "model.json", config)
            with stage("Rendering the page"):
                files = render_site(config, runtime_version((runtime / "runtime.json").read_text()))
                write.write_text_files(staging, files)
                _copy_static(staging, runtime, litert=spec.litert is not None)
            if options.verify:
                config = _verify(staging, source, config, options, Path(workdir))
            count = sum(1 for p in staging.rglob("*") if p.is_file())
            model_bytes = sum(size for _, size in spec.files)
            write.publish(staging, options.out)
        except BaseException:
            write.discard(staging)
            raise
    return BuildResult(options.out, config, model_bytes, count)


def _verify(
    staging: Path, source: ModelSource, config: SiteConfig, options: BuildOptions, workdir: Path
) -> SiteConfig:
    from sitegen import verify

    if source.kind != "saved_model":
        note("Backend verification skipped: a TF.js model input has no TensorFlow reference")
        return config
    browser = verify.find_browser()
    if browser is None:
        note("Backend verification skipped: no Chromium found (apt-get install chromium)")
        return config
    image = options.verify_image or verify.sample_image(workdir)
    backends = tuple(b for b in verify.BACKENDS if b in config.model.backends)
    with stage("Verifying each backend in headless Chromium against TensorFlow"):
        results = verify.verify_site(staging, source.path, image, browser, backends)
    for result in results:
        verdict = {True: "agrees", False: "DISAGREES (never auto-selected)", None: "skipped"}
        note(f"  {result.backend:<11} {verdict[result.agrees]}: {result.detail}")
    order = verify.backend_order(results, config.model.backends)
    note(f"  page order  {', '.join(order)}")
    config = dataclasses.replace(
        config,
        verified_backends={r.backend: r.agrees for r in results},
        backend_timing={r.backend: round(r.median_ms, 1) for r in results if r.median_ms},
        backend_order=order,
    )
    runtime_json = (runtime_dir() / "runtime.json").read_text()
    write.write_text_files(staging, render_site(config, runtime_version(runtime_json)))
    _record_spec(staging / MODEL_FOLDER / "model.json", config)
    return config


def _pipeline_path(source: ModelSource) -> Path | None:
    for folder in (source.export_dir, source.path if source.path.is_dir() else source.path.parent):
        if (folder / "pipeline.config").is_file():
            return folder / "pipeline.config"
    return None


def _model_into(
    folder: Path, source: ModelSource, pipeline: PipelineSettings, options: BuildOptions
) -> ModelSpec:
    if source.kind == "tfjs":
        return _copy_tfjs(folder, source, pipeline, options)
    return _convert_saved_model(folder, source, pipeline, options)


def _convert_saved_model(
    folder: Path, source: ModelSource, pipeline: PipelineSettings, options: BuildOptions
) -> ModelSpec:
    from sitegen.model import convert, signature

    with stage(f"Loading the SavedModel {source.path}"):
        convert.import_converter()
        info = signature.load_signature(source.path)
    mode = choose_postprocess(options.postprocess, info.has_raw_outputs, info.has_graph_outputs)
    roles = RAW_ROLES if mode == "raw" else GRAPH_ROLES
    for role in roles:
        note(f"  {role:<10} = {info.roles[role].key} ({info.roles[role].reason})")
    with stage(f"Converting to TF.js ({mode} outputs, quantization {options.quantize})"):
        converted = convert.convert(
            info, roles, folder, quantize=options.quantize, shard_bytes=options.shard_bytes
        )
    model = read_tfjs_model(folder / "model.json")
    num_classes = info.num_classes_from_raw or pipeline.num_classes or 0
    input_size = pipeline.input_size or _fixed_size(info.input.shape)
    litert = _convert_litert(folder, info, mode, input_size, options)
    return ModelSpec(
        input_name=converted.input_name,
        input_dtype="int32" if info.input.dtype == "uint8" else "float32",
        input_size=input_size,
        outputs=converted.outputs,
        postprocess=mode,
        num_classes=num_classes,
        nms=pipeline.nms,
        files=_files(model),
        litert=litert.spec,
        litert_missing=litert.reason if litert.spec is None else "",
    )


def _convert_litert(folder: Path, info, mode: str, input_size, options: BuildOptions):
    from sitegen.model import litert

    reason = litert.why_not(mode, input_size)
    if reason is not None:
        note(f"  LiteRT.js  = not carried: {reason}")
        return litert.LitertOutcome(None, reason)
    with stage("Converting the same cut to .tflite for LiteRT.js"):
        outcome = litert.convert_tflite(
            info,
            input_size,
            folder,
            quantize=options.quantize,
            part_bytes=options.shard_bytes,
            prefix=MODEL_FOLDER,
        )
    carried = "carried" if outcome.spec else "not carried"
    note(f"  LiteRT.js  = {carried}: {outcome.reason}")
    return outcome


def _copy_tfjs(
    folder: Path, source: ModelSource, pipeline: PipelineSettings, options: BuildOptions
) -> ModelSpec:
    from sitegen.model.signature import TensorInfo, map_roles

    with stage(f"Checking the TF.js model {source.path}"):
        model = read_tfjs_model(source.path)
    recorded = model.manifest.get("userDefinedMetadata", {}).get("sitegen")
    if recorded:
        return _spec_from_recorded(folder, model, recorded, pipeline)
    signature = model.manifest.get("signature", {})
    outputs = {
        key: TensorInfo(key, _dtype(value.get("dtype", "")), _shape(value))
        for key, value in signature.get("outputs", {}).items()
    }
    roles = map_roles(outputs)
    has_raw = all(r in roles for r in RAW_ROLES)
    has_graph = all(r in roles for r in GRAPH_ROLES)
    if not (has_raw or has_graph):
        listed = ", ".join(sorted(outputs)) or "none named"
        raise ModelError(
            f"cannot tell which outputs of {source.path} are boxes, scores, classes and count "
            f"(outputs: {listed}); build from the SavedModel instead so sitegen can read its signature"
        )
    mode = choose_postprocess(options.postprocess, has_raw, has_graph)
    chosen = RAW_ROLES if mode == "raw" else GRAPH_ROLES
    names = {role: signature["outputs"][roles[role].key]["name"].split(":")[0] for role in chosen}
    inputs = signature.get("inputs", {})
    input_name, input_info = next(iter(inputs.items()), ("input_tensor", {}))
    _copy_model_files(folder, model)
    raw_scores = outputs.get(roles["raw_scores"].key) if "raw_scores" in roles else None
    num_classes = (raw_scores.shape[-1] - 1) if raw_scores and raw_scores.shape[-1] else 0
    return ModelSpec(
        litert_missing=_NO_TFLITE_FROM_TFJS,
        input_name=input_info.get("name", input_name).split(":")[0],
        input_dtype="float32" if "FLOAT" in input_info.get("dtype", "") else "int32",
        input_size=pipeline.input_size or _fixed_size(_shape(input_info)),
        outputs=names,
        postprocess=mode,
        num_classes=num_classes or pipeline.num_classes or 0,
        nms=pipeline.nms,
        files=_files(read_tfjs_model(folder / "model.json")),
    )


_NO_TFLITE_FROM_TFJS = (
    "the input is a TF.js model; build from the SavedModel to get a .tflite for LiteRT.js"
)


def _copy_model_files(folder: Path, model) -> None:
    with stage("Copying the TF.js model"):
        folder.mkdir(parents=True)
        shutil.copy2(model.model_json, folder / "model.json")
        for path, _ in model.shards:
            shutil.copy2(path, folder / path.name)


def _spec_from_recorded(folder: Path, model, recorded: dict, pipeline: PipelineSettings):
    """A model sitegen converted before: its model.json says which output is which, and how the
    page must feed and post-process it."""
    _copy_model_files(folder, model)
    litert, litert_missing = _recorded_litert(folder, model, recorded.get("litert"))
    spec = recorded.get("model", {})
    size = spec.get("input", {}).get("size")
    nms = spec.get("nms")
    outputs = dict(recorded["outputs"])
    return ModelSpec(
        litert=litert,
        litert_missing=litert_missing,
        input_name=recorded["input"],
        input_dtype=spec.get("input", {}).get("dtype", "int32"),
        input_size=pipeline.input_size or (tuple(size) if size else None),
        outputs=outputs,
        postprocess="raw" if set(outputs) == set(RAW_ROLES) else "graph",
        num_classes=spec.get("numClasses") or pipeline.num_classes or 0,
        nms=pipeline.nms
        if pipeline.nms.source != "defaults" or not nms
        else NmsSettings.from_json(nms),
        files=_files(read_tfjs_model(folder / "model.json")),
    )


def _recorded_litert(folder: Path, model, recorded: dict | None):
    """The .tflite parts a sitegen-built model.json names, copied, when all are there intact."""
    if not recorded:
        return None, _NO_TFLITE_FROM_TFJS
    parts = [(model.folder / f["path"], int(f["bytes"])) for f in recorded["files"]]
    broken = [p.name for p, size in parts if not p.is_file() or p.stat().st_size != size]
    if broken:
        return None, f"{', '.join(broken)} beside model.json is missing or the wrong size"
    for path, _ in parts:
        shutil.copy2(path, folder / path.name)
    size = recorded["input"]["size"]
    spec = LitertSpec(
        files=tuple((f"{MODEL_FOLDER}/{p.name}", size) for p, size in parts),
        input_name=recorded["input"]["name"],
        input_dtype=recorded["input"]["dtype"],
        input_size=(int(size[0]), int(size[1])),
        outputs={
            "raw_boxes": recorded["outputs"]["rawBoxes"],
            "raw_scores": recorded["outputs"]["rawScores"],
        },
    )
    note(f"  LiteRT.js  = carried over: {len(parts)} .tflite parts beside {model.model_json.name}")
    return spec, ""


def _record_spec(model_json: Path, config: SiteConfig) -> None:
    """Keep how to run the model (and its labels) inside model.json, so the converted model can be
    rebuilt alone."""
    spec = config.model
    manifest = json.loads(model_json.read_text(encoding="utf-8"))
    recorded = manifest.setdefault("userDefinedMetadata", {}).setdefault("sitegen", {})
    recorded["labels"] = {str(k): v for k, v in sorted(config.labels.items())}
    recorded["input"] = spec.input_name
    recorded["outputs"] = dict(spec.outputs)
    site_only = ("files", "url", "litert", "litertMissing")
    recorded["model"] = {k: v for k, v in spec.to_json().items() if k not in site_only}
    if spec.litert:  # the .tflite parts beside model.json, so a rebuild from it keeps LiteRT.js
        litert = spec.litert.to_json()
        litert["files"] = [{**f, "path": Path(f["path"]).name} for f in litert["files"]]
        recorded["litert"] = litert
    model_json.write_text(json.dumps(manifest, separators=(",", ":")), encoding="utf-8")


def choose_postprocess(requested: str, has_raw: bool, has_graph: bool) -> str:
    if requested == "raw" and not has_raw:
        raise ModelError(
            "--postprocess raw needs raw_detection_boxes and raw_detection_scores outputs, "
            "which this model lacks; use --postprocess graph"
        )
    if requested == "graph" and not has_graph:
        raise ModelError("--postprocess graph needs detection_boxes/scores/classes/num_detections")
    if requested in ("raw", "graph"):
        return requested
    # Raw outputs let the page skip the in-graph NMS: faster, and correct on the WASM backend.
    return "raw" if has_raw else "graph"


def _site_config(
    options: BuildOptions, source: ModelSource, spec: ModelSpec, pipeline: PipelineSettings
) -> SiteConfig:
    label_path = options.labels or label_files.find_label_file(
        source.export_dir, source.path if source.path.is_dir() else source.path.parent
    )
    labels: dict[int, str] = {}
    if label_path is not None:
        labels = label_files.read_labels(label_path)
        note(f"  labels     = {label_path} ({len(labels)} classes)")
    elif _recorded_labels(source):
        labels = _recorded_labels(source)
        note(f"  labels     = recorded in {source.path.name} ({len(labels)} classes)")
    else:
        note("  labels     = none found; classes are shown as 'class N' (pass --labels FILE)")
    num_classes = spec.num_classes or (max(labels) if labels else 0)
    label_files.check_labels_fit(labels, spec.num_classes or None, label_path)
    if not spec.num_classes:
        spec = dataclasses.replace(spec, num_classes=num_classes)
    title = options.title or _default_title(labels)
    return SiteConfig(
        title=title,
        threshold=options.threshold,
        max_detections=options.max_detections,
        labels=label_files.labels_with_fallback(labels, num_classes),
        model=spec,
        sitegen_version=__version__,
    )


def _recorded_labels(source: ModelSource) -> dict[int, str]:
    if source.kind != "tfjs":
        return {}
    manifest = read_tfjs_model(source.path).manifest
    recorded = manifest.get("userDefinedMetadata", {}).get("sitegen", {}).get("labels", {})
    return {int(k): str(v) for k, v in recorded.items()}


def _default_title(labels: dict[int, str]) -> str:
    names = list(labels.values())[:3]
    return f"{', '.join(names).capitalize()} detector" if names else "Object detector"


def _copy_static(staging: Path, runtime: Path, *, litert: bool) -> None:
    assets = assets_dir()
    for name in ("js", "css"):
        if (assets / name).is_dir():
            shutil.copytree(assets / name, staging / name)
    shutil.copytree(runtime, staging / "vendor" / "tfjs")
    if litert:  # its WASM builds are ~9 MB each: only sites that can use them carry them
        shutil.copytree(litert_runtime_dir(), staging / "vendor" / "litert")


def _files(model) -> tuple[tuple[str, int], ...]:
    return tuple((f"{MODEL_FOLDER}/{path.name}", size) for path, size in model.shards)


def _fixed_size(shape: tuple) -> tuple[int, int] | None:
    if len(shape) == 4 and shape[1] and shape[2] and shape[1] > 0 and shape[2] > 0:
        return (int(shape[1]), int(shape[2]))
    return None


def _dtype(tf_dtype: str) -> str:
    return {"DT_FLOAT": "float32", "DT_INT32": "int32", "DT_UINT8": "uint8"}.get(tf_dtype, tf_dtype)


def _shape(value: dict) -> tuple:
    dims = value.get("tensorShape", {}).get("dim", [])
    return tuple(int(d.get("size", -1)) if int(d.get("size", -1)) >= 0 else None for d in dims)
