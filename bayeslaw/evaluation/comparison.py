"""Model comparison: PSIS-LOO and extrapolation cross-validation; ``form="auto"``.

Two questions, two scores:

- **In-sample predictive fit** -- PSIS-LOO (``arviz_stats.loo`` / ``compare``): ELPD, its
  difference to the best form, stacking weights, and the number of points with Pareto
  k above arviz' sample-size-aware ``good_k`` (<= 0.7; where the LOO estimate is
  unreliable).
- **Extrapolation** -- hold out the largest model size *of the training data*, fit on the
  rest, and score the held-out rows (:func:`bayeslaw.evaluation.scoring.score`): mean log
  predictive density (``extrap_elpd``), R^2, and 90% observation-interval coverage.

The ``form="auto"`` rule (:mod:`bayeslaw.evaluation.selection`) ranks forms by the
extrapolation ELPD computed here.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from bayeslaw.data import Observations
from bayeslaw.errors import FormError
from bayeslaw.evaluation.scoring import score, split_largest
from bayeslaw.inference.fitting import fit
from bayeslaw.models.forms import LawForm
from bayeslaw.models.registry import get_form

__all__ = [
    "MIN_EXTRAP_COVER90",
    "MOE_FORMS",
    "compare_forms",
    "extrapolation_scores",
    "poor_extrapolation",
]

#: Below this 90%-interval coverage of the held-out largest size, a chosen law is flagged.
MIN_EXTRAP_COVER90 = 0.7

#: The MoE forms compared by default.
MOE_FORMS = ("moe_additive", "moe_multiplicative", "moe_interaction")


def _loo_table(fits: dict[str, Any]) -> pd.DataFrame:
    with warnings.catch_warnings():
        # high Pareto k is reported per form in the table ("pareto_k_bad")
        warnings.filterwarnings("ignore", message="Estimated shape parameter of Pareto")
        return _loo_rows({name: f.datatree for name, f in fits.items()})


def _loo_rows(trees: dict[str, Any]) -> pd.DataFrame:
    import arviz_stats as azs

    rows = {}
    for name, tree in trees.items():
        elpd = azs.loo(tree, pointwise=True, var_name="loss")
        # the same sample-size-aware threshold as the diagnostics report (arviz_stats'
        # good_k = min(1 - 1/log10(S), 0.7))
        bad_k = int((elpd.pareto_k.values > float(elpd.good_k)).sum())
        rows[name] = {"elpd_loo": float(elpd.elpd), "se_loo": float(elpd.se),
                      "p_loo": float(elpd.p), "pareto_k_bad": bad_k}  # fmt: skip
    table = pd.DataFrame(rows).T
    if len(trees) > 1:
        cmp = azs.compare(trees, var_name="loss", round_to="none")
        table["elpd_diff"] = cmp["elpd_diff"]
        table["weight"] = cmp["weight"]
    else:
        table["elpd_diff"], table["weight"] = 0.0, 1.0
    return table


def extrapolation_scores(
    obs: Observations,
    forms: Sequence[str | LawForm],
    *,
    random_seed: int = 0,
    **fit_kwargs: Any,
) -> tuple[dict[str, dict[str, float]], dict[str, np.ndarray]]:
    """Fit each form on ``obs`` less its largest size and score the held-out rows.

    Returns
    -------
    (metrics, pointwise)
        Per form name: ``extrap_elpd``, ``extrap_r2``, ``extrap_cover90``; and the
        held-out rows' log predictive densities (what stacking weights are computed from).
    """
    if not forms:
        raise FormError("at least one form is needed")
    inner_train, inner_test = split_largest(obs)
    metrics, pointwise = {}, {}
    for name in forms:
        law = get_form(name)
        cv = fit(inner_train, form=law, random_seed=random_seed, **fit_kwargs)
        scores, table = score(cv, inner_test)
        metrics[law.name] = {
            "extrap_elpd": scores["elpd"],
            "extrap_r2": scores["r2"],
            "extrap_cover90": scores["cover90_obs"],
        }
        pointwise[law.name] = table["log_density"].to_numpy()
    return metrics, pointwise


def poor_extrapolation(name: str, metrics: Mapping[str, float]) -> str | None:
    """Why form ``name``'s held-out check is poor (90% coverage below
    :data:`MIN_EXTRAP_COVER90` or R^2 below 0), or None."""
    cover, r2 = metrics["extrap_cover90"], metrics["extrap_r2"]
    if cover >= MIN_EXTRAP_COVER90 and r2 >= 0:
        return None
    return (
        f"the chosen law {name} extrapolated poorly to the training data's own largest size: "
        f"90% intervals covered {cover:.0%} of those runs and R^2 was {r2:.2f}. Its "
        "predictions of larger models deserve less trust than their intervals claim; try "
        "other forms (form=[...] averages them), a log-scale likelihood, or more sizes"
    )


def compare_forms(
    obs: Observations,
    forms: Sequence[str | LawForm] = MOE_FORMS,
    *,
    pooling: str = "partial",
    random_seed: int = 0,
    loo: bool = True,
    **fit_kwargs: Any,
) -> pd.DataFrame:
    """Compare forms by PSIS-LOO on ``obs`` and by extrapolation to its largest size.

    Returns
    -------
    pandas.DataFrame
        One row per form, sorted best first by ``extrap_elpd``: ``extrap_elpd``,
        ``extrap_r2``, ``extrap_cover90``, and with ``loo=True`` ``elpd_loo``, ``se_loo``,
        ``p_loo``, ``pareto_k_bad`` (observations with Pareto k above ``good_k``),
        ``elpd_diff``, ``weight``.
    """
    extrap, _ = extrapolation_scores(
        obs, forms, pooling=pooling, random_seed=random_seed, **fit_kwargs
    )
    full = {}
    if loo:
        for name in forms:
            law = get_form(name)
            full[law.name] = fit(obs, form=law, pooling=pooling, random_seed=random_seed,
                                 **fit_kwargs)  # fmt: skip
    table = pd.DataFrame(extrap).T
    if loo:
        table = table.join(_loo_table(full))
    table.index.name = "form"
    return table.sort_values("extrap_elpd", ascending=False)
