"""Why a student was placed where it was: one reason, with numbers, for each school it listed above.

- Runs that fill schools in their own order (deferred acceptance, `stability: hard`): the school
  was full with students it ranks higher — its cutoff against the student's own priority and
  lottery number (explain/cutoffs.py).
- Optimised runs: a hard rule forbids the placement (named as in the config), or it has a price —
  the best objective with this student forced to that school, minus the run's objective, and which
  terms change. The forced program is the run's own program with one more bound, solved by CP-SAT
  from the run's assignment, with the run's proven bound as its floor; when the time limit stops it
  before a proof, the price is an upper bound and says so. When the forced program is infeasible,
  the hard rules that forbid it are found as in infeasibility.py.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from seatplan.models.assignment import Assignment
from seatplan.models.errors import InputError, Problem
from seatplan.models.evaluate import Evaluation, evaluate
from seatplan.models.formulation import Model, build_model
from seatplan.models.rules.clusters import outside_cluster
from seatplan.models.school_order import Occupancy, occupancy, order_key
from seatplan.solver.backends import SolveSettings, cpsat
from seatplan.solver.explain.cutoffs import Cutoffs, cutoffs, fills_in_order
from seatplan.solver.explain.infeasibility import find_conflict, seat_variable
from seatplan.solver.mechanisms import Rounds, immediate_acceptance, top_trading_cycles
from seatplan.solver.runfolder import RunFolder
from seatplan.solver.status import Status
from seatplan.solver.warmstart import complete_free_variables

#: Seconds for each forced re-solve when the caller does not say.
COST_TIME_LIMIT = 30.0


def ordinal(number: int) -> str:
    suffix = "th" if 10 <= number % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(number % 10, "th")
    return f"{number}{suffix}"


@dataclass
class Reason:
    """Why the student is not at one school it listed above its placement."""

    school: int
    position: int
    kind: str  # "cutoff" | "cost" | "rule"
    text: str
    cutoff: dict[str, Any] | None = None
    student_key: dict[str, Any] | None = None
    cost: float | None = None
    cost_is_bound: bool = False
    terms: dict[str, float] = field(default_factory=dict)
    rule: str | None = None

    def to_json(self, run: RunFolder) -> dict[str, Any]:
        return {
            "school_id": str(run.instance.school_ids[self.school]),
            "position": self.position,
            "kind": self.kind,
            "cutoff": self.cutoff,
            "student_key": self.student_key,
            "cost": self.cost,
            "cost_is_bound": self.cost_is_bound,
            "terms": self.terms,
            "rule": self.rule,
            "text": self.text,
        }


@dataclass
class Explanation:
    """A student's placement and one reason per school it listed above it (every listed school
    when it has no school), in list order."""

    run: RunFolder
    student: int
    reasons: list[Reason]

    @property
    def school(self) -> int:
        return int(self.run.school[self.student])

    @property
    def position(self) -> int | None:
        position = int(self.run.position[self.student])
        return position if self.school >= 0 and position > 0 else None

    def headline(self) -> str:
        run, sid = self.run, self.run.instance.student_ids[self.student]
        if self.school < 0:
            listed = len(self.reasons)
            if not listed:
                return f"{sid} has no school: the family listed none."
            if listed == 1:
                return f"{sid} has no school: the one school listed could not take them."
            return f"{sid} has no school: none of the {listed} schools listed could take them."
        where = school_name(run, self.school)
        if run.through_compact[self.student]:
            return f"{sid} is placed at {where} through the family's parent compact."
        if self.position is None:
            return f"{sid} is placed at {where}, a school the family did not list."
        choice = "first choice" if self.position == 1 else f"{ordinal(self.position)} choice"
        return f"{sid} is placed at {where}, the family's {choice}."

    def to_json(self) -> dict[str, Any]:
        return {
            "student_id": str(self.run.instance.student_ids[self.student]),
            "school_id": None if self.school < 0 else str(self.run.instance.school_ids[self.school]),
            "position": self.position,
            "reasons": [reason.to_json(self.run) for reason in self.reasons],
        }

    def text(self) -> str:
        lines = [self.headline()]
        if self.reasons and self.school >= 0:
            lines.append("Why not a school listed higher:")
        lines += [f"  {ordinal(r.position)} choice, {school_name(self.run, r.school)}: {r.text}" for r in self.reasons]
        how = HOW.get(self.run.config.mechanism or "")
        if how is not None and any(r.rule == mechanism_rule(self.run) for r in self.reasons):
            lines.append(how)
        return "\n".join(lines)


def school_name(run: RunFolder, school: int) -> str:
    instance = run.instance
    sid, name = str(instance.school_ids[school]), str(instance.school_names[school])
    return sid if not name or name == sid else f"{name} ({sid})"


def student_index(run: RunFolder, student_id: str) -> int:
    found = np.flatnonzero(run.instance.student_ids == student_id)
    if not len(found):
        raise InputError(
            [Problem(f"{run.where}/assignment.csv", None, f"expected a student_id of the run, got {student_id!r}")]
        )
    return int(found[0])


def listed_above(run: RunFolder, student: int) -> list[tuple[int, int]]:
    """(school, position) of every school the student listed above its placement (all of them when
    it has no school, or when it is placed through its compact at a school it did not list) —
    the schools it is not eligible at too, where they stood in its list."""
    instance = run.instance
    start, end = int(instance.pref_start[student]), int(instance.pref_start[student + 1])
    schools = instance.pref_school[start:end].tolist()
    positions = instance.pref_rank[start:end].tolist() if len(instance.pref_rank) else list(range(1, end - start + 1))
    mine = instance.ineligible_student == student
    listed = [*zip(schools, positions, strict=True)]
    listed += [
        (int(j), int(p))
        for j, p in zip(instance.ineligible_school[mine], instance.ineligible_position[mine], strict=True)
        if p > 0
    ]
    own = int(run.position[student]) if run.school[student] >= 0 else 0
    if run.school[student] >= 0 and own == 0 and not run.through_compact[student]:
        return []
    return [(int(j), int(p)) for j, p in sorted(listed, key=lambda pair: pair[1]) if own == 0 or p < own]


def _place(instance: Any, student: int, school: int, total: bool = True) -> str:
    """A student's place in a school's lottery as families read it: "812 of 3,000"."""
    place, out_of = instance.lottery_standing(student, school)
    return f"{place:,} of {out_of:,}" if total else f"{place:,}"


#: The mechanisms whose reasons are their rounds.
ROUND_MECHANISMS: dict[str, Callable[..., Assignment]] = {
    "immediate_acceptance": immediate_acceptance,
    "top_trading_cycles": top_trading_cycles,
}
#: How each of them works, said once under a family's reasons.
HOW = {
    "immediate_acceptance": (
        "How immediate acceptance works: in round 1 each school gives its seats, by priority group and then "
        "lottery, to the students who ranked it 1st; in round 2 the seats left go the same way to the "
        "students still unplaced who ranked it 2nd; and so on. Seats once given are never taken back."
    ),
    "top_trading_cycles": (
        "How top trading cycles works: at each step every unplaced student names the best school on their "
        "list that still has seats, and every school names the unplaced student it ranks highest among "
        "those who listed it. When these choices close a loop (A names school X, X names B, B names school "
        "Y, Y names A), each student in the loop gets the school they named. Full schools drop out."
    ),
}


def mechanism_rule(run: RunFolder) -> str:
    """A round reason's `rule`: the run's mechanism decided (`mechanism: immediate_acceptance`)."""
    return f"mechanism: {run.config.mechanism}"


def _ranked(sid: str, position: int, applied: int) -> str:
    """The place the family gave a school, and, when a school above it is one the student may not
    attend (which immediate acceptance skips), its place among the others: the round it applied."""
    if position == applied:
        return ordinal(position)
    return f"{ordinal(position)} ({ordinal(applied)} among the schools where {sid} is eligible)"


def _list_index(instance: Any, student: int, school: int) -> int:
    """Where `school` is in the student's list as the mechanisms walk it (0 for the first)."""
    start, end = int(instance.pref_start[student]), int(instance.pref_start[student + 1])
    return int(np.flatnonzero(instance.pref_school[start:end] == school)[0])


def _cell(instance: Any, student: int, school: int) -> int:
    return school * instance.capacity.shape[1] + int(instance.grade[student])


def _blocks_of(
    occupied: Occupancy, instance: Any, student: int, school: int
) -> list[tuple[str | None, int, bool, int]]:
    """The school's blocks for the student's grade, in precedence order: (reserve name or None for
    the open seats, seats, whether the student is a member, the last student seated there)."""
    cell = _cell(instance, student, school)
    out = []
    for step in range(occupied.blocks.capacity.shape[1]):
        reserve = int(occupied.blocks.reserve[school, step])
        member = reserve < 0 or bool(instance.is_member(reserve, np.array([student]), np.array([school]))[0])
        name = None if reserve < 0 else instance.reserve_names[reserve]
        out.append((name, int(occupied.blocks.capacity[cell, step]), member, int(occupied.last[cell, step])))
    return out


def _ranks_ahead(instance: Any, config: Any, student: int, other: int, school: int) -> bool:
    """Whether the school's order puts `student` ahead of `other`."""
    keys = order_key(instance, config, np.array([student, other]), np.array([school, school]))
    return bool(keys[0] < keys[1])


class Explainer:
    """Explains the students of one run; builds what the reasons share (cutoffs, the program) once."""

    def __init__(self, run: RunFolder, costs: bool = True, time_limit: float = COST_TIME_LIMIT) -> None:
        self.run = run
        self.costs = costs
        self.time_limit = time_limit
        self.in_order = fills_in_order(run)
        self.cutoffs: Cutoffs = cutoffs(run)
        self._forcing: _Forcing | None = None
        instance = run.instance
        self.ineligible = set(
            zip(instance.ineligible_student.tolist(), instance.ineligible_school.tolist(), strict=True)
        )
        self._occupancy: Occupancy | None = None
        self._rounds: Rounds | None = None
        if run.config.mechanism in ROUND_MECHANISMS:
            self.rounds()  # refuses a run whose placements are not its mechanism's, whoever is asked about

    def explain(self, student: int, costs: bool | None = None) -> Explanation:
        with_costs = self.costs if costs is None else costs
        reasons = [
            self.reason(student, school, position, with_costs) for school, position in listed_above(self.run, student)
        ]
        return Explanation(self.run, student, reasons)

    def reason(self, student: int, school: int, position: int, with_costs: bool) -> Reason:
        run, instance = self.run, self.run.instance
        sid = str(instance.student_ids[student])
        grade = int(instance.grade[student])
        if (student, school) in self.ineligible:
            return Reason(
                school,
                position,
                "rule",
                f"{sid} is not eligible there (priorities.csv says eligible: false), so no plan may place {sid} there.",
                rule="priorities.csv eligible",
            )
        if instance.capacity[school, grade] == 0:
            where = f" in grade {instance.grades[grade]}" if instance.has_grades else ""
            rule = "seats.csv" if instance.has_grades else "schools.csv capacity"
            return Reason(school, position, "rule", f"it has no seats{where} ({rule}).", rule=rule)
        if run.through_compact[student]:
            compact = instance.compact_ids[instance.compact_of_student[student]]
            return Reason(
                school,
                position,
                "rule",
                f"{sid} is placed through the family's parent compact {compact}, which places all its "
                f"families together at {school_name(run, int(run.school[student]))} (compacts.csv).",
                rule=f"compacts.csv compact {compact}",
            )
        if self.in_order:
            return self._cutoff_reason(student, school, position)
        if run.config.mechanism in ROUND_MECHANISMS:
            return self._round_reason(student, school, position)
        config = run.config
        if config.clusters.mode == "hard" and outside_cluster(instance, np.array([student]), np.array([school]))[0]:
            home = instance.clusters[instance.home_cluster[student]]
            there = instance.clusters[instance.school_cluster[school]]
            rule = f"{config.display_name}:{config.line('clusters', 'mode')} clusters.mode"
            return Reason(
                school,
                position,
                "rule",
                f"clusters are hard ({rule}): {sid} lives in cluster {home} and the school is in {there}.",
                rule=rule,
            )
        if not with_costs:
            return Reason(
                school,
                position,
                "cost",
                f"not computed here: ask for {sid} alone (seatplan explain RUN {sid}) or with --students.",
            )
        return self._forcing_reason(student, school, position)

    def _cutoff_reason(self, student: int, school: int, position: int) -> Reason:
        instance, table = self.run.instance, self.cutoffs
        if instance.has_reserves:
            return self._reserve_reason(student, school, position)
        grade = int(instance.grade[student])
        mine = table.key(student, school)
        cutoff = table.cutoff(school, grade)
        if cutoff is not None and not table.outranks_cutoff(student, school):
            last = int(table.last[school, grade])
            return self.cutoff_reason(student, school, position, cutoff, mine, last)
        return self._no_cutoff_reason(student, school, position, mine)

    def cutoff_reason(
        self, student: int, school: int, position: int, cutoff: dict[str, Any], mine: dict[str, Any], last: int
    ) -> Reason:
        """The school was full with students it ranks above `student`: its cutoff (set by the student
        `last`, the last one it admitted) against the student's key."""
        instance = self.run.instance
        sid = str(instance.student_ids[student])
        grade = int(instance.grade[student])
        in_grade = f" in grade {instance.grades[grade]}" if instance.has_grades else ""
        return Reason(
            school,
            position,
            "cutoff",
            f"it was full{in_grade}. The lowest-ranked student it admitted is in priority group "
            f"{cutoff['priority']} with lottery place {_place(instance, last, school)} "
            f"(lottery number {cutoff['lottery']}); {sid} is in priority group {mine['priority']} there with "
            f"lottery place {_place(instance, student, school, total=False)} (lottery number {mine['lottery']}), "
            f"so every student it admitted ranked ahead. A school takes higher priority groups first, then "
            f"lower lottery numbers.",
            cutoff=cutoff,
            student_key=mine,
        )

    def _reserve_reason(self, student: int, school: int, position: int) -> Reason:
        """With reserves: each block of seats the student could sit in was full with students that
        block ranks ahead (see models/school_order.py)."""
        run, instance, table = self.run, self.run.instance, self.cutoffs
        if self._occupancy is None:
            self._occupancy = occupancy(instance, run.config, run.school, run.through_compact)
        sid = str(instance.student_ids[student])
        mine = table.key(student, school)
        parts = []
        for step, (name, seats, member, last) in enumerate(_blocks_of(self._occupancy, instance, student, school)):
            if seats <= 0:
                continue
            what = (
                f"its {seats:,} open seat{'s' if seats != 1 else ''}"
                if name is None
                else (f"its {seats:,} seat{'s' if seats != 1 else ''} reserved for {name}")
            )
            if name is not None and instance.reserve_hold and not member:
                parts.append(f"{what} are held for {name} students, and {sid} is not one")
                continue
            if last < 0 or int(self._occupancy.count[_cell(instance, student, school), step]) < seats:
                return self._no_cutoff_reason(student, school, position, mine)
            last_member = name is None or bool(
                instance.is_member(instance.reserve_names.index(name), np.array([last]), np.array([school]))[0]
            )
            if name is not None and last_member and not member:
                parts.append(f"{what} went to {name} students, who come first there, and {sid} is not one")
                continue
            ahead = _ranks_ahead(instance, run.config, student, last, school)
            if (member and not last_member) or (member == last_member and ahead):
                return self._no_cutoff_reason(student, school, position, mine)
            key = table.key(last, school)
            parts.append(
                f"{what} went to students it ranks ahead of {sid} (the last: priority group {key['priority']}, "
                f"lottery place {_place(instance, last, school)})"
            )
        first = (
            "its reserved seats first, then its open seats"
            if instance.reserve_first[school]
            else ("its open seats first, then its reserved seats")
        )
        return Reason(
            school,
            position,
            "cutoff",
            f"it was full: {'; '.join(parts)}. {sid} is in priority group {mine['priority']} there with lottery "
            f"place {_place(instance, student, school, total=False)}. The school fills {first}.",
            student_key=mine,
        )

    def rounds(self) -> Rounds:
        """The run's mechanism again, round by round, on the run's data; it must give the run's
        placements (else the reasons would be another run's)."""
        if self._rounds is None:
            run, instance = self.run, self.run.instance
            trace = Rounds.empty(instance.n_students, instance.capacity.size)
            again = ROUND_MECHANISMS[run.config.mechanism](instance, run.config, trace=trace)
            differ = int((again.school != run.school).sum())
            if differ:
                raise InputError(
                    [
                        Problem(
                            f"{run.where}/assignment.csv",
                            None,
                            f"expected the placements {run.config.mechanism} gives on the run's data files, got "
                            f"{differ:,} students placed otherwise: its rounds cannot explain them",
                        )
                    ]
                )
            self._rounds = trace
        return self._rounds

    def _round_reason(self, student: int, school: int, position: int) -> Reason:
        """Immediate acceptance and top trading cycles, by their rounds (solver/mechanisms.py)."""
        run, instance, trace = self.run, self.run.instance, self.rounds()
        sid = str(instance.student_ids[student])
        cell = _cell(instance, student, school)
        full, placed_in = int(trace.full[cell]), int(trace.placed[student])
        where = f" in grade {instance.grades[int(instance.grade[student])]}" if instance.has_grades else ""
        if run.config.mechanism == "top_trading_cycles":
            if full <= 0 or (placed_in and full >= placed_in):
                return self._round_defect(student, school, position)
            after = (
                f"{sid} was placed at step {placed_in}, at the best school on the family's list that still had "
                f"a seat at that step"
                if placed_in
                else f"{sid} was left without a school once no school on the family's list had a seat"
            )
            return Reason(
                school,
                position,
                "rule",
                f"its last seat{where} was given out at step {full}; {after}. (A later step does not by "
                f"itself mean a lower priority.)",
                rule=mechanism_rule(run),
            )
        applied = _list_index(instance, student, school) + 1  # round k: the k-th school of the list
        if full <= 0 or full > applied:
            return self._round_defect(student, school, position)
        if full < applied:
            return Reason(
                school,
                position,
                "rule",
                f"all its seats{where} went by round {full} to students who ranked it higher on their lists "
                f"than {sid} did. {sid} ranked it {_ranked(sid, position, applied)}, so could only apply there in "
                f"round {applied}, when no seat was left. Priority group and lottery did not come into it.",
                rule=mechanism_rule(run),
            )
        last = int(trace.last[cell])
        cutoff, mine = self.cutoffs.key(last, school), self.cutoffs.key(student, school)
        return Reason(
            school,
            position,
            "rule",
            f"it filled up{where} in round {applied}, the round {sid} applied there. The lowest-ranked student it "
            f"took in that round is in priority group {cutoff['priority']} with lottery place "
            f"{_place(instance, last, school)}; {sid} is in priority group {mine['priority']} there with lottery "
            f"place {_place(instance, student, school, total=False)}, so ranked behind. A school takes higher "
            f"priority groups first, then lower lottery numbers.",
            cutoff=cutoff,
            student_key=mine,
            rule=mechanism_rule(run),
        )

    def _round_defect(self, student: int, school: int, position: int) -> Reason:
        return Reason(
            school,
            position,
            "rule",
            f"no reason in the rounds of {self.run.config.mechanism}: the school still had a seat when "
            f"{self.run.instance.student_ids[student]} came to it. Check the run with seatplan audit.",
            rule=f"mechanism: {self.run.config.mechanism} (no reason found)",
        )

    def _no_cutoff_reason(self, student: int, school: int, position: int, mine: dict[str, Any]) -> Reason:
        instance, table = self.run.instance, self.cutoffs
        grade = int(instance.grade[student])
        in_grade = f" in grade {instance.grades[grade]}" if instance.has_grades else ""
        # Not full, or full of students it ranks lower: justified envy, which this run should not have.
        free = int(table.seats[school, grade] - table.placed[school, grade])
        why = (
            f"it has {free} free seat{'s' if free != 1 else ''}{in_grade}"
            if free > 0
            else "it admitted a student it ranks lower"
        )
        return Reason(
            school,
            position,
            "rule",
            f"no reason in the school's order: {why}. This is justified envy (a blocking pair), which a "
            f"run that fills schools in their order should not have — check the run with seatplan audit.",
            student_key=mine,
            rule="stability",
        )

    def _forcing_reason(self, student: int, school: int, position: int) -> Reason:
        if self._forcing is None:
            self._forcing = _Forcing(self.run, self.time_limit)
        return self._forcing.reason(student, school, position)


@dataclass
class _Forced:
    status: Status
    evaluation: Evaluation | None


class _Forcing:
    """The run's program, and its assignment as the start of every forced re-solve."""

    def __init__(self, run: RunFolder, time_limit: float) -> None:
        if run.config.is_mechanism:
            raise InputError(
                [
                    Problem(
                        f"{run.where}/metrics.json",
                        None,
                        "expected an optimised run for costs, got one "
                        f"made by a mechanism ({run.config.mechanism}) "
                        + (
                            "(its reasons are cutoffs; it has no objective to re-solve)"
                            if run.config.is_stable_mechanism
                            else "(its reasons are its rounds; it has no objective to re-solve)"
                        ),
                    )
                ]
            )
        self.run = run
        self.time_limit = time_limit
        instance, config = run.instance, run.config
        self.model: Model = build_model(instance, config)
        self.assignment = Assignment(run.school.copy(), run.through_compact.copy())
        self.evaluation = evaluate(instance, config, self.assignment)
        self.start = self.model.encode(self.assignment)
        if self.start is not None:
            complete_free_variables(self.model, self.start)
        bound = run.metrics.get("bound")
        self.floor = None if bound is None else math.ceil(round(float(bound) * 100, 6) - 1e-6)
        self.proven = run.metrics.get("status") == "optimal"

    def solve(self, student: int, school: int) -> _Forced:
        var = seat_variable(self.model, self.run.instance, student, school)
        if var is None:
            return _Forced(Status.INFEASIBLE, None)
        formulation = self.model.formulation
        lower = formulation.lower.copy()
        lower[var] = 1
        hint = None
        if self.start is not None:
            hint = self.start.copy()
            seats = self.model.seats
            hint[seats.var[seats.student == student]] = 0
            hint[var] = 1
        settings = self.run.config.solver
        result = cpsat.solve(
            replace(formulation, lower=lower),
            SolveSettings(time_limit=self.time_limit, gap=0.0, workers=settings.workers, seed=settings.seed),
            hint=hint,
            objective_floor=self.floor,
        )
        if result.values is None:
            return _Forced(result.claim, None)
        values = result.values.copy()
        complete_free_variables(self.model, values)
        forced = self.model.decode(values, self.run.instance.n_students)
        return _Forced(result.claim, evaluate(self.run.instance, self.run.config, forced))

    def reason(self, student: int, school: int, position: int) -> Reason:
        run = self.run
        sid = str(run.instance.student_ids[student])
        forced = self.solve(student, school)
        if forced.status == Status.INFEASIBLE:
            conflict = find_conflict(run.config, run.instance, self.time_limit, fixed=[(student, school)])
            if conflict is None or not conflict.rules:
                return Reason(school, position, "rule", "its seats cannot take one more student.", rule="seats")
            names = "; ".join(rule.where for rule in conflict.rules)
            details = "; ".join(f"{rule.setting} — {rule.unit}" for rule in conflict.rules)
            return Reason(
                school,
                position,
                "rule",
                f"a hard rule forbids it: no plan that places {sid} there keeps {details}.",
                rule=names,
            )
        if forced.evaluation is None:
            return Reason(
                school,
                position,
                "cost",
                f"no plan placing {sid} there was found in {self.time_limit:g} s; its price is unknown.",
                cost=None,
                cost_is_bound=True,
            )
        cents = forced.evaluation.objective - self.evaluation.objective
        is_bound = forced.status != Status.OPTIMAL
        terms = {
            name: (forced.evaluation.terms[name] - self.evaluation.terms[name]) / 100
            for name in self.evaluation.terms
            if forced.evaluation.terms[name] != self.evaluation.terms[name]
        }
        return Reason(
            school,
            position,
            "cost",
            self._cost_text(student, school, cents, is_bound, terms, forced.evaluation),
            cost=cents / 100,
            cost_is_bound=is_bound,
            terms=terms,
        )

    def _cost_text(
        self, student: int, school: int, cents: int, is_bound: bool, terms: dict[str, float], forced: Evaluation
    ) -> str:
        run = self.run
        sid = str(run.instance.student_ids[student])
        changes = _changes(run, self.evaluation, forced, student)
        said = "; ".join(changes) if changes else "no other student would move"
        if cents < 0:
            return (
                f"placing {sid} there would cost {cents / 100:+.2f} — less than this plan, which was not proven "
                f"optimal ({said})."
            )
        if cents == 0:
            return (
                f"placing {sid} there costs nothing more: an equally good plan does it ({said}); the solver "
                f"picked one of several best plans."
            )
        at_most = "at most " if is_bound else ""
        note = " (an upper bound: the re-solve was stopped by its time limit)" if is_bound else ""
        proof = "" if self.proven else " This plan itself was not proven optimal."
        return (
            f"the best plan that seats {sid} there is worse by {at_most}{cents / 100:.2f} "
            f"(the plan's objective, lower is better){note}: {said}.{proof}"
        )


def _changes(run: RunFolder, before: Evaluation, after: Evaluation, student: int) -> list[str]:
    """What the forced plan changes, in words, with each term's price (objective units)."""
    instance, weights = run.instance, run.config.objective
    sid = str(instance.student_ids[student])
    delta = {name: (after.terms[name] - before.terms[name]) / 100 for name in before.terms}
    out = []
    old, new = int(before.positions[student]), int(after.positions[student])
    own = 0.0
    if new > 0 and not after.through_compact[student]:
        if old > 0 and not before.through_compact[student]:
            own = float(weights.rank * (new - old))
            out.append(
                f"{sid} would gain {old - new} step{'s' if old - new != 1 else ''}, from its {ordinal(old)} to its "
                f"{ordinal(new)} choice ({own:+.2f})"
            )
        else:
            own = float(weights.rank * (new - 1))
    others = delta.get("rank", 0.0) - own
    if others and weights.rank:
        places = abs(others) / weights.rank
        way = "down" if others > 0 else "up"
        out.append(
            f"all other students together would move {way} {places:g} step{'s' if places != 1 else ''} on "
            f"their lists, net ({others:+.2f})"
        )
    unplaced = int(np.count_nonzero(after.outcome.school < 0)) - int(np.count_nonzero(before.outcome.school < 0))
    if unplaced:
        more = "more" if unplaced > 0 else "fewer"
        out.append(
            f"{abs(unplaced)} {more} student{'s' if abs(unplaced) != 1 else ''} without a school "
            f"({delta.get('unassigned', 0):+.2f})"
        )
    lost = np.flatnonzero(before.honored & ~after.honored)
    won = np.flatnonzero(~before.honored & after.honored)
    if len(lost):
        out.append(f"compact {', '.join(instance.compact_ids[lost].tolist())} would not be honored")
    if len(won):
        out.append(f"compact {', '.join(instance.compact_ids[won].tolist())} would be honored")
    if len(lost) or len(won):
        out[-1] += f" ({delta.get('broken_compact', 0):+.2f})"
    counted = {
        "outside_cluster": (
            "student outside their home cluster",
            "students outside their home cluster",
            weights.outside_cluster,
        ),
        "blocking_pairs": ("blocking pair", "blocking pairs", run.config.stability.weight),
        "split_families": ("family split", "families split", run.config.families.weight),
    }
    for name, change in delta.items():
        if not change or name in ("rank", "unassigned", "broken_compact"):
            continue
        if name in counted and counted[name][2]:
            one, many, weight = counted[name]
            count = change / weight
            more = "more" if count > 0 else "fewer"
            out.append(f"{abs(count):g} {more} {one if abs(count) == 1 else many} ({change:+.2f})")
        elif name == "diversity":
            out.append(
                f"the diversity bands would be missed by more ({change:+.2f})"
                if change > 0
                else f"the diversity bands would be met better ({change:+.2f})"
            )
        else:
            out.append(f"{name} {change:+.2f}")
    return out


def _outcomes(evaluation: Evaluation) -> np.ndarray:
    """Each student's outcome, smaller is better: its position; 0 through a compact; unplaced last."""
    placed = evaluation.outcome.placed
    positions = evaluation.positions
    outcome = np.where(placed, positions, 10**9)
    return np.where(placed & (positions == 0), np.where(evaluation.through_compact, 0, 10**9 - 1), outcome)
