"""The identified coordinates map back to the law's parameters exactly."""

from __future__ import annotations

import numpy as np
import pytest

from bayeslaw.models.anchors import LEVEL, coordinates, to_law_params
from bayeslaw.models.registry import get_form


@pytest.mark.parametrize("name", ["moe_additive", "moe_multiplicative", "moe_interaction"])
def test_coordinates_describe_the_law_at_the_reference_point(name):
    form = get_form(name)
    theta = {"L_inf": 1.6, "A": 0.8, "alpha": 0.3, "B": 0.2, "beta": 0.1, "gamma": 0.02}
    theta = {p: theta[p] for p in form.parameter_names}
    unit = dict.fromkeys(form.inputs, 1.0)
    values = {LEVEL: form(unit, theta)}
    for c in coordinates(form):
        if c.kind in ("exponent", "interaction"):
            values[c.name] = theta[c.name]
    for slope in form.slopes:
        values[slope.name] = theta[slope.coefficient] * theta[slope.exponent]
        # the slope is minus the log-derivative along that input at the reference point
        h = 1e-6
        bumped = form({**unit, slope.input: np.exp(h)}, theta)
        assert -(bumped - values[LEVEL]) / h == pytest.approx(values[slope.name], rel=1e-4)
    back = to_law_params(form, values)
    assert back == pytest.approx(theta)
    assert coordinates(form)[0].name == LEVEL


def test_coordinate_links():
    kinds = {c.name: (c.kind, c.link) for c in coordinates(get_form("moe_interaction"))}
    assert kinds == {
        "L_ref": ("level", "identity"),
        "alpha": ("exponent", "log"),
        "gamma": ("interaction", "identity"),
        "A_slope": ("slope", "log"),
        "E_slope": ("slope", "log"),
    }
