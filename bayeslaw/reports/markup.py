"""Markdown and self-contained HTML from one list of report sections.

A report is a list of :class:`Section`; each holds blocks: prose (``str``), :class:`Table`
or :class:`RenderedFigure`. Markdown links figures by relative path; HTML embeds them as
base64 PNG, so the page needs no other file and loads nothing from the network.
"""

from __future__ import annotations

import base64
import html
import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import pandas as pd

__all__ = ["RenderedFigure", "Section", "Table", "cell", "to_html", "to_markdown"]


@dataclass(frozen=True)
class RenderedFigure:
    """A figure rendered in memory: its file stem, caption and PNG and SVG bytes."""

    name: str
    caption: str
    png: bytes = field(repr=False)
    svg: bytes = field(repr=False)


@dataclass(frozen=True, eq=False)
class Table:
    """A table to show: a DataFrame (its index shown when ``index``) and a caption."""

    frame: pd.DataFrame
    caption: str = ""
    index: bool = True


Block = str | Table | RenderedFigure


@dataclass(frozen=True)
class Section:
    """A heading and its blocks."""

    heading: str
    blocks: tuple[Block, ...]


def cell(value: object) -> str:
    """One table cell as text: floats to 4 significant digits, booleans as yes/no."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return "nan" if math.isnan(value) else f"{value:.4g}"
    return str(value)


def _md_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("<", "\\<").replace(">", "\\>")


def _md_table(table: Table) -> str:
    frame = table.frame.reset_index() if table.index else table.frame
    header = [_md_escape(str(c)) for c in frame.columns]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for row in frame.itertuples(index=False):
        cells = (_md_escape(cell(v)).replace("\n", " ") for v in row)
        lines.append("| " + " | ".join(cells) + " |")
    caption = f"*{_md_escape(table.caption)}*\n\n" if table.caption else ""
    return caption + "\n".join(lines)


def to_markdown(title: str, sections: Sequence[Section], *, figure_dir: str = "figures") -> str:
    """The report as Markdown; figures are linked as ``<figure_dir>/<name>.png``."""
    parts = [f"# {_md_escape(title)}"]
    for section in sections:
        parts.append(f"## {_md_escape(section.heading)}")
        for block in section.blocks:
            if isinstance(block, Table):
                parts.append(_md_table(block))
            elif isinstance(block, RenderedFigure):
                alt = _md_escape(block.caption.split(":", 1)[0])
                parts.append(
                    f"![{alt}]({figure_dir}/{block.name}.png)\n\n*{_md_escape(block.caption)}* "
                    f"([SVG]({figure_dir}/{block.name}.svg))"
                )
            elif block.startswith("```"):
                parts.append(block)
            else:  # prose: keep <population> from being read as an HTML tag
                parts.append(block.replace("<", "\\<").replace(">", "\\>"))
    return "\n\n".join(parts) + "\n"


CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", Helvetica, Arial, sans-serif;
       margin: 0; color: #1d1d1f; background: #fff; line-height: 1.45; }
main { max-width: 1180px; margin: 0 auto; padding: 1.5rem 2rem 3rem; }
h1 { font-size: 1.7rem; margin-bottom: 0.2rem; }
h2 { font-size: 1.25rem; border-bottom: 1px solid #ddd; padding-bottom: 0.2rem;
     margin-top: 2rem; }
pre { background: #f5f5f7; padding: 0.6rem 0.8rem; overflow-x: auto; border-radius: 4px; }
table { border-collapse: collapse; margin: 0.4rem 0 1.2rem; font-size: 0.86rem; }
th, td { border: 1px solid #d8d8dc; padding: 0.25rem 0.55rem; text-align: left;
         vertical-align: top; }
th { background: #f0f0f3; }
caption { caption-side: top; text-align: left; font-style: italic; padding: 0.2rem 0; }
td.ok { background: #e3f4e6; } td.warning { background: #fff1cf; }
td.fail { background: #fbdada; }
figure { margin: 1rem 0 2rem; }
figure img { max-width: 100%; height: auto; border: 1px solid #eee; }
figcaption { font-size: 0.9rem; color: #444; margin-top: 0.3rem; }
""".strip()

VERDICTS = ("ok", "warning", "fail")


def _html_table(table: Table) -> str:
    frame = table.frame.reset_index() if table.index else table.frame
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in frame.columns)
    rows = []
    for row in frame.itertuples(index=False):
        cells = []
        for value in row:
            text = cell(value)
            css = f' class="{text}"' if text in VERDICTS else ""
            cells.append(f"<td{css}>{html.escape(text)}</td>")
        rows.append("<tr>" + "".join(cells) + "</tr>")
    caption = f"<caption>{html.escape(table.caption)}</caption>" if table.caption else ""
    return f"<table>{caption}<thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


def _html_block(block: Block) -> str:
    if isinstance(block, Table):
        return _html_table(block)
    if isinstance(block, RenderedFigure):
        data = base64.b64encode(block.png).decode("ascii")
        alt = html.escape(block.caption.split(":", 1)[0], quote=True)
        return (
            f'<figure id="figure-{html.escape(block.name, quote=True)}">'
            f'<img alt="{alt}" src="data:image/png;base64,{data}">'
            f"<figcaption>{html.escape(block.caption)}</figcaption></figure>"
        )
    if block.startswith("```"):
        code = block.strip("`").strip("\n")
        return f"<pre><code>{html.escape(code)}</code></pre>"
    return f"<p>{html.escape(block)}</p>"


def to_html(title: str, sections: Sequence[Section]) -> str:
    """The report as one self-contained HTML page (inline CSS, figures as data URIs)."""
    body = [f"<h1>{html.escape(title)}</h1>"]
    for section in sections:
        body.append(f"<section><h2>{html.escape(section.heading)}</h2>")
        body.extend(_html_block(b) for b in section.blocks)
        body.append("</section>")
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{html.escape(title)}</title>\n<style>\n{CSS}\n</style>\n</head>\n<body>\n<main>\n"
        + "\n".join(body)
        + "\n</main>\n</body>\n</html>\n"
    )
