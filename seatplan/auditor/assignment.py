"""The assignment file: one row per student, written by `seatplan solve` or any other system."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from seatplan.auditor.errors import Problems
from seatplan.auditor.tables import read_table, unguard_columns

COLUMNS = ("student_id", "school_id", "position", "compact_id")
#: The columns seatplan guards against spreadsheet formulas; position is a number, never guarded.
ID_COLUMNS = ("student_id", "school_id", "compact_id")


@dataclass(frozen=True)
class Row:
    line: int
    student: str
    school: str  # empty when unplaced
    position: str
    compact_id: str


def read_assignment(path: Path, problems: Problems) -> list[Row] | None:
    """Every row, in file order; ids are judged by the rules, not here. An id seatplan guarded
    against spreadsheet formulas (a leading ') is read as it was meant."""
    table = read_table(path, problems, COLUMNS)
    if table is None:
        return None
    unguard_columns(table, ID_COLUMNS)
    return [
        Row(line, student, school, position, compact_id)
        for line, student, school, position, compact_id in zip(
            table.lines, *(table.column(name) for name in COLUMNS), strict=True
        )
    ]
