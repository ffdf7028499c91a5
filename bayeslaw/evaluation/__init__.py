"""Scoring fits on held-out data, comparing forms and choosing one.

- :mod:`~bayeslaw.evaluation.scoring`: ``split_largest`` and ``score`` (R², NMSE, NMAE,
  interval coverage, log predictive density of held-out rows);
- :mod:`~bayeslaw.evaluation.protocol`: ``evaluate``, the SLDBench protocol over forms and
  poolings;
- :mod:`~bayeslaw.evaluation.comparison`: ``compare_forms`` (PSIS-LOO and extrapolation);
- :mod:`~bayeslaw.evaluation.selection`: ``select_form`` and :func:`bayeslaw.fit`, which adds
  ``form="auto"`` to the one-form fit of :mod:`bayeslaw.inference.fitting`.
"""
