"""PosteriorDraws: chunked posterior means, aligned predictive draws for seen and new groups."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from bayeslaw.errors import PredictionInputError

N, E = "dense_parameter_count", "num_experts"


def test_posterior_mean_past_one_chunk_matches_the_full_mean(small_fit):
    rng = np.random.default_rng(0)
    x = {N: np.exp(rng.uniform(np.log(1e7), np.log(1e10), 700)), E: rng.choice([1.0, 64.0], 700)}
    for group in ("group_0", "new"):
        full = small_fit.draws.mean_draws(x, group).mean(axis=0)
        chunked = small_fit.draws.posterior_mean(x, group, chunk=256)  # 3 chunks, last partial
        np.testing.assert_allclose(chunked, full, rtol=1e-13)


def test_predictive_of_a_new_group_tiles_noise_and_nu_with_its_draws(small_fit):
    draws = small_fit.draws
    x = {N: np.array([1e9]), E: np.array([8.0])}
    seen = draws.predictive(x, "group_2")
    assert seen.mean.shape == (draws.n_draws, 1)
    np.testing.assert_array_equal(seen.noise[:, 0], draws.noise[:, 2])
    new = draws.predictive(x, "new")
    reps = draws.unseen_replicates
    assert new.mean.shape == (draws.n_draws * reps, 1) and new.noise.shape == (
        draws.n_draws * reps,
        1,
    )
    # a new group's noise is a seen group's noise from the same posterior draw
    per_draw = np.tile(draws.noise, (reps, 1))
    assert all(v in row for v, row in zip(new.noise[:, 0], per_draw, strict=True))
    assert new.nu is None and draws.group_nu("new") is None


@pytest.mark.parametrize("group", ["group_0", "new"])
def test_observation_draws_are_seeded_by_group_name(small_fit, group):
    x = {N: [2e9], E: [16.0]}
    a = small_fit.predictive_draws(x, group=group, kind="observation")
    b = small_fit.predictive_draws(x, group=group, kind="observation")
    np.testing.assert_array_equal(a, b)
    assert a.shape[0] >= 4000


def test_a_population_saved_in_other_coordinates_is_refused_by_name(small_fit):
    """A fit saved before its law was sampled in other coordinates (the rectified law's
    coefficient became its tail's slope) still predicts its groups; a new group, which
    needs the population's coordinates, gets an error that says to refit."""
    draws = small_fit.draws
    population = dict(draws.population)
    population["A_old"] = population.pop("A_slope")
    older = replace(draws, population=population)
    x = {N: np.array([1e9]), E: np.array([8.0])}
    np.testing.assert_array_equal(older.mean_draws(x, "group_0"), draws.mean_draws(x, "group_0"))
    with pytest.raises(PredictionInputError, match=r"missing \['A_slope'\].*refit"):
        older.mean_draws(x, "new")
