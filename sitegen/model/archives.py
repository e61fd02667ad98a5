"""Unpack what users download models as: a ``.zip`` (Colab) or a ``.tar.gz`` (the TF1 model zoo),
safely: no member may land outside the target folder, and a tar may hold only plain files and
folders (no links, devices or FIFOs), so unpacking can neither write elsewhere nor point at
elsewhere."""

from __future__ import annotations

import tarfile
import zipfile
from pathlib import Path, PurePosixPath

from sitegen.errors import ModelError

TAR_SUFFIXES = (".tar.gz", ".tgz", ".tar")


def is_archive(path: Path) -> bool:
    name = path.name.lower()
    return path.is_file() and (name.endswith(".zip") or name.endswith(TAR_SUFFIXES))


def unpack(archive: Path, target: Path) -> Path:
    if archive.name.lower().endswith(".zip"):
        return extract_zip(archive, target)
    return extract_tar(archive, target)


def extract_zip(archive: Path, target: Path) -> Path:
    """Extract ``archive`` into ``target``, refusing members that would land outside it."""
    try:
        with zipfile.ZipFile(archive) as zf:
            for member in zf.infolist():
                _check_member(archive, member.filename, "zip")
            zf.extractall(target)
    except zipfile.BadZipFile as exc:
        raise ModelError(f"{archive} is not a readable zip ({exc}); download it again") from None
    return target


def extract_tar(archive: Path, target: Path) -> Path:
    """Extract a (gzipped) tar into ``target``: plain files and folders with safe paths only."""
    try:
        with tarfile.open(archive) as tf:
            members = tf.getmembers()
            for member in members:
                _check_member(archive, member.name, "archive")
                if not (member.isfile() or member.isdir()):
                    kind = "link" if member.issym() or member.islnk() else "special file"
                    raise ModelError(
                        f"{archive} contains the {kind} '{member.name}'; sitegen unpacks only "
                        "plain files and folders: re-create the archive without it"
                    )
            for member in members:
                member.mode = 0o755 if member.isdir() else 0o644
            tf.extractall(target, members=members)
    except (tarfile.TarError, EOFError, OSError) as exc:
        raise ModelError(
            f"{archive} is not a readable .tar.gz ({exc}); download it again"
        ) from None
    return target


def _check_member(archive: Path, name: str, what: str) -> None:
    path = PurePosixPath(name.replace("\\", "/"))
    if path.is_absolute() or ".." in path.parts or (path.parts and ":" in path.parts[0]):
        raise ModelError(
            f"{archive} contains the unsafe path '{name}' (absolute or with '..'); "
            f"re-create the {what} with relative paths inside one folder"
        )
