"""Interval calibration on simulated hierarchical data.

For each of ``--datasets`` seeds, simulate a multi-group MoE dataset (``simulate_moe``) with
one extra, larger dense size, fit the hierarchical law by NUTS on the smaller sizes only, and
check how often the 90% equal-tailed credible intervals contain the truth:

(a) every group-level law parameter (raw units), and
(b) the noise-free mean loss of every group at the held-out larger size (every expert count).

Honest intervals cover about 90% of the time; the issue asks for 0.85-0.95. Checks within a
dataset are correlated (one posterior), so the table also gives the per-dataset spread.

    python benchmarks/calibration.py [--datasets 20] [--form moe_additive] [--out FILE.json]
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np

from bayeslaw.datasets import DENSE_SIZES, simulate_moe
from bayeslaw.inference.fitting import fit

HELD_OUT = 1.3e9
CI = 0.9


def one_dataset(seed: int, form: str, n_groups: int, draws: int) -> dict[str, float]:
    sim = simulate_moe(
        form=form, n_groups=n_groups, seed=seed, dense_sizes=(*DENSE_SIZES, HELD_OUT)
    )
    frame = sim.observations.frame
    held = frame["dense_parameter_count"].to_numpy() >= HELD_OUT
    train = sim.observations.subset(~held)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = fit(train, form=form, draws=draws, tune=1000, chains=4, random_seed=seed,
                     progressbar=False)  # fmt: skip
    params = result.params(ci_prob=CI)
    truth = sim.raw_group_params()
    per_param = {
        p: float(np.mean([
            params.loc[(g, p), "lower"] <= truth.loc[g, p] <= params.loc[(g, p), "upper"]
            for g in truth.index
        ]))
        for p in truth.columns
    }  # fmt: skip
    inside_params = list(per_param.values())
    inside_loss, widths = [], []
    for g in train.groups:
        rows = frame[held & (frame["group"] == g).to_numpy()]
        inputs = {k: rows[k].to_numpy() for k in train.inputs}
        pred = result.predict(inputs, group=g, ci_prob=CI)
        true_mean = sim.mean_loss(inputs, g)
        inside_loss += list((pred["lower"] <= true_mean) & (true_mean <= pred["upper"]))
        widths += list(pred["upper"] - pred["lower"])
    return {
        "seed": seed,
        "params_coverage": float(np.mean(inside_params)),
        "per_param": per_param,
        "heldout_coverage": float(np.mean(inside_loss)),
        "heldout_width": float(np.mean(widths)),
        "divergences": int(result.datatree["sample_stats"]["diverging"].sum()),
        "problems": len(result.info["convergence_problems"]),
        "warnings": len(caught),
        "wall_s": result.wall_time,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", type=int, default=20)
    parser.add_argument("--groups", type=int, default=3)
    parser.add_argument("--form", default="moe_additive")
    parser.add_argument("--draws", type=int, default=1000)
    parser.add_argument("--out", type=Path, default=Path("bench-results/calibration.json"))
    args = parser.parse_args()

    start = time.perf_counter()
    runs = []
    for seed in range(1, args.datasets + 1):
        run = one_dataset(seed, args.form, args.groups, args.draws)
        runs.append(run)
        print(
            f"seed {seed:3d}: params {run['params_coverage']:.2f}  held-out "
            f"{run['heldout_coverage']:.2f}  width {run['heldout_width']:.4f}  "
            f"divergences {run['divergences']}  {run['wall_s']:.1f} s",
            flush=True,
        )
    params = np.array([r["params_coverage"] for r in runs])
    loss = np.array([r["heldout_coverage"] for r in runs])
    per_param = {p: float(np.mean([r["per_param"][p] for r in runs])) for p in runs[0]["per_param"]}
    summary = {
        "form": args.form,
        "datasets": args.datasets,
        "groups": args.groups,
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
    print(
        f"\n{args.form}, {args.datasets} datasets x {args.groups} groups: 90% intervals cover "
        f"group parameters {summary['params_coverage']:.3f} and held-out mean loss "
        f"{summary['heldout_mean_loss_coverage']:.3f} (target 0.85-0.95); "
        f"{summary['total_divergences']} divergences in all; {summary['wall_s']:.0f} s"
    )
    print("coverage by parameter: " + ", ".join(f"{k} {v:.2f}" for k, v in per_param.items()))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=args.out.parent, suffix=".tmp")
    with os.fdopen(fd, "w") as fh:
        json.dump(summary, fh, indent=2)
    os.replace(tmp, args.out)


if __name__ == "__main__":
    main()
