"""Render the site's text files. Rendering returns strings; writing is ``sitegen.site.write``."""

from __future__ import annotations

import json

import jinja2

from sitegen import __version__
from sitegen.contract import PAGE_CSP, SiteConfig, headers_file
from sitegen.resources import assets_dir, runtime_dir, templates_dir


def environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(templates_dir())),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
    )


def render_site(config: SiteConfig, *, service_worker: str | None = None) -> dict[str, str]:
    """Return {relative path: text} for every generated (not copied) file of the site.
    ``service_worker``: the site's own service worker, which the page then registers (sites
    written by ``sitegen publish``)."""
    tfjs_version = runtime_version((runtime_dir() / "runtime.json").read_text())
    page = (
        environment()
        .get_template("index.html")
        .render(
            title=config.title,
            threshold=config.threshold,
            labels=[{"id": i, "name": name} for i, name in sorted(config.labels.items())],
            sitegen_version=__version__,
            tfjs_version=tfjs_version,
            litert=config.model.litert is not None,
            preload=[*_page_modules(), _RUNTIME_MODULES[_first_runtime(config)]],
            first_runtime=_first_runtime(config),
            csp=PAGE_CSP,
            service_worker=service_worker,
        )
    )
    return {
        "index.html": page,
        "config.json": config.dumps(),
        "_headers": headers_file(),
        # GitHub Pages runs Jekyll unless told not to, and Jekyll drops files starting with "_".
        ".nojekyll": "",
    }


def _page_modules() -> list[str]:
    """Every module of the page, so the browser fetches them at once instead of level by level
    down the import graph (app.js, then what it imports, then what those import)."""
    return sorted(f"js/{path.name}" for path in (assets_dir() / "js").glob("*.js"))


_RUNTIME_MODULES = {"litert": "vendor/litert/litert.js", "tfjs": "vendor/tfjs/tf.js"}


def _first_runtime(config: SiteConfig) -> str:
    """The runtime the page most likely starts with: its module is fetched alongside app.js."""
    order = config.backend_order or config.model.backends
    first = next((b for b in order if config.verified_backends.get(b) is not False), "wasm")
    return "litert" if first.startswith("litert-") else "tfjs"


def runtime_version(runtime_json: str) -> str:
    return str(json.loads(runtime_json).get("tfjs", "unknown"))
