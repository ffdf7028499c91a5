"""What every plot shares: colours, plain-number log axes, rendering, atomic saving."""

from __future__ import annotations

import io
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib import colormaps
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, LogLocator, MaxNLocator, NullFormatter

from bayeslaw import atomic

__all__ = [
    "detach",
    "figure_bytes",
    "group_colors",
    "pct",
    "plain_log_axis",
    "save_figure",
    "tick_label",
]

#: Resolution of PNG output.
DPI = 110


def pct(ci_prob: float) -> str:
    """``0.9`` -> ``"90%"``: how every interval is labelled."""
    return f"{ci_prob:.0%}"


#: Bookkeeping nodes of an arviz-plots PlotCollection's ``viz`` tree (not drawn parts).
_LAYOUT_NODES = ("plot", "row_index", "col_index", "figure")


def detach(plot_collection: Any) -> Figure:
    """The matplotlib Figure of an ``arviz_plots`` PlotCollection, with every drawn part
    named by its visual (``gid`` = ``"predictive_dist"``, ``"ecdf_lines"``, ...) and closed in
    pyplot (arviz-plots draws through :func:`matplotlib.pyplot.subplots`), so that, like the
    figures drawn here, it holds no global state and needs no closing."""
    import matplotlib.pyplot as plt

    viz = plot_collection.viz
    for name in viz.children:
        if name in _LAYOUT_NODES:
            continue
        for artists in viz[name].data_vars.values():
            for artist in np.ravel(artists.values):
                if hasattr(artist, "set_gid"):
                    artist.set_gid(str(name))
    fig = plot_collection.get_viz("figure")
    plt.close(fig)
    return fig


def group_colors(groups: Sequence[str]) -> dict[str, Any]:
    """A fixed colour per group (tab10, cycling)."""
    cmap = colormaps["tab10"]
    return {g: cmap(i % 10) for i, g in enumerate(groups)}


def plain_log_axis(ax: Any, axis: str = "y") -> None:
    """A log axis labelled with plain numbers: ticks at 1-2-5 steps when the data span a
    decade or more, else at evenly spaced round values (losses span well under a decade)."""
    target = ax.yaxis if axis == "y" else ax.xaxis
    lo, hi = ax.get_ylim() if axis == "y" else ax.get_xlim()
    if hi / lo >= 10:
        target.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
    else:
        target.set_major_locator(MaxNLocator(nbins=6))
    target.set_major_formatter(FuncFormatter(lambda v, _: tick_label(v)))
    target.set_minor_formatter(NullFormatter())


def tick_label(value: float) -> str:
    """Plain numbers between 0.001 and 10,000, else ``m x 10^e`` (mathtext)."""
    if value == 0 or 1e-3 <= abs(value) < 1e4:
        return f"{value:g}"
    exponent = int(np.floor(np.log10(abs(value))))
    mantissa = value / 10**exponent
    head = "" if np.isclose(mantissa, 1) else f"{mantissa:.3g}\\times"
    return f"${head}10^{{{exponent}}}$"


def save_figure(fig: Figure, path: str | os.PathLike[str], *, dpi: int = DPI) -> dict[str, Path]:
    """Write ``fig`` as ``<path>.png`` and ``<path>.svg``, each atomically (a temporary file
    in the same folder, then :func:`os.replace`); ``path`` has no suffix.

    Returns
    -------
    dict
        ``{"png": Path, "svg": Path}``.
    """
    base = Path(path)
    base.parent.mkdir(parents=True, exist_ok=True)
    out = {}
    for fmt in ("png", "svg"):
        target = base.with_name(f"{base.name}.{fmt}")
        atomic.write_bytes(target, figure_bytes(fig, fmt, dpi=dpi))
        out[fmt] = target
    return out


def figure_bytes(fig: Figure, fmt: str, *, dpi: int = DPI) -> bytes:
    """The figure rendered as PNG or SVG bytes (SVG without a date stamp, text kept as text)."""
    import matplotlib as mpl

    buffer = io.BytesIO()
    metadata = {"Date": None} if fmt == "svg" else None
    with mpl.rc_context({"svg.hashsalt": "bayeslaw", "svg.fonttype": "none"}):
        fig.savefig(buffer, format=fmt, dpi=dpi, metadata=metadata)
    return buffer.getvalue()
