"""The numbers behind the model-checking plots: predictive replicates, PIT, traces."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from bayeslaw.errors import BayeslawError, FitNotReadyError
from bayeslaw.inference.result import Fit
from bayeslaw.reports.plot_data import ReportError, observations_of

__all__ = ["pit_values", "ppc_replicates", "trace_data"]


def ppc_replicates(fit: Fit, *, n_replicates: int = 50, random_seed: int = 0) -> pd.DataFrame:
    """Replicated datasets from the posterior predictive, simulated from the numpy draws
    (mean law plus the fit's noise model), ``n_replicates`` random posterior draws.

    A MAP fit has one draw: its replicates are plug-in (noise only, no parameter
    uncertainty).

    Returns
    -------
    pandas.DataFrame
        One row per observation: ``group``, ``observed`` and ``rep_0``, ``rep_1``, ...
    """
    obs = observations_of(fit)
    draws = fit.draws
    rng = np.random.default_rng(random_seed)
    pick = rng.choice(draws.n_draws, size=n_replicates, replace=draws.n_draws < n_replicates)
    out = pd.DataFrame({"group": obs.frame["group"], "observed": obs.frame["loss_validation"]})
    reps = np.empty((n_replicates, len(obs.frame)))
    for group in obs.groups:
        mask = (obs.frame["group"] == group).to_numpy()
        inputs = {k: obs.frame.loc[mask, k].to_numpy() for k in draws.form.inputs}
        mean = draws.mean_draws(inputs, group)[pick]
        noise = draws.group_noise(group)[pick, None]
        if draws.nu is None:
            eps = rng.standard_normal(mean.shape)
        else:
            eps = rng.standard_t(draws.nu[pick, None], size=mean.shape)
        reps[:, mask] = mean + noise * eps
    columns = [f"rep_{i}" for i in range(n_replicates)]
    return pd.concat([out, pd.DataFrame(reps.T, index=out.index, columns=columns)], axis=1)


def pit_values(fit: Fit) -> pd.DataFrame:
    """Probability integral transform of every observation under its predictive distribution.

    LOO-PIT (``arviz_stats.loo_pit``) when the fit has a DataTree with log likelihood and
    posterior predictive; otherwise in-sample PIT from 2000 :func:`ppc_replicates` (MAP: a
    plug-in PIT). Calibrated predictions give uniform values; ``attrs["kind"]`` says which.

    Returns
    -------
    pandas.DataFrame
        ``group``, ``observed``, ``pit``.
    """
    obs = observations_of(fit)
    out = pd.DataFrame({"group": obs.frame["group"], "observed": obs.frame["loss_validation"]})
    tree = _tree_or_none(fit)
    if tree is not None and {"log_likelihood", "posterior_predictive"} <= set(tree.children):
        import arviz_stats as azs

        out["pit"] = np.asarray(azs.loo_pit(tree, var_names="loss")["loss"].values)
        out.attrs["kind"] = "LOO-PIT"
        return out
    reps = ppc_replicates(fit, n_replicates=2000).filter(like="rep_").to_numpy()
    out["pit"] = (reps <= out["observed"].to_numpy()[:, None]).mean(axis=1)
    out.attrs["kind"] = "plug-in PIT (MAP)" if fit.draws.n_draws == 1 else "in-sample PIT"
    return out


def _tree_or_none(fit: Fit) -> Any:
    try:
        return fit.datatree
    except BayeslawError:
        return None


def _components(posterior: Any, names: Sequence[str]) -> dict[str, np.ndarray]:
    """``label -> (chain, draw)`` arrays, labelled ``var[coord, ...]`` like ArviZ does."""
    out = {}
    for name in names:
        da = posterior[name]
        extra = [d for d in da.dims if d not in ("chain", "draw")]
        if not extra:
            out[name] = np.asarray(da.transpose("chain", "draw").values)
            continue
        stacked = da.stack(_component=extra).transpose("_component", "chain", "draw")
        for i, key in enumerate(stacked["_component"].values):
            parts = key if isinstance(key, tuple) else (key,)
            out[f"{name}[{', '.join(str(p) for p in parts)}]"] = np.asarray(stacked.values[i])
    return out


def trace_data(
    fit: Fit, *, var_names: Sequence[str] | None = None, max_panels: int = 6
) -> pd.DataFrame:
    """Draws per chain of a few scalar components, with their ranks, R-hat and bulk ESS.

    Parameters
    ----------
    var_names : sequence of str, optional
        Variables (all their components) or components (``"alpha[group_0]"``). Default:
        the ``max_panels`` components of the free variables and law parameters with the
        highest R-hat, the ones worth looking at.
    max_panels : int
        Most components returned.

    Returns
    -------
    pandas.DataFrame
        Long format: ``label``, ``chain``, ``draw``, ``value``, ``rank`` (pooled over chains,
        scaled to [0, 1]), ``r_hat``, ``ess_bulk``.
    """
    import arviz_stats as azs

    from bayeslaw.reports.diagnostics import free_variables

    if fit.draws.n_draws == 1:
        raise FitNotReadyError("a MAP fit has no chains to trace; refit with method='nuts'")
    posterior = fit.datatree["posterior"]
    wanted = list(var_names) if var_names is not None else None
    names = [w.split("[", 1)[0] for w in wanted] if wanted else None
    if names is None:
        names = [*free_variables(fit), *fit.draws.form.parameter_names]
    unknown = sorted(set(names) - {str(v) for v in posterior.data_vars})
    if unknown:
        raise ReportError(
            f"no posterior variables {unknown}; known: {sorted(map(str, posterior.data_vars))}"
        )
    components = _components(posterior, list(dict.fromkeys(names)))
    if wanted is not None:
        labels = [k for k in components if k in wanted or k.split("[", 1)[0] in wanted]
    else:
        labels = sorted(components, key=lambda k: -float(azs.rhat(components[k])))
    rows = []
    for label in labels[:max_panels]:
        values = components[label]
        ranks = (values.ravel().argsort().argsort().reshape(values.shape) + 0.5) / values.size
        chain, draw = np.indices(values.shape)
        rows.append(
            pd.DataFrame(
                {
                    "label": label,
                    "chain": chain.ravel(),
                    "draw": draw.ravel(),
                    "value": values.ravel(),
                    "rank": ranks.ravel(),
                    "r_hat": float(azs.rhat(values)),
                    "ess_bulk": float(azs.ess(values)),
                }
            )
        )
    return pd.concat(rows, ignore_index=True)
