r"""The hierarchical PyMC model of a law over groups.

Each group is sampled in the identified coordinates of :mod:`bayeslaw.models.anchors`.
With ``pooling="partial"`` every coordinate ``c`` of group ``g`` is non-centred,

.. math:: u_{c,g} = \mu_c + \sigma_c z_{c,g}, \qquad z_{c,g} \sim \mathcal N(0, 1),

with the offsets split into their mean and a zero-sum part, an exact re-expression that
removes the trade-off between :math:`\mu_c` and the offsets' mean when there are few groups:
:math:`m_c = \mu_c + \sigma_c \bar z_c` is sampled (the data pin it), :math:`\bar z_c \sim
\mathcal N(0, 1/G)`, :math:`z_{c,g} - \bar z_c \sim` ZeroSumNormal(1), and
:math:`\mu_c = m_c - \sigma_c \bar z_c` gets the population prior.

Coordinates named in ``ModelSpec.centered`` are centred instead,
:math:`u_{c,g} \sim \mathcal N(\mu_c, \sigma_c)`. Which is right depends on how well each
group's data measure the coordinate against the spread between groups (Betancourt &
Girolami 2015). The automatic rule (:func:`auto_centered`), measured on ``simulate_moe``
data with 80 rows per group and on ``moe_by_router``: with fewer than
:data:`CENTER_MIN_GROUPS` groups everything is non-centred (centring the level and the
dense-size slope gave 36-45 divergences on the three routers); from
:data:`CENTER_MIN_GROUPS` groups on, the level and the first input's slope, the two
coordinates the data measure best, are centred (6 groups of 50 rows, 2 seeds: R-hat
1.012-1.022 -> 1.004-1.007, min bulk ESS 336-400 -> 800-929; 30 groups of 80: min bulk ESS
66 -> 524, R-hat 1.058 -> 1.008; centring every coordinate instead left ``beta_sigma`` at
ESS 38). Groups that barely differ would want every offset non-centred (``centered=()``).

``pooling="none"`` samples each group from the fixed prior (non-centred); ``"complete"``
shares one set of coordinates.

**Crossed factors** (``Observations.factors``, e.g. model x dataset): under partial pooling
a cell ``g`` with levels :math:`l_f(g)` gets

.. math:: u_{c,g} = \mu_c + \sum_f a_{c,f}[l_f(g)] + b_{c,g}, \qquad
   a_{c,f}[l] \sim \mathcal N(0, \sigma_{c,f}), \quad b_{c,g} \sim \mathcal N(0, \sigma_{c})

(``interaction=False`` drops the cell term :math:`b`; ``multiplicative`` adds a rank-one
interaction of the first two factors, :math:`\lambda[l_1(g)]\,\gamma[l_2(g)]`, see
:func:`_product_term`), every term a zero-sum deviation from
the observed levels' mean, which :math:`\mu_c` absorbs (non-centred; a new level deviates
by :math:`\sigma\sqrt{1 + 1/L}`, see :func:`_crossed_term`), or sampled directly
(centred: ``centered`` entries ``"<coord>:<factor>"``; ``"<coord>:cell"`` samples each
cell's coordinate around the sum of its levels' effects,
:math:`u_{c,g} \sim \mathcal N(\mu_c + \sum_f a_{c,f}, \sigma_c)`).
A new cell of known levels then combines its levels' effects and draws a new :math:`b`;
a new level draws its effect with its factor's spread. A factor nested in another among the
cells (a model in its family: :mod:`bayeslaw.models.nesting`) has effects zero-sum within
each level of the factors it is nested in, which closes the directions no cell sees (a new
level's spread is then :math:`\sigma\sqrt{1 + h}`, ``h`` the mean leverage of the
constraints); the cells' offsets are likewise zero-sum within each level of an interaction
factor (:meth:`ModelSpec.cell_parents`), so a level of one cell leaves that cell no offset
of its own to trade against the level's effect. A coordinate with several terms
splits one total between-cell variance among them, :math:`\sigma_k = \tau\sqrt{\phi_k}`,
:math:`\phi \sim` Dirichlet(1) (see :func:`_term_scales`): independent scales left a curved
ridge where a cell offset and an interaction's effect could not be told apart. Named
variables: ``<coord>_<factor>_effect`` (dims the factor's levels), ``<coord>_<factor>_sigma``
and ``_spread`` (a new level's), ``<coord>_sigma`` and ``_spread`` (cells), ``<coord>_mu``,
and, with several terms, ``<coord>_total_sigma`` and ``<coord>_share``.
The automatic rule (:func:`auto_centered_crossed`, the spec's default) centres the cells'
level from :data:`CENTER_MIN_GROUPS` cells on and keeps everything else non-centred;
:func:`bayeslaw.fit` instead chooses the centring of the cells' offsets and of each factor's
effects from the data by default (:mod:`bayeslaw.inference.centring`).

**Likelihoods**: ``"normal"`` and ``"student_t"`` put errors on the loss;
``"lognormal"`` and ``"student_t_log"`` on ``log(loss)`` (the relative errors the field fits
with: Epoch AI's Chinchilla replication, Gadre et al.), the law then being the median loss.
**Noise**: ``"constant"``, one sd per group; ``"scaled"``, an sd that falls with every input,
:math:`\sigma_g \prod_k x_k^{-\kappa_k}` (scaled inputs, so :math:`\sigma_g` is the sd
at the reference point), :math:`\kappa_k \ge 0` shared by the groups: small models'
scatter then no longer sets the width of a large model's interval.

``priors="flat"`` builds the classical model instead: flat priors on the law's own
parameters, exponents bounded to [0.05, 2] (no transform, so MAP sees the bounds directly).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pymc as pm
import pytensor.tensor as pt

from bayeslaw.data import Observations
from bayeslaw.errors import FormError, PriorError
from bayeslaw.groups import factor_columns, split_label
from bayeslaw.models.anchors import LEVEL, coordinates, inverse_link, to_law_params
from bayeslaw.models.forms import LawForm, reference_scale
from bayeslaw.models.likelihoods import (
    HEAVY_TAILED,
    LIKELIHOODS,
    LOG_LIKELIHOODS,
    NOISES,
    Likelihood,
    Noise,
)
from bayeslaw.models.nesting import nested_in, new_level_leverage, zero_sum_basis
from bayeslaw.models.priors import NU_PRIOR, DataScale, PriorSet, resolve_priors
from bayeslaw.models.products import product_factors, product_names
from bayeslaw.models.registry import get_form

__all__ = [
    "CENTER_MIN_GROUPS",
    "KAPPA_SCALE",
    "LIKELIHOODS",
    "LOG_LIKELIHOODS",
    "NOISES",
    "POOLINGS",
    "ModelSpec",
    "auto_centered",
    "build_model",
    "model_data",
    "sample_prior_predictive",
    "structure_key",
]

#: ``noise="scaled"``: each input's noise exponent ``kappa ~ HalfNormal(KAPPA_SCALE)``; the
#: noise sd falls by ``10**-kappa`` per decade of the input (95% prior mass below ~1).
KAPPA_SCALE = 0.5

#: From this many groups on, :func:`auto_centered` centres the best-measured coordinates.
CENTER_MIN_GROUPS = 6

Pooling = Literal["partial", "none", "complete"]
POOLINGS: tuple[Pooling, ...] = ("partial", "none", "complete")


#: A multiplicative interaction's first loadings are a direction, sampled as a zero-sum
#: normal's normalised draw; this power of its norm keeps the sampler off the origin (a
#: norm below 1 has prior probability 1.7e-4 with three levels). Without it, 19 divergent
#: transitions in 24 over-training folds of 2 x 400 draws (spread over the folds).
RADIAL_POWER = 8.0

#: The cells' dimension: their offsets' term, nested like a factor's where it is.
CELLS = "group"


@dataclass(frozen=True)
class ModelSpec:
    """Everything that defines the model, apart from the data themselves."""

    form: LawForm
    pooling: Pooling
    likelihood: Likelihood
    priors: PriorSet
    scales: Mapping[str, float]
    groups: tuple[str, ...]
    centered: tuple[str, ...] = ()
    noise: Noise = "constant"
    #: Crossed factors: ``((name, levels), ...)``; empty for one group column.
    factors: tuple[tuple[str, tuple[str, ...]], ...] = ()
    #: With crossed factors, the coordinates on which each cell has an offset of its own
    #: besides its levels' effects (every coordinate, by default; () for none).
    interaction: tuple[str, ...] = ()
    #: With crossed factors, the coordinates with a rank-one (multiplicative) interaction of
    #: the first two one-column factors (:meth:`product_factors`; () for none).
    multiplicative: tuple[str, ...] = ()

    @property
    def factor_names(self) -> tuple[str, ...]:
        return tuple(name for name, _ in self.factors)

    def level_index(self) -> dict[str, np.ndarray]:
        """Factor -> the index (into its levels) of each group's level (empty without
        crossed factors)."""
        if not self.factors:
            return {}
        names = self.factor_names
        split = [split_label(g, names) for g in self.groups]
        return {
            name: np.array([levels.index(cell[i]) for cell in split], dtype=np.int64)
            for i, (name, levels) in enumerate(self.factors)
        }

    def nesting(self) -> dict[str, tuple[str, ...]]:
        """Factor -> the factors it is nested in among the cells (empty without crossed
        factors or nesting; :func:`bayeslaw.models.nesting.nested_in`)."""
        return nested_in(self.level_index())

    def nested_bases(self) -> dict[str, np.ndarray]:
        """Factor -> the basis of its effects' zero-sum constraints, for each nested factor
        (:func:`bayeslaw.models.nesting.zero_sum_basis`), and :data:`CELLS` -> the cells'
        offsets' where they are nested (:meth:`cell_parents`, with cell offsets); empty but
        for partial pooling, the only pooling with factor effects."""
        if self.pooling != "partial":
            return {}
        index, levels = self.level_index(), dict(self.factors)
        bases = {
            factor: zero_sum_basis(index[factor], len(levels[factor]), [index[p] for p in parents])
            for factor, parents in self.nesting().items()
        }
        if self.interaction and (parents := self.cell_parents()):
            cells = np.arange(len(self.groups))
            bases[CELLS] = zero_sum_basis(cells, len(cells), [index[p] for p in parents])
        return bases

    def product_factors(self) -> tuple[str, str]:
        """The two factors of the multiplicative interaction: the first two one-column
        factors (``("model", "dataset")`` of ``("model", "dataset", "family:dataset")``)."""
        return product_factors(self.factor_names)

    def cell_parents(self) -> tuple[str, ...]:
        """The factors the cells' offsets are zero-sum within: the interactions
        (``"family:dataset"``). A level of one is the sum of its cells; one of a single
        cell is that cell, whose own offset would otherwise trade off against it exactly."""
        return tuple(f for f in self.factor_names if len(factor_columns(f)) > 1)

    @property
    def log_scale(self) -> bool:
        """Whether errors are on ``log(loss)``."""
        return self.likelihood in LOG_LIKELIHOODS

    @property
    def heavy_tailed(self) -> bool:
        return self.likelihood in HEAVY_TAILED

    @classmethod
    def from_observations(
        cls,
        obs: Observations,
        *,
        form: str | LawForm = "moe_additive",
        pooling: str = "partial",
        priors: str | Mapping[str, Any] | None = None,
        likelihood: str = "normal",
        noise: str = "constant",
        centered: Sequence[str] | None = None,
        interaction: bool | Sequence[str] = True,
        multiplicative: bool | Sequence[str] = False,
    ) -> ModelSpec:
        """``centered``: coordinates to centre under partial pooling (None: the rule of
        :func:`auto_centered`); with crossed factors, ``"<coord>:<factor>"`` or
        ``"<coord>:cell"`` entries. ``interaction``: crossed factors only, cell offsets on every
        coordinate (True), none (False) or the coordinates named. ``multiplicative``: crossed
        factors under partial pooling only, a rank-one interaction of the first two factors
        on the level and the slopes (True), on the coordinates named, or none (False; see
        :func:`_product_term`)."""
        law = get_form(form)
        missing = sorted(set(law.inputs) - set(obs.inputs))
        if missing:
            raise FormError(
                f"form {law.name!r} needs inputs {list(law.inputs)}, the data lack {missing}; "
                f"load them with load_observations(..., inputs={list(law.inputs)})"
            )
        if pooling not in POOLINGS:
            raise PriorError(f"pooling must be one of {list(POOLINGS)}, got {pooling!r}")
        if likelihood not in LIKELIHOODS:
            raise PriorError(f"likelihood must be one of {list(LIKELIHOODS)}, got {likelihood!r}")
        if noise not in NOISES:
            raise PriorError(f"noise must be one of {list(NOISES)}, got {noise!r}")
        prior_set = resolve_priors(
            law, DataScale.from_observations(obs), priors, log_noise=likelihood in LOG_LIKELIHOODS
        )
        if prior_set.kind == "flat" and noise != "constant":
            raise PriorError("flat priors (the classical point fit) take noise='constant' only")
        if prior_set.kind == "flat" and pooling == "partial":
            raise PriorError(
                "flat priors have no population level; use pooling='none' or 'complete'"
            )
        scales = {k: reference_scale(v) for k, v in obs.input_values().items() if k in law.inputs}
        factors = tuple((f, obs.levels(f)) for f in obs.factors)
        cells = _cell_coordinates(law, interaction) if factors else ()
        products = _product_coordinates(law, multiplicative, obs.factors, pooling)
        if centered is None:
            if pooling != "partial":
                chosen: tuple[str, ...] = ()
            elif factors:
                chosen = auto_centered_crossed(law, len(obs.groups), cells)
            else:
                chosen = auto_centered(law, len(obs.groups))
        else:
            chosen = tuple(centered)
            names = _centrable(law, factors, cells)
            unknown = sorted(set(chosen) - set(names))
            if unknown:
                raise PriorError(
                    f"centered names unknown coordinates {unknown}; {law.name} has {names}"
                )
            if chosen and pooling != "partial":
                raise PriorError(f"centered applies to pooling='partial' only, not {pooling!r}")
        return cls(
            law,
            pooling,
            likelihood,
            prior_set,
            scales,
            obs.groups,
            chosen,
            noise,
            factors,
            cells,
            products,
        )


def _cell_coordinates(form: LawForm, interaction: Any) -> tuple[str, ...]:
    """``interaction`` as the coordinates that get cell offsets (see ``ModelSpec``)."""
    names = tuple(c.name for c in coordinates(form))
    if isinstance(interaction, bool):
        return names if interaction else ()
    if isinstance(interaction, str) or not all(isinstance(n, str) for n in interaction):
        raise PriorError(
            f"interaction must be True, False or a list of coordinates of {names}, "
            f"got {interaction!r}"
        )
    unknown = sorted(set(interaction) - set(names))
    if unknown:
        raise PriorError(
            f"interaction names unknown coordinates {unknown}; {form.name} has {names}"
        )
    return tuple(n for n in names if n in interaction)


def _product_coordinates(
    form: LawForm, multiplicative: Any, factors: Sequence[str], pooling: str
) -> tuple[str, ...]:
    """``multiplicative`` as the coordinates with a rank-one interaction (see ``ModelSpec``):
    True is the level (``L_ref``, the mean loss at the reference point) and every slope
    coordinate (the log-slopes of the loss along each input there), not the exponents;
    each product's scale is a share of its coordinate's between-cell variance, so a product
    the data do not support shrinks. Measured, over-training held out (README): products on
    the level alone 0.50 of the median fallback's error, on the level and both slopes
    0.47-0.49 over three seeds; fine-tuning 0.59 and 0.62."""
    if not multiplicative:  # False, or no coordinates named
        return ()
    coords = coordinates(form)
    names = tuple(c.name for c in coords)
    if isinstance(multiplicative, bool):
        if LEVEL not in names:
            raise PriorError(
                f"multiplicative=True puts the interaction on the level {LEVEL} (which "
                f"{form.name}, no loss floor, lacks) and the slopes; name coordinates of "
                f"{names} instead"
            )
        chosen: tuple[str, ...] = tuple(c.name for c in coords if c.kind in ("level", "slope"))
    elif isinstance(multiplicative, str) or not all(isinstance(n, str) for n in multiplicative):
        raise PriorError(
            f"multiplicative must be True, False or a list of coordinates of {names}, "
            f"got {multiplicative!r}"
        )
    else:
        unknown = sorted(set(multiplicative) - set(names))
        if unknown:
            raise PriorError(
                f"multiplicative names unknown coordinates {unknown}; {form.name} has {names}"
            )
        chosen = tuple(n for n in names if n in multiplicative)
    if pooling != "partial":
        raise PriorError(f"multiplicative applies to pooling='partial' only, not {pooling!r}")
    product_factors(factors)
    return chosen


def _centrable(
    form: LawForm, factors: Sequence[tuple[str, Sequence[str]]], cells: Sequence[str]
) -> list[str]:
    """What ``centered`` may name: coordinates, or with crossed factors their terms."""
    names = [c.name for c in coordinates(form)]
    if not factors:
        return names
    parts = [f for f, _ in factors]
    return [f"{c}:{part}" for c in names for part in parts] + [f"{c}:cell" for c in cells]


def auto_centered_crossed(form: LawForm, n_cells: int, cells: Sequence[str]) -> tuple[str, ...]:
    """The rule for a crossed model: from :data:`CENTER_MIN_GROUPS` cells on, the cells'
    level (``L_ref``) is centred, each cell sampled around the sum of its levels' effects
    (its curve measures it directly); everything else stays non-centred. Measured on
    ``overtraining`` (24 cells, chinchilla_tied, 2 x 300 draws): centring also the 8
    validation sets' effects gave R-hat 1.04 and a bulk ESS of 37; centring the cells' first
    slope too, whose spread between cells is small, R-hat 1.13 and ESS 11; the level alone,
    R-hat 1.025 and ESS 77."""
    return tuple(f"{c}:cell" for c in auto_centered(form, n_cells)[:1] if c in cells)


def auto_centered(form: LawForm, n_groups: int) -> tuple[str, ...]:
    """The coordinates centred by default: none below :data:`CENTER_MIN_GROUPS` groups,
    else the level and the slope of the form's first power term (see the module docstring)."""
    if n_groups < CENTER_MIN_GROUPS:
        return ()
    return (LEVEL, form.slopes[0].name) if form.slopes else (LEVEL,)


def _centered_coordinate(name: str, loc: Any, scale: Any, group_scale: Any, n: int) -> Any:
    """Centred partial pooling of one coordinate: ``u`` (one per group, link scale)."""
    mu = pm.Deterministic(f"{name}_mu", loc + scale * pm.Normal(f"{name}_mu_std", 0.0, 1.0))
    sigma = pm.HalfNormal(f"{name}_sigma", group_scale)
    if n == 1:
        return pt.stack([mu])
    return pm.Normal(f"{name}_group", mu, sigma, dims="group")


def _pooled_coordinate(name: str, loc: Any, scale: Any, group_scale: Any, n: int) -> Any:
    """Non-centred partial pooling of one coordinate: ``u`` (one per group, link scale)."""
    # m in prior-standardised units: the initial point (0) sits at the prior's centre
    m = pm.Deterministic(f"{name}_m", loc + scale * pm.Flat(f"{name}_m_std"))
    sigma = pm.HalfNormal(f"{name}_sigma", group_scale)
    zbar = pm.Normal(f"{name}_zbar", 0.0, 1.0 / np.sqrt(n))
    mu = pm.Deterministic(f"{name}_mu", m - sigma * zbar)
    pm.Potential(f"{name}_mu_prior", pm.logp(pm.Normal.dist(loc, scale), mu))
    if n == 1:
        return pt.stack([m])
    offset = pm.ZeroSumNormal(f"{name}_offset", 1.0, dims="group")
    return m + sigma * offset


def _crossed_term(
    name: str, dim: str, sigma: Any, n_levels: int, centred: bool, nested: Any = None
) -> Any:
    r"""One term of a crossed coordinate: its effects (one per level of ``dim``) with
    between-level scale ``sigma``; the spread a new level's effect is drawn with is
    recorded as ``<name>_spread``.

    Non-centred effects are ``sigma`` times a zero-sum normal: deviations from the observed
    levels' mean, which the population mean absorbs. A new level then deviates from that
    mean by :math:`\mathcal N(0, \sigma^2 (1 + 1/L))` (exact for normal effects: the new
    effect and the observed mean are independent). A nested factor's effects (``nested``:
    its constraints' basis as model data, ``(L, k)``, with ``k`` and the mean leverage
    ``h``, :mod:`bayeslaw.models.nesting`) are ``sigma * basis @ z``, zero-sum within each
    level of the factors it is nested in, and a new level's spread is
    :math:`\sigma\sqrt{1 + h}` (``h = 1/L`` for the overall constraint alone). Centred
    effects are free, :math:`\mathcal N(0, \sigma)`, and a new level's spread is ``sigma``.
    """
    if centred:
        effect = pm.Normal(f"{name}_raw", 0.0, sigma, dims=dim)
        spread = sigma
    elif nested is None:
        effect = sigma * pm.ZeroSumNormal(f"{name}_offset", 1.0, dims=dim)
        spread = sigma * np.sqrt(1.0 + 1.0 / n_levels)
    else:
        basis, width, leverage = nested
        if width == 0:  # every effect is absorbed by the factors it is nested in
            effect = pt.zeros(n_levels)
        else:
            effect = sigma * (basis @ pm.Normal(f"{name}_offset", 0.0, 1.0, dims=f"{dim}_nested"))
        spread = sigma * np.sqrt(1.0 + leverage)
    pm.Deterministic(f"{name}_spread", spread)
    return effect


def _product_term(spec: ModelSpec, index: Mapping[str, Any], name: str, sigma: Any) -> Any:
    r"""The rank-one interaction of ``name`` between the two factors ``r, c`` of
    :meth:`ModelSpec.product_factors`, one value per cell:

    .. math:: \lambda_r[l_r(g)]\,\gamma_c[l_c(g)], \qquad
       \gamma_c = \sigma \cdot \text{ZeroSumNormal}(1),

    ``sigma`` (``<name>_<r>_x_<c>_sigma``) one more share of the coordinate's total
    between-cell variance (:func:`_term_scales`; an independent ``HalfNormal(group_scale)``
    scale mixed more slowly on ``overtraining``, bulk ESS 247-330 against 408-467 over
    three seeds at default settings, and predicted held-out curves a little worse, 0.52
    of the median fallback's error against 0.50),

    with :math:`\lambda_r` a zero-sum normal scaled to unit root mean square: only its
    direction is sampled (with free loadings on both sides their scales traded off along a
    ridge, ``overtraining``: R-hat 1.07, bulk ESS 30 of 600 draws); two levels have one
    direction, :math:`(1, -1)`. This is the multiplicative term of an AMMI model (additive
    main effects and multiplicative interaction; Gauch 1988, Bayesian: Josse et al. 2014):
    each level of ``r`` scales a pattern over ``c``'s levels by a loading of its own, so a
    new cell of known levels gets the product of its levels' loadings, learned from their
    other cells, on top of their additive effects. Zero-sum loadings keep the term apart
    from the main effects; their joint sign is not identified (``-lambda, -gamma`` give the
    same model), so the convergence checks read the per-cell product instead. A new level's
    loading is drawn with the spread of a zero-sum normal's new member,
    :math:`\sqrt{1 + 1/L}` (times :math:`\sigma` for ``c``)."""
    first, second = spec.product_factors()
    names = product_names(name, (first, second))
    levels = dict(spec.factors)
    if len(levels[first]) == 2:  # one zero-sum direction: its sign is the other loading's
        direction = pt.as_tensor_variable(np.array([1.0, -1.0]))
    else:
        # the direction is undefined at the origin: a potential on the norm alone keeps the
        # sampler away from it (the norm's density becomes r^(k-1+RADIAL_POWER) exp(-r^2/2)
        # in the k free dimensions) and leaves the direction's distribution uniform
        start = np.linspace(-1.0, 1.0, len(levels[first]))
        raw = pm.ZeroSumNormal(f"{names[first]}_raw", 1.0, dims=first, initval=start)
        norm_sq = pt.sum(raw**2)
        pm.Potential(f"{names[first]}_radius", 0.5 * RADIAL_POWER * pt.log(norm_sq + 1e-12))
        direction = raw / pt.sqrt(norm_sq / len(levels[first]) + 1e-12)
    loading = {
        first: pm.Deterministic(names[first], direction, dims=first),
        second: pm.Deterministic(
            names[second],
            sigma * pm.ZeroSumNormal(f"{names[second]}_z", 1.0, dims=second),
            dims=second,
        ),
    }
    for factor, scale in ((first, 1.0), (second, sigma)):
        spread = pt.as_tensor_variable(scale * np.sqrt(1 + 1 / len(levels[factor])))
        pm.Deterministic(f"{names[factor]}_spread", spread)
    term = loading[first][index[first]] * loading[second][index[second]]
    return pm.Deterministic(names["cells"], term, dims="group")


def _term_scales(name: str, terms: Sequence[str], group_scale: Any) -> dict[str, Any]:
    r"""The between-level scale of each term of a crossed coordinate, ``<name>_sigma`` for
    the cells and ``<name>_<factor>_sigma`` for a factor.

    One term: ``HalfNormal(group_scale)``. Several: the coordinate's total between-cell
    variance is split among them, :math:`\sigma_k = \tau\sqrt{\phi_k}` with
    :math:`\tau \sim` HalfNormal(group_scale :math:`\sqrt K`) (``<name>_total_sigma``)
    and :math:`\phi \sim` Dirichlet(1) (``<name>_share``), so every :math:`\sigma_k^2`
    has the prior mean of one HalfNormal(group_scale) scale (R2D2M2's decomposition,
    Aguilar & Buerkner 2023). The data pin the total and the split apart; independent
    scales instead leave a curved ridge where two terms cannot be told apart (a cell
    offset and an interaction's effect, for levels with one or two cells)."""
    if len(terms) == 1:
        return {terms[0]: pm.HalfNormal(f"{terms[0]}_sigma", group_scale)}
    total = pm.HalfNormal(f"{name}_total_sigma", group_scale * np.sqrt(len(terms)))
    share = pm.Dirichlet(f"{name}_share", np.ones(len(terms)))
    return {
        term: pm.Deterministic(f"{term}_sigma", total * pt.sqrt(share[k]))
        for k, term in enumerate(terms)
    }


def _crossed_coordinate(
    spec: ModelSpec,
    index: Mapping[str, Any],
    name: str,
    loc: Any,
    scale: Any,
    group_scale: Any,
    nested: Mapping[str, Any],
) -> Any:
    """Partial pooling of one coordinate over crossed factors: ``u`` per cell (link scale),
    the population mean ``<name>_mu`` and each term's effects (see the module docstring);
    ``index`` holds :meth:`ModelSpec.level_index` as model data, ``nested`` each nested
    factor's constraints (see :func:`_crossed_term`)."""
    mu = pm.Deterministic(f"{name}_mu", loc + scale * pm.Normal(f"{name}_mu_std", 0.0, 1.0))
    terms = [f"{name}_{factor}" for factor in spec.factor_names]
    cells = name in spec.interaction
    has_product = name in spec.multiplicative
    # the product's scale is one more share of the total (named <name>_<a>_x_<b>_sigma)
    product = product_names(name, spec.product_factors())["cells"] if has_product else ""
    split = [*terms, *([product] if has_product else []), *([name] if cells else [])]
    sigmas = _term_scales(name, split, group_scale)
    u = mu * pt.ones(len(spec.groups))
    for (factor, levels), term in zip(spec.factors, terms, strict=True):
        centred = f"{name}:{factor}" in spec.centered
        effect = _crossed_term(term, factor, sigmas[term], len(levels), centred, nested.get(factor))
        effect = pm.Deterministic(f"{term}_effect", effect, dims=factor)
        u = u + effect[index[factor]]
    if has_product:
        u = u + _product_term(spec, index, name, sigmas[product])
    if cells and f"{name}:cell" in spec.centered:
        # centred cells around their levels' sum: the data pin each cell directly, and the
        # effects are a regression on the cells (an offset N(0, sigma) added to the sum
        # instead would trade off against the effects)
        pm.Deterministic(f"{name}_spread", sigmas[name])
        u = pm.Normal(f"{name}_cell", u, sigmas[name], dims="group")
    elif cells:
        cell_term = _crossed_term(
            name, CELLS, sigmas[name], len(spec.groups), False, nested.get(CELLS)
        )
        u = u + cell_term
    return u


def _coordinate_values(
    spec: ModelSpec, n: int, index: Mapping[str, Any], data: Mapping[str, np.ndarray]
) -> dict[str, Any]:
    """Each coordinate per group (law scale); its prior's numbers are the model data
    ``prior_<coord>`` (loc, scale, group_scale; from ``data``, :func:`model_data`),
    ``index`` the level index per factor, ``nested_basis_<factor>`` a nested factor's
    constraints."""
    nested = {
        factor: (
            pm.Data(f"{_NESTED_PREFIX}{factor}", basis),
            basis.shape[1],
            new_level_leverage(basis),
        )
        for factor, basis in _nested_bases(data).items()
    }
    values = {}
    for coord in coordinates(spec.form):
        prior = pm.Data(f"prior_{coord.name}", data[f"prior_{coord.name}"])
        loc, scale, group_scale = prior[0], prior[1], prior[2]
        if spec.pooling == "partial" and spec.factors:
            u = _crossed_coordinate(spec, index, coord.name, loc, scale, group_scale, nested)
        elif spec.pooling == "partial":
            pool = _centered_coordinate if coord.name in spec.centered else _pooled_coordinate
            u = pool(coord.name, loc, scale, group_scale, n)
        elif spec.pooling == "none":
            u = loc + scale * pm.Normal(f"{coord.name}_z", 0.0, 1.0, dims="group")
        else:
            u = (loc + scale * pm.Normal(f"{coord.name}_z", 0.0, 1.0)) * pt.ones(n)
        values[coord.name] = inverse_link(coord, u)
    return values


def _prior_numbers(spec: ModelSpec, name: str) -> np.ndarray:
    p = spec.priors.coordinates[name]
    return np.array([p.loc, p.scale, p.group_scale], dtype=np.float64)


def _flat_law_params(spec: ModelSpec, n: int) -> dict[str, Any]:
    dims = "group" if spec.pooling == "none" else None
    theta = {}
    for p in spec.form.parameters:
        lower, upper = p.flat_bounds
        if lower is not None and upper is not None:
            rv = pm.Uniform(f"{p.name}_flat", lower, upper, dims=dims, default_transform=None)
        else:
            rv = pm.Flat(f"{p.name}_flat", dims=dims)
        theta[p.name] = rv if dims else rv * pt.ones(n)
    return theta


def _floor_potential(l_inf: Any, numbers: np.ndarray, upper_wall: bool) -> None:
    """The floor's soft range; ``numbers`` are the model data ``floor_range`` (lower,
    upper, wall width; without an upper wall the upper number is unused)."""
    floor = pm.Data("floor_range", numbers)
    walls = pt.log(pt.sigmoid((l_inf - floor[0]) / floor[2]))
    if upper_wall:
        walls = walls + pt.log(pt.sigmoid((floor[1] - l_inf) / floor[2]))
    pm.Potential("L_inf_range", walls.sum())


def build_model(obs: Observations, spec: ModelSpec) -> pm.Model:
    """The PyMC model of ``obs`` under ``spec``.

    Named variables: the law's parameters (scaled units) as deterministics with dims
    ``group``; ``noise`` (per group, or one under complete pooling: the noise sd at the
    reference point, on the log scale for the log likelihoods); ``noise_kappa`` (dims
    ``noise_input``) for ``noise="scaled"``; ``nu`` for Student-t; the observed ``loss``.
    Partial pooling adds ``<coord>_mu`` and ``<coord>_sigma``.

    Everything that depends on the data's values rather than on the model's structure
    (:func:`structure_key`) is a data container (:func:`model_data` names them): the scaled
    inputs, the losses, the group and level indices and the priors' numbers. A compiled
    sampler of one model then serves every model of the same structure with new data
    (:mod:`bayeslaw.inference.compiled`).
    """
    n = len(spec.groups)
    if tuple(obs.groups) != tuple(spec.groups):
        raise PriorError(f"data groups {obs.groups} differ from the spec's {spec.groups}")
    values = model_data(obs, spec)
    coords = {"group": list(spec.groups), "noise_input": list(spec.form.inputs)}
    coords |= {factor: list(levels) for factor, levels in spec.factors}
    coords |= {
        f"{f}_nested": [str(i) for i in range(b.shape[1])] for f, b in _nested_bases(values).items()
    }
    with pm.Model(coords=coords) as model:
        x = {k: pm.Data(f"input_{k}", values[f"input_{k}"]) for k in spec.scales}
        gi = pm.Data("group_index", values["group_index"])
        index = {
            f: pm.Data(f"level_index_{f}", values[f"level_index_{f}"]) for f in spec.factor_names
        }
        y = pm.Data("loss_observed", values["loss_observed"])
        if spec.priors.kind == "flat":
            theta = _flat_law_params(spec, n)
            noise = pm.HalfFlat("noise_flat", default_transform=None) * pt.ones(n)
        else:
            theta = to_law_params(spec.form, _coordinate_values(spec, n, index, values))
            if spec.form.floor is not None:
                upper_wall = spec.priors.floor[1] is not None
                _floor_potential(theta[spec.form.floor], values["floor_range"], upper_wall)
            noise_scale = pm.Data("noise_prior_scale", values["noise_prior_scale"])
            if spec.pooling == "complete":
                noise = pm.HalfNormal("noise_shared", noise_scale) * pt.ones(n)
            else:
                noise = pm.HalfNormal("noise_group", noise_scale, dims="group")
        for name in spec.form.parameter_names:
            theta[name] = pm.Deterministic(name, theta[name], dims="group")
        noise = pm.Deterministic("noise", noise, dims="group")
        mean = spec.form(x, {k: v[gi] for k, v in theta.items()})
        sigma = noise[gi]
        if spec.noise == "scaled":
            kappa = pm.HalfNormal("noise_kappa", KAPPA_SCALE, dims="noise_input")
            log_x = pt.stack([pt.log(x[k]) for k in spec.form.inputs], axis=1)
            sigma = sigma * pt.exp(-(log_x * kappa).sum(axis=1))
        _likelihood(spec, mean, sigma, y)
    return model


_NESTED_PREFIX = "nested_basis_"


def _nested_bases(data: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Factor (or :data:`CELLS`) -> its constraints' basis, read back from
    :func:`model_data`'s values (computed there once)."""
    return {
        k.removeprefix(_NESTED_PREFIX): v for k, v in data.items() if k.startswith(_NESTED_PREFIX)
    }


def model_data(obs: Observations, spec: ModelSpec) -> dict[str, np.ndarray]:
    """The values of :func:`build_model`'s data containers for ``obs`` under ``spec``:
    ``input_<name>`` (inputs over their reference scale), ``group_index``,
    ``level_index_<factor>`` (crossed factors), ``nested_basis_<factor>`` (a nested
    factor's constraints, :meth:`ModelSpec.nested_bases`), ``loss_observed``,
    ``prior_<coord>`` (loc, scale, group_scale), ``floor_range`` (a form with a floor) and
    ``noise_prior_scale`` (the last three not for flat priors)."""
    values = {
        f"input_{k}": np.asarray(v, dtype=np.float64) / spec.scales[k]
        for k, v in obs.input_values().items()
        if k in spec.scales
    }
    values["group_index"] = np.asarray(obs.group_index, dtype=np.int64)
    values |= {f"level_index_{f}": v for f, v in spec.level_index().items()}
    values |= {f"{_NESTED_PREFIX}{f}": b for f, b in spec.nested_bases().items()}
    values["loss_observed"] = np.asarray(obs.y, dtype=np.float64)
    if spec.priors.kind != "flat":
        values |= {f"prior_{c.name}": _prior_numbers(spec, c.name) for c in coordinates(spec.form)}
        values["noise_prior_scale"] = np.array(spec.priors.noise_scale, dtype=np.float64)
        if spec.form.floor is not None:
            (lower, upper), width = spec.priors.floor, spec.priors.floor_width
            numbers = [lower, lower if upper is None else upper, width]
            values["floor_range"] = np.array(numbers, dtype=np.float64)
    return values


def structure_key(spec: ModelSpec) -> str:
    """A digest of what :func:`build_model`'s graph depends on besides its data
    containers: the law (name, equation, parameters, inputs, sampled coordinates),
    pooling, likelihood, noise, prior kind, whether the floor has an upper wall, centring,
    the number of groups and of each factor's levels, the cell offsets and multiplicative
    terms, and which factors are nested in which (with their constraints' widths). Two specs
    with the same key build models that differ only in :func:`model_data` (and coordinate
    labels)."""
    form, nesting = spec.form, spec.nesting()
    structure = {
        "form": [form.name, form.equation, list(form.parameter_names), list(form.inputs)],
        "coordinates": [c.name for c in coordinates(form)],
        "floor": form.floor,
        "pooling": spec.pooling,
        "likelihood": spec.likelihood,
        "noise": spec.noise,
        "priors": spec.priors.kind,
        "floor_upper": spec.priors.floor[1] is not None,
        "centered": list(spec.centered),
        "groups": len(spec.groups),
        "factors": [[name, len(levels)] for name, levels in spec.factors],
        "interaction": list(spec.interaction),
        "multiplicative": list(spec.multiplicative),
        "nesting": {
            f: [list(nesting.get(f, spec.cell_parents())), b.shape[1]]
            for f, b in spec.nested_bases().items()
        },
        "scales": sorted(spec.scales),
    }
    text = json.dumps(structure, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:24]


def _likelihood(spec: ModelSpec, mean: Any, sigma: Any, y: Any) -> None:
    """The observed ``loss``: Normal or Student-t errors on the loss or on its log."""
    nu = pm.Gamma("nu", **NU_PRIOR) if spec.heavy_tailed else None
    if spec.likelihood == "normal":
        pm.Normal("loss", mu=mean, sigma=sigma, observed=y)
    elif spec.likelihood == "student_t":
        pm.StudentT("loss", nu=nu, mu=mean, sigma=sigma, observed=y)
    else:
        # a law that dips to <= 0 gets a vanishing density, not a NaN
        log_mean = pt.log(pt.maximum(mean, 1e-12))
        if spec.likelihood == "lognormal":
            pm.LogNormal("loss", mu=log_mean, sigma=sigma, observed=y)
        else:

            def logp(value: Any, nu: Any, mu: Any, sigma: Any) -> Any:
                log_value = pt.log(value)
                return pm.logp(pm.StudentT.dist(nu=nu, mu=mu, sigma=sigma), log_value) - log_value

            pm.CustomDist("loss", nu, log_mean, sigma, logp=logp, observed=y)


def _product_draws(
    spec: ModelSpec,
    index: Mapping[str, np.ndarray],
    group_scale: float,
    rng: np.random.Generator,
    pool: int,
) -> np.ndarray:
    """Prior draws ``(pool, G)`` of a multiplicative interaction (:func:`_product_term`):
    a zero-sum direction of unit root mean square times zero-sum loadings of scale sigma."""
    first, second = spec.product_factors()
    levels = dict(spec.factors)
    row = rng.standard_normal((pool, len(levels[first])))
    row = row - row.mean(axis=1, keepdims=True)
    row = row / np.sqrt(np.mean(row**2, axis=1, keepdims=True))
    col = rng.standard_normal((pool, len(levels[second])))
    sigma = np.abs(rng.normal(0.0, group_scale, size=(pool, 1)))
    col = sigma * (col - col.mean(axis=1, keepdims=True))
    return np.asarray(row[:, index[first]] * col[:, index[second]])


def sample_prior_predictive(
    obs: Observations, spec: ModelSpec, *, draws: int = 500, random_seed: int | None = None
) -> dict[str, np.ndarray]:
    """Draws of the prior and prior predictive, following the generative story exactly.

    :func:`pymc.sample_prior_predictive` ignores Potentials, which carry the population
    prior (:math:`\\mu_c`) and the soft floor range here; so this samples the population
    level, groups, parameters and noisy losses directly (numpy), then applies the floor
    range's logistic walls by importance resampling.

    Returns
    -------
    dict
        ``"loss"`` ``(draws, n_obs)``, ``"mean"`` ``(draws, n_obs)`` and every law parameter
        ``(draws, G)`` (scaled units).
    """
    if spec.priors.kind == "flat":
        raise PriorError("flat priors are improper: there is no prior predictive to sample")
    rng = np.random.default_rng(random_seed)
    pool = 4 * draws
    n = len(spec.groups)
    index = spec.level_index()
    values = {}
    for coord in coordinates(spec.form):
        p = spec.priors.coordinates[coord.name]
        mu = rng.normal(p.loc, p.scale, size=(pool, 1))
        if spec.pooling == "partial" and spec.factors:
            u = mu + np.zeros((pool, n))
            for factor, levels in spec.factors:
                sigma = np.abs(rng.normal(0.0, p.group_scale, size=(pool, 1)))
                effect = sigma * rng.standard_normal((pool, len(levels)))
                u = u + effect[:, index[factor]]
            if coord.name in spec.multiplicative:
                u = u + _product_draws(spec, index, p.group_scale, rng, pool)
            if coord.name in spec.interaction:
                sigma = np.abs(rng.normal(0.0, p.group_scale, size=(pool, 1)))
                u = u + sigma * rng.standard_normal((pool, n))
        elif spec.pooling == "partial":
            sigma = np.abs(rng.normal(0.0, p.group_scale, size=(pool, 1)))
            u = mu + sigma * rng.standard_normal((pool, n))
        elif spec.pooling == "none":
            u = rng.normal(p.loc, p.scale, size=(pool, n))
        else:
            u = np.repeat(mu, n, axis=1)
        values[coord.name] = inverse_link(coord, u)
    theta = to_law_params(spec.form, values)
    (lower, upper), width = spec.priors.floor, spec.priors.floor_width
    floor = theta[spec.form.floor] if spec.form.floor else np.full((pool, n), np.inf)
    log_w = -np.logaddexp(0, -(floor - lower) / width)
    if upper is not None:
        log_w = log_w - np.logaddexp(0, -(upper - floor) / width)
    weights = np.exp(log_w.sum(axis=1) - log_w.sum(axis=1).max())
    keep = rng.choice(pool, size=draws, p=weights / weights.sum())
    theta = {k: v[keep] for k, v in theta.items()}
    x = {k: v / spec.scales[k] for k, v in obs.input_values().items() if k in spec.scales}
    gi = obs.group_index
    mean = spec.form({k: v[None, :] for k, v in x.items()}, {k: v[:, gi] for k, v in theta.items()})
    noise = np.abs(rng.normal(0.0, spec.priors.noise_scale, size=(draws, n)))[:, gi]
    if spec.noise == "scaled":
        kappa = np.abs(rng.normal(0.0, KAPPA_SCALE, size=(draws, len(spec.form.inputs))))
        log_x = np.stack([np.log(x[k]) for k in spec.form.inputs], axis=1)
        noise = noise * np.exp(-(kappa @ log_x.T))
    if spec.heavy_tailed:
        nu = rng.gamma(NU_PRIOR["alpha"], 1.0 / NU_PRIOR["beta"], size=(draws, 1))
        eps = rng.standard_t(nu, size=mean.shape)
    else:
        eps = rng.standard_normal(mean.shape)
    if spec.log_scale:
        loss = np.exp(np.log(np.maximum(mean, 1e-12)) + noise * eps)
    else:
        loss = mean + noise * eps
    return {"loss": loss, "mean": mean, **theta}
