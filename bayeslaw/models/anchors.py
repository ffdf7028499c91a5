r"""Identified coordinates: the space in which group parameters are sampled and pooled.

A law's own parameters are poorly identified one by one: :math:`L_\infty`, ``A`` and
``alpha`` trade off along a curved ridge, and with an additive expert term ``beta -> 0``
drags ``B`` and :math:`L_\infty` along. Those ridges couple to the group-scale funnels of a
hierarchical model and make NUTS diverge. So each group is sampled in coordinates the data
pin down nearly independently, and the law's parameters are derived from them:

- ``L_ref``: the mean loss at the reference point (every scaled input equal to 1), for a
  form with a loss floor (an additive constant);
- each :class:`~bayeslaw.models.forms.Slope` :math:`= C \cdot e`: minus the log-derivative
  of a power term along one input at the reference point (positive, log link); it replaces
  the coefficient ``C`` or the exponent ``e`` it solves for;
- every other exponent and coefficient (positive, log link) and real parameter (identity
  link): what a law written as an expression, with no declared slopes, is sampled in;
- a parameter with declared bounds ``(lower, upper)``: the logit of its place in the
  interval, ``value = lower + (upper - lower) * sigmoid(u)``.

Then ``C = slope / e`` (or ``e = slope / C``), in declaration order, and
:math:`L_\infty = L_\text{ref} - f(1; L_\infty{=}0)`. With one coefficient shared by two
inputs (``A N^{-alpha} E^{-beta}``) both slopes are sampled: ``A alpha`` and ``A beta``.
Everything here works on numpy arrays and pytensor tensors alike.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from bayeslaw.models.forms import LawForm
from bayeslaw.models.ops import exp

__all__ = ["LEVEL", "Coordinate", "coordinates", "inverse_link", "to_law_params"]

LEVEL = "L_ref"
Kind = Literal["level", "slope", "exponent", "coefficient", "interaction", "real", "bounded"]


@dataclass(frozen=True)
class Coordinate:
    """One sampled coordinate of a group: its name, kind and link."""

    name: str
    kind: Kind
    input: str | None = None  # the input whose log-slope this is (slopes only)
    bounds: tuple[float, float] | None = None  # (lower, upper) of a bounded parameter

    @property
    def link(self) -> Literal["log", "identity", "logit"]:
        if self.kind == "bounded":
            return "logit"
        return "log" if self.kind in ("slope", "exponent", "coefficient") else "identity"


def coordinates(form: LawForm) -> tuple[Coordinate, ...]:
    """The sampled coordinates of ``form``, in a fixed order."""
    solved = {s.exponent if s.solves == "exponent" else s.coefficient for s in form.slopes}
    coords = [Coordinate(LEVEL, "level")] if form.floor else []
    for p in form.parameters:
        if p.name in solved or p.role == "floor":
            continue
        if p.bounds is not None:
            coords.append(Coordinate(p.name, "bounded", bounds=p.bounds))
        elif p.role in ("exponent", "coefficient", "interaction", "real"):
            coords.append(Coordinate(p.name, p.role))
    coords += [Coordinate(s.name, "slope", s.input) for s in form.slopes]
    return tuple(coords)


def inverse_link(coord: Coordinate, u: Any) -> Any:
    """Map an unconstrained value ``u`` to the coordinate's own scale."""
    if coord.link == "logit":
        assert coord.bounds is not None
        lower, upper = coord.bounds
        return lower + (upper - lower) / (1.0 + exp(-u))
    return exp(u) if coord.link == "log" else u


def to_law_params(form: LawForm, values: Mapping[str, Any]) -> dict[str, Any]:
    """Law parameters (scaled units) from coordinate values on their own scale."""
    direct = ("exponent", "coefficient", "interaction", "real", "bounded")
    theta: dict[str, Any] = {c.name: values[c.name] for c in coordinates(form) if c.kind in direct}
    for slope in form.slopes:
        if slope.solves == "coefficient":
            theta[slope.coefficient] = values[slope.name] / theta[slope.exponent]
        else:
            theta[slope.exponent] = values[slope.name] / theta[slope.coefficient]
    if form.floor is not None:
        reference = {name: 1.0 for name in form.inputs}
        reducible = form(reference, {**theta, form.floor: 0.0})
        theta[form.floor] = values[LEVEL] - reducible
    return {name: theta[name] for name in form.parameter_names}
