"""The auditor's own immediate acceptance and top trading cycles, written literally from their
definitions (one student, one school at a time), apart from the solver's vectorised ones: a run made
with either is re-run here from the raw files and compared student by student.

Both rank a school's students as deferred acceptance does (priority descending, then lottery
ascending: `District.order_key`) and count seats per school, or per school and grade. A student
skips the schools it is not eligible at, as if they were not on its list: in immediate acceptance
its k-th round goes to its k-th eligible school (positions, for the rank cost, stay as written).
"""

from __future__ import annotations

from seatplan.auditor.district import District
from seatplan.auditor.report import RuleResult
from seatplan.auditor.rules import Placements
from seatplan.auditor.stability import grade_of, mechanism_outcome, seats_of


def eligible_list(district: District, student: str) -> list[str]:
    """The student's list without the schools it is not eligible at."""
    return [school for school in district.lists.get(student, []) if district.eligible(student, school)]


def immediate_acceptance(district: District) -> dict[str, str]:
    """The Boston mechanism: in round k each unplaced student applies to the k-th school on its
    list; the school accepts applicants in its order while seats remain; acceptances are final."""
    left: dict[tuple[str, str], int] = {}
    placed: dict[str, str] = {}
    lists = {student: eligible_list(district, student) for student in district.students}
    longest = max((len(listed) for listed in lists.values()), default=0)
    for k in range(longest):
        applying: dict[tuple[str, str], list[str]] = {}
        for student in district.students:
            listed = lists[student]
            if student not in placed and k < len(listed):
                applying.setdefault((listed[k], grade_of(district, student)), []).append(student)
        for (school, grade), applicants in applying.items():
            seats = left.setdefault((school, grade), seats_of(district, school, grade))
            for student in sorted(applicants, key=lambda s: district.order_key(s, school)):
                if seats > 0:
                    placed[student] = school
                    seats -= 1
            left[(school, grade)] = seats
    return placed


def top_trading_cycles(district: District) -> dict[str, str]:
    """Top trading cycles: students point to their best listed school with a seat left in their
    grade, schools to their highest-ranked remaining applicant; every cycle of the round is traded
    (found by walking the pointers from each student), then the seats left shrink."""
    left: dict[tuple[str, str], int] = {}
    queue: dict[tuple[str, str], list[str]] = {}
    lists = {student: eligible_list(district, student) for student in district.students}
    for student in district.students:
        for school in lists[student]:
            queue.setdefault((school, grade_of(district, student)), []).append(student)
    for (school, _grade_key), applicants in queue.items():
        applicants.sort(key=lambda s: district.order_key(s, school))
    head = dict.fromkeys(queue, 0)
    placed: dict[str, str] = {}
    remaining = {s for s in district.students if lists[s]}

    def seats(cell: tuple[str, str]) -> int:
        return left.setdefault(cell, seats_of(district, *cell))

    while remaining:
        pointing: dict[str, tuple[str, str]] = {}
        for student in district.students:
            if student in remaining:
                grade = grade_of(district, student)
                best = next((j for j in lists[student] if seats((j, grade)) > 0), None)
                if best is None:
                    remaining.discard(student)  # no seat left on its list: unplaced
                else:
                    pointing[student] = (best, grade)
        top: dict[tuple[str, str], str] = {}
        for cell in set(pointing.values()):
            while queue[cell][head[cell]] not in remaining:
                head[cell] += 1
            top[cell] = queue[cell][head[cell]]
        done: set[str] = set()
        for start in pointing:
            walk, path = start, []
            while walk not in done and walk not in path:
                path.append(walk)
                walk = top[pointing[walk]]
            if walk in path:  # a new cycle, from `walk` round to it again
                for student in path[path.index(walk) :]:
                    placed[student] = pointing[student][0]
                    left[pointing[student]] -= 1
            done.update(path)
        remaining -= set(placed)
    return placed


def immediate_acceptance_outcome(district: District, placements: Placements) -> RuleResult:
    """An immediate acceptance run places every student where the auditor's own one does."""
    return mechanism_outcome(
        "immediate_acceptance",
        "immediate acceptance",
        immediate_acceptance(district),
        "the immediate acceptance (Boston mechanism) outcome",
        district,
        placements,
    )


def top_trading_cycles_outcome(district: District, placements: Placements) -> RuleResult:
    """A top trading cycles run places every student where the auditor's own one does."""
    return mechanism_outcome(
        "top_trading_cycles",
        "top trading cycles",
        top_trading_cycles(district),
        "the top trading cycles outcome",
        district,
        placements,
    )
