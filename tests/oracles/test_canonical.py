"""One reproducible answer (issue 16): among equal optima seatplan returns the one with the least
tie-break sum, whatever the backend and the number of workers.

The oracle is brute force with the tickets written here from the README's definition (plain Python
integers, apart from the vectorised code in solver/canonical.py): every assignment is enumerated,
the optimal ones kept, and the one with the least sum of tickets is the answer.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from seatplan.solver.solve import solve
from tests.conftest import settings_for
from tests.oracles.contract import Assignment, assignments, breaches, cost, through_compact
from tests.oracles.instances import SMALL, TINY, Case, Shape, Source, random_case
from tests.oracles.test_brute_force import solver_assignment

MASK = 2**64 - 1
GOLDEN = 0x9E3779B97F4A7C15


def id_hash(seed: int, kind: str, name: str) -> int:
    return int.from_bytes(hashlib.sha256(f"{seed}\x1f{kind}\x1f{name}".encode()).digest()[:8], "big")


def splitmix64(x: int) -> int:
    x = (x + GOLDEN) & MASK
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & MASK
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & MASK
    return x ^ (x >> 31)


def ticket(seed: int, student: str, school: str, via_compact: bool) -> int:
    """τ(student, school, kind): README, "One answer among equal optima"."""
    mixed = ((id_hash(seed, "student", student) * GOLDEN) & MASK) ^ id_hash(seed, "school", school)
    return splitmix64((mixed + int(via_compact)) & MASK) >> 44


def tie_break_sum(case: Case, assignment: Assignment, seed: int = 0) -> int:
    compact = through_compact(case, assignment)
    return sum(ticket(seed, s, j, s in compact) for s, j in assignment.items() if j is not None)


def canonical_by_brute_force(case: Case) -> tuple[Assignment, set[str], int]:
    """The optimal assignment with the least tie-break sum, who is placed through a compact in it,
    and how many optimal assignments there are."""
    optimal: list[Assignment] = []
    best = None
    for assignment in assignments(case):
        if breaches(case, assignment):
            continue
        value = cost(case, assignment)
        if best is None or value < best:
            best, optimal = value, [dict(assignment)]
        elif value == best:
            optimal.append(dict(assignment))
    sums = sorted((tie_break_sum(case, a), k) for k, a in enumerate(optimal))
    assert len(sums) == 1 or sums[0][0] < sums[1][0], "two optima tie in the tie-break sum too"
    chosen = optimal[sums[0][1]]
    return chosen, through_compact(case, chosen), len(optimal)


def solved(case: Case, folder: Path, backend: str, workers: int = 1):  # noqa: ANN201
    result = solve(settings_for(case.write(folder), backend, workers=workers))
    assert result.status == "optimal", result
    return result


RICH = Shape(students=(5, 8), schools=(2, 3), list_length=(1, 3), capacity=(1, 3), compacts=(0, 2))


@pytest.mark.parametrize("seed", range(40))
def test_the_canonical_optimum_is_the_least_tie_break_sum_among_all_optima(seed: int, tmp_path: Path) -> None:
    case = random_case(Source(5000 + seed), TINY if seed % 2 else RICH)
    expected, compact, n_optimal = canonical_by_brute_force(case)
    for backend in ("cpsat", "pulp"):
        result = solved(case, tmp_path / backend, backend)
        assert solver_assignment(result) == expected, f"{backend}; {n_optimal} optima\n{case.describe()}"
        ids = result.instance.student_ids
        got_compact = {str(ids[k]) for k in range(len(ids)) if result.evaluation.through_compact[k]}
        assert got_compact == compact
        assert result.tie_break == "canonical" and result.metrics["tie_break"] == "canonical"


def test_a_crafted_case_with_two_optima_returns_the_documented_one(tmp_path: Path) -> None:
    """Two students, two schools of one seat, both listing both in the same order: either may have
    the first choice (each optimum costs rank 1 + 2). The documented tie-break decides which."""
    from tests.conftest import write_case

    students = "student_id,family_id,ses\na,fa,low\nb,fb,high\n"
    schools = "school_id,capacity\nX,1\nY,1\n"
    preferences = "student_id,school_id,rank\na,X,1\na,Y,2\nb,X,1\nb,Y,2\n"
    config = write_case(tmp_path / "data", students, schools, preferences, config={"solver": {"workers": 1}})
    first = ticket(0, "a", "X", False) + ticket(0, "b", "Y", False)
    second = ticket(0, "a", "Y", False) + ticket(0, "b", "X", False)
    assert first != second
    expected = {"a": "X", "b": "Y"} if first < second else {"a": "Y", "b": "X"}
    for backend in ("cpsat", "pulp"):
        result = solve(settings_for(config, backend))
        assert result.status == "optimal"
        assert solver_assignment(result) == expected

    # Another seed, another draw: the tie-break is reproducible from solver.seed, as a lottery is.
    def prefers_first(seed: int) -> bool:
        return ticket(seed, "a", "X", False) + ticket(seed, "b", "Y", False) < ticket(seed, "a", "Y", False) + ticket(
            seed, "b", "X", False
        )

    flipped = next(seed for seed in range(1, 100) if prefers_first(seed) != (first < second))
    other = solve(settings_for(config, "cpsat", seed=flipped))
    assert solver_assignment(other) == {"a": expected["b"], "b": expected["a"]}


@pytest.mark.parametrize("seed", range(50))
def test_the_same_bytes_with_any_workers_and_either_backend(seed: int, tmp_path: Path) -> None:
    case = random_case(Source(9000 + seed), SMALL)
    config = case.write(tmp_path / "data")
    written: dict[tuple[str, int], bytes] = {}
    for backend in ("cpsat", "pulp"):
        for workers in (1, 2, 4):
            result = solve(settings_for(config, backend, workers=workers))
            if result.status != "optimal":
                continue
            folder = result.save(tmp_path / f"{backend}-{workers}")
            written[(backend, workers)] = (folder / "assignment.csv").read_bytes()
    assert written, "no run was optimal"
    assert len(set(written.values())) == 1, {key: value.decode()[:200] for key, value in written.items()}
