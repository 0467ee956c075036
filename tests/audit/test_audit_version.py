"""`seatplan audit` says when a run folder was made by another seatplan version than its own — a
note, never a failure: the verdict and the exit code stay the audit's (issue 16)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from seatplan.auditor import audit_run
from seatplan.solver.cli import main
from seatplan.solver.metrics import VERSION
from tests.conftest import write_case

STUDENTS = "student_id\ns1\ns2\n"
SCHOOLS = "school_id,capacity\nA,1\nB,1\n"
PREFERENCES = "student_id,school_id,rank\ns1,A,1\ns2,A,1\ns2,B,2\n"


@pytest.fixture(scope="module")
def solved(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("version")
    config = write_case(
        folder / "data", STUDENTS, SCHOOLS, PREFERENCES, config={"solver": {"backend": "cpsat", "workers": 1}}
    )
    out = folder / "runs" / "case"
    result = CliRunner().invoke(main, ["solve", str(config), "--out", str(out), "--quiet"])
    assert result.exit_code == 0, result.output
    return out


def with_version(solved: Path, name: str, version: str | None) -> Path:
    """A copy of the run beside it whose metrics.json names `version` (or none)."""
    folder = solved.parent / name
    shutil.copytree(solved, folder)
    metrics = json.loads((folder / "metrics.json").read_text(encoding="utf-8"))
    if version is None:
        del metrics["seatplan_version"]
    else:
        metrics["seatplan_version"] = version
    (folder / "metrics.json").write_text(json.dumps(metrics), encoding="utf-8")
    return folder


def test_a_run_of_this_version_has_no_note(solved: Path) -> None:
    report = audit_run(solved)
    assert report.passed and report.notes == []
    assert report.to_json()["seatplan_version"] == {"run": VERSION, "auditor": VERSION}


def test_a_run_of_another_version_is_noted_and_still_passes(solved: Path) -> None:
    folder = with_version(solved, "older", "0.0.9")
    result = CliRunner().invoke(main, ["audit", str(folder)])
    assert result.exit_code == 0, result.output
    note = f"note: this run was produced by seatplan 0.0.9; this auditor is seatplan {VERSION}"
    assert result.output.splitlines()[0] == note
    assert result.output.rstrip().endswith("audit: pass — every rule holds")
    result = CliRunner().invoke(main, ["audit", str(folder), "--json"])
    assert result.exit_code == 0, result.output
    document = json.loads(result.output)
    assert document["passed"] and document["notes"] == [note.removeprefix("note: ")]
    assert document["seatplan_version"] == {"run": "0.0.9", "auditor": VERSION}


def test_a_broken_run_of_another_version_still_fails(solved: Path) -> None:
    folder = with_version(solved, "older-broken", "0.0.9")
    (folder / "assignment.csv").write_text(
        "student_id,school_id,position,compact_id\ns1,A,1,\ns2,A,1,\n", encoding="utf-8"
    )
    result = CliRunner().invoke(main, ["audit", str(folder)])
    assert result.exit_code == 1, result.output
    assert result.output.startswith("note: this run was produced by seatplan 0.0.9")


def test_a_run_that_names_no_version_is_noted(solved: Path) -> None:
    report = audit_run(with_version(solved, "unnamed", None))
    assert report.passed
    assert report.notes == [
        f"metrics.json does not name the seatplan version that produced this run; this auditor is seatplan {VERSION}"
    ]
    assert report.to_json()["seatplan_version"] == {"run": None, "auditor": VERSION}
