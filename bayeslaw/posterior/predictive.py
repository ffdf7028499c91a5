r"""The posterior predictive distribution at given inputs: draws of the mean, noise, density.

:class:`PredictiveDraws` is the one place the likelihood's noise is simulated and its
density evaluated: :meth:`Fit.predict <bayeslaw.posterior.fit.Fit.predict>` (observation
intervals), held-out scoring, the posterior predictive check and the fit's pointwise log
likelihood all go through it. Numpy only: the log densities are written out here rather
than taken from :mod:`scipy.stats` (importing it costs about a second), and checked against
it in the tests.

Normal: :math:`\log p(y) = -\tfrac12 \log 2\pi - \log\sigma - \tfrac12 z^2`;
Student-t: :math:`\log\Gamma(\tfrac{\nu+1}{2}) - \log\Gamma(\tfrac{\nu}{2}) -
\tfrac12\log(\nu\pi) - \log\sigma - \tfrac{\nu+1}{2}\log(1 + z^2/\nu)`, with
:math:`z = (y - \mu)/\sigma`. With errors on the log scale (``log_scale``: the
``"lognormal"`` and ``"student_t_log"`` likelihoods) these apply to :math:`\log y` around
:math:`\log \mu`, and :math:`-\log y` (the Jacobian) makes them densities of :math:`y`:
:math:`\mu` is then the median loss.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

__all__ = ["PredictiveDraws", "log_density"]

_LOG_2PI = math.log(2 * math.pi)
_lgamma = np.frompyfunc(math.lgamma, 1, 1)


def _log_gamma(x: np.ndarray) -> np.ndarray:
    return np.asarray(_lgamma(np.asarray(x, dtype=np.float64)), dtype=np.float64)


def log_density(
    y: np.ndarray, mean: np.ndarray, noise: np.ndarray, nu: np.ndarray | None
) -> np.ndarray:
    """Log density of losses ``y`` under Normal (``nu`` None) or Student-t noise with
    location ``mean``, scale ``noise`` and ``nu`` degrees of freedom (all broadcast)."""
    z = (np.asarray(y) - mean) / noise
    if nu is None:
        return np.asarray(-0.5 * _LOG_2PI - np.log(noise) - 0.5 * z**2)
    nu = np.asarray(nu, dtype=np.float64)
    # lgamma on the (few) distinct nu values only: one per draw
    const = _log_gamma((nu + 1) / 2) - _log_gamma(nu / 2) - 0.5 * np.log(nu * math.pi)
    return np.asarray(const - np.log(noise) - (nu + 1) / 2 * np.log1p(z**2 / nu))


@dataclass(frozen=True, eq=False)
class PredictiveDraws:
    """The posterior predictive at ``n`` points, as ``S`` draws.

    Attributes
    ----------
    mean : numpy.ndarray
        ``(S, n)`` draws of the expected loss (the law).
    noise : numpy.ndarray
        Noise standard deviation per draw, ``(S, 1)`` or ``(S, n)``.
    nu : numpy.ndarray or None
        Student-t degrees of freedom per draw, ``(S, 1)``; None for Normal noise.
    log_scale : bool
        Errors on ``log(loss)`` around ``log(mean)`` (``mean`` is then the median).
    """

    mean: np.ndarray
    noise: np.ndarray
    nu: np.ndarray | None = None
    log_scale: bool = False

    @property
    def n_draws(self) -> int:
        return int(self.mean.shape[0])

    def take(self, index: np.ndarray) -> PredictiveDraws:
        """The draws at ``index`` (e.g. a random subset for a predictive check)."""
        nu = None if self.nu is None else self.nu[index]
        return PredictiveDraws(self.mean[index], self.noise[index], nu, self.log_scale)

    def sample(self, rng: np.random.Generator, *, replicates: int = 1) -> np.ndarray:
        """Observations: ``replicates`` noisy copies of every mean draw, stacked into
        ``(replicates * S, n)`` (replicate-major)."""
        shape = (replicates, *self.mean.shape)
        if self.nu is None:
            eps = rng.standard_normal(shape)
        else:
            eps = rng.standard_t(self.nu[None], size=shape)
        if self.log_scale:
            draws = np.exp(np.log(self._positive_mean())[None] + self.noise[None] * eps)
        else:
            draws = self.mean[None] + self.noise[None] * eps
        return draws.reshape(-1, self.mean.shape[1])

    def _positive_mean(self) -> np.ndarray:
        """The law floored at a tiny positive loss, as in the model's log likelihoods."""
        return np.maximum(self.mean, 1e-12)

    def log_density(self, y: np.ndarray) -> np.ndarray:
        """``(S, n)`` log density of the observed ``y`` (length ``n``) under each draw."""
        y = np.asarray(y, dtype=np.float64)[None, :]
        if self.log_scale:
            log_y = np.log(y)
            return log_density(log_y, np.log(self._positive_mean()), self.noise, self.nu) - log_y
        return log_density(y, self.mean, self.noise, self.nu)

    def log_predictive_density(self, y: np.ndarray) -> np.ndarray:
        """``log mean_s p(y | draw s)`` per point (length ``n``): the pointwise log score."""
        logp = self.log_density(y)
        top = logp.max(axis=0)
        return np.asarray(top + np.log(np.mean(np.exp(logp - top), axis=0)))
