"""The numbers behind each plot, as DataFrames: compute here, draw in :mod:`.plots`.

Every interval is equal-tailed (ETI) at ``ci_prob``, by default
:data:`~bayeslaw.inference.result.CI_PROB` (90%), and every parameter is in raw input units.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from bayeslaw.data import Observations
from bayeslaw.errors import FitNotReadyError, ReportError
from bayeslaw.inference.result import CI_PROB, POPULATION, Fit, PredictKind

__all__ = [
    "ReportError",
    "dodge",
    "group_forest",
    "interval_position",
    "law_axes",
    "law_curves",
    "observations_of",
    "predicted_vs_observed",
    "series_values",
]

N = "dense_parameter_count"
#: Most curves drawn per panel of :func:`~bayeslaw.reports.plots.plot_law`.
MAX_SERIES = 5
#: Default extrapolation: this many times the largest observed size.
EXTRAPOLATION_FACTOR = 10.0


def observations_of(fit: Fit) -> Observations:
    """``fit.observations``, or :class:`FitNotReadyError` saying how to attach them."""
    if fit.observations is None:
        raise FitNotReadyError(
            "this fit carries no observations (a fit loaded from disk keeps only its "
            "posterior); attach them first: fit.observations = load_observations(...)"
        )
    return fit.observations


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
    obs = observations_of(fit)
    x_name, series_name = law_axes(fit)
    frame = obs.frame
    rows = frame[frame["group"] == group]
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
    obs = observations_of(fit)
    parts = []
    for group in obs.groups:
        rows = obs.frame[obs.frame["group"] == group]
        pred = fit.predict(rows, group=group, ci_prob=ci_prob, kind=kind)
        pred.index = rows.index
        pred.insert(0, "observed", rows["loss_validation"].to_numpy())
        parts.append(pred)
    out = pd.concat(parts).sort_index()
    out["inside"] = (out["lower"] <= out["observed"]) & (out["observed"] <= out["upper"])
    out.attrs.update(ci_prob=ci_prob, kind=kind)
    return out


def group_forest(fit: Fit, *, ci_prob: float = CI_PROB) -> pd.DataFrame:
    """Per-group and population-level parameters in raw units: mean, median and ETI.

    The population rows (partial pooling only) describe a new group drawn from the
    population distribution, labelled ``<population>`` as in :meth:`Fit.params`.

    Returns
    -------
    pandas.DataFrame
        ``group``, ``parameter``, ``mean``, ``median``, ``lower``, ``upper``, ``population``.
    """
    draws = fit.draws
    groups = list(draws.groups) + ([POPULATION] if draws.pooling == "partial" else [])
    tail = (1 - ci_prob) / 2
    rows = []
    for group in groups:
        theta = draws.form.to_raw(draws.group_theta(group), draws.scales)
        for name in draws.form.parameter_names:
            lower, median, upper = np.quantile(theta[name], [tail, 0.5, 1 - tail])
            mean = float(np.mean(theta[name]))
            rows.append((group, name, mean, median, lower, upper, group == POPULATION))
    columns = ["group", "parameter", "mean", "median", "lower", "upper", "population"]
    out = pd.DataFrame(rows, columns=columns)
    out.attrs.update(ci_prob=ci_prob, pooling=draws.pooling)
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
