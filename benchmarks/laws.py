"""Laws on real data: every applicable form, fitted on the small scales, scored on the largest.

For each shared real dataset (../shared/data), hold out the largest value of its size input
and fit on the rest; score the held-out rows (:func:`bayeslaw.evaluation.scoring.score`):

- ``sft_finetuning``: groups = (model, dataset), 34 curves; size input ``sft_data_size``,
  held out 409600; forms ``additive``, ``rectified``, ``broken_power``;
- ``overtraining``: C4 validation loss (``eval_set == c4_val``), groups = training corpus;
  inputs ``params`` and ``tokens``, held out the 4.1e8-parameter runs; forms ``chinchilla``,
  ``chinchilla_tied``, ``kaplan``;
- ``moe_by_router`` and ``sldbench_moe``: held out 3.68e8 dense parameters; the three MoE
  forms.

Each form is fitted twice: by NUTS with default priors and partial pooling (seed 0), and as
the classical point fit (MAP with flat priors and no pooling, which matches a multi-start
least-squares fit; its intervals carry the noise only). Reported per fit: R^2, mean relative
error, 50% and 90% observation-interval coverage, mean 90% width, mean log predictive
density, divergences and wall time.

    python benchmarks/laws.py [--datasets sft_finetuning,overtraining] [--forms rectified]
        [--json PATH]

``--forms`` keeps the forms whose family (the name before its inputs) is listed.
"""

from __future__ import annotations

import argparse
import sys
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from common import chosen_datasets, publish, real_observations, text_table

from bayeslaw.data import Observations
from bayeslaw.evaluation.scoring import score, split_largest
from bayeslaw.inference.fitting import fit

REPO = Path(__file__).resolve().parents[1]
MOE_FORMS = ("moe_additive", "moe_multiplicative", "moe_interaction")
#: dataset -> (forms, input the largest value of which is held out)
PLAN: dict[str, tuple[tuple[str, ...], str]] = {
    "sft_finetuning": (
        ("additive(sft_data_size)", "rectified(sft_data_size)", "broken_power(sft_data_size)"),
        "sft_data_size",
    ),
    "overtraining": (
        ("chinchilla(params,tokens)", "chinchilla_tied(params,tokens)", "kaplan(params,tokens)"),
        "params",
    ),
    "moe_by_router": (MOE_FORMS, "dense_parameter_count"),
    "sldbench_moe": (MOE_FORMS, "dense_parameter_count"),
}
METHODS = {
    "nuts": {"method": "nuts", "pooling": "partial", "progressbar": False},
    "point fit": {"method": "map", "pooling": "none", "priors": "flat"},
}
COLUMNS = ("r2", "mean_rel_error", "cover50_obs", "cover90_obs", "width90_obs", "elpd",
           "divergences", "fit_s")  # fmt: skip


def observations(name: str) -> Observations:
    """The dataset ``name`` as this benchmark reads it (see the module docstring)."""
    return real_observations(name, crossed=False)


def _score_one(train: Observations, test: Observations, form: str, method: str) -> dict:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = fit(train, form=form, random_seed=0, **METHODS[method])
    metrics, table = score(result, test)
    y = table[test.target].to_numpy()
    tree = result.datatree
    divergences = (
        int(tree["sample_stats"]["diverging"].sum()) if "sample_stats" in tree.children else 0
    )
    return {
        "form": form,
        "method": method,
        **{k: metrics[k] for k in ("r2", "cover50_obs", "cover90_obs", "width90_obs", "elpd")},
        "mean_rel_error": float(np.mean(np.abs(table["mean"].to_numpy() - y) / y)),
        "divergences": divergences,
        "fit_s": result.wall_time,
    }


def family(form: str) -> str:
    """A form's family: its name without the inputs (``rectified(D)`` -> ``rectified``)."""
    return form.partition("(")[0]


def run(
    *, datasets: Sequence[str] = tuple(PLAN), forms: Sequence[str] | None = None
) -> dict[str, Any]:
    """Fit and score every applicable form on each dataset (see the module docstring);
    ``forms``: only the forms of these families.

    Returns
    -------
    dict
        Per dataset: ``train_rows``, ``test_rows``, ``held_out`` (the input and its value)
        and ``rows``, one per (form, method) with :data:`COLUMNS`.
    """
    out: dict[str, Any] = {}
    for name in datasets:
        planned, size = PLAN[name]
        chosen = [f for f in planned if forms is None or family(f) in forms]
        if not chosen:
            continue
        obs = observations(name)
        train, test = split_largest(obs, by=size)
        rows = [_score_one(train, test, form, m) for form in chosen for m in METHODS]
        held = float(test.frame[size].iloc[0])
        out[name] = {"train_rows": len(train), "test_rows": len(test),
                     "held_out": {size: held}, "rows": rows}  # fmt: skip
    return out


def format_result(result: dict[str, Any]) -> str:
    """One table over every dataset."""
    rows = [
        (name, r["form"], r["method"], *(r[c] for c in COLUMNS))
        for name, d in result.items()
        for r in d["rows"]
    ]
    return text_table(("dataset", "form", "method", *COLUMNS), rows)


def main(argv: list[str] | None = None) -> int:
    """Parse the options, :func:`run`, print the table and optionally write the JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", default=",".join(PLAN), help="comma-separated")
    parser.add_argument("--forms", default=None, help="comma-separated families (default: all)")
    parser.add_argument("--json", type=Path, default=REPO / "bench-results" / "laws.json")
    args = parser.parse_args(argv)
    names = chosen_datasets(args.datasets, PLAN)
    if names is None:
        return 1
    families = None if args.forms is None else [f for f in args.forms.split(",") if f]
    known = {family(f) for forms, _ in PLAN.values() for f in forms}
    unknown = sorted(set(families or ()) - known)
    if unknown:
        print(f"--forms: unknown {unknown}; the benchmark's forms are {sorted(known)}")
        return 1
    result = run(datasets=names, forms=families)
    return publish(result, args.json, format_result(result))


if __name__ == "__main__":
    sys.exit(main())
