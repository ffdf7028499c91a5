"""The synthetic demo data: deterministic, labelled, and generated from its stated truth."""

from __future__ import annotations

import numpy as np
import pytest

from bayeslaw.datasets import simulate_moe
from bayeslaw.errors import DataError


def test_deterministic_and_labelled_synthetic():
    a, b = simulate_moe(seed=3), simulate_moe(seed=3)
    assert a.observations.content_hash() == b.observations.content_hash()
    assert simulate_moe(seed=4).observations.content_hash() != a.observations.content_hash()
    assert "synthetic" in a.observations.source
    assert a.observations.groups == ("group_0", "group_1", "group_2")
    assert len(a.observations) == 3 * 5 * 10


@pytest.mark.parametrize("form", ["moe_additive", "moe_multiplicative", "moe_interaction"])
def test_noise_free_data_equals_the_law(form):
    sim = simulate_moe(form=form, noise=0.0, n_groups=2, seed=1)
    obs = sim.observations
    for g in obs.groups:
        rows = obs.frame[obs.frame["group"] == g]
        inputs = {k: rows[k].to_numpy() for k in obs.inputs}
        np.testing.assert_allclose(sim.mean_loss(inputs, g), rows["loss_validation"])


def test_noise_level_is_as_stated():
    sim = simulate_moe(noise=0.05, n_groups=8, seed=2)
    obs = sim.observations
    resid = np.concatenate(
        [
            obs.frame.loc[obs.frame["group"] == g, "loss_validation"].to_numpy()
            - sim.mean_loss(
                {k: obs.frame.loc[obs.frame["group"] == g, k].to_numpy() for k in obs.inputs}, g
            )
            for g in obs.groups
        ]
    )
    assert resid.std() == pytest.approx(0.05, rel=0.1)


def test_bad_arguments():
    with pytest.raises(DataError, match="supports forms"):
        simulate_moe(form="additive(tokens)")
    with pytest.raises(DataError, match="unknown parameters"):
        simulate_moe(population={"gamma": 0.1})
