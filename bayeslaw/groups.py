"""Group labels of crossed factors: ``("model", "dataset")`` levels joined as one label.

A group of crossed factors (a *cell*) is labelled by its levels joined with
:data:`SEPARATOR`, ``"gpt2 | flan"``: the label the data, fits, ``law()`` and the CLI use.
A group may also be given as a tuple of levels, one per factor, in the factors' order.

A factor written ``"family:dataset"`` is the *interaction* of the columns it names (brms'
``(1 | family:dataset)``): its level in a row is that row's levels joined by
:data:`INTERACTION`, ``"t5:gigaword"``, so two models of one family share an effect on each
dataset. A cell is then labelled by every column its factors use, each once, in order of
first use (:func:`label_columns`): factors ``("model", "dataset", "family:dataset")`` label a
cell ``"t5-base | gigaword | t5"``. Without interactions the label columns are the factors.
This module imports nothing but the errors, so the prediction path can read labels.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bayeslaw.errors import PredictionInputError

__all__ = [
    "INTERACTION",
    "RESERVED_FACTORS",
    "SEPARATOR",
    "factor_columns",
    "group_label",
    "interaction_level",
    "join_levels",
    "label_columns",
    "split_label",
]

#: Joins the levels of a cell's factors into its group label.
SEPARATOR = " | "
#: Joins the columns of an interaction factor (``"family:dataset"``) and its levels.
INTERACTION = ":"
#: Names a factor may not take: they name other dimensions of the model.
RESERVED_FACTORS = ("group", "cell", "obs_id", "noise_input", "chain", "draw")


def join_levels(levels: Sequence[str]) -> str:
    """The group label of a cell with ``levels`` (one per label column)."""
    return SEPARATOR.join(levels)


def factor_columns(factor: str) -> tuple[str, ...]:
    """The columns a factor reads: itself, or an interaction's parts (``"family:dataset"``
    -> ``("family", "dataset")``)."""
    return tuple(factor.split(INTERACTION))


def label_columns(factors: Sequence[str]) -> tuple[str, ...]:
    """The columns whose levels label a cell: every column of ``factors``, each once, in
    order of first use (the factors themselves when none is an interaction)."""
    return tuple(dict.fromkeys(c for f in factors for c in factor_columns(f)))


def interaction_level(levels: Sequence[str]) -> str:
    """An interaction factor's level from its columns' levels: ``("t5", "gigaword")`` ->
    ``"t5:gigaword"``."""
    return INTERACTION.join(levels)


def split_label(label: str, factors: Sequence[str]) -> tuple[str, ...]:
    """The levels of the cell labelled ``label``, one per factor (an interaction's level
    built from its columns' levels).

    Raises
    ------
    PredictionInputError
        If the label does not have one level per label column (:func:`label_columns`).
    """
    columns = label_columns(factors)
    parts = tuple(label.split(SEPARATOR))
    if len(parts) != len(columns):
        example = join_levels([f"<{c}>" for c in columns])
        loose = [part.strip() for part in label.split(SEPARATOR.strip())]
        meant = join_levels(loose) if len(loose) == len(columns) and all(loose) else None
        guess = f" (did you mean {meant!r}? the separator is {SEPARATOR!r})" if meant else ""
        raise PredictionInputError(
            f"group {label!r} does not name one level per factor {list(columns)}{guess}; "
            f"write it as {example!r} or as a tuple of {len(columns)} levels"
        )
    level = dict(zip(columns, parts, strict=True))
    return tuple(interaction_level([level[c] for c in factor_columns(f)]) for f in factors)


def group_label(group: Any, factors: Sequence[str]) -> str:
    """``group`` as a label: a string as it is, a tuple or list of levels joined (one level
    per label column of a crossed fit, :func:`label_columns`); anything else is a
    :class:`PredictionInputError`."""
    if isinstance(group, str):
        return group
    if isinstance(group, tuple | list) and factors:
        columns = label_columns(factors)
        if len(group) != len(columns) or not all(isinstance(g, str) for g in group):
            raise PredictionInputError(
                f"a group given as levels needs one string per factor {list(columns)}, "
                f"got {group!r}"
            )
        bad = [g for g in group if SEPARATOR in g]
        if bad:
            raise PredictionInputError(f"levels {bad} contain the separator {SEPARATOR!r}")
        return join_levels(group)
    wanted = "a string" + (
        f", or a tuple of levels of {list(label_columns(factors))}" if factors else ""
    )
    raise PredictionInputError(
        f"group must be {wanted} (a group of the data, or any other name for a new group), "
        f"got {type(group).__name__} {group!r}"
    )
