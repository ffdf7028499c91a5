"""Several fitted laws averaged: a mixture of their posterior predictive distributions.

An :class:`AveragedFit` holds fits of different law forms to the same data, with weights
that sum to 1 (stacking weights, :func:`bayeslaw.evaluation.averaging.average_forms`). Its
predictive draws are a mixture: form ``k`` contributes a share ``w_k`` of the draws,
resampled from its own posterior (seeded, so predictions repeat exactly). Intervals of a
mixture are wider where the forms disagree, which is the point: one misspecified law
trusted completely gives intervals too narrow at larger scale. Numpy only, as every
prediction.

Saved, an averaged fit is a directory holding ``average.json`` (forms, weights, every
candidate's stacking weight, and the SHA-256 of each component's ``fit.json``) and one saved
fit per form (``form_0/``, ``form_1/``, ...); :func:`load_predictor` reads either kind.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from bayeslaw import atomic
from bayeslaw.errors import FitArtifactError, PredictionInputError
from bayeslaw.posterior import storage
from bayeslaw.posterior.fit import Fit, Predicts, load_fit
from bayeslaw.posterior.predictive import PredictiveDraws

__all__ = [
    "AVERAGE_JSON",
    "AveragedFit",
    "is_averaged",
    "load_averaged",
    "load_predictor",
    "mixture_counts",
]

#: The file that marks a saved averaged fit.
AVERAGE_JSON = "average.json"
AVERAGE_FORMAT = 1


def mixture_counts(weights: Sequence[float], total: int) -> np.ndarray:
    """Draws per component: ``total * weights`` rounded by largest remainder (sums to
    ``total``)."""
    w = np.asarray(weights, dtype=float)
    exact = w / w.sum() * total
    counts = np.floor(exact).astype(int)
    short = total - int(counts.sum())
    counts[np.argsort(exact - counts)[::-1][:short]] += 1
    return counts


@dataclass(eq=False)
class AveragedFit(Predicts):
    """Fits of several law forms and their weights (see the module docstring).

    Attributes
    ----------
    fits : tuple of Fit
        One per form, fitted to the same data with the same likelihood.
    weights : tuple of float
        Non-negative, summing to 1, aligned with ``fits``.
    """

    fits: tuple[Fit, ...]
    weights: tuple[float, ...]
    #: Every candidate's stacking weight before small ones were dropped (form -> weight).
    stacking: Mapping[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.fits or len(self.fits) != len(self.weights):
            raise PredictionInputError("an averaged fit needs one weight per fit, and a fit")
        w = np.asarray(self.weights, dtype=float)
        if np.any(w < 0) or not np.isclose(w.sum(), 1.0):
            raise PredictionInputError(f"weights must be >= 0 and sum to 1, got {self.weights}")
        likelihoods = {f.draws.likelihood for f in self.fits}
        if len(likelihoods) > 1:
            raise PredictionInputError(
                f"averaged fits must share one likelihood, got {sorted(likelihoods)}"
            )

    @property
    def form_names(self) -> tuple[str, ...]:
        return tuple(f.form_name for f in self.fits)

    @property
    def inputs(self) -> tuple[str, ...]:
        names: dict[str, None] = {}
        for f in self.fits:
            names.update(dict.fromkeys(f.inputs))
        return tuple(names)

    @property
    def groups(self) -> tuple[str, ...]:
        return tuple(self.fits[0].draws.groups)

    @property
    def wall_time(self) -> float:
        """Seconds of every fit behind the average (the choice of weights excluded)."""
        return float(sum(f.wall_time for f in self.fits))

    def seed(self, group: str) -> int:
        return self.fits[0].seed(group)

    def is_seen(self, group: str) -> bool:
        return self.fits[0].is_seen(group)

    @property
    def factors(self) -> tuple[str, ...]:
        return self.fits[0].factors

    def group_status(self, group: str) -> str:
        return self.fits[0].group_status(group)

    def posterior_mean(self, inputs: Mapping[str, np.ndarray], group: str) -> np.ndarray:
        """The mixture's mean of the law at raw ``inputs``: the weighted mean of the forms'
        posterior means (exact, no resampling)."""
        return np.asarray(
            sum(
                w * f.posterior_mean(inputs, group)
                for w, f in zip(self.weights, self.fits, strict=True)
            )
        )

    def predictive(self, inputs: Mapping[str, np.ndarray], group: str) -> PredictiveDraws:
        """The mixture's predictive draws: each form's share of resampled draws."""
        parts = [f.predictive(inputs, group) for f in self.fits]
        total = max(p.n_draws for p in parts)
        counts = mixture_counts(self.weights, total)
        rng = np.random.default_rng(self.seed(group) + 3)
        n = parts[0].mean.shape[1]
        means, noises, nus = [], [], []
        for part, count in zip(parts, counts, strict=True):
            if count == 0:
                continue
            index = rng.choice(part.n_draws, size=count, replace=count > part.n_draws)
            means.append(part.mean[index])
            noises.append(np.broadcast_to(part.noise[index], (count, n)))
            if part.nu is not None:
                nus.append(part.nu[index])
        return PredictiveDraws(
            mean=np.concatenate(means),
            noise=np.concatenate(noises),
            nu=np.concatenate(nus) if nus else None,
            log_scale=parts[0].log_scale,
        )

    def save(self, directory: str | os.PathLike[str], *, datatree: bool = True) -> Path:
        """Write every component fit and ``average.json`` atomically to ``directory``."""
        target = Path(directory).resolve()
        components = [f"form_{i}" for i in range(len(self.fits))]
        try:
            with atomic.atomic_directory(target, replace_if=_replaceable) as tmp:
                for name, component in zip(components, self.fits, strict=True):
                    component.save(tmp / name, datatree=datatree)
                meta = {
                    "format": AVERAGE_FORMAT,
                    "components": components,
                    "forms": list(self.form_names),
                    "weights": list(self.weights),
                    "stacking": dict(self.stacking),
                    "fit_json_sha256": [_digest(tmp / c / storage.FIT_JSON) for c in components],
                }
                atomic.write_json(tmp / AVERAGE_JSON, meta)
        except FileExistsError as err:
            raise FitArtifactError(
                f"{target} exists and is not a bayeslaw fit; choose an empty or new directory"
            ) from err
        for name, component in zip(components, self.fits, strict=True):
            component._path = target / name
        return target


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _replaceable(path: Path) -> bool:
    """An earlier averaged fit or single fit (bayeslaw's files only) may be replaced."""
    names = {p.name for p in path.iterdir()}
    return AVERAGE_JSON in names or storage.FIT_JSON in names or names <= storage.ARTIFACTS


def load_averaged(directory: str | os.PathLike[str]) -> AveragedFit:
    """Read an averaged fit written by :meth:`AveragedFit.save` (numpy only).

    Raises
    ------
    FitArtifactError
        A missing or malformed ``average.json``, or a component that is missing, damaged
        or not the one saved (checksum).
    """
    path = Path(directory)
    try:
        meta = json.loads((path / AVERAGE_JSON).read_text(encoding="utf-8"))
        components, weights = list(meta["components"]), [float(w) for w in meta["weights"]]
        digests, forms = list(meta["fit_json_sha256"]), list(meta["forms"])
        stacking = {str(k): float(v) for k, v in meta.get("stacking", {}).items()}
    except (OSError, ValueError, KeyError, TypeError) as err:
        raise FitArtifactError(
            f"{path / AVERAGE_JSON} is missing or malformed ({err}); {storage.REFIT}"
        ) from err
    if not (len(components) == len(weights) == len(digests) == len(forms)):
        raise FitArtifactError(f"{path / AVERAGE_JSON} lists components and weights unevenly")
    fits = []
    for name, digest, form in zip(components, digests, forms, strict=True):
        fit_json = path / name / storage.FIT_JSON
        if not fit_json.is_file() or _digest(fit_json) != digest:
            raise FitArtifactError(
                f"component {path / name} is missing or not the fit saved there; {storage.REFIT}"
            )
        fits.append(load_fit(path / name, form=form))
    try:
        return AveragedFit(tuple(fits), tuple(weights), stacking)
    except PredictionInputError as err:
        raise FitArtifactError(f"{path}: {err}; {storage.REFIT}") from err


def is_averaged(directory: str | os.PathLike[str]) -> bool:
    """Whether ``directory`` holds a saved averaged fit."""
    return (Path(directory) / AVERAGE_JSON).is_file()


def load_predictor(directory: str | os.PathLike[str]) -> Fit | AveragedFit:
    """A saved fit of either kind: one form (:func:`load_fit`) or averaged."""
    return load_averaged(directory) if is_averaged(directory) else load_fit(Path(directory))
