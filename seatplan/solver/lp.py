"""An honest lower bound from the LP relaxation, solved by HiGHS.

The LP solver's own objective is not trusted as a bound (it carries tolerances). Instead its row
duals y are used in the Lagrangian bound, which is valid for *any* y of the right signs:

    c·x = (c − Aᵀy)·x + y·Ax ≥ Σ_j min(d_j·l_j, d_j·u_j) + Σ_r (y_r·L_r if y_r > 0 else y_r·U_r)

for every x with l ≤ x ≤ u and L ≤ Ax ≤ U, where d = c − Aᵀy. A y_r whose sign points at an
infinite side is set to 0. The sum is computed in float64 and a margin is taken off for rounding;
the objective being whole cents, the bound is then rounded up. Reduced costs d also tell, for a
known solution of value z, which variables cannot move away from their bound in any solution
better than z (reduced-cost fixing).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, replace

import numpy as np

from seatplan.models.ir import Formulation
from seatplan.solver import interrupt
from seatplan.solver.backends.highs import give_back_memory, run_highs


@dataclass(frozen=True)
class LpBound:
    """A proven lower bound (whole cents), the LP's primal point and the reduced costs behind it."""

    bound: int
    #: The bound before rounding up: the reduced costs measure from it (reduced-cost fixing).
    value: float
    primal: np.ndarray
    duals: np.ndarray
    reduced_costs: np.ndarray
    lp_objective: float
    seconds: float


def lagrangian_bound(formulation: Formulation, duals: np.ndarray) -> tuple[float, np.ndarray]:
    """The Lagrangian bound of `duals` (any values; signs are made valid) and its reduced costs."""
    indptr, indices, coefs, lower, upper = formulation.matrix()
    y = np.asarray(duals, dtype=float).copy()
    y[(y > 0) & ~np.isfinite(lower)] = 0.0
    y[(y < 0) & ~np.isfinite(upper)] = 0.0
    objective, constant = formulation.objective()
    rows = np.repeat(np.arange(len(lower)), np.diff(indptr))
    aty = np.bincount(indices, weights=coefs * y[rows], minlength=formulation.n_vars)
    reduced = objective - aty
    row_part = np.where(
        y > 0,
        y * np.where(np.isfinite(lower), lower, 0.0),
        y * np.where(np.isfinite(upper), upper, 0.0),
    )
    box = np.minimum(reduced * formulation.lower, reduced * formulation.upper)
    value = constant + row_part.sum() + box.sum()
    # Rounding in the sums above is far below this margin for any program we build.
    scale = np.abs(row_part).sum() + np.abs(box).sum() + abs(constant)
    return float(value - 1e-9 * scale - 1e-6), reduced


def lp_bound(
    formulation: Formulation,
    time_limit: float,
    threads: int = 1,
    columns: np.ndarray | None = None,
    rounds: int = 100,
) -> LpBound | None:
    """Solve the LP relaxation with HiGHS and turn its duals into a proven bound; None if it fails.

    With `columns` (a mask), the LP starts with only those variables (the others held at 0, and not
    handed to HiGHS at all): column generation. After each solve, every held variable is priced
    with the duals; those with a negative reduced cost are added and the LP re-solved from its last
    basis, until none is left (then the restricted optimum is the full LP's) or `rounds` run out. The
    bound is computed on the full program in any case, so it holds whichever round it comes from.
    """
    import highspy

    start = time.perf_counter()
    deadline = start + max(0.1, float(time_limit))
    held = np.zeros(formulation.n_vars, dtype=bool)
    if columns is not None:
        held = ~columns & (formulation.lower <= 0) & (formulation.upper >= 0)
    master = _Master(formulation, np.flatnonzero(~held))
    highs = master.highs
    highs.setOptionValue("threads", int(threads))
    highs.setOptionValue("solver", "simplex")
    best: LpBound | None = None
    for _ in range(rounds):
        left = deadline - time.perf_counter()
        if left <= 0:
            break
        # HiGHS measures its time limit from the Highs object's creation, across runs.
        highs.setOptionValue("time_limit", deadline - master.created)
        run_highs(highs)
        if interrupt.requested() is not None:
            break
        if highs.getModelStatus() != highspy.HighsModelStatus.kOptimal:
            break
        solution = highs.getSolution()
        duals = np.asarray(solution.row_dual, dtype=float)
        value, reduced = lagrangian_bound(formulation, duals)
        if best is None or math.ceil(value) > best.bound:
            best = LpBound(
                bound=math.ceil(value),
                value=value,
                primal=master.primal(np.asarray(solution.col_value, dtype=float)),
                duals=duals,
                reduced_costs=reduced,
                lp_objective=float(highs.getInfo().objective_function_value),
                seconds=time.perf_counter() - start,
            )
        # Held variables that would lower the objective: add them and solve again.
        entering = np.flatnonzero(held & (reduced < -1e-7))
        if len(entering) == 0:
            break
        held[entering] = False
        master.add(entering)
    del master, highs
    give_back_memory()
    if best is not None:
        best = replace(best, seconds=time.perf_counter() - start)
    return best


class _Master:
    """The LP over a subset of the variables (the restricted master of column generation): HiGHS
    holds only those columns, so a city's million options, most of them never priced in, cost
    neither memory nor simplex time (measured in benchmarks/)."""

    def __init__(self, formulation: Formulation, columns: np.ndarray) -> None:
        import highspy

        self.created = time.perf_counter()
        self.formulation = formulation
        indptr, indices, coefs, row_lower, row_upper = formulation.matrix()
        rows = np.repeat(np.arange(len(row_lower)), np.diff(indptr))
        order = np.argsort(indices, kind="stable")
        self.col_start = np.searchsorted(indices[order], np.arange(formulation.n_vars + 1))
        self.col_rows = rows[order].astype(np.int32)
        self.col_coefs = coefs[order].astype(float)
        self.cost, constant = formulation.objective()
        inf = highspy.kHighsInf
        self.highs = highspy.Highs()
        self.highs.setOptionValue("output_flag", False)
        lp = highspy.HighsLp()
        lp.num_row_ = len(row_lower)
        lp.row_lower_ = np.where(np.isfinite(row_lower), row_lower, -inf)
        lp.row_upper_ = np.where(np.isfinite(row_upper), row_upper, inf)
        lp.offset_ = float(constant)
        lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
        lp.a_matrix_.start_ = np.zeros(1, dtype=np.int32)
        lp.a_matrix_.num_row_ = len(row_lower)
        self.highs.passModel(lp)
        self.columns = np.zeros(0, dtype=np.int64)
        self.add(columns)

    def add(self, variables: np.ndarray) -> None:
        """Hand `variables` (not yet in the master) to HiGHS as new columns."""
        if len(variables) == 0:
            return
        f = self.formulation
        lengths = self.col_start[variables + 1] - self.col_start[variables]
        take = np.repeat(self.col_start[variables] - np.concatenate([[0], np.cumsum(lengths)[:-1]]), lengths)
        take += np.arange(int(lengths.sum()))
        starts = np.concatenate([[0], np.cumsum(lengths)[:-1]]).astype(np.int32)
        self.highs.addCols(
            len(variables),
            self.cost[variables].astype(float),
            f.lower[variables].astype(float),
            f.upper[variables].astype(float),
            int(lengths.sum()),
            starts,
            self.col_rows[take],
            self.col_coefs[take],
        )
        self.columns = np.concatenate([self.columns, variables])

    def primal(self, values: np.ndarray) -> np.ndarray:
        """The master's solution over every variable (0 for those it does not hold)."""
        full = np.zeros(self.formulation.n_vars)
        full[self.columns] = values
        return full
