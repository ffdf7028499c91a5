"""The fit object: its record, posterior draws, predictions and coefficients; save and load.

Nothing here imports PyMC or ArviZ: :meth:`Fit.predict` and :meth:`Fit.params` use numpy
draws only. The full ArviZ DataTree (for diagnostics and plots) is read from a saved fit on
first access of :attr:`Fit.datatree`. Files are written and read by
:mod:`bayeslaw.posterior.storage`.

Credible intervals are equal-tailed (ETI) at ``ci_prob`` (default :data:`CI_PROB`, 0.9).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from bayeslaw.errors import FitArtifactError, FitNotReadyError, PredictionInputError
from bayeslaw.groups import group_label, label_columns
from bayeslaw.posterior import storage
from bayeslaw.posterior.draws import PosteriorDraws
from bayeslaw.posterior.point_fit_files import explain_text, params_payload
from bayeslaw.posterior.predictive import PredictiveDraws
from bayeslaw.posterior.record import FitRecord

if TYPE_CHECKING:  # pandas and the data layer load only when a table is asked for
    import pandas as pd

    from bayeslaw.data import Observations

__all__ = ["CI_PROB", "POPULATION", "Fit", "Predicts", "load_fit"]

#: Default probability of the equal-tailed credible intervals reported everywhere.
CI_PROB = 0.9
#: Fewest predictive samples behind an observation interval.
MIN_NOISE_SAMPLES = 4000
PredictKind = Literal["mean", "observation"]
#: Label of the population-level (new group) rows of :meth:`Fit.params`.
POPULATION = "<population>"


def _eti(draws: np.ndarray, ci_prob: float) -> tuple[np.ndarray, np.ndarray]:
    if not 0 < ci_prob < 1:
        raise PredictionInputError(f"ci_prob must lie in (0, 1), got {ci_prob}")
    tail = (1 - ci_prob) / 2
    lower, upper = np.quantile(draws, [tail, 1 - tail], axis=0)
    return lower, upper


def _inputs_frame(inputs: Any, names: Sequence[str]) -> dict[str, np.ndarray]:
    """Raw input arrays from a DataFrame, a mapping of arrays or a list of row dicts."""
    import pandas as pd

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
    return {name: require_positive(name, _numbers(rows[name], name)) for name in names}


def _numbers(column: pd.Series, name: str) -> np.ndarray:
    """A column of prediction inputs as floats (numbers, or text that reads as one, as CSV
    gives); anything else, booleans included, is named with its rows."""
    raw = column.tolist()
    values = [_as_float(v) for v in raw]
    bad = [i for i, v in enumerate(values) if v is None]
    if bad:
        shown = [raw[i] for i in bad[:10]]
        raise PredictionInputError(f"input {name!r} must be a number; rows {bad[:10]} hold {shown}")
    return np.asarray(values, dtype=np.float64)


def _as_float(value: Any) -> float | None:
    if isinstance(value, bool | np.bool_):
        return None
    if isinstance(value, int | float | np.integer | np.floating):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return None
    return None


def require_positive(name: str, values: np.ndarray) -> np.ndarray:
    """``values`` unchanged, or :class:`PredictionInputError` naming the bad rows."""
    bad = np.flatnonzero(~np.isfinite(values) | (values <= 0))
    if bad.size:
        raise PredictionInputError(
            f"input {name!r} must be a positive finite number (a power law needs it); "
            f"rows {bad[:10].tolist()} hold {values[bad[:10]].tolist()}"
        )
    return values


def _observations(predictive: PredictiveDraws, seed: int) -> np.ndarray:
    """Noisy draws from ``predictive``, replicated to >= MIN_NOISE_SAMPLES rows."""
    rng = np.random.default_rng(seed + 2)
    reps = max(1, -(-MIN_NOISE_SAMPLES // predictive.n_draws))
    return predictive.sample(rng, replicates=reps)


class Predicts:
    """Predictions from a posterior predictive: what :class:`Fit` and an averaged fit
    (:class:`bayeslaw.posterior.averaged.AveragedFit`) share. Subclasses give the inputs
    they read, the predictive draws at raw inputs and the seed of a group's noise."""

    @property
    def inputs(self) -> tuple[str, ...]:
        raise NotImplementedError

    def predictive(self, inputs: Mapping[str, np.ndarray], group: str) -> PredictiveDraws:
        """The posterior predictive of ``group`` at raw ``inputs`` (arrays)."""
        raise NotImplementedError

    def seed(self, group: str) -> int:
        raise NotImplementedError

    def is_seen(self, group: str) -> bool:
        raise NotImplementedError

    @property
    def factors(self) -> tuple[str, ...]:
        """Crossed grouping factors of the data fitted (empty for one group column)."""
        return ()

    def group_status(self, group: str) -> str:
        """``"fitted"``, ``"new group"``, ``"new cell"`` or ``"new level: ..."``."""
        raise NotImplementedError

    def label(self, group: Any) -> str:
        """``group`` as a label: a string, or for crossed factors a tuple of levels."""
        return group_label(group, self.factors)

    def predictive_draws(
        self, inputs: Any, *, group: str | tuple[str, ...], kind: PredictKind = "observation"
    ) -> np.ndarray:
        """Draws ``(S, n)`` of the predicted loss at raw ``inputs`` for ``group``.

        ``kind="mean"``: the law's expected loss, one row per posterior draw (for an unseen
        group, per simulated new group). ``kind="observation"``: a new measurement, noise
        included, each draw replicated until there are at least
        :data:`MIN_NOISE_SAMPLES` rows (so a one-draw MAP fit still has noise); the noise is
        seeded (by a fitted group's name; one seed for every new group), so repeated calls
        agree and a new group's prediction does not depend on its name.
        """
        if kind not in ("mean", "observation"):
            raise PredictionInputError(f"kind must be 'mean' or 'observation', got {kind!r}")
        group = self.label(group)
        x = _inputs_frame(inputs, self.inputs)
        predictive = self.predictive(x, group)
        if kind == "mean":
            return predictive.mean
        return _observations(predictive, self.seed(group))

    def predict(
        self,
        inputs: Any,
        *,
        group: str | tuple[str, ...],
        ci_prob: float = CI_PROB,
        kind: PredictKind = "mean",
    ) -> pd.DataFrame:
        """Posterior predictions with equal-tailed credible intervals.

        Parameters
        ----------
        inputs : DataFrame, mapping of arrays, or list of dicts
            Raw input values (every input of the form; positive).
        group : str or tuple of str
            A fitted group, or a new one (population-level posterior under partial pooling).
            With crossed factors, a cell: ``"gpt2 | flan"`` or ``("gpt2", "flan")``; a new
            cell of fitted levels combines their effects, a new level draws from its
            factor's population.
        ci_prob : float
            Probability of the interval (default 0.9).
        kind : {"mean", "observation"}
            Interval for the expected loss, or for a new observation (noise included); see
            :meth:`predictive_draws`.

        Returns
        -------
        pandas.DataFrame
            The inputs plus ``mean`` (posterior mean of the expected loss), ``lower``,
            ``upper`` (and ``group``, ``seen_group``, ``group_status``: ``"fitted"``,
            ``"new group"``, ``"new cell"`` or ``"new level: model='x'"``).
        """
        if kind not in ("mean", "observation"):
            raise PredictionInputError(f"kind must be 'mean' or 'observation', got {kind!r}")
        group = self.label(group)
        x = _inputs_frame(inputs, self.inputs)
        predictive = self.predictive(x, group)
        mean_draws = predictive.mean
        draws = mean_draws if kind == "mean" else _observations(predictive, self.seed(group))
        lower, upper = _eti(draws, ci_prob)
        import pandas as pd

        out = pd.DataFrame(x)
        out["mean"] = mean_draws.mean(axis=0)
        out["lower"], out["upper"] = lower, upper
        out["group"] = group
        out["seen_group"] = self.is_seen(group)
        out["group_status"] = self.group_status(group)
        return out


@dataclass(eq=False)
class Fit(Predicts):
    """A fitted law: what was fitted, how, and the posterior.

    Attributes
    ----------
    record : FitRecord
        The fit's identity: model (form, pooling, likelihood, priors, scales, groups),
        sampling (method, settings, seed) and provenance (data hash, versions, wall time).
    draws : PosteriorDraws
        Numpy posterior draws (a single draw for MAP).
    observations : Observations or None
        The data fitted (None when loaded from disk without them).
    """

    record: FitRecord
    draws: PosteriorDraws
    observations: Observations | None = None
    _datatree: Any = field(default=None, repr=False)
    _path: Path | None = field(default=None, repr=False)

    @property
    def form_name(self) -> str:
        return self.record.form

    @property
    def groups(self) -> tuple[str, ...]:
        return self.draws.groups

    @property
    def wall_time(self) -> float:
        """Seconds the fit took (model build, compile and sampling)."""
        return self.record.wall_time_s

    def fitted_observations(self) -> Observations:
        """The data fitted, or :class:`FitNotReadyError` saying how to attach them."""
        if self.observations is None:
            raise FitNotReadyError(
                "this fit carries no observations (a fit loaded from disk keeps only its "
                "posterior); load it with load_fit(path, with_observations=True), or attach "
                "them: fit.observations = load_observations(...)"
            )
        return self.observations

    @property
    def has_datatree(self) -> bool:
        """Whether :attr:`datatree` is available (in memory or in the saved fit)."""
        return self._datatree is not None or (
            self._path is not None and storage.has_datatree(self._path)
        )

    @property
    def datatree(self) -> Any:
        """The ArviZ DataTree (posterior, sample stats, observed data, predictive, ...)."""
        if self._datatree is None:
            if self._path is None:
                raise FitNotReadyError("this fit has no DataTree; fit it with bayeslaw.fit")
            self._datatree = storage.read_datatree(self._path)
        return self._datatree

    def save(self, directory: str | Path, *, datatree: bool = True) -> Path:
        """Write the fit atomically to ``directory`` (see :mod:`bayeslaw.posterior.storage`).

        ``datatree=False`` leaves out the full DataTree (reports need it, prediction does
        not). Returns the directory written.
        """
        params = self.params(ci_prob=CI_PROB)
        path = storage.write_fit_directory(
            directory,
            record=self.record,
            draws=self.draws,
            observations=None if self.observations is None else self.observations.frame,
            datatree=self.datatree if datatree and self.has_datatree else None,
            params=params_payload(self.record, params, CI_PROB),
            explain=explain_text(self.record, params, CI_PROB),
        )
        self._path = path
        return path

    @property
    def inputs(self) -> tuple[str, ...]:
        return tuple(self.draws.form.inputs)

    def predictive(self, inputs: Mapping[str, np.ndarray], group: str) -> PredictiveDraws:
        return self.draws.predictive(inputs, group)

    def posterior_mean(self, inputs: Mapping[str, np.ndarray], group: str) -> np.ndarray:
        """The posterior mean of the law at raw ``inputs`` (arrays), in bounded memory."""
        return self.draws.posterior_mean(inputs, group)

    def seed(self, group: str) -> int:
        return self.draws.seed(group)

    def is_seen(self, group: str) -> bool:
        return self.draws.is_seen(group)

    @property
    def factors(self) -> tuple[str, ...]:
        return self.draws.factors

    def group_status(self, group: str) -> str:
        return self.draws.group_status(group)

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
            theta = self.draws.population_theta() if g == POPULATION else self.draws.group_theta(g)
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
        import pandas as pd

        frame = pd.DataFrame(rows, columns=columns)
        return frame.set_index(["group", "parameter"])


def load_fit(
    directory: str | Path,
    *,
    form: str | None = None,
    data_hash: str | None = None,
    with_observations: bool = False,
) -> Fit:
    """Load a fit saved by :meth:`Fit.save` (numpy only: no PyMC, no ArviZ).

    Parameters
    ----------
    directory : path
    form, data_hash : str, optional
        What the fit must be: its form's name, the content hash of the data it was fitted
        to. A mismatch raises.
    with_observations : bool
        Also read the fitted data (needed by reports, not by prediction).

    Raises
    ------
    FitArtifactError
        Missing, truncated, corrupted (checksum) or mismatched artifacts.
    """
    path = Path(directory)
    record = storage.read_record(path)
    for key, wanted, found in (
        ("form", form, record.form),
        ("data_hash", data_hash, record.provenance.data_hash),
    ):
        if wanted is not None and wanted != found:
            raise FitArtifactError(
                f"the fit at {path} has {key}={found!r}, expected {wanted!r}; {storage.REFIT}"
            )
    draws = storage.read_draws(path, record)
    observations = None
    if with_observations:
        factors = record.model.factors
        frame = storage.read_observations_frame(path, (*label_columns(factors), *factors))
        from bayeslaw.data import Observations, load_observations

        loaded = load_observations(frame, inputs=record.model.inputs, groups=factors or None)
        observations = Observations(
            frame=loaded.frame,
            inputs=loaded.inputs,
            columns=loaded.columns,
            source=record.provenance.data_source,
            split=None,
            factors=loaded.factors,
        )
    return Fit(record, draws, observations, _path=path)
