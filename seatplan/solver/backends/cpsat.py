"""OR-Tools CP-SAT: the neutral form written straight onto the model proto.

Variables sharing one domain are appended in bulk; each row becomes one linear constraint; the
objective and a complete hint are set as repeated fields, never one Python call per term.
"""

from __future__ import annotations

import time

import numpy as np

from seatplan.models.ir import Formulation
from seatplan.solver import interrupt
from seatplan.solver.backends.base import BackendResult, Progress, SolveSettings
from seatplan.solver.status import Status

INT_MAX = 2**63 - 1


def build(formulation: Formulation, hint: np.ndarray | None = None, objective_floor: int | None = None):  # noqa: ANN201
    """The CpModel for a formulation; `objective_floor` (whole cents) is a proven lower bound."""
    from ortools.sat.python import cp_model, cp_model_helper

    model = cp_model.CpModel()
    proto = model.proto
    lower, upper = formulation.lower, formulation.upper
    binary = (lower == 0) & (upper == 1)
    variables = proto.variables
    # Bulk-append runs of binary variables; other domains one by one (there are few).
    template = cp_model_helper.IntegerVariableProto()
    template.domain.extend([0, 1])
    index = 0
    n = formulation.n_vars
    while index < n:
        if binary[index]:
            end = index + int(np.argmin(binary[index:])) if not binary[index:].all() else n
            variables.extend([template] * (end - index))
            index = end
        else:
            variables.add().domain.extend([int(lower[index]), int(upper[index])])
            index += 1

    indptr, indices, coefs, row_lower, row_upper = formulation.matrix()
    # An infinite side of a row becomes the row's own activity range (finite, tight): CP-SAT
    # works with exact integer domains and does better without int64 extremes in them.
    rows = np.repeat(np.arange(len(row_lower)), np.diff(indptr))
    high_terms = np.where(coefs > 0, coefs * upper[indices], coefs * lower[indices])
    low_terms = np.where(coefs > 0, coefs * lower[indices], coefs * upper[indices])
    activity_max = np.bincount(rows, weights=high_terms, minlength=len(row_lower))
    activity_min = np.bincount(rows, weights=low_terms, minlength=len(row_lower))
    # (An open side never passes the other: a row that bounds make impossible stays a valid, and
    # infeasible, row rather than an invalid domain.)
    lo_array = np.where(np.isfinite(row_lower), row_lower, np.minimum(activity_min, row_upper))
    hi_array = np.where(np.isfinite(row_upper), row_upper, np.maximum(activity_max, row_lower))
    lo = lo_array.astype(np.int64).tolist()
    hi = hi_array.astype(np.int64).tolist()
    idx_list = indices.tolist()
    coef_list = coefs.tolist()
    starts = indptr.tolist()
    constraints = proto.constraints
    for r in range(len(row_lower)):
        linear = constraints.add().linear
        a, b = starts[r], starts[r + 1]
        linear.vars.extend(idx_list[a:b])
        linear.coeffs.extend(coef_list[a:b])
        linear.domain.extend([lo[r], hi[r]])

    objective, constant = formulation.objective()
    nonzero = np.flatnonzero(objective)
    proto.objective.vars.extend(nonzero.tolist())
    proto.objective.coeffs.extend(objective[nonzero].tolist())
    proto.objective.offset = float(constant)
    if objective_floor is not None:
        # The objective's domain applies to the sum without its offset.
        proto.objective.domain.extend([int(objective_floor) - int(constant), INT_MAX])
    if hint is not None:
        proto.solution_hint.vars.extend(range(n))
        proto.solution_hint.values.extend(np.asarray(hint, dtype=np.int64).tolist())
    return model


def solve(
    formulation: Formulation,
    settings: SolveSettings,
    hint: np.ndarray | None = None,
    progress: Progress | None = None,
    objective_floor: int | None = None,
    subsolvers: tuple[str, ...] = (),
    presolve: bool = True,
) -> BackendResult:
    """Solve with CP-SAT. The objective is exact (integer cents), and so is its bound.

    A proven `objective_floor` (e.g. an LP bound) lets CP-SAT stop as soon as a solution meets it,
    and makes its relative gap limit measure against it. `subsolvers` names CP-SAT's full workers
    (its `subsolvers` parameter) in place of its own choice for the number of workers.
    `presolve=False` skips CP-SAT's presolve, which takes most of the time on a model of a few dozen
    variables (the classroom stage's cohorts; measured in benchmarks/).
    """
    from ortools.sat.python import cp_model

    start = time.perf_counter()
    if interrupt.requested() is not None:
        return BackendResult("cpsat", Status.NO_SOLUTION, seconds=0.0, log=["seatplan: stopped before CP-SAT started"])
    model = build(formulation, hint, objective_floor)
    solver = cp_model.CpSolver()
    params = solver.parameters
    params.max_time_in_seconds = float(settings.time_limit)
    params.num_workers = int(settings.workers)
    params.random_seed = int(settings.seed)
    params.relative_gap_limit = float(settings.gap)
    if subsolvers and settings.workers > 1:
        params.subsolvers.extend(subsolvers)
    # All rows in CP-SAT's LP from the start: its bound is otherwise far below the LP optimum for
    # a long time on assignment-shaped programs (measured in benchmarks/).
    params.add_lp_constraints_lazily = False
    params.cp_model_presolve = presolve
    params.log_search_progress = True
    params.log_to_stdout = False
    # Stop signals are seatplan's (solver/interrupt.py): CP-SAT's own handler would take Ctrl-C and
    # end the search as if its time were up, and the run would not know it was interrupted.
    params.catch_sigint_signal = False
    log: list[str] = []

    def on_log(line: str) -> None:
        log.append(line)
        # A stop asked before the search had begun (while the model was built) is a no-op in
        # stop_search: asked again here, from inside the search, it holds.
        if interrupt.requested() is not None:
            solver.stop_search()

    solver.log_callback = on_log

    callback = None
    if progress is not None:
        report = progress

        class _Progress(cp_model.CpSolverSolutionCallback):
            def on_solution_callback(self) -> None:
                report(self.objective_value, self.best_objective_bound, self.wall_time)

        callback = _Progress()
    with interrupt.stoppable(solver.stop_search):
        status = interrupt.run_stoppable(lambda: solver.solve(model, callback))
    response = solver.response_proto
    claims = {
        cp_model.OPTIMAL: Status.OPTIMAL,
        cp_model.FEASIBLE: Status.FEASIBLE,
        cp_model.INFEASIBLE: Status.INFEASIBLE,
        cp_model.UNKNOWN: Status.NO_SOLUTION,
    }
    if status == cp_model.MODEL_INVALID:
        raise RuntimeError(f"CP-SAT rejected the model: {model.validate()}")
    claim = claims[status]
    values = None
    if claim.solved:
        values = np.fromiter(response.solution, dtype=np.int64, count=formulation.n_vars)
    bound = float(response.best_objective_bound) if claim.solved else None
    return BackendResult(
        backend="cpsat",
        claim=claim,
        values=values,
        bound=bound,
        seconds=time.perf_counter() - start,
        log=log,
    )
