"""law() latency against its targets: cold call in a new process <= 0.5 s, 10,000 rows <= 0.5 s.

Fits once through law() itself (BAYESLAW_HOME in a temporary directory unless --home is
given), then measures, in the same run:

- cold: a new Python process that imports bayeslaw and calls law() once on the saved fit
  (whole process wall time, interpreter start included, and the time inside the process);
- warm: law() on 10,000 random rows in a process that has already loaded the fit.

Medians of --repeats runs; the machine is shared, so quote medians.

    python benchmarks/law_latency.py [--data ../shared/data/moe_by_router] [--repeats 5]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "moe_by_router"
ROWS = 10_000

COLD = """
import time
t0 = time.perf_counter()
import bayeslaw
out = bayeslaw.law([{"num_experts": 64.0, "dense_parameter_count": 1.3e9}], "Hash")
print(time.perf_counter() - t0)
"""

WARM = """
import json, statistics, time
import numpy as np
import bayeslaw
rng = np.random.default_rng(0)
rows = [{"num_experts": float(e), "dense_parameter_count": float(n)}
        for e, n in zip(rng.choice([1, 8, 64, 512], %d), rng.uniform(1e7, 2e9, %d))]
bayeslaw.law(rows[:2], "Hash")
times = []
for _ in range(%d):
    t0 = time.perf_counter(); bayeslaw.law(rows, "Hash"); times.append(time.perf_counter() - t0)
print(json.dumps(times))
"""


def _run(code: str, env: dict[str, str]) -> str:
    return subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    ).stdout.strip()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--home", type=Path, help="BAYESLAW_HOME (default: a temp dir)")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    if not args.data.exists():
        sys.exit(f"skipped: {args.data} is absent (the shared data sits beside the repo)")
    home = args.home or Path(tempfile.mkdtemp(prefix="bayeslaw-law-"))
    env = {**os.environ, "BAYESLAW_DATA": str(args.data), "BAYESLAW_HOME": str(home)}

    t0 = time.perf_counter()
    _run(COLD, env)  # first call: fits and saves (or loads an existing fit)
    first = time.perf_counter() - t0

    cold_process, cold_inside = [], []
    for _ in range(args.repeats):
        t0 = time.perf_counter()
        cold_inside.append(float(_run(COLD, env).splitlines()[-1]))
        cold_process.append(time.perf_counter() - t0)
    warm = json.loads(_run(WARM % (ROWS, ROWS, args.repeats), env).splitlines()[-1])

    result = {
        "data": str(args.data),
        "first_call_s (fit + save, or load)": first,
        "cold_process_median_s": statistics.median(cold_process),
        "cold_import_and_call_median_s": statistics.median(cold_inside),
        "warm_10k_rows_median_s": statistics.median(warm),
        "warm_rows_per_s": ROWS / statistics.median(warm),
        "targets": {"cold_s": 0.5, "warm_10k_rows_s": 0.5},
    }
    for key, value in result.items():
        print(f"{key:40s} {value}")


if __name__ == "__main__":
    main()
