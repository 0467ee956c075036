"""The report written out: one self-contained HTML page (templates, styles, scripts and plotly.js
inline; nothing fetched at view time), and the same tables as an Excel workbook."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd
import plotly
from markupsafe import Markup

from seatplan.models.tables import FORMULA_STARTS
from seatplan.solver.metrics import VERSION
from seatplan.solver.report.sections import Section, Summary
from seatplan.solver.report.tables import Suppression, Table

if TYPE_CHECKING:
    import jinja2


@dataclass(frozen=True)
class HeaderView:
    name: str
    kind: str


@dataclass(frozen=True)
class CellView:
    text: str
    sort: float | None
    css: str


@dataclass(frozen=True)
class TableView:
    key: str
    title: str
    groups: list[tuple[str, int]]
    headers: list[HeaderView]
    rows: list[list[CellView]]
    note: str
    sortable: bool


def table_view(table: Table, suppression: Suppression) -> TableView:
    """A table as the page shows it: a row of run labels over its columns, suppressed cells."""
    groups: list[tuple[str, int]] = []
    for column in table.columns:
        if groups and groups[-1][0] == column.group:
            groups[-1] = (column.group, groups[-1][1] + 1)
        else:
            groups.append((column.group, 1))
    rows = []
    for cells in suppression.cells(table):
        row = []
        for column, cell in zip(table.columns, cells, strict=True):
            css = "text" if column.kind in ("text", "flag") else f"number {cell.state}"
            if column.kind == "flag" and cell.text and column.name == "outside":
                css += " flagged"
            row.append(CellView(cell.text, cell.number, css))
        rows.append(row)
    return TableView(
        key=table.key,
        title=table.title,
        groups=groups if any(group for group, _ in groups) else [],
        headers=[
            HeaderView(column.name, "text" if column.kind in ("text", "flag") else "number") for column in table.columns
        ],
        rows=rows,
        note=table.note,
        sortable=table.sortable,
    )


def _environment() -> jinja2.Environment:
    # Imported here: a solve writes no page, and need not import the template engine.
    from jinja2 import Environment, PackageLoader, select_autoescape

    return Environment(
        loader=PackageLoader("seatplan.solver.report", "templates"),
        autoescape=select_autoescape(["html", "j2"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )


def _inline(text: str) -> Markup:
    """Text placed inside <script> or <style>: safe as long as it cannot close its element."""
    return Markup(re.sub(r"</(script|style)", r"<\\/\1", text, flags=re.IGNORECASE))


def _assets(sections: list[Section], suppression: Suppression) -> dict[str, Any]:
    """What every page inlines: the tables as shown, the charts' figures, styles, scripts, plotly.js."""
    assets = Path(__file__).parent / "templates"
    figures = {chart.key: json.loads(chart.figure.to_json()) for section in sections for chart in section.charts}
    return {
        "views": {table.key: table_view(table, suppression) for section in sections for table in section.tables},
        "css": _inline((assets / "report.css").read_text(encoding="utf-8")),
        "report_js": _inline((assets / "report.js").read_text(encoding="utf-8")),
        "plotly_js": _inline(plotly.offline.get_plotlyjs()),
        "figures_json": _inline(json.dumps(figures, separators=(",", ":"))),
    }


def html(
    title: str,
    subtitle: str,
    sections: list[Section],
    summaries: list[Summary],
    suppression: Suppression,
    warnings: list[str],
    configs: list[tuple[str, str]],
    folders: str,
    version: str,
) -> str:
    """The page, whole."""
    return (
        _environment()
        .get_template("report.html.j2")
        .render(
            title=title,
            subtitle=subtitle,
            sections=sections,
            summaries=summaries,
            privacy=suppression.note,
            warnings=warnings,
            configs=configs,
            folders=folders,
            version=version,
            **_assets(sections, suppression),
        )
    )


def page(title: str, subtitle: str, sections: list[Section], suppression: Suppression, footer: str) -> str:
    """A page of sections alone (no run's headline cards): a sweep's report."""
    return (
        _environment()
        .get_template("page.html.j2")
        .render(
            title=title,
            subtitle=subtitle,
            sections=sections,
            footer=footer,
            version=VERSION,
            **_assets(sections, suppression),
        )
    )


def workbook(path: Path, tables: list[Table], suppression: Suppression) -> None:
    """One sheet per table; numbers as numbers, a suppressed count as the text "<N", a hidden value
    empty. The first row of a sheet is its title, the second the note on suppression."""
    with pd.ExcelWriter(path, engine="openpyxl") as writer:
        used: set[str] = set()
        for table in tables:
            frame = _sheet_frame(table, suppression)
            name = _sheet_name(table.title, used)
            frame.to_excel(writer, sheet_name=name, index=False, startrow=2)
            sheet = writer.sheets[name]
            sheet.cell(row=1, column=1, value=table.title)
            sheet.cell(row=2, column=1, value=table.note or suppression.note)
            _text_as_text(sheet)


def _text_as_text(sheet: Any) -> None:
    """Every text cell stored as text, never as a formula: openpyxl takes a string starting with
    "=" for one (an id "=1+1" would be evaluated). A cell that starts like a formula is also marked
    as typed with a leading ' (quotePrefix), so that editing it in Excel keeps it text."""
    for row in sheet.iter_rows():
        for cell in row:
            if isinstance(cell.value, str) and cell.value.startswith(FORMULA_STARTS):
                cell.data_type = "s"
                cell.quotePrefix = True


def _sheet_frame(table: Table, suppression: Suppression) -> pd.DataFrame:
    data: dict[str, list[Any]] = {}
    for i, column in enumerate(table.columns):
        values: list[Any] = []
        for cells in suppression.cells(table):
            cell = cells[i]
            if cell.state == "text" or cell.state == "suppressed":
                values.append(cell.text)
            elif cell.number is None:
                values.append(None)
            else:
                values.append(int(cell.number) if column.kind == "count" else round(cell.number, column.decimals + 1))
        data[column.key] = values
    return pd.DataFrame(data, columns=[column.key for column in table.columns])


def _sheet_name(title: str, used: set[str]) -> str:
    """A valid, unique sheet name (at most 31 characters, none of []:*?/\\)."""
    base = re.sub(r"[\[\]:*?/\\]", " ", title)[:31].strip() or "table"
    name, number = base, 2
    while name.lower() in used:
        suffix = f" ({number})"
        name, number = base[: 31 - len(suffix)] + suffix, number + 1
    used.add(name.lower())
    return name
