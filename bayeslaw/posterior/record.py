"""The fit record: what was fitted, how, and from what, as typed, frozen dataclasses.

A :class:`FitRecord` is a fit's identity: the model (:class:`ModelRecord`: form, pooling,
likelihood, priors, centring, scales, groups, inputs), the sampling (:class:`SamplingRecord`:
method, sampler settings, seed) and the provenance (:class:`Provenance`: data content hash,
source, package versions, wall time, creation time), plus what the fit found (free variables,
convergence problems, how the form was chosen). It is what ``fit.json`` stores
(:meth:`FitRecord.to_dict`, format :data:`FORMAT_VERSION`); :meth:`FitRecord.from_dict`
reads it back and also reads the untyped ``info`` dict of format 1.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from bayeslaw.errors import FitArtifactError

__all__ = ["FORMAT_VERSION", "FitRecord", "ModelRecord", "Provenance", "SamplingRecord"]

#: Version of the record's dictionary layout (and of the saved-fit directory).
FORMAT_VERSION = 2
#: Formats :meth:`FitRecord.from_dict` can read.
READABLE_FORMATS = (1, 2)


@dataclass(frozen=True)
class ModelRecord:
    """The model fitted, apart from the data themselves (see ``ModelSpec``)."""

    form: str
    equation: str
    pooling: str
    likelihood: str
    priors: Mapping[str, Any]
    scales: Mapping[str, float]
    groups: tuple[str, ...]
    inputs: tuple[str, ...]
    centered: tuple[str, ...] = ()
    noise: str = "constant"
    #: Crossed grouping factors (empty for one group column), their levels, and whether
    #: cells have offsets of their own.
    factors: tuple[str, ...] = ()
    levels: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    #: the coordinates with cell offsets (crossed factors)
    interaction: tuple[str, ...] = ()
    #: the coordinates with a multiplicative interaction of two factors (crossed factors)
    multiplicative: tuple[str, ...] = ()


@dataclass(frozen=True)
class SamplingRecord:
    """How the posterior was computed: ``method`` ``"nuts"`` or ``"map"``, the sampler's
    settings (``SamplerConfig`` as a dict for NUTS, ``{"map_starts": n}`` for MAP), the
    one random seed, and for nutpie where its compiled sampler came from (``compile``:
    ``CompileInfo`` as a dict, ``cache`` one of ``"memory"``, ``"disk"``, ``"miss"``;
    empty for MAP and the other samplers)."""

    method: str
    settings: Mapping[str, Any]
    random_seed: int | None
    compile: Mapping[str, Any] = field(default_factory=dict)

    @property
    def is_map(self) -> bool:
        return self.method == "map"


@dataclass(frozen=True)
class Provenance:
    """Where the fit comes from: the data's content hash and source, the number of rows,
    package versions, wall time and creation time (UTC, ISO 8601); ``data_fingerprint`` is
    set by :func:`bayeslaw.law` to tie a saved fit to its dataset path."""

    data_hash: str
    data_source: str
    n_observations: int
    bayeslaw_version: str
    wall_time_s: float
    created: str
    versions: Mapping[str, str] = field(default_factory=dict)
    data_fingerprint: str | None = None


@dataclass(frozen=True)
class FitRecord:
    """A fit's identity (see the module docstring)."""

    model: ModelRecord
    sampling: SamplingRecord
    provenance: Provenance
    free_variables: tuple[str, ...] = ()
    convergence_problems: tuple[str, ...] = ()
    form_selected_by: str | None = None
    #: The held-out check behind an automatic choice or an average: per candidate form,
    #: ``extrap_elpd``, ``extrap_r2``, ``extrap_cover90`` on the training data's largest size.
    extrapolation: Mapping[str, Mapping[str, float]] = field(default_factory=dict)

    # -- shorthands read everywhere ------------------------------------------------------
    @property
    def form(self) -> str:
        return self.model.form

    @property
    def method(self) -> str:
        return self.sampling.method

    @property
    def wall_time_s(self) -> float:
        return self.provenance.wall_time_s

    def with_fingerprint(self, fingerprint: str) -> FitRecord:
        """A copy tied to a dataset path's fingerprint (what :func:`bayeslaw.law` checks)."""
        return replace(self, provenance=replace(self.provenance, data_fingerprint=fingerprint))

    # -- dictionary form (fit.json) --------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict with ``format_version``; inverse of :meth:`from_dict`."""
        out = asdict(self)
        out["format_version"] = FORMAT_VERSION
        return _lists(out)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> FitRecord:
        """Read :meth:`to_dict`'s output, or a format-1 ``fit.json`` (``{"format_version": 1,
        "info": {...}}``).

        Raises
        ------
        FitArtifactError
            An unknown format version or missing entries, with what to do.
        """
        version = data.get("format_version")
        if version not in READABLE_FORMATS:
            raise FitArtifactError(
                f"fit record format {version!r} is not one this bayeslaw reads "
                f"({list(READABLE_FORMATS)}); refit with this version"
            )
        try:
            if version == 1:
                return cls._from_info(data["info"])
            return cls(
                model=_model(data["model"]),
                sampling=SamplingRecord(**data["sampling"]),
                provenance=Provenance(**data["provenance"]),
                free_variables=tuple(data.get("free_variables", ())),
                convergence_problems=tuple(data.get("convergence_problems", ())),
                form_selected_by=data.get("form_selected_by"),
                extrapolation=data.get("extrapolation", {}),
            )
        except (KeyError, TypeError) as err:
            raise FitArtifactError(
                f"fit record (format {version}) is incomplete or malformed ({err!r}); refit"
            ) from err

    @classmethod
    def _from_info(cls, info: Mapping[str, Any]) -> FitRecord:
        """The format-1 flat ``info`` dict (bayeslaw <= 0.1 saved fits)."""
        model = {
            k: info[k]
            for k in ("form", "equation", "pooling", "likelihood", "priors", "scales", "groups")
        }
        model |= {"inputs": info["inputs"], "centered": info.get("centered", [])}
        provenance = Provenance(
            data_hash=info["data_hash"],
            data_source=info["data_source"],
            n_observations=int(info["n_observations"]),
            bayeslaw_version=info["bayeslaw_version"],
            wall_time_s=float(info["wall_time_s"]),
            created=info["created"],
            data_fingerprint=info.get("data_fingerprint"),
        )
        return cls(
            model=_model(model),
            sampling=SamplingRecord(info["method"], info["sampler"], info.get("random_seed")),
            provenance=provenance,
            free_variables=tuple(info.get("free_variables", ())),
            convergence_problems=tuple(info.get("convergence_problems", ())),
            form_selected_by=info.get("form_selected_by"),
        )


def _model(data: Mapping[str, Any]) -> ModelRecord:
    fields = dict(data)
    for key in ("groups", "inputs", "centered", "factors", "interaction", "multiplicative"):
        fields[key] = tuple(fields.get(key, ()))
    fields["levels"] = {k: tuple(v) for k, v in fields.get("levels", {}).items()}
    fields["scales"] = {k: float(v) for k, v in fields["scales"].items()}
    return ModelRecord(**fields)


def _lists(value: Any) -> Any:
    """Tuples as lists, recursively (JSON has no tuples; keeps the round trip exact)."""
    if isinstance(value, dict):
        return {k: _lists(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_lists(v) for v in value]
    return value
