"""The solve: backend choice and fallback, an honest status, decoding into an assignment.

The status is ours, not the solver's (solver/status.py): every solution is checked against every row
of the formulation and its objective recomputed from the assignment in domain words; a disagreement
is a bug and stops the run.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import replace

import numpy as np

from seatplan.models.assignment import Assignment
from seatplan.models.classrooms import CLASSROOMS
from seatplan.models.classrooms import check_inputs as check_section_inputs
from seatplan.models.config import Config
from seatplan.models.data import load_instance
from seatplan.models.errors import BackendUnavailable, InfeasibleError
from seatplan.models.evaluate import evaluate
from seatplan.models.formulation import Model, build_model
from seatplan.models.instance import Instance
from seatplan.solver import interrupt
from seatplan.solver.backends import BackendResult, Progress, SolveSettings, get_backend
from seatplan.solver.canonical import MIN_SHARE, break_ties
from seatplan.solver.classrooms import section_placement
from seatplan.solver.da import deferred_acceptance, school_proposing
from seatplan.solver.mechanisms import immediate_acceptance, top_trading_cycles
from seatplan.solver.pipeline import DEFAULT_OPTIONS, PipelineOptions, solve_ortools
from seatplan.solver.result import Result
from seatplan.solver.status import Status, of_solution
from seatplan.solver.warmstart import complete_free_variables

log = logging.getLogger("seatplan")

Trajectory = list[tuple[float, float | None, float | None]]


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
    read_seconds: float = 0.0,
    options: PipelineOptions = DEFAULT_OPTIONS,
    command: str | None = None,
    start: Assignment | None = None,
) -> Result:
    """Load (unless given), formulate and solve; never claims more than the solver proved.

    `read_seconds`: time already spent reading the data (counted in the result's seconds);
    `command`: how the run was asked for, recorded in metrics.json; `start`: an assignment to start
    the search from (kept when it keeps every rule; e.g. the plan, when a rule is relaxed)."""
    started = time.perf_counter()
    if time_limit is not None:
        config = replace(config, solver=replace(config.solver, time_limit=time_limit))
    if instance is None:
        instance = load_instance(config)
    check_section_inputs(config, instance)
    if config.is_mechanism:
        result = _deferred_acceptance(config, instance, started, progress)
    else:
        result = _optimise(config, instance, backend, progress, options, started, start)
    result.seconds = {
        "read": round(read_seconds, 3),
        **result.seconds,
        "total": round(result.seconds["total"] + read_seconds, 3),
    }
    result.command = command
    result.interrupted = interrupt.requested() is not None
    if result.interrupted:
        result.log.append("seatplan: interrupted; the classroom stage was not run")
    else:
        _section(result)
    return result


def _section(result: Result) -> None:
    """The classroom stage right after the school stage, when the config has a sections: block."""
    settings = CLASSROOMS.of(result.config)
    if not settings.enabled or not result.solved:
        return
    assert result.placement is not None and result.evaluation is not None
    started = time.perf_counter()
    try:
        result.sectioning = section_placement(
            settings,
            result.config,
            result.instance,
            result.placement.school,
            result.evaluation.through_compact,
        )
    except InfeasibleError as error:
        result.section_error = error
    result.seconds["sections"] = round(time.perf_counter() - started, 3)
    result.seconds["total"] = round(result.seconds["total"] + result.seconds["sections"], 3)


def _optimise(
    config: Config,
    instance: Instance,
    backend: str | None,
    progress: Progress | None,
    options: PipelineOptions,
    started: float,
    start: Assignment | None = None,
) -> Result:
    model = build_model(instance, config)
    built = time.perf_counter()
    settings = SolveSettings(
        time_limit=config.solver.time_limit,
        gap=config.solver.gap,
        workers=config.solver.workers,
        seed=config.solver.seed,
    )
    trajectory: Trajectory = []

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

    if start is not None:
        options = replace(options, start=start)
    raw, fallback, messages = _run_with_fallback(
        backend_name(config, backend), model, instance, config, settings, record, options
    )
    solved = time.perf_counter()
    result = Result(
        config=config,
        instance=instance,
        status=raw.claim if raw.claim in (Status.INFEASIBLE, Status.NO_SOLUTION) else Status.FEASIBLE,
        backend=raw.backend,
        log=messages + raw.log,
        fallback=fallback,
        model_size={"variables": model.formulation.n_vars, "rows": model.formulation.n_rows},
        trajectory=trajectory,
    )
    if raw.values is not None:
        _accept(result, model, raw)
        if result.status == Status.OPTIMAL and config.solver.tie_break == "canonical":
            _break_ties(result, model, raw, settings, time.perf_counter() - started)
    result.seconds = {
        "build": round(built - started, 3),
        "solve": round(solved - built, 3),
        **({"tie_break": result.seconds["tie_break"]} if "tie_break" in result.seconds else {}),
        "total": round(time.perf_counter() - started, 3),
    }
    return result


def _break_ties(result: Result, model: Model, raw: BackendResult, settings: SolveSettings, elapsed: float) -> None:
    """Replace an optimal assignment by the canonical one (solver/canonical.py): the second phase,
    on the backend that proved the optimum, for the time left or a quarter of the limit."""
    if interrupt.requested() is not None:
        return
    if model.formulation.n_vars == 0:
        result.tie_break = "canonical"  # no placement to choose: the one assignment there is
        return
    assert raw.values is not None and result.evaluation is not None
    optimum = result.evaluation.objective
    time_limit = max(settings.time_limit - elapsed, MIN_SHARE * settings.time_limit)
    closed = raw.closed if raw.closed is not model.formulation else None
    chosen = break_ties(model, result.instance, raw.values, optimum, settings, time_limit, raw.prices, closed)
    result.log.append(f"seatplan: {chosen.note}")
    result.seconds["tie_break"] = round(chosen.seconds, 3)
    result.tie_break = "canonical" if chosen.values is not None else "not proven"
    if chosen.values is None:
        return
    bound = result.bound_cents
    _accept(result, model, BackendResult(raw.backend, Status.OPTIMAL, chosen.values, bound, raw.seconds, []))
    if result.evaluation.objective != optimum or result.status != Status.OPTIMAL:
        raise RuntimeError("the tie-break phase changed the optimum")


def _run_with_fallback(
    name: str,
    model: Model,
    instance: Instance,
    config: Config,
    settings: SolveSettings,
    progress: Progress,
    options: PipelineOptions,
) -> tuple[BackendResult, str | None, list[str]]:
    """The backend's result, the fallback taken (if any) and what was said about it.

    `auto` is CP-SAT, then PuLP with CBC when CP-SAT cannot be imported or finds nothing."""
    if model.formulation.n_vars == 0:
        # No student has a placement with a seat: the only assignment places nobody.
        _, constant = model.formulation.objective()
        note = "seatplan: no student has a placement with a seat; nothing to solve"
        empty = np.zeros(0, dtype=np.int64)
        return (
            BackendResult("cpsat" if name == "auto" else name, Status.OPTIMAL, empty, float(constant), 0.0, [note]),
            None,
            [],
        )
    if name != "auto":
        return _run(name, model, instance, config, settings, progress, options), None, []
    messages: list[str] = []
    try:
        raw = _run("cpsat", model, instance, config, settings, progress, options)
        if raw.claim != Status.NO_SOLUTION:
            return raw, None, []
        fallback = f"CP-SAT found no solution in {settings.time_limit:g} s; fell back to PuLP with CBC"
        messages += raw.log
    except BackendUnavailable as error:
        fallback = f"CP-SAT unavailable ({error}); fell back to PuLP with CBC"
    log.warning(fallback)
    messages.append(f"seatplan: {fallback}")
    return _run("pulp", model, instance, config, settings, progress, options), fallback, messages


#: The mechanisms districts run, by their config name, with how the log names them and the status
#: of their runs (stable for the stable ones).
MECHANISMS = {
    "deferred_acceptance": (deferred_acceptance, "student-proposing deferred acceptance", Status.STABLE),
    "school_proposing": (
        school_proposing,
        "school-proposing deferred acceptance (the school-optimal stable matching)",
        Status.STABLE,
    ),
    "immediate_acceptance": (immediate_acceptance, "immediate acceptance (the Boston mechanism)", Status.ASSIGNED),
    "top_trading_cycles": (top_trading_cycles, "top trading cycles", Status.ASSIGNED),
}


def _deferred_acceptance(config: Config, instance: Instance, started: float, progress: Progress | None) -> Result:
    """The district's usual mechanism (or schools proposing), for comparison: no program, no bound;
    what the config's rules would have cost is measured on its assignment all the same."""
    mechanism, words, status = MECHANISMS[config.mechanism]
    assignment = mechanism(instance, config)
    evaluation = evaluate(instance, config, assignment)
    seconds = time.perf_counter() - started
    if progress is not None:
        progress(evaluation.objective, None, seconds)
    return Result(
        config=config,
        instance=instance,
        status=status,
        backend=config.mechanism,
        placement=assignment,
        evaluation=evaluation,
        log=[
            f"seatplan: {words} in {seconds:.2f} s; compacts, diversity "
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
    options: PipelineOptions,
) -> BackendResult:
    try:
        if name == "cpsat":
            return solve_ortools(model, instance, config, settings, progress, options)
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
    undeclared = set(from_model) - set(evaluation.terms)
    if undeclared:
        raise RuntimeError(f"the formulation has terms no rule declares: {', '.join(sorted(undeclared))}")
    for name, cents in evaluation.terms.items():
        if from_model.get(name, 0) != cents:
            raise RuntimeError(
                f"term {name}: the formulation counts {from_model.get(name, 0)} cents, the assignment {cents} cents"
            )
    result.placement = assignment
    result.evaluation = evaluation
    objective = evaluation.objective
    if raw.bound is not None and math.isfinite(raw.bound):
        # Any valid bound may be rounded up to a whole cent: objectives are whole cents.
        result.bound_cents = min(objective, math.ceil(raw.bound - 1e-6))
    result.status = of_solution(objective, result.bound_cents)
