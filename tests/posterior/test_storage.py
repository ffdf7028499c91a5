"""Saved fits round-trip exactly, load without PyMC, and refuse damaged artifacts."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from bayeslaw.errors import FitArtifactError
from bayeslaw.posterior.fit import load_fit

GRID = {"dense_parameter_count": np.array([2e7, 1.3e9]), "num_experts": np.array([1.0, 64.0])}


@pytest.fixture(scope="module")
def saved(small_fit, tmp_path_factory):
    return small_fit.save(tmp_path_factory.mktemp("fits") / "fit")


def test_round_trip_predictions_are_identical(small_fit, saved):
    loaded = load_fit(saved)
    for group in ("group_2", "unseen"):
        for kind in ("mean", "observation"):
            a = small_fit.predict(GRID, group=group, kind=kind)
            b = loaded.predict(GRID, group=group, kind=kind)
            np.testing.assert_array_equal(
                a[["mean", "lower", "upper"]], b[["mean", "lower", "upper"]]
            )
    assert loaded.record == small_fit.record
    assert "posterior" in loaded.datatree.children


def test_artifact_is_self_describing(saved, small_fit):
    meta = json.loads((saved / "fit.json").read_text())
    assert meta["format_version"] == 2
    assert meta["model"]["form"] == "moe_additive" and meta["model"]["pooling"] == "partial"
    assert meta["model"]["groups"] == ["group_0", "group_1", "group_2"]
    assert meta["provenance"]["data_hash"] == small_fit.observations.content_hash()
    assert meta["sampling"]["settings"]["draws"] == 300
    assert set(meta["provenance"]["versions"]) >= {"pymc", "nutpie", "numpy"}
    params = json.loads((saved / "params.json").read_text())
    assert set(params["coefficients"]["group_0"]) == {"L_inf", "A", "alpha", "B", "beta"}
    lower, upper = params["intervals"]["group_0"]["alpha"]
    assert lower < params["coefficients"]["group_0"]["alpha"] < upper
    assert "| group_0 | alpha |" in (saved / "explain.md").read_text()


def test_loading_and_predicting_imports_neither_pymc_nor_arviz(saved):
    code = (
        "import sys, bayeslaw\n"
        f"fit = bayeslaw.load_fit({str(saved)!r})\n"
        "fit.predict({'dense_parameter_count': [1e9], 'num_experts': [8]}, group='x')\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in "
        "('pymc', 'arviz', 'arviz_base', 'arviz_stats', 'pytensor', 'xarray'))\n"
        "print(bad)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_damaged_artifacts_raise(small_fit, tmp_path):
    path = small_fit.save(tmp_path / "fit", datatree=False)
    data = (path / "posterior.npz").read_bytes()
    (path / "posterior.npz").write_bytes(data[: len(data) // 2])
    with pytest.raises(FitArtifactError, match="checksum"):
        load_fit(path)
    (path / "fit.json").write_text('{"format_version": 2, "mod')
    with pytest.raises(FitArtifactError, match="corrupted"):
        load_fit(path)
    with pytest.raises(FitArtifactError, match="no saved fit"):
        load_fit(tmp_path / "nowhere")


def test_mismatch_and_foreign_directory(small_fit, saved, tmp_path):
    with pytest.raises(FitArtifactError, match="data_hash"):
        load_fit(saved, data_hash="0" * 64)
    with pytest.raises(FitArtifactError, match="form='moe_additive', expected"):
        load_fit(saved, form="moe_interaction")
    foreign = tmp_path / "mine"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("keep me")
    with pytest.raises(FitArtifactError, match="not a bayeslaw fit"):
        small_fit.save(foreign, datatree=False)
    assert (foreign / "notes.txt").read_text() == "keep me"
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temp left


def test_observations_travel_with_the_fit_for_reports(small_fit, saved):
    assert load_fit(saved).observations is None  # prediction never reads them
    loaded = load_fit(saved, with_observations=True)
    original = small_fit.observations
    assert loaded.observations.content_hash() == original.content_hash()
    assert loaded.observations.groups == original.groups


@pytest.mark.parametrize(
    "settings",
    [
        {"method": "map", "pooling": "partial"},
        {"method": "map", "pooling": "none", "priors": "flat"},
        {"method": "map", "pooling": "complete"},
        {"method": "map", "pooling": "partial", "likelihood": "student_t"},
    ],
)
def test_round_trip_of_other_kinds_of_fit(settings, tmp_path):
    """MAP, flat/no pooling, complete pooling and Student-t fits save and load exactly."""
    from bayeslaw.datasets import simulate_moe
    from bayeslaw.inference.fitting import fit

    result = fit(simulate_moe(n_groups=2, seed=4).observations, random_seed=0, **settings)
    loaded = load_fit(result.save(tmp_path / "fit"), with_observations=True)
    assert loaded.record == result.record
    assert (loaded.draws.nu is None) == (settings.get("likelihood") != "student_t")
    groups = ["group_0"] + ([] if settings["pooling"] == "none" else ["unseen"])
    for group in groups:
        a = result.predict(GRID, group=group, kind="observation")
        b = loaded.predict(GRID, group=group, kind="observation")
        np.testing.assert_array_equal(a[["mean", "lower", "upper"]], b[["mean", "lower", "upper"]])
    assert "posterior" in loaded.datatree.children


@pytest.mark.slow
def test_round_trip_of_a_centred_nuts_fit(tmp_path):
    from bayeslaw.datasets import simulate_moe
    from bayeslaw.inference.fitting import fit

    obs = simulate_moe(n_groups=2, seed=4).observations
    result = fit(obs, centered=("L_ref",), draws=50, tune=50, chains=1, random_seed=0,
                 progressbar=False, check=False)  # fmt: skip
    loaded = load_fit(result.save(tmp_path / "fit"))
    assert loaded.record.model.centered == ("L_ref",) and loaded.record == result.record
    np.testing.assert_array_equal(
        result.predict(GRID, group="new")["upper"], loaded.predict(GRID, group="new")["upper"]
    )


@pytest.mark.parametrize(
    "edit",
    [
        lambda m: m["model"]["scales"].update(dense_parameter_count=1e9),
        lambda m: m["model"]["groups"].__setitem__(0, "renamed"),
        lambda m: m["model"].update(pooling="none"),
    ],
)
def test_an_edited_fit_json_is_refused(small_fit, tmp_path, edit):
    path = small_fit.save(tmp_path / "fit", datatree=False)
    meta = json.loads((path / "fit.json").read_text())
    edit(meta)
    (path / "fit.json").write_text(json.dumps(meta))
    with pytest.raises(FitArtifactError, match="does not match its own checksum"):
        load_fit(path)


def test_a_damaged_fit_is_replaced_and_leftovers_of_killed_saves_removed(small_fit, tmp_path):
    import os
    import time

    path = small_fit.save(tmp_path / "fit", datatree=False)
    (path / "fit.json").unlink()  # damaged: only bayeslaw's files left
    stale = tmp_path / ".fit.abc123.tmp"  # what a save killed half-way leaves
    stale.mkdir()
    (stale / "posterior.npz").write_bytes(b"partial")
    old = time.time() - 3600
    os.utime(stale, (old, old))
    small_fit.save(path, datatree=False)
    assert load_fit(path).record == small_fit.record
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fit"]
