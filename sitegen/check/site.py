"""The site to check: a folder sitegen built (or published), its config.json read and its model
present, so the page cannot fail for a reason a file check finds first."""

from __future__ import annotations

from pathlib import Path

from sitegen.check import CheckError
from sitegen.contract import SiteConfig
from sitegen.site.built import read_site_config


def read_site(site: Path) -> SiteConfig:
    config = read_site_config(site, CheckError, needs=("index.html",))
    needed = [config.model.url, *(path for path, _ in config.model.files)]
    missing = [path for path in needed if not (site / path).is_file()]
    if missing:
        raise CheckError(
            f"{site} has no model: {missing[0]} is missing; rebuild it with sitegen build MODEL"
        )
    return config


def site_backends(config: SiteConfig) -> tuple[str, ...]:
    """The backends the page may run, in its order (config.json ``backends.order``)."""
    return config.backend_order or config.model.backends


def check_backend(config: SiteConfig, backend: str | None) -> None:
    carried = site_backends(config)
    if backend is not None and backend not in carried:
        raise CheckError(
            f"--backend {backend}: this site does not carry it; pass one of {', '.join(carried)}"
        )
