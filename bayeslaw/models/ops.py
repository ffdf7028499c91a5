"""Elementary functions that work on numpy arrays and pytensor tensors alike.

Law forms are written with ``+ - * / **`` and the functions here, so one definition serves
the PyMC model (pytensor) and the fast prediction path (numpy). PyTensor is imported only
when a tensor is actually passed in.
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["exp", "is_tensor", "log", "sqrt", "tanh"]


def is_tensor(x: Any) -> bool:
    """Whether ``x`` is a pytensor variable (checked without importing pytensor)."""
    return type(x).__module__.startswith("pytensor")


def log(x: Any) -> Any:
    """Natural logarithm of an array or tensor."""
    if is_tensor(x):
        import pytensor.tensor as pt

        return pt.log(x)
    return np.log(x)


def exp(x: Any) -> Any:
    """Exponential of an array or tensor."""
    if is_tensor(x):
        import pytensor.tensor as pt

        return pt.exp(x)
    return np.exp(x)


def sqrt(x: Any) -> Any:
    """Square root of an array or tensor."""
    if is_tensor(x):
        import pytensor.tensor as pt

        return pt.sqrt(x)
    return np.sqrt(x)


def tanh(x: Any) -> Any:
    """Hyperbolic tangent of an array or tensor."""
    if is_tensor(x):
        import pytensor.tensor as pt

        return pt.tanh(x)
    return np.tanh(x)
