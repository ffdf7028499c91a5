"""Computing the posterior: MAP, NUTS, the pointwise log likelihood, diagnostics, ``fit``.

Everything that needs PyMC lives here and in :mod:`bayeslaw.models`; what comes out is a
numpy-only :class:`~bayeslaw.posterior.fit.Fit`.
"""
