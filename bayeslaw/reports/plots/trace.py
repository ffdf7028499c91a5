"""Trace and rank plots of the chains, drawn by ``arviz_plots``.

:func:`worst_components` picks the numbers worth looking at (by default the scalar
components with the highest R-hat) as a Dataset of ``(chain, draw)`` draws;
:func:`plot_trace` draws them with ``arviz_plots.plot_trace_dist`` (marginal densities per
chain and traces), :func:`plot_rank` with ``arviz_plots.plot_rank`` (fractional rank ECDFs
per chain inside a simultaneous envelope: inside when the chains agree).

Named parts are arviz-plots' visuals: ``trace``, ``dist`` (trace plot); ``ecdf_lines``
(rank plot).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from matplotlib.figure import Figure

from bayeslaw.errors import FitNotReadyError, ReportError
from bayeslaw.posterior.fit import Fit
from bayeslaw.reports.diagnostics import free_variables
from bayeslaw.reports.plots.style import detach

__all__ = ["plot_rank", "plot_trace", "worst_components"]


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


def worst_components(
    fit: Fit, *, var_names: Sequence[str] | None = None, max_panels: int = 6
) -> Any:
    """A few scalar components of the posterior: a DataTree whose ``posterior`` holds
    ``(chain, draw)`` variables named ``var[coord]``, with ``r_hat`` and ``ess_bulk`` in each
    variable's ``attrs``.

    Parameters
    ----------
    var_names : sequence of str, optional
        Variables (all their components) or components (``"alpha[group_0]"``). Default:
        the ``max_panels`` components of the free variables and law parameters with the
        highest R-hat, the ones worth looking at.
    max_panels : int
        Most components returned.

    Raises
    ------
    FitNotReadyError
        For a MAP fit (no chains).
    ReportError
        For names the posterior does not have.
    """
    import arviz_stats as azs
    import xarray as xr

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
    rhat = {k: float(azs.rhat(v)) for k, v in components.items()}
    if wanted is not None:
        labels = [k for k in components if k in wanted or k.split("[", 1)[0] in wanted]
    else:
        labels = sorted(components, key=lambda k: -rhat[k])
    data = {}
    coords = {"chain": posterior["chain"].values, "draw": posterior["draw"].values}
    for label in labels[:max_panels]:
        values = components[label]
        attrs = {"r_hat": rhat[label], "ess_bulk": float(azs.ess(values))}
        data[label] = xr.DataArray(values, dims=("chain", "draw"), coords=coords, attrs=attrs)
    return xr.DataTree.from_dict({"posterior": xr.Dataset(data)})


def _titled(fig: Figure, components: Any, what: str) -> Figure:
    variables = components["posterior"].data_vars.values()
    worst = max(float(v.attrs["r_hat"]) for v in variables)
    fig.suptitle(f"{what} of {len(variables)} components (largest R-hat {worst:.3f})")
    return fig


def plot_trace(fit: Fit, *, var_names: Sequence[str] | None = None, max_panels: int = 6) -> Figure:
    """Marginal densities per chain and traces (``arviz_plots.plot_trace_dist``) of a few
    scalar components: by default the ``max_panels`` with the highest R-hat (see
    :func:`worst_components`).

    Returns
    -------
    matplotlib.figure.Figure
        Named parts ``trace`` and ``dist``.
    """
    import arviz_plots as azp

    components = worst_components(fit, var_names=var_names, max_panels=max_panels)
    n = len(components["posterior"].data_vars)
    pc = azp.plot_trace_dist(
        components,
        compact=False,
        figure_kwargs={"figsize": (11.5, 1.9 * n + 0.8), "layout": "constrained"},
        backend="matplotlib",
    )
    fig = detach(pc)
    return _titled(fig, components, "Trace and density per chain")


def plot_rank(fit: Fit, *, var_names: Sequence[str] | None = None, max_panels: int = 6) -> Figure:
    """Fractional-rank ECDF per chain inside a simultaneous envelope
    (``arviz_plots.plot_rank``): lines inside the envelope when the chains agree.

    Returns
    -------
    matplotlib.figure.Figure
        Named part ``ecdf_lines``.
    """
    import arviz_plots as azp

    components = worst_components(fit, var_names=var_names, max_panels=max_panels)
    n = len(components["posterior"].data_vars)
    rows = -(-n // 3)
    pc = azp.plot_rank(
        components,
        col_wrap=3,
        figure_kwargs={"figsize": (11.5, 2.8 * rows + 0.6), "layout": "constrained"},
        backend="matplotlib",
    )
    fig = detach(pc)
    return _titled(fig, components, "Rank ECDF per chain")
