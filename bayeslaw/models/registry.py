r"""Every law form by name: the MoE forms, the literature's laws, and user expressions.

:func:`get_form` rebuilds a form from the name a fit stores:

- ``moe_additive`` (default), ``moe_multiplicative``, ``moe_interaction``
  (:mod:`bayeslaw.models.forms`);
- a family over named inputs, ``name(x1,x2,...)``:

  ================================  =======================================================
  ``additive(x1,...)``              :math:`L_\infty + \sum_i A_i x_i^{-\alpha_i}`
  ``chinchilla(N,D)``               :math:`L_\infty + A N^{-\alpha} + B D^{-\beta}`
                                    (Hoffmann et al. 2022; the additive family for 2 inputs)
  ``chinchilla_tied(N,D)``          :math:`L_\infty + A N^{-\alpha} + B D^{-\alpha}`, one
                                    exponent (Gadre et al. 2024)
  ``rectified(D)``                  :math:`L_\infty + B / (D_l + D^{\beta})`, a plateau at
                                    small D (Lin et al. 2024, fine-tuning)
  ``broken_power(x)``               :math:`L_\infty + b\,x^{-c_0}(1 + (x/d_1)^{1/f_1})^{-c_1
                                    f_1}`, one smooth break (Caballero et al. 2023)
  ``kaplan(N,D)``                   :math:`[(N_c/N)^{\alpha_N/\alpha_D} + D_c/D]^{\alpha_D}`
                                    (Kaplan et al. 2020, no floor)
  ================================  =======================================================

- a user expression's canonical name (:mod:`bayeslaw.models.expressions`):
  ``"label: <expression> | inputs=a,b"``.

Every input is divided by its reference scale before it reaches the law, so parameters of
expression-defined laws (rectified, broken power, Kaplan, user expressions) are in those
scaled units; the power-term laws report raw units.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from bayeslaw.errors import FormError
from bayeslaw.models.expressions import law_form, parse_spec
from bayeslaw.models.forms import (
    E,
    LawForm,
    N,
    Parameter,
    Slope,
    additive_form,
    moe_interaction,
    moe_multiplicative,
    power_term_converter,
)

__all__ = ["DEFAULT_FORM", "FAMILIES", "available_forms", "form_from_text", "get_form"]

DEFAULT_FORM = "moe_additive"

_NAMED: dict[str, Callable[[], LawForm]] = {
    "moe_additive": lambda: additive_form((N, E), name="moe_additive"),
    "moe_multiplicative": moe_multiplicative,
    "moe_interaction": moe_interaction,
}


def _inputs(family: str, inputs: Sequence[str], n: int) -> tuple[str, ...]:
    if len(inputs) != n or len(set(inputs)) != n:
        raise FormError(f"{family}(...) takes {n} distinct input name(s), got {list(inputs)}")
    return tuple(inputs)


def chinchilla(inputs: Sequence[str]) -> LawForm:
    """Hoffmann et al. 2022: :math:`L_\\infty + A N^{-\\alpha} + B D^{-\\beta}`."""
    n, d = _inputs("chinchilla", inputs, 2)
    return additive_form((n, d), name=f"chinchilla({n},{d})")


def chinchilla_tied(inputs: Sequence[str]) -> LawForm:
    """Gadre et al. 2024: Chinchilla with one exponent for both inputs."""
    n, d = _inputs("chinchilla_tied", inputs, 2)

    def function(x: Mapping[str, Any], t: Mapping[str, Any]) -> Any:
        return t["L_inf"] + t["A"] * x[n] ** (-t["alpha"]) + t["B"] * x[d] ** (-t["alpha"])

    return LawForm(
        name=f"chinchilla_tied({n},{d})",
        inputs=(n, d),
        parameters=(
            Parameter("L_inf", "floor", "irreducible loss"),
            Parameter("A", "coefficient", f"magnitude of the {n} term"),
            Parameter("B", "coefficient", f"magnitude of the {d} term"),
            Parameter("alpha", "exponent", f"decay exponent shared by {n} and {d}"),
        ),
        function=function,
        equation=f"loss = L_inf + A * {n}^(-alpha) + B * {d}^(-alpha)",
        reference="Gadre et al. 2024 (over-training), Chinchilla with tied exponents",
        raw_converter=power_term_converter({"A": [(n, "alpha")], "B": [(d, "alpha")]}),
        slopes=(Slope("A_slope", "A", "alpha", n), Slope("B_slope", "B", "alpha", d)),
    )


def rectified(inputs: Sequence[str]) -> LawForm:
    """Lin et al. 2024: :math:`L_\\infty + B / (D_l + D^\\beta)`."""
    (d,) = _inputs("rectified", inputs, 1)
    return law_form(
        f"L_inf + B / (D_l + {d} ** beta)",
        inputs=[d],
        name="rectified",
        reference="Lin et al. 2024, rectified scaling law for fine-tuning",
    )


def broken_power(inputs: Sequence[str]) -> LawForm:
    """Caballero et al. 2023, one break: a power law whose exponent changes smoothly."""
    (x,) = _inputs("broken_power", inputs, 1)
    return law_form(
        f"L_inf + b * {x} ** (-c0) * (1 + ({x} / d1) ** (1 / f1)) ** (-c1 * f1)",
        inputs=[x],
        name="broken_power",
        positive=["f1"],
        real=["c1"],
        reference="Caballero et al. 2023, broken neural scaling law with one break",
    )


def kaplan(inputs: Sequence[str]) -> LawForm:
    """Kaplan et al. 2020: :math:`[(N_c/N)^{\\alpha_N/\\alpha_D} + D_c/D]^{\\alpha_D}`."""
    n, d = _inputs("kaplan", inputs, 2)
    return law_form(
        f"((N_c / {n}) ** (alpha_N / alpha_D) + D_c / {d}) ** alpha_D",
        inputs=[n, d],
        name="kaplan",
        reference="Kaplan et al. 2020, L(N, D)",
    )


#: Families over named inputs: ``name(x1,...)``.
FAMILIES: dict[str, Callable[[Sequence[str]], LawForm]] = {
    "additive": additive_form,
    "chinchilla": chinchilla,
    "chinchilla_tied": chinchilla_tied,
    "rectified": rectified,
    "broken_power": broken_power,
    "kaplan": kaplan,
}
_FAMILY_NAME = re.compile(r"^(\w+)\(([^()]+)\)$")


def available_forms() -> tuple[str, ...]:
    """Names of the registered forms and families (``family(x1,...)``)."""
    return (*_NAMED, *(f"{name}(...)" for name in FAMILIES))


def get_form(form: str | LawForm) -> LawForm:
    """Look a form up by name, or return a :class:`LawForm` unchanged.

    Raises
    ------
    FormError
        For an unknown name (the message lists the registered forms) or a bad expression.
    """
    if isinstance(form, LawForm):
        return form
    if not isinstance(form, str):
        raise FormError(
            f"form must be a form name or a LawForm, got {type(form).__name__} {form!r}; "
            f"choose one of {sorted(available_forms())}"
        )
    if form in _NAMED:
        return _NAMED[form]()
    match = _FAMILY_NAME.match(form.replace(" ", ""))
    if match and match.group(1) in FAMILIES:
        return FAMILIES[match.group(1)](match.group(2).split(","))
    if "|" in form:
        parsed = parse_spec(form)
        if parsed is not None:
            return parsed
    raise FormError(
        f"unknown law form {form!r}; choose one of {sorted(available_forms())}, or write "
        "an expression: bayeslaw.law_form('L_inf + A * x**(-alpha)', inputs=['x'])"
    )


def form_from_text(text: str, inputs: Sequence[str] | None = None) -> LawForm:
    """A form from what a user typed (the CLI's ``--form``, ``BAYESLAW_FORM``): a name for
    :func:`get_form`, or, when it holds an operator, an expression over ``inputs``."""
    if any(op in text for op in "+-*/") and "|" not in text:
        if not inputs:
            raise FormError(
                f"the expression {text!r} needs its inputs named: --inputs a,b on the command "
                "line, BAYESLAW_INPUTS=a,b for law(), or law_form(..., inputs=[...])"
            )
        return law_form(text, inputs=inputs)
    return get_form(text)
