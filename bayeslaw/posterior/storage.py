"""The saved-fit directory: its files, written atomically, and read back checked.

A saved fit is a directory holding

- ``fit.json``: the :class:`~bayeslaw.posterior.record.FitRecord` (format
  :data:`~bayeslaw.posterior.record.FORMAT_VERSION`: form, pooling, priors, scales, groups,
  method, sampler settings, seed, data hash, versions, wall time) and the SHA-256 of every
  other file;
- ``posterior.npz``: the numpy draws prediction needs (read without PyMC or ArviZ);
- ``datatree.zarr``: the full ArviZ DataTree (posterior, sample stats, observed data,
  posterior predictive, log likelihood) for reports;
- ``observations.csv``: the data fitted (for reports; prediction never reads it);
- ``params.json`` and ``explain.md``: the point-fit predictor's files, now with posterior
  means *and* 90% intervals (raw units).

The directory is built in a temporary sibling and swapped into place
(:func:`bayeslaw.atomic.atomic_directory`), so a reader never sees a half-written fit. A
missing, truncated, corrupted or mismatched artifact raises
:class:`~bayeslaw.errors.FitArtifactError` saying how to refit. This module knows files and
records, not :class:`~bayeslaw.posterior.fit.Fit` (which saves and loads through it).
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from bayeslaw import atomic
from bayeslaw.errors import FitArtifactError
from bayeslaw.posterior.draws import PosteriorDraws
from bayeslaw.posterior.record import FitRecord

__all__ = [
    "REFIT",
    "read_datatree",
    "read_draws",
    "read_observations_frame",
    "read_record",
    "write_fit_directory",
]

FIT_JSON = "fit.json"
DRAWS = "posterior.npz"
TREE = "datatree.zarr"
OBSERVATIONS = "observations.csv"
PARAMS = "params.json"
EXPLAIN = "explain.md"
RECORD_SHA256 = "record_sha256"
REFIT = "refit it (bayeslaw fit DATA --out DIR, or delete the directory and call law() again)"


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


#: Every file a saved fit holds.
ARTIFACTS = frozenset({FIT_JSON, DRAWS, TREE, OBSERVATIONS, PARAMS, EXPLAIN})


def _is_fit_directory(path: Path) -> bool:
    """A saved fit, whole or damaged (only bayeslaw's files in it): safe to replace."""
    return (path / FIT_JSON).exists() or {p.name for p in path.iterdir()} <= ARTIFACTS


def _record_digest(meta: Mapping[str, Any]) -> str:
    """SHA-256 of ``fit.json``'s content other than this digest (canonical JSON)."""
    body = {k: v for k, v in meta.items() if k != RECORD_SHA256}
    return hashlib.sha256(json.dumps(body, sort_keys=True, default=str).encode()).hexdigest()


def write_fit_directory(
    directory: str | os.PathLike[str],
    *,
    record: FitRecord,
    draws: PosteriorDraws,
    observations: Any = None,
    datatree: Any = None,
    params: Mapping[str, Any],
    explain: str,
) -> Path:
    """Write a saved fit atomically (replacing an earlier fit there, never other files).

    Parameters
    ----------
    record, draws
        The fit's record and numpy draws.
    observations : pandas.DataFrame, optional
        The canonical frame of the data fitted.
    datatree : xarray.DataTree, optional
        The full DataTree (reports need it; prediction does not).
    params, explain
        The point-fit predictor's ``params.json`` payload and ``explain.md`` text.

    Returns
    -------
    pathlib.Path
        The directory written (resolved).
    """
    target = Path(directory).resolve()
    try:
        with atomic.atomic_directory(target, replace_if=_is_fit_directory) as tmp:
            draws.save(tmp / DRAWS)
            if observations is not None:
                observations.to_csv(tmp / OBSERVATIONS, index=False)
            atomic.write_json(tmp / PARAMS, dict(params))
            atomic.write_text(tmp / EXPLAIN, explain)
            if datatree is not None:
                datatree.to_zarr(tmp / TREE, mode="w", consolidated=False)
            files = {p.name: _sha256(p) for p in tmp.iterdir() if p.is_file()}
            meta = {**record.to_dict(), "sha256": files}
            meta[RECORD_SHA256] = _record_digest(json.loads(json.dumps(meta, default=str)))
            atomic.write_json(tmp / FIT_JSON, meta)
    except FileExistsError as err:
        raise FitArtifactError(
            f"{target} exists and is not a bayeslaw fit; choose an empty or new directory"
        ) from err
    return target


def _read_meta(path: Path) -> dict[str, Any]:
    meta_path = path / FIT_JSON
    if not meta_path.is_file():
        raise FitArtifactError(f"no saved fit at {path} ({FIT_JSON} missing); {REFIT}")
    try:
        meta = json.loads(meta_path.read_text())
    except (OSError, ValueError) as err:
        raise FitArtifactError(f"{meta_path} is unreadable or corrupted ({err}); {REFIT}") from err
    if not isinstance(meta, dict) or not isinstance(meta.get("sha256"), dict):
        raise FitArtifactError(f"{meta_path} lacks the files' checksums ('sha256'); {REFIT}")
    # format 1 (bayeslaw 0.1) had no checksum of its own; format 2 must carry one
    if meta.get("format_version") != 1 and meta.get(RECORD_SHA256) != _record_digest(meta):
        raise FitArtifactError(
            f"{meta_path} does not match its own checksum: it was edited or damaged; {REFIT}"
        )
    return meta


def read_record(directory: str | os.PathLike[str]) -> FitRecord:
    """The :class:`FitRecord` of a saved fit (format 1 and 2 read)."""
    path = Path(directory)
    meta = _read_meta(path)
    try:
        return FitRecord.from_dict(meta)
    except FitArtifactError as err:
        raise FitArtifactError(f"{path / FIT_JSON}: {err}; {REFIT}") from err


def _checked(path: Path, name: str) -> Path:
    file = path / name
    if not file.is_file():
        raise FitArtifactError(f"{file} is missing; {REFIT}")
    if _sha256(file) != _read_meta(path)["sha256"].get(name):
        raise FitArtifactError(f"{file} does not match its checksum (corrupted); {REFIT}")
    return file


def read_draws(directory: str | os.PathLike[str], record: FitRecord) -> PosteriorDraws:
    """The numpy posterior draws of a saved fit, checked against their checksum."""
    m = record.model
    return PosteriorDraws.load(
        _checked(Path(directory), DRAWS),
        form_name=m.form,
        scales=m.scales,
        groups=m.groups,
        pooling=m.pooling,
        likelihood=m.likelihood,
        levels={f: tuple(m.levels[f]) for f in m.factors if f in m.levels},
    )


def read_observations_frame(
    directory: str | os.PathLike[str], text_columns: tuple[str, ...] = ()
) -> Any:
    """The canonical frame of the data fitted (pandas), checked against its checksum;
    ``group`` and ``text_columns`` (crossed factors) are read as text, as written."""
    import pandas as pd

    csv = _checked(Path(directory), OBSERVATIONS)
    dtypes = dict.fromkeys(("group", *text_columns), str)
    return pd.read_csv(csv, dtype=dtypes, keep_default_na=False)


def has_datatree(directory: str | os.PathLike[str]) -> bool:
    return (Path(directory) / TREE).exists()


def read_datatree(directory: str | os.PathLike[str]) -> Any:
    """The DataTree of a saved fit (imports xarray and zarr)."""
    import xarray as xr

    tree_path = Path(directory) / TREE
    if not tree_path.exists():
        raise FitArtifactError(f"{tree_path} is missing; {REFIT}")
    try:
        return xr.open_datatree(tree_path, engine="zarr", consolidated=False).load()
    except Exception as err:  # zarr raises many types for damaged stores
        raise FitArtifactError(f"{tree_path} is unreadable ({err}); {REFIT}") from err
