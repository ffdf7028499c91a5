"""FitRecord: exact dict round trip, and fits saved in format 1 (bayeslaw 0.1) still load."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest

from bayeslaw.errors import FitArtifactError
from bayeslaw.posterior.fit import load_fit
from bayeslaw.posterior.record import FORMAT_VERSION, FitRecord


def test_dict_round_trip_is_exact_through_json(small_fit):
    data = json.loads(json.dumps(small_fit.record.to_dict()))
    assert data["format_version"] == FORMAT_VERSION
    assert FitRecord.from_dict(data) == small_fit.record


def test_the_held_out_check_survives_the_round_trip(small_fit):
    import dataclasses

    check = {"moe_additive": {"extrap_elpd": 1.5, "extrap_r2": 0.7, "extrap_cover90": 0.85}}
    record = dataclasses.replace(small_fit.record, extrapolation=check)
    again = FitRecord.from_dict(json.loads(json.dumps(record.to_dict())))
    assert again == record and again.extrapolation == check


def test_the_compile_cache_record_survives_the_round_trip_and_old_records_lack_it(small_fit):
    info = {"cache": "memory", "key": "abc", "compile_s": 0.002, "note": ""}
    sampling = dataclasses.replace(small_fit.record.sampling, compile=info)
    record = dataclasses.replace(small_fit.record, sampling=sampling)
    again = FitRecord.from_dict(json.loads(json.dumps(record.to_dict())))
    assert again.sampling.compile == info
    data = record.to_dict()
    del data["sampling"]["compile"]  # a record written before the compile cache
    assert FitRecord.from_dict(data).sampling.compile == {}


def _format_1(record: FitRecord) -> dict:
    """The flat ``info`` dict bayeslaw 0.1 wrote (keys as in its fitting.py)."""
    m, s, p = record.model, record.sampling, record.provenance
    return {
        "form": m.form, "equation": m.equation, "pooling": m.pooling,
        "centered": list(m.centered), "likelihood": m.likelihood, "priors": m.priors,
        "scales": dict(m.scales), "groups": list(m.groups), "method": s.method,
        "sampler": dict(s.settings), "random_seed": s.random_seed, "data_hash": p.data_hash,
        "data_source": p.data_source, "n_observations": p.n_observations,
        "inputs": list(m.inputs), "free_variables": list(record.free_variables),
        "bayeslaw_version": p.bayeslaw_version, "wall_time_s": p.wall_time_s,
        "created": p.created, "convergence_problems": list(record.convergence_problems),
        "form_selected_by": record.form_selected_by,
    }  # fmt: skip


def test_a_format_1_fit_directory_loads_and_predicts_the_same(small_fit, tmp_path):
    path = small_fit.save(tmp_path / "fit", datatree=False)
    meta = json.loads((path / "fit.json").read_text())
    old = {"format_version": 1, "info": _format_1(small_fit.record), "sha256": meta["sha256"]}
    (path / "fit.json").write_text(json.dumps(old))
    loaded = load_fit(path)
    assert loaded.record == dataclasses.replace(
        small_fit.record,
        provenance=dataclasses.replace(small_fit.record.provenance, versions={}),
    )
    grid = {"dense_parameter_count": np.array([3e9]), "num_experts": np.array([32.0])}
    for group in ("group_1", "new"):
        a = small_fit.predict(grid, group=group, kind="observation")
        b = loaded.predict(grid, group=group, kind="observation")
        np.testing.assert_array_equal(a[["mean", "lower", "upper"]], b[["mean", "lower", "upper"]])


@pytest.mark.parametrize(
    ("payload", "match"),
    [
        ({"format_version": 99}, "format 99"),
        ({"format_version": 2, "model": {}}, "incomplete or malformed"),
        ({"format_version": 1, "info": {"form": "moe_additive"}}, "incomplete or malformed"),
    ],
)
def test_unreadable_records_say_to_refit(payload, match):
    with pytest.raises(FitArtifactError, match=match) as err:
        FitRecord.from_dict(payload)
    assert "refit" in str(err.value)
