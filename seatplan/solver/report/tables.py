"""The report's tables, and small-cell suppression applied to every one of them the same way.

A table knows what each column holds: text, a count of students (suppressed when it is 1 to N−1),
a plain number (seats, points: never suppressed), or a percentage computed from count columns of
the same row (hidden when any of them is suppressed). The HTML, the workbook and the charts all read
the suppressed ("public") values, so a small group is hidden everywhere at once.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, TypeGuard

import pandas as pd

Kind = Literal["text", "count", "number", "pct", "points", "flag"]


@dataclass(frozen=True)
class Column:
    """One column: its header, what it holds, and the count columns its value is computed from (a
    value computed from a suppressed count is hidden, whatever its kind)."""

    name: str
    kind: Kind = "number"
    of: tuple[str, ...] = ()
    decimals: int = 1
    #: Header of a group of columns (a run's label, when runs are side by side).
    group: str = ""

    @property
    def key(self) -> str:
        return f"{self.group} · {self.name}" if self.group else self.name


@dataclass(frozen=True)
class Table:
    """A table of the report: columns, rows of raw values keyed by column key, and a note."""

    key: str
    title: str
    columns: tuple[Column, ...]
    rows: tuple[dict[str, Any], ...]
    note: str = ""
    sortable: bool = True


@dataclass(frozen=True)
class Cell:
    """A value as shown: its text, the number behind it (None when hidden or text) and why."""

    text: str
    number: float | None
    state: Literal["shown", "suppressed", "hidden", "text"] = "shown"


@dataclass(frozen=True)
class Suppression:
    """Counts of 1 to `below` − 1 students are shown as "<below"; 0 and `below` or more are shown.

    A zero names nobody, so it is shown; `below` of 0 or 1 switches suppression off."""

    below: int = 10

    def hides(self, value: Any) -> bool:
        return self.below > 1 and _is_number(value) and 0 < float(value) < self.below

    def cells(self, table: Table) -> list[list[Cell]]:
        """Every cell of the table as the public sees it."""
        return [[self.cell(column, row, table.columns) for column in table.columns] for row in table.rows]

    def cell(self, column: Column, row: dict[str, Any], columns: Sequence[Column]) -> Cell:
        value = row.get(column.key)
        if column.kind == "text":
            return Cell("" if value is None else str(value), None, "text")
        if column.kind == "flag":
            return Cell("yes" if value else "", None, "text")
        if not _is_number(value):
            return Cell("—", None, "hidden")
        number = float(value)
        if column.kind == "count":
            if self.hides(number):
                return Cell(f"<{self.below}", None, "suppressed")
            return Cell(f"{int(number):,}", number, "shown")
        sources = [other for other in columns if other.name in column.of and other.group in (column.group, "")]
        if any(self.hides(row.get(source.key)) for source in sources):
            return Cell("—", None, "hidden")  # computed from a suppressed count: it would reveal it
        if column.kind == "pct":
            return Cell(f"{number:.{column.decimals}f}%", number, "shown")
        if column.kind == "points":
            return Cell(f"{number:+.{column.decimals}f}", number, "shown")
        text = f"{int(number):,}" if number.is_integer() else f"{number:,.{column.decimals}f}"
        return Cell(text, number, "shown")

    def frame(self, table: Table) -> pd.DataFrame:
        """The public numbers (NaN where hidden or suppressed; text columns as text), by column key."""
        cells = self.cells(table)
        data = {
            column.key: [row[i].text if column.kind in ("text", "flag") else row[i].number for row in cells]
            for i, column in enumerate(table.columns)
        }
        return pd.DataFrame(data, columns=[column.key for column in table.columns])

    @property
    def note(self) -> str:
        if self.below <= 1:
            return "Small groups are not suppressed in this report (--suppress 0): do not publish it as it is."
        return (
            f"To protect students' privacy, any count of 1 to {self.below - 1} students is shown as "
            f"\u201c<{self.below}\u201d and a percentage computed from such a count is hidden (\u201c—\u201d), here "
            f"and in the charts; a zero names nobody and is shown. Complementary suppression (hiding a second "
            f"cell so that a hidden one cannot be worked out from totals) is not applied."
        )


def _is_number(value: Any) -> TypeGuard[float]:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def pct(part: float, whole: float) -> float | None:
    """100 × part / whole, or None when there is no whole."""
    return 100.0 * part / whole if whole else None


@dataclass
class TableBuilder:
    """Rows added one by one against a fixed list of columns (keys checked)."""

    key: str
    title: str
    columns: list[Column] = field(default_factory=list)
    rows: list[dict[str, Any]] = field(default_factory=list)
    note: str = ""

    def row(self, values: dict[str, Any]) -> None:
        unknown = set(values) - {column.key for column in self.columns}
        if unknown:
            raise KeyError(f"table {self.key}: no column {sorted(unknown)}")
        self.rows.append(values)

    def build(self) -> Table:
        return Table(self.key, self.title, tuple(self.columns), tuple(self.rows), self.note)
