"""Oracles for the mechanisms planners compare against (issue 17): immediate acceptance (the Boston
mechanism) and top trading cycles.

Each is written again here, literally and slowly, from its definition — one round, one cycle at a
time, over the case's plain data (tests/oracles/test_school_choice.py's `Choice`: the lists, each
school's order by priority then lottery, seats per school and grade) — and must give the solver's
vectorised result on random markets, and `seatplan solve` + `seatplan audit` must agree. Properties:
immediate acceptance never moves a student placed in round k; top trading cycles is Pareto efficient
(brute force over every assignment of tiny markets).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from seatplan.models.data import load_inputs
from seatplan.solver.cli import main
from seatplan.solver.mechanisms import immediate_acceptance, top_trading_cycles
from tests.oracles.contract import Assignment, assignments, seats
from tests.oracles.instances import Shape, Source
from tests.oracles.test_school_choice import Choice, grade_of, product_da, random_choice, read_assignment

MARKET = Shape(
    students=(1, 30),
    schools=(1, 5),
    list_length=(1, 4),
    capacity=(0, 4),
    compacts=(0, 0),
    diversity_rules=(0, 0),
)
TINY_MARKET = Shape(students=(2, 6), schools=(1, 3), list_length=(1, 3), capacity=(0, 2), compacts=(0, 0))


def literal_immediate_acceptance(choice: Choice, rounds: int | None = None) -> Assignment:
    """Round k: each unplaced student applies to the k-th school of its list; each school and grade
    takes applicants in its order while seats remain; those placements are final."""
    case, grade = choice.base, grade_of(choice)
    left = {(j.id, g): seats(case, j.id, g) for j in case.schools for g in set(grade.values())}
    out: Assignment = {s.id: None for s in case.students}
    k = 0
    while rounds is None or k < rounds:
        applying = [s for s in out if out[s] is None and k < len(case.prefs.get(s, []))]
        if not applying:
            break
        for s in sorted(applying, key=lambda s: choice.order(s, case.prefs[s][k])):
            school = case.prefs[s][k]
            if left[(school, grade[s])] > 0:
                left[(school, grade[s])] -= 1
                out[s] = school
        k += 1
    return out


def literal_top_trading_cycles(choice: Choice, events: list[tuple[str, str, str]] | None = None) -> Assignment:
    """One cycle at a time: students point to the best school of their list with a seat left in their
    grade, each school (and grade) to its highest-ranked remaining applicant; the first cycle found
    from the first remaining student is traded. `events`, when given, gets ("placed", student, "")
    and ("full", school, grade) in the order they happen."""
    case, grade = choice.base, grade_of(choice)
    left = {(j.id, g): seats(case, j.id, g) for j in case.schools for g in set(grade.values())}
    out: Assignment = {s.id: None for s in case.students}
    remaining = [s.id for s in case.students if case.prefs.get(s.id)]
    while True:
        points = {}
        for s in remaining:
            best = [j for j in case.prefs[s] if left[(j, grade[s])] > 0]
            if best:
                points[s] = best[0]
        remaining = [s for s in remaining if s in points]
        if not remaining:
            return out

        def top(school: str, g: str, remaining: list[str] = remaining) -> str:
            return min(
                (s for s in remaining if school in case.prefs[s] and grade[s] == g),
                key=lambda s: choice.order(s, school),
            )

        path = [remaining[0]]
        while True:
            nxt = top(points[path[-1]], grade[path[-1]])
            if nxt in path:
                cycle = path[path.index(nxt) :]
                break
            path.append(nxt)
        for s in cycle:
            out[s] = points[s]
            left[(points[s], grade[s])] -= 1
            if events is not None:
                events.append(("placed", s, ""))
                if left[(points[s], grade[s])] == 0:
                    events.append(("full", points[s], grade[s]))
        remaining = [s for s in remaining if s not in cycle]


def check(choice: Choice, folder: Path, through_cli: bool) -> None:
    config_path = choice.write(folder)
    context = f"\n{choice.describe()}"
    for mechanism, literal in (
        (immediate_acceptance, literal_immediate_acceptance),
        (top_trading_cycles, literal_top_trading_cycles),
    ):
        expected = literal(choice)
        assert product_da(config_path, mechanism) == expected, f"{mechanism.__name__}{context}"
        if through_cli:
            named = Choice(**{**choice.__dict__, "mechanism": mechanism.__name__})
            run = folder / f"run-{mechanism.__name__}"
            solved = CliRunner().invoke(
                main, ["solve", str(named.write(folder, mechanism.__name__)), "--out", str(run), "--quiet"]
            )
            assert solved.exit_code == 0, solved.output
            assert read_assignment(run / "assignment.csv")[0] == expected
            audited = CliRunner().invoke(main, ["audit", str(run)])
            assert audited.exit_code == 0, audited.output + context


@pytest.mark.parametrize("seed", range(40))
def test_mechanisms_equal_their_literal_definitions(seed: int, tmp_path: Path) -> None:
    check(random_choice(Source(7000 + seed), MARKET), tmp_path, through_cli=seed % 4 == 0)


@pytest.mark.parametrize("seed", range(3))
def test_mechanisms_on_larger_markets_with_grades(seed: int, tmp_path: Path) -> None:
    shape = Shape(
        students=(60, 120),
        schools=(4, 8),
        list_length=(1, 6),
        capacity=(0, 12),
        compacts=(0, 0),
        diversity_rules=(0, 0),
    )
    check(random_choice(Source(7100 + seed), shape), tmp_path, through_cli=True)


@pytest.mark.parametrize("seed", range(20))
def test_immediate_acceptance_never_moves_a_placed_student(seed: int, tmp_path: Path) -> None:
    choice = random_choice(Source(7200 + seed), MARKET)
    config, instance = load_inputs(choice.write(tmp_path))
    final = immediate_acceptance(instance, config).school
    for k in range(1, 5):
        early = immediate_acceptance(instance, config, rounds=k).school
        placed = early >= 0
        assert (final[placed] == early[placed]).all()


def better(choice: Choice, student: str, a: str | None, b: str | None) -> int:
    """+1 when `student` prefers a to b, −1 when b to a, 0 when the same (unplaced is last)."""
    listed = choice.base.prefs.get(student, [])
    rank = {None: len(listed)} | {j: k for k, j in enumerate(listed)}
    return (rank[b] > rank[a]) - (rank[b] < rank[a])


@pytest.mark.parametrize("seed", range(40))
def test_top_trading_cycles_is_pareto_efficient(seed: int, tmp_path: Path) -> None:
    choice = random_choice(Source(7300 + seed), TINY_MARKET)
    config, instance = load_inputs(choice.write(tmp_path))
    result = top_trading_cycles(instance, config)
    ttc = {
        str(s): (str(instance.school_ids[j]) if j >= 0 else None)
        for s, j in zip(instance.student_ids, result.school, strict=True)
    }
    for other in assignments(choice.base):  # every assignment within lists and seats
        comparison = [better(choice, s, other[s], ttc[s]) for s in ttc]
        assert not (min(comparison) >= 0 and max(comparison) > 0), f"{other} dominates {ttc}\n{choice.describe()}"
