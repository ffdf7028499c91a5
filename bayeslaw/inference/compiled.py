"""Compile once per model structure: nutpie samplers kept in memory and on disk.

Compiling a model for nutpie costs far more than sampling it (``moe_by_router``, this
project's 2-core machine: 11-16 s of PyTensor graph rewriting, numba compilation and
nutpie's C wrappers against 2.5 s of sampling). Every value that depends on the data is a
data container of :func:`bayeslaw.models.hierarchical.build_model`, so models of one
:func:`~bayeslaw.models.hierarchical.structure_key` share one compiled sampler and differ
only in the data handed to it (``CompiledPyMCModel.with_data``).

Where a sampler comes from (:attr:`CompileInfo.cache`):

``"memory"``
    compiled earlier in this process (the last :data:`MEMORY_SLOTS` structures);
``"disk"``
    a fresh process found the structure's rewritten PyTensor functions in the cache
    directory (:func:`cache_dir`); numba links them from PyTensor's own on-disk cache, and
    only nutpie's two C wrappers and the initial-point function are compiled again (they
    cannot be saved: numba refuses to cache functions with dynamic globals);
``"miss"``
    compiled from scratch (and saved for later processes).

The disk entries are pickles, read back only from the cache directory this process's user
chose; they are keyed by the structure and by the versions of every package that shapes
the compiled code and by the source of ``bayeslaw/models`` (which builds the graph), so an
upgrade or an edited model never reads an old entry. An entry that cannot be read or
written is recompiled (or skipped) and :attr:`CompileInfo.note` says why.
"""

from __future__ import annotations

import collections
import contextlib
import functools
import hashlib
import os
import pickle
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, replace
from importlib import metadata
from pathlib import Path
from typing import Any, Literal

import pymc as pm

from bayeslaw._version import __version__
from bayeslaw.atomic import write_bytes

__all__ = [
    "CACHE_ENV",
    "MEMORY_SLOTS",
    "CompileInfo",
    "cache_dir",
    "clear_memory",
    "compiled_sampler",
    "package_versions",
]

#: Environment variable naming the on-disk cache directory; ``off`` (or empty) disables it.
CACHE_ENV = "BAYESLAW_CACHE_DIR"
#: Compiled structures kept per process (least recently used dropped first).
MEMORY_SLOTS = 16
#: Packages whose versions key the disk entries.
KEYED_PACKAGES = ("pymc", "pytensor", "nutpie", "numba", "numpy")
#: The modules whose source keys the disk entries as well (they build the graph).
GRAPH_SOURCE = Path(__file__).resolve().parents[1] / "models"

CacheSource = Literal["memory", "disk", "miss"]


@dataclass(frozen=True)
class CompileInfo:
    """Where a fit's compiled sampler came from and what it cost.

    Attributes
    ----------
    cache : {"memory", "disk", "miss"}
        See the module docstring.
    key : str
        The model's structure key.
    compile_s : float
        Seconds spent getting the sampler (compiling, or loading, plus handing it the data).
    note : str
        Why the disk cache was not used or not written, when it was not.
    """

    cache: CacheSource
    key: str
    compile_s: float
    note: str = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class _Entry:
    """One compiled structure: nutpie's model and the data containers its initial-point
    function reads (those of the PyMC model it was built from)."""

    compiled: Any
    point_data: dict[str, Any]


_MEMORY: collections.OrderedDict[str, _Entry] = collections.OrderedDict()
_LOCK = threading.Lock()


def cache_dir() -> Path | None:
    """The on-disk cache directory: ``$BAYESLAW_CACHE_DIR``, else
    ``$XDG_CACHE_HOME/bayeslaw/compiled`` (``~/.cache/bayeslaw/compiled``); None where the
    variable is ``off`` or empty."""
    value = os.environ.get(CACHE_ENV)
    if value is not None:
        return None if value.strip() in ("", "off") else Path(value).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "bayeslaw" / "compiled"


def clear_memory() -> None:
    """Forget this process's compiled samplers (the disk cache stays)."""
    with _LOCK:
        _MEMORY.clear()


def package_versions(names: tuple[str, ...]) -> dict[str, str]:
    """Installed versions of the packages ``names`` (those not installed left out)."""
    out = {}
    for name in names:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return out


@functools.cache
def _graph_source_digest() -> str:
    """A digest of the source that builds the model graph (``bayeslaw/models``): an entry
    compiled from an edited graph of the same package version is never read back (its
    initial-point function would name variables the new model no longer has)."""
    digest = hashlib.sha256()
    for path in sorted(GRAPH_SOURCE.glob("*.py")):
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def _environment_digest() -> str:
    versions = package_versions(KEYED_PACKAGES)
    text = "|".join(
        [
            sys.version,
            __version__,
            _graph_source_digest(),
            *(f"{k}={v}" for k, v in versions.items()),
        ]
    )
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _disk_path(key: str) -> Path | None:
    directory = cache_dir()
    return None if directory is None else directory / f"{key}-{_environment_digest()}.pkl"


def _model_data(model: pm.Model) -> dict[str, Any]:
    return {v.name: v for v in model.data_vars}


@contextlib.contextmanager
def _functions_hook(saved: dict[str, Any] | None, captured: dict[str, Any]) -> Iterator[None]:
    """While nutpie compiles: with ``saved`` functions, hand them to it instead of
    rewriting and compiling the graph again; always capture what it used, to save."""
    import nutpie.compile_pymc as nutpie_pymc

    original = nutpie_pymc._make_functions

    def make_functions(model: Any, **kwargs: Any) -> Any:
        if saved is None:
            result = original(model, **kwargs)
            n_dim, n_expanded, logp, expand, _, shape_info, reparameterized = result
        else:
            n_dim, n_expanded = saved["n_dim"], saved["n_expanded"]
            logp, expand = saved["logp_func"], saved["expand_func"]
            shape_info, reparameterized = saved["shape_info"], saved["reparameterized"]
            n_free = len(model.free_RVs)
            point = nutpie_pymc._rv_dict_to_flat_array_wrapper(
                kwargs["pymc_initial_point_fn"],
                names=shape_info[0][:n_free],
                shapes=shape_info[2][:n_free],
            )
            result = (n_dim, n_expanded, logp, expand, point, shape_info, reparameterized)
        captured.update(
            n_dim=n_dim,
            n_expanded=n_expanded,
            logp_func=logp,
            expand_func=expand,
            shape_info=shape_info,
            reparameterized=reparameterized,
        )
        return result

    nutpie_pymc._make_functions = make_functions
    try:
        yield
    finally:
        nutpie_pymc._make_functions = original


def _compile(model: pm.Model, saved: dict[str, Any] | None) -> tuple[_Entry, dict[str, Any]]:
    import nutpie

    captured: dict[str, Any] = {}
    with _functions_hook(saved, captured):
        compiled = nutpie.compile_pymc_model(model)
    return _Entry(compiled, _model_data(model)), captured


def _load(path: Path, model: pm.Model) -> tuple[_Entry | None, str]:
    if not path.is_file():
        return None, ""
    try:
        with path.open("rb") as fh:
            saved = pickle.load(fh)
        entry, _ = _compile(model, saved)
    except Exception as exc:  # a stale or damaged entry: recompile and overwrite it
        return None, f"disk entry {path.name} unusable ({type(exc).__name__}: {exc}); recompiled"
    return entry, ""


def _save(path: Path, captured: dict[str, Any]) -> str:
    try:
        write_bytes(path, pickle.dumps(captured, protocol=pickle.HIGHEST_PROTOCOL))
    except Exception as exc:  # the cache is an optimisation: a fit never fails on it
        return f"not saved to {path.parent} ({type(exc).__name__}: {exc})"
    return ""


def _with_data(entry: _Entry, model: pm.Model) -> Any:
    """``entry``'s sampler with ``model``'s data and coordinate labels."""
    import pandas as pd

    data = {name: var.get_value() for name, var in _model_data(model).items()}
    for name, value in data.items():
        # the initial point is computed from the data the entry was compiled with
        entry.point_data[name].set_value(value)
    used = {var.name for var in entry.compiled.shared_var_keys}
    compiled = entry.compiled.with_data(**{k: v for k, v in data.items() if k in used})
    coords = dict(compiled.coords)
    coords.update({name: pd.Index(list(values)) for name, values in model.coords.items()})
    return replace(compiled, _coords=coords)


def compiled_sampler(model: pm.Model, key: str) -> tuple[Any, CompileInfo]:
    """nutpie's compiled ``model``, reused from memory or disk where a model of the same
    structure ``key`` (:func:`~bayeslaw.models.hierarchical.structure_key`) was compiled,
    with ``model``'s data; and where it came from."""
    start = time.perf_counter()
    note = ""
    with _LOCK:
        entry = _MEMORY.get(key)
        if entry is not None:
            source: CacheSource = "memory"
            _MEMORY.move_to_end(key)
        else:
            path = _disk_path(key)
            entry, note = (None, "disk cache off") if path is None else _load(path, model)
            source = "disk"
            if entry is None:
                source = "miss"
                entry, captured = _compile(model, None)
                if path is not None:
                    note = "; ".join(n for n in (note, _save(path, captured)) if n)
            _MEMORY[key] = entry
            while len(_MEMORY) > MEMORY_SLOTS:
                _MEMORY.popitem(last=False)
        compiled = _with_data(entry, model)
    return compiled, CompileInfo(source, key, time.perf_counter() - start, note)
