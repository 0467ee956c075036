"""The transportation core as a min-cost flow (OR-Tools SimpleMinCostFlow), built with numpy.

Without compacts or diversity rows the program is a transportation problem: students send one unit
each, either to a (school, grade) cell through one of their options or to "unplaced"; cells pass at
most their capacity to the sink. Its constraint matrix is totally unimodular, so the min-cost flow
is an integer optimum of the program and its optimality is a proof: the flow is `optimal`.

With side rows the same flow, ignoring them, is the first step of the warm start (warmstart.py).
"""

from __future__ import annotations

import numpy as np

from seatplan.models.formulation import Model
from seatplan.models.instance import Instance
from seatplan.models.ir import TRANSPORTATION_ROLES


def is_transportation(model: Model) -> bool:
    """True when the program is, in its structure, nothing but options, one seat per student, and
    capacities: no compact, no variable but the options, no row of another role."""
    formulation = model.formulation
    return (
        model.seats.n_compacts == 0
        and formulation.n_vars == model.seats.n_options
        and all(block.role in TRANSPORTATION_ROLES for block in formulation.rows)
    )


def seat_flow(
    instance: Instance,
    student: np.ndarray,
    school: np.ndarray,
    cost: np.ndarray,
    capacity: np.ndarray | None = None,
    cell: np.ndarray | None = None,
    cell_capacity: np.ndarray | None = None,
    try_cheaper_unplaced: bool = False,
) -> tuple[np.ndarray, int]:
    """Each student takes at most one of its arcs (student, school) into its grade's seats there;
    leaving a student out costs 0. Returns the flow on each arc and the optimal cost.

    Seats are pooled by (school, grade), with `capacity` (school × grade, default the instance's);
    or, given `cell` (a pool per arc) and `cell_capacity`, by any finer pools a caller chooses.
    Arc costs are shifted so that every cost is ≥ 0 (each student sends exactly one unit, to a
    school or to "unplaced", so the shift adds N·shift to every flow and is taken off again).

    `try_cheaper_unplaced`: first solve with "unplaced" costing just more than the dearest option
    (cost scaling then needs fewer phases). If that flow places every student who has an arc, it is
    optimal for the true cost too: any flow costs at least as much at the true, higher price of an
    unplaced student, and this one leaves out only students no flow can place. Otherwise the flow is
    solved again at the true cost.
    """
    cost = np.asarray(cost, dtype=np.int64)
    shift = max(0, -int(cost.min())) if len(cost) else 0
    # Cost scaling runs one phase per bit of the largest cost: divide out a common factor (ranks
    # cost whole hundreds of cents) and multiply the optimum back.
    divisor = int(np.gcd.reduce(np.append(cost + shift, shift))) if len(cost) else 1
    divisor = max(divisor, 1)
    n_students = instance.n_students
    if cell is None:
        cell = school * len(instance.grades) + instance.grade[student]
        cell_capacity = (instance.capacity if capacity is None else capacity).reshape(-1)
    assert cell_capacity is not None
    cell_capacity = np.asarray(cell_capacity, dtype=np.int64).reshape(-1)
    # The cells some arc reaches, numbered in order (np.unique without its sort).
    reached = np.zeros(len(cell_capacity), dtype=bool)
    reached[cell] = True
    used_cells = np.flatnonzero(reached)
    node_of_cell = np.cumsum(reached) - 1
    cell_node = node_of_cell[cell]
    sink = n_students + len(used_cells)
    seats = cell_capacity[used_cells]
    arcs = (
        np.concatenate([student, n_students + np.arange(len(used_cells)), np.arange(n_students)]).astype(np.int32),
        np.concatenate([n_students + cell_node, np.full(len(used_cells), sink), np.full(n_students, sink)]).astype(
            np.int32
        ),
        np.concatenate([np.ones(len(cost), np.int64), seats, np.ones(n_students, np.int64)]),
        np.concatenate([(cost + shift) // divisor, np.zeros(len(used_cells), np.int64)]),
    )
    if try_cheaper_unplaced and len(cost):
        cheaper = int((cost + shift).max()) // divisor + 1
        if cheaper < shift // divisor:
            arc_flow, unplaced, total = _min_cost_flow(arcs, n_students, sink, cheaper)
            has_arc = np.zeros(n_students, dtype=bool)
            has_arc[student] = True
            if not (unplaced & has_arc).any():
                # Priced back: those left out (no flow can place them) at the true price.
                left_out = int(unplaced.sum())
                return arc_flow, (total - left_out * cheaper) * divisor + left_out * shift - n_students * shift
    arc_flow, _, total = _min_cost_flow(arcs, n_students, sink, shift // divisor)
    return arc_flow, total * divisor - n_students * shift


def _min_cost_flow(
    arcs: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray], n_students: int, sink: int, unplaced_cost: int
) -> tuple[np.ndarray, np.ndarray, int]:
    """OR-Tools' SimpleMinCostFlow on the seat network, "unplaced" at `unplaced_cost`: the flow on
    each option arc, who is unplaced, and the optimal cost (in the network's units)."""
    from ortools.graph.python import min_cost_flow

    tails, heads, capacities, costs = arcs
    n_options = len(tails) - (sink - n_students) - n_students
    flow = min_cost_flow.SimpleMinCostFlow()
    flow.add_arcs_with_capacity_and_unit_cost(
        tails, heads, capacities, np.concatenate([costs, np.full(n_students, unplaced_cost, np.int64)])
    )
    supplies = np.zeros(sink + 1, dtype=np.int64)
    supplies[:n_students] = 1
    supplies[sink] = -n_students
    flow.set_nodes_supplies(np.arange(sink + 1, dtype=np.int32), supplies)
    status = flow.solve()
    if status != flow.OPTIMAL:
        raise RuntimeError(f"min-cost flow ended with status {status}")
    arc_flow = np.asarray(flow.flows(np.arange(n_options, dtype=np.int32)), dtype=np.int64)
    unplaced_arcs = np.arange(len(tails) - n_students, len(tails), dtype=np.int32)
    unplaced = np.asarray(flow.flows(unplaced_arcs), dtype=np.int64) > 0
    return arc_flow, unplaced, int(flow.optimal_cost())


def solve_transportation(
    model: Model,
    instance: Instance,
    costs: np.ndarray | None = None,
    capacity: np.ndarray | None = None,
    students: np.ndarray | None = None,
    pools: tuple[np.ndarray, np.ndarray, int] | None = None,
    try_cheaper_unplaced: bool = False,
) -> tuple[np.ndarray, int]:
    """Min-cost flow over the options (compact seats excluded). Returns (values, objective in cents).

    Costs are the objective's coefficients on the option variables (or `costs`, per variable, e.g.
    prices from an LP). `capacity` (school × grade) and `students` (a mask of who takes part)
    restrict the flow, e.g. around compacts already placed; `pools` (a pool per seat of the model,
    each pool's size and the cost of a seat beyond it) split each school's seats further (see
    pooled_flow). The objective returned is the model's, for the values found.
    """
    formulation = model.formulation
    seats = model.seats
    coefs, constant = formulation.objective()
    option = seats.is_option
    if students is not None:
        option = option & students[seats.student]
    var = seats.var[option]
    cost = np.rint(costs[var]).astype(np.int64) if costs is not None else coefs[var]
    if pools is None:
        arc_flow, _ = seat_flow(
            instance,
            seats.student[option],
            seats.school[option],
            cost,
            capacity,
            try_cheaper_unplaced=try_cheaper_unplaced,
        )
    else:
        arc_flow = pooled_flow(
            instance,
            seats.student[option],
            seats.school[option],
            cost,
            pools[0][option],
            pools[1],
            pools[2],
            capacity,
        )
    values = np.zeros(formulation.n_vars, dtype=np.int64)
    values[var] = arc_flow
    objective = int(constant + int(coefs @ values))
    return values, objective


def pooled_flow(
    instance: Instance,
    student: np.ndarray,
    school: np.ndarray,
    cost: np.ndarray,
    pool: np.ndarray,
    pool_size: np.ndarray,
    penalty: int,
    capacity: np.ndarray | None = None,
) -> np.ndarray:
    """As seat_flow, with each arc also in a pool (inside its school and grade): a pool's first
    `pool_size` students cost nothing more, each one beyond it `penalty`. Returns the arc flows.

    Network: student → pool (the arc's cost) → (school, grade) (free up to the pool's size, then
    `penalty` each) → sink (up to the seats); student → sink directly when unplaced.
    """
    from ortools.graph.python import min_cost_flow

    cost = np.asarray(cost, dtype=np.int64)
    shift = max(0, -int(cost.min())) if len(cost) else 0
    n_students = instance.n_students
    n_grades = len(instance.grades)
    seats_left = (instance.capacity if capacity is None else capacity).reshape(-1)
    used_pools, pool_node = np.unique(pool, return_inverse=True)
    cell_of_arc = school * n_grades + instance.grade[student]
    cell_of_pool = np.zeros(len(used_pools), dtype=np.int64)
    cell_of_pool[pool_node] = cell_of_arc
    used_cells, cell_node = np.unique(cell_of_pool, return_inverse=True)
    first_pool = n_students
    first_cell = first_pool + len(used_pools)
    sink = first_cell + len(used_cells)
    n_arcs = len(cost)
    tails = np.concatenate(
        [
            student,
            first_pool + np.arange(len(used_pools)),
            first_pool + np.arange(len(used_pools)),
            first_cell + np.arange(len(used_cells)),
            np.arange(n_students),
        ]
    )
    heads = np.concatenate(
        [
            first_pool + pool_node,
            first_cell + cell_node,
            first_cell + cell_node,
            np.full(len(used_cells), sink),
            np.full(n_students, sink),
        ]
    )
    capacities = np.concatenate(
        [
            np.ones(n_arcs, np.int64),
            pool_size[used_pools],
            np.full(len(used_pools), n_students, np.int64),
            seats_left[used_cells],
            np.ones(n_students, np.int64),
        ]
    )
    costs = np.concatenate(
        [
            cost + shift,
            np.zeros(len(used_pools), np.int64),
            np.full(len(used_pools), penalty, np.int64),
            np.zeros(len(used_cells), np.int64),
            np.full(n_students, shift, np.int64),
        ]
    )
    flow = min_cost_flow.SimpleMinCostFlow()
    flow.add_arcs_with_capacity_and_unit_cost(
        tails.astype(np.int32),
        heads.astype(np.int32),
        capacities.astype(np.int64),
        costs.astype(np.int64),
    )
    supplies = np.zeros(sink + 1, dtype=np.int64)
    supplies[:n_students] = 1
    supplies[sink] = -n_students
    flow.set_nodes_supplies(np.arange(sink + 1, dtype=np.int32), supplies)
    if flow.solve() != flow.OPTIMAL:
        raise RuntimeError("pooled min-cost flow did not solve")
    return np.asarray(flow.flows(np.arange(n_arcs, dtype=np.int32)), dtype=np.int64)
