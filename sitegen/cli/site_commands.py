"""``sitegen serve`` and ``sitegen publish``: a built site out."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from sitegen.cli.app import app
from sitegen.options import Host
from sitegen.publish import Target


@app.command()
def serve(
    directory: Annotated[Path, typer.Argument(help="A built site folder")] = Path("dist"),
    port: Annotated[int, typer.Option(min=0, max=65535, help="Port (0 picks a free one)")] = 8000,
    host: Annotated[
        str | None,
        typer.Option(help="Address to listen on [default: 127.0.0.1]", show_default=False),
    ] = None,
    lan: Annotated[
        bool,
        typer.Option(
            "--lan", help="Listen on this machine's LAN address and print the URL as a QR code"
        ),
    ] = False,
    https: Annotated[
        bool,
        typer.Option(
            "--https", help="Serve over TLS with a self-signed certificate made for this run"
        ),
    ] = False,
    isolate: Annotated[
        bool, typer.Option(help="Send COOP/COEP headers so WASM can use threads")
    ] = True,
    as_host: Annotated[
        Host,
        typer.Option(
            "--as",
            help="Serve as a host would: github-pages (under /repo/, no custom headers), "
            "netlify (the site's _headers), static (no custom headers)",
        ),
    ] = Host.local,
    base_path: Annotated[
        str | None, typer.Option(help="URL path to serve under, e.g. /my-repo/ (Pages: /repo/)")
    ] = None,
) -> None:
    """Serve a built site locally with the right MIME types and cross-origin isolation; --lan
    --https to open it on a phone."""
    from sitegen.commands.serve import ServeOptions, serve_forever

    if lan and host is not None:
        raise typer.BadParameter(
            "--lan finds the address itself; pass either --lan or --host", param_hint="--host"
        )
    serve_forever(
        ServeOptions(
            directory,
            host=host,
            port=port,
            isolate=isolate,
            as_host=as_host,
            base_path=base_path,
            lan=lan,
            https=https,
        )
    )


@app.command()
def publish(
    target: Annotated[Target, typer.Argument(help="Where the site goes", show_default=False)],
    site: Annotated[Path, typer.Argument(help="A site built by sitegen build")] = Path("dist"),
    generate_dir: Annotated[
        Path, typer.Option(help="Folder to write the deployable copy to (SITE is never changed)")
    ] = Path("_site"),
    workflow: Annotated[
        Path | None,
        typer.Option(
            help="github-pages: the GitHub Actions workflow to write "
            "(default .github/workflows/sitegen-pages.yml in this git repository)"
        ),
    ] = None,
    write_workflow: Annotated[
        bool, typer.Option("--workflow-file/--no-workflow", help="github-pages: write the workflow")
    ] = True,
    model: Annotated[
        Path | None,
        typer.Option(help="The workflow's model (default: the one SITE was built from)"),
    ] = None,
    install: Annotated[
        str | None, typer.Option(help="The workflow's command that installs sitegen")
    ] = None,
    deploy: Annotated[
        bool, typer.Option(help="Deploy with the host's own CLI (gh, netlify) when installed")
    ] = False,
    force: Annotated[
        bool, typer.Option(help="Move a non-empty --generate-dir sitegen did not make aside")
    ] = False,
) -> None:
    """Write a deployable copy of a built site for GitHub Pages, Netlify or any static host."""
    from sitegen.commands.publish import PublishOptions
    from sitegen.commands.publish import publish as run_publish
    from sitegen.publish.github_pages import DEFAULT_INSTALL

    result = run_publish(
        PublishOptions(
            target=target,
            site=site,
            generate_dir=generate_dir,
            workflow=workflow,
            write_workflow=write_workflow,
            model=model,
            install=install or DEFAULT_INSTALL,
            deploy=deploy,
            force=force,
        )
    )
    typer.echo(
        f"Wrote {result.generate_dir} for {target.value} (build {result.build_id}). "
        f"Try it: sitegen serve {result.generate_dir} --as {target.value}"
    )
