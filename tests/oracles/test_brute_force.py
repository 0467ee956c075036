"""Brute force: on tiny random cases, the solver's optimum is the least cost of every assignment.

Every assignment rule 1 allows (each student unplaced, at a listed school, or — a member — at its
compact's school) is enumerated; those that keep every hard rule are costed by the contract's
objective (tests/oracles/contract.py, written from the text of issue 2 and sharing no code with
models/, solver/ or audit/); the least cost must be what `cpsat` and `pulp` return, with status
`optimal`. The solver's assignment must also keep every hard rule and cost, term by term, what the
solver says it costs.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings

from seatplan.solver.result import Result
from seatplan.solver.solve import solve
from tests.conftest import settings_for
from tests.oracles.contract import Assignment, breaches, terms, true_minimum
from tests.oracles.instances import TINY, Case, Shape, Source, cases, random_case

BACKENDS = ("cpsat", "pulp")


def solver_assignment(result: Result) -> Assignment:
    """The solver's assignment as student_id -> school_id (None when unplaced)."""
    assert result.placement is not None
    ids = result.instance.school_ids
    return {
        str(s): (str(ids[j]) if j >= 0 else None)
        for s, j in zip(result.instance.student_ids, result.placement.school, strict=True)
    }


def solve_case(config_path: Path, backend: str) -> Result:
    """Solve a written case with one backend, at the suite's settings (30 s, one worker)."""
    return solve(settings_for(config_path, backend))


def check_against_brute_force(case: Case, folder: Path, backends: tuple[str, ...] = BACKENDS) -> None:
    config_path = case.write(folder)
    best, witness, feasible = true_minimum(case)
    for backend in backends:
        result = solve_case(config_path, backend)
        context = (
            f"\nbackend {backend}: status {result.status}, solver objective "
            f"{None if result.evaluation is None else result.evaluation.objective} cents; "
            f"true minimum {best} cents over {feasible} feasible assignments, e.g. {witness} "
            f"(terms {terms(case, witness)})\n{case.describe()}"
        )
        assert result.status == "optimal", context
        assert result.evaluation is not None
        got = solver_assignment(result)
        assert breaches(case, got) == [], f"solver's assignment {got} breaks {breaches(case, got)}{context}"
        assert terms(case, got) == result.evaluation.terms, (
            f"solver's assignment {got}: contract terms {terms(case, got)}, "
            f"solver terms {result.evaluation.terms}{context}"
        )
        assert result.evaluation.objective == best, context


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=cases(TINY))
def test_brute_force_random(case: Case) -> None:
    with tempfile.TemporaryDirectory() as folder:
        check_against_brute_force(case, Path(folder))


# Fixed seeds: the same generator driven by random.Random, so these cases never change.
@pytest.mark.parametrize("seed", [0, 11, 16, 17, 27, 101, 202, 303, 404, 505])
def test_brute_force_seeds(seed: int, tmp_path: Path) -> None:
    check_against_brute_force(random_case(Source(seed), TINY), tmp_path)


# Slightly richer fixed cases: two compacts competing for a school, always a hard diversity rule.
@pytest.mark.parametrize("seed", range(8))
def test_brute_force_two_compacts(seed: int, tmp_path: Path) -> None:
    shape = Shape(
        students=(6, 8),
        schools=(2, 3),
        compacts=(2, 2),
        compact_families=(2, 2),
        diversity_rules=(1, 2),
    )
    case = random_case(Source(1000 + seed), shape)
    check_against_brute_force(case, tmp_path)


# The oracle checked in turn: on the solver suite's hand-worked cases (tests/solver/
# test_known_optima.py, optima worked out in their comments), brute force finds the same optimum.
def _hand_worked() -> list:
    from tests.solver.test_known_optima import CASES

    return CASES


@pytest.mark.parametrize("hand", _hand_worked(), ids=lambda c: c.name)
def test_oracle_agrees_with_hand_worked_cases(hand, tmp_path: Path) -> None:  # noqa: ANN001
    from tests.conftest import write_case
    from tests.oracles.instances import read_case

    path = write_case(
        tmp_path,
        hand.students,
        hand.schools,
        hand.preferences,
        compacts=hand.compacts,
        seats=hand.seats,
        config=hand.config,
    )
    best, witness, _feasible = true_minimum(read_case(path))
    assert best == round(100 * hand.objective), witness
