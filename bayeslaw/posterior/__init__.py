"""A fitted law without PyMC: numpy draws, the typed fit record, ``Fit``, saving and loading.

Everything here imports numpy and pandas only (the prediction path: :func:`bayeslaw.law`,
:meth:`Fit.predict <bayeslaw.posterior.fit.Fit.predict>`); the full ArviZ DataTree is read
lazily for reports.
"""
