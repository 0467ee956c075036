"""The pure flow solved first with a cheaper "unplaced" (solver/flow.py `seat_flow`,
`try_cheaper_unplaced`): the same optimum as at the true price, on random small networks where
seats are plenty, short, or missing for some students; both ways through the check are taken."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest

import seatplan.solver.flow as flow


def random_network(seed: int) -> dict[str, Any]:
    rng = np.random.default_rng(seed)
    n_students, n_schools = int(rng.integers(1, 25)), int(rng.integers(1, 6))
    lists = [rng.permutation(n_schools)[: int(rng.integers(0, n_schools + 1))] for _ in range(n_students)]
    student = np.array([s for s, x in enumerate(lists) for _ in x], dtype=np.int64)
    school = np.array([j for x in lists for j in x], dtype=np.int64)
    position = np.array([k for x in lists for k in range(len(x))], dtype=np.int64)
    rank_weight, unplaced_weight = int(rng.integers(1, 4)), int(rng.choice([1, 5, 100]))
    # An option costs its rank steps minus the price of leaving the student out (whole cents).
    cost = 100 * (rank_weight * position - unplaced_weight)
    capacity = rng.integers(0, 2 * n_students // n_schools + 2, size=n_schools)
    return {
        "instance": SimpleNamespace(n_students=n_students),
        "student": student,
        "school": school,
        "cost": cost,
        "cell": school,
        "cell_capacity": capacity,
    }


def check(seed: int) -> str:
    """Both ways give the same optimum and an optimal flow; returns which way the fast one went."""
    network = random_network(seed)
    if not len(network["cost"]):
        return "no options"
    calls: list[int] = []
    solve_once = flow._min_cost_flow

    def counted(*args: Any) -> Any:
        calls.append(args[-1])  # the price of "unplaced" in this solve
        return solve_once(*args)

    flow._min_cost_flow = counted  # type: ignore[assignment]
    try:
        _, exact = flow.seat_flow(**network)
        true_price = calls.pop()
        fast_flow, fast = flow.seat_flow(**network, try_cheaper_unplaced=True)
    finally:
        flow._min_cost_flow = solve_once  # type: ignore[assignment]
    assert fast == exact, seed
    # The flow returned is itself optimal: its cost is the optimum, and it keeps seats and students.
    assert int(network["cost"] @ fast_flow) == exact, seed
    assert np.all(np.bincount(network["student"], fast_flow) <= 1)
    seats_used = np.bincount(network["cell"], fast_flow, minlength=len(network["cell_capacity"]))
    assert np.all(seats_used <= network["cell_capacity"])
    if calls == [true_price]:
        return "not tried"
    assert len(calls) in (1, 2) and calls[0] < true_price, calls
    return "accepted" if len(calls) == 1 else "solved again"


@pytest.mark.parametrize("block", range(4))
def test_cheaper_unplaced_keeps_the_optimum(block: int) -> None:
    ways = [check(seed) for seed in range(100 * block, 100 * block + 100)]
    assert "accepted" in ways and "solved again" in ways, ways
