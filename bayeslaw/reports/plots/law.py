"""The fitted law over its inputs: posterior mean and credible band, data, extrapolation.

:func:`law_curves` computes the numbers (a DataFrame), :func:`plot_law` draws them, in the
manner of ``arviz_plots.plot_lm`` (which has no notion of a law's extrapolation region).
Bands are equal-tailed credible intervals (ETI) of the expected loss at ``ci_prob``, by
default :data:`~bayeslaw.posterior.fit.CI_PROB` (90%).

Named parts (``{g}`` a group, ``{v}`` a value of the series input): ``band:{g}:{v}``,
``mean:{g}:{v}``, ``observed:{g}``, ``extrapolation:{g}``; one axes per group with ``gid``
``panel:{g}``.
"""

from __future__ import annotations

import textwrap
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from matplotlib import colormaps
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from bayeslaw.data import GROUP
from bayeslaw.posterior.fit import CI_PROB, Fit
from bayeslaw.reports.plots.style import pct, plain_log_axis

__all__ = ["law_axes", "law_curves", "plot_law", "series_values"]

#: The x input when a form has it.
N = "dense_parameter_count"
#: Most curves drawn per panel of :func:`plot_law`.
MAX_SERIES = 5
#: Default extrapolation: this many times the largest observed size.
EXTRAPOLATION_FACTOR = 10.0
PANEL_W, PANEL_H = 4.6, 3.6
EXTRAPOLATION_COLOR = "0.55"


def _round_sig(values: np.ndarray, digits: int = 2) -> np.ndarray:
    values = np.asarray(values, dtype=np.float64)
    exponent = np.floor(np.log10(np.abs(values)))
    return np.asarray(np.round(values / 10**exponent, digits - 1) * 10**exponent)


def series_values(values: np.ndarray, max_series: int = MAX_SERIES) -> np.ndarray:
    """A readable subset of an input's values: at most ``max_series`` of its distinct values,
    spread evenly in rank (smallest and largest kept); log quantiles for continuous inputs."""
    distinct = np.unique(values)
    if distinct.size > 3 * max_series:  # continuous: rounded log-spaced quantiles
        quantiles = np.exp(np.quantile(np.log(distinct), np.linspace(0, 1, max_series)))
        return np.unique(_round_sig(quantiles))
    if distinct.size <= max_series:
        return distinct
    return distinct[np.unique(np.round(np.linspace(0, distinct.size - 1, max_series)).astype(int))]


def law_axes(fit: Fit) -> tuple[str, str | None]:
    """The x input (dense parameters when the form has them) and the series input, if any."""
    inputs = fit.draws.form.inputs
    x = N if N in inputs else inputs[0]
    rest = [name for name in inputs if name != x]
    return x, (rest[0] if rest else None)


def law_curves(
    fit: Fit,
    *,
    group: str,
    ci_prob: float = CI_PROB,
    extrapolate_to: float | None = None,
    n_points: int = 60,
) -> pd.DataFrame:
    """Posterior mean and ETI of the expected loss along the x input, one curve per value
    of the series input (see :func:`law_axes`, :func:`series_values`); any further input is
    held at its geometric mean over the data (``attrs["held"]``).

    Parameters
    ----------
    fit : Fit
    group : str
        A fitted group, or any other name for a new group (population level).
    ci_prob : float
        Probability of the equal-tailed interval (default 0.9).
    extrapolate_to : float, optional
        Largest x to draw; default 10 times the largest observed x. Curves start at the
        smallest observed x.
    n_points : int
        Points per curve (log-spaced, plus the largest observed x itself).

    Returns
    -------
    pandas.DataFrame
        Every input, ``mean``, ``lower``, ``upper``, ``group``, ``seen_group``, ``series``
        (the series input's value, NaN without one) and ``extrapolated`` (x beyond the
        largest x observed for this group, or in all data for a new group).
    """
    obs = fit.fitted_observations()
    x_name, series_name = law_axes(fit)
    frame = obs.frame
    rows = frame[frame[GROUP] == group]
    largest = float((rows if len(rows) else frame)[x_name].max())
    end = largest * EXTRAPOLATION_FACTOR if extrapolate_to is None else float(extrapolate_to)
    start = float(frame[x_name].min())
    grid = np.unique(np.append(np.geomspace(start, max(end, largest), n_points), largest))
    grid = grid[grid <= max(end, largest)]
    series = [np.nan] if series_name is None else series_values(frame[series_name].to_numpy())
    others = [n for n in fit.draws.form.inputs if n not in (x_name, series_name)]
    held = {n: _round_sig(np.exp(np.mean(np.log(frame[n].to_numpy())))[None])[0] for n in others}
    parts = []
    for value in series:
        inputs = {x_name: grid} | {n: np.full(grid.shape, v) for n, v in held.items()}
        if series_name is not None:
            inputs[series_name] = np.full(grid.shape, value)
        part = fit.predict(pd.DataFrame(inputs), group=group, ci_prob=ci_prob)
        part["series"] = value
        parts.append(part)
    out = pd.concat(parts, ignore_index=True)
    out["extrapolated"] = out[x_name] > largest
    out.attrs.update(
        x=x_name, series=series_name, held=held, largest_observed=largest, ci_prob=ci_prob
    )
    return out


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
    frame = fit.fitted_observations().frame
    series = np.unique(next(iter(curves.values()))["series"].to_numpy())
    cmap = colormaps["viridis"]
    colors = {v: cmap(0.9 * i / max(len(series) - 1, 1)) for i, v in enumerate(series)}
    ncols = min(3, len(groups))
    nrows = -(-len(groups) // ncols)
    width = max(8.5, PANEL_W * ncols + 1.8)  # room for the title over a single panel
    fig = Figure(figsize=(width, PANEL_H * nrows + 0.7), layout="constrained")
    axes = fig.subplots(nrows, ncols, squeeze=False, sharey=True)
    for ax, g in zip(axes.flat, groups, strict=False):
        _law_panel(ax, curves[g], frame[frame[GROUP] == g], colors, g, fit)
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
            observed[fit.fitted_observations().target],
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
