r"""Centred or non-centred offsets (a group's, a crossed model's cell's and its levels'
effects), and a crossed model's cell offsets, chosen from the data
(``fit(..., centered="data")``; the default with crossed factors).

A group's (or a crossed model's cell's) offset on a coordinate is best sampled centred when
the group's own data pin the coordinate more tightly than the groups spread around the
population (or around their levels' sum), non-centred when they do not (Betancourt &
Girolami 2015). Both sides are measured before sampling, from the no-pooling model (every
group fitted on its own, under the fit's priors, likelihood and noise): its MAP point and
the Laplace approximation there (the inverse Hessian of :math:`-\log p` on the unconstrained
scale; each coordinate is ``u = loc + scale * z``, so ``scale`` times the sd of ``z`` is its
sd on the link scale):

- ``cell_sd``: the median over groups of each group's posterior sd of the coordinate;
- ``spread``: the residual sd of the groups' MAP coordinates after a least-squares fit of
  their levels' additive effects (crossed factors), or around their mean (one factor);
- ``between``: the spread with the groups' own estimation noise taken out,
  :math:`\sqrt{\max(\mathrm{spread}^2 - \mathrm{cell\_sd}^2, 0)}` (a method-of-moments
  between-group sd; the MAP points scatter by their own sd even when the groups do not
  differ at all).

A coordinate is centred when ``ratio = cell_sd / between`` is below :data:`CENTRE_BELOW`;
with crossed factors this applies to the cells' offsets (``"<coord>:cell"``). Each factor's
effects on a coordinate (``"<coord>:<factor>"``) are judged the same way, one level at a
time (:func:`level_information`): the cells' MAP coordinates measure a level's effect with
the sd ``level_sd`` the additive fit leaves (each cell scattering by ``max(spread,
cell_sd)``), against the levels' between-level sd; they are centred below the same
threshold, except where the coordinate's cells keep non-centred offsets (measured:
centring ``simulate_crossed``'s A_slope effects under its non-centred cells left R-hat at
1.02-1.03). With crossed factors and ``interaction`` left to the data (``fit``'s default), a
coordinate's cells keep offsets of their own only where the ratio is below
:data:`KEEP_CELLS_BELOW`: above it the cells differ by little more than each curve pins them,
the offsets' scale mixes slowly under either parametrisation, and the offsets add nothing a
held-out curve shows. Measured at default settings
(``benchmarks/cell_information.py``, ``benchmarks/crossed_sampling.py``,
``benchmarks/unseen_groups.py``, README "Sampling of the crossed model"), which set the
thresholds:

- ``sft_finetuning``: ratios L_ref 0.01, D_l 0.12, B 0.22, beta 0.51. Centring the first
  three: R-hat 1.006-1.011 over three seeds, bulk ESS 481+, no divergence; all four: 1.010,
  ESS 347; L_ref only 1.021. L_ref's dataset effects (ratio 0.295) centred as well:
  1.006-1.008, ESS 544+, one divergent transition in one run of three.
- ``overtraining``: L_ref 0.09, the slopes' 0.90 and 1.09, alpha's between-cell sd 0.
  Offsets on every coordinate, L_ref's centred: R-hat 1.010-1.020 over three seeds, ESS
  327-383; the slopes' cells centred as well: 30 divergences, R-hat 1.024; offsets on L_ref
  only: R-hat 1.005-1.011, ESS 653+, and the same held-out error and coverage.
- ``simulate_crossed(4, 3)`` (cells barely differ): L_ref 0.05, A_slope 0.39. Centring
  A_slope's cells too gave 6 divergences (``tests/test_crossed.py``), L_ref alone none.
  L_ref's effects (ratios 0.13, 0.08) centred as well: R-hat 1.006-1.014 against
  1.012-1.017 (seeds 1-3, samplers compiled afresh), divergences 1 / 0 / 0 against 0 / 0 / 1.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from bayeslaw.data import Observations
from bayeslaw.inference.map import find_map
from bayeslaw.models.anchors import coordinates
from bayeslaw.models.hierarchical import CENTER_MIN_GROUPS, ModelSpec, build_model

__all__ = [
    "CENTRE_BELOW",
    "KEEP_CELLS_BELOW",
    "additive_spread",
    "cells_from",
    "centred_from",
    "choices_from",
    "data_centred",
    "data_choices",
    "laplace_information",
]

#: Centre a coordinate when its median per-group sd is below this fraction of the groups'
#: between-group sd (0.5 centred A_slope's cells of ``simulate_crossed`` at 0.39: divergences).
CENTRE_BELOW = 0.3

#: With crossed factors and ``interaction`` left to the data, a coordinate keeps its cells'
#: offsets when its ratio is below this: above it the cells differ by little more than each
#: curve's own sd, and their spread's scale mixes slowly (overtraining's slopes, 0.90 and
#: 1.09: R-hat up to 1.020 with them, 1.011 without, the same held-out error and coverage).
#: Between sft_finetuning's largest ratio (0.51) and those.
KEEP_CELLS_BELOW = 0.75


def _additive_design(
    n: int, levels: Mapping[str, Sequence[str]]
) -> tuple[np.ndarray, dict[str, tuple[int, int]]]:
    """The design of a mean plus zero-sum effects of each factor (effect coding: level j
    minus the last level), and per factor its first column and number of levels."""
    columns, blocks = [np.ones(n)], {}
    for factor, cells in levels.items():
        cells_array, names = np.asarray(cells), sorted(set(cells))
        blocks[factor] = (len(columns), len(names))
        last = (cells_array == names[-1]).astype(float)
        columns += [(cells_array == name) - last for name in names[:-1]]
    return np.column_stack(columns), blocks


def additive_spread(values: np.ndarray, levels: Mapping[str, Sequence[str]]) -> float:
    """Residual sd of ``values`` (one per group) after a least-squares fit of a mean plus one
    effect per level of each factor (``levels``: factor -> each group's level; empty: the
    mean alone), with the degrees of freedom the fit leaves; NaN when it leaves none."""
    values = np.asarray(values, dtype=np.float64)
    design, _ = _additive_design(len(values), levels)
    coef = np.linalg.lstsq(design, values, rcond=None)[0]
    residual = values - design @ coef
    dof = len(values) - np.linalg.matrix_rank(design)
    if dof <= 0:
        return float("nan")
    return float(np.sqrt(residual @ residual / dof))


def level_information(
    values: np.ndarray, levels: Mapping[str, Sequence[str]], noise: float
) -> dict[str, dict[str, float]]:
    r"""Per factor of ``levels`` (factor -> each cell's level): how well ``values`` (one per
    cell) measure its levels' effects, against the spread between them.

    The effects are the least-squares fit of a mean plus zero-sum effects of every factor.
    With each cell scattering around that fit with sd ``noise``, the estimated effects
    :math:`\hat e` have covariance :math:`\Sigma`; ``level_sd`` is the median over levels of
    their sd; ``between`` the method-of-moments between-level sd, from
    :math:`\mathrm E[\hat e^\top \hat e] = (L - 1)\,\sigma^2 + \mathrm{tr}\,\Sigma`
    (:math:`L` levels, floored at 0); ``ratio`` = ``level_sd / between``. A ``noise`` that
    is not finite (nothing left to measure it with) measures nothing: ratio infinite.
    """
    if not np.isfinite(noise):
        unmeasured = {"level_sd": float("inf"), "between": float("nan"), "ratio": float("inf")}
        return {factor: dict(unmeasured) for factor in levels}
    values = np.asarray(values, dtype=np.float64)
    design, blocks = _additive_design(len(values), levels)
    coef = np.linalg.lstsq(design, values, rcond=None)[0]
    # an interaction nested in a factor makes the design singular: cut the singular values
    # rounding leaves near zero (the default cut, 1e-15, kept some and gave sds of 1e4)
    covariance = noise**2 * np.linalg.pinv(design.T @ design, rtol=1e-10, hermitian=True)
    out = {}
    for factor, (start, n_levels) in blocks.items():
        contrast = np.zeros((n_levels, design.shape[1]))
        contrast[: n_levels - 1, start : start + n_levels - 1] = np.eye(n_levels - 1)
        contrast[n_levels - 1, start : start + n_levels - 1] = -1.0
        effects = contrast @ coef
        effect_cov = contrast @ covariance @ contrast.T
        level_sd = float(np.median(np.sqrt(np.clip(np.diag(effect_cov), 0.0, None))))
        between_sq = (effects @ effects - np.trace(effect_cov)) / (n_levels - 1)
        between = float(np.sqrt(max(between_sq, 0.0)))
        out[factor] = {
            "level_sd": level_sd,
            "between": between,
            "ratio": level_sd / between if between > 0 else float("inf"),
        }
    return out


def _hessian(model: Any, point: Mapping[str, np.ndarray]) -> np.ndarray:
    """The Hessian of log p at ``point`` (value variables, unconstrained), by central
    differences of the compiled gradient: a few hundred gradient calls cost far less than
    compiling PyTensor's symbolic Hessian."""
    from pymc.blocking import DictToArrayBijection, RaveledVars

    dlogp = model.compile_dlogp(model.free_RVs)
    x0 = DictToArrayBijection.map(dict(point))

    def gradient(x: np.ndarray) -> np.ndarray:
        return np.asarray(dlogp(DictToArrayBijection.rmap(RaveledVars(x, x0.point_map_info))))

    n = x0.data.size
    hessian = np.empty((n, n))
    for i in range(n):
        step = 1e-5 * max(1.0, abs(float(x0.data[i])))
        up, down = x0.data.copy(), x0.data.copy()
        up[i] += step
        down[i] -= step
        hessian[:, i] = (gradient(up) - gradient(down)) / (2 * step)
    return (hessian + hessian.T) / 2


def laplace_information(
    obs: Observations, spec: ModelSpec, *, random_seed: int | None = None
) -> dict[str, dict[str, float]]:
    """Per coordinate of ``spec``'s form: ``cell_sd``, ``max_cell_sd``, ``spread``,
    ``between`` and the ``ratio`` of ``cell_sd`` to ``between`` (see the module docstring),
    from the no-pooling fit of ``obs`` under ``spec``'s priors, likelihood and noise (its
    pooling and centring are ignored)."""
    pilot = ModelSpec(
        spec.form, "none", spec.likelihood, spec.priors, spec.scales, spec.groups,
        noise=spec.noise,
    )  # fmt: skip
    model = build_model(obs, pilot)
    point = find_map(model, n_starts=4, random_seed=random_seed)
    free = {v.name: np.asarray(point[v.name], dtype=np.float64) for v in model.value_vars}
    hessian = _hessian(model, free)
    if np.all(np.isfinite(hessian)):
        variance = np.diag(np.linalg.pinv(-hessian))
    else:
        variance = np.full(hessian.shape[0], np.inf)
    starts = np.cumsum([0] + [v.size for v in free.values()])
    where = dict(zip(free, starts[:-1], strict=True))
    first = obs.frame.drop_duplicates("group").set_index("group")
    levels = {f: [str(first.loc[g, f]) for g in spec.groups] for f in obs.factors}
    out = {}
    for coord in coordinates(spec.form):
        prior = spec.priors.coordinates[coord.name]
        name = f"{coord.name}_z"
        block = slice(where[name], where[name] + free[name].size)
        var = variance[block]
        sd = prior.scale * np.sqrt(np.where(var > 0, var, np.inf))
        values = prior.loc + prior.scale * free[name]
        spread = additive_spread(values, levels)
        cell_sd = float(np.median(sd))
        between = float(np.sqrt(max(spread**2 - cell_sd**2, 0.0)))
        out[coord.name] = {
            "cell_sd": cell_sd,
            "max_cell_sd": float(np.max(sd)),
            "spread": spread,
            "between": between,
            "ratio": cell_sd / between if between > 0 else float("inf"),
        }
        if levels:
            # each cell scatters around its levels' sum by its own sd and the cells' spread
            noise = max(spread, cell_sd) if np.isfinite(spread) else float("inf")
            for factor, info in level_information(values, levels, noise).items():
                out[f"{coord.name}:{factor}"] = info
    return out


def data_centred(
    obs: Observations, spec: ModelSpec, *, random_seed: int | None = None
) -> tuple[str, ...]:
    """The ``centered`` entries the data choose for ``spec`` (partial pooling): coordinates
    (one factor), or their cells' offsets and levels' effects (``"<coord>:cell"``,
    ``"<coord>:<factor>"``, crossed factors; :func:`centred_from`) whose
    :func:`laplace_information` ratio is below :data:`CENTRE_BELOW`. None below
    :data:`~bayeslaw.models.hierarchical.CENTER_MIN_GROUPS` groups (too few to measure a
    spread)."""
    return data_choices(obs, spec, random_seed=random_seed, interaction=False)[0]


def data_choices(
    obs: Observations, spec: ModelSpec, *, random_seed: int | None = None, interaction: bool
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """``(centered, interaction)`` for ``spec`` from one pilot: the centring of
    :func:`data_centred` and, with ``interaction`` (crossed factors only), the coordinates
    whose cells keep offsets of their own (:func:`cells_from`; else ``spec.interaction``).
    Below :data:`~bayeslaw.models.hierarchical.CENTER_MIN_GROUPS` groups no pilot runs:
    nothing centred, ``spec.interaction`` kept."""
    if spec.pooling != "partial" or len(spec.groups) < CENTER_MIN_GROUPS:
        return (), spec.interaction
    information = laplace_information(obs, spec, random_seed=random_seed)
    return choices_from(information, spec, interaction=interaction)


def choices_from(
    information: Mapping[str, Mapping[str, float]], spec: ModelSpec, *, interaction: bool
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """:func:`data_choices`'s ``(centered, interaction)`` from the pilot's ``information``."""
    cells = cells_from(information, spec) if interaction and spec.factors else spec.interaction
    return centred_from(information, dataclasses.replace(spec, interaction=cells)), cells


def cells_from(information: Mapping[str, Mapping[str, float]], spec: ModelSpec) -> tuple[str, ...]:
    """The coordinates of ``spec.interaction`` whose :func:`laplace_information` ratio is
    below :data:`KEEP_CELLS_BELOW` (their cells differ by more than the curves' own sd)."""
    return tuple(c for c in spec.interaction if information[c]["ratio"] < KEEP_CELLS_BELOW)


def centred_from(
    information: Mapping[str, Mapping[str, float]], spec: ModelSpec
) -> tuple[str, ...]:
    """The ``centered`` entries :func:`laplace_information`'s ``information`` chooses for
    ``spec``: the coordinates (one factor) whose ratio is below :data:`CENTRE_BELOW`; with
    crossed factors, per coordinate, its cells' offsets (``"<coord>:cell"``) where their
    ratio is below it, and each factor's effects (``"<coord>:<factor>"``) where theirs is,
    unless the coordinate's cells keep non-centred offsets (see the module docstring)."""
    names = [c.name for c in coordinates(spec.form)]
    if not spec.factors:
        return tuple(c for c in names if information[c]["ratio"] < CENTRE_BELOW)
    chosen = []
    for c in names:
        if c in spec.interaction:
            if information[c]["ratio"] >= CENTRE_BELOW:
                continue  # non-centred cells: their levels' effects stay non-centred too
            chosen.append(f"{c}:cell")
        chosen += [
            f"{c}:{f}" for f in spec.factor_names if information[f"{c}:{f}"]["ratio"] < CENTRE_BELOW
        ]
    return tuple(chosen)
