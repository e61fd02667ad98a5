"""Write the site folder atomically: everything goes into a staging folder beside the output,
which replaces the output only once complete. A folder sitegen did not make is never replaced
unless the user passes --force."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path

from sitegen import __version__
from sitegen.errors import OutputError
from sitegen.resources import assets_dir, litert_runtime_dir, runtime_dir

MARKER = ".sitegen-site.json"


def check_output(out: Path, *, force: bool) -> None:
    """Refuse early (before any slow work) if ``out`` cannot or must not be replaced."""
    if out.exists() and not out.is_dir():
        raise OutputError(f"--out {out} is a file; pass a folder path")
    if out.is_dir() and any(out.iterdir()) and not (out / MARKER).is_file() and not force:
        raise OutputError(
            f"--out {out} is not empty and was not made by sitegen; "
            "choose an empty or new folder, or pass --force to replace it"
        )
    parent = _existing_parent(out.resolve().parent)
    if not parent.is_dir() or not os.access(parent, os.W_OK | os.X_OK):
        raise OutputError(f"cannot write to {parent}; choose an --out folder you can write to")


def staging_folder(out: Path) -> Path:
    """A new empty folder on the same filesystem as ``out`` (so the final move is a rename)."""
    parent = out.resolve().parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
        return Path(tempfile.mkdtemp(prefix=f".{out.name}.staging-", dir=parent))
    except OSError as exc:
        raise OutputError(
            f"cannot create a folder in {parent} ({exc.strerror}); check --out"
        ) from None


def write_text_files(folder: Path, files: dict[str, str]) -> None:
    for relative, text in files.items():
        path = folder / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


def copy_static(staging: Path, *, litert: bool) -> None:
    """The page's modules and styles, and the runtimes it loads."""
    assets = assets_dir()
    for name in ("js", "css"):
        if (assets / name).is_dir():
            shutil.copytree(assets / name, staging / name)
    shutil.copytree(runtime_dir(), staging / "vendor" / "tfjs")
    if litert:  # its WASM builds are ~9 MB each: only sites that can use them carry them
        shutil.copytree(litert_runtime_dir(), staging / "vendor" / "litert")


def publish(staging: Path, out: Path) -> None:
    """Mark ``staging`` as sitegen's and move it into place of ``out``."""
    files = sorted(str(p.relative_to(staging)) for p in staging.rglob("*") if p.is_file())
    (staging / MARKER).write_text(json.dumps({"sitegen": __version__, "files": files}, indent=1))
    os.chmod(staging, 0o755)
    previous = None
    try:
        if out.exists():
            previous = out.with_name(f".{out.name}.previous-{os.getpid()}")
            out.rename(previous)
        staging.rename(out)
    except OSError as exc:
        if previous is not None and previous.exists() and not out.exists():
            previous.rename(out)
        raise OutputError(f"cannot move the built site into {out} ({exc.strerror})") from None
    if previous is not None:
        shutil.rmtree(previous, ignore_errors=True)


def discard(staging: Path) -> None:
    shutil.rmtree(staging, ignore_errors=True)


def _existing_parent(path: Path) -> Path:
    path = path.resolve()
    while not path.exists():
        path = path.parent
    return path
