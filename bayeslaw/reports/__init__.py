"""Reports of a fit: diagnostics, plots, the Markdown/HTML report.

- :mod:`~bayeslaw.reports.diagnostics`: :func:`diagnose_fit` -> :class:`DiagnosticsReport`
- :mod:`~bayeslaw.reports.plots`: ``plot_law``, ``plot_predicted_vs_observed``,
  ``plot_group_forest``, ``plot_ppc``, ``plot_pit``, ``plot_trace``, ``plot_rank``,
  ``save_figure``
- :mod:`~bayeslaw.reports.render`: :func:`build_report` -> :class:`Report`,
  :func:`write_report`

Names are resolved lazily, so importing this package does not import matplotlib or ArviZ.
"""

from __future__ import annotations

import importlib
from typing import Any

_LAZY: dict[str, str] = {
    "DiagnosticsReport": "bayeslaw.reports.diagnostics",
    "Report": "bayeslaw.reports.render",
    "build_report": "bayeslaw.reports.render",
    "diagnose_fit": "bayeslaw.reports.diagnostics",
    "plot_group_forest": "bayeslaw.reports.plots.forest",
    "plot_factor_effects": "bayeslaw.reports.plots.effects",
    "plot_law": "bayeslaw.reports.plots.law",
    "plot_pit": "bayeslaw.reports.plots.ppc",
    "plot_ppc": "bayeslaw.reports.plots.ppc",
    "plot_predicted_vs_observed": "bayeslaw.reports.plots.predicted",
    "plot_rank": "bayeslaw.reports.plots.trace",
    "plot_trace": "bayeslaw.reports.plots.trace",
    "save_figure": "bayeslaw.reports.plots.style",
    "write_report": "bayeslaw.reports.render",
}

__all__ = sorted(_LAZY)


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'bayeslaw.reports' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
