"""The SLDBench protocol: fit each (form, pooling) on training rows, score held-out rows.

Fits are one hierarchical model over all groups, by NUTS; scores are those of
:func:`bayeslaw.evaluation.scoring.score`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

from bayeslaw.data import Observations
from bayeslaw.evaluation.scoring import score
from bayeslaw.inference.fitting import fit

__all__ = ["Evaluation", "evaluate"]


@dataclass(frozen=True)
class Evaluation:
    """Scores of every (form, pooling) fitted on ``train`` and scored on ``test``."""

    table: pd.DataFrame
    points: Mapping[tuple[str, str], pd.DataFrame]
    train_source: str
    test_source: str

    def to_markdown(self, digits: int = 3) -> str:
        return str(self.table.round(digits).to_markdown())

    def to_dict(self) -> dict[str, Any]:
        return {
            "train": self.train_source,
            "test": self.test_source,
            "rows": self.table.reset_index().to_dict(orient="records"),
        }


def _divergences(tree: Any) -> float:
    if "sample_stats" not in tree.children:
        return 0.0
    return float(tree["sample_stats"]["diverging"].sum())


def evaluate(
    train: Observations,
    test: Observations,
    *,
    forms: Sequence[str] = ("moe_additive",),
    poolings: Sequence[str] = ("partial",),
    random_seed: int = 0,
    **fit_kwargs: Any,
) -> Evaluation:
    """Fit each (form, pooling) on ``train`` by NUTS and score it on ``test``.

    Returns
    -------
    Evaluation
        ``table``: one row per (form, pooling) with the metrics of
        :func:`~bayeslaw.evaluation.scoring.score`, ``fit_s`` and ``divergences``;
        ``points``: the per-row tables.
    """
    rows, points = [], {}
    for form in forms:
        for pooling in poolings:
            result = fit(train, form=form, pooling=pooling, random_seed=random_seed, **fit_kwargs)
            metrics, table = score(result, test)
            metrics["fit_s"] = result.wall_time
            metrics["divergences"] = _divergences(result.datatree)
            rows.append({"form": result.form_name, "pooling": pooling, **metrics})
            points[(result.form_name, pooling)] = table
    frame = pd.DataFrame(rows).set_index(["form", "pooling"])
    return Evaluation(frame, points, train.source, test.source)
