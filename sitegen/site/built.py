"""Read a site sitegen built: its config.json through the contract, with one-line errors in the
caller's own error class (publish, check and eval each have theirs)."""

from __future__ import annotations

import json
from pathlib import Path

from sitegen.contract import SiteConfig
from sitegen.errors import SitegenError


def read_site_config(
    site: Path, error: type[SitegenError], *, needs: tuple[str, ...] = ()
) -> SiteConfig:
    """``site``'s config.json; ``error`` when it is not a sitegen site or a file in ``needs`` is
    missing."""
    config_json = site / "config.json"
    missing = [name for name in ("config.json", *needs) if not (site / name).is_file()]
    if not site.is_dir() or missing:
        raise error(
            f"{site} is not a site built by sitegen (no {', '.join(missing) or 'folder'}); "
            f"build one first: sitegen build MODEL --out {site}"
        )
    try:
        return SiteConfig.from_json(json.loads(config_json.read_text(encoding="utf-8")))
    except (ValueError, KeyError, TypeError) as exc:
        raise error(
            f"{config_json} is not a config.json this sitegen reads ({exc}); rebuild the site"
        ) from None
