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
    ConfigError,
    DataError,
    DataWarning,
    FitArtifactError,
    FitNotReadyError,
    FormError,
    PredictionInputError,
    PriorError,
    ReportError,
)

if TYPE_CHECKING:
    from bayeslaw.data import Observations, load_observations
    from bayeslaw.datasets import simulate_moe
    from bayeslaw.evaluation.comparison import compare_forms
    from bayeslaw.evaluation.protocol import evaluate
    from bayeslaw.evaluation.selection import fit
    from bayeslaw.models.expressions import law_form
    from bayeslaw.models.priors import Prior
    from bayeslaw.models.registry import available_forms, get_form
    from bayeslaw.posterior.fit import Fit, load_fit
    from bayeslaw.posterior.record import FitRecord
    from bayeslaw.predictor import law
    from bayeslaw.reports.diagnostics import diagnose_fit
    from bayeslaw.reports.render import write_report

# public name -> module that defines it; resolved on first access (PEP 562).
_LAZY: dict[str, str] = {
    "Fit": "bayeslaw.posterior.fit",
    "FitRecord": "bayeslaw.posterior.record",
    "Observations": "bayeslaw.data",
    "Prior": "bayeslaw.models.priors",
    "available_forms": "bayeslaw.models.registry",
    "law_form": "bayeslaw.models.expressions",
    "fit": "bayeslaw.evaluation.selection",
    "get_form": "bayeslaw.models.registry",
    "law": "bayeslaw.predictor",
    "load_fit": "bayeslaw.posterior.fit",
    "load_observations": "bayeslaw.data",
    "simulate_moe": "bayeslaw.datasets",
    "compare_forms": "bayeslaw.evaluation.comparison",
    "diagnose_fit": "bayeslaw.reports.diagnostics",
    "evaluate": "bayeslaw.evaluation.protocol",
    "write_report": "bayeslaw.reports.render",
}

__all__ = [
    "BayeslawError",
    "ConfigError",
    "DataError",
    "DataWarning",
    "Fit",
    "FitArtifactError",
    "FitNotReadyError",
    "FitRecord",
    "FormError",
    "Observations",
    "PredictionInputError",
    "Prior",
    "PriorError",
    "ReportError",
    "__version__",
    "available_forms",
    "compare_forms",
    "diagnose_fit",
    "evaluate",
    "fit",
    "get_form",
    "law",
    "law_form",
    "load_fit",
    "load_observations",
    "simulate_moe",
    "write_report",
]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'bayeslaw' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
