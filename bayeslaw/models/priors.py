"""Priors: explicit, scale-aware defaults, overridable by name.

Population priors live on the *link scale* of the identified coordinates of
:mod:`bayeslaw.models.anchors` (log scale for slopes and exponents). Each coordinate has a
:class:`Prior`: the population mean ``~ Normal(loc, scale)`` and the between-group standard
deviation ``~ HalfNormal(group_scale)``. Precedence is user > data > default: defaults are
computed from the data's scale (:class:`DataScale`), then user overrides are merged by name.

Default priors (``y`` the observed losses, ``x`` an input scaled by its reference):

========================  ===========================  ==========  ===============
coordinate                loc                          scale       group_scale
========================  ===========================  ==========  ===============
``L_ref`` (level)         mean(y)                      sd(y)       sd(y) / 8
``<C>_slope`` (log)       log(sd(y) / sd(log x))       1.0         0.15
exponents (log)           log(0.3)                     0.75        0.15
interactions              0                            0.1         0.025
bounded (logit)           0 (the interval's middle)    1.5         0.3
========================  ===========================  ==========  ===============

Exponents are thus positive with 95% prior mass in about (0.07, 1.3), and group-level values
may differ by roughly up to 30%. The loss floor ``L_inf`` gets a soft lower bound at 0 (a
logistic wall ``min(y) / 10`` wide): a loss cannot go below zero. There is no upper wall by
default: the data already keep the floor below the observed curve, and a wall near
``min(y)`` biased realistic floors (true 1.7, smallest loss 2.0) downwards and with them
every extrapolation. Override with ``{"L_inf": (lower, upper)}``. The noise standard deviation
of each group is ``HalfNormal(sd(y) / 2)`` (``HalfNormal(sd(log y) / 2)`` for the likelihoods
on ``log(loss)``); a Student-t likelihood adds ``nu ~ Gamma(2, 0.1)``; ``noise="scaled"`` adds
one exponent per input, ``kappa ~ HalfNormal(0.5)``: the noise sd goes as ``x**-kappa``.

``priors="flat"`` instead puts flat priors on the law's own parameters, with exponents
uniform on the point-fit predictor's bounds [0.05, 2]: its MAP is the classical least-squares
fit (for MAP only: that posterior need not be proper).

A parameter declared with bounds ``(lower, upper)`` (``law_form(..., bounds=...)``) is
sampled as the logit of its place in the interval: Normal(0, 1.5) there is close to uniform
over the interval without piling mass on its ends; under ``priors="flat"`` it is uniform on
the interval.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from typing import Any, Literal

import numpy as np

from bayeslaw.data import Observations
from bayeslaw.errors import DataError, PriorError
from bayeslaw.models.anchors import Coordinate, coordinates
from bayeslaw.models.forms import LawForm

__all__ = ["NU_PRIOR", "DataScale", "Prior", "PriorSet", "resolve_priors"]

#: Student-t degrees of freedom ``nu ~ Gamma(alpha, beta)`` (Juarez & Steel 2010): mean 20,
#: with mass on heavy tails (nu < 5) where outliers ask for them.
NU_PRIOR = {"alpha": 2.0, "beta": 0.1}

FLOOR = "L_inf"
FLOOR_SOFTNESS = 10.0  # the floor's walls are min(y) / FLOOR_SOFTNESS wide
NOISE = "noise"


@dataclass(frozen=True)
class Prior:
    """Population prior of one coordinate, on its link scale.

    Parameters
    ----------
    loc, scale : float
        The population mean is ``Normal(loc, scale)``.
    group_scale : float
        The between-group standard deviation is ``HalfNormal(group_scale)``.
    """

    loc: float
    scale: float
    group_scale: float

    def __post_init__(self) -> None:
        values = [_number(getattr(self, k), f"Prior.{k}") for k in ("loc", "scale", "group_scale")]
        if not all(math.isfinite(v) for v in values) or self.scale <= 0 or self.group_scale <= 0:
            raise PriorError(f"a Prior needs finite loc and positive scales, got {self}")


@dataclass(frozen=True)
class DataScale:
    """Summaries of the data that scale-aware defaults are computed from."""

    y_mean: float
    y_sd: float
    y_min: float
    log_input_sd: Mapping[str, float]
    log_y_sd: float = 0.0

    @classmethod
    def from_observations(cls, obs: Observations) -> DataScale:
        y = obs.y
        with np.errstate(over="ignore", invalid="ignore"):
            y_mean, y_sd = float(np.mean(y)), float(np.std(y))
        if not (math.isfinite(y_mean) and math.isfinite(y_sd)):
            raise DataError(
                f"the losses in {obs.target!r} are too large to summarise (largest "
                f"{float(np.max(y)):.3g}); a loss of a language model is of order 1-10: "
                "check the column, or rescale it"
            )
        y_sd = y_sd or 0.1 * abs(y_mean)
        log_sd = {k: float(np.std(np.log(v))) for k, v in obs.input_values().items()}
        log_y_sd = float(np.std(np.log(y))) or 0.1
        return cls(y_mean, y_sd, float(np.min(y)), log_sd, log_y_sd)

    def to_dict(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)} | {
            "log_input_sd": dict(self.log_input_sd)
        }


@dataclass(frozen=True)
class PriorSet:
    """Every prior of a model: coordinates, floor range and noise scale (or flat)."""

    kind: Literal["default", "flat"]
    coordinates: Mapping[str, Prior]
    floor: tuple[float, float | None]
    floor_width: float
    noise_scale: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "coordinates": {k: vars(v) for k, v in self.coordinates.items()},
            "floor": list(self.floor),
            "floor_width": self.floor_width,
            "noise_scale": self.noise_scale,
        }


def _default(coord: Coordinate, scale: DataScale) -> Prior:
    if coord.kind == "level":
        return Prior(scale.y_mean, scale.y_sd, scale.y_sd / 8)
    if coord.kind == "exponent":
        return Prior(math.log(0.3), 0.75, 0.15)
    if coord.kind == "interaction":
        return Prior(0.0, 0.1, 0.01)
    if coord.kind == "real":
        return Prior(0.0, 1.0, 0.2)
    if coord.kind == "bounded":
        return Prior(0.0, 1.5, 0.3)
    if coord.kind == "coefficient":
        return Prior(math.log(scale.y_sd), 2.0, 0.3)
    spread = scale.log_input_sd.get(coord.input or "", 0.0) or 1.0
    return Prior(math.log(scale.y_sd / spread), 1.0, 0.15)


def _override(base: Prior, name: str, value: Prior | Mapping[str, float]) -> Prior:
    if isinstance(value, Prior):
        return value
    if not isinstance(value, Mapping):
        raise PriorError(f"prior for {name!r} must be a Prior or a mapping, got {value!r}")
    unknown = sorted(set(value) - {"loc", "scale", "group_scale"})
    if unknown:
        raise PriorError(
            f"prior for {name!r} has unknown fields {unknown}; use loc, scale, group_scale"
        )
    return replace(base, **{k: _number(v, f"prior field {name}.{k}") for k, v in value.items()})


def _number(value: Any, what: str) -> float:
    """``float(value)`` for a real number, else :class:`PriorError` naming ``what``."""
    if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
        raise PriorError(f"{what} must be a number, got {type(value).__name__} {value!r}")
    return float(value)


def _floor_range(value: Any) -> tuple[float, float | None]:
    """An ``L_inf`` override: ``(lower, upper)`` with ``upper`` None or above ``lower``."""
    if isinstance(value, str) or not isinstance(value, tuple | list) or len(value) != 2:
        raise PriorError(f"'L_inf' takes a (lower, upper) range (upper may be None), got {value!r}")
    lower = _number(value[0], "'L_inf' lower bound")
    upper = None if value[1] is None else _number(value[1], "'L_inf' upper bound")
    if not math.isfinite(lower) or (upper is not None and not lower < upper):
        raise PriorError(f"'L_inf' range needs finite lower < upper, got {value!r}")
    return lower, upper


def resolve_priors(
    form: LawForm,
    scale: DataScale,
    priors: str | Mapping[str, Any] | None = None,
    *,
    log_noise: bool = False,
) -> PriorSet:
    """Defaults from the data's scale, with user overrides merged by name.

    Parameters
    ----------
    form : LawForm
    scale : DataScale
    priors : "default", "flat", or mapping, optional
        A mapping overrides coordinates by name (a :class:`Prior` or a partial mapping of
        ``loc``/``scale``/``group_scale``), ``"L_inf"`` by a ``(lower, upper)`` range, and
        ``"noise"`` by the HalfNormal scale of the noise standard deviation.
    log_noise : bool
        The noise is on ``log(loss)`` (log likelihoods): its default scale is
        ``sd(log y) / 2`` instead of ``sd(y) / 2``.

    Raises
    ------
    PriorError
        For an unknown name (the message lists valid ones) or an invalid value.
    """
    kind: Literal["default", "flat"] = "default"
    overrides: Mapping[str, Any] = {}
    if priors is None or priors == "default":
        pass
    elif priors == "flat":
        kind = "flat"
    elif isinstance(priors, Mapping):
        overrides = priors
    else:
        raise PriorError(f"priors must be 'default', 'flat' or a mapping, got {priors!r}")

    coords = {c.name: _default(c, scale) for c in coordinates(form)}
    floor: tuple[float, float | None] = (0.0, None)
    noise = (scale.log_y_sd if log_noise else scale.y_sd) / 2
    floor_names = (FLOOR, form.floor) if form.floor else ()
    valid = sorted({*coords, *floor_names, NOISE})
    for name, value in overrides.items():
        if name in coords:
            coords[name] = _override(coords[name], name, value)
        elif name in floor_names:
            floor = _floor_range(value)
        elif name == NOISE:
            noise = _number(value, "'noise' scale")
            if not (noise > 0 and math.isfinite(noise)):
                raise PriorError(f"'noise' scale must be positive and finite, got {value!r}")
        else:
            raise PriorError(
                f"no prior named {name!r} for form {form.name!r}; valid names: {valid}"
            )
    return PriorSet(kind, coords, floor, scale.y_min / FLOOR_SOFTNESS, noise)
