"""``sitegen publish``: one small module per host (``github_pages``, ``netlify``, ``static``) beside
``common``. Each says which files its host needs besides the built site and how its own CLI
deploys; ``sitegen.commands.publish`` writes them."""

from __future__ import annotations

from enum import Enum

from sitegen.options import Host

# Where ``sitegen publish`` puts a site: every host but sitegen's own local server.
Target = Enum(
    "Target", {host.name: host.value for host in Host if host is not Host.local}, type=str
)
