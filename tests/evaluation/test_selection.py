"""Model comparison and form='auto' (tiny samplers: plumbing, not statistics)."""

from __future__ import annotations

import pytest

from bayeslaw.datasets import simulate_moe
from bayeslaw.errors import FormError
from bayeslaw.evaluation.comparison import compare_forms
from bayeslaw.evaluation.selection import fit, select_form

TINY = {"draws": 60, "tune": 60, "chains": 2, "progressbar": False, "check": False}


@pytest.fixture(scope="module")
def obs():
    return simulate_moe(n_groups=2, seed=3).observations


def test_compare_forms_reports_loo_and_extrapolation(obs):
    table = compare_forms(obs, ["moe_additive", "moe_multiplicative"], **TINY)
    assert set(table.index) == {"moe_additive", "moe_multiplicative"}
    for column in ("extrap_elpd", "extrap_r2", "extrap_cover90", "elpd_loo", "weight"):
        assert column in table.columns
    assert list(table["extrap_elpd"]) == sorted(table["extrap_elpd"], reverse=True)
    assert table["weight"].sum() == pytest.approx(1.0, abs=1e-6)


def test_auto_selects_by_extrapolation_and_says_so(obs):
    result = fit(obs, form="auto", random_seed=0, **TINY)
    assert result.form_name in ("moe_additive", "moe_multiplicative", "moe_interaction")
    assert result.record.form_selected_by.startswith("auto")


def test_auto_needs_moe_inputs():
    import pandas as pd

    from bayeslaw.data import load_observations

    frame = pd.DataFrame({"tokens": [1e9, 2e9, 4e9], "loss_validation": [3.0, 2.8, 2.7]})
    obs = load_observations(frame, inputs=["tokens"])
    with pytest.raises(FormError, match="additive"):
        select_form(obs)
