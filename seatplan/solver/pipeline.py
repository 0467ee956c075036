"""The OR-Tools path (backend `cpsat`): exploit that the program is a transportation problem with
a few side rows. Four phases, each a function of its own inputs, all sharing one `Search` (the best
solution and the best proven bound), which builds the one result:

1. exact shortcuts, each allowed only while every active rule supports it (models/rules):
   - a transportation problem is solved as one min-cost flow, whose optimality is the proof;
   - under `stability: hard` with nothing but ranks and seats, deferred acceptance's matching is
     the optimum, by theorem;
   - under `stability: hard`, placements no stable assignment can use are closed (exact while the
     rules allow the stable window), and a stable matching that is the only one left is the answer
     or proves there is none;
2. first solutions: the flow, then repair (warmstart.py); deferred acceptance when stability counts;
3. a proven lower bound, and better solutions from it:
   - up to `lp_variable_limit` options (or, when a gap below `lagrangian_gap` is asked, up to
     `lp_column_limit` starting columns), the LP relaxation by column generation (HiGHS; lp.py),
     whose prices re-run the flow; then, unless that settles it, the face phase: reduced-cost
     fixing around the LP bound and HiGHS' branch and cut on what is left free, for the time left
     (an exact proof when it finishes);
   - beyond, Lagrangian relaxation over the flow (lagrange.py), whose prices re-run the flow;
4. unless the best is proven within `solver.gap`: CP-SAT searches from it, with the bound as the
   floor of its objective, for the time left (under stability hard, or after Lagrangian bounds).
Every solution is checked against every row before it is kept.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace

import numpy as np

from seatplan.models.assignment import Assignment
from seatplan.models.config import Config
from seatplan.models.formulation import Model
from seatplan.models.instance import Instance
from seatplan.models.ir import Formulation, Role
from seatplan.models.rules import RULES, Shortcut
from seatplan.models.rules.compacts import share_limit
from seatplan.solver import interrupt
from seatplan.solver.backends import BackendResult, Progress, SolveSettings, cpsat, highs
from seatplan.solver.canonical import optimal_face
from seatplan.solver.da import deferred_acceptance, school_proposing
from seatplan.solver.flow import is_transportation, solve_transportation
from seatplan.solver.lagrange import lagrangian_bound
from seatplan.solver.lp import LpBound, lp_bound
from seatplan.solver.status import Status, of_solution
from seatplan.solver.warmstart import complete_free_variables, priced_warm_start, stable_warm_start, warm_start


@dataclass(frozen=True)
class PipelineOptions:
    """Where the pipeline switches methods. Defaults are measured in benchmarks/."""

    #: Above this many placement options the LP relaxation is slower than Lagrangian relaxation over
    #: the flow (HiGHS' simplex needs minutes at a million options)...
    lp_variable_limit: int = 300_000
    #: ... unless the gap asked is below this (Lagrangian relaxation stalls near 0.4% on the
    #: benchmark metro) and the LP's starting columns are at most `lp_column_limit` (the metro's
    #: 315,000 columns: 40 s by column generation).
    lagrangian_gap: float = 0.005
    lp_column_limit: int = 400_000
    #: Above this many variables CP-SAT does not search after the bounding phase (unless under
    #: stability hard, where it is the only search): on the benchmark
    #: nation (5 million) it took 11.4 GB in 200 s and improved nothing, on the metro (1.2 million)
    #: 3 GB in 60 s for nothing.
    cp_sat_variable_limit: int = 1_000_000
    #: Share of the time limit the bounding phase may take before CP-SAT goes on.
    bound_share: float = 0.5
    #: An assignment to start from (offered with the first solutions, kept if it keeps every row).
    start: Assignment | None = None
    #: The first face HiGHS searches (reduced-cost fixing, below) leaves at most this share of the
    #: variables free; the next, when needed, is exact when it fits `face_limit`.
    face_share: float = 0.3
    #: No face frees more variables than this (HiGHS' memory; the metro's 263,000 free: 2.3 GB).
    face_limit: int = 200_000


DEFAULT_OPTIONS = PipelineOptions()

#: CP-SAT's two workers under stability hard: core-based search (which raises the bound by finding
#: which objective terms must cost) beside the LP-based one; measured in benchmarks/.
STABLE_SUBSOLVERS = ("core", "default_lp")
#: Rows left out of the LP relaxation: the stability rows make it slow to solve (minutes for a few
#: thousand students) and its prices no help to the flow. The LP without them is still a relaxation,
#: so its bound holds, and CP-SAT, starting from deferred acceptance, enforces them.
SLOW_IN_LP = frozenset({Role.RUNNING_SUM, Role.COMB})
#: An objective above any real one: "no solution yet".
NO_OBJECTIVE = 2**62


@dataclass
class Search:
    """The best solution and the best proven bound so far, with the log and the progress line."""

    formulation: Formulation
    settings: SolveSettings
    progress: Progress | None
    start: float = field(default_factory=time.perf_counter)
    best: np.ndarray | None = None
    best_objective: int = NO_OBJECTIVE
    bound: int | None = None
    #: A solution that breaks a row, kept to guide CP-SAT when there is no feasible one yet.
    guide: np.ndarray | None = None
    infeasible: bool = False
    interrupted: bool = False
    #: Why CP-SAT is not to search after the bounding phase (its search would add nothing), if so.
    last_word: str | None = None
    #: The LP's row prices and the relaxation they price (BackendResult.prices).
    prices: tuple[Formulation, np.ndarray] | None = None
    log: list[str] = field(default_factory=list)

    def elapsed(self) -> float:
        return time.perf_counter() - self.start

    def left(self) -> float:
        return self.start + self.settings.time_limit - time.perf_counter()

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
        objective = objective_of(self.formulation, values)
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

    def conclude(self, values: np.ndarray, how: str) -> None:
        """An exact method's answer: `values` is optimal, by `how`'s own proof."""
        self.best, self.best_objective = values, objective_of(self.formulation, values)
        self.bound = self.best_objective
        self.log.append(f"seatplan: {how}; objective {self.best_objective / 100:.2f} in {self.elapsed():.2f} s")
        self._report()

    def refute(self, how: str) -> None:
        """A proof that the hard rules cannot all hold."""
        self.infeasible = True
        self.log.append(f"seatplan: {how} at {self.elapsed():.2f} s")

    def _report(self) -> None:
        if self.progress is not None:
            # Before the first solution there is a bound to show but no objective.
            objective = self.best_objective if self.best is not None else None
            self.progress(objective, self.bound, self.elapsed())

    def halted(self) -> bool:
        """Done, or asked to stop (a stop signal: solver/interrupt.py); then the best so far is the answer."""
        if self.done():
            return True
        signum = interrupt.requested()
        if signum is not None and not self.interrupted:
            self.interrupted = True
            self.note("stop requested: keeping the best found so far")
        return signum is not None

    def done(self) -> bool:
        """A proof is in: infeasible, optimal, or within the relative gap asked for."""
        if self.infeasible:
            return True
        if self.best is None or self.bound is None:
            return False
        slack = self.best_objective - self.bound
        gap = self.settings.gap
        return slack <= 0 or (gap > 0 and slack <= gap * max(100, abs(self.best_objective)))

    def result(self) -> BackendResult:
        """The one result of the pipeline; its status is decided by `of_solution`."""
        if self.best is None:
            claim = Status.INFEASIBLE if self.infeasible else Status.NO_SOLUTION
            return BackendResult("cpsat", claim, None, None, self.elapsed(), self.log)
        bound = None if self.bound is None else float(self.bound)
        claim = of_solution(self.best_objective, self.bound)
        return BackendResult(
            "cpsat", claim, self.best, bound, self.elapsed(), self.log, self.prices, closed=self.formulation
        )


def solve_ortools(
    model: Model,
    instance: Instance,
    config: Config,
    settings: SolveSettings,
    progress: Progress | None,
    options: PipelineOptions = DEFAULT_OPTIONS,
) -> BackendResult:
    """Solve with OR-Tools: the exact shortcuts when they apply, else first solutions, a proven
    bound and the solutions it suggests, then CP-SAT for the time left."""
    search = Search(model.formulation, settings, progress)
    if exact_shortcut(search, model, instance, config):
        return search.result()
    model = within_stable_window(search, model, instance, config)
    if search.halted():
        return search.result()
    first_solutions(search, model, instance, config)
    if options.start is not None:
        search.offer(starting_values(model, options.start), "the start given")
    if not search.halted():
        bound_and_improve(search, model, instance, config, options)
    if search.interrupted:
        return search.result()
    if search.done():
        proven = of_solution(search.best_objective, search.bound)
        search.note(f"stopping: {'optimal' if proven == Status.OPTIMAL else 'within solver.gap'}")
        return search.result()
    too_large = search.formulation.n_vars > options.cp_sat_variable_limit
    if search.last_word is None and too_large and config.stability.mode != "hard":
        search.last_word = (
            f"{search.formulation.n_vars:,} variables: more than CP-SAT searches in useful time and memory "
            f"(PipelineOptions.cp_sat_variable_limit)"
        )
    if search.last_word is not None:
        search.note(f"stopping: {search.last_word}")
        return search.result()
    cp_sat_search(search, config)
    return search.result()


# 1. exact shortcuts ------------------------------------------------------------------------------


def exact_shortcut(search: Search, model: Model, instance: Instance, config: Config) -> bool:
    """Solve exactly when the program allows it: True when `search` holds the proven optimum."""
    refusing = RULES.refusing(Shortcut.TRANSPORTATION, config, instance)
    if not refusing and is_transportation(model):
        # One flow, solved first with "unplaced" priced just above the dearest option (fewer
        # cost-scaling phases); exact either way (seat_flow).
        values, _ = solve_transportation(model, instance, try_cheaper_unplaced=True)
        search.conclude(values, "a transportation problem, solved exactly as a min-cost flow")
        return True
    search.note(f"not a transportation problem: {', '.join(refusing) or 'side rows'} in force")
    if config.stability.mode == "hard" and not RULES.refusing(Shortcut.STUDENT_OPTIMAL, config, instance):
        stable = stable_warm_start(model, instance, config)
        if stable is not None and not model.formulation.violations(stable):
            search.conclude(
                stable,
                "stability hard with only ranks and seats: the student-optimal stable matching (deferred "
                "acceptance) is the optimum — every stable matching places the same students (rural hospitals "
                "theorem) and each student is placed at least as well as in any other (Gale–Shapley)",
            )
            return True
    return False


def within_stable_window(search: Search, model: Model, instance: Instance, config: Config) -> Model:
    """Under stability hard, the model with every placement no stable assignment uses closed (exact,
    not a heuristic). When one stable matching is all that is left, it settles the search."""
    if config.stability.mode != "hard":
        return model
    refusing = RULES.refusing(Shortcut.STABLE_WINDOW, config, instance)
    if refusing:
        search.note(f"no stable window: {', '.join(refusing)} in force")
        return model
    window = stable_window(model, instance, config)
    if window is None:
        return model
    formulation = replace(model.formulation, upper=np.minimum(model.formulation.upper, window))
    model = Model(formulation, model.seats)
    search.formulation = formulation
    open_per_student = np.bincount(
        model.seats.student[formulation.upper[model.seats.var] > 0], minlength=instance.n_students
    )
    if open_per_student.max(initial=0) <= 1 and not model.seats.n_compacts:
        # One stable matching only: deferred acceptance's. If it keeps the other rules, it is the
        # optimum; if not, nothing does.
        only = stable_warm_start(model, instance, config)
        unique = (
            "stability hard: the stable matching is unique (deferred acceptance and the schools-proposing "
            "one agree), so it is the only candidate"
        )
        if only is not None and not formulation.violations(only):
            search.conclude(only, f"{unique}; it keeps every rule")
        else:
            search.refute(f"{unique}; it breaks another hard rule: no assignment keeps them all")
    return model


def stable_window(model: Model, instance: Instance, config: Config) -> np.ndarray | None:
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
    member = instance.compact_of_student >= 0
    if model.seats.n_compacts and member.any():
        length = instance.list_length
        kept = np.where(member, 0, length)
        without_members = replace(
            instance,
            pref_start=np.concatenate([[0], np.cumsum(kept)]).astype(np.int64),
            pref_school=instance.pref_school[np.repeat(~member, length)],
            pref_rank=instance.pref_position()[np.repeat(~member, length)],
        )
        set_aside = np.zeros_like(instance.capacity)
        np.add.at(set_aside, (instance.compact_school[instance.compact_of_student[member]], instance.grade[member]), 1)
        room = share_limit(instance, config).astype(np.int64)
        set_aside = np.minimum(np.minimum(set_aside, room[:, None]), instance.capacity)
        best = instance.positions_of(deferred_acceptance(without_members, config).school)
        worst_instance = replace(instance, capacity=instance.capacity - set_aside)
    else:
        best = instance.positions_of(deferred_acceptance(instance, config).school)
        worst_instance = instance
    worst = instance.positions_of(school_proposing(worst_instance, config).school)
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


# 2. first solutions ------------------------------------------------------------------------------


def first_solutions(search: Search, model: Model, instance: Instance, config: Config) -> None:
    """A complete, feasible start (the flow, then repair) and, when stability counts, deferred
    acceptance (a flow is rarely stable; DA always is, on the lists the model allows)."""
    search.offer(warm_start(model, instance, config), "warm start (min-cost flow, then repair)")
    if config.stability.mode != "off":
        search.offer(stable_warm_start(model, instance, config), "deferred acceptance")


def starting_values(model: Model, start: Assignment) -> np.ndarray | None:
    """A given assignment as a solution vector (None when the model has no such placement)."""
    values = model.encode(start)
    if values is not None:
        complete_free_variables(model, values)
    return values


# 3. a proven bound, and the solutions it suggests --------------------------------------------------


def bound_and_improve(
    search: Search, model: Model, instance: Instance, config: Config, options: PipelineOptions
) -> None:
    """The LP relaxation (by column generation) where it fits, Lagrangian relaxation beyond; none
    under stability hard."""
    if config.stability.mode == "hard":
        # The LP without the stability rows (the only LP that solves fast) is far weaker than
        # CP-SAT's own root relaxation with them (measured on the benchmark district: 64,042 against
        # 67,427 for an optimum of 68,340.50), and a flow at its prices is never stable: the whole
        # time goes to CP-SAT, which starts from deferred acceptance.
        search.note("stability hard: no separate LP bound; CP-SAT's relaxation holds the stability rows")
        return
    small = model.seats.n_options <= options.lp_variable_limit
    if not small and search.settings.gap >= options.lagrangian_gap:
        lagrangian_phase(search, model, instance, config, options)
        return
    # Up to `lp_variable_limit` options, always the LP; beyond, only when the gap asked is below what
    # Lagrangian relaxation reaches in its time and the LP's first columns are few enough.
    columns = likely_columns(model, instance, search.best)
    if small or (columns is not None and int(np.count_nonzero(columns)) <= options.lp_column_limit):
        lp_phase(search, model, instance, config, options, columns)
    else:
        lagrangian_phase(search, model, instance, config, options)


def lp_phase(
    search: Search,
    model: Model,
    instance: Instance,
    config: Config,
    options: PipelineOptions,
    columns: np.ndarray | None,
) -> None:
    """The LP relaxation by column generation from `columns`, the flows at its prices, then the face
    phase."""
    relaxed = model.formulation.without_rows(SLOW_IN_LP)
    bound = lp_bound(
        relaxed,
        time_limit=max(0.5, search.settings.time_limit * options.bound_share),
        threads=1,
        columns=columns,
    )
    if bound is None:
        search.note("LP relaxation not solved in its share of the time")
        return
    search.prove(bound.bound, f"LP relaxation {bound.lp_objective / 100:.2f}")
    search.prices = (relaxed, bound.duals)
    improve_from_lp(search, model, Model(relaxed, model.seats), instance, config, bound)
    if not search.done() and not search.halted():
        search_the_face(search, model.formulation, relaxed, bound, options)


def improve_from_lp(
    search: Search, model: Model, relaxed: Model, instance: Instance, config: Config, bound: LpBound
) -> None:
    """Solutions from the LP: the flow at its prices, alone, then with its counts per class."""
    seats = model.seats
    compact_values = bound.primal[seats.compact_start : seats.compact_start + seats.n_compacts]

    def at_lp_prices(counts: bool) -> np.ndarray:
        values = priced_warm_start(
            relaxed, instance, config, bound.duals, compact_values, bound.primal if counts else None
        )
        complete_free_variables(model, values)  # against every row, left-out ones included
        return values

    if not search.halted():
        search.offer(at_lp_prices(False), "flow at the LP's prices")
        search.offer(at_lp_prices(True), "flow at the LP's prices and counts")


def search_the_face(
    search: Search, formulation: Formulation, relaxed: Formulation, bound: LpBound, options: PipelineOptions
) -> None:
    """Close the gap left by the LP exactly: reduced-cost fixing around its bound, then HiGHS' branch
    and cut on the variables left free.

    With L the Lagrangian value of the LP's prices, every solution costs at least L + Σ |reduced
    cost| × (its distance from where L puts it) (canonical.optimal_face): a solution costing at most
    T keeps each variable within (T − L) / |reduced cost| of that side. The program cut to that, the
    face of T, holds every solution costing at most T, so HiGHS solving it:
    - to optimality with a value r ≤ T proves r is the optimum;
    - to optimality with r > T, or infeasible, proves that nothing costs T or less (a bound T + 1);
    - stopped with a dual bound b proves min(b, T + 1).
    The first T leaves `face_share` of the variables free (a guess that holds when the LP is nearly
    tight, as it is for assignment-shaped programs); if it proves nothing, the next T is the best
    found so far, whose face must hold any better solution — exact —, unless that face would free
    more than `face_limit` variables (memory: HiGHS' branch and cut on a million columns takes
    gigabytes); then the largest face within the limit is searched, for its bound and its solutions."""
    magnitudes = np.sort(np.abs(bound.reduced_costs))

    def within(count: int) -> float:
        """The largest slack that leaves at most `count` variables free (never below zero)."""
        if count >= len(magnitudes):
            return float("inf")
        fits = int(np.searchsorted(magnitudes, magnitudes[count], side="left")) - 1
        return float(magnitudes[fits]) if fits >= 0 else 0.0

    share = min(options.face_limit, int(options.face_share * len(magnitudes)))
    slack = min(search.best_objective - bound.value, within(share))
    deadline = search.elapsed() + search.left()
    while not search.done() and not search.halted() and deadline - search.elapsed() > 0.2:
        target = int(np.floor(bound.value + slack))
        face = optimal_face(formulation, relaxed, bound.duals, target).formulation
        free = int(np.count_nonzero(face.upper > face.lower))
        settings = replace(search.settings, time_limit=deadline - search.elapsed(), workers=1)
        result = highs.solve_fixed_out(face, settings, hint=search.best)
        highs.give_back_memory()
        how = f"HiGHS on the {free:,} variables free within {(target - bound.value) / 100:.2f} of the LP bound"
        search.offer(result.values, how)
        if result.claim not in (Status.OPTIMAL, Status.INFEASIBLE):
            if result.bound is not None and np.isfinite(result.bound):
                search.prove(min(int(np.ceil(result.bound - 1e-6)), target + 1), how)
            return
        if search.best_objective <= target:
            search.prove(search.best_objective, f"{how}: nothing in it costs less")
            return
        search.prove(target + 1, how)
        wider = min(search.best_objective - bound.value, within(options.face_limit))
        if wider <= slack:
            search.note(f"{how}: nothing costs {target / 100:.2f} or less; no wider face within the limit")
            search.last_word = (
                "the widest face within the limit is searched; CP-SAT on the whole program would take "
                "gigabytes for less (measured on the benchmark metro)"
            )
            return
        search.note(f"{how}: nothing costs {target / 100:.2f} or less; a wider face next")
        slack = wider


def lagrangian_phase(
    search: Search, model: Model, instance: Instance, config: Config, options: PipelineOptions
) -> None:
    """Lagrangian relaxation over the flow for its share of the time; its prices give candidates
    along the way (each one a flow over the whole city: at most one every few seconds)."""
    last = [0.0]

    def on_prices(duals: np.ndarray, compact_share: np.ndarray) -> None:
        if time.perf_counter() - last[0] < 5.0 or search.halted():
            return
        search.offer(priced_warm_start(model, instance, config, duals, compact_share), "flow at Lagrangian prices")
        last[0] = time.perf_counter()

    # All of the time when CP-SAT is not to search after it (too many variables).
    share = 1.0 if model.formulation.n_vars > options.cp_sat_variable_limit else options.bound_share
    relaxation = lagrangian_bound(
        model,
        instance,
        time_limit=max(1.0, search.settings.time_limit * share - search.elapsed()),
        upper_bound=lambda: search.best_objective,
        target_gap=search.settings.gap,
        on_prices=on_prices,
    )
    search.prove(relaxation.bound, f"Lagrangian relaxation ({relaxation.iterations} flows)")


def likely_columns(model: Model, instance: Instance, values: np.ndarray | None) -> np.ndarray | None:
    """The variables the LP starts with (lp.py prices in the rest): each student's options up to
    one past where the warm start placed it — students only move down their lists when seats or
    rules push them — and every non-placement variable."""
    if values is None:
        return None
    seats = model.seats
    assignment = model.decode(values, instance.n_students)
    where = instance.positions_of(assignment.school)
    reach = np.where((assignment.school >= 0) & (where > 0), where + 1, np.iinfo(np.int64).max)
    columns = np.ones(model.formulation.n_vars, dtype=bool)
    option = seats.is_option
    columns[seats.var[option]] = seats.position[option] <= reach[seats.student[option]]
    return columns


# 4. search ---------------------------------------------------------------------------------------


def cp_sat_search(search: Search, config: Config) -> None:
    """CP-SAT from the best solution (or the guide), with the proven bound as its objective's floor."""
    remaining = search.left()
    if remaining <= 0.5 or search.halted():
        return
    settings = search.settings
    result = cpsat.solve(
        search.formulation,
        SolveSettings(time_limit=remaining, gap=settings.gap, workers=settings.workers, seed=settings.seed),
        hint=search.best if search.best is not None else search.guide,
        progress=search.progress,
        objective_floor=search.bound,
        subsolvers=STABLE_SUBSOLVERS if config.stability.mode == "hard" else (),
    )
    search.log += result.log
    # Its solution first: the progress line the bound prints then shows CP-SAT's best, not the
    # start it was handed.
    search.offer(result.values, f"CP-SAT ({result.claim})")
    search.halted()  # a stop during the search is noted in the log
    if result.bound is not None:
        search.prove(int(np.ceil(result.bound - 1e-6)), "CP-SAT")
    if search.best is None and result.claim == Status.INFEASIBLE:
        search.refute("CP-SAT proved that the hard rules cannot all hold")


def objective_of(formulation: Formulation, values: np.ndarray) -> int:
    """The objective of a solution vector, in cents."""
    coefs, constant = formulation.objective()
    return int(constant + int(coefs @ values))
