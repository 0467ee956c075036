"""Data files as CSV, Parquet or Excel: the same checks, the same report, lines a planner can find.

The Parquet and Excel files are made here with pandas from the CSV fixtures in
tests/data/audit/, letting pandas type the columns (ids stay text, ranks and
capacities become numbers, empty cells nulls), as a planner's own export would.
"""

from __future__ import annotations

import datetime
import hashlib
import math
import shutil
from decimal import Decimal
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from seatplan.auditor import AuditInputError, Report, audit_files
from seatplan.auditor.config import read_config
from seatplan.auditor.tables import cell_text, data_format, split_sheet

DATA = Path(__file__).resolve().parents[1] / "data" / "audit"

# parquet: one file per table; xlsx: one workbook per table (its first sheet);
# workbook: one workbook, a sheet per table named with `#sheet`, behind a sheet nobody names.
FORMATS = ("parquet", "xlsx", "workbook")


def convert(case: str, config: str, out: Path, form: str) -> Path:
    """The case's data in `form`, under `out`, with a config naming it; the config's path."""
    out.mkdir(parents=True, exist_ok=True)
    document = yaml.safe_load((DATA / case / config).read_text())
    frames = {key: pd.read_csv(DATA / case / name) for key, name in document["data"].items()}
    if form == "workbook":
        with pd.ExcelWriter(out / "district.xlsx") as writer:
            pd.DataFrame({"note": ["not data"]}).to_excel(writer, sheet_name="README", index=False)
            for key, frame in frames.items():
                frame.to_excel(writer, sheet_name=key, index=False)
        document["data"] = {key: f"district.xlsx#{key}" for key in frames}
    else:
        for key, frame in frames.items():
            if form == "parquet":
                frame.to_parquet(out / f"{key}.parquet", index=False)
            else:
                frame.to_excel(out / f"{key}.xlsx", index=False)
        document["data"] = {key: f"{key}.{form}" for key in frames}
    (out / "config.yaml").write_text(yaml.safe_dump(document, sort_keys=False))
    return out / "config.yaml"


# (case, config, assignment, metrics, passes): each rule family that reads a data column somewhere.
CASES = [
    ("da", "config.yaml", "assignment.csv", "metrics.json", True),
    ("da", "config.yaml", "blocking.csv", None, False),
    ("objective", "config.yaml", "right.csv", "metrics_right.json", True),
    ("objective", "config.yaml", "right.csv", "metrics_wrong_distance.json", False),
    ("stability_grades", "config.yaml", "right.csv", None, True),
    ("stability_grades", "config.yaml", "wrong.csv", None, False),
    ("compacts", "config.yaml", "split.csv", None, False),
]


def audit(config: Path, case: str, assignment: str, metrics: str | None) -> Report:
    folder = DATA / case
    return audit_files(config, folder / assignment, folder / metrics if metrics else None)


@pytest.mark.parametrize("form", FORMATS)
@pytest.mark.parametrize(
    ("case", "config", "assignment", "metrics", "passes"),
    CASES,
    ids=[f"{c[0]}-{c[2].removesuffix('.csv')}-{c[3] or 'nometrics'}" for c in CASES],
)
def test_the_report_is_the_same_in_every_format(
    tmp_path: Path, form: str, case: str, config: str, assignment: str, metrics: str | None, passes: bool
) -> None:
    from_csv = audit(DATA / case / config, case, assignment, metrics)
    assert from_csv.passed is passes, from_csv.to_text()
    converted = audit(convert(case, config, tmp_path / form, form), case, assignment, metrics)
    assert converted.to_json() == from_csv.to_json()


# --- where a problem is: the sheet's own row, or the line it would have in a CSV file ---

# da's students with a blank row between c2 and n1, and a lottery that is no number.
BAD_STUDENTS = pd.DataFrame(
    {
        "student_id": ["c1", "c2", None, "n1", "n2", "n3"],
        "family_id": ["F1", "F2", None, None, "F9", "F9"],
        "lottery": [5, 6, None, "x", 2, 3],
        "ell": [0, 0, None, 1, 0, 0],
        "home_cluster": [None, None, None, None, None, "N"],
    }
)


@pytest.fixture
def da(tmp_path: Path) -> Path:
    shutil.copytree(DATA / "da", tmp_path / "da")
    return tmp_path / "da"


def use(folder: Path, **data: str) -> Path:
    """folder/config.yaml with some data files replaced."""
    document = yaml.safe_load((folder / "config.yaml").read_text())
    document["data"].update(data)
    (folder / "config.yaml").write_text(yaml.safe_dump(document, sort_keys=False))
    return folder / "config.yaml"


def problems(config: Path) -> list[str]:
    with pytest.raises(AuditInputError) as caught:
        audit_files(config, config.parent / "assignment.csv")
    return caught.value.lines()


def test_excel_problems_name_the_sheet_and_its_row(da: Path) -> None:
    # Row 1 the header, rows 2-3 c1 and c2, row 4 blank, row 5 n1.
    BAD_STUDENTS.to_excel(da / "students.xlsx", index=False)
    lines = problems(use(da, students="students.xlsx"))
    assert lines == [f'{da / "students.xlsx"}#Sheet1:5: expected lottery to be a number for student n1, got "x"']


def test_the_sheet_is_named_by_its_real_name_even_when_the_config_names_none(da: Path) -> None:
    with pd.ExcelWriter(da / "book.xlsx") as writer:
        BAD_STUDENTS.to_excel(writer, sheet_name="Pupils", index=False)
        pd.DataFrame({"x": [1]}).to_excel(writer, sheet_name="Other", index=False)
    expected = [f'{da / "book.xlsx"}#Pupils:5: expected lottery to be a number for student n1, got "x"']
    assert problems(use(da, students="book.xlsx")) == expected
    assert problems(use(da, students="book.xlsx#Pupils")) == expected


def test_parquet_problems_are_numbered_as_if_csv(da: Path) -> None:
    # Data row 3 (from 0) is line 5: the header would be line 1.
    BAD_STUDENTS.astype({"lottery": str}).to_parquet(da / "students.parquet", index=False)
    lines = problems(use(da, students="students.parquet"))
    assert lines == [f'{da / "students.parquet"}:5: expected lottery to be a number for student n1, got "x"']


def test_first_on_line_and_leading_blank_rows_keep_the_sheet_numbering(da: Path) -> None:
    """pandas keeps blank rows before and between data; a header below row 1 is refused."""
    students = pd.read_csv(da / "students.csv")
    blank = pd.DataFrame([[None] * students.shape[1]] * 2, columns=students.columns)
    # Row 2 c1, rows 3-4 blank, rows 5-8 c2…n3, row 9 c1 again.
    frame = pd.concat([students[:1], blank, students[1:], students[:1]], ignore_index=True)
    frame.to_excel(da / "students.xlsx", index=False)
    assert problems(use(da, students="students.xlsx")) == [
        f"{da / 'students.xlsx'}#Sheet1:9: duplicate student_id c1 (first on line 2)"
    ]
    frame.to_excel(da / "students.xlsx", index=False, startrow=2)
    assert problems(use(da, students="students.xlsx")) == [
        f"{da / 'students.xlsx'}#Sheet1: expected a header row in row 1"
    ]


def test_a_repeated_column_is_the_csv_problem(da: Path) -> None:
    # "student_id " is student_id once stripped, as in a CSV header.
    frame = pd.DataFrame([["c1", "c1"]], columns=["student_id", "student_id "])
    frame.to_excel(da / "students.xlsx", index=False)
    frame.to_parquet(da / "students.parquet", index=False)
    for name, where in (("students.xlsx", "students.xlsx#Sheet1"), ("students.parquet", "students.parquet")):
        assert problems(use(da, students=name)) == [f"{da / where}:1: column student_id appears twice in the header"]


def test_a_parquet_file_written_with_a_repeated_name(da: Path) -> None:
    """pandas refuses to write one, pyarrow does not; pandas then cannot read it at all."""
    pyarrow = pytest.importorskip("pyarrow")
    parquet = pytest.importorskip("pyarrow.parquet")
    names = ["student_id", "student_id"]
    parquet.write_table(pyarrow.table([pyarrow.array(["c1"]), pyarrow.array(["c2"])], names=names), da / "s.parquet")
    assert problems(use(da, students="s.parquet")) == [
        f"{da / 's.parquet'}:1: column student_id appears twice in the header"
    ]


# --- files that cannot be read: one clean problem each ---


def test_a_missing_sheet_names_the_sheets_there_are(da: Path) -> None:
    with pd.ExcelWriter(da / "students.xlsx") as writer:
        pd.read_csv(da / "students.csv").to_excel(writer, sheet_name="Sheet1", index=False)
        pd.DataFrame({"x": [1]}).to_excel(writer, sheet_name="Other", index=False)
    assert problems(use(da, students="students.xlsx#X")) == [
        f"{da / 'students.xlsx'}: expected a sheet named 'X' in students.xlsx, got only: Sheet1, Other"
    ]


def test_an_xls_file_is_refused_with_what_to_do(da: Path) -> None:
    (da / "students.XLS").write_bytes(b"\xd0\xcf\x11\xe0 an old workbook")
    assert problems(use(da, students="students.XLS")) == [
        f"{da / 'students.XLS'}: expected an .xlsx workbook, got an .xls file (save it as Excel Workbook .xlsx)"
    ]


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        ("students.xlsx", b"student_id\nc1\n", "expected an Excel workbook (.xlsx), could not read it: "),
        ("students.xlsx", b"", "expected an Excel workbook (.xlsx), could not read it: "),
        ("students.parquet", b"PAR1 not really", "expected a Parquet file, could not read it: "),
        ("students.pq", b"", "expected a Parquet file, could not read it: "),
    ],
)
def test_a_corrupt_file_is_one_clean_problem(da: Path, name: str, content: bytes, expected: str) -> None:
    (da / name).write_bytes(content)
    (line,) = problems(use(da, students=name))
    assert line.startswith(f"{da / name}: {expected}")
    assert "\n" not in line and "Traceback" not in line and len(line) < len(str(da)) + 250


def test_an_empty_workbook_sheet_asks_for_a_header(da: Path) -> None:
    pd.DataFrame().to_excel(da / "students.xlsx", index=False)
    assert problems(use(da, students="students.xlsx")) == [
        f"{da / 'students.xlsx'}#Sheet1: empty sheet: expected a header row with student_id in row 1"
    ]


# --- values as text ---


def test_numbers_typed_as_numbers_read_as_written(tmp_path: Path) -> None:
    """student_id 7 is "7", rank 1.0 is "1", capacity 2.0 is "2", lat 42.3601 stays 42.3601."""
    students = pd.DataFrame({"student_id": [7, 8, 9], "lat": [42.3601, 42.5, 1e20], "lon": [0.1, 0.0, -71.0]})
    schools = pd.DataFrame({"school_id": ["A", "B"], "capacity": [2.0, 1.0], "under_selected": [True, False]})
    preferences = pd.DataFrame({"student_id": [7, 7, 8, 9], "school_id": ["A", "B", "A", "B"], "rank": [1.0, 2, 1, 1]})
    (tmp_path / "assignment.csv").write_text("student_id,school_id,position,compact_id\n7,A,1,\n8,A,1,\n9,B,1,\n")
    reports = []
    for form in ("csv", "parquet", "xlsx"):
        folder = tmp_path / form
        folder.mkdir()
        for key, frame in (("students", students), ("schools", schools), ("preferences", preferences)):
            if form == "csv":
                # What a planner types: the texts the other formats must come back to.
                texts = frame.map(cell_text)
                texts.to_csv(folder / f"{key}.csv", index=False)
            elif form == "parquet":
                frame.to_parquet(folder / f"{key}.parquet", index=False)
            else:
                frame.to_excel(folder / f"{key}.xlsx", index=False)
        (folder / "config.yaml").write_text(
            f"data: {{students: students.{form}, schools: schools.{form}, preferences: preferences.{form}}}\n"
        )
        report = audit_files(folder / "config.yaml", tmp_path / "assignment.csv")
        assert report.passed, report.to_text()
        reports.append(report.to_json())
    assert (tmp_path / "csv" / "students.csv").read_text().splitlines() == [
        "student_id,lat,lon",
        "7,42.3601,0.1",
        "8,42.5,0",
        "9,100000000000000000000,-71",
    ]
    assert reports[0] == reports[1] == reports[2]


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (None, ""),
        (float("nan"), ""),
        (np.nan, ""),
        (pd.NA, ""),
        (pd.NaT, ""),
        (True, "true"),
        (np.bool_(False), "false"),
        (7, "7"),
        (np.int64(-12), "-12"),
        (25.0, "25"),
        (-3.0, "-3"),
        (1e20, "100000000000000000000"),
        (0.1, "0.1"),
        (42.3601, "42.3601"),
        (np.float32(0.5), "0.5"),
        (math.inf, "inf"),
        (-math.inf, "-inf"),
        (datetime.date(2024, 9, 1), "2024-09-01"),
        (datetime.datetime(2024, 9, 1, 8, 30), "2024-09-01T08:30:00"),
        (pd.Timestamp("2024-09-01"), "2024-09-01T00:00:00"),
        (np.datetime64("2024-09-01T08:30"), "2024-09-01T08:30:00"),
        (" 007 ", " 007 "),  # stripped later, with every format's values
        (Decimal("1.50"), "1.50"),
    ],
)
def test_cell_text(value: object, text: str) -> None:
    assert cell_text(value) == text


def test_formats_by_extension_and_sheets_after_a_workbook_only() -> None:
    kinds = {name: data_format(Path(name)) for name in ("a.parquet", "a.PQ", "a.xlsx", "a.XLSM", "a.Xls", "a.csv", "a")}
    assert kinds == {
        "a.parquet": "parquet",
        "a.PQ": "parquet",
        "a.xlsx": "excel",
        "a.XLSM": "excel",
        "a.Xls": "xls",
        "a.csv": "csv",
        "a": "csv",
    }
    assert split_sheet("book.xlsx#Sheet1") == ("book.xlsx", "Sheet1")
    assert split_sheet("in#dir/book.XLSM#My sheet") == ("in#dir/book.XLSM", "My sheet")
    assert split_sheet("book.xlsx") == ("book.xlsx", None)
    assert split_sheet("run#3/students.csv") == ("run#3/students.csv", None)
    assert split_sheet("book.xlsx#a#b") == ("book.xlsx#a#b", None)  # at the last # only


def test_data_integrity_hashes_the_workbook_not_the_sheet(tmp_path: Path) -> None:
    config = convert("da", "config.yaml", tmp_path, "workbook")
    document = yaml.safe_load(config.read_text())
    digest = hashlib.sha256((tmp_path / "district.xlsx").read_bytes()).hexdigest()
    document["data_sha256"] = {key: digest for key in document["data"]}
    config.write_text(yaml.safe_dump(document, sort_keys=False))
    assert read_config(config).data["students"] == tmp_path / "district.xlsx"
    assert read_config(config).data_sheets["students"] == "students"
    report = audit_files(config, DATA / "da" / "assignment.csv")
    assert report.passed, report.to_text()
    assert f"students: {tmp_path / 'district.xlsx'} matches" in report.rule("data_integrity").info[0]
