"""Posterior predictive checks, drawn by ``arviz_plots``: predictive vs observed losses, PIT.

:func:`predictive_tree` is the data the checks read: the fit's own DataTree when it holds a
posterior predictive (NUTS), else replicated datasets simulated from the numpy draws
(:func:`ppc_replicates`; for a MAP fit these are plug-in: noise only). :func:`plot_ppc`
draws ``arviz_plots.plot_ppc_dist`` on it; :func:`plot_pit` draws the calibration check,
``arviz_plots.plot_loo_pit`` (LOO-PIT, from the pointwise log likelihood) when the fit has
one, else ``arviz_plots.plot_ppc_pit`` (in-sample PIT). Both show the ECDF of the PIT values
minus the uniform one, inside a simultaneous envelope: inside means calibrated.

Named parts are arviz-plots' visuals: ``predictive_dist``, ``observed_dist`` (PPC);
``ecdf_lines``, ``ref_line`` (PIT).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from bayeslaw.data import GROUP
from bayeslaw.errors import BayeslawError
from bayeslaw.posterior.fit import Fit
from bayeslaw.reports.plots.style import detach

__all__ = ["PIT_REPLICATES", "plot_pit", "plot_ppc", "ppc_replicates", "predictive_tree"]

#: Replicated datasets simulated for a fit whose DataTree has no posterior predictive.
PIT_REPLICATES = 1000
#: The observed variable of the fit's DataTree.
OBSERVED = "loss"
FIGURE_KWARGS = {"figsize": (9.0, 3.8), "layout": "constrained"}


def ppc_replicates(fit: Fit, *, n_replicates: int = 50, random_seed: int = 0) -> pd.DataFrame:
    """Replicated datasets from the posterior predictive of ``n_replicates`` random posterior
    draws (:meth:`PosteriorDraws.predictive
    <bayeslaw.posterior.draws.PosteriorDraws.predictive>`: the law plus the fit's noise).

    A MAP fit has one draw: its replicates are plug-in (noise only, no parameter
    uncertainty).

    Returns
    -------
    pandas.DataFrame
        One row per observation: ``group``, ``observed`` and ``rep_0``, ``rep_1``, ...
    """
    obs = fit.fitted_observations()
    draws = fit.draws
    rng = np.random.default_rng(random_seed)
    pick = rng.choice(draws.n_draws, size=n_replicates, replace=draws.n_draws < n_replicates)
    out = pd.DataFrame({GROUP: obs.frame[GROUP], "observed": obs.frame[obs.target]})
    reps = np.empty((n_replicates, len(obs.frame)))
    for group in obs.groups:
        mask = (obs.frame[GROUP] == group).to_numpy()
        inputs = {k: obs.frame.loc[mask, k].to_numpy() for k in draws.form.inputs}
        reps[:, mask] = draws.predictive(inputs, group).take(pick).sample(rng)
    columns = [f"rep_{i}" for i in range(n_replicates)]
    return pd.concat([out, pd.DataFrame(reps.T, index=out.index, columns=columns)], axis=1)


def _own_tree(fit: Fit) -> Any:
    try:
        tree = fit.datatree
    except BayeslawError:
        return None
    return tree if "posterior_predictive" in tree.children else None


def predictive_tree(
    fit: Fit, *, n_replicates: int = PIT_REPLICATES, random_seed: int = 0
) -> tuple[Any, str]:
    """The DataTree the predictive checks read, and the kind of PIT it supports.

    Returns
    -------
    (xarray.DataTree, str)
        With ``posterior_predictive`` and ``observed_data`` (and ``log_likelihood`` when the
        fit has one); the kind is ``"LOO-PIT"``, ``"in-sample PIT"`` or ``"plug-in PIT
        (MAP)"``.
    """
    import xarray as xr

    tree = _own_tree(fit)
    if tree is not None:
        kind = "LOO-PIT" if "log_likelihood" in tree.children else "in-sample PIT"
        return tree, kind
    reps = ppc_replicates(fit, n_replicates=n_replicates, random_seed=random_seed)
    values = reps.filter(like="rep_").to_numpy().T[None]  # (chain, draw, obs_id)
    dims = ("chain", "draw", "obs_id")
    predictive = xr.Dataset({OBSERVED: (dims, values)})
    observed = xr.Dataset({OBSERVED: (("obs_id",), reps["observed"].to_numpy())})
    tree = xr.DataTree.from_dict({"posterior_predictive": predictive, "observed_data": observed})
    return tree, "plug-in PIT (MAP)" if fit.draws.n_draws == 1 else "in-sample PIT"


def plot_ppc(fit: Fit, *, n_replicates: int = 50, random_seed: int = 0) -> Figure:
    """Posterior predictive check (``arviz_plots.plot_ppc_dist``): the density of the
    observed losses against that of ``n_replicates`` replicated datasets.

    Returns
    -------
    matplotlib.figure.Figure
        Named parts ``predictive_dist`` and ``observed_dist``.
    """
    import arviz_plots as azp

    tree, _ = predictive_tree(fit, random_seed=random_seed)
    pc = azp.plot_ppc_dist(
        tree,
        var_names=[OBSERVED],
        num_samples=n_replicates,
        visuals={"title": False},
        figure_kwargs=FIGURE_KWARGS,
        backend="matplotlib",
    )
    fig = detach(pc)
    fig.axes[0].set_xlabel("validation loss")
    fig.suptitle(f"Observed losses (black) against {n_replicates} replicated datasets")
    return fig


def plot_pit(fit: Fit) -> Figure:
    """Calibration: the ECDF of PIT values minus the uniform ECDF, within its simultaneous
    envelope (``arviz_plots.plot_loo_pit`` with a log likelihood, else ``plot_ppc_pit``).

    Returns
    -------
    matplotlib.figure.Figure
        Named parts ``ecdf_lines`` and ``ref_line``.
    """
    import arviz_plots as azp

    tree, kind = predictive_tree(fit)
    draw = azp.plot_loo_pit if kind == "LOO-PIT" else azp.plot_ppc_pit
    pc = draw(
        tree,
        var_names=[OBSERVED],
        visuals={"title": False},
        figure_kwargs=FIGURE_KWARGS,
        backend="matplotlib",
    )
    fig = detach(pc)
    fig.suptitle(f"{kind}: ECDF minus uniform, inside the envelope when calibrated")
    return fig
