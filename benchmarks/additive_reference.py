"""A reference for the unseen-groups benchmark: how well *any* additive model of two crossed
factors (and the simplest interaction beyond it) can predict a curve never fitted, measured
without a law.

For every held-out curve (a cell of ``sft_finetuning``'s model x dataset or
``overtraining``'s train_dataset x eval_set) and every input value on it, the other curves'
observed losses at exactly that input value are fitted by least squares as

    y[row level, column level] = mu + a[row level] + b[column level]

on the loss (``additive``) and on log(loss) (``additive (log)``), and the fit's value for the
held-out cell is its prediction; ``median`` is the median of those same losses. No law, no
extrapolation along the inputs, no noise model: the prediction sees the other curves' losses
at the held-out curve's own sizes. A crossed-factor model whose cell offsets have mean zero
predicts a new cell from additive level effects (on its law's coordinates rather than on the
loss at each size), so this measures how much of the held-out curves an additive structure
of the two factors explains at all; it is a reference, not a bound (the law pools across
sizes and is additive on other scales).

``rank-1 (log), ridge lambda`` adds a rank-one interaction ``u[row level] * v[column
level]`` on log(loss) (each row level scales the column levels' deviations by a factor of
its own), fitted by alternating ridge regressions (penalty lambda on ``u`` and ``v``): what
the simplest interaction beyond additive structure could add. lambda is not tuned on
held-out data; the grid shows how much the answer depends on it (lambda -> infinity is the
additive fit on log loss), and its best row is optimistic (chosen after seeing every
held-out curve).

``additive + family`` (and its ``(log)``) adds the family interaction of
:data:`common.FAMILY_FACTORS` as a third term, over-training only (:data:`FAMILY_REFERENCE`):
the validation set's source corpus with the training corpus, its effects a pure interaction
(zero-sum over each margin), so a held-out curve on one C4 validation set is carried by
the same corpus's curve on the other.

A prediction needs the held-out cell's two levels among the other curves at that input value
and the additive fit to determine it (a connected design); inputs where it does not are
counted (``not predicted``), never dropped silently.

    python benchmarks/additive_reference.py [--datasets sft_finetuning,overtraining]
        [--json PATH]
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pandas as pd
from common import FACTORS, datasets_main, real_observations, text_table

from bayeslaw.groups import INTERACTION
from bayeslaw.models.nesting import nested_in, zero_sum_basis

#: ridge penalties of the rank-one reference
RIDGES = (0.03, 0.1, 0.3, 1.0)
#: The datasets whose family interaction the reference fits. On fine-tuning the other curves
#: at one size determine the held-out cell's additive and family effects on none of its 408
#: rows (measured 2026-12-07), so a fit with the family term would leave every row out.
FAMILY_REFERENCE = ("overtraining",)


def additive_prediction(
    y: np.ndarray,
    rows: Sequence[str],
    cols: Sequence[str],
    row: str,
    col: str,
    extra: tuple[Sequence[str], str] | None = None,
) -> float | None:
    """The least-squares two-way additive fit of ``y`` (levels ``rows`` x ``cols``) at the
    cell (``row``, ``col``), or None where the fit does not determine it (a level absent,
    or the design not connected).

    ``extra``: a third factor's level per entry of ``y`` and the cell's (a family
    interaction, ``"a:b"`` labels), its effects zero-sum within each level of the factors
    it is nested in (the crossed model's constraints) and of each column it is built from
    (ANOVA's: a pure interaction, its margins left to the main effects;
    :func:`bayeslaw.models.nesting.zero_sum_basis`); a level the other curves lack adds
    nothing (its expected effect, as for the model).
    """
    row_levels = sorted(set(rows))
    col_levels = sorted(set(cols))
    if row not in row_levels or col not in col_levels:
        return None
    design = np.zeros((len(y), 1 + len(row_levels) + len(col_levels)))
    design[:, 0] = 1.0
    for i, (r, c) in enumerate(zip(rows, cols, strict=True)):
        design[i, 1 + row_levels.index(r)] = 1.0
        design[i, 1 + len(row_levels) + col_levels.index(c)] = 1.0
    target = np.zeros(design.shape[1])
    target[[0, 1 + row_levels.index(row), 1 + len(row_levels) + col_levels.index(col)]] = 1.0
    if extra is not None:
        columns = _interaction_columns(rows, cols, *extra)
        design = np.hstack([design, columns[:-1]])
        target = np.concatenate([target, columns[-1]])
    # estimable: the target row lies in the design's row space
    pinv = np.linalg.pinv(design)
    if not np.allclose(target @ pinv @ design, target, atol=1e-8):
        return None
    return float(target @ pinv @ np.asarray(y, dtype=np.float64))


def _interaction_columns(
    rows: Sequence[str], cols: Sequence[str], labels: Sequence[str], label: str
) -> np.ndarray:
    """The third factor's design columns, one per free direction of its effects (see
    :func:`additive_prediction`), for every entry and, as the last row, for the held-out
    ``label`` (zeros for a level the entries lack)."""
    levels = sorted(set(labels))
    index = {name: np.unique(np.asarray(v), return_inverse=True)[1]
             for name, v in (("rows", rows), ("cols", cols), ("extra", labels))}  # fmt: skip
    parents = [index[f] for f in nested_in(index).get("extra", ())]
    parts = zip(*(str(x).split(INTERACTION) for x in labels), strict=True)
    parents += [np.unique(np.asarray(part), return_inverse=True)[1] for part in parts]
    basis = zero_sum_basis(index["extra"], len(levels), parents)
    held_out = basis[levels.index(label)] if label in levels else np.zeros(basis.shape[1])
    return np.vstack([basis[index["extra"]], held_out])


def rank_one_prediction(
    y: np.ndarray,
    rows: Sequence[str],
    cols: Sequence[str],
    row: str,
    col: str,
    *,
    ridge: float,
    iterations: int = 200,
) -> float | None:
    """``mu + a[row] + b[col] + u[row] * v[col]`` fitted to ``y`` by alternating least
    squares (ridge ``ridge`` on ``u`` and ``v``; fixed start, seed 0), at the cell (``row``,
    ``col``); None where its additive part is not determined (as
    :func:`additive_prediction`)."""
    y = np.asarray(y, dtype=np.float64)
    if additive_prediction(y, rows, cols, row, col) is None:
        return None
    row_levels, r = np.unique(np.asarray(rows), return_inverse=True)
    col_levels, c = np.unique(np.asarray(cols), return_inverse=True)
    n_r, n_c = len(row_levels), len(col_levels)
    per_row, per_col = np.bincount(r, minlength=n_r), np.bincount(c, minlength=n_c)
    rng = np.random.default_rng(0)
    u, v = rng.normal(0.0, 0.1, n_r), rng.normal(0.0, 0.1, n_c)
    mu, a, b = float(y.mean()), np.zeros(n_r), np.zeros(n_c)
    for _ in range(iterations):
        interaction = u[r] * v[c]
        a = np.bincount(r, y - mu - b[c] - interaction, n_r) / per_row
        b = np.bincount(c, y - mu - a[r] - interaction, n_c) / per_col
        mu = float(np.mean(y - a[r] - b[c] - interaction))
        residual = y - mu - a[r] - b[c]
        u = np.bincount(r, v[c] * residual, n_r) / (np.bincount(r, v[c] ** 2, n_r) + ridge)
        v = np.bincount(c, u[r] * residual, n_c) / (np.bincount(c, u[r] ** 2, n_c) + ridge)
    i, j = int(np.searchsorted(row_levels, row)), int(np.searchsorted(col_levels, col))
    return float(mu + a[i] + b[j] + u[i] * v[j])


def _on_log(predict: Callable[..., float | None]) -> Callable[..., float | None]:
    """``predict`` fitted to log(loss), its prediction back on the loss scale."""

    def on_log(y: np.ndarray, *args: Any) -> float | None:
        value = predict(np.log(y), *args)
        return None if value is None else float(np.exp(value))

    return on_log


#: predictor name -> prediction(y, rows, cols, row, col) on the loss scale, None where the
#: other curves do not determine it
PREDICTORS: dict[str, Callable[..., float | None]] = {
    "additive": additive_prediction,
    "additive (log)": _on_log(additive_prediction),
    **{
        f"rank-1 (log), ridge {ridge:g}": _on_log(
            functools.partial(rank_one_prediction, ridge=ridge)
        )
        for ridge in RIDGES
    },
}

#: with a family interaction (:data:`common.FAMILY_FACTORS`) as a third factor, on the
#: datasets of :data:`FAMILY_REFERENCE`
FAMILY_PREDICTORS: dict[str, Callable[..., float | None]] = {
    "additive + family": additive_prediction,
    "additive + family (log)": _on_log(additive_prediction),
}


def held_out_errors(
    frame: pd.DataFrame, inputs: Sequence[str], target: str, factors: Sequence[str]
) -> dict[str, Any]:
    """Squared errors of each predictor over every row of every held-out cell; ``frame``
    has the input, target and factor columns and ``group`` (the cell)."""
    first, second, *family = factors
    predictors = dict(PREDICTORS)
    if family:  # the family interaction's level of each entry, on the loss and its log
        predictors |= FAMILY_PREDICTORS
    errors: dict[str, list[float]] = {name: [] for name in (*predictors, "median")}
    per_curve: dict[str, dict[str, float]] = {}
    missed = 0
    keys = pd.Series(list(zip(*(frame[x] for x in inputs), strict=True)), index=frame.index)
    for cell, rows in frame.groupby("group", sort=True):
        curve: dict[str, list[float]] = {name: [] for name in errors}
        others = frame[frame["group"] != cell]
        other_keys = keys.loc[others.index]
        for index, row in rows.iterrows():
            same = others[(other_keys == keys.loc[index]).to_numpy()]
            y = same[target].to_numpy()
            truth = float(row[target])
            found = {}
            for name, predict in predictors.items():
                args = [y, list(same[first]), list(same[second]), row[first], row[second]]
                if name in FAMILY_PREDICTORS:
                    args.append((list(same[family[0]]), row[family[0]]))
                value = predict(*args)
                if value is not None:
                    found[name] = value
            if len(found) < len(predictors):
                missed += 1
                continue
            found["median"] = float(np.median(y))
            for name, value in found.items():
                curve[name].append((value - truth) ** 2)
        for name, values in curve.items():
            errors[name].extend(values)
        if curve["median"]:
            per_curve[str(cell)] = {name: float(np.mean(v)) for name, v in curve.items()}
    return {"errors": errors, "per_curve": per_curve, "not_predicted": missed}


def summarise(measured: dict[str, Any], n_rows: int) -> dict[str, Any]:
    """Pooled MSE per predictor and its ratio to the median's."""
    mse = {name: float(np.mean(v)) for name, v in measured["errors"].items()}
    return {
        "rows": n_rows,
        "predicted": len(measured["errors"]["median"]),
        "not_predicted": measured["not_predicted"],
        "mse": mse,
        "ratio_to_median": {name: value / mse["median"] for name, value in mse.items()},
        "per_curve": measured["per_curve"],
    }


def run(datasets: Sequence[str] = tuple(FACTORS)) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name in datasets:
        obs = real_observations(name, factors=True, families=name in FAMILY_REFERENCE)
        frame = obs.frame
        measured = held_out_errors(frame, obs.inputs, obs.target, obs.factors)
        out[name] = {"curves": int(frame["group"].nunique()), **summarise(measured, len(frame))}
    return out


def format_result(result: dict[str, Any]) -> str:
    rows = [
        [name, r["curves"], r["predicted"], r["not_predicted"], predictor, r["mse"][predictor],
         r["ratio_to_median"][predictor]]
        for name, r in result.items()
        for predictor in r["mse"]
    ]  # fmt: skip
    header = [
        "dataset",
        "curves",
        "rows predicted",
        "not predicted",
        "predictor",
        "MSE",
        "MSE / median",
    ]
    return text_table(header, rows)


def main(argv: list[str] | None = None) -> int:
    return datasets_main(argv, __doc__, FACTORS, run, format_result)


if __name__ == "__main__":
    sys.exit(main())
