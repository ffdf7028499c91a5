"""The fit report: what law, how it was fitted, the coefficients, diagnostics and figures.

:func:`build_report` computes a :class:`Report` (tables, text and figures rendered in
memory); :meth:`Report.to_markdown` and :meth:`Report.to_html` format it (the HTML page is
self-contained); :func:`write_report` writes ``report.md``, ``report.html`` and every
figure as PNG and SVG, each file atomically. Every interval is an equal-tailed credible
interval at :data:`~bayeslaw.posterior.fit.CI_PROB` (90%), in raw input units.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import pandas as pd

from bayeslaw import atomic
from bayeslaw.errors import BayeslawError
from bayeslaw.posterior.fit import CI_PROB, POPULATION, Fit
from bayeslaw.reports import markup
from bayeslaw.reports.diagnostics import DiagnosticsReport, diagnose_fit
from bayeslaw.reports.markup import RenderedFigure, Section, Table
from bayeslaw.reports.plots.effects import plot_factor_effects
from bayeslaw.reports.plots.forest import plot_group_forest
from bayeslaw.reports.plots.law import plot_law
from bayeslaw.reports.plots.ppc import plot_pit, plot_ppc
from bayeslaw.reports.plots.predicted import plot_predicted_vs_observed
from bayeslaw.reports.plots.style import figure_bytes
from bayeslaw.reports.plots.trace import plot_rank, plot_trace
from bayeslaw.reports.tables import (
    POOLING_TITLE,
    coefficient_table,
    fitting_table,
    priors_note,
    priors_table,
    provenance,
)

__all__ = ["FIGURES", "Report", "build_report", "write_report"]

PCT = f"{CI_PROB:.0%}"

#: The report's figures: file stem -> (plotting function, caption). ``trace`` and ``rank``
#: are shown with the diagnostics, the others under "Figures".
FIGURES: dict[str, tuple[Callable[[Fit], Any], str]] = {
    "law": (
        plot_law,
        f"Fitted law: posterior mean and {PCT} equal-tailed credible band of the expected loss "
        "per number of experts, observed points, extrapolation shaded",
    ),
    "predicted_vs_observed": (
        plot_predicted_vs_observed,
        f"Predicted vs observed: posterior mean with the {PCT} equal-tailed interval of a new "
        "observation, and each observation's position in its interval by model size",
    ),
    "group_forest": (
        plot_group_forest,
        f"Group-level parameters in raw units: posterior median and {PCT} equal-tailed interval "
        "against the population distribution",
    ),
    "ppc": (
        plot_ppc,
        "Posterior predictive check: replicated vs observed loss distribution (arviz-plots)",
    ),
    "pit": (
        plot_pit,
        "Calibration: ECDF of the PIT values (LOO-PIT for NUTS fits) minus the uniform ECDF, "
        "with its simultaneous envelope (arviz-plots)",
    ),
    "trace": (
        plot_trace,
        "Sampler: densities per chain and traces of the components with the highest R-hat "
        "(arviz-plots)",
    ),
    "rank": (
        plot_rank,
        "Sampler: rank ECDF per chain of the same components, inside the envelope when chains "
        "agree (arviz-plots)",
    ),
}
SAMPLER_FIGURES = ("trace", "rank")


@dataclass(frozen=True, eq=False)
class Report:
    """Everything a fit report shows; it never prints or writes by itself.

    Attributes
    ----------
    title : str
    equation : str
        The law in raw units (plain text).
    fitting : pandas.DataFrame
        How the fit was made (method, sampler settings, seed, pooling, likelihood, ...).
    priors : pandas.DataFrame
        Every prior (on the link scale of the sampled coordinates).
    priors_note : str
        How to read the priors table under this pooling.
    coefficients : pandas.DataFrame
        :meth:`Fit.params`: posterior mean and 90% ETI per (group, parameter), raw units.
    diagnostics : DiagnosticsReport
    provenance : pandas.DataFrame
        Data source and hash, package version, creation time, wall time.
    figures : tuple of RenderedFigure
    notes : tuple of str
        Figures left out and why.
    """

    title: str
    equation: str
    fitting: pd.DataFrame
    priors: pd.DataFrame
    priors_note: str
    coefficients: pd.DataFrame
    diagnostics: DiagnosticsReport
    provenance: pd.DataFrame
    figures: tuple[RenderedFigure, ...]
    notes: tuple[str, ...] = ()

    def sections(self) -> list[Section]:
        """The report's sections, shared by the Markdown and HTML output."""
        return [
            Section("Law", (f"```\n{self.equation}\n```",)),
            Section(
                "How it was fitted", (Table(self.fitting), Table(self.priors, self.priors_note))
            ),
            Section("Coefficients", self._coefficient_blocks()),
            Section("Figures", (*self._figures(sampler=False), *self.notes)),
            Section("Diagnostics", (*self._diagnostic_blocks(), *self._figures(sampler=True))),
            Section("Provenance", (Table(self.provenance),)),
        ]

    def _figures(self, *, sampler: bool) -> list[RenderedFigure]:
        return [f for f in self.figures if (f.name in SAMPLER_FIGURES) == sampler]

    def _coefficient_blocks(self) -> tuple[markup.Block, ...]:
        wide = coefficient_table(self.coefficients)
        caption = f"posterior mean [{PCT} equal-tailed credible interval], raw input units"
        if self.diagnostics.method == "map":
            caption = (
                "MAP point, raw input units (one draw: the groups' intervals are empty; a new "
                f"group's spans {PCT} of the population distribution at the MAP point)"
            )
        blocks: list[markup.Block] = [Table(wide, caption)]
        c = self.coefficients
        skewed = c[(c["mean"] < c["lower"]) | (c["mean"] > c["upper"])]
        if len(skewed):
            names = ", ".join(f"{p} ({g})" for g, p in skewed.index)
            blocks.append(
                f"The posterior of {names} is so skewed that its mean lies outside the "
                f"{PCT} interval; its median (figure 'group_forest') is the better summary."
            )
        if POPULATION in c.index.get_level_values("group"):
            blocks.append(
                f"Row {POPULATION}: the parameters of a new group drawn from the population "
                "distribution (what predictions for an unseen group use)."
            )
        return tuple(blocks)

    def _diagnostic_blocks(self) -> tuple[markup.Block, ...]:
        d = self.diagnostics
        if not d.applicable:
            return (d.text,)
        blocks: list[markup.Block] = [f"Overall verdict: {d.verdict}.", d.text]
        blocks.append(Table(d.checks_table(), "checks"))
        if not d.loo.empty:
            blocks.append(Table(d.loo, "PSIS-LOO", index=False))
            blocks.append(Table(d.pareto_k, "Pareto k of the observations"))
        blocks.append(
            Table(
                d.by_variable(), "convergence per variable (worst component; MCSE / sd of the mean)"
            )
        )
        return tuple(blocks)

    def to_markdown(self, *, figure_dir: str = "figures") -> str:
        """The report as Markdown (``report.md``), figures linked under ``figure_dir``."""
        return markup.to_markdown(self.title, self.sections(), figure_dir=figure_dir)

    def to_html(self) -> str:
        """The report as one self-contained HTML page, figures embedded as base64 PNG."""
        return markup.to_html(self.title, self.sections())


def build_report(fit: Fit, *, figures: bool = True) -> Report:
    """Compute the report of ``fit``: tables, diagnostics and (``figures=True``) figures.

    Figures that need what the fit lacks are left out with a note: the data (a fit loaded
    from disk without its observations) or chains (the trace plot of a MAP fit).

    Examples
    --------
    >>> report = build_report(fit)  # doctest: +SKIP
    >>> markdown = report.to_markdown()  # doctest: +SKIP
    """
    rendered, notes = _render_figures(fit) if figures else ((), ())
    model = fit.record.model
    method = "MAP" if fit.record.sampling.is_map else "NUTS"
    pooling = POOLING_TITLE.get(model.pooling, f"pooling {model.pooling}")
    return Report(
        title=f"Scaling-law fit: {fit.form_name} ({method}, {pooling})",
        equation=model.equation,
        fitting=fitting_table(fit),
        priors=priors_table(fit),
        priors_note=priors_note(fit),
        coefficients=fit.params(ci_prob=CI_PROB, raw=True),
        diagnostics=diagnose_fit(fit),
        provenance=provenance(fit),
        figures=rendered,
        notes=notes,
    )


def _factor_figures(fit: Fit) -> dict[str, tuple[Callable[[Fit], Any], str]]:
    """One forest of level effects per crossed factor (partial pooling only)."""
    if fit.draws.effects is None:
        return {}
    return {
        f"effects_{re.sub(r'[^A-Za-z0-9_-]+', '_', factor)}": (
            partial(plot_factor_effects, factor=factor),
            f"Effects of each level of the factor {factor!r} on the law's coordinates (link "
            "scale): median, 50% and 90% equal-tailed intervals (arviz-plots); a new level "
            "draws its effect from their population",
        )
        for factor in fit.factors
    }


def _render_figures(fit: Fit) -> tuple[tuple[RenderedFigure, ...], tuple[str, ...]]:
    rendered, notes = [], []
    for name, (draw, caption) in {**FIGURES, **_factor_figures(fit)}.items():
        try:
            fig = draw(fit)
        except BayeslawError as err:
            notes.append(f"Figure '{name}' left out: {err}")
            continue
        rendered.append(
            RenderedFigure(name, caption, figure_bytes(fig, "png"), figure_bytes(fig, "svg"))
        )
    return tuple(rendered), tuple(notes)


def write_report(fit: Fit, out_dir: str | os.PathLike[str]) -> dict[str, Path]:
    """Write ``report.md``, ``report.html`` and ``figures/<name>.png|svg`` into ``out_dir``.

    Each file is written atomically (temporary file, then :func:`os.replace`).

    Returns
    -------
    dict
        Relative file name (``"report.md"``, ``"figures/law.png"``, ...) -> path written.
    """
    out = Path(out_dir)
    (out / "figures").mkdir(parents=True, exist_ok=True)
    report = build_report(fit)
    written = {}
    for figure in report.figures:
        for suffix, data in (("png", figure.png), ("svg", figure.svg)):
            relative = f"figures/{figure.name}.{suffix}"
            atomic.write_bytes(out / relative, data)
            written[relative] = out / relative
    for relative, text in (("report.md", report.to_markdown()), ("report.html", report.to_html())):
        atomic.write_text(out / relative, text)
        written[relative] = out / relative
    return written
