"""Posterior predictive check: replicated vs observed losses, and calibration (PIT).

:func:`ppc_replicates` and :func:`pit_values` compute the numbers, :func:`plot_ppc` draws
them. Named parts: ``observed``, ``replicates`` (density panel); ``pit_histogram``,
``pit_band`` (PIT panel).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from matplotlib.collections import LineCollection
from matplotlib.figure import Figure

from bayeslaw.data import GROUP
from bayeslaw.errors import BayeslawError
from bayeslaw.posterior.fit import Fit
from bayeslaw.reports.plots.style import REFERENCE_PROB, binomial_range

__all__ = ["pit_values", "plot_ppc", "ppc_replicates"]

PIT_BINS = 10


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
    obs = fit.fitted_observations()
    out = pd.DataFrame({GROUP: obs.frame[GROUP], "observed": obs.frame[obs.target]})
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


def _density(values: np.ndarray, grid: np.ndarray) -> np.ndarray:
    from scipy.stats import gaussian_kde

    if np.ptp(values) == 0:
        return np.zeros_like(grid)
    return np.asarray(gaussian_kde(values)(grid))


def plot_ppc(fit: Fit, *, n_replicates: int = 50, random_seed: int = 0) -> Figure:
    """Posterior predictive check: the density of the observed losses against that of
    ``n_replicates`` replicated datasets (left), and the PIT histogram (right), uniform
    when predictions are calibrated (LOO-PIT for NUTS fits with a DataTree, see
    :func:`pit_values`), with the pointwise 90% range of a bin's
    count under uniformity shaded.

    Returns
    -------
    matplotlib.figure.Figure
        Named parts listed in the module docstring.
    """
    reps = ppc_replicates(fit, n_replicates=n_replicates, random_seed=random_seed)
    pit = pit_values(fit)
    observed = reps["observed"].to_numpy()
    replicated = reps.filter(like="rep_").to_numpy().T
    lo, hi = float(replicated.min()), float(replicated.max())
    pad = 0.05 * (hi - lo)
    grid = np.linspace(min(lo, observed.min()) - pad, max(hi, observed.max()) + pad, 200)
    fig = Figure(figsize=(11.5, 4.2), layout="constrained")
    left, right = fig.subplots(1, 2)
    lines = [np.column_stack([grid, _density(r, grid)]) for r in replicated]
    left.add_collection(
        LineCollection(
            lines,
            colors="C0",
            alpha=0.25,
            lw=0.8,
            gid="replicates",
            label=f"replicated ({n_replicates} draws)",
        )
    )
    left.plot(grid, _density(observed, grid), color="k", lw=1.8, gid="observed", label="observed")
    left.autoscale_view()
    left.set(xlabel="validation loss", ylabel="density", title="Loss distribution")
    left.legend(fontsize="small")
    n = len(pit)
    counts, edges = np.histogram(pit["pit"], bins=PIT_BINS, range=(0.0, 1.0))
    low, high = binomial_range(n, 1 / PIT_BINS)
    right.axhspan(
        low,
        high,
        color="0.5",
        alpha=0.25,
        lw=0,
        gid="pit_band",
        label=f"pointwise {REFERENCE_PROB:.0%} range if uniform",
    )
    right.stairs(counts, edges, color="C0", lw=2, gid="pit_histogram", label=str(pit.attrs["kind"]))
    right.set(
        xlabel="PIT value",
        ylabel="observations",
        xlim=(0, 1),
        ylim=(0, 1.35 * max(float(counts.max()), high)),
        title=f"{pit.attrs['kind']} of {n} observations (uniform if calibrated)",
    )
    right.legend(fontsize="small", loc="upper center", ncols=2)
    fig.suptitle("Posterior predictive check")
    return fig
