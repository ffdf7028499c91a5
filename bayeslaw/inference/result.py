"""The fit object: configuration, posterior draws, predictions and coefficients.

Nothing here imports PyMC or ArviZ at module level: :meth:`Fit.predict` and
:meth:`Fit.params` use numpy draws only. The full ArviZ DataTree (for diagnostics and
plots) is loaded on first access of :attr:`Fit.datatree`.

Credible intervals are equal-tailed (ETI) at ``ci_prob`` (default :data:`CI_PROB`, 0.9).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from bayeslaw.data import Observations
from bayeslaw.errors import FitNotReadyError, PredictionInputError
from bayeslaw.inference.posterior import PosteriorDraws, group_seed

__all__ = ["CI_PROB", "Fit"]

#: Default probability of the equal-tailed credible intervals reported everywhere.
CI_PROB = 0.9
#: Fewest predictive samples behind an observation interval.
MIN_NOISE_SAMPLES = 4000
PredictKind = Literal["mean", "observation"]


def _eti(draws: np.ndarray, ci_prob: float) -> tuple[np.ndarray, np.ndarray]:
    if not 0 < ci_prob < 1:
        raise PredictionInputError(f"ci_prob must lie in (0, 1), got {ci_prob}")
    tail = (1 - ci_prob) / 2
    lower, upper = np.quantile(draws, [tail, 1 - tail], axis=0)
    return lower, upper


def _inputs_frame(inputs: Any, names: Sequence[str]) -> dict[str, np.ndarray]:
    """Raw input arrays from a DataFrame, a mapping of arrays or a list of row dicts."""
    if isinstance(inputs, pd.DataFrame):
        rows = inputs
    elif isinstance(inputs, Mapping):
        rows = pd.DataFrame({k: np.atleast_1d(v) for k, v in inputs.items()})
    else:
        rows = pd.DataFrame(list(inputs))
    missing = sorted(set(names) - set(rows.columns))
    if missing:
        raise PredictionInputError(
            f"prediction inputs lack {missing}; every row needs {list(names)}"
        )
    return {
        name: require_positive(
            name, pd.to_numeric(rows[name], errors="coerce").to_numpy(dtype=np.float64)
        )
        for name in names
    }


def require_positive(name: str, values: np.ndarray) -> np.ndarray:
    """``values`` unchanged, or :class:`PredictionInputError` naming the bad rows."""
    bad = np.flatnonzero(~np.isfinite(values) | (values <= 0))
    if bad.size:
        raise PredictionInputError(
            f"input {name!r} must be a positive finite number (a power law needs it); "
            f"rows {bad[:10].tolist()} hold {values[bad[:10]].tolist()}"
        )
    return values


@dataclass(eq=False)
class Fit:
    """A fitted law: what was fitted, how, and the posterior.

    Attributes
    ----------
    info : dict
        Self-description: form, pooling, likelihood, priors, scales, groups, method, sampler
        settings, random seed, data hash and source, package version, wall time.
    draws : PosteriorDraws
        Numpy posterior draws (a single draw for MAP).
    observations : Observations or None
        The data fitted (None when loaded from disk without them).
    """

    info: dict[str, Any]
    draws: PosteriorDraws
    observations: Observations | None = None
    _datatree: Any = field(default=None, repr=False)
    _path: Path | None = field(default=None, repr=False)

    @property
    def form_name(self) -> str:
        return str(self.info["form"])

    @property
    def groups(self) -> tuple[str, ...]:
        return self.draws.groups

    @property
    def wall_time(self) -> float:
        """Seconds the fit took (model build, compile and sampling)."""
        return float(self.info["wall_time_s"])

    @property
    def datatree(self) -> Any:
        """The ArviZ DataTree (posterior, sample stats, observed data, predictive, ...)."""
        if self._datatree is None:
            if self._path is None:
                raise FitNotReadyError("this fit has no DataTree; fit it with bayeslaw.fit")
            from bayeslaw.inference.persistence import load_datatree

            self._datatree = load_datatree(self._path)
        return self._datatree

    def save(self, directory: str | Path, *, datatree: bool = True) -> Path:
        """Write the fit atomically to ``directory`` (see :mod:`bayeslaw.inference.persistence`)."""
        from bayeslaw.inference.persistence import save_fit

        return save_fit(self, directory, datatree=datatree)

    def predict(
        self,
        inputs: Any,
        *,
        group: str,
        ci_prob: float = CI_PROB,
        kind: PredictKind = "mean",
    ) -> pd.DataFrame:
        """Posterior predictions with equal-tailed credible intervals.

        Parameters
        ----------
        inputs : DataFrame, mapping of arrays, or list of dicts
            Raw input values (every input of the form; positive).
        group : str
            A fitted group, or a new one (population-level posterior under partial pooling).
        ci_prob : float
            Probability of the interval (default 0.9).
        kind : {"mean", "observation"}
            Interval for the expected loss, or for a new observation (noise included).

        Returns
        -------
        pandas.DataFrame
            The inputs plus ``mean``, ``lower``, ``upper`` (and ``group``, ``seen_group``).
        """
        if kind not in ("mean", "observation"):
            raise PredictionInputError(f"kind must be 'mean' or 'observation', got {kind!r}")
        x = _inputs_frame(inputs, self.draws.form.inputs)
        mean_draws = self.draws.mean_draws(x, group)
        draws = mean_draws
        if kind == "observation":
            draws = self._with_noise(mean_draws, group)
        lower, upper = _eti(draws, ci_prob)
        out = pd.DataFrame(x)
        out["mean"] = mean_draws.mean(axis=0)
        out["lower"], out["upper"] = lower, upper
        out["group"] = group
        out["seen_group"] = self.draws.is_seen(group)
        return out

    def _with_noise(self, mean_draws: np.ndarray, group: str) -> np.ndarray:
        """Predictive draws: each mean draw plus noise, replicated to >= MIN_NOISE_SAMPLES
        samples in total (so a one-draw MAP fit still gets a noise interval)."""
        rng = np.random.default_rng(group_seed(group) + 2)
        reps = max(1, -(-MIN_NOISE_SAMPLES // mean_draws.shape[0]))
        shape = (reps, *mean_draws.shape)
        if self.draws.nu is None:
            eps = rng.standard_normal(shape)
        else:
            nu = np.resize(self.draws.nu, mean_draws.shape[0])  # tiled like unseen draws
            eps = rng.standard_t(nu[None, :, None], size=shape)
        noise = self.draws.group_noise(group)[None, :, None]
        return (mean_draws[None] + noise * eps).reshape(-1, mean_draws.shape[1])

    def params(self, *, ci_prob: float = CI_PROB, raw: bool = True) -> pd.DataFrame:
        """Per-group and population-level coefficients: mean, median and ETI bounds.

        Rows are ``(group, parameter)``; the population row (partial pooling) is the
        parameter of a new group drawn from the population, labelled ``<population>``.
        ``raw=True`` gives raw input units (``A`` for raw ``N``). Coefficients sampled on
        a log scale (``A``, exponents) can be right-skewed, so that the mean of a new
        group's ``A`` may even lie above its upper bound; the median is the robust centre.
        """
        groups = list(self.groups)
        if self.draws.pooling == "partial":
            groups.append(POPULATION)
        rows = []
        for g in groups:
            theta = self.draws.group_theta(g)
            if raw:
                theta = self.draws.form.to_raw(theta, self.draws.scales)
            for name in self.draws.form.parameter_names:
                lower, upper = _eti(theta[name][:, None], ci_prob)
                values = theta[name]
                rows.append(
                    (g, name, float(values.mean()), float(np.median(values)),
                     float(lower[0]), float(upper[0]))
                )  # fmt: skip
        columns = ["group", "parameter", "mean", "median", "lower", "upper"]
        frame = pd.DataFrame(rows, columns=columns)
        return frame.set_index(["group", "parameter"])


#: Label of the population-level (new group) rows of :meth:`Fit.params`.
POPULATION = "<population>"
