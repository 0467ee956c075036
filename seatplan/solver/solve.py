"""The solve: backend choice and fallback, an honest status, decoding into an assignment.

The status is ours, not the solver's: `optimal` only when the reported bound meets the objective
(the objective is integer in cents, so a bound above objective − 1 cent proves it); `feasible` with
the bound and gap otherwise. Every solution is checked against every row of the formulation and its
objective recomputed from the assignment in domain words; a disagreement is a bug and stops the run.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass, field, replace

import numpy as np

from seatplan.models.config import Config
from seatplan.models.data import Instance, load_instance
from seatplan.models.errors import BackendUnavailable
from seatplan.models.evaluate import Evaluation, evaluate
from seatplan.models.formulation import Assignment, Model, build_model
from seatplan.solver.backends import BackendResult, Progress, SolveSettings, get_backend
from seatplan.solver.warmstart import complete_free_variables

log = logging.getLogger("seatplan")

STATUSES = ("optimal", "feasible", "stable", "infeasible", "no_solution")


@dataclass
class Result:
    """One solve: its status, the assignment (when there is one) and how it was reached."""

    config: Config
    instance: Instance
    status: str
    backend: str
    assignment: Assignment | None = None
    evaluation: Evaluation | None = None
    bound_cents: int | None = None
    seconds: dict[str, float] = field(default_factory=dict)
    log: list[str] = field(default_factory=list)
    fallback: str | None = None
    model_size: dict[str, int] = field(default_factory=dict)
    #: (seconds since the solve began, best objective, best bound) at each improvement, in
    #: objective units: how the search went, for planners and for benchmarks/.
    trajectory: list[tuple[float, float | None, float | None]] = field(default_factory=list)

    @property
    def solved(self) -> bool:
        """An assignment was found: by the program (optimal, feasible) or by deferred acceptance (stable)."""
        return self.status in ("optimal", "feasible", "stable")

    @property
    def objective(self) -> float | None:
        return None if self.evaluation is None else self.evaluation.objective / 100

    @property
    def bound(self) -> float | None:
        return None if self.bound_cents is None else self.bound_cents / 100

    @property
    def gap(self) -> float | None:
        """Relative gap (objective − bound) / max(1, |objective|), in objective units; 0 when optimal."""
        if self.objective is None or self.bound is None:
            return None
        return max(0.0, self.objective - self.bound) / max(1.0, abs(self.objective))


def backend_name(config: Config, override: str | None = None) -> str:
    """The backend the config (or the command line) asks for."""
    name = override or config.solver.backend
    if name == "pulp" and config.solver.pulp_solver == "highs":
        return "pulp_highs"
    return name


def solve(
    config: Config,
    instance: Instance | None = None,
    backend: str | None = None,
    time_limit: float | None = None,
    progress: Progress | None = None,
) -> Result:
    """Load (unless given), formulate and solve; never claims more than the solver proved."""
    started = time.perf_counter()
    if time_limit is not None:
        config = replace(config, solver=replace(config.solver, time_limit=time_limit))
    if instance is None:
        instance = load_instance(config)
    if config.mechanism == "deferred_acceptance":
        return _deferred_acceptance(config, instance, started, progress)
    model = build_model(instance, config)
    built = time.perf_counter()
    settings = SolveSettings(
        time_limit=config.solver.time_limit,
        gap=config.solver.gap,
        workers=config.solver.workers,
        seed=config.solver.seed,
    )
    name = backend_name(config, backend)
    messages: list[str] = []
    fallback: str | None = None
    trajectory: list[tuple[float, float | None, float | None]] = []

    def record(objective: float | None, bound: float | None, seconds: float) -> None:
        trajectory.append(
            (
                round(time.perf_counter() - started, 3),
                None if objective is None else round(objective / 100, 2),
                None if bound is None else round(bound / 100, 2),
            )
        )
        if progress is not None:
            progress(objective, bound, seconds)

    if model.formulation.n_vars == 0:
        # No student has a placement with a seat: the only assignment places nobody.
        _, constant = model.formulation.objective()
        raw: BackendResult | None = BackendResult(
            "cpsat" if name == "auto" else name,
            "optimal",
            np.zeros(0, dtype=np.int64),
            float(constant),
            0.0,
            ["seatplan: no student has a placement with a seat; nothing to solve"],
        )
    elif name == "auto":
        try:
            raw = _run("cpsat", model, instance, config, settings, record)
        except BackendUnavailable as error:
            fallback = f"CP-SAT unavailable ({error}); fell back to PuLP with CBC"
            raw = None
        if raw is not None and raw.claim == "no_solution":
            fallback = f"CP-SAT found no solution in {settings.time_limit:g} s; fell back to PuLP with CBC"
            messages += raw.log
        if fallback is not None:
            log.warning(fallback)
            messages.append(f"seatplan: {fallback}")
            raw = _run("pulp", model, instance, config, settings, record)
    else:
        raw = _run(name, model, instance, config, settings, record)
    assert raw is not None
    solved = time.perf_counter()
    messages += raw.log
    result = Result(
        config=config,
        instance=instance,
        status=raw.claim if raw.claim in ("infeasible", "no_solution") else "feasible",
        backend=raw.backend,
        log=messages,
        fallback=fallback,
        model_size={"variables": model.formulation.n_vars, "rows": model.formulation.n_rows},
        trajectory=trajectory,
    )
    if raw.values is not None:
        _accept(result, model, raw)
    result.seconds = {
        "build": round(built - started, 3),
        "solve": round(solved - built, 3),
        "total": round(time.perf_counter() - started, 3),
    }
    return result


def _deferred_acceptance(config: Config, instance: Instance, started: float, progress: Progress | None) -> Result:
    """The district's usual mechanism, for comparison: no program, no bound; what the config's rules
    would have cost is measured on its assignment all the same."""
    from seatplan.solver.da import deferred_acceptance

    assignment = deferred_acceptance(instance, config)
    evaluation = evaluate(instance, config, assignment)
    seconds = time.perf_counter() - started
    if progress is not None:
        progress(evaluation.objective, None, seconds)
    return Result(
        config=config,
        instance=instance,
        status="stable",
        backend="deferred_acceptance",
        assignment=assignment,
        evaluation=evaluation,
        log=[
            f"seatplan: student-proposing deferred acceptance in {seconds:.2f} s; compacts, diversity "
            f"bands, clusters and families are not applied by it"
        ],
        trajectory=[(round(seconds, 3), evaluation.objective / 100, None)],
        seconds={"build": 0.0, "solve": round(seconds, 3), "total": round(seconds, 3)},
    )


def _run(
    name: str,
    model: Model,
    instance: Instance,
    config: Config,
    settings: SolveSettings,
    progress: Progress | None,
) -> BackendResult:
    try:
        if name == "cpsat":
            from seatplan.solver.pipeline import solve_ortools

            return solve_ortools(model, instance, config, settings, progress)
        solve_with = get_backend(name)
        return solve_with(model.formulation, settings, None, progress)
    except ImportError as error:
        raise BackendUnavailable(f"backend {name} cannot be imported: {error}") from None


def _accept(result: Result, model: Model, raw: BackendResult) -> None:
    """Check the solution, decode it, and decide what was proven."""
    assert raw.values is not None
    formulation = model.formulation
    # A solve stopped early may leave auxiliary variables (shortfalls) above the least value their
    # rows allow; they only ever cost, so lower them: the objective is then what the assignment costs.
    values = raw.values.copy()
    complete_free_variables(model, values)
    raw.values = values
    broken = formulation.violations(raw.values)
    if broken:
        raise RuntimeError(f"{raw.backend} returned a solution that breaks the model: " + "; ".join(broken[:5]))
    assignment = model.decode(raw.values, result.instance.n_students)
    evaluation = evaluate(result.instance, result.config, assignment)
    from_model = formulation.evaluate(raw.values)
    for name, cents in evaluation.terms.items():
        if from_model.get(name, 0) != cents:
            raise RuntimeError(
                f"term {name}: the formulation counts {from_model.get(name, 0)} cents, the assignment {cents} cents"
            )
    result.assignment = assignment
    result.evaluation = evaluation
    objective = evaluation.objective
    if raw.bound is not None and math.isfinite(raw.bound):
        # Any valid bound may be rounded up to a whole cent: objectives are whole cents.
        result.bound_cents = min(objective, math.ceil(raw.bound - 1e-6))
    proven = result.bound_cents is not None and result.bound_cents >= objective
    result.status = "optimal" if proven else "feasible"


def exit_code(result: Result) -> int:
    """0 solved, 1 infeasible or no solution."""
    return 0 if result.solved else 1


def summary_numbers(result: Result) -> dict[str, float]:
    """First-choice and top-three shares, mean position (placed students), for tables."""
    assert result.assignment is not None and result.evaluation is not None
    placed = result.assignment.school >= 0
    positions = result.evaluation.positions
    n = max(1, len(placed))
    listed = positions[placed & (positions > 0)]
    return {
        "first_choice_pct": 100.0 * float(np.sum(positions == 1)) / n,
        "top3_pct": 100.0 * float(np.sum((positions >= 1) & (positions <= 3))) / n,
        "mean_position": float(listed.mean()) if len(listed) else 0.0,
    }
