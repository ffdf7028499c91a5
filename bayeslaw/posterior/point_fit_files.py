"""The point-fit predictor's ``params.json`` and ``explain.md``, written beside every fit.

The predictor bayeslaw replaces left these two files; a saved fit keeps them, now with
posterior means *and* equal-tailed intervals (raw input units), built from
:meth:`Fit.params <bayeslaw.posterior.fit.Fit.params>` and the fit's record.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from bayeslaw.posterior.record import FitRecord

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["explain_text", "params_payload"]


def params_payload(record: FitRecord, params: pd.DataFrame, ci_prob: float) -> dict[str, Any]:
    """``params.json``: coefficients (posterior mean or MAP) and intervals per group."""
    coefficients: dict[str, dict[str, float]] = {}
    intervals: dict[str, dict[str, list[float]]] = {}
    flat = params.reset_index()
    for row in flat.itertuples(index=False):
        group, name = str(row.group), str(row.parameter)
        coefficients.setdefault(group, {})[name] = float(row.mean)  # type: ignore[arg-type]
        bounds = [float(row.lower), float(row.upper)]  # type: ignore[arg-type]
        intervals.setdefault(group, {})[name] = bounds
    return {
        "formula": record.model.equation,
        "form": record.form,
        "fitted_on": record.provenance.created,
        "dataset": record.provenance.data_source,
        "estimate": "MAP" if record.sampling.is_map else "posterior mean",
        "ci_prob": ci_prob,
        "ci_kind": "equal-tailed",
        "coefficients": coefficients,
        "intervals": intervals,
        "reference_scales": dict(record.model.scales),
    }


def explain_text(record: FitRecord, params: pd.DataFrame, ci_prob: float) -> str:
    """``explain.md``: the law, how it was fitted, and the coefficient table."""
    table = params.round(6).reset_index()
    tail = (1 - ci_prob) / 2
    m = record.model
    lines = [
        f"# Fitted scaling law: {m.form}",
        "",
        f"    {m.equation}",
        "",
        f"Fitted by {record.method.upper()} with {m.pooling} pooling, "
        f"{m.likelihood} likelihood, on {record.provenance.n_observations} rows of "
        f"{record.provenance.data_source} in {record.wall_time_s:.1f} s.",
        f"Coefficients are in raw input units: posterior mean, median and {ci_prob:.0%} "
        "equal-tailed interval.",
        "The `<population>` rows are the parameters of a group not in the data.",
        "",
        f"| group | parameter | mean | median | {tail:.0%} | {1 - tail:.0%} |",
        "|---|---|---:|---:|---:|---:|",
        *(
            f"| {r.group} | {r.parameter} | {r.mean:.6g} | {r.median:.6g} | {r.lower:.6g} "
            f"| {r.upper:.6g} |"
            for r in table.itertuples()
        ),
        "",
    ]
    return "\n".join(lines)
