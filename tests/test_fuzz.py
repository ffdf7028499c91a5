"""Property-based fuzzing: random tables, law() inputs, damaged saved fits and CLI arguments.

Each property says what must hold for *any* input: no exception outside bayeslaw's error
classes, no silent change of a prediction, and bounded time (hypothesis' ``deadline``).
The fast tier runs a few hundred examples in all; ``FUZZ_EXAMPLES`` more under ``slow``.
Hypothesis keeps no example database (tests never write into the working tree).
"""

from __future__ import annotations

import contextlib
import math
import shutil
import string

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bayeslaw import predictor
from bayeslaw.cli import main
from bayeslaw.data import ALIASES, load_observations
from bayeslaw.errors import (
    DataError,
    FitArtifactError,
    PredictionInputError,
)
from bayeslaw.posterior.fit import load_fit

# the fast tier draws the same examples every run (a fixed seed, as every fast test): most
# law() examples are invalid by design, and with random ones "at least 5 of 60 answered"
# failed by chance (3 of 60 in a clean clone, 2026-12-02); the fixed ones answer 13
FAST = settings(
    max_examples=60,
    deadline=2000,
    database=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
FUZZ_EXAMPLES = 600
# the slow tier searches afresh every run
SLOW = settings(FAST, max_examples=FUZZ_EXAMPLES, deadline=5000, derandomize=False)


class Quiet:
    """A fixture value with a short repr: hypothesis prints its arguments on failure, and a
    fit's repr runs to megabytes."""

    def __init__(self, **values):
        self.__dict__.update(values)

    def __repr__(self) -> str:
        return f"Quiet({', '.join(self.__dict__)})"


CELLS = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(min_value=-(10**20), max_value=10**20),
    st.booleans(),
    st.none(),
    st.text(max_size=6),
    st.sampled_from(["NA", "1e9", "-3", "inf", "nan", ""]),
)
COLUMN_NAMES = st.sampled_from(sorted({a for aliases in ALIASES.values() for a in aliases}))


@st.composite
def tables(draw):
    """A DataFrame of 0-6 rows whose columns are (mostly) recognisable aliases."""
    n_rows = draw(st.integers(0, 6))
    names = draw(st.lists(st.one_of(COLUMN_NAMES, st.text(max_size=4)), max_size=6))
    return pd.DataFrame({name: draw(st.lists(CELLS, min_size=n_rows, max_size=n_rows))
                         for name in names})  # fmt: skip


def _check_table(frame: pd.DataFrame) -> None:
    try:
        obs = load_observations(frame)
    except DataError:
        return
    assert len(obs) == len(frame)  # never a silent drop
    for name in (*obs.inputs, obs.target):
        values = obs.frame[name].to_numpy()
        assert np.isfinite(values).all() and (values > 0).all()


@FAST
@given(tables())
def test_any_table_loads_cleanly_or_says_why(frame):
    _check_table(frame)


@pytest.mark.slow
@SLOW
@given(tables())
def test_any_table_loads_cleanly_or_says_why_many(frame):
    _check_table(frame)


@FAST
@given(st.binary(max_size=300), st.sampled_from(["d.csv", "d.csv.gz", "d.parquet"]))
def test_any_file_content_loads_cleanly_or_says_why(tmp_path_factory, content, name):
    path = tmp_path_factory.mktemp("fuzz") / name
    path.write_bytes(content)
    with contextlib.suppress(DataError):
        load_observations(path)


# -- law() ---------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def configured_law(small_fit, tmp_path_factory):
    """law() pointed at the session's fit, saved as if law() had made it."""
    import dataclasses

    home = tmp_path_factory.mktemp("law")
    data = home / "data.csv"
    small_fit.observations.frame.to_csv(data, index=False)
    record = small_fit.record.with_fingerprint(predictor.data_fingerprint(data))
    dataclasses.replace(small_fit, record=record).save(home / "fit", datatree=False)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("BAYESLAW_DATA", str(data))
        patch.setenv("BAYESLAW_HOME", str(home))
        patch.setenv("BAYESLAW_FORM", "moe_additive")
        patch.setattr(predictor, "_CACHE", {})
        yield Quiet(fit=small_fit)


VALUES = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(-5, 10**12),
    st.booleans(),
    st.text(max_size=4),
    st.none(),
    st.lists(st.floats(0.1, 10), max_size=2),
)
ROW = st.fixed_dictionaries(
    {},
    optional={"num_experts": VALUES, "dense_parameter_count": VALUES, "extra": VALUES},
)
VALID_ROW = st.fixed_dictionaries(
    {
        "num_experts": st.one_of(st.floats(0.5, 1e4), st.integers(1, 512)),
        "dense_parameter_count": st.floats(1e6, 1e12),
    }
)
INPUTS = st.one_of(
    st.lists(VALID_ROW, max_size=300),  # past one 256-row chunk of the posterior mean
    st.lists(ROW, max_size=4),
    st.lists(st.one_of(ROW, st.integers(), st.text(max_size=3)), max_size=3),
    st.dictionaries(st.text(max_size=3), VALUES, max_size=3),
    st.text(max_size=5),
    st.none(),
    st.integers(),
)
GROUPS = st.one_of(st.sampled_from(["group_0", "group_2", "new"]), st.text(max_size=5),
                   st.none(), st.integers())  # fmt: skip


def _check_law(law_fixture, input_data, group) -> bool:
    """True when law() answered (and the answer was checked)."""
    try:
        out = predictor.law(input_data, group)
    except PredictionInputError:
        return False
    assert isinstance(input_data, list) and isinstance(group, str)
    assert len(out) == len(input_data)
    if not out:
        return True
    values = [r["loss_validation"] for r in out]
    assert all(math.isfinite(v) for v in values)
    x = {k: [float(r[k]) for r in input_data] for k in ("dense_parameter_count", "num_experts")}
    expected = law_fixture.fit.predict(x, group=group)["mean"].to_numpy()
    np.testing.assert_allclose(values, expected, rtol=1e-10)  # no silent change
    return True


ANSWERED: list[bool] = []


@FAST
@given(INPUTS, GROUPS)
def test_law_answers_any_input_or_names_the_problem(configured_law, input_data, group):
    ANSWERED.append(_check_law(configured_law, input_data, group))


def test_the_law_fuzz_reached_valid_inputs():
    """The property above is not vacuous: some of its examples were answered."""
    if not ANSWERED:
        pytest.skip("run with the law() fuzz test")
    assert sum(ANSWERED) >= 5, f"{sum(ANSWERED)} of {len(ANSWERED)} examples answered"


@pytest.mark.slow
@SLOW
@given(INPUTS, GROUPS)
def test_law_answers_any_input_or_names_the_problem_many(configured_law, input_data, group):
    _check_law(configured_law, input_data, group)


# -- damaged saved fits --------------------------------------------------------------------
@pytest.fixture(scope="module")
def saved_fit(small_fit, tmp_path_factory):
    path = small_fit.save(tmp_path_factory.mktemp("saved") / "fit", datatree=False)
    return Quiet(fit=small_fit, path=path)


GRID = {"dense_parameter_count": [3e8, 2e9], "num_experts": [8.0, 64.0]}
FILES = st.sampled_from(["fit.json", "posterior.npz", "params.json", "explain.md"])
DAMAGE = st.one_of(
    st.tuples(st.just("flip"), st.integers(0, 10**6), st.integers(1, 255)),
    st.tuples(st.just("truncate"), st.floats(0, 0.99), st.just(0)),
    st.tuples(st.just("delete"), st.just(0), st.just(0)),
)


@FAST
@given(FILES, DAMAGE)
def test_a_damaged_fit_is_refused_or_predicts_the_same(saved_fit, tmp_path_factory, name, damage):
    original, path = saved_fit.fit, saved_fit.path
    copy = tmp_path_factory.mktemp("damaged") / "fit"
    shutil.copytree(path, copy)
    target = copy / name
    kind, where, value = damage
    data = bytearray(target.read_bytes())
    if kind == "flip" and data:
        data[where % len(data)] ^= value
        target.write_bytes(bytes(data))
    elif kind == "truncate":
        target.write_bytes(bytes(data[: int(len(data) * where)]))
    else:
        target.unlink()
    try:
        loaded = load_fit(copy)
    except FitArtifactError:
        return
    for group in ("group_1", "new"):
        a = original.predict(GRID, group=group, kind="observation")
        b = loaded.predict(GRID, group=group, kind="observation")
        pd.testing.assert_frame_equal(a, b)


# -- the command line ----------------------------------------------------------------------
WORDS = st.one_of(
    st.sampled_from(["--group", "--ci", "--kind", "--format", "--input", "--out", "-", "x",
                     "0.9", "1.5", "-1", "mean", "json", "csv", "new", "group_0", "--help"]),
    st.text(alphabet=string.ascii_letters + string.digits + "-._", max_size=6),
)  # fmt: skip


@FAST
@given(st.sampled_from(["predict", "summary"]), st.lists(WORDS, max_size=5))
def test_any_cli_arguments_exit_0_or_2(saved_fit, tmp_path_factory, monkeypatch, command, words):
    """No traceback: bayeslaw errors exit 2 with one line, argparse errors exit 2 too
    (``report`` takes only ``--out``, tested in tests/test_cli.py; it renders figures for
    seconds, past this test's deadline)."""
    import io
    import sys

    path = saved_fit.path
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(b"num_experts\n8\n")))
    monkeypatch.chdir(tmp_path_factory.mktemp("cwd"))  # relative outputs land in tmp
    argv = [command, str(path), *words]
    try:
        code = main(argv)
    except SystemExit as exit_:  # argparse: --help (0) or a usage error (2)
        code = exit_.code
    assert code in (0, 2)
