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
from dataclasses import replace

import numpy as np

from models.config import Config
from models.data import Instance
from models.formulation import Model
from models.ir import Formulation
from solver.backends import BackendResult, Progress, SolveSettings
from solver.backends import cpsat
from solver.flow import is_transportation, solve_transportation
from solver.lp import LpBound, lp_bound
from solver.warmstart import priced_warm_start, warm_start

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

    best, best_objective = hint, hint_objective

    def consider(values: np.ndarray | None, how: str) -> None:
        nonlocal best, best_objective
        if values is None:
            return
        if formulation.violations(values):
            log.append(f"seatplan: {how} breaks a row; not used")
            return
        objective = _objective(formulation, values)
        log.append(f"seatplan: {how} {objective / 100:.2f} at {time.perf_counter() - start:.2f} s")
        if objective < best_objective:
            best, best_objective = values, objective
            if progress is not None:
                progress(best_objective, floor, time.perf_counter() - start)

    if bound is not None and best_objective > floor:
        compacts = formulation.block("compact")
        consider(
            priced_warm_start(model, instance, config, bound.duals,
                              bound.primal[compacts.start: compacts.start + compacts.size]),
            "LP-priced flow",
        )
    if bound is not None and best_objective > floor:
        placement = np.zeros(formulation.n_vars, dtype=bool)
        placement[model.seats.var] = True
        consider(_lp_rounding(formulation, placement, bound, settings, start + settings.time_limit),
                 "LP rounding (CP-SAT around the LP optimum)")

    if floor is not None and best_objective <= floor:
        log.append("seatplan: the solution meets the proven bound: optimal")
        return BackendResult("cpsat", "optimal", best, float(floor), time.perf_counter() - start, log)
    if floor is not None and settings.gap > 0 and best_objective - floor <= settings.gap * max(100, abs(best_objective)):
        log.append(f"seatplan: gap {(best_objective - floor) / max(100, abs(best_objective)):.4%} is within "
                   f"solver.gap {settings.gap:g}: stopping")
        return BackendResult("cpsat", "feasible", best, float(floor), time.perf_counter() - start, log)

    remaining = max(0.5, settings.time_limit - (time.perf_counter() - start))
    result = cpsat.solve(
        formulation,
        SolveSettings(time_limit=remaining, gap=settings.gap, workers=settings.workers, seed=settings.seed),
        hint=best,
        progress=progress,
        objective_floor=floor,
    )
    log += result.log
    values, claim = result.values, result.claim
    if values is None or _objective(formulation, values) > best_objective:
        values, claim = best, "feasible"
        log.append("seatplan: CP-SAT did not improve on the best solution so far; keeping it")
    bounds = [b for b in (result.bound, floor) if b is not None]
    best_bound = max(bounds) if bounds else None
    return BackendResult("cpsat", claim, values, best_bound, time.perf_counter() - start, log)


def _lp_rounding(
    formulation: Formulation, placement: np.ndarray, bound: LpBound, settings: SolveSettings, deadline: float
) -> np.ndarray | None:
    """A RENS-like sub-problem: keep the placements the LP makes whole, let CP-SAT choose the rest.

    The LP optimum of an assignment-shaped program is nearly integral: students it splits, leaves
    out, or places through a half-honored compact are few, and so is what CP-SAT decides here, in
    the capacity the whole placements leave.
    """
    primal = bound.primal
    lower = formulation.lower.copy()
    whole = placement & (np.abs(primal - 1) < 1e-6)
    lower[whole] = 1
    upper = formulation.upper
    restricted = replace(formulation, lower=lower, upper=upper)
    limit = min(max(1.0, 0.25 * settings.time_limit), deadline - time.perf_counter())
    if limit <= 0.2:
        return None
    result = cpsat.solve(
        restricted,
        SolveSettings(time_limit=limit, gap=0.0, workers=settings.workers, seed=settings.seed),
        objective_floor=bound.bound,
    )
    return result.values


def _objective(formulation, values: np.ndarray) -> int:  # noqa: ANN001
    coefs, constant = formulation.objective()
    return int(constant + int(coefs @ values))
