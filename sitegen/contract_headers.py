"""The HTTP headers every host must send with a sitegen site (cross-origin isolation, security,
the page's Content-Security-Policy, caching), and the ``_headers`` file format that carries them.

Part of the contract: ``sitegen.contract`` re-exports every name here, and
``tests/unit/test_contract.py`` checks the repository's ``netlify.toml`` and what ``sitegen serve``
sends against it.
"""

from __future__ import annotations

# Cross-origin isolation lets WebAssembly use threads (SharedArrayBuffer).
ISOLATION_HEADERS = {
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Embedder-Policy": "require-corp",
}
# Sent with every file of the site by hosts that can send headers.
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Permissions-Policy": "camera=(self)",
}
SITE_HEADERS = {**ISOLATION_HEADERS, **SECURITY_HEADERS}
WASM_CONTENT_TYPE = "application/wasm"
# The page's Content-Security-Policy (its <meta> tag): only the site's own files, no eval.
# 'wasm-unsafe-eval' lets the runtimes compile their WebAssembly; blob: is where the threaded
# runtimes' worker scripts and uploaded images and videos come from.
PAGE_CSP = (
    "default-src 'self'; script-src 'self' 'wasm-unsafe-eval' blob:; worker-src 'self' blob:; "
    "connect-src 'self'; img-src 'self' data: blob:; media-src 'self' data: blob:; "
    "style-src 'self'; font-src 'self'; object-src 'none'; base-uri 'self'; form-action 'none'"
)
# As a header (hosts that send headers), with what a <meta> tag cannot set.
HEADER_CSP = f"{PAGE_CSP}; frame-ancestors 'self'"
# The site's own service worker (sites written by `sitegen publish`), at the site's root so its
# scope is the whole site.
SERVICE_WORKER_FILE = "sw.js"

# What must never be served stale beside a new build, and what is named by its content (esbuild's
# chunk names): Cache-Control for hosts that read the published site's _headers.
NO_CACHE = "no-cache"
IMMUTABLE = "public, max-age=31536000, immutable"
NO_CACHE_PATHS = ("/", "/index.html", "/config.json", f"/{SERVICE_WORKER_FILE}")
CONTENT_HASHED_PATTERNS = ("/vendor/tfjs/chunk-*",)


def host_header_rules() -> list[tuple[str, dict[str, str]]]:
    """The headers a published site asks its host for, as (path pattern, headers) rules: the
    site's headers with the CSP's frame-ancestors, the WebAssembly type, and caching."""
    rules = [
        ("/*", {**SITE_HEADERS, "Content-Security-Policy": HEADER_CSP}),
        ("/*.wasm", {"Content-Type": WASM_CONTENT_TYPE}),
    ]
    rules += [(path, {"Cache-Control": NO_CACHE}) for path in NO_CACHE_PATHS]
    rules += [(pattern, {"Cache-Control": IMMUTABLE}) for pattern in CONTENT_HASHED_PATTERNS]
    return rules


def headers_file() -> str:
    """The built site's ``_headers`` (read by Netlify and Cloudflare Pages)."""
    return format_header_rules(
        [("/*", SITE_HEADERS), ("/*.wasm", {"Content-Type": WASM_CONTENT_TYPE})]
    )


def format_header_rules(rules: list[tuple[str, dict[str, str]]]) -> str:
    """Rules in the ``_headers`` file format (a path pattern, then indented ``Name: value``)."""
    lines = []
    for pattern, headers in rules:
        lines += [pattern, *(f"  {name}: {value}" for name, value in headers.items())]
    return "\n".join(lines) + "\n"


def parse_header_rules(text: str) -> list[tuple[str, dict[str, str]]]:
    """The inverse of ``format_header_rules`` (comments and blank lines skipped)."""
    rules: list[tuple[str, dict[str, str]]] = []
    for line in text.splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        if not line[0].isspace():
            rules.append((line.strip(), {}))
        elif rules and ":" in line:
            name, value = line.strip().split(":", 1)
            rules[-1][1][name.strip()] = value.strip()
    return rules
