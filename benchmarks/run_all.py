"""Every benchmark in one run, one table, one JSON file (what ``make bench`` runs).

On ``moe_by_router`` and ``sldbench_moe`` (../shared/data), in the same run:

- MAP wall time, cold (first fit in a fresh ``python -c`` process, compilation included)
  and warm (later fits in that process; median), for default priors with partial pooling
  and for ``priors="flat", pooling="none"`` (the classical point fit);
- NUTS (4 chains x 1000 draws, 1000 tuning) in a fresh process with an empty PyTensor
  compile directory (``uncached``), again in the same process (``warm``), and in a second
  fresh process that finds the first one's compiled functions on disk (``cached``: the
  cross-process compile cache): wall time, smallest bulk ESS per second of wall time,
  divergences, largest R-hat, and the process's peak resident memory (``ru_maxrss``);
- the classical baselines of benchmarks/baselines.py on every group: the 40 x 40 grid and a
  200-refit bootstrap, with the ratios bayeslaw / baseline;
- law() latency (benchmarks/law_latency.py, run as a subprocess);
- cost against the number of groups (benchmarks/scale.py, last; skipped by ``--quick``).

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
from importlib import metadata
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
DATA = REPO.parent / "shared" / "data"
DATASETS = ("moe_by_router", "sldbench_moe")
TARGETS = {"nuts_cold_s": 20.0, "nuts_cached_s": 8.0, "map_warm_s": 1.0, "scale_100_s": 300.0}

WORKER = """
import json, resource, sys, time
t0 = time.perf_counter()
from pathlib import Path
import arviz_stats
from bayeslaw.data import load_observations
from bayeslaw.inference.fitting import fit
cfg = json.loads(sys.argv[1])
obs = load_observations(Path(cfg.pop("data")))
repeats = cfg.pop("repeats")
import_s = time.perf_counter() - t0
runs = []
for _ in range(repeats):
    f = fit(obs, random_seed=0, progressbar=False, check=False, **cfg)
    run = {"wall_s": f.wall_time}
    if cfg["method"] == "nuts":
        s = arviz_stats.summary(f.datatree, kind="diagnostics", round_to="none")
        run["min_ess_bulk"] = float(s["ess_bulk"].min())
        run["max_r_hat"] = float(s["r_hat"].max())
        run["divergences"] = int(f.datatree["sample_stats"]["diverging"].sum())
        run["ess_bulk_per_s"] = run["min_ess_bulk"] / f.wall_time
    runs.append(run)
rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"import_s": import_s, "runs": runs, "peak_rss_mib": rss,
                  "process_s": time.perf_counter() - t0}))
"""

BASELINES = """
import json, sys, time
from pathlib import Path
sys.path.insert(0, sys.argv[2])
from baselines import bootstrap_fit, grid_fit
from bayeslaw.data import load_observations
obs = load_observations(Path(sys.argv[1]))
cols = ("dense_parameter_count", "num_experts", "loss_validation")
groups = [[obs.frame.loc[obs.frame["group"] == g, c].to_numpy() for c in cols]
          for g in obs.groups]
out = {"n_groups": len(groups)}
for name, fn in (("grid", grid_fit), ("bootstrap", bootstrap_fit)):
    times = []
    for _ in range(int(sys.argv[3]) if name == "grid" else 1):
        t0 = time.perf_counter()
        for n, e, y in groups:
            fn(n, e, y)
        times.append(time.perf_counter() - t0)
    out[name + "_s"] = sorted(times)[len(times) // 2]
print(json.dumps(out))
"""


def _python(
    code: str, *args: str, timeout: float | None = None, env: dict[str, str] | None = None
) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, "-c", code, *args],
        capture_output=True, text=True, timeout=timeout, cwd=REPO, env=env,
    )  # fmt: skip
    if done.returncode != 0:
        raise RuntimeError(f"benchmark subprocess failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


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
        names = [ln.split(":", 1)[1].strip() for ln in cpuinfo.read_text().splitlines()
                 if ln.startswith("model name")]  # fmt: skip
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
    cfg: dict[str, Any] = {"data": str(path), "method": "map"}
    cfg.update({"priors": "flat", "pooling": "none"} if flat else {"pooling": "partial"})
    first = _python(WORKER, json.dumps({**cfg, "repeats": 1 + warm_repeats}))
    cold = [first["runs"][0]["wall_s"]]
    for _ in range(cold_repeats - 1):
        cold.append(_python(WORKER, json.dumps({**cfg, "repeats": 1}))["runs"][0]["wall_s"])
    warm = [r["wall_s"] for r in first["runs"][1:]]
    return {
        "cold_s": statistics.median(cold),
        "cold_runs_s": cold,
        "warm_s": statistics.median(warm),
        "warm_runs_s": warm,
        "import_s": first["import_s"],
    }


def bench_nuts(path: Path, *, draws: int, tune: int, chains: int) -> dict:
    """NUTS in fresh processes sharing a new, empty PyTensor compile directory.

    - ``uncached``: the first fit of the first process (nothing compiled on disk yet);
    - ``warm``: the second fit in that process (same data, a freshly built model);
    - ``cached``: the first fit of a second fresh process, which finds the first one's
      numba-compiled functions in the compile directory (PyTensor's on-disk cache).
    """
    cfg = {"data": str(path), "method": "nuts", "draws": draws, "tune": tune,
           "chains": chains}  # fmt: skip
    with tempfile.TemporaryDirectory(prefix="bayeslaw-compiledir-") as compiledir:
        env = {**os.environ, "PYTENSOR_FLAGS": f"base_compiledir={compiledir}"}
        first = _python(WORKER, json.dumps({**cfg, "repeats": 2}), env=env)
        second = _python(WORKER, json.dumps({**cfg, "repeats": 1}), env=env)
    uncached, warm = first["runs"]
    return {"uncached": uncached, "warm": warm, "cached": second["runs"][0],
            "peak_rss_mib": first["peak_rss_mib"], "import_s": first["import_s"],
            "settings": cfg}  # fmt: skip


def bench_baselines(path: Path, *, repeats: int) -> dict:
    """Grid (median of repeats) and 200-refit bootstrap times, summed over all groups."""
    return _python(BASELINES, str(path), str(HERE), str(repeats))


def bench_law_latency(repeats: int) -> dict:
    """Run benchmarks/law_latency.py and parse its ``key value`` lines."""
    done = subprocess.run(
        [sys.executable, str(HERE / "law_latency.py"), "--repeats", str(repeats)],
        capture_output=True, text=True, cwd=REPO,
    )  # fmt: skip
    out: dict[str, Any] = {"returncode": done.returncode, "stdout": done.stdout}
    if done.returncode != 0:
        out["error"] = (done.stderr or done.stdout)[-2000:]
        return out
    for line in done.stdout.splitlines():
        key, value = line[:40].strip(), line[41:].strip()
        try:
            out[key] = float(value)
        except ValueError:
            out[key] = value
    return out


def bench_scale(max_groups: int) -> dict:
    """Run benchmarks/scale.py in a subprocess and read its JSON."""
    with tempfile.TemporaryDirectory() as tmp:
        target = Path(tmp) / "scale.json"
        done = subprocess.run(
            [sys.executable, str(HERE / "scale.py"), "--max-groups", str(max_groups),
             "--json", str(target)],
            capture_output=True, text=True, cwd=REPO,
        )  # fmt: skip
        if done.returncode != 0 or not target.exists():
            return {"error": (done.stderr or done.stdout)[-2000:]}
        return json.loads(target.read_text())


def write_json(result: dict, out: Path) -> None:
    """Atomic write (:func:`bayeslaw.atomic.write_json`)."""
    from bayeslaw import atomic

    atomic.write_json(out, result)


def _ok(value: float | None, target: float, quick: bool) -> str:
    if value is None or quick:
        return ""
    return "yes" if value <= target else "NO"


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.3g}" if abs(value) < 1000 else f"{value:.0f}"
    return str(value)


def table_rows(result: dict) -> list[tuple[str, str, Any, str, str]]:
    """(benchmark, dataset, value, target, met) rows of the one printed table."""
    quick = result["settings"]["quick"]
    rows: list[tuple[str, str, Any, str, str]] = []
    for name, d in result["datasets"].items():
        if "skipped" in d:
            rows.append(("dataset", name, d["skipped"], "", ""))
            continue
        main = name == "moe_by_router"
        for key, label in (("map_partial", "MAP default priors, partial"),
                           ("map_flat", "MAP flat priors, no pooling")):  # fmt: skip
            m = d[key]
            rows.append((f"{label}: cold s", name, m["cold_s"], "", ""))
            target = TARGETS["map_warm_s"]
            rows.append((f"{label}: warm s", name, m["warm_s"], f"<= {target:g}",
                         _ok(m["warm_s"], target, quick)))  # fmt: skip
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
        b = d["baselines"]
        rows.append((f"grid 40x40 s ({b['n_groups']} groups)", name, b["grid_s"], "", ""))
        rows.append(("bootstrap 200 refits s", name, b["bootstrap_s"], "", ""))
        rows.append(("ratio MAP flat warm / grid", name, d["ratios"]["map_flat_warm/grid"], "", ""))
        for key in ("nuts_cached/bootstrap", "nuts_warm/bootstrap"):
            rows.append((f"ratio {key}", name, d["ratios"][key], "", ""))
    law = result.get("law_latency", {})
    if "error" in law:
        rows.append(("law() latency", "moe_by_router", "failed: see JSON", "", ""))
    for key, target in (("cold_process_median_s", 0.5), ("cold_import_and_call_median_s", 0.5),
                        ("warm_10k_rows_median_s", 0.5)):  # fmt: skip
        if key in law:
            rows.append((f"law() {key}", "moe_by_router", law[key], f"<= {target:g}",
                         _ok(law[key], target, False)))  # fmt: skip
    scale = result.get("scale")
    if isinstance(scale, dict):
        if "error" in scale:
            rows.append(("scale", "simulated", "failed: see JSON", "", ""))
        for p in scale.get("points", []):
            tgt = TARGETS["scale_100_s"] if p["n_groups"] == 100 else None
            rows.append(
                (
                    f"scale G={p['n_groups']}: NUTS wall s",
                    "simulated",
                    p["wall_s"],
                    f"<= {tgt:g}" if tgt else "",
                    _ok(p["wall_s"], tgt, False) if tgt else "",
                )
            )
            rows.append((f"scale G={p['n_groups']}: min bulk ESS/s", "simulated",
                         p["ess_bulk_per_s"], "", ""))  # fmt: skip
        if "verdict" in scale:
            rows.append(("scale verdict", "simulated", scale["verdict"], "", ""))
    return rows


def format_table(rows: list[tuple[str, str, Any, str, str]]) -> str:
    """Plain-text table with aligned columns."""
    header = ("benchmark", "dataset", "value", "target", "met")
    cells = [header] + [(a, b, _fmt(c), d, e) for a, b, c, d, e in rows]
    widths = [max(len(str(r[i])) for r in cells) for i in range(5)]
    lines = ["  ".join(str(c).ljust(w) for c, w in zip(r, widths, strict=True)) for r in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(line.rstrip() for line in lines)


def run_dataset(path: Path, args: argparse.Namespace, nuts: dict[str, int]) -> dict:
    cold_repeats, warm_repeats = (1, 2) if args.quick else (3, 5)
    d: dict[str, Any] = {}
    d["map_partial"] = bench_map(path, flat=False, cold_repeats=cold_repeats,
                                 warm_repeats=warm_repeats)  # fmt: skip
    d["map_flat"] = bench_map(path, flat=True, cold_repeats=cold_repeats,
                              warm_repeats=warm_repeats)  # fmt: skip
    d["nuts"] = bench_nuts(path, **nuts)
    d["baselines"] = bench_baselines(path, repeats=3)
    d["ratios"] = {
        "map_flat_warm/grid": d["map_flat"]["warm_s"] / d["baselines"]["grid_s"],
        "map_partial_warm/grid": d["map_partial"]["warm_s"] / d["baselines"]["grid_s"],
        "nuts_warm/bootstrap": d["nuts"]["warm"]["wall_s"] / d["baselines"]["bootstrap_s"],
        "nuts_cached/bootstrap": d["nuts"]["cached"]["wall_s"] / d["baselines"]["bootstrap_s"],
        "nuts_uncached/bootstrap": d["nuts"]["uncached"]["wall_s"] / d["baselines"]["bootstrap_s"],
    }
    return d


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--quick", action="store_true", help="2 chains x 200 draws, fewer repeats, no scaling"
    )
    parser.add_argument("--out", type=Path, default=REPO / "bench-results" / "bench.json")
    parser.add_argument("--max-groups", type=int, default=100, help="passed to scale.py")
    args = parser.parse_args(argv)
    if not DATA.is_dir():
        print(f"skipped: {DATA} is absent (the shared data sits beside the repo checkout)")
        return 0
    nuts = {"draws": 200, "tune": 200, "chains": 2} if args.quick else \
        {"draws": 1000, "tune": 1000, "chains": 4}  # fmt: skip
    result: dict[str, Any] = {
        "machine": machine_info(),
        "settings": {"quick": args.quick, "nuts": nuts, "targets": TARGETS,
                     "time_is": "Fit.wall_time: build + compile + fit + checks"},
        "datasets": {},
    }  # fmt: skip
    t0 = time.perf_counter()
    for name in DATASETS:
        path = DATA / name
        if not path.exists():
            result["datasets"][name] = {"skipped": f"{path} is absent"}
            continue
        print(f"[bench] {name} ...", file=sys.stderr, flush=True)
        result["datasets"][name] = run_dataset(path, args, nuts)
        write_json(result, args.out)
    print("[bench] law() latency ...", file=sys.stderr, flush=True)
    result["law_latency"] = bench_law_latency(2 if args.quick else 5)
    write_json(result, args.out)
    if not args.quick:
        print("[bench] scale (slow) ...", file=sys.stderr, flush=True)
        result["scale"] = bench_scale(args.max_groups)
    result["total_s"] = time.perf_counter() - t0
    table = format_table(table_rows(result))
    result["table"] = table
    write_json(result, args.out)
    print(table)
    print(f"\n{result['machine']['nproc']} cores, Python {result['machine']['python']}, "
          f"pymc {result['machine']['versions']['pymc']}, "
          f"nutpie {result['machine']['versions']['nutpie']}; "
          f"total {result['total_s']:.0f} s; JSON: {args.out}")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
