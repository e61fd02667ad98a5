"""Progress output: rich spinners and bars on a terminal, plain lines otherwise (CI logs, pipes)."""

from __future__ import annotations

import contextlib
import sys
import time
from collections.abc import Iterator

from rich.console import Console

_console = Console(stderr=True)


def is_terminal() -> bool:
    return _console.is_terminal


@contextlib.contextmanager
def stage(message: str) -> Iterator[None]:
    start = time.monotonic()
    if is_terminal():
        with _console.status(message):
            yield
        _console.print(f"[green]✓[/] {message} ({time.monotonic() - start:.1f} s)")
    else:
        print(f"{message} ...", file=sys.stderr, flush=True)
        yield
        print(f"{message}: done in {time.monotonic() - start:.1f} s", file=sys.stderr, flush=True)


def note(message: str) -> None:
    if is_terminal():
        _console.print(message, highlight=False, markup=False)
    else:
        print(message, file=sys.stderr, flush=True)
