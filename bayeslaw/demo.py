"""The main job on the built-in SYNTHETIC demo data (``bayeslaw demo``, ``make demo``).

Simulate a multi-group MoE dataset with known parameters, hold out the largest model size,
fit the hierarchical law by NUTS, save the fit and its report, and compare the predictions
at the held-out size (and for a group never seen) with the truth.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd

from bayeslaw.datasets import DENSE_SIZES, simulate_moe

__all__ = ["run_demo"]

HELD_OUT_SIZE = 1.3e9


def _held_out_table(fit: object, sim: object, held: pd.DataFrame) -> pd.DataFrame:
    rows = []
    for group, part in held.groupby("group", sort=True):
        inputs = {k: part[k].to_numpy() for k in ("dense_parameter_count", "num_experts")}
        pred = fit.predict(inputs, group=str(group))  # type: ignore[attr-defined]
        truth = sim.mean_loss(inputs, str(group))  # type: ignore[attr-defined]
        for i in range(len(part)):
            rows.append(
                {
                    "group": group,
                    "num_experts": inputs["num_experts"][i],
                    "true_mean_loss": truth[i],
                    "predicted": pred["mean"].iloc[i],
                    "lower_90": pred["lower"].iloc[i],
                    "upper_90": pred["upper"].iloc[i],
                    "covered": pred["lower"].iloc[i] <= truth[i] <= pred["upper"].iloc[i],
                }
            )
    return pd.DataFrame(rows)


def run_demo(out: Path, *, n_groups: int = 3, seed: int = 0, quick: bool = False) -> Iterator[str]:
    """Run the demo, yielding the lines to show; files go under ``out``."""
    from bayeslaw.evaluation.selection import fit

    sim = simulate_moe(n_groups=n_groups, seed=seed, dense_sizes=(*DENSE_SIZES, HELD_OUT_SIZE))
    frame = sim.observations.frame
    held_mask = frame["dense_parameter_count"].to_numpy() >= HELD_OUT_SIZE
    train = sim.observations.subset(~held_mask)
    yield f"SYNTHETIC demo data: {sim.observations.source}"
    yield f"training on {len(train)} rows (dense sizes up to {max(DENSE_SIZES):.3g}); "
    yield f"holding out {int(held_mask.sum())} rows at {HELD_OUT_SIZE:.2g} dense parameters"
    draws, tune, chains = (200, 300, 2) if quick else (1000, 1000, 4)
    result = fit(
        train, draws=draws, tune=tune, chains=chains, random_seed=seed, progressbar=not quick
    )
    fit_dir = result.save(out / "fit")
    yield f"fitted {result.form_name} by NUTS in {result.wall_time:.1f} s -> {fit_dir}"
    for problem in result.record.convergence_problems:
        yield f"warning: {problem}"

    truth = sim.raw_group_params()
    table = result.params().reset_index()
    table = table[table["group"].isin(truth.index)]
    table["truth"] = [
        truth.loc[g, p] for g, p in zip(table["group"], table["parameter"], strict=True)
    ]
    yield "\nper-group coefficients (raw units; posterior mean, 90% interval) vs truth:"
    yield table.to_string(index=False, float_format=lambda v: f"{v:.4g}")

    held = _held_out_table(result, sim, frame[held_mask])
    yield f"\nheld-out size {HELD_OUT_SIZE:.2g}: predicted mean loss vs the noise-free truth"
    yield held.to_string(index=False, float_format=lambda v: f"{v:.4f}")
    yield f"90% intervals cover the truth at {held['covered'].mean():.0%} of held-out points"

    new = result.predict(
        {"dense_parameter_count": [HELD_OUT_SIZE], "num_experts": [64.0]}, group="a_new_group"
    )
    seen = result.predict(
        {"dense_parameter_count": [HELD_OUT_SIZE], "num_experts": [64.0]}, group=train.groups[0]
    )
    yield (
        f"\nan unseen group at N={HELD_OUT_SIZE:.2g}, E=64 gets the population posterior: "
        f"{new['mean'].iloc[0]:.3f} [{new['lower'].iloc[0]:.3f}, {new['upper'].iloc[0]:.3f}] "
        f"(a seen group: width {float(np.ptp(seen[['lower', 'upper']].to_numpy())):.3f})"
    )
    from bayeslaw.reports.render import write_report

    written = write_report(result, out)
    yield "\nreport (open report.html in a browser):"
    for name, path in written.items():
        yield f"  {name}: {path}"
