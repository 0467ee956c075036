"""Ids a spreadsheet would take for formulas (issue 16): every CSV seatplan writes guards them with
one leading ', seatplan's own readers and the auditor read them back exactly, and the --xlsx
workbook stores them as text, never as formulas."""

from __future__ import annotations

import io
import json
import shutil
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pyarrow as pa
import pytest
from click.testing import CliRunner, Result

from seatplan.auditor import audit_run
from seatplan.auditor.assignment import read_assignment
from seatplan.auditor.errors import Problems
from seatplan.auditor.tables import unguard as auditor_unguard
from seatplan.models.tables import FORMULA_STARTS, guard_arrow, guard_text, guarded, unguard_text, unguarded
from seatplan.solver.cli import main
from seatplan.solver.runfolder import read_run
from tests.conftest import write_case

# Students, families, schools and a compact, all named like formulas (and one like a guarded id).
# The compact {=1+1, +SUM(A1)} is honored at =1+1; everyone else gets a first choice.
STUDENTS = """\
student_id,family_id
=1+1,=1+1
+SUM(A1),+SUM(A1)
-2,-2
@cmd,@cmd
'quoted,'quoted
"""
SCHOOLS = """\
school_id,capacity
=1+1,2
-2,1
@cmd,1
'quoted,1
+SUM(A1),1
"""
PREFERENCES = """\
student_id,school_id,rank
=1+1,-2,1
=1+1,=1+1,2
+SUM(A1),-2,1
+SUM(A1),@cmd,2
-2,-2,1
@cmd,@cmd,1
'quoted,'quoted,1
'quoted,+SUM(A1),2
"""
COMPACTS = """\
compact_id,family_id,school_id
=1+1,=1+1,=1+1
=1+1,+SUM(A1),=1+1
"""
ASSIGNMENT = """\
student_id,school_id,position,compact_id
'=1+1,'=1+1,2,'=1+1
'+SUM(A1),'=1+1,,'=1+1
'-2,'-2,1,
'@cmd,'@cmd,1,
''quoted,''quoted,1,
"""
IDS = ["=1+1", "+SUM(A1)", "-2", "@cmd", "'quoted"]


def run(*args: str | Path) -> Result:
    return CliRunner().invoke(main, [str(a) for a in args])


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The district solved, with its classroom stage, into a run folder."""
    folder = tmp_path_factory.mktemp("hostile")
    config = write_case(
        folder / "data",
        STUDENTS,
        SCHOOLS,
        PREFERENCES,
        compacts=COMPACTS,
        config={
            "compacts": {"require_under_selected": False, "max_share": 100},
            "solver": {"backend": "cpsat", "workers": 1, "time_limit": 20},
            "sections": {"size": 2},
        },
        name="hostile",
    )
    result = run("solve", config, "--out", folder / "run", "--quiet")
    assert result.exit_code == 0, result.output
    return folder / "run"


def test_assignment_csv_guards_every_id_and_no_position(hostile: Path) -> None:
    assert (hostile / "assignment.csv").read_text(encoding="utf-8") == ASSIGNMENT


def test_classrooms_csv_guards_its_cells(hostile: Path) -> None:
    frame = pd.read_csv(hostile / "classrooms.csv", dtype=str, keep_default_na=False)
    assert frame["student_id"].tolist() == ["'" + sid for sid in IDS]
    assert frame["classroom_id"].str.startswith("'").all()


def test_the_audit_passes_and_reads_every_id_exactly(hostile: Path) -> None:
    report = audit_run(hostile)
    assert report.passed, report.to_text()
    assert report.rule("sections").passed
    problems = Problems()
    rows = read_assignment(hostile / "assignment.csv", problems)
    assert rows is not None and not problems
    assert [row.student for row in rows] == IDS
    assert [row.school for row in rows] == ["=1+1", "=1+1", "-2", "@cmd", "'quoted"]
    assert [row.compact_id for row in rows] == ["=1+1", "=1+1", "", "", ""]
    assert [row.position for row in rows] == ["2", "", "1", "1", "1"]


def test_seatplan_reads_its_own_run_folder_back_exactly(hostile: Path) -> None:
    folder = read_run(hostile)
    schools = np.where(folder.school >= 0, folder.instance.school_ids[np.maximum(folder.school, 0)], "")
    assert schools.tolist() == ["=1+1", "=1+1", "-2", "@cmd", "'quoted"]
    assert folder.position.tolist() == [2, 0, 1, 1, 1]
    assert folder.through_compact.tolist() == [True, True, False, False, False]


def test_the_report_and_explain_read_the_run_folder(hostile: Path, tmp_path: Path) -> None:
    result = run("report", hostile, "--out", tmp_path / "report.html")
    assert result.exit_code == 0, result.output
    for student, school in (("'quoted", "'quoted"), ("-2", "-2"), ("@cmd", "@cmd")):
        result = run("explain", hostile, "--", student)
        assert result.exit_code == 0, result.output
        assert result.output.startswith(f"{student} is placed at {school},"), result.output


def test_explanations_csv_is_guarded_and_the_auditor_reads_it(hostile: Path, tmp_path: Path) -> None:
    target = tmp_path / "explanations.csv"
    result = run("explain", hostile, "--all", "--out", target)
    assert result.exit_code == 0, result.output
    frame = pd.read_csv(target, dtype=str, keep_default_na=False)
    assert set(frame["student_id"]) == {"'" + sid for sid in IDS}
    result = run("audit", hostile, "--explanations", target)
    assert result.exit_code == 0, result.output


def test_the_csv_of_cutoffs_and_compare_is_guarded(hostile: Path) -> None:
    result = run("cutoffs", hostile, "--format", "csv")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert {line.split(",")[0] for line in lines[1:]} == {"'=1+1", "'-2", "'@cmd", "''quoted", "'+SUM(A1)"}
    # Numbers are never guarded: the seats column is plain.
    assert all(line.split(",")[1].isdigit() for line in lines[1:])


def test_rosters_are_guarded_and_the_report_reads_them_back(hostile: Path, tmp_path: Path) -> None:
    folder = hostile.parent / "with-rosters"  # beside the run: its data paths hold
    shutil.copytree(hostile, folder)
    families = tmp_path / "families.csv"
    families.write_text(
        "family_id,display_name,consent\n=1+1,=cmd|' /C calc'!A0,true\n+SUM(A1),Bob,true\n", encoding="utf-8"
    )
    result = run("rosters", folder, "--families", families)
    assert result.exit_code == 0, result.output
    text = (folder / "rosters.csv").read_text(encoding="utf-8")
    assert "'=cmd|' /C calc'!A0; Bob" in text
    result = run("report", folder, "--out", tmp_path / "report.html")
    assert result.exit_code == 0, result.output
    page = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert "=cmd|&#39; /C calc&#39;!A0; Bob" in page and "&#39;=cmd|" not in page


def test_the_xlsx_export_stores_ids_as_text(hostile: Path, tmp_path: Path) -> None:
    xlsx = tmp_path / "report.xlsx"
    result = run("report", hostile, "--out", tmp_path / "report.html", "--xlsx", xlsx)
    assert result.exit_code == 0, result.output
    book = openpyxl.load_workbook(xlsx)
    cells = {cell.value: cell for sheet in book for row in sheet.iter_rows() for cell in row if cell.value in IDS}
    assert set(cells) >= {"=1+1", "-2", "@cmd", "'quoted"}
    for value, cell in cells.items():
        assert cell.data_type == "s", value
    assert cells["=1+1"].quotePrefix and not cells["'quoted"].quotePrefix
    assert not any(cell.data_type == "f" for sheet in book for row in sheet.iter_rows() for cell in row)


# ---- the rule itself ----------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["=1+1", "+1", "-2", "@a", "\tx", "\rx", "'q", "''q", "plain", "", "7"])
def test_guarding_is_undone_exactly_on_both_sides(value: str) -> None:
    written = guard_text(value)
    assert written.startswith("'") == value.startswith((*FORMULA_STARTS, "'"))
    assert unguard_text(written) == value
    assert auditor_unguard(written) == value  # the auditor's own copy of the rule agrees


def test_numbers_are_never_guarded_but_text_that_looks_like_one_is() -> None:
    frame = pd.DataFrame({"id": ["-3", "a", None], "weight": [-3, 2, 1], "share": [-0.5, 1.0, np.nan]})
    written = guarded(frame).to_csv(index=False)
    assert written.splitlines() == ["id,weight,share", "'-3,-3,-0.5", "a,2,1.0", ",1,"]
    read = unguarded(pd.read_csv(io.StringIO(written), dtype=str, keep_default_na=False))
    assert read["id"].tolist() == ["-3", "a", ""] and read["weight"].tolist() == ["-3", "2", "1"]
    assert guard_arrow(pa.array(["=a", "b", "'q"], type=pa.large_string())).to_pylist() == ["'=a", "b", "''q"]


def test_metrics_json_keeps_ids_as_they_are(hostile: Path) -> None:
    # JSON is not read by a spreadsheet: the ids stay exact there.
    metrics = json.loads((hostile / "metrics.json").read_text(encoding="utf-8"))
    assert {row["school_id"] for row in metrics["schools"]} == {"=1+1", "-2", "@cmd", "'quoted", "+SUM(A1)"}
