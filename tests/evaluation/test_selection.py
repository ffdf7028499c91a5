"""Model comparison and form='auto' (tiny samplers: plumbing, not statistics)."""

from __future__ import annotations

import pandas as pd
import pytest

from bayeslaw.datasets import simulate_moe
from bayeslaw.errors import CalibrationWarning, FormError
from bayeslaw.evaluation import selection
from bayeslaw.evaluation.comparison import compare_forms, poor_extrapolation
from bayeslaw.evaluation.scoring import score, split_largest
from bayeslaw.evaluation.selection import fit, select_form

TINY = {"draws": 60, "tune": 60, "chains": 2, "progressbar": False, "check": False}


@pytest.fixture(scope="module")
def obs():
    return simulate_moe(n_groups=2, seed=3).observations


def test_compare_forms_reports_loo_and_extrapolation(obs, mock_nuts):
    table = compare_forms(obs, ["moe_additive", "moe_multiplicative"], **TINY)
    assert set(table.index) == {"moe_additive", "moe_multiplicative"}
    assert list(table["extrap_elpd"]) == sorted(table["extrap_elpd"], reverse=True)
    assert table["weight"].sum() == pytest.approx(1.0, abs=1e-6)
    assert (table["weight"] >= 0).all() and table["elpd_diff"].max() == pytest.approx(0.0)
    # the extrapolation scores are those of a fit on all but the largest size
    train, test = split_largest(obs)
    inner = fit(train, form="moe_additive", random_seed=0, **TINY)
    metrics, _ = score(inner, test)
    row = table.loc["moe_additive"]
    assert row["extrap_elpd"] == pytest.approx(metrics["elpd"], rel=1e-12)
    assert row["extrap_r2"] == pytest.approx(metrics["r2"], rel=1e-12)
    assert row["extrap_cover90"] == pytest.approx(metrics["cover90_obs"])


def test_auto_takes_the_best_extrapolation_elpd_and_says_so(obs, monkeypatch):
    """The rule, with the (expensive) comparison replaced by a known table."""
    seen = {}

    def known_table(data, forms, **kwargs):
        seen["forms"], seen["kwargs"] = list(forms), kwargs
        elpd = {"moe_additive": 0.3, "moe_multiplicative": 1.2, "moe_interaction": -0.5}
        table = pd.DataFrame({"extrap_elpd": [elpd[f] for f in forms]}, index=list(forms))
        table["extrap_r2"], table["extrap_cover90"] = 0.8, 0.9
        return table.sort_values("extrap_elpd", ascending=False)

    monkeypatch.setattr(selection, "compare_forms", known_table)
    result = fit(obs, form="auto", method="map", random_seed=3)
    assert seen["forms"] == list(selection.AUTO_CANDIDATES)
    assert seen["kwargs"]["method"] == "map" and seen["kwargs"]["random_seed"] == 3
    assert result.form_name == "moe_multiplicative"
    assert result.record.form_selected_by == selection.SELECTED_BY
    assert result.record.extrapolation["moe_multiplicative"] == {
        "extrap_elpd": 1.2, "extrap_r2": 0.8, "extrap_cover90": 0.9
    }  # fmt: skip


def test_auto_warns_when_the_chosen_law_extrapolated_poorly(obs, monkeypatch):
    def poor_table(data, forms, **kwargs):
        return pd.DataFrame(
            {"extrap_elpd": [1.0, 0.5], "extrap_r2": [0.9, 0.9], "extrap_cover90": [0.5, 0.9]},
            index=["moe_multiplicative", "moe_additive"],
        )

    monkeypatch.setattr(selection, "compare_forms", poor_table)
    with pytest.warns(CalibrationWarning, match="covered 50% of those runs"):
        fit(obs, form="auto", method="map", random_seed=3)


def test_poor_extrapolation_rule():
    good = {"extrap_cover90": 0.9, "extrap_r2": 0.5, "extrap_elpd": 1.0}
    assert poor_extrapolation("f", good) is None
    assert "R^2 was -0.20" in poor_extrapolation("f", {**good, "extrap_r2": -0.2})
    assert poor_extrapolation("f", {**good, "extrap_cover90": 0.69}) is not None


def test_auto_tries_the_families_that_fit_the_data_inputs():
    import pandas as pd

    from bayeslaw.data import load_observations

    frame = pd.DataFrame({"tokens": [1e9, 2e9, 4e9], "loss_validation": [3.0, 2.8, 2.7]})
    one = load_observations(frame, inputs=["tokens"])
    assert selection.applicable_forms(one) == [
        "additive(tokens)", "rectified(tokens)", "broken_power(tokens)"
    ]  # fmt: skip
    two = load_observations(frame.assign(params=[1e8, 1e8, 2e8]), inputs=["params", "tokens"])
    assert selection.applicable_forms(two) == [
        "chinchilla(params,tokens)", "chinchilla_tied(params,tokens)"
    ]  # fmt: skip
    three = load_observations(
        frame.assign(params=[1e8, 1e8, 2e8], width=[1.0, 2.0, 3.0]),
        inputs=["params", "tokens", "width"],
    )
    with pytest.raises(FormError, match="no built-in form for inputs"):
        select_form(three)


def test_auto_chooses_among_given_candidates(obs, monkeypatch):
    from bayeslaw.models.expressions import law_form

    mine = law_form("L_inf + A * (dense_parameter_count * num_experts)**(-alpha)",
                    inputs=["dense_parameter_count", "num_experts"], name="mine")  # fmt: skip

    def known_table(data, forms, **kwargs):
        names = [f if isinstance(f, str) else f.name for f in forms]
        table = pd.DataFrame({"extrap_elpd": [0.1, 0.9]}, index=names)
        table["extrap_r2"], table["extrap_cover90"] = 0.8, 0.9
        return table.sort_values("extrap_elpd", ascending=False)

    monkeypatch.setattr(selection, "compare_forms", known_table)
    result = fit(obs, form="auto", candidates=["moe_additive", mine], method="map")
    assert result.form_name == mine.name
    with pytest.raises(FormError, match="candidates= applies to form='auto' only"):
        fit(obs, form="moe_additive", candidates=[mine])
