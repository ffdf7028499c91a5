"""What the benchmark scripts share: where the shared data sit, a NUTS fit's sampling quality
per second, and the plain-text table they print.

The scripts in ``benchmarks/`` are run as files (``python benchmarks/scale.py``), so Python
puts this folder on ``sys.path`` and they import each other by module name
(``from common import DATA``); ``tests/benchmarks/conftest.py`` does the same for the tests.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from bayeslaw import atomic

#: ``../shared/data`` beside the repository checkout (the routing study and SLDBench).
DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


def nuts_stats(fit: Any) -> dict[str, float | int]:
    """Sampling quality of a NUTS fit, and per second of its wall time.

    Parameters
    ----------
    fit : bayeslaw.posterior.fit.Fit
        A NUTS fit (with its DataTree).

    Returns
    -------
    dict
        ``min_ess_bulk``: the smallest bulk ESS over every variable of
        ``arviz_stats.summary(kind="diagnostics")``; ``ess_bulk_per_s``: that divided by
        ``fit.wall_time``; ``divergences``: divergent transitions over all chains;
        ``max_r_hat``: the largest R-hat.
    """
    # imported here so that ``import common`` stays light: run_all.py never needs ArviZ,
    # and fit_timing.py times its own imports
    import arviz_stats

    summary = arviz_stats.summary(fit.datatree, kind="diagnostics", round_to="none")
    min_ess = float(summary["ess_bulk"].min())
    return {
        "min_ess_bulk": min_ess,
        "ess_bulk_per_s": min_ess / fit.wall_time,
        "divergences": int(fit.datatree["sample_stats"]["diverging"].sum()),
        "max_r_hat": float(summary["r_hat"].max()),
    }


def fmt(value: Any) -> str:
    """A table cell: floats to 3 significant digits (whole numbers from 1000 on)."""
    if isinstance(value, float):
        return f"{value:.3g}" if abs(value) < 1000 else f"{value:.0f}"
    return str(value)


def text_table(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """Plain-text table: left-aligned columns under a dashed rule, cells through :func:`fmt`."""
    cells = [list(header)] + [[fmt(c) for c in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(header))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(line.rstrip() for line in lines)


def chosen_datasets(text: str, plan: Any) -> list[str] | None:
    """The comma-separated ``--datasets`` names, or None (after saying why on stderr) when
    one is not in ``plan`` or the shared data are absent: what every real-data benchmark's
    ``main`` checks first."""
    import sys

    names = [n for n in text.split(",") if n]
    unknown = sorted(set(names) - set(plan))
    if unknown or not DATA.is_dir():
        print(f"skipped: unknown datasets {unknown} or no {DATA}", file=sys.stderr)
        return None
    return names


def interaction_option(text: str | None) -> tuple[str, ...] | None:
    """An ``--interaction`` option as ``fit``'s ``interaction``: absent, fit's default
    (None); else the comma-separated coordinates named (empty: none)."""
    if text is None:
        return None
    return tuple(c for c in text.split(",") if c)


def publish(result: dict[str, Any], json_path: Path | None, text: str) -> int:
    """What every benchmark's ``main`` ends with: the JSON written atomically (when
    ``--json`` was given), the table printed; returns the exit status 0."""
    if json_path is not None:
        atomic.write_json(json_path, result)
    print(text)
    return 0


def datasets_main(
    argv: list[str] | None,
    doc: str | None,
    plan: Any,
    run: Callable[[list[str]], dict[str, Any]],
    format_result: Callable[[dict[str, Any]], str],
) -> int:
    """The ``main`` of a benchmark whose only options are ``--datasets`` (names in ``plan``)
    and ``--json``: parse, check the names (exit 0 with a reason when the shared data are
    absent), ``run`` them, publish the table of ``format_result``."""
    import argparse

    parser = argparse.ArgumentParser(description=(doc or "").splitlines()[0])
    parser.add_argument("--datasets", default=",".join(plan), help="comma-separated")
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args(argv)
    names = chosen_datasets(args.datasets, plan)
    if names is None:
        return 0
    result = run(names)
    return publish(result, args.json, format_result(result))


#: The crossed factors of the shared datasets built of them (``real_observations(factors=True)``).
FACTORS = {
    "sft_finetuning": ("model", "dataset"),
    "overtraining": ("train_dataset", "eval_set"),
    "moe_routing": ("router_type", "eval_set"),
}
#: The routing study's evaluation sets: ``loss_<name>`` columns of its curves.
ROUTING_EVAL_SETS = ("validation", "c4", "curation_corpus", "lambada", "pile", "wikitext103")
#: The routing study's last step: the runs SLDBench's MoE task is built from.
ROUTING_FINAL_STEP = 249000
#: Factors with a family interaction (``real_observations(families=True)``): models of one
#: family share an effect per dataset (fine-tuning); validation sets drawn from one corpus
#: share an effect per training corpus (over-training, :func:`eval_source`).
FAMILY_FACTORS = {
    "sft_finetuning": ("model", "dataset", "family:dataset"),
    "overtraining": ("train_dataset", "eval_set", "source:train_dataset"),
}
#: Over-training's validation sets drawn from one corpus (the others are their own source).
_EVAL_SOURCES = {"c4_val": "c4", "paloma_c4_en": "c4"}
#: Model families of the fine-tuning curves, by a name fragment (checked in this order:
#: "mt5" before "t5"). Knowledge a user brings: the models' names say it, the data do not.
_FAMILIES = ("lamini", "cerebras", "bart", "opt", "mt5", "t5", "gpt2")


def model_family(model: str) -> str:
    """The family of a fine-tuning curve's model: ``"google/t5-base"`` -> ``"t5"``,
    ``"MBZUAI/LaMini-GPT-124M"`` -> ``"lamini"`` (a family of its own: distilled, not GPT-2)."""
    name = model.split("/")[-1].lower()
    for family in _FAMILIES:
        if family in name:
            return family
    raise ValueError(f"no family known for model {model!r}; add one to _FAMILIES")


def eval_source(eval_set: str) -> str:
    """The corpus an over-training validation set is drawn from: ``"c4"`` for C4's own
    validation split and Paloma's C4 sample, else the set itself. Knowledge a user brings
    (the sets' documentation says it), as a model's family is."""
    return _EVAL_SOURCES.get(eval_set, eval_set)


def real_observations(
    name: str, *, crossed: bool = False, factors: bool = False, families: bool = False
) -> Any:
    """A shared real dataset as the benchmarks read it.

    ``sft_finetuning``: groups = (model, dataset), input ``sft_data_size``;
    ``overtraining``: inputs ``params`` and ``tokens``, groups = training corpus on the C4
    validation loss, or with ``crossed`` every (training corpus, validation set) curve; the
    MoE datasets as saved. With ``factors`` the curves' two columns are kept as crossed
    factors (:data:`FACTORS`; the same group labels, ``"a | b"``), else a group is one label;
    with ``families`` a ``family`` column (fine-tuning, :func:`model_family`) or a ``source``
    column (over-training, :func:`eval_source`) and the factors of :data:`FAMILY_FACTORS`
    (labels ``"model | dataset | family"``, ``"train_dataset | eval_set | source"``).
    """
    import pandas as pd

    from bayeslaw.data import load_observations

    groups = FAMILY_FACTORS[name] if families else FACTORS.get(name) if factors else None
    if name == "sft_finetuning":
        frame = pd.read_csv(DATA / name / "runs.csv")
        frame["group"] = _cell_labels(frame, FACTORS[name])
        frame["family"] = frame["model"].map(model_family)
        if groups:
            frame = frame.drop(columns="group")
        return load_observations(
            frame, columns={"loss_validation": "sft_loss"}, inputs=["sft_data_size"], groups=groups
        )
    if name == "overtraining":
        frame = pd.read_csv(DATA / name / "runs.csv")
        frame["source"] = frame["eval_set"].map(eval_source)
        if groups:
            return load_observations(
                frame, columns={"loss_validation": "loss"}, inputs=["params", "tokens"],
                groups=groups,
            )  # fmt: skip
        if crossed:
            frame["group"] = _cell_labels(frame, FACTORS[name])
            columns = {"loss_validation": "loss"}
        else:
            frame = frame[frame["eval_set"] == "c4_val"]
            columns = {"loss_validation": "loss", "group": "train_dataset"}
        return load_observations(frame, columns=columns, inputs=["params", "tokens"])
    if name == "moe_routing":
        frame = routing_evaluations()
        if not groups:
            frame["group"] = _cell_labels(frame, FACTORS[name])
        return load_observations(
            frame, columns={"loss_validation": "loss"},
            inputs=["dense_parameter_count", "num_experts"], groups=groups,
        )  # fmt: skip
    return load_observations(DATA / name)


def _cell_labels(frame: Any, columns: Sequence[str]) -> list[str]:
    """Each row's cell label from its ``columns`` (``"gpt2 | flan"``, :func:`join_levels`)."""
    from bayeslaw.groups import join_levels

    return [join_levels(levels) for levels in frame[list(columns)].itertuples(index=False)]


def routing_evaluations() -> Any:
    """The routing study's routed runs at its last step, one row per run and evaluation set
    (``moe_routing/curves.csv.gz``: 181 runs x 6 sets; columns router_type, eval_set,
    dense_parameter_count, num_experts, loss, hyper_id): a third real dataset of crossed
    factors, router type x evaluation set (18 curves), from a study independent of the other
    two. The 12 dense runs are left out: they belong to no router (``moe_by_router``
    repeats them in each), so a held-out router's curve would find its own dense rows in
    the other routers' training data. The 11 (run, set) pairs the study did not evaluate
    (no loss recorded) are dropped."""
    import pandas as pd

    curves = pd.read_csv(DATA / "moe_routing" / "curves.csv.gz")
    final = curves[(curves["step"] == ROUTING_FINAL_STEP) & (curves["router_type"] != "Dense")]
    keys = ["hyper_id", "router_type", "dense_parameter_count", "num_experts"]
    frame = final.melt(
        id_vars=keys, value_vars=[f"loss_{e}" for e in ROUTING_EVAL_SETS],
        var_name="eval_set", value_name="loss",
    )  # fmt: skip
    frame["eval_set"] = frame["eval_set"].str.removeprefix("loss_")
    return frame.dropna(subset=["loss"]).reset_index(drop=True)
