"""Degenerate data is named before fitting; too many groups are refused up front."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from bayeslaw.data import load_observations
from bayeslaw.datasets import simulate_moe
from bayeslaw.errors import DataError
from bayeslaw.models.data_checks import MAX_GROUPS, check_group_count, degenerate_data
from bayeslaw.models.registry import get_form

FORM = get_form("moe_additive")


def test_clean_simulated_data_has_no_messages():
    assert degenerate_data(simulate_moe(n_groups=2, seed=0).observations, FORM, "partial") == []


def test_an_input_with_one_value_is_named():
    frame = simulate_moe(n_groups=2, seed=0).observations.frame
    smallest = frame[frame["dense_parameter_count"] == frame["dense_parameter_count"].min()]
    (message,) = degenerate_data(load_observations(smallest), FORM, "partial")
    assert message.startswith("input 'dense_parameter_count' has one value")


def test_a_rising_loss_is_named_with_its_groups():
    frame = simulate_moe(n_groups=2, seed=0).observations.frame.copy()
    rising = frame["group"] == "group_1"
    y = frame.loc[rising, "loss_validation"]
    frame.loc[rising, "loss_validation"] = y.max() + y.min() - y  # mirrored: now rises
    messages = degenerate_data(load_observations(frame), FORM, "partial")
    assert any("rises with 'dense_parameter_count' in group(s) group_1 (" in m for m in messages)
    assert not any("group_0" in m for m in messages)


@pytest.mark.parametrize(
    ("pooling", "fallback"),
    [("partial", "from the population"), ("none", "rest on the prior")],
)
def test_fewer_rows_than_parameters(pooling, fallback):
    frame = simulate_moe(n_groups=2, seed=0).observations.frame
    few = pd.concat([frame[frame["group"] == "group_0"], frame[frame["group"] == "group_1"][:3]])
    (message,) = degenerate_data(load_observations(few), FORM, pooling)
    assert "fewer rows than the law's 5 parameters in group_1 (3)" in message
    assert fallback in message


def test_more_groups_than_a_fit_takes_are_refused():
    n = MAX_GROUPS + 1
    frame = pd.DataFrame(
        {
            "dense_parameter_count": np.tile([1e8, 2e8], n),
            "num_experts": 8.0,
            "loss_validation": 2.5,
            "group": np.repeat([f"g{i}" for i in range(n)], 2),
        }
    )
    with pytest.raises(DataError, match=f"{n} groups is more than one fit takes"):
        check_group_count(load_observations(frame))
