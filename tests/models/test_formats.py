"""Data files as planners keep them: CSV, Parquet or an Excel sheet, chosen by extension.

The same district written in the three formats must read into the same Instance, solve into the
same run folder and pass the same audit; a bad value must be reported on its row in the planner's
own file (`students.xlsx#Sheet1:14`, `schools.parquet:4`); a file that is not what its name says
must be one clean problem, never a traceback.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import yaml
from click.testing import CliRunner

from seatplan.auditor import audit_run
from seatplan.models.data import load_inputs
from seatplan.models.errors import DataError
from seatplan.models.generate import DistrictSpec, write_district
from seatplan.solver.cli import main

KEYS = ("students", "schools", "preferences", "compacts", "seats")


@pytest.fixture(scope="module")
def district(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small generated district with grades, compacts, clusters and two diversity rules, as CSV."""
    folder = tmp_path_factory.mktemp("district")
    spec = DistrictSpec(students=240, schools=8, clusters=3, seed=5, grades=("K", "1"), compact_share=0.06)
    return write_district(spec, folder / "csv", config_path=folder / "csv" / "config.yaml")


def csv_frames(config_path: Path) -> dict[str, pd.DataFrame]:
    """The data files of a CSV config, read as text (as written)."""
    data = yaml.safe_load(config_path.read_text(encoding="utf-8"))["data"]
    return {
        key: pd.read_csv(config_path.parent / name, dtype=str, keep_default_na=False)
        for key, name in data.items()
        if key in KEYS
    }


def typed(frame: pd.DataFrame) -> pd.DataFrame:
    """Numbers as numbers, as a planner's spreadsheet holds them (ids stay text)."""
    out = frame.copy()
    for column in out.columns:
        if column.endswith("_id") or column in ("grade", "cluster", "home_cluster", "sector", "name"):
            continue
        numbers = pd.to_numeric(out[column], errors="coerce")
        if numbers.notna().all():
            out[column] = numbers
    return out


def write_format(config_path: Path, folder: Path, fmt: str, one_workbook: bool = False) -> Path:
    """The same district with every data file as Parquet or Excel (one workbook per file, or one
    workbook with a sheet per file), and a config naming them."""
    folder.mkdir(parents=True, exist_ok=True)
    document = yaml.safe_load(config_path.read_text(encoding="utf-8"))
    frames = csv_frames(config_path)
    if one_workbook:
        with pd.ExcelWriter(folder / "district.xlsx") as writer:
            for key, frame in frames.items():
                typed(frame).to_excel(writer, sheet_name=key.capitalize(), index=False)
        document["data"] = {key: f"district.xlsx#{key.capitalize()}" for key in frames}
    else:
        for key, frame in frames.items():
            if fmt == "parquet":
                typed(frame).to_parquet(folder / f"{key}.parquet", index=False)
            else:
                typed(frame).to_excel(folder / f"{key}.xlsx", index=False)
        document["data"] = {key: f"{key}.{fmt}" for key in frames}
    path = folder / "config.yaml"
    path.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")
    return path


def instance_arrays(config_path: Path) -> dict[str, Any]:
    _, instance = load_inputs(config_path)
    out: dict[str, Any] = {}
    for name, value in vars(instance).items():
        if name == "attributes":
            out.update({f"attribute {k}": list(v) for k, v in value.items()})
        elif isinstance(value, np.ndarray):
            out[name] = value.tolist()
        elif name != "warnings":
            out[name] = value
    return out


@pytest.mark.parametrize(("fmt", "one_workbook"), [("parquet", False), ("xlsx", False), ("xlsx", True)])
def test_the_three_formats_read_into_the_same_instance(
    district: Path, tmp_path: Path, fmt: str, one_workbook: bool
) -> None:
    other = write_format(district, tmp_path / fmt, fmt, one_workbook)
    assert instance_arrays(other) == instance_arrays(district)


def solve_and_audit(config_path: Path, out: Path) -> tuple[bytes, dict[str, Any], dict[str, Any]]:
    result = CliRunner().invoke(main, ["solve", str(config_path), "--out", str(out), "--quiet"])
    assert result.exit_code == 0, result.output
    metrics = json.loads((out / "metrics.json").read_text())
    # `reproduce` names the data files by their bytes, which differ from format to format.
    for varying in ("seconds", "trajectory", "command", "reproduce"):
        metrics.pop(varying)
    report = audit_run(out)
    assert report.passed, report.to_text()
    return (out / "assignment.csv").read_bytes(), metrics, report.to_json()


def test_the_three_formats_solve_and_audit_the_same(district: Path, tmp_path: Path) -> None:
    assignment, metrics, audit = solve_and_audit(district, tmp_path / "runs" / "csv")
    for fmt, one_workbook in (("parquet", False), ("xlsx", False), ("xlsx", True)):
        config = write_format(district, tmp_path / f"{fmt}{one_workbook}", fmt, one_workbook)
        got = solve_and_audit(config, tmp_path / "runs" / f"{fmt}{one_workbook}")
        assert got[0] == assignment, fmt
        assert got[1] == metrics, fmt
        assert verdicts(got[2]) == verdicts(audit), fmt


def verdicts(report: dict[str, Any]) -> list[dict[str, Any]]:
    """Every rule's verdict and evidence; data_integrity's notes name the files, which differ."""
    return [{**rule, "info": []} if rule["rule"] == "data_integrity" else rule for rule in report["rules"]]


def test_a_run_of_an_excel_sheet_records_the_sheet_and_solves_again(district: Path, tmp_path: Path) -> None:
    config = write_format(district, tmp_path / "book", "xlsx", one_workbook=True)
    run = tmp_path / "run"
    assert CliRunner().invoke(main, ["solve", str(config), "--out", str(run), "--quiet"]).exit_code == 0
    recorded = yaml.safe_load((run / "config.yaml").read_text())
    assert recorded["data"]["students"].endswith("district.xlsx#Students")
    assert set(recorded["data_sha256"]) == set(recorded["data"])
    again = CliRunner().invoke(main, ["solve", str(run / "config.yaml"), "--out", str(tmp_path / "again"), "--quiet"])
    assert again.exit_code == 0, again.output
    assert (tmp_path / "again" / "assignment.csv").read_bytes() == (run / "assignment.csv").read_bytes()


# ---- what a planner's spreadsheet holds ------------------------------------------------------------


def tiny(folder: Path, fmt: str, schools: pd.DataFrame | None = None, students: pd.DataFrame | None = None) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    frames = {
        "students": students if students is not None else pd.DataFrame({"student_id": [7, 8, "009"]}),
        "schools": schools
        if schools is not None
        else pd.DataFrame({"school_id": ["A", "B"], "capacity": [1.0, 2.0], "under_selected": [True, False]}),
        "preferences": pd.DataFrame({"student_id": [7, 8, "009"], "school_id": ["A", "A", "B"], "rank": [1, 1, 1]}),
    }
    for key, frame in frames.items():
        if fmt == "parquet":
            frame.astype({c: str for c in frame.columns if frame[c].dtype == object}).to_parquet(
                folder / f"{key}.parquet", index=False
            )
        else:
            frame.to_excel(folder / f"{key}.xlsx", index=False)
    config = folder / "config.yaml"
    config.write_text(yaml.safe_dump({"data": {key: f"{key}.{fmt}" for key in frames}}), encoding="utf-8")
    return config


@pytest.mark.parametrize("fmt", ["parquet", "xlsx"])
def test_cells_are_read_as_the_text_a_planner_typed(tmp_path: Path, fmt: str) -> None:
    _, instance = load_inputs(tiny(tmp_path, fmt))
    assert instance.student_ids.tolist() == ["7", "8", "009"]  # a number typed as an id is its digits
    assert instance.capacity[:, 0].tolist() == [1, 2]  # whole-number floats are integers
    assert instance.under_selected.tolist() == [True, False]  # booleans are true/false


def problems_of(config: Path) -> list[str]:
    with pytest.raises(DataError) as caught:
        load_inputs(config)
    return caught.value.lines()


def test_a_bad_excel_value_is_reported_on_its_sheet_row(tmp_path: Path) -> None:
    schools = pd.DataFrame({"school_id": ["A", "B", "C"], "capacity": [1, 2, -3]})
    lines = problems_of(tiny(tmp_path, "xlsx", schools=schools))
    assert lines == ['schools.xlsx#Sheet1:4: expected capacity to be an integer ≥ 0, got "-3"'] or any(
        line.endswith('schools.xlsx#Sheet1:4: expected capacity to be an integer ≥ 0, got "-3"') for line in lines
    ), lines


def test_a_bad_parquet_value_is_reported_on_its_line_as_in_a_csv_file(tmp_path: Path) -> None:
    schools = pd.DataFrame({"school_id": ["A", "B", "C"], "capacity": ["1", "2", "lots"]})
    lines = problems_of(tiny(tmp_path, "parquet", schools=schools))
    assert any(
        line.endswith('schools.parquet:4: expected capacity to be an integer ≥ 0, got "lots"') for line in lines
    ), lines


def test_excel_rows_keep_their_numbers_across_blank_rows(tmp_path: Path) -> None:
    config = tiny(tmp_path, "xlsx")
    workbook = tmp_path / "students.xlsx"
    frame = pd.DataFrame({"student_id": [7, None, None, 8, 8]})
    frame.to_excel(workbook, index=False)  # rows 3 and 4 blank; 8 repeated on row 6
    lines = problems_of(config)
    assert any(line.endswith("students.xlsx#Sheet1:6: duplicate student_id '8' (first on line 5)") for line in lines), (
        lines
    )


def test_a_sheet_that_is_not_there_is_named_with_the_ones_that_are(tmp_path: Path) -> None:
    config = tiny(tmp_path, "xlsx")
    document = yaml.safe_load(config.read_text())
    document["data"]["students"] = "students.xlsx#Pupils"
    config.write_text(yaml.safe_dump(document))
    lines = problems_of(config)
    assert any("students.xlsx#Pupils: expected a sheet named 'Pupils', got only: Sheet1" in line for line in lines), (
        lines
    )


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        ("students.xlsx", b"this is not a workbook", "expected an Excel workbook (.xlsx), got a file that is not one"),
        ("students.parquet", b"PAR1 not really", "expected a Parquet file, got one that cannot be read"),
        ("students.xls", b"\xd0\xcf\x11\xe0", "expected an .xlsx workbook, got an .xls file"),
    ],
)
def test_a_file_that_is_not_what_its_name_says_is_one_clean_problem(
    tmp_path: Path, name: str, content: bytes, expected: str
) -> None:
    config = tiny(tmp_path, "xlsx")
    (tmp_path / name).write_bytes(content)
    document = yaml.safe_load(config.read_text())
    document["data"]["students"] = name
    config.write_text(yaml.safe_dump(document))
    result = CliRunner().invoke(main, ["validate", str(config)])
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    assert any(expected in line for line in result.output.splitlines()), result.output


def test_a_hash_in_a_csv_file_name_is_part_of_the_name(tmp_path: Path) -> None:
    folder = tmp_path / "data"
    folder.mkdir()
    shutil.copy(tiny(tmp_path / "x", "xlsx").parent / "config.yaml", folder / "unused.yaml")
    (folder / "students#2024.csv").write_text("student_id\ns1\n")
    (folder / "schools.csv").write_text("school_id,capacity\nA,1\n")
    (folder / "preferences.csv").write_text("student_id,school_id,rank\ns1,A,1\n")
    config = folder / "config.yaml"
    config.write_text(
        yaml.safe_dump(
            {"data": {"students": "students#2024.csv", "schools": "schools.csv", "preferences": "preferences.csv"}}
        )
    )
    _, instance = load_inputs(config)
    assert instance.student_ids.tolist() == ["s1"]


def test_a_parquet_column_named_twice_is_said_as_in_a_csv_file(tmp_path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    config = tiny(tmp_path, "parquet")
    table = pa.table([pa.array(["7", "8"]), pa.array(["x", "y"])], names=["student_id", "student_id"])
    pq.write_table(table, tmp_path / "students.parquet")
    lines = problems_of(config)
    assert any(
        line.endswith("students.parquet:1: expected each column once, got 'student_id' twice") for line in lines
    ), lines
