"""The staged site's files that depend on its config, and ``--quantize int8``'s float twin of it."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from sitegen.contract import LITERT_FLOAT32, LITERT_FULL_INTEGER, MODEL_FOLDER, SiteConfig
from sitegen.model.tfjs import TFJS_MODEL_FILE, record_metadata
from sitegen.site import write
from sitegen.site.render import render_site


def write_generated(staging: Path, config: SiteConfig) -> None:
    """The files that depend on the config: the page, config.json, and model.json's record."""
    write.write_text_files(staging, render_site(config))
    record_metadata(staging / MODEL_FOLDER / TFJS_MODEL_FILE, config.model, config.labels)


def float_twin(staging: Path, config: SiteConfig, twin: Path) -> Path | None:
    """The int8 site's float twin: the staged site with the float32 .tflite of the same cut (which
    the conversion wrote into ``twin``) in place of the int8 one, or None without one. Made once,
    in the build's scratch folder; never shipped."""
    parts = sorted(
        (twin / MODEL_FOLDER).glob("model.tflite.part*"), key=lambda p: int(p.suffix[5:])
    )
    litert = config.model.litert
    if litert is None or litert.quantization != LITERT_FULL_INTEGER or not parts:
        return None
    if not (twin / "config.json").is_file():
        import shutil

        def int8_parts(folder: str, names: list[str]) -> list[str]:
            if Path(folder) != staging / MODEL_FOLDER:
                return []
            return [name for name in names if name.startswith("model.tflite.part")]

        shutil.copytree(staging, twin, dirs_exist_ok=True, ignore=int8_parts)
        files = tuple((f"{MODEL_FOLDER}/{p.name}", p.stat().st_size) for p in parts)
        float_litert = dataclasses.replace(litert, files=files, quantization=LITERT_FLOAT32)
        model = dataclasses.replace(config.model, litert=float_litert)
        write.write_text_files(twin, render_site(dataclasses.replace(config, model=model)))
    return twin
