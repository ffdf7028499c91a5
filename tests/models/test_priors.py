"""Default priors adapt to the data; overrides merge by name; mistakes are named."""

from __future__ import annotations

import math

import pytest

from bayeslaw.datasets import simulate_moe
from bayeslaw.errors import PriorError
from bayeslaw.models.priors import DataScale, Prior, resolve_priors
from bayeslaw.models.registry import get_form


@pytest.fixture(scope="module")
def scale():
    return DataScale.from_observations(simulate_moe(seed=0).observations)


def test_defaults_are_scale_aware(scale):
    priors = resolve_priors(get_form("moe_additive"), scale)
    assert priors.kind == "default"
    assert priors.coordinates["L_ref"].loc == pytest.approx(scale.y_mean)
    assert priors.coordinates["L_ref"].scale == pytest.approx(scale.y_sd)
    assert priors.floor == (0.0, None)
    assert priors.floor_width == pytest.approx(scale.y_min / 10)
    assert priors.coordinates["alpha"].loc == pytest.approx(math.log(0.3))
    shifted = DataScale(scale.y_mean * 10, scale.y_sd * 10, scale.y_min * 10, scale.log_input_sd)
    moved = resolve_priors(get_form("moe_additive"), shifted)
    assert moved.coordinates["L_ref"].loc == pytest.approx(10 * scale.y_mean)
    assert moved.coordinates["A_slope"].loc == pytest.approx(
        priors.coordinates["A_slope"].loc + math.log(10)
    )


def test_overrides_merge_by_name(scale):
    priors = resolve_priors(
        get_form("moe_additive"),
        scale,
        {"alpha": {"group_scale": 0.05}, "beta": Prior(0.0, 0.5, 0.1), "L_inf": (1.0, 2.0)},
    )
    assert priors.coordinates["alpha"] == Prior(math.log(0.3), 0.75, 0.05)
    assert priors.coordinates["beta"] == Prior(0.0, 0.5, 0.1)
    assert priors.floor == (1.0, 2.0)


@pytest.mark.parametrize(
    ("override", "match"),
    [
        ({"delta": {"loc": 1.0}}, r"no prior named 'delta'.*valid names: \['A_slope'"),
        ({"alpha": {"mean": 1.0}}, "unknown fields"),
        ({"alpha": {"scale": -1.0}}, "positive scales"),
        ({"L_inf": (2.0, 1.0)}, "lower < upper"),
        ({"noise": 0.0}, "must be positive"),
        ("informative", "'default', 'flat' or a mapping"),
    ],
)
def test_bad_priors_are_named(scale, override, match):
    with pytest.raises(PriorError, match=match):
        resolve_priors(get_form("moe_additive"), scale, override)
