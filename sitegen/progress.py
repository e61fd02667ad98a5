"""Progress output: rich spinners and bars on a terminal, plain lines otherwise (CI logs, pipes)."""

from __future__ import annotations

import contextlib
import math
import sys
import time
from collections.abc import Callable, Iterator

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

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


@contextlib.contextmanager
def counted_stage(message: str, total: int) -> Iterator[Callable[[], None]]:
    """Like ``sitegen.progress.stage``, with a count; yields the function to call per item done.

    On a terminal a bar replaces the spinner (rich shows one live display at a time, so the bar
    cannot sit inside ``stage``) and leaves the same ✓ line; elsewhere the plain stage lines come
    with a count line per tenth, so a CI log shows progress without a line per image."""
    if not is_terminal():
        with stage(message):
            yield _counted_lines(message, total)
        return
    start = time.monotonic()
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=_console, transient=True) as bar:
        task = bar.add_task(message, total=total)
        yield lambda: bar.advance(task)
    _console.print(f"[green]✓[/] {message} ({time.monotonic() - start:.1f} s)")


def _counted_lines(message: str, total: int) -> Callable[[], None]:
    step = max(1, math.ceil(total / 10))
    done = 0

    def advance() -> None:
        nonlocal done
        done += 1
        if done % step == 0 or done == total:
            note(f"  {message}: {done}/{total}")

    return advance
