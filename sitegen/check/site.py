"""The site to check: a folder sitegen built (or published), its config.json read and its model
present, so the page cannot fail for a reason a file check finds first."""

from __future__ import annotations

import json
from pathlib import Path

from sitegen.check import CheckError
from sitegen.contract import SiteConfig


def read_site(site: Path) -> SiteConfig:
    config_json = site / "config.json"
    if not site.is_dir() or not config_json.is_file() or not (site / "index.html").is_file():
        raise CheckError(
            f"{site} is not a site built by sitegen (no index.html and config.json); "
            f"build one first: sitegen build MODEL --out {site}"
        )
    try:
        config = SiteConfig.from_json(json.loads(config_json.read_text(encoding="utf-8")))
    except (ValueError, KeyError, TypeError) as exc:
        raise CheckError(
            f"{config_json} is not a config.json this sitegen reads ({exc}); rebuild the site"
        ) from None
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
