"""Write the site folder atomically: everything goes into a staging folder beside the output,
which replaces the output only once complete.

Nothing of the user's is ever lost: a folder that holds the input model, the current folder or
one of its ancestors, the home folder, a filesystem root or a git work tree's root is never
replaced, with or without --force; another folder sitegen did not make is replaced only with
--force, and then its contents are moved aside to ``OUT.previous-N``, not deleted."""

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


def check_output(
    out: Path,
    *,
    force: bool,
    model: Path | None = None,
    option: str = "--out",
    source: str = "input model",
) -> None:
    """Refuse early (before any slow work) if ``out`` cannot or must not be replaced. ``model`` is
    what is being read (named ``source`` in messages); ``option`` how the user named ``out``."""
    if out.exists() and not out.is_dir():
        raise OutputError(f"{option} {out} is a file; pass a folder path")
    reason = _why_protected(out, model, source)
    if reason:
        raise OutputError(
            f"{option} {out} {reason}, and sitegen never replaces such a folder, not even with "
            f"--force; pass a new folder, such as {option} {_suggestion(out, model)}"
        )
    if is_foreign(out) and not force:
        raise OutputError(
            f"{option} {out} is not empty and was not made by sitegen; "
            "choose an empty or new folder, or pass --force to move its contents aside "
            "(to OUT.previous-N) and build there"
        )
    parent = _existing_parent(out.resolve().parent)
    if not parent.is_dir() or not os.access(parent, os.W_OK | os.X_OK):
        raise OutputError(f"cannot write to {parent}; choose an {option} folder you can write to")


def is_foreign(out: Path) -> bool:
    """A non-empty folder that sitegen did not build."""
    return out.is_dir() and any(out.iterdir()) and not (out / MARKER).is_file()


def _why_protected(out: Path, model: Path | None, what: str = "input model") -> str | None:
    target = out.resolve()
    if model is not None:
        source = model.resolve()
        if target == source or target in source.parents:
            return f"holds the {what} {model}"
        if source in target.parents and target.exists():
            return f"is part of the {what} {model}"
    cwd = Path.cwd().resolve()
    if target == cwd:
        return "is the current folder"
    if target == Path.home().resolve():
        return "is your home folder"
    if target in cwd.parents:
        return "holds the current folder"
    if target.parent == target:
        return "is a filesystem root"
    if (target / ".git").exists():
        return "is the root of a git work tree"
    return None


def _suggestion(out: Path, model: Path | None) -> str:
    for candidate in (Path("dist"), Path("site"), Path("sitegen-site")):
        if not candidate.exists() and _why_protected(candidate, model) is None:
            return str(candidate)
    return "a new folder outside the model"


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


def publish(staging: Path, out: Path, record: dict | None = None) -> Path | None:
    """Mark ``staging`` as sitegen's (with ``record``: how it was made) and move it into place of
    ``out``. An earlier sitegen site there is deleted; a folder of anyone else's (only with
    --force) is moved aside, and its new place is returned so the user can be told."""
    files = sorted(str(p.relative_to(staging)) for p in staging.rglob("*") if p.is_file())
    marker = {"sitegen": __version__, "files": files, **(record or {})}
    (staging / MARKER).write_text(json.dumps(marker, indent=1))
    os.chmod(staging, 0o755)
    keep = is_foreign(out)
    previous = (
        _set_aside_name(out) if keep else out.with_name(f".{out.name}.previous-{os.getpid()}")
    )
    moved = False
    try:
        if out.exists():
            out.rename(previous)
            moved = True
        staging.rename(out)
    except OSError as exc:
        if moved and previous.exists() and not out.exists():
            previous.rename(out)
        raise OutputError(f"cannot move the built site into {out} ({exc.strerror})") from None
    if moved and not keep:
        shutil.rmtree(previous, ignore_errors=True)
    return previous if moved and keep else None


def _set_aside_name(out: Path) -> Path:
    number = 1
    while out.with_name(f"{out.name}.previous-{number}").exists():
        number += 1
    return out.with_name(f"{out.name}.previous-{number}")


def read_marker(folder: Path) -> dict | None:
    """What sitegen recorded in a folder it wrote, or None for any other folder."""
    try:
        return json.loads((folder / MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def discard(staging: Path) -> None:
    shutil.rmtree(staging, ignore_errors=True)


def _existing_parent(path: Path) -> Path:
    path = path.resolve()
    while not path.exists():
        path = path.parent
    return path
