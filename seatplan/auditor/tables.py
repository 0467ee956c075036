"""Data files read as text, with the line of every row: CSV, Parquet or an Excel workbook.

The csv module rather than pandas for CSV: ids must stay text exactly as written ("007"),
and every problem must name its line; column lists then feed plain counting. Parquet and
Excel go through pandas, then every value becomes the text a planner would have typed, so
the checks downstream see the same strings whatever the format.
"""

from __future__ import annotations

import csv
import datetime
import io
import math
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from seatplan.auditor.errors import Problems

PARQUET_SUFFIXES = (".parquet", ".pq")
EXCEL_SUFFIXES = (".xlsx", ".xlsm")
# pyarrow names a repeated column only in its error; the file cannot be read otherwise.
_REPEATED_FIELD = re.compile(r"Multiple matches for FieldRef\.Name\((.*?)\)")
_REASON_LIMIT = 160
#: In every CSV file seatplan writes, a text cell that a spreadsheet would take for a formula (one
#: starting with = + - @, a tab or a carriage return) or that starts with this mark itself is
#: written with this mark before it. The auditor's own copy of the rule (it shares no code).
GUARD = "'"


@dataclass
class Table:
    """A data file's columns as lists of stripped text, and each row's line number."""

    where: str
    columns: dict[str, list[str]]
    lines: list[int]

    def __len__(self) -> int:
        return len(self.lines)

    def has(self, column: str) -> bool:
        return column in self.columns

    def column(self, name: str) -> list[str]:
        return self.columns[name]


def unguard(value: str) -> str:
    """A text cell of a CSV file seatplan wrote, as it was meant: one leading GUARD taken off.
    Only for seatplan's own outputs (assignment.csv, classrooms.csv, explanations.csv); the data
    files a district writes are read as they are."""
    return value[1:] if value.startswith(GUARD) else value


def unguard_columns(table: Table, names: tuple[str, ...]) -> None:
    """`unguard` every cell of the named columns of a CSV file seatplan wrote, in place."""
    for name in names:
        if table.has(name):
            table.columns[name] = [unguard(value) for value in table.columns[name]]


def split_sheet(written: str) -> tuple[str, str | None]:
    """`book.xlsx#Sheet 2` -> ("book.xlsx", "Sheet 2"); any other path has no sheet.

    Only after a workbook name, and at the last `#`, so a `#` inside a folder or CSV
    name stays part of the path.
    """
    file, mark, sheet = written.rpartition("#")
    if mark and file.lower().endswith(EXCEL_SUFFIXES):
        return file, sheet
    return written, None


def data_format(path: Path) -> str:
    """Which reader: "parquet", "excel", "xls" or "csv", by the file name's extension in any case."""
    suffix = path.suffix.lower()
    if suffix in PARQUET_SUFFIXES:
        return "parquet"
    if suffix in EXCEL_SUFFIXES:
        return "excel"
    return "xls" if suffix == ".xls" else "csv"


def cell_text(value: object) -> str:
    """A typed value as the text a planner would have written in a CSV file.

    Whole numbers lose their ".0" (Excel stores every number as a float, and an id
    typed as 7 must match "7" elsewhere); other floats keep their shortest round-trip form.
    """
    if isinstance(value, np.datetime64):
        value = pd.Timestamp(value)
    elif isinstance(value, np.generic):
        value = value.item()
    if value is None or value is pd.NA or value is pd.NaT:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return _float_text(value)
    if isinstance(value, datetime.date):  # datetimes and pandas Timestamps too
        return value.isoformat()
    if isinstance(value, str):
        return value
    return str(value)


def _float_text(value: float) -> str:
    if math.isnan(value):
        return ""
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    return str(int(value)) if value.is_integer() else repr(value)


def read_data_table(
    path: Path,
    problems: Problems,
    required: tuple[str, ...],
    where: str | None = None,
    sheet: str | None = None,
) -> Table | None:
    """A data file in the format its extension names; None (and problems added) when unusable.

    `sheet` picks a workbook's sheet (the first when None); other formats ignore it.
    """
    where = where or str(path)
    kind = data_format(path)
    if kind == "xls":
        problems.add(where, "expected an .xlsx workbook, got an .xls file (save it as Excel Workbook .xlsx)")
        return None
    if kind == "excel":
        return _read_excel(path, problems, required, where, sheet)
    if kind == "parquet":
        return _read_parquet(path, problems, required, where)
    return read_table(path, problems, required, where)


def read_table(
    path: Path,
    problems: Problems,
    required: tuple[str, ...],
    where: str | None = None,
) -> Table | None:
    """Read the CSV file `path`; None (and problems added) when it cannot be used."""
    where = where or str(path)
    parsed = _csv_rows(path, problems, where)
    if parsed is None:
        return None
    rows, row_lines = parsed
    kept = [i for i, row in enumerate(rows) if "".join(row).strip()]  # blank lines are allowed
    if not kept:
        problems.add(where, f"empty file: expected a header row with {', '.join(required)}")
        return None
    first = kept.pop(0)
    body = [rows[i] for i in kept]
    return _table(where, rows[first], row_lines[first], body, [row_lines[i] for i in kept], required, problems)


def _csv_rows(path: Path, problems: Problems, where: str) -> tuple[list[list[str]], list[int]] | None:
    """Every record of the file as written, with the line it starts on."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        problems.add(where, "file not found")
        return None
    except OSError as error:
        problems.add(where, f"cannot read the file ({error.strerror})")
        return None
    too_long = _line_too_long(raw)
    if too_long is not None:
        problems.add(where, f"expected lines of at most {MAX_LINE_BYTES:,} bytes, got a longer one", too_long)
        return None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        problems.add(
            where,
            f"expected UTF-8 text, found byte 0x{raw[error.start]:02x} at offset {error.start}",
        )
        return None
    # newline="" leaves \r\n and quoted line breaks to the csv module, as its docs ask.
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    rows: list[list[str]] = []
    row_lines: list[int] = []
    try:
        # Only collect here: per-row Python work is what makes a million-row file slow.
        if '"' not in text:
            # Without quotes every record is one physical line (a blank one reads as []).
            rows = list(reader)
            row_lines = list(range(1, len(rows) + 1))
        else:
            for row in reader:
                rows.append(row)
                row_lines.append(reader.line_num)
    except csv.Error as error:
        problems.add(where, f"malformed CSV: {error}", reader.line_num)
        return None
    return rows, row_lines


#: The longest line read: the csv module holds the text several times over (a line of 1.6 GB took
#: more than 9 GB), and no row of ids and numbers comes near.
MAX_LINE_BYTES = 1 << 20
_BLOCK = 1 << 24


def _line_too_long(raw: bytes) -> int | None:
    """The line number of the first line longer than MAX_LINE_BYTES (between "\n" or "\r"), or None,
    looked for a block of the file at a time."""
    run = 0  # length of the line still open at the end of the blocks so far
    for start in range(0, len(raw), _BLOCK):
        block = np.frombuffer(raw, np.uint8, count=min(_BLOCK, len(raw) - start), offset=start)
        ends = np.flatnonzero((block == 10) | (block == 13))
        lengths = np.diff(ends, prepend=-1) - 1
        if len(ends):
            lengths[0] += run
        over = np.flatnonzero(lengths > MAX_LINE_BYTES)
        if len(over):
            return 1 + raw.count(b"\n", 0, start + int(ends[over[0]]))
        run = run + len(block) if not len(ends) else len(block) - 1 - int(ends[-1])
        if run > MAX_LINE_BYTES:
            return 1 + raw.count(b"\n", 0, start + len(block))
    return None


def _table(
    where: str,
    header_row: list[str],
    header_line: int,
    body: list[list[str]],
    lines: list[int],
    required: tuple[str, ...],
    problems: Problems,
) -> Table | None:
    """The checks every format shares: a unique header, full rows, the required columns."""
    header = [name.strip() for name in header_row]
    ok = True
    for name in dict.fromkeys(header):
        if header.count(name) > 1:
            shown = name or "(empty name)"
            problems.add(where, f"column {shown} appears twice in the header", header_line)
            ok = False
    width = len(header)
    ragged = [i for i, row in enumerate(body) if len(row) != width]
    for i in ragged:
        problems.add(where, f"expected {width} fields, got {len(body[i])}", lines[i])
        ok = False
    if ragged:
        keep = [i for i, row in enumerate(body) if len(row) == width]
        body, lines = [body[i] for i in keep], [lines[i] for i in keep]
    by_position = list(zip(*body, strict=True)) if body else [() for _ in header]
    columns = {name: [value.strip() for value in values] for name, values in zip(header, by_position, strict=True)}
    for name in required:
        if name not in columns:
            problems.add(where, f"missing column {name}", header_line)
            ok = False
    return Table(where, columns, lines) if ok else None


def _reason(error: Exception) -> str:
    """The first line of a library's error, short enough for a one-line problem."""
    text = str(error).strip().strip("\"'")
    first = text.splitlines()[0].split(". ")[0] if text else type(error).__name__
    return first if len(first) <= _REASON_LIMIT else first[: _REASON_LIMIT - 1] + "…"


def _read_excel(
    path: Path, problems: Problems, required: tuple[str, ...], where: str, sheet: str | None
) -> Table | None:
    """One sheet; row numbers are the sheet's own, so a planner finds the cell."""
    try:
        with pd.ExcelFile(path, engine="openpyxl") as book:
            names = [str(name) for name in book.sheet_names]
            name = sheet if sheet is not None else (names[0] if names else "")
            if name not in names:
                problems.add(where, f"expected a sheet named '{name}' in {path.name}, got only: {', '.join(names)}")
                return None
            # na_filter off: "NA" or "None" typed in a cell is text, as in a CSV file.
            frame = pd.read_excel(book, sheet_name=name, header=None, dtype=object, na_filter=False)
    except Exception as error:  # zipfile, openpyxl and XML errors alike: a file we cannot read
        problems.add(where, f"expected an Excel workbook (.xlsx), could not read it: {_reason(error)}")
        return None
    where = f"{where}#{name}"
    # pandas keeps leading and inner blank rows (it only drops trailing ones): index i is row i + 1.
    grid = _drop_blank_columns([[cell_text(value) for value in row] for row in frame.to_numpy().tolist()])
    if not grid:
        problems.add(where, f"empty sheet: expected a header row with {', '.join(required)} in row 1")
        return None
    if not "".join(grid[0]).strip():
        problems.add(where, "expected a header row in row 1")
        return None
    kept = [i for i in range(1, len(grid)) if "".join(grid[i]).strip()]
    return _table(where, grid[0], 1, [grid[i] for i in kept], [i + 1 for i in kept], required, problems)


def _drop_blank_columns(grid: list[list[str]]) -> list[list[str]]:
    """Columns with no header and no value: a stray space or format far right, not data.

    A CSV file has no such invisible column, so keeping them would only invent
    "(empty name) appears twice" problems.
    """
    if not grid:
        return grid
    used = [j for j in range(len(grid[0])) if any(row[j].strip() for row in grid)]
    if len(used) == len(grid[0]):
        return grid
    return [[row[j] for j in used] for row in grid]


def _read_parquet(path: Path, problems: Problems, required: tuple[str, ...], where: str) -> Table | None:
    """Data row i (from 0) is line i + 2, as if the header were line 1 of a CSV file."""
    try:
        frame = pd.read_parquet(path)
        if any(name is not None for name in frame.index.names):
            # A named index (a frame saved after set_index) is a column of the file like any other;
            # an unnamed one is pandas' row numbering and no data.
            frame = frame.reset_index()
        header = [cell_text(name) for name in frame.columns]
        columns = [[cell_text(value) for value in frame.iloc[:, j].tolist()] for j in range(frame.shape[1])]
    except Exception as error:  # pyarrow and OS errors alike: a file we cannot read
        repeated = _REPEATED_FIELD.search(str(error))
        if repeated:
            problems.add(where, f"column {repeated[1].strip() or '(empty name)'} appears twice in the header", 1)
        else:
            problems.add(where, f"expected a Parquet file, could not read it: {_reason(error)}")
        return None
    rows = [list(row) for row in zip(*columns, strict=True)] if columns else [[] for _ in range(len(frame))]
    kept = [i for i, row in enumerate(rows) if "".join(row).strip()]
    return _table(where, header, 1, [rows[i] for i in kept], [i + 2 for i in kept], required, problems)
