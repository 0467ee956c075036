"""`seatplan explain`, `seatplan cutoffs`, infeasibility in words and `audit --explanations`, end to
end through the command line (click's runner), on the demo's runs and on small hand-made cases."""

from __future__ import annotations

import csv
import io
import json
import re
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

import seatplan
from seatplan.solver.cli import main

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "configs" / "demo.yaml"
DA = ROOT / "configs" / "scenarios" / "deferred_acceptance.yaml"
FAMILY_SPLIT = ROOT / "tests" / "data" / "explain" / "family_split" / "config.yaml"
PROBLEM_LINE = re.compile(r"^[^:\s][^:]*(:\d+)?: \S")
REASON_KEYS = {
    "school_id",
    "position",
    "kind",
    "cutoff",
    "student_key",
    "cost",
    "cost_is_bound",
    "terms",
    "rule",
    "text",
}


def run(*args: str) -> Result:
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


@pytest.fixture(scope="module")
def da_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("explain") / "da"
    assert run("solve", DA, "--out", folder, "--quiet").exit_code == 0
    return folder


@pytest.fixture(scope="module")
def small_optimised(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A district small enough for re-solves: two schools, a soft band, a compact."""
    base = tmp_path_factory.mktemp("small")
    (base / "students.csv").write_text(
        "student_id,family_id,ses\n" + "".join(f"S{k},F{k},{'low' if k % 3 == 0 else 'high'}\n" for k in range(12))
    )
    (base / "schools.csv").write_text(
        "school_id,name,capacity,under_selected\nA,Hale,4,false\nB,Park,5,true\nC,Vale,6,false\n"
    )
    prefs = ["student_id,school_id,rank"]
    for k in range(12):
        order = ["A", "B", "C"] if k % 2 == 0 else ["A", "C", "B"]
        prefs += [f"S{k},{j},{r}" for r, j in enumerate(order, start=1)]
    (base / "preferences.csv").write_text("\n".join(prefs) + "\n")
    (base / "compacts.csv").write_text("compact_id,family_id,school_id\nK1,F1,B\nK1,F2,B\n")
    (base / "config.yaml").write_text(
        "name: small\ndata: {students: students.csv, schools: schools.csv, preferences: preferences.csv, "
        "compacts: compacts.csv}\n"
        "diversity:\n  - {attribute: ses, category: low, scope: school, band: [20, 60], mode: soft, weight: 5}\n"
        "objective: {rank: 1, unassigned: 100, broken_compact: 3}\n"
        "solver: {workers: 1}\n"
    )
    folder = base / "run"
    assert run("solve", base / "config.yaml", "--out", folder, "--quiet").exit_code == 0
    return folder


def rows_of(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


# ---- explain on deferred acceptance: cutoffs ------------------------------------------------


def test_explain_json_has_the_contract_shape(da_run: Path) -> None:
    assignment = rows_of((da_run / "assignment.csv").read_text())
    student = next(row for row in assignment if row["position"] and int(row["position"]) >= 3)
    result = run("explain", da_run, student["student_id"], "--json")
    assert result.exit_code == 0, result.output
    document = json.loads(result.output)
    assert set(document) == {"student_id", "school_id", "position", "reasons"}
    assert document["school_id"] == student["school_id"]
    assert document["position"] == int(student["position"])
    assert len(document["reasons"]) == int(student["position"]) - 1
    assert [r["position"] for r in document["reasons"]] == list(range(1, int(student["position"])))
    for reason in document["reasons"]:
        assert set(reason) == REASON_KEYS
        assert reason["kind"] == "cutoff"
        assert set(reason["cutoff"]) == {"priority", "lottery"} == set(reason["student_key"])
        # The school ranks the cutoff above the student: priority first, then the lottery number.
        cutoff, mine = reason["cutoff"], reason["student_key"]
        assert (-cutoff["priority"], cutoff["lottery"]) < (-mine["priority"], mine["lottery"])
        assert reason["cost"] is None and reason["cost_is_bound"] is False and reason["rule"] is None


def test_explain_text_for_a_parent(da_run: Path) -> None:
    assignment = rows_of((da_run / "assignment.csv").read_text())
    student = next(row for row in assignment if row["position"] == "2")
    result = run("explain", da_run, student["student_id"])
    assert result.exit_code == 0
    assert "is placed at" in result.output and "2nd choice" in result.output
    assert "it was full" in result.output and "every student it admitted ranked ahead" in result.output
    assert "lottery place" in result.output and "lottery number" in result.output


def test_explain_unplaced_student_gives_every_listed_school(tmp_path: Path) -> None:
    folder = tmp_path / "case"
    folder.mkdir()
    (folder / "students.csv").write_text("student_id,lottery\nS1,1\nS2,2\n")
    (folder / "schools.csv").write_text("school_id,capacity\nA,1\nB,0\n")
    (folder / "preferences.csv").write_text("student_id,school_id,rank\nS1,A,1\nS2,A,1\nS2,B,2\n")
    (folder / "config.yaml").write_text(
        "name: tiny\nmechanism: deferred_acceptance\n"
        "data: {students: students.csv, schools: schools.csv, preferences: preferences.csv}\n"
    )
    assert run("solve", folder / "config.yaml", "--out", tmp_path / "run", "--quiet").exit_code == 0
    document = json.loads(run("explain", tmp_path / "run", "S2", "--json").output)
    assert document["school_id"] is None and document["position"] is None
    assert [(r["school_id"], r["kind"]) for r in document["reasons"]] == [("A", "cutoff"), ("B", "rule")]
    assert document["reasons"][0]["cutoff"] == {"priority": 0, "lottery": 1}
    assert document["reasons"][0]["student_key"] == {"priority": 0, "lottery": 2}
    text = run("explain", tmp_path / "run", "S2").output
    assert "has no school" in text and "no seats" in text


def test_explain_all_agrees_with_each_student(da_run: Path, tmp_path: Path) -> None:
    out = tmp_path / "all.csv"
    result = run("explain", da_run, "--all", "--out", out)
    assert result.exit_code == 0, result.output
    rows = rows_of(out.read_text())
    students = {row["student_id"] for row in rows}
    assert len(students) == 3000
    sample = [row["student_id"] for row in rows if row["reason_position"] == "3"][:3]
    for sid in sample:
        document = json.loads(run("explain", da_run, sid, "--json").output)
        mine = [row for row in rows if row["student_id"] == sid]
        assert [row["reason_school_id"] for row in mine] == [r["school_id"] for r in document["reasons"]]
        assert [row["text"] for row in mine] == [r["text"] for r in document["reasons"]]
        assert [row["cutoff_lottery"] for row in mine] == [str(r["cutoff"]["lottery"]) for r in document["reasons"]]
    again = run("explain", da_run, "--all", "--out", out)
    assert again.exit_code == 2 and "--overwrite" in again.output


def test_audit_checks_cutoff_explanations(da_run: Path, tmp_path: Path) -> None:
    assignment = rows_of((da_run / "assignment.csv").read_text())
    student = next(row for row in assignment if row["position"] and int(row["position"]) >= 3)
    document = json.loads(run("explain", da_run, student["student_id"], "--json").output)
    good = tmp_path / "good.json"
    good.write_text(json.dumps(document))
    passed = run("audit", da_run, "--explanations", good)
    assert passed.exit_code == 0 and "explanations: pass" in passed.output
    # A cutoff that is not the school's last admitted student (another school's) is caught.
    document["reasons"][1]["cutoff"] = document["reasons"][0]["cutoff"]
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(document))
    failed = run("audit", da_run, "--explanations", bad)
    assert failed.exit_code == 1 and "explanations: FAIL" in failed.output
    # explanations.csv is read too.
    run("explain", da_run, "--all", "--out", tmp_path / "all.csv")
    assert run("audit", da_run, "--explanations", tmp_path / "all.csv").exit_code == 0


# ---- cutoffs ------------------------------------------------------------------------------------


def test_cutoffs_formats(da_run: Path) -> None:
    table = rows_of(run("cutoffs", da_run, "--format", "csv").output)
    assert list(table[0]) == [
        "school_id",
        "seats",
        "applicants",
        "first_choice_applicants",
        "placed",
        "placed_through_compacts",
        "cutoff_priority",
        "cutoff_lottery",
        "cutoff",
        "waitlist",
    ]
    assert len(table) == 30
    for row in table:
        full = int(row["placed"]) >= int(row["seats"])
        assert (row["cutoff_lottery"] != "") == full
        assert row["cutoff"].startswith("priority") if full else row["cutoff"] == "no cutoff (not full)"
        assert int(row["first_choice_applicants"]) <= int(row["applicants"])
        if not full:
            assert row["waitlist"] == "0"  # DA: nobody waits for a school with a free seat
    document = json.loads(run("cutoffs", da_run, "--format", "json").output)
    assert len(document) == 30 and isinstance(document[0]["seats"], int)
    assert run("cutoffs", da_run, "--format", "markdown").output.startswith("| school_id |")


def test_cutoffs_of_an_optimised_plan_say_not_meaningful(small_optimised: Path) -> None:
    result = run("cutoffs", small_optimised)
    assert result.exit_code == 0
    assert "not meaningful" in result.output and "stability: hard" in result.output


# ---- explain on an optimised run: prices ---------------------------------------------------


def test_explain_costs_on_an_optimised_run(small_optimised: Path) -> None:
    assignment = rows_of((small_optimised / "assignment.csv").read_text())
    worst = max((row for row in assignment if row["position"]), key=lambda row: int(row["position"]))
    document = json.loads(run("explain", small_optimised, worst["student_id"], "--json").output)
    assert document["reasons"]
    for reason in document["reasons"]:
        assert reason["kind"] in ("cost", "rule")
        if reason["kind"] == "cost":
            assert reason["cost"] >= 0 and reason["cost_is_bound"] is False  # the plan is proven optimal
            assert sum(reason["terms"].values()) == pytest.approx(reason["cost"])


def test_price_of_every_rule(small_optimised: Path) -> None:
    result = run("explain", small_optimised, "--rules", "--format", "csv")
    assert result.exit_code == 0, result.output
    rows = rows_of(result.output)
    assert [row["rule"] for row in rows] == ["the plan", "diversity[0] ses=low by school", "compacts"]
    plan = float(rows[0]["objective"])
    for row in rows[1:]:
        assert row["status"] == "optimal"
        # Each rule relaxed from the plan's own assignment: never worse by its own objective, and
        # the rest of the objective (the rule's own term left out) never worse than the plan's.
        assert float(row["objective"]) <= plan + 1e-9
        assert float(row["Δ other terms"]) <= 1e-9


# ---- infeasibility in words ------------------------------------------------------------------


def test_infeasible_solve_names_the_rules(tmp_path: Path) -> None:
    config = tmp_path / "case" / "config.yaml"
    shutil.copytree(FAMILY_SPLIT.parent, config.parent)
    result = CliRunner().invoke(main, ["solve", str(config), "--out", str(tmp_path / "runs" / "x"), "--quiet"])
    assert result.exit_code == 1
    assert not (tmp_path / "runs" / "x").exists()
    document = json.loads((tmp_path / "runs" / "infeasibility.json").read_text())
    assert document["minimal"] is True
    assert [(rule["key"], rule["line"]) for rule in document["rules"]] == [
        ("stability.mode", 4),
        ("families.together", 5),
    ]
    assert "family F1" in result.output and "stability: hard" in result.output
    assert "Traceback" not in result.output


# ---- bad input -------------------------------------------------------------------------------


def test_bad_input_is_one_line_and_exit_2(da_run: Path, small_optimised: Path, tmp_path: Path) -> None:
    cases = [
        ("explain", da_run, "NOBODY"),
        ("explain", da_run, "--rules"),
        ("explain", tmp_path / "missing", "S1"),
    ]
    students = tmp_path / "students.txt"
    students.write_text("student_id\nS000001\n")
    cases.append(("explain", da_run, "--all", "--students", students, "--out", tmp_path / "x.csv"))
    for args in cases:
        result = run(*args)
        assert result.exit_code == 2, (args, result.output)
        lines = result.output.strip().splitlines()
        assert len(lines) == 1 and PROBLEM_LINE.match(lines[0]), (args, result.output)
    # A run whose data changed since: refused on the data's line in config.yaml.
    copy = tmp_path / "changed"
    shutil.copytree(small_optimised.parent, copy, ignore=shutil.ignore_patterns("run"))
    shutil.copytree(small_optimised, copy / "run")
    text = (copy / "run" / "config.yaml").read_text().replace(str(small_optimised.parent), str(copy))
    (copy / "run" / "config.yaml").write_text(text)
    with (copy / "students.csv").open("a") as handle:
        handle.write("S99,F99,low\n")
    result = run("explain", copy / "run", "S1")
    assert result.exit_code == 2 and "has changed since this run" in result.output


def test_a_hard_band_is_named_as_in_the_config(tmp_path: Path) -> None:
    """S2 (not low-income) listed A first; A has one seat and a hard band of at least half low-income
    students at every school: seating S2 at A is impossible, and the reason names the band's line."""
    folder = tmp_path / "case"
    folder.mkdir()
    (folder / "students.csv").write_text("student_id,ses\nS1,low\nS2,high\nS3,low\n")
    (folder / "schools.csv").write_text("school_id,capacity\nA,1\nB,2\n")
    (folder / "preferences.csv").write_text("student_id,school_id,rank\nS1,A,1\nS1,B,2\nS2,A,1\nS2,B,2\nS3,B,1\n")
    (folder / "config.yaml").write_text(
        "name: band\n"
        "data: {students: students.csv, schools: schools.csv, preferences: preferences.csv}\n"
        "diversity:\n"
        "  - {attribute: ses, category: low, scope: school, band: [50, 100], mode: hard}\n"
    )
    assert run("solve", folder / "config.yaml", "--out", tmp_path / "run", "--quiet").exit_code == 0
    document = json.loads(run("explain", tmp_path / "run", "S2", "--json").output)
    assert document["school_id"] == "B"
    (reason,) = document["reasons"]
    assert reason["kind"] == "rule" and reason["cost"] is None
    # Named by the run folder's own config.yaml (the one an auditor reads), at the rule's line.
    where, key = reason["rule"].rsplit(" ", 1)
    assert key == "diversity[0]" and where.startswith(str(tmp_path / "run" / "config.yaml"))
    line = int(where.rsplit(":", 1)[1])
    assert "attribute: ses" in (tmp_path / "run" / "config.yaml").read_text().splitlines()[line - 1]
    assert "ses = low at school A" in reason["text"]


def test_price_leaves_the_rules_own_term_out(tmp_path: Path) -> None:
    """On the demo, keeping students in their clusters (a soft rule, weight 2) is priced by what the
    rest of the objective gains without it: not by the 634.00 its own term is worth."""
    assert run("solve", DEMO, "--out", tmp_path / "demo", "--quiet").exit_code == 0
    plan = json.loads((tmp_path / "demo" / "metrics.json").read_text())
    rows = rows_of(run("explain", tmp_path / "demo", "--rules", "--format", "csv").output)
    clusters = next(row for row in rows if row["rule"] == "clusters")
    rest_of_plan = plan["objective"] - plan["terms"]["outside_cluster"]
    assert plan["terms"]["outside_cluster"] > 0
    assert float(clusters["Δ other terms"]) == pytest.approx(float(clusters["objective"]) - rest_of_plan)
    assert float(clusters["Δ other terms"]) <= 0


def test_why_infeasible_in_python() -> None:
    result = seatplan.solve(FAMILY_SPLIT)
    assert result.status == "infeasible"
    document = seatplan.why_infeasible(result)
    assert document is not None and document["minimal"]
    assert [rule["key"] for rule in document["rules"]] == ["stability.mode", "families.together"]
    assert seatplan.why_infeasible(seatplan.solve(DA)) is None


# ---- immediate acceptance and top trading cycles: their rounds -------------------------------------


@pytest.mark.parametrize(
    ("scenario", "words"),
    [
        ("immediate_acceptance", "How immediate acceptance works: in round 1 each school gives its seats"),
        ("top_trading_cycles", "How top trading cycles works: at each step every unplaced student names"),
    ],
)
def test_explain_tells_the_rounds_of_the_other_mechanisms(tmp_path: Path, scenario: str, words: str) -> None:
    """Every reason of these runs is its mechanism's rounds (tests/oracles/test_explain_mechanisms.py
    checks them against the literal mechanisms); a run whose placements are not the mechanism's on
    its data is refused, not explained."""
    folder = tmp_path / "run"
    solved = run("solve", ROOT / "configs" / "scenarios" / f"{scenario}.yaml", "--out", folder, "--quiet")
    assert solved.exit_code == 0, solved.output
    rows = list(csv.DictReader((folder / "assignment.csv").open()))
    lower = next(row for row in rows if row["position"] and int(row["position"]) >= 3)
    result = run("explain", folder, lower["student_id"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    reasons = [line for line in lines if line.startswith("  ")]
    assert len(reasons) == int(lower["position"]) - 1, result.output
    assert all(" round " in line or " step " in line for line in reasons), result.output
    assert lines[-1].startswith(words) and result.output.count(words) == 1, result.output
    assert "no reason in the rounds" not in result.output
    # Two students of different schools swapped: no longer what the mechanism gives.
    other = next(row for row in rows if row["school_id"] and row["school_id"] != lower["school_id"])
    lower["school_id"], other["school_id"] = other["school_id"], lower["school_id"]
    lower["position"] = other["position"] = ""
    with (folder / "assignment.csv").open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    result = run("explain", folder, lower["student_id"])
    assert result.exit_code == 2, result.output
    assert f"expected the placements {scenario} gives on the run's data files, got 2 students placed otherwise" in (
        result.stderr
    ), result.stderr


def test_immediate_acceptance_skips_a_school_the_student_may_not_attend(tmp_path: Path) -> None:
    """c lists X (not eligible), Y, Z: it applies to Y in round 1 and to Z in round 2, and is told so,
    with the family's own ranks."""
    (tmp_path / "students.csv").write_text("student_id,lottery\na,0.1\nb,0.2\nc,0.3\n")
    (tmp_path / "schools.csv").write_text("school_id,capacity\nX,1\nY,1\nZ,1\n")
    (tmp_path / "preferences.csv").write_text("student_id,school_id,rank\na,Y,1\nb,Z,1\nc,X,1\nc,Y,2\nc,Z,3\n")
    (tmp_path / "priorities.csv").write_text("student_id,school_id,eligible\nc,X,false\n")
    (tmp_path / "config.yaml").write_text(
        "name: skip\nmechanism: immediate_acceptance\ndata: {students: students.csv, schools: schools.csv, "
        "preferences: preferences.csv, priorities: priorities.csv}\n"
    )
    assert run("solve", tmp_path / "config.yaml", "--out", tmp_path / "run", "--quiet").exit_code == 0
    lines = run("explain", tmp_path / "run", "c").output.splitlines()
    assert lines[1].startswith("  1st choice, X: c is not eligible there"), lines
    assert lines[2].startswith("  2nd choice, Y: it filled up in round 1, the round c applied there."), lines
    assert lines[3] == (
        "  3rd choice, Z: all its seats went by round 1 to students who ranked it higher on their lists than c did. "
        "c ranked it 3rd (2nd among the schools where c is eligible), so could only apply there in round 2, when no "
        "seat was left. Priority group and lottery did not come into it."
    ), lines
