"""Fit one law form: build the model, run MAP or NUTS, check convergence, return a Fit.

This is the one-form core; :func:`bayeslaw.fit` (:mod:`bayeslaw.evaluation.selection`) adds
``form="auto"``, which needs held-out scoring from the layer above.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import time
import warnings
from collections.abc import Mapping, Sequence
from typing import Any, Literal

import numpy as np

from bayeslaw._version import __version__
from bayeslaw.data import Observations, as_observations
from bayeslaw.errors import DataWarning, FormError, PriorError
from bayeslaw.inference.centring import data_choices
from bayeslaw.inference.compiled import CompileInfo, package_versions
from bayeslaw.inference.config import SamplerConfig, check_random_seed
from bayeslaw.inference.diagnostics import (
    Check,
    checked_variables,
    fit_checks,
    warn_on_failures,
)
from bayeslaw.inference.map import find_map
from bayeslaw.inference.nuts import sample_posterior
from bayeslaw.inference.pointwise import add_pointwise
from bayeslaw.models.anchors import coordinates
from bayeslaw.models.data_checks import check_group_count, degenerate_data
from bayeslaw.models.forms import LawForm
from bayeslaw.models.hierarchical import KAPPA_SCALE, ModelSpec, build_model, structure_key
from bayeslaw.models.priors import NU_PRIOR
from bayeslaw.models.products import product_names
from bayeslaw.models.registry import DEFAULT_FORM
from bayeslaw.posterior.draws import PosteriorDraws
from bayeslaw.posterior.fit import CI_PROB, Fit
from bayeslaw.posterior.record import FitRecord, ModelRecord, Provenance, SamplingRecord

__all__ = ["fit"]

Method = Literal["nuts", "map"]
#: Packages whose versions every fit records.
VERSIONED = ("pymc", "pytensor", "nutpie", "arviz-stats", "numpy")


def _draws_from_tree(tree: Any, spec: ModelSpec) -> PosteriorDraws:
    post = tree["posterior"]

    def flat(name: str) -> np.ndarray:
        values = np.asarray(post[name].values, dtype=np.float64)
        return values.reshape(-1, *values.shape[2:])

    population = None
    effects = None
    products: dict[str, dict[str, tuple[np.ndarray, np.ndarray]]] = {}
    names = [c.name for c in coordinates(spec.form)]
    crossed = bool(spec.factors) and spec.pooling == "partial"
    if spec.pooling == "partial" and not crossed:
        population = {c: (flat(f"{c}_mu"), flat(f"{c}_sigma")) for c in names}
    if crossed:
        # a new cell's offset and a new level's effect are drawn with the terms' spreads
        population = {
            c: (
                flat(f"{c}_mu"),
                flat(f"{c}_spread") if c in spec.interaction else 0 * flat(f"{c}_mu"),
            )
            for c in names
        }
        effects = {
            c: {f: (flat(f"{c}_{f}_effect"), flat(f"{c}_{f}_spread")) for f in spec.factor_names}
            for c in names
        }
        for c in spec.multiplicative:
            pair = spec.product_factors()
            names_of = product_names(c, pair)
            products[c] = {f: (flat(names_of[f]), flat(f"{names_of[f]}_spread")) for f in pair}
    return PosteriorDraws(
        form_name=spec.form.name,
        scales=dict(spec.scales),
        groups=spec.groups,
        pooling=spec.pooling,
        theta={k: flat(k) for k in spec.form.parameter_names},
        noise=flat("noise"),
        nu=flat("nu") if "nu" in post else None,
        population=population,
        likelihood=spec.likelihood,
        kappa=(
            {k: flat("noise_kappa")[:, i] for i, k in enumerate(spec.form.inputs)}
            if spec.noise == "scaled"
            else None
        ),
        levels=dict(spec.factors),
        effects=effects,
        products=products or None,
    )


def _map_tree(values: Mapping[str, np.ndarray], model: Any, obs: Observations) -> Any:
    """A one-draw DataTree holding the MAP point (chain=1, draw=1)."""
    from arviz_base import from_dict

    dims = {k: [str(d) for d in v] for k, v in model.named_vars_to_dims.items()}
    posterior = {
        k: np.asarray(v)[None, None, ...]
        for k, v in values.items()
        if not k.startswith("__") and k in model.named_vars
    }
    return from_dict(
        {"posterior": posterior, "observed_data": {"loss": obs.y}},
        dims={**dims, "loss": ["obs_id"]},
        coords={k: list(v) for k, v in model.coords.items()},
    )


def _record(
    spec: ModelSpec,
    obs: Observations,
    *,
    method: str,
    config: SamplerConfig,
    random_seed: int | None,
    wall: float,
    free_variables: list[str],
    problems: list[Check],
    compile_info: CompileInfo | None,
) -> FitRecord:
    priors = spec.priors.to_dict()
    if spec.heavy_tailed:
        priors["nu"] = {"Gamma": NU_PRIOR}
    if spec.noise == "scaled":
        priors["noise_kappa"] = {"HalfNormal": KAPPA_SCALE}
    model = ModelRecord(
        form=spec.form.name,
        equation=spec.form.equation,
        pooling=spec.pooling,
        likelihood=spec.likelihood,
        priors=priors,
        scales=dict(spec.scales),
        groups=tuple(spec.groups),
        inputs=tuple(obs.inputs),
        centered=tuple(spec.centered),
        noise=spec.noise,
        factors=spec.factor_names,
        levels={name: tuple(levels) for name, levels in spec.factors},
        interaction=spec.interaction,
        multiplicative=spec.multiplicative,
    )
    settings = config.to_dict() if method == "nuts" else {"map_starts": config.map_starts}
    provenance = Provenance(
        data_hash=obs.content_hash(),
        data_source=obs.source,
        n_observations=len(obs),
        bayeslaw_version=__version__,
        wall_time_s=wall,
        created=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        versions=package_versions(VERSIONED),
    )
    return FitRecord(
        model=model,
        sampling=SamplingRecord(
            method, settings, random_seed, compile_info.to_dict() if compile_info else {}
        ),
        provenance=provenance,
        free_variables=tuple(free_variables),
        convergence_problems=tuple(str(p) for p in problems),
    )


def _spec(
    observations: Observations,
    *,
    form: str | LawForm,
    method: str,
    pooling: str,
    priors: str | Mapping[str, Any] | None,
    likelihood: str,
    noise: str,
    centered: Sequence[str] | Literal["data"] | None,
    interaction: bool | Sequence[str] | None = None,
    multiplicative: bool | Sequence[str] = False,
    random_seed: int | None = None,
) -> ModelSpec:
    """The model spec, with the arguments that only make sense together checked;
    ``centered="data"``, and ``None`` with crossed factors, run
    :func:`~bayeslaw.inference.centring.data_choices`'s pilot, which also chooses the cells'
    offsets where ``interaction`` is None and the centring is the data's."""
    from_data = isinstance(centered, str) and centered == "data"
    # crossed factors: the count rule leaves sft_finetuning at R-hat 1.021, the data's
    # choice 1.006-1.011 over three seeds (bayeslaw.inference.centring)
    from_data = from_data or (centered is None and bool(observations.factors))
    if isinstance(centered, str) and not from_data:
        raise PriorError(
            f"centered must be None, 'data' or a list of coordinate names, got {centered!r}"
        )
    if method not in ("nuts", "map"):
        raise PriorError(f"method must be 'nuts' or 'map', got {method!r}")
    if isinstance(form, str) and form == "auto":
        raise FormError(
            "form='auto' chooses among forms by held-out scoring: call bayeslaw.fit "
            "(bayeslaw.evaluation.selection.fit), not bayeslaw.inference.fitting.fit"
        )
    cells_from_data = interaction is None and from_data and method == "nuts"
    if interaction is None:
        interaction = True
    if from_data:
        centered = () if method == "map" else None
    if method == "map":
        if centered:
            raise PriorError(
                "MAP needs non-centred group offsets: a centred hierarchy's joint density is "
                "unbounded as a group scale goes to 0; drop centered (or use method='nuts')"
            )
        centered = ()
    spec = ModelSpec.from_observations(
        observations,
        form=form,
        pooling=pooling,
        priors=priors,
        likelihood=likelihood,
        noise=noise,
        centered=centered,
        interaction=interaction,
        multiplicative=multiplicative,
    )
    if spec.priors.kind == "flat" and method == "nuts":
        raise PriorError(
            "flat priors define the classical point fit and need not give a proper posterior; "
            "use method='map' with them, or priors='default' for NUTS"
        )
    if from_data and method == "nuts":
        chosen, cells = data_choices(
            observations, spec, random_seed=random_seed, interaction=cells_from_data
        )
        spec = dataclasses.replace(spec, centered=chosen, interaction=cells)
    return spec


def fit(
    observations: Observations,
    *,
    form: str | LawForm = DEFAULT_FORM,
    method: Method = "nuts",
    pooling: str = "partial",
    priors: str | Mapping[str, Any] | None = None,
    likelihood: str = "normal",
    noise: str = "constant",
    centered: Sequence[str] | Literal["data"] | None = None,
    interaction: bool | Sequence[str] | None = None,
    multiplicative: bool | Sequence[str] = False,
    draws: int = 1000,
    tune: int = 1000,
    chains: int = 4,
    target_accept: float = 0.98,
    sampler: str = "nutpie",
    progressbar: bool = True,
    random_seed: int | None = None,
    check: bool = True,
) -> Fit:
    """Fit a hierarchical scaling law of one form.

    Parameters
    ----------
    observations : Observations
        From :func:`bayeslaw.load_observations`.
    form : str or LawForm
        Law form name (see :func:`bayeslaw.models.forms.available_forms`).
    method : {"nuts", "map"}
        Full posterior by NUTS, or the MAP point (no parameter uncertainty).
    pooling : {"partial", "none", "complete"}
        Groups share population priors, are independent, or share one parameter set.
    priors : "default", "flat" or mapping
        See :func:`bayeslaw.models.priors.resolve_priors`. ``"flat"`` is for MAP only.
    likelihood : {"normal", "student_t", "lognormal", "student_t_log"}
        Errors on the loss, or on ``log(loss)`` (relative errors; the law is then the
        median loss); Student-t is robust to outlying runs.
    noise : {"constant", "scaled"}
        One noise sd per group, or one that falls with the inputs,
        ``sigma_g * prod_k x_k**(-kappa_k)`` (see :mod:`bayeslaw.models.hierarchical`).
    centered : sequence of str, optional
        Coordinates to centre under partial pooling; None applies
        :func:`bayeslaw.models.hierarchical.auto_centered` (non-centred below 6 groups,
        then the level and the first slope centred); ``()`` keeps every one non-centred.
        MAP always uses non-centred offsets. With crossed factors the entries are
        ``"<coord>:<factor>"`` or ``"<coord>:cell"``, and None means ``"data"``.
        ``"data"``: chosen from a no-pooling Laplace pilot fit (how well each group's data
        pin each coordinate against the spread between groups, and with crossed factors
        the cells sharing a level its effect against the spread between levels; see
        :mod:`bayeslaw.inference.centring`), its time counted in ``wall_time``.
    interaction : bool or sequence of str, optional
        Crossed factors (``Observations.factors``) only: whether each cell gets an offset of
        its own besides the sum of its levels' effects, on every coordinate (True), on none
        (False) or on the coordinates named, e.g. ``("L_ref",)`` (see
        :mod:`bayeslaw.models.hierarchical`). None (default): chosen by the centring's pilot
        where the centring is the data's (NUTS; the coordinates whose cells differ by more
        than their curves pin them, :func:`~bayeslaw.inference.centring.cells_from`), else
        every coordinate.
    multiplicative : bool or sequence of str, default False
        Crossed factors under partial pooling only: a rank-one interaction of the first two
        one-column factors (each level of the first scales a pattern over the second's levels
        by a loading of its own; AMMI's multiplicative term), on the level ``L_ref`` and
        every slope coordinate (True; not the exponents) or on the coordinates named. A new
        cell of known levels then gets the product of its levels' loadings besides their
        effects (measured in README, "Unseen groups").
    draws, tune, chains, target_accept, sampler, progressbar
        NUTS settings (see :class:`~bayeslaw.inference.config.SamplerConfig`).
    random_seed : int, optional
        The one seed used for MAP starts, NUTS and predictive draws.
    check : bool
        Warn (:class:`~bayeslaw.inference.diagnostics.ConvergenceWarning`) about each
        convergence check that is not ok after NUTS.

    Returns
    -------
    Fit
        Its ``record`` says what was fitted and how; ``wall_time`` is the seconds the fit
        took (model build, compilation, sampling, pointwise log likelihood, checks); with
        nutpie, ``record.sampling.compile`` says whether the compiled sampler was reused
        (:mod:`bayeslaw.inference.compiled`: a model of the same structure compiled earlier
        in this process, or saved on disk by an earlier one).
    """
    observations = as_observations(observations)
    random_seed = check_random_seed(random_seed)
    check_group_count(observations)
    start = time.perf_counter()
    spec = _spec(
        observations,
        form=form,
        method=method,
        pooling=pooling,
        priors=priors,
        likelihood=likelihood,
        noise=noise,
        centered=centered,
        interaction=interaction,
        multiplicative=multiplicative,
        random_seed=random_seed,
    )
    config = SamplerConfig(
        draws=draws,
        tune=tune,
        chains=chains,
        target_accept=target_accept,
        sampler=sampler,  # type: ignore[arg-type]
        progressbar=progressbar,
    )
    for message in degenerate_data(observations, spec.form, spec.pooling):
        warnings.warn(message, DataWarning, stacklevel=2)
    model = build_model(observations, spec)
    free_variables = [v.name for v in model.free_RVs]
    problems: list[Check] = []
    compile_info = None
    if method == "map":
        values = find_map(model, n_starts=config.map_starts, random_seed=random_seed)
        tree = _map_tree(values, model, observations)
        posterior_draws = _draws_from_tree(tree, spec)
    else:
        tree, compile_info = sample_posterior(model, config, random_seed, key=structure_key(spec))
        checked = checked_variables(
            free_variables, spec.form.parameter_names, spec.multiplicative, spec.factor_names
        )
        _, checks = fit_checks(tree, checked, ci_prob=CI_PROB)
        problems = [c for c in checks if not c.ok]
        posterior_draws = _draws_from_tree(tree, spec)
        add_pointwise(tree, posterior_draws, observations, random_seed=random_seed)
    record = _record(
        spec,
        observations,
        method=method,
        config=config,
        random_seed=random_seed,
        wall=time.perf_counter() - start,
        free_variables=free_variables,
        problems=problems,
        compile_info=compile_info,
    )
    if check:
        warn_on_failures(problems)
    return Fit(record, posterior_draws, observations, _datatree=tree)
