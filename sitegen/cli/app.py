"""The Typer application every command module registers on."""

from __future__ import annotations

import typer

app = typer.Typer(
    help="Turn a trained TensorFlow object detector into a static webcam detector site.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
