"""``bayeslaw.fit``: build the model, run MAP or NUTS, check convergence, return a Fit."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Mapping, Sequence
from typing import Any, Literal

import numpy as np

from bayeslaw._version import __version__
from bayeslaw.data import Observations
from bayeslaw.errors import PriorError
from bayeslaw.inference.config import SamplerConfig
from bayeslaw.inference.posterior import PosteriorDraws
from bayeslaw.inference.result import Fit
from bayeslaw.models.anchors import coordinates
from bayeslaw.models.forms import DEFAULT_FORM, LawForm
from bayeslaw.models.priors import NU_PRIOR

__all__ = ["fit"]

Method = Literal["nuts", "map"]


def _draws_from_tree(tree: Any, spec: Any) -> PosteriorDraws:
    post = tree["posterior"]

    def flat(name: str) -> np.ndarray:
        values = np.asarray(post[name].values, dtype=np.float64)
        return values.reshape(-1, *values.shape[2:])

    population = None
    if spec.pooling == "partial":
        population = {
            c.name: (flat(f"{c.name}_mu"), flat(f"{c.name}_sigma")) for c in coordinates(spec.form)
        }
    return PosteriorDraws(
        form_name=spec.form.name,
        scales=dict(spec.scales),
        groups=spec.groups,
        pooling=spec.pooling,
        theta={k: flat(k) for k in spec.form.parameter_names},
        noise=flat("noise"),
        nu=flat("nu") if "nu" in post else None,
        population=population,
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
        coords={"group": list(model.coords["group"])},
    )


def fit(
    observations: Observations,
    *,
    form: str | LawForm = DEFAULT_FORM,
    method: Method = "nuts",
    pooling: str = "partial",
    priors: str | Mapping[str, Any] | None = None,
    likelihood: str = "normal",
    centered: Sequence[str] | None = None,
    draws: int = 1000,
    tune: int = 1000,
    chains: int = 4,
    target_accept: float = 0.98,
    sampler: str = "nutpie",
    progressbar: bool = True,
    random_seed: int | None = None,
    check: bool = True,
) -> Fit:
    """Fit a hierarchical scaling law.

    Parameters
    ----------
    observations : Observations
        From :func:`bayeslaw.load_observations`.
    form : str or LawForm
        Law form name (see :func:`bayeslaw.models.forms.available_forms`), or ``"auto"``:
        the MoE form that best predicts the largest model size held out from
        ``observations`` (:func:`bayeslaw.reports.comparison.select_form`).
    method : {"nuts", "map"}
        Full posterior by NUTS, or the MAP point (no parameter uncertainty).
    pooling : {"partial", "none", "complete"}
        Groups share population priors, are independent, or share one parameter set.
    priors : "default", "flat" or mapping
        See :func:`bayeslaw.models.priors.resolve_priors`. ``"flat"`` is for MAP only.
    likelihood : {"normal", "student_t"}
        Observation noise model; Student-t is robust to outlying runs.
    centered : sequence of str, optional
        Coordinates to centre under partial pooling; None applies
        :func:`bayeslaw.models.hierarchical.auto_centered` (non-centred below 6 groups,
        then the level and the first slope centred); ``()`` keeps every one non-centred.
        MAP always uses non-centred offsets.
    draws, tune, chains, target_accept, sampler, progressbar
        NUTS settings (see :class:`~bayeslaw.inference.config.SamplerConfig`).
    random_seed : int, optional
        The one seed used for MAP starts, NUTS and predictive draws.
    check : bool
        Warn (:class:`~bayeslaw.inference.checks.ConvergenceWarning`) about each failed
        convergence check after NUTS.

    Returns
    -------
    Fit
        With ``info["wall_time_s"]``, the seconds the fit took (compilation included).
    """
    from bayeslaw.inference.checks import convergence_problems, warn_on_problems
    from bayeslaw.models.hierarchical import ModelSpec, build_model

    if method not in ("nuts", "map"):
        raise PriorError(f"method must be 'nuts' or 'map', got {method!r}")
    selected_by = None
    if form == "auto":
        from bayeslaw.reports.comparison import select_form

        form = select_form(
            observations,
            random_seed=random_seed or 0,
            method=method,
            draws=draws,
            tune=tune,
            chains=chains,
            target_accept=target_accept,
            sampler=sampler,
            progressbar=False,
            check=False,
        )
        selected_by = "auto: highest extrapolation ELPD on the held-out largest size"
    config = SamplerConfig(
        draws=draws,
        tune=tune,
        chains=chains,
        target_accept=target_accept,
        sampler=sampler,  # type: ignore[arg-type]
        progressbar=progressbar,
    )
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
        centered=centered,
    )
    if spec.priors.kind == "flat" and method == "nuts":
        raise PriorError(
            "flat priors define the classical point fit and need not give a proper posterior; "
            "use method='map' with them, or priors='default' for NUTS"
        )
    start = time.perf_counter()
    model = build_model(observations, spec)
    problems = []
    free_variables = [v.name for v in model.free_RVs]
    if method == "map":
        from bayeslaw.inference.map import find_map

        values = find_map(model, n_starts=config.map_starts, random_seed=random_seed)
        tree = _map_tree(values, model, observations)
    else:
        from bayeslaw.inference.nuts import sample_posterior

        tree = sample_posterior(model, config, random_seed)
        names = free_variables + list(spec.form.parameter_names)
        problems = convergence_problems(tree, names)
    posterior_draws = _draws_from_tree(tree, spec)
    if method == "nuts":
        from bayeslaw.inference.pointwise import add_pointwise

        add_pointwise(
            tree,
            posterior_draws,
            observations,
            likelihood=spec.likelihood,
            random_seed=random_seed,
        )
    wall = time.perf_counter() - start
    info = {
        "form": spec.form.name,
        "equation": spec.form.equation,
        "pooling": spec.pooling,
        "centered": list(spec.centered),
        "likelihood": spec.likelihood,
        "priors": spec.priors.to_dict()
        | ({"nu": {"Gamma": NU_PRIOR}} if spec.likelihood == "student_t" else {}),
        "scales": dict(spec.scales),
        "groups": list(spec.groups),
        "method": method,
        "sampler": config.to_dict() if method == "nuts" else {"map_starts": config.map_starts},
        "random_seed": random_seed,
        "data_hash": observations.content_hash(),
        "data_source": observations.source,
        "n_observations": len(observations),
        "inputs": list(observations.inputs),
        "free_variables": free_variables,
        "bayeslaw_version": __version__,
        "wall_time_s": wall,
        "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "convergence_problems": [str(p) for p in problems],
        "form_selected_by": selected_by,
    }
    result = Fit(info, posterior_draws, observations, _datatree=tree)
    if check:
        warn_on_problems(problems)
    return result
