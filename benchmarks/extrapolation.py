"""Extrapolation to held-out larger models on the shared data: the README's table.

For ``moe_by_router`` and ``sldbench_moe`` (../shared/data), hold out the largest dense size
(3.68e8), fit every form x pooling on the rest by NUTS, and score the held-out rows with
``bayeslaw.evaluation`` (SLDBench's R^2 / NMSE / NMAE plus interval coverage).

    python benchmarks/extrapolation.py [--out bench-results/extrapolation.json]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import warnings
from pathlib import Path

import pandas as pd

from bayeslaw.data import load_observations
from bayeslaw.evaluation.protocol import evaluate
from bayeslaw.evaluation.scoring import split_largest

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
FORMS = ("moe_additive", "moe_multiplicative", "moe_interaction")
POOLINGS = ("partial", "none", "complete")
COLUMNS = ["r2", "nmse", "nmae", "cover50_obs", "cover90_obs", "cover90_mean", "width90_obs",
           "elpd", "divergences", "fit_s"]  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("bench-results/extrapolation.json"))
    parser.add_argument("--datasets", default="moe_by_router,sldbench_moe")
    args = parser.parse_args()
    if not DATA.is_dir():
        sys.exit(f"skipped: {DATA} is absent (the shared data sits beside the repo checkout)")
    warnings.simplefilter("ignore")
    tables, records = [], {}
    for name in args.datasets.split(","):
        train, test = split_largest(load_observations(DATA / name))
        result = evaluate(train, test, forms=FORMS, poolings=POOLINGS, random_seed=0,
                          progressbar=False)  # fmt: skip
        table = result.table[COLUMNS].copy()
        table.insert(0, "data", name)
        tables.append(table)
        records[name] = result.to_dict()
        print(f"\n{name}: train {len(train)} rows, test {len(test)} rows (dense size 3.68e8)")
        print(table.round(3).to_string(), flush=True)
    full = pd.concat(tables).reset_index()
    print("\n" + full.round(3).to_markdown(index=False))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=args.out.parent, suffix=".tmp")
    with os.fdopen(fd, "w") as fh:
        json.dump(records, fh, indent=2, default=float)
    os.replace(tmp, args.out)


if __name__ == "__main__":
    main()
