r"""Nested crossed factors and the zero-sum constraints their effects take.

A factor ``T`` is *nested* in a factor ``Y`` when, among the cells, each level of ``T``
meets one level of ``Y`` only (a model belongs to one family; a ``family:dataset`` level
to one family and one dataset) and ``Y`` is not nested in ``T`` (the two are not one
partition). Effects of ``T`` that are zero-sum only overall then leave one direction per
level of ``Y`` that no cell sees: adding ``g`` to the effects of every level of ``T`` in
``y`` and ``-g`` to ``y``'s own effect (or, without ``Y`` as a factor, to the effects of
another term that covers the same cells) changes no prediction, and only the priors pin it.
The sampler then walks those ridges at its full tree depth.

Such a ``T``'s effects are instead zero-sum within each level of every factor it is nested
in: deviations from their level of ``Y``'s mean, which ``Y``'s effect absorbs, as the
zero-sum effects of a factor are deviations from the population mean. They are sampled as
:math:`\sigma N z`, :math:`z \sim \mathcal N(0, I_k)`, with :math:`N` (``L x k``) an
orthonormal basis of the effects that meet every constraint (:func:`zero_sum_basis`):
the projection of :math:`L` independent :math:`\mathcal N(0, \sigma)` effects onto them,
as ``pm.ZeroSumNormal`` is for the one overall constraint. This module is plain numpy.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

__all__ = ["nested_in", "new_level_leverage", "zero_sum_basis"]


def _meets_one(inner: np.ndarray, outer: np.ndarray) -> bool:
    """Whether each level of ``inner`` meets one level of ``outer`` (per-cell indices)."""
    return len(set(zip(inner.tolist(), outer.tolist(), strict=True))) == len(set(inner.tolist()))


def nested_in(level_index: Mapping[str, np.ndarray]) -> dict[str, tuple[str, ...]]:
    """Factor -> the factors it is nested in (see the module docstring), from each cell's
    level index per factor (``ModelSpec.level_index``); factors nested in none are left out."""
    out = {}
    for inner, inner_index in level_index.items():
        parents = tuple(
            outer
            for outer, outer_index in level_index.items()
            if outer != inner
            and _meets_one(inner_index, outer_index)
            and not _meets_one(outer_index, inner_index)
        )
        if parents:
            out[inner] = parents
    return out


def zero_sum_basis(
    inner_index: np.ndarray, n_levels: int, outer_indices: Sequence[np.ndarray]
) -> np.ndarray:
    """An orthonormal basis ``(n_levels, k)`` of the effects of a factor's ``n_levels``
    levels that sum to zero overall and within each level of every factor of
    ``outer_indices`` (each cell's level of the nested factor is ``inner_index``, of an
    outer factor the matching entry of ``outer_indices``); ``k`` may be 0.

    Raises
    ------
    ValueError
        If a level meets no cell or more than one level of an outer factor.
    """
    inner_index = np.asarray(inner_index, dtype=np.int64)
    if set(inner_index.tolist()) != set(range(n_levels)):
        raise ValueError(f"every one of the {n_levels} levels must meet a cell")
    rows = [np.ones(n_levels)]
    for outer_index in outer_indices:
        outer_index = np.asarray(outer_index, dtype=np.int64)
        if not _meets_one(inner_index, outer_index):
            raise ValueError("a level meets more than one level of a factor it is nested in")
        outer_of = np.empty(n_levels, dtype=np.int64)
        outer_of[inner_index] = outer_index
        rows += [(outer_of == y).astype(np.float64) for y in np.unique(outer_of)]
    constraints = np.vstack(rows)
    _, singular, vt = np.linalg.svd(constraints)
    rank = int(np.sum(singular > 1e-10 * singular[0]))
    return np.ascontiguousarray(vt[rank:].T)


def new_level_leverage(basis: np.ndarray) -> float:
    r"""The share of an effect's variance that the constraints take up, averaged over the
    levels: :math:`1 - k/L` for a basis of ``k`` of ``L`` dimensions (the mean diagonal of
    :math:`I - NN^\top`).

    A new level's effect deviates from what the constraints absorbed (its level of ``Y``'s
    mean) by :math:`\sigma^2 (1 + h)`, :math:`h` the leverage of its block: :math:`1/n_y`
    for a level of ``Y`` with :math:`n_y` levels of ``T``, :math:`1/L` for the overall
    constraint alone (exact there). One number stands in for every block: the mean
    leverage, exact when the blocks are of one size."""
    n_levels, k = basis.shape
    return 1.0 - k / n_levels
