"""Unseen groups: predict a whole curve never fitted, from the curves that were.

Leave one curve out over the shared datasets built of crossed factors (../shared/data):

- ``sft_finetuning``: 34 (model, dataset) curves, the rectified law ``rectified(sft_data_size)``;
- ``overtraining``: 24 (train_dataset, eval_set) curves, ``chinchilla_tied(params,tokens)``;
- ``moe_routing``: 18 (router_type, eval_set) curves of the routing study's routed runs at
  their last step (:func:`common.routing_evaluations`), the law of this package's MoE core
  ``moe_additive`` (``L_inf + A N^-alpha + B E^-beta``); added after the rule of
  ``multiplicative=True`` was settled on the other two, to test it on data it never saw.

For each held-out curve, three predictors of all its rows, fitted to the other curves:

- **crossed**: the crossed-factor model (``load_observations(groups=(a, b))``, partial
  pooling, NUTS): the held-out cell combines its levels' effects (a level seen in no other
  curve is drawn from its factor's population);
- **crossed + family**: the same with a family interaction (:data:`common.FAMILY_FACTORS`):
  on fine-tuning the model's family and the dataset, ``groups=("model", "dataset",
  "family:dataset")`` (the family read from the model's name, :func:`common.model_family`),
  so a held-out curve borrows from its sibling models' curves on the same dataset; on
  over-training the validation set's source corpus and the training corpus,
  ``("train_dataset", "eval_set", "source:train_dataset")`` (C4's validation split and
  Paloma's C4 sample share a source, :func:`common.eval_source`), so a held-out curve on
  one C4 set borrows from the same corpus's curve on the other;
- **one factor**: today's one-column model (groups = cells, partial pooling, NUTS): the
  held-out curve is a new group, the population-level posterior;
- **median**: the point-fit predictor's fallback: classical per-curve fits (MAP, flat priors,
  no pooling, so each curve is fitted on its own) and, for the unseen curve, the median of
  the other curves' coefficients. It gives no interval.

Reported per dataset and predictor: mean squared error over the held-out rows (all curves
pooled), its ratio to the median fallback's, the same for the predictive median as the
point prediction (Bayesian predictors), 90% observation-interval coverage and mean width,
divergences and seconds; the JSON keeps every curve's numbers.

    python benchmarks/unseen_groups.py [--datasets sft_finetuning,overtraining,moe_routing]
        [--curves N] [--predictors crossed,one factor] [--draws 500 --tune 500 --chains 2]
        [--interaction L_ref] [--multiplicative L_ref] [--seed 0] [--json PATH]

``--curves N`` holds out N curves spread evenly over the sorted curve labels (default: all;
on a 2-core machine, 2 x 400 draws, about 40 minutes per Bayesian predictor for the 34
fine-tuning curves and 5 for the 24 over-training ones, measured 2026-12-01);
``--predictors`` names the Bayesian predictors to fit (the median fallback, one MAP fit per
dataset, always runs; ``crossed + family`` on the datasets of ``FAMILY_FACTORS``);
``--interaction`` the coordinates whose cells get offsets of their
own in the crossed model (comma-separated; default: ``fit``'s, chosen by its pilot);
``--multiplicative`` the coordinates of the crossed models with a rank-one interaction of
the two factors (``fit(..., multiplicative=...)``; default none). The JSON
is rewritten after every curve, so a long run that is stopped keeps what it measured.
"""

from __future__ import annotations

import argparse
import functools
import sys
import time
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from common import (
    FAMILY_FACTORS,
    chosen_datasets,
    interaction_option,
    publish,
    real_observations,
    text_table,
)

from bayeslaw import atomic
from bayeslaw.data import Observations
from bayeslaw.inference.fitting import fit

REPO = Path(__file__).resolve().parents[1]
#: dataset -> the law fitted to its curves
PLAN: dict[str, str] = {
    "sft_finetuning": "rectified(sft_data_size)",
    "overtraining": "chinchilla_tied(params,tokens)",
    "moe_routing": "moe_additive",
}
PREDICTORS = ("crossed + family", "crossed", "one factor", "median")
BAYESIAN = PREDICTORS[:3]
CI = 0.9


def held_out_curves(groups: Sequence[str], n: int | None) -> list[str]:
    """``n`` curve labels spread evenly over the sorted ``groups`` (all when None)."""
    ordered = sorted(groups)
    if n is None or n >= len(ordered):
        return ordered
    index = np.unique(np.round(np.linspace(0, len(ordered) - 1, max(n, 1))).astype(int))
    return [ordered[i] for i in index]


def one_factor(obs: Observations) -> Observations:
    """The same rows with one group column (the cell labels), the factors dropped."""
    frame = obs.frame.drop(columns=list(obs.factors))
    return Observations(frame, obs.inputs, obs.target, {}, obs.source, obs.split)


def _scores(y: np.ndarray, mean: np.ndarray, lower: Any = None, upper: Any = None) -> dict:
    out: dict[str, Any] = {"sq_error": ((mean - y) ** 2).tolist()}
    if lower is not None:
        out["covered"] = ((lower <= y) & (y <= upper)).tolist()
        out["width"] = (upper - lower).tolist()
    return out


def _bayes(train: Observations, test: Observations, group: str, sampler: dict) -> dict:
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = fit(train, **sampler)
    table = result.predict(test.frame, group=group, ci_prob=CI, kind="observation")
    y = test.y
    # the predictive median as a point prediction too: a new cell's draws of a nonlinear law
    # are skewed, and squared error rewards the mean only where the draws' spread is right
    median = np.median(result.predictive_draws(test.frame, group=group, kind="mean"), axis=0)
    return {
        **_scores(
            y, table["mean"].to_numpy(), table["lower"].to_numpy(), table["upper"].to_numpy()
        ),
        "sq_error_median": ((median - y) ** 2).tolist(),
        "status": str(table["group_status"].iloc[0]),
        "divergences": int(result.datatree["sample_stats"]["diverging"].sum()),
        "seconds": time.perf_counter() - start,
    }


def median_fallback(point: Any, test: Observations, group: str) -> np.ndarray:
    """The point-fit predictor's answer for an unseen ``group``: the law at the median of
    the other groups' fitted coefficients (scaled units; the same scales for every group)."""
    draws = point.draws
    others = [i for i, g in enumerate(draws.groups) if g != group]
    theta = {k: np.array([np.median(v[0, others])]) for k, v in draws.theta.items()}
    form = draws.form
    x = form.scale_inputs(test.input_values(), draws.scales)
    return np.asarray(form(x, theta), dtype=np.float64)


def run_dataset(
    name: str,
    curves: int | None,
    sampler: dict[str, Any],
    predictors: Sequence[str] = BAYESIAN,
    on_curve: Callable[[dict[str, Any]], None] | None = None,
    interaction: bool | Sequence[str] | None = None,
    multiplicative: Sequence[str] = (),
) -> dict[str, Any]:
    """Every held-out curve of ``name`` under the median fallback and the Bayesian
    ``predictors``; ``on_curve`` is handed the dataset's results so far after each curve;
    ``interaction`` and ``multiplicative`` are the crossed models' (``fit``'s)."""
    form = PLAN[name]
    crossed = real_observations(name, factors=True)
    plain = one_factor(crossed)
    nuts = {"form": form, "random_seed": 0, "progressbar": False, "check": False, **sampler}
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        point = fit(plain, form=form, method="map", priors="flat", pooling="none", random_seed=0)
    point_s = time.perf_counter() - start
    data = {"crossed": crossed, "one factor": plain}
    if name in FAMILY_FACTORS:  # the same rows, in the same order, with the family term
        data["crossed + family"] = real_observations(name, families=True)
    predictors = [p for p in predictors if p in data]
    crossed_settings = {**nuts, "interaction": interaction,
                        "multiplicative": tuple(multiplicative)}  # fmt: skip
    settings = {"crossed": crossed_settings, "crossed + family": crossed_settings,
                "one factor": nuts}  # fmt: skip
    records: list[dict[str, Any]] = []
    out: dict[str, Any] = {}
    for group in held_out_curves(crossed.groups, curves):
        mask = (crossed.frame["group"] == group).to_numpy()
        test = crossed.subset(mask)
        record: dict[str, Any] = {"curve": group, "rows": int(mask.sum())}
        for p in predictors:
            held_out = data[p].subset(mask)  # its label names the family too, if it has one
            label = str(held_out.frame["group"].iloc[0])
            record[p] = _bayes(data[p].subset(~mask), held_out, label, settings[p])
        record["median"] = _scores(test.y, median_fallback(point, test, group))
        records.append(record)
        mse = {p: float(np.mean(record[p]["sq_error"])) for p in PREDICTORS if p in record}
        print(f"{name} {group}: squared error {mse}", file=sys.stderr, flush=True)
        out = {
            "form": form, "factors": {p: list(data[p].factors) for p in predictors},
            "predictors": list(predictors),
            "curves": records, "point_fit_s": point_s, "summary": summarise(records),
        }  # fmt: skip
        if on_curve is not None:
            on_curve(out)
    return out


def summarise(records: Sequence[dict[str, Any]]) -> dict[str, dict[str, float]]:
    """Per predictor: pooled mean squared error, its ratio to the median fallback's, 90%
    coverage and width (Bayesian predictors), divergences and seconds; ``mse_at_median``:
    the squared error of the predictive median instead of the mean (where recorded)."""
    out: dict[str, dict[str, float]] = {}
    for p in (p for p in PREDICTORS if p in records[0]):
        sq = np.concatenate([r[p]["sq_error"] for r in records])
        row: dict[str, float] = {"mse": float(sq.mean())}
        if p != "median" and all("sq_error_median" in r[p] for r in records):
            row["mse_at_median"] = float(
                np.concatenate([r[p]["sq_error_median"] for r in records]).mean()
            )
        if p != "median":
            row["cover90"] = float(np.concatenate([r[p]["covered"] for r in records]).mean())
            row["width90"] = float(np.concatenate([r[p]["width"] for r in records]).mean())
            row["divergences"] = float(sum(r[p]["divergences"] for r in records))
            row["seconds"] = float(sum(r[p]["seconds"] for r in records))
        out[p] = row
    for row in out.values():
        row["mse_over_median"] = row["mse"] / out["median"]["mse"]
    return out


def run(
    *,
    datasets: Sequence[str] = tuple(PLAN),
    curves: int | None = None,
    draws: int = 500,
    tune: int = 500,
    chains: int = 2,
    predictors: Sequence[str] = BAYESIAN,
    checkpoint: Path | None = None,
    interaction: bool | Sequence[str] | None = None,
    multiplicative: Sequence[str] = (),
    seed: int = 0,
) -> dict[str, Any]:
    """Leave-one-curve-out on each dataset (see the module docstring); with ``checkpoint``
    the results so far are written there after each curve; ``seed`` is the Bayesian
    predictors' (the median fallback's MAP keeps seed 0)."""
    sampler = {"draws": draws, "tune": tune, "chains": chains, "random_seed": seed}
    out: dict[str, Any] = {"settings": {**sampler, "curves": curves, "seed": seed,
                                        "interaction": interaction,
                                        "multiplicative": list(multiplicative)}}  # fmt: skip

    def save(name: str, partial: dict[str, Any]) -> None:
        out[name] = partial
        if checkpoint is not None:
            atomic.write_json(checkpoint, out)

    for name in datasets:
        out[name] = run_dataset(
            name, curves, sampler, predictors, functools.partial(save, name), interaction,
            multiplicative,
        )  # fmt: skip
    return out


def format_result(result: dict[str, Any]) -> str:
    rows = []
    for name, d in result.items():
        if name == "settings":
            continue
        for p, s in d["summary"].items():
            seconds = s.get("seconds", d["point_fit_s"])
            at_median = s.get("mse_at_median")
            ratio = "-" if at_median is None else at_median / d["summary"]["median"]["mse"]
            rows.append((name, len(d["curves"]), p, s["mse"], s["mse_over_median"], ratio,
                         s.get("cover90", "-"), s.get("width90", "-"),
                         s.get("divergences", "-"), seconds))  # fmt: skip
    header = ("dataset", "curves", "predictor", "mse", "mse / median",
              "mse(pred. median) / median", "cover90", "width90", "div", "s")  # fmt: skip
    return text_table(header, rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", default=",".join(PLAN), help="comma-separated")
    parser.add_argument("--curves", type=int, default=None, help="curves held out per dataset")
    parser.add_argument(
        "--predictors", default=",".join(BAYESIAN), help=f"comma-separated, of {BAYESIAN}"
    )
    parser.add_argument("--draws", type=int, default=500)
    parser.add_argument("--tune", type=int, default=500)
    parser.add_argument("--chains", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0, help="the Bayesian predictors' seed")
    parser.add_argument(
        "--interaction", default=None, help="crossed model: coordinates with cell offsets"
    )
    parser.add_argument(
        "--multiplicative", default="", help="crossed models: coordinates with a rank-one term"
    )
    parser.add_argument("--json", type=Path, default=REPO / "bench-results" / "unseen_groups.json")
    args = parser.parse_args(argv)
    names = chosen_datasets(args.datasets, PLAN)
    predictors = [p for p in args.predictors.split(",") if p]
    if names is None or not set(predictors) <= set(BAYESIAN):
        if names is not None:
            print(f"unknown predictors {predictors}; choose from {BAYESIAN}", file=sys.stderr)
        return 1
    interaction = interaction_option(args.interaction)
    result = run(datasets=names, curves=args.curves, draws=args.draws, tune=args.tune,
                 chains=args.chains, predictors=predictors, checkpoint=args.json,
                 interaction=interaction,
                 multiplicative=interaction_option(args.multiplicative) or (),
                 seed=args.seed)  # fmt: skip
    return publish(result, args.json, format_result(result))


if __name__ == "__main__":
    sys.exit(main())
