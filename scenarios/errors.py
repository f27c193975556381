"""Exceptions raised by Lifecycle Lab.

Every error a user can cause derives from :class:`LabError`; the command line turns these into a
one-paragraph message and exit code 2, never a traceback.
"""

from __future__ import annotations

__all__ = ["LabError", "ConfigError", "DataError", "ConvergenceError", "NotEstimableError"]


class LabError(Exception):
    """Root of every error raised on purpose by the lab."""


class ConfigError(LabError, ValueError):
    """A scenario, experiment or command-line setting is invalid.

    The message names the source (file or option), the field and what is allowed.
    """


class DataError(LabError, ValueError):
    """An input data file (for example a transaction log) is unusable.

    The message names the file, the row and/or column and what was expected.
    """


class ConvergenceError(LabError, RuntimeError):
    """A numerical routine (fit, root finder, optimiser) failed; carries its diagnostics."""

    def __init__(self, message: str, diagnostics: dict | None = None) -> None:
        super().__init__(message)
        self.diagnostics = dict(diagnostics or {})


class NotEstimableError(LabError, ValueError):
    """The data do not identify a statistic: constant values, no events, a zero denominator.

    An analysis of many metrics and segments reports such a cell as "not estimable" with this
    message as the reason, and goes on with the others.
    """
