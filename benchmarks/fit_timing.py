"""MAP and NUTS fit wall times (and NUTS sampling quality) in the process that runs them.

Loads one dataset and fits it ``--repeats`` times in a row with the one-form
:func:`bayeslaw.inference.fitting.fit` (seed 0, no progress bar, no convergence warnings).
For each fit it records ``wall_s``, ``Fit.wall_time`` (model build, compilation, fitting,
convergence checks; not imports), and for NUTS also the smallest bulk ESS, that per second
of ``wall_s``, divergences and the largest R-hat (:func:`common.nuts_stats`). For the
process it records ``import_s`` (importing bayeslaw, PyMC and ArviZ-stats and loading the
data), ``process_s`` (from those imports to the last fit's diagnostics) and
``peak_rss_mib`` (the process's peak resident memory, ``ru_maxrss``).

What a fit's time means depends on the process: the first fit in a fresh process compiles
everything (``cold``), later ones reuse what PyTensor already compiled (``warm``), and a
fresh process that finds an earlier one's compiled functions in ``PYTENSOR_FLAGS``'s
``base_compiledir`` and the sampler's in ``BAYESLAW_CACHE_DIR`` is ``cached``. Each run's
``cache`` says where its compiled sampler came from (``memory``, ``disk``, ``miss``;
:mod:`bayeslaw.inference.compiled`). So ``run_all.py`` runs this file in fresh processes.

    python benchmarks/fit_timing.py [--data ../shared/data/moe_by_router] [--method nuts]
        [--repeats 2] [--pooling partial] [--priors flat] [--draws 1000] [--tune 1000]
        [--chains 4] [--json PATH]
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
from pathlib import Path
from typing import Any

from common import DATA, nuts_stats, publish, text_table

RUN_COLUMNS = ("wall_s", "cache", "min_ess_bulk", "ess_bulk_per_s", "divergences", "max_r_hat")


def run(
    *,
    data: str | Path = DATA / "moe_by_router",
    method: str = "nuts",
    repeats: int = 1,
    pooling: str = "partial",
    priors: str | None = None,
    draws: int = 1000,
    tune: int = 1000,
    chains: int = 4,
) -> dict[str, Any]:
    """Fit ``data`` ``repeats`` times in this process and time each fit.

    Parameters
    ----------
    data : path
        A dataset :func:`bayeslaw.data.load_observations` reads.
    method : {"nuts", "map"}
    repeats : int
        Fits in a row, each of a freshly built model.
    pooling, priors, draws, tune, chains
        Passed to :func:`bayeslaw.inference.fitting.fit` (``priors=None``: the defaults;
        ``draws``, ``tune`` and ``chains`` matter to NUTS only).

    Returns
    -------
    dict
        ``runs``: one dict per fit, ``wall_s`` (``Fit.wall_time``) and for NUTS the keys of
        :func:`common.nuts_stats`; ``import_s``, ``process_s``, ``peak_rss_mib`` (see the
        module docstring) and ``settings`` (the arguments).
    """
    started = time.perf_counter()
    # imported here to be timed: what a fresh process pays before its first fit, including
    # arviz_stats, which the NUTS diagnostics would otherwise import after the first fit
    import arviz_stats  # noqa: F401

    from bayeslaw.data import load_observations
    from bayeslaw.inference.fitting import fit

    obs = load_observations(Path(data))
    import_s = time.perf_counter() - started
    settings: dict[str, Any] = {"method": method, "pooling": pooling, "priors": priors}
    if method == "nuts":
        settings.update(draws=draws, tune=tune, chains=chains)
    runs = []
    for _ in range(repeats):
        f = fit(obs, random_seed=0, progressbar=False, check=False, **settings)
        stats = nuts_stats(f) if method == "nuts" else {}
        runs.append({"wall_s": f.wall_time, "cache": f.record.sampling.compile.get("cache", ""),
                     **stats})  # fmt: skip
    return {
        "import_s": import_s,
        "runs": runs,
        "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "process_s": time.perf_counter() - started,
        "settings": {"data": str(data), "repeats": repeats, **settings},
    }


def format_result(result: dict[str, Any]) -> str:
    """The fits as a table, then the process's import time, total time and peak memory."""
    columns = [c for c in RUN_COLUMNS if c in result["runs"][0]] if result["runs"] else []
    rows = [(i, *(r[c] for c in columns)) for i, r in enumerate(result["runs"], start=1)]
    return (
        text_table(("fit", *columns), rows)
        + f"\nimport + data {result['import_s']:.2f} s; process {result['process_s']:.1f} s; "
        f"peak RSS {result['peak_rss_mib']:.0f} MiB"
    )


def main(argv: list[str] | None = None) -> int:
    """Parse the options, :func:`run`, print the table and optionally write the JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DATA / "moe_by_router")
    parser.add_argument("--method", choices=("nuts", "map"), default="nuts")
    parser.add_argument("--repeats", type=int, default=1, help="fits in this process")
    parser.add_argument("--pooling", choices=("partial", "none", "complete"), default="partial")
    parser.add_argument("--priors", choices=("default", "flat"), help="default: the defaults")
    parser.add_argument("--draws", type=int, default=1000)
    parser.add_argument("--tune", type=int, default=1000)
    parser.add_argument("--chains", type=int, default=4)
    parser.add_argument("--json", type=Path, help="also write the results here")
    config = vars(parser.parse_args(argv))
    out = config.pop("json")
    result = run(**config)
    return publish(result, out, format_result(result))


if __name__ == "__main__":
    sys.exit(main())
