"""Slow: NUTS recovers the rectified law (Lin et al. 2024) from simulated fine-tuning curves.

Stated tolerances, on 4 simulated groups of 12 doubling sizes (200 .. 409600, as in the
shared fine-tuning data), noise 0.01, seed 3, parameters in the units of the scaled input:
- at least 75% of the 16 group-level parameters lie inside their 90% intervals;
- every group's predicted loss at the held-out size 819200 is within 3% of the truth;
- no divergences, R-hat <= 1.01.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from bayeslaw.data import load_observations
from bayeslaw.inference.fitting import fit
from bayeslaw.models.forms import reference_scale
from bayeslaw.models.registry import get_form

pytestmark = pytest.mark.slow

SIZES = 200.0 * 2.0 ** np.arange(12)
FORM = get_form("rectified(D)")


def _simulate(seed: int) -> tuple[pd.DataFrame, pd.DataFrame, float]:
    rng = np.random.default_rng(seed)
    scale = reference_scale(SIZES)
    truth = pd.DataFrame(
        {
            "L_inf": rng.uniform(1.2, 1.8, 4),
            "B": np.exp(rng.normal(np.log(1.5), 0.2, 4)),
            "D_l": np.exp(rng.normal(np.log(0.3), 0.3, 4)),
            "beta": np.exp(rng.normal(np.log(0.5), 0.15, 4)),
        },
        index=[f"curve_{i}" for i in range(4)],
    )
    rows = []
    for group, t in truth.iterrows():
        mean = FORM({"D": SIZES / scale}, t.to_dict())
        loss = mean + 0.01 * rng.standard_normal(SIZES.size)
        rows.append(pd.DataFrame({"D": SIZES, "loss_validation": loss, "group": group}))
    return pd.concat(rows, ignore_index=True), truth, scale


def test_rectified_law_is_recovered():
    frame, truth, scale = _simulate(3)
    obs = load_observations(frame, inputs=["D"])
    result = fit(obs, form=FORM, random_seed=3, progressbar=False, check=False)
    assert int(result.datatree["sample_stats"]["diverging"].sum()) == 0
    assert not [p for p in result.record.convergence_problems if p.startswith("R-hat")]
    params = result.params(raw=False)
    inside = [
        params.loc[(g, p), "lower"] <= truth.loc[g, p] <= params.loc[(g, p), "upper"]
        for g in truth.index
        for p in truth.columns
    ]
    assert np.mean(inside) >= 0.75, params
    held = 819200.0
    for group, t in truth.iterrows():
        predicted = result.predict({"D": [held]}, group=group)["mean"].iloc[0]
        true = FORM({"D": np.array([held / scale])}, t.to_dict())[0]
        assert abs(predicted - true) / true < 0.03, (group, predicted, true)
