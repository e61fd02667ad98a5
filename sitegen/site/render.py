"""Render the site's text files. Rendering returns strings; writing is ``sitegen.site.write``."""

from __future__ import annotations

import json

import jinja2
from markupsafe import Markup

from sitegen import __version__
from sitegen.contract import PAGE_CSP, SiteConfig, headers_file
from sitegen.resources import assets_dir, runtime_dir, templates_dir
from sitegen.site import page_text


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
            **_page_text(config),
        )
    )
    return {
        "index.html": page,
        "config.json": config.dumps(),
        "_headers": headers_file(),
        # GitHub Pages runs Jekyll unless told not to, and Jekyll drops files starting with "_".
        ".nojekyll": "",
    }


def _page_text(config: SiteConfig) -> dict:
    """The description (under the title; headings from h2) and "About this model" (the model's
    facts, the model card's headings from h3). Markup only from ``page_text``, which renders the
    Markdown with raw HTML off; everything else the template escapes."""
    spec = config.model
    size = spec.input_size
    return {
        "description_text": page_text.to_plain_text(config.description),
        "description_html": Markup(page_text.to_html(config.description, top_level=2)),
        "model_card_html": Markup(page_text.to_html(config.model_card, top_level=3)),
        "about": {
            "format": "TensorFlow.js graph model"
            + (", and a .tflite for LiteRT.js" if spec.litert else ""),
            "input": f"{size[1]} × {size[0]} pixels" if size else "any size",
            "classes": len(config.labels),
            "download": _download(config),
        },
    }


def _download(config: SiteConfig) -> str:
    """The weights the page downloads, per runtime ("" when config.json does not list them)."""
    sizes = [("TF.js", config.model.files)]
    if config.model.litert:
        sizes.insert(0, ("LiteRT.js", config.model.litert.files))
    shown = [f"{_size(sum(n for _, n in files))} ({runtime})" for runtime, files in sizes if files]
    return ", or ".join(shown)


def _size(count: int) -> str:
    return f"{count / 1e6:.1f} MB" if count >= 1e6 else f"{max(1, round(count / 1e3))} kB"


def _page_modules() -> list[str]:
    """Every module of the page, so the browser fetches them at once instead of level by level
    down the import graph (app.js, then what it imports, then what those import)."""
    # The detector worker is a classic script, started by remote.js: not a module of the page.
    return sorted(
        f"js/{path.name}"
        for path in (assets_dir() / "js").glob("*.js")
        if path.name != "detector_worker.js"
    )


_RUNTIME_MODULES = {"litert": "vendor/litert/litert.js", "tfjs": "vendor/tfjs/tf.js"}


def _first_runtime(config: SiteConfig) -> str:
    """The runtime the page most likely starts with: its module is fetched alongside app.js."""
    order = config.backend_order or config.model.backends
    first = next((b for b in order if config.verified_backends.get(b) is not False), "wasm")
    return "litert" if first.startswith("litert-") else "tfjs"


def runtime_version(runtime_json: str) -> str:
    return str(json.loads(runtime_json).get("tfjs", "unknown"))
