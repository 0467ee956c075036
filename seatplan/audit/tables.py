"""CSV files read as text, with the line of every row.

The csv module rather than pandas here: ids must stay text exactly as written ("007"),
and every problem must name its line; column lists then feed plain counting.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path

from seatplan.audit.errors import Problems


@dataclass
class Table:
    """A CSV file's columns as lists of stripped text, and each row's line number."""

    where: str
    columns: dict[str, list[str]]
    lines: list[int]

    def __len__(self) -> int:
        return len(self.lines)

    def has(self, column: str) -> bool:
        return column in self.columns

    def column(self, name: str) -> list[str]:
        return self.columns[name]


def read_table(
    path: Path,
    problems: Problems,
    required: tuple[str, ...],
    where: str | None = None,
) -> Table | None:
    """Read `path`; None (and problems added) when it cannot be used."""
    where = where or str(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        problems.add(where, "file not found")
        return None
    except OSError as error:
        problems.add(where, f"cannot read the file ({error.strerror})")
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
    kept = [i for i, row in enumerate(rows) if "".join(row).strip()]  # blank lines are allowed
    header: list[str] | None = None
    header_line = 0
    columns: dict[str, list[str]] = {}
    lines: list[int] = []
    ok = True
    if kept:
        first = kept.pop(0)
        header, header_line = [name.strip() for name in rows[first]], row_lines[first]
        for name in dict.fromkeys(header):
            if header.count(name) > 1:
                shown = name or "(empty name)"
                problems.add(where, f"column {shown} appears twice in the header", header_line)
                ok = False
        width = len(header)
        ragged = [i for i in kept if len(rows[i]) != width]
        for i in ragged:
            problems.add(where, f"expected {width} fields, got {len(rows[i])}", row_lines[i])
            ok = False
        if ragged:
            kept = [i for i in kept if len(rows[i]) == width]
        body = [rows[i] for i in kept]
        lines = [row_lines[i] for i in kept]
        by_position = list(zip(*body, strict=True)) if body else [() for _ in header]
        for name, values in zip(header, by_position, strict=True):
            columns[name] = [value.strip() for value in values]
    if header is None:
        problems.add(where, f"empty file: expected a header row with {', '.join(required)}")
        return None
    for name in required:
        if name not in columns:
            problems.add(where, f"missing column {name}", header_line)
            ok = False
    return Table(where, columns, lines) if ok else None
