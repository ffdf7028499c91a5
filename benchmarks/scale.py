"""NUTS cost against the number of groups: does it grow at most linearly?

Simulates 3, 10, 30 and 100 groups (``simulate_moe``: 8 dense sizes log-spaced from 1e7 to
4e8 x 10 expert counts = 80 rows per group), fits each by NUTS with the default settings
(4 chains x 1000 draws, 1000 tuning, nutpie) in one process after a small warm-up fit (so
the first size does not carry the sampler's one-off start-up), and reports wall time
(``Fit.wall_time``: build, compile, sample, checks), the smallest bulk ESS per second, and
the log-log slope of wall time against groups. The script also draws a log-log PNG with a
linear-scaling reference line (``--out-dir``). 100 groups can take several minutes.

    python benchmarks/scale.py [--max-groups 100] [--draws 1000] [--tune 1000] [--chains 4]
        [--out-dir bench-results] [--json PATH]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import numpy as np
from common import nuts_stats, text_table
from matplotlib.figure import Figure

from bayeslaw import atomic
from bayeslaw.datasets import simulate_moe
from bayeslaw.inference.fitting import fit

REPO = Path(__file__).resolve().parents[1]
GROUPS = (3, 10, 30, 100)
DENSE_SIZES = tuple(np.geomspace(1e7, 4e8, 8))
NUM_EXPERTS = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512)
LINEAR_TOLERANCE = 1.15  # log-log slope allowed above 1 before calling growth superlinear
TABLE_KEYS = ("n_groups", "n_rows", "wall_s", "ess_bulk_per_s", "divergences", "max_r_hat")


def fit_groups(n_groups: int, *, draws: int, tune: int, chains: int) -> dict[str, Any]:
    """Simulate ``n_groups`` groups, fit by NUTS, return wall time and diagnostics.

    Returns
    -------
    dict
        ``n_groups``, ``n_rows``, ``wall_s`` (``Fit.wall_time``) and the keys of
        :func:`common.nuts_stats`.
    """
    obs = simulate_moe(
        n_groups=n_groups, seed=0, dense_sizes=DENSE_SIZES, num_experts=NUM_EXPERTS
    ).observations
    f = fit(
        obs,
        method="nuts",
        draws=draws,
        tune=tune,
        chains=chains,
        random_seed=0,
        progressbar=False,
        check=False,
    )
    return {"n_groups": n_groups, "n_rows": len(obs), "wall_s": f.wall_time, **nuts_stats(f)}


def growth(points: list[dict[str, Any]]) -> dict[str, Any]:
    """Log-log slope of wall time against groups, and whether it is at most linear."""
    if len(points) < 2:
        return {"slope": None, "verdict": "too few sizes to judge"}
    g = np.log([p["n_groups"] for p in points])
    t = np.log([p["wall_s"] for p in points])
    slope = float(np.polyfit(g, t, 1)[0])
    end = points[-1]["wall_s"] / points[0]["wall_s"]
    linear = points[-1]["n_groups"] / points[0]["n_groups"]
    ok = slope <= LINEAR_TOLERANCE and end <= linear * LINEAR_TOLERANCE
    verdict = (
        f"{'at most linear' if ok else 'SUPERLINEAR'}: log-log slope {slope:.2f}, "
        f"wall x{end:.1f} for groups x{linear:.1f}"
    )
    return {"slope": slope, "wall_ratio": end, "groups_ratio": linear, "verdict": verdict}


def run(
    *, max_groups: int = 100, draws: int = 1000, tune: int = 1000, chains: int = 4
) -> dict[str, Any]:
    """Fit every size of :data:`GROUPS` up to ``max_groups`` by NUTS in this process.

    A warm-up fit (3 groups, 1 chain x 50 draws, 50 tuning) comes first, so that the first
    size does not carry the sampler's one-off start-up.

    Returns
    -------
    dict
        ``points``: one :func:`fit_groups` dict per size; ``settings`` (draws, tune,
        chains); and :func:`growth`'s ``slope``, ``wall_ratio``, ``groups_ratio`` and
        ``verdict``.
    """
    settings = {"draws": draws, "tune": tune, "chains": chains}
    fit_groups(3, draws=50, tune=50, chains=1)  # warm-up: sampler start-up, imports
    points = [fit_groups(g, **settings) for g in GROUPS if g <= max_groups]
    return {"settings": settings, "points": points, **growth(points)}


def plot_scale(points: list[dict[str, Any]], *, path: Path) -> Figure:
    """Log-log wall time and min bulk ESS/s against groups, with linear references."""
    g = np.array([p["n_groups"] for p in points], dtype=float)
    wall = np.array([p["wall_s"] for p in points])
    ess = np.array([p["ess_bulk_per_s"] for p in points])
    fig = Figure(figsize=(9, 3.8))
    ax_t, ax_e = fig.subplots(1, 2)
    ax_t.loglog(g, wall, "o-", label="NUTS wall time")
    ax_t.loglog(g, wall[0] * g / g[0], "--", color="grey", label="linear in groups")
    ax_t.set(xlabel="groups", ylabel="wall time (s)", title="cost vs groups")
    ax_e.loglog(g, ess, "o-", label="min bulk ESS / s")
    ax_e.loglog(g, ess[0] * g[0] / g, "--", color="grey", label="1 / groups")
    ax_e.set(xlabel="groups", ylabel="min bulk ESS per s", title="efficiency vs groups")
    for ax in (ax_t, ax_e):
        ax.legend(frameon=False)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)
    return fig


def format_table(points: list[dict[str, Any]]) -> str:
    """Aligned text table of the scaling points."""
    return text_table(TABLE_KEYS, [[p[k] for k in TABLE_KEYS] for p in points])


def main(argv: list[str] | None = None) -> int:
    """Parse the options, :func:`run`, plot, print the table and optionally write the JSON.

    The JSON is :func:`run`'s dict with ``plot``, the PNG's path, when there are points.
    """
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-groups", type=int, default=100)
    parser.add_argument("--draws", type=int, default=1000)
    parser.add_argument("--tune", type=int, default=1000)
    parser.add_argument("--chains", type=int, default=4)
    parser.add_argument("--out-dir", type=Path, default=REPO / "bench-results")
    parser.add_argument("--json", type=Path, help="also write the results here")
    config = vars(parser.parse_args(argv))
    out, out_dir = config.pop("json"), config.pop("out_dir")
    result = run(**config)
    if result["points"]:
        png = out_dir / "scale.png"
        plot_scale(result["points"], path=png)
        result["plot"] = str(png)
    if out:
        atomic.write_json(out, result)
    print(format_table(result["points"]))
    print(result["verdict"])
    if "plot" in result:
        print(f"plot: {result['plot']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
