"""Any static host: the site's service worker (offline use everywhere; cross-origin isolation where
the host sends no headers) and ``_headers`` for hosts that read that file (Netlify, Cloudflare
Pages)."""

from __future__ import annotations

from sitegen.contract import SERVICE_WORKER_FILE, format_header_rules, host_header_rules

NO_DEPLOY = "a static host has no deploy command here: upload the --generate-dir folder to it"


def files(build: str) -> dict[str, str]:
    from sitegen.publish.common import service_worker

    return {
        SERVICE_WORKER_FILE: service_worker(build),
        "_headers": format_header_rules(host_header_rules()),
    }
