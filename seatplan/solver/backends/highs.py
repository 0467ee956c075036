"""HiGHS through highspy directly: the row-compressed matrix is passed in one call."""

from __future__ import annotations

import time

import numpy as np

from seatplan.models.ir import Formulation
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
    """Solve the integer program with HiGHS after taking out every variable its bounds fix (and every
    row left empty), their values moved into the rows' bounds and the objective's constant.

    For a program cut down by reduced-cost fixing (most variables held at a bound) this is the whole
    difference: HiGHS' simplex and cut loop work on the free columns only. Presolve is off by default:
    on the benchmark district it takes longer than the solve it prepares (measured in benchmarks/)."""
    import highspy

    start = time.perf_counter()
    lower, upper = formulation.lower, formulation.upper
    free = upper > lower
    columns = np.flatnonzero(free)
    new_index = np.full(formulation.n_vars, -1, dtype=np.int64)
    new_index[columns] = np.arange(len(columns))
    objective, constant = formulation.objective()
    indptr, indices, coefs, row_lower, row_upper = formulation.matrix()
    rows = np.repeat(np.arange(len(row_lower)), np.diff(indptr))
    held = ~free[indices]
    shift = np.bincount(rows[held], weights=coefs[held] * lower[indices[held]], minlength=len(row_lower))
    kept_rows, kept_cols, kept_coefs = rows[~held], new_index[indices[~held]], coefs[~held]
    used = np.bincount(kept_rows, minlength=len(row_lower)) > 0
    # A row with no free variable left is a check on the fixed ones, done here.
    fixed_activity = shift[~used]
    if np.any(fixed_activity < row_lower[~used] - 1e-9) or np.any(fixed_activity > row_upper[~used] + 1e-9):
        log = ["HiGHS: a row with every variable fixed is broken"]
        return BackendResult("highs", Status.INFEASIBLE, None, None, time.perf_counter() - start, log)
    if len(columns) == 0:  # every variable fixed, every row checked: the one solution there is
        values = lower.astype(np.int64).copy()
        return BackendResult("highs", Status.OPTIMAL, values, float(objective @ values + constant), 0.0, [])
    row_index = np.full(len(row_lower), -1, dtype=np.int64)
    row_index[used] = np.arange(int(used.sum()))
    inf = highspy.kHighsInf
    lp = highspy.HighsLp()
    lp.num_col_ = len(columns)
    lp.num_row_ = int(used.sum())
    lp.col_cost_ = objective[columns].astype(float)
    lp.col_lower_ = lower[columns].astype(float)
    lp.col_upper_ = upper[columns].astype(float)
    lp.offset_ = float(constant + int(objective[~free] @ lower[~free]))
    lp.row_lower_ = np.where(np.isfinite(row_lower), row_lower - shift, -inf)[used]
    lp.row_upper_ = np.where(np.isfinite(row_upper), row_upper - shift, inf)[used]
    order = np.argsort(kept_cols, kind="stable")
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = np.searchsorted(kept_cols[order], np.arange(len(columns) + 1)).astype(np.int32)
    lp.a_matrix_.index_ = row_index[kept_rows[order]].astype(np.int32)
    lp.a_matrix_.value_ = kept_coefs[order].astype(float)
    lp.a_matrix_.num_col_ = len(columns)
    lp.a_matrix_.num_row_ = lp.num_row_
    lp.integrality_ = [highspy.HighsVarType.kInteger] * len(columns)
    highs = highspy.Highs()
    highs.setOptionValue("output_flag", False)
    highs.passModel(lp)
    highs.setOptionValue("time_limit", max(0.1, float(settings.time_limit)))
    highs.setOptionValue("mip_rel_gap", float(settings.gap))
    highs.setOptionValue("mip_abs_gap", 0.0)
    highs.setOptionValue("threads", int(settings.workers))
    highs.setOptionValue("random_seed", int(settings.seed))
    highs.setOptionValue("presolve", "on" if presolve else "off")
    if hint is not None and np.all((hint >= lower) & (hint <= upper)):
        solution = highspy.HighsSolution()
        solution.col_value = np.asarray(hint, dtype=float)[columns]
        highs.setSolution(solution)
    run_highs(highs)
    status = highs.getModelStatus()
    info = highs.getInfo()
    log = [
        f"HiGHS on {len(columns):,} free variables and {lp.num_row_:,} rows: {highs.modelStatusToString(status)}, "
        f"objective {info.objective_function_value}, dual bound {info.mip_dual_bound}, nodes {info.mip_node_count}"
    ]
    seconds = time.perf_counter() - start
    if status == highspy.HighsModelStatus.kInfeasible:
        return BackendResult("highs", Status.INFEASIBLE, None, None, seconds, log)
    bound = float(info.mip_dual_bound) if np.isfinite(info.mip_dual_bound) else None
    if info.primal_solution_status != 2:  # kSolutionStatusFeasible
        return BackendResult("highs", Status.NO_SOLUTION, None, bound, seconds, log)
    values = lower.astype(np.int64).copy()
    values[columns] = np.rint(np.asarray(highs.getSolution().col_value)).astype(np.int64)
    claim = Status.OPTIMAL if status == highspy.HighsModelStatus.kOptimal else Status.FEASIBLE
    return BackendResult("highs", claim, values, bound, seconds, log)


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
