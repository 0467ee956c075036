"""School choice through the solver and the command line (issue 5).

1. Stability hard = deferred acceptance: with no compacts, clusters or diversity and only the rank
   and unassigned weights non-zero, the optimum is the student-optimal stable matching, so every
   backend must return it student by student, status `optimal`: `pulp` (CBC) and `pulp_highs` and
   `highs` solve the integer program with the comb rows; `cpsat` proves it by the theorem. The
   matching to equal is the `matching` package's resident-optimal one (and solver.da's).
2. A hand-made district (tests/data/school_choice/compare/, every number worked out in the configs'
   comments and re-derived here by the brute-force oracle): deferred acceptance, the optimum, the
   optimum with stability soft and hard — on every backend; then through the command line: each run
   folder passes `seatplan audit`, and `seatplan compare DA_RUN OPT_RUN` shows better off / worse off
   / same, blocking pairs, compacts honored, diversity shortfalls and mean position in every format.
"""

from __future__ import annotations

import csv
import io
import json
import tempfile
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from click.testing import Result as ClickResult
from hypothesis import HealthCheck, given, settings

from seatplan.solver.cli import main
from seatplan.solver.solve import solve
from tests.conftest import BACKENDS, settings_for
from tests.oracles.instances import Shape, Source
from tests.oracles.test_school_choice import (
    Choice,
    as_assignment,
    blocking_pairs,
    drawn_choices,
    enumerate_case,
    full_terms,
    least,
    matching_da,
    product_da,
    random_choice,
    read_assignment,
    read_choice,
)

DATA = Path(__file__).resolve().parents[1] / "data" / "school_choice" / "compare"

# ---------------------------------------------------------------------------------------------
# 1. stability hard = deferred acceptance, on every backend

PLAIN = Shape(
    students=(5, 30),
    schools=(2, 5),
    list_length=(1, 4),
    capacity=(0, 4),
    compacts=(0, 0),
    diversity_rules=(0, 0),
)


def plain(choice: Choice, source: Source) -> Choice:
    """Only ranks and seats: clusters off, no compacts or bands, rank ≥ 1, unassigned any, the rest 0."""
    base = choice.base
    base.clusters_mode = "off"
    base.compacts = []
    base.compact_settings = {}
    base.weights = {
        "rank": source.integer(1, 3),
        "unassigned": source.integer(0, 300),
        "distance": 0,
        "broken_compact": 0,
        "outside_cluster": 0,
    }
    return replace(choice, stability={"mode": "hard"}, families={"together": "off"})


def check_stable_optimum_is_da(choice: Choice, folder: Path, backends: tuple[str, ...]) -> None:
    config_path = choice.write(folder)
    expected = matching_da(choice)
    assert product_da(config_path) == expected, f"solver.da is not matching's\n{choice.describe()}"
    for backend in backends:
        result = solve(settings_for(config_path, backend, seed=choice.seed))
        context = f"\nbackend {backend}: status {result.status}\n{choice.describe()}"
        assert result.status == "optimal", context
        got = as_assignment(result)
        differ = {s: (got[s], expected[s]) for s in expected if got[s] != expected[s]}
        assert not differ, f"(student: (solver, deferred acceptance)) {differ}{context}"
        assert result.evaluation is not None
        assert result.evaluation.terms == full_terms(choice, got), context


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("seed", range(8))
def test_stability_hard_is_deferred_acceptance(seed: int, backend: str, tmp_path: Path) -> None:
    source = Source(7700 + seed)
    choice = plain(random_choice(source, PLAIN), source)
    check_stable_optimum_is_da(choice, tmp_path, (backend,))


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(choice=drawn_choices(PLAIN))
def test_stability_hard_is_deferred_acceptance_random(choice: Choice) -> None:
    choice = plain(choice, Source(choice.seed))
    with tempfile.TemporaryDirectory() as folder:
        check_stable_optimum_is_da(choice, Path(folder), BACKENDS)


# ---------------------------------------------------------------------------------------------
# 2. the hand-made district

#: Each config's optimum (cents) and assignment, as its comment works them out.
WORKED: dict[str, tuple[int, dict[str, str | None]]] = {
    "da": (12200, {"s1": "A", "s2": None, "s3": "U", "s4": "B", "s5": "B", "s6": "U"}),
    "optimize": (10100, {"s1": "B", "s2": "A", "s3": None, "s4": "B", "s5": "U", "s6": "U"}),
    "soft": (15100, {"s1": "B", "s2": "A", "s3": None, "s4": "B", "s5": "U", "s6": "U"}),
    "hard": (20000, {"s1": "A", "s2": None, "s3": None, "s4": "B", "s5": "U", "s6": "U"}),
}


@pytest.mark.parametrize("name", ["optimize", "soft", "hard"])
def test_hand_worked_optima_are_the_brute_force_optima(name: str) -> None:
    """The oracle reads the comments' cases as they work them out (and the optimum is unique)."""
    choice = read_choice(DATA / f"{name}.yaml")
    table = enumerate_case(choice)
    best = least(choice, table)
    assert best is not None
    cost, assignment = best
    assert (cost, assignment) == WORKED[name]
    ties = [row.assignment for row in table if least(choice, [row]) is not None and least(choice, [row])[0] == cost]
    assert ties == [assignment]


def test_hand_worked_da_is_matchings() -> None:
    choice = read_choice(DATA / "da.yaml")
    assert matching_da(choice) == WORKED["da"][1]
    assert product_da(DATA / "da.yaml") == WORKED["da"][1]


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("name", ["optimize", "soft", "hard"])
def test_hand_worked_optima_on_every_backend(name: str, backend: str) -> None:
    result = solve(settings_for(DATA / f"{name}.yaml", backend))
    assert result.status == "optimal"
    assert result.evaluation is not None
    assert result.evaluation.objective == WORKED[name][0]
    assert as_assignment(result) == WORKED[name][1]


def cli(*args: str | Path) -> ClickResult:
    return CliRunner().invoke(main, [str(a) for a in args])


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`seatplan solve` of each hand-made config, into one folder of runs."""
    folder = tmp_path_factory.mktemp("runs")
    for name in WORKED:
        solved = cli("solve", DATA / f"{name}.yaml", "--out", folder / name, "--quiet")
        assert solved.exit_code == 0, solved.output
    return folder


def metrics_of(run: Path) -> dict[str, Any]:
    return json.loads((run / "metrics.json").read_text(encoding="utf-8"))


@pytest.mark.parametrize("name", list(WORKED))
def test_run_folders_hold_the_worked_assignment_and_pass_the_audit(runs: Path, name: str) -> None:
    assignment, _positions = read_assignment(runs / name / "assignment.csv")
    assert assignment == WORKED[name][1]
    metrics = metrics_of(runs / name)
    assert round(100 * metrics["objective"]) == WORKED[name][0]
    audited = cli("audit", runs / name)
    assert audited.exit_code == 0, audited.output


def test_da_run_metrics(runs: Path) -> None:
    metrics = metrics_of(runs / "da")
    assert (metrics["mechanism"], metrics["status"], metrics["backend"]) == (
        "deferred_acceptance",
        "stable",
        "deferred_acceptance",
    )
    assert metrics["blocking_pairs"] == 0
    assert metrics["compacts"]["honored"] == 0  # K1 is not applied, though s6 sits at U by its list
    assert metrics["terms"]["broken_compact"] == 20.0
    # the compact_id column is empty: nobody is placed through a compact under DA
    text = (runs / "da" / "assignment.csv").read_text(encoding="utf-8")
    assert all(row["compact_id"] == "" for row in csv.DictReader(io.StringIO(text)))


def test_stability_soft_run_reports_its_pair_and_term(runs: Path) -> None:
    metrics = metrics_of(runs / "soft")
    assert metrics["mechanism"] == "optimize"
    assert metrics["blocking_pairs"] == 1
    assert metrics["terms"]["blocking_pairs"] == 50.0
    assert metrics["terms"]["rank"] == 1.0 and metrics["terms"]["unassigned"] == 100.0
    assert sum(metrics["terms"].values()) == metrics["objective"] == 151.0
    # the oracle's count of the same assignment: the one pair (s1, A)
    choice = read_choice(DATA / "soft.yaml")
    assert blocking_pairs(choice, WORKED["soft"][1]) == [("s1", "A")]
    # metrics of the plain optimum count its pair too, with no term (stability off)
    plain_metrics = metrics_of(runs / "optimize")
    assert plain_metrics["blocking_pairs"] == 1 and plain_metrics["terms"]["blocking_pairs"] == 0.0
    assert metrics_of(runs / "hard")["blocking_pairs"] == 0


#: What `compare da optimize` must show (worked out in optimize.yaml's and da.yaml's comments).
COMPARED = {
    "better off than the first": (None, 1),
    "worse off than the first": (None, 3),
    "same as the first": (None, 2),
    "blocking pairs": (0, 1),
    "compacts honored": ("0/1", "1/1"),
    "worst diversity shortfall": ("0.5 (ses=low at A)", "1 (ses=low at B)"),
    "mean position": (1.4, 1.8),
    "objective": (122.0, 101.0),
    "mechanism": ("deferred_acceptance", "optimize"),
}


def test_compare_json(runs: Path) -> None:
    shown = cli("compare", runs / "da", runs / "optimize", "--format", "json")
    assert shown.exit_code == 0, shown.output
    document = json.loads(shown.stdout)
    assert list(document) == ["da", "optimize"]
    for metric, (da, optimized) in COMPARED.items():
        assert (document["da"][metric], document["optimize"][metric]) == (da, optimized), metric


def test_compare_csv(runs: Path) -> None:
    shown = cli("compare", runs / "da", runs / "optimize", "--format", "csv")
    assert shown.exit_code == 0, shown.output
    rows = {row[0]: row[1:] for row in csv.reader(io.StringIO(shown.stdout))}
    assert rows["metric"] == ["da", "optimize"]
    for metric, values in COMPARED.items():
        assert rows[metric] == ["" if v is None else str(v) for v in values], metric


def _text(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:,.2f}"
    return str(value)


@pytest.mark.parametrize("fmt", ["table", "markdown"])
def test_compare_table_and_markdown(runs: Path, fmt: str) -> None:
    shown = cli("compare", runs / "da", runs / "optimize", "--format", fmt)
    assert shown.exit_code == 0, shown.output
    lines = shown.stdout.splitlines()
    for metric, values in COMPARED.items():
        line = next(line for line in lines if line.strip(" |").startswith(metric + (" " if fmt == "table" else " |")))
        cells = [c.strip() for c in line.strip("|").split("|")] if fmt == "markdown" else None
        if cells is not None:
            assert cells == [metric, *(_text(v) for v in values)], line
        else:
            rest = line[len(metric) :].strip()
            assert rest.split("  ")[0].strip() == _text(values[0]) and rest.endswith(_text(values[1])), line


def test_compare_reversed_swaps_better_and_worse(runs: Path) -> None:
    """With the optimum first, DA's students read the other way round: 3 better, 1 worse, 2 same."""
    shown = cli("compare", runs / "optimize", runs / "da", "--format", "json")
    assert shown.exit_code == 0, shown.output
    da = json.loads(shown.stdout)["da"]
    assert (da["better off than the first"], da["worse off than the first"], da["same as the first"]) == (3, 1, 2)


# ---------------------------------------------------------------------------------------------
# 3. stability hard with nothing stable

INFEASIBLE = DATA.parent / "infeasible" / "config.yaml"


def test_nothing_is_stable_by_brute_force() -> None:
    choice = read_choice(INFEASIBLE)
    table = enumerate_case(choice)
    assert table and least(choice, table) is None
    assert all(("s1", "U") in blocking_pairs(choice, row.assignment) for row in table)


@pytest.mark.parametrize("backend", BACKENDS)
def test_stability_hard_infeasible_on_every_backend(backend: str) -> None:
    result = solve(settings_for(INFEASIBLE, backend))
    assert result.status in ("infeasible", "no_solution"), result.status
    assert result.placement is None


def test_stability_hard_infeasible_through_the_cli(tmp_path: Path) -> None:
    result = cli("solve", INFEASIBLE, "--out", tmp_path / "run", "--quiet")
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    assert "infeasible" in result.output
    # it names the hard rule that cannot hold, which a planner may relax, with its line and unit
    assert "config.yaml:8 stability: hard" in result.output and "compact K1 listed U" in result.output
    assert "clusters" not in result.output
    document = json.loads((tmp_path / "infeasibility.json").read_text())
    assert [rule["key"] for rule in document["rules"]] == ["stability.mode"] and document["minimal"]
    assert not (tmp_path / "run").exists()
