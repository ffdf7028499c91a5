"""The shared SLDBench MoE data loads with the expected shape, groups and value ranges."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from bayeslaw.data import DEFAULT_GROUP, load_observations

DENSE_SIZES = (1.65e7, 2.73e7, 5.74e7, 1.32e8, 3.68e8)


def _check_ranges(values: dict[str, np.ndarray], y: np.ndarray) -> None:
    assert values["num_experts"].min() >= 1
    assert values["num_experts"].max() <= 512
    assert values["dense_parameter_count"].min() >= 1.6e7
    assert values["dense_parameter_count"].max() <= 3.7e8
    assert 2.0 <= y.min() < y.max() <= 3.2


def _check_dense_sizes(values: np.ndarray) -> None:
    sizes = np.unique(values)
    assert sizes.size == len(DENSE_SIZES)
    np.testing.assert_allclose(sizes, DENSE_SIZES, rtol=1e-2)


def test_sldbench_moe(shared_data_dir: Path) -> None:
    obs = load_observations(shared_data_dir / "sldbench_moe")
    assert len(obs) == 193
    assert obs.groups == (DEFAULT_GROUP,)
    assert obs.split == "train"
    assert obs.source.endswith("sldbench_moe [split train]")
    _check_ranges(obs.input_values(), obs.y)
    _check_dense_sizes(obs.input_values()["dense_parameter_count"])


def test_moe_by_router(shared_data_dir: Path) -> None:
    obs = load_observations(shared_data_dir / "moe_by_router")
    assert len(obs) == 217
    assert obs.groups == ("Hash", "RL-R", "S-Base")
    assert np.bincount(obs.group_index).tolist() == [72, 56, 89]
    assert obs.summary()["n_rows"].to_dict() == {"Hash": 72, "RL-R": 56, "S-Base": 89}
    _check_ranges(obs.input_values(), obs.y)
    _check_dense_sizes(obs.input_values()["dense_parameter_count"])


@pytest.mark.parametrize("name", ["sldbench_moe", "moe_by_router"])
def test_shared_data_hash_is_stable(shared_data_dir: Path, name: str) -> None:
    first = load_observations(shared_data_dir / name).content_hash()
    assert load_observations(shared_data_dir / name).content_hash() == first
