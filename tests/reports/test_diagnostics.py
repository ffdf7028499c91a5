"""The diagnostics report of a tiny real fit, and of fits it does not apply to."""

from __future__ import annotations

import dataclasses

from bayeslaw.inference.diagnostics import loo_check, worst
from bayeslaw.posterior.fit import Fit
from bayeslaw.reports.diagnostics import diagnose_fit, free_variables

CHECKS = {"R-hat", "ESS", "MCSE", "divergences", "tree depth", "E-BFMI", "PSIS-LOO"}


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
    """The names are those PyMC samples: not the law's parameters nor deterministics."""
    names = free_variables(tiny_fit)
    assert "noise_group" in names
    assert not {"L_inf", "A", "noise"} & set(names)  # law parameters and deterministics
    assert set(names) <= set(map(str, tiny_fit.datatree["posterior"].data_vars))


def test_free_variables_come_from_the_record(tiny_fit: Fit, fit_without_data: Fit):
    assert list(tiny_fit.record.free_variables) == free_variables(tiny_fit)
    assert free_variables(fit_without_data) == free_variables(tiny_fit)


def test_free_variables_of_an_old_fit_that_recorded_none(fit_without_data: Fit):
    """A format-1 fit may record no names: every non-law variable is checked."""
    record = dataclasses.replace(fit_without_data.record, free_variables=())
    names = free_variables(dataclasses.replace(fit_without_data, record=record))
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


def test_fit_time_warnings_are_the_reports_failing_checks(tiny_fit: Fit):
    """One engine: what the fit warned about is what the report grades as not ok (the
    report adds PSIS-LOO, which is not a sampler check)."""
    report = diagnose_fit(tiny_fit)
    failing = [str(c) for c in report.checks if not c.ok and c.name != "PSIS-LOO"]
    assert failing  # 2 chains x 50 draws
    assert list(tiny_fit.record.convergence_problems) == failing
