"""``sitegen publish TARGET SITE_DIR --generate-dir DIR``: a deployable copy of a built site with what
its host needs, and optionally the deploy itself. Everything is checked before anything is
written; SITE_DIR is never modified."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sitegen.errors import PublishError
from sitegen.progress import note
from sitegen.publish import Target, common, github_pages, netlify, static


@dataclass(frozen=True)
class PublishOptions:
    target: Target
    site: Path
    generate_dir: Path
    workflow: Path | None = None  # github-pages: None = the default path in the current repo
    write_workflow: bool = True
    model: Path | None = None  # the workflow's model, instead of the one the site was built from
    install: str = github_pages.DEFAULT_INSTALL
    deploy: bool = False
    force: bool = False


@dataclass(frozen=True)
class PublishResult:
    generate_dir: Path
    build_id: str
    workflow: Path | None
    set_aside: Path | None


def publish(options: PublishOptions) -> PublishResult:
    site = common.read_built_site(options.site)
    common.check_generate_dir(site, options.generate_dir, force=options.force)
    workflow = _planned_workflow(site, options)
    deploy = _deploy_command(options, workflow[0] if workflow else None) if options.deploy else None
    if deploy is not None:
        common.check_host_cli(*deploy)
    build = common.build_id(site.path)
    files = {
        Target.github_pages: github_pages.files,
        Target.netlify: netlify.files,
        Target.static: static.files,
    }[options.target](build)
    set_aside = common.write_generated(site, options.generate_dir, files, force=options.force)
    if workflow is not None:
        github_pages.write_workflow(*workflow)
        note(f"  workflow   = {workflow[0]}")
    if deploy is not None:
        common.run_host_cli(deploy[0])
    return PublishResult(options.generate_dir, build, workflow[0] if workflow else None, set_aside)


def _planned_workflow(site, options: PublishOptions) -> tuple[Path, str] | None:
    """The workflow file and its text, checked, or None when none is to be written."""
    if options.target is not Target.github_pages or not options.write_workflow:
        return None
    path = options.workflow
    if path is None:
        root = github_pages.repository_root(Path.cwd())
        if root is None:
            note("  workflow   = none: not in a git repository (pass --workflow PATH in one)")
            return None
        path = root / github_pages.WORKFLOW_PATH
    root = github_pages.check_workflow_target(path)
    command = github_pages.build_command(site.build, root, options.model)
    return path, github_pages.workflow_text(command, options.install)


def _deploy_command(options: PublishOptions, workflow: Path | None) -> tuple[list[str], str]:
    """The host CLI's deploy command, and what to do instead when that CLI is missing."""
    if options.target is Target.static:
        raise PublishError(f"--deploy: {static.NO_DEPLOY}")
    if options.target is Target.netlify:
        command = netlify.deploy_command(options.generate_dir)
        return command, f"install it (npm install -g netlify-cli) or run: {' '.join(command)}"
    if workflow is None:
        raise PublishError(
            "--deploy for github-pages runs the workflow, and none is written; "
            "run publish inside your git repository"
        )
    command = github_pages.deploy_command(workflow)
    return command, f"commit and push {workflow.name}, then run: {' '.join(command)} (or push)"
