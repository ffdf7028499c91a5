"""Calibration on real data: are the intervals of larger, held-out models honest?

For each shared real dataset (../shared/data), train on all but the largest value of its
size input and predict the largest:

- ``moe_by_router`` (groups = router) and ``sldbench_moe`` (one group): held out 3.68e8
  dense parameters; forms ``moe_additive``, ``moe_multiplicative``, ``moe_interaction``;
- ``overtraining``: groups = train_dataset x eval_set (24 curves), inputs ``params`` and
  ``tokens``, held out the 4.1e8-parameter runs; forms ``chinchilla``, ``chinchilla_tied``;
- ``sft_finetuning``: groups = (model, dataset), 34 curves, held out 409600 examples; forms
  ``additive`` and ``rectified`` (``broken_power`` is left out: one NUTS fit of it on these
  34 curves takes longer than this whole benchmark may).

For every likelihood x noise model (:mod:`bayeslaw.models.likelihoods`), each candidate form
is fitted to the training data less *its* largest size and scored there
(:func:`bayeslaw.evaluation.comparison.extrapolation_scores`; the test rows are never
looked at). Then two predictors are scored on the held-out rows: the **single best** form
by that score (what ``form="auto"`` picks), and the **average** of the forms by stacking
(:func:`bayeslaw.evaluation.averaging.average_forms`'s weights). Reported: R^2, mean relative
error, 50% and 90% observation-interval coverage, mean 90% width, mean log predictive
density (log score), the weights, divergences and seconds.

    python benchmarks/calibration_real.py [--datasets a,b] [--configs normal/constant,...]
        [--draws 500 --tune 500 --chains 2] [--json PATH]
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from common import DATA, publish, real_observations, text_table

from bayeslaw import atomic
from bayeslaw.data import Observations
from bayeslaw.evaluation.averaging import MIN_WEIGHT, stacking_weights
from bayeslaw.evaluation.comparison import extrapolation_scores
from bayeslaw.evaluation.scoring import score, split_largest
from bayeslaw.inference.fitting import fit
from bayeslaw.models.likelihoods import LIKELIHOODS, NOISES
from bayeslaw.posterior.averaged import AveragedFit

REPO = Path(__file__).resolve().parents[1]
MOE_FORMS = ("moe_additive", "moe_multiplicative", "moe_interaction")
#: dataset -> (candidate forms, the input whose largest value is held out)
PLAN: dict[str, tuple[tuple[str, ...], str]] = {
    "moe_by_router": (MOE_FORMS, "dense_parameter_count"),
    "sldbench_moe": (MOE_FORMS, "dense_parameter_count"),
    "overtraining": (("chinchilla(params,tokens)", "chinchilla_tied(params,tokens)"), "params"),
    "sft_finetuning": (("additive(sft_data_size)", "rectified(sft_data_size)"), "sft_data_size"),
}
CONFIGS = tuple(f"{lik}/{noise}" for noise in NOISES for lik in LIKELIHOODS)
COLUMNS = ("r2", "mean_rel_error", "cover50_obs", "cover90_obs", "width90_obs", "elpd")


def observations(name: str) -> Observations:
    """The dataset ``name`` as this benchmark reads it (see the module docstring)."""
    return real_observations(name, crossed=True)


def _metrics(predictor: Any, test: Observations) -> dict[str, float]:
    metrics, table = score(predictor, test)
    y = table[test.target].to_numpy()
    rel = float(np.mean(np.abs(table["mean"].to_numpy() - y) / y))
    return {**{k: metrics[k] for k in COLUMNS if k in metrics}, "mean_rel_error": rel}


def _divergences(fits: Sequence[Any]) -> int:
    return sum(int(f.datatree["sample_stats"]["diverging"].sum()) for f in fits)


def run_config(
    train: Observations, test: Observations, forms: Sequence[str], config: str,
    sampler: dict[str, Any],
) -> list[dict[str, Any]]:  # fmt: skip
    """The single-best and averaged rows of one likelihood/noise configuration."""
    likelihood, noise = config.split("/")
    kwargs = {"likelihood": likelihood, "noise": noise, "random_seed": 0, "progressbar": False,
              "check": False, **sampler}  # fmt: skip
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        inner, pointwise = extrapolation_scores(train, forms, **kwargs)
        weights = stacking_weights(pointwise)
        best = max(inner, key=lambda k: inner[k]["extrap_elpd"])
        kept = [f for f in inner if weights[f] >= MIN_WEIGHT or f == best]
        fits = {f: fit(train, form=f, **kwargs) for f in kept}
    averaged_forms = [f for f in kept if weights[f] >= MIN_WEIGHT]
    total = sum(weights[f] for f in averaged_forms)
    average = AveragedFit(
        tuple(fits[f] for f in averaged_forms),
        tuple(weights[f] / total for f in averaged_forms),
        weights,
    )
    seconds = time.perf_counter() - start
    common = {"likelihood": likelihood, "noise": noise, "seconds": seconds,
              "weights": {f: round(w, 3) for f, w in weights.items()}}  # fmt: skip
    return [
        {**common, "predictor": "single best", "form": best, **_metrics(fits[best], test),
         "divergences": _divergences([fits[best]])},
        {**common, "predictor": "averaged", "form": "+".join(averaged_forms),
         **_metrics(average, test), "divergences": _divergences(list(fits.values()))},
    ]  # fmt: skip


def run(
    *,
    datasets: Sequence[str] = tuple(PLAN),
    configs: Sequence[str] = CONFIGS,
    draws: int = 500,
    tune: int = 500,
    chains: int = 2,
    checkpoint: Path | None = None,
) -> dict[str, Any]:
    """Every dataset x configuration (see the module docstring). With ``checkpoint``, the
    results so far are written there (atomically) after every configuration: a long run
    that is stopped keeps what it measured.

    Returns
    -------
    dict
        Per dataset: ``train_rows``, ``test_rows``, ``held_out`` and ``rows`` (two per
        configuration: single best and averaged).
    """
    sampler = {"draws": draws, "tune": tune, "chains": chains}
    out: dict[str, Any] = {"settings": {**sampler, "seed": 0}}
    for name in datasets:
        forms, size = PLAN[name]
        train, test = split_largest(observations(name), by=size)
        rows = []
        for config in configs:
            new = run_config(train, test, forms, config, sampler)
            rows += new
            for r in new:  # progress, for long runs
                shown = {k: r[k] for k in ("predictor", "form", *COLUMNS, "seconds")}
                print(f"{name} {config}: {shown}", file=sys.stderr, flush=True)
            if checkpoint is not None:
                partial = {**out, name: {"rows": rows, "complete": False}}
                atomic.write_json(checkpoint, partial)
        out[name] = {"train_rows": len(train), "test_rows": len(test),
                     "held_out": {size: float(test.frame[size].iloc[0])}, "rows": rows}  # fmt: skip
    return out


def format_result(result: dict[str, Any]) -> str:
    """One table over every dataset."""
    rows = [
        (
            name,
            r["likelihood"],
            r["noise"],
            r["predictor"],
            r["form"],
            *(r[c] for c in COLUMNS),
            r["divergences"],
            r["seconds"],
        )
        for name, d in result.items()
        if name != "settings"
        for r in d["rows"]
    ]
    header = ("dataset", "likelihood", "noise", "predictor", "form", *COLUMNS, "div", "s")
    return text_table(header, rows)


def main(argv: list[str] | None = None) -> int:
    """Parse the options, :func:`run`, print the table and optionally write the JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", default=",".join(PLAN), help="comma-separated")
    parser.add_argument("--configs", default=",".join(CONFIGS), help="likelihood/noise,...")
    parser.add_argument("--draws", type=int, default=500)
    parser.add_argument("--tune", type=int, default=500)
    parser.add_argument("--chains", type=int, default=2)
    parser.add_argument(
        "--json", type=Path, default=REPO / "bench-results" / "calibration_real.json"
    )
    args = parser.parse_args(argv)
    names = [n for n in args.datasets.split(",") if n]
    configs = [c for c in args.configs.split(",") if c]
    unknown = sorted(set(names) - set(PLAN)) + sorted(set(configs) - set(CONFIGS))
    if unknown or not DATA.is_dir():
        print(f"skipped: unknown {unknown} or no {DATA}", file=sys.stderr)
        return 1
    result = run(datasets=names, configs=configs, draws=args.draws, tune=args.tune,
                 chains=args.chains, checkpoint=args.json)  # fmt: skip
    return publish(result, args.json, format_result(result))


if __name__ == "__main__":
    sys.exit(main())
