r"""Identified coordinates: the space in which group parameters are sampled and pooled.

A law's own parameters are poorly identified one by one: :math:`L_\infty`, ``A`` and
``alpha`` trade off along a curved ridge, and with an additive expert term ``beta -> 0``
drags ``B`` and :math:`L_\infty` along. Those ridges couple to the group-scale funnels of a
hierarchical model and make NUTS diverge. So each group is sampled in coordinates the data
pin down nearly independently, and the law's parameters are derived from them:

- ``L_ref``: the mean loss at the reference point (every scaled input equal to 1);
- ``<C>_slope`` :math:`= C \cdot e`: minus the log-derivative of coefficient ``C``'s power
  term (exponent ``e``) at the reference point; positive, log link;
- each exponent (positive, log link) and interaction (real, identity link) as it is.

Then :math:`C = \text{slope}/e` and :math:`L_\infty = L_\text{ref} - f(1; L_\infty{=}0)`.
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
Kind = Literal["level", "slope", "exponent", "interaction"]


@dataclass(frozen=True)
class Coordinate:
    """One sampled coordinate of a group: its name, kind and link."""

    name: str
    kind: Kind
    input: str | None = None  # the input whose log-slope this is (slopes only)

    @property
    def link(self) -> Literal["log", "identity"]:
        return "log" if self.kind in ("slope", "exponent") else "identity"


def coordinates(form: LawForm) -> tuple[Coordinate, ...]:
    """The sampled coordinates of ``form``, in a fixed order."""
    coords = [Coordinate(LEVEL, "level")]
    for p in form.parameters:
        if p.role == "exponent":
            coords.append(Coordinate(p.name, "exponent"))
        elif p.role == "interaction":
            coords.append(Coordinate(p.name, "interaction"))
    for coef, (_, input_name) in form.slopes.items():
        coords.append(Coordinate(f"{coef}_slope", "slope", input_name))
    return tuple(coords)


def inverse_link(coord: Coordinate, u: Any) -> Any:
    """Map an unconstrained value ``u`` to the coordinate's own scale."""
    return exp(u) if coord.link == "log" else u


def to_law_params(form: LawForm, values: Mapping[str, Any]) -> dict[str, Any]:
    """Law parameters (scaled units) from coordinate values on their own scale."""
    theta: dict[str, Any] = {}
    for p in form.parameters:
        if p.role in ("exponent", "interaction"):
            theta[p.name] = values[p.name]
    for coef, (exponent, _) in form.slopes.items():
        theta[coef] = values[f"{coef}_slope"] / theta[exponent]
    reference = {name: 1.0 for name in form.inputs}
    reducible = form(reference, {**theta, "L_inf": 0.0})
    theta["L_inf"] = values[LEVEL] - reducible
    return {name: theta[name] for name in form.parameter_names}
