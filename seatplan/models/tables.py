"""Reading one data file — CSV, Parquet or an Excel sheet — as text, with the line of every row,
and vectorised checks that report the offending rows as `file:line: message`.

Every value is read as a stripped string (ids are strings: "007" stays "007"); numbers are parsed
by the checks below so that a bad value is reported with its line instead of silently becoming NaN.
Parquet and Excel cells are turned into the text a planner would have typed (`text_of`), so that
the three formats go through the very same checks. A Parquet row's line is counted as in a CSV
file (header line 1, first row line 2); an Excel row's is the sheet's own row number, and the
file is named `file.xlsx#Sheet`.
"""

from __future__ import annotations

import csv
import datetime
import io
import math
import re
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from seatplan.models.config import EXCEL_SUFFIXES
from seatplan.models.errors import Problem

#: At most this many rows are listed for one kind of problem in one file; the rest are counted.
MAX_ROWS_PER_PROBLEM = 20

INTEGER = re.compile(r"^[+-]?\d+$")
NON_NEGATIVE_INTEGER = re.compile(r"^\+?\d+$")
TRUE_WORDS = frozenset({"true", "t", "yes", "y", "1"})
FALSE_WORDS = frozenset({"false", "f", "no", "n", "0"})


#: The first characters a spreadsheet takes for the start of a formula (OWASP's list for CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
#: Written before a text cell that starts like a formula, or with the guard itself (so that the rule
#: is undone exactly), in every CSV seatplan writes: a spreadsheet shows the cell as text, and
#: seatplan's readers of its own files take it off.
GUARD = "'"
_GUARDED = (*FORMULA_STARTS, GUARD)


def guard_text(value: str) -> str:
    """A text cell as a CSV seatplan writes holds it: with GUARD before a formula's first character."""
    return GUARD + value if value.startswith(_GUARDED) else value


def unguard_text(value: str) -> str:
    """A text cell of a CSV seatplan wrote, as it was before guard_text: one leading GUARD taken off."""
    return value[1:] if value.startswith(GUARD) else value


def guarded(frame: pd.DataFrame, columns: Iterable[str] | None = None) -> pd.DataFrame:
    """`frame` to be written as CSV: each text cell guarded (in `columns`, or in every column).
    Numbers stay numbers and are never guarded: a position, a count, a weight of -3."""
    chosen = list(frame.columns) if columns is None else [c for c in columns if c in frame.columns]
    out = frame.copy()
    for column in chosen:
        out[column] = _guard_series(out[column])
    return out


def unguarded(frame: pd.DataFrame, columns: Iterable[str] | None = None) -> pd.DataFrame:
    """A CSV seatplan wrote, read back: each text cell's guard taken off (in `columns`, or all)."""
    chosen = list(frame.columns) if columns is None else [c for c in columns if c in frame.columns]
    out = frame.copy()
    for column in chosen:
        out[column] = unguard_series(out[column])
    return out


def unguard_series(series: pd.Series) -> pd.Series:
    """unguard_text over a column (its cells that are text)."""
    marked = _starts_with(series, GUARD)
    if not marked.any():
        return series
    out = series.astype(object)
    out[marked] = out[marked].str.slice(1)
    return out


def _guard_series(series: pd.Series) -> pd.Series:
    risky = _starts_with(series, _GUARDED)
    if not risky.any():
        return series
    out = series.astype(object)
    out[risky] = GUARD + out[risky]
    return out


def _starts_with(series: pd.Series, starts: str | tuple[str, ...]) -> np.ndarray:
    """Where a cell is text starting with one of `starts` (never a number, never missing)."""
    if not (series.dtype == object or pd.api.types.is_string_dtype(series.dtype)) or series.empty:
        return np.zeros(len(series), dtype=bool)
    firsts = (starts,) if isinstance(starts, str) else starts
    if all(len(first) == 1 for first in firsts) and pd.api.types.infer_dtype(series, skipna=True) == "string":
        # Every cell is text (or missing) and every start one character: compare first characters in
        # Arrow (a city's ids are half a million strings; pandas' startswith loops in Python).
        missing = series.isna().to_numpy(dtype=bool)
        cells = np.where(missing, "", series.to_numpy(dtype=object))
        hits = np.asarray(_first_in(pa.array(cells, type=pa.large_string()), firsts), dtype=bool)
        return hits & ~missing
    try:
        found = series.str.startswith(starts)
    except AttributeError:  # an object column without any text
        return np.zeros(len(series), dtype=bool)
    return found.to_numpy(dtype=bool, na_value=False)


def _first_in(column: pa.Array, firsts: tuple[str, ...]) -> pa.Array:
    """Whether each text of an Arrow column starts with one of the characters `firsts`."""
    first = pc.utf8_slice_codeunits(column, 0, 1)
    return pc.is_in(first, value_set=pa.array(list(firsts), type=column.type))


def guard_arrow(column: pa.Array) -> pa.Array:
    """guard_text over an Arrow column of text without missing values (a run's ids, written by
    Arrow's CSV writer)."""
    risky = _first_in(column, _GUARDED)
    if not pc.any(risky).as_py():
        return column
    guarded = pc.binary_join_element_wise(pa.scalar(GUARD, column.type), column, pa.scalar("", column.type))
    return pc.if_else(risky, guarded, column)


class Table:
    """A data file read as text. `frame` has one column per header field and a `_line` column."""

    def __init__(self, path: Path, display: str, frame: pd.DataFrame) -> None:
        self.path = path
        self.file = display
        self.frame = frame
        self._codes: dict[str, tuple[np.ndarray, np.ndarray]] = {}

    @property
    def columns(self) -> list[str]:
        return [c for c in self.frame.columns if c != "_line"]

    def has(self, column: str) -> bool:
        return column in self.frame.columns

    def lines(self) -> np.ndarray:
        return self.frame["_line"].to_numpy()

    def __len__(self) -> int:
        return len(self.frame)

    def codes(self, column: str) -> tuple[np.ndarray, np.ndarray]:
        """The column as (a code per row, the distinct values): equal values share a code.

        Ids repeat (a student on every line of its list), so lookups and duplicate checks work on
        the few distinct values and on integer codes, not on a million strings."""
        if column not in self._codes:
            codes, uniques = pd.factorize(self.frame[column])
            self._codes[column] = (np.asarray(codes, dtype=np.int64), np.asarray(uniques, dtype=object))
        return self._codes[column]


#: File name endings read as Parquet; as Excel, EXCEL_SUFFIXES; anything else is read as CSV.
PARQUET_SUFFIXES = (".parquet", ".pq")
_PANDAS_INDEX = re.compile(r"__index_level_\d+__")


def read_table(path: Path, display: str, problems: list[Problem], sheet: str | None = None) -> Table | None:
    """Read a data file by its extension (CSV, Parquet, Excel); on failure record one problem (with
    the line where it can be known) and return None."""
    kind = file_kind(path)
    try:
        exists = path.exists()
    except OSError as error:  # a name too long for the file system, a loop of links
        problems.append(
            Problem(display, None, f"expected {kind} file, got a path that cannot be read ({error.strerror})")
        )
        return None
    if not exists:
        problems.append(Problem(display, None, f"expected {kind} file, got no file at this path"))
        return None
    if path.is_dir():
        problems.append(Problem(display, None, f"expected {kind} file, got a folder"))
        return None
    if path.is_char_device() or path.is_block_device() or path.is_socket():
        # /dev/zero would be read for ever; a pipe is read (a planner's `<(zcat students.csv.gz)`).
        problems.append(Problem(display, None, f"expected {kind} file, got a device"))
        return None
    suffix = path.suffix.lower()
    if suffix == ".xls":
        problems.append(
            Problem(display, None, "expected an .xlsx workbook, got an .xls file (save it as Excel Workbook .xlsx)")
        )
        return None
    if suffix in PARQUET_SUFFIXES:
        return _read_parquet(path, display, problems)
    if suffix in EXCEL_SUFFIXES:
        return _read_excel(path, display, sheet, problems)
    return _read_csv(path, display, problems)


def file_kind(path: Path) -> str:
    """What a data file is read as, by its name: "a CSV", "a Parquet" or "an Excel" (file)."""
    suffix = path.suffix.lower()
    return "a Parquet" if suffix in PARQUET_SUFFIXES else "an Excel" if suffix in EXCEL_SUFFIXES else "a CSV"


def text_of(value: Any) -> str:
    """A cell as the text a planner would have typed: empty for a missing value, true/false, an
    integer's digits (also for a whole-number float: 25.0 is "25"), the shortest text of any other
    number, a date in ISO form."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return ""
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, datetime.date | datetime.time):
        return value.isoformat()
    return str(value)


def _from_rows(
    path: Path,
    display: str,
    header: Sequence[Any],
    rows: Iterable[Sequence[Any]],
    first_line: int,
    problems: list[Problem],
) -> Table | None:
    """A table from a header and rows of cells (Excel): text of every cell, numbered from `first_line`.
    A column without a header is left out, as a note beside the table would be."""
    names = [text_of(name).strip() for name in header]
    named = [i for i, name in enumerate(names) if name]
    if not named:
        problems.append(Problem(display, first_line - 1, "expected a header row, got an empty row"))
        return None
    if not _unique_header([names[i] for i in named], display, problems, first_line - 1):
        return None
    columns: list[list[str]] = [[] for _ in named]
    lines: list[int] = []
    for line, row in enumerate(rows, start=first_line):
        for column, i in zip(columns, named, strict=True):
            column.append(text_of(row[i]) if i < len(row) else "")
        lines.append(line)
    frame = pd.DataFrame({names[i]: pd.Series(values, dtype=object) for i, values in zip(named, columns, strict=True)})
    return _finish(path, display, frame, 1, np.asarray(lines, dtype=np.int64))


def _unique_header(names: list[str], display: str, problems: list[Problem], line: int = 1) -> bool:
    seen: set[str] = set()
    ok = True
    for name in names:
        if name in seen and name:
            problems.append(Problem(display, line, f"expected each column once, got '{name}' twice"))
            ok = False
        seen.add(name)
    return ok


def _read_excel(path: Path, display: str, sheet: str | None, problems: list[Problem]) -> Table | None:
    """One sheet of a workbook (the first unless named); the header is its row 1."""
    import openpyxl

    try:
        workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as error:  # noqa: BLE001 - whatever openpyxl refuses, the file is not a workbook
        problems.append(
            Problem(display, None, f"expected an Excel workbook (.xlsx), got a file that is not one ({_reason(error)})")
        )
        return None
    try:
        names = list(workbook.sheetnames)
        if sheet is not None and sheet not in names:
            problems.append(
                Problem(f"{display}#{sheet}", None, f"expected a sheet named '{sheet}', got only: {', '.join(names)}")
            )
            return None
        worksheet = workbook[sheet if sheet is not None else names[0]]
        where = f"{display}#{worksheet.title}"
        # A read-only workbook is parsed while its rows are read: a damaged sheet fails here.
        rows = list(worksheet.iter_rows(values_only=True))
    except Exception as error:  # noqa: BLE001 - a sheet openpyxl cannot parse is a damaged workbook
        problems.append(
            Problem(display, None, f"expected a readable Excel workbook, got a damaged one ({_reason(error)})")
        )
        return None
    finally:
        workbook.close()
    if not rows:
        problems.append(Problem(where, 1, "expected a header row, got an empty sheet"))
        return None
    return _from_rows(path, where, rows[0], rows[1:], 2, problems)


def _reason(error: BaseException) -> str:
    """The first line of an error's words, or its kind when it has none."""
    text = str(error).strip()
    return text.splitlines()[0][:160] if text else type(error).__name__


def _read_parquet(path: Path, display: str, problems: list[Problem]) -> Table | None:
    """A Parquet file, each column turned into text; row i is line i + 2, as in a CSV file."""
    import pyarrow.parquet as pq

    try:
        # The schema first: a column named twice is said as in a CSV file (pyarrow refuses to read it).
        if not _unique_header([str(name).strip() for name in pq.read_schema(path).names], display, problems):
            return None
        data = pq.read_table(path)
    except Exception as error:  # noqa: BLE001 - whatever pyarrow refuses, the file is not readable Parquet
        problems.append(
            Problem(display, None, f"expected a Parquet file, got one that cannot be read ({_reason(error)})")
        )
        return None
    # pandas writes an unnamed index as `__index_level_0__`: its row numbering, not data.
    kept = [i for i, name in enumerate(data.column_names) if not _PANDAS_INDEX.fullmatch(str(name))]
    names = [str(data.column_names[i]).strip() for i in kept]
    frame = pd.DataFrame({name: _column_text(data.column(i)) for i, name in zip(kept, names, strict=True)})
    return _finish(path, display, frame, 1)


def _column_text(column: Any) -> pd.Series:
    """A Parquet column as text, by `text_of`'s rules (vectorised for integers and strings)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if pa.types.is_dictionary(column.type):
        column = column.cast(column.type.value_type)
    kind = column.type
    if pa.types.is_string(kind) or pa.types.is_large_string(kind):
        return pd.Series(column.to_pandas(), dtype=object).fillna("")
    if pa.types.is_integer(kind):
        text = pc.cast(column, pa.string())
        return pd.Series(text.to_pandas(), dtype=object).fillna("")
    return pd.Series([text_of(value) for value in column.to_pylist()], dtype=object)


def _read_csv(path: Path, display: str, problems: list[Problem]) -> Table | None:
    """A CSV file, decoded and parsed here so that every error is located on its line."""
    try:
        if path.stat().st_size >= LARGE_FILE_BYTES and _repeats_one_row(path, display, problems):
            return None
        raw = path.read_bytes()
    except OSError as error:
        problems.append(Problem(display, None, f"cannot read file: {error.strerror or error}"))
        return None
    if not _is_utf8(raw, display, problems):
        return None
    if _is_blank(raw):
        problems.append(Problem(display, 1, "expected a header row, got an empty file"))
        return None
    try:
        header = next(csv.reader(_lines(raw)), [])
    except csv.Error as error:  # a header field past the csv module's size limit, a stray NUL
        problems.append(
            Problem(display, 1, f"malformed CSV: expected a header row, got one that cannot be read ({error})")
        )
        return None
    if not _unique_header([name.strip() for name in header], display, problems):
        return None
    plain = _read_plain(raw, header) if len(raw) >= PLAIN_FAST_PATH_BYTES and _is_plain(raw) else None
    if plain is not None:
        return _finish(path, display, plain, header_lines=1, strip=_may_need_strip(raw))
    if len(raw) >= LARGE_FILE_BYTES:
        overlong = _overlong_line(raw)
        if overlong is not None:
            number, length = overlong
            problems.append(
                Problem(
                    display,
                    number,
                    f"expected a line of at most {MAX_LINE_BYTES:,} bytes (a row of ids and numbers), got one of "
                    f"{length:,} bytes; the file is not read further",
                )
            )
            return None
    return _read_careful(path, display, raw.decode("utf-8-sig"), header, problems)


def _is_utf8(raw: bytes, display: str, problems: list[Problem]) -> bool:
    """Whether the file is UTF-8 text; a bad byte is reported on its line. Decoded here, not by pandas,
    so that the byte is located exactly (pandas decodes in chunks); ASCII, the usual file, needs no
    decoding to say so."""
    if raw.isascii():
        return True
    try:
        raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        bad = raw[error.start : error.start + 1].hex()
        line = raw[: error.start].count(b"\n") + 1
        problems.append(Problem(display, line, f"expected UTF-8 text, got the byte 0x{bad} (save the file as UTF-8)"))
        return False
    return True


_BOM = b"\xef\xbb\xbf"
#: The ASCII characters str.isspace() takes for white space.
_LEADING_SPACE = re.compile(rb"[\t\n\x0b\x0c\r\x1c-\x1f ]*")


def _is_blank(raw: bytes) -> bool:
    """Whether the text (UTF-8, its BOM taken off) is empty or only white space, found from its first
    characters (the text itself is decoded only when they are not ASCII)."""
    start = len(_BOM) if raw.startswith(_BOM) else 0
    spaces = _LEADING_SPACE.match(raw, start)
    end = spaces.end() if spaces else start
    if end == len(raw):
        return True
    return raw[end] >= 0x80 and raw.decode("utf-8-sig").isspace()


_LINE_END = re.compile(rb"\r\n|\r|\n")


def _lines(raw: bytes) -> Iterator[str]:
    """The lines of the file's text with their endings, as io.StringIO(text, newline="") gives them,
    decoded one at a time (line ends are never inside a UTF-8 character): reading a header does not
    decode a file of a million rows."""
    start = len(_BOM) if raw.startswith(_BOM) else 0
    for end in _LINE_END.finditer(raw, start):
        yield raw[start : end.end()].decode("utf-8")
        start = end.end()
    if start < len(raw):
        yield raw[start:].decode("utf-8")


def _read_careful(path: Path, display: str, text: str, header: list[str], problems: list[Problem]) -> Table | None:
    """The careful reader (pandas' C parser): quoted fields, line breaks inside them, and the words
    for every malformed row, on its line."""
    try:
        frame = pd.read_csv(
            io.StringIO(text, newline=""),
            dtype=str,
            keep_default_na=False,
            na_filter=False,
            skip_blank_lines=False,
        )
    except (pd.errors.ParserError, csv.Error) as error:
        where, message = _locate_malformed_row(text, len(header), str(error))
        if where is None:
            detail = str(error).split("C error: ")[-1].strip().rstrip(".")
            message = f"malformed CSV: {detail}"
        problems.append(Problem(display, where, message))
        return None
    except pd.errors.EmptyDataError:
        problems.append(Problem(display, 1, "expected a header row, got an empty file"))
        return None
    if not isinstance(frame.index, pd.RangeIndex):
        # pandas takes a first data row with one field more than the header as "the first column is
        # the index" instead of refusing it: refused here, on its line.
        where, message = _locate_malformed_row(text, len(header), "")
        problems.append(Problem(display, where, message or "malformed CSV: expected as many fields as the header"))
        return None
    frame.columns = [str(c).strip() for c in frame.columns]
    # Line of each row: the header is line 1, and a row starts one line after the previous row ends.
    # A quoted field may hold line breaks, so count them (before stripping).
    breaks = np.zeros(len(frame), dtype=np.int64)
    if '"' in text:
        for column in frame.columns:
            breaks += frame[column].str.count("\n").to_numpy(dtype=np.int64)
    header_lines = 1 + sum(name.count("\n") for name in header)
    starts = header_lines + 1 + np.arange(len(frame)) + np.concatenate(([0], np.cumsum(breaks)[:-1]))
    return _finish(path, display, frame, header_lines, starts)


def _finish(
    path: Path,
    display: str,
    frame: pd.DataFrame,
    header_lines: int,
    starts: np.ndarray | None = None,
    strip: bool = True,
) -> Table:
    """Strip every value (unless the caller knows there is nothing to strip), number the rows by
    line, drop blank rows."""
    if starts is None:
        starts = np.arange(header_lines + 1, header_lines + 1 + len(frame), dtype=np.int64)
    if strip:
        for column in frame.columns:
            frame[column] = frame[column].str.strip()
    # A new frame around the same columns: setting a column would copy it (a city's lines, 40 MB).
    columns = {column: frame[column] for column in frame.columns}
    frame = pd.DataFrame({**columns, "_line": starts.astype(np.int64, copy=False)}, copy=False)
    # Blank lines are kept by the reader so the numbering holds, then dropped.
    blank = _blank_rows(frame)
    if blank.any():
        frame = frame.loc[~blank].reset_index(drop=True)
    return Table(path, display, frame)


def _blank_rows(frame: pd.DataFrame) -> np.ndarray:
    """Rows whose every data column is empty (none when there are no data columns); column by
    column, stopping at the first column without an empty value (the usual file)."""
    blank = np.zeros(len(frame), dtype=bool)
    for number, column in enumerate(c for c in frame.columns if c != "_line"):
        empty = (frame[column] == "").to_numpy(dtype=bool)
        blank = empty if number == 0 else blank & empty
        if not blank.any():
            break
    return blank


#: From this size on, a CSV file's first rows are read on their own before the whole file is: one
#: that repeats a row again and again is refused from them (see _repeats_one_row).
LARGE_FILE_BYTES = 64 << 20
#: How far that first look goes: rows and bytes (bounded, whatever the file's size or line length).
HEAD_ROWS = 100_000
HEAD_BYTES = 16 << 20


#: The longest line a large file may have: the careful reader holds a line several times over.
MAX_LINE_BYTES = 1 << 20


def _overlong_line(raw: bytes, block: int = 16 << 20) -> tuple[int, int] | None:
    """(line number, length) of the first line longer than MAX_LINE_BYTES, or None; the text is
    looked at a block at a time (a 1.6 GB line once took the careful reader past 16 GB). A line
    ends at "\n", "\r\n" or a lone "\r", as the readers take them; its length leaves them out."""
    data = np.frombuffer(raw, dtype=np.uint8)  # the bytes themselves, not a copy
    number, line_start = 1, 0
    for start in range(0, len(data), block):
        here = data[start : start + block]
        following = np.append(data[start + 1 : start + block + 1], 0)[: len(here)]
        ends = start + np.flatnonzero((here == 10) | ((here == 13) & (following != 10)))
        starts = np.concatenate([[line_start], ends[:-1] + 1])
        crlf = (data[ends] == 10) & (ends > starts) & (data[np.maximum(ends - 1, 0)] == 13)
        long = np.flatnonzero(ends - starts - crlf > MAX_LINE_BYTES)
        if len(long):
            return number + int(long[0]), _line_length(raw, int(starts[long[0]]))
        if len(ends):
            number, line_start = number + len(ends), int(ends[-1]) + 1
        if start + len(here) - line_start > MAX_LINE_BYTES + 1:  # + 1: the "\r" of a "\r\n" to come
            return number, _line_length(raw, line_start)
    if len(data) - line_start > MAX_LINE_BYTES:  # the last line, without a line break
        return number, len(data) - line_start
    return None


def _line_length(raw: bytes, start: int) -> int:
    """The length of the line from `start` to its end, its line break left out."""
    ends = [at for at in (raw.find(b"\n", start), raw.find(b"\r", start)) if at >= 0]
    return (min(ends) if ends else len(raw)) - start


def _repeats_one_row(path: Path, display: str, problems: list[Problem]) -> bool:
    """True (with the repeats reported, on their lines) when the file's first rows repeat an earlier
    row word for word more than MAX_ROWS_PER_PROBLEM times.

    No data file may hold one row twice (ids are unique, a school is listed once per student, a
    family joins one compact), and a file that repeats one line a million times (a fill-down gone
    wrong, a hostile upload) would take many times its size in memory once parsed, to report the same
    problem on every line. Memory here is bounded by HEAD_ROWS and HEAD_BYTES."""
    if _head_rows_differ(path):
        return False
    seen: dict[bytes, int] = {}
    repeats: list[tuple[int, int]] = []
    budget = HEAD_BYTES
    with path.open("rb") as handle:
        for number in range(1, HEAD_ROWS + 1):
            line = handle.readline(budget)
            budget -= len(line)
            if not line or budget <= 0:
                return False
            row = line.rstrip(b"\r\n")
            if number == 1 or not row.translate(None, b'," \t').strip():
                continue  # the header, or a blank row (a spreadsheet's `,,,`), which is allowed
            first = seen.setdefault(row, number)
            if first != number:
                repeats.append((number, first))
                if len(repeats) > MAX_ROWS_PER_PROBLEM:
                    break
        else:
            return False
    for number, first in repeats[:MAX_ROWS_PER_PROBLEM]:
        problems.append(Problem(display, number, f"expected each row once, got the row of line {first} again"))
    problems.append(
        Problem(
            display,
            None,
            f"… and it goes on repeating rows: refused from its first {repeats[-1][0]:,} lines, before "
            f"reading all {path.stat().st_size:,} bytes",
        )
    )
    return True


def _head_rows_differ(path: Path) -> bool:
    """True when no two of the first rows are the same (the usual file): then none repeats, and the
    rows need not be walked one by one. The rows are the lines readline gives, within HEAD_BYTES."""
    with path.open("rb") as handle:
        pieces = handle.read(HEAD_BYTES).split(b"\n", HEAD_ROWS)[1:HEAD_ROWS]
    rows = [piece.rstrip(b"\r\n") for piece in pieces]
    return len(set(rows)) == len(rows)


#: Files from this size on take Arrow's reader when they are plain; below, starting its threads costs
#: more than it saves (a few milliseconds a file), and the careful reader gives the same table.
PLAIN_FAST_PATH_BYTES = 1 << 16


def _is_plain(raw: bytes) -> bool:
    """No quotes: every row is one line (a blank line too: Arrow's reader keeps it as a row of empty
    fields, which _finish drops), so row i is line i + 2."""
    return b'"' not in raw


#: Bytes that str.strip() removes, in ASCII text (other whitespace is not ASCII).
_ASCII_SPACE = (b" ", b"\t", b"\r", b"\x0b", b"\x0c", b"\x1c", b"\x1d", b"\x1e", b"\x1f")


def _may_need_strip(raw: bytes) -> bool:
    """False when no value can have white space around it: ASCII with no space character at all."""
    return not raw.isascii() or any(space in raw for space in _ASCII_SPACE)


#: The dtype pandas reads text as with `dtype=str` (Arrow-backed strings from pandas 3, object before).
_TEXT_DTYPE = pd.Series([], dtype=str).dtype


def _read_plain(raw: bytes, header: list[str]) -> pd.DataFrame | None:
    """The fast path for large plain files: Arrow's multi-threaded reader, every column read as text
    and handed to pandas without a copy; or None to take the careful reader, which also words every
    error. A blank line is a row of empty fields here, as in the careful reader."""
    body = pa.py_buffer(raw)
    if raw.startswith(_BOM):
        body = body.slice(len(_BOM))
    try:
        data = pacsv.read_csv(
            pa.BufferReader(body),
            parse_options=pacsv.ParseOptions(ignore_empty_lines=False),
            convert_options=pacsv.ConvertOptions(
                column_types=dict.fromkeys(header, pa.large_string()),
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
            # The columns are a few large buffers that live as long as the data, from the system's
            # allocator: fresh memory from Arrow's default (mimalloc) was much slower to fault in on
            # the benchmark machine, a virtual machine, and a city's columns are all fresh memory.
            memory_pool=pa.system_memory_pool(),
        )
    except (pa.ArrowException, ValueError):  # any refusal: the careful reader says what is wrong
        return None
    if data.column_names != header or any(field.type != pa.large_string() for field in data.schema):
        return None  # a header Arrow reads otherwise (a blank first line): the careful reader decides
    if any(not name.strip() for name in header):
        # pandas names a column without a name ("Unnamed: 2", or " .1" for a second " "): the
        # careful reader does; two blank names would both strip to "" here.
        return None
    names = [name.strip() for name in header]
    if isinstance(_TEXT_DTYPE, pd.api.extensions.ExtensionDtype):
        frame = data.to_pandas(types_mapper=lambda _: _TEXT_DTYPE)
    else:
        frame = data.to_pandas()
    frame.columns = names
    return frame


def _locate_malformed_row(text: str, fields: int, error: str) -> tuple[int | None, str]:
    """Find the line of the row the parser refused: more fields than the header, or an unclosed quote.

    pandas counts rows, not lines (a quoted field may hold line breaks), so the rows are walked here;
    this only runs on the error path.
    """
    unclosed = re.search(r"EOF inside string starting at row (\d+)", error)
    reader = csv.reader(io.StringIO(text, newline=""))
    start = 1
    try:
        for number, row in enumerate(reader):
            if unclosed is not None and number == int(unclosed.group(1)):
                return start, ("malformed CSV: expected a closing quote for the quoted field that starts on this line")
            if unclosed is None and number > 0 and len(row) > fields:
                return start, (
                    f"malformed CSV: expected {fields} fields, as in the header, got "
                    f"{len(row)} (quote a value that contains a comma)"
                )
            start = reader.line_num + 1
    except csv.Error:
        pass
    return None, ""


def require_columns(table: Table, columns: Iterable[str], problems: list[Problem], why: str = "") -> bool:
    """Each missing column is one problem, reported on the header line."""
    ok = True
    for column in columns:
        if not table.has(column):
            near = [c for c in table.columns if c.lower() == column.lower()]
            hint = f" (found '{near[0]}'; names are case-sensitive)" if near else ""
            problems.append(Problem(table.file, 1, f"expected a column '{column}'{why}{hint}"))
            ok = False
    return ok


def report_rows(table: Table, mask: np.ndarray, message: object, problems: list[Problem]) -> None:
    """One problem per row where `mask` holds; `message` is a string or a per-row sequence of strings.

    Past MAX_ROWS_PER_PROBLEM rows, the rest are summed up in one line.
    """
    rows = np.flatnonzero(mask)
    if rows.size == 0:
        return
    lines = table.lines()
    for row in rows[:MAX_ROWS_PER_PROBLEM]:
        text = message if isinstance(message, str) else message[row]  # type: ignore[index]
        problems.append(Problem(table.file, int(lines[row]), str(text)))
    if rows.size > MAX_ROWS_PER_PROBLEM:
        more = rows.size - MAX_ROWS_PER_PROBLEM
        first = message if isinstance(message, str) else message[rows[0]]  # type: ignore[index]
        problems.append(
            Problem(
                table.file,
                None,
                f"… and {more:,} more rows like line {int(lines[rows[0]])}: {first}",
            )
        )


def check_non_empty(table: Table, column: str, problems: list[Problem]) -> np.ndarray:
    """Rows whose `column` is empty are reported; returns the mask of good rows."""
    values = table.frame[column]
    bad = (values == "").to_numpy()
    report_rows(table, bad, f"expected a value in column '{column}', got an empty field", problems)
    return ~bad


def check_unique(table: Table, column: str, problems: list[Problem], what: str = "") -> bool:
    """Each repeat of a value already seen in `column` is reported, naming the first line. Returns
    whether every value differs (an empty one too)."""
    values = table.frame[column]
    if values.is_unique:
        return True  # the usual file: one hashing says so, without a repeat to look for
    repeated = values.duplicated(keep="first").to_numpy() & (values != "").to_numpy()
    if not repeated.any():
        return False
    first_line = dict(
        zip(
            values[~values.duplicated(keep="first")],
            table.lines()[~values.duplicated(keep="first").to_numpy()],
            strict=True,
        )
    )
    text = values.to_numpy()
    messages = np.array(
        [
            f"duplicate {what or column} '{v}' (first on line {first_line.get(v)})" if r else ""
            for v, r in zip(text, repeated, strict=True)
        ],
        dtype=object,
    )
    report_rows(table, repeated, messages, problems)
    return False


def repeated_keys(table: Table, columns: list[str]) -> tuple[np.ndarray, pd.DataFrame]:
    """Rows whose values in `columns` repeat an earlier row's, and the key as a frame of integer codes
    (for first_lines): codes, not strings, because these files run to a million rows."""
    key = pd.DataFrame({column: table.codes(column)[0] for column in columns})
    return repeated_rows(*(key[column].to_numpy() for column in columns)), key


def repeated_rows(*columns: np.ndarray) -> np.ndarray:
    """Rows whose integers in `columns` repeat an earlier row's: one int64 key when the ranges
    multiply within 62 bits (a hash of one column is much faster than of a frame), else a frame.
    The usual file repeats nothing and is said so fast: rows already in order, or no two keys equal
    once sorted; only then are the repeats sought in file order."""
    if not len(columns[0]):
        return np.zeros(0, dtype=bool)
    if _increasing(columns):
        return np.zeros(len(columns[0]), dtype=bool)  # rows in order: a list written in rank order
    key = _row_keys(columns)
    if key is None:
        frame = pd.DataFrame({str(i): column for i, column in enumerate(columns)})
        return frame.duplicated(keep="first").to_numpy()
    if _without_repeats(key):
        return np.zeros(len(key), dtype=bool)
    key = _row_keys(columns)  # in file order again (the check sorted it)
    assert key is not None
    # A stable sort keeps equal keys in file order, so each but the first of a run is a repeat.
    order = np.argsort(key, kind="stable")
    ordered = key[order]
    repeated = np.zeros(len(key), dtype=bool)
    repeated[order[1:]] = ordered[1:] == ordered[:-1]
    return repeated


def _row_keys(columns: tuple[np.ndarray, ...]) -> np.ndarray | None:
    """One int64 per row that is equal exactly when the rows' integers are; None when the ranges of
    the columns multiply past 62 bits. Built in place: these columns run to millions of rows."""
    key: np.ndarray | None = None
    span = 1
    for column in columns:
        low, high = int(column.min()), int(column.max())
        width = high - low + 1
        span *= width
        if span >= 2**62:
            return None
        if key is None:
            key = column.astype(np.int64)  # a copy, the key's own
        else:
            key *= width
            key += column.astype(np.int64, copy=False)
        if low:
            key -= low  # wraps past 64 bits as the sum does: what is left is the key, which fits
    return key


def _increasing(columns: tuple[np.ndarray, ...]) -> bool:
    """Whether the rows of `columns` rise strictly, compared column by column (then none repeats)."""
    rising = np.zeros(len(columns[0]) - 1, dtype=bool)
    tied = np.ones(len(columns[0]) - 1, dtype=bool)
    for column in columns:
        rising |= tied & (column[1:] > column[:-1])
        tied &= column[1:] == column[:-1]
    return bool(rising.all())


def _without_repeats(key: np.ndarray) -> bool:
    """True when no key repeats: sorting `key` in place, no two neighbours are equal."""
    key.sort()
    return not bool((key[1:] == key[:-1]).any())


def first_lines(table: Table, key: pd.Series | pd.DataFrame) -> np.ndarray:
    """For each row, the line of the first row with the same `key` (to say where a repeat was first seen).

    `key` is a column, or a frame of columns that together make the key, aligned with the table's rows.
    """
    by = [key[column].to_numpy() for column in key.columns] if isinstance(key, pd.DataFrame) else key.to_numpy()
    return table.frame["_line"].groupby(by, sort=False).transform("first").to_numpy()


def parse_integers(
    table: Table,
    column: str,
    problems: list[Problem],
    non_negative: bool = False,
    allow_empty: bool = False,
) -> tuple[np.ndarray, np.ndarray]:
    """Parse a column of integers; returns (values, ok mask). Bad rows are reported with the value."""
    text = table.frame[column]
    numbers = _digits_as_int64(text)
    if numbers is not None:
        return numbers, np.ones(len(text), dtype=bool)
    pattern = NON_NEGATIVE_INTEGER if non_negative else INTEGER
    ok = text.str.fullmatch(pattern.pattern).to_numpy(dtype=bool)
    empty = (text == "").to_numpy()
    bad = ~ok & ~(empty & allow_empty)
    if bad.any():
        what = "an integer ≥ 0" if non_negative else "an integer"
        messages = np.array([f'expected {column} to be {what}, got "{v}"' for v in text.to_numpy()], dtype=object)
        report_rows(table, bad, messages, problems)
    values = np.zeros(len(text), dtype=np.int64)
    if ok.any():
        numbers = _to_int64(text[ok])
        if numbers is None:
            # A number too large for 64 bits: said per row like any other bad value. Past 25 digits it
            # is not parsed at all (Python refuses to parse one of more than 4,300 digits).
            parsed = [int(v) if len(v) <= 25 else 2**63 for v in text[ok].to_numpy()]
            fits = np.array([-(2**63) <= v < 2**63 for v in parsed], dtype=bool)
            numbers = np.array([v if f else 0 for v, f in zip(parsed, fits, strict=True)], dtype=np.int64)
            too_large = np.zeros(len(text), dtype=bool)
            too_large[np.flatnonzero(ok)[~fits]] = True
            messages = np.array(
                [f'expected {column} to be an integer of at most 18 digits, got "{v}"' for v in text.to_numpy()],
                dtype=object,
            )
            report_rows(table, too_large, messages, problems)
            ok = ok & ~too_large
            numbers = numbers[fits]
        values[ok] = numbers
    return values, ok


def _digits_as_int64(text: pd.Series) -> np.ndarray | None:
    """The column as int64 when every value is ASCII digits that fit (the usual column of ranks or
    seats: each then matches the integer patterns and nothing is reported), cast by Arrow; None
    otherwise, and the values are checked one by one."""
    arrow = arrow_text(text)
    if arrow is None or not len(arrow) or not pc.all(pc.ascii_is_decimal(arrow)).as_py():
        return None
    try:
        numbers = pc.cast(arrow, pa.int64())
    except pa.ArrowInvalid:  # past 64 bits: said per row by the checks
        return None
    return _to_numpy(numbers)


def _to_int64(text: pd.Series) -> np.ndarray | None:
    """Strings already checked to be integers, as int64 (Arrow's cast when it is there); None if one
    does not fit in 64 bits."""
    try:
        return text.astype("int64[pyarrow]").to_numpy(dtype=np.int64)
    except Exception:  # noqa: BLE001 - no pyarrow, or a value too large for it: numpy decides below
        pass
    try:
        return text.astype(np.int64).to_numpy()
    except (OverflowError, ValueError):
        return None


def parse_floats(table: Table, column: str, problems: list[Problem], low: float, high: float) -> np.ndarray:
    """Parse an optional numeric column; empty fields are NaN, anything else unparsable is reported."""
    text = table.frame[column]
    values = _short_decimals(text)
    if values is None:
        # A copy: pandas may hand back a read-only view, and bad values are blanked below.
        values = np.array(pd.to_numeric(text.where(text != "", None), errors="coerce"), dtype=float)
    bad = (np.isnan(values) & (text != "").to_numpy()) | (values < low) | (values > high)
    if bad.any():
        messages = np.array(
            [f'expected {column} to be a number from {low:g} to {high:g}, got "{v}"' for v in text.to_numpy()],
            dtype=object,
        )
        report_rows(table, bad, messages, problems)
        values[bad] = np.nan
    return values


#: A decimal of at most SHORT_DECIMAL characters with a point (a coordinate: -71.120925).
SHORT_DECIMAL = 15
_DECIMAL = r"^-?[0-9]+\.[0-9]+$"


def _short_decimals(text: pd.Series) -> np.ndarray | None:
    """The column as float64 when every value is a short decimal with a point (the usual column of
    coordinates), cast by Arrow; None otherwise, for pandas to parse. At most 15 digits make an
    exact integer over an exact power of ten: both parsers round that one division correctly, so
    they agree to the bit (a whole number, which pandas parses as an integer, goes to pandas)."""
    arrow = arrow_text(text)
    if arrow is None or not len(arrow) or pc.max(pc.utf8_length(arrow)).as_py() > SHORT_DECIMAL:
        return None
    if not pc.all(pc.match_substring_regex(arrow, _DECIMAL)).as_py():
        return None
    return _to_numpy(pc.cast(arrow, pa.float64()))


def parse_booleans(table: Table, column: str, problems: list[Problem]) -> np.ndarray:
    """An optional true/false column: returns 1, 0, or -1 where the field is empty."""
    text = table.frame[column].str.lower()
    out = np.full(len(text), -1, dtype=np.int8)
    out[text.isin(TRUE_WORDS).to_numpy()] = 1
    out[text.isin(FALSE_WORDS).to_numpy()] = 0
    bad = (out == -1) & (text != "").to_numpy()
    if bad.any():
        raw = table.frame[column].to_numpy()
        messages = np.array([f'expected {column} to be true or false, got "{v}"' for v in raw], dtype=object)
        report_rows(table, bad, messages, problems)
    return out


def lookup(
    table: Table,
    column: str,
    index: pd.Index,
    problems: list[Problem],
    what: str,
    where: str,
) -> np.ndarray:
    """Map a column of ids to positions in `index`; unknown ids are reported and become -1."""
    values = table.frame[column]
    found = _positions_in(values, index)
    if found is None:
        codes, distinct = table.codes(column)
        found = index.get_indexer(pd.Index(distinct))[codes] if len(codes) else np.zeros(0, dtype=np.int64)
    bad = found < 0
    if bad.any():  # an empty id is not an unknown one (check_non_empty says it): looked at only then
        bad &= (values != "").to_numpy()
    if bad.any():
        messages = np.array([f"unknown {what} '{v}' (not in {where})" for v in values.to_numpy()], dtype=object)
        report_rows(table, bad, messages, problems)
    return found


def positions_in(values: pd.Series, index: pd.Index) -> np.ndarray:
    """Each value's position in `index` (unique), -1 where it is not there."""
    found = _positions_in(values, index)
    return index.get_indexer(pd.Index(values.to_numpy())).astype(np.int64) if found is None else found


def _positions_in(values: pd.Series, index: pd.Index) -> np.ndarray | None:
    """Each value's position in `index` (unique), -1 where it is not there, hashed by Arrow when the
    column is Arrow text (a list of five million rows needs no Python string per row); None for
    other columns, which go through their distinct values (Table.codes)."""
    arrow = arrow_text(values)
    if arrow is None:
        return None
    try:
        known = pa.array(index.to_numpy(dtype=object), type=pa.large_string())
    except (pa.ArrowException, TypeError, ValueError):  # an index of other than text: pandas decides
        return None
    return _to_numpy(pc.fill_null(pc.index_in(arrow, value_set=known), -1), np.int64)


def _to_numpy(column: pa.ChunkedArray, dtype: type[np.generic] | None = None) -> np.ndarray:
    """An Arrow column of numbers without nulls as one writable numpy array (of `dtype`, or the
    column's own): one copy, made here."""
    if not column.num_chunks:
        return np.zeros(0, dtype=dtype)
    return np.concatenate([chunk.to_numpy() for chunk in column.chunks], dtype=dtype)


def arrow_text(values: pd.Series) -> pa.ChunkedArray | None:
    """A text column as Arrow holds it, without a copy, when pandas keeps it in Arrow (a CSV file
    read by pandas 3); None otherwise (object columns: Excel and Parquet cells, older pandas)."""
    dtype = values.dtype
    if isinstance(dtype, pd.StringDtype) and dtype.storage == "pyarrow":
        arrow = values.array.__arrow_array__()
        return arrow if isinstance(arrow, pa.ChunkedArray) else pa.chunked_array([arrow])
    return None
