"""HiGHS through highspy directly: the row-compressed matrix is passed in one call."""

from __future__ import annotations

import time

import numpy as np

from seatplan.models.ir import Formulation, restricted
from seatplan.solver import interrupt
from seatplan.solver.backends.base import BackendResult, Progress, SolveSettings
from seatplan.solver.status import Status


def build(formulation: Formulation, relax: bool = False):  # noqa: ANN201
    """A highspy.Highs holding the formulation (its LP relaxation when `relax`)."""
    import highspy

    inf = highspy.kHighsInf
    highs = highspy.Highs()
    highs.setOptionValue("output_flag", False)
    lp = highspy.HighsLp()
    objective, constant = formulation.objective()
    indptr, indices, coefs, row_lower, row_upper = formulation.matrix()
    lp.num_col_ = formulation.n_vars
    lp.num_row_ = len(row_lower)
    lp.col_cost_ = objective.astype(float)
    lp.col_lower_ = formulation.lower.astype(float)
    lp.col_upper_ = formulation.upper.astype(float)
    lp.row_lower_ = np.where(np.isfinite(row_lower), row_lower, -inf)
    lp.row_upper_ = np.where(np.isfinite(row_upper), row_upper, inf)
    lp.offset_ = float(constant)
    lp.a_matrix_.format_ = highspy.MatrixFormat.kRowwise
    lp.a_matrix_.start_ = indptr.astype(np.int32)
    lp.a_matrix_.index_ = indices.astype(np.int32)
    lp.a_matrix_.value_ = coefs.astype(float)
    lp.a_matrix_.num_col_ = formulation.n_vars
    lp.a_matrix_.num_row_ = len(row_lower)
    if not relax:
        lp.integrality_ = [highspy.HighsVarType.kInteger] * formulation.n_vars
    highs.passModel(lp)
    return highs


def solve(
    formulation: Formulation,
    settings: SolveSettings,
    hint: np.ndarray | None = None,
    progress: Progress | None = None,
    presolve: bool = True,
) -> BackendResult:
    """Solve the integer program with HiGHS; the bound is its MIP dual bound."""
    import highspy

    start = time.perf_counter()
    highs = build(formulation)
    highs.setOptionValue("time_limit", float(settings.time_limit))
    highs.setOptionValue("mip_rel_gap", float(settings.gap))
    highs.setOptionValue("mip_abs_gap", 0.0)
    highs.setOptionValue("threads", int(settings.workers))
    highs.setOptionValue("random_seed", int(settings.seed))
    highs.setOptionValue("presolve", "on" if presolve else "off")
    if hint is not None:
        solution = highspy.HighsSolution()
        solution.col_value = np.asarray(hint, dtype=float)
        highs.setSolution(solution)
    run_highs(highs)
    status = highs.getModelStatus()
    info = highs.getInfo()
    has_solution = info.primal_solution_status == 2  # kSolutionStatusFeasible
    log = [
        f"HiGHS: {highs.modelStatusToString(status)}, objective {info.objective_function_value}, "
        f"dual bound {info.mip_dual_bound}, nodes {info.mip_node_count}"
    ]
    if status == highspy.HighsModelStatus.kInfeasible:
        return BackendResult("highs", Status.INFEASIBLE, None, None, time.perf_counter() - start, log)
    if not has_solution:
        return BackendResult("highs", Status.NO_SOLUTION, None, None, time.perf_counter() - start, log)
    values = np.rint(np.asarray(highs.getSolution().col_value)).astype(np.int64)
    claim = Status.OPTIMAL if status == highspy.HighsModelStatus.kOptimal else Status.FEASIBLE
    bound = float(info.mip_dual_bound)
    if progress is not None:
        progress(info.objective_function_value, bound, time.perf_counter() - start)
    return BackendResult("highs", claim, values, bound, time.perf_counter() - start, log)


def solve_fixed_out(
    formulation: Formulation,
    settings: SolveSettings,
    hint: np.ndarray | None = None,
    presolve: bool = False,
) -> BackendResult:
    """Solve the integer program with HiGHS after taking out every variable its bounds fix
    (ir.restricted), and give the answer over every variable.

    For a program cut down by reduced-cost fixing (most variables held at a bound) this is the whole
    difference: HiGHS' simplex and cut loop work on the free columns only. Presolve is off by default:
    on the benchmark district it takes longer than the solve it prepares (measured in benchmarks/)."""
    lower, upper = formulation.lower, formulation.upper
    free = upper > lower
    if not free.any():  # every variable fixed: the one candidate there is (the caller checks its rows)
        values = lower.astype(np.int64).copy()
        coefs, constant = formulation.objective()
        return BackendResult("highs", Status.OPTIMAL, values, float(coefs @ values + constant))
    inside = hint is not None and bool(np.all((hint >= lower) & (hint <= upper)))
    small = restricted(formulation, free)
    result = solve(small, settings, hint[free] if inside and hint is not None else None, presolve=presolve)
    result.log = [f"HiGHS on {int(free.sum()):,} free variables: {line}" for line in result.log]
    if result.values is not None:
        values = lower.astype(np.int64).copy()
        values[free] = result.values
        result.values = values
    return result


def give_back_memory() -> None:
    """Return the memory a finished HiGHS model freed to the system. HiGHS frees its model when the
    object goes, but glibc keeps the freed pages in the process, so the next phase's peak stacks on
    the last one's (the benchmark metro at gap 0: 2.0 GB peak without this, 1.5 GB with it).
    malloc_trim is glibc's; elsewhere this does nothing."""
    import contextlib
    import ctypes
    import gc

    gc.collect()
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6").malloc_trim(0)


def run_highs(highs) -> None:  # noqa: ANN001
    """highs.run(), stopped by a stop request (solver/interrupt.py) when signals are watched."""
    if not interrupt.watching():
        highs.run()
        return
    if not highs.HandleUserInterrupt:  # each setting adds the callbacks again
        highs.HandleUserInterrupt = True
    with interrupt.stoppable(highs.cancelSolve):
        interrupt.run_stoppable(highs.run)
