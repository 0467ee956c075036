"""School choice, re-derived: blocking pairs (justified envy), split families, deferred acceptance.

Each school ranks students by (priority at that school descending, lottery ascending), a
strict order: priority is priorities.csv's (0 when not listed) plus clusters.feeder_priority
when the student's current_school feeds the school; the lottery is students.csv's, else
int(sha256(f"{seed}:{student_id}").hexdigest()[:16], 16) with seed = solver.seed.

A blocking pair (s, j): s lists j above its placement (or is unplaced and lists j), s is not
at j, and j has seats in s's grade and either a free one (placed of that grade < seats) or
holds a student t of s's grade, not placed through an honored compact, whom j ranks below s.
A student placed through an honored compact is never s and never t; its seat is taken.
"""

from __future__ import annotations

import heapq
from collections import Counter
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from seatplan.auditor.config import AuditConfig
from seatplan.auditor.district import District
from seatplan.auditor.report import RuleResult
from seatplan.auditor.rules import NOT_APPLIED, Placements, not_applied


@dataclass(frozen=True)
class BlockingPair:
    """Student `student` and school `school` would both rather be matched to each other."""

    student: str
    school: str
    position: int  # of `school` in the student's list
    placed_at: str | None
    placed_position: int | None  # None when unplaced, or placed at a school it did not list
    grade: str | None
    seats: int
    holds: int
    displaced: str | None  # the lowest-ranked student it holds; None when a seat is free
    priority: int
    displaced_priority: int | None
    lottery: str
    displaced_lottery: str | None

    @property
    def reason(self) -> str:
        return "free_seat" if self.displaced is None else "ranked_below"

    def message(self) -> str:
        if self.placed_at is None:
            where = f"student {self.student} (unplaced) lists {self.school} at position {self.position}"
        elif self.placed_position is None:
            where = (
                f"student {self.student} (placed at {self.placed_at}, not on its list) lists "
                f"{self.school} at position {self.position}"
            )
        else:
            where = (
                f"student {self.student} prefers {self.school} (position {self.position}, placed "
                f"at {self.placed_at} position {self.placed_position})"
            )
        grade = f" in grade {self.grade}" if self.grade is not None else ""
        if self.displaced is None:
            return f"{where}, which has a free seat{grade} (holds {self.holds} of {self.seats})"
        if self.displaced_priority != self.priority:
            why = f"priority {self.displaced_priority} vs {self.priority}"
        else:
            why = f"both priority {self.priority}; lottery {self.displaced_lottery} vs {self.lottery}"
        return f"{where}, which holds {self.displaced}{grade} ranked below {self.student} ({why})"

    def to_json(self) -> dict[str, Any]:
        return {
            "student_id": self.student,
            "school_id": self.school,
            "position": self.position,
            "placed_at": self.placed_at,
            "placed_position": self.placed_position,
            "grade": self.grade,
            "reason": self.reason,
            "seats": self.seats,
            "holds": self.holds,
            "displaced": self.displaced,
            "priority": self.priority,
            "displaced_priority": self.displaced_priority,
            "lottery": self.lottery,
            "displaced_lottery": self.displaced_lottery,
        }


def _grade(district: District, student: str) -> str:
    return district.grade[student] if district.grade is not None else ""


def _seats(district: District, school: str, grade: str) -> int:
    if district.grade is not None:
        return district.seats.get((school, grade), 0)
    return district.schools[school].capacity


def blocking_pairs(district: District, placements: Placements) -> list[BlockingPair]:
    """Every blocking pair, in students.csv order and then list order.

    One pass: per school and grade, how many it holds and the lowest-ranked student it
    could give up; then each student's schools above its placement against that.
    """
    holds: Counter[tuple[str, str]] = Counter()
    worst: dict[tuple[str, str], tuple[tuple[int, int | Decimal], str]] = {}
    for student, school in placements.school.items():
        key = (school, _grade(district, student))
        holds[key] += 1
        if student in placements.through_compact:
            continue  # a compact seat is set aside: nobody can take it
        order = district.order_key(student, school)
        if key not in worst or order > worst[key][0]:
            worst[key] = (order, student)
    pairs: list[BlockingPair] = []
    with_grades = district.grade is not None
    for student in district.students:
        if student in placements.through_compact:
            continue
        listed = district.lists.get(student, [])
        if not listed:
            continue
        placed = placements.placed(student)
        placed_position = district.position(student, placed) if placed is not None else None
        # Above the placement; an unlisted placement (not through a compact) is below them all.
        above = listed[: placed_position - 1] if placed_position is not None else listed
        grade = _grade(district, student)
        for position, school in enumerate(above, start=1):
            if school == placed:
                continue
            seats = _seats(district, school, grade)
            if seats <= 0:
                continue  # a school without seats in the grade never blocks
            held = holds[(school, grade)]
            displaced: str | None = None
            if held >= seats:
                lowest = worst.get((school, grade))
                if lowest is None or lowest[0] <= district.order_key(student, school):
                    continue
                displaced = lowest[1]
            pairs.append(
                BlockingPair(
                    student=student,
                    school=school,
                    position=position,
                    placed_at=placed,
                    placed_position=placed_position,
                    grade=grade if with_grades else None,
                    seats=seats,
                    holds=held,
                    displaced=displaced,
                    priority=district.priority(student, school),
                    displaced_priority=(district.priority(displaced, school) if displaced is not None else None),
                    lottery=district.lottery_text[student],
                    displaced_lottery=(district.lottery_text[displaced] if displaced is not None else None),
                )
            )
    return pairs


@dataclass(frozen=True)
class SplitFamily:
    family: str
    members: list[tuple[str, str | None]]  # (student, school or None when unplaced)

    def message(self) -> str:
        parts = [f"{s} at {school}" if school else f"{s} unplaced" for s, school in self.members]
        return f"family {self.family} split: {', '.join(parts)}"

    def to_json(self) -> dict[str, Any]:
        return {
            "family_id": self.family,
            "members": [{"student_id": s, "school_id": school} for s, school in self.members],
        }


def split_families(district: District, placements: Placements) -> list[SplitFamily]:
    """Families whose members are neither all at one school nor all unplaced.

    A family is the students sharing a family id (a student without one has its student_id,
    as for compacts.csv); a family of one is never split.
    """
    found: list[SplitFamily] = []
    for family, members in district.family_members.items():
        if len(members) < 2:
            continue
        where = [(s, placements.placed(s)) for s in members]
        if len({school for _s, school in where}) > 1:
            found.append(SplitFamily(family, where))
    return found


def deferred_acceptance(district: District) -> dict[str, str]:
    """Student-proposing deferred acceptance: student -> school (unplaced students absent).

    Capacities per school, or per school and grade; each school keeps its best proposers
    by (priority, lottery). The result is the student-optimal stable matching.
    """
    with_grades = district.grade is not None
    # Min-heaps whose top is the school's worst held student: (priority, −lottery, id).
    held: dict[tuple[str, str], list[tuple[int, int | Decimal, str]]] = {}
    next_choice = dict.fromkeys(district.students, 0)
    waiting = list(reversed(district.students))
    while waiting:
        student = waiting.pop()
        listed = district.lists.get(student, [])
        grade = _grade(district, student) if with_grades else ""
        while next_choice[student] < len(listed):
            school = listed[next_choice[student]]
            next_choice[student] += 1
            seats = _seats(district, school, grade)
            if seats <= 0:
                continue
            heap = held.setdefault((school, grade), [])
            entry = (district.priority(student, school), -district.lottery[student], student)
            heapq.heappush(heap, entry)
            if len(heap) <= seats:
                break
            rejected = heapq.heappop(heap)[2]
            if rejected != student:
                waiting.append(rejected)
                break
    return {student: school for (school, _grade_key), heap in held.items() for _p, _l, student in heap}


def school_proposing(district: District) -> dict[str, str]:
    """Schools propose: every school (and grade) offers its free seats to the applicants it ranks
    highest that it has not asked yet; each student keeps the best offer by its own list and turns
    down the rest; it ends when no school has an applicant left to ask. The result is the
    school-optimal stable matching (written here apart from the solver's vectorised one)."""
    with_grades = district.grade is not None
    applicants: dict[tuple[str, str], list[str]] = {}
    for student in district.students:
        grade = _grade(district, student) if with_grades else ""
        for school in district.lists.get(student, []):
            applicants.setdefault((school, grade), []).append(student)
    for (school, _grade_key), queue in applicants.items():
        keys = {student: district.order_key(student, school) for student in queue}
        queue.sort(key=keys.__getitem__)
    asked = dict.fromkeys(applicants, 0)
    holding: dict[tuple[str, str], set[str]] = {cell: set() for cell in applicants}
    placed: dict[str, tuple[str, str]] = {}
    changed = True
    while changed:
        changed = False
        for cell, queue in applicants.items():
            seats = _seats(district, cell[0], cell[1])
            while len(holding[cell]) < seats and asked[cell] < len(queue):
                student = queue[asked[cell]]
                asked[cell] += 1
                changed = True
                current = placed.get(student)
                listed = district.lists[student]
                if current is None or listed.index(cell[0]) < listed.index(current[0]):
                    if current is not None:
                        holding[current].discard(student)
                    placed[student] = cell
                    holding[cell].add(student)
    return {student: cell[0] for student, cell in placed.items()}


def school_proposing_outcome(district: District, placements: Placements) -> RuleResult:
    """A school-proposing run places every student where the auditor's own schools-proposing does."""
    return _mechanism_outcome(
        "school_proposing",
        "schools proposing",
        school_proposing(district),
        "the school-optimal stable matching",
        district,
        placements,
    )


# --- the rules ------------------------------------------------------------------------------


def _term(count: int, weight: int, noun: str) -> str:
    return f"{count} {noun} × weight {weight} = {count * weight}.00 in the objective"


def stability(config: AuditConfig, pairs: list[BlockingPair]) -> RuleResult:
    """Hard mode (and every deferred acceptance run): no blocking pair. Otherwise counted."""
    result = RuleResult("stability", noun=("blocking pair", "blocking pairs"))
    result.details["blocking_pair_count"] = len(pairs)
    result.details["blocking_pairs"] = [pair.to_json() for pair in pairs]
    mode = config.stability_mode
    judged = mode == "hard" or config.stable_mechanism
    if config.stable_mechanism:
        result.info.append(
            f"mechanism {config.mechanism} (stability.mode {mode}): its assignment is stable, "
            "so no blocking pair may exist"
        )
    if judged:
        for pair in pairs:
            result.fail(pair.message(), 1, **pair.to_json())
        if not pairs:
            result.info.append("0 blocking pairs")
        return result
    noun = "blocking pair" if len(pairs) == 1 else "blocking pairs"
    if mode == "soft":
        result.info.append(f"mode soft: {_term(len(pairs), config.stability_weight, noun)}")
    else:
        result.info.append(f"mode off: not a rule; {len(pairs)} {noun} (listed in --json)")
    return result


def families(config: AuditConfig, split: list[SplitFamily]) -> RuleResult:
    """Hard mode: every family at one school or all unplaced. Otherwise counted."""
    result = RuleResult("families", noun=("split family", "split families"))
    result.details["split_family_count"] = len(split)
    result.details["split_families"] = [family.to_json() for family in split]
    mode = config.families_mode
    noun = "split family" if len(split) == 1 else "split families"
    if mode == "hard":
        for family in split:
            result.fail(
                family.message(),
                1,
                family_id=family.family,
                members={s: school for s, school in family.members},
            )
        if config.deferred_acceptance:
            return not_applied(result)
        return result
    if mode == "soft":
        result.info.append(f"together soft: {_term(len(split), config.families_weight, noun)}")
    else:
        result.info.append(f"together off: not a rule; {len(split)} {noun}")
    return result


def deferred_acceptance_outcome(district: District, placements: Placements) -> RuleResult:
    """A deferred acceptance run places every student where the auditor's own DA does."""
    return _mechanism_outcome(
        "deferred_acceptance",
        "deferred acceptance",
        deferred_acceptance(district),
        "the student-proposing deferred acceptance outcome",
        district,
        placements,
    )


def _mechanism_outcome(
    rule: str, words: str, expected: dict[str, str], outcome: str, district: District, placements: Placements
) -> RuleResult:
    """Every student placed where the auditor's own run of the mechanism (`expected`) places it."""
    result = RuleResult(rule, noun=("student placed differently", "students placed differently"))
    for student in district.students:
        mine, theirs = expected.get(student), placements.placed(student)
        if mine != theirs:
            result.fail(
                f"student {student} is {'at ' + theirs if theirs else 'unplaced'}; {words} "
                f"{'places it at ' + mine if mine else 'leaves it unplaced'}",
                1,
                student_id=student,
                school_id=theirs,
                expected=mine,
            )
    if result.passed:
        result.info.append(f"the assignment is {outcome} ({len(expected)} placed)")
    return result


__all__ = [
    "NOT_APPLIED",
    "BlockingPair",
    "SplitFamily",
    "blocking_pairs",
    "deferred_acceptance",
    "deferred_acceptance_outcome",
    "families",
    "school_proposing",
    "school_proposing_outcome",
    "split_families",
    "stability",
]
