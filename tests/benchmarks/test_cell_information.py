"""The centring evidence table (benchmarks/cell_information.py)."""

from __future__ import annotations

import cell_information as ci


def test_table_marks_the_centred_cells_and_effects():
    info = {"cell_sd": 0.01, "max_cell_sd": 0.02, "spread": 0.4, "between": 0.4, "ratio": 0.025}
    effects = {"level_sd": 0.03, "between": 0.3, "ratio": 0.1}
    result = {"toy": {"coordinates": {"L_ref": info, "alpha": {**info, "ratio": 2.0},
                                      "L_ref:model": effects,
                                      "alpha:model": {**effects, "ratio": 0.9}},
                      "cells": ["L_ref"], "centred": ["L_ref:cell", "L_ref:model"]}}  # fmt: skip
    cells, terms = ci.format_result(result).split("\n\n")
    lines = cells.splitlines()
    assert lines[2].split()[:2] == ["toy", "L_ref"] and lines[2].split()[-2:] == ["yes", "yes"]
    assert lines[3].split()[:2] == ["toy", "alpha"] and lines[3].split()[-2:] == ["no", "no"]
    lines = terms.splitlines()
    assert lines[0].split()[:2] == ["dataset", "effects"] and len(lines) == 4
    assert lines[2].split() == ["toy", "L_ref:model", "0.03", "0.3", "0.1", "yes"]
    assert lines[3].split()[1:2] + lines[3].split()[-1:] == ["alpha:model", "no"]
