"""Loading and validating scaling-law measurements.

:func:`load_observations` reads a table (a ``datasets`` directory or object, a CSV or Parquet
file, or a DataFrame) and returns :class:`Observations`: one float64 column per input, the
float64 target and a string ``group`` column. Every problem raises
:class:`~bayeslaw.errors.DataError` naming the column, rows or group and what would fix it;
rows are never dropped silently. ``datasets`` is imported only when a source needs it.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import stat
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from bayeslaw.errors import ColumnError, DataError
from bayeslaw.groups import (
    INTERACTION,
    RESERVED_FACTORS,
    SEPARATOR,
    factor_columns,
    interaction_level,
    join_levels,
    label_columns,
)

if TYPE_CHECKING:
    import datasets

__all__ = [
    "ALIASES",
    "CANONICAL_INPUTS",
    "DEFAULT_GROUP",
    "GROUP",
    "TARGET",
    "Observations",
    "as_observations",
    "load_observations",
]

CANONICAL_INPUTS: tuple[str, ...] = ("dense_parameter_count", "num_experts")
TARGET = "loss_validation"
GROUP = "group"
DEFAULT_GROUP = "all_data"
ALIASES: dict[str, tuple[str, ...]] = {
    "num_experts": ("num_experts", "experts", "n_experts", "moe_num_experts"),
    "dense_parameter_count": (
        "dense_parameter_count",
        "dense_params",
        "dense_parameters",
        "non_expert_parameters",
    ),
    "loss_validation": ("loss_validation", "val_loss", "validation_loss", "valid_loss"),
    "group": ("group", "group_name", "group_id", "task"),
}
FILE_FORMATS: tuple[str, ...] = (".csv", ".csv.gz", ".parquet", ".pq")
_DATASET_MARKERS = ("dataset_dict.json", "state.json", "dataset_info.json")
_SUPPORTED = "supported: .csv, .csv.gz, .parquet, .pq files or a datasets save_to_disk directory"
_MAX_SHOWN = 10

type DataSource = str | os.PathLike[str] | pd.DataFrame | datasets.Dataset | datasets.DatasetDict


@dataclass(frozen=True, eq=False, repr=False)
class Observations:
    """Validated measurements in canonical form.

    Attributes
    ----------
    frame : pandas.DataFrame
        Columns ``*inputs, target, "group"``, index ``0..n-1``; inputs and target float64,
        finite and > 0; groups ``str``. Construction validates and normalises (extra columns
        are left out), raising :class:`DataError` on missing columns, bad values or no rows.
    inputs, target : tuple of str, str
        Canonical input names (in order) and target name.
    columns : Mapping[str, str]
        Canonical name -> column name in the source, for messages and reports.
    source, split : str, str or None
        Where the data came from, and the ``DatasetDict`` split used (else None).
    factors : tuple of str
        Crossed grouping factors (``("model", "dataset")``), each a string column of the
        frame; a row's ``group`` is then its levels joined by :data:`bayeslaw.groups.SEPARATOR`
        (a *cell*). A factor ``"family:dataset"`` is the interaction of two columns (its
        column in the frame is derived from theirs); the group label then joins every
        column the factors use (:func:`bayeslaw.groups.label_columns`). Empty for one group
        column.
    """

    frame: pd.DataFrame
    inputs: tuple[str, ...]
    target: str = TARGET
    columns: Mapping[str, str] = field(default_factory=dict)
    source: str = "DataFrame"
    split: str | None = None
    factors: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        inputs = _check_roles(self.inputs, self.target)
        object.__setattr__(self, "inputs", inputs)
        object.__setattr__(self, "factors", _check_factors(self.factors, (*inputs, self.target)))
        object.__setattr__(self, "columns", dict(self.columns))
        object.__setattr__(self, "frame", self._canonical_frame())

    def _canonical_frame(self) -> pd.DataFrame:
        frame = self.frame
        if not isinstance(frame, pd.DataFrame):
            raise DataError(f"Observations.frame must be a DataFrame, not {type(frame).__name__}")
        _require_rows(len(frame), self.source)
        required = [*self.inputs, self.target, GROUP]
        missing = sorted(name for name in required if name not in frame.columns)
        if missing:
            have = _listing(frame.columns)
            raise DataError(f"frame lacks {missing}; it has {have}. Try load_observations")
        _reject_duplicate_columns(frame, required)
        out: dict[str, Any] = {}
        for name in (*self.inputs, self.target):
            values = _numeric(frame[name], self._label(name))
            why = "a power law needs positive inputs" if name in self.inputs else "a loss is > 0"
            _require_positive(values, self._label(name), why)
            out[name] = values
        out[GROUP] = _group_labels(frame[GROUP], self._label(GROUP))
        columns = label_columns(self.factors)
        missing = [c for c in columns if c not in frame.columns]
        if missing:
            raise DataError(f"frame lacks the factor column(s) {missing}; it has {list(frame)}")
        for column in columns:
            out[column] = _factor_levels(frame[column], self._label(column))
        out |= _interaction_levels(out, self.factors)
        if self.factors:
            cells = zip(*(out[c] for c in columns), strict=True)
            joined = np.array([join_levels(levels) for levels in cells], dtype=object)
            bad = np.flatnonzero(joined != out[GROUP])
            if bad.size:
                raise DataError(
                    f"column 'group' must be the columns {list(columns)} joined by "
                    f"{SEPARATOR!r}; it differs at {_rows(bad)}. Use load_observations(..., "
                    "groups=[...]), which builds it"
                )
        return pd.DataFrame(out)

    def _label(self, name: str) -> str:
        column = self.columns.get(name, name)
        return f"column {name!r}" + ("" if column == name else f" (source column {column!r})")

    def __len__(self) -> int:
        return len(self.frame)

    def __repr__(self) -> str:
        factors = f", factors={self.factors}" if self.factors else ""
        return (
            f"Observations(n_rows={len(self)}, groups={len(self.groups)}, "
            f"inputs={self.inputs}, target={self.target!r}{factors}, source={self.source!r})"
        )

    def levels(self, factor: str) -> tuple[str, ...]:
        """The levels of a crossed ``factor`` present in the data, sorted."""
        if factor not in self.factors:
            raise DataError(f"{factor!r} is not a factor of these data; factors: {self.factors}")
        return tuple(sorted(set(self.frame[factor])))

    def group_levels(self) -> dict[str, tuple[str, ...]]:
        """Factor -> the level of each group of :attr:`groups` (in that order)."""
        first = self.frame.drop_duplicates(GROUP).set_index(GROUP)
        return {f: tuple(first.loc[list(self.groups), f]) for f in self.factors}

    @property
    def groups(self) -> tuple[str, ...]:
        """Unique group names, sorted."""
        return tuple(sorted(set(self.frame[GROUP])))

    @property
    def group_index(self) -> np.ndarray:
        """Int64 code of each row's group, indexing :attr:`groups`."""
        codes = pd.Categorical(self.frame[GROUP], categories=list(self.groups)).codes
        return np.asarray(codes, dtype=np.int64)

    @property
    def y(self) -> np.ndarray:
        """The target as a float64 array (a copy)."""
        return self.frame[self.target].to_numpy(dtype=np.float64, copy=True)

    def input_values(self) -> dict[str, np.ndarray]:
        """Return each input as a float64 array (copies), keyed by canonical name."""
        return {
            name: self.frame[name].to_numpy(dtype=np.float64, copy=True) for name in self.inputs
        }

    def select_groups(self, names: str | Iterable[str]) -> Observations:
        """Return the rows of the named groups; :class:`DataError` for unknown or no names."""
        wanted = [names] if isinstance(names, str) else list(names)
        unknown = sorted({str(name) for name in wanted} - set(self.groups))
        if unknown or not wanted:
            problem = f"unknown group(s) {unknown}" if unknown else "no group names given"
            raise DataError(f"{problem}; available groups: {list(self.groups)}")
        return self.subset(self.frame[GROUP].isin(wanted).to_numpy())

    def subset(self, mask: np.ndarray) -> Observations:
        """Return the rows where the boolean ``mask`` is true, reindexed ``0..m-1``.

        Raises :class:`DataError` if ``mask`` is not boolean of length ``len(self)`` or is all
        false.
        """
        mask = np.asarray(mask)
        if mask.dtype != np.bool_ or mask.shape != (len(self),):
            got = f"dtype {mask.dtype}, shape {mask.shape}"
            raise DataError(f"subset needs a boolean mask of shape ({len(self)},); got {got}")
        if not mask.any():
            raise DataError(f"the selection leaves no rows of {self.source}; select some rows")
        return replace(self, frame=self.frame.loc[mask].reset_index(drop=True))

    def summary(self) -> pd.DataFrame:
        """One row per group: ``n_rows``, min/max of each input, min/max/mean of the target."""
        stats = {"n_rows": (self.target, "size")}
        stats |= {f"{name}_{s}": (name, s) for name in self.inputs for s in ("min", "max")}
        stats |= {f"{self.target}_{s}": (self.target, s) for s in ("min", "max", "mean")}
        return self.frame.groupby(GROUP, sort=True).agg(**stats)

    def content_hash(self) -> str:
        """Return a SHA-256 hex digest of the canonical frame, stable across processes."""
        digest = hashlib.sha256()
        header: dict[str, Any] = {"inputs": list(self.inputs), "target": self.target}
        header["columns"] = [str(column) for column in self.frame.columns]
        if self.factors:
            header["factors"] = list(self.factors)
        digest.update(json.dumps(header, sort_keys=True).encode())
        for name in (*self.inputs, self.target):
            digest.update(self.frame[name].to_numpy(dtype="<f8").tobytes())
        digest.update(json.dumps(self.frame[GROUP].tolist()).encode())
        return digest.hexdigest()


def load_observations(
    source: DataSource,
    *,
    split: str | None = None,
    columns: Mapping[str, str] | None = None,
    inputs: Sequence[str] | None = None,
    target: str = TARGET,
    groups: str | Sequence[str] | None = None,
) -> Observations:
    """Load and validate measurements from a file, a ``datasets`` object or a DataFrame.

    Parameters
    ----------
    source : str, Path, DataFrame, datasets.Dataset or datasets.DatasetDict
        A directory written by ``save_to_disk``, a ``.csv``/``.csv.gz``/``.parquet``/``.pq``
        file, or an in-memory table.
    split : str, optional
        Split of a ``DatasetDict``; default ``"train"`` if present, else the first split.
    columns : Mapping[str, str], optional
        Canonical name -> source column, overriding alias detection (see :data:`ALIASES`).
        Without a group column every row is in the group ``"all_data"``.
    inputs : Sequence[str], optional
        Canonical input names; default :data:`CANONICAL_INPUTS`. A name with no aliases is
        looked up as a literal column name unless ``columns`` maps it.
    target : str
        Canonical target name.
    groups : str or sequence of str, optional
        The group column (the same as ``columns={"group": name}``), or several columns:
        crossed factors (``groups=("model", "dataset")``), each kept under its column name,
        the group of a row being its levels joined, ``"gpt2 | flan"``. A factor
        ``"family:dataset"`` is the interaction of two columns (brms' ``(1 | family:dataset)``:
        models of one family share an effect per dataset); ``family`` need not be a factor
        itself, and the group label then names it too, ``"t5-base | gigaword | t5"``.

    Returns
    -------
    Observations

    Raises
    ------
    DataError
        For a missing path, unknown format, absent split or column, bad values or no rows.

    Examples
    --------
    >>> frame = pd.DataFrame({"dense_params": [1e7, 2e7], "experts": [1, 8],
    ...                       "val_loss": [3.1, 2.9]})
    >>> load_observations(frame).groups
    ('all_data',)
    """
    input_names = _check_roles(CANONICAL_INPUTS if inputs is None else inputs, target)
    roles = (*input_names, target, GROUP)
    explicit = dict(columns or {})
    unknown = sorted(set(explicit) - set(roles))
    if unknown:
        raise DataError(
            f"columns has unknown key(s) {unknown}; valid keys: {list(roles)} (the inputs, the "
            "target and 'group'). To use another input, also list it in inputs=[...]."
        )
    factors = _group_columns(groups, explicit)
    if len(factors) == 1 and INTERACTION not in factors[0]:
        explicit[GROUP] = factors[0]
        factors = ()
    raw, description, used_split = _read_source(source, split)
    _require_rows(len(raw), description)
    factors = _check_factors(factors, (*input_names, target))
    named = label_columns(factors)
    if factors:
        roles = (*input_names, target)
        absent = [c for c in named if c not in raw.columns]
        if absent:
            have = _listing(raw.columns)
            joined = " (a factor 'a:b' is the interaction of columns a and b)"
            hint = joined if any(INTERACTION in f for f in factors) else ""
            raise DataError(
                f"groups names column(s) {absent}, which the source lacks{hint}; it has {have}"
            )
    mapping = _resolve_columns(raw, roles, explicit, target)
    clash = sorted(set(named) & set(mapping.values()))
    if clash:
        raise DataError(f"column(s) {clash} are both a grouping factor and {mapping}")
    frame = raw.loc[:, list(mapping.values())].set_axis(list(mapping), axis=1)
    frame = frame.reset_index(drop=True)
    if factors:
        levels = {c: _factor_levels(raw[c].reset_index(drop=True), f"column {c!r}") for c in named}
        for column, values in (levels | _interaction_levels(levels, factors)).items():
            frame[column] = values
        frame[GROUP] = [join_levels(row) for row in zip(*levels.values(), strict=True)]
        mapping = {**mapping, **{c: c for c in named}}
    elif GROUP not in mapping:
        frame[GROUP] = DEFAULT_GROUP
    return Observations(frame, input_names, target, mapping, description, used_split, factors)


def _group_columns(
    groups: str | Sequence[str] | None, explicit: Mapping[str, str]
) -> tuple[str, ...]:
    """``groups=`` as a tuple of column names (empty: none given)."""
    if groups is None:
        return ()
    names = (groups,) if isinstance(groups, str) else tuple(groups)
    if not names or not all(isinstance(n, str) and n for n in names):
        raise DataError(f"groups must name one or more columns (strings), got {groups!r}")
    if GROUP in explicit:
        raise DataError("give the group column once: groups=... or columns={'group': ...}")
    repeated = sorted(n for n, count in Counter(names).items() if count > 1)
    if repeated:
        raise DataError(f"groups names {repeated} more than once")
    return names


def _check_factors(factors: Iterable[str], roles: Sequence[str]) -> tuple[str, ...]:
    """Factor names as a tuple, checked against the other roles and reserved names."""
    names = tuple(factors)
    if len(names) == 1 and INTERACTION in names[0]:
        listed = ", ".join(repr(c) for c in factor_columns(names[0]))
        raise DataError(
            f"an interaction {names[0]!r} alone is one group per combination: pass "
            f"groups=({listed}) for crossed factors, or add the interaction to them"
        )
    if len(names) == 1:
        raise DataError(
            f"one grouping factor {names[0]!r} is a plain group column: pass "
            f"groups={names[0]!r} (or columns={{'group': {names[0]!r}}})"
        )
    for name in names:
        parts = factor_columns(name)
        if not all(parts) or len(set(parts)) != len(parts):
            raise DataError(
                f"interaction {name!r} must join two or more different columns with "
                f"{INTERACTION!r}, e.g. 'family:dataset'"
            )
    uses = Counter(frozenset(factor_columns(n)) for n in names)
    same = [columns for columns, count in uses.items() if count > 1]
    if same:
        raise DataError(f"groups names the same factor twice: {[sorted(s) for s in same]}")
    bad = sorted(set(label_columns(names)) & {*roles, *RESERVED_FACTORS})
    if bad:
        raise DataError(
            f"grouping factor(s) {bad} clash with an input, the target or a reserved name "
            f"{list(RESERVED_FACTORS)}; rename the column(s)"
        )
    return names


def _interaction_levels(
    levels: Mapping[str, np.ndarray], factors: Sequence[str]
) -> dict[str, np.ndarray]:
    """The column of each interaction factor, from its columns' ``levels``; two different
    combinations that would join to one level are refused."""
    out = {}
    for factor in (f for f in factors if INTERACTION in f):
        combos = list(zip(*(levels[c] for c in factor_columns(factor)), strict=True))
        joined: dict[str, list[tuple[str, ...]]] = {}
        for combo in sorted(set(combos)):
            joined.setdefault(interaction_level(combo), []).append(combo)
        clash = [c for c in joined.values() if len(c) > 1]
        if clash:
            raise DataError(
                f"interaction {factor!r}: the levels {clash[0]} both join to "
                f"{interaction_level(clash[0][0])!r}; rename levels containing {INTERACTION!r}"
            )
        out[factor] = np.array([interaction_level(c) for c in combos], dtype=object)
    return out


def _factor_levels(series: pd.Series, label: str) -> np.ndarray:
    """A factor's levels as strings; missing values and labels holding the separator are
    refused (the separator joins a cell's levels into its group label)."""
    values = _group_labels(series, label)
    bad = np.flatnonzero([SEPARATOR in v for v in values])
    if bad.size:
        raise DataError(f"{label} has levels containing {SEPARATOR!r} at {_rows(bad)}; rename them")
    return values


def as_observations(data: Any) -> Observations:
    """``data`` if it is :class:`Observations`, else :class:`DataError` saying how to make
    them (fitting takes validated observations, never a raw table)."""
    if isinstance(data, Observations):
        return data
    raise DataError(
        f"fitting needs Observations, got {type(data).__name__}; make them with "
        "bayeslaw.load_observations(...) (a path, DataFrame or datasets object)"
    )


def _check_roles(inputs: str | Iterable[str], target: str) -> tuple[str, ...]:
    names = (inputs,) if isinstance(inputs, str) else tuple(inputs)
    if not names:
        raise DataError(f"inputs is empty; name at least one input, e.g. {CANONICAL_INPUTS}")
    roles = [*names, target, GROUP]
    repeated = sorted(name for name, count in Counter(roles).items() if count > 1)
    if repeated:
        raise DataError(f"inputs, target and 'group' must all differ; repeated: {repeated}")
    return names


def _read_source(source: Any, split: str | None) -> tuple[pd.DataFrame, str, str | None]:
    if isinstance(source, pd.DataFrame):
        _reject_split(split, "a DataFrame")
        return source, "DataFrame", None
    if isinstance(source, str | os.PathLike):
        return _read_path(Path(source), split)
    if type(source).__module__.split(".")[0] == "datasets":
        import datasets

        if isinstance(source, datasets.DatasetDict):
            return _from_dataset_dict(source, split, "DatasetDict")
        if isinstance(source, datasets.Dataset):
            _reject_split(split, "a Dataset")
            return _dataset_frame(source, "Dataset"), "Dataset", None
    kinds = "a path, a DataFrame, a datasets.Dataset or a datasets.DatasetDict"
    raise DataError(f"cannot read data from a {type(source).__name__}; pass {kinds}")


def _check_path(path: Path) -> os.stat_result:
    """The path's status, or :class:`DataError` saying why it cannot be read."""
    try:
        return path.stat()
    except FileNotFoundError:
        raise DataError(
            f"data path {path} does not exist (working directory: {Path.cwd()})"
        ) from None
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            loop = f"data path {path} is a symbolic link loop; point it at the data"
            raise DataError(loop) from None
        raise DataError(f"data path {path} cannot be accessed: {exc.strerror or exc}") from exc


def _read_path(path: Path, split: str | None) -> tuple[pd.DataFrame, str, str | None]:
    mode = _check_path(path).st_mode
    if stat.S_ISDIR(mode):
        return _read_directory(path, split)
    if not stat.S_ISREG(mode):
        raise DataError(
            f"data path {path} is not a regular file (a pipe, socket or device); "
            "write the data to a file first"
        )
    name = path.name.lower()
    if not name.endswith(FILE_FORMATS):
        raise DataError(f"unknown format of {path}; {_SUPPORTED}")
    _reject_split(split, f"the file {path}")
    try:
        if name.endswith((".parquet", ".pq")):
            return pd.read_parquet(path), str(path), None
        _reject_repeated_header(path)
        # only empty cells are missing: a group may be called "NA" or "None"
        frame = pd.read_csv(path, keep_default_na=False, na_values=[""])
    except DataError:
        raise
    except Exception as exc:  # truncated archives, bad encodings, parser and arrow errors
        raise DataError(
            f"could not read {path} ({type(exc).__name__}: {exc}); is the file complete "
            "and in the format its name says?"
        ) from exc
    return frame, str(path), None


def _reject_repeated_header(path: Path) -> None:
    """pandas renames a repeated CSV header (``a``, ``a.1``): refuse it instead."""
    header = pd.read_csv(path, header=None, nrows=1, dtype=str, keep_default_na=False)
    names = [str(v) for v in header.iloc[0].tolist()] if len(header) else []
    repeated = sorted(name for name, count in Counter(names).items() if count > 1)
    if repeated:
        raise DataError(
            f"{path} has column(s) {repeated} more than once in its header; rename the duplicates"
        )


def _read_directory(path: Path, split: str | None) -> tuple[pd.DataFrame, str, str | None]:
    if not any((path / marker).is_file() for marker in _DATASET_MARKERS):
        raise DataError(f"{path} has none of {list(_DATASET_MARKERS)}; {_SUPPORTED}")
    import datasets

    try:
        loaded = datasets.load_from_disk(str(path))
    except Exception as exc:  # datasets raises many types for damaged directories
        empty = _empty_parts(path)
        if empty:
            raise DataError(
                f"the dataset at {path} has no rows: {', '.join(empty)} saved without data; "
                "bayeslaw needs at least one measurement"
            ) from exc
        raise DataError(
            f"could not load the dataset at {path} ({type(exc).__name__}: {exc})"
        ) from exc
    if isinstance(loaded, datasets.DatasetDict):
        return _from_dataset_dict(loaded, split, str(path))
    _reject_split(split, f"the Dataset at {path}")
    return _dataset_frame(loaded, str(path)), str(path), None


def _empty_parts(path: Path) -> list[str]:
    """The parts of a ``save_to_disk`` directory (itself, or its splits) saved without any
    data file: what a Dataset of no rows leaves, and what ``load_from_disk`` fails on."""
    empty = []
    for state in sorted([path / "state.json", *path.glob("*/state.json")]):
        try:
            files = json.loads(state.read_text()).get("_data_files")
        except (OSError, ValueError, AttributeError):
            continue
        if files == []:
            empty.append("the dataset" if state.parent == path else f"split {state.parent.name!r}")
    return empty


def _dataset_frame(dataset: Any, label: str) -> pd.DataFrame:
    """``dataset.to_pandas()``, with no rows refused first (``to_pandas`` fails on them)."""
    _require_rows(len(dataset), label)
    return dataset.to_pandas()


def _from_dataset_dict(
    dataset_dict: datasets.DatasetDict, split: str | None, label: str
) -> tuple[pd.DataFrame, str, str | None]:
    names = list(dataset_dict.keys())
    if split is None and names:
        split = "train" if "train" in names else names[0]
    if split not in names:
        raise DataError(f"split {split!r} not found in {label}; available splits: {names}")
    described = f"{label} [split {split}]"
    return _dataset_frame(dataset_dict[split], described), described, split


def _reject_split(split: str | None, what: str) -> None:
    if split is not None:
        raise DataError(f"split={split!r} was given, but {what} has no splits; drop split=")


def _resolve_columns(
    raw: pd.DataFrame, roles: Sequence[str], explicit: Mapping[str, str], target: str
) -> dict[str, str]:
    available = _listing(raw.columns)
    mapping: dict[str, str] = {}
    for role in roles:
        if role in explicit:
            if explicit[role] not in raw.columns:
                mapped = f"columns maps {role!r} to {explicit[role]!r}"
                raise DataError(f"{mapped}, which the source lacks; available: {available}")
            mapping[role] = explicit[role]
            continue
        tried = ALIASES.get(role, (role,))
        found = [alias for alias in tried if alias in raw.columns]
        if len(found) > 1:
            pick = f"columns={{{role!r}: {found[0]!r}}}"
            raise ColumnError(
                f"several columns could be {role!r}: {found}; pick one, e.g. {pick}", role=role
            )
        if found:
            mapping[role] = found[0]
        elif role != GROUP:
            kind = "target" if role == target else "input"
            raise ColumnError(
                f"no column for the {kind} {role!r}: tried {list(tried)}; available columns: "
                f"{available}. Map it explicitly, e.g. columns={{{role!r}: '<column name>'}}",
                role=role,
            )
    shared = sorted(col for col, count in Counter(mapping.values()).items() if count > 1)
    if shared:
        raise DataError(f"source column(s) {shared} are used for more than one role: {mapping}")
    _reject_duplicate_columns(raw, list(mapping.values()))
    return mapping


def _reject_duplicate_columns(frame: pd.DataFrame, names: Sequence[str]) -> None:
    repeated = sorted({str(c) for c in frame.columns[frame.columns.duplicated()] if c in names})
    if repeated:
        raise DataError(f"column(s) {repeated} appear more than once; rename the duplicates")


def _numeric(series: pd.Series, label: str) -> np.ndarray:
    if pd.api.types.is_bool_dtype(series):
        raise DataError(f"{label} holds booleans; it needs numbers")
    if series.dtype == object:
        flags = np.flatnonzero([isinstance(v, bool | np.bool_) for v in series.tolist()])
        if flags.size:
            raise DataError(f"{label} holds booleans at {_rows(flags)}; it needs numbers")
    if not pd.api.types.is_numeric_dtype(series):
        coerced = pd.to_numeric(series, errors="coerce")
        bad = np.flatnonzero(coerced.isna().to_numpy() & series.notna().to_numpy())
        if bad.size:
            examples = ", ".join(repr(v) for v in series.iloc[bad[:3]].tolist())
            raise DataError(f"{label} has non-numeric values at {_rows(bad)} (e.g. {examples})")
        series = coerced
    values = series.to_numpy(dtype=np.float64, na_value=np.nan)
    bad = np.flatnonzero(~np.isfinite(values))
    if bad.size:
        raise DataError(f"{label} has NaN (missing) or infinite values at {_rows(bad)}")
    return values


def _require_positive(values: np.ndarray, label: str, why: str) -> None:
    bad = np.flatnonzero(values <= 0)
    if bad.size:
        raise DataError(f"{label} has zero or negative values ({why}) at {_rows(bad)}")


def _group_labels(series: pd.Series, label: str) -> np.ndarray:
    bad = np.flatnonzero(series.isna().to_numpy())
    if bad.size:
        raise DataError(f"{label} has missing values at {_rows(bad)}; give every row a group")
    return np.array([str(value) for value in series.tolist()], dtype=object)


def _require_rows(n_rows: int, source: str) -> None:
    if n_rows == 0:
        raise DataError(f"{source} has no rows; bayeslaw needs at least one measurement")


def _rows(positions: np.ndarray) -> str:
    shown = ", ".join(str(int(p)) for p in positions[:_MAX_SHOWN])
    more = f" and {positions.size - _MAX_SHOWN} more" if positions.size > _MAX_SHOWN else ""
    fix = "correct or remove these rows in the source; bayeslaw never drops rows itself"
    return f"row{'s' if positions.size > 1 else ''} {shown}{more} (0-based; {fix})"


def _listing(names: Iterable[Any]) -> str:
    return ", ".join(repr(str(name)) for name in names) or "(none)"
