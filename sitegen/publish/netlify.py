"""Netlify: ``_headers`` and a ``netlify.toml`` that send the site's headers (cross-origin isolation,
so WebAssembly runs with threads at once; the CSP with frame-ancestors; caching), and the site's
service worker for offline use. ``--deploy`` runs Netlify's own CLI."""

from __future__ import annotations

from pathlib import Path

from sitegen.contract import SERVICE_WORKER_FILE, format_header_rules, host_header_rules


def files(build: str) -> dict[str, str]:
    from sitegen.publish.common import service_worker

    rules = host_header_rules()
    return {
        SERVICE_WORKER_FILE: service_worker(build),
        "_headers": format_header_rules(rules),
        "netlify.toml": netlify_toml(rules),
    }


def netlify_toml(rules: list[tuple[str, dict[str, str]]]) -> str:
    """The same rules as ``_headers`` (Netlify reads both), with this folder as the publish dir."""
    lines = [
        "# Written by sitegen publish netlify: deploy this folder as it is (netlify deploy --dir .).",
        "[build]",
        '  publish = "."',
    ]
    for pattern, headers in rules:
        lines += ["", "[[headers]]", f"  for = {_toml(pattern)}", "  [headers.values]"]
        lines += [f"    {name} = {_toml(value)}" for name, value in headers.items()]
    return "\n".join(lines) + "\n"


def _toml(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def deploy_command(folder: Path) -> list[str]:
    return ["netlify", "deploy", "--prod", "--dir", str(folder)]
