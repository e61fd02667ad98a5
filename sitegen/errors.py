"""Errors users can act on.

Every error carries a message that names the problem and the fix; the CLI prints it as one line on
stderr and exits with the class's exit code, never with a traceback.
"""

from __future__ import annotations


class SitegenError(Exception):
    """Base class: ``str(error)`` is the whole one-line message shown to the user."""

    exit_code = 1


class ModelError(SitegenError):
    """The model input cannot be used (missing, not a SavedModel, corrupt, no detection outputs)."""

    exit_code = 2


class LabelError(SitegenError):
    """The label file is malformed or does not fit the model."""

    exit_code = 3


class ConversionError(SitegenError):
    """The TensorFlow.js converter refused the model (for example unsupported ops)."""

    exit_code = 4


class OutputError(SitegenError):
    """The output folder cannot be written, or writing would destroy a user's files."""

    exit_code = 5


class MissingDependencyError(SitegenError):
    """An optional dependency (TensorFlow, the npm-built runtime, a browser) is not installed."""

    exit_code = 6


class DatasetError(SitegenError):
    """A dataset folder or annotation file cannot be read."""

    exit_code = 7
