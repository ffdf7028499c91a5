"""The likelihood and noise models a fit can use, by name (numpy-free constants: the CLI and
the prediction path read them without importing PyMC).

See :mod:`bayeslaw.models.hierarchical` for the models themselves and
:mod:`bayeslaw.posterior.predictive` for their densities in numpy.
"""

from __future__ import annotations

from typing import Literal

__all__ = ["HEAVY_TAILED", "LIKELIHOODS", "LOG_LIKELIHOODS", "NOISES", "Likelihood", "Noise"]

Likelihood = Literal["normal", "student_t", "lognormal", "student_t_log"]
Noise = Literal["constant", "scaled"]

#: Errors on the loss (``normal``, ``student_t``) or on ``log(loss)`` (the others).
LIKELIHOODS: tuple[Likelihood, ...] = ("normal", "student_t", "lognormal", "student_t_log")
#: Likelihoods whose errors are on ``log(loss)``: the law is then the median loss.
LOG_LIKELIHOODS: tuple[Likelihood, ...] = ("lognormal", "student_t_log")
#: Likelihoods with Student-t errors (a ``nu`` parameter).
HEAVY_TAILED: tuple[Likelihood, ...] = ("student_t", "student_t_log")
#: One noise sd per group, or one that falls with the inputs.
NOISES: tuple[Noise, ...] = ("constant", "scaled")
