"""``sitegen publish``: one small module per host (``github_pages``, ``netlify``, ``static``) beside
``common``. Each says which files its host needs besides the built site and how its own CLI
deploys; ``sitegen.commands.publish`` writes them."""

from __future__ import annotations

from enum import Enum


class Target(str, Enum):
    """Where the site goes."""

    github_pages = "github-pages"
    netlify = "netlify"
    static = "static"
