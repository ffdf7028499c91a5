"""Sampling quality of the crossed-factor model on the real crossed datasets, at default
settings (4 chains x 1000 draws after 1000 tuning steps, target_accept 0.98; ``--target-accept``
changes the last).

Every curve of ``sft_finetuning`` (model x dataset, ``rectified(sft_data_size)``),
``overtraining`` (train_dataset x eval_set, ``chinchilla_tied(params,tokens)``) and
``moe_routing`` (router_type x eval_set, ``moe_additive``) is fitted once with
``groups=(a, b)``, partial pooling and each centring choice asked for (default: the
automatic rule), and :func:`bayeslaw.reports.diagnose_fit`'s summary is read: the largest
R-hat, the smallest bulk and tail ESS (over every free variable and law parameter), the
divergences, the smallest E-BFMI, each check's verdict, the three variables with the
largest R-hat, the transitions cut short by the maximum tree depth and the median leapfrog
steps per transition (where the sampler records them), and the fit's wall time.

    python benchmarks/crossed_sampling.py [--datasets sft_finetuning,overtraining,moe_routing]
        [--centered auto] [--draws 1000 --tune 1000 --chains 4] [--seeds 0]
        [--interaction L_ref,A_slope] [--target-accept 0.9] [--families]
        [--multiplicative L_ref] [--json PATH]

``--centered`` takes ``;``-separated choices, each ``auto`` (``fit``'s default: with crossed
factors, the same as ``data``), ``data`` (chosen by ``fit``'s no-pooling Laplace pilot),
``none`` (every term non-centred) or a comma-separated list of ``<coord>:<factor|cell>``
names; ``--seeds`` a comma-separated list of seeds, each choice fitted once per seed (how
much the numbers move with the seed alone); ``--interaction`` the coordinates whose cells
get offsets of their own (default: ``fit``'s, chosen by its pilot); ``--families`` adds
each dataset's family interaction (``common.FAMILY_FACTORS``: the model family with the
dataset on fine-tuning, the validation set's source corpus with the training corpus on
over-training); ``--multiplicative`` the coordinates with a rank-one interaction of the
two factors (``fit(..., multiplicative=...)``; default none).
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
from common import (
    FAMILY_FACTORS,
    chosen_datasets,
    interaction_option,
    publish,
    real_observations,
    text_table,
)
from unseen_groups import PLAN  # dataset -> the law fitted to its curves

from bayeslaw.inference.diagnostics import treedepth_hits
from bayeslaw.inference.fitting import fit
from bayeslaw.reports.diagnostics import diagnose_fit

REPO = Path(__file__).resolve().parents[1]


def centring(choice: str) -> tuple[str, ...] | str | None:
    """``--centered``'s one choice as ``fit``'s ``centered`` (None: fit's default;
    ``"data"``: chosen by the pilot fit)."""
    if choice == "auto":
        return None
    if choice == "data":
        return choice
    if choice == "none":
        return ()
    return tuple(n for n in choice.split(",") if n)


def quality(result: Any) -> dict[str, Any]:
    """What the benchmark reports of one NUTS fit (see the module docstring)."""
    import arviz_stats as azs

    report = diagnose_fit(result)
    summary = report.summary
    worst = summary.sort_values("r_hat", ascending=False).head(3)
    stats = result.datatree["sample_stats"]
    steps = next((stats[n].values for n in ("n_steps", "tree_size") if n in stats), None)
    return {
        "max_r_hat": float(summary["r_hat"].max()),
        "min_ess_bulk": float(summary["ess_bulk"].min()),
        "min_ess_tail": float(summary["ess_tail"].min()),
        "divergences": int(stats["diverging"].sum()),
        "min_bfmi": float(np.min(azs.bfmi(result.datatree)["energy"].values)),
        "worst_r_hat": [f"{i} {r:.3f}" for i, r in zip(worst.index, worst["r_hat"], strict=True)],
        "depth_hits": treedepth_hits(stats),
        "median_steps": None if steps is None else float(np.median(steps)),
        "verdicts": {c.name: c.verdict for c in report.checks},
        "centered": list(result.record.model.centered),
        "interaction": list(result.record.model.interaction),
        "seconds": float(result.wall_time),
    }


def run(
    *,
    datasets: Sequence[str] = tuple(PLAN),
    centered: tuple[str, ...] = ("auto",),
    draws: int = 1000,
    tune: int = 1000,
    chains: int = 4,
    seeds: Sequence[int] = (0,),
    interaction: bool | Sequence[str] | None = None,
    target_accept: float | None = None,
    families: bool = False,
    multiplicative: Sequence[str] = (),
) -> dict[str, Any]:
    """Each dataset fitted per centring choice and seed; ``target_accept`` None is
    ``fit``'s default; ``families`` adds the family interaction where a dataset has one;
    ``multiplicative`` is ``fit``'s."""
    sampler: dict[str, Any] = {"draws": draws, "tune": tune, "chains": chains}
    if target_accept is not None:
        sampler["target_accept"] = target_accept
    out: dict[str, Any] = {"settings": {**sampler, "seeds": list(seeds),
                                        "interaction": interaction,
                                        "multiplicative": list(multiplicative)}}  # fmt: skip
    for name in datasets:
        with_families = families and name in FAMILY_FACTORS
        obs = real_observations(name, factors=True, families=with_families)
        rows = []
        for choice in centered:
            for seed in seeds:
                start = time.perf_counter()
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    result = fit(obs, form=PLAN[name], centered=centring(choice),
                                 random_seed=seed, interaction=interaction,
                                 multiplicative=tuple(multiplicative),
                                 progressbar=False, check=False, **sampler)  # fmt: skip
                row = {"choice": choice, "seed": seed, **quality(result)}
                row["process_s"] = time.perf_counter() - start
                print(f"{name} {choice} seed {seed}: {row}", file=sys.stderr, flush=True)
                rows.append(row)
        out[name] = {"form": PLAN[name], "cells": len(obs.groups), "factors": list(obs.factors),
                     "rows": rows}  # fmt: skip
    return out


def _or_dash(value: Any) -> Any:
    return "-" if value is None else value


def format_result(result: dict[str, Any]) -> str:
    table = []
    for name, d in result.items():
        if name == "settings":
            continue
        for r in d["rows"]:
            table.append((name, r["choice"], r.get("seed", 0), r["max_r_hat"], r["min_ess_bulk"],
                          r["min_ess_tail"], r["divergences"], r["min_bfmi"],
                          _or_dash(r.get("depth_hits")), _or_dash(r.get("median_steps")),
                          r["seconds"], "; ".join(r["worst_r_hat"])))  # fmt: skip
    header = ("dataset", "centered", "seed", "max R-hat", "min ESS bulk", "min ESS tail", "div",
              "min E-BFMI", "depth hits", "median steps", "s", "largest R-hat")  # fmt: skip
    return text_table(header, table)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", default=",".join(PLAN), help="comma-separated")
    parser.add_argument("--centered", default="auto", help="';'-separated centring choices")
    parser.add_argument("--draws", type=int, default=1000)
    parser.add_argument("--tune", type=int, default=1000)
    parser.add_argument("--chains", type=int, default=4)
    parser.add_argument("--seeds", default="0", help="comma-separated random seeds")
    parser.add_argument("--interaction", default=None, help="coordinates with cell offsets")
    parser.add_argument(
        "--target-accept", type=float, default=None, help="NUTS step-size target (fit's default)"
    )
    parser.add_argument(
        "--families", action="store_true", help="add each dataset's family interaction"
    )
    parser.add_argument(
        "--multiplicative", default="", help="coordinates with a rank-one interaction"
    )
    parser.add_argument(
        "--json", type=Path, default=REPO / "bench-results" / "crossed_sampling.json"
    )
    args = parser.parse_args(argv)
    names = chosen_datasets(args.datasets, PLAN)
    if names is None:
        return 1
    choices = tuple(c for c in args.centered.split(";") if c)
    try:
        seeds = tuple(int(s) for s in args.seeds.split(",") if s)
    except ValueError:
        print(f"--seeds takes comma-separated integers, got {args.seeds!r}", file=sys.stderr)
        return 1
    interaction = interaction_option(args.interaction)
    result = run(datasets=names, centered=choices, draws=args.draws, tune=args.tune,
                 chains=args.chains, seeds=seeds, interaction=interaction,
                 target_accept=args.target_accept, families=args.families,
                 multiplicative=interaction_option(args.multiplicative) or ())  # fmt: skip
    return publish(result, args.json, format_result(result))


if __name__ == "__main__":
    sys.exit(main())
