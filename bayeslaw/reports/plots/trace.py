"""Rank and trace plots of the sampler's chains.

:func:`trace_data` computes the numbers, :func:`plot_trace` draws them. Named parts: per
component ``label``, ``rank:{label}:{chain}`` and ``trace:{label}:{chain}``; the rank panel's
uniform reference is ``rank_reference:{label}``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from matplotlib import colormaps
from matplotlib.figure import Figure

from bayeslaw.errors import FitNotReadyError, ReportError
from bayeslaw.posterior.fit import Fit
from bayeslaw.reports.diagnostics import free_variables
from bayeslaw.reports.plots.style import REFERENCE_PROB, binomial_range

__all__ = ["plot_trace", "trace_data"]

RANK_BINS = 20


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


def plot_trace(fit: Fit, *, var_names: Sequence[str] | None = None, max_panels: int = 6) -> Figure:
    """Rank histograms per chain (left; flat when chains agree) and traces (right) of a
    few scalar components: by default the ``max_panels`` with the highest R-hat.

    Parameters
    ----------
    var_names : sequence of str, optional
        Variables or components (``"alpha[group_0]"``); see
        :func:`trace_data`.
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
        low, high = binomial_range(per_chain, 1 / bins)
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
