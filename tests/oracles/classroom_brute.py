"""The classroom stage's contract, by brute force: every way to put a school and grade's students
(≤ 10) in its classrooms (≤ 3), each judged by the contract's words as written in the issue, the
cheapest kept. Written apart from seatplan/models/classrooms.py: it shares no code with it.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Student:
    family: str
    compact: str = ""  # the honored compact it was placed through, or ""
    categories: tuple[bool, ...] = ()


@dataclass(frozen=True)
class Rules:
    compact_together: str = "hard"
    max_compact_share: int = 100
    max_compacts_per_classroom: int = 1
    choice_weight: int = 1
    siblings_together: str = "off"  # off | soft | hard
    siblings_weight: int = 1


@dataclass
class Case:
    students: list[Student]
    seats: list[int]  # each classroom's seats
    answers: dict[str, str] = field(default_factory=dict)  # family -> yes | no | either
    rules: Rules = field(default_factory=Rules)


def cost(case: Case, rooms: tuple[int, ...]) -> int | None:
    """The contract's objective in cents for `rooms` (each student's classroom), or None when it
    breaks a hard rule."""
    rules = case.rules
    count = [0] * len(case.seats)
    compacts: list[dict[str, int]] = [{} for _ in case.seats]
    for student, room in zip(case.students, rooms, strict=True):
        count[room] += 1
        if student.compact:
            compacts[room][student.compact] = compacts[room].get(student.compact, 0) + 1
    for room, seats in enumerate(case.seats):
        if count[room] > seats:
            return None
        if len(compacts[room]) > rules.max_compacts_per_classroom:
            return None
        # A compact takes at most ⌊max_compact_share × seats / 100⌋ seats of its classroom.
        if any(n > math.floor(rules.max_compact_share * seats / 100) for n in compacts[room].values()):
            return None
    if rules.compact_together == "hard":
        for name in {s.compact for s in case.students if s.compact}:
            if len({r for s, r in zip(case.students, rooms, strict=True) if s.compact == name}) > 1:
                return None
    with_compact = [bool(c) for c in compacts]
    for student, room in zip(case.students, rooms, strict=True):
        if case.answers.get(student.family) == "no" and with_compact[room]:
            return None
    # Siblings: a family's children not placed through a compact.
    classrooms_of: dict[str, set[int]] = {}
    children: dict[str, int] = {}
    for student, room in zip(case.students, rooms, strict=True):
        if not student.compact:
            classrooms_of.setdefault(student.family, set()).add(room)
            children[student.family] = children.get(student.family, 0) + 1
    split = sum(1 for family, where in classrooms_of.items() if children[family] > 1 and len(where) > 1)
    if rules.siblings_together == "hard" and split:
        return None
    total = 0
    # choice: a family that said yes with a child in a classroom without a compact.
    unmet = {
        s.family
        for s, room in zip(case.students, rooms, strict=True)
        if case.answers.get(s.family) == "yes" and not with_compact[room]
    }
    total += 100 * rules.choice_weight * len(unmet)
    # balance: ⌈100 × |S·k − K·s| / S⌉ per rule and classroom.
    all_seats = sum(case.seats)
    rules_count = len(case.students[0].categories) if case.students else 0
    for r in range(rules_count):
        everyone = sum(1 for s in case.students if s.categories[r])
        for room, seats in enumerate(case.seats):
            here = sum(1 for s, x in zip(case.students, rooms, strict=True) if x == room and s.categories[r])
            total += math.ceil(100 * abs(all_seats * here - everyone * seats) / all_seats)
    if rules.siblings_together == "soft":
        total += 100 * rules.siblings_weight * split
    total += 100 * (max(count) - min(count))
    return total


def optimum(case: Case) -> int | None:
    """The least cost over every placement of the students in the classrooms (None: none is allowed)."""
    best: int | None = None
    for rooms in itertools.product(range(len(case.seats)), repeat=len(case.students)):
        value = cost(case, rooms)
        if value is not None and (best is None or value < best):
            best = value
    return best
