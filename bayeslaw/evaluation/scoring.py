r"""Scoring a fit on held-out rows: SLDBench's metrics plus what only a Bayesian fit gives.

Predict the test rows with posterior means, pool all groups, and score:

- ``r2`` :math:`= 1 - \text{MSE} / \text{Var}(y_\text{test})`, ``nmse`` = MSE / Var,
  ``nmae`` = MAE / mean absolute deviation of the test losses (SLDBench's metrics);
- ``cover50_mean``, ``cover90_mean``: share of test points inside the 50% / 90%
  equal-tailed intervals of the *expected* loss;
- ``cover50_obs``, ``cover90_obs``: the same for a *new observation* (noise included),
  the interval a measured loss should fall in;
- ``width90_obs``, ``width90_mean``: mean width of the 90% intervals;
- ``elpd``: mean log predictive density of the test losses (a proper score of the whole
  predictive distribution, accuracy and calibration together).

:func:`split_largest` holds out the largest value of an input (the largest model size) from a
single dataset, for data that has no test split.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from bayeslaw.data import GROUP, Observations
from bayeslaw.errors import DataError
from bayeslaw.posterior.fit import PredictKind, Predicts

__all__ = ["INTERVALS", "score", "split_largest"]

#: The interval probabilities scored, with their column tags.
INTERVALS = ((0.5, "50"), (0.9, "90"))
_KINDS: tuple[tuple[PredictKind, str], ...] = (("mean", "mean"), ("observation", "obs"))


def split_largest(obs: Observations, *, by: str | None = None) -> tuple[Observations, Observations]:
    """``(train, test)``: the test rows are those at the largest value of input ``by``
    (default: the first input, the model size for the MoE data)."""
    by = obs.inputs[0] if by is None else by
    if by not in obs.inputs:
        raise DataError(f"cannot split by {by!r}: the inputs are {list(obs.inputs)}")
    values = obs.frame[by].to_numpy()
    largest = values.max()
    if np.all(values == largest):
        raise DataError(f"every row has {by} = {largest:g}; nothing is left to train on")
    test = values == largest
    return obs.subset(~test), obs.subset(test)


def _eti(draws: np.ndarray, prob: float) -> tuple[np.ndarray, np.ndarray]:
    tail = (1 - prob) / 2
    lower, upper = np.quantile(draws, [tail, 1 - tail], axis=0)
    return lower, upper


def _score_group(fit: Predicts, rows: pd.DataFrame, group: str, target: str) -> pd.DataFrame:
    """Per-row predictions, intervals and log predictive density of one group."""
    inputs = {k: rows[k].to_numpy() for k in fit.inputs}
    draws = {kind: fit.predictive_draws(inputs, group=group, kind=kind) for kind, _ in _KINDS}
    out = pd.DataFrame({"mean": draws["mean"].mean(axis=0)}, index=rows.index)
    lower, upper = _eti(draws["mean"], 0.9)
    out["lower"], out["upper"] = lower, upper
    for prob, tag in INTERVALS:
        for kind, short in _KINDS:
            lower, upper = _eti(draws[kind], prob)
            out[f"lo{tag}_{short}"], out[f"hi{tag}_{short}"] = lower, upper
    predictive = fit.predictive(inputs, group)
    out["log_density"] = predictive.log_predictive_density(rows[target].to_numpy())
    return out


def score(fit: Predicts, test: Observations) -> tuple[dict[str, float], pd.DataFrame]:
    """Metrics of ``fit`` on ``test`` (pooled over groups) and the per-point table."""
    frame = test.frame
    parts = []
    for group in test.groups:
        rows = frame[frame[GROUP] == group]
        parts.append(pd.concat([rows, _score_group(fit, rows, group, test.target)], axis=1))
    table = pd.concat(parts).sort_index()
    y, pred = table[test.target].to_numpy(), table["mean"].to_numpy()
    err = y - pred
    var = float(np.var(y))
    if var == 0:
        raise DataError("the test losses have zero variance; R^2 and NMSE are undefined")
    metrics = {
        "n_test": float(len(y)),
        "r2": 1 - float(np.mean(err**2)) / var,
        "nmse": float(np.mean(err**2)) / var,
        "nmae": float(np.mean(np.abs(err))) / float(np.mean(np.abs(y - y.mean()))),
        "elpd": float(table["log_density"].mean()),
    }
    for _, tag in INTERVALS:
        for _, short in _KINDS:
            inside = (table[f"lo{tag}_{short}"] <= y) & (y <= table[f"hi{tag}_{short}"])
            metrics[f"cover{tag}_{short}"] = float(inside.mean())
    metrics["width90_obs"] = float((table["hi90_obs"] - table["lo90_obs"]).mean())
    metrics["width90_mean"] = float((table["hi90_mean"] - table["lo90_mean"]).mean())
    return metrics, table
