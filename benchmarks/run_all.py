"""Every benchmark in one run, one table, one JSON file (what ``make bench`` runs).

On ``moe_by_router`` and ``sldbench_moe`` (../shared/data), in the same run:

- MAP wall time, cold (first fit in a fresh process, compilation included) and warm (later
  fits in that process; median), for default priors with partial pooling and for
  ``priors="flat", pooling="none"`` (the classical point fit);
- NUTS (4 chains x 1000 draws, 1000 tuning) in a fresh process with an empty PyTensor
  compile directory (``uncached``), again in the same process (``warm``), and in a second
  fresh process that finds the first one's compiled functions on disk (``cached``: the
  cross-process compile cache): wall time, smallest bulk ESS per second of wall time,
  divergences, largest R-hat, and the process's peak resident memory (``ru_maxrss``);
- the classical baselines of benchmarks/baselines.py on every group: the 40 x 40 grid and a
  200-refit bootstrap, with the ratios bayeslaw / baseline;
- law() latency (benchmarks/law_latency.py);
- cost against the number of groups (benchmarks/scale.py; skipped by ``--quick``);
- interval calibration on the four real datasets, every likelihood x noise model, single
  best form vs averaged (benchmarks/calibration_real.py, last: about two hours on a 2-core
  machine; skipped by ``--quick``, and by ``--no-real``).

This file only orchestrates. Timings that need a fresh process to be honest (the MAP and
NUTS fits of benchmarks/fit_timing.py, law() latency, and the scaling run, which also keeps
its memory out of this process) run as ``python benchmarks/<module>.py ... --json FILE``
and are read back from that file; the baselines (numpy and scipy: nothing compiled or cached)
run in this process (``baselines.run``).

``--quick`` samples 2 chains x 200 draws (200 tuning) and skips the scaling run. Fit wall
times are ``Fit.wall_time``: model build, compilation, fitting and convergence checks,
not interpreter start or import. The machine may be shared: quote medians.

    python benchmarks/run_all.py [--quick] [--out bench-results/bench.json]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping
from importlib import metadata
from pathlib import Path
from typing import Any

import baselines
from common import DATA, text_table

from bayeslaw import atomic

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
DATASETS = ("moe_by_router", "sldbench_moe")
#: NUTS settings of every NUTS benchmark, and with ``--quick``.
NUTS = {"draws": 1000, "tune": 1000, "chains": 4}
QUICK_NUTS = {"draws": 200, "tune": 200, "chains": 2}
TARGETS = {"nuts_cold_s": 20.0, "nuts_cached_s": 8.0, "map_warm_s": 1.0, "scale_100_s": 300.0}
LAW_TARGETS = {
    "cold_process_median_s": 0.5,
    "cold_import_and_call_median_s": 0.5,
    "warm_10k_rows_median_s": 0.5,
    "cold_over_numpy": 2.0,
}

type Row = tuple[str, str, Any, str, str]


class BenchmarkError(RuntimeError):
    """A benchmark's process failed or wrote no JSON."""


def cli_options(config: Mapping[str, Any]) -> list[str]:
    """``{"max_groups": 100, "priors": None}`` -> ``["--max-groups", "100"]``."""
    options = []
    for key, value in config.items():
        if value is not None:
            options += [f"--{key.replace('_', '-')}", str(value)]
    return options


def fresh_process(
    module: str, config: Mapping[str, Any], *, env: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """Run ``benchmarks/<module>.py`` in a new Python process and read its ``--json`` file.

    Parameters
    ----------
    module : str
        A benchmark module whose options are its ``run()`` keywords.
    config : mapping
        Those keywords, passed as options by :func:`cli_options`.
    env : mapping, optional
        The process's environment (default: this one's).

    Raises
    ------
    BenchmarkError
        If the process fails or writes no JSON (the end of its output in the message).
    """
    with tempfile.TemporaryDirectory(prefix="bayeslaw-bench-") as tmp:
        target = Path(tmp) / f"{module}.json"
        command = [sys.executable, str(HERE / f"{module}.py"), *cli_options(config)]
        done = subprocess.run(
            [*command, "--json", str(target)],
            capture_output=True,
            text=True,
            cwd=REPO,
            env=None if env is None else dict(env),
        )
        if done.returncode != 0 or not target.exists():
            output = (done.stderr or done.stdout)[-3000:]
            raise BenchmarkError(f"{' '.join(command[1:])} failed:\n{output}")
        return json.loads(target.read_text())


def machine_info() -> dict[str, Any]:
    """Cores, CPU model, Python and library versions of this machine."""
    versions = {}
    for pkg in ("bayeslaw", "pymc", "pytensor", "nutpie", "arviz", "arviz-stats", "numpy"):
        try:
            versions[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            versions[pkg] = None
    cpu = ""
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        lines = cpuinfo.read_text().splitlines()
        names = [ln.split(":", 1)[1].strip() for ln in lines if ln.startswith("model name")]
        cpu = names[0] if names else ""
    return {
        "nproc": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "cpu_count": os.cpu_count(),
        "cpu": cpu,
        "platform": platform.platform(),
        "python": platform.python_version(),
        "versions": versions,
        "started": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }


def bench_map(path: Path, *, flat: bool, cold_repeats: int, warm_repeats: int) -> dict:
    """Cold MAP: first fit in fresh processes (median); warm: later fits in one process."""
    cfg: dict[str, Any] = {"data": path, "method": "map"}
    cfg.update({"priors": "flat", "pooling": "none"} if flat else {"pooling": "partial"})
    first = fresh_process("fit_timing", {**cfg, "repeats": 1 + warm_repeats})
    cold = [first["runs"][0]["wall_s"]]
    for _ in range(cold_repeats - 1):
        cold.append(fresh_process("fit_timing", {**cfg, "repeats": 1})["runs"][0]["wall_s"])
    warm = [r["wall_s"] for r in first["runs"][1:]]
    return {
        "cold_s": statistics.median(cold),
        "cold_runs_s": cold,
        "warm_s": statistics.median(warm),
        "warm_runs_s": warm,
        "import_s": first["import_s"],
    }


def bench_nuts(path: Path, *, draws: int, tune: int, chains: int) -> dict:
    """NUTS in fresh processes sharing new, empty PyTensor and bayeslaw compile directories.

    - ``uncached``: the first fit of the first process (nothing compiled on disk yet);
    - ``warm``: the second fit in that process (same data, a freshly built model: the
      compiled sampler is reused from memory);
    - ``cached``: the first fit of a second fresh process, which finds the first one's
      compiled functions on disk (PyTensor's numba cache and bayeslaw's compile cache).
    """
    cfg = {"data": str(path), "method": "nuts", "draws": draws, "tune": tune, "chains": chains}
    with tempfile.TemporaryDirectory(prefix="bayeslaw-compiledir-") as compiledir:
        env = {
            **os.environ,
            "PYTENSOR_FLAGS": f"base_compiledir={compiledir}",
            "BAYESLAW_CACHE_DIR": str(Path(compiledir) / "bayeslaw"),
        }
        first = fresh_process("fit_timing", {**cfg, "repeats": 2}, env=env)
        second = fresh_process("fit_timing", {**cfg, "repeats": 1}, env=env)
    uncached, warm = first["runs"]
    return {
        "uncached": uncached,
        "warm": warm,
        "cached": second["runs"][0],
        "peak_rss_mib": first["peak_rss_mib"],
        "import_s": first["import_s"],
        "settings": cfg,
    }


def bench_law_latency(repeats: int) -> dict:
    """benchmarks/law_latency.py in a fresh process; ``{"error": ...}`` if it fails."""
    try:
        return fresh_process("law_latency", {"data": DATA / "moe_by_router", "repeats": repeats})
    except BenchmarkError as err:
        return {"error": str(err)}


def bench_scale(max_groups: int) -> dict:
    """benchmarks/scale.py in a fresh process; ``{"error": ...}`` if it fails."""
    try:
        return fresh_process("scale", {"max_groups": max_groups})
    except BenchmarkError as err:
        return {"error": str(err)}


def bench_calibration_real() -> dict:
    """benchmarks/calibration_real.py in a fresh process; ``{"error": ...}`` if it fails."""
    try:
        return fresh_process("calibration_real", {})
    except BenchmarkError as err:
        return {"error": str(err)}


def _ok(value: float | None, target: float, quick: bool) -> str:
    if value is None or quick:
        return ""
    return "yes" if value <= target else "NO"


def _dataset_rows(name: str, d: dict[str, Any], quick: bool) -> list[Row]:
    """MAP, NUTS, baseline and ratio rows of one dataset (targets on moe_by_router only)."""
    main = name == "moe_by_router"
    rows: list[Row] = []
    for key, label in (
        ("map_partial", "MAP default priors, partial"),
        ("map_flat", "MAP flat priors, no pooling"),
    ):
        m, target = d[key], TARGETS["map_warm_s"]
        rows.append((f"{label}: cold s", name, m["cold_s"], "", ""))
        rows.append(
            (
                f"{label}: warm s",
                name,
                m["warm_s"],
                f"<= {target:g}",
                _ok(m["warm_s"], target, quick),
            )
        )
    n = d["nuts"]
    for kind, target, label in (
        ("uncached", TARGETS["nuts_cold_s"], "fresh process, empty compile cache"),
        ("cached", TARGETS["nuts_cached_s"], "fresh process, compile cache on disk"),
        ("warm", None, "second fit in the process"),
    ):
        r = n[kind]
        tgt = f"<= {target:g}" if main and target else ""
        met = _ok(r["wall_s"], target, quick or not main) if target else ""
        rows.append((f"NUTS {label}: wall s", name, r["wall_s"], tgt, met))
        rows.append((f"NUTS {kind}: min bulk ESS/s", name, r["ess_bulk_per_s"], "", ""))
        rows.append((f"NUTS {kind}: divergences", name, r["divergences"], "", ""))
        rows.append((f"NUTS {kind}: max R-hat", name, r["max_r_hat"], "", ""))
    rows.append(("NUTS process peak RSS MiB", name, n["peak_rss_mib"], "", ""))
    b, ratios = d["baselines"], d["ratios"]
    rows.append((f"grid 40x40 s ({b['n_groups']} groups)", name, b["grid_s"], "", ""))
    rows.append(("bootstrap 200 refits s", name, b["bootstrap_s"], "", ""))
    rows.append(("ratio MAP flat warm / grid", name, ratios["map_flat_warm/grid"], "", ""))
    for key in ("nuts_cached/bootstrap", "nuts_warm/bootstrap"):
        rows.append((f"ratio {key}", name, ratios[key], "", ""))
    return rows


def _law_rows(law: dict[str, Any]) -> list[Row]:
    """law() latency rows against :data:`LAW_TARGETS` (a failure row if it failed)."""
    rows: list[Row] = []
    if "error" in law:
        rows.append(("law() latency", "moe_by_router", "failed: see JSON", "", ""))
    for key, target in LAW_TARGETS.items():
        if key in law:
            met = _ok(law[key], target, False)
            rows.append((f"law() {key}", "moe_by_router", law[key], f"<= {target:g}", met))
    return rows


def _scale_rows(scale: dict[str, Any]) -> list[Row]:
    """Scaling rows: wall time (target at 100 groups) and ESS/s per size, the verdict."""
    rows: list[Row] = []
    if "error" in scale:
        rows.append(("scale", "simulated", "failed: see JSON", "", ""))
    for p in scale.get("points", []):
        label = f"scale G={p['n_groups']}"
        tgt = TARGETS["scale_100_s"] if p["n_groups"] == 100 else None
        met = _ok(p["wall_s"], tgt, False) if tgt else ""
        rows.append(
            (f"{label}: NUTS wall s", "simulated", p["wall_s"], f"<= {tgt:g}" if tgt else "", met)
        )
        rows.append((f"{label}: min bulk ESS/s", "simulated", p["ess_bulk_per_s"], "", ""))
    if "verdict" in scale:
        rows.append(("scale verdict", "simulated", scale["verdict"], "", ""))
    return rows


def table_rows(result: dict) -> list[Row]:
    """(benchmark, dataset, value, target, met) rows of the one printed table."""
    rows: list[Row] = []
    for name, d in result["datasets"].items():
        if "skipped" in d:
            rows.append(("dataset", name, d["skipped"], "", ""))
        else:
            rows += _dataset_rows(name, d, result["settings"]["quick"])
    rows += _law_rows(result.get("law_latency", {}))
    scale = result.get("scale")
    if isinstance(scale, dict):
        rows += _scale_rows(scale)
    return rows


def format_table(rows: list[Row]) -> str:
    """Plain-text table with aligned columns."""
    return text_table(("benchmark", "dataset", "value", "target", "met"), rows)


def run_dataset(path: Path, *, quick: bool, nuts: dict[str, int]) -> dict:
    """Every per-dataset benchmark, and the ratios bayeslaw / baseline."""
    cold_repeats, warm_repeats = (1, 2) if quick else (3, 5)
    repeats = {"cold_repeats": cold_repeats, "warm_repeats": warm_repeats}
    d: dict[str, Any] = {
        "map_partial": bench_map(path, flat=False, **repeats),
        "map_flat": bench_map(path, flat=True, **repeats),
        "nuts": bench_nuts(path, **nuts),
        "baselines": baselines.run(data=path, repeats=3),
    }
    grid, bootstrap = d["baselines"]["grid_s"], d["baselines"]["bootstrap_s"]
    d["ratios"] = {
        "map_flat_warm/grid": d["map_flat"]["warm_s"] / grid,
        "map_partial_warm/grid": d["map_partial"]["warm_s"] / grid,
        "nuts_warm/bootstrap": d["nuts"]["warm"]["wall_s"] / bootstrap,
        "nuts_cached/bootstrap": d["nuts"]["cached"]["wall_s"] / bootstrap,
        "nuts_uncached/bootstrap": d["nuts"]["uncached"]["wall_s"] / bootstrap,
    }
    return d


def _progress(message: str) -> None:
    print(f"[bench] {message} ...", file=sys.stderr, flush=True)


def _new_result(quick: bool) -> dict[str, Any]:
    """The JSON's frame: this machine, the settings (NUTS per ``quick``), no datasets yet."""
    nuts = dict(QUICK_NUTS if quick else NUTS)
    return {
        "machine": machine_info(),
        "settings": {
            "quick": quick,
            "nuts": nuts,
            "targets": TARGETS,
            "time_is": "Fit.wall_time: build + compile + fit + checks",
        },
        "datasets": {},
    }


def _footer(result: dict[str, Any], out: Path) -> str:
    machine = result["machine"]
    return (
        f"{machine['nproc']} cores, Python {machine['python']}, "
        f"pymc {machine['versions']['pymc']}, nutpie {machine['versions']['nutpie']}; "
        f"total {result['total_s']:.0f} s; JSON: {out}"
    )


def main(argv: list[str] | None = None) -> int:
    """Run every benchmark, print the one table and write the one JSON (after each step)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--quick", action="store_true", help="2 chains x 200 draws, fewer repeats, no scaling"
    )
    parser.add_argument(
        "--out", type=Path, default=REPO / "bench-results" / "bench.json", help="the JSON file"
    )
    parser.add_argument("--max-groups", type=int, default=100, help="passed to scale.py")
    parser.add_argument(
        "--no-real", action="store_true", help="skip calibration_real.py (about two hours)"
    )
    args = parser.parse_args(argv)
    if not DATA.is_dir():
        print(f"skipped: {DATA} is absent (the shared data sits beside the repo checkout)")
        return 0
    result = _new_result(args.quick)
    t0 = time.perf_counter()
    for name in DATASETS:
        path = DATA / name
        if not path.exists():
            result["datasets"][name] = {"skipped": f"{path} is absent"}
            continue
        _progress(name)
        result["datasets"][name] = run_dataset(
            path, quick=args.quick, nuts=result["settings"]["nuts"]
        )
        atomic.write_json(args.out, result)
    _progress("law() latency")
    result["law_latency"] = bench_law_latency(2 if args.quick else 5)
    atomic.write_json(args.out, result)
    if not args.quick:
        _progress("scale (slow)")
        result["scale"] = bench_scale(args.max_groups)
    if not (args.quick or args.no_real):
        atomic.write_json(args.out, result)
        _progress("calibration on real data (slow)")
        result["calibration_real"] = bench_calibration_real()
    result["total_s"] = time.perf_counter() - t0
    result["table"] = format_table(table_rows(result))
    atomic.write_json(args.out, result)
    print(result["table"])
    real = result.get("calibration_real")
    if real and "error" not in real:
        import calibration_real

        print("\n" + calibration_real.format_result(real))
    print("\n" + _footer(result, args.out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
