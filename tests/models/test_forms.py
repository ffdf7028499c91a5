"""Law forms against hand-computed numbers, on numpy and pytensor alike."""

from __future__ import annotations

import math

import numpy as np
import pytest

from bayeslaw.errors import FormError
from bayeslaw.models.forms import additive_form, reference_scale
from bayeslaw.models.registry import available_forms, get_form

N, E = "dense_parameter_count", "num_experts"


def test_moe_additive_by_hand():
    form = get_form("moe_additive")
    theta = {"L_inf": 1.5, "A": 2.0, "alpha": 0.5, "B": 0.3, "beta": 1.0}
    x = {N: np.array([4.0]), E: np.array([2.0])}
    assert form(x, theta)[0] == pytest.approx(1.5 + 2.0 / 2.0 + 0.3 / 2.0)


def test_moe_multiplicative_by_hand():
    form = get_form("moe_multiplicative")
    theta = {"L_inf": 1.0, "A": 3.0, "alpha": 1.0, "beta": 0.5}
    assert form({N: 2.0, E: 4.0}, theta) == pytest.approx(1.0 + 3.0 / 2.0 / 2.0)


def test_moe_interaction_reduces_to_multiplicative_at_reference_size():
    inter, mult = get_form("moe_interaction"), get_form("moe_multiplicative")
    theta = {"L_inf": 1.0, "A": 3.0, "alpha": 0.3, "beta": 0.2, "gamma": 0.05}
    x = {N: 1.0, E: 8.0}
    assert inter(x, theta) == pytest.approx(mult(x, theta))
    # away from N0 the expert exponent is beta + gamma * log N
    x2 = {N: math.e, E: 8.0}
    expected = 1.0 + 3.0 * math.e**-0.3 * 8.0 ** -(0.2 + 0.05)
    assert inter(x2, theta) == pytest.approx(expected)


def test_forms_run_on_pytensor():
    pt = pytest.importorskip("pytensor.tensor")
    for name in ("moe_additive", "moe_multiplicative", "moe_interaction"):
        form = get_form(name)
        theta_np = {p: 0.5 for p in form.parameter_names}
        x_np = {N: np.array([0.5, 2.0]), E: np.array([1.0, 16.0])}
        theta_pt = {p: pt.as_tensor_variable(v) for p, v in theta_np.items()}
        x_pt = {k: pt.as_tensor_variable(v) for k, v in x_np.items()}
        np.testing.assert_allclose(form(x_pt, theta_pt).eval(), form(x_np, theta_np))


@pytest.mark.parametrize("name", ["moe_additive", "moe_multiplicative", "moe_interaction"])
def test_to_raw_gives_the_same_law_in_raw_units(name):
    """Raw coefficients evaluated on raw inputs equal scaled ones on scaled inputs."""
    form = get_form(name)
    scales = {N: 1e8, E: 10.0}
    theta = {"L_inf": 1.6, "A": 0.8, "alpha": 0.3, "B": 0.2, "beta": 0.1, "gamma": 0.02}
    theta = {p: np.float64(theta[p]) for p in form.parameter_names}
    raw_x = {N: np.array([2e7, 3e8, 1.3e9]), E: np.array([1.0, 8.0, 512.0])}
    scaled = form(form.scale_inputs(raw_x, scales), theta)
    raw = form.to_raw(theta, scales)
    unit = dict.fromkeys(form.inputs, 1.0)
    if name == "moe_interaction":  # the raw law keeps N0 = scales[N] inside its log term
        n0 = scales[N]
        direct = raw["L_inf"] + raw["A"] * raw_x[N] ** -raw["alpha"] * raw_x[E] ** -(
            raw["beta"] + raw["gamma"] * np.log(raw_x[N] / n0)
        )
    else:
        direct = form(form.scale_inputs(raw_x, unit), raw)
    np.testing.assert_allclose(direct, scaled, rtol=1e-10)


def test_additive_family_over_named_inputs():
    form = get_form("additive(params, tokens)")
    assert form.name == "additive(params,tokens)"
    assert form.parameter_names == ("L_inf", "A", "alpha", "B", "beta")
    theta = {"L_inf": 1.69, "A": 406.4, "alpha": 0.34, "B": 410.7, "beta": 0.28}
    x = {"params": 7e10, "tokens": 1.4e12}  # Chinchilla's own law at its compute optimum
    expected = 1.69 + 406.4 / 7e10**0.34 + 410.7 / 1.4e12**0.28
    assert form(x, theta) == pytest.approx(expected)
    single = additive_form(["tokens"])
    assert single.parameter_names == ("L_inf", "A", "alpha")


def test_unknown_form_lists_choices():
    with pytest.raises(FormError, match="moe_additive"):
        get_form("moe_quadratic")
    with pytest.raises(FormError, match="distinct inputs"):
        additive_form(["x", "x"])
    assert "moe_interaction" in available_forms()


def test_missing_input_is_named():
    form = get_form("moe_additive")
    with pytest.raises(FormError, match="num_experts"):
        form.scale_inputs({N: np.ones(2)}, {N: 1.0, E: 1.0})


def test_reference_scale_is_power_of_ten_near_geometric_mean():
    assert reference_scale(np.array([1.65e7, 3.68e8])) == 1e8
    assert reference_scale(np.array([1.0, 512.0])) == 10.0
