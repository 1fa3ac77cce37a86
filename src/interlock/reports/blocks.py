"""The report as a list of blocks, each rendering itself to HTML and to Markdown.

Content is decided once (the same rows, the same sentences, the same rounding) and only the
markup differs, so the two formats cannot disagree. Charts appear in the HTML only; a chart
that could not be drawn is a note, shown in both.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

from matplotlib.figure import Figure

from interlock.reports.plotting import Chart, NoChart, data_uri


class Block(Protocol):
    def to_html(self) -> str: ...
    def to_markdown(self) -> str: ...


@dataclass(frozen=True, slots=True)
class Strong:
    """A table cell to emphasise (the best quality in a row)."""

    text: str


TableCell = str | Strong


@dataclass(frozen=True, slots=True)
class Paragraph:
    text: str
    element_id: str | None = None
    css_class: str | None = None

    def to_html(self) -> str:
        attributes = _attributes(element_id=self.element_id, css_class=self.css_class)
        return f"<p{attributes}>{html.escape(self.text)}</p>"

    def to_markdown(self) -> str:
        return f"> {self.text}" if self.css_class == "headline" else self.text


@dataclass(frozen=True, slots=True)
class WarningBox:
    """A boxed warning the reader must not miss."""

    title: str
    text: str
    element_id: str | None = None

    def to_html(self) -> str:
        return (
            f'<div class="warning" role="alert"{_attributes(element_id=self.element_id)}>'
            f"<strong>{html.escape(self.title)}</strong> {html.escape(self.text)}</div>"
        )

    def to_markdown(self) -> str:
        return f"> **Warning: {self.title}** {self.text}"


@dataclass(frozen=True, slots=True)
class Bullets:
    items: Sequence[str]

    def to_html(self) -> str:
        return "<ul>" + "".join(f"<li>{html.escape(item)}</li>" for item in self.items) + "</ul>"

    def to_markdown(self) -> str:
        return "\n".join(f"- {item}" for item in self.items)


@dataclass(frozen=True, slots=True)
class Table:
    table_id: str
    headers: Sequence[str]
    rows: Sequence[Sequence[TableCell]]

    def to_html(self) -> str:
        head = "".join(f"<th>{html.escape(h)}</th>" for h in self.headers)

        def cell(value: TableCell) -> str:
            if isinstance(value, Strong):
                return f"<td><strong>{html.escape(value.text)}</strong></td>"
            return f"<td>{html.escape(value)}</td>"

        body = "".join("<tr>" + "".join(cell(v) for v in row) + "</tr>" for row in self.rows)
        return f'<table id="{self.table_id}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'

    def to_markdown(self) -> str:
        def cell(value: TableCell) -> str:
            text = f"**{value.text}**" if isinstance(value, Strong) else value
            return text.replace("|", "\\|") or " "

        lines = ["| " + " | ".join(self.headers) + " |", "|" + "---|" * len(self.headers)]
        lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in self.rows]
        return "\n".join(lines)


@dataclass(frozen=True, slots=True)
class ChartBlock:
    """A chart with its caption, or the note saying why there is none."""

    figure_id: str
    chart: Chart
    caption: str

    def to_html(self) -> str:
        caption = html.escape(self.caption)
        if isinstance(self.chart, Figure):
            return (
                f'<figure id="{self.figure_id}"><img alt="{caption}" src="{data_uri(self.chart)}">'
                f"<figcaption>{caption}</figcaption></figure>"
            )
        return f'<p class="no-chart" id="{self.figure_id}">{html.escape(self.note_text())}</p>'

    def to_markdown(self) -> str:
        return "" if isinstance(self.chart, Figure) else f"*{self.note_text()}*"

    def note_text(self) -> str:
        note = self.chart.note if isinstance(self.chart, NoChart) else ""
        return f"{self.caption} (not drawn): {note}"


@dataclass(frozen=True, slots=True)
class ChartRow:
    """Charts side by side where the page is wide enough, one under the other where it is not."""

    charts: Sequence[ChartBlock]

    def to_html(self) -> str:
        return '<div class="chart-row">' + "".join(chart.to_html() for chart in self.charts) + "</div>"

    def to_markdown(self) -> str:
        return "\n\n".join(text for chart in self.charts if (text := chart.to_markdown()))


@dataclass(frozen=True)
class Section:
    """A headed part of the report; ``level`` 2 for top-level parts, 3 within them."""

    section_id: str
    title: str
    blocks: Sequence[Block] = field(default_factory=list)
    level: int = 2

    def to_html(self) -> str:
        inner = "".join(block.to_html() for block in self.blocks)
        heading = f"<h{self.level}>{html.escape(self.title)}</h{self.level}>"
        return f'<section id="{self.section_id}">{heading}{inner}</section>'

    def to_markdown(self) -> str:
        parts = ["#" * self.level + " " + self.title, *(block.to_markdown() for block in self.blocks)]
        return "\n\n".join(part for part in parts if part)


def _attributes(*, element_id: str | None = None, css_class: str | None = None) -> str:
    found = [(name, value) for name, value in (("id", element_id), ("class", css_class)) if value]
    return "".join(f' {name}="{html.escape(value)}"' for name, value in found)
