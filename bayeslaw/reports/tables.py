"""The report's descriptive tables, from ``Fit.info`` and ``Fit.params`` (numbers only)."""

from __future__ import annotations

from typing import Any

import pandas as pd

from bayeslaw.inference.result import CI_PROB, Fit
from bayeslaw.models.anchors import coordinates
from bayeslaw.models.forms import get_form

__all__ = ["coefficient_table", "fitting_table", "priors_note", "priors_table", "provenance"]

#: How each pooling reads in a title.
POOLING_TITLE = {"partial": "partial pooling", "none": "no pooling", "complete": "complete pooling"}
POOLING = {
    "partial": "partial: groups share population-level priors (hierarchical)",
    "none": "none: every group fitted independently",
    "complete": "complete: every group shares one parameter set",
}


def _g(value: Any) -> str:
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def _settings(rows: list[tuple[str, Any]]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=["setting", "value"]).set_index("setting")
    frame["value"] = frame["value"].map(_g)
    return frame


def fitting_table(fit: Fit) -> pd.DataFrame:
    """How the fit was made: form, method and sampler settings, seed, pooling, likelihood,
    groups, observations and wall time (one ``value`` per ``setting``)."""
    info = fit.info
    sampler = dict(info.get("sampler") or {})
    groups = list(info.get("groups") or fit.groups)
    shown = ", ".join(groups[:12]) + (f" and {len(groups) - 12} more" if len(groups) > 12 else "")
    rows: list[tuple[str, Any]] = [("form", info.get("form", fit.form_name))]
    if info.get("form_selected_by"):
        rows.append(("form chosen by", info["form_selected_by"]))
    if info.get("method") == "map":
        rows.append(("method", f"MAP (posterior mode, {sampler.get('map_starts')} starts)"))
    else:
        rows += [
            ("method", f"NUTS via {sampler.get('sampler')}"),
            ("draws x chains", f"{sampler.get('draws')} x {sampler.get('chains')}"),
            ("tuning steps per chain", sampler.get("tune")),
            ("target_accept", sampler.get("target_accept")),
        ]
    rows += [
        ("random seed", info.get("random_seed")),
        ("pooling", POOLING.get(str(info.get("pooling")), info.get("pooling"))),
    ]
    if info.get("pooling") == "partial":
        centred = list(info.get("centered", []))
        rows.append(
            (
                "group offsets",
                f"centred: {', '.join(centred)}; the others non-centred"
                if centred
                else "non-centred",
            )
        )
    rows += [
        ("likelihood", info.get("likelihood")),
        ("groups", f"{len(groups)}: {shown}"),
        ("observations", info.get("n_observations")),
        (
            "wall time",
            f"{float(info.get('wall_time_s', float('nan'))):.1f} s (build, compile, fit)",
        ),
    ]
    return _settings(rows)


def priors_table(fit: Fit) -> pd.DataFrame:
    """Every prior: those of the sampled coordinates (on their link scale; population-level
    under partial pooling), the loss floor's soft walls and the noise scale; or the flat
    priors. See :func:`priors_note` for how to read it."""
    priors = dict(fit.info.get("priors") or {})
    if priors.get("kind") == "flat":
        return pd.DataFrame(
            {"prior": ["flat on every law parameter; exponents uniform on [0.05, 2]"]},
            index=pd.Index(["all"], name="name"),
        )
    partial = fit.info.get("pooling") == "partial"
    links = {c.name: c.link for c in coordinates(get_form(fit.form_name))}
    rows = []
    for name, p in (priors.get("coordinates") or {}).items():
        spread = f"HalfNormal({p['group_scale']:.4g})" if partial else ""
        rows.append(
            (name, links.get(name, ""), f"Normal({p['loc']:.4g}, {p['scale']:.4g})", spread)
        )
    if "floor" in priors:
        rows.append(("L_inf", "identity", _floor(priors), ""))
    if "noise_scale" in priors:
        rows.append(("noise sd", "identity", f"HalfNormal({priors['noise_scale']:.4g})", ""))
    if fit.info.get("likelihood") == "student_t":
        rows.append(("nu", "identity", "the package default (bayeslaw.models.priors)", ""))
    columns = ["name", "link", "prior", "between-group sd"]
    frame = pd.DataFrame(rows, columns=columns).set_index("name")
    return frame if partial else frame.drop(columns="between-group sd")


def priors_note(fit: Fit) -> str:
    """How to read :func:`priors_table` under the fit's pooling."""
    pooling = fit.info.get("pooling")
    if (fit.info.get("priors") or {}).get("kind") == "flat":
        return "flat priors: the MAP point is the classical least-squares fit"
    where = {
        "partial": "the population mean of each sampled coordinate; between-group sd ~ "
        "HalfNormal(group scale)",
        "none": "each group's own coordinate, independently",
        "complete": "the one coordinate every group shares",
    }.get(str(pooling), "each sampled coordinate")
    return f"prior of {where}; on the link scale of the coordinate (bayeslaw.models.priors)"


def _floor(priors: dict[str, Any]) -> str:
    """The loss floor's soft walls, as stored in ``info["priors"]`` (either end may be None)."""
    lower, upper = (None if v is None else float(v) for v in priors["floor"])
    width = priors.get("floor_width")
    walls = " and ".join(
        f"{side} {v:.4g}" for side, v in (("above", lower), ("below", upper)) if v is not None
    )
    text = f"soft walls: {walls}" if walls else "unbounded"
    return text + (f" (width {float(width):.3g})" if walls and width is not None else "")


def coefficient_table(params: pd.DataFrame) -> pd.DataFrame:
    """:meth:`Fit.params` as one row per group and one column per parameter, each cell
    ``mean [lower, upper]`` (4 significant digits)."""
    cells = params.apply(
        lambda r: f"{r['mean']:.4g} [{r['lower']:.4g}, {r['upper']:.4g}]", axis=1
    ).rename("cell")
    wide = cells.reset_index().pivot(index="group", columns="parameter", values="cell")
    order = list(dict.fromkeys(params.index.get_level_values("parameter")))
    groups = list(dict.fromkeys(params.index.get_level_values("group")))
    wide = wide.loc[groups, order]
    wide.columns.name = None
    return wide


def provenance(fit: Fit) -> pd.DataFrame:
    """Where the data and the fit come from: source, hash, version, time, fit-time checks."""
    info = fit.info
    problems = info.get("convergence_problems") or []
    rows: list[tuple[str, Any]] = [
        ("data source", info.get("data_source")),
        ("data hash (sha256)", info.get("data_hash")),
        ("observations", info.get("n_observations")),
        ("bayeslaw version", info.get("bayeslaw_version")),
        ("created (UTC)", info.get("created")),
        ("fit wall time", f"{float(info.get('wall_time_s', float('nan'))):.1f} s"),
        ("credible intervals", f"equal-tailed, {CI_PROB:.0%}"),
        ("convergence problems at fit time", len(problems) if problems else "none"),
    ]
    return _settings(rows)
