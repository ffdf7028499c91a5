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
    The law form. Default ``average``: the applicable forms (the MoE forms for MoE data,
    else the literature's families over ``BAYESLAW_INPUTS``) averaged by stacking on the
    held-out largest size, so a clearly better form takes nearly all the weight (the fit
    directory then holds ``average.json`` and one fit per form). Or ``auto`` (the one form
    with the best held-out extrapolation), a name (``moe_additive``,
    ``rectified(sft_data_size)``, ...) or an expression such as
    ``L_inf + B / (D_l + D**beta)``.
``BAYESLAW_INPUTS``
    Comma-separated input columns, for data other than MoE and for an expression's inputs.
``BAYESLAW_GROUPS``
    Comma-separated group columns: one (the group column), or several crossed factors
    (``model,dataset``), whose cells ``law()`` then takes as ``"gpt2 | flan"`` or as a
    tuple of levels; a level never fitted is warned about (:class:`NewLevelWarning`).
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
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from bayeslaw.errors import ConfigError, FitArtifactError, NewLevelWarning, PredictionInputError
from bayeslaw.models.registry import form_from_text
from bayeslaw.posterior.averaged import AveragedFit, is_averaged, load_averaged
from bayeslaw.posterior.fit import Fit, load_fit, require_positive
from bayeslaw.posterior.record import FitRecord
from bayeslaw.posterior.storage import FIT_JSON, read_record

__all__ = ["LawConfig", "law", "law_config"]

DEFAULT_DATA = "/app/data"
AUTO = "auto"
AVERAGE = "average"
#: What law() fits unless BAYESLAW_FORM says otherwise (see the README's calibration table:
#: the point-fit predictor's moe_additive extrapolates worst of the MoE forms).
DEFAULT_FORM = AVERAGE
TARGET = "loss_validation"
LOCK_TIMEOUT_S = 3600.0
_CACHE: dict[tuple[str, ...], Fit | AveragedFit] = {}


@dataclass(frozen=True)
class LawConfig:
    """What :func:`law` uses, from the environment (see the module docstring)."""

    data: Path
    fit_dir: Path
    form: str
    inputs: tuple[str, ...] | None
    groups: tuple[str, ...] | None = None

    def expected_form(self) -> str | None:
        """The form name a saved fit must have (None for ``auto`` and ``average``)."""
        if self.form in (AUTO, AVERAGE):
            return None
        return form_from_text(self.form, self.inputs).name


def law_config() -> LawConfig:
    """The dataset, fit directory, form and inputs that :func:`law` uses."""
    data = Path(os.environ.get("BAYESLAW_DATA", DEFAULT_DATA))
    home = Path(os.environ.get("BAYESLAW_HOME") or data.resolve().parent / "bayeslaw")
    form = os.environ.get("BAYESLAW_FORM", DEFAULT_FORM)
    names = _env_names("BAYESLAW_INPUTS")
    return LawConfig(data, home / "fit", form, names or None, _env_names("BAYESLAW_GROUPS") or None)


def _env_names(variable: str) -> tuple[str, ...]:
    """Comma-separated names from the environment (empty when unset)."""
    return tuple(n.strip() for n in os.environ.get(variable, "").split(",") if n.strip())


def data_fingerprint(data: Path) -> str:
    """A content hash of a dataset path: relative names, sizes and bytes of its files (a
    file rewritten with its size and mtime kept still changes it)."""
    if not data.exists():
        raise FitArtifactError(f"BAYESLAW_DATA={data} does not exist; point it at the dataset")
    files = sorted(p for p in data.rglob("*") if p.is_file()) if data.is_dir() else [data]
    digest = hashlib.sha256()
    for path in files:
        name = path.relative_to(data) if data.is_dir() else path.name
        digest.update(f"{name}|{path.stat().st_size}\n".encode())
        with path.open("rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                digest.update(chunk)
    return digest.hexdigest()


def _env_count(name: str, default: int) -> int:
    """A positive whole number from the environment variable ``name`` (else ``default``)."""
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        value = 0
    if value < 1:
        raise ConfigError(f"{name}={raw!r} must be a whole number >= 1 (default {default})")
    return value


def _fit_and_save(cfg: LawConfig, fingerprint: str) -> Fit | AveragedFit:
    from bayeslaw.data import load_observations
    from bayeslaw.evaluation.selection import applicable_forms, fit

    data, fit_dir = cfg.data, cfg.fit_dir
    draws, tune, chains = (
        _env_count(f"BAYESLAW_{key}", default)
        for key, default in (("DRAWS", 1000), ("TUNE", 1000), ("CHAINS", 4))
    )
    print(
        f"bayeslaw: no saved fit in {fit_dir}; fitting {cfg.form} to {data} once (NUTS)",
        file=sys.stderr,
    )
    obs = load_observations(data, inputs=cfg.inputs, groups=cfg.groups)
    settings: dict[str, Any] = {
        "pooling": "partial",
        "draws": draws,
        "tune": tune,
        "chains": chains,
        "random_seed": 0,
        "progressbar": False,
    }
    result: Fit | AveragedFit
    if cfg.form == AVERAGE:
        result = fit(obs, form=list(applicable_forms(obs)), **settings)
        components = result.fits
    else:
        form = cfg.form if cfg.form == AUTO else form_from_text(cfg.form, cfg.inputs)
        result = fit(obs, form=form, **settings)
        components = (result,)
    for component in components:
        component.record = component.record.with_fingerprint(fingerprint)
    result.save(fit_dir)
    return result


def _complete(fit_dir: Path) -> bool:
    return (fit_dir / FIT_JSON).is_file() or is_averaged(fit_dir)


def _fit_under_lock(cfg: LawConfig, fingerprint: str) -> Fit | AveragedFit | None:
    """Fit and save unless another process did while this one waited for the lock."""
    from filelock import FileLock

    fit_dir = cfg.fit_dir
    lock_path = fit_dir.parent / ".fit.lock"
    lock = FileLock(str(lock_path), timeout=LOCK_TIMEOUT_S)
    try:
        fit_dir.parent.mkdir(parents=True, exist_ok=True)
        lock.acquire()
    except OSError as err:  # a read-only home, or the lock path taken by a directory
        raise FitArtifactError(
            f"cannot take the lock {lock_path} to fit once ({type(err).__name__}: {err}); "
            "make BAYESLAW_HOME writable, or point it at a directory holding a complete fit"
        ) from err
    try:
        return None if _complete(fit_dir) else _fit_and_save(cfg, fingerprint)
    finally:
        lock.release()


def _load_or_fit(cfg: LawConfig) -> Fit | AveragedFit:
    """The saved fit of the dataset (made first if there is none). A complete fit is read
    without the lock, so a read-only home works."""
    data, fit_dir = cfg.data, cfg.fit_dir
    if fit_dir.exists() and not fit_dir.is_dir():
        raise FitArtifactError(
            f"{fit_dir} is a file, not a saved fit; remove it, or set BAYESLAW_HOME elsewhere"
        )
    fingerprint = data_fingerprint(data)
    if not _complete(fit_dir):
        made = _fit_under_lock(cfg, fingerprint)
        if made is not None:
            return made
    if is_averaged(fit_dir) != (cfg.form == AVERAGE):
        kind = "an average of forms" if is_averaged(fit_dir) else "a fit of one form"
        raise FitArtifactError(
            f"BAYESLAW_FORM={cfg.form}, but the fit at {fit_dir} is {kind}; delete {fit_dir} "
            "to refit"
        )
    averaged = load_averaged(fit_dir) if is_averaged(fit_dir) else None
    record: FitRecord = averaged.fits[0].record if averaged else read_record(fit_dir)
    if record.provenance.data_fingerprint != fingerprint:
        raise FitArtifactError(
            f"the fit at {fit_dir} was made from other data than BAYESLAW_DATA={data}; "
            f"delete {fit_dir} to refit, or set BAYESLAW_HOME to another directory"
        )
    if cfg.form == AUTO and record.form_selected_by is None:
        raise FitArtifactError(
            f"BAYESLAW_FORM=auto, but the fit at {fit_dir} is of the one form "
            f"{record.form!r}; delete {fit_dir} to refit"
        )
    if averaged is not None:
        return averaged
    return load_fit(fit_dir, form=cfg.expected_form())


def get_fit() -> Fit | AveragedFit:
    """The fit :func:`law` predicts with (loaded once per process)."""
    cfg = law_config()
    key: tuple[str, ...] = (str(cfg.data), str(cfg.fit_dir), cfg.form)
    key += (",".join(cfg.inputs or ()), ",".join(cfg.groups or ()))
    if key not in _CACHE:
        _CACHE[key] = _load_or_fit(cfg)
    return _CACHE[key]


def _number(value: Any, row: int, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
        raise PredictionInputError(
            f"input row {row} has {name}={value!r} ({type(value).__name__}); it must be a "
            "single number"
        )
    return float(value)


def _input_arrays(input_data: Any, names: tuple[str, ...]) -> dict[str, Any]:
    """One float array per input from a list of row dicts, or a clear error."""
    if isinstance(input_data, str | bytes | Mapping) or not isinstance(input_data, list | tuple):
        raise PredictionInputError(
            f"input_data must be a list of dicts, one per row, e.g. [{dict.fromkeys(names, 1.0)}]"
            f"; got {type(input_data).__name__}"
        )
    for i, row in enumerate(input_data):
        if not isinstance(row, Mapping):
            raise PredictionInputError(
                f"input row {i} is a {type(row).__name__}, not a dict of {list(names)}"
            )
        missing = [name for name in names if name not in row]
        if missing:
            raise PredictionInputError(
                f"input row {i} has no {missing[0]!r}; every row needs {list(names)} "
                f"(it has {sorted(map(str, row))})"
            )
    return {
        name: require_positive(
            name, np.array([_number(row[name], i, name) for i, row in enumerate(input_data)])
        )
        for name in names
    }


def law(input_data: list[dict[str, float]], group: str | tuple[str, ...]) -> list[dict[str, float]]:
    """Posterior-mean predictions of ``loss_validation`` for ``group``.

    Parameters
    ----------
    input_data : list of dict
        Each dict holds every input of the law (e.g. ``num_experts``,
        ``dense_parameter_count``), positive numbers.
    group : str or tuple of str
        A group of the dataset, or any other name (population-level posterior). With
        crossed factors (``BAYESLAW_GROUPS=model,dataset``) a cell, ``"gpt2 | flan"`` or
        ``("gpt2", "flan")``: a new cell of fitted levels combines their effects.

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
    if not isinstance(group, str | tuple | list):
        raise PredictionInputError(
            f"group must be a string (a group of the data, or any other name for a new "
            f"group), got {type(group).__name__} {group!r}"
        )
    fit = get_fit()
    label = fit.label(group)
    x = _input_arrays(input_data, fit.inputs)
    if not input_data:
        return []
    status = fit.group_status(label)
    if status.startswith("new level"):
        warnings.warn(
            f"group {label!r}: {status}; its effect is drawn from the factor's population",
            NewLevelWarning,
            stacklevel=2,
        )
    means = fit.posterior_mean(x, label)
    return [{TARGET: float(v)} for v in means]
