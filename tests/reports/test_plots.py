"""Plots return a Figure whose named parts (gid) can be found; figures save atomically."""

from __future__ import annotations

from pathlib import Path

import pytest
from matplotlib.figure import Figure

from bayeslaw.errors import FitNotReadyError, ReportError
from bayeslaw.posterior.fit import POPULATION, Fit
from bayeslaw.reports.plots.forest import plot_group_forest
from bayeslaw.reports.plots.law import plot_law
from bayeslaw.reports.plots.ppc import plot_pit, plot_ppc
from bayeslaw.reports.plots.predicted import plot_predicted_vs_observed
from bayeslaw.reports.plots.style import save_figure, tick_label
from bayeslaw.reports.plots.trace import plot_rank, plot_trace

PARAMETERS = ("L_inf", "A", "alpha", "B", "beta")


def gids(fig: Figure) -> dict[str, object]:
    """Every named artist of ``fig`` by its gid."""
    return {a.get_gid(): a for a in fig.findobj() if a.get_gid()}


def gids_all(fig: Figure) -> dict[str, list[object]]:
    """Every named artist of ``fig``, grouped by gid (arviz-plots names several alike)."""
    out: dict[str, list[object]] = {}
    for artist in fig.findobj():
        if artist.get_gid():
            out.setdefault(artist.get_gid(), []).append(artist)
    return out


def test_plot_law_parts(tiny_fit: Fit):
    fig = plot_law(tiny_fit)
    parts = gids(fig)
    for group in ("group_0", "group_1"):
        assert f"panel:{group}" in parts and f"extrapolation:{group}" in parts
        assert f"observed:{group}" in parts
        for experts in (1, 4, 16, 128, 512):
            assert f"band:{group}:{experts}" in parts and f"mean:{group}:{experts}" in parts
        assert f"band:{group}:2" not in parts  # a readable subset of the 10 expert counts
    observed = parts["observed:group_0"]
    assert len(observed.get_offsets()) == 50  # every observation of the group
    axes = parts["panel:group_0"]
    assert axes.get_xscale() == "log" and axes.get_yscale() == "log"
    assert "90%" in fig.get_suptitle()
    labels = [t.get_text() for t in fig.legends[0].get_texts()]
    assert {"1", "512", "90% credible band", "observed", "extrapolation"} <= set(labels)


def test_plot_law_groups_and_range(tiny_fit: Fit):
    fig = plot_law(tiny_fit, group=["group_1", "unseen"], extrapolate_to=1e8)
    parts = gids(fig)
    assert "panel:unseen" in parts and "panel:group_0" not in parts
    assert not any(g.startswith("extrapolation:") for g in parts)  # nothing beyond the data
    assert "observed:unseen" not in parts  # a new group has no data
    assert "new group" in parts["panel:unseen"].get_title()


def test_plot_law_map_has_no_band_title(map_fit: Fit):
    assert "MAP point" in plot_law(map_fit, group="group_0").get_suptitle()


def test_plot_law_needs_observations(fit_without_data: Fit):
    with pytest.raises(FitNotReadyError):
        plot_law(fit_without_data)


def test_plot_predicted_vs_observed_parts(tiny_fit: Fit):
    fig = plot_predicted_vs_observed(tiny_fit)
    parts = gids(fig)
    assert {"identity", "interval_band"} <= set(parts)
    for group in ("group_0", "group_1"):
        assert {f"points:{group}", f"intervals:{group}", f"residuals:{group}"} <= set(parts)
    assert "90%" in fig.get_suptitle() and "observations inside" in fig.get_suptitle()


def test_plot_group_forest_parts(tiny_fit: Fit):
    fig = plot_group_forest(tiny_fit)
    parts = gids(fig)
    for name in PARAMETERS:
        for part in ("group_points", "group_intervals", "population_band", "population_median"):
            assert f"{part}:{name}" in parts
    ticks = [t.get_text() for t in parts["group_points:L_inf"].axes.get_yticklabels()]
    assert ticks == ["group_1", "group_0", POPULATION]
    only = gids(plot_group_forest(tiny_fit, parameters=["beta"]))
    assert "group_points:beta" in only and "group_points:alpha" not in only
    with pytest.raises(ReportError, match="gamma"):
        plot_group_forest(tiny_fit, parameters=["gamma"])


def test_plot_ppc_parts(tiny_fit: Fit, map_fit: Fit):
    """arviz-plots draws the check; its visuals carry their names as gids."""
    parts = gids_all(plot_ppc(tiny_fit, n_replicates=5))
    assert len(parts["predictive_dist"]) == 5 and len(parts["observed_dist"]) == 1
    assert len(gids_all(plot_ppc(map_fit, n_replicates=5))["predictive_dist"]) == 5


def test_plot_pit_kinds(tiny_fit: Fit, map_fit: Fit):
    fig = plot_pit(tiny_fit)
    assert fig._suptitle.get_text().startswith("LOO-PIT") and "ecdf_lines" in gids_all(fig)
    assert plot_pit(map_fit)._suptitle.get_text().startswith("plug-in PIT (MAP)")


def test_plot_trace_and_rank(tiny_fit: Fit, map_fit: Fit):
    import matplotlib.pyplot as plt

    fig = plot_trace(tiny_fit, var_names=["alpha"])
    parts = gids_all(fig)
    assert len(parts["trace"]) == 2 * 2  # two components x two chains
    labels = {ax.get_ylabel() for ax in fig.axes}
    assert {"alpha[group_0]", "alpha[group_1]"} <= labels
    rank = plot_rank(tiny_fit, max_panels=2)
    assert len(gids_all(rank)["ecdf_lines"]) == 2 * 2
    assert plt.get_fignums() == []  # detached from pyplot: nothing to close
    with pytest.raises(FitNotReadyError):
        plot_trace(map_fit)


def test_save_figure(tiny_fit: Fit, tmp_path: Path):
    fig = plot_group_forest(tiny_fit)
    written = save_figure(fig, tmp_path / "sub" / "forest")
    assert written == {"png": tmp_path / "sub/forest.png", "svg": tmp_path / "sub/forest.svg"}
    assert written["png"].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    svg = written["svg"].read_text()
    assert svg.lstrip().startswith("<?xml") and 'id="group_points:alpha"' in svg
    assert sorted(p.name for p in (tmp_path / "sub").iterdir()) == ["forest.png", "forest.svg"]


def test_tick_label():
    assert tick_label(2.5) == "2.5"
    assert tick_label(2e7) == r"$2\times10^{7}$"
    assert tick_label(1e9) == "$10^{9}$"
