"""Posterior draws as plain numpy arrays: everything prediction needs, nothing of PyMC.

A :class:`PosteriorDraws` holds, per draw, the law's parameters for every fitted group
(scaled units), the noise standard deviations, and for partial pooling the population
mean and spread of every identified coordinate. A group that was not fitted gets, in every
draw, new coordinates drawn from that draw's population distribution (so its intervals carry
the between-group uncertainty); its noise is that of a seen group picked at random per draw.

With crossed factors (model x dataset) a group is a *cell*, labelled by its levels
(:mod:`bayeslaw.groups`). A new cell of known levels combines, per draw, the population
mean, its levels' effects and a new cell offset; a level never fitted draws its effect
from that factor's population. :meth:`PosteriorDraws.group_status` says which happened.
"""

from __future__ import annotations

import zlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from bayeslaw.errors import FitArtifactError, PredictionInputError
from bayeslaw.groups import split_label
from bayeslaw.models.anchors import coordinates, inverse_link, to_law_params
from bayeslaw.models.forms import LawForm
from bayeslaw.models.likelihoods import HEAVY_TAILED, LOG_LIKELIHOODS
from bayeslaw.models.registry import get_form
from bayeslaw.posterior.predictive import PredictiveDraws

__all__ = ["MIN_UNSEEN_SAMPLES", "UNSEEN_SEED", "PosteriorDraws", "group_seed"]

#: Fewest samples behind an unseen group's prediction (posterior draws x simulated groups).
MIN_UNSEEN_SAMPLES = 4000


#: The seed of every unseen group's simulated draws: a new group's prediction must not
#: depend on the name it is given.
UNSEEN_SEED = 20_240_601


def group_seed(group: str) -> int:
    """A stable seed per group name, so predictions with noise are reproducible."""
    return zlib.crc32(group.encode("utf-8"))


@dataclass(frozen=True, eq=False)
class PosteriorDraws:
    """Flattened posterior draws (``S`` draws, ``G`` groups).

    Attributes
    ----------
    form_name : str
    scales : dict
        Reference scale of each input.
    groups : tuple of str
    pooling : str
    theta : dict
        Law parameter -> array ``(S, G)`` in scaled units.
    noise : numpy.ndarray
        ``(S, G)`` observation noise standard deviations.
    nu : numpy.ndarray or None
        ``(S,)`` Student-t degrees of freedom, None for a Normal likelihood.
    population : dict or None
        Coordinate -> ``(mu, sigma)`` arrays ``(S,)`` on the link scale (partial pooling).
    likelihood : str
        ``"normal"``, ``"student_t"``, ``"lognormal"`` or ``"student_t_log"`` (the last two
        have errors on ``log(loss)``).
    kappa : dict or None
        Input -> ``(S,)`` noise exponents (``noise="scaled"``: the sd at scaled inputs
        ``x`` is ``noise * prod_k x_k**(-kappa_k)``); None for constant noise.
    levels : dict
        Crossed factor -> its fitted levels, in the factors' order (empty: one group column).
    effects : dict or None
        Crossed factors: coordinate -> factor -> ``(effects (S, L), spread (S,))`` on the
        link scale, the spread being what a new level's effect is drawn with;
        ``population`` then holds the grand mean and a new cell's spread.
    products : dict or None
        A multiplicative interaction of two crossed factors: coordinate -> factor ->
        ``(loadings (S, L), spread (S,))``; the cell's term is the product of its two
        levels' loadings (a level never fitted draws its loading with the spread).
    """

    form_name: str
    scales: Mapping[str, float]
    groups: tuple[str, ...]
    pooling: str
    theta: Mapping[str, np.ndarray]
    noise: np.ndarray
    nu: np.ndarray | None = None
    population: Mapping[str, tuple[np.ndarray, np.ndarray]] | None = None
    likelihood: str = "normal"
    kappa: Mapping[str, np.ndarray] | None = None
    levels: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    effects: Mapping[str, Mapping[str, tuple[np.ndarray, np.ndarray]]] | None = None
    products: Mapping[str, Mapping[str, tuple[np.ndarray, np.ndarray]]] | None = None

    @property
    def factors(self) -> tuple[str, ...]:
        return tuple(self.levels)

    def group_status(self, group: str) -> str:
        """``"fitted"``, ``"new group"``, or for crossed factors ``"new cell"`` (every level
        fitted) or ``"new level: model='x'"`` naming each level never fitted."""
        if group in self.groups:
            return "fitted"
        if not self.factors or self.pooling != "partial":
            return "new group"
        cell = split_label(group, self.factors)
        new = [
            f"{f}={lv!r}"
            for f, lv in zip(self.factors, cell, strict=True)
            if lv not in self.levels[f]
        ]
        return f"new level: {', '.join(new)}" if new else "new cell"

    @property
    def log_scale(self) -> bool:
        """Whether errors are on ``log(loss)`` (the law is then the median loss)."""
        return self.likelihood in LOG_LIKELIHOODS

    @property
    def form(self) -> LawForm:
        return get_form(self.form_name)

    @property
    def n_draws(self) -> int:
        return int(self.noise.shape[0])

    def is_seen(self, group: str) -> bool:
        return group in self.groups

    def seed(self, group: str) -> int:
        """The seed of ``group``'s simulated draws: by name for a fitted group, one shared
        :data:`UNSEEN_SEED` for every other (so a new group's name changes nothing)."""
        return group_seed(group) if group in self.groups else UNSEEN_SEED

    def group_theta(self, group: str) -> dict[str, np.ndarray]:
        """Law parameters ``(S,)`` of ``group``, seen or not (scaled units)."""
        if group in self.groups:
            g = self.groups.index(group)
            return {k: v[:, g] for k, v in self.theta.items()}
        if self.pooling == "complete":
            return {k: v[:, 0] for k, v in self.theta.items()}
        if self.population is None:
            raise PredictionInputError(
                f"group {group!r} was not fitted and pooling={self.pooling!r} has no population "
                f"level; known groups: {sorted(self.groups)}. Refit with pooling='partial' to "
                "predict new groups"
            )
        cell = split_label(group, self.factors) if self.effects is not None else ()
        return self._new_group_theta(cell, self.seed(group))

    def population_theta(self) -> dict[str, np.ndarray]:
        """Law parameters of a new group drawn from the population (with crossed factors,
        a new cell all of whose levels are new)."""
        if self.population is None:
            raise PredictionInputError(f"pooling={self.pooling!r} has no population level")
        return self._new_group_theta((None,) * len(self.factors), UNSEEN_SEED)

    def _new_group_theta(self, cell: tuple[str | None, ...], seed: int) -> dict[str, np.ndarray]:
        """A new group's parameters per draw: the population mean, plus for each crossed
        factor the fitted effect of its level (a new level, or None: drawn), plus the
        product of its levels' loadings (a multiplicative interaction), plus a new group's
        (cell's) offset."""
        assert self.population is not None
        coords = coordinates(self.form)
        missing = [c.name for c in coords if c.name not in self.population]
        if missing:
            raise PredictionInputError(
                f"this fit's population level is in coordinates {sorted(self.population)}, "
                f"but {self.form_name!r} is now sampled in {[c.name for c in coords]} "
                f"(missing {missing}): it was saved by an older bayeslaw. Its fitted groups "
                "still predict; refit it to predict a new group"
            )
        rng = np.random.default_rng(seed)
        reps = self.unseen_replicates
        values = {}
        for coord in coords:
            mu, sigma = (np.tile(v, reps) for v in self.population[coord.name])
            u = mu + sigma * rng.standard_normal(mu.shape)
            for factor, level in zip(self.factors, cell, strict=True):
                effect, scale = self.effects[coord.name][factor]  # type: ignore[index]
                if level in self.levels[factor]:
                    u = u + np.tile(effect[:, self.levels[factor].index(level)], reps)
                else:
                    u = u + np.tile(scale, reps) * rng.standard_normal(mu.shape)
            if self.products is not None and coord.name in self.products:
                u = u + self._product(self.products[coord.name], cell, rng, reps)
            values[coord.name] = inverse_link(coord, u)
        return to_law_params(self.form, values)

    def _product(
        self,
        loadings: Mapping[str, tuple[np.ndarray, np.ndarray]],
        cell: tuple[str | None, ...],
        rng: np.random.Generator,
        reps: int,
    ) -> np.ndarray:
        """A new cell's multiplicative term per simulated draw: the product of its levels'
        loadings, a level never fitted drawing its loading with its spread."""
        term = np.ones(self.n_draws * reps)
        level_of = dict(zip(self.factors, cell, strict=True))
        for factor, (loading, spread) in loadings.items():
            level = level_of[factor]
            if level in self.levels[factor]:
                term = term * np.tile(loading[:, self.levels[factor].index(level)], reps)
            else:
                term = term * np.tile(spread, reps) * rng.standard_normal(term.shape)
        return term

    @property
    def unseen_replicates(self) -> int:
        """New groups simulated per posterior draw for an unseen group (>= 1), so that
        at least :data:`MIN_UNSEEN_SAMPLES` samples carry the between-group spread."""
        if self.population is None:
            return 1
        return max(1, -(-MIN_UNSEEN_SAMPLES // self.n_draws))

    def group_noise(self, group: str) -> np.ndarray:
        """Noise standard deviation of ``group``, aligned with :meth:`group_theta`'s draws
        (for an unseen group: a random seen group's noise per draw)."""
        if group in self.groups:
            return self.noise[:, self.groups.index(group)]
        noise = np.tile(self.noise, (self.unseen_replicates, 1))
        rng = np.random.default_rng(self.seed(group) + 1)
        pick = rng.integers(0, len(self.groups), size=noise.shape[0])
        return noise[np.arange(noise.shape[0]), pick]

    def group_nu(self, group: str) -> np.ndarray | None:
        """Student-t ``nu`` aligned with :meth:`group_theta`'s draws (None for Normal noise);
        an unseen group's draws are tiled, and so is ``nu``."""
        if self.nu is None:
            return None
        return self._aligned(self.nu, group)

    def _aligned(self, values: np.ndarray, group: str) -> np.ndarray:
        """Per-draw ``values`` ``(S,)`` tiled as an unseen group's simulated draws are."""
        reps = 1 if group in self.groups else self.unseen_replicates
        return np.resize(values, self.n_draws * reps)

    def noise_draws(self, inputs: Mapping[str, np.ndarray], group: str) -> np.ndarray:
        """The noise sd per draw ``(S, 1)``, or per draw and point ``(S, n)`` when it
        scales with the inputs."""
        noise = self.group_noise(group)[:, None]
        if self.kappa is None:
            return noise
        x = self.form.scale_inputs(inputs, self.scales)
        log_factor = sum(
            self._aligned(kappa, group)[:, None] * np.log(np.asarray(x[k], dtype=float))[None, :]
            for k, kappa in self.kappa.items()
        )
        return np.asarray(noise * np.exp(-log_factor))

    def mean_draws(self, inputs: Mapping[str, np.ndarray], group: str) -> np.ndarray:
        """Draws ``(S, n)`` of the mean loss at raw ``inputs`` (arrays of length ``n``)."""
        return self._evaluate(self.form, inputs, self.group_theta(group))

    def predictive(self, inputs: Mapping[str, np.ndarray], group: str) -> PredictiveDraws:
        """The posterior predictive of ``group`` at raw ``inputs``: mean, noise and ``nu``
        per draw, aligned (for an unseen group, the population's simulated draws)."""
        nu = self.group_nu(group)
        return PredictiveDraws(
            mean=self.mean_draws(inputs, group),
            noise=self.noise_draws(inputs, group),
            nu=None if nu is None else nu[:, None],
            log_scale=self.log_scale,
        )

    def posterior_mean(
        self, inputs: Mapping[str, np.ndarray], group: str, *, chunk: int = 256
    ) -> np.ndarray:
        """Mean over draws of the mean loss at raw ``inputs``, in row chunks: bounded memory,
        and (draws x 256) blocks stay cache-friendly (measured 25-35% faster than 1024)."""
        form, theta = self.form, self.group_theta(group)
        n = len(next(iter(inputs.values())))
        out = np.empty(n)
        for start in range(0, n, chunk):
            rows = {k: np.asarray(v)[start : start + chunk] for k, v in inputs.items()}
            out[start : start + chunk] = self._evaluate(form, rows, theta).mean(axis=0)
        return out

    def _evaluate(
        self, form: LawForm, inputs: Mapping[str, np.ndarray], theta: Mapping[str, np.ndarray]
    ) -> np.ndarray:
        x = form.scale_inputs(inputs, self.scales)
        columns = {k: v[:, None] for k, v in theta.items()}
        return np.asarray(form({k: v[None, :] for k, v in x.items()}, columns), dtype=np.float64)

    # -- persistence (numpy only) -------------------------------------------------------
    def to_arrays(self) -> dict[str, np.ndarray]:
        arrays = {f"theta/{k}": v for k, v in self.theta.items()} | {"noise": self.noise}
        if self.nu is not None:
            arrays["nu"] = self.nu
        for name, kappa in (self.kappa or {}).items():
            arrays[f"kappa/{name}"] = kappa
        for name, (mu, sigma) in (self.population or {}).items():
            arrays[f"population/{name}/mu"] = mu
            arrays[f"population/{name}/sigma"] = sigma
        arrays |= _by_factor_arrays("effects", self.effects, ("effect", "sigma"))
        arrays |= _by_factor_arrays("products", self.products, ("loading", "spread"))
        return arrays

    def save(self, path: Path) -> None:
        """Write the arrays to ``path`` (an ``.npz``; metadata lives with the caller)."""
        with path.open("wb") as fh:
            np.savez(fh, **self.to_arrays())  # type: ignore[arg-type]

    @classmethod
    def load(
        cls,
        path: Path,
        *,
        form_name: str,
        scales: Mapping[str, float],
        groups: tuple[str, ...],
        pooling: str,
        likelihood: str = "normal",
        levels: Mapping[str, tuple[str, ...]] | None = None,
    ) -> PosteriorDraws:
        """Read draws written by :meth:`save`, with the metadata stored beside them."""
        try:
            with np.load(path, allow_pickle=False) as npz:
                arrays = {k: npz[k] for k in npz.files}
        except (OSError, ValueError, EOFError) as err:
            raise FitArtifactError(f"cannot read posterior draws {path}: {err}") from err
        theta = {k.split("/", 1)[1]: v for k, v in arrays.items() if k.startswith("theta/")}
        kappa = {k.split("/", 1)[1]: v for k, v in arrays.items() if k.startswith("kappa/")}
        population: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        for key in arrays:
            if key.startswith("population/") and key.endswith("/mu"):
                name = key[len("population/") : -len("/mu")]
                population[name] = (arrays[key], arrays[f"population/{name}/sigma"])
        effects = _by_factor_from_arrays(arrays, "effects", ("effect", "sigma"))
        products = _by_factor_from_arrays(arrays, "products", ("loading", "spread"))
        draws = cls(
            form_name=form_name,
            scales=dict(scales),
            groups=tuple(groups),
            pooling=pooling,
            theta=theta,
            noise=arrays.get("noise", np.empty((0, 0))),
            nu=arrays.get("nu"),
            population=population or None,
            likelihood=likelihood,
            kappa=kappa or None,
            levels=dict(levels or {}),
            effects=effects or None,
            products=products or None,
        )
        draws.validate()
        return draws

    def validate(self) -> None:
        """Raise :class:`FitArtifactError` if shapes or names do not fit together."""
        expected = set(self.form.parameter_names)
        shape = (self.n_draws, len(self.groups))
        problems = []
        if set(self.theta) != expected:
            problems.append(f"parameters {sorted(self.theta)} != {sorted(expected)}")
        problems += [f"{k} has shape {v.shape}" for k, v in self.theta.items() if v.shape != shape]
        if self.noise.shape != shape or self.n_draws == 0:
            problems.append(f"noise has shape {self.noise.shape}, expected {shape}")
        if any(not np.all(np.isfinite(v)) for v in self.theta.values()):
            problems.append("non-finite parameter draws")
        if self.kappa is not None and (
            set(self.kappa) != set(self.form.inputs)
            or any(v.shape != (self.n_draws,) for v in self.kappa.values())
        ):
            problems.append(f"noise exponents {sorted(self.kappa)} do not match the inputs")
        if self.effects is not None:
            for name, by_factor in self.effects.items():
                if set(by_factor) != set(self.factors):
                    problems.append(
                        f"effects of {name} cover {sorted(by_factor)}, not {self.factors}"
                    )
                for f, (effect, scale) in by_factor.items():
                    if effect.shape != (
                        self.n_draws,
                        len(self.levels.get(f, ())),
                    ) or scale.shape != (self.n_draws,):
                        problems.append(f"effects of {name} on {f} have shape {effect.shape}")
            if self.population is None or set(self.effects) != set(self.population):
                problems.append("crossed-factor effects without a matching population level")
        for name, by_factor in (self.products or {}).items():
            if self.effects is None or name not in self.effects or len(by_factor) != 2:
                problems.append(f"the multiplicative term of {name} is not one of two factors")
                continue
            for f, (loading, spread) in by_factor.items():
                n_levels = len(self.levels.get(f, ()))
                if loading.shape != (self.n_draws, n_levels) or spread.shape != (self.n_draws,):
                    problems.append(f"loadings of {name} on {f} have shape {loading.shape}")
        heavy = self.likelihood in HEAVY_TAILED
        if heavy != (self.nu is not None):
            problems.append(f"likelihood {self.likelihood!r} and the nu draws disagree")
        if problems:
            raise FitArtifactError("posterior draws are inconsistent: " + "; ".join(problems))


#: coordinate -> factor -> a pair of per-draw arrays (effects and spread, or loadings and spread)
ByFactor = Mapping[str, Mapping[str, tuple[np.ndarray, np.ndarray]]]


def _by_factor_arrays(
    prefix: str, values: ByFactor | None, names: tuple[str, str]
) -> dict[str, np.ndarray]:
    """``values`` as flat arrays ``<prefix>/<coord>/<factor>/<name>`` (the ``.npz`` layout)."""
    arrays = {}
    for coord, by_factor in (values or {}).items():
        for factor, pair in by_factor.items():
            for name, array in zip(names, pair, strict=True):
                arrays[f"{prefix}/{coord}/{factor}/{name}"] = array
    return arrays


def _by_factor_from_arrays(
    arrays: Mapping[str, np.ndarray], prefix: str, names: tuple[str, str]
) -> dict[str, dict[str, tuple[np.ndarray, np.ndarray]]]:
    """The inverse of :func:`_by_factor_arrays` (empty when no key has ``prefix``)."""
    out: dict[str, dict[str, tuple[np.ndarray, np.ndarray]]] = {}
    first, second = names
    for key in arrays:
        if key.startswith(f"{prefix}/") and key.endswith(f"/{first}"):
            coord, factor = key[len(prefix) + 1 : -len(first) - 1].split("/", 1)
            pair = (arrays[key], arrays[f"{prefix}/{coord}/{factor}/{second}"])
            out.setdefault(coord, {})[factor] = pair
    return out
