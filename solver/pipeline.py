"""The OR-Tools path (backend `cpsat`): exploit that the program is a transportation problem with
a few side rows.

1. Nothing but the transportation core (no compacts, no active diversity rule): solve it exactly as a
   min-cost flow; flow optimality is a proof, the status is `optimal`.
2. Otherwise:
   a. a complete feasible warm start (flow, then repair: warmstart.py);
   b. a proven lower bound from the LP relaxation (lp.py), given to CP-SAT as the floor of its
      objective, so its gap is measured against a strong bound from the first second and it stops as
      soon as a solution meets the bound;
   c. CP-SAT on the full model from the warm start, for the time left.
   The best of the warm start and CP-SAT's solution is kept; the bound is the better of the LP's and
   CP-SAT's.
"""

from __future__ import annotations

import time

import numpy as np

from models.config import Config
from models.data import Instance
from models.formulation import Model
from solver.backends import BackendResult, Progress, SolveSettings
from solver.backends import cpsat
from solver.flow import is_transportation, solve_transportation
from solver.lp import lp_bound
from solver.warmstart import warm_start

#: Share of the time limit the LP relaxation may take before CP-SAT goes on without it.
LP_SHARE = 0.4


def solve_ortools(
    model: Model, instance: Instance, config: Config, settings: SolveSettings, progress: Progress | None
) -> BackendResult:
    """Solve with OR-Tools: min-cost flow when it is exact, else warm start + LP bound + CP-SAT."""
    start = time.perf_counter()
    log: list[str] = []
    formulation = model.formulation
    if is_transportation(model):
        values, objective = solve_transportation(model, instance)
        seconds = time.perf_counter() - start
        log.append(f"seatplan: transportation problem, solved exactly as a min-cost flow in {seconds:.2f} s "
                   f"(objective {objective / 100:.2f})")
        if progress is not None:
            progress(objective, objective, seconds)
        return BackendResult("cpsat", "optimal", values, float(objective), seconds, log)

    hint = warm_start(model, instance, config)
    hint_objective = _objective(formulation, hint)
    log.append(f"seatplan: warm start (min-cost flow + repair) {hint_objective / 100:.2f} "
               f"in {time.perf_counter() - start:.2f} s")
    if progress is not None:
        progress(hint_objective, None, time.perf_counter() - start)

    bound = lp_bound(formulation, time_limit=settings.time_limit * LP_SHARE, threads=1)
    floor = None
    if bound is not None:
        floor = min(bound.bound, hint_objective)
        log.append(f"seatplan: LP relaxation {bound.lp_objective / 100:.2f}, proven bound {floor / 100:.2f} "
                   f"in {bound.seconds:.2f} s")
        if progress is not None:
            progress(hint_objective, floor, time.perf_counter() - start)
    else:
        log.append("seatplan: LP relaxation not solved in its share of the time; CP-SAT bounds alone")

    if floor is not None and hint_objective <= floor:
        log.append("seatplan: the warm start meets the bound: optimal without search")
        return BackendResult("cpsat", "optimal", hint, float(floor), time.perf_counter() - start, log)

    remaining = max(0.5, settings.time_limit - (time.perf_counter() - start))
    result = cpsat.solve(
        formulation,
        SolveSettings(time_limit=remaining, gap=settings.gap, workers=settings.workers, seed=settings.seed),
        hint=hint,
        progress=progress,
        objective_floor=floor,
    )
    log += result.log
    values, claim = result.values, result.claim
    if values is None or _objective(formulation, values) > hint_objective:
        values, claim = hint, "feasible"
        log.append("seatplan: CP-SAT did not improve on the warm start; keeping it")
    bounds = [b for b in (result.bound, floor) if b is not None]
    best_bound = max(bounds) if bounds else None
    return BackendResult("cpsat", claim, values, best_bound, time.perf_counter() - start, log)


def _objective(formulation, values: np.ndarray) -> int:  # noqa: ANN001
    coefs, constant = formulation.objective()
    return int(constant + int(coefs @ values))
