"""Extrapolation to held-out larger models on the shared data: the README's table.

For ``moe_by_router`` and ``sldbench_moe`` (../shared/data), hold out the largest dense size
(3.68e8, :func:`bayeslaw.evaluation.scoring.split_largest`), fit every form x pooling on the
rest by NUTS (default priors, seed 0), and score the held-out rows with
:func:`bayeslaw.evaluation.protocol.evaluate` (SLDBench's R^2 / NMSE / NMAE plus interval
coverage, log predictive density, divergences and fit time).

    python benchmarks/extrapolation.py [--datasets moe_by_router,sldbench_moe]
        [--json bench-results/extrapolation.json]
"""

from __future__ import annotations

import argparse
import sys
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd
from common import DATA

from bayeslaw import atomic
from bayeslaw.data import load_observations
from bayeslaw.evaluation.protocol import evaluate
from bayeslaw.evaluation.scoring import split_largest

REPO = Path(__file__).resolve().parents[1]
DATASETS = ("moe_by_router", "sldbench_moe")
FORMS = ("moe_additive", "moe_multiplicative", "moe_interaction")
POOLINGS = ("partial", "none", "complete")
COLUMNS = ["r2", "nmse", "nmae", "cover50_obs", "cover90_obs", "cover90_mean", "width90_obs",
           "elpd", "divergences", "fit_s"]  # fmt: skip


def run(*, datasets: Sequence[str] = DATASETS) -> dict[str, Any]:
    """Fit every form x pooling on each dataset without its largest size; score that size.

    Parameters
    ----------
    datasets : sequence of str
        Dataset names under ``../shared/data`` (:data:`common.DATA`).

    Returns
    -------
    dict
        Per dataset: :meth:`bayeslaw.evaluation.protocol.Evaluation.to_dict` (``train``,
        ``test`` and ``rows``, one per form and pooling with the scores) plus ``train_rows``
        and ``test_rows``, the numbers of rows.
    """
    records = {}
    for name in datasets:
        train, test = split_largest(load_observations(DATA / name))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            result = evaluate(
                train, test, forms=FORMS, poolings=POOLINGS, random_seed=0, progressbar=False
            )
        records[name] = {**result.to_dict(), "train_rows": len(train), "test_rows": len(test)}
    return records


def score_table(records: dict[str, Any]) -> pd.DataFrame:
    """All datasets' rows: ``data, form, pooling`` and :data:`COLUMNS`."""
    tables = [
        pd.DataFrame(record["rows"]).assign(data=name)[["data", "form", "pooling", *COLUMNS]]
        for name, record in records.items()
    ]
    return pd.concat(tables, ignore_index=True)


def format_result(records: dict[str, Any]) -> str:
    """Each dataset's table, then all of them as the README's markdown table."""
    full = score_table(records)
    parts = []
    for name, record in records.items():
        table = full[full["data"] == name].drop(columns="data").set_index(["form", "pooling"])
        parts.append(
            f"{name}: train {record['train_rows']} rows, test {record['test_rows']} rows "
            f"(the largest dense size)\n{table.round(3).to_string()}"
        )
    parts.append(full.round(3).to_markdown(index=False))
    return "\n\n".join(parts)


def main(argv: list[str] | None = None) -> int:
    """Parse the options, :func:`run`, print the tables and write the JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", default=",".join(DATASETS), help="comma-separated names")
    parser.add_argument(
        "--json", type=Path, default=REPO / "bench-results" / "extrapolation.json", help="output"
    )
    args = parser.parse_args(argv)
    if not DATA.is_dir():
        print(f"skipped: {DATA} is absent (the shared data sit beside the repo)", file=sys.stderr)
        return 1
    records = run(datasets=args.datasets.split(","))
    atomic.write_json(args.json, records)
    print(format_result(records))
    return 0


if __name__ == "__main__":
    sys.exit(main())
