"""The classical point-fit baselines in benchmarks/baselines.py, and their timing, on
synthetic data."""

from __future__ import annotations

import json
import statistics

import baselines
import numpy as np
import pytest
from baselines import GRID, bootstrap_fit, grid_fit, least_squares_fit

from bayeslaw.datasets import simulate_moe

TRUTH = {"L_inf": 1.8, "A": 40.0, "alpha": 0.3, "B": 0.5, "beta": 0.4}


def _data(noise: float = 0.0, seed: int = 0):
    n = np.repeat(np.geomspace(1e7, 4e8, 8), 10)
    e = np.tile(np.geomspace(1, 512, 10), 8)
    t = TRUTH
    y = t["L_inf"] + t["A"] * n ** -t["alpha"] + t["B"] * e ** -t["beta"]
    y = y + np.random.default_rng(seed).normal(0.0, noise, y.shape)
    return n, e, y


def test_least_squares_recovers_noise_free_data():
    got = least_squares_fit(*_data())
    for name, value in TRUTH.items():
        assert got[name] == pytest.approx(value, rel=1e-4), name
    assert got["mse"] < 1e-16


def test_grid_is_within_its_resolution():
    n, e, y = _data()
    got = grid_fit(n, e, y)
    step = GRID[1] - GRID[0]
    assert abs(got["alpha"] - TRUTH["alpha"]) <= step
    assert abs(got["beta"] - TRUTH["beta"]) <= step
    assert got["mse"] >= least_squares_fit(n, e, y)["mse"]
    assert got["L_inf"] == pytest.approx(TRUTH["L_inf"], abs=0.05)


def test_bootstrap_intervals_contain_the_truth():
    got = bootstrap_fit(*_data(noise=0.01, seed=1), n_boot=100, seed=0)
    assert got["n_boot"] == 100
    for name, value in TRUTH.items():
        lo, hi = got["interval"][name]
        assert lo <= value <= hi, (name, lo, hi)


def test_run_times_every_group(tmp_path):
    path = tmp_path / "sim.csv"
    simulate_moe(n_groups=2, seed=0).observations.frame.to_csv(path, index=False)
    got = baselines.run(data=path, repeats=3, n_boot=5)
    assert (got["data"], got["n_groups"], got["n_rows"], got["n_boot"]) == (str(path), 2, 100, 5)
    assert len(got["grid_runs_s"]) == 3
    assert got["grid_s"] == statistics.median_high(got["grid_runs_s"])
    assert all(0 < t < 60 for t in [*got["grid_runs_s"], got["bootstrap_s"]])
    assert json.loads(json.dumps(got)) == got
