"""Diagnostics: verdict rules on hand-built inputs, then the report of a tiny real fit."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from bayeslaw.inference.result import Fit
from bayeslaw.reports.diagnostics import diagnose_fit, free_variables
from bayeslaw.reports.sampler_checks import (
    convergence_checks,
    loo_check,
    sampler_checks,
    worst,
)

CHECKS = {"R-hat", "ESS", "MCSE", "divergences", "tree depth", "E-BFMI", "PSIS-LOO"}


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


def test_diagnose_nuts_fit(tiny_fit: Fit):
    report = diagnose_fit(tiny_fit)
    assert report.applicable and report.method == "nuts"
    table = report.checks_table()
    assert set(table.index) == CHECKS
    assert set(table["verdict"]) <= {"ok", "warning", "fail"}
    assert report.verdict == worst(list(table["verdict"]))
    # 2 chains x 50 draws cannot reach ESS 200
    assert table.loc["ESS", "verdict"] != "ok"
    assert {"r_hat", "ess_bulk", "ess_tail", "mcse_mean", "eti90_lb", "eti90_ub"} <= set(
        report.summary.columns
    )
    variables = set(report.summary["variable"])
    assert {"L_inf", "A", "alpha", "B", "beta", "noise_group"} <= variables
    by_var = report.by_variable()
    assert set(by_var.index) == variables
    assert (by_var["components"] >= 1).all()
    assert report.loo.loc[0, "n_data_points"] == len(tiny_fit.observations)
    assert report.pareto_k["count"].sum() == len(tiny_fit.observations)
    assert report.text and all(c.advice for c in report.checks)


def test_free_variables_are_the_model_free_rvs(tiny_fit: Fit):
    names = free_variables(tiny_fit)
    assert "noise_group" in names
    assert not {"L_inf", "A", "noise"} & set(names)  # law parameters and deterministics
    assert set(names) <= set(map(str, tiny_fit.datatree["posterior"].data_vars))


def test_free_variables_are_stored_at_fit_time(tiny_fit: Fit, fit_without_data: Fit):
    assert tiny_fit.info["free_variables"] == free_variables(tiny_fit)
    assert free_variables(fit_without_data) == free_variables(tiny_fit)


def test_free_variables_of_an_old_fit_without_observations(fit_without_data: Fit):
    """An older fit stores no names and, without data, cannot be rebuilt: every non-law
    variable is checked."""
    info = {k: v for k, v in fit_without_data.info.items() if k != "free_variables"}
    names = free_variables(dataclasses.replace(fit_without_data, info=info))
    posterior = set(map(str, fit_without_data.datatree["posterior"].data_vars))
    assert set(names) == posterior - {"L_inf", "A", "alpha", "B", "beta"}
    assert names == sorted(names)


def test_diagnose_map_fit_does_not_apply(map_fit: Fit):
    report = diagnose_fit(map_fit)
    assert not report.applicable and report.verdict is None
    assert report.checks == () and report.summary.empty and report.loo.empty
    assert "MAP" in report.text and "do not apply" in report.text
    assert report.checks_table().empty and report.by_variable().empty


def test_loo_check_without_log_likelihood(map_fit: Fit):
    loo, pareto, check = loo_check(map_fit.datatree)
    assert loo.empty and pareto.empty and check is None
