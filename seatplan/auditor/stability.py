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

import bisect
from collections import Counter
from dataclasses import dataclass, replace
from typing import Any

from seatplan.auditor.config import AuditConfig
from seatplan.auditor.district import District
from seatplan.auditor.report import RuleResult
from seatplan.auditor.reserves import OPEN, Cell, Slots, choose, seat_count
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
    # At a cell with reserves: the slot it would take (a reserve, or "open"); None elsewhere.
    slot: str | None = None
    # The displaced student ranks above it: it would take the seat as a member of this reserve.
    over_as_member: bool = False

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
        if self.slot is not None:
            return self._reserve_message(where, grade)
        if self.displaced is None:
            return f"{where}, which has a free seat{grade} (holds {self.holds} of {self.seats})"
        return f"{where}, which holds {self.displaced}{grade} ranked below {self.student} ({self._why()})"

    def _why(self) -> str:
        if self.displaced_priority != self.priority:
            why = f"priority {self.displaced_priority} vs {self.priority}"
        else:
            why = f"both priority {self.priority}; lottery {self.displaced_lottery} vs {self.lottery}"
        return why

    def _reserve_message(self, where: str, grade: str) -> str:
        """At a cell with reserves: the school's choice would take the student, in this slot."""
        slot = "an open seat" if self.slot == "open" else f"a seat of reserve {self.slot}"
        if self.displaced is None:
            return f"{where}, whose choice would give it {slot}{grade} (holds {self.holds} of {self.seats})"
        why = f"it is a member of reserve {self.slot}" if self.over_as_member else self._why()
        return f"{where}, whose choice would give it {slot}{grade} over {self.displaced} ({why})"

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
        } | ({"slot": self.slot} if self.slot is not None else {})


def grade_of(district: District, student: str) -> str:
    """The student's grade ("" when students have none)."""
    return district.grade[student] if district.grade is not None else ""


def seats_of(district: District, school: str, grade: str) -> int:
    """The seats of a school in a grade."""
    return district.capacity(school, grade)


@dataclass
class _Cells:
    """What every cell (school, grade) holds: all its students, its regular ones (not through an
    honored compact) best first, and the lowest-ranked regular one."""

    holds: Counter[Cell]
    regular: dict[Cell, list[str]]
    worst: dict[Cell, tuple[tuple[Any, ...], str]]
    placed: dict[Cell, list[str]]  # every student at the cell, in placement order


def cells_of(district: District, placements: Placements) -> _Cells:
    """Every cell's students, counted once for all the pairs (and the reserves rule)."""
    holds: Counter[Cell] = Counter()
    regular: dict[Cell, list[str]] = {}
    worst: dict[Cell, tuple[tuple[Any, ...], str]] = {}
    placed: dict[Cell, list[str]] = {}
    for student, school in placements.school.items():
        key = (school, grade_of(district, student))
        holds[key] += 1
        placed.setdefault(key, []).append(student)
        if student in placements.through_compact:
            continue  # a compact seat is set aside: nobody can take it
        regular.setdefault(key, []).append(student)
        order = district.order_key(student, school)
        if key not in worst or order > worst[key][0]:
            worst[key] = (order, student)
    for (school, _g), students in regular.items():
        keys = {student: district.order_key(student, school) for student in students}
        students.sort(key=keys.__getitem__)
    return _Cells(holds, regular, worst, placed)


def blocking_pairs(district: District, placements: Placements) -> list[BlockingPair]:
    """Every blocking pair, in students.csv order and then list order.

    One pass: per school and grade, how many it holds and the lowest-ranked student it
    could give up (or, at a cell with reserves, whether its choice would take the student);
    then each student's eligible schools above its placement against that.
    """
    cells = cells_of(district, placements)
    judge = ReserveJudge(district, cells.regular, cells.holds) if district.reserves is not None else None
    pairs: list[BlockingPair] = []
    for student in district.students:
        if student in placements.through_compact:
            continue
        listed = district.lists.get(student, [])
        placed = placements.placed(student)
        placed_position = district.position(student, placed) if placed is not None else None
        # Above the placement; an unlisted placement (not through a compact) is below them all.
        above = listed[: placed_position - 1] if placed_position is not None else listed
        for position, school in enumerate(above, start=1):
            if school == placed or not district.eligible(student, school):
                continue  # an ineligible pair never blocks
            where = _Where(student, school, position, placed, placed_position)
            if judge is not None and judge.has((school, grade_of(district, student))):
                pair = judge.pair(where)
            else:
                pair = _plain_pair(district, cells, where)
            if pair is not None:
                pairs.append(pair)
    return pairs


@dataclass(frozen=True)
class _Where:
    """A student, a school it lists above its placement, and that placement."""

    student: str
    school: str
    position: int
    placed: str | None
    placed_position: int | None


def _plain_pair(district: District, cells: _Cells, where: _Where) -> BlockingPair | None:
    """Without reserves: a free seat in the grade, or a regular student ranked below."""
    grade = grade_of(district, where.student)
    seats = seats_of(district, where.school, grade)
    if seats <= 0:
        return None  # a school without seats in the grade never blocks
    held = cells.holds[(where.school, grade)]
    displaced: str | None = None
    if held >= seats:
        lowest = cells.worst.get((where.school, grade))
        if lowest is None or lowest[0] <= district.order_key(where.student, where.school):
            return None
        displaced = lowest[1]
    return _pair(district, where, seats, held, displaced)


def _pair(district: District, where: _Where, seats: int, held: int, displaced: str | None) -> BlockingPair:
    student, school = where.student, where.school
    return BlockingPair(
        student=student,
        school=school,
        position=where.position,
        placed_at=where.placed,
        placed_position=where.placed_position,
        grade=grade_of(district, student) if district.grade is not None else None,
        seats=seats,
        holds=held,
        displaced=displaced,
        priority=district.priority(student, school),
        displaced_priority=(district.priority(displaced, school) if displaced is not None else None),
        lottery=district.lottery_shown(student, school),
        displaced_lottery=(district.lottery_shown(displaced, school) if displaced is not None else None),
    )


class ReserveJudge:
    """The reserve-aware test: (s, j) blocks when s ∈ C_j(μ_reg(j, g) ∪ {s}).

    C_j takes a better-ranked applicant whenever it takes a worse one with the same memberships
    (a slot that would take it takes it at least as early), so for each cell and each set of
    memberships there is a worst place in the regular students' order at which an applicant is
    still chosen; it is found by halving with C_j itself and kept. The test then costs a lookup.
    """

    def __init__(self, district: District, regular: dict[Cell, list[str]], holds: Counter[Cell]) -> None:
        assert district.reserves is not None
        self.district, self.reserves = district, district.reserves
        self.regular, self.holds = regular, holds
        self._keys: dict[Cell, list[tuple[Any, ...]]] = {}
        self._limits: dict[tuple[Cell, frozenset[str]], int] = {}

    def has(self, cell: Cell) -> bool:
        return cell in self.reserves.seats

    def slots(self, cell: Cell) -> Slots:
        """The cell's slots once the honored compacts' seats are set aside."""
        set_aside = self.holds[cell] - len(self.regular.get(cell, []))
        return self.reserves.slots(cell, self.district.capacity(*cell), set_aside)

    def chooses(self, student: str, cell: Cell) -> bool:
        """s ∈ C_j(μ_reg(j, g) ∪ {s})."""
        keys = self._keys.get(cell)
        if keys is None:
            keys = self._keys[cell] = [self.district.order_key(s, cell[0]) for s in self.regular.get(cell, [])]
        at = bisect.bisect_left(keys, self.district.order_key(student, cell[0]))
        memberships = self.reserves.memberships(student, cell[0])
        limit = self._limits.get((cell, memberships))
        if limit is None:
            limit = self._limits[(cell, memberships)] = self._limit(student, cell)
        return at <= limit

    def _limit(self, student: str, cell: Cell) -> int:
        """The worst place (0 = first) among the regular students at which `student` is chosen; −1: none."""
        ranked = self.regular.get(cell, [])
        slots = self.slots(cell)

        def chosen(at: int) -> bool:
            return student in self.reserves.choose(cell[0], slots, [*ranked[:at], student, *ranked[at:]]).students

        low, high = -1, len(ranked)  # chosen(low) holds (or low is −1); find the last place that holds
        while low < high:
            middle = (low + high + 1) // 2
            if chosen(middle):
                low = middle
            else:
                high = middle - 1
        return low

    def pair(self, where: _Where) -> BlockingPair | None:
        """The blocking pair with its evidence: the slot it would take and whom it would displace."""
        cell = (where.school, grade_of(self.district, where.student))
        if not self.chooses(where.student, cell):
            return None
        ranked = self.regular.get(cell, [])
        key = self.district.order_key(where.student, where.school)
        at = bisect.bisect_left(self._keys[cell], key)
        slots = self.slots(cell)
        before = set(self.reserves.choose(where.school, slots, ranked).students)
        after = self.reserves.choose(where.school, slots, [*ranked[:at], where.student, *ranked[at:]])
        kept = set(after.students)
        out = [s for s in ranked if s in before and s not in kept]
        seat = after.seat_of(where.student)
        assert seat is not None  # `chooses` said so
        displaced = out[-1] if out else None
        pair = _pair(self.district, where, self.district.capacity(*cell), self.holds[cell], displaced)
        above = displaced is not None and self.district.order_key(displaced, where.school) < key
        name = "open" if seat[0] is None or seat[1] else seat[0]
        return replace(pair, slot=name, over_as_member=above)


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

    Capacities per school, or per school and grade; a student skips the schools it is not eligible
    at; each cell keeps C_j(held ∪ proposals): its best proposers by (priority, lottery), or, with
    reserves, its slot-by-slot choice. The result is the student-optimal stable matching.
    """
    held: dict[Cell, _Held] = {}
    next_choice = dict.fromkeys(district.students, 0)
    waiting = list(reversed(district.students))
    while waiting:
        waiting.extend(_propose(district, held, next_choice, waiting.pop()))
    return {student: school for (school, _grade_key), cell in held.items() for student in cell.names}


@dataclass
class _Held:
    """A cell during deferred acceptance: its students, best first, with their order keys and (with
    reserves) their memberships; its slots; and what C_j(held) left for one more applicant ranked
    below all: how many slots anyone could take, and the reserves a member of which could."""

    keys: list[tuple[Any, ...]]
    names: list[str]
    member_of: list[frozenset[str]]
    slots: Slots | None = None  # None: a cell without reserves
    free: int | None = None  # None: not known since the last change
    short: frozenset[str] = frozenset()

    def add(self, key: tuple[Any, ...], student: str, member_of: frozenset[str]) -> int:
        at = bisect.bisect(self.keys, key)
        self.keys.insert(at, key)
        self.names.insert(at, student)
        self.member_of.insert(at, member_of)
        return at

    def drop(self, places: list[int]) -> None:
        for at in reversed(places):
            del self.keys[at], self.names[at], self.member_of[at]


def _propose(district: District, held: dict[Cell, _Held], next_choice: dict[str, int], student: str) -> list[str]:
    """`student` proposes down its list until a cell keeps it; returns the students cells let go."""
    listed = district.lists.get(student, [])
    grade = grade_of(district, student)
    let_go: list[str] = []
    while next_choice[student] < len(listed):
        school = listed[next_choice[student]]
        next_choice[student] += 1
        if not district.eligible(student, school) or seats_of(district, school, grade) <= 0:
            continue
        cell = held.get((school, grade))
        if cell is None:
            cell = held[(school, grade)] = _new_cell(district, (school, grade))
        reserves = district.reserves
        member_of = reserves.memberships(student, school) if reserves is not None and cell.slots else frozenset()
        at = cell.add(district.order_key(student, school), student, member_of)
        rejected = _keep_choice(district, (school, grade), cell, at)
        let_go.extend(other for other in rejected if other != student)
        if student not in rejected:
            break
    return let_go


def _new_cell(district: District, cell: Cell) -> _Held:
    reserves = district.reserves
    if reserves is None or cell not in reserves.seats:
        return _Held([], [], [])
    return _Held([], [], [], reserves.slots(cell, seats_of(district, *cell)))


def _keep_choice(district: District, cell: Cell, held: _Held, at: int) -> list[str]:
    """Keep C_j of the cell's students, the proposer (at place `at`) among them; return those it rejects."""
    slots, names, hold = held.slots, held.names, district.reserves is not None and district.reserves.hold
    if slots is None:
        if len(names) <= seats_of(district, *cell):
            return []
        rejected = names[-1]
        held.drop([len(names) - 1])
        return [rejected]
    if not hold and len(names) <= seat_count(slots):
        held.free = None  # revert: every slot takes someone while anyone is left
        return []
    if at == len(names) - 1 and held.free == 0 and not held.member_of[at] & held.short:
        # Ranked last, it could take only a slot C_j(held) left to anyone, or one of its reserves'
        # slots that found no member: there is none, so C_j(held ∪ {it}) = held.
        rejected = names[at]
        held.drop([at])
        return [rejected]
    choice = choose(slots, names, held.member_of, hold)
    out = [i for i, taken in enumerate(choice.taken) if not taken]
    rejected_names = [names[i] for i in out]
    held.drop(out)
    # What C_j(held) leaves (the same seating: the rejected were never taken).
    held.free = seat_count(slots, OPEN) - choice.slots.count(OPEN) if hold else seat_count(slots) - len(choice.students)
    held.short = frozenset(choice.short)
    return rejected_names


def school_proposing(district: District) -> dict[str, str]:
    """Schools propose: every school (and grade) offers its free seats to the applicants it ranks
    highest that it has not asked yet; each student keeps the best offer by its own list and turns
    down the rest; it ends when no school has an applicant left to ask. The result is the
    school-optimal stable matching (written here apart from the solver's vectorised one)."""
    with_grades = district.grade is not None
    applicants: dict[tuple[str, str], list[str]] = {}
    for student in district.students:
        grade = grade_of(district, student) if with_grades else ""
        for school in district.lists.get(student, []):
            if district.eligible(student, school):
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
            seats = seats_of(district, cell[0], cell[1])
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
    return mechanism_outcome(
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
            return not_applied(result, config.mechanism)
        return result
    if mode == "soft":
        result.info.append(f"together soft: {_term(len(split), config.families_weight, noun)}")
    else:
        result.info.append(f"together off: not a rule; {len(split)} {noun}")
    return result


def deferred_acceptance_outcome(district: District, placements: Placements) -> RuleResult:
    """A deferred acceptance run places every student where the auditor's own DA does."""
    return mechanism_outcome(
        "deferred_acceptance",
        "deferred acceptance",
        deferred_acceptance(district),
        "the student-proposing deferred acceptance outcome",
        district,
        placements,
    )


def mechanism_outcome(
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
    "grade_of",
    "mechanism_outcome",
    "school_proposing",
    "school_proposing_outcome",
    "seats_of",
    "split_families",
    "stability",
]
