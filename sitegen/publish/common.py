"""What every publish target shares: read a built site, give the build an id from its content,
render the site's service worker, and write the deployable copy into ``--generate-dir``
atomically, with the build's no-clobber rules (the built site itself is never modified)."""

from __future__ import annotations

import hashlib
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from sitegen.contract import ISOLATION_HEADERS, SERVICE_WORKER_FILE, SiteConfig
from sitegen.errors import PublishError
from sitegen.progress import note, stage
from sitegen.site import write
from sitegen.site.built import read_site_config
from sitegen.site.render import environment, render_site


@dataclass(frozen=True)
class BuiltSite:
    path: Path
    config: SiteConfig
    record: dict  # what the build recorded (.sitegen-site.json): files, how it was built

    @property
    def build(self) -> dict:
        return self.record.get("build", {})


def read_built_site(site: Path) -> BuiltSite:
    marker = write.read_marker(site) if site.is_dir() else None
    config = read_site_config(site, PublishError, needs=(write.MARKER,))
    return BuiltSite(site, config, marker or {})


def build_id(site: Path) -> str:
    """A short hash of every file of the built site: a new model or config is a new id."""
    digest = hashlib.sha256()
    for path in sorted(p for p in site.rglob("*") if p.is_file() and p.name != write.MARKER):
        digest.update(str(path.relative_to(site)).encode() + b"\0")
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()[:16]


def service_worker(build: str) -> str:
    return (
        environment()
        .get_template(SERVICE_WORKER_FILE)
        .render(build_id=build, isolation_headers=ISOLATION_HEADERS)
    )


def write_generated(
    site: BuiltSite, out: Path, files: dict[str, str], *, force: bool
) -> Path | None:
    """Copy ``site`` into ``out`` (atomically) with ``files`` added or replaced and the page told
    about its service worker. Returns where a foreign ``out`` was moved aside, if it was."""
    staging = write.staging_folder(out)
    try:
        with stage(f"Writing the deployable copy into {out}"):
            shutil.copytree(site.path, staging, dirs_exist_ok=True)
            (staging / write.MARKER).unlink(missing_ok=True)
            page = render_site(site.config, service_worker=SERVICE_WORKER_FILE)["index.html"]
            write.write_text_files(staging, {"index.html": page, **files})
            return write.publish(staging, out, {"published_from": str(site.path.resolve())})
    except BaseException:
        write.discard(staging)
        raise


def check_generate_dir(site: BuiltSite, out: Path, *, force: bool) -> None:
    """``--generate-dir`` may not be the built site, inside it or hold it (or any folder the
    build's rules protect)."""
    if out.resolve() == site.path.resolve() or site.path.resolve() in out.resolve().parents:
        raise PublishError(
            f"--generate-dir {out} is inside the built site {site.path}, which publish never "
            "changes; pass a folder beside it, such as --generate-dir _site"
        )
    write.check_output(
        out, force=force, model=site.path, option="--generate-dir", source="built site"
    )


def check_host_cli(command: list[str], missing: str) -> None:
    """Stop, before anything is written, with one line saying what to install or run instead."""
    if shutil.which(command[0]) is None:
        raise PublishError(
            f"--deploy needs the {command[0]} CLI, which is not installed; {missing}"
        )


def run_host_cli(command: list[str]) -> None:
    """Run a host's own CLI (the deploy)."""
    note(f"Running: {' '.join(command)}")
    done = subprocess.run(command, check=False)
    if done.returncode != 0:
        raise PublishError(f"{' '.join(command)} failed (exit code {done.returncode}); see above")
