"""Plots of a fitted law: keyword-only functions that return a matplotlib Figure.

Each function draws numbers computed in :mod:`bayeslaw.reports.plot_data` and names its
visual parts with ``gid`` (also the element ids in SVG output), so callers can find,
restyle or hide them. Bands and error bars are equal-tailed credible intervals (ETI) at
``ci_prob``, by default :data:`~bayeslaw.inference.result.CI_PROB` (90%). Figures are built
with :class:`matplotlib.figure.Figure` (no pyplot state): nothing needs closing.

Named parts (``{g}`` a group, ``{v}`` a value of the series input):

- :func:`plot_law`: ``band:{g}:{v}``, ``mean:{g}:{v}``, ``observed:{g}``,
  ``extrapolation:{g}``; one axes per group with ``gid`` ``panel:{g}``.
- :func:`plot_predicted_vs_observed`: ``points:{g}``, ``intervals:{g}``, ``identity``,
  ``residuals:{g}``, ``interval_band``.
- :func:`plot_group_forest`: see :mod:`bayeslaw.reports.forest`.
- :func:`plot_ppc` and :func:`plot_trace`: see :mod:`bayeslaw.reports.check_plots`.
- :func:`save_figure`: PNG and SVG, written atomically (:mod:`bayeslaw.reports.figures`).
"""

from __future__ import annotations

import textwrap
from collections.abc import Sequence
from typing import Any

import numpy as np
from matplotlib import colormaps
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from bayeslaw.inference.result import CI_PROB, Fit, PredictKind
from bayeslaw.reports.check_plots import plot_ppc, plot_trace
from bayeslaw.reports.figures import group_colors, pct, plain_log_axis, save_figure
from bayeslaw.reports.forest import plot_group_forest
from bayeslaw.reports.plot_data import (
    dodge,
    interval_position,
    law_axes,
    law_curves,
    observations_of,
    predicted_vs_observed,
)

__all__ = [
    "plot_group_forest",
    "plot_law",
    "plot_ppc",
    "plot_predicted_vs_observed",
    "plot_trace",
    "save_figure",
]

PANEL_W, PANEL_H = 4.6, 3.6
EXTRAPOLATION_COLOR = "0.55"


def plot_law(
    fit: Fit,
    *,
    group: str | Sequence[str] | None = None,
    ci_prob: float = CI_PROB,
    extrapolate_to: float | None = None,
) -> Figure:
    """Loss against dense parameters on log axes: one posterior-mean line and ETI band of
    the expected loss per number of experts (at most five, evenly spread), the observed
    points, and the extrapolation region (beyond the largest observed size) shaded.

    Parameters
    ----------
    fit : Fit
        With its observations.
    group : str or sequence of str, optional
        Groups to draw, one panel each (default: every fitted group). A name the fit has
        not seen draws the population-level prediction for a new group.
    ci_prob : float
        Probability of the equal-tailed band (default 0.9).
    extrapolate_to : float, optional
        Largest dense parameter count drawn (default 10 times the largest observed).

    Returns
    -------
    matplotlib.figure.Figure
        Named parts listed in the module docstring.
    """
    groups = list(fit.groups) if group is None else [group] if isinstance(group, str) else group
    curves = {
        g: law_curves(fit, group=g, ci_prob=ci_prob, extrapolate_to=extrapolate_to) for g in groups
    }
    x_name, series_name = law_axes(fit)
    frame = observations_of(fit).frame
    series = np.unique(next(iter(curves.values()))["series"].to_numpy())
    cmap = colormaps["viridis"]
    colors = {v: cmap(0.9 * i / max(len(series) - 1, 1)) for i, v in enumerate(series)}
    ncols = min(3, len(groups))
    nrows = -(-len(groups) // ncols)
    width = max(8.5, PANEL_W * ncols + 1.8)  # room for the title over a single panel
    fig = Figure(figsize=(width, PANEL_H * nrows + 0.7), layout="constrained")
    axes = fig.subplots(nrows, ncols, squeeze=False, sharey=True)
    for ax, g in zip(axes.flat, groups, strict=False):
        _law_panel(ax, curves[g], frame[frame["group"] == g], colors, g, fit)
    for ax in axes.flat[len(groups) :]:
        ax.set_visible(False)
    for col in range(ncols):  # the lowest visible panel of each column
        axes[(len(groups) - 1 - col) // ncols, col].set_xlabel(x_name)
    for ax in axes[:, 0]:
        ax.set_ylabel("validation loss")
    handles, _ = axes.flat[0].get_legend_handles_labels()
    handles += [Patch(color="none", label=" "), *_law_key(ci_prob, series_name)]
    fig.legend(handles=handles, loc="outside right upper", title=series_name, fontsize="small")
    title = (
        "Fitted law at the MAP point (no parameter uncertainty: no credible band)"
        if fit.draws.n_draws == 1
        else f"Fitted law: posterior mean and {pct(ci_prob)} equal-tailed credible band "
        "of the expected loss"
    )
    held = next(iter(curves.values())).attrs["held"]
    if held:
        fixed = ", ".join(f"{k} = {v:g}" for k, v in held.items())
        title += f"\n{fixed} (geometric mean of the data)"
    # left-aligned and wrapped clear of the legend in the top right corner
    lines = [textwrap.fill(line, int((width - 2.0) * 9.5)) for line in title.split("\n")]
    fig.suptitle("\n".join(lines), x=0.01, ha="left")
    return fig


def _dot(face: str, label: str) -> Line2D:
    return Line2D(
        [], [], marker="o", ls="", markersize=5, markeredgecolor="0.15", markerfacecolor=face,
        label=label,
    )  # fmt: skip


def _law_key(ci_prob: float, series_name: str | None) -> list[Any]:
    key = [
        Patch(color="0.4", alpha=0.3, lw=0, label=f"{pct(ci_prob)} credible band"),
        _dot("white", "observed"),
    ]
    if series_name is not None:
        key.append(_dot("0.7", f"observed, {series_name}\nnot drawn"))
    key.append(Patch(color=EXTRAPOLATION_COLOR, alpha=0.2, lw=0, label="extrapolation"))
    return key


def _law_panel(
    ax: Any, curves: Any, observed: Any, colors: dict[Any, Any], group: str, fit: Fit
) -> None:
    x_name, series_name = curves.attrs["x"], curves.attrs["series"]
    largest = curves.attrs["largest_observed"]
    end = float(curves[x_name].max())
    ax.set_gid(f"panel:{group}")
    if end > largest:
        ax.axvspan(
            largest, end, color=EXTRAPOLATION_COLOR, alpha=0.2, lw=0, gid=f"extrapolation:{group}"
        )
        ax.axvline(largest, color=EXTRAPOLATION_COLOR, lw=0.8, ls=":")
    for value, curve in curves.groupby("series", sort=True, dropna=False):
        tag = f"{value:g}" if series_name else "posterior mean"
        key = f"{group}:{value:g}" if series_name else f"{group}:law"
        color = colors[value] if series_name else "C0"
        ax.fill_between(
            curve[x_name],
            curve["lower"],
            curve["upper"],
            color=color,
            alpha=0.22,
            lw=0,
            gid=f"band:{key}",
        )
        ax.plot(curve[x_name], curve["mean"], color=color, lw=1.6, gid=f"mean:{key}", label=tag)
    if len(observed):
        point_colors = [
            colors.get(v, "0.7") if series_name else "C0"
            for v in (observed[series_name] if series_name else observed[x_name])
        ]
        ax.scatter(
            observed[x_name],
            observed["loss_validation"],
            c=point_colors,
            s=14,
            edgecolors="0.15",
            linewidths=0.4,
            zorder=3,
            gid=f"observed:{group}",
        )
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlim(curves[x_name].min() / 1.15, end * 1.15)
    plain_log_axis(ax, "y")
    ax.grid(alpha=0.25, which="major")
    seen = "" if fit.draws.is_seen(group) else " (new group: population level)"
    ax.set_title(f"{group}{seen}", fontsize="medium")


def plot_predicted_vs_observed(
    fit: Fit, *, ci_prob: float = CI_PROB, kind: PredictKind = "observation"
) -> Figure:
    """Posterior mean against observed loss with the ETI of a new observation
    (``kind="observation"``, default) or of the expected loss (``kind="mean"``), left; and
    each observation's position in its interval against dense parameters, right: the
    residual divided by the distance from the mean to the interval's bound on its side, so
    that the interval is [-1, 1] for every point. The title gives the share inside.

    Returns
    -------
    matplotlib.figure.Figure
        Named parts listed in the module docstring.
    """
    table = predicted_vs_observed(fit, ci_prob=ci_prob, kind=kind)
    x_name, _ = law_axes(fit)
    colors = group_colors(fit.groups)
    fig = Figure(figsize=(11.5, 4.6), layout="constrained")
    left, right = fig.subplots(1, 2)
    right.axhspan(
        -1, 1, color="0.5", alpha=0.18, lw=0, gid="interval_band", label=f"{pct(ci_prob)} interval"
    )
    position = interval_position(table)
    for g, rows in table.groupby("group", sort=False):
        c = colors.get(str(g), "0.4")
        left.vlines(
            rows["observed"],
            rows["lower"],
            rows["upper"],
            color=c,
            alpha=0.45,
            lw=1,
            gid=f"intervals:{g}",
        )
        left.scatter(
            rows["observed"], rows["mean"], color=c, s=12, zorder=3, gid=f"points:{g}", label=str(g)
        )
        right.scatter(
            dodge(table, rows.index, x_name),
            position.loc[rows.index],
            color=c,
            s=10,
            zorder=3,
            gid=f"residuals:{g}",
        )
    lo = float(min(table["observed"].min(), table["lower"].min()))
    hi = float(max(table["observed"].max(), table["upper"].max()))
    left.plot([lo, hi], [lo, hi], color="0.3", lw=1, ls="--", gid="identity", label="y = x")
    left.set(xlabel="observed loss", ylabel="posterior mean of the loss", aspect="equal")
    right.axhline(0.0, color="0.3", lw=0.8, ls="--")
    right.set(
        xscale="log",
        xlabel=f"{x_name} (points at one size spread apart)",
        ylabel=f"position in the {pct(ci_prob)} interval (bounds at ±1)",
    )
    plain_log_axis(right, "x")
    for ax in (left, right):
        ax.grid(alpha=0.25)
    fig.legend(loc="outside right upper", fontsize="small", title="group")
    what = "a new observation" if kind == "observation" else "the expected loss"
    fig.suptitle(
        f"Predicted vs observed, with {pct(ci_prob)} equal-tailed intervals for {what}: "
        f"{table['inside'].mean():.0%} of {len(table)} observations inside"
    )
    return fig
