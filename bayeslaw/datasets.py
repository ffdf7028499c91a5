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
    "SimulatedData",
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
