"""The classroom stage end to end: `seatplan sections` (its own config, the solve config's block,
--out), `seatplan rosters`, the report's pages, bad input, infeasibility in words, and the auditor's
`sections` rule passing what seatplan writes and failing hand-made wrong classrooms."""

from __future__ import annotations

import csv
import json
import re
import shutil
import textwrap
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import yaml
from click.testing import CliRunner, Result

import seatplan
from seatplan.solver import classrooms as stage
from seatplan.solver.cli import main
from seatplan.solver.runfolder import read_run
from tests.conftest import write_case

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "configs" / "demo.yaml"
DEMO_SECTIONS = ROOT / "configs" / "sections.yaml"
SCENARIO = ROOT / "configs" / "scenarios" / "sections.yaml"
PROBLEM_LINE = re.compile(r"^[^:\s][^:]*(:\d+)?: \S")  # file[:line]: message

# School C (under-selected) takes a compact of f4 (twins s5, s6) and f5 (s7), f1's twins, f2 and
# f3: seven students. A takes f6. B is chosen by nobody.
STUDENTS = """\
student_id,family_id,ses
s1,f1,low
s2,f1,low
s3,f2,high
s4,f3,low
s5,f4,high
s6,f4,high
s7,f5,low
s8,f6,low
"""
SCHOOLS = """\
school_id,name,capacity,under_selected
A,North,5,false
B,South,3,false
C,Charter,10,true
"""
PREFERENCES = """\
student_id,school_id,rank
s1,C,1
s2,C,1
s3,C,1
s4,C,1
s5,C,1
s6,C,1
s7,C,1
s8,A,1
"""
COMPACTS = """\
compact_id,family_id,school_id
K1,f4,C
K1,f5,C
"""
CHOICES = """\
family_id,compact_classroom
f1,yes
f2,no
f3,either
"""


def run(*args: str | Path) -> Result:
    return CliRunner().invoke(main, [str(a) for a in args])


def bad_input(result: Result) -> list[str]:
    """Exit 2 with no traceback, every line `file:line: message`."""
    assert result.exit_code == 2, result.output
    assert isinstance(result.exception, SystemExit)
    assert "Traceback" not in result.output
    lines = result.stderr.splitlines()
    assert lines and all(PROBLEM_LINE.match(line) for line in lines), lines
    return lines


def snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def write(path: Path, text: str) -> Path:
    path.write_text(textwrap.dedent(text).strip() + "\n", encoding="utf-8")
    return path


def sections_file(folder: Path, name: str = "sections.yaml", **block: Any) -> Path:
    settings = {
        "size": 4,
        "max_compact_share": 75,
        "choice": {"file": "choices.csv", "weight": 3},
        "balance": [{"attribute": "ses", "category": "low"}],
        "siblings_together": "soft",
        **block,
    }
    path = folder / name
    path.write_text(yaml.safe_dump({"sections": settings}, sort_keys=False), encoding="utf-8")
    return path


@pytest.fixture()
def tiny(tmp_path: Path) -> tuple[Path, Path]:
    """The tiny district solved (a run folder), and its folder of data."""
    data = tmp_path / "data"
    config = write_case(
        data,
        STUDENTS,
        SCHOOLS,
        PREFERENCES,
        compacts=COMPACTS,
        config={"compacts": {"max_share": 100}, "solver": {"backend": "cpsat", "workers": 1}},
        name="tiny",
    )
    write(data / "choices.csv", CHOICES)
    folder = seatplan.solve(config).save(tmp_path / "runs" / "tiny")
    return folder, data


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo solved once; tests section copies of it (siblings: its data paths stay right)."""
    folder = tmp_path_factory.mktemp("demo") / "base"
    return seatplan.solve(DEMO, solver__time_limit=30).save(folder)


def copy_of(demo: Path, name: str) -> Path:
    target = demo.parent / name
    shutil.rmtree(target, ignore_errors=True)
    shutil.copytree(demo, target)
    return target


@pytest.fixture(scope="module")
def sectioned(demo: Path) -> Path:
    """A copy of the demo, sectioned with configs/sections.yaml and with its rosters."""
    folder = copy_of(demo, "sectioned")
    result = run("sections", folder, "--config", DEMO_SECTIONS)
    assert result.exit_code == 0, result.output
    result = run("rosters", folder, "--families", ROOT / "configs" / "demo" / "families.csv")
    assert result.exit_code == 0, result.output
    return folder


# ---- the stage on the demo ------------------------------------------------------------------------


def test_every_placed_student_is_in_one_classroom_and_the_audit_passes(sectioned: Path) -> None:
    assignment = pd.read_csv(sectioned / "assignment.csv", dtype=str)
    classes = pd.read_csv(sectioned / "classrooms.csv", dtype=str, keep_default_na=False)
    assert list(classes.columns) == ["student_id", "school_id", "grade", "classroom_id"]
    placed = assignment.dropna(subset=["school_id"])
    assert sorted(classes["student_id"]) == sorted(placed["student_id"])
    merged = classes.merge(placed, on="student_id", suffixes=("", "_run"))
    assert (merged["school_id"] == merged["school_id_run"]).all()
    report = seatplan.audit(sectioned)
    assert report.passed, report.to_text()
    assert report.rule("sections").passed


def test_sections_json_says_what_the_classrooms_hold(sectioned: Path) -> None:
    document = json.loads((sectioned / "sections.json").read_text())
    assert document["status"] == "optimal"
    assert document["objective"] == pytest.approx(sum(document["terms"].values()))
    classes = pd.read_csv(sectioned / "classrooms.csv", dtype=str, keep_default_na=False)
    counts = classes.groupby(["school_id", "classroom_id"]).size()
    assignment = pd.read_csv(sectioned / "assignment.csv", dtype=str, keep_default_na=False)
    compact_of = dict(zip(assignment["student_id"], assignment["compact_id"], strict=True))
    for room in document["classrooms"]:
        assert room["placed"] == counts.get((room["school_id"], room["classroom_id"]), 0)
        assert room["placed"] <= room["seats"]
        members = classes[
            (classes["school_id"] == room["school_id"]) & (classes["classroom_id"] == room["classroom_id"])
        ]
        compacts = sorted({compact_of[s] for s in members["student_id"] if compact_of[s]})
        assert [c["compact_id"] for c in room["compacts"]] == compacts
        for compact in room["compacts"]:
            assert compact["students"] <= 80 * room["seats"] // 100
    summary = document["summary"]
    assert summary["children_no_in_compact_classroom"] == 0
    assert summary["classrooms"] == len(document["classrooms"])


def test_a_second_sectioning_needs_overwrite(sectioned: Path, demo: Path) -> None:
    folder = copy_of(sectioned, "again")
    before = snapshot(folder)
    lines = bad_input(run("sections", folder, "--config", DEMO_SECTIONS))
    assert "already exists" in lines[0] and "--overwrite" in lines[0]
    assert snapshot(folder) == before
    result = run("sections", folder, "--config", DEMO_SECTIONS, "--overwrite")
    assert result.exit_code == 0, result.output
    # Sectioned again: the rosters of the classrooms it replaced are gone with them.
    assert not (folder / "rosters.csv").exists()
    assert (folder / "classrooms.csv").read_bytes() == before["classrooms.csv"]


def test_out_writes_a_sectioned_copy_elsewhere_and_leaves_the_run(demo: Path, tmp_path: Path) -> None:
    folder = copy_of(demo, "for-out")
    before = snapshot(folder)
    out = tmp_path / "deeper" / "still" / "copy"
    result = run("sections", folder, "--config", DEMO_SECTIONS, "--out", out)
    assert result.exit_code == 0, result.output
    assert snapshot(folder) == before
    assert (out / "classrooms.csv").is_file()
    # The copy's config.yaml names the data from its own place: it reads and audits.
    assert seatplan.audit(out).passed
    assert len(read_run(out).instance.student_ids) == 3000
    bad_input(run("sections", folder, "--config", DEMO_SECTIONS, "--out", out))


def test_the_solve_config_block_runs_the_stage_after_the_school_stage(tmp_path: Path) -> None:
    result = seatplan.solve(SCENARIO, solver__time_limit=30)
    assert result.sectioning is not None
    assert result.sectioning.status == seatplan.Status.OPTIMAL
    folder = result.save(tmp_path / "sections")
    assert (folder / "classrooms.csv").is_file()
    assert "sections" in yaml.safe_load((folder / "config.yaml").read_text())
    report = seatplan.audit(folder)
    assert report.passed and report.rule("sections").passed
    document = json.loads((folder / "sections.json").read_text())
    assert document["objective"] == pytest.approx(result.sectioning.objective)
    frame = result.sectioning.classrooms
    assert len(frame) == 3000 and frame["classroom_id"].str.len().min() > 0
    # Without --config, `seatplan sections` uses the block of the run's own config.yaml.
    before = (folder / "classrooms.csv").read_bytes()
    again = run("sections", folder, "--overwrite")
    assert again.exit_code == 0, again.output
    assert (folder / "classrooms.csv").read_bytes() == before


def test_validate_checks_the_stage_s_files_before_anything_is_solved(tiny: tuple[Path, Path]) -> None:
    _, data = tiny
    write(data / "choices.csv", "family_id,compact_classroom\nf1,perhaps")
    config = yaml.safe_load((data / "tiny.yaml").read_text())
    config["sections"] = {
        "size": 4,
        "choice": {"file": "choices.csv"},
        "balance": [{"attribute": "nope", "category": "x"}],
    }
    (data / "with-sections.yaml").write_text(yaml.safe_dump(config), encoding="utf-8")
    for command in ("validate", "solve"):
        lines = bad_input(run(command, data / "with-sections.yaml"))
        assert any("choices.csv:2:" in line and '"perhaps"' in line for line in lines), lines
        assert any("students.csv:1:" in line and "'nope'" in line for line in lines), lines


def test_the_python_api(demo: Path) -> None:
    folder = copy_of(demo, "api")
    sectioning = seatplan.sections(folder, config=DEMO_SECTIONS)
    assert sectioning.objective == pytest.approx(json.loads((folder / "sections.json").read_text())["objective"])
    table = seatplan.rosters(folder)
    assert list(table.columns)[:3] == ["school_id", "grade", "classroom_id"]
    assert (table["named_families"] == "").all()


def test_cohorts_solved_in_worker_processes_agree_with_one_process(demo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    run_folder = read_run(demo)
    settings = seatplan.models.classrooms.load_settings(DEMO_SECTIONS)
    alone = stage.section(run_folder, settings, workers=1)
    monkeypatch.setattr(stage, "PARALLEL_FROM", 1)
    shared = stage.section(run_folder, settings, workers=2)
    assert alone.cents == shared.cents
    assert alone.classrooms.equals(shared.classrooms)


# ---- the tiny district: what the rules mean -------------------------------------------------------


def test_the_tiny_district_by_hand(tiny: tuple[Path, Path]) -> None:
    folder, data = tiny
    result = run("sections", folder, "--config", sections_file(data))
    assert result.exit_code == 0, result.output
    rooms = pd.read_csv(folder / "classrooms.csv", dtype=str, keep_default_na=False).set_index("student_id")
    room = rooms["classroom_id"].to_dict()
    # The compact (s5, s6, s7) together; f2 (said no) not with it; f1 (said yes) has twins and one
    # seat is left beside the compact: its wish cannot be met, and the twins stay together.
    assert room["s5"] == room["s6"] == room["s7"]
    assert room["s3"] != room["s5"]
    assert room["s1"] == room["s2"] != room["s5"]
    document = json.loads((folder / "sections.json").read_text())
    assert document["terms"]["choice"] == 3.0
    assert seatplan.audit(folder).rule("sections").passed


def test_no_room_without_a_compact_is_infeasible_in_words(tiny: tuple[Path, Path]) -> None:
    folder, data = tiny
    before = snapshot(folder)
    result = run("sections", folder, "--config", sections_file(data, size=10))
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    assert "school C" in result.stderr and "K1" in result.stderr and "plausible alternative" in result.stderr
    assert "nothing was written" in result.stderr
    assert snapshot(folder) == before


def test_an_infeasible_stage_in_a_solve_writes_no_run_folder(tiny: tuple[Path, Path]) -> None:
    folder, data = tiny
    config = yaml.safe_load((data / "tiny.yaml").read_text())
    config["sections"] = {"size": 10, "choice": {"file": "choices.csv"}}
    (data / "infeasible.yaml").write_text(yaml.safe_dump(config), encoding="utf-8")
    out = folder.parent / "infeasible"
    result = run("solve", data / "infeasible.yaml", "--out", out, "--quiet")
    assert result.exit_code == 1, result.output
    assert "plausible alternative" in result.stderr
    assert not out.exists()


def test_classroom_seats_from_a_file(tiny: tuple[Path, Path]) -> None:
    folder, data = tiny
    write(data / "rooms.csv", "school_id,classroom_id,capacity\nC,red,5\nC,blue,3\nA,green,2")
    settings = sections_file(data, size=None, classroom_seats="rooms.csv")
    text = settings.read_text().replace("  size: null\n", "")
    settings.write_text(text)
    result = run("sections", folder, "--config", settings)
    assert result.exit_code == 0, result.output
    rooms = pd.read_csv(folder / "classrooms.csv", dtype=str)
    assert set(rooms["classroom_id"]) <= {"red", "blue", "green"}
    assert seatplan.audit(folder).rule("sections").passed


# ---- bad input: one line each, with file and line, exit 2 ------------------------------------------


def test_a_classroom_where_nobody_is_placed(tiny: tuple[Path, Path]) -> None:
    folder, data = tiny
    write(data / "rooms.csv", "school_id,classroom_id,capacity\nC,red,5\nC,blue,5\nA,green,2\nB,empty,3")
    settings = sections_file(data, size=None, classroom_seats="rooms.csv")
    settings.write_text(settings.read_text().replace("  size: null\n", ""))
    lines = bad_input(run("sections", folder, "--config", settings))
    assert any("rooms.csv:5:" in line and "places nobody" in line for line in lines), lines


def test_classroom_seats_must_list_every_school_where_students_are(tiny: tuple[Path, Path]) -> None:
    folder, data = tiny
    write(data / "rooms.csv", "school_id,classroom_id,capacity\nC,red,5\nC,blue,5\nC,green,0")
    settings = sections_file(data, size=None, classroom_seats="rooms.csv")
    settings.write_text(settings.read_text().replace("  size: null\n", ""))
    result = run("sections", folder, "--config", settings)
    assert result.exit_code == 2, result.output
    assert "rooms.csv:4:" in result.stderr and "capacity" in result.stderr
    assert "expected the classrooms of A, where the run places 1 student, to be listed" in result.stderr


@pytest.mark.parametrize("size", [0, -3, "big", 2.5])
def test_a_size_that_is_not_a_positive_whole_number(tiny: tuple[Path, Path], size: Any) -> None:
    folder, data = tiny
    lines = bad_input(run("sections", folder, "--config", sections_file(data, size=size)))
    assert any("sections.yaml:2:" in line and "size" in line for line in lines), lines


def test_unknown_families_and_values_in_section_choices(tiny: tuple[Path, Path]) -> None:
    folder, data = tiny
    write(data / "choices.csv", "family_id,compact_classroom\nf1,yes\nf9,no\nf2,maybe\nf1,no")
    lines = bad_input(run("sections", folder, "--config", sections_file(data)))
    assert any("choices.csv:3:" in line and "family_id" in line for line in lines), lines
    assert any("choices.csv:4:" in line and '"maybe"' in line for line in lines), lines
    assert any("choices.csv:5:" in line and "once" in line for line in lines), lines


def test_a_compact_too_large_for_its_share(tiny: tuple[Path, Path]) -> None:
    folder, data = tiny
    lines = bad_input(run("sections", folder, "--config", sections_file(data, max_compact_share=50)))
    assert len(lines) == 1
    assert "sections.yaml:3:" in lines[0] and "'K1'" in lines[0] and "needs a classroom of 6 seats" in lines[0]


def test_a_compact_family_that_says_no(tiny: tuple[Path, Path]) -> None:
    folder, data = tiny
    write(data / "choices.csv", "family_id,compact_classroom\nf4,no")
    lines = bad_input(run("sections", folder, "--config", sections_file(data)))
    assert any("choices.csv:2:" in line and "f4" in line for line in lines), lines


def test_a_malformed_sections_block(tiny: tuple[Path, Path]) -> None:
    folder, data = tiny
    path = data / "odd.yaml"
    path.write_text("sections:\n  size: 4\n  max_compact_shares: 50\n  choice: {file: nowhere.csv}\n")
    lines = bad_input(run("sections", folder, "--config", path))
    assert any("odd.yaml:3:" in line and "max_compact_share" in line for line in lines), lines
    assert any("odd.yaml:4:" in line and "nowhere.csv" in line for line in lines), lines
    for text in ("sections: [1, 2]\n", "size: 4\n", "sections:\n  size: 4\n  classroom_seats: rooms.csv\n", "{{{\n"):
        path.write_text(text)
        bad_input(run("sections", folder, "--config", path))


def test_a_run_without_a_sections_block_needs_one(tiny: tuple[Path, Path]) -> None:
    folder, _ = tiny
    lines = bad_input(run("sections", folder))
    assert "sections" in lines[0]


def test_bad_consent_and_unknown_families_in_families_csv(tiny: tuple[Path, Path]) -> None:
    folder, data = tiny
    assert run("sections", folder, "--config", sections_file(data)).exit_code == 0
    families = write(
        data / "families.csv",
        "family_id,display_name,consent\nf4,The Diallo family,true\nf5,,yes\nf7,Someone,false\nf1,,true",
    )
    before = snapshot(folder)
    lines = bad_input(run("rosters", folder, "--families", families))
    assert any("families.csv:3:" in line and "true or false" in line for line in lines), lines
    assert any("families.csv:4:" in line and "family_id" in line for line in lines), lines
    assert any("families.csv:5:" in line and "display_name" in line for line in lines), lines
    assert snapshot(folder) == before


def test_rosters_need_a_sectioned_run(tiny: tuple[Path, Path]) -> None:
    folder, _ = tiny
    lines = bad_input(run("rosters", folder))
    assert "seatplan sections" in lines[0]


# ---- rosters and the report -------------------------------------------------------------------------


def test_rosters_name_only_the_families_that_consent(tiny: tuple[Path, Path]) -> None:
    folder, data = tiny
    assert run("sections", folder, "--config", sections_file(data)).exit_code == 0
    families = write(
        data / "families.csv", "family_id,display_name,consent\nf4,The Diallo family,TRUE\nf5,The Secret family,false"
    )
    result = run("rosters", folder, "--families", families)
    assert result.exit_code == 0, result.output
    table = pd.read_csv(folder / "rosters.csv", dtype=str, keep_default_na=False)
    compact = table[table["compact_id"] == "K1"].iloc[0]
    assert compact["named_families"] == "The Diallo family"
    assert compact["unnamed_families"] == "1" and compact["compact_families"] == "2"
    assert compact["compact_students"] == "3"
    assert int(compact["seats_for_others"]) == int(compact["seats"]) - 3
    plain = table[(table["school_id"] == "C") & (table["compact_id"] == "")]
    assert len(plain) == 1 and plain.iloc[0]["seats_for_others"] == plain.iloc[0]["seats"]
    assert "The Secret family" not in (folder / "rosters.csv").read_text()
    # Written once; again only with --overwrite.
    bad_input(run("rosters", folder, "--families", families))


def test_the_report_shows_classrooms_and_rosters(sectioned: Path) -> None:
    result = run("report", sectioned, "--overwrite")
    assert result.exit_code == 0, result.output
    page = (sectioned / "report.html").read_text()
    assert "Classrooms — compacts inside each school" in page
    assert "Rosters — what every family is shown" in page
    families = pd.read_csv(ROOT / "configs" / "demo" / "families.csv", dtype=str, keep_default_na=False)
    consenting = families[families["consent"] == "true"]
    rosters = (sectioned / "rosters.csv").read_text()
    # Each family that consented and whose compact was honored is named; no family id is shown.
    assert any(name in rosters for name in consenting["display_name"])
    for name in consenting["display_name"]:
        if name in rosters:
            assert name in page
    for family in families["family_id"]:
        assert family not in page


# ---- the auditor fails classrooms that break a rule --------------------------------------------------


def broken_copy(sectioned: Path, name: str) -> tuple[Path, list[dict[str, str]], dict[str, Any]]:
    folder = copy_of(sectioned, name)
    with (folder / "classrooms.csv").open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    return folder, rows, json.loads((folder / "sections.json").read_text())


def save_rows(folder: Path, rows: list[dict[str, str]]) -> None:
    with (folder / "classrooms.csv").open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=["student_id", "school_id", "grade", "classroom_id"])
        writer.writeheader()
        writer.writerows(rows)


def failures(folder: Path) -> list[str]:
    report = seatplan.audit(folder)
    rule = report.rule("sections")
    assert not rule.passed and not report.passed
    result = run("audit", folder)
    assert result.exit_code == 1
    return [v.message for v in rule.violations]


def compact_room(document: dict[str, Any]) -> dict[str, Any]:
    return next(room for room in document["classrooms"] if room["compacts"])


def test_audit_fails_a_child_of_a_no_family_in_a_compact_classroom(sectioned: Path) -> None:
    folder, rows, document = broken_copy(sectioned, "broken-no")
    choices = pd.read_csv(ROOT / "configs" / "demo" / "section_choices.csv", dtype=str)
    students = pd.read_csv(ROOT / "configs" / "demo" / "students.csv", dtype=str)
    refusing = set(
        students[students["family_id"].isin(choices[choices["compact_classroom"] == "no"]["family_id"])]["student_id"]
    )
    room = compact_room(document)
    child = next(r for r in rows if r["school_id"] == room["school_id"] and r["student_id"] in refusing)
    child["classroom_id"] = room["classroom_id"]
    save_rows(folder, rows)
    assert any(message.startswith("no:") and child["student_id"] in message for message in failures(folder))


def test_audit_fails_a_split_compact(sectioned: Path) -> None:
    folder, rows, document = broken_copy(sectioned, "broken-split")
    room = compact_room(document)
    assignment = pd.read_csv(folder / "assignment.csv", dtype=str, keep_default_na=False)
    members = set(assignment[assignment["compact_id"] == room["compacts"][0]["compact_id"]]["student_id"])
    other = next(
        r["classroom_id"]
        for r in rows
        if r["school_id"] == room["school_id"] and r["classroom_id"] != room["classroom_id"]
    )
    moved = next(r for r in rows if r["student_id"] in members)
    moved["classroom_id"] = other
    save_rows(folder, rows)
    assert any(message.startswith("compact together:") for message in failures(folder))


def test_audit_fails_an_overfull_classroom_and_a_missing_student(sectioned: Path) -> None:
    folder, rows, document = broken_copy(sectioned, "broken-seats")
    school = document["classrooms"][0]["school_id"]
    first = document["classrooms"][0]["classroom_id"]
    for row in rows:
        if row["school_id"] == school:
            row["classroom_id"] = first
    dropped = rows.pop(0)
    save_rows(folder, rows)
    messages = failures(folder)
    assert any(message.startswith("seats:") for message in messages)
    assert any(message.startswith("listed:") and dropped["student_id"] in message for message in messages)


def test_audit_fails_a_wrong_objective(sectioned: Path) -> None:
    folder, _, document = broken_copy(sectioned, "broken-objective")
    document["terms"]["balance"] += 0.01
    document["objective"] += 0.01
    (folder / "sections.json").write_text(json.dumps(document))
    messages = failures(folder)
    assert any(message.startswith("objective:") and "balance" in message for message in messages)


def test_grades_each_have_their_classrooms(tmp_path: Path) -> None:
    """With grades, a school's grades are sectioned apart; a compact's students of each grade share a
    classroom of that grade (a compact spanning grades is in one classroom per grade)."""
    assert (
        run(
            "generate",
            tmp_path / "g",
            "--students",
            "800",
            "--schools",
            "8",
            "--clusters",
            "2",
            "--grades",
            "K,1",
            "--seed",
            "3",
        ).exit_code
        == 0
    )
    folder = seatplan.solve(tmp_path / "g" / "config.yaml").save(tmp_path / "runs" / "g")
    path = tmp_path / "g" / "sections.yaml"
    path.write_text("sections: {size: 20, balance: [{attribute: ses, category: low}], siblings_together: soft}\n")
    result = run("sections", folder, "--config", path)
    assert result.exit_code == 0, result.output
    rooms = pd.read_csv(folder / "classrooms.csv", dtype=str)
    students = pd.read_csv(tmp_path / "g" / "students.csv", dtype=str)[["student_id", "grade"]]
    merged = rooms.merge(students, on="student_id", suffixes=("", "_data"))
    assert (merged["grade"] == merged["grade_data"]).all()
    assert merged.groupby(["school_id", "classroom_id"])["grade"].nunique().max() == 1
    assignment = pd.read_csv(folder / "assignment.csv", dtype=str).dropna(subset=["compact_id"])
    together = assignment.merge(merged, on="student_id").groupby(["compact_id", "grade"])["classroom_id"].nunique()
    assert len(together) > together.index.get_level_values(0).nunique()  # some compact spans grades
    assert (together == 1).all()
    assert seatplan.audit(folder).rule("sections").passed
