"""Classical point fits of the additive MoE law, the baselines bayeslaw is compared with.

The law, per group, is

.. math:: L(N, E) = L_\\infty + A N^{-\\alpha} + B E^{-\\beta}

with ``N`` the dense parameter count and ``E`` the number of experts.

- :func:`grid_fit`: the reference point-fit predictor (../shared/reference/point_fit_law.txt):
  a 40 x 40 grid over (alpha, beta) in ``linspace(0.05, 2.0, 40)``, with (L_inf, A, B)
  solved by linear least squares at each grid point.
- :func:`least_squares_fit`: multi-start bounded ``scipy.optimize.least_squares`` over the
  same exponent bounds (N scaled by 1e8 internally for conditioning; A is returned in raw
  units, so the optimum is the same).
- :func:`bootstrap_fit`: rows resampled with replacement and refitted by least squares from
  the full-data optimum; percentile intervals of the parameters.

Each returns a dict with ``L_inf, A, alpha, B, beta`` and ``mse`` (mean squared residual on
the data given).

:func:`run` (and this file as a script) times the baselines on every group of a dataset, as
``run_all.py`` reports them: the grid fit of all groups (median of ``--repeats`` passes) and
one pass of the bootstrap (``--n-boot`` refits per group) over all groups.

    python benchmarks/baselines.py [--data ../shared/data/moe_by_router] [--repeats 3]
        [--n-boot 200] [--json PATH]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from common import DATA, publish, text_table
from scipy import optimize

from bayeslaw.data import DataSource, load_observations

BOUNDS = (0.05, 2.0)
GRID = np.linspace(*BOUNDS, 40)
N_SCALE = 1e8
PARAMS = ("L_inf", "A", "alpha", "B", "beta")
#: The columns a group is fitted on: dense parameter count, number of experts, loss.
COLUMNS = ("dense_parameter_count", "num_experts", "loss_validation")
INTERVAL_PROB = 0.90  # central percentile interval of the bootstrap
_ALPHA_STARTS = (0.1, 0.3, 0.7, 1.5)
_BETA_STARTS = (0.06, 0.2, 0.6, 1.5)
_LOWER = [-np.inf, -np.inf, BOUNDS[0], -np.inf, BOUNDS[0]]
_UPPER = [np.inf, np.inf, BOUNDS[1], np.inf, BOUNDS[1]]
#: One group's dense parameter counts, expert counts and losses.
type Group = tuple[np.ndarray, np.ndarray, np.ndarray]


def _design(n: np.ndarray, e: np.ndarray, alpha: float, beta: float) -> np.ndarray:
    return np.stack([np.ones_like(n), n**-alpha, e**-beta], axis=1)


def _predict(p: np.ndarray, x: np.ndarray, e: np.ndarray) -> np.ndarray:
    return p[0] + p[1] * x ** -p[2] + p[3] * e ** -p[4]


def _as_arrays(*arrays: np.ndarray) -> tuple[np.ndarray, ...]:
    return tuple(np.asarray(a, dtype=float) for a in arrays)


def _result(p: np.ndarray, mse: float) -> dict[str, float]:
    return {**{k: float(v) for k, v in zip(PARAMS, p, strict=True)}, "mse": float(mse)}


def grid_fit(n: np.ndarray, e: np.ndarray, y: np.ndarray) -> dict[str, float]:
    """Grid search over (alpha, beta), linear least squares for (L_inf, A, B).

    Parameters
    ----------
    n, e, y : array_like
        Dense parameter counts, expert counts and losses of one group (raw units).

    Returns
    -------
    dict
        ``L_inf, A, alpha, B, beta, mse`` at the best grid point.

    Examples
    --------
    >>> n = np.repeat([1e7, 1e8, 1e9], 3); e = np.tile([1.0, 8.0, 64.0], 3)
    >>> y = 1.5 + 30 * n**-0.25 + 0.4 * e**-0.3
    >>> round(grid_fit(n, e, y)["L_inf"], 1)
    1.5
    """
    n, e, y = _as_arrays(n, e, y)
    best = (np.inf, np.zeros(5))
    for alpha in GRID:
        for beta in GRID:
            design = _design(n, e, alpha, beta)
            coef, *_ = np.linalg.lstsq(design, y, rcond=None)
            mse = float(np.mean((y - design @ coef) ** 2))
            if mse < best[0]:
                best = (mse, np.array([coef[0], coef[1], alpha, coef[2], beta]))
    return _result(best[1], best[0])


def _refine(x: np.ndarray, e: np.ndarray, y: np.ndarray, start: np.ndarray) -> np.ndarray:
    def residuals(p: np.ndarray) -> np.ndarray:
        return _predict(p, x, e) - y

    res = optimize.least_squares(
        residuals, start, bounds=(_LOWER, _UPPER),
        xtol=1e-15, ftol=1e-15, gtol=1e-15, max_nfev=20000,
    )  # fmt: skip
    return res.x


def _to_raw(p: np.ndarray) -> np.ndarray:
    raw = p.copy()
    raw[1] = p[1] * N_SCALE ** p[2]  # A x^-alpha = A s^alpha n^-alpha with x = n / s
    return raw


def _ls_scaled(x: np.ndarray, e: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, float]:
    best = (np.zeros(5), np.inf)
    for alpha in _ALPHA_STARTS:
        for beta in _BETA_STARTS:
            c, *_ = np.linalg.lstsq(_design(x, e, alpha, beta), y, rcond=None)
            p = _refine(x, e, y, np.array([c[0], c[1], alpha, c[2], beta]))
            mse = float(np.mean((_predict(p, x, e) - y) ** 2))
            if mse < best[1]:
                best = (p, mse)
    return best


def least_squares_fit(
    n: np.ndarray, e: np.ndarray, y: np.ndarray, *, seed: int = 0
) -> dict[str, float]:
    """Multi-start bounded nonlinear least squares (16 starts, exponents in [0.05, 2]).

    Parameters
    ----------
    n, e, y : array_like
        Dense parameter counts, expert counts and losses of one group (raw units).
    seed : int
        Unused by the deterministic start grid; kept so every baseline takes a seed.

    Returns
    -------
    dict
        ``L_inf, A, alpha, B, beta, mse`` (``A`` in raw units of ``n``).
    """
    del seed  # the starts are a fixed grid
    n, e, y = _as_arrays(n, e, y)
    p, mse = _ls_scaled(n / N_SCALE, e, y)
    return _result(_to_raw(p), mse)


def bootstrap_fit(
    n: np.ndarray, e: np.ndarray, y: np.ndarray, *, n_boot: int = 200, seed: int = 0
) -> dict[str, object]:
    """Nonparametric bootstrap of :func:`least_squares_fit`.

    Each of ``n_boot`` resamples (rows with replacement) is refitted by one bounded least
    squares started at the full-data optimum.

    Returns
    -------
    dict
        The full-data fit (``L_inf, A, alpha, B, beta, mse``), ``n_boot``, and
        ``interval``: for each parameter, the central 90% percentile interval ``(lo, hi)``.
    """
    n, e, y = _as_arrays(n, e, y)
    x = n / N_SCALE
    p_hat, mse = _ls_scaled(x, e, y)
    rng = np.random.default_rng(seed)
    draws = np.empty((n_boot, 5))
    for i in range(n_boot):
        idx = rng.integers(0, len(y), len(y))
        draws[i] = _to_raw(_refine(x[idx], e[idx], y[idx], p_hat))
    tail = 100 * (1 - INTERVAL_PROB) / 2
    lo, hi = np.percentile(draws, [tail, 100 - tail], axis=0)
    interval = {k: (float(a), float(b)) for k, a, b in zip(PARAMS, lo, hi, strict=True)}
    return {**_result(_to_raw(p_hat), mse), "n_boot": n_boot, "interval": interval}


def _group_arrays(frame: pd.DataFrame, group: str) -> Group:
    rows = frame[frame["group"] == group]
    n, e, y = (rows[c].to_numpy() for c in COLUMNS)
    return n, e, y


def _time_all(fit_one: Callable[..., Any], groups: list[Group]) -> float:
    """Seconds to fit every group once with ``fit_one(n, e, y)``."""
    start = time.perf_counter()
    for n, e, y in groups:
        fit_one(n, e, y)
    return time.perf_counter() - start


def run(
    *, data: DataSource = DATA / "moe_by_router", repeats: int = 3, n_boot: int = 200
) -> dict[str, Any]:
    """Time :func:`grid_fit` and :func:`bootstrap_fit` on every group of ``data``.

    Parameters
    ----------
    data : path or DataFrame
        Anything :func:`bayeslaw.data.load_observations` reads.
    repeats : int
        Passes of the grid fit over all groups.
    n_boot : int
        Bootstrap refits per group.

    Returns
    -------
    dict
        ``grid_s``: seconds to grid-fit all groups, the median of ``grid_runs_s`` (the
        upper median for an even ``repeats``); ``bootstrap_s``: seconds of one bootstrap pass
        over all groups; ``n_groups``, ``n_rows``, ``n_boot`` and ``data`` (its source).
    """
    obs = load_observations(data)
    groups = [_group_arrays(obs.frame, g) for g in obs.groups]
    grid_runs = [_time_all(grid_fit, groups) for _ in range(repeats)]
    return {
        "data": obs.source,
        "n_groups": len(groups),
        "n_rows": len(obs),
        "grid_s": statistics.median_high(grid_runs),
        "grid_runs_s": grid_runs,
        "bootstrap_s": _time_all(partial(bootstrap_fit, n_boot=n_boot), groups),
        "n_boot": n_boot,
    }


def format_result(result: dict[str, Any]) -> str:
    """The two times as a table."""
    rows = [
        (f"grid 40x40 s, median of {len(result['grid_runs_s'])}", result["grid_s"]),
        (f"bootstrap {result['n_boot']} refits s", result["bootstrap_s"]),
    ]
    return text_table(("baseline, all groups", "value"), rows)


def main(argv: list[str] | None = None) -> int:
    """Parse the options, :func:`run`, print the times and optionally write the JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DATA / "moe_by_router")
    parser.add_argument("--repeats", type=int, default=3, help="passes of the grid fit")
    parser.add_argument("--n-boot", type=int, default=200, help="bootstrap refits per group")
    parser.add_argument("--json", type=Path, help="also write the results here")
    config = vars(parser.parse_args(argv))
    out = config.pop("json")
    result = run(**config)
    head = f"{result['data']}: {result['n_groups']} groups, {result['n_rows']} rows\n"
    return publish(result, out, head + format_result(result))


if __name__ == "__main__":
    sys.exit(main())
