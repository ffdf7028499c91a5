"""Model-checking plots: posterior predictive check and trace/rank plots.

Keyword-only functions returning a :class:`matplotlib.figure.Figure` with named parts:

- :func:`plot_ppc`: ``observed``, ``replicates`` (density panel); ``pit_histogram``,
  ``pit_band`` (PIT panel).
- :func:`plot_trace`: per component ``label``, ``rank:{label}:{chain}`` and
  ``trace:{label}:{chain}``; the rank panel's uniform reference is ``rank_reference:{label}``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from matplotlib import colormaps
from matplotlib.collections import LineCollection
from matplotlib.figure import Figure

from bayeslaw.inference.result import Fit
from bayeslaw.reports.check_data import pit_values, ppc_replicates, trace_data

__all__ = ["plot_ppc", "plot_trace"]

PIT_BINS = 10
RANK_BINS = 20
#: Pointwise probability of the reference ranges drawn in PIT and rank histograms.
REFERENCE_PROB = 0.9


def _density(values: np.ndarray, grid: np.ndarray) -> np.ndarray:
    from scipy.stats import gaussian_kde

    if np.ptp(values) == 0:
        return np.zeros_like(grid)
    return np.asarray(gaussian_kde(values)(grid))


def _binomial_range(n: int, p: float) -> tuple[float, float]:
    from scipy.stats import binom

    tail = (1 - REFERENCE_PROB) / 2
    return float(binom.ppf(tail, n, p)), float(binom.ppf(1 - tail, n, p))


def plot_ppc(fit: Fit, *, n_replicates: int = 50, random_seed: int = 0) -> Figure:
    """Posterior predictive check: the density of the observed losses against that of
    ``n_replicates`` replicated datasets (left), and the PIT histogram (right), uniform
    when predictions are calibrated (LOO-PIT for NUTS fits with a DataTree, see
    :func:`~bayeslaw.reports.plot_data.pit_values`), with the pointwise 90% range of a bin's
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
    low, high = _binomial_range(n, 1 / PIT_BINS)
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


def plot_trace(fit: Fit, *, var_names: Sequence[str] | None = None, max_panels: int = 6) -> Figure:
    """Rank histograms per chain (left; flat when chains agree) and traces (right) of a
    few scalar components: by default the ``max_panels`` with the highest R-hat.

    Parameters
    ----------
    var_names : sequence of str, optional
        Variables or components (``"alpha[group_0]"``); see
        :func:`~bayeslaw.reports.plot_data.trace_data`.
    max_panels : int
        Most components drawn.

    Raises
    ------
    FitNotReadyError
        For a MAP fit (no chains).

    Returns
    -------
    matplotlib.figure.Figure
        Named parts listed in the module docstring.
    """
    data = trace_data(fit, var_names=var_names, max_panels=max_panels)
    labels = list(dict.fromkeys(data["label"]))
    n_chains = int(data["chain"].max()) + 1
    colors = colormaps["tab10"]
    fig = Figure(figsize=(11.5, 1.9 * len(labels) + 0.8), layout="constrained")
    axes = fig.subplots(len(labels), 2, squeeze=False, width_ratios=(1, 2))
    for (rank_ax, trace_ax), label in zip(axes, labels, strict=True):
        rows = data[data["label"] == label]
        per_chain = len(rows) // n_chains
        bins = int(np.clip(per_chain // 10, 4, RANK_BINS))
        expected = per_chain / bins
        low, high = _binomial_range(per_chain, 1 / bins)
        rank_ax.axhspan(low, high, color="0.5", alpha=0.18, lw=0, gid=f"rank_reference:{label}")
        rank_ax.axhline(expected, color="0.4", lw=0.8, ls="--")
        for chain, chain_rows in rows.groupby("chain"):
            c = colors(int(chain) % 10)
            counts, edges = np.histogram(chain_rows["rank"], bins=bins, range=(0.0, 1.0))
            rank_ax.stairs(
                counts, edges, baseline=None, color=c, lw=1.2, gid=f"rank:{label}:{chain}"
            )
            trace_ax.plot(
                chain_rows["draw"],
                chain_rows["value"],
                color=c,
                lw=0.7,
                alpha=0.8,
                gid=f"trace:{label}:{chain}",
                label=f"chain {chain}",
            )
        rank_ax.set(xlim=(0, 1), ylim=(0, 1.25 * max(high, rank_ax.get_ylim()[1])), yticks=[])
        first = rows.iloc[0]
        trace_ax.set_title(
            f"{label}: R-hat {first['r_hat']:.3f}, bulk ESS {first['ess_bulk']:.0f}",
            fontsize="small",
            loc="left",
        )
    axes[0, 0].set_title(
        f"rank histogram per chain ({REFERENCE_PROB:.0%} range shaded)",
        fontsize="small",
        loc="left",
    )
    axes[-1, 0].set_xlabel("rank (all chains pooled)")
    axes[-1, 1].set_xlabel("draw")
    axes[0, 1].legend(fontsize="x-small", ncols=n_chains, loc="upper right")
    which = "given components" if var_names is not None else "components with the highest R-hat"
    fig.suptitle(f"Rank and trace plots of the {which}")
    return fig
