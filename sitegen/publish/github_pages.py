"""GitHub Pages: no custom headers, a sub-path (``/REPO/``) and Jekyll unless told otherwise. The
site gets ``.nojekyll`` and its own service worker, which makes the page cross-origin isolated
(WebAssembly threads) after one reload and keeps it for offline use; and, in a git repository, a
GitHub Actions workflow that builds the site from the model in the repository and deploys it with
the official Pages actions."""

from __future__ import annotations

import os
import shlex
import tempfile
import textwrap
from pathlib import Path

from sitegen import __version__
from sitegen.contract import SERVICE_WORKER_FILE
from sitegen.errors import PublishError

WORKFLOW_PATH = Path(".github") / "workflows" / "sitegen-pages.yml"
WORKFLOW_MARK = "# Written by sitegen publish github-pages"
DEFAULT_INSTALL = f"pip install 'sitegen[convert,verify]=={__version__}'"
BUILD_DIR, PAGES_DIR = "dist", "_site"


def files(build: str) -> dict[str, str]:
    from sitegen.publish.common import service_worker

    # Pages runs Jekyll on branch deployments, and Jekyll drops files starting with "_".
    return {SERVICE_WORKER_FILE: service_worker(build), ".nojekyll": ""}


def repository_root(start: Path) -> Path | None:
    """The git work tree holding ``start`` (a folder or a file to be), or None."""
    folder = start.resolve()
    while not folder.exists():
        folder = folder.parent
    for candidate in (folder, *folder.parents):
        if (candidate / ".git").exists():
            return candidate
    return None


def check_workflow_target(path: Path) -> Path:
    """The repository root for a workflow at ``path``; refuses a path outside a git repository
    and a file that sitegen did not write."""
    root = repository_root(path.parent)
    if root is None:
        raise PublishError(
            f"--workflow {path} is not inside a git repository; run publish in your repository "
            "(git init first) or pass --no-workflow"
        )
    if path.exists() and not _written_by_sitegen(path):
        raise PublishError(
            f"{path} exists and was not written by sitegen; pass another --workflow path, "
            "or remove that file yourself"
        )
    return root


def _written_by_sitegen(path: Path) -> bool:
    try:
        return path.read_text(encoding="utf-8").startswith(WORKFLOW_MARK)
    except (OSError, UnicodeDecodeError):
        return False


def build_command(record: dict, root: Path, model: Path | None) -> list[str]:
    """``sitegen build`` as the workflow runs it, from the repository root: the recorded model and
    options, paths made relative to the repository."""
    source = Path(model or record.get("model", ""))
    if not record and model is None:
        raise PublishError("the site records no model; pass --model PATH (inside the repository)")
    arguments = list(record.get("arguments", []))
    for flag in ("--labels", "--verify-image", "--model-card", "--description"):
        if flag in arguments:
            index = arguments.index(flag) + 1
            if flag != "--description" or _recorded_file(arguments[index]):
                arguments[index] = _inside(Path(arguments[index]), root, flag)
    return ["sitegen", "build", _inside(source, root, "the model"), "--out", BUILD_DIR, *arguments]


def _recorded_file(value: str) -> bool:
    """Whether a recorded --description names its file (the build records it absolute) rather
    than being the text itself."""
    from sitegen.site.page_text import TEXT_FILE_SUFFIXES

    return (
        "\n" not in value
        and Path(value).is_absolute()
        and value.lower().endswith(TEXT_FILE_SUFFIXES)
    )


def _inside(path: Path, root: Path, what: str) -> str:
    resolved = path.resolve()
    if resolved != root and root not in resolved.parents:
        raise PublishError(
            f"{what} {path} is outside the repository {root}, where the workflow builds; "
            "put it in the repository (or pass --model PATH inside it)"
        )
    return resolved.relative_to(root).as_posix()


def workflow_text(build: list[str], install: str) -> str:
    publish = ["sitegen", "publish", "github-pages", BUILD_DIR, "--generate-dir", PAGES_DIR,
               "--no-workflow"]  # fmt: skip
    return f"""{WORKFLOW_MARK} ({__version__}); running that command again replaces this file.
# It builds the site from the model in this repository and deploys it to GitHub Pages.
# Settings > Pages > Source must be "GitHub Actions".
name: sitegen site on GitHub Pages

on:
  push:
    branches: [main]
  workflow_dispatch:

permissions:
  contents: read
  pages: write
  id-token: write

concurrency:
  group: pages
  cancel-in-progress: false

jobs:
  build:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - uses: actions/setup-python@v5
        with:
          python-version: "3.11"
      - name: Install sitegen
        run: |
          {install}
      - name: Build the site
        run: |
          {_block(shlex.join(build))}
      - name: Add what GitHub Pages needs
        run: |
          {shlex.join(publish)}
      - uses: actions/configure-pages@v5
      - uses: actions/upload-pages-artifact@v4
        with:
          path: {PAGES_DIR}

  deploy:
    needs: build
    runs-on: ubuntu-latest
    environment:
      name: github-pages
      url: ${{{{ steps.deployment.outputs.page_url }}}}
    steps:
      - name: Deploy to GitHub Pages
        id: deployment
        uses: actions/deploy-pages@v4
"""


def _block(command: str) -> str:
    """A command in the workflow's ``run: |`` block: a quoted value's later lines (a Markdown
    --description) indented with it, so YAML keeps them in the block."""
    return textwrap.indent(command, " " * 10).lstrip()


def write_workflow(path: Path, text: str) -> None:
    """Write ``path`` atomically (a temporary file beside it, then a rename)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as file:
            file.write(text)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def deploy_command(workflow: Path) -> list[str]:
    return ["gh", "workflow", "run", workflow.name]
