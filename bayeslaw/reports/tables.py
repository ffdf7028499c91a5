"""The report's descriptive tables, from the fit's record and ``Fit.params`` (numbers only)."""

from __future__ import annotations

from typing import Any

import pandas as pd

from bayeslaw.evaluation.comparison import poor_extrapolation
from bayeslaw.models.anchors import coordinates
from bayeslaw.posterior.fit import CI_PROB, Fit

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
    record, model = fit.record, fit.record.model
    settings = dict(record.sampling.settings)
    groups = list(model.groups)
    shown = ", ".join(groups[:12]) + (f" and {len(groups) - 12} more" if len(groups) > 12 else "")
    rows: list[tuple[str, Any]] = [("form", model.form)]
    if record.form_selected_by:
        rows.append(("form chosen by", record.form_selected_by))
    if record.sampling.is_map:
        rows.append(("method", f"MAP (posterior mode, {settings.get('map_starts')} starts)"))
    else:
        rows += [
            ("method", f"NUTS via {settings.get('sampler')}"),
            ("draws x chains", f"{settings.get('draws')} x {settings.get('chains')}"),
            ("tuning steps per chain", settings.get("tune")),
            ("target_accept", settings.get("target_accept")),
        ]
    rows += [
        ("random seed", record.sampling.random_seed),
        ("pooling", POOLING.get(model.pooling, model.pooling)),
    ]
    if model.pooling == "partial":
        centred = list(model.centered)
        offsets = f"centred: {', '.join(centred)}; the others non-centred" if centred else ""
        rows.append(("group offsets", offsets or "non-centred"))
    rows += [
        ("likelihood", model.likelihood),
        ("noise", "one sd per group" if model.noise == "constant" else "falls with the inputs"),
    ]
    check = record.extrapolation.get(model.form)
    if check:
        rows.append((
            "held-out check (largest training size)",
            f"90% interval coverage {check['extrap_cover90']:.0%}, R^2 "
            f"{check['extrap_r2']:.3f}, log score {check['extrap_elpd']:.3g}",
        ))  # fmt: skip
        problem = poor_extrapolation(model.form, check)
        if problem:
            rows.append(("warning", problem))
    rows += [
        ("groups", f"{len(groups)}: {shown}"),
        ("observations", record.provenance.n_observations),
        ("wall time", f"{record.wall_time_s:.1f} s (build, {compile_source(record)}, fit)"),
    ]
    return _settings(rows)


#: What ``record.sampling.compile["cache"]`` means (:mod:`bayeslaw.inference.compiled`).
COMPILE_SOURCES = {
    "memory": "sampler reused from this process",
    "disk": "sampler read from the compile cache",
    "miss": "sampler compiled",
}


def compile_source(record: Any) -> str:
    """Where a fit's compiled sampler came from, in words (``compile`` for MAP and the
    samplers that compile every fit)."""
    return COMPILE_SOURCES.get(record.sampling.compile.get("cache", ""), "compile")


def priors_table(fit: Fit) -> pd.DataFrame:
    """Every prior: those of the sampled coordinates (on their link scale; population-level
    under partial pooling), the loss floor's soft walls and the noise scale; or the flat
    priors. See :func:`priors_note` for how to read it."""
    model = fit.record.model
    priors = dict(model.priors)
    if priors.get("kind") == "flat":
        return pd.DataFrame(
            {"prior": ["flat on every law parameter; exponents uniform on [0.05, 2]"]},
            index=pd.Index(["all"], name="name"),
        )
    partial = model.pooling == "partial"
    links = {c.name: c.link for c in coordinates(fit.draws.form)}
    rows = []
    for name, p in priors["coordinates"].items():
        spread = f"HalfNormal({p['group_scale']:.4g})" if partial else ""
        rows.append(
            (name, links.get(name, ""), f"Normal({p['loc']:.4g}, {p['scale']:.4g})", spread)
        )
    floor = fit.draws.form.floor
    if floor is not None:
        rows.append((floor, "identity", _floor(priors), ""))
    rows.append(("noise sd", "identity", f"HalfNormal({priors['noise_scale']:.4g})", ""))
    if "nu" in priors:
        nu = priors["nu"]["Gamma"]
        rows.append(("nu", "identity", f"Gamma({nu['alpha']:.4g}, {nu['beta']:.4g})", ""))
    columns = ["name", "link", "prior", "between-group sd"]
    frame = pd.DataFrame(rows, columns=columns).set_index("name")
    return frame if partial else frame.drop(columns="between-group sd")


def priors_note(fit: Fit) -> str:
    """How to read :func:`priors_table` under the fit's pooling."""
    model = fit.record.model
    if model.priors.get("kind") == "flat":
        return "flat priors: the MAP point is the classical least-squares fit"
    where = {
        "partial": "the population mean of each sampled coordinate; between-group sd ~ "
        "HalfNormal(group scale)",
        "none": "each group's own coordinate, independently",
        "complete": "the one coordinate every group shares",
    }.get(model.pooling, "each sampled coordinate")
    return f"prior of {where}; on the link scale of the coordinate (bayeslaw.models.priors)"


def _floor(priors: dict[str, Any]) -> str:
    """The loss floor's soft walls, as recorded (either end may be None)."""
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
    """Where the data and the fit come from: source, hash, versions, time, fit-time checks."""
    record = fit.record
    p = record.provenance
    problems = record.convergence_problems
    versions = ", ".join(f"{k} {v}" for k, v in p.versions.items()) or "not recorded"
    rows: list[tuple[str, Any]] = [
        ("data source", p.data_source),
        ("data hash (sha256)", p.data_hash),
        ("observations", p.n_observations),
        ("bayeslaw version", p.bayeslaw_version),
        ("library versions", versions),
        ("created (UTC)", p.created),
        ("fit wall time", f"{p.wall_time_s:.1f} s"),
        ("credible intervals", f"equal-tailed, {CI_PROB:.0%}"),
        ("convergence problems at fit time", len(problems) if problems else "none"),
    ]
    return _settings(rows)
