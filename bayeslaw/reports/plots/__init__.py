"""Plots of a fit: keyword-only functions that return a matplotlib Figure.

One module per plot, holding both its numbers (a DataFrame or Dataset, testable without
drawing) and its drawing. Standard checks (PPC, PIT, trace, rank) are drawn by
``arviz_plots`` from the fit's DataTree; what no library draws (the law with its bands and
extrapolation, predicted vs observed, the raw-unit forest with the population band) is drawn
here. Every figure names its visual parts with ``gid`` (also the element ids in SVG
output) so callers can find, restyle or hide them. Bands and error bars are equal-tailed
credible intervals (ETI) at ``ci_prob``, by default 90%. Figures are built with
:class:`matplotlib.figure.Figure` (no pyplot state): nothing needs closing.

- :mod:`~bayeslaw.reports.plots.law`: ``plot_law`` (``law_curves``)
- :mod:`~bayeslaw.reports.plots.predicted`: ``plot_predicted_vs_observed``
- :mod:`~bayeslaw.reports.plots.forest`: ``plot_group_forest`` (``group_forest``)
- :mod:`~bayeslaw.reports.plots.effects`: ``plot_factor_effects`` (``factor_effects``), one
  forest per crossed factor, drawn by ``arviz_plots``
- :mod:`~bayeslaw.reports.plots.ppc`: ``plot_ppc``, ``plot_pit`` (``predictive_tree``), drawn
  by ``arviz_plots``
- :mod:`~bayeslaw.reports.plots.trace`: ``plot_trace``, ``plot_rank``
  (``worst_components``), drawn by ``arviz_plots``
- :mod:`~bayeslaw.reports.plots.style`: colours, axes, ``save_figure`` (PNG + SVG, atomic)
"""
