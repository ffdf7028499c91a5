"""Data a law cannot learn from, found before anything is compiled.

:func:`degenerate_data` lists, by name, what makes a fit rest on its prior rather than on
the data, and :func:`check_group_count` refuses more groups than a fit can handle in
reasonable time. :func:`bayeslaw.inference.fitting.fit` warns
(:class:`~bayeslaw.errors.DataWarning`) about the first and raises for the second.

- **No spread in an input**: every row at one value of an input of the law; how the loss
  changes with it is then the prior's guess (a fuzzing pass predicted 0.49 at 10x the only
  size, silently).
- **A loss that rises with an input**: within a group, the rank correlation between an
  input (with at least :data:`MIN_DISTINCT` distinct values) and the loss is above
  :data:`RISING_RHO`; every power term of a scaling law falls with its input, so the fit
  will be a falling curve through rising data (a metric where higher is better, or a
  mislabelled column).
- **Fewer rows than parameters** in a group: the group's own data cannot pin its law; under
  partial pooling it borrows from the population, otherwise it rests on the prior.
"""

from __future__ import annotations

import numpy as np

from bayeslaw.data import GROUP, Observations
from bayeslaw.errors import DataError
from bayeslaw.models.forms import LawForm

__all__ = ["MAX_GROUPS", "check_group_count", "degenerate_data"]

#: Rank correlation of an input with the loss above which the loss is said to rise with it.
RISING_RHO = 0.5
#: Distinct values of an input a group needs before a rise is judged.
MIN_DISTINCT = 3
#: Most groups one fit takes. Measured (benchmarks/scale.py, 2 cores): 100 groups of 80 rows
#: by NUTS in 194 s, wall time growing as groups^0.75, so 1000 groups take about 20 minutes.
MAX_GROUPS = 1000
_SHOWN = 8


def _names(names: list[str]) -> str:
    head = ", ".join(names[:_SHOWN])
    return head + (f" and {len(names) - _SHOWN} more" if len(names) > _SHOWN else "")


def _no_spread(obs: Observations, form: LawForm) -> list[str]:
    out = []
    for name in form.inputs:
        values = obs.frame[name].to_numpy()
        if np.all(values == values[0]):
            out.append(
                f"input {name!r} has one value ({values[0]:g}) in every row: the data cannot "
                f"show how the loss changes with it, so predictions at any other {name} rest "
                "on the prior alone; add runs at other values"
            )
    return out


def _rising(obs: Observations, form: LawForm) -> list[str]:
    out = []
    for name in form.inputs:
        rising = []
        for group, rows in obs.frame.groupby(GROUP, sort=True):
            if rows[name].nunique() < MIN_DISTINCT:
                continue
            rho = rows[name].rank().corr(rows[obs.target].rank())
            if rho > RISING_RHO:
                rising.append(f"{group} (rank correlation {rho:.2f})")
        if rising:
            out.append(
                f"the loss rises with {name!r} in group(s) {_names(rising)}: a scaling law's "
                f"terms fall with their inputs, so the fit will not follow these data; is "
                f"{obs.target!r} a loss (lower is better)?"
            )
    return out


def _too_few_rows(obs: Observations, form: LawForm, pooling: str) -> list[str]:
    n_params = len(form.parameter_names)
    if pooling == "complete":
        counts = {"all groups together": len(obs)}
    else:
        sizes = obs.frame.groupby(GROUP, sort=True).size()
        counts = {str(g): int(n) for g, n in sizes.items()}
    short = [f"{g} ({n})" for g, n in counts.items() if n < n_params]
    if not short:
        return []
    fallback = (
        "their parameters come mostly from the population"
        if pooling == "partial"
        else "their parameters rest on the prior"
    )
    return [
        f"fewer rows than the law's {n_params} parameters in {_names(short)}: {fallback}; "
        "add runs, or fit with pooling='partial' to borrow from other groups"
    ]


def degenerate_data(obs: Observations, form: LawForm, pooling: str) -> list[str]:
    """Messages, one per problem, naming the inputs and groups (empty when none)."""
    return [*_no_spread(obs, form), *_rising(obs, form), *_too_few_rows(obs, form, pooling)]


def check_group_count(obs: Observations) -> None:
    """:class:`DataError` for more than :data:`MAX_GROUPS` groups, before any compilation."""
    n = len(obs.groups)
    if n > MAX_GROUPS:
        raise DataError(
            f"{n} groups is more than one fit takes ({MAX_GROUPS}: about 20 minutes of NUTS "
            "on 2 cores, cost growing as groups^0.75); fit subsets of the groups, or merge "
            "groups that share a law (group column)"
        )
