"""Interval calibration on simulated hierarchical data.

For each of ``--datasets`` seeds, simulate a multi-group MoE dataset (``simulate_moe``) with
one extra, larger dense size, fit the hierarchical law by NUTS on the smaller sizes only, and
check how often the 90% equal-tailed credible intervals contain the truth:

(a) every group-level law parameter (raw units), and
(b) the noise-free mean loss of every group at the held-out larger size (every expert count).

Honest intervals cover about 90% of the time; the issue asks for 0.85-0.95. Checks within a
dataset are correlated (one posterior), so the table also gives the per-dataset spread.

    python benchmarks/calibration.py [--datasets 20] [--groups 3] [--form moe_additive]
        [--draws 1000] [--json bench-results/calibration.json]
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from bayeslaw import atomic
from bayeslaw.data import Observations
from bayeslaw.datasets import DENSE_SIZES, SimulatedData, simulate_moe
from bayeslaw.inference.fitting import fit
from bayeslaw.posterior.fit import Fit

REPO = Path(__file__).resolve().parents[1]
HELD_OUT = 1.3e9
CI = 0.9


def _params_coverage(result: Fit, sim: SimulatedData) -> dict[str, float]:
    """Per parameter: the share of groups whose CI-interval contains the true raw value."""
    params = result.params(ci_prob=CI)
    truth = sim.raw_group_params()
    coverage = {}
    for p in truth.columns:
        lower, upper = (params.xs(p, level=1)[k].loc[truth.index] for k in ("lower", "upper"))
        coverage[p] = float(np.mean((lower <= truth[p]) & (truth[p] <= upper)))
    return coverage


def _heldout_coverage(
    result: Fit, sim: SimulatedData, train: Observations, held: np.ndarray
) -> tuple[list[bool], list[float]]:
    """Per held-out row: whether the mean-loss interval contains the truth, and its width."""
    frame = sim.observations.frame
    inside, widths = [], []
    for g in train.groups:
        rows = frame[held & (frame["group"] == g).to_numpy()]
        inputs = {k: rows[k].to_numpy() for k in train.inputs}
        pred = result.predict(inputs, group=g, ci_prob=CI)
        true_mean = sim.mean_loss(inputs, g)
        inside += list((pred["lower"] <= true_mean) & (true_mean <= pred["upper"]))
        widths += list(pred["upper"] - pred["lower"])
    return inside, widths


def one_dataset(seed: int, form: str, n_groups: int, draws: int) -> dict[str, Any]:
    """Simulate, fit on the sizes below :data:`HELD_OUT`, and check the intervals.

    Returns
    -------
    dict
        ``params_coverage`` (mean over parameters and groups), ``per_param``,
        ``heldout_coverage`` and ``heldout_width`` (mean interval width), the fit's
        ``divergences``, ``problems`` (convergence problems it recorded), ``warnings``
        (raised while fitting) and ``wall_s`` (``Fit.wall_time``).
    """
    sim = simulate_moe(
        form=form, n_groups=n_groups, seed=seed, dense_sizes=(*DENSE_SIZES, HELD_OUT)
    )
    held = sim.observations.frame["dense_parameter_count"].to_numpy() >= HELD_OUT
    train = sim.observations.subset(~held)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = fit(
            train, form=form, draws=draws, tune=1000, chains=4, random_seed=seed, progressbar=False
        )
    per_param = _params_coverage(result, sim)
    inside, widths = _heldout_coverage(result, sim, train, held)
    return {
        "seed": seed,
        "params_coverage": float(np.mean(list(per_param.values()))),
        "per_param": per_param,
        "heldout_coverage": float(np.mean(inside)),
        "heldout_width": float(np.mean(widths)),
        "divergences": int(result.datatree["sample_stats"]["diverging"].sum()),
        "problems": len(result.record.convergence_problems),
        "warnings": len(caught),
        "wall_s": result.wall_time,
    }


def run(
    *, datasets: int = 20, groups: int = 3, form: str = "moe_additive", draws: int = 1000
) -> dict[str, Any]:
    """Check interval coverage on ``datasets`` simulated datasets (seeds 1, 2, ...).

    Returns
    -------
    dict
        ``params_coverage`` and ``heldout_mean_loss_coverage`` (means over datasets),
        ``params_coverage_by_parameter``, the per-dataset standard deviations
        ``params_coverage_per_dataset_sd`` and ``heldout_coverage_per_dataset_sd``,
        ``total_divergences``, ``wall_s`` (all of it), the settings, and ``runs``: one
        :func:`one_dataset` dict per seed.
    """
    start = time.perf_counter()
    runs = [one_dataset(seed, form, groups, draws) for seed in range(1, datasets + 1)]
    params = np.array([r["params_coverage"] for r in runs])
    loss = np.array([r["heldout_coverage"] for r in runs])
    per_param = {p: float(np.mean([r["per_param"][p] for r in runs])) for p in runs[0]["per_param"]}
    return {
        "form": form,
        "datasets": datasets,
        "groups": groups,
        "ci_prob": CI,
        "held_out_dense_size": HELD_OUT,
        "params_coverage": float(params.mean()),
        "heldout_mean_loss_coverage": float(loss.mean()),
        "params_coverage_by_parameter": per_param,
        "params_coverage_per_dataset_sd": float(params.std()),
        "heldout_coverage_per_dataset_sd": float(loss.std()),
        "total_divergences": int(sum(r["divergences"] for r in runs)),
        "wall_s": time.perf_counter() - start,
        "runs": runs,
    }


def format_result(summary: dict[str, Any]) -> str:
    """One line per dataset, then the coverage summary."""
    lines = [
        f"seed {r['seed']:3d}: params {r['params_coverage']:.2f}  held-out "
        f"{r['heldout_coverage']:.2f}  width {r['heldout_width']:.4f}  "
        f"divergences {r['divergences']}  {r['wall_s']:.1f} s"
        for r in summary["runs"]
    ]
    by_param = summary["params_coverage_by_parameter"].items()
    lines += [
        f"\n{summary['form']}, {summary['datasets']} datasets x {summary['groups']} groups: "
        f"90% intervals cover group parameters {summary['params_coverage']:.3f} and held-out "
        f"mean loss {summary['heldout_mean_loss_coverage']:.3f} (target 0.85-0.95); "
        f"{summary['total_divergences']} divergences in all; {summary['wall_s']:.0f} s",
        "coverage by parameter: " + ", ".join(f"{k} {v:.2f}" for k, v in by_param),
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Parse the options, :func:`run`, print the coverage and write the JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", type=int, default=20)
    parser.add_argument("--groups", type=int, default=3)
    parser.add_argument("--form", default="moe_additive")
    parser.add_argument("--draws", type=int, default=1000)
    parser.add_argument(
        "--json", type=Path, default=REPO / "bench-results" / "calibration.json", help="output"
    )
    config = vars(parser.parse_args(argv))
    out = config.pop("json")
    summary = run(**config)
    atomic.write_json(out, summary)
    print(format_result(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
