"""Effects of the levels of one crossed factor (a forest plot per factor, by ``arviz_plots``).

A fit of crossed factors (model x dataset) learns, for every identified coordinate of the
law (the loss at the reference point, log-slopes, exponents: :mod:`bayeslaw.models.anchors`),
one effect per level of each factor on the coordinate's link scale
(:mod:`bayeslaw.models.hierarchical`). :func:`factor_effects` is their summary table;
:func:`plot_factor_effects` draws them with ``arviz_plots.plot_forest`` (posterior median,
50% and 90% equal-tailed intervals) against a dashed line at zero, the population mean. A
level to the right raises that coordinate: a higher loss at the reference point, a steeper
power term, a larger exponent.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from bayeslaw.errors import ReportError
from bayeslaw.posterior.fit import CI_PROB, Fit
from bayeslaw.reports.plots.style import detach

__all__ = ["factor_effects", "plot_factor_effects"]


def _effects(fit: Fit, factor: str) -> dict[str, np.ndarray]:
    """Coordinate -> effect draws ``(S, L)`` of ``factor``'s levels, or :class:`ReportError`."""
    effects = fit.draws.effects
    if effects is None:
        why = (
            "it has no crossed factors"
            if not fit.factors
            else f"pooling={fit.draws.pooling!r} has no factor effects"
        )
        raise ReportError(f"this fit has no factor effects to show: {why}")
    if factor not in fit.factors:
        raise ReportError(f"{factor!r} is not a factor of this fit; factors: {fit.factors}")
    return {coord: by_factor[factor][0] for coord, by_factor in effects.items()}


def factor_effects(fit: Fit, factor: str, *, ci_prob: float = CI_PROB) -> pd.DataFrame:
    """One row per (coordinate, level) of ``factor``: ``median``, ``lower``, ``upper`` (ETI at
    ``ci_prob``) of the level's effect on the link scale, and ``sigma_median``, the median
    spread of that factor's effects (what a new level draws from)."""
    tail = (1 - ci_prob) / 2
    rows = []
    levels = fit.draws.levels[factor]
    assert fit.draws.effects is not None
    for coord, draws in _effects(fit, factor).items():
        sigma = float(np.median(fit.draws.effects[coord][factor][1]))
        lower, median, upper = np.quantile(draws, [tail, 0.5, 1 - tail], axis=0)
        for i, level in enumerate(levels):
            rows.append((coord, level, median[i], lower[i], upper[i], sigma))
    columns = ["coordinate", "level", "median", "lower", "upper", "sigma_median"]
    return pd.DataFrame(rows, columns=columns)


def plot_factor_effects(fit: Fit, *, factor: str) -> Figure:
    """The effects of ``factor``'s levels on every coordinate (``arviz_plots.plot_forest``:
    median, 50% and 90% ETI), one block of rows per coordinate.

    Raises
    ------
    ReportError
        If the fit has no crossed factors (or no population level), or ``factor`` is none
        of them.
    """
    import arviz_plots as azp
    import xarray as xr

    effects = _effects(fit, factor)
    levels = list(fit.draws.levels[factor])
    # "level", not the factor's own name: arviz-plots treats a dimension called "model" as
    # a set of models to compare
    data = {
        coord: xr.DataArray(draws[None], dims=("chain", "draw", "level"), coords={"level": levels})
        for coord, draws in effects.items()
    }
    tree = xr.DataTree.from_dict({"posterior": xr.Dataset(data)})
    plot: Any = azp.plot_forest(
        tree, combined=True, labels=["__variable__", "level"], backend="matplotlib"
    )
    # zero is the population mean: a level whose interval crosses it does not stand out
    forest_ax = np.ravel(plot.viz["trunk"][next(iter(effects))].values)[0].axes
    forest_ax.axvline(0.0, color="0.35", lw=1, ls="--", zorder=0, gid="zero_effect")
    fig = detach(plot)
    what = "MAP point" if fit.draws.n_draws == 1 else "median, 50% and 90% equal-tailed intervals"
    fig.suptitle(
        f"Effects of each {factor} on the law's coordinates (link scale): {what}",
        fontsize="medium",
    )
    return fig
