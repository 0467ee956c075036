"""The OR-Tools path (backend `cpsat`): exploit that the program is a transportation problem with
a few side rows.

1. Nothing but the transportation core (no compacts, no active diversity rule): solve it exactly as a
   min-cost flow; flow optimality is a proof, the status is `optimal`.
2. Otherwise, against a deadline:
   a. a complete, feasible warm start: the flow, then repair (warmstart.py);
   b. a proven lower bound and better solutions from it:
      - up to district size, the LP relaxation (HiGHS; lp.py), whose prices re-run the flow and whose
        fractional part CP-SAT settles (RENS);
      - beyond, Lagrangian relaxation over the flow (lagrange.py), whose prices re-run the flow;
   c. stop when the solution is proven within `solver.gap`; otherwise CP-SAT searches from the best
      solution, with the bound as the floor of its objective, for the time left.
The best solution found is kept; the bound is the best proven one. Every solution is checked
against every row before it is used.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace

import numpy as np

from seatplan.models.config import Config
from seatplan.models.data import Instance
from seatplan.models.formulation import Model
from seatplan.models.ir import Formulation
from seatplan.solver.backends import BackendResult, Progress, SolveSettings, cpsat
from seatplan.solver.flow import is_transportation, solve_transportation
from seatplan.solver.lagrange import lagrangian_bound
from seatplan.solver.lp import LpBound, lp_bound
from seatplan.solver.warmstart import (
    complete_free_variables,
    priced_warm_start,
    stable_warm_start,
    warm_start,
)

#: Above this many placement options the LP relaxation is slower than Lagrangian relaxation over the
#: flow (measured in benchmarks/: HiGHS' simplex needs minutes at a million options).
LP_VARIABLE_LIMIT = 300_000
#: Share of the time limit the bounding phase may take before CP-SAT goes on.
BOUND_SHARE = 0.5
#: CP-SAT's two workers under stability hard: core-based search (which raises the bound by finding
#: which objective terms must cost) beside the LP-based one. On the benchmark district with compacts
#: (seed 2) the bound at 60 s went from 86,985 to 88,000 (gap 1.50% to 0.35%), seed 1 proved its
#: optimum in 15 s instead of 25 s, seed 0 proved infeasible as fast; measured in benchmarks/.
STABLE_SUBSOLVERS = ("core", "default_lp")
#: Row blocks left out of the LP relaxation (see below).
SLOW_LP_ROWS = frozenset({"at_least_as_good_chain", "ranked_ahead_chain", "no_justified_envy"})


@dataclass
class _Search:
    """The best solution and the best proven bound so far, with the log and the progress line."""

    formulation: Formulation
    start: float
    deadline: float
    progress: Progress | None
    best: np.ndarray | None = None
    best_objective: int = 2**62
    bound: int | None = None
    #: A solution that breaks a row, kept to guide CP-SAT when there is no feasible one yet.
    guide: np.ndarray | None = None
    log: list[str] = field(default_factory=list)

    def elapsed(self) -> float:
        return time.perf_counter() - self.start

    def left(self) -> float:
        return self.deadline - time.perf_counter()

    def note(self, message: str) -> None:
        self.log.append(f"seatplan: {message} at {self.elapsed():.2f} s")

    def offer(self, values: np.ndarray | None, how: str) -> None:
        """Keep `values` if it keeps every row and costs less than the best so far."""
        if values is None:
            return
        broken = self.formulation.violations(values)
        if broken:
            self.note(
                f"{how} breaks {len(broken)} row{'s' if len(broken) != 1 else ''} "
                f"(e.g. {broken[0]}); kept only as a hint"
            )
            if self.guide is None:
                self.guide = values
            return
        objective = _objective(self.formulation, values)
        self.note(f"{how}: {objective / 100:.2f}")
        if objective < self.best_objective:
            self.best, self.best_objective = values, objective
            self._report()

    def prove(self, bound: int, how: str) -> None:
        bound = min(bound, self.best_objective)
        if self.bound is None or bound > self.bound:
            self.bound = bound
            self.note(f"{how}: proven bound {bound / 100:.2f}")
            self._report()

    def _report(self) -> None:
        if self.progress is not None:
            # Before the first solution there is a bound to show but no objective.
            objective = self.best_objective if self.best is not None else None
            self.progress(objective, self.bound, self.elapsed())

    def done(self, gap: float) -> bool:
        """Optimal, or within the relative gap asked for."""
        if self.bound is None:
            return False
        slack = self.best_objective - self.bound
        return slack <= 0 or (gap > 0 and slack <= gap * max(100, abs(self.best_objective)))


def solve_ortools(
    model: Model,
    instance: Instance,
    config: Config,
    settings: SolveSettings,
    progress: Progress | None,
) -> BackendResult:
    """Solve with OR-Tools: min-cost flow when it is exact, else warm start, bounds, CP-SAT."""
    start = time.perf_counter()
    formulation = model.formulation
    if is_transportation(model):
        # One flow, solved first with "unplaced" priced just above the dearest option (fewer
        # cost-scaling phases); exact either way (seat_flow).
        values, objective = solve_transportation(model, instance, try_cheaper_unplaced=True)
        seconds = time.perf_counter() - start
        if progress is not None:
            progress(objective, objective, seconds)
        return BackendResult(
            "cpsat",
            "optimal",
            values,
            float(objective),
            seconds,
            [
                f"seatplan: a transportation problem, solved exactly as a min-cost flow in {seconds:.2f} s "
                f"(objective {objective / 100:.2f})"
            ],
        )

    if _student_optimal_is_optimal(model, config):
        stable = stable_warm_start(model, instance, config)
        if stable is not None and not formulation.violations(stable):
            objective = _objective(formulation, stable)
            seconds = time.perf_counter() - start
            if progress is not None:
                progress(objective, objective, seconds)
            return BackendResult(
                "cpsat",
                "optimal",
                stable,
                float(objective),
                seconds,
                [
                    "seatplan: stability hard with only ranks and seats: the student-optimal stable matching "
                    "(deferred acceptance) is the optimum — every stable matching places the same students "
                    "(rural hospitals theorem) and each student is placed at least as well as in any other "
                    f"(Gale–Shapley); objective {objective / 100:.2f} in {seconds:.2f} s"
                ],
            )

    window = _stable_window(model, instance, config)
    if window is not None:
        # Exact, not a heuristic: no stable assignment uses a placement outside the window.
        formulation = replace(formulation, upper=np.minimum(formulation.upper, window))
        model = Model(formulation, model.seats)
        open_per_student = np.bincount(
            model.seats.student[formulation.upper[model.seats.var] > 0],
            minlength=instance.n_students,
        )
        if open_per_student.max(initial=0) <= 1 and not model.seats.n_compacts:
            # One stable matching only: deferred acceptance's. If it keeps the other rules, it is
            # the optimum; if not, nothing does.
            only = stable_warm_start(model, instance, config)
            seconds = time.perf_counter() - start
            note = (
                "seatplan: stability hard: the stable matching is unique (deferred acceptance and "
                "the schools-proposing one agree), so it is the only candidate"
            )
            if only is not None and not formulation.violations(only):
                objective = _objective(formulation, only)
                if progress is not None:
                    progress(objective, objective, seconds)
                return BackendResult(
                    "cpsat",
                    "optimal",
                    only,
                    float(objective),
                    seconds,
                    [f"{note}; it keeps every rule: optimal, {objective / 100:.2f}"],
                )
            return BackendResult(
                "cpsat",
                "infeasible",
                None,
                None,
                seconds,
                [f"{note}; it breaks another hard rule: no assignment keeps them all"],
            )

    search = _Search(formulation, start, start + settings.time_limit, progress)
    search.offer(warm_start(model, instance, config), "warm start (min-cost flow, then repair)")
    if config.stability.mode != "off":
        # A flow is rarely stable; deferred acceptance always is, on the lists the model allows.
        search.offer(stable_warm_start(model, instance, config), "deferred acceptance")
    compacts = formulation.block("compact")

    if config.stability.mode == "hard":
        # The LP without the stability rows (the only LP that solves fast) is far weaker than
        # CP-SAT's own root relaxation with them (measured on the benchmark district: 64,042 against
        # 67,427 for an optimum of 68,340.50), and a flow at its prices is never stable: the whole
        # time goes to CP-SAT, which starts from deferred acceptance.
        search.note("stability hard: no separate LP bound; CP-SAT's relaxation holds the stability rows")
    elif model.seats.n_options <= LP_VARIABLE_LIMIT:
        # The stability rows make the LP slow to solve (minutes for a few thousand students) and
        # its prices no help to the flow: the LP without them is still a relaxation, so its bound
        # holds, and CP-SAT, starting from deferred acceptance, enforces them.
        relaxed = _without_rows(formulation, SLOW_LP_ROWS)
        bound = lp_bound(
            relaxed,
            time_limit=max(0.5, settings.time_limit * BOUND_SHARE),
            threads=1,
            columns=_likely_columns(model, instance, search.best),
        )
        if bound is None:
            search.note("LP relaxation not solved in its share of the time")
        else:
            search.prove(bound.bound, f"LP relaxation {bound.lp_objective / 100:.2f}")
            relaxed_model = Model(relaxed, model.seats)
            lp_is_whole = relaxed is formulation  # no rows were left out of the LP

            def at_lp_prices(counts: bool) -> np.ndarray:
                compact_values = bound.primal[compacts.start : compacts.start + compacts.size]
                values = priced_warm_start(
                    relaxed_model,
                    instance,
                    config,
                    bound.duals,
                    compact_values,
                    bound.primal if counts else None,
                )
                complete_free_variables(model, values)  # against every row, left-out ones included
                return values

            if not search.done(settings.gap):
                search.offer(at_lp_prices(False), "flow at the LP's prices")
                search.offer(at_lp_prices(True), "flow at the LP's prices and counts")
            if not search.done(settings.gap) and lp_is_whole:
                placement = np.zeros(formulation.n_vars, dtype=bool)
                placement[model.seats.var] = True
                search.offer(
                    _lp_rounding(formulation, placement, bound, settings, search),
                    "LP rounding (CP-SAT)",
                )
    else:
        last = [0.0]

        def on_prices(duals: np.ndarray, compact_share: np.ndarray) -> None:
            # A candidate at most every few seconds: each is a flow over the whole city.
            if time.perf_counter() - last[0] < 5.0 or search.done(settings.gap):
                return
            search.offer(
                priced_warm_start(model, instance, config, duals, compact_share),
                "flow at Lagrangian prices",
            )
            last[0] = time.perf_counter()

        relaxation = lagrangian_bound(
            model,
            instance,
            time_limit=max(1.0, settings.time_limit * BOUND_SHARE - search.elapsed()),
            upper_bound=lambda: search.best_objective,
            target_gap=settings.gap,
            on_prices=on_prices,
        )
        search.prove(relaxation.bound, f"Lagrangian relaxation ({relaxation.iterations} flows)")

    if search.best is not None and search.done(settings.gap):
        claim = "optimal" if search.best_objective <= (search.bound or -(2**62)) else "feasible"
        search.note(f"stopping: {'optimal' if claim == 'optimal' else 'within solver.gap'}")
        return BackendResult("cpsat", claim, search.best, _float(search.bound), search.elapsed(), search.log)

    remaining = search.left()
    if remaining > 0.5:
        result = cpsat.solve(
            formulation,
            SolveSettings(time_limit=remaining, gap=settings.gap, workers=settings.workers, seed=settings.seed),
            hint=search.best if search.best is not None else search.guide,
            progress=progress,
            objective_floor=search.bound,
            subsolvers=STABLE_SUBSOLVERS if config.stability.mode == "hard" else (),
        )
        search.log += result.log
        # Its solution first: the progress line the bound prints then shows CP-SAT's best, not the
        # start it was handed.
        search.offer(result.values, f"CP-SAT ({result.claim})")
        if result.bound is not None:
            search.prove(int(np.ceil(result.bound - 1e-6)), "CP-SAT")
        if search.best is None and result.claim == "infeasible":
            search.note("CP-SAT proved that the hard rules cannot all hold")
            return BackendResult("cpsat", "infeasible", None, None, search.elapsed(), search.log)
    if search.best is None:
        return BackendResult("cpsat", "no_solution", None, None, search.elapsed(), search.log)
    claim = "optimal" if search.bound is not None and search.best_objective <= search.bound else "feasible"
    return BackendResult("cpsat", claim, search.best, _float(search.bound), search.elapsed(), search.log)


def _lp_rounding(
    formulation: Formulation,
    placement: np.ndarray,
    bound: LpBound,
    settings: SolveSettings,
    search: _Search,
) -> np.ndarray | None:
    """A RENS-like sub-problem: keep the placements the LP makes whole, let CP-SAT choose the rest.

    The LP optimum of an assignment-shaped program is nearly integral: students it splits, leaves
    out, or places through a half-honored compact are few, and so is what CP-SAT decides here, in
    the capacity the whole placements leave.
    """
    lower = formulation.lower.copy()
    lower[placement & (np.abs(bound.primal - 1) < 1e-6)] = 1
    limit = min(max(1.0, 0.25 * settings.time_limit), search.left())
    if limit <= 0.2:
        return None
    result = cpsat.solve(
        replace(formulation, lower=lower),
        SolveSettings(time_limit=limit, gap=0.0, workers=settings.workers, seed=settings.seed),
        objective_floor=bound.bound,
    )
    return result.values


def _likely_columns(model: Model, instance: Instance, values: np.ndarray | None) -> np.ndarray | None:
    """The variables the LP starts with (lp.py prices in the rest): each student's options up to
    one past where the warm start placed it — students only move down their lists when seats or
    rules push them — and every non-placement variable."""
    if values is None:
        return None
    seats = model.seats
    assignment = model.decode(values, instance.n_students)
    from seatplan.models.evaluate import positions_of

    where = positions_of(instance, assignment.school)
    reach = np.where((assignment.school >= 0) & (where > 0), where + 1, np.iinfo(np.int64).max)
    columns = np.ones(model.formulation.n_vars, dtype=bool)
    option = seats.is_option
    columns[seats.var[option]] = seats.position[option] <= reach[seats.student[option]]
    return columns


def _stable_window(model: Model, instance: Instance, config: Config) -> np.ndarray | None:
    """With stability hard, upper bounds that close every placement no stable assignment can use.

    Without compacts: in every stable matching each student's school lies between its school in the
    student-optimal one (deferred acceptance) and in the school-optimal one (schools proposing), and
    the same students are placed (the lattice of stable matchings; rural hospitals theorem).

    With compacts, an assignment that honors the set H of compacts is a stable matching of the market
    I(H) without H's members and without their seats (compact seats are a set-aside), that also keeps
    the members of broken compacts out of their compact's school. The window must hold for every H,
    so it is taken from two markets that bracket them all (comparative statics: more students or
    fewer seats leave every other student weakly worse off, in both the student-optimal and the
    school-optimal stable matching — Gale and Sotomayor 1985; Crawford 1991):
    - best: deferred acceptance without any compact member, at full capacity — no I(H) is better
      for a student outside the compacts;
    - worst: schools proposing with every student and each school's seats reduced by the most that
      honored compacts can take there — no I(H) is worse for any student placed through its list.
    Members keep every placement up to their worst (their best depends on H)."""
    if config.stability.mode != "hard":
        return None
    from seatplan.models.evaluate import positions_of
    from seatplan.solver.da import deferred_acceptance, school_proposing

    member = instance.compact_of_student >= 0
    if model.seats.n_compacts and member.any():
        from seatplan.models.rules.compacts import share_limit

        length = instance.list_length
        kept = np.where(member, 0, length)
        without_members = replace(
            instance,
            pref_start=np.concatenate([[0], np.cumsum(kept)]).astype(np.int64),
            pref_school=instance.pref_school[np.repeat(~member, length)],
        )
        set_aside = np.zeros_like(instance.capacity)
        np.add.at(set_aside, (instance.compact_school[instance.compact_of_student[member]], instance.grade[member]), 1)
        room = share_limit(instance, config).astype(np.int64)
        set_aside = np.minimum(np.minimum(set_aside, room[:, None]), instance.capacity)
        best = positions_of(instance, deferred_acceptance(without_members, config).school)
        worst_instance = replace(instance, capacity=instance.capacity - set_aside)
    else:
        best = positions_of(instance, deferred_acceptance(instance, config).school)
        worst_instance = instance
    worst = positions_of(instance, school_proposing(worst_instance, config).school)
    # Unplaced in the worst market: it may be unplaced, or placed anywhere from its best.
    worst = np.where(worst > 0, worst, np.iinfo(np.int64).max)
    best = np.where(member, 1, best)
    seats = model.seats
    option = seats.is_option
    student = seats.student[option]
    placed = best[student] > 0
    inside = placed & (seats.position[option] >= best[student]) & (seats.position[option] <= worst[student])
    upper = model.formulation.upper.copy()
    upper[seats.var[option][~inside]] = 0
    return upper


def _student_optimal_is_optimal(model: Model, config: Config) -> bool:
    """Stability hard, and nothing in the objective or the rules but ranks, seats and unplaced
    students: then the student-optimal stable matching is the optimum, by theorem."""
    active = [r for r in config.diversity if r.mode == "hard" or (r.mode == "soft" and r.weight > 0)]
    weights = config.objective
    return (
        config.stability.mode == "hard"
        and model.seats.n_compacts == 0
        and not active
        and (config.clusters.mode == "off" or (config.clusters.mode == "soft" and weights.outside_cluster == 0))
        and weights.distance == 0
        and weights.rank >= 0
        and (config.families.together == "off" or (config.families.together == "soft" and config.families.weight == 0))
    )


def _without_rows(formulation: Formulation, names: frozenset[str]) -> Formulation:
    """The same program without some row blocks: a relaxation, whose LP bound is still a bound."""
    kept = [block for block in formulation.rows if block.name not in names]
    return formulation if len(kept) == len(formulation.rows) else replace(formulation, rows=kept)


def _objective(formulation: Formulation, values: np.ndarray) -> int:
    coefs, constant = formulation.objective()
    return int(constant + int(coefs @ values))


def _float(value: int | None) -> float | None:
    return None if value is None else float(value)
