"""Sampler diagnostics of a NUTS fit, presented: tables, verdicts and plain-language advice.

:func:`diagnose_fit` runs the checks of :mod:`bayeslaw.inference.diagnostics` (the same ones
every fit runs) on the fit's ArviZ DataTree and returns a :class:`DiagnosticsReport` that
holds tables and prose and never prints. It checks

- **R-hat** (rank-normalised split R-hat) and **bulk/tail ESS** of every free variable of the
  model and every law parameter (``arviz_stats.summary``), and their **MCSE** relative to the
  posterior standard deviation;
- **divergent transitions**, **tree-depth saturation** and **E-BFMI** (sample stats);
- **PSIS-LOO** (``arviz_stats.loo``): ELPD and the Pareto k of every observation.

Each check gets a verdict, ``"ok"``, ``"warning"`` or ``"fail"``, with advice. A MAP fit is a
single optimised point: these diagnostics do not apply, and the report says so. Intervals in
the summary table are equal-tailed at :data:`~bayeslaw.posterior.fit.CI_PROB` (90%).
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from bayeslaw.errors import BayeslawError
from bayeslaw.inference.diagnostics import (
    Check,
    Verdict,
    checked_variables,
    fit_checks,
    loo_check,
    worst,
)
from bayeslaw.posterior.fit import CI_PROB, Fit

__all__ = ["Check", "DiagnosticsReport", "Verdict", "diagnose_fit", "free_variables"]


@dataclass(frozen=True, eq=False)
class DiagnosticsReport:
    """Diagnostics of one fit: tables and text (never printed by itself).

    Attributes
    ----------
    method : str
        ``"nuts"`` or ``"map"``.
    applicable : bool
        False for a MAP fit (or a fit without its DataTree): no checks were run.
    checks : tuple of Check
        One entry per check, in a fixed order.
    summary : pandas.DataFrame
        ``arviz_stats.summary`` of every component of the free variables and law parameters:
        mean, sd, 90% ETI bounds, ESS bulk/tail, R-hat, MCSE; plus ``variable``.
    loo : pandas.DataFrame
        One row: ``elpd_loo``, ``se``, ``p_loo``, ``n_samples``, ``n_data_points``,
        ``good_k`` (empty when PSIS-LOO could not be computed).
    pareto_k : pandas.DataFrame
        Counts and shares of observations per Pareto k range.
    text : str
        Plain-language summary of the verdicts.
    """

    method: str
    applicable: bool
    checks: tuple[Check, ...]
    summary: pd.DataFrame
    loo: pd.DataFrame
    pareto_k: pd.DataFrame
    text: str

    @property
    def verdict(self) -> Verdict | None:
        """The worst verdict over all checks (None when diagnostics do not apply)."""
        if not self.checks:
            return None
        return worst([c.verdict for c in self.checks])

    def checks_table(self) -> pd.DataFrame:
        """The checks as a table: ``verdict``, ``detail``, ``advice`` indexed by ``check``."""
        rows = [(c.name, c.verdict, c.detail, c.advice) for c in self.checks]
        frame = pd.DataFrame(rows, columns=["check", "verdict", "detail", "advice"])
        return frame.set_index("check")

    def by_variable(self) -> pd.DataFrame:
        """Worst values per variable: components, max R-hat, min bulk/tail ESS, max
        MCSE / sd."""
        if self.summary.empty:
            return pd.DataFrame(
                columns=["components", "r_hat_max", "ess_bulk_min", "ess_tail_min", "mcse_sd_max"]
            )
        s = self.summary.assign(mcse_ratio=self.summary["mcse_mean"] / self.summary["sd"])
        grouped = s.groupby("variable", sort=False)
        return pd.DataFrame(
            {
                "components": grouped.size(),
                "r_hat_max": grouped["r_hat"].max(),
                "ess_bulk_min": grouped["ess_bulk"].min(),
                "ess_tail_min": grouped["ess_tail"].min(),
                "mcse_sd_max": grouped["mcse_ratio"].max(),
            }
        )


def free_variables(fit: Fit) -> list[str]:
    """Names of the fitted model's free (sampled) variables, from the fit's record.

    Fits saved before free variables were recorded (format 1, bayeslaw <= 0.1) get every
    posterior variable that is not a law parameter instead: deterministics included, a
    superset that still checks every free variable.
    """
    if fit.record.free_variables:
        return list(fit.record.free_variables)
    posterior = [str(v) for v in fit.datatree["posterior"].data_vars]
    law = set(fit.draws.form.parameter_names)
    return sorted(v for v in posterior if v not in law)


def diagnose_fit(fit: Fit) -> DiagnosticsReport:
    """Diagnose a fit's sampler output (see the module docstring for the checks).

    Parameters
    ----------
    fit : Fit
        A fit from :func:`bayeslaw.fit`, or loaded with its DataTree.

    Returns
    -------
    DiagnosticsReport
        For a MAP fit (or one without a DataTree): ``applicable=False``, no checks, and a text
        saying why.

    Examples
    --------
    >>> report = diagnose_fit(fit)  # doctest: +SKIP
    >>> report.verdict, report.checks_table()  # doctest: +SKIP
    """
    method = fit.record.method
    if method == "map":
        return _not_applicable(
            method,
            "Sampler diagnostics do not apply to a MAP fit: it is one optimised point, not "
            "posterior draws, so there is no R-hat, ESS or PSIS-LOO to compute. Refit with "
            "method='nuts' for a full posterior and its diagnostics.",
        )
    try:
        tree = fit.datatree
    except BayeslawError as err:
        return _not_applicable(method, f"No diagnostics: {err}.")
    model = fit.record.model
    names = checked_variables(
        free_variables(fit), fit.draws.form.parameter_names, model.multiplicative, model.factors
    )
    summary, checks = fit_checks(tree, names, ci_prob=CI_PROB)
    loo, pareto_k, psis = loo_check(tree)
    if psis is not None:
        checks.append(psis)
    return DiagnosticsReport(method, True, tuple(checks), summary, loo, pareto_k, _text(checks))


def _not_applicable(method: str, text: str) -> DiagnosticsReport:
    empty = pd.DataFrame()
    return DiagnosticsReport(method, False, (), empty, empty, empty, text)


def _text(checks: list[Check]) -> str:
    """A short verdict in words: what failed, what warns, and the first thing to do."""
    if all(c.verdict == "ok" for c in checks):
        return (
            f"All {len(checks)} checks passed: the chains agree, there are enough effective "
            "draws and the sampler met no trouble; the 90% intervals can be trusted as far as "
            "sampling goes."
        )
    failed = [c for c in checks if c.verdict == "fail"]
    warned = [c for c in checks if c.verdict == "warning"]
    lead = "Do not trust these results yet" if failed else "Results are usable with care"
    parts = [f"{kind}: {', '.join(c.name for c in group)}"
             for kind, group in (("failed", failed), ("warnings", warned)) if group]  # fmt: skip
    first = (failed or warned)[0]
    return f"{lead} ({'; '.join(parts)}). First: {first.advice}"
