"""Nested factors: detection, the zero-sum bases, and that they close the unseen ridges."""

from __future__ import annotations

import numpy as np
import pytest

from bayeslaw.models.nesting import nested_in, new_level_leverage, zero_sum_basis

# six models in three families (f2 has one model) on three datasets; m5 meets d0 only
MODELS = ["m0", "m1", "m2", "m3", "m4", "m5"]
FAMILY = {"m0": "f0", "m1": "f0", "m2": "f1", "m3": "f1", "m4": "f1", "m5": "f2"}
CELLS = [(m, d) for m in MODELS for d in ("d0", "d1", "d2") if m != "m5" or d == "d0"]


def _index(values: list[str]) -> np.ndarray:
    levels = sorted(set(values))
    return np.array([levels.index(v) for v in values])


def _level_index() -> dict[str, np.ndarray]:
    return {
        "model": _index([m for m, _ in CELLS]),
        "dataset": _index([d for _, d in CELLS]),
        "family": _index([FAMILY[m] for m, _ in CELLS]),
        "family:dataset": _index([f"{FAMILY[m]}:{d}" for m, d in CELLS]),
    }


def _indicators(index: np.ndarray) -> np.ndarray:
    return (index[:, None] == np.arange(index.max() + 1)[None, :]).astype(float)


def test_nesting_is_read_from_the_cells():
    index = _level_index()
    assert nested_in(index) == {"model": ("family",), "family:dataset": ("dataset", "family")}
    # crossed factors are nested in nothing
    assert nested_in({k: index[k] for k in ("model", "dataset")}) == {}
    # two names of one partition are not nested in each other
    assert nested_in({"a": index["model"], "b": 5 - index["model"]}) == {}


def test_basis_is_orthonormal_and_meets_every_constraint():
    index = _level_index()
    inner, parents = index["family:dataset"], [index["dataset"], index["family"]]
    basis = zero_sum_basis(inner, 7, parents)
    # 7 (family, dataset) levels; f2 meets d0 only, so its one level is fixed by f2's sum
    np.testing.assert_allclose(basis.T @ basis, np.eye(basis.shape[1]), atol=1e-12)
    for outer in parents:
        membership = np.zeros((outer.max() + 1, 7))
        membership[outer, inner] = 1.0
        np.testing.assert_allclose(membership @ basis, 0.0, atol=1e-12)
    assert basis.shape == (7, 2)  # f0, f1 x d0, d1, d2 double-centred: (2 - 1) * (3 - 1)
    # the overall constraint alone spans what ZeroSumNormal does: I - 11'/L
    alone = zero_sum_basis(index["model"], 6, [])
    np.testing.assert_allclose(alone @ alone.T, np.eye(6) - 1 / 6, atol=1e-12)


def test_a_level_alone_in_its_block_has_no_effect_of_its_own():
    index = _level_index()
    basis = zero_sum_basis(index["model"], 6, [index["family"]])
    assert basis.shape == (6, 3)  # 6 models less one constraint per family
    np.testing.assert_allclose(basis[5], 0.0, atol=1e-12)  # m5 is all of f2


def test_new_level_leverage():
    index = _level_index()
    assert new_level_leverage(zero_sum_basis(index["model"], 6, [])) == pytest.approx(1 / 6)
    # three families: the mean of 1 / (models in a level's family) over the models
    nested = zero_sum_basis(index["model"], 6, [index["family"]])
    expected = np.mean([1 / 2, 1 / 2, 1 / 3, 1 / 3, 1 / 3, 1])
    assert new_level_leverage(nested) == pytest.approx(expected)


def test_nested_bases_close_the_directions_no_cell_sees():
    """Each cell's coordinate is a mean plus one effect per factor. With every factor
    zero-sum overall only, some directions of the effects change no cell (a family's models
    up, the family down); with nested factors zero-sum within their blocks, none is left."""
    index = _level_index()
    n_levels = {k: int(v.max()) + 1 for k, v in index.items()}
    nesting = nested_in(index)

    def design(nested: bool) -> np.ndarray:
        columns = [np.ones((len(CELLS), 1))]
        for factor, levels in index.items():
            parents = [index[p] for p in nesting.get(factor, ())] if nested else []
            columns.append(_indicators(levels) @ zero_sum_basis(levels, n_levels[factor], parents))
        return np.hstack(columns)

    overall, within = design(nested=False), design(nested=True)
    assert np.linalg.matrix_rank(overall) < overall.shape[1]
    assert np.linalg.matrix_rank(within) == within.shape[1]
    # and nothing a cell can show is lost
    assert np.linalg.matrix_rank(within) == np.linalg.matrix_rank(overall)


def test_bad_blocks_are_refused():
    index = _level_index()
    with pytest.raises(ValueError, match="more than one level"):
        zero_sum_basis(index["model"], 6, [index["dataset"]])
    with pytest.raises(ValueError, match="must meet a cell"):
        zero_sum_basis(index["model"], 7, [])
