"""Model graph: named variables, dims, finite log density and gradient; prior predictive."""

from __future__ import annotations

import numpy as np
import pytest

from bayeslaw.datasets import simulate_moe
from bayeslaw.errors import FormError, PriorError
from bayeslaw.models.hierarchical import (
    CENTER_MIN_GROUPS,
    ModelSpec,
    build_model,
    sample_prior_predictive,
)

FORMS = ["moe_additive", "moe_multiplicative", "moe_interaction"]


@pytest.fixture(scope="module")
def obs():
    return simulate_moe(n_groups=3, seed=0).observations


@pytest.mark.parametrize(
    ("form", "pooling"),
    [(f, "partial") for f in FORMS] + [("moe_additive", "none"), ("moe_additive", "complete")],
)
def test_graph_and_finite_gradient(obs, form, pooling):
    spec = ModelSpec.from_observations(obs, form=form, pooling=pooling)
    model = build_model(obs, spec)
    for name in (*spec.form.parameter_names, "noise"):
        assert model.named_vars_to_dims[name] == ("group",)
    if pooling == "partial":
        assert {"L_ref_mu", "L_ref_sigma", "alpha_mu", "alpha_sigma"} <= set(model.named_vars)
    point = model.initial_point()
    assert np.isfinite(model.compile_logp()(point))
    assert np.all(np.isfinite(model.compile_dlogp()(point)))


def test_student_t_and_flat_variants(obs):
    spec = ModelSpec.from_observations(obs, likelihood="student_t")
    assert "nu" in build_model(obs, spec).named_vars
    flat = ModelSpec.from_observations(obs, priors="flat", pooling="none")
    model = build_model(obs, flat)
    assert model.rvs_to_transforms[model["alpha_flat"]] is None  # bounds seen directly by MAP
    with pytest.raises(PriorError, match="no population level"):
        ModelSpec.from_observations(obs, priors="flat", pooling="partial")


def test_bad_spec_arguments(obs):
    with pytest.raises(PriorError, match="pooling must be one of"):
        ModelSpec.from_observations(obs, pooling="some")
    with pytest.raises(PriorError, match="likelihood must be one of"):
        ModelSpec.from_observations(obs, likelihood="cauchy")
    with pytest.raises(FormError, match="tokens"):
        ModelSpec.from_observations(obs, form="additive(tokens)")


@pytest.mark.parametrize("form", FORMS)
def test_prior_predictive_puts_mass_on_plausible_losses(obs, form):
    """Priors are weakly informative: most prior curves are finite, positive losses of
    the data's order of magnitude, while still covering every observed loss."""
    spec = ModelSpec.from_observations(obs, form=form)
    prior = sample_prior_predictive(obs, spec, draws=500, random_seed=1)
    loss, l_inf = prior["loss"], prior["L_inf"].ravel()
    y = obs.y
    median_curve = np.median(loss, axis=1)
    assert np.mean(np.isfinite(loss)) > 0.99
    plausible = (median_curve > 0) & (median_curve < 5 * y.max())
    assert plausible.mean() > 0.9
    # wide enough to cover the data: observed range inside the prior's central 95%
    lo, hi = np.quantile(loss, [0.025, 0.975])
    assert lo < y.min() and hi > y.max()
    # the soft floor range keeps L_inf mostly below the smallest observed loss
    assert np.mean(l_inf < y.min()) > 0.5


def test_centring_rule_and_override(obs):
    many = simulate_moe(n_groups=CENTER_MIN_GROUPS, seed=0).observations
    assert ModelSpec.from_observations(obs).centered == ()  # 3 groups: all non-centred
    assert ModelSpec.from_observations(many).centered == ("L_ref", "A_slope")
    assert ModelSpec.from_observations(many, pooling="none").centered == ()
    assert ModelSpec.from_observations(many, centered=()).centered == ()
    spec = ModelSpec.from_observations(obs, centered=["L_ref", "beta"])
    model = build_model(obs, spec)
    assert {"L_ref_group", "beta_group", "L_ref_mu", "L_ref_sigma"} <= set(model.named_vars)
    assert "L_ref_offset" not in model.named_vars and "alpha_offset" in model.named_vars
    point = model.initial_point()
    assert np.isfinite(model.compile_logp()(point))
    assert np.all(np.isfinite(model.compile_dlogp()(point)))
    with pytest.raises(PriorError, match=r"unknown coordinates \['gamma'\]"):
        ModelSpec.from_observations(obs, centered=["gamma"])
    with pytest.raises(PriorError, match="pooling='partial' only"):
        ModelSpec.from_observations(obs, pooling="none", centered=["L_ref"])
