"""How well each curve measures each law coordinate, against the spread between cells: what
``fit(..., centered="data")`` reads to choose which cells' offsets and levels' effects to centre
(:mod:`bayeslaw.inference.centring`), printed for the shared crossed datasets.

Per coordinate of the no-pooling fit's Laplace approximation: ``median cell sd`` and
``max cell sd`` (each curve's posterior sd of the coordinate, link scale), ``spread`` (the
residual sd of the cells' MAP coordinates after their levels' additive effects),
``between`` (the spread less the cells' own noise, sqrt(spread^2 - median cell sd^2)) and
``ratio`` (median cell sd / between; below
:data:`~bayeslaw.inference.centring.KEEP_CELLS_BELOW` the cells keep offsets of their own,
below :data:`~bayeslaw.inference.centring.CENTRE_BELOW` those are centred); then per
coordinate and factor, its levels' effects (``<coord>:<factor>``): ``median level sd`` (the
effects' sd when each cell scatters around its levels' sum by the spread), ``between`` (the
effects' sd less that noise) and ``ratio`` (below ``CENTRE_BELOW`` the effects are centred,
unless the coordinate's cells keep non-centred offsets).

    python benchmarks/cell_information.py [--datasets sft_finetuning,overtraining]
        [--json PATH]
"""

from __future__ import annotations

import sys
import time
import warnings
from collections.abc import Sequence
from typing import Any

from common import datasets_main, real_observations, text_table
from unseen_groups import PLAN

from bayeslaw.inference.centring import (
    CENTRE_BELOW,
    KEEP_CELLS_BELOW,
    choices_from,
    laplace_information,
)
from bayeslaw.models.hierarchical import ModelSpec


def run(datasets: Sequence[str] = tuple(PLAN)) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name in datasets:
        start = time.perf_counter()
        obs = real_observations(name, factors=True)
        spec = ModelSpec.from_observations(obs, form=PLAN[name], centered=())
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            coords = laplace_information(obs, spec, random_seed=0)
        # the pilot's decisions (fit's defaults), without a second pilot
        chosen, cells = choices_from(coords, spec, interaction=True)
        out[name] = {"form": PLAN[name], "coordinates": coords, "cells": list(cells),
                     "centred": list(chosen), "threshold": CENTRE_BELOW,
                     "keep_cells_below": KEEP_CELLS_BELOW,
                     "seconds": time.perf_counter() - start}  # fmt: skip
    return out


def format_result(result: dict[str, Any]) -> str:
    """Two tables: each coordinate's cells, then each coordinate's effects of each factor."""
    rows, effects = [], []
    for name, d in result.items():
        for term, c in d["coordinates"].items():
            if ":" in term:  # a factor's effects, named as ``centered`` names them
                centred = "yes" if term in d["centred"] else "no"
                effects.append([name, term, c["level_sd"], c["between"], c["ratio"], centred])
                continue
            rows.append([name, term, c["cell_sd"], c["max_cell_sd"], c["spread"], c["between"],
                         c["ratio"], "yes" if term in d["cells"] else "no",
                         "yes" if f"{term}:cell" in d["centred"] else "no"])  # fmt: skip
    header = ["dataset", "coordinate", "median cell sd", "max cell sd", "spread", "between",
              "ratio", "cell offsets", "centred"]  # fmt: skip
    table = text_table(header, rows)
    if effects:
        header = ["dataset", "effects", "median level sd", "between", "ratio", "centred"]
        table += "\n\n" + text_table(header, effects)
    return table


def main(argv: list[str] | None = None) -> int:
    return datasets_main(argv, __doc__, PLAN, run, format_result)


if __name__ == "__main__":
    sys.exit(main())
