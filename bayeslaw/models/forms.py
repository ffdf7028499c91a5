r"""Law forms: named, pure functions of named inputs and named parameters.

A form is data, not code: saving a fit stores the form's *name*, and :func:`get_form` rebuilds
it. Each form's function uses only ``+ - * / **`` and :mod:`bayeslaw.models.ops`, so the same
definition runs on numpy arrays (fast prediction path) and pytensor tensors (PyMC model).

Inputs are divided by a reference scale (a power of ten near their geometric mean) before they
reach the function, for good sampling geometry; :meth:`LawForm.to_raw` turns coefficients back
into the raw units users know (``A`` for raw ``N``).

Registered forms (``N`` = dense_parameter_count, ``E`` = num_experts):

- ``moe_additive`` (default): :math:`L_\infty + A N^{-\alpha} + B E^{-\beta}`
- ``moe_multiplicative``: :math:`L_\infty + A N^{-\alpha} E^{-\beta}`
- ``moe_interaction``: :math:`L_\infty + A N^{-\alpha} E^{-(\beta + \gamma \log(N/N_0))}`
- ``additive(x1,x2,...)``: :math:`L_\infty + \sum_i A_i x_i^{-\alpha_i}`, over any named inputs
  (Chinchilla's :math:`E + A/N^\alpha + B/D^\beta` is ``additive(params,tokens)``).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from bayeslaw.errors import FormError
from bayeslaw.models.ops import log

__all__ = [
    "LawForm",
    "Parameter",
    "Slope",
    "additive_form",
    "moe_interaction",
    "moe_multiplicative",
    "power_term_converter",
    "reference_scale",
]

Role = Literal["floor", "coefficient", "exponent", "interaction", "real"]

N = "dense_parameter_count"
E = "num_experts"

#: Bounds of the point-fit predictor's grid, used for exponents under ``priors="flat"``.
EXPONENT_BOUNDS = (0.05, 2.0)


@dataclass(frozen=True)
class Parameter:
    """One named parameter of a law form.

    ``role`` fixes its constraint and default prior family: ``floor`` (the loss floor, kept
    between 0 and the smallest observed loss), ``coefficient`` and ``exponent`` (positive,
    log link) and ``interaction`` (real, identity link). Declared ``bounds`` override the
    link: the parameter is sampled on the logit scale of its interval.
    """

    name: str
    role: Role
    description: str
    bounds: tuple[float, float] | None = None  # declared (lower, upper): a logistic link

    @property
    def link(self) -> Literal["floor", "log", "identity"]:
        """The link from the unconstrained scale on which population priors live."""
        links = {"floor": "floor", "interaction": "identity", "real": "identity"}
        return links.get(self.role, "log")  # type: ignore[return-value]

    @property
    def flat_bounds(self) -> tuple[float | None, float | None]:
        """Bounds under ``priors="flat"`` (the classical point fit's search space)."""
        if self.bounds is not None:
            return self.bounds
        return EXPONENT_BOUNDS if self.role == "exponent" else (None, None)


@dataclass(frozen=True)
class Slope:
    """Minus the log-derivative of a power term along one input at the reference point.

    For a term ``C * x**(-e) * ...`` it equals ``C * e``; for a saturating term
    ``C / (K + x**e)`` (the rectified law's) ``C * e`` is its power-law tail's slope, the
    term's own being ``C e / (K + 1)**2``. Sampling it in place of
    ``solves`` (the coefficient ``C`` or the exponent ``e``) removes the ridge between the
    two; ``solves`` is then ``slope / e`` or ``slope / C``.
    """

    name: str
    coefficient: str
    exponent: str
    input: str
    solves: Literal["coefficient", "exponent"] = "coefficient"


Params = Mapping[str, Any]
RawConverter = Callable[[Mapping[str, np.ndarray], Mapping[str, float]], dict[str, np.ndarray]]


@dataclass(frozen=True)
class LawForm:
    """A scaling-law form: name, inputs, parameters and one pure function.

    Parameters
    ----------
    name : str
        Registry name, stored in saved fits.
    inputs : tuple of str
        Names of the inputs the function reads (data columns).
    parameters : tuple of Parameter
        The parameters, in display order.
    function : callable
        ``function(x, theta)`` with ``x`` the *scaled* inputs and ``theta`` the parameters
        (scaled units), returning the mean loss. Works on numpy and pytensor.
    equation : str
        Plain-text equation in raw units, shown in reports.
    reference : str
        Where the form comes from.
    raw_converter : callable
        ``raw_converter(theta, scales)``: parameters in raw input units.
    slopes : tuple of Slope
        Log-slopes at the reference point that the data identify well, each solving for a
        coefficient or an exponent (see :mod:`bayeslaw.models.anchors`).
    """

    name: str
    inputs: tuple[str, ...]
    parameters: tuple[Parameter, ...]
    function: Callable[[Params, Params], Any] = field(repr=False)
    equation: str
    reference: str
    raw_converter: RawConverter = field(repr=False)
    slopes: tuple[Slope, ...] = ()

    @property
    def parameter_names(self) -> tuple[str, ...]:
        return tuple(p.name for p in self.parameters)

    @property
    def floor(self) -> str | None:
        """The loss floor's parameter (the additive constant the law tends to), if any."""
        return next((p.name for p in self.parameters if p.role == "floor"), None)

    def parameter(self, name: str) -> Parameter:
        for p in self.parameters:
            if p.name == name:
                return p
        raise FormError(
            f"form {self.name!r} has no parameter {name!r}; "
            f"its parameters are {sorted(self.parameter_names)}"
        )

    def __call__(self, x: Params, theta: Params) -> Any:
        """Mean loss at scaled inputs ``x`` for scaled parameters ``theta``."""
        return self.function(x, theta)

    def scale_inputs(self, x: Mapping[str, Any], scales: Mapping[str, float]) -> dict[str, Any]:
        """Divide each input by its reference scale."""
        missing = sorted(set(self.inputs) - set(x))
        if missing:
            raise FormError(
                f"form {self.name!r} needs inputs {list(self.inputs)}; missing {missing}"
            )
        return {name: x[name] / scales[name] for name in self.inputs}

    def to_raw(
        self, theta: Mapping[str, np.ndarray], scales: Mapping[str, float]
    ) -> dict[str, np.ndarray]:
        """Parameters in raw input units (arrays of draws welcome)."""
        return self.raw_converter(theta, scales)


def reference_scale(values: np.ndarray) -> float:
    """The power of ten nearest the geometric mean of positive ``values``."""
    return float(10.0 ** round(float(np.mean(np.log10(values)))))


def power_term_converter(
    terms: Mapping[str, Sequence[tuple[str, str]]],
) -> RawConverter:
    """Raw converter for coefficients multiplying ``x**(-exponent)`` power terms.

    ``terms`` maps a coefficient to the (input, exponent) pairs it multiplies: with
    ``x = X / s``, ``C * prod (X/s)**(-e) = (C * prod s**e) * prod X**(-e)``.
    """

    def convert(
        theta: Mapping[str, np.ndarray], scales: Mapping[str, float]
    ) -> dict[str, np.ndarray]:
        raw = {k: np.asarray(v, dtype=float) for k, v in theta.items()}
        for coef, pairs in terms.items():
            factor = np.ones_like(raw[coef])
            for input_name, exponent in pairs:
                factor = factor * scales[input_name] ** raw[exponent]
            raw[coef] = raw[coef] * factor
        return raw

    return convert


_GREEK = ("alpha", "beta", "gamma", "delta", "epsilon", "zeta")
_COEFS = ("A", "B", "C", "D", "F", "G")


def additive_form(inputs: Sequence[str], *, name: str | None = None) -> LawForm:
    r"""The additive power-law family over any list of named inputs.

    .. math:: L = L_\infty + \sum_i A_i \, x_i^{-\alpha_i}

    Coefficients are named ``A, B, C, ...`` and exponents ``alpha, beta, gamma, ...`` in input
    order. With inputs (params, tokens) this is Chinchilla's law (Hoffmann et al., 2022).

    Parameters
    ----------
    inputs : sequence of str
        One to six input names.
    name : str, optional
        Registry name; defaults to ``"additive(x1,x2,...)"``.
    """
    inputs = tuple(inputs)
    if not 1 <= len(inputs) <= len(_GREEK) or len(set(inputs)) != len(inputs):
        raise FormError(
            f"the additive family takes 1 to {len(_GREEK)} distinct inputs, got {list(inputs)}"
        )
    coefs, exps = _COEFS[: len(inputs)], _GREEK[: len(inputs)]

    def function(x: Params, theta: Params) -> Any:
        out = theta["L_inf"]
        for inp, c, e in zip(inputs, coefs, exps, strict=True):
            out = out + theta[c] * x[inp] ** (-theta[e])
        return out

    params = [Parameter("L_inf", "floor", "irreducible loss (floor as every input grows)")]
    for inp, c, e in zip(inputs, coefs, exps, strict=True):
        params.append(Parameter(c, "coefficient", f"magnitude of the {inp} term"))
        params.append(Parameter(e, "exponent", f"decay exponent of {inp}"))
    equation = "loss = L_inf + " + " + ".join(
        f"{c} * {inp}^(-{e})" for inp, c, e in zip(inputs, coefs, exps, strict=True)
    )
    return LawForm(
        name=name or f"additive({','.join(inputs)})",
        inputs=inputs,
        parameters=tuple(params),
        function=function,
        equation=equation,
        reference="additive power law; Hoffmann et al. 2022 (Chinchilla) for two inputs",
        raw_converter=power_term_converter(
            {c: [(inp, e)] for inp, c, e in zip(inputs, coefs, exps, strict=True)}
        ),
        slopes=tuple(
            Slope(f"{c}_slope", c, e, inp) for inp, c, e in zip(inputs, coefs, exps, strict=True)
        ),
    )


#: One coefficient ``A`` shared by the N and E factors: its slope along N solves for ``A``,
#: its slope along E (``A * beta``) for ``beta``.
_SINGLE_COEFFICIENT_SLOPES = (
    Slope("A_slope", "A", "alpha", N),
    Slope("E_slope", "A", "beta", E, solves="exponent"),
)


def moe_multiplicative() -> LawForm:
    def function(x: Params, t: Params) -> Any:
        return t["L_inf"] + t["A"] * x[N] ** (-t["alpha"]) * x[E] ** (-t["beta"])

    return LawForm(
        name="moe_multiplicative",
        inputs=(N, E),
        parameters=(
            Parameter("L_inf", "floor", "irreducible loss"),
            Parameter("A", "coefficient", "magnitude of the reducible loss"),
            Parameter("alpha", "exponent", "decay exponent of dense parameters"),
            Parameter("beta", "exponent", "decay exponent of the number of experts"),
        ),
        function=function,
        equation="loss = L_inf + A * dense_parameter_count^(-alpha) * num_experts^(-beta)",
        reference="Clark et al. 2022 (routed language models), separable form",
        raw_converter=power_term_converter({"A": [(N, "alpha"), (E, "beta")]}),
        slopes=_SINGLE_COEFFICIENT_SLOPES,
    )


def _interaction_to_raw(
    theta: Mapping[str, np.ndarray], scales: Mapping[str, float]
) -> dict[str, np.ndarray]:
    # x_E = E / sE:  x_E**-(b + g log xN) = E**-(b + g log xN) * sE**b * xN**(g log sE),
    # so alpha_raw = alpha - g log sE and A_raw = A sE**b sN**alpha_raw (N0 = sN stays).
    raw = {k: np.asarray(v, dtype=float) for k, v in theta.items()}
    s_n, s_e = scales[N], scales[E]
    raw["alpha"] = raw["alpha"] - raw["gamma"] * math.log(s_e)
    raw["A"] = raw["A"] * s_e ** raw["beta"] * s_n ** raw["alpha"]
    return raw


def moe_interaction() -> LawForm:
    def function(x: Params, t: Params) -> Any:
        expert_exponent = t["beta"] + t["gamma"] * log(x[N])
        return t["L_inf"] + t["A"] * x[N] ** (-t["alpha"]) * x[E] ** (-expert_exponent)

    return LawForm(
        name="moe_interaction",
        inputs=(N, E),
        parameters=(
            Parameter("L_inf", "floor", "irreducible loss"),
            Parameter("A", "coefficient", "magnitude of the reducible loss"),
            Parameter("alpha", "exponent", "decay exponent of dense parameters"),
            Parameter("beta", "exponent", "expert exponent at the reference size N0"),
            Parameter("gamma", "interaction", "change of the expert exponent per e-fold of N"),
        ),
        function=function,
        equation=(
            "loss = L_inf + A * dense_parameter_count^(-alpha)"
            " * num_experts^(-(beta + gamma * log(dense_parameter_count / N0)))"
        ),
        reference="Clark et al. 2022 (routed language models), bilinear log-log interaction",
        raw_converter=_interaction_to_raw,
        slopes=_SINGLE_COEFFICIENT_SLOPES,
    )
