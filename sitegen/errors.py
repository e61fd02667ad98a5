"""Errors users can act on, and the exit code of each.

Every error carries a message that names the problem and the fix; the CLI prints it as one line on
stderr and exits with the class's exit code, never with a traceback. Exit code 2 is Click's (and
so Typer's) usage error: a bad option or argument. No class here uses it.
"""

from __future__ import annotations

USAGE_EXIT_CODE = 2  # Click's own: bad options and arguments (sitegen.cli prints them as one line)


class SitegenError(Exception):
    """Base class: ``str(error)`` is the whole one-line message shown to the user."""

    exit_code = 1


class ModelError(SitegenError):
    """The model input cannot be used (missing, not a SavedModel, corrupt, no detection outputs)."""

    exit_code = 3


class LabelError(SitegenError):
    """The label file is malformed or does not fit the model."""

    exit_code = 4


class ConversionError(SitegenError):
    """The TensorFlow.js converter refused the model (for example unsupported ops)."""

    exit_code = 5


class OutputError(SitegenError):
    """The output folder cannot be written, or writing would destroy a user's files; or `serve`
    cannot listen where asked (a port in use, no LAN address)."""

    exit_code = 6


class MissingDependencyError(SitegenError):
    """An optional dependency (TensorFlow, the npm-built runtime, a browser) is not installed."""

    exit_code = 7


class PublishError(SitegenError):
    """The site cannot be published as asked (not a sitegen build, a workflow that is not sitegen's, no host CLI)."""

    exit_code = 8


class DatasetError(SitegenError):
    """The annotations cannot be made into a dataset (no XML files, nothing valid, --strict problems)."""

    exit_code = 9


class EvalError(SitegenError):
    """The evaluation cannot run as asked (no images, annotations matching none, a floor not met)."""

    exit_code = 10


class FootageError(SitegenError):
    """The footage input cannot be used (missing, empty, not an image or a decodable video, not a .y4m)."""

    exit_code = 11


class CheckError(SitegenError):
    """The site cannot be checked as asked (not a sitegen build, a backend it lacks, the page failed)."""

    exit_code = 12


class ExpectationError(SitegenError):
    """The site ran on the footage, but its detections missed an --expect expectation."""

    exit_code = 13


# For the README's table and its test: every exit code sitegen can end with.
EXIT_CODES = {
    0: "success",
    1: "any other sitegen error",
    USAGE_EXIT_CODE: "usage: an unknown option, or an option value out of range or not a choice",
    **{cls.exit_code: cls.__doc__.strip().rstrip(".") for cls in SitegenError.__subclasses__()},
    130: "interrupted (Ctrl+C)",
}
