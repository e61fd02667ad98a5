"""Where the files that ship with sitegen live: inside the wheel, or at the top of a source checkout."""

from __future__ import annotations

from pathlib import Path

from sitegen.errors import MissingDependencyError

_PACKAGE = Path(__file__).resolve().parent
_CHECKOUT = _PACKAGE.parent


def _find(relative: str) -> Path:
    for base in (_PACKAGE / "_data", _CHECKOUT):
        candidate = base / relative
        if candidate.exists():
            return candidate
    raise MissingDependencyError(
        f"sitegen's '{relative}' folder is missing; reinstall sitegen (or run 'make setup' in a checkout)"
    )


def templates_dir() -> Path:
    return _find("templates")


def assets_dir() -> Path:
    return _find("assets")


def default_model_dir() -> Path:
    return _find("models/default")


def verify_image() -> Path:
    """The image the build's verification shows the page: a 640x480 scene with two signs."""
    return _find("assets/verify-scene.jpg")


def runtime_dir() -> Path:
    """The pinned TF.js runtime built from npm packages by ``tools/build_runtime.mjs``."""
    return _built_runtime("assets/vendor/tfjs", "TF.js", "npm run build:runtime")


def litert_runtime_dir() -> Path:
    """The pinned LiteRT.js runtime built from npm packages by ``tools/build_litert.mjs``."""
    return _built_runtime("assets/vendor/litert", "LiteRT.js", "npm run build:litert")


def _built_runtime(relative: str, name: str, command: str) -> Path:
    try:
        path = _find(relative)
    except MissingDependencyError:
        path = None
    if path is None or not (path / "runtime.json").is_file():
        raise MissingDependencyError(
            f"the {name} runtime is not built; run 'make setup' (npm ci && {command})"
        )
    return path
