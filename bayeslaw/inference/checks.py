"""Convergence checks run after every NUTS fit: each problem is warned about by name."""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = [
    "TREEDEPTH_STATS",
    "ConvergenceWarning",
    "Problem",
    "convergence_problems",
    "e_bfmi",
    "warn_on_problems",
]

RHAT_MAX = 1.01
ESS_MIN_PER_CHAIN = 100
BFMI_MIN = 0.3
#: Tree-depth flags written by PyMC's own NUTS and by nutpie.
TREEDEPTH_STATS = ("reached_max_treedepth", "maxdepth_reached")


class ConvergenceWarning(UserWarning):
    """The sampler's output fails a convergence check; the message says what to do."""


@dataclass(frozen=True)
class Problem:
    """One failed check: its name, what was seen, and advice."""

    check: str
    detail: str
    advice: str

    def __str__(self) -> str:
        return f"{self.check}: {self.detail}. {self.advice}"


def e_bfmi(energy: np.ndarray) -> np.ndarray:
    """E-BFMI per chain from an energy array ``(chain, draw)`` (Betancourt 2016)."""
    return np.sum(np.diff(energy, axis=1) ** 2, axis=1) / np.sum(
        (energy - energy.mean(axis=1, keepdims=True)) ** 2, axis=1
    )


def _names(names: list[str], shown: int = 8) -> str:
    head = ", ".join(names[:shown])
    return head + (f" and {len(names) - shown} more" if len(names) > shown else "")


def convergence_problems(tree: Any, var_names: list[str]) -> list[Problem]:
    """Divergences, tree depth, E-BFMI, R-hat and bulk/tail ESS of ``var_names``."""
    import arviz_stats as azs

    stats = tree["sample_stats"]
    n_chains = int(stats.sizes["chain"])
    problems = []
    n_div = int(stats["diverging"].sum()) if "diverging" in stats else 0
    if n_div:
        problems.append(
            Problem(
                "divergences",
                f"{n_div} divergent transitions",
                "The posterior has regions NUTS cannot follow; results may be biased. Check "
                "the data for outliers (try likelihood='student_t'), tighten group_scale "
                "priors; when groups barely differ, keep every offset non-centred "
                "(centered=()) or use pooling='complete'.",
            )
        )
    n_max = sum(int(stats[name].sum()) for name in TREEDEPTH_STATS if name in stats)
    if n_max:
        problems.append(
            Problem(
                "tree depth",
                f"{n_max} transitions hit the maximum tree depth",
                "Sampling is inefficient, often from strongly correlated parameters; a "
                "simpler law form or more informative priors help.",
            )
        )
    bfmi = e_bfmi(np.asarray(stats["energy"].values)) if "energy" in stats else np.array([])
    if bfmi.size and np.any(bfmi < BFMI_MIN):
        problems.append(
            Problem(
                "E-BFMI",
                f"E-BFMI {np.round(bfmi, 2).tolist()} below {BFMI_MIN}",
                "Momentum resampling explores the energy poorly (heavy tails or funnels); "
                "consider pooling='complete' or tighter group_scale priors.",
            )
        )
    summary = azs.summary(tree, var_names=var_names, kind="diagnostics", round_to="none")
    ess_min = ESS_MIN_PER_CHAIN * n_chains
    bad_rhat = sorted(summary.index[summary["r_hat"] > RHAT_MAX].astype(str))
    bad_ess = sorted(
        summary.index[(summary["ess_bulk"] < ess_min) | (summary["ess_tail"] < ess_min)].astype(str)
    )
    if bad_rhat:
        problems.append(
            Problem(
                "R-hat",
                f"R-hat > {RHAT_MAX} for {_names(bad_rhat)}",
                "Chains disagree; run longer (tune=2000, draws=2000) and check for multimodality.",
            )
        )
    if bad_ess:
        problems.append(
            Problem(
                "ESS",
                f"bulk or tail ESS < {ess_min} for {_names(bad_ess)}",
                "Too few effective draws for stable intervals; increase draws.",
            )
        )
    return problems


def warn_on_problems(problems: list[Problem]) -> None:
    for problem in problems:
        warnings.warn(str(problem), ConvergenceWarning, stacklevel=3)
