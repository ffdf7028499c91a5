"""NUTS cost against the number of groups: does it grow at most linearly?

Simulates 3, 10, 30 and 100 groups (``simulate_moe``: 8 dense sizes log-spaced from 1e7 to
4e8 x 10 expert counts = 80 rows per group), fits each by NUTS with the default settings
(4 chains x 1000 draws, 1000 tuning, nutpie) in one process after a small warm-up fit (so
the first size does not carry the sampler's one-off start-up), and reports wall time
(``Fit.wall_time``: build, compile, sample, checks) and the smallest bulk ESS per second.
Writes a table, a log-log PNG with a linear-scaling reference line, and optionally JSON.
100 groups can take several minutes; it runs last.

    python benchmarks/scale.py [--max-groups 100] [--out-dir bench-results] [--json PATH]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parents[1]
GROUPS = (3, 10, 30, 100)
DENSE_SIZES = tuple(np.geomspace(1e7, 4e8, 8))
NUM_EXPERTS = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512)
LINEAR_TOLERANCE = 1.15  # log-log slope allowed above 1 before calling growth superlinear


def fit_groups(n_groups: int, *, draws: int, tune: int, chains: int) -> dict[str, Any]:
    """Simulate ``n_groups`` groups, fit by NUTS, return wall time and diagnostics."""
    import arviz_stats

    from bayeslaw.datasets import simulate_moe
    from bayeslaw.inference.fitting import fit

    obs = simulate_moe(
        n_groups=n_groups, seed=0, dense_sizes=DENSE_SIZES, num_experts=NUM_EXPERTS
    ).observations
    f = fit(obs, method="nuts", draws=draws, tune=tune, chains=chains, random_seed=0,
            progressbar=False, check=False)  # fmt: skip
    s = arviz_stats.summary(f.datatree, kind="diagnostics", round_to="none")
    min_ess = float(s["ess_bulk"].min())
    return {
        "n_groups": n_groups,
        "n_rows": len(obs),
        "wall_s": f.wall_time,
        "min_ess_bulk": min_ess,
        "ess_bulk_per_s": min_ess / f.wall_time,
        "divergences": int(f.datatree["sample_stats"]["diverging"].sum()),
        "max_r_hat": float(s["r_hat"].max()),
    }


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


def plot_scale(points: list[dict[str, Any]], *, path: Path) -> Any:
    """Log-log wall time and min bulk ESS/s against groups, with linear references."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    g = np.array([p["n_groups"] for p in points], dtype=float)
    wall = np.array([p["wall_s"] for p in points])
    ess = np.array([p["ess_bulk_per_s"] for p in points])
    fig, (ax_t, ax_e) = plt.subplots(1, 2, figsize=(9, 3.8))
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
    plt.close(fig)
    return fig


def format_table(points: list[dict[str, Any]]) -> str:
    """Aligned text table of the scaling points."""
    keys = ("n_groups", "n_rows", "wall_s", "ess_bulk_per_s", "divergences", "max_r_hat")
    rows = [keys] + [
        tuple(f"{p[k]:.3g}" if isinstance(p[k], float) else str(p[k]) for k in keys) for p in points
    ]
    widths = [max(len(r[i]) for r in rows) for i in range(len(keys))]
    return "\n".join("  ".join(c.rjust(w) for c, w in zip(r, widths, strict=True)) for r in rows)


def _write_json(data: dict[str, Any], path: Path) -> None:
    from bayeslaw import atomic

    atomic.write_json(path, data)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-groups", type=int, default=100)
    parser.add_argument("--draws", type=int, default=1000)
    parser.add_argument("--tune", type=int, default=1000)
    parser.add_argument("--chains", type=int, default=4)
    parser.add_argument("--out-dir", type=Path, default=REPO / "bench-results")
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args(argv)
    sizes = [g for g in GROUPS if g <= args.max_groups]
    settings = {"draws": args.draws, "tune": args.tune, "chains": args.chains}
    fit_groups(3, draws=50, tune=50, chains=1)  # warm-up: sampler start-up, imports
    points = []
    for g in sizes:
        print(f"[scale] {g} groups ...", file=sys.stderr, flush=True)
        points.append(fit_groups(g, **settings))
        if args.json:
            _write_json({"settings": settings, "points": points}, args.json)
    result = {"settings": settings, "points": points, **growth(points)}
    png = args.out_dir / "scale.png"
    if points:
        plot_scale(points, path=png)
        result["plot"] = str(png)
    if args.json:
        _write_json(result, args.json)
    print(format_table(points))
    print(result["verdict"])
    if points:
        print(f"plot: {png}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
