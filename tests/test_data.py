"""Tests for bayeslaw.data: every loader path, every validation error, Observations methods."""

from __future__ import annotations

import dataclasses
import pickle
import subprocess
import sys
from pathlib import Path

import datasets
import numpy as np
import pandas as pd
import pytest

from bayeslaw.data import (
    CANONICAL_INPUTS,
    DEFAULT_GROUP,
    GROUP,
    TARGET,
    Observations,
    load_observations,
)
from bayeslaw.errors import ColumnError, DataError

CANONICAL_COLUMNS = [*CANONICAL_INPUTS, TARGET, GROUP]


@pytest.fixture
def frame() -> pd.DataFrame:
    """Six valid rows in canonical column names; groups deliberately not in sorted order."""
    return pd.DataFrame(
        {
            "dense_parameter_count": [1.6e7, 2.7e7, 5.7e7, 1.6e7, 2.7e7, 5.7e7],
            "num_experts": [1, 8, 64, 1, 8, 64],
            "loss_validation": [3.1, 2.9, 2.6, 3.0, 2.8, 2.5],
            "group": ["S-Base", "S-Base", "S-Base", "Hash", "Hash", "Hash"],
        }
    )


@pytest.fixture
def aliased(frame: pd.DataFrame) -> pd.DataFrame:
    """The same rows under alias column names, plus an unrelated column."""
    renamed = {
        "dense_parameter_count": "dense_params",
        "num_experts": "experts",
        "loss_validation": "val_loss",
        "group": "task",
    }
    return frame.rename(columns=renamed).assign(step=1000)


def _dataset(frame: pd.DataFrame) -> datasets.Dataset:
    return datasets.Dataset.from_pandas(frame, preserve_index=False)


def _assert_same_rows(obs: Observations, frame: pd.DataFrame) -> None:
    assert list(obs.frame.columns) == CANONICAL_COLUMNS
    assert len(obs) == len(frame)
    assert obs.frame.index.equals(pd.RangeIndex(len(frame)))
    for name in (*CANONICAL_INPUTS, TARGET):
        assert obs.frame[name].dtype == np.float64
        np.testing.assert_array_equal(obs.frame[name].to_numpy(), frame[name].to_numpy(float))
    assert obs.frame[GROUP].tolist() == frame[GROUP].tolist()
    assert all(type(value) is str for value in obs.frame[GROUP])


# --- loader paths -------------------------------------------------------------------------


def test_dataframe(frame: pd.DataFrame) -> None:
    obs = load_observations(frame)
    _assert_same_rows(obs, frame)
    assert obs.inputs == CANONICAL_INPUTS
    assert obs.target == TARGET
    assert obs.source == "DataFrame"
    assert obs.split is None
    assert dict(obs.columns) == {name: name for name in CANONICAL_COLUMNS}


def test_dataframe_index_is_reset_and_order_kept(frame: pd.DataFrame) -> None:
    shuffled = frame.iloc[[3, 0, 5, 1, 4, 2]].set_axis([10, 11, 12, 13, 14, 15])
    obs = load_observations(shuffled)
    _assert_same_rows(obs, shuffled.reset_index(drop=True))


def test_aliases_are_detected(frame: pd.DataFrame, aliased: pd.DataFrame) -> None:
    obs = load_observations(aliased)
    _assert_same_rows(obs, frame)
    assert dict(obs.columns) == {
        "dense_parameter_count": "dense_params",
        "num_experts": "experts",
        "loss_validation": "val_loss",
        "group": "task",
    }


@pytest.mark.parametrize("name", ["data.csv", "data.csv.gz", "DATA.CSV"])
def test_csv(tmp_path: Path, frame: pd.DataFrame, name: str) -> None:
    path = tmp_path / name
    frame.to_csv(path, index=False)
    obs = load_observations(path)
    _assert_same_rows(obs, frame)
    assert obs.source == str(path)
    assert obs.split is None


def test_csv_with_aliases_and_str_path(
    tmp_path: Path, frame: pd.DataFrame, aliased: pd.DataFrame
) -> None:
    path = tmp_path / "aliased.csv"
    aliased.to_csv(path, index=False)
    obs = load_observations(str(path))
    _assert_same_rows(obs, frame)
    assert obs.columns["num_experts"] == "experts"


@pytest.mark.parametrize("name", ["data.parquet", "data.pq"])
def test_parquet(tmp_path: Path, frame: pd.DataFrame, name: str) -> None:
    path = tmp_path / name
    frame.to_parquet(path, index=False)
    _assert_same_rows(load_observations(path), frame)


def test_dataset_object(frame: pd.DataFrame) -> None:
    obs = load_observations(_dataset(frame))
    _assert_same_rows(obs, frame)
    assert obs.source == "Dataset"
    assert obs.split is None


def test_dataset_dict_object_prefers_train(frame: pd.DataFrame) -> None:
    splits = datasets.DatasetDict(
        {"test": _dataset(frame.iloc[:2]), "train": _dataset(frame.iloc[2:])}
    )
    obs = load_observations(splits)
    _assert_same_rows(obs, frame.iloc[2:].reset_index(drop=True))
    assert obs.split == "train"
    assert obs.source == "DatasetDict [split train]"


def test_save_to_disk_dataset_dir(tmp_path: Path, frame: pd.DataFrame) -> None:
    path = tmp_path / "single"
    _dataset(frame).save_to_disk(path)
    obs = load_observations(path)
    _assert_same_rows(obs, frame)
    assert obs.split is None
    assert obs.source == str(path)


@pytest.mark.parametrize(
    ("split_names", "asked", "expected"),
    [
        (("validation", "train"), None, "train"),
        (("validation", "test"), None, "validation"),
        (("train", "test"), "test", "test"),
    ],
)
def test_save_to_disk_dataset_dict_dir(
    tmp_path: Path,
    frame: pd.DataFrame,
    split_names: tuple[str, str],
    asked: str | None,
    expected: str,
) -> None:
    parts = {split_names[0]: frame.iloc[:3], split_names[1]: frame.iloc[3:]}
    datasets.DatasetDict({k: _dataset(v) for k, v in parts.items()}).save_to_disk(tmp_path / "d")
    obs = load_observations(tmp_path / "d", split=asked)
    _assert_same_rows(obs, parts[expected].reset_index(drop=True))
    assert obs.split == expected
    assert obs.source == f"{tmp_path / 'd'} [split {expected}]"


def test_explicit_columns_override_aliases(frame: pd.DataFrame) -> None:
    source = frame.rename(columns={"loss_validation": "my_loss", "group": "router"})
    source["val_loss"] = 99.0  # an alias column that the explicit mapping must win over
    obs = load_observations(source, columns={"loss_validation": "my_loss", "group": "router"})
    _assert_same_rows(obs, frame)
    assert obs.columns["loss_validation"] == "my_loss"
    assert obs.columns["group"] == "router"


def test_custom_input_by_literal_name_and_by_mapping(frame: pd.DataFrame) -> None:
    tokens = frame.assign(tokens=[1e9, 2e9, 4e9, 1e9, 2e9, 4e9])
    obs = load_observations(tokens, inputs=["tokens", "num_experts"])
    assert obs.inputs == ("tokens", "num_experts")
    assert list(obs.frame.columns) == ["tokens", "num_experts", TARGET, GROUP]
    np.testing.assert_array_equal(obs.input_values()["tokens"], tokens["tokens"].to_numpy())
    mapped = load_observations(
        tokens.rename(columns={"tokens": "n_tokens"}),
        inputs=["tokens"],
        columns={"tokens": "n_tokens"},
    )
    assert mapped.columns["tokens"] == "n_tokens"
    assert mapped.inputs == ("tokens",)


def test_custom_target(frame: pd.DataFrame) -> None:
    obs = load_observations(frame.assign(loss_c4=frame[TARGET] + 0.1), target="loss_c4")
    assert obs.target == "loss_c4"
    np.testing.assert_allclose(obs.y, frame[TARGET].to_numpy() + 0.1)


def test_default_group(frame: pd.DataFrame) -> None:
    obs = load_observations(frame.drop(columns=GROUP))
    assert obs.groups == (DEFAULT_GROUP,)
    assert obs.frame[GROUP].tolist() == [DEFAULT_GROUP] * len(frame)
    assert GROUP not in obs.columns


def test_group_values_become_str(frame: pd.DataFrame) -> None:
    obs = load_observations(frame.assign(group=[1, 1, 2, 2, 10, 10]))
    assert obs.groups == ("1", "10", "2")
    assert all(type(value) is str for value in obs.frame[GROUP])


def test_observations_built_directly_are_normalised(frame: pd.DataFrame) -> None:
    obs = Observations(frame.assign(extra=0).set_axis(range(5, 11)), inputs=CANONICAL_INPUTS)
    _assert_same_rows(obs, frame)
    assert obs.source == "DataFrame"


def test_observations_built_directly_are_validated(frame: pd.DataFrame) -> None:
    frame.loc[4, "num_experts"] = -2
    with pytest.raises(DataError, match=r"'num_experts'.*zero or negative.*row 4\b"):
        Observations(frame, inputs=CANONICAL_INPUTS)
    with pytest.raises(DataError, match=r"frame lacks \['group'\]"):
        Observations(frame.drop(columns=GROUP), inputs=CANONICAL_INPUTS)


def test_import_does_not_load_datasets() -> None:
    code = "import sys, bayeslaw.data; assert 'datasets' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)


# --- validation errors --------------------------------------------------------------------


def test_missing_path(tmp_path: Path) -> None:
    path = tmp_path / "nowhere.csv"
    with pytest.raises(DataError, match=r"does not exist") as info:
        load_observations(path)
    assert str(path) in str(info.value)


def test_unknown_format(tmp_path: Path, frame: pd.DataFrame) -> None:
    path = tmp_path / "data.txt"
    frame.to_csv(path, index=False)
    with pytest.raises(DataError, match=r"unknown format.*\.csv, \.csv\.gz, \.parquet, \.pq"):
        load_observations(path)


def test_directory_that_is_not_a_dataset(tmp_path: Path) -> None:
    with pytest.raises(DataError, match=r"dataset_dict\.json.*save_to_disk"):
        load_observations(tmp_path)


def test_unreadable_file(tmp_path: Path) -> None:
    path = tmp_path / "broken.parquet"
    path.write_bytes(b"not parquet at all")
    with pytest.raises(DataError, match=r"could not read .*broken\.parquet"):
        load_observations(path)


def test_unsupported_source_type(frame: pd.DataFrame) -> None:
    with pytest.raises(DataError, match=r"cannot read data from a dict"):
        load_observations(frame.to_dict())  # type: ignore[arg-type]


def test_missing_required_column(frame: pd.DataFrame) -> None:
    with pytest.raises(DataError) as info:
        load_observations(frame.drop(columns="num_experts"))
    message = str(info.value)
    for text in ("input 'num_experts'", "'n_experts'", "'moe_num_experts'", "'group'", "columns="):
        assert text in message
    with pytest.raises(DataError, match=r"target 'loss_validation'.*'val_loss'.*columns="):
        load_observations(frame.drop(columns=TARGET))


def test_a_column_error_survives_pickling(frame: pd.DataFrame) -> None:
    # a worker process (multiprocessing, a benchmark pool) sends its exception back pickled
    with pytest.raises(ColumnError) as info:
        load_observations(frame.drop(columns="num_experts"))
    copy = pickle.loads(pickle.dumps(info.value))
    assert type(copy) is ColumnError
    assert (str(copy), copy.role) == (str(info.value), "num_experts")


def test_explicit_column_that_does_not_exist(frame: pd.DataFrame) -> None:
    with pytest.raises(DataError, match=r"'loss_validation' to 'my_loss'.*available.*'group'"):
        load_observations(frame, columns={"loss_validation": "my_loss"})


def test_unknown_columns_key(frame: pd.DataFrame) -> None:
    with pytest.raises(DataError, match=r"unknown key\(s\) \['tokens'\].*'num_experts'.*inputs="):
        load_observations(frame, columns={"tokens": "n_tokens"})


def test_ambiguous_aliases(frame: pd.DataFrame) -> None:
    with pytest.raises(DataError, match=r"several columns could be 'loss_validation'.*columns="):
        load_observations(frame.assign(val_loss=frame[TARGET]))


def test_one_column_for_two_roles(frame: pd.DataFrame) -> None:
    with pytest.raises(DataError, match=r"\['num_experts'\] .*more than one role"):
        load_observations(frame, columns={"dense_parameter_count": "num_experts"})


def test_duplicate_column_names(frame: pd.DataFrame) -> None:
    doubled = pd.concat([frame, frame[["num_experts"]]], axis=1)
    with pytest.raises(DataError, match=r"\['num_experts'\] appear more than once"):
        load_observations(doubled)


@pytest.mark.parametrize(
    ("inputs", "target"),
    [([], TARGET), (["num_experts", "num_experts"], TARGET), (["group"], TARGET)],
)
def test_bad_roles(frame: pd.DataFrame, inputs: list[str], target: str) -> None:
    with pytest.raises(DataError, match=r"inputs"):
        load_observations(frame, inputs=inputs, target=target)


def test_non_numeric_values(frame: pd.DataFrame) -> None:
    bad = frame.astype({"num_experts": object})
    bad.loc[[1, 4], "num_experts"] = ["eight", "n/a"]
    pattern = r"'num_experts'.*non-numeric.*rows 1, 4\b.*'eight'"
    with pytest.raises(DataError, match=pattern):
        load_observations(bad)


def test_non_numeric_values_in_csv_name_the_source_column(
    tmp_path: Path, aliased: pd.DataFrame
) -> None:
    aliased = aliased.astype({"val_loss": object})
    aliased.loc[2, "val_loss"] = "diverged"
    aliased.to_csv(tmp_path / "d.csv", index=False)
    with pytest.raises(DataError, match=r"'loss_validation' \(source column 'val_loss'\).*row 2"):
        load_observations(tmp_path / "d.csv")


@pytest.mark.parametrize("value", [np.nan, np.inf, -np.inf])
def test_nan_or_infinite_values(frame: pd.DataFrame, value: float) -> None:
    frame.loc[3, "dense_parameter_count"] = value
    with pytest.raises(DataError, match=r"'dense_parameter_count'.*NaN.*infinite.*row 3\b"):
        load_observations(frame)


def test_empty_cell_in_csv(tmp_path: Path) -> None:
    path = tmp_path / "d.csv"
    path.write_text("num_experts,dense_params,val_loss\n1,1e7,3.0\n,2e7,2.9\n")
    with pytest.raises(DataError, match=r"'num_experts'.*NaN.*row 1\b"):
        load_observations(path)


@pytest.mark.parametrize("value", [0.0, -1.0])
def test_non_positive_input(frame: pd.DataFrame, value: float) -> None:
    frame.loc[5, "num_experts"] = value
    with pytest.raises(DataError, match=r"'num_experts'.*positive inputs.*row 5\b"):
        load_observations(frame)


def test_non_positive_target(frame: pd.DataFrame) -> None:
    frame.loc[0, TARGET] = -0.5
    with pytest.raises(DataError, match=r"'loss_validation'.*zero or negative.*> 0.*row 0\b"):
        load_observations(frame)


def test_many_bad_rows_are_abbreviated() -> None:
    n_rows = 25
    frame = pd.DataFrame(
        {
            "dense_parameter_count": np.full(n_rows, 1e7),
            "num_experts": np.zeros(n_rows),
            "loss_validation": np.full(n_rows, 3.0),
        }
    )
    with pytest.raises(DataError, match=r"rows 0, 1, 2, 3, 4, 5, 6, 7, 8, 9 and 15 more") as info:
        load_observations(frame)
    assert "10," not in str(info.value)


def test_missing_group_label(frame: pd.DataFrame) -> None:
    frame.loc[2, GROUP] = None
    with pytest.raises(DataError, match=r"'group'.*missing.*row 2\b"):
        load_observations(frame)


def test_empty_dataframe(frame: pd.DataFrame) -> None:
    with pytest.raises(DataError, match=r"no rows"):
        load_observations(frame.iloc[:0])


def test_empty_csv(tmp_path: Path) -> None:
    path = tmp_path / "empty.csv"
    path.write_text("num_experts,dense_parameter_count,loss_validation\n")
    with pytest.raises(DataError, match=r"empty\.csv has no rows"):
        load_observations(path)


def test_split_for_a_source_without_splits(tmp_path: Path, frame: pd.DataFrame) -> None:
    frame.to_csv(tmp_path / "d.csv", index=False)
    _dataset(frame).save_to_disk(tmp_path / "single")
    sources = [frame, tmp_path / "d.csv", _dataset(frame), tmp_path / "single"]
    for source in sources:
        with pytest.raises(DataError, match=r"split='train' was given.*has no splits"):
            load_observations(source, split="train")


def test_split_that_does_not_exist(tmp_path: Path, frame: pd.DataFrame) -> None:
    splits = datasets.DatasetDict({"train": _dataset(frame), "test": _dataset(frame)})
    with pytest.raises(DataError, match=r"split 'validation' not found.*\['train', 'test'\]"):
        load_observations(splits, split="validation")
    splits.save_to_disk(tmp_path / "d")
    with pytest.raises(DataError, match=r"split 'dev' not found.*\['train', 'test'\]"):
        load_observations(tmp_path / "d", split="dev")


# --- Observations methods -----------------------------------------------------------------


def test_groups_sorted_and_group_index(frame: pd.DataFrame) -> None:
    obs = load_observations(frame)
    assert obs.groups == ("Hash", "S-Base")
    assert obs.group_index.dtype == np.int64
    assert obs.group_index.tolist() == [1, 1, 1, 0, 0, 0]


def test_arrays_are_float64_copies(frame: pd.DataFrame) -> None:
    obs = load_observations(frame)
    values, y = obs.input_values(), obs.y
    assert list(values) == list(CANONICAL_INPUTS)
    assert all(array.dtype == np.float64 for array in (*values.values(), y))
    values["num_experts"][:] = -1.0
    y[:] = -1.0
    assert (obs.input_values()["num_experts"] > 0).all()
    assert (obs.y > 0).all()


def test_observations_are_frozen(frame: pd.DataFrame) -> None:
    obs = load_observations(frame)
    with pytest.raises(dataclasses.FrozenInstanceError):
        obs.target = "other"  # type: ignore[misc]
    assert "n_rows=6" in repr(obs)


def test_select_groups(frame: pd.DataFrame) -> None:
    obs = load_observations(frame)
    hashed = obs.select_groups("Hash")
    assert hashed.groups == ("Hash",)
    assert len(hashed) == 3
    assert hashed.frame.index.equals(pd.RangeIndex(3))
    assert len(obs.select_groups(["Hash", "S-Base"])) == 6
    assert hashed.source == obs.source


def test_select_groups_errors(frame: pd.DataFrame) -> None:
    obs = load_observations(frame)
    with pytest.raises(DataError, match=r"unknown group\(s\) \['RL-R'\].*\['Hash', 'S-Base'\]"):
        obs.select_groups(["Hash", "RL-R"])
    with pytest.raises(DataError, match=r"no group names.*\['Hash', 'S-Base'\]"):
        obs.select_groups([])


def test_subset(frame: pd.DataFrame) -> None:
    obs = load_observations(frame)
    mask = obs.input_values()["num_experts"] > 1
    small = obs.subset(mask)
    assert len(small) == 4
    assert small.frame.index.equals(pd.RangeIndex(4))
    np.testing.assert_array_equal(small.y, obs.y[mask])
    with pytest.raises(DataError, match=r"leaves no rows"):
        obs.subset(np.zeros(len(obs), dtype=bool))
    with pytest.raises(DataError, match=r"boolean mask of shape \(6,\)"):
        obs.subset(np.ones(3, dtype=bool))
    with pytest.raises(DataError, match=r"boolean mask"):
        obs.subset(np.arange(6))


def test_summary(frame: pd.DataFrame) -> None:
    table = load_observations(frame).summary()
    assert table.index.tolist() == ["Hash", "S-Base"]
    assert table["n_rows"].tolist() == [3, 3]
    assert table.loc["Hash", "num_experts_max"] == 64.0
    assert table.loc["S-Base", "dense_parameter_count_min"] == 1.6e7
    assert table.loc["Hash", "loss_validation_min"] == 2.5
    assert table.loc["S-Base", "loss_validation_max"] == 3.1
    assert table.loc["Hash", "loss_validation_mean"] == pytest.approx((3.0 + 2.8 + 2.5) / 3)


def test_content_hash_stable_and_sensitive(frame: pd.DataFrame) -> None:
    obs = load_observations(frame)
    digest = obs.content_hash()
    assert len(digest) == 64
    assert load_observations(frame.copy()).content_hash() == digest
    changed = frame.copy()
    changed.loc[2, TARGET] += 1e-9
    assert load_observations(changed).content_hash() != digest
    regrouped = frame.assign(group=["a"] * 6)
    assert load_observations(regrouped).content_hash() != digest


def test_content_hash_stable_across_processes(tmp_path: Path, frame: pd.DataFrame) -> None:
    frame.to_csv(tmp_path / "d.csv", index=False)
    code = f"from bayeslaw.data import *; print(load_observations({str(tmp_path / 'd.csv')!r})"
    code += ".content_hash())"
    result = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True)
    assert result.stdout.decode().strip() == load_observations(tmp_path / "d.csv").content_hash()


# -- inputs a fuzzing pass found mishandled (issue "Bad input never crashes") -------------
GOOD_CSV = "dense_parameter_count,num_experts,loss_validation,group\n1e8,8,2.5,a\n2e8,8,2.4,a\n"


def test_truncated_archive_is_a_data_error(tmp_path):
    import gzip

    data = gzip.compress(GOOD_CSV.encode() * 50)
    path = tmp_path / "runs.csv.gz"
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(DataError, match=r"could not read .*EOFError.*is the file complete"):
        load_observations(path)


def test_a_saved_dataset_of_no_rows_says_so(tmp_path):
    import datasets

    empty = {"dense_parameter_count": [], "num_experts": [], "loss_validation": []}
    datasets.Dataset.from_dict(empty).save_to_disk(str(tmp_path / "ds"))
    with pytest.raises(DataError, match="has no rows"):
        load_observations(tmp_path / "ds")
    with pytest.raises(DataError, match="has no rows"):
        load_observations(datasets.Dataset.from_dict(empty))


def test_repeated_csv_header_is_refused_not_renamed(tmp_path):
    path = tmp_path / "dup.csv"
    path.write_text(
        "dense_parameter_count,num_experts,loss_validation,loss_validation\n1e8,8,2.5,9\n"
    )
    with pytest.raises(DataError, match=r"\['loss_validation'\] more than once"):
        load_observations(path)


def test_booleans_mixed_into_numbers_are_refused():
    frame = pd.DataFrame(
        {
            "dense_parameter_count": [1e8, 2e8],
            "num_experts": [True, 8],
            "loss_validation": [2.5, 2.4],
        }
    )
    with pytest.raises(DataError, match="'num_experts' holds booleans at row 0"):
        load_observations(frame)


@pytest.mark.parametrize("label", ["NA", "None", "nan", "null"])
def test_a_group_may_be_called_like_a_missing_value(tmp_path, label):
    path = tmp_path / "runs.csv"
    path.write_text(GOOD_CSV.replace(",a\n", f",{label}\n"))
    assert load_observations(path).groups == (label,)


def test_an_empty_csv_cell_is_still_missing(tmp_path):
    path = tmp_path / "runs.csv"
    path.write_text(GOOD_CSV.replace("2.4", ""))
    with pytest.raises(DataError, match="'loss_validation' has NaN"):
        load_observations(path)


def test_symlink_loop_and_fifo_are_named(tmp_path):
    import os

    loop = tmp_path / "loop.csv"
    os.symlink(loop, loop)
    with pytest.raises(DataError, match="symbolic link loop"):
        load_observations(loop)
    fifo = tmp_path / "fifo.csv"
    os.mkfifo(fifo)
    with pytest.raises(DataError, match="not a regular file"):
        load_observations(fifo)  # returns at once instead of blocking on the pipe
