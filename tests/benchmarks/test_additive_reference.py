"""The additive reference of the unseen-groups benchmark (benchmarks/additive_reference.py)."""

from __future__ import annotations

import additive_reference as ar
import numpy as np
import pandas as pd
import pytest

ROWS = {"r0": 0.0, "r1": 0.5, "r2": -0.3}
COLS = {"c0": 0.0, "c1": 1.0}


def additive_frame(interaction: dict[tuple[str, str], float] | None = None) -> pd.DataFrame:
    """Every (row, col) cell at sizes 1 and 2, loss = 2 + size + row + col effect (+ an
    interaction where given)."""
    records = []
    for r, a in ROWS.items():
        for c, b in COLS.items():
            for size in (1.0, 2.0):
                extra = (interaction or {}).get((r, c), 0.0)
                records.append(
                    {
                        "x": size,
                        "y": 2.0 + size + a + b + extra,
                        "f": r,
                        "g": c,
                        "group": f"{r}|{c}",
                    }
                )
    return pd.DataFrame(records)


def test_additive_prediction_recovers_a_held_out_cell_of_additive_data():
    frame = additive_frame()
    others = frame[(frame["group"] != "r1|c1") & (frame["x"] == 1.0)]
    got = ar.additive_prediction(others["y"].to_numpy(), list(others["f"]), list(others["g"]),
                                 "r1", "c1")  # fmt: skip
    assert got == pytest.approx(2.0 + 1.0 + 0.5 + 1.0)


def test_additive_prediction_is_none_where_the_fit_does_not_determine_the_cell():
    y = np.array([1.0, 2.0])
    # a level absent
    assert ar.additive_prediction(y, ["r0", "r1"], ["c0", "c0"], "r2", "c0") is None
    # two disconnected blocks: (r0, c0) and (r1, c1) say nothing about (r0, c1)
    assert ar.additive_prediction(y, ["r0", "r1"], ["c0", "c1"], "r0", "c1") is None


def test_held_out_errors_score_every_row_and_count_the_unpredictable():
    frame = additive_frame(interaction={("r2", "c0"): 0.4})
    # a level seen by one curve only cannot be predicted for it: its rows are counted
    lone = pd.DataFrame([{"x": 1.0, "y": 3.0, "f": "r9", "g": "c0", "group": "r9|c0"}])
    frame = pd.concat([frame, lone], ignore_index=True)
    measured = ar.held_out_errors(frame, ["x"], "y", ["f", "g"])
    assert measured["not_predicted"] == 1
    summary = ar.summarise(measured, len(frame))
    assert summary["predicted"] == len(frame) - 1
    # the additive fit misses only through the one interaction, the median misses more
    assert 0 < summary["mse"]["additive"] < summary["mse"]["median"]
    assert summary["ratio_to_median"]["median"] == 1.0
    assert summary["per_curve"]["r0|c1"]["additive"] < summary["per_curve"]["r2|c0"]["additive"]
    table = ar.format_result({"toy": {"curves": 7, **summary}})
    assert "additive (log)" in table and "rank-1 (log), ridge 0.1" in table and "toy" in table


def test_reference_runs_on_the_shared_crossed_data(shared_data_dir):
    result = ar.run(["overtraining"])["overtraining"]
    assert result["curves"] == 24 and result["predicted"] + result["not_predicted"] == 760
    assert set(result["mse"]) == {*ar.PREDICTORS, *ar.FAMILY_PREDICTORS, "median"}
    # the validation sets' source (C4's two sets share one): every row still predicted
    assert result["not_predicted"] == 0


def test_rank_one_prediction_recovers_a_rank_one_interaction_the_additive_fit_misses():
    rng = np.random.default_rng(0)
    rows, cols = [f"r{i}" for i in range(4)], [f"c{j}" for j in range(5)]
    a, b = rng.normal(0, 0.5, 4), rng.normal(0, 0.5, 5)
    u, v = np.array([1.0, -0.5, 0.8, -1.2]), np.array([0.6, -0.4, 0.9, -0.7, 0.3])
    cells = [(i, j) for i in range(4) for j in range(5) if (i, j) != (0, 0)]
    y = np.array([1.0 + a[i] + b[j] + u[i] * v[j] for i, j in cells])
    args = (y, [rows[i] for i, _ in cells], [cols[j] for _, j in cells], "r0", "c0")
    truth = 1.0 + a[0] + b[0] + u[0] * v[0]
    rank_one = ar.rank_one_prediction(*args, ridge=1e-4, iterations=2000)
    additive = ar.additive_prediction(*args)
    assert abs(rank_one - truth) < 0.05 * abs(additive - truth)
    # a large ridge leaves the additive fit
    heavy = ar.rank_one_prediction(*args, ridge=1e6)
    assert heavy == pytest.approx(additive, abs=1e-4)
    # undetermined where the additive part is
    assert ar.rank_one_prediction(y[:2], ["r0", "r1"], ["c0", "c1"], "r0", "c1", ridge=0.1) is None


def test_a_family_term_carries_a_held_out_cell_from_its_sibling():
    """Columns c0 and c1 share a source ``s``; a pure interaction of source and row (zero-sum
    over each margin) moves both by the same amount. Holding out (r1, c1), its family level
    ``s:r1`` is known from (r1, c0): the fit with the family term recovers the cell, the
    additive fit does not."""
    source = {"c0": "s", "c1": "s", "c2": "c2"}
    cols = {"c0": 0.0, "c1": 1.0, "c2": -0.4}
    pure = {("s", "r0"): 0.3, ("s", "r1"): -0.1, ("s", "r2"): -0.2,
            ("c2", "r0"): -0.3, ("c2", "r1"): 0.1, ("c2", "r2"): 0.2}  # fmt: skip
    cells = [(r, c) for r in ROWS for c in cols]
    y = np.array([2.0 + ROWS[r] + cols[c] + pure[(source[c], r)] for r, c in cells])
    family = [f"{source[c]}:{r}" for r, c in cells]
    held = cells.index(("r1", "c1"))
    keep = [i for i in range(len(cells)) if i != held]

    def predict(extra):
        return ar.additive_prediction(y[keep], [cells[i][0] for i in keep],
                                      [cells[i][1] for i in keep], "r1", "c1", extra)  # fmt: skip

    with_family = predict(([family[i] for i in keep], family[held]))
    assert with_family == pytest.approx(y[held])
    assert abs(predict(None) - y[held]) > 0.05
