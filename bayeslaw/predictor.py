"""``law(input_data, group)``: the drop-in predictor of the SLDBench scaling-law benchmark.

The contract is the point-fit predictor's: a list of input dicts in, a list of
``{"loss_validation": float}`` out, where the value is the **posterior mean of the predicted
loss** (the mean over draws of the law, not the law at mean parameters). A group that was
not in the data gets the population-level posterior mean.

Configuration (environment variables):

``BAYESLAW_DATA``
    The dataset (default ``/app/data``, the benchmark harness's layout).
``BAYESLAW_HOME``
    Where the fit is kept (default: ``bayeslaw`` beside the dataset, e.g. ``/app/bayeslaw``).
    The fit is the directory ``$BAYESLAW_HOME/fit`` (``fit.json``, ``posterior.npz``,
    ``datatree.zarr``, and the point-fit predictor's ``params.json`` and ``explain.md``).
``BAYESLAW_FORM``
    The law form (default ``moe_additive``).
``BAYESLAW_DRAWS``, ``BAYESLAW_TUNE``, ``BAYESLAW_CHAINS``
    NUTS settings of that first fit (defaults 1000, 1000, 4).

The first call fits (NUTS, partial pooling, seed 0) and saves; later calls, in any process,
load the saved fit. Concurrent first calls are serialised by a file lock, so exactly one
process fits. A saved fit made from other data (a different dataset fingerprint) or another
form raises :class:`~bayeslaw.errors.FitArtifactError` instead of being used.

With a saved fit, this module imports neither PyMC nor ArviZ.
"""

from __future__ import annotations

import hashlib
import os
import sys
from pathlib import Path
from typing import Any

import numpy as np

from bayeslaw.errors import FitArtifactError, PredictionInputError
from bayeslaw.posterior.fit import Fit, load_fit, require_positive
from bayeslaw.posterior.storage import read_record

__all__ = ["law", "law_config"]

DEFAULT_DATA = "/app/data"
DEFAULT_FORM = "moe_additive"
TARGET = "loss_validation"
LOCK_TIMEOUT_S = 3600.0
_CACHE: dict[tuple[str, str, str], Fit] = {}


def law_config() -> dict[str, Path | str]:
    """The dataset, fit directory and form that :func:`law` uses, from the environment."""
    data = Path(os.environ.get("BAYESLAW_DATA", DEFAULT_DATA))
    home = Path(os.environ.get("BAYESLAW_HOME") or data.resolve().parent / "bayeslaw")
    form = os.environ.get("BAYESLAW_FORM", DEFAULT_FORM)
    return {"data": data, "home": home, "fit_dir": home / "fit", "form": form}


def data_fingerprint(data: Path) -> str:
    """A cheap fingerprint of a dataset path: names, sizes and mtimes of its files."""
    if not data.exists():
        raise FitArtifactError(f"BAYESLAW_DATA={data} does not exist; point it at the dataset")
    files = sorted(p for p in data.rglob("*") if p.is_file()) if data.is_dir() else [data]
    digest = hashlib.sha256()
    for p in files:
        st = p.stat()
        digest.update(f"{p.relative_to(data) if data.is_dir() else p.name}|{st.st_size}|".encode())
        digest.update(f"{st.st_mtime_ns}\n".encode())
    return digest.hexdigest()


def _fit_and_save(data: Path, fit_dir: Path, form: str, fingerprint: str) -> Fit:
    from bayeslaw.data import load_observations
    from bayeslaw.evaluation.selection import fit

    print(
        f"bayeslaw: no saved fit in {fit_dir}; fitting {form} to {data} once (NUTS)",
        file=sys.stderr,
    )
    obs = load_observations(data)
    draws, tune, chains = (
        int(os.environ.get(f"BAYESLAW_{key}") or default)
        for key, default in (("DRAWS", 1000), ("TUNE", 1000), ("CHAINS", 4))
    )
    result = fit(
        obs,
        form=form,
        pooling="partial",
        draws=draws,
        tune=tune,
        chains=chains,
        random_seed=0,
        progressbar=False,
    )
    result.record = result.record.with_fingerprint(fingerprint)
    result.save(fit_dir)
    return result


def _load_or_fit(data: Path, fit_dir: Path, form: str) -> Fit:
    from filelock import FileLock

    fingerprint = data_fingerprint(data)
    fit_dir.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(str(fit_dir.parent / ".fit.lock"), timeout=LOCK_TIMEOUT_S):
        if not (fit_dir / "fit.json").exists():
            return _fit_and_save(data, fit_dir, form, fingerprint)
    if read_record(fit_dir).provenance.data_fingerprint != fingerprint:
        raise FitArtifactError(
            f"the fit at {fit_dir} was made from other data than BAYESLAW_DATA={data}; "
            f"delete {fit_dir} to refit, or set BAYESLAW_HOME to another directory"
        )
    return load_fit(fit_dir, form=form)


def get_fit() -> Fit:
    """The fit :func:`law` predicts with (loaded once per process)."""
    cfg = law_config()
    key = (str(cfg["data"]), str(cfg["fit_dir"]), str(cfg["form"]))
    if key not in _CACHE:
        _CACHE[key] = _load_or_fit(Path(cfg["data"]), Path(cfg["fit_dir"]), str(cfg["form"]))
    return _CACHE[key]


def _input_arrays(input_data: list[dict[str, float]], names: tuple[str, ...]) -> dict[str, Any]:
    out = {}
    for name in names:
        try:
            values = np.array([row[name] for row in input_data], dtype=np.float64)
        except KeyError:
            bad = next(i for i, row in enumerate(input_data) if name not in row)
            raise PredictionInputError(
                f"input row {bad} has no {name!r}; every row needs {list(names)} "
                f"(it has {sorted(input_data[bad])})"
            ) from None
        except (TypeError, ValueError) as err:
            raise PredictionInputError(f"input {name!r} must be numeric: {err}") from None
        out[name] = require_positive(name, values)
    return out


def law(input_data: list[dict[str, float]], group: str) -> list[dict[str, float]]:
    """Posterior-mean predictions of ``loss_validation`` for ``group``.

    Parameters
    ----------
    input_data : list of dict
        Each dict holds every input of the law (e.g. ``num_experts``,
        ``dense_parameter_count``), positive numbers.
    group : str
        A group of the dataset, or any other name (population-level posterior).

    Returns
    -------
    list of dict
        ``[{"loss_validation": float}, ...]``, one per input row.

    Raises
    ------
    PredictionInputError
        A missing key or a non-positive input (the old predictor silently used 0.0).
    FitArtifactError
        A saved fit that is damaged or does not match the dataset/form.
    """
    fit = get_fit()
    x = _input_arrays(list(input_data), fit.draws.form.inputs)
    if not input_data:
        return []
    means = fit.draws.posterior_mean(x, str(group))
    return [{TARGET: float(v)} for v in means]
