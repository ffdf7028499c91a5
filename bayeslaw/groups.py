"""Group labels of crossed factors: ``("model", "dataset")`` levels joined as one label.

A group of crossed factors (a *cell*) is labelled by its levels joined with
:data:`SEPARATOR`, ``"gpt2 | flan"``: the label the data, fits, ``law()`` and the CLI use.
A group may also be given as a tuple of levels, one per factor, in the factors' order.
This module imports nothing but the errors, so the prediction path can read labels.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bayeslaw.errors import PredictionInputError

__all__ = ["RESERVED_FACTORS", "SEPARATOR", "group_label", "join_levels", "split_label"]

#: Joins the levels of a cell's factors into its group label.
SEPARATOR = " | "
#: Names a factor may not take: they name other dimensions of the model.
RESERVED_FACTORS = ("group", "cell", "obs_id", "noise_input", "chain", "draw")


def join_levels(levels: Sequence[str]) -> str:
    """The group label of a cell with ``levels`` (one per factor)."""
    return SEPARATOR.join(levels)


def split_label(label: str, factors: Sequence[str]) -> tuple[str, ...]:
    """The levels of the cell labelled ``label``, one per factor.

    Raises
    ------
    PredictionInputError
        If the label does not have one level per factor.
    """
    parts = tuple(label.split(SEPARATOR))
    if len(parts) != len(factors):
        example = join_levels([f"<{f}>" for f in factors])
        loose = [part.strip() for part in label.split(SEPARATOR.strip())]
        meant = join_levels(loose) if len(loose) == len(factors) and all(loose) else None
        guess = f" (did you mean {meant!r}? the separator is {SEPARATOR!r})" if meant else ""
        raise PredictionInputError(
            f"group {label!r} does not name one level per factor {list(factors)}{guess}; "
            f"write it as {example!r} or as a tuple of {len(factors)} levels"
        )
    return parts


def group_label(group: Any, factors: Sequence[str]) -> str:
    """``group`` as a label: a string as it is, a tuple or list of levels joined (one level
    per factor of a crossed fit); anything else is a :class:`PredictionInputError`."""
    if isinstance(group, str):
        return group
    if isinstance(group, tuple | list) and factors:
        if len(group) != len(factors) or not all(isinstance(g, str) for g in group):
            raise PredictionInputError(
                f"a group given as levels needs one string per factor {list(factors)}, "
                f"got {group!r}"
            )
        bad = [g for g in group if SEPARATOR in g]
        if bad:
            raise PredictionInputError(f"levels {bad} contain the separator {SEPARATOR!r}")
        return join_levels(group)
    wanted = "a string" + (f", or a tuple of levels of {list(factors)}" if factors else "")
    raise PredictionInputError(
        f"group must be {wanted} (a group of the data, or any other name for a new group), "
        f"got {type(group).__name__} {group!r}"
    )
