"""Saving and loading fits: one self-describing directory, written atomically.

A saved fit is a directory holding

- ``fit.json``: the fit's ``info`` (form, pooling, priors, scales, groups, method, sampler
  settings, seed, data hash, package version, wall time), the artifact format version and
  the SHA-256 of every other file;
- ``posterior.npz``: the numpy draws prediction needs (read without PyMC or ArviZ);
- ``datatree.zarr``: the full ArviZ DataTree (posterior, sample stats, observed data,
  posterior predictive, log likelihood) for reports;
- ``observations.csv``: the data fitted (for reports; prediction never reads it);
- ``params.json`` and ``explain.md``: the point-fit predictor's files, now with posterior
  means *and* 90% intervals (raw units).

Everything is written into a temporary sibling directory and renamed into place, so a reader
never sees a half-written fit. A missing, truncated, corrupted or mismatched artifact raises
:class:`~bayeslaw.errors.FitArtifactError` saying how to refit.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from bayeslaw.errors import FitArtifactError
from bayeslaw.inference.posterior import PosteriorDraws
from bayeslaw.inference.result import CI_PROB, Fit

__all__ = ["FORMAT_VERSION", "load_datatree", "load_fit", "save_fit"]

FORMAT_VERSION = 1
FIT_JSON = "fit.json"
DRAWS = "posterior.npz"
TREE = "datatree.zarr"
OBSERVATIONS = "observations.csv"
PARAMS = "params.json"
EXPLAIN = "explain.md"
REFIT = "refit it (bayeslaw fit DATA --out DIR, or delete the directory and call law() again)"


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _params_payload(fit: Fit) -> dict[str, Any]:
    table = fit.params(ci_prob=CI_PROB)
    coefficients: dict[str, dict[str, float]] = {}
    intervals: dict[str, dict[str, list[float]]] = {}
    flat = table.reset_index()
    for group, name, mean, lower, upper in zip(
        flat["group"].astype(str),
        flat["parameter"].astype(str),
        flat["mean"].to_numpy(dtype=float),
        flat["lower"].to_numpy(dtype=float),
        flat["upper"].to_numpy(dtype=float),
        strict=True,
    ):
        coefficients.setdefault(group, {})[name] = float(mean)
        intervals.setdefault(group, {})[name] = [float(lower), float(upper)]
    return {
        "formula": fit.info["equation"],
        "form": fit.form_name,
        "fitted_on": fit.info["created"],
        "dataset": fit.info["data_source"],
        "estimate": "posterior mean" if fit.info["method"] == "nuts" else "MAP",
        "ci_prob": CI_PROB,
        "ci_kind": "equal-tailed",
        "coefficients": coefficients,
        "intervals": intervals,
        "reference_scales": fit.info["scales"],
    }


def _explain(fit: Fit) -> str:
    table = fit.params(ci_prob=CI_PROB).round(6).reset_index()
    lines = [
        f"# Fitted scaling law: {fit.form_name}",
        "",
        f"    {fit.info['equation']}",
        "",
        f"Fitted by {fit.info['method'].upper()} with {fit.info['pooling']} pooling, "
        f"{fit.info['likelihood']} likelihood, on {fit.info['n_observations']} rows of "
        f"{fit.info['data_source']} in {fit.wall_time:.1f} s.",
        "Coefficients are in raw input units: posterior mean, median and 90% equal-tailed "
        "interval.",
        "The `<population>` rows are the parameters of a group not in the data.",
        "",
        "| group | parameter | mean | median | 5% | 95% |",
        "|---|---|---:|---:|---:|---:|",
        *(
            f"| {r.group} | {r.parameter} | {r.mean:.6g} | {r.median:.6g} | {r.lower:.6g} "
            f"| {r.upper:.6g} |"
            for r in table.itertuples()
        ),
        "",
    ]
    return "\n".join(lines)


def _write_json(path: Path, payload: Mapping[str, Any]) -> None:
    path.write_text(json.dumps(payload, indent=2, sort_keys=True, default=str) + "\n")


def save_fit(fit: Fit, directory: str | os.PathLike[str], *, datatree: bool = True) -> Path:
    """Write ``fit`` to ``directory`` atomically (replacing an existing fit there).

    Parameters
    ----------
    fit : Fit
    directory : path
    datatree : bool
        Also write the full DataTree (needed by reports; prediction does not need it).

    Returns
    -------
    pathlib.Path
        The directory written.
    """
    target = Path(directory).resolve()
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    try:
        fit.draws.save(tmp / DRAWS)
        if fit.observations is not None:
            fit.observations.frame.to_csv(tmp / OBSERVATIONS, index=False)
        _write_json(tmp / PARAMS, _params_payload(fit))
        (tmp / EXPLAIN).write_text(_explain(fit))
        if datatree and (fit._datatree is not None or fit._path is not None):
            fit.datatree.to_zarr(tmp / TREE, mode="w", consolidated=False)
        files = {p.name: _sha256(p) for p in tmp.iterdir() if p.is_file()}
        meta = {"format_version": FORMAT_VERSION, "info": fit.info, "sha256": files}
        _write_json(tmp / FIT_JSON, meta)
        _swap_into_place(tmp, target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    fit._path = target
    return target


def _swap_into_place(tmp: Path, target: Path) -> None:
    if not target.exists():
        os.replace(tmp, target)
        return
    if not (target / FIT_JSON).exists() and any(target.iterdir()):
        raise FitArtifactError(
            f"{target} exists and is not a bayeslaw fit; choose an empty or new directory"
        )
    old = target.with_name(f".{target.name}.old.{os.getpid()}")
    os.replace(target, old)
    os.replace(tmp, target)
    shutil.rmtree(old, ignore_errors=True)


def read_fit_meta(directory: str | os.PathLike[str]) -> dict[str, Any]:
    """The parsed ``fit.json`` of a saved fit, checked for format and completeness."""
    path = Path(directory)
    meta_path = path / FIT_JSON
    if not meta_path.is_file():
        raise FitArtifactError(f"no saved fit at {path} ({FIT_JSON} missing); {REFIT}")
    try:
        meta = json.loads(meta_path.read_text())
    except (OSError, ValueError) as err:
        raise FitArtifactError(f"{meta_path} is unreadable or corrupted ({err}); {REFIT}") from err
    if meta.get("format_version") != FORMAT_VERSION:
        raise FitArtifactError(
            f"{path} has artifact format {meta.get('format_version')!r}, this bayeslaw reads "
            f"{FORMAT_VERSION}; {REFIT}"
        )
    for key in ("info", "sha256"):
        if key not in meta:
            raise FitArtifactError(f"{meta_path} lacks {key!r}; {REFIT}")
    return meta


def load_fit(
    directory: str | os.PathLike[str],
    *,
    expect: Mapping[str, Any] | None = None,
    with_observations: bool = False,
) -> Fit:
    """Load a fit saved by :func:`save_fit` (numpy only: no PyMC, no ArviZ).

    Parameters
    ----------
    directory : path
    expect : mapping, optional
        ``info`` entries the fit must have (e.g. ``{"data_hash": ..., "form": ...}``);
        a mismatch raises.
    with_observations : bool
        Also read the fitted data (needed by reports, not by prediction).

    Raises
    ------
    FitArtifactError
        Missing, truncated, corrupted (checksum) or mismatched artifacts.
    """
    path = Path(directory)
    meta = read_fit_meta(path)
    draws_path = path / DRAWS
    if not draws_path.is_file():
        raise FitArtifactError(f"{draws_path} is missing; {REFIT}")
    if _sha256(draws_path) != meta["sha256"].get(DRAWS):
        raise FitArtifactError(f"{draws_path} does not match its checksum (corrupted); {REFIT}")
    info = meta["info"]
    for key, wanted in (expect or {}).items():
        if info.get(key) != wanted:
            raise FitArtifactError(
                f"the fit at {path} has {key}={info.get(key)!r}, expected {wanted!r}; {REFIT}"
            )
    draws = PosteriorDraws.load(draws_path, info)
    observations = _load_observations(path, meta) if with_observations else None
    return Fit(info, draws, observations, _path=path if (path / TREE).exists() else None)


def _load_observations(path: Path, meta: Mapping[str, Any]) -> Any:
    import pandas as pd

    from bayeslaw.data import Observations, load_observations

    csv = path / OBSERVATIONS
    if not csv.is_file() or _sha256(csv) != meta["sha256"].get(OBSERVATIONS):
        raise FitArtifactError(f"{csv} is missing or does not match its checksum; {REFIT}")
    info = meta["info"]
    frame = pd.read_csv(csv, dtype={"group": str}, keep_default_na=False)
    obs = load_observations(frame, inputs=info["inputs"])
    return Observations(frame=obs.frame, inputs=obs.inputs, columns=obs.columns,
                        source=info["data_source"], split=None)  # fmt: skip


def load_datatree(directory: Path) -> Any:
    """The DataTree of a saved fit (imports xarray/zarr)."""
    import xarray as xr

    tree_path = Path(directory) / TREE
    if not tree_path.exists():
        raise FitArtifactError(f"{tree_path} is missing; {REFIT}")
    try:
        return xr.open_datatree(tree_path, engine="zarr", consolidated=False).load()
    except Exception as err:  # zarr raises many types for damaged stores
        raise FitArtifactError(f"{tree_path} is unreadable ({err}); {REFIT}") from err
