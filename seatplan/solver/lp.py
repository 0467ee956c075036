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
from dataclasses import dataclass

import numpy as np

from seatplan.models.ir import Formulation
from seatplan.solver import interrupt
from seatplan.solver.backends.highs import build, run_highs


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
    rounds: int = 6,
) -> LpBound | None:
    """Solve the LP relaxation with HiGHS and turn its duals into a proven bound; None if it fails.

    With `columns` (a mask), the LP starts with only those variables free (the others held at 0):
    column generation. After each solve, every held variable is priced with the duals; those with a
    negative reduced cost are freed and the LP re-solved from its last basis, until none is left
    (then the restricted optimum is the full LP's) or `rounds` run out. The bound is computed on
    the full program in any case, so it holds whichever round it comes from.
    """
    import highspy

    start = time.perf_counter()
    deadline = start + max(0.1, float(time_limit))
    highs = build(formulation, relax=True)
    highs.setOptionValue("threads", int(threads))
    highs.setOptionValue("solver", "simplex")
    held = np.zeros(formulation.n_vars, dtype=bool)
    if columns is not None:
        held = ~columns & (formulation.lower <= 0) & (formulation.upper >= 0)
        _set_bounds(highs, np.flatnonzero(held), np.zeros(int(held.sum())), np.zeros(int(held.sum())))
    best: LpBound | None = None
    for _ in range(rounds):
        left = deadline - time.perf_counter()
        if left <= 0:
            break
        highs.setOptionValue("time_limit", left)
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
                primal=np.asarray(solution.col_value, dtype=float),
                duals=duals,
                reduced_costs=reduced,
                lp_objective=float(highs.getInfo().objective_function_value),
                seconds=time.perf_counter() - start,
            )
        # Held variables that would lower the objective: free them and solve again.
        entering = np.flatnonzero(held & (reduced < -1e-7))
        if len(entering) == 0:
            break
        held[entering] = False
        _set_bounds(highs, entering, formulation.lower[entering], formulation.upper[entering])
    if best is not None:
        best = LpBound(
            best.bound,
            best.value,
            best.primal,
            best.duals,
            best.reduced_costs,
            best.lp_objective,
            time.perf_counter() - start,
        )
    return best


def _set_bounds(highs, indexes: np.ndarray, lower: np.ndarray, upper: np.ndarray) -> None:  # noqa: ANN001
    if len(indexes):
        highs.changeColsBounds(len(indexes), indexes.astype(np.int32), lower.astype(float), upper.astype(float))
