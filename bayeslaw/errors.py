"""Exception types: one per kind of failure, all deriving from :class:`BayeslawError`.

Messages name the offending column, rows, group or parameter and say what would fix it.
"""

from __future__ import annotations

import functools

__all__ = [
    "BayeslawError",
    "CalibrationWarning",
    "ColumnError",
    "ConfigError",
    "DataError",
    "DataWarning",
    "FitArtifactError",
    "FitNotReadyError",
    "FormError",
    "NewLevelWarning",
    "PredictionInputError",
    "PriorError",
    "ReportError",
]


class BayeslawError(Exception):
    """Base class of every error bayeslaw raises on purpose."""


class ConfigError(BayeslawError, ValueError):
    """A setting bayeslaw cannot use (an environment variable such as ``BAYESLAW_DRAWS``)."""


class DataError(BayeslawError, ValueError):
    """Measurements that cannot be used as they are (missing column, bad values, ...)."""


class ColumnError(DataError):
    """A role (the loss, an input, the group) that no column, or more than one, could fill;
    ``role`` is the canonical name (``loss_validation``, an input's name, ``group``), so a
    front end can name its own way of mapping it (the CLI's ``--loss-col``)."""

    def __init__(self, message: str, *, role: str) -> None:
        super().__init__(message)
        self.role = role

    def __reduce__(self) -> tuple[object, ...]:
        # ``role`` is keyword-only, so the default (class, args) pickling cannot rebuild
        # it: a worker process raising it would fail to send it back.
        return functools.partial(type(self), role=self.role), self.args


class FormError(BayeslawError, ValueError):
    """An unknown law form, or inputs/parameters that do not match the form."""


class PriorError(BayeslawError, ValueError):
    """A prior override that names an unknown parameter or is not a valid prior."""


class PredictionInputError(BayeslawError, ValueError):
    """Prediction inputs with a missing key or a value the law cannot take."""


class FitNotReadyError(BayeslawError, RuntimeError):
    """An accessor that needs a posterior was called on a fit that does not have one."""


class FitArtifactError(BayeslawError, OSError):
    """A saved fit that is missing, corrupted, truncated or does not match what was asked."""


class ReportError(BayeslawError, ValueError):
    """A plot or report asked for something the fit does not have (a variable, a parameter)."""


class CalibrationWarning(UserWarning):
    """The chosen law extrapolated poorly on the training data's own largest size (its
    held-out intervals missed, or its R^2 was below 0): its predictions of larger models
    deserve less trust than their intervals claim; the message gives the numbers."""


class DataWarning(UserWarning):
    """Data a law can be fitted to but cannot learn much from (no spread in an input, a
    loss that rises with size, fewer rows than parameters); the message says which."""


class NewLevelWarning(UserWarning):
    """A prediction for a crossed cell with a level never fitted: that level's effect is
    drawn from its factor's population (wider intervals), not learned."""
