"""NUTS backends compared: nutpie with numba (the default), nutpie with JAX, numpyro.

Each (dataset, backend) runs in a fresh process (a first fit: compilation included) on the
same model (:func:`bayeslaw.models.hierarchical.build_model`, default priors, partial pooling,
``moe_additive``), 4 chains x 1000 draws, 1000 tuning, target_accept 0.98, seed 0:

- ``nutpie``: :func:`bayeslaw.inference.fitting.fit` (its compile cache switched off, so
  the time is a first compilation with PyTensor's own on-disk cache as it is);
- ``nutpie_jax``: ``nutpie.compile_pymc_model(model, backend="jax",
  gradient_backend="jax")`` then ``nutpie.sample`` (not offered by ``fit``);
- ``numpyro``: ``fit(..., sampler="numpyro")`` (``pymc.sample``'s JAX route).

Datasets: ``moe_by_router``, ``sldbench_moe`` and ``simulate_moe`` with 30 and 100 groups
of 80 rows (``--groups``). Reported: wall seconds (compile + sample), divergences, the
largest R-hat and the smallest bulk ESS over the law's parameters and the model's free
variables. The JAX backends need ``pip install -e '.[jax]'``; a backend that is not
installed is reported as such.

    python benchmarks/backends.py [--datasets moe_by_router,sldbench_moe]
        [--groups 30,100] [--backends nutpie,nutpie_jax,numpyro] [--json PATH]
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from common import DATA, publish, text_table

from bayeslaw import atomic

BACKENDS = ("nutpie", "nutpie_jax", "numpyro")
NUTS = {"draws": 1000, "tune": 1000, "chains": 4}
NEEDS = {"nutpie_jax": "jax", "numpyro": "numpyro"}


def _observations(name: str) -> Any:
    from bayeslaw.data import load_observations
    from bayeslaw.datasets import simulate_moe

    if name.startswith("sim"):
        return simulate_moe(n_groups=int(name[3:]), seed=0).observations
    return load_observations(DATA / name)


def _quality(tree: Any, names: list[str]) -> dict[str, float]:
    import arviz_stats

    summary = arviz_stats.summary(tree, var_names=names, kind="diagnostics", round_to="none")
    return {
        "divergences": int(tree["sample_stats"]["diverging"].sum()),
        "max_r_hat": float(summary["r_hat"].max()),
        "min_ess_bulk": float(summary["ess_bulk"].min()),
    }


def one(dataset: str, backend: str) -> dict[str, Any]:
    """Fit ``dataset`` with ``backend`` in this process; wall time and sampling quality."""
    from bayeslaw.inference.fitting import fit
    from bayeslaw.models.hierarchical import ModelSpec, build_model

    obs = _observations(dataset)
    start = time.perf_counter()
    if backend == "nutpie_jax":
        import nutpie

        spec = ModelSpec.from_observations(obs, form="moe_additive")
        model = build_model(obs, spec)
        names = [v.name for v in model.free_RVs] + list(spec.form.parameter_names)
        compiled = nutpie.compile_pymc_model(model, backend="jax", gradient_backend="jax")
        tree = nutpie.sample(compiled, seed=0, target_accept=0.98, save_warmup=False,
                             progress_bar=False, cores=min(4, os.cpu_count() or 1),
                             **NUTS)  # fmt: skip
    else:
        os.environ["BAYESLAW_CACHE_DIR"] = "off"
        result = fit(obs, form="moe_additive", sampler=backend, random_seed=0,
                     progressbar=False, check=False, **NUTS)  # fmt: skip
        tree = result.datatree
        names = [*result.record.free_variables, *result.draws.form.parameter_names]
    wall = time.perf_counter() - start
    names = [n for n in names if n in tree["posterior"]]
    return {"dataset": dataset, "backend": backend, "rows": len(obs), "groups": len(obs.groups),
            "wall_s": wall, **_quality(tree, names)}  # fmt: skip


def _fresh(dataset: str, backend: str) -> dict[str, Any]:
    if backend in NEEDS and importlib.util.find_spec(NEEDS[backend]) is None:
        return {"dataset": dataset, "backend": backend, "error": f"{NEEDS[backend]} absent"}
    with tempfile.TemporaryDirectory(prefix="bayeslaw-backend-") as tmp:
        target = Path(tmp) / "one.json"
        command = [sys.executable, __file__, "--one", dataset, backend, "--json", str(target)]
        done = subprocess.run(command, capture_output=True, text=True)
        if done.returncode != 0 or not target.exists():
            tail = (done.stderr or done.stdout)[-1500:]
            return {"dataset": dataset, "backend": backend, "error": tail}
        return json.loads(target.read_text())


def run(*, datasets: list[str], groups: list[int], backends: list[str]) -> dict[str, Any]:
    """Every (dataset, backend) in a fresh process, one after the other."""
    names = [*datasets, *(f"sim{g}" for g in groups)]
    return {"runs": [_fresh(d, b) for d in names for b in backends], "settings": NUTS}


def format_result(result: dict[str, Any]) -> str:
    rows = []
    for r in result["runs"]:
        if "error" in r:
            rows.append((r["dataset"], r["backend"], "error", r["error"][-80:], "", "", ""))
        else:
            rows.append((r["dataset"], r["backend"], r["rows"], r["wall_s"], r["divergences"],
                         r["max_r_hat"], r["min_ess_bulk"]))  # fmt: skip
    header = ("dataset", "backend", "rows", "wall s", "divergences", "max R-hat", "min bulk ESS")
    return text_table(header, rows)


def main(argv: list[str] | None = None) -> int:
    """Parse the options, :func:`run` (or one fit with ``--one``), print, write the JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", default="moe_by_router,sldbench_moe")
    parser.add_argument("--groups", default="30,100", help="simulated group counts")
    parser.add_argument("--backends", default=",".join(BACKENDS))
    parser.add_argument("--json", type=Path, help="also write the results here")
    parser.add_argument("--one", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.one:
        result = one(*args.one)
        if args.json is not None:
            atomic.write_json(args.json, result)
        return 0
    unknown = sorted(set(args.backends.split(",")) - set(BACKENDS))
    if unknown:
        parser.error(f"unknown backends {unknown}; choose from {list(BACKENDS)}")
    result = run(
        datasets=[d for d in args.datasets.split(",") if d],
        groups=[int(g) for g in args.groups.split(",") if g],
        backends=args.backends.split(","),
    )
    return publish(result, args.json, format_result(result))


if __name__ == "__main__":
    sys.exit(main())
