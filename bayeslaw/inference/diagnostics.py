"""Sampler diagnostics: one engine for the checks run after every fit and shown in reports.

Each check is graded ``"ok"``, ``"warning"`` or ``"fail"`` with what was seen and what to do
(:class:`Check`). :func:`fit <bayeslaw.inference.fitting.fit>` warns
(:class:`ConvergenceWarning`) about every check that is not ok; the report
(:mod:`bayeslaw.reports.diagnostics`) presents the same checks. The numbers come from
``arviz_stats``: ``summary`` (rank-normalised split R-hat, bulk/tail ESS, MCSE; unrounded),
``bfmi`` (E-BFMI) and ``loo`` (PSIS-LOO, Pareto k). Divergences and tree-depth saturation are
counted from the sample stats directly, because ``arviz_stats.diagnose`` reads only PyMC's
``reached_max_treedepth`` flag and nutpie writes ``maxdepth_reached``.

Thresholds follow Vehtari et al. (2021) for R-hat and ESS, Betancourt (2016) for E-BFMI and
Vehtari et al. (2024) for the Pareto k of PSIS-LOO.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd

from bayeslaw.models.products import product_factors, product_names, sign_free_variables

__all__ = [
    "Check",
    "ConvergenceWarning",
    "Verdict",
    "checked_variables",
    "convergence_checks",
    "divergence_locus",
    "fit_checks",
    "loo_check",
    "sampler_checks",
    "summary_table",
    "treedepth_hits",
    "warn_on_failures",
    "worst",
]

Verdict = Literal["ok", "warning", "fail"]
_RANK: dict[Verdict, int] = {"ok": 0, "warning": 1, "fail": 2}

#: R-hat above this warns, above ``RHAT_FAIL`` fails.
RHAT_MAX, RHAT_FAIL = 1.01, 1.05
#: Bulk and tail ESS per chain below this warns, below ``ESS_FAIL_PER_CHAIN`` fails.
ESS_MIN_PER_CHAIN, ESS_FAIL_PER_CHAIN = 100, 25
#: MCSE of the mean relative to the posterior sd: warn above, fail above the second.
MCSE_WARN, MCSE_FAIL = 0.1, 0.2
#: Share of divergent transitions at which a warning (any divergence) becomes a failure.
DIVERGENCE_FAIL_SHARE = 0.01
#: E-BFMI below this warns, below ``BFMI_FAIL`` fails.
BFMI_MIN, BFMI_FAIL = 0.3, 0.2
#: Share of observations with Pareto k above ``good_k`` at which PSIS-LOO fails (as does any
#: k > 1).
PARETO_FAIL_SHARE = 0.1
#: Tree-depth flags written by PyMC's own NUTS and by nutpie.
TREEDEPTH_STATS = ("reached_max_treedepth", "maxdepth_reached")


class ConvergenceWarning(UserWarning):
    """The sampler's output fails a convergence check; the message says what to do."""


@dataclass(frozen=True)
class Check:
    """One diagnostic: its name, verdict, what was seen and what to do."""

    name: str
    verdict: Verdict
    detail: str
    advice: str

    @property
    def ok(self) -> bool:
        return self.verdict == "ok"

    def __str__(self) -> str:
        return f"{self.name}: {self.detail}. {self.advice}"


def worst(verdicts: Sequence[Verdict]) -> Verdict:
    """The most severe of ``verdicts`` (``"ok"`` for none)."""
    return max(verdicts, key=_RANK.__getitem__, default="ok")


def _grade(bad: bool, very_bad: bool) -> Verdict:
    return "fail" if very_bad else ("warning" if bad else "ok")


def _worst(values: pd.Series, highest: bool, shown: int = 5) -> str:
    ordered = values.sort_values(ascending=not highest).head(shown)
    return ", ".join(f"{k} ({v:.3g})" for k, v in ordered.items())


def summary_table(tree: Any, var_names: Sequence[str], *, ci_prob: float) -> pd.DataFrame:
    """``arviz_stats.summary`` of every component of ``var_names`` (unrounded): mean, sd,
    equal-tailed interval at ``ci_prob``, bulk/tail ESS, R-hat, MCSE; plus ``variable``, rows
    in the order of ``var_names``."""
    import arviz_stats as azs

    names = list(var_names)
    table = pd.DataFrame(
        azs.summary(
            tree, var_names=names, kind="all", ci_prob=ci_prob, ci_kind="eti", round_to="none"
        )
    )
    variable = [str(i).split("[", 1)[0] for i in table.index]
    table.insert(0, "variable", variable)
    order = np.argsort([names.index(v) for v in variable], kind="stable")
    return table.iloc[order]


def convergence_checks(summary: pd.DataFrame, n_chains: int) -> list[Check]:
    """R-hat, bulk/tail ESS and MCSE / sd over every row of :func:`summary_table`."""
    rhat = summary["r_hat"].fillna(np.inf)
    ess = summary[["ess_bulk", "ess_tail"]].min(axis=1).fillna(0.0)
    mcse = (summary["mcse_mean"] / summary["sd"]).fillna(np.inf)
    ess_ok = ESS_MIN_PER_CHAIN * n_chains
    return [
        Check(
            "R-hat",
            _grade(bool((rhat > RHAT_MAX).any()), bool((rhat > RHAT_FAIL).any())),
            f"max R-hat {rhat.max():.3f} (want <= {RHAT_MAX}); highest: {_worst(rhat, True)}",
            "Chains disagree about the posterior: run longer (tune=2000, draws=2000) and look "
            "at the trace plot for chains stuck in different modes."
            if rhat.max() > RHAT_MAX
            else "Chains agree.",
        ),
        Check(
            "ESS",
            _grade(bool((ess < ess_ok).any()), bool((ess < ESS_FAIL_PER_CHAIN * n_chains).any())),
            f"min bulk/tail ESS {ess.min():.0f} (want >= {ess_ok}, {ESS_MIN_PER_CHAIN} per "
            f"chain); lowest: {_worst(ess, False)}",
            "Too few effective draws for stable 90% intervals: increase draws (and chains)."
            if ess.min() < ess_ok
            else "Enough effective draws for stable 90% intervals.",
        ),
        Check(
            "MCSE",
            _grade(bool((mcse > MCSE_WARN).any()), bool((mcse > MCSE_FAIL).any())),
            f"Monte Carlo error of the mean is at most {mcse.max():.1%} of the posterior sd "
            f"(want <= {MCSE_WARN:.0%})",
            "Posterior means are noisy at the reported precision: increase draws."
            if mcse.max() > MCSE_WARN
            else "Posterior means are precise relative to their uncertainty.",
        ),
    ]


def divergence_locus(tree: Any, var_names: Sequence[str], shown: int = 3) -> list[str]:
    """The variables whose divergent draws sit farthest from the rest (in posterior sds, on
    the log scale for positive variables): where the sampler met the geometry it cannot
    follow, the parameters the data identify poorly. Empty without divergences."""
    diverging = np.asarray(tree["sample_stats"]["diverging"].values, dtype=bool).ravel()
    if not diverging.any() or diverging.all() or "posterior" not in tree.children:
        return []
    posterior = tree["posterior"]
    shifts: dict[str, float] = {}
    for name in var_names:
        if name not in posterior:
            continue
        values = np.asarray(posterior[name].values, dtype=np.float64)
        values = values.reshape(diverging.size, -1)
        if np.all(values > 0):
            values = np.log(values)
        sd = values.std(axis=0)
        with np.errstate(divide="ignore", invalid="ignore"):
            shift = np.abs(values[diverging].mean(axis=0) - values.mean(axis=0)) / sd
        shift = shift[np.isfinite(shift)]
        if shift.size:
            shifts[name] = float(shift.max())
    ranked = sorted(shifts, key=lambda k: -shifts[k])[:shown]
    return [f"{k} ({shifts[k]:.1f} sd)" for k in ranked]


def _divergence_check(stats: Any, total: int, locus: Sequence[str] = ()) -> Check:
    n_div = int(stats["diverging"].sum())
    where = (
        f"; divergent draws sit farthest from the rest in {', '.join(locus)}: the parameters "
        "the data identify poorly (fix or bound them, or simplify the law)"
        if locus
        else ""
    )
    return Check(
        "divergences",
        _grade(n_div > 0, n_div >= DIVERGENCE_FAIL_SHARE * total),
        f"{n_div} of {total} transitions diverged{where}",
        "NUTS met regions it cannot follow, so the posterior may be biased: check the data "
        "for outliers (try likelihood='student_t'), tighten group_scale priors; when groups "
        "barely differ, keep every offset non-centred (centered=()) or use "
        "pooling='complete'."
        if n_div
        else "No divergent transitions.",
    )


def treedepth_hits(stats: Any) -> int | None:
    """Transitions cut short by the maximum tree depth in ``stats`` (a sample-stats group),
    whichever sampler's flag it holds (:data:`TREEDEPTH_STATS`); None where it holds none."""
    flags = [name for name in TREEDEPTH_STATS if name in stats]
    if not flags:
        return None
    hit = np.zeros(np.shape(stats[flags[0]].values), dtype=bool)
    for flag in flags:
        hit |= np.asarray(stats[flag].values, dtype=bool)
    return int(hit.sum())


def _treedepth_check(n_max: int, total: int) -> Check:
    return Check(
        "tree depth",
        _grade(n_max > 0, False),
        f"{n_max} of {total} transitions hit the maximum tree depth",
        "Sampling is slow rather than wrong: strongly correlated parameters; a simpler law "
        "form or more informative priors help."
        if n_max
        else "No transition was cut short by the maximum tree depth.",
    )


def _bfmi_check(tree: Any) -> Check:
    import arviz_stats as azs

    bfmi = np.asarray(azs.bfmi(tree)["energy"].values, dtype=np.float64).ravel()
    return Check(
        "E-BFMI",
        _grade(bool((bfmi < BFMI_MIN).any()), bool((bfmi < BFMI_FAIL).any())),
        f"E-BFMI per chain {np.round(bfmi, 2).tolist()} (want >= {BFMI_MIN})",
        "The sampler explores the energy poorly (heavy tails or funnels): consider "
        "pooling='complete' or tighter group_scale priors."
        if (bfmi < BFMI_MIN).any()
        else "Momentum resampling explores the energy well.",
    )


def sampler_checks(tree: Any, var_names: Sequence[str] = ()) -> list[Check]:
    """Divergences (naming where they happen among ``var_names``), tree-depth saturation
    and E-BFMI from the sample stats (if any)."""
    if "sample_stats" not in tree.children:
        return []
    stats = tree["sample_stats"]
    total = int(stats.sizes["chain"]) * int(stats.sizes["draw"])
    checks = []
    if "diverging" in stats:
        checks.append(_divergence_check(stats, total, divergence_locus(tree, var_names)))
    n_max = treedepth_hits(stats)
    if n_max is not None:
        checks.append(_treedepth_check(n_max, total))
    if "energy" in stats:
        checks.append(_bfmi_check(tree))
    return checks


def checked_variables(
    free_variables: Sequence[str],
    parameters: Sequence[str],
    multiplicative: Sequence[str] = (),
    factors: Sequence[str] = (),
) -> list[str]:
    """What the convergence checks read: the free variables and the law's ``parameters``,
    with a multiplicative interaction's loadings on the coordinates ``multiplicative``
    (their joint sign is not identified, :mod:`bayeslaw.models.products`) replaced by the
    interaction's product per cell."""
    sign_free: set[str] = set()
    products = []
    for coord in multiplicative:
        pair = product_factors(factors)
        sign_free |= sign_free_variables(coord, pair)
        products.append(product_names(coord, pair)["cells"])
    kept = [v for v in free_variables if v not in sign_free]
    return [*kept, *products, *parameters]


def fit_checks(
    tree: Any, var_names: Sequence[str], *, ci_prob: float
) -> tuple[pd.DataFrame, list[Check]]:
    """The summary table of ``var_names`` and the convergence and sampler checks: what
    every NUTS fit runs and every report shows."""
    summary = summary_table(tree, var_names, ci_prob=ci_prob)
    n_chains = int(tree["posterior"].sizes["chain"])
    return summary, [*convergence_checks(summary, n_chains), *sampler_checks(tree, var_names)]


def loo_check(tree: Any) -> tuple[pd.DataFrame, pd.DataFrame, Check | None]:
    """PSIS-LOO: its table, the Pareto k counts and the check (None without a log
    likelihood)."""
    import arviz_stats as azs

    if "log_likelihood" not in tree.children:
        return pd.DataFrame(), pd.DataFrame(), None
    with warnings.catch_warnings():
        # high Pareto k is what this check reports, with advice
        warnings.filterwarnings("ignore", message="Estimated shape parameter of Pareto")
        elpd = azs.loo(tree, pointwise=True, var_name="loss")
    k = np.asarray(elpd.pareto_k.values, dtype=np.float64).ravel()
    good_k = float(elpd.good_k)
    loo = pd.DataFrame(
        [
            {
                "elpd_loo": float(elpd.elpd),
                "se": float(elpd.se),
                "p_loo": float(elpd.p),
                "n_samples": int(elpd.n_samples),
                "n_data_points": int(elpd.n_data_points),
                "good_k": good_k,
            }
        ]
    )
    counts = {
        f"good (k <= {good_k:.2f})": int((k <= good_k).sum()),
        f"bad ({good_k:.2f} < k <= 1)": int(((k > good_k) & (k <= 1)).sum()),
        "very bad (k > 1)": int((k > 1).sum()),
    }
    pareto = pd.DataFrame({"count": counts, "share": {r: c / k.size for r, c in counts.items()}})
    pareto.index.name = "pareto_k"
    n_high = int((k > good_k).sum())
    check = Check(
        "PSIS-LOO",
        _grade(n_high > 0, bool((k > 1).any()) or n_high > PARETO_FAIL_SHARE * k.size),
        f"{n_high} of {k.size} observations have Pareto k > {good_k:.2f}; "
        f"elpd_loo {float(elpd.elpd):.1f} (SE {float(elpd.se):.1f}), p_loo {float(elpd.p):.1f}",
        "For these observations the LOO estimate is unreliable: they are influential (outliers "
        "or the only runs at a size). Look at them, try likelihood='student_t', or use K-fold "
        "cross-validation; with few draws, more draws also lower k."
        if n_high
        else "The PSIS-LOO estimate is reliable for every observation.",
    )
    return loo, pareto, check


def warn_on_failures(checks: Sequence[Check]) -> None:
    """Warn (:class:`ConvergenceWarning`) about every check that is not ok."""
    for check in checks:
        if not check.ok:
            warnings.warn(str(check), ConvergenceWarning, stacklevel=3)
