"""The report: Markdown tables and verdicts, a self-contained HTML page, atomic files."""

from __future__ import annotations

import base64
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from bayeslaw.data import load_observations
from bayeslaw.models.registry import get_form
from bayeslaw.posterior.draws import PosteriorDraws
from bayeslaw.posterior.fit import Fit
from bayeslaw.reports.markup import Section, Table, cell, to_html, to_markdown
from bayeslaw.reports.render import FIGURES, Report, build_report, write_report
from bayeslaw.reports.tables import coefficient_table, priors_table

FIGURE_NAMES = list(FIGURES)


@pytest.fixture(scope="module")
def report(tiny_fit: Fit) -> Report:
    return build_report(tiny_fit)


def test_markdown_has_every_part(report: Report, tiny_fit: Fit):
    md = report.to_markdown()
    assert md.startswith("# Scaling-law fit: moe_additive (NUTS, partial pooling)")
    assert tiny_fit.record.model.equation in md
    headings = re.findall(r"^## (.+)$", md, flags=re.MULTILINE)
    assert headings == [
        "Law", "How it was fitted", "Coefficients", "Figures", "Diagnostics", "Provenance"
    ]  # fmt: skip
    assert md.index("](figures/trace.png)") > md.index("## Diagnostics")
    assert "| group | L_inf | A | alpha | B | beta |" in md  # the coefficient table
    assert re.search(r"\| group_0 \| [\d.]+ \[[\d.]+, [\d.]+\] \|", md)
    assert "| \\<population\\> |" in md  # escaped, or Markdown would take it for HTML
    assert "90% equal-tailed credible interval" in md
    assert re.search(r"\| R-hat \| (ok|warning|fail) \|", md)
    assert re.search(r"\| PSIS-LOO \| (ok|warning|fail) \|", md)
    assert f"Overall verdict: {report.diagnostics.verdict}." in md
    for needle in (
        "NUTS via nutpie",
        "50 x 2",
        "| random seed | 1 |",
        tiny_fit.record.provenance.data_hash,
    ):
        assert needle in md
    assert "synthetic: simulate_moe" in md and "wall time" in md
    assert "| group offsets | non-centred |" in md  # 3 groups: nothing centred
    for name in FIGURE_NAMES:
        assert f"](figures/{name}.png)" in md


def test_coefficients_are_fit_params(report: Report, tiny_fit: Fit):
    pd.testing.assert_frame_equal(report.coefficients, tiny_fit.params())
    wide = coefficient_table(report.coefficients)
    row = report.coefficients.loc[("group_1", "alpha")]
    expected = f"{row['mean']:.4g} [{row['lower']:.4g}, {row['upper']:.4g}]"
    assert wide.loc["group_1", "alpha"] == expected
    assert list(wide.columns) == ["L_inf", "A", "alpha", "B", "beta"]


def test_priors_table(tiny_fit: Fit):
    table = priors_table(tiny_fit)
    assert {"L_ref", "alpha", "beta", "A_slope", "B_slope", "L_inf", "noise sd"} == set(table.index)
    assert table.loc["alpha", "link"] == "log"
    assert table.loc["alpha", "prior"].startswith("Normal(")
    assert table.loc["alpha", "between-group sd"].startswith("HalfNormal(")


def test_html_is_self_contained(report: Report):
    page = report.to_html()
    assert page.startswith("<!DOCTYPE html>") and page.rstrip().endswith("</html>")
    assert "http://" not in page and "https://" not in page
    assert "<script" not in page and "<link" not in page and "@import" not in page
    sources = re.findall(r"""(?:src|href)\s*=\s*["']([^"']*)""", page)
    assert sources and all(s.startswith("data:image/png;base64,") for s in sources)
    assert len(sources) == len(FIGURE_NAMES)
    for source in sources:
        assert base64.b64decode(source.split(",", 1)[1])[:8] == b"\x89PNG\r\n\x1a\n"
    assert "&lt;population&gt;" in page
    assert re.search(r'<td class="(ok|warning|fail)">(ok|warning|fail)</td>', page)
    assert "<table>" in page and "Overall verdict" in page


def test_write_report(tiny_fit: Fit, tmp_path: Path):
    written = write_report(tiny_fit, tmp_path / "out")
    expected = {"report.md", "report.html"} | {
        f"figures/{n}.{s}" for n in FIGURE_NAMES for s in ("png", "svg")
    }
    assert set(written) == expected
    for relative, path in written.items():
        assert path == tmp_path / "out" / relative and path.stat().st_size > 0
    leftovers = [p for p in (tmp_path / "out").rglob("*") if p.name.startswith(".")]
    assert leftovers == []  # no temporary files
    markdown = (tmp_path / "out/report.md").read_text()
    assert "## Coefficients" in markdown and "](figures/law.png)" in markdown
    html = (tmp_path / "out/report.html").read_text()
    assert html.count("data:image/png;base64,") == len(FIGURE_NAMES)


def test_map_report(map_fit: Fit):
    report = build_report(map_fit)
    md = report.to_markdown()
    assert "*MAP point, raw input units" in md
    assert "MAP (posterior mode, 12 starts)" in md
    assert "Sampler diagnostics do not apply to a MAP fit" in md
    assert "Overall verdict" not in md
    assert not {"trace", "rank"} & {f.name for f in report.figures}
    assert any("'trace' left out" in note for note in report.notes)
    assert any("'rank' left out" in note for note in report.notes)
    assert "left out: a MAP fit has no chains" in report.to_html()


def test_report_without_observations(fit_without_data: Fit):
    report = build_report(fit_without_data, figures=True)
    names = {f.name for f in report.figures}
    # the predictive checks read the DataTree's observed data; law plots need the table
    assert names == {"group_forest", "ppc", "pit", "trace", "rank"}
    assert len(report.notes) == 2 and all("observations" in n for n in report.notes)
    assert report.diagnostics.applicable


def test_markup_escaping():
    frame = pd.DataFrame({"a|b": ["<x>", 1.23456789, True]})
    blocks = ("plain & text <p>", Table(frame, "cap <c>", index=False), "```\na <b>\n```")
    sections = [Section("S <1>", blocks)]
    md = to_markdown("T", sections)
    assert "plain & text \\<p\\>" in md and "```\na <b>\n```" in md
    assert "| a\\|b |" in md and "| \\<x\\> |" in md and "| 1.235 |" in md and "| yes |" in md
    page = to_html("T", sections)
    assert "<h2>S &lt;1&gt;</h2>" in page and "<td>&lt;x&gt;</td>" in page
    assert "<p>plain &amp; text &lt;p&gt;</p>" in page and "<code>a &lt;b&gt;</code>" in page
    assert "<caption>cap &lt;c&gt;</caption>" in page
    assert cell(float("nan")) == "nan" and cell(3) == "3"


def _hand_built_fit(inputs: tuple[str, ...], form: str, make_record) -> Fit:
    """A 20-draw, no-pooling posterior of ``form`` with data, but no DataTree (as if loaded)."""
    rng = np.random.default_rng(0)
    n = rng.choice([1e7, 1e8, 1e9], size=30)
    frame = pd.DataFrame({name: rng.choice([1e9, 1e10, 1e11], size=30) for name in inputs[1:]})
    frame.insert(0, inputs[0], n)
    theta = {"L_inf": 1.5, "A": 0.5, "alpha": 0.3, "B": 0.2, "beta": 0.3, "C": 0.1, "gamma": 0.2}
    draws = PosteriorDraws(
        form_name=form,
        scales=dict.fromkeys(inputs, 1e8),
        groups=("g",),
        pooling="none",
        theta={k: v * np.exp(0.01 * rng.standard_normal((20, 1))) for k, v in theta.items()
               if k in get_form(form).parameter_names},
        noise=np.full((20, 1), 0.01),
    )  # fmt: skip
    x = get_form(form).scale_inputs({k: frame[k].to_numpy() for k in inputs}, draws.scales)
    frame["loss_validation"] = get_form(form)(x, {k: v[0, 0] for k, v in draws.theta.items()})
    obs = load_observations(frame.assign(group="g"), inputs=list(inputs))
    return Fit(make_record(draws), draws, obs)


@pytest.mark.parametrize(
    ("inputs", "form"),
    [
        (("dense_parameter_count",), "additive(dense_parameter_count)"),
        (("params", "tokens", "data"), "additive(params,tokens,data)"),
    ],
)
def test_report_of_other_forms_without_datatree(inputs, form, make_record):
    fit = _hand_built_fit(inputs, form, make_record)
    report = build_report(fit)
    names = {f.name for f in report.figures}
    assert names == {"law", "predicted_vs_observed", "group_forest", "ppc", "pit"}
    assert not report.diagnostics.applicable and "No diagnostics" in report.diagnostics.text
    assert any("'trace' left out" in note for note in report.notes)
    assert "no pooling" in report.title and "## Coefficients" in report.to_markdown()


def test_the_fitting_table_shows_the_held_out_check_and_warns_when_it_is_poor(small_fit):
    import dataclasses

    from bayeslaw.reports.tables import fitting_table

    def table(cover: float) -> pd.Series:
        check = {"moe_additive": {"extrap_elpd": 1.1, "extrap_r2": 0.6, "extrap_cover90": cover}}
        record = dataclasses.replace(small_fit.record, extrapolation=check)
        return fitting_table(dataclasses.replace(small_fit, record=record))["value"]

    good = table(0.9)
    assert good["held-out check (largest training size)"].startswith("90% interval coverage 90%")
    assert "warning" not in good.index and good["noise"] == "one sd per group"
    assert "covered 40% of those runs" in table(0.4)["warning"]
    assert "held-out check (largest training size)" not in fitting_table(small_fit).index


@pytest.mark.parametrize(
    ("cache", "words"),
    [("memory", "sampler reused from this process"),
     ("disk", "sampler read from the compile cache"),
     ("miss", "sampler compiled"), (None, "compile")],
)  # fmt: skip
def test_settings_say_where_the_sampler_came_from(tiny_fit: Fit, cache, words):
    import dataclasses

    from bayeslaw.reports.tables import fitting_table

    info = {} if cache is None else {"cache": cache, "key": "k", "compile_s": 0.0, "note": ""}
    sampling = dataclasses.replace(tiny_fit.record.sampling, compile=info)
    record = dataclasses.replace(tiny_fit.record, sampling=sampling)
    fit = dataclasses.replace(tiny_fit, record=record)
    wall = fitting_table(fit).loc["wall time", "value"]
    assert wall.endswith(f"s (build, {words}, fit)")
