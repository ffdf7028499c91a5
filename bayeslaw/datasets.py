"""Built-in demo data: a deterministic, synthetic, multi-group mixture-of-experts dataset.

:func:`simulate_moe` draws per-group law parameters from a population distribution and noisy
losses from the law, and returns the known truth beside the data so that tests and
benchmarks can check parameter recovery and interval coverage. Everything it makes is
**synthetic** and labelled so (its ``source`` says ``synthetic``).

The generative process, for every parameter ``p`` of the form and every group ``g``:

- positive parameters: ``p_g = median_p * exp(group_sd_p * z)``, ``z ~ Normal(0, 1)``;
- real parameters (``gamma``): ``p_g = median_p + group_sd_p * z``;
- ``loss = law(N / s_N, E / s_E; p_g) + Normal(0, noise)``, one row per
  (group, dense size, number of experts),

with parameters in the *scaled* units the model samples in (inputs divided by
``reference_scale`` of the simulated sizes, ``1e8`` for N and ``10`` for E by default).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from bayeslaw.data import Observations, load_observations
from bayeslaw.errors import DataError
from bayeslaw.models.forms import LawForm, reference_scale
from bayeslaw.models.registry import get_form

__all__ = [
    "DENSE_SIZES",
    "NUM_EXPERTS",
    "SimulatedCrossed",
    "SimulatedData",
    "simulate_crossed",
    "simulate_moe",
]

#: Dense parameter counts of the routing-networks study, below 1.3e9.
DENSE_SIZES = (1.65e7, 2.73e7, 5.74e7, 1.32e8, 3.68e8)
NUM_EXPERTS = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512)

#: Population medians (scaled units) per form, plausible for these model sizes.
_POPULATION: dict[str, dict[str, float]] = {
    "moe_additive": {"L_inf": 1.7, "A": 0.6, "alpha": 0.3, "B": 0.12, "beta": 0.3},
    "moe_multiplicative": {"L_inf": 1.7, "A": 0.75, "alpha": 0.3, "beta": 0.06},
    "moe_interaction": {"L_inf": 1.7, "A": 0.75, "alpha": 0.3, "beta": 0.06, "gamma": 0.01},
}
#: Between-group standard deviations (log scale for positive parameters).
_GROUP_SD = {"floor": 0.03, "coefficient": 0.15, "exponent": 0.12, "interaction": 0.005}


@dataclass(frozen=True)
class SimulatedData:
    """Synthetic observations with the truth that generated them.

    Attributes
    ----------
    observations : Observations
        The noisy measurements (``source`` says they are synthetic).
    form : str
        Name of the law form used.
    scales : dict
        Reference scale of each input; parameters below are in these scaled units.
    population : dict
        Population medians of each parameter (scaled units).
    group_sd : dict
        Between-group standard deviation of each parameter (log scale if positive).
    group_params : pandas.DataFrame
        Per-group parameters (scaled units), one row per group.
    noise : float
        Standard deviation of the observation noise.
    """

    observations: Observations
    form: str
    scales: dict[str, float]
    population: dict[str, float]
    group_sd: dict[str, float]
    group_params: pd.DataFrame
    noise: float

    def raw_group_params(self) -> pd.DataFrame:
        """Per-group parameters in raw input units."""
        form = get_form(self.form)
        raw = form.to_raw(
            {k: self.group_params[k].to_numpy() for k in form.parameter_names}, self.scales
        )
        return pd.DataFrame(raw, index=self.group_params.index)

    def mean_loss(self, inputs: Mapping[str, np.ndarray], group: str) -> np.ndarray:
        """Noise-free loss of ``group`` at raw ``inputs``."""
        form = get_form(self.form)
        return np.asarray(
            form(form.scale_inputs(inputs, self.scales), _row(self.group_params, group)),
            dtype=np.float64,
        )


def _row(frame: pd.DataFrame, group: str) -> dict[str, float]:
    values = frame.loc[group].to_numpy(dtype=np.float64)
    return {str(name): float(v) for name, v in zip(frame.columns, values, strict=True)}


def _draw_group_params(
    form: LawForm,
    population: Mapping[str, float],
    group_sd: Mapping[str, float],
    groups: Sequence[str],
    rng: np.random.Generator,
) -> pd.DataFrame:
    columns = {}
    for p in form.parameters:
        z = rng.standard_normal(len(groups))
        if p.link == "identity":
            columns[p.name] = population[p.name] + group_sd[p.name] * z
        else:
            columns[p.name] = population[p.name] * np.exp(group_sd[p.name] * z)
    return pd.DataFrame(columns, index=pd.Index(list(groups), name="group"))


def simulate_moe(
    *,
    form: str = "moe_additive",
    n_groups: int = 3,
    dense_sizes: Sequence[float] = DENSE_SIZES,
    num_experts: Sequence[float] = NUM_EXPERTS,
    noise: float = 0.02,
    population: Mapping[str, float] | None = None,
    group_sd: Mapping[str, float] | None = None,
    seed: int = 0,
) -> SimulatedData:
    """Simulate a deterministic multi-group MoE scaling dataset from known parameters.

    Parameters
    ----------
    form : str
        A registered MoE form (``moe_additive``, ``moe_multiplicative``, ``moe_interaction``).
    n_groups : int
        Number of groups, named ``group_0``, ``group_1``, ...
    dense_sizes, num_experts : sequence of float
        The grid of model sizes; one row per group and grid point.
    noise : float
        Standard deviation of Gaussian observation noise on the loss.
    population, group_sd : mapping, optional
        Override population medians (scaled units) or between-group spreads by parameter name.
    seed : int
        Seed of the random generator: the same arguments give the same data.

    Returns
    -------
    SimulatedData
        Observations and the truth behind them.

    Examples
    --------
    >>> from bayeslaw.datasets import simulate_moe
    >>> sim = simulate_moe(n_groups=2, seed=1)
    >>> len(sim.observations), sim.observations.groups
    (100, ('group_0', 'group_1'))
    """
    law = get_form(form)
    if law.name not in _POPULATION:
        raise DataError(f"simulate_moe supports forms {sorted(_POPULATION)}, not {form!r}")
    if n_groups < 1 or noise < 0:
        raise DataError(f"need n_groups >= 1 and noise >= 0, got {n_groups} and {noise}")
    pop = {**_POPULATION[law.name], **(population or {})}
    spread = {p.name: _GROUP_SD[p.role] for p in law.parameters} | dict(group_sd or {})
    unknown = sorted((set(pop) | set(spread)) - set(law.parameter_names))
    if unknown:
        raise DataError(f"unknown parameters {unknown}; {law.name} has {law.parameter_names}")

    rng = np.random.default_rng(seed)
    groups = [f"group_{i}" for i in range(n_groups)]
    params = _draw_group_params(law, pop, spread, groups, rng)
    grid_n, grid_e = (a.ravel() for a in np.meshgrid(dense_sizes, num_experts, indexing="ij"))
    scales = {
        "dense_parameter_count": reference_scale(np.asarray(dense_sizes, dtype=float)),
        "num_experts": reference_scale(np.asarray(num_experts, dtype=float)),
    }
    x = law.scale_inputs({"dense_parameter_count": grid_n, "num_experts": grid_e}, scales)
    frames = []
    for g in groups:
        mean = np.asarray(law(x, _row(params, g)), dtype=np.float64)
        loss = mean + noise * rng.standard_normal(mean.shape)
        frames.append(
            pd.DataFrame(
                {
                    "dense_parameter_count": grid_n,
                    "num_experts": grid_e,
                    "loss_validation": loss,
                    "group": g,
                }
            )
        )
    obs = load_observations(pd.concat(frames, ignore_index=True))
    obs = Observations(
        frame=obs.frame,
        inputs=obs.inputs,
        target=obs.target,
        columns=obs.columns,
        source=f"synthetic: simulate_moe(form={law.name!r}, n_groups={n_groups}, seed={seed})",
        split=None,
    )
    return SimulatedData(obs, law.name, scales, pop, spread, params, noise)


#: Sizes of the simulated fine-tuning curves (examples), as in the SFT data: doubling.
CURVE_SIZES = tuple(200.0 * 2.0**k for k in range(12))


@dataclass(frozen=True)
class SimulatedCrossed:
    """Synthetic curves of crossed factors (model x dataset) with their truth.

    Attributes
    ----------
    observations : Observations
        Factors ``model`` and ``dataset``, input ``D``, groups ``"m<i> | d<j>"``.
    truth : dict
        Cell label -> ``{"L_inf", "A", "alpha"}`` in raw units, for every cell, also those
        left out of the observations (``missing``).
    missing : tuple of str
        Cells not in the observations (to predict).
    noise : float
    """

    observations: Observations
    truth: Mapping[str, Mapping[str, float]]
    missing: tuple[str, ...]
    noise: float

    def expected_loss(self, cell: str, sizes: Sequence[float]) -> np.ndarray:
        """The noise-free loss of ``cell`` at ``sizes``."""
        p = self.truth[cell]
        return p["L_inf"] + p["A"] * np.asarray(sizes, dtype=float) ** -p["alpha"]


def simulate_crossed(
    *,
    n_models: int = 5,
    n_datasets: int = 3,
    missing: Sequence[tuple[int, int]] = (),
    sizes: Sequence[float] = CURVE_SIZES,
    noise: float = 0.01,
    cell_sd: float = 0.02,
    seed: int = 0,
) -> SimulatedCrossed:
    """Power-law curves ``L_inf + A D^-alpha`` of every (model, dataset) cell, with additive
    effects of the model and of the dataset on ``L_inf`` and ``log A`` (plus a small cell
    offset of sd ``cell_sd``) and one shared ``alpha``: the structure crossed factors model.

    ``missing`` lists ``(model index, dataset index)`` cells left out of the data (their
    truth is kept, to check predictions for a new combination of known levels).
    """
    if n_models < 2 or n_datasets < 2 or noise < 0 or cell_sd < 0:
        raise DataError("need >= 2 models and datasets, and noise, cell_sd >= 0")
    rng = np.random.default_rng(seed)
    floor_model, floor_data = rng.normal(0, 0.15, n_models), rng.normal(0, 0.3, n_datasets)
    log_a_model, log_a_data = rng.normal(0, 0.3, n_models), rng.normal(0, 0.2, n_datasets)
    truth, frames, left_out = {}, [], []
    for i in range(n_models):
        for j in range(n_datasets):
            cell = f"m{i} | d{j}"
            truth[cell] = {
                "L_inf": 1.5 + floor_model[i] + floor_data[j] + cell_sd * rng.normal(),
                "A": float(
                    np.exp(np.log(30.0) + log_a_model[i] + log_a_data[j] + cell_sd * rng.normal())
                ),
                "alpha": 0.35,
            }
            if (i, j) in missing:
                left_out.append(cell)
                continue
            d = np.asarray(sizes, dtype=float)
            p = truth[cell]
            loss = p["L_inf"] + p["A"] * d ** -p["alpha"] + noise * rng.standard_normal(d.shape)
            frames.append(
                pd.DataFrame(
                    {"model": f"m{i}", "dataset": f"d{j}", "D": d, "loss_validation": loss}
                )
            )
    obs = load_observations(
        pd.concat(frames, ignore_index=True), inputs=["D"], groups=("model", "dataset")
    )
    source = (
        f"synthetic: simulate_crossed(n_models={n_models}, n_datasets={n_datasets}, seed={seed})"
    )
    obs = Observations(obs.frame, obs.inputs, obs.target, obs.columns, source, None, obs.factors)
    return SimulatedCrossed(obs, truth, tuple(left_out), noise)
