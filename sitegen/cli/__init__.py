"""The ``sitegen`` command line: parse options, call ``sitegen.commands``, turn errors into one
line on stderr and an exit code (``sitegen.errors``). TensorFlow is imported only inside commands
that need it, so ``--help`` is instant. The commands are registered by the modules beside this one
(a model in: ``model_commands``; a site out: ``site_commands``; proof: ``validate_commands``)."""

from __future__ import annotations

import sys

import typer

from sitegen.cli import model_commands, site_commands, validate_commands  # noqa: F401  (register)
from sitegen.cli.app import app
from sitegen.errors import USAGE_EXIT_CODE, SitegenError

__all__ = ["app", "main"]

# Click's exception base (Typer re-exports its subclasses but not the base; newer Typer versions
# vendor Click, so it is found through BadParameter rather than imported from ``click``).
_ClickException = next(c for c in typer.BadParameter.__mro__ if c.__name__ == "ClickException")


def main() -> None:
    try:
        code = app(standalone_mode=False)
    except SitegenError as error:
        typer.echo(f"Error: {error}", err=True)
        sys.exit(error.exit_code)
    except _ClickException as error:
        sys.exit(_usage_error(error))
    except (KeyboardInterrupt, typer.Abort):
        sys.exit(130)
    sys.exit(code if isinstance(code, int) else 0)


def _usage_error(error) -> int:
    """A bad option or argument: one line naming it, and where the choices are listed."""
    context = getattr(error, "ctx", None)
    if type(error).__name__ == "NoArgsIsHelpError" and context is not None:
        typer.echo(context.get_help())  # plain `sitegen` (or a verb alone) shows the help
        return 0
    where = f" (see: {context.command_path} --help)" if context is not None else ""
    message = " ".join(error.format_message().split())
    typer.echo(f"Error: {message}{where}", err=True)
    return error.exit_code if error.exit_code != 1 else USAGE_EXIT_CODE


if __name__ == "__main__":
    main()
