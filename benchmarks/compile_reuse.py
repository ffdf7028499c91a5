"""What compiling once per model structure saves, as ratios to a bootstrap in the same run.

On one dataset (default ``moe_by_router``), NUTS 4 x 1000 (1000 tuning), with a new, empty
bayeslaw compile cache (``BAYESLAW_CACHE_DIR``; PyTensor's own compile directory is the
environment's):

- ``bootstrap_s``: the 200-refit least-squares bootstrap over all groups
  (:func:`baselines.run`), the yardstick: machines differ about 3x in speed;
- a fresh process fits the data (``first``: compiled from scratch), fits them again
  (``refit``: the sampler reused from memory) and fits them without the largest dense size
  (``fold``: other rows, same structure, as a held-out fold is; reused from memory);
- a second fresh process fits the data (``fresh_process``: the sampler's functions read
  from the disk cache the first one wrote);
- with ``--evaluate``: ``bayeslaw evaluate --forms auto --poolings partial`` in a fresh
  process with an empty bayeslaw cache (``evaluate_cold_s``) and again in another with the
  entries it left (``evaluate_warm_s``), as wall time of the whole command.

Each fit's time is ``Fit.wall_time`` (build, compile or reuse, sampling, pointwise log
likelihood, checks); ``cache`` is where its sampler came from (``record.sampling.compile``).
Targets (issue 14): refit <= 1x the bootstrap, fresh process <= 2x, evaluate <= 90 s on the
machine whose bootstrap took 1.78 s (so about 50x its bootstrap).

    python benchmarks/compile_reuse.py [--data ../shared/data/moe_by_router] [--evaluate]
        [--draws 1000] [--tune 1000] [--chains 4] [--json PATH]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import baselines
from common import DATA, publish, text_table

from bayeslaw import atomic

HERE = Path(__file__).resolve().parent
TARGETS = {"refit/bootstrap": 1.0, "fresh_process/bootstrap": 2.0, "evaluate/bootstrap": 50.0}


def _fits(data: str, *, first: bool, draws: int, tune: int, chains: int) -> list[dict[str, Any]]:
    """The worker: fit ``data`` (and, for the first process, refit it and fit a fold)."""
    import numpy as np

    from bayeslaw.data import load_observations
    from bayeslaw.inference.fitting import fit

    obs = load_observations(Path(data))
    settings = {"draws": draws, "tune": tune, "chains": chains, "progressbar": False,
                "check": False, "random_seed": 0}  # fmt: skip
    sizes = obs.input_values()[obs.inputs[0]]
    cases = [("first" if first else "fresh_process", obs)]
    if first:
        cases += [("refit", obs), ("fold", obs.subset(sizes < np.max(sizes)))]
    out = []
    for name, rows in cases:
        result = fit(rows, **settings)
        out.append({
            "case": name,
            "rows": len(rows),
            "wall_s": result.wall_time,
            "cache": result.record.sampling.compile.get("cache", ""),
            "compile_s": result.record.sampling.compile.get("compile_s", float("nan")),
        })  # fmt: skip
    return out


def _worker(args: list[str], env: dict[str, str]) -> list[dict[str, Any]]:
    with tempfile.TemporaryDirectory(prefix="bayeslaw-reuse-") as tmp:
        target = Path(tmp) / "fits.json"
        done = subprocess.run(
            [sys.executable, __file__, "--worker", *args, "--json", str(target)],
            capture_output=True, text=True, env=env,
        )  # fmt: skip
        if done.returncode != 0 or not target.exists():
            raise RuntimeError(f"worker {args} failed:\n{(done.stderr or done.stdout)[-3000:]}")
        return json.loads(target.read_text())


def _evaluate_s(data: str, env: dict[str, str], sampler: list[str]) -> float:
    command = [sys.executable, "-m", "bayeslaw.cli", "evaluate", "--train", data,
               "--forms", "auto", "--poolings", "partial", *sampler]  # fmt: skip
    start = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, env=env)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command[1:])} failed:\n{done.stderr[-3000:]}")
    return time.perf_counter() - start


def run(
    *,
    data: str | Path = DATA / "moe_by_router",
    evaluate: bool = False,
    draws: int = 1000,
    tune: int = 1000,
    chains: int = 4,
) -> dict[str, Any]:
    """Measure as the module docstring says; returns the fits, the bootstrap's time and the
    ratios."""
    data = str(data)
    bootstrap_s = baselines.run(data=data, repeats=1)["bootstrap_s"]
    sampler = ["--draws", str(draws), "--tune", str(tune), "--chains", str(chains)]
    result: dict[str, Any] = {"data": data, "bootstrap_s": bootstrap_s, "fits": []}
    with tempfile.TemporaryDirectory(prefix="bayeslaw-cache-") as cache:
        env = {**os.environ, "BAYESLAW_CACHE_DIR": cache}
        result["fits"] += _worker(["--data", data, "--first", *sampler], env)
        result["fits"] += _worker(["--data", data, *sampler], env)
    if evaluate:
        with tempfile.TemporaryDirectory(prefix="bayeslaw-cache-") as cache:
            env = {**os.environ, "BAYESLAW_CACHE_DIR": cache}
            result["evaluate_cold_s"] = _evaluate_s(data, env, sampler)
            result["evaluate_warm_s"] = _evaluate_s(data, env, sampler)
    by_case = {f["case"]: f["wall_s"] for f in result["fits"]}
    ratios = {f"{case}/bootstrap": by_case[case] / bootstrap_s for case in by_case}
    if evaluate:
        for when in ("cold", "warm"):
            ratios[f"evaluate_{when}/bootstrap"] = result[f"evaluate_{when}_s"] / bootstrap_s
    result["ratios"] = ratios
    result["targets"] = TARGETS
    return result


def format_result(result: dict[str, Any]) -> str:
    rows = [(f["case"], f["rows"], f["cache"], f["compile_s"], f["wall_s"],
             result["ratios"][f"{f['case']}/bootstrap"]) for f in result["fits"]]  # fmt: skip
    for when in ("cold", "warm"):
        if f"evaluate_{when}_s" in result:
            seconds = result[f"evaluate_{when}_s"]
            rows.append((f"evaluate ({when} cache)", "", "", "", seconds,
                         result["ratios"][f"evaluate_{when}/bootstrap"]))  # fmt: skip
    table = text_table(("case", "rows", "cache", "compile s", "wall s", "x bootstrap"), rows)
    return f"{result['data']}: bootstrap 200 refits {result['bootstrap_s']:.2f} s\n{table}"


def main(argv: list[str] | None = None) -> int:
    """Parse the options, :func:`run` (or one worker), print the table, write the JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DATA / "moe_by_router")
    parser.add_argument("--evaluate", action="store_true", help="also time bayeslaw evaluate")
    parser.add_argument("--draws", type=int, default=1000)
    parser.add_argument("--tune", type=int, default=1000)
    parser.add_argument("--chains", type=int, default=4)
    parser.add_argument("--json", type=Path, help="also write the results here")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--first", action="store_true", help=argparse.SUPPRESS)
    config = vars(parser.parse_args(argv))
    out, worker, first = config.pop("json"), config.pop("worker"), config.pop("first")
    if worker:
        fits = _fits(str(config["data"]), first=first, draws=config["draws"],
                     tune=config["tune"], chains=config["chains"])  # fmt: skip
        if out is not None:
            atomic.write_json(out, fits)
        return 0
    result = run(**config)
    return publish(result, out, format_result(result))


if __name__ == "__main__":
    sys.exit(main())
