"""``bayeslaw.fit``: the one-form fit, plus ``form="auto"``, which chooses by held-out scoring.

The ``form="auto"`` rule: among the applicable forms (:func:`applicable_forms`: the MoE
forms when the data have their inputs, else the literature's families over the data's own
inputs; or the ``candidates`` given), **the form with the highest extrapolation ELPD**: hold out the
largest model size of the training data, fit on the rest, and take the mean log predictive
density of the held-out rows (:func:`bayeslaw.evaluation.comparison.compare_forms`). A proper
scoring rule rewards accurate *and* honestly calibrated predictions of larger models, which is
what scaling laws are for. It only ever looks at the training data it is given, never at a
test split.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import replace
from typing import Any, overload

from bayeslaw.data import Observations, as_observations
from bayeslaw.errors import CalibrationWarning, FormError
from bayeslaw.evaluation.averaging import average_forms
from bayeslaw.evaluation.comparison import MOE_FORMS, compare_forms, poor_extrapolation
from bayeslaw.inference import fitting
from bayeslaw.inference.config import check_random_seed
from bayeslaw.models.forms import LawForm
from bayeslaw.models.registry import DEFAULT_FORM, get_form
from bayeslaw.posterior.averaged import AveragedFit
from bayeslaw.posterior.fit import Fit

__all__ = ["AUTO", "AUTO_CANDIDATES", "applicable_forms", "fit", "select_form"]

#: The form name that asks for the automatic choice.
AUTO = "auto"
#: The MoE forms ``form="auto"`` considers when the data have their inputs.
AUTO_CANDIDATES = MOE_FORMS
#: Families ``form="auto"`` applies to the data's own inputs, by how many inputs there are.
FAMILIES_BY_INPUTS: dict[int, tuple[str, ...]] = {
    1: ("additive", "rectified", "broken_power"),
    2: ("chinchilla", "chinchilla_tied"),
}
#: How a fit records the automatic choice.
SELECTED_BY = "auto: highest extrapolation ELPD on the held-out largest size"


def applicable_forms(obs: Observations) -> list[str]:
    """The built-in forms ``form="auto"`` tries on ``obs``: the MoE forms when the data have
    their inputs, else the literature's families over the data's own inputs in their order
    (one input: power law, rectified, broken power; two: Chinchilla free and tied)."""
    moe = [f for f in AUTO_CANDIDATES if set(get_form(f).inputs) <= set(obs.inputs)]
    if moe:
        return moe
    names = ",".join(obs.inputs)
    return [f"{family}({names})" for family in FAMILIES_BY_INPUTS.get(len(obs.inputs), ())]


def select_form(
    obs: Observations,
    *,
    candidates: Sequence[str | LawForm] | None = None,
    random_seed: int = 0,
    **fit_kwargs: Any,
) -> str | LawForm:
    """The ``form="auto"`` choice: highest extrapolation ELPD among ``candidates`` (default
    :func:`applicable_forms`; see the module docstring)."""
    forms = list(candidates) if candidates is not None else applicable_forms(obs)
    if not forms:
        raise FormError(
            f"form='auto' has no built-in form for inputs {list(obs.inputs)}; name a form, "
            f"e.g. 'additive({','.join(obs.inputs)})', or pass candidates=[...]"
        )
    return _select(obs, forms, random_seed=random_seed, **fit_kwargs)[0]


def _select(
    obs: Observations, forms: Sequence[str | LawForm], *, random_seed: int, **fit_kwargs: Any
) -> tuple[str | LawForm, dict[str, dict[str, float]]]:
    """The best form and every candidate's held-out check."""
    table = compare_forms(obs, forms, random_seed=random_seed, loo=False, **fit_kwargs)
    best = str(table.index[0])
    chosen = next((f for f in forms if get_form(f).name == best), best)
    checks = {str(k): {str(c): float(v) for c, v in row.items()} for k, row in table.iterrows()}
    return chosen, checks


@overload
def fit(
    observations: Observations,
    *,
    form: str | LawForm = ...,
    candidates: Sequence[str | LawForm] | None = ...,
    **kwargs: Any,
) -> Fit: ...


@overload
def fit(
    observations: Observations,
    *,
    form: list[str | LawForm] | tuple[str | LawForm, ...],
    candidates: None = ...,
    **kwargs: Any,
) -> AveragedFit: ...


def fit(
    observations: Observations,
    *,
    form: str | LawForm | list[str | LawForm] | tuple[str | LawForm, ...] = DEFAULT_FORM,
    candidates: Sequence[str | LawForm] | None = None,
    **kwargs: Any,
) -> Fit | AveragedFit:
    """Fit a hierarchical scaling law (:func:`bayeslaw.inference.fitting.fit`, whose
    parameters it takes), where ``form`` may also be ``"auto"``: the form chosen by
    :func:`select_form` on ``observations`` with the same settings, among ``candidates``
    (default: :func:`applicable_forms`; add your own laws here), recorded in
    ``fit.record.form_selected_by``; or a list of forms: their average by stacking
    (:func:`bayeslaw.evaluation.averaging.average_forms`), an
    :class:`~bayeslaw.posterior.averaged.AveragedFit`.

    Examples
    --------
    >>> result = fit(obs, form="auto", random_seed=0)  # doctest: +SKIP
    >>> result.form_name, result.record.form_selected_by  # doctest: +SKIP
    """
    observations = as_observations(observations)
    if isinstance(form, list | tuple):
        if candidates is not None:
            raise FormError("candidates= applies to form='auto' only; list the forms in form=")
        return average_forms(observations, form, **kwargs)
    if not (isinstance(form, str) and form == AUTO):
        if candidates is not None:
            raise FormError("candidates= applies to form='auto' only")
        return fitting.fit(observations, form=form, **kwargs)
    check_random_seed(kwargs.get("random_seed"))
    choice_kwargs = {k: v for k, v in kwargs.items() if k not in ("progressbar", "check")}
    seed = kwargs.get("random_seed") or 0
    choice_kwargs.pop("random_seed", None)
    forms = list(candidates) if candidates is not None else applicable_forms(observations)
    if not forms:
        select_form(observations, candidates=forms)  # raises, naming the inputs
    chosen, checks = _select(
        observations, forms, random_seed=seed, progressbar=False, check=False, **choice_kwargs
    )
    result = fitting.fit(observations, form=chosen, **kwargs)
    result.record = replace(result.record, form_selected_by=SELECTED_BY, extrapolation=checks)
    problem = poor_extrapolation(result.form_name, checks[result.form_name])
    if problem and kwargs.get("check", True):
        warnings.warn(problem, CalibrationWarning, stacklevel=2)
    return result
