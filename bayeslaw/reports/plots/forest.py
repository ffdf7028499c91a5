"""Group-level parameters against the population distribution (a forest plot).

:func:`group_forest` is :meth:`Fit.params <bayeslaw.posterior.fit.Fit.params>` in long form;
:func:`plot_group_forest` draws it.

Named parts (``{p}`` a parameter): ``group_points:{p}``, ``group_intervals:{p}``,
``population_point:{p}``, ``population_interval:{p}``, ``population_band:{p}``,
``population_median:{p}``. Intervals are equal-tailed at ``ci_prob`` (default 90%).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from bayeslaw.errors import ReportError
from bayeslaw.posterior.fit import CI_PROB, POPULATION, Fit
from bayeslaw.reports.plots.style import group_colors, pct, plain_log_axis

__all__ = ["group_forest", "plot_group_forest"]


def group_forest(fit: Fit, *, ci_prob: float = CI_PROB) -> pd.DataFrame:
    """Per-group and population-level parameters in raw units: mean, median and ETI
    (:meth:`Fit.params`), with ``population`` marking the rows of a new group drawn from the
    population distribution (partial pooling only), labelled ``<population>``.

    Returns
    -------
    pandas.DataFrame
        ``group``, ``parameter``, ``mean``, ``median``, ``lower``, ``upper``, ``population``.
    """
    out = fit.params(ci_prob=ci_prob, raw=True).reset_index()
    out["population"] = out["group"] == POPULATION
    out.attrs.update(ci_prob=ci_prob, pooling=fit.draws.pooling)
    return out


def plot_group_forest(
    fit: Fit, *, ci_prob: float = CI_PROB, parameters: Sequence[str] | None = None
) -> Figure:
    """Per-group law parameters in raw units (posterior median and ETI) against the
    population distribution (partial pooling: the ETI of a new group's parameter, shaded,
    and its median). Coefficients are drawn on a log axis.

    Returns
    -------
    matplotlib.figure.Figure
        Named parts listed in the module docstring.
    """
    table = group_forest(fit, ci_prob=ci_prob)
    form = fit.draws.form
    names = list(parameters) if parameters is not None else list(form.parameter_names)
    unknown = sorted(set(names) - set(form.parameter_names))
    if unknown:
        raise ReportError(
            f"form {form.name!r} has no parameters {unknown}; it has {list(form.parameter_names)}"
        )
    groups = list(fit.groups)
    ncols = min(3, len(names))
    nrows = -(-len(names) // ncols)
    height = max(2.2, 0.32 * (len(groups) + 1) + 1.2)
    fig = Figure(figsize=(4.2 * ncols, height * nrows + 0.6), layout="constrained")
    axes = fig.subplots(nrows, ncols, squeeze=False, sharey=True)
    colors = group_colors(groups)
    for ax, name in zip(axes.flat, names, strict=False):
        _forest_panel(ax, table[table["parameter"] == name], groups, colors, name, fit)
    for ax in axes.flat[len(names) :]:
        ax.set_visible(False)
    shade = (
        f"shaded: population {pct(ci_prob)} ETI of a new group, line: its median"
        if fit.draws.pooling == "partial"
        else f"no population level (pooling={fit.draws.pooling!r})"
    )
    what = (
        "MAP point"
        if fit.draws.n_draws == 1
        else f"posterior median and {pct(ci_prob)} equal-tailed interval"
    )
    fig.suptitle(f"Group-level parameters in raw units: {what}\n{shade}", fontsize="medium")
    return fig


def _forest_panel(
    ax: Any, rows: Any, groups: list[str], colors: dict[str, Any], name: str, fit: Fit
) -> None:
    by_group = rows.set_index("group")
    y = np.arange(len(groups))[::-1].astype(float)
    g_rows = by_group.loc[groups]
    if POPULATION in by_group.index:
        pop = by_group.loc[POPULATION]
        ax.axvspan(
            pop["lower"], pop["upper"], color="0.5", alpha=0.15, lw=0, gid=f"population_band:{name}"
        )
        ax.axvline(pop["median"], color="0.35", lw=1, ls="--", gid=f"population_median:{name}")
        ax.hlines(
            len(groups),
            pop["lower"],
            pop["upper"],
            color="0.15",
            lw=1.6,
            gid=f"population_interval:{name}",
        )
        ax.scatter(
            [pop["median"]],
            [len(groups)],
            marker="D",
            color="0.15",
            s=24,
            zorder=3,
            gid=f"population_point:{name}",
        )
    c = [colors[g] for g in groups]
    ax.hlines(y, g_rows["lower"], g_rows["upper"], colors=c, lw=1.6, gid=f"group_intervals:{name}")
    ax.scatter(g_rows["median"], y, color=c, s=22, zorder=3, gid=f"group_points:{name}")
    labels = [*groups[::-1], POPULATION] if POPULATION in by_group.index else groups[::-1]
    ax.set_yticks(np.arange(len(labels)), labels)
    ax.set_ylim(-0.7, len(labels) - 0.3)
    values = rows[["lower", "upper"]].to_numpy()
    ax.margins(x=0.12)
    if fit.draws.form.parameter(name).role == "coefficient" and values.max() / values.min() > 10:
        ax.set_xscale("log")
        plain_log_axis(ax, "x")
    ax.set_title(f"{name}: {fit.draws.form.parameter(name).description}", fontsize="small")
    ax.grid(alpha=0.25, axis="x")
