"""Maximum a posteriori estimation with multiple starts.

The log density is maximised without the Jacobian of the transforms (the mode of the
posterior in the parameters' own space, as :func:`pymc.find_MAP` does) with L-BFGS-B from
the model's initial point and ``n_starts - 1`` jittered starts; the best optimum wins.
Variables without a transform keep their bounds (the flat model's bounded exponents), so a
boundary optimum is reached exactly instead of approached through a logit.

One exception: the between-group scales of a partially pooled model (``<coord>_sigma``)
keep the Jacobian of their log transform. Without it the joint mode of a hierarchical
model lies at the boundary ``sigma = 0`` (every group gets the population's parameters:
complete pooling, whatever the data say; measured on ``moe_by_router``: all three routers
got alpha = 0.235386, ``alpha_sigma`` 1e-6). With it, the mode is taken in
``log sigma``, where it is interior (the approach of Stan's ``optimize jacobian=true``
for hierarchical scales); the law's own parameters are still at their posterior mode
given those scales.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pymc as pm
import pytensor
from pymc.blocking import DictToArrayBijection, RaveledVars
from pymc.distributions.continuous import HalfFlatRV
from pymc.logprob.utils import ParameterValueError
from pymc.pytensorf import join_nonshared_inputs
from pytensor.tensor.random.basic import UniformRV
from scipy import optimize

__all__ = ["find_map"]

#: Name suffix of the between-group scales of :mod:`bayeslaw.models.hierarchical`.
GROUP_SCALE_SUFFIXES = ("_sigma", "_share")


def _bounds(model: pm.Model, ip: dict[str, np.ndarray]) -> list[tuple[float | None, float | None]]:
    """Per-element bounds of the raveled value vector (``ip``: the initial point)."""
    out: list[tuple[float | None, float | None]] = []
    for value in model.value_vars:
        rv = model.values_to_rvs[value]
        shape = np.shape(ip[value.name])
        size = int(np.prod(shape))
        untransformed = model.rvs_to_transforms.get(rv) is None
        if untransformed and isinstance(rv.owner.op, UniformRV):
            lower, upper = (np.broadcast_to(v.eval(), shape).ravel() for v in rv.owner.inputs[-2:])
            out.extend(zip(lower.tolist(), upper.tolist(), strict=True))
        elif untransformed and isinstance(rv.owner.op, HalfFlatRV):
            out.extend([(1e-12, None)] * size)
        else:
            out.extend([(None, None)] * size)
    return out


def _jittered(
    x0: np.ndarray, bounds: list[tuple[float | None, float | None]], rng: np.random.Generator
) -> np.ndarray:
    x = x0 + rng.normal(0.0, 1.0, size=x0.shape)
    for i, (lower, upper) in enumerate(bounds):
        if lower is not None and upper is not None:
            x[i] = rng.uniform(lower, upper)
        elif lower is not None:
            x[i] = max(x[i], x0[i] * np.exp(rng.normal()))
    return x


def _objective_logp(model: pm.Model) -> Any:
    """Log density without Jacobians, except those of the between-group scales."""
    logp = model.logp(jacobian=False)
    scales = [rv for rv in model.free_RVs if rv.name.endswith(GROUP_SCALE_SUFFIXES)]
    if scales:
        logp = (
            logp + model.logp(vars=scales, jacobian=True) - model.logp(vars=scales, jacobian=False)
        )
    return logp


def find_map(
    model: pm.Model, *, n_starts: int = 12, random_seed: int | None = None
) -> dict[str, np.ndarray]:
    """The MAP point of ``model``: free, transformed and deterministic values by name.

    Parameters
    ----------
    model : pymc.Model
    n_starts : int
        Optimizer starts: the initial point and ``n_starts - 1`` jittered points.
    random_seed : int, optional
        Seed of the jitter.

    Returns
    -------
    dict
        Variable name -> value at the best optimum found, plus ``"__logp__"``.
    """
    rng = np.random.default_rng(random_seed)
    start = model.initial_point()
    x0 = DictToArrayBijection.map(start)
    bounds = _bounds(model, start)
    # one compiled function of the raveled vector for -logp and its gradient
    [neg_logp], x_var = join_nonshared_inputs(start, [-_objective_logp(model)], model.value_vars)
    grad: Any = pytensor.grad(neg_logp, x_var)
    fn = pytensor.function([x_var], [neg_logp, grad])
    fn.trust_input = True

    def objective(x: np.ndarray) -> tuple[float, np.ndarray]:
        try:
            value, gradient = fn(np.asarray(x, dtype=x0.data.dtype))
        except ParameterValueError:  # a scale driven to 0 (e.g. one row per group)
            return 1e300, np.zeros_like(x)
        if not np.isfinite(value):
            return 1e300, np.zeros_like(x)
        return float(value), np.asarray(gradient, dtype=float)

    best: Any = None
    starts = [x0.data.copy()] + [_jittered(x0.data, bounds, rng) for _ in range(n_starts - 1)]
    for x_start in starts:
        res = optimize.minimize(
            objective,
            x_start,
            jac=True,
            method="L-BFGS-B",
            bounds=bounds,
            options={"maxiter": 5000, "ftol": 1e-15, "gtol": 1e-10},
        )
        if best is None or res.fun < best.fun:
            best = res
    point = DictToArrayBijection.rmap(RaveledVars(best.x, x0.point_map_info), start)
    outputs = model.unobserved_value_vars
    # called once: skip the costly graph rewrites of the default mode
    fn = model.compile_fn(
        outputs,
        inputs=model.value_vars,
        point_fn=False,
        on_unused_input="ignore",
        mode="FAST_COMPILE",
    )
    values = dict(zip([v.name for v in outputs], fn(**point), strict=True))
    values["__logp__"] = np.asarray(-best.fun)
    return {k: np.asarray(v) for k, v in values.items()}
