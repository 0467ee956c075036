"""The Python API as a planner in a notebook uses it: `seatplan.load`, `solve`, `audit`, `compare`,
the README's own example, and the one import name an install adds."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

import seatplan
from seatplan.solver.cli import main
from tests.conftest import write_case

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "configs" / "demo.yaml"
INFEASIBLE = ROOT / "tests" / "data" / "school_choice" / "infeasible" / "config.yaml"

STUDENTS = "student_id,family_id,ses\ns1,f1,low\ns2,f2,high\ns3,f3,low\ns4,f4,high\n"
SCHOOLS = "school_id,capacity\nA,2\nB,2\n"
PREFERENCES = "student_id,school_id,rank\ns1,A,1\ns1,B,2\ns2,A,1\ns3,A,1\ns3,B,2\ns4,B,1\n"


@pytest.fixture
def small(tmp_path: Path) -> Path:
    return write_case(tmp_path / "small", STUDENTS, SCHOOLS, PREFERENCES, config={"solver": {"time_limit": 20}})


@pytest.fixture(scope="module")
def demo_result() -> seatplan.Result:
    return seatplan.solve(DEMO, solver__time_limit=30)


# ---- the README's example ----------------------------------------------------------------------


def readme_python() -> str:
    """The README's Python example: the ```python block under "Python, in a notebook"."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text[text.index("## Python, in a notebook") :]
    match = re.search(r"```python\n(.*?)```", section, re.S)
    assert match, "the README has no Python example under its heading"
    return match.group(1)


def test_the_readme_python_example_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    shutil.copytree(ROOT / "configs", tmp_path / "configs")
    monkeypatch.chdir(tmp_path)
    namespace: dict[str, object] = {}
    exec(compile(readme_python(), "README.md", "exec"), namespace)  # noqa: S102 - our own README
    result = namespace["result"]
    assert isinstance(result, seatplan.Result) and result.status == "optimal"
    assert (tmp_path / "runs" / "demo-notebook" / "assignment.csv").exists()
    assert isinstance(namespace["table"], pd.DataFrame)


# ---- one import name ----------------------------------------------------------------------------


def test_only_seatplan_is_importable_outside_the_repository(tmp_path: Path) -> None:
    # From a folder that is not the repository, with the environment's own sys.path only.
    script = (
        "import importlib.util, json\n"
        "names = ['seatplan', 'models', 'solver', 'audit', 'auditor', 'benchmarks', 'tests']\n"
        "print(json.dumps({n: importlib.util.find_spec(n) is not None for n in names}))\n"
    )
    env = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}
    out = subprocess.run([sys.executable, "-I", "-c", script], cwd=tmp_path, env=env, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    found = json.loads(out.stdout)
    assert found == {
        "seatplan": True,
        "models": False,
        "solver": False,
        "audit": False,
        "auditor": False,
        "benchmarks": False,
        "tests": False,
    }
    failed = subprocess.run([sys.executable, "-I", "-c", "import models"], cwd=tmp_path, env=env, capture_output=True)
    assert failed.returncode != 0 and b"No module named 'models'" in failed.stderr


def test_the_installed_distribution_declares_one_top_level_name() -> None:
    distribution = metadata.distribution("seatplan")
    assert (distribution.read_text("top_level.txt") or "").split() == ["seatplan"]
    provided = {name for name, owners in metadata.packages_distributions().items() if "seatplan" in owners}
    assert provided == {"seatplan"}


# ---- load ----------------------------------------------------------------------------------------


def test_load_checks_everything_and_keeps_overrides(small: Path) -> None:
    scenario = seatplan.load(small, solver__time_limit=7, objective={"unassigned": 50})
    assert scenario.config.solver.time_limit == 7
    assert scenario.config.objective.unassigned == 50
    assert scenario.config.objective.rank == 1  # a mapping is merged, not replaced
    assert scenario.instance.n_students == 4


def test_overrides_reach_list_items(small: Path) -> None:
    config = small.read_text() + "diversity:\n- {attribute: ses, category: low, band: [40, 60]}\n"
    small.write_text(config)
    scenario = seatplan.load(small, diversity__0__weight=9, diversity__0__band=(30, 70))
    rule = scenario.config.diversity[0]
    assert (rule.weight, rule.band) == (9, (30, 70))


def test_a_bad_override_is_one_problem_named_by_its_key(small: Path) -> None:
    with pytest.raises(seatplan.ConfigError) as caught:
        seatplan.load(small, solver__time_limt=3, solver__gap=2)
    assert caught.value.lines() == [
        "override solver.time_limt: unknown key 'time_limt' in solver; did you mean 'time_limit'?",
        "override solver.gap: expected solver.gap to be a number from 0 to 1, got 2",
    ]
    with pytest.raises(seatplan.ConfigError, match=r"override diversity\[3\]"):
        seatplan.load(small, diversity__3__weight=1)


def test_bad_data_raises_every_problem_with_its_line(tmp_path: Path) -> None:
    config = write_case(tmp_path, STUDENTS + "s1,f9,low\n", "school_id,capacity\nA,-3\nB,2\n", PREFERENCES)
    with pytest.raises(seatplan.DataError) as caught:
        seatplan.load(config)
    assert [(Path(p.file).name, p.line, p.message) for p in caught.value.problems] == [
        ("students.csv", 6, "duplicate student_id 's1' (first on line 2)"),
        ("schools.csv", 2, 'expected capacity to be an integer ≥ 0, got "-3"'),
    ]
    assert all(p.file and p.line for p in caught.value.problems)


def test_solver_only_overrides_keep_the_data_read_once(small: Path) -> None:
    scenario = seatplan.load(small)
    assert scenario.with_overrides(solver__time_limit=5).instance is scenario.instance
    # The seed draws the lottery, which is read into the data: they are read again.
    assert scenario.with_overrides(solver__seed=3).instance is not scenario.instance


# ---- solve ---------------------------------------------------------------------------------------


def test_solve_gives_what_the_run_folder_holds(demo_result: seatplan.Result, tmp_path: Path) -> None:
    result = demo_result
    assert result.status == seatplan.Status.OPTIMAL == "optimal"
    assert result.objective == 3532.0 and result.bound == 3532.0 and result.gap == 0.0
    folder = result.save(tmp_path / "demo")
    on_disk = pd.read_csv(folder / "assignment.csv", dtype=str, keep_default_na=False)
    frame = result.assignment
    assert list(frame.columns) == ["student_id", "school_id", "position", "compact_id"]
    assert frame.astype(object).where(frame.notna(), "").astype(str).equals(on_disk)
    assert json.loads((folder / "metrics.json").read_text()) == json.loads(json.dumps(result.metrics))
    assert str(frame["position"].dtype) == "Int64" and frame["school_id"].isna().sum() == 0


def test_save_never_overwrites_silently(small: Path, tmp_path: Path) -> None:
    result = seatplan.solve(small)
    result.save(tmp_path / "run")
    with pytest.raises(seatplan.InputError, match="already exists"):
        result.save(tmp_path / "run")
    result.save(tmp_path / "run", overwrite=True)


def test_solve_takes_a_scenario_or_a_path_with_overrides(small: Path) -> None:
    scenario = seatplan.load(small)
    by_scenario = seatplan.solve(scenario, objective__unassigned=1)
    by_path = seatplan.solve(small, objective__unassigned=1)
    assert by_scenario.objective == by_path.objective
    assert by_scenario.config.objective.unassigned == 1
    assert scenario.config.objective.unassigned == 100  # the scenario itself is unchanged


def test_an_infeasible_config_is_a_status_and_nothing_to_save(tmp_path: Path) -> None:
    result = seatplan.solve(INFEASIBLE)
    assert result.status == "infeasible"
    assert result.objective is None
    with pytest.raises(seatplan.InfeasibleError, match="Relax one of the hard rules"):
        result.save(tmp_path / "run")
    with pytest.raises(seatplan.InfeasibleError):
        _ = result.assignment
    assert not (tmp_path / "run").exists()


def test_progress_is_reported(small: Path) -> None:
    seen: list[tuple[float | None, float | None]] = []
    result = seatplan.solve(small, progress=lambda best, bound, seconds: seen.append((best, bound)))
    assert seen and seen[-1][0] == pytest.approx(100 * result.objective)


# ---- audit ---------------------------------------------------------------------------------------


def test_audit_a_run_folder_a_result_and_a_dataframe(demo_result: seatplan.Result, tmp_path: Path) -> None:
    folder = demo_result.save(tmp_path / "demo")
    for report in (seatplan.audit(folder), seatplan.audit(demo_result)):
        assert report.passed and all(report.verdicts.values())
        assert {"capacity", "compact_together", "objective"} <= set(report.verdicts)
    frame = demo_result.assignment
    assert seatplan.audit(DEMO, frame, demo_result.metrics).passed
    crowded = frame.copy()
    crowded["school_id"] = crowded["school_id"].iloc[0]  # everyone at one school
    crowded["position"] = pd.array([None] * len(crowded), dtype="Int64")
    crowded["compact_id"] = pd.array([None] * len(crowded), dtype="string")
    report = seatplan.audit(DEMO, crowded)
    assert not report.passed and not report.verdicts["capacity"]


def test_audit_input_it_cannot_read_is_an_input_error(tmp_path: Path) -> None:
    (tmp_path / "assignment.csv").write_text("student_id,school\n")
    with pytest.raises(seatplan.InputError) as caught:
        seatplan.audit(DEMO, tmp_path / "assignment.csv")
    assert caught.value.lines()


# ---- compare -------------------------------------------------------------------------------------


def test_compare_is_the_cli_table_as_a_dataframe(demo_result: seatplan.Result, tmp_path: Path) -> None:
    demo = demo_result.save(tmp_path / "demo")
    da = seatplan.solve(DEMO, mechanism="deferred_acceptance").save(tmp_path / "da")
    table = seatplan.compare([da, demo])
    assert list(table.columns) == ["da", "demo"]
    printed = CliRunner().invoke(main, ["compare", str(da), str(demo), "--format", "csv"]).output
    expected = pd.read_csv(pd.io.common.StringIO(printed), dtype=str, keep_default_na=False).set_index("metric")
    assert list(table.index) == list(expected.index)
    assert table.loc["status"].tolist() == ["stable", "optimal"]
    assert table.loc["term: rank", "demo"] == 2884.0  # the canonical optimum's split of 3,532.00
    assert table.loc["better off than the first", "demo"] == int(expected.loc["better off than the first", "demo"])
    # A Result compares as its run folder would.
    assert seatplan.compare([demo_result]).loc["objective"].tolist() == [3532.0]


# ---- overrides, once more: merged in order, and data read again only when they must be -------------


def test_later_overrides_merge_with_earlier_ones(small: Path) -> None:
    first = seatplan.load(small, solver={"seed": 5, "gap": 0.1})
    later = first.with_overrides(solver={"time_limit": 30})
    solver = later.config.solver
    assert (solver.seed, solver.gap, solver.time_limit) == (5, 0.1, 30)
    assert later.instance is first.instance  # the same data: only how it is solved changed
    again = later.with_overrides(solver__time_limit=60, solver={"time_limit": 45})
    assert again.config.solver.time_limit == 45  # the last one written wins
    assert again.with_overrides(solver__seed=6).instance is not again.instance  # a new lottery draw


def test_an_empty_mapping_changes_nothing_and_none_removes_a_key(tmp_path: Path) -> None:
    compacts = "compact_id,family_id,school_id\nC1,f1,B\nC1,f3,B\n"
    config = write_case(
        tmp_path,
        STUDENTS,
        "school_id,capacity,under_selected\nA,2,false\nB,2,true\n",
        PREFERENCES,
        compacts=compacts,
        config={"objective": {"broken_compact": 7}},
    )
    assert seatplan.load(config, objective={}).config.objective.broken_compact == 7
    without = seatplan.load(config, data__compacts=None)
    assert without.config.data.compacts is None and without.instance.n_compacts == 0
    with pytest.raises(seatplan.ConfigError, match="data to name the students file"):
        seatplan.load(config, data__students=None)
    with pytest.raises(seatplan.ConfigError, match=r"mode to 'off'"):
        seatplan.load(DEMO, diversity__0=None)


def test_odd_override_keys_are_clean_errors(small: Path) -> None:
    with pytest.raises(seatplan.ConfigError, match="unknown key '²'"):
        seatplan.load(small, **{"solver__²": 1})
    with pytest.raises(seatplan.ConfigError, match=r"override solver\.time_limit"):
        seatplan.load(small, solver__time_limit="soon")


def test_scenarios_compare_by_identity(small: Path) -> None:
    scenario = seatplan.load(small)
    assert scenario == scenario and scenario != seatplan.load(small)


def test_compare_shows_an_unsolved_result_by_its_status(small: Path) -> None:
    infeasible = seatplan.solve(INFEASIBLE)
    table = seatplan.compare({"plan": seatplan.solve(small), "impossible": infeasible})
    assert table.loc["status"].tolist() == ["optimal", "infeasible"]
    assert pd.isna(table.loc["objective", "impossible"])


def test_a_solve_from_the_api_counts_the_time_it_read(small: Path) -> None:
    result = seatplan.solve(small)
    assert result.seconds["read"] > 0
    assert result.seconds["total"] >= result.seconds["read"]
