"""Unreadable input: every problem named at once, as `file:line: message`."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from seatplan.auditor import AuditInputError, audit_files, audit_run

DATA = Path(__file__).resolve().parents[1] / "data" / "audit"


@pytest.fixture
def basic(tmp_path: Path) -> Path:
    shutil.copytree(DATA / "basic", tmp_path / "basic")
    return tmp_path / "basic"


def problems(folder: Path, assignment: str = "right.csv", config: str = "config.yaml") -> list[str]:
    with pytest.raises(AuditInputError) as caught:
        audit_files(folder / config, folder / assignment)
    return caught.value.lines()


def test_every_problem_is_reported_at_once(basic: Path) -> None:
    (basic / "schools.csv").write_text("school_id,name,capacity\nA,Adams,2\nB,Baker,-3\nA,Again,1\nC,Cole,1\n")
    (basic / "preferences.csv").write_text("student_id,school_id,rank\ns1,A,1\ns1,B,1\ns2,Q,1\n")
    lines = problems(basic)
    assert any(line.endswith('schools.csv:3: expected capacity to be an integer ≥ 0, got "-3"') for line in lines)
    assert any(line.endswith("schools.csv:4: duplicate school_id A (first on line 2)") for line in lines)
    assert any(line.endswith("preferences.csv:3: student s1 has rank 1 twice (first on line 2)") for line in lines)
    assert any(line.endswith('preferences.csv:4: unknown school_id "Q" (not in schools.csv)') for line in lines)


def test_missing_column_and_malformed_yaml(basic: Path) -> None:
    (basic / "right.csv").write_text("student_id,school_id\ns1,A\n")
    assert any(line.endswith("right.csv:1: missing column position") for line in problems(basic))
    (basic / "config.yaml").write_text("data: {students: [\n")
    (line,) = problems(basic)
    assert "config.yaml:" in line and "malformed YAML" in line


def test_unknown_key_names_the_nearest(basic: Path) -> None:
    (basic / "config.yaml").write_text(
        "data: {students: students.csv, schools: schools.csv, preferences: preferences.csv}\n"
        "compacts: {max_familes: 3}\n"
        "objective: {rnak: 2}\n"
        "diversity:\n  - {attribute: ses, category: low, band: [60, 40]}\n"
    )
    lines = problems(basic)
    assert any("config.yaml:2: unknown key compacts.max_familes (did you mean max_families?)" in x for x in lines)
    assert any("config.yaml:3: unknown objective term rnak" in x and "rank" in x for x in lines)
    assert any("config.yaml:5: expected diversity rule 1: band low ≤ high" in x for x in lines)


def test_attribute_named_by_a_rule_must_exist(basic: Path) -> None:
    with (basic / "config.yaml").open("a") as handle:
        handle.write("diversity:\n  - {attribute: ses, category: low, band: [0, 100]}\n")
    assert any(
        line.endswith("students.csv:1: missing column ses (named by a diversity rule)") for line in problems(basic)
    )


def test_ragged_row_and_bad_encoding(basic: Path) -> None:
    (basic / "students.csv").write_bytes(b"student_id\n\ns1\n  \ns2,extra\n")
    (basic / "schools.csv").write_bytes(b"school_id,capacity\n\xff\xfe,1\n")
    lines = problems(basic)
    assert any(line.endswith("students.csv:5: expected 1 fields, got 2") for line in lines)
    assert any("schools.csv: expected UTF-8 text" in line for line in lines)


def test_text_rules_bom_blanks_whitespace_and_leading_zeros(basic: Path) -> None:
    """A BOM, blank lines and padded values are fine; "007" stays "007", not 7."""
    (basic / "students.csv").write_text("\ufeffstudent_id\n 007 \n\n7\n", encoding="utf-8")
    (basic / "schools.csv").write_text("school_id , capacity\nA , 2\n")
    (basic / "preferences.csv").write_text("student_id,school_id,rank\n007,A,1\n7,A,1\n")
    (basic / "right.csv").write_text("student_id,school_id,position,compact_id\n007,A,1,\n\n 7 , A , 1 ,\n")
    assert audit_files(basic / "config.yaml", basic / "right.csv").passed


def test_a_run_folder_needs_its_three_files(tmp_path: Path) -> None:
    shutil.copytree(DATA / "run", tmp_path / "run")
    (tmp_path / "run" / "metrics.json").unlink()
    with pytest.raises(AuditInputError) as caught:
        audit_run(tmp_path / "run")
    assert caught.value.lines() == [f"{tmp_path / 'run' / 'metrics.json'}: file not found (every run folder has one)"]


def test_malformed_metrics(tmp_path: Path) -> None:
    shutil.copytree(DATA / "basic", tmp_path / "basic")
    folder = tmp_path / "basic"
    (folder / "m.json").write_text('{"status": "optimal",\n "objective": }')
    with pytest.raises(AuditInputError) as caught:
        audit_files(folder / "config.yaml", folder / "right.csv", folder / "m.json")
    assert "m.json:2: malformed JSON" in caught.value.lines()[0]
    (folder / "m.json").write_text('{"status": "optimal", "objective": 1.0}')
    with pytest.raises(AuditInputError) as caught:
        audit_files(folder / "config.yaml", folder / "right.csv", folder / "m.json")
    assert any(line.endswith("m.json: missing key terms") for line in caught.value.lines())


def test_unknown_top_level_keys_are_ignored_but_noted(basic: Path) -> None:
    with (basic / "config.yaml").open("a") as handle:
        handle.write("reporting: {weight: 3}\nsolver: {backend: cpsat}\nobjective_extra: 1\n")
    report = audit_files(basic / "config.yaml", basic / "right.csv")
    assert report.passed
    assert report.notes == ["config keys the auditor does not use were ignored: reporting, objective_extra"]


def test_crlf_and_quoted_fields(basic: Path) -> None:
    (basic / "schools.csv").write_bytes(
        b'school_id,name,capacity\r\nA,"Adams, John Q.",2\r\nB,"Baker\r\nAnnex",2\r\nC,Cole,1\r\n'
    )
    assert audit_files(basic / "config.yaml", basic / "right.csv").passed
    (basic / "schools.csv").write_bytes(b'school_id,name,capacity\r\nA,"Ad\r\nams",2\r\nB,Baker,x\r\n')
    assert any(
        line.endswith('schools.csv:4: expected capacity to be an integer ≥ 0, got "x"') for line in problems(basic)
    )


def test_seats_only_with_grades(basic: Path) -> None:
    (basic / "seats.csv").write_text("school_id,grade,capacity\nA,K,1\n")
    (basic / "config.yaml").write_text(
        "data: {students: students.csv, schools: schools.csv, preferences: preferences.csv,\n       seats: seats.csv}\n"
    )
    assert any("data.seats is given but students.csv has no grade column" in line for line in problems(basic))
    (basic / "students.csv").write_text("student_id,grade\ns1,K\ns2,K\ns3,K\ns4,K\ns5,\n")
    assert any(
        line.endswith("students.csv:6: expected a grade for student s5 (the file has a grade column)")
        for line in problems(basic)
    )
