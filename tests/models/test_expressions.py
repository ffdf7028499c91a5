"""Law forms from expressions: the whitelist, roles, numpy = pytensor, and built-in equality."""

from __future__ import annotations

import numpy as np
import pytensor
import pytensor.tensor as pt
import pytest

from bayeslaw.errors import FormError
from bayeslaw.models.anchors import coordinates, inverse_link, to_law_params
from bayeslaw.models.expressions import describe, law_form
from bayeslaw.models.registry import get_form

RECTIFIED = "L_inf + B / (D_l + D**beta)"


def test_roles_follow_the_conventions_and_are_declared_over():
    form = law_form(RECTIFIED, inputs=["D"])
    roles = {p.name: p.role for p in form.parameters}
    assert roles == {"L_inf": "floor", "B": "coefficient", "D_l": "coefficient",
                     "beta": "exponent"}  # fmt: skip
    chin = law_form("E + A / N**a + B / D**a", inputs=["N", "D"])
    assert {p.name: p.role for p in chin.parameters} == {
        "E": "floor", "A": "coefficient", "a": "exponent", "B": "coefficient"
    }  # fmt: skip  # 'a' only in exponents, written twice: one tied exponent
    declared = law_form("L0 + c * x**(-k)", inputs=["x"], real=["c"], floor="L0")
    assert {p.name: p.role for p in declared.parameters} == {
        "L0": "floor", "c": "real", "k": "exponent"
    }  # fmt: skip
    assert law_form("A * x**(-alpha)", inputs=["x"]).floor is None


def test_numpy_and_pytensor_give_the_same_values():
    form = law_form("L_inf + b * x**(-c0) * (1 + (x / d1)**(1 / f1))**(-c1 * f1) + "
                    "0.1 * tanh(log(x)) + sqrt(x) * 0 + exp(-x) * 0", inputs=["x"])  # fmt: skip
    theta = {"L_inf": 1.5, "b": 0.7, "c0": 0.3, "d1": 2.0, "f1": 0.5, "c1": 0.2}
    x = np.geomspace(0.01, 100, 7)
    numpy_value = form({"x": x}, theta)
    symbols = {k: pt.dscalar(k) for k in theta}
    xs = pt.dvector("x")
    compiled = pytensor.function([xs, *symbols.values()], form({"x": xs}, symbols))
    np.testing.assert_allclose(compiled(x, *theta.values()), numpy_value, rtol=1e-12)
    by_hand = 1.5 + 0.7 * x**-0.3 * (1 + (x / 2) ** 2) ** (-0.1) + 0.1 * np.tanh(np.log(x))
    np.testing.assert_allclose(numpy_value, by_hand, rtol=1e-12)


def test_the_name_rebuilds_the_same_form():
    form = law_form(RECTIFIED, inputs=["D"], name="rect", positive=["D_l"])
    again = get_form(form.name)
    assert again.name == form.name and again.parameter_names == form.parameter_names
    x, theta = {"D": np.array([0.5, 3.0])}, {"L_inf": 1.0, "B": 2.0, "D_l": 0.3, "beta": 0.4}
    np.testing.assert_array_equal(form(x, theta), again(x, theta))


@pytest.mark.parametrize(
    ("expression", "inputs", "match"),
    [
        ("L_inf + A * x**(-", ["x"], "does not parse"),
        ("__import__('os').system('x')", ["x"], "unknown function"),
        ("L_inf + A.real * x", ["x"], "the construct"),
        ("L_inf + A * x[0]", ["x"], "the construct"),
        ("L_inf + erf(x)", ["x"], "unknown function 'erf"),
        ("L_inf + log(x, 2)", ["x"], "exactly one argument"),
        ("L_inf + A * x % 2", ["x"], "the operator"),
        ("L_inf + 'a'", ["x"], "the constant"),
        ("x * 2", ["x"], "has no parameter"),
        ("L_inf + A * x", ["x", "y"], r"input\(s\) \['y'\] do not appear"),
        ("", ["x"], "non-empty"),
        ("L_inf + A * log", ["x"], "function name used as a value"),
    ],
)
def test_bad_expressions_are_named(expression, inputs, match):
    with pytest.raises(FormError, match=match):
        law_form(expression, inputs=inputs)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"positive": ["Z"]}, r"declared parameter\(s\) \['Z'\] do not appear"),
        ({"positive": ["B"], "real": ["B"]}, "both positive and real"),
        ({"floor": "B"}, "must be a term of the expression's top-level sum"),
        ({"name": "has space"}, "may hold letters"),
        ({"bounds": {"Z": (0, 1)}}, "not a parameter of the expression"),
        ({"bounds": {"L_inf": (0, 1)}}, "has its own range prior"),
        ({"bounds": {"beta": (2, 1)}}, "finite lower < upper"),
        ({"bounds": {"beta": (0, float("inf"))}}, "finite lower < upper"),
        ({"bounds": {"beta": 3}}, r"must be \(lower, upper\)"),
        ({"bounds": [("beta", 0, 1)]}, "must map parameter names"),
    ],
)
def test_bad_declarations_are_named(kwargs, match):
    with pytest.raises(FormError, match=match):
        law_form(RECTIFIED, inputs=["D"], **kwargs)


def test_registered_literature_laws_evaluate_as_published():
    x = {"N": np.array([0.5, 2.0]), "D": np.array([3.0, 0.7])}
    tied = get_form("chinchilla_tied(N,D)")
    t = {"L_inf": 1.8, "A": 0.4, "B": 0.9, "alpha": 0.3}
    np.testing.assert_allclose(tied(x, t), 1.8 + 0.4 * x["N"] ** -0.3 + 0.9 * x["D"] ** -0.3)
    kaplan = get_form("kaplan(N,D)")
    k = {"N_c": 5.0, "alpha_N": 0.076, "alpha_D": 0.095, "D_c": 3.0}
    expected = ((5.0 / x["N"]) ** (0.076 / 0.095) + 3.0 / x["D"]) ** 0.095
    np.testing.assert_allclose(kaplan(x, k), expected)
    rect = get_form("rectified(D)")
    r = {"L_inf": 1.0, "B": 2.0, "D_l": 0.5, "beta": 0.6}
    np.testing.assert_allclose(rect(x, r), 1.0 + 2.0 / (0.5 + x["D"] ** 0.6))
    assert get_form("chinchilla(N,D)").parameter_names == ("L_inf", "A", "alpha", "B", "beta")


def test_describe_says_each_role_and_default_prior():
    text = describe(law_form(RECTIFIED, inputs=["D"]))
    assert "  L_inf: floor," in text and "  beta: exponent, log(exponent) ~ Normal" in text
    assert "  D_l: coefficient, log(coefficient) ~ Normal(log sd(y), 2)" in text
    assert "no floor" in describe(law_form("A * x**(-alpha)", inputs=["x"]))


def test_bounds_keep_a_parameter_in_its_interval_and_survive_the_name():
    form = law_form(RECTIFIED, inputs=["D"], name="rect", bounds={"beta": (0.1, 1.5)})
    assert form.parameter("beta").bounds == (0.1, 1.5)
    assert "beta: exponent, in (0.1, 1.5)" in describe(form)
    again = get_form(form.name)
    assert again.name == form.name and again.parameter("beta").bounds == (0.1, 1.5)
    (coord,) = [c for c in coordinates(form) if c.name == "beta"]
    assert coord.link == "logit"
    u = np.array([-50.0, -1.0, 0.0, 2.0, 50.0])
    values = inverse_link(coord, u)
    assert np.all((values >= 0.1) & (values <= 1.5)) and values[2] == pytest.approx(0.8)
    assert np.all(np.diff(values) > 0)


def test_a_power_term_of_a_bounded_exponent_is_not_solved_for():
    form = law_form("L_inf + A / N**alpha", inputs=["N"])
    assert [s.name for s in form.slopes] == ["A_slope"]
    bounded = law_form("L_inf + A / N**alpha", inputs=["N"], bounds={"alpha": (0.05, 2.0)})
    assert bounded.slopes == () and "reference scales" not in bounded.equation


@pytest.mark.parametrize(
    "expression",
    ["L_inf + B / (D_l + D**beta)", "L_inf + B / (D**beta + D_l)", "L_inf + B / (1 + D**beta)"],
)
def test_a_saturating_term_samples_its_tails_slope_in_place_of_its_coefficient(expression):
    form = law_form(expression, inputs=["D"])
    assert [(s.name, s.coefficient, s.exponent, s.input) for s in form.slopes] == [
        ("B_slope", "B", "beta", "D")
    ]
    assert "reference scales" in form.equation  # its constant has no raw-unit conversion
    names = [c.name for c in coordinates(form)]
    assert "B_slope" in names and "B" not in names
    values = {"L_ref": 2.0, "B_slope": 0.6, "beta": 0.3, "D_l": 0.5}
    theta = to_law_params(form, {k: v for k, v in values.items() if k in names})
    assert theta["B"] == pytest.approx(2.0)
    # the level is the loss at the reference point, D = 1
    assert form({"D": np.array([1.0])}, theta)[0] == pytest.approx(2.0)
    assert "sampled as B_slope = B * beta" in describe(form)


def test_a_sum_with_the_input_in_it_is_not_a_saturating_term():
    assert law_form("L_inf + B / (D + D**beta)", inputs=["D"]).slopes == ()
