"""Plots of a fit: keyword-only functions that return a matplotlib Figure.

One module per plot, holding both its numbers (a DataFrame, testable without drawing) and
its drawing; every figure names its visual parts with ``gid`` (also the element ids in SVG
output) so callers can find, restyle or hide them. Bands and error bars are equal-tailed
credible intervals (ETI) at ``ci_prob``, by default 90%. Figures are built with
:class:`matplotlib.figure.Figure` (no pyplot state): nothing needs closing.

- :mod:`~bayeslaw.reports.plots.law`: ``plot_law`` (``law_curves``)
- :mod:`~bayeslaw.reports.plots.predicted`: ``plot_predicted_vs_observed``
- :mod:`~bayeslaw.reports.plots.forest`: ``plot_group_forest`` (``group_forest``)
- :mod:`~bayeslaw.reports.plots.ppc`: ``plot_ppc`` (``ppc_replicates``, ``pit_values``)
- :mod:`~bayeslaw.reports.plots.trace`: ``plot_trace`` (``trace_data``)
- :mod:`~bayeslaw.reports.plots.style`: colours, axes, ``save_figure`` (PNG + SVG, atomic)
"""
