"""The `seatplan` command through click's runner: validate, solve and its run folder, compare,
generate and audit, on tiny instances written into tmp_path."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner, Result

from seatplan.models.config import load_config
from seatplan.solver.cli import main
from tests.conftest import write_case

TERMS = (
    "rank",
    "unassigned",
    "distance",
    "broken_compact",
    "outside_cluster",
    "diversity",
    "blocking_pairs",
    "split_families",
)
RUN_FILES = ["assignment.csv", "config.yaml", "metrics.json", "solver.log"]
PROBLEM_LINE = re.compile(r"^[^:\s][^:]*:\d+: \S")

# Six students in four families; f4 and f5 form a compact for C, the citywide under-selected school.
# Every term of the objective can be non-zero: ranks, distance, a compact, clusters, a diversity band.
STUDENTS = """\
student_id,family_id,home_cluster,ses,lat,lon
s1,f1,N,low,42.30,-71.10
s2,f1,N,low,42.30,-71.10
s3,f2,S,high,42.20,-71.00
s4,f3,S,high,42.21,-71.01
s5,f4,N,low,42.31,-71.11
s6,f5,S,high,42.22,-71.02
"""
SCHOOLS = """\
school_id,name,capacity,cluster,sector,under_selected,lat,lon
A,North,2,N,district,false,42.30,-71.09
B,South,2,S,district,false,42.20,-71.02
C,Charter,3,,charter,true,42.25,-71.05
"""
PREFERENCES = """\
student_id,school_id,rank
s1,A,1
s1,B,2
s2,A,1
s3,A,1
s3,B,2
s4,B,1
s5,A,1
s5,B,2
s6,B,1
s6,A,2
"""
COMPACTS = """\
compact_id,family_id,school_id
K1,f4,C
K1,f5,C
"""
CONFIG: dict[str, Any] = {
    "compacts": {"max_share": 100},
    "clusters": {"mode": "soft"},
    "diversity": [{"attribute": "ses", "category": "low", "scope": "school", "band": [20, 60], "weight": 3}],
    "objective": {
        "rank": 1,
        "unassigned": 100,
        "distance": 1,
        "broken_compact": 10,
        "outside_cluster": 2,
    },
    "solver": {"backend": "cpsat", "time_limit": 20, "workers": 1, "seed": 0},
}


def tiny(folder: Path, name: str = "tiny", **config: Any) -> Path:
    """The tiny district above, with its config (optionally changed), in `folder`."""
    settings = {**CONFIG, **config}
    return write_case(folder, STUDENTS, SCHOOLS, PREFERENCES, compacts=COMPACTS, config=settings, name=name)


def run(*args: str | Path) -> Result:
    return CliRunner().invoke(main, [str(a) for a in args])


def solved(config: Path, out: Path, *options: str) -> Result:
    result = run("solve", config, "--out", out, "--quiet", *options)
    assert result.exit_code == 0, result.output
    return result


def snapshot(folder: Path) -> dict[str, tuple[bytes, int]]:
    """Every file under `folder` with its bytes and modification time, to prove it was not touched."""
    return {
        str(path.relative_to(folder)): (path.read_bytes(), path.stat().st_mtime_ns)
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


def assert_bad_input(result: Result) -> list[str]:
    """Exit 2 through SystemExit, no traceback, every stderr line `file:line: message`; the lines."""
    assert result.exit_code == 2, result.output
    assert isinstance(result.exception, SystemExit)
    assert "Traceback" not in result.output
    lines = result.stderr.splitlines()
    assert lines
    return lines


@pytest.fixture(scope="module")
def run_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One solve of the tiny district, shared by the tests that only read its run folder."""
    base = tmp_path_factory.mktemp("solved")
    config = tiny(base / "data")
    solved(config, base / "runs" / "tiny")
    return base / "runs" / "tiny"


# ---- validate -------------------------------------------------------------------------------------


def test_validate_clean_config_prints_one_line_and_exits_0(tmp_path: Path) -> None:
    result = run("validate", tiny(tmp_path))
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert len(lines) == 1
    assert lines[0].endswith(
        "tiny.yaml: ok — 6 students, 3 schools, 2 clusters, 1 compacts (2 families), "
        "1 diversity rules; " + lines[0].split("rules; ")[1]
    )


def test_validate_prints_every_problem_in_every_file_and_exits_2(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tiny(tmp_path, solver={"backend": "gurobi"})
    (tmp_path / "schools.csv").write_text(SCHOOLS.replace("A,North,2", "A,North,-3"), encoding="utf-8")
    (tmp_path / "preferences.csv").write_text(PREFERENCES + "s9,A,1\ns1,C,2\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    line = config.read_text().splitlines().index("  backend: gurobi") + 1  # counted, not guessed
    lines = assert_bad_input(run("validate", config.name))
    assert lines == [
        f'tiny.yaml:{line}: expected solver.backend to be one of auto | cpsat | pulp | highs, got "gurobi"',
        'schools.csv:2: expected capacity to be an integer ≥ 0, got "-3"',
        "preferences.csv:12: unknown student 's9' (not in students.csv)",
        "preferences.csv:13: expected each rank once in a student's list, got student 's1' with rank 2 "
        "again (first on line 3)",
    ]


BAD_INPUTS = {
    "malformed YAML": ("tiny.yaml", "name: [tiny\n", None),
    "unknown key": ("tiny.yaml", None, "objectve"),
    "non-UTF-8 CSV": ("students.csv", b"student_id\ns\xe91\n", None),
    "empty CSV": ("compacts.csv", "", None),
    "row with too many fields": ("schools.csv", SCHOOLS + "D,x,1,N,district,false,1,2,3\n", None),
    "coordinates not numbers": (
        "students.csv",
        STUDENTS.replace("42.30,-71.10\ns2", "north,-71.10\ns2"),
        None,
    ),
}


@pytest.mark.parametrize("case", sorted(BAD_INPUTS))
def test_validate_and_solve_never_print_a_traceback_for_bad_input(tmp_path: Path, case: str) -> None:
    file, content, key = BAD_INPUTS[case]
    config = tiny(tmp_path / "in")
    target = tmp_path / "in" / file
    if key is not None:
        target.write_text(target.read_text().replace("objective:", f"{key}:"), encoding="utf-8")
    elif isinstance(content, bytes):
        target.write_bytes(content)
    elif file == "tiny.yaml":
        target.write_text(content + target.read_text().split("\n", 1)[1], encoding="utf-8")
    else:
        target.write_text(content, encoding="utf-8")
    for command in (["validate", config], ["solve", config, "--out", tmp_path / "out", "--quiet"]):
        lines = assert_bad_input(run(*command))
        assert all(PROBLEM_LINE.match(line) for line in lines), lines
        assert any(f"{file}:" in line for line in lines), lines
    assert sorted(os.listdir(tmp_path)) == ["in"]  # no run folder, no temporary folder


def test_validate_missing_config(tmp_path: Path) -> None:
    lines = assert_bad_input(run("validate", tmp_path / "nowhere.yaml"))
    assert lines == [f"{tmp_path / 'nowhere.yaml'}: expected a YAML config file, got no file at this path"]


# ---- solve and the run folder ---------------------------------------------------------------------


def test_run_folder_holds_exactly_the_four_files(run_folder: Path) -> None:
    assert sorted(os.listdir(run_folder)) == RUN_FILES
    assert sorted(os.listdir(run_folder.parent)) == ["tiny"]  # no temporary folder left beside it


def test_assignment_csv_has_one_row_per_student(run_folder: Path) -> None:
    with (run_folder / "assignment.csv").open(newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    assert rows[0] == ["student_id", "school_id", "position", "compact_id"]
    assert [row[0] for row in rows[1:]] == ["s1", "s2", "s3", "s4", "s5", "s6"]
    lists: dict[str, list[str]] = {}
    for line in PREFERENCES.splitlines()[1:]:
        student, school, _ = line.split(",")
        lists.setdefault(student, []).append(school)
    for student, school, position, compact in rows[1:]:
        if not school:
            assert position == "" and compact == ""
        elif school in lists[student]:
            assert position == str(lists[student].index(school) + 1)
        else:  # only a compact member may be placed off its list, at its compact's school
            assert position == "" and compact == "K1" and school == "C"
        if compact:
            assert school == "C" and student in ("s5", "s6")


def test_metrics_json_has_every_key_and_the_terms_sum_to_the_objective(run_folder: Path) -> None:
    metrics = json.loads((run_folder / "metrics.json").read_text(encoding="utf-8"))
    for key in (
        "status",
        "backend",
        "objective",
        "bound",
        "gap",
        "terms",
        "students",
        "assigned",
        "unassigned",
        "position_counts",
        "compacts",
        "schools",
        "clusters",
        "seconds",
    ):
        assert key in metrics, key
    assert metrics["status"] == "optimal" and metrics["backend"] == "cpsat"
    assert sorted(metrics["terms"]) == sorted(TERMS)
    assert sum(metrics["terms"].values()) == pytest.approx(metrics["objective"])
    assert metrics["bound"] == pytest.approx(metrics["objective"]) and metrics["gap"] == 0
    assert metrics["students"] == 6
    assert metrics["assigned"] + metrics["unassigned"] == 6
    assert sum(metrics["position_counts"].values()) == metrics["assigned"]
    assert {"total", "honored", "families_honored"} <= set(metrics["compacts"])
    assert metrics["compacts"]["total"] == 1
    assert metrics["compacts"]["families_honored"] == 2 * metrics["compacts"]["honored"]
    schools = {row["school_id"]: row for row in metrics["schools"]}
    assert sorted(schools) == ["A", "B", "C"]
    for row in schools.values():
        assert {"placed", "capacity", "compact_members", "shares"} <= set(row)
        assert "ses=low" in row["shares"]
    assert sum(row["placed"] for row in schools.values()) == metrics["assigned"]
    clusters = {row["cluster"]: row for row in metrics["clusters"]}
    assert sorted(clusters) == ["N", "S"]
    assert all({"placed", "capacity", "compact_members", "shares"} <= set(row) for row in clusters.values())
    assert set(metrics["seconds"]) >= {"build", "solve", "total"}


def test_metrics_agree_with_the_assignment(run_folder: Path) -> None:
    metrics = json.loads((run_folder / "metrics.json").read_text(encoding="utf-8"))
    with (run_folder / "assignment.csv").open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert metrics["assigned"] == sum(1 for row in rows if row["school_id"])
    honored_members = sum(1 for row in rows if row["compact_id"])
    assert metrics["compacts"]["honored"] == (1 if honored_members else 0)
    for row in metrics["schools"]:
        assert row["placed"] == sum(1 for r in rows if r["school_id"] == row["school_id"])
        assert row["compact_members"] == sum(1 for r in rows if r["school_id"] == row["school_id"] and r["compact_id"])


def test_config_yaml_is_a_valid_config_with_data_hashes(run_folder: Path, tmp_path: Path) -> None:
    config = load_config(run_folder / "config.yaml")
    data = run_folder.parent.parent / "data"
    assert config.data.students == (data / "students.csv").resolve()
    written = yaml.safe_load((run_folder / "config.yaml").read_text(encoding="utf-8"))
    assert sorted(written["data_sha256"]) == ["compacts", "preferences", "schools", "students"]
    for key, digest in written["data_sha256"].items():
        assert digest == hashlib.sha256((data / f"{key}.csv").read_bytes()).hexdigest()
    # Solving the run's own config again gives the same objective.
    again = tmp_path / "again"
    solved(run_folder / "config.yaml", again)
    first = json.loads((run_folder / "metrics.json").read_text(encoding="utf-8"))
    second = json.loads((again / "metrics.json").read_text(encoding="utf-8"))
    assert second["objective"] == first["objective"]
    assert (again / "assignment.csv").read_bytes() == (run_folder / "assignment.csv").read_bytes()


def test_audit_passes_on_a_solved_run(run_folder: Path) -> None:
    result = run("audit", run_folder)
    assert result.exit_code == 0, result.output
    assert "Traceback" not in result.output


def test_default_run_folder_is_runs_slash_config_stem(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tiny(tmp_path / "data", name="scenario")
    monkeypatch.chdir(tmp_path)
    result = run("solve", config, "--quiet")
    assert result.exit_code == 0, result.output
    assert sorted(os.listdir(tmp_path / "runs" / "scenario")) == RUN_FILES
    assert "runs/scenario" in result.stdout


def test_summary_table_is_printed(tmp_path: Path) -> None:
    result = solved(tiny(tmp_path), tmp_path / "out")
    assert result.stdout.startswith("tiny: optimal (cpsat)")
    assert "objective" in result.stdout and "first choice" in result.stdout


def test_quiet_prints_no_progress(tmp_path: Path) -> None:
    config = tiny(tmp_path)
    quiet = run("solve", config, "--out", tmp_path / "q", "--quiet")
    loud = run("solve", config, "--out", tmp_path / "l")
    assert quiet.exit_code == loud.exit_code == 0
    assert quiet.stderr == ""
    assert "solving tiny" in loud.stderr
    assert quiet.stdout.splitlines()[1:-1] == loud.stdout.splitlines()[1:-1]  # same table, bar time and folder


def test_existing_run_folder_is_never_overwritten_without_overwrite(tmp_path: Path) -> None:
    config = tiny(tmp_path / "data")
    out = tmp_path / "runs" / "tiny"
    solved(config, out)
    before = snapshot(out)
    lines = assert_bad_input(run("solve", config, "--out", out, "--quiet"))
    assert lines == [f"{out}: run folder already exists; pass --overwrite to replace it or --out to choose another"]
    assert snapshot(out) == before
    assert sorted(os.listdir(out.parent)) == ["tiny"]


def test_overwrite_replaces_the_folder_whole(tmp_path: Path) -> None:
    config = tiny(tmp_path / "data")
    out = tmp_path / "runs" / "tiny"
    solved(config, out)
    (out / "notes.txt").write_text("a planner's note", encoding="utf-8")
    (out / "metrics.json").write_text("{}", encoding="utf-8")
    solved(config, out, "--overwrite")
    assert sorted(os.listdir(out)) == RUN_FILES  # the old folder's extra file went with it
    assert json.loads((out / "metrics.json").read_text())["status"] == "optimal"
    assert sorted(os.listdir(out.parent)) == ["tiny"]


def test_bad_input_leaves_no_folder(tmp_path: Path) -> None:
    config = tiny(tmp_path / "data")
    (tmp_path / "data" / "schools.csv").write_text(SCHOOLS.replace(",2,N,", ",two,N,"), encoding="utf-8")
    parent = tmp_path / "runs"
    parent.mkdir()
    lines = assert_bad_input(run("solve", config, "--out", parent / "tiny", "--quiet"))
    assert lines[0].endswith('schools.csv:2: expected capacity to be an integer ≥ 0, got "two"')
    assert os.listdir(parent) == []


def test_bad_input_with_overwrite_leaves_the_old_run_untouched(tmp_path: Path) -> None:
    config = tiny(tmp_path / "data")
    out = tmp_path / "runs" / "tiny"
    solved(config, out)
    before = snapshot(out)
    (tmp_path / "data" / "preferences.csv").write_text(PREFERENCES + "s1,Q,3\n", encoding="utf-8")
    assert_bad_input(run("solve", config, "--out", out, "--quiet", "--overwrite"))
    assert snapshot(out) == before
    assert sorted(os.listdir(out.parent)) == ["tiny"]


def test_failure_while_writing_leaves_no_half_written_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import seatplan.solver.run

    def broken(*args: Any, **kwargs: Any) -> None:
        raise OSError("disk full")

    # metrics.json is written after assignment.csv: the staging folder is half full when it fails.
    monkeypatch.setattr(seatplan.solver.run, "write_metrics", broken)
    config = tiny(tmp_path / "data")
    parent = tmp_path / "runs"
    lines = assert_bad_input(run("solve", config, "--out", parent / "tiny", "--quiet"))
    assert lines == [f"{parent / 'tiny'}: cannot write the run folder: disk full; nothing was written"]
    assert not parent.exists() or os.listdir(parent) == []


def test_failure_while_replacing_keeps_the_old_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import seatplan.solver.run

    config = tiny(tmp_path / "data")
    out = tmp_path / "runs" / "tiny"
    solved(config, out)
    before = snapshot(out)
    real_rename = os.rename

    def rename(source: Any, target: Any) -> None:
        if str(source).endswith(".tmp"):  # the new run moving into place
            raise OSError("device busy")
        real_rename(source, target)

    monkeypatch.setattr(seatplan.solver.run.os, "rename", rename)
    monkeypatch.setattr(seatplan.solver.run, "_exchange", lambda first, second: False)  # the fallback path
    lines = assert_bad_input(run("solve", config, "--out", out, "--quiet", "--overwrite"))
    assert lines == [f"{out}: cannot write the run folder: device busy; nothing was written"]
    monkeypatch.undo()
    assert snapshot(out) == before
    assert sorted(os.listdir(out.parent)) == ["tiny"]


@pytest.mark.parametrize("backend", ["cpsat", "pulp"])
def test_backend_option_is_used_and_recorded(tmp_path: Path, backend: str) -> None:
    config = tiny(tmp_path / "data", solver={"backend": "auto", "time_limit": 20, "workers": 1})
    out = tmp_path / backend
    solved(config, out, "--backend", backend)
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["backend"] == backend and metrics["status"] == "optimal"
    assert yaml.safe_load((out / "config.yaml").read_text())["solver"]["backend"] == backend


def test_both_backends_reach_the_same_objective(run_folder: Path, tmp_path: Path) -> None:
    solved(run_folder.parent.parent / "data" / "tiny.yaml", tmp_path / "pulp", "--backend", "pulp")
    cpsat = json.loads((run_folder / "metrics.json").read_text())
    pulp = json.loads((tmp_path / "pulp" / "metrics.json").read_text())
    assert pulp["objective"] == cpsat["objective"]
    assert sum(pulp["terms"].values()) == pytest.approx(pulp["objective"])


def test_time_limit_is_honoured_and_recorded(tmp_path: Path) -> None:
    config = tiny(tmp_path / "data")
    solved(config, tmp_path / "out", "--time-limit", "7.5")
    assert yaml.safe_load((tmp_path / "out" / "config.yaml").read_text())["solver"]["time_limit"] == 7.5
    assert json.loads((tmp_path / "out" / "metrics.json").read_text())["solver"]["time_limit"] == 7.5
    assert load_config(config).solver.time_limit == 20  # the planner's own config is not changed


def test_bad_command_line_values_are_usage_errors(tmp_path: Path) -> None:
    config = tiny(tmp_path)
    for args in (["--time-limit", "0"], ["--time-limit", "soon"], ["--backend", "gurobi"]):
        result = run("solve", config, "--out", tmp_path / "out", *args)
        assert result.exit_code == 2 and "Traceback" not in result.output
        assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("backend", ["cpsat", "pulp"])
def test_same_config_data_and_seed_give_the_same_assignment_file(tmp_path: Path, backend: str) -> None:
    config = tiny(tmp_path / "data")
    solved(config, tmp_path / "one", "--backend", backend)
    solved(config, tmp_path / "two", "--backend", backend)
    assert (tmp_path / "one" / "assignment.csv").read_bytes() == (tmp_path / "two" / "assignment.csv").read_bytes()


# ---- compare ----------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def two_runs(run_folder: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    """The shared run, a second run with other weights, and that second config (to be solved by compare)."""
    base = tmp_path_factory.mktemp("compare")
    other = tiny(base / "data", name="other", objective={"rank": 5, "unassigned": 100, "broken_compact": 50})
    solved(other, base / "runs" / "other")
    return run_folder, base / "runs" / "other", other


def expected_rows(metrics: dict[str, Any]) -> dict[str, Any]:
    return {
        "objective": metrics["objective"],
        **{f"term: {name}": metrics["terms"][name] for name in TERMS},
        "first choice %": metrics["first_choice_pct"],
        "top three %": metrics["top3_pct"],
        "unassigned students": metrics["unassigned"],
        "compacts honored": f"{metrics['compacts']['honored']}/{metrics['compacts']['total']}",
        "mean distance km": metrics["mean_distance_km"],
    }


def test_compare_json(two_runs: tuple[Path, Path, Path]) -> None:
    first, second, config = two_runs
    result = run("compare", first, second, config, "--format", "json")
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    # the run folder `other` and the config `other.yaml` would share a name: they are told apart by path
    labels = list(document)
    assert labels == ["tiny", str(second), str(config)]
    for label, folder in zip(labels[:2], (first, second), strict=True):
        metrics = json.loads((folder / "metrics.json").read_text())
        column = document[label]
        want = expected_rows(metrics)
        assert column["objective"] == want["objective"]
        assert column["terms"] == metrics["terms"]
        assert column["first choice %"] == want["first choice %"]
        assert column["top three %"] == want["top three %"]
        assert column["unassigned students"] == want["unassigned students"]
        assert column["compacts honored"] == want["compacts honored"]
        assert column["mean distance km"] == want["mean distance km"]
        assert "worst diversity shortfall" in column
    # the config, solved by compare, matches its own run
    assert document[labels[2]]["objective"] == document[labels[1]]["objective"]
    assert document[labels[2]]["terms"] == document[labels[1]]["terms"]


def test_compare_csv(two_runs: tuple[Path, Path, Path]) -> None:
    first, second, _ = two_runs
    result = run("compare", first, second, "--format", "csv")
    assert result.exit_code == 0, result.output
    rows = list(csv.reader(io.StringIO(result.stdout)))
    assert rows[0] == ["metric", "tiny", "other"]
    table = {row[0]: row[1:] for row in rows[1:]}
    assert len(table) == len(rows) - 1  # every metric once
    for column, folder in enumerate((first, second)):
        metrics = json.loads((folder / "metrics.json").read_text())
        for metric, value in expected_rows(metrics).items():
            assert table[metric][column] == ("" if value is None else str(value)), metric
        assert "worst diversity shortfall" in table


@pytest.mark.parametrize("fmt", ["table", "markdown"])
def test_compare_table_and_markdown(two_runs: tuple[Path, Path, Path], fmt: str) -> None:
    first, second, config = two_runs
    result = run("compare", first, second, config, "--format", fmt)
    assert result.exit_code == 0, result.output
    text = result.stdout
    for label in (
        "objective",
        "rank",
        "unassigned",
        "distance",
        "broken_compact",
        "outside_cluster",
        "diversity",
        "first choice %",
        "top three %",
        "unassigned students",
        "compacts honored",
        "worst diversity shortfall",
        "mean distance km",
    ):
        assert label in text, label
    metrics = json.loads((first / "metrics.json").read_text())
    objective_line = next(line for line in text.splitlines() if line.lstrip("| ").startswith("objective"))
    assert f"{metrics['objective']:,.2f}" in objective_line
    if fmt == "markdown":
        assert all(line.startswith("|") and line.endswith("|") for line in text.strip().splitlines())
        assert text.splitlines()[0] == f"| metric | tiny | {second} | {config} |"


def test_compare_default_format_is_table(two_runs: tuple[Path, Path, Path]) -> None:
    first, second, _ = two_runs
    assert run("compare", first, second).stdout == run("compare", first, second, "--format", "table").stdout


def test_compare_labels_configs_with_the_same_name_apart(tmp_path: Path) -> None:
    one = tiny(tmp_path / "one", name="scenario")
    two = tiny(tmp_path / "two", name="scenario", objective={"rank": 2, "unassigned": 100})
    result = run("compare", one, two, "--format", "json")
    assert result.exit_code == 0, result.output
    assert list(json.loads(result.stdout)) == [str(one), str(two)]


def test_compare_refuses_what_is_not_a_run(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    assert_bad_input(run("compare", tmp_path / "empty"))
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / "metrics.json").write_text('{"status": ', encoding="utf-8")
    lines = assert_bad_input(run("compare", tmp_path / "broken"))
    assert PROBLEM_LINE.match(lines[0]) and "malformed JSON" in lines[0]
    assert_bad_input(run("compare", tmp_path / "nowhere.yaml"))


# ---- generate --------------------------------------------------------------------------------------


def test_generate_writes_a_district_that_validates_and_solves(tmp_path: Path) -> None:
    result = run(
        "generate",
        tmp_path / "district",
        "--students",
        "60",
        "--schools",
        "6",
        "--clusters",
        "2",
        "--seed",
        "4",
    )
    assert result.exit_code == 0, result.output
    files = sorted(os.listdir(tmp_path / "district"))
    assert {"config.yaml", "students.csv", "schools.csv", "preferences.csv"} <= set(files)
    config = tmp_path / "district" / "config.yaml"
    validated = run("validate", config)
    assert validated.exit_code == 0, validated.output
    assert "60 students, 6 schools" in validated.stdout
    solved(config, tmp_path / "run")
    assert run("audit", tmp_path / "run").exit_code == 0


def test_generate_same_seed_same_files(tmp_path: Path) -> None:
    def generate(parent: str, seed: str) -> dict[str, bytes]:
        # the same folder name in different places: the config's name is the folder's
        folder = tmp_path / parent / "district"
        result = run("generate", folder, "--students", "40", "--schools", "5", "--seed", seed)
        assert result.exit_code == 0, result.output
        return {path.name: path.read_bytes() for path in sorted(folder.iterdir())}

    first, again, other = generate("a", "7"), generate("b", "7"), generate("c", "8")
    assert first == again
    assert first["students.csv"] != other["students.csv"]


def test_generate_refuses_a_folder_in_use(tmp_path: Path) -> None:
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "mine.txt").write_text("keep", encoding="utf-8")
    assert_bad_input(run("generate", tmp_path / "d", "--students", "10", "--schools", "2"))
    assert os.listdir(tmp_path / "d") == ["mine.txt"]


def test_solving_a_run_config_whose_data_changed_warns(tmp_path: Path) -> None:
    config = tiny(tmp_path / "data")
    solved(config, tmp_path / "first")
    assert run("validate", tmp_path / "first" / "config.yaml").stderr == ""
    (tmp_path / "data" / "students.csv").write_text(STUDENTS + "s7,f6,S,low,42.2,-71.0\n", encoding="utf-8")
    result = run("validate", tmp_path / "first" / "config.yaml")
    assert result.exit_code == 0, result.output
    written = (tmp_path / "first" / "config.yaml").read_text().splitlines()
    line = written.index(next(text for text in written if text.startswith("  students: ") and len(text) > 70)) + 1
    assert result.stderr.splitlines() == [
        f"warning: {tmp_path / 'first' / 'config.yaml'}:{line}: {tmp_path / 'data' / 'students.csv'} has changed "
        "since this config was written (its SHA-256 differs from data_sha256.students); solving the data as "
        "they are now"
    ]


def test_a_nul_character_in_the_config_is_one_line_not_a_traceback() -> None:
    """Found by trying (issue 16): PyYAML's reader refused the NUL before our YAML errors were caught."""
    config = Path(__file__).resolve().parents[1] / "data" / "regressions" / "nul_in_config" / "config.yaml"
    assert b"\x00" in config.read_bytes()
    for command in ("validate", "solve"):
        result = CliRunner().invoke(main, [command, str(config)])
        assert result.exit_code == 2, result.output
        lines = result.output.strip().splitlines()
        assert len(lines) == 1 and lines[0].endswith(
            "nul_in_config/config.yaml:2: expected printable text, got the control character U+0000 "
            "(remove it, or save the file again as plain UTF-8 text)"
        ), result.output


def test_a_school_without_a_longitude_leaves_the_mean_distance_unknown(tmp_path: Path) -> None:
    """Found by the fuzz suite: a school with a latitude and no longitude made the mean distance a
    NaN cast to an integer (a garbage number in metrics.json), when distance costs nothing."""
    import warnings

    config = write_case(
        tmp_path / "data",
        STUDENTS,
        SCHOOLS.replace("42.25,-71.05", "42.25,"),
        PREFERENCES,
        compacts=COMPACTS,
        config={**CONFIG, "objective": {"rank": 1, "unassigned": 100}},
        name="tiny",
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        solved(config, tmp_path / "run")
    assert json.loads((tmp_path / "run" / "metrics.json").read_text())["mean_distance_km"] is None
