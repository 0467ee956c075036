"""`seatplan report` without a browser: every table's numbers against metrics.json and the
assignment, small-cell suppression on a crafted district, the workbook, bad input, and what the
page must never hold (a student id, a request to the network)."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any

import openpyxl
import pandas as pd
import pytest
from click.testing import CliRunner
from markupsafe import escape

import seatplan
from seatplan.solver.cli import main
from seatplan.solver.report import PlanReport, build_report
from seatplan.solver.report.tables import Table
from tests.conftest import write_case

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "configs" / "demo.yaml"
DA = ROOT / "configs" / "scenarios" / "deferred_acceptance.yaml"


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The demo solved, and under deferred acceptance, as run folders."""
    folder = tmp_path_factory.mktemp("runs")
    return {
        "demo": seatplan.solve(DEMO, solver__time_limit=30).save(folder / "demo"),
        "deferred_acceptance": seatplan.solve(DA).save(folder / "deferred_acceptance"),
    }


@pytest.fixture(scope="module")
def demo_report(runs: dict[str, Path]) -> PlanReport:
    return build_report([runs["demo"]])


def table(report: PlanReport, key: str) -> Table:
    return next(t for t in report.tables if t.key == key)


def rows_by(t: Table, column: str) -> dict[str, dict[str, Any]]:
    return {str(row[column]): row for row in t.rows}


def metrics_of(folder: Path) -> dict[str, Any]:
    return json.loads((folder / "metrics.json").read_text())


# ---- the numbers ---------------------------------------------------------------------------------


def test_schools_agree_with_metrics_and_the_assignment(runs: dict[str, Path], demo_report: PlanReport) -> None:
    metrics = metrics_of(runs["demo"])
    schools = rows_by(table(demo_report, "schools"), "school")
    assignment = pd.read_csv(runs["demo"] / "assignment.csv", dtype=str, keep_default_na=False)
    placed = assignment[assignment["school_id"] != ""].groupby("school_id").size()
    through = assignment[assignment["compact_id"] != ""].groupby("school_id").size()
    for school in metrics["schools"]:
        row = schools[school["school_id"]]
        assert row["seats"] == school["capacity"]
        assert row["first-choice demand"] == school["first_choices"]
        assert row["under-selected"] == school["under_selected"]
        assert row["demo · placed"] == school["placed"] == placed.get(school["school_id"], 0)
        assert row["demo · through compacts"] == school["compact_members"] == through.get(school["school_id"], 0)
        for key, share in school["shares"].items():
            attribute, category = key.split("=")
            label = f"{attribute} = {category}"
            assert row[f"demo · {label} %"] == pytest.approx(share, abs=0.005 + 1e-9)  # shown to 2 places


def test_choices_agree_with_metrics(runs: dict[str, Path], demo_report: PlanReport) -> None:
    metrics = metrics_of(runs["demo"])
    choices = rows_by(table(demo_report, "choices"), "choice")
    for position, count in metrics["position_counts"].items():
        label = "compact's school (not listed)" if position == "unlisted" else _ordinal(int(position))
        assert choices[label]["demo · students"] == count
    assert choices["no school"]["demo · students"] == metrics["unassigned"]
    groups = rows_by(table(demo_report, "choices_by_group"), "group")
    assert groups["all students"]["demo · 1st choice %"] == pytest.approx(metrics["first_choice_pct"], abs=0.005)
    assert groups["all students"]["demo · top three %"] == pytest.approx(metrics["top3_pct"], abs=0.005)


def _ordinal(position: int) -> str:
    return f"{position}{ {1: 'st', 2: 'nd', 3: 'rd'}.get(position if position < 20 else position % 10, 'th') } choice"


def test_diversity_units_agree_with_metrics(runs: dict[str, Path], demo_report: PlanReport) -> None:
    for rule in metrics_of(runs["demo"])["diversity"]:
        units = rows_by(table(demo_report, f"diversity_{rule['rule']}"), rule["scope"])
        for unit in rule["units"]:
            row = units[unit["unit"]]
            assert row["demo · placed"] == unit["placed"]
            assert row["demo · in group"] == unit["in_category"]
            assert row["demo · share %"] == pytest.approx(unit["share"], abs=0.005)
            assert row["demo · short by (students)"] == pytest.approx(unit["shortfall"] / 100)


def test_clusters_agree_with_metrics(runs: dict[str, Path], demo_report: PlanReport) -> None:
    clusters = rows_by(table(demo_report, "clusters"), "cluster")
    for cluster in metrics_of(runs["demo"])["clusters"]:
        row = clusters[cluster["cluster"]]
        assert row["seats"] == cluster["capacity"]
        assert row["home students"] == cluster["home_students"]
        assert row["demo · students at its schools"] == cluster["placed"]
        assert row["demo · home students placed inside"] == cluster["home_students_placed_inside"]


def test_sectors_gap_is_the_difference_of_shares(demo_report: PlanReport) -> None:
    rows = [row for row in table(demo_report, "sectors").rows if row["students of"] == "the whole district"]
    by_sector = {row["sector"]: row for row in rows}
    gap = by_sector["charter"]["demo · ses = low %"] - by_sector["district"]["demo · ses = low %"]
    assert by_sector["charter"]["demo · ses = low gap (points)"] == pytest.approx(gap)
    assert by_sector["charter"]["demo · ses = low: students to close the gap"] == round(
        -gap * by_sector["charter"]["demo · placed"] / 100
    )
    assert by_sector["district"]["demo · ses = low gap (points)"] is None  # the reference sector


def test_compacts_agree_with_metrics(runs: dict[str, Path], demo_report: PlanReport) -> None:
    compacts = rows_by(table(demo_report, "compacts"), "compact")
    for compact in metrics_of(runs["demo"])["compacts"]["list"]:
        row = compacts[compact["compact_id"]]
        assert row["school"] == compact["school_id"]
        assert row["families"] == compact["families"]
        assert row["students"] == compact["students"]
        assert row["demo · honored"] == ("yes" if compact["honored"] else "no")


def test_comparison_counts_as_compare_does(runs: dict[str, Path]) -> None:
    report = build_report([runs["deferred_acceptance"], runs["demo"]])
    changes = rows_by(table(report, "comparison"), "change")
    better = sum(changes[label]["demo · students"] for label in list(changes)[:4])
    worse = sum(changes[label]["demo · students"] for label in list(changes)[5:])
    compared = seatplan.compare([runs["deferred_acceptance"], runs["demo"]])
    assert better == compared.loc["better off than the first", "demo"]
    assert worse == compared.loc["worse off than the first", "demo"]
    assert changes["same"]["demo · students"] == compared.loc["same as the first", "demo"]


# ---- what the page holds and never holds ------------------------------------------------------------


def test_the_page_is_self_contained_and_names_no_student(runs: dict[str, Path], demo_report: PlanReport) -> None:
    page = demo_report.html()
    assert not re.search(r"<(script|link|img|iframe)[^>]+(src|href)=", page, re.I), "nothing is fetched"
    assert "@import" not in page and "url(http" not in page
    body = page[page.index("<main>") : page.index('<script id="figures"')]
    students = pd.read_csv(ROOT / "configs" / "demo" / "students.csv", dtype=str)
    for column in ("student_id", "family_id"):
        named = [value for value in students[column].unique() if value in body]
        assert named == [], f"the report names {column}s: {named[:3]}"
    for section in ("headline", "choices", "schools", "diversity", "accountability", "compacts", "map", "methods"):
        assert f'<section id="{section}">' in page
    assert "Every student is placed at most once" in page  # the rules in force, in words
    assert str(escape(demo_report.suppression.note)) in page


def test_the_workbook_holds_every_table_with_numbers_as_numbers(runs: dict[str, Path], tmp_path: Path) -> None:
    out, xlsx = tmp_path / "r.html", tmp_path / "r.xlsx"
    result = CliRunner().invoke(main, ["report", str(runs["demo"]), "--out", str(out), "--xlsx", str(xlsx)])
    assert result.exit_code == 0, result.output
    book = openpyxl.load_workbook(xlsx)
    assert {"Headline", "Schools", "Clusters", "Parent compacts"} <= set(book.sheetnames)
    sheet = book["Schools"]
    header = [cell.value for cell in sheet[3]]
    seats = header.index("seats") + 1
    assert all(isinstance(sheet.cell(row=r, column=seats).value, int) for r in range(4, sheet.max_row + 1))


# ---- suppression -----------------------------------------------------------------------------------

SMALL_STUDENTS = "student_id,family_id,ses\n" + "".join(f"s{i},f{i},{'low' if i < 3 else 'high'}\n" for i in range(14))
SMALL_SCHOOLS = "school_id,capacity\nA,12\nB,5\n"
SMALL_PREFERENCES = "student_id,school_id,rank\n" + "".join(f"s{i},A,1\ns{i},B,2\n" for i in range(14))


@pytest.fixture
def small_run(tmp_path: Path) -> Path:
    config = write_case(
        tmp_path / "data",
        SMALL_STUDENTS,
        SMALL_SCHOOLS,
        SMALL_PREFERENCES,
        config={"diversity": [{"attribute": "ses", "category": "low", "band": [10, 40]}]},
    )
    return seatplan.solve(config).save(tmp_path / "small")


def test_small_groups_are_suppressed_everywhere(small_run: Path) -> None:
    report = build_report([small_run], suppress=10)
    schools = table(report, "schools")
    assert rows_by(schools, "school")["B"]["small · placed"] == 2  # the report knows the number …
    cells = dict(zip([c.key for c in schools.columns], report.suppression.cells(schools)[1], strict=True))
    assert cells["small · placed"].text == "<10"  # … and shows it as a small cell
    assert cells["small · fill %"].text == "—"  # a share computed from it is hidden
    assert cells["small · through compacts"].text == "0"  # a zero names nobody
    assert cells["seats"].text == "5"  # seats are not students
    public = report.suppression.frame(schools)  # what the charts draw
    assert pd.isna(public.loc[1, "small · placed"]) and pd.isna(public.loc[1, "small · fill %"])
    # Nowhere in any table is a count of 1 to 9 students shown.
    for t in report.tables:
        for row in report.suppression.cells(t):
            for column, cell in zip(t.columns, row, strict=True):
                if column.kind == "count" and cell.state == "shown":
                    assert cell.number == 0 or cell.number >= 10, (t.key, column.key, cell)
    page = report.html()
    assert "&lt;10" in page[page.index("<main>") : page.index('<script id="figures"')]


def test_the_workbook_suppresses_as_the_page_does(small_run: Path, tmp_path: Path) -> None:
    xlsx = tmp_path / "small.xlsx"
    assert CliRunner().invoke(main, ["report", str(small_run), "--xlsx", str(xlsx)]).exit_code == 0
    sheet = openpyxl.load_workbook(xlsx)["Schools"]
    header = [cell.value for cell in sheet[3]]
    values = {sheet.cell(row=r, column=1).value: [c.value for c in sheet[r]] for r in range(4, sheet.max_row + 1)}
    assert values["B"][header.index("small · placed")] == "<10"
    assert values["B"][header.index("small · fill %")] is None


def test_suppression_can_be_switched_off_and_says_so(small_run: Path) -> None:
    report = build_report([small_run], suppress=0)
    cells = report.suppression.cells(table(report, "schools"))[1]
    assert all(cell.state != "suppressed" for cell in cells)
    assert "do not publish it" in report.html()


# ---- the command, and bad input --------------------------------------------------------------------


def run_report(*args: str | Path) -> Any:
    return CliRunner().invoke(main, ["report", *map(str, args)])


def one_line_error(result: Any) -> str:
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1, lines
    return lines[0]


def copy_run(source: Path, target: Path) -> Path:
    shutil.copytree(source, target)
    return target


def test_the_report_is_written_into_the_run_folder_by_default(runs: dict[str, Path], tmp_path: Path) -> None:
    run = copy_run(runs["demo"], tmp_path / "demo")
    assert run_report(run).exit_code == 0
    assert (run / "report.html").exists()
    assert "already exists" in one_line_error(run_report(run))
    assert run_report(run, "--overwrite").exit_code == 0


def test_solve_with_report_writes_it_and_the_audit_still_passes(tmp_path: Path) -> None:
    out = tmp_path / "run"
    result = CliRunner().invoke(main, ["solve", str(DEMO), "--out", str(out), "--quiet", "--report"])
    assert result.exit_code == 0, result.output
    assert (out / "report.html").exists()
    assert seatplan.audit(out).passed


def test_a_missing_file_is_one_line(runs: dict[str, Path], tmp_path: Path) -> None:
    run = copy_run(runs["demo"], tmp_path / "demo")
    (run / "metrics.json").unlink()
    assert "metrics.json: expected this file in the run folder" in one_line_error(run_report(run))


def test_metrics_from_another_version_is_one_line(runs: dict[str, Path], tmp_path: Path) -> None:
    run = copy_run(runs["demo"], tmp_path / "demo")
    metrics = metrics_of(run)
    metrics["seatplan_version"] = "0.0.1"
    (run / "metrics.json").write_text(json.dumps(metrics))
    assert "seatplan 0.0.1" in one_line_error(run_report(run))


def test_changed_data_is_refused_unless_allowed_then_warned(runs: dict[str, Path], tmp_path: Path) -> None:
    shutil.copytree(ROOT / "configs" / "demo", tmp_path / "data")
    config = tmp_path / "demo.yaml"
    config.write_text(DEMO.read_text().replace("demo/", "data/"))
    run = seatplan.solve(config, solver__time_limit=30).save(tmp_path / "run")
    schools = tmp_path / "data" / "schools.csv"
    schools.write_text(schools.read_text().replace("Charter 1", "Charter One"))
    line = one_line_error(run_report(run))
    assert "has changed since this run" in line and "--allow-changed-data" in line
    allowed = run_report(run, "--allow-changed-data")
    assert allowed.exit_code == 0, allowed.output
    assert "have changed since this run was solved" in (run / "report.html").read_text()


def test_runs_of_different_districts_are_refused_side_by_side(runs: dict[str, Path], small_run: Path) -> None:
    assert "same district" in one_line_error(run_report(runs["demo"], small_run))


def test_not_a_run_folder_is_one_line(tmp_path: Path) -> None:
    assert "expected a run folder" in one_line_error(run_report(tmp_path / "nowhere"))


def test_the_map_never_points_at_a_home_even_without_suppression(runs: dict[str, Path]) -> None:
    for suppress in (0, 10):
        report = build_report([runs["demo"]], suppress=suppress)
        (chart,) = [item for section in report.sections if section.key == "map" for item in section.charts]
        homes = chart.figure.data[0].z
        counts = [value for row in homes for value in row if value is not None and value == value]
        assert counts and min(counts) >= max(suppress, 5)
