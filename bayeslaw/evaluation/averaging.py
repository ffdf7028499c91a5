"""Averaging over laws: stacking weights from held-out extrapolation, and the averaged fit.

``bayeslaw.fit(obs, form=["a", "b", ...])`` fits each form on the training data less its
largest size, scores the held-out rows' log predictive densities
(:func:`~bayeslaw.evaluation.comparison.extrapolation_scores`), and weights the forms by
**stacking** those predictive distributions (Yao et al. 2018; ArviZ's own optimiser,
``arviz_stats.compare(method="stacking")``, fed the held-out pointwise densities as a one-fold
cross-validation). Forms with weight below :data:`MIN_WEIGHT` are dropped and the rest
renormalised; each remaining form is refitted on all the data, and the
:class:`~bayeslaw.posterior.averaged.AveragedFit` predicts with their mixture. A form clearly
better on the held-out size gets weight near 1; forms that tie share it.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

import numpy as np

from bayeslaw.data import Observations
from bayeslaw.errors import CalibrationWarning, FormError
from bayeslaw.evaluation.comparison import extrapolation_scores, poor_extrapolation
from bayeslaw.inference import fitting
from bayeslaw.models.forms import LawForm
from bayeslaw.models.registry import get_form
from bayeslaw.posterior.averaged import AveragedFit

__all__ = ["MIN_WEIGHT", "SELECTED_BY", "average_forms", "stacking_weights"]

#: How each averaged fit's record says it was chosen.
SELECTED_BY = "average: stacking weights on the held-out largest size"

#: Forms weighted below this are left out of the average (and the rest renormalised).
MIN_WEIGHT = 0.01


def stacking_weights(pointwise: Mapping[str, np.ndarray]) -> dict[str, float]:
    """Stacking weights of forms from their pointwise held-out log predictive densities
    (equal lengths), by ``arviz_stats.compare(method="stacking")``."""
    import arviz_stats as azs
    import xarray as xr
    from arviz_stats.utils import ELPDDataLOOKFold

    if len(pointwise) == 1:
        return {next(iter(pointwise)): 1.0}
    elpds = {}
    for name, values in pointwise.items():
        values = np.asarray(values, dtype=float)
        elpds[name] = ELPDDataLOOKFold(
            elpd=float(values.sum()),
            se=float(np.sqrt(len(values) * values.var())),
            p=0.0,
            n_samples=0,
            n_data_points=len(values),
            scale="log",
            warning=False,
            good_k=None,  # type: ignore[arg-type]  # k-fold has no Pareto k (ArviZ sets None)
            elpd_i=xr.DataArray(values, dims=["obs_id"]),
            n_folds=1,
        )
    table = azs.compare(elpds, method="stacking", round_to="none")
    return {name: float(table.loc[name, "weight"]) for name in pointwise}


def average_forms(
    obs: Observations,
    forms: Sequence[str | LawForm],
    *,
    random_seed: int | None = None,
    **fit_kwargs: Any,
) -> AveragedFit:
    """Fit every form in ``forms`` and average them by stacking (see the module docstring).

    ``fit_kwargs`` go to every fit (:func:`bayeslaw.inference.fitting.fit`). The weights
    (before dropping small ones) are in ``result.stacking``.
    """
    laws = [get_form(f) for f in forms]
    names = [law.name for law in laws]
    if len(set(names)) != len(names):
        raise FormError(f"averaging needs distinct forms, got {names}")
    inner = {k: v for k, v in fit_kwargs.items() if k not in ("progressbar", "check")}
    seed = random_seed or 0
    checks, pointwise = extrapolation_scores(
        obs, laws, random_seed=seed, progressbar=False, check=False, **inner
    )
    weights = stacking_weights(pointwise)
    kept = [law for law in laws if weights[law.name] >= MIN_WEIGHT]
    total = sum(weights[law.name] for law in kept)
    fits = []
    for law in kept:
        component = fitting.fit(obs, form=law, random_seed=random_seed, **fit_kwargs)
        component.record = replace(
            component.record, form_selected_by=SELECTED_BY, extrapolation=checks
        )
        fits.append(component)
    top = max(kept, key=lambda law: weights[law.name]).name
    problem = poor_extrapolation(top, checks[top])
    if problem and fit_kwargs.get("check", True):
        warnings.warn(f"{problem} (it carries {weights[top]:.0%} of the average)",
                      CalibrationWarning, stacklevel=2)  # fmt: skip
    return AveragedFit(tuple(fits), tuple(weights[law.name] / total for law in kept), weights)
