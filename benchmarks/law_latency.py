"""law() latency against its targets: cold call in a new process <= 0.5 s, 10,000 rows <= 0.5 s.

Fits once through law() itself (``BAYESLAW_HOME`` in a temporary directory unless ``--home``
is given), then measures, in the same run:

- cold: a new Python process that imports bayeslaw and calls law() once on the saved fit
  (whole process wall time, interpreter start included, and the time inside the process);
- warm: law() on 10,000 random rows in a process that has already loaded the fit;
- baseline: a new process that only imports numpy (``python -c "import numpy"``), and the
  ratio of the cold law() process to it (target <= 2x: prediction at the cost of numpy;
  the prediction path imports neither pandas nor PyMC).

Every measured call runs in a new process that does nothing else (the short programs
``COLD`` and ``WARM`` below: what a user's process runs). Medians of ``--repeats`` runs; the
machine is shared, so quote medians.

    python benchmarks/law_latency.py [--data ../shared/data/moe_by_router] [--repeats 5]
        [--home DIR] [--json PATH]
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
from typing import Any

from common import DATA, publish, text_table

ROWS = 10_000
TARGETS = {"cold_s": 0.5, "warm_10k_rows_s": 0.5, "cold_over_numpy": 2.0}

#: A user's first call in a new process; prints the seconds from before the import.
COLD = """
import time
t0 = time.perf_counter()
import bayeslaw
out = bayeslaw.law([{"num_experts": 64.0, "dense_parameter_count": 1.3e9}], "Hash")
print(time.perf_counter() - t0)
"""

#: law() on argv[1] random rows, argv[2] times after a first call; prints the times as JSON.
WARM = """
import json, sys, time
import numpy as np
import bayeslaw
n, repeats = int(sys.argv[1]), int(sys.argv[2])
rng = np.random.default_rng(0)
rows = [{"num_experts": float(e), "dense_parameter_count": float(d)}
        for e, d in zip(rng.choice([1, 8, 64, 512], n), rng.uniform(1e7, 2e9, n))]
bayeslaw.law(rows[:2], "Hash")
times = []
for _ in range(repeats):
    t0 = time.perf_counter(); bayeslaw.law(rows, "Hash"); times.append(time.perf_counter() - t0)
print(json.dumps(times))
"""


def _python(code: str, env: dict[str, str], *args: str) -> str:
    """Run ``code`` in a new interpreter; its last line of output."""
    done = subprocess.run(
        [sys.executable, "-c", code, *args], env=env, capture_output=True, text=True
    )
    if done.returncode != 0:
        raise RuntimeError(f"law() process failed:\n{done.stderr[-3000:]}")
    return done.stdout.strip().splitlines()[-1]


def _measure(data: Path, home: Path, repeats: int) -> dict[str, Any]:
    env = {**os.environ, "BAYESLAW_DATA": str(data), "BAYESLAW_HOME": str(home)}
    t0 = time.perf_counter()
    _python(COLD, env)  # first call: fits and saves (or loads an existing fit)
    first = time.perf_counter() - t0
    cold_process, cold_inside = [], []
    for _ in range(repeats):
        t0 = time.perf_counter()
        cold_inside.append(float(_python(COLD, env)))
        cold_process.append(time.perf_counter() - t0)
    warm = json.loads(_python(WARM, env, str(ROWS), str(repeats)))
    numpy_process = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        _python("import numpy; print(0)", env)
        numpy_process.append(time.perf_counter() - t0)
    return {
        "data": str(data),
        "first_call_s": first,
        "cold_process_median_s": statistics.median(cold_process),
        "cold_process_runs_s": cold_process,
        "cold_import_and_call_median_s": statistics.median(cold_inside),
        "cold_import_and_call_runs_s": cold_inside,
        "warm_10k_rows_median_s": statistics.median(warm),
        "warm_10k_rows_runs_s": warm,
        "warm_rows_per_s": ROWS / statistics.median(warm),
        "numpy_process_median_s": statistics.median(numpy_process),
        "numpy_process_runs_s": numpy_process,
        "cold_over_numpy": statistics.median(cold_process) / statistics.median(numpy_process),
        "targets": TARGETS,
    }


def run(
    *, data: str | Path = DATA / "moe_by_router", repeats: int = 5, home: str | Path | None = None
) -> dict[str, Any]:
    """Measure law()'s first call, cold calls in new processes and warm calls on 10,000 rows.

    Parameters
    ----------
    data : path
        The dataset law() fits (``BAYESLAW_DATA``).
    repeats : int
        Cold processes, and warm calls, to take the medians of.
    home : path, optional
        ``BAYESLAW_HOME``, where the fit is kept; default a temporary directory, removed
        afterwards (so the first call fits).

    Returns
    -------
    dict
        ``first_call_s``: the first process's wall time (fit and save, or load a fit in
        ``home``); ``cold_process_median_s``: a new process importing bayeslaw and calling
        law() once, wall time with interpreter start; ``cold_import_and_call_median_s``: the
        same measured inside that process; ``warm_10k_rows_median_s``: one law() call on
        10,000 rows in a process that has loaded the fit, and ``warm_rows_per_s``; the
        ``*_runs_s`` behind each median; ``data`` and ``targets``.

    Raises
    ------
    RuntimeError
        If a measured process fails (its standard error in the message).
    """
    if home is not None:
        return _measure(Path(data), Path(home), repeats)
    with tempfile.TemporaryDirectory(prefix="bayeslaw-law-") as tmp:
        return _measure(Path(data), Path(tmp), repeats)


def format_result(result: dict[str, Any]) -> str:
    """The medians against their targets."""
    rows = [
        ("first call s (fit + save, or load)", result["first_call_s"], ""),
        ("cold process s", result["cold_process_median_s"], TARGETS["cold_s"]),
        ("cold import and call s", result["cold_import_and_call_median_s"], TARGETS["cold_s"]),
        ("warm 10k rows s", result["warm_10k_rows_median_s"], TARGETS["warm_10k_rows_s"]),
        ("warm rows per s", result["warm_rows_per_s"], ""),
        ("numpy import process s", result["numpy_process_median_s"], ""),
        ("cold process / numpy import", result["cold_over_numpy"], TARGETS["cold_over_numpy"]),
    ]
    return text_table(("law() latency (medians)", "value", "target <="), rows)


def main(argv: list[str] | None = None) -> int:
    """Parse the options, :func:`run`, print the medians and optionally write the JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DATA / "moe_by_router")
    parser.add_argument("--home", type=Path, help="BAYESLAW_HOME (default: a temp dir)")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--json", type=Path, help="also write the results here")
    config = vars(parser.parse_args(argv))
    out = config.pop("json")
    if not config["data"].exists():
        print(
            f"skipped: {config['data']} is absent (the shared data sit beside the repo)",
            file=sys.stderr,
        )
        return 1
    result = run(**config)
    return publish(result, out, format_result(result))


if __name__ == "__main__":
    sys.exit(main())
