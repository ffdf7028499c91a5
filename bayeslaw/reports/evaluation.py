"""Extrapolation evaluation, SLDBench's protocol plus what only a Bayesian fit can give.

Fit on the training rows (per group, one hierarchical model), predict the test rows with
posterior means, pool all groups, and score:

- ``r2`` :math:`= 1 - \\text{MSE} / \\text{Var}(y_\\text{test})`, ``nmse`` = MSE / Var,
  ``nmae`` = MAE / mean absolute deviation of the test losses (SLDBench's metrics);
- ``cover50_mean``, ``cover90_mean``: share of test points inside the 50% / 90%
  equal-tailed intervals of the *expected* loss;
- ``cover50_obs``, ``cover90_obs``: the same for a *new observation* (noise included),
  the interval a measured loss should fall in;
- ``width90_obs``: mean width of the 90% observation interval;
- ``elpd``: mean log predictive density of the test losses (a proper score of the whole
  predictive distribution, accuracy and calibration together).

``split_largest`` holds out the largest value of an input (the largest model size) from a
single dataset, for data that has no test split.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from bayeslaw.data import Observations
from bayeslaw.errors import DataError
from bayeslaw.inference.result import Fit, PredictKind

__all__ = ["Evaluation", "evaluate", "score", "split_largest"]

N = "dense_parameter_count"


def split_largest(obs: Observations, *, by: str = N) -> tuple[Observations, Observations]:
    """``(train, test)``: the test rows are those at the largest value of input ``by``."""
    if by not in obs.inputs:
        raise DataError(f"cannot split by {by!r}: the inputs are {list(obs.inputs)}")
    values = obs.frame[by].to_numpy()
    largest = values.max()
    if np.all(values == largest):
        raise DataError(f"every row has {by} = {largest:g}; nothing is left to train on")
    test = values == largest
    return obs.subset(~test), obs.subset(test)


def _log_predictive_density(fit: Fit, rows: pd.DataFrame, group: str) -> np.ndarray:
    """log mean_s p(y | draw s), per row (Normal or Student-t noise)."""
    from scipy import special

    from bayeslaw.inference.pointwise import log_density

    inputs = {k: rows[k].to_numpy() for k in fit.draws.form.inputs}
    mean = fit.draws.mean_draws(inputs, group)
    noise = fit.draws.group_noise(group)[:, None]
    y = rows["loss_validation"].to_numpy()[None, :]
    # an unseen group's draws are tiled: nu is tiled alike
    nu = None if fit.draws.nu is None else np.resize(fit.draws.nu, mean.shape[0])[:, None]
    logp = log_density(y, mean, noise, nu)
    return np.asarray(special.logsumexp(logp, axis=0) - np.log(mean.shape[0]))


def score(fit: Fit, test: Observations) -> tuple[dict[str, float], pd.DataFrame]:
    """Metrics of ``fit`` on ``test`` (pooled over groups) and the per-point table."""
    parts = []
    for group in test.groups:
        rows = test.frame[test.frame["group"] == group]
        point = fit.predict(rows, group=group, ci_prob=0.9)[["mean", "lower", "upper"]]
        point.index = rows.index
        for prob, tag in ((0.5, "50"), (0.9, "90")):
            kinds: tuple[tuple[PredictKind, str], ...] = (
                ("mean", "mean"),
                ("observation", "obs"),
            )
            for kind, short in kinds:
                band = fit.predict(rows, group=group, ci_prob=prob, kind=kind)
                point[f"lo{tag}_{short}"] = band["lower"].to_numpy()
                point[f"hi{tag}_{short}"] = band["upper"].to_numpy()
        point["log_density"] = _log_predictive_density(fit, rows, group)
        parts.append(pd.concat([rows, point], axis=1))
    table = pd.concat(parts).sort_index()
    y, pred = table["loss_validation"].to_numpy(), table["mean"].to_numpy()
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
    for tag in ("50", "90"):
        for short in ("mean", "obs"):
            inside = (table[f"lo{tag}_{short}"] <= y) & (y <= table[f"hi{tag}_{short}"])
            metrics[f"cover{tag}_{short}"] = float(inside.mean())
    metrics["width90_obs"] = float((table["hi90_obs"] - table["lo90_obs"]).mean())
    metrics["width90_mean"] = float((table["hi90_mean"] - table["lo90_mean"]).mean())
    return metrics, table


@dataclass(frozen=True)
class Evaluation:
    """Scores of every (form, pooling) fitted on ``train`` and scored on ``test``."""

    table: pd.DataFrame
    points: Mapping[tuple[str, str], pd.DataFrame]
    train_source: str
    test_source: str

    def to_markdown(self, digits: int = 3) -> str:
        return str(self.table.round(digits).to_markdown())

    def to_dict(self) -> dict[str, Any]:
        return {
            "train": self.train_source,
            "test": self.test_source,
            "rows": self.table.reset_index().to_dict(orient="records"),
        }


def evaluate(
    train: Observations,
    test: Observations,
    *,
    forms: Sequence[str] = ("moe_additive",),
    poolings: Sequence[str] = ("partial",),
    random_seed: int = 0,
    **fit_kwargs: Any,
) -> Evaluation:
    """Fit each (form, pooling) on ``train`` by NUTS and score it on ``test``."""
    from bayeslaw.inference.fitting import fit

    rows, points = [], {}
    for form in forms:
        for pooling in poolings:
            result = fit(train, form=form, pooling=pooling, random_seed=random_seed, **fit_kwargs)
            metrics, table = score(result, test)
            metrics["fit_s"] = result.wall_time
            metrics["divergences"] = (
                float(result.datatree["sample_stats"]["diverging"].sum())
                if "sample_stats" in result.datatree.children
                else 0.0
            )
            rows.append({"form": result.form_name, "pooling": pooling, **metrics})
            points[(result.form_name, pooling)] = table
    frame = pd.DataFrame(rows).set_index(["form", "pooling"])
    return Evaluation(frame, points, train.source, test.source)
