"""The variables of a multiplicative (rank-one) interaction of two crossed factors.

Their names and which of them have no identified sign, in one place: the model
(:func:`bayeslaw.models.hierarchical._product_term`) creates them, the fit reads their
draws, and the convergence checks (:func:`bayeslaw.inference.diagnostics.checked_variables`)
read the per-cell product in place of the loadings, whose joint sign is not identified.
"""

from __future__ import annotations

from collections.abc import Sequence

from bayeslaw.errors import PriorError
from bayeslaw.groups import factor_columns

__all__ = ["product_factors", "product_names", "sign_free_variables"]


def product_factors(factors: Sequence[str]) -> tuple[str, str]:
    """The two factors of a multiplicative interaction: the first two one-column factors
    (``("model", "dataset")`` of ``("model", "dataset", "family:dataset")``)."""
    main = [f for f in factors if len(factor_columns(f)) == 1]
    if len(main) < 2:
        raise PriorError(
            f"a multiplicative interaction needs two crossed factors of one column each; the "
            f"data's factors are {list(factors)}: load them with "
            "load_observations(..., groups=('model', 'dataset')) or drop multiplicative"
        )
    return main[0], main[1]


def product_names(coord: str, factors: tuple[str, str]) -> dict[str, str]:
    """The variables of ``coord``'s multiplicative interaction of ``factors``: each factor's
    loadings (``"<coord>_<factor>_loading"``, dims the factor's levels; their new-level
    spreads add ``"_spread"``), its scale (``"sigma"``) and the product per cell
    (``"cells"``, dims ``group``)."""
    first, second = factors
    return {
        first: f"{coord}_{first}_loading",
        second: f"{coord}_{second}_loading",
        "sigma": f"{coord}_{first}_x_{second}_sigma",
        "cells": f"{coord}_{first}_x_{second}",
    }


def sign_free_variables(coord: str, factors: tuple[str, str]) -> set[str]:
    """The loadings of ``coord``'s interaction and the free variables behind them: their
    joint sign flips without changing the model, so chains may disagree on it."""
    names = product_names(coord, factors)
    first, second = factors
    return {names[first], f"{names[first]}_raw", names[second], f"{names[second]}_z"}
