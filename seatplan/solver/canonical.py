"""One answer among equal optima: the documented tie-break.

A program like seatplan's often has many optimal assignments (two students with the same costs can
swap schools). Which one a solver returns depends on its threads, its version and the machine, so
among them seatplan returns the one with the least **tie-break sum**

    T(x) = Σ_placements τ(student, school, through a compact or not),

where τ is a whole number in [0, 2^20) read from the SHA-256 of `solver.seed`, the student's id, the
school's id and the kind of placement: a fixed lottery ticket per (student, school) pair, the same
on every machine and for every number of workers. It is found in a second phase, exactly: the
program with one more row holding the objective at its proven optimum, and T as the objective; the
placements the first phase found are its start.

The minimiser of T over the optimal assignments is unique unless two of them tie in T as well; by
the isolation lemma (Mulmuley, Vazirani & Vazirani 1987) that happens with probability at most
(number of placement options) / 2^20 for tickets drawn at random. When it happens, the answer is
still optimal, only no longer guaranteed identical across machines.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass, replace

import numpy as np

from seatplan.models.formulation import Model
from seatplan.models.instance import Instance
from seatplan.models.ir import Formulation, Role, RowBlock, Term, restricted, rows_from_triplets
from seatplan.solver.backends import BackendResult, SolveSettings, highs
from seatplan.solver.flow import is_transportation
from seatplan.solver.lp import lagrangian_bound, lp_bound
from seatplan.solver.status import Status

#: Tickets are whole numbers below 2^TICKET_BITS.
TICKET_BITS = 20
#: The share of solver.time_limit the second phase may always take (it also gets what is left).
MIN_SHARE = 0.25
#: Up to this many variables, a solve that had no LP prices gets them here (the pipeline's limit).
LP_VARIABLE_LIMIT = 300_000
#: Above this many free placements the second phase is not tried by branch and cut (HiGHS' presolve
#: does not watch its time limit on a program of a million columns).
BRANCH_AND_CUT_LIMIT = 500_000
#: The share of the second phase's time its LP may take.
LP_SHARE = 0.3
#: Rows left out of that LP (slow in it; the LP without them is still a relaxation).
SLOW_IN_LP = frozenset({Role.RUNNING_SUM, Role.COMB})


@dataclass(frozen=True)
class TieBreak:
    """What the second phase did: the assignment it chose (None when it kept the first phase's)."""

    values: np.ndarray | None
    seconds: float
    note: str


def tickets(instance: Instance, model: Model, seed: int) -> np.ndarray:
    """τ for every variable of the model: a ticket for each placement variable, 0 for the others.

    Each id is hashed once (SHA-256 of the seed and the id); a pair's ticket mixes its two hashes
    and the kind of placement with SplitMix64's finaliser, in unsigned 64-bit arithmetic (the same
    on every machine)."""
    seats = model.seats
    student_hash = _id_hashes(seed, "student", instance.student_ids)
    school_hash = _id_hashes(seed, "school", instance.school_ids)
    with np.errstate(over="ignore"):
        mixed = student_hash[seats.student] * np.uint64(0x9E3779B97F4A7C15)
        mixed ^= school_hash[seats.school]
        mixed += (seats.compact >= 0).astype(np.uint64)
        mixed = _splitmix64(mixed)
    out = np.zeros(model.formulation.n_vars, dtype=np.int64)
    out[seats.var] = (mixed >> np.uint64(64 - TICKET_BITS)).astype(np.int64)
    return out


def _id_hashes(seed: int, kind: str, ids: np.ndarray) -> np.ndarray:
    return np.fromiter(
        (
            int.from_bytes(hashlib.sha256(f"{seed}\x1f{kind}\x1f{name}".encode()).digest()[:8], "big")
            for name in ids.tolist()
        ),
        dtype=np.uint64,
        count=len(ids),
    )


def _splitmix64(x: np.ndarray) -> np.ndarray:
    with np.errstate(over="ignore"):
        x = x + np.uint64(0x9E3779B97F4A7C15)
        x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        return x ^ (x >> np.uint64(31))


def tie_break_program(formulation: Formulation, optimum: int | None, ticket: np.ndarray) -> Formulation:
    """The program with the tie-break sum to minimise, and its objective held at `optimum` (cents)
    by one more row — unless `optimum` is None: every feasible solution is then optimal already."""
    rows = list(formulation.rows)
    if optimum is not None:
        coefs, constant = formulation.objective()
        nonzero = np.flatnonzero(coefs)
        rows.append(
            rows_from_triplets(
                "objective held at its optimum",
                Role.SIDE,
                1,
                np.zeros(len(nonzero), dtype=np.int64),
                nonzero,
                coefs[nonzero],
                -np.inf,
                float(optimum - constant),
                lambda row: "objective[held at the optimum]",
            )
        )
    placed = np.flatnonzero(ticket)
    return Formulation(
        formulation.lower,
        formulation.upper,
        formulation.blocks,
        rows,
        [Term("tie_break", placed, ticket[placed])],
        formulation.derived,
    )


def break_ties(
    model: Model,
    instance: Instance,
    values: np.ndarray,
    optimum: int,
    settings: SolveSettings,
    time_limit: float,
    prices: tuple[Formulation, np.ndarray] | None = None,
    closed: Formulation | None = None,
) -> TieBreak:
    """The canonical optimum: the least tie-break sum among assignments costing `optimum`, from
    `values` (an optimal solution). Keeps `values` when the second phase cannot prove its own
    optimum in `time_limit` seconds.

    Row prices (`prices`, or the transportation problem's own from the flow, or an LP's) first cut
    the program to the optimal face: a variable or a row whose price exceeds the slack between the
    optimum and the prices' bound cannot move in any optimum. When that leaves no priced freedom at
    all, every solution left is optimal and the objective row is not needed."""
    started = time.perf_counter()
    # With the solve's exact closures (the stable window) when it has them: the same optima, far
    # fewer placements left to decide.
    formulation = model.formulation if closed is None else closed
    if prices is None and not is_transportation(model) and formulation.n_vars > BRANCH_AND_CUT_LIMIT:
        # No prices to cut the face with, and too large for branch and cut whole (e.g. stability
        # hard on a district: its running sums): the optimum found is kept, said so.
        return TieBreak(
            None, 0.0, f"tie-break: {formulation.n_vars:,} variables and no prices, too many; kept the optimum"
        )
    ticket = tickets(instance, model, settings.seed)
    if prices is None and is_transportation(model):
        prices = flow_prices(formulation, values)
    if prices is None and formulation.n_vars <= LP_VARIABLE_LIMIT:
        prices = _lp_prices(formulation, time_limit * LP_SHARE)
    face = None if prices is None else optimal_face(formulation, *prices, optimum)
    if face is None:
        program = tie_break_program(formulation, optimum, ticket)
    else:
        program = tie_break_program(face.formulation, None if face.exact else optimum, ticket)
    phase = SolveSettings(time_limit=max(0.5, time_limit), gap=0.0, workers=1, seed=settings.seed)
    free = program.upper > program.lower
    small = restricted(program, free, "tie_break")
    if small.n_vars == 0:  # the optimum is unique: nothing left to choose
        raw: BackendResult | None = BackendResult("none", Status.OPTIMAL, np.zeros(0, dtype=np.int64), 0.0)
    else:
        raw = tie_break_flow(small) if face is not None and face.exact else None
    if raw is None and small.n_vars > BRANCH_AND_CUT_LIMIT:
        seconds = time.perf_counter() - started
        return TieBreak(None, seconds, f"tie-break: {small.n_vars:,} free placements, too many; kept the optimum")
    if raw is None:
        raw = _solve(small, phase, values[free])
    seconds = time.perf_counter() - started
    if raw.claim != Status.OPTIMAL or raw.values is None:
        return TieBreak(None, seconds, f"tie-break not proven in {time_limit:.1f} s ({raw.claim}); kept the optimum")
    chosen = program.lower.copy()
    chosen[free] = raw.values
    if program.violations(chosen) or model.formulation.violations(chosen):
        # HiGHS works in floating point: a solution off by a tolerance is not taken.
        return TieBreak(None, seconds, "tie-break solution breaks a row (floating point); kept the optimum")
    coefs, constant = model.formulation.objective()
    if int(coefs @ chosen) + constant != optimum:
        raise RuntimeError("the tie-break phase left the optimal face")
    return TieBreak(
        chosen,
        seconds,
        f"tie-break: the least tie-break sum {int(ticket @ chosen)} over {int(free.sum())} free variables "
        f"in {seconds:.2f} s",
    )


@dataclass(frozen=True)
class Face:
    """The program cut to (a superset of) its optimal face; `exact`: every solution left is optimal."""

    formulation: Formulation
    exact: bool


#: A price below this is zero (LP prices are floating point).
ZERO_PRICE = 1e-9


def optimal_face(formulation: Formulation, relaxed: Formulation, duals: np.ndarray, optimum: int) -> Face:
    """`formulation` cut to what an optimum can use. With L the Lagrangian bound of `duals` over
    `relaxed` (a relaxation on the same variables, whose row blocks are `formulation`'s), every
    solution costs at least L + Σ |reduced cost| × (a variable's distance from where L puts it)
    + Σ |price| × (a priced row's distance from its bound), and no optimum costs more than `optimum`:
    a variable or row whose price exceeds the slack `optimum − L` is held where L puts it. Exact: no
    optimal solution is cut off. When every variable and row with a non-zero price is held, each
    solution left costs L's LP value, the optimum: the face is exact."""
    value, reduced = lagrangian_bound(relaxed, duals)
    slack = max(0.0, optimum - value)
    lower, upper = formulation.lower.copy(), formulation.upper.copy()
    rising, falling = reduced > ZERO_PRICE, reduced < -ZERO_PRICE
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        reach_up = np.floor(slack / reduced[rising] + 1e-6)
        reach_down = np.floor(slack / -reduced[falling] + 1e-6)
    upper[rising] = np.minimum(upper[rising], lower[rising] + np.minimum(reach_up, 2.0**62).astype(np.int64))
    lower[falling] = np.maximum(lower[falling], upper[falling] - np.minimum(reach_down, 2.0**62).astype(np.int64))
    held_vars = bool(np.all(upper[rising] == lower[rising]) and np.all(lower[falling] == upper[falling]))
    rows, held_rows = _tight_rows(formulation, relaxed, duals, slack)
    face = replace(formulation, lower=lower, upper=upper, rows=rows)
    return Face(face, exact=held_vars and held_rows)


def _tight_rows(
    formulation: Formulation, relaxed: Formulation, duals: np.ndarray, slack: float
) -> tuple[list[RowBlock], bool]:
    """`formulation`'s row blocks with each priced row whose price exceeds `slack` held at the bound
    its price points to; and whether every priced row is held."""
    offsets = dict(zip((id(block) for block in relaxed.rows), relaxed.row_offsets(), strict=True))
    rows, all_held = [], True
    known = {id(block) for block in formulation.rows}
    for block, first in zip(relaxed.rows, relaxed.row_offsets(), strict=True):
        if id(block) not in known and np.any(np.abs(duals[first : first + block.size]) > ZERO_PRICE):
            all_held = False  # a priced row this program does not have: its price pins nothing here
    for block in formulation.rows:
        start = offsets.get(id(block))
        if start is None:
            rows.append(block)
            continue
        price = np.asarray(duals[start : start + block.size], dtype=float)
        at_lower = (price > ZERO_PRICE) & (price > slack) & np.isfinite(block.lower)
        at_upper = (price < -ZERO_PRICE) & (-price > slack) & np.isfinite(block.upper)
        all_held &= bool(np.all(at_lower == (price > ZERO_PRICE)) and np.all(at_upper == (price < -ZERO_PRICE)))
        lower, upper = block.lower.copy(), block.upper.copy()
        upper[at_lower] = lower[at_lower]
        lower[at_upper] = upper[at_upper]
        rows.append(replace(block, lower=lower, upper=upper))
    return rows, all_held


def flow_prices(formulation: Formulation, values: np.ndarray) -> tuple[Formulation, np.ndarray] | None:
    """Optimal row prices of a transportation problem from an optimal flow `values`, in whole cents:
    each seat pool's price π ≥ 0 is the least that makes every student's placement its cheapest
    option at those prices (difference constraints, settled by relaxation over the pools); each
    student's price is what its placement costs at them. None if they do not prove `values`
    optimal (then no cut is made)."""
    if not formulation.rows:
        return None
    indptr, indices, coefs, lower, upper = formulation.matrix()
    n_rows = len(lower)
    is_student_row = np.concatenate([np.full(block.size, block.role == Role.ASSIGNMENT) for block in formulation.rows])
    rows = np.repeat(np.arange(n_rows), np.diff(indptr))
    # An option at a school with seats for all who list it has no pool row: its pool is the
    # unlimited one, index n_rows, whose price stays 0.
    student_row = np.full(formulation.n_vars, -1, dtype=np.int64)
    pool_row = np.full(formulation.n_vars, n_rows, dtype=np.int64)
    supply = is_student_row[rows]
    student_row[indices[supply]] = rows[supply]
    pool_row[indices[~supply]] = rows[~supply]
    per_variable = np.bincount(indices, minlength=formulation.n_vars)
    if np.any(per_variable > 2) or np.any(student_row < 0) or np.any(coefs != 1):
        return None
    cost, _ = formulation.objective()
    x = np.asarray(values) > 0
    placed_at = np.full(n_rows, -1, dtype=np.int64)
    placed_at[student_row[x]] = np.flatnonzero(x)
    mine = placed_at[student_row]  # each option's student's placement (-1: unplaced)
    pi = np.zeros(n_rows + 1, dtype=np.int64)
    unplaced = mine < 0
    np.maximum.at(pi, pool_row[unplaced], -cost[unplaced])
    other = (mine >= 0) & ~x
    tail, head = pool_row[mine[other]], pool_row[other]
    gain = cost[mine[other]] - cost[other]
    # Edges sorted by head, so each round is one reduceat (ufunc.at is many times slower).
    order = np.argsort(head, kind="stable")
    tail, head, gain = tail[order], head[order], gain[order]
    heads, starts = np.unique(head, return_index=True)
    for _ in range(n_rows + 2):
        if len(heads) == 0:
            break
        reached = np.maximum.reduceat(pi[tail] + gain, starts)
        rising = reached > pi[heads]
        if not rising.any():
            break
        pi[heads[rising]] = reached[rising]
        if pi[n_rows] > 0:
            return None  # a student would rather take an unlimited seat: not optimal
    else:
        return None
    activity = np.bincount(rows, weights=coefs * x[indices], minlength=n_rows)
    is_pool = ~is_student_row
    price = pi[:n_rows]
    if np.any(is_pool & (price > 0) & (activity < upper)) or np.any(cost[x] + pi[pool_row[x]] > 0):
        return None
    duals = np.where(is_pool, -price, 0).astype(float)
    duals[student_row[x]] = cost[x] + pi[pool_row[x]]
    return formulation, duals


def _lp_prices(formulation: Formulation, time_limit: float) -> tuple[Formulation, np.ndarray] | None:
    """LP prices when the solve had none (its rows slow in an LP left out: still a relaxation)."""
    relaxed = formulation.without_rows(SLOW_IN_LP)
    bound = lp_bound(relaxed, time_limit=max(0.5, time_limit), threads=1)
    return None if bound is None else (relaxed, bound.duals)


def tie_break_flow(program: Formulation) -> BackendResult | None:
    """The least tie-break sum as one min-cost flow, when `program` (free variables only, no objective
    row) is a transportation problem: every variable in one student row and at most one seat-pool
    row, coefficients 1. Student rows are [·, 1] (optional) or [1, 1] (placed in every optimum);
    a pool row's lower bound is met through the pool's demand. None when it has another shape."""
    from ortools.graph.python import min_cost_flow

    indptr, indices, coefs, lower, upper = program.matrix()
    n_rows, n_vars = len(lower), program.n_vars
    rows = np.repeat(np.arange(n_rows), np.diff(indptr))
    count = np.bincount(indices, minlength=n_vars)
    if n_vars == 0 or np.any(coefs != 1) or np.any(count < 1) or np.any(count > 2):
        return None
    # Each variable's first row is its student's (the assignment rows come first, and `restricted`
    # keeps the order); a row that is a student's for one variable and a pool for another: no flow.
    student = np.full(n_vars, -1, dtype=np.int64)
    pool = np.full(n_vars, -1, dtype=np.int64)
    order = np.lexsort((rows, indices))
    by_var_rows = rows[order]
    starts = np.concatenate([[0], np.cumsum(count)[:-1]])
    student[:] = by_var_rows[starts]
    two = count == 2
    pool[two] = by_var_rows[starts[two] + 1]
    is_student = np.zeros(n_rows, dtype=bool)
    is_student[student] = True
    if np.any(is_student[pool[two]]):
        return None
    low = np.where(np.isfinite(lower), lower, 0.0)
    if np.any(upper[is_student] > 1) or np.any(low[is_student] > upper[is_student]):
        return None
    # Nodes: rows (students and pools), then "unlimited", "unplaced" and the sink.
    unlimited, unplaced, sink = n_rows, n_rows + 1, n_rows + 2
    supply = np.zeros(n_rows + 3, dtype=np.int64)
    sends = is_student & (upper >= 1)
    supply[:n_rows][sends] = 1
    pools = np.flatnonzero(~is_student)
    must = np.ceil(np.maximum(low[pools], 0) - 1e-9).astype(np.int64)
    supply[pools] = -must
    optional = np.flatnonzero(sends & (low < 1))
    pool_cap = np.where(np.isfinite(upper[pools]), upper[pools], n_vars).astype(np.int64) - must
    big = int(sends.sum()) + 1
    tails = np.concatenate([student, optional, pools, [unlimited, unplaced]])
    heads = np.concatenate(
        [
            np.where(pool >= 0, pool, unlimited),
            np.full(len(optional), unplaced),
            np.full(len(pools), sink),
            [sink, sink],
        ]
    )
    capacity = np.concatenate([np.ones(n_vars + len(optional), np.int64), np.maximum(pool_cap, 0), [big, big]])
    objective, _ = program.objective()
    cost = np.concatenate([objective, np.zeros(len(optional) + len(pools) + 2, np.int64)])
    supply[sink] = -int(supply[:sink].sum())
    flow = min_cost_flow.SimpleMinCostFlow()
    flow.add_arcs_with_capacity_and_unit_cost(tails.astype(np.int32), heads.astype(np.int32), capacity, cost)
    flow.set_nodes_supplies(np.arange(sink + 1, dtype=np.int32), supply)
    if flow.solve() != flow.OPTIMAL:
        return None
    values = np.asarray(flow.flows(np.arange(n_vars, dtype=np.int32)), dtype=np.int64)
    return BackendResult("flow", Status.OPTIMAL, values, float(objective @ values))


def _solve(program: Formulation, settings: SolveSettings, hint: np.ndarray) -> BackendResult:
    """HiGHS' branch and cut, on one thread, whichever backend proved the optimum: its LP settles
    this program fast (the objective row and the fixings leave little room), and one thread makes it
    deterministic; the chosen assignment is then the same for every backend and worker count."""
    return highs.solve(program, replace(settings, workers=1), hint, None)
