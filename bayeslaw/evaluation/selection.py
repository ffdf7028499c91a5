"""``bayeslaw.fit``: the one-form fit, plus ``form="auto"``, which chooses by held-out scoring.

The ``form="auto"`` rule: among the MoE forms whose inputs the data have
(:data:`AUTO_CANDIDATES`), **the form with the highest extrapolation ELPD**: hold out the
largest model size of the training data, fit on the rest, and take the mean log predictive
density of the held-out rows (:func:`bayeslaw.evaluation.comparison.compare_forms`). A proper
scoring rule rewards accurate *and* honestly calibrated predictions of larger models, which is
what scaling laws are for. It only ever looks at the training data it is given, never at a
test split.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from bayeslaw.data import Observations, as_observations
from bayeslaw.errors import FormError
from bayeslaw.evaluation.comparison import MOE_FORMS, compare_forms
from bayeslaw.inference import fitting
from bayeslaw.inference.config import check_random_seed
from bayeslaw.models.forms import LawForm
from bayeslaw.models.registry import DEFAULT_FORM, get_form
from bayeslaw.posterior.fit import Fit

__all__ = ["AUTO", "AUTO_CANDIDATES", "fit", "select_form"]

#: The form name that asks for the automatic choice.
AUTO = "auto"
#: Forms ``form="auto"`` chooses among (those whose inputs the data have).
AUTO_CANDIDATES = MOE_FORMS
#: How a fit records the automatic choice.
SELECTED_BY = "auto: highest extrapolation ELPD on the held-out largest size"


def select_form(obs: Observations, *, random_seed: int = 0, **fit_kwargs: Any) -> str:
    """The ``form="auto"`` choice: highest extrapolation ELPD among :data:`AUTO_CANDIDATES`
    whose inputs ``obs`` has (see the module docstring)."""
    candidates = [f for f in AUTO_CANDIDATES if set(get_form(f).inputs) <= set(obs.inputs)]
    if not candidates:
        raise FormError(
            f"form='auto' chooses among {list(AUTO_CANDIDATES)}, none of which fits inputs "
            f"{list(obs.inputs)}; name a form, e.g. 'additive({','.join(obs.inputs)})'"
        )
    table = compare_forms(obs, candidates, random_seed=random_seed, loo=False, **fit_kwargs)
    return str(table.index[0])


def fit(observations: Observations, *, form: str | LawForm = DEFAULT_FORM, **kwargs: Any) -> Fit:
    """Fit a hierarchical scaling law (:func:`bayeslaw.inference.fitting.fit`, whose
    parameters it takes), where ``form`` may also be ``"auto"``: the form chosen by
    :func:`select_form` on ``observations`` with the same settings (recorded in
    ``fit.record.form_selected_by``).

    Examples
    --------
    >>> result = fit(obs, form="auto", random_seed=0)  # doctest: +SKIP
    >>> result.form_name, result.record.form_selected_by  # doctest: +SKIP
    """
    observations = as_observations(observations)
    if not (isinstance(form, str) and form == AUTO):
        return fitting.fit(observations, form=form, **kwargs)
    check_random_seed(kwargs.get("random_seed"))
    choice_kwargs = {k: v for k, v in kwargs.items() if k not in ("progressbar", "check")}
    seed = kwargs.get("random_seed") or 0
    choice_kwargs.pop("random_seed", None)
    chosen = select_form(
        observations, random_seed=seed, progressbar=False, check=False, **choice_kwargs
    )
    result = fitting.fit(observations, form=chosen, **kwargs)
    result.record = replace(result.record, form_selected_by=SELECTED_BY)
    return result
