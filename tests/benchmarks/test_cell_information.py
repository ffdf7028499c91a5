"""The centring evidence table (benchmarks/cell_information.py)."""

from __future__ import annotations

import cell_information as ci


def test_table_marks_the_centred_cells():
    info = {"cell_sd": 0.01, "max_cell_sd": 0.02, "spread": 0.4, "between": 0.4, "ratio": 0.025}
    result = {"toy": {"coordinates": {"L_ref": info, "alpha": {**info, "ratio": 2.0}},
                      "cells": ["L_ref"], "centred": ["L_ref:cell"]}}  # fmt: skip
    lines = ci.format_result(result).splitlines()
    assert lines[2].split()[:2] == ["toy", "L_ref"] and lines[2].split()[-2:] == ["yes", "yes"]
    assert lines[3].split()[:2] == ["toy", "alpha"] and lines[3].split()[-2:] == ["no", "no"]
