"""bayeslaw: hierarchical Bayesian scaling laws.

The top-level namespace is imported lazily so that the prediction path
(:func:`bayeslaw.law`, :meth:`Fit.predict`) never pulls in PyMC or ArviZ.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from bayeslaw._version import __version__
from bayeslaw.errors import (
    BayeslawError,
    DataError,
    FitArtifactError,
    FitNotReadyError,
    FormError,
    PredictionInputError,
    PriorError,
)

if TYPE_CHECKING:
    from bayeslaw.data import Observations, load_observations

# public name -> module that defines it; resolved on first access (PEP 562).
_LAZY: dict[str, str] = {
    "Observations": "bayeslaw.data",
    "load_observations": "bayeslaw.data",
}

__all__ = [
    "BayeslawError",
    "DataError",
    "FitArtifactError",
    "FitNotReadyError",
    "FormError",
    "Observations",
    "PredictionInputError",
    "PriorError",
    "__version__",
    "load_observations",
]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'bayeslaw' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
