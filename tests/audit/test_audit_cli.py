"""The click command: exit 0 pass, 1 broken, 2 unreadable input, never a traceback."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from click.testing import CliRunner

from seatplan.auditor.cli import audit_command

DATA = Path(__file__).resolve().parents[1] / "data" / "audit"


def invoke(*args: str | Path):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(audit_command, [str(a) for a in args])


def test_run_folder_passes_with_exit_0() -> None:
    result = invoke(DATA / "run")
    assert result.exit_code == 0, result.output
    assert "audit: pass" in result.output


def test_broken_rule_exits_1_and_prints_the_evidence() -> None:
    result = invoke(DATA / "basic" / "config.yaml", DATA / "basic" / "over_capacity.csv")
    assert result.exit_code == 1
    assert "capacity: FAIL — school A holds 3, capacity 2 (over by 1)" in result.output


def test_metrics_option_and_json_document() -> None:
    result = invoke(
        DATA / "objective" / "config.yaml",
        DATA / "objective" / "right.csv",
        "--metrics",
        DATA / "objective" / "metrics_wrong_distance.json",
        "--json",
    )
    assert result.exit_code == 1
    document = json.loads(result.output)
    assert document["passed"] is False
    (objective,) = [r for r in document["rules"] if r["rule"] == "objective"]
    assert objective["violations"][0]["term"] == "distance"
    assert objective["violations"][0]["amount"] == 0.02
    assert document["objective"]["terms"]["distance"] == 422.54


def test_stale_run_exits_1() -> None:
    result = invoke(DATA / "run_stale")
    assert result.exit_code == 1
    assert "data_integrity: FAIL — schools" in result.output


def test_unreadable_input_exits_2_without_traceback(tmp_path: Path) -> None:
    result = invoke(tmp_path / "nowhere")
    assert result.exit_code == 2
    assert isinstance(result.exception, SystemExit)  # a clean exit, not a crash
    assert "Traceback" not in result.output
    assert "not a run folder" in result.output


def test_missing_data_file_exits_2_naming_the_config_line(tmp_path: Path) -> None:
    shutil.copytree(DATA / "basic", tmp_path / "basic")
    (tmp_path / "basic" / "schools.csv").unlink()
    result = invoke(tmp_path / "basic" / "config.yaml", tmp_path / "basic" / "right.csv")
    assert result.exit_code == 2
    assert isinstance(result.exception, SystemExit)
    assert "config.yaml:3: data.schools: file not found" in result.output


def test_metrics_with_a_run_folder_is_a_usage_error() -> None:
    result = invoke(DATA / "run", "--metrics", DATA / "run" / "metrics.json")
    assert result.exit_code == 2


def test_long_violation_lists_are_capped_but_counted(tmp_path: Path) -> None:
    folder = tmp_path / "many"
    folder.mkdir()
    (folder / "students.csv").write_text("student_id\n" + "".join(f"x{i}\n" for i in range(30)))
    (folder / "schools.csv").write_text("school_id,capacity\nA,0\n")
    (folder / "preferences.csv").write_text("student_id,school_id,rank\n" + "".join(f"x{i},A,1\n" for i in range(30)))
    (folder / "config.yaml").write_text(
        "data: {students: students.csv, schools: schools.csv, preferences: preferences.csv}\n"
    )
    (folder / "assignment.csv").write_text(
        "student_id,school_id,position,compact_id\n" + "".join(f"x{i},A,2,\n" for i in range(30))
    )
    result = invoke(folder / "config.yaml", folder / "assignment.csv")
    assert result.exit_code == 1
    assert "position_column: FAIL — 30 violations" in result.output
    assert "… and 10 more" in result.output
    document = json.loads(invoke(folder / "config.yaml", folder / "assignment.csv", "--json").output)
    (position,) = [r for r in document["rules"] if r["rule"] == "position_column"]
    assert position["violation_count"] == 30 and len(position["violations"]) == 30
