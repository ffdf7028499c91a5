"""Each observation against its posterior prediction and credible interval.

:func:`predicted_vs_observed` computes the numbers, :func:`plot_predicted_vs_observed` draws
them. Intervals are equal-tailed at ``ci_prob`` (default 90%).

Named parts (``{g}`` a group): ``points:{g}``, ``intervals:{g}``, ``identity``,
``residuals:{g}``, ``interval_band``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from bayeslaw.data import GROUP
from bayeslaw.posterior.fit import CI_PROB, Fit, PredictKind
from bayeslaw.reports.plots.law import law_axes
from bayeslaw.reports.plots.style import group_colors, pct, plain_log_axis

__all__ = ["dodge", "interval_position", "plot_predicted_vs_observed", "predicted_vs_observed"]


def predicted_vs_observed(
    fit: Fit, *, ci_prob: float = CI_PROB, kind: PredictKind = "observation"
) -> pd.DataFrame:
    """Each observation beside its posterior prediction and ETI.

    Returns
    -------
    pandas.DataFrame
        The observation's inputs, ``group``, ``observed``, ``mean``, ``lower``, ``upper`` and
        ``inside`` (observed within the interval); ``kind="observation"`` (default) gives the
        interval for a new measurement (noise included), ``"mean"`` for the expected loss.
    """
    obs = fit.fitted_observations()
    parts = []
    for group in obs.groups:
        rows = obs.frame[obs.frame[GROUP] == group]
        pred = fit.predict(rows, group=group, ci_prob=ci_prob, kind=kind)
        pred.index = rows.index
        pred.insert(0, "observed", rows[obs.target].to_numpy())
        parts.append(pred)
    out = pd.concat(parts).sort_index()
    out["inside"] = (out["lower"] <= out["observed"]) & (out["observed"] <= out["upper"])
    out.attrs.update(ci_prob=ci_prob, kind=kind)
    return out


def interval_position(table: Any) -> Any:
    """(observed - mean) over the distance from the mean to the interval bound on the
    observation's side: within [-1, 1] exactly when the observation is inside."""
    above = table["observed"] >= table["mean"]
    bound = table["upper"].where(above, table["lower"])
    span = (bound - table["mean"]).abs().replace(0.0, np.nan)
    return (table["observed"] - table["mean"]).abs() / span * np.where(above, 1.0, -1.0)


def dodge(table: Any, index: Any, x_name: str, width: float = 0.1) -> np.ndarray:
    """x positions of ``table.loc[index]`` spread over ``width`` decades around each
    distinct x (in table order), so that intervals at one model size do not overlap."""
    x = table[x_name]
    position = x.groupby(x).cumcount()
    count = x.map(x.value_counts())
    offset = width * ((position + 0.5) / count - 0.5)
    return np.asarray(x.loc[index] * 10 ** offset.loc[index], dtype=np.float64)


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
    for g, rows in table.groupby(GROUP, sort=False):
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
