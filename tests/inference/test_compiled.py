"""Compile once per structure: the structure key, the data containers, and reuse.

Fast tests check the two facts reuse rests on: models with one structure key differ only in
their data containers (same log density once the data are swapped), and the key changes with
everything that shapes the graph. The slow test runs nutpie: a sampler reused from memory or
from disk with another dataset's values gives exactly the draws of a fresh compilation.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pymc as pm
import pytest

from bayeslaw.datasets import simulate_crossed, simulate_moe
from bayeslaw.inference import compiled
from bayeslaw.inference.fitting import fit
from bayeslaw.models.hierarchical import ModelSpec, build_model, model_data, structure_key
from bayeslaw.models.registry import get_form


def _obs(seed: int, n_groups: int = 3):
    return simulate_moe(n_groups=n_groups, seed=seed).observations


def _spec(obs, **kwargs):
    return ModelSpec.from_observations(obs, form="moe_additive", **kwargs)


def test_key_ignores_the_data_values_and_the_priors_numbers():
    a, b = _obs(0), _obs(1)
    assert _spec(a).priors != _spec(b).priors  # data-scaled priors differ ...
    assert structure_key(_spec(a)) == structure_key(_spec(b))  # ... the structure does not


@pytest.mark.parametrize(
    "change",
    [
        {"pooling": "none"},
        {"likelihood": "student_t"},
        {"noise": "scaled"},
        {"centered": ("L_ref",)},
        {"form": "moe_interaction"},
    ],
)
def test_key_changes_with_the_structure(change):
    obs = _obs(0)
    base = structure_key(_spec(obs))
    form = change.pop("form", "moe_additive")
    other = ModelSpec.from_observations(obs, form=form, **change)
    assert structure_key(other) != base


def test_key_counts_groups_and_levels():
    assert structure_key(_spec(_obs(0, 3))) != structure_key(_spec(_obs(0, 4)))
    crossed = simulate_crossed(seed=0).observations
    spec = ModelSpec.from_observations(crossed, form="rectified(D)")
    fewer = ModelSpec.from_observations(crossed, form="rectified(D)", interaction=False)
    assert structure_key(spec) != structure_key(fewer)


def test_key_names_the_factors():
    """Factors name the model's variables and dims: same level counts, other names, other
    key."""
    from bayeslaw.data import load_observations

    crossed = simulate_crossed(seed=0).observations
    frame = crossed.frame.drop(columns="group").rename(
        columns={"model": "corpus", "dataset": "eval_set"}
    )
    renamed = load_observations(frame, inputs=["D"], groups=("corpus", "eval_set"))
    spec = ModelSpec.from_observations(crossed, form="rectified(D)")
    other = ModelSpec.from_observations(renamed, form="rectified(D)")
    assert [len(v) for _, v in spec.factors] == [len(v) for _, v in other.factors]
    assert structure_key(spec) != structure_key(other)


def test_model_data_are_the_models_data_containers():
    obs = _obs(0)
    spec = _spec(obs)
    model = build_model(obs, spec)
    values = model_data(obs, spec)
    assert {v.name for v in model.data_vars} == set(values)
    for var in model.data_vars:
        np.testing.assert_array_equal(var.get_value(), values[var.name])


@pytest.mark.parametrize("form", ["moe_additive", "rectified(D)"])
def test_swapping_the_data_gives_the_other_datasets_model(form):
    """The reuse contract: a model of dataset A with dataset B's data containers has B's
    log density (at the same point), though B has other rows and other prior numbers."""
    if form == "rectified(D)":
        a = simulate_crossed(seed=0).observations
        b = simulate_crossed(seed=1).observations
        b = b.subset(np.arange(len(b)) % 5 != 0)
        kwargs = {"centered": ()}
    else:
        a, b = _obs(0), _obs(1)
        b = b.subset(np.arange(len(b)) >= 10)
        kwargs = {}
    spec_a = ModelSpec.from_observations(a, form=form, **kwargs)
    spec_b = ModelSpec.from_observations(b, form=form, **kwargs)
    assert structure_key(spec_a) == structure_key(spec_b)
    assert len(a) != len(b)
    model_a, model_b = build_model(a, spec_a), build_model(b, spec_b)
    point = model_b.initial_point()
    point = {k: v + 0.1 for k, v in point.items()}
    expected = model_b.compile_logp()(point)
    pm.set_data(model_data(b, spec_b), model=model_a)
    assert model_a.compile_logp()(point) == pytest.approx(expected, rel=1e-12)


def test_cache_dir_follows_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv(compiled.CACHE_ENV, str(tmp_path))
    assert compiled.cache_dir() == tmp_path
    for off in ("off", ""):
        monkeypatch.setenv(compiled.CACHE_ENV, off)
        assert compiled.cache_dir() is None
    monkeypatch.delenv(compiled.CACHE_ENV)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert compiled.cache_dir() == tmp_path / "bayeslaw" / "compiled"


def test_disk_entries_are_keyed_by_the_model_source(monkeypatch, tmp_path):
    # a sampler compiled from an edited graph names variables the new model lacks
    (tmp_path / "hierarchical.py").write_text("sigma = 'HalfNormal'\n")
    monkeypatch.setattr(compiled, "GRAPH_SOURCE", tmp_path)
    compiled._graph_source_digest.cache_clear()
    try:
        before = compiled._environment_digest()
        (tmp_path / "hierarchical.py").write_text("sigma = 'Dirichlet share'\n")
        compiled._graph_source_digest.cache_clear()
        after = compiled._environment_digest()
    finally:
        compiled._graph_source_digest.cache_clear()
    assert before != after


def _draws(result):
    return result.datatree["posterior"]["alpha"].values


@pytest.mark.slow
def test_reused_samplers_give_the_draws_of_a_fresh_compilation(monkeypatch, tmp_path):
    settings = {"draws": 40, "tune": 40, "chains": 2, "random_seed": 3, "progressbar": False,
                "check": False}  # fmt: skip
    a, b = _obs(0), _obs(1)
    b = b.subset(np.arange(len(b)) >= 5)
    monkeypatch.setenv(compiled.CACHE_ENV, "off")
    compiled.clear_memory()
    fresh = fit(b, **settings)
    assert fresh.record.sampling.compile["cache"] == "miss"
    assert "disk cache off" in fresh.record.sampling.compile["note"]

    monkeypatch.setenv(compiled.CACHE_ENV, str(tmp_path))
    compiled.clear_memory()
    first = fit(a, **settings)
    assert first.record.sampling.compile["cache"] == "miss"
    assert list(tmp_path.glob("*.pkl")), "the compiled functions were saved"
    again = fit(b, **settings)
    assert again.record.sampling.compile["cache"] == "memory"
    np.testing.assert_array_equal(_draws(again), _draws(fresh))
    assert list(again.datatree["posterior"]["group"].values) == list(b.groups)

    compiled.clear_memory()  # as a new process would: only the disk entry is left
    loaded = fit(b, **settings)
    assert loaded.record.sampling.compile["cache"] == "disk"
    np.testing.assert_array_equal(_draws(loaded), _draws(fresh))
    assert not np.array_equal(_draws(first), _draws(fresh))


def test_key_names_the_sampled_coordinates():
    """A law sampled in other coordinates (the rectified law before its coefficient was
    sampled as its tail's slope) is another graph, though its name and equation are the
    same: a sampler cached for one must not be handed to the other."""
    crossed = simulate_crossed(seed=0).observations
    form = get_form("rectified(D)")
    older = replace(form, slopes=())
    assert (older.name, older.equation) == (form.name, form.equation)
    keys = {
        structure_key(ModelSpec.from_observations(crossed, form=f, pooling="none"))
        for f in (form, older)
    }
    assert len(keys) == 2
