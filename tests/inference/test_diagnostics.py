"""The diagnostics engine: verdict rules on hand-built inputs."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from bayeslaw.inference.diagnostics import (
    Check,
    ConvergenceWarning,
    convergence_checks,
    divergence_locus,
    sampler_checks,
    warn_on_failures,
    worst,
)


def _summary(r_hat: float, ess: float, mcse_ratio: float) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "variable": ["a", "b"],
            "sd": [1.0, 1.0],
            "r_hat": [1.0, r_hat],
            "ess_bulk": [4000.0, ess],
            "ess_tail": [4000.0, ess],
            "mcse_mean": [0.01, mcse_ratio],
        },
        index=["a", "b[g]"],
    )


@pytest.mark.parametrize(
    ("r_hat", "expected"), [(1.005, "ok"), (1.02, "warning"), (1.2, "fail"), (np.nan, "fail")]
)
def test_rhat_verdicts(r_hat, expected):
    checks = {c.name: c for c in convergence_checks(_summary(r_hat, 4000.0, 0.01), n_chains=4)}
    assert checks["R-hat"].verdict == expected
    if expected != "ok":
        assert "b[g]" in checks["R-hat"].detail


@pytest.mark.parametrize(("ess", "expected"), [(400.0, "ok"), (150.0, "warning"), (60.0, "fail")])
def test_ess_verdicts(ess, expected):
    checks = {c.name: c for c in convergence_checks(_summary(1.0, ess, 0.01), n_chains=4)}
    assert checks["ESS"].verdict == expected


@pytest.mark.parametrize(("ratio", "expected"), [(0.05, "ok"), (0.15, "warning"), (0.3, "fail")])
def test_mcse_verdicts(ratio, expected):
    checks = {c.name: c for c in convergence_checks(_summary(1.0, 4000.0, ratio), n_chains=4)}
    assert checks["MCSE"].verdict == expected


def _stats_tree(n_div: int, treedepth_name: str, n_max: int, smooth_energy: bool) -> xr.DataTree:
    rng = np.random.default_rng(0)
    shape = (2, 500)
    diverging = np.zeros(shape, dtype=bool)
    diverging.flat[:n_div] = True
    depth = np.zeros(shape, dtype=bool)
    depth.flat[:n_max] = True
    energy = rng.standard_normal(shape)
    if smooth_energy:  # a random walk: tiny E-BFMI
        energy = np.cumsum(energy, axis=1)
    stats = xr.Dataset(
        {
            "diverging": (("chain", "draw"), diverging),
            treedepth_name: (("chain", "draw"), depth),
            "energy": (("chain", "draw"), energy),
        }
    )
    return xr.DataTree.from_dict({"sample_stats": stats})


def test_sampler_checks_clean():
    checks = {c.name: c for c in sampler_checks(_stats_tree(0, "maxdepth_reached", 0, False))}
    assert {c.verdict for c in checks.values()} == {"ok"}
    assert set(checks) == {"divergences", "tree depth", "E-BFMI"}


@pytest.mark.parametrize("treedepth_name", ["maxdepth_reached", "reached_max_treedepth"])
def test_sampler_checks_flag_problems(treedepth_name):
    """Tree-depth saturation is read under nutpie's and PyMC's names alike."""
    checks = {c.name: c for c in sampler_checks(_stats_tree(3, treedepth_name, 7, True))}
    assert checks["divergences"].verdict == "warning"  # 3 of 1000: under 1%
    assert "3 of 1000" in checks["divergences"].detail
    assert checks["tree depth"].verdict == "warning"
    assert "7 of 1000" in checks["tree depth"].detail
    assert checks["E-BFMI"].verdict == "fail"
    many = {c.name: c for c in sampler_checks(_stats_tree(50, treedepth_name, 0, False))}
    assert many["divergences"].verdict == "fail"


def test_worst():
    assert worst(["ok", "fail", "warning"]) == "fail"
    assert worst(["ok", "warning"]) == "warning"
    assert worst([]) == "ok"


def test_flags_of_both_samplers_are_counted_together():
    """A tree holding both flags (PyMC's and nutpie's) counts a transition once."""
    tree = _stats_tree(0, "maxdepth_reached", 4, False)
    stats = tree["sample_stats"].to_dataset()
    flags = np.zeros((2, 500), dtype=bool)
    flags.flat[2:6] = True  # overlaps 2 of the 4 already flagged
    stats["reached_max_treedepth"] = (("chain", "draw"), flags)
    checks = {c.name: c for c in sampler_checks(xr.DataTree.from_dict({"sample_stats": stats}))}
    assert "6 of 1000" in checks["tree depth"].detail


def test_bfmi_matches_its_definition():
    """E-BFMI per chain = sum of squared energy differences / (n * variance) (Betancourt)."""
    tree = _stats_tree(0, "maxdepth_reached", 0, False)
    energy = tree["sample_stats"]["energy"].values
    by_hand = np.sum(np.diff(energy, axis=1) ** 2, axis=1) / np.sum(
        (energy - energy.mean(axis=1, keepdims=True)) ** 2, axis=1
    )
    checks = {c.name: c for c in sampler_checks(tree)}
    assert str(np.round(by_hand, 2).tolist()) in checks["E-BFMI"].detail


def test_only_checks_that_are_not_ok_are_warned():
    checks = [
        Check("R-hat", "ok", "fine", "none"),
        Check("ESS", "warning", "min ESS 150", "more draws"),
        Check("divergences", "fail", "50 of 1000", "reparametrise"),
    ]
    with pytest.warns(ConvergenceWarning) as record:
        warn_on_failures(checks)
    assert [str(w.message) for w in record] == [
        "ESS: min ESS 150. more draws",
        "divergences: 50 of 1000. reparametrise",
    ]


def test_the_divergence_check_names_where_divergent_draws_sit():
    rng = np.random.default_rng(1)
    shape = (2, 500)
    diverging = np.zeros(shape, dtype=bool)
    diverging.flat[::50] = True  # 20 divergences
    beta = np.exp(rng.normal(np.log(0.3), 0.2, shape))
    beta[diverging] = 0.02  # a funnel's neck: divergences where beta -> 0
    posterior = xr.Dataset(
        {
            "beta": (("chain", "draw"), beta),
            "L_inf": (("chain", "draw", "group"), rng.normal(1.8, 0.05, (*shape, 3))),
        }
    )
    stats = xr.Dataset({"diverging": (("chain", "draw"), diverging)})
    tree = xr.DataTree.from_dict({"posterior": posterior, "sample_stats": stats})
    locus = divergence_locus(tree, ["L_inf", "beta", "absent"])
    assert locus[0].startswith("beta (") and len(locus) == 2
    (check,) = sampler_checks(tree, ["L_inf", "beta"])
    assert check.verdict != "ok" and "farthest from the rest in beta" in check.detail
    stats["diverging"][:] = False
    assert divergence_locus(tree, ["beta"]) == []
