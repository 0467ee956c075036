"""Reserves: seats of a school (and grade) held for the members of a group, and the school's choice.

Written from the contract, apart from the solver's:

- reserves.csv: one row per (school, [grade], reserve) with `seats`; an optional `precedence`
  (reserve_first | open_first, empty = the config's), one value per school.
- A student is a member of reserve R at school j when its students.csv column matches the config's
  `reserves.members` entry for R, or reserve_members.csv has the row (student, j, R).
- A cell (school j, grade g) with q seats has slots in precedence order: reserve_first: each
  reserve's seats (reserves in the order of their first appearance in reserves.csv), then the
  q − Σ reserve seats open slots; open_first: the open slots first, then the reserves.
- C_j(A), slot by slot: a reserve slot of R takes the highest-ranked remaining member of R; with no
  member left it takes the highest-ranked remaining applicant (`revert`) or stays empty (`hold`).
  An open slot takes the highest-ranked remaining applicant. The others are rejected.
- Students placed through an honored compact are a set-aside: their seats come out of the open
  slots first, then out of the reserves taken last-first.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field

from seatplan.auditor.config import PRECEDENCES, AuditConfig
from seatplan.auditor.errors import Problems
from seatplan.auditor.tables import Table

#: An open slot (a reserve slot is named by its reserve).
OPEN = None
Cell = tuple[str, str]  # (school, grade); grade "" when students have no grades
#: A cell's slots in precedence order, as runs of one kind: (a reserve or OPEN, how many). One entry
#: per run, not per seat: a school of a billion seats is a few runs.
Slots = tuple[tuple[str | None, int], ...]


def seat_count(slots: Slots, kind: object = ...) -> int:
    """How many slots (of one `kind`, OPEN or a reserve, when given)."""
    return sum(count for slot, count in slots if kind is ... or slot == kind)


_NATURAL = re.compile(r"\+?[0-9]{1,18}")


@dataclass
class Choice:
    """C_j's result, in slot order: who took each filled slot, which slot (a reserve, or OPEN), and
    whether a reserve slot found no member and took the best applicant left (`revert`)."""

    students: list[str] = field(default_factory=list)
    slots: list[str | None] = field(default_factory=list)
    reverted: list[bool] = field(default_factory=list)
    taken: list[bool] = field(default_factory=list)  # per applicant, in the ranked order given
    short: set[str] = field(default_factory=set)  # reserves with a slot no member came for

    def seat_of(self, student: str) -> tuple[str | None, bool] | None:
        """(slot, reverted) of the slot `student` took; None when it was not chosen."""
        if student not in self.students:
            return None
        at = self.students.index(student)
        return self.slots[at], self.reverted[at]


def choose(slots: Slots, ranked: Sequence[str], member_of: Sequence[Collection[str]], hold: bool) -> Choice:
    """C_j: slot by slot, from `ranked` (the applicants, the school's best first); `member_of[i]`:
    the reserves `ranked[i]` is a member of at this school.

    A run of slots of one kind is one walk down the ranked list: a reserve's slots take its members
    in order while any is left, and what then remains of the run reverts or stays empty — exactly
    what its slots one by one would do, since taking a non-member never makes a member appear.
    """
    walk = _Walk(ranked, member_of)
    for slot, count in slots:
        left = count if slot is OPEN else walk.take_members(slot, count)
        if slot is OPEN or not hold:
            walk.take_best(slot, left, reverted=slot is not OPEN)
    return walk.choice


class _Walk:
    """The ranked applicants, who is taken, and where each search stopped: everyone before a
    reserve's mark is taken or not a member; everyone before `best` is taken."""

    def __init__(self, ranked: Sequence[str], member_of: Sequence[Collection[str]]) -> None:
        self.ranked, self.member_of = ranked, member_of
        self.taken = [False] * len(ranked)
        self.marks: dict[str, int] = {}
        self.best = 0
        self.choice = Choice(taken=self.taken)

    def take_members(self, reserve: str, count: int) -> int:
        """Up to `count` members of `reserve`, best first; returns how many slots are left."""
        at, n, taken, member_of = self.marks.get(reserve, 0), len(self.ranked), self.taken, self.member_of
        chosen = self.choice.students
        while count and at < n:
            if not taken[at] and reserve in member_of[at]:
                taken[at] = True
                chosen.append(self.ranked[at])
                count -= 1
            at += 1
        self._record(reserve, len(chosen) - len(self.choice.slots), False)
        self.marks[reserve] = at
        if count:
            self.choice.short.add(reserve)
        return count

    def take_best(self, slot: str | None, count: int, reverted: bool) -> None:
        """Up to `count` of the best applicants left, into `slot`."""
        at, n, taken = self.best, len(self.ranked), self.taken
        chosen = self.choice.students
        while count and at < n:
            if not taken[at]:
                taken[at] = True
                chosen.append(self.ranked[at])
                count -= 1
            at += 1
        self._record(slot, len(chosen) - len(self.choice.slots), reverted)
        self.best = at

    def _record(self, slot: str | None, count: int, reverted: bool) -> None:
        """The slot of the `count` students just taken."""
        self.choice.slots.extend([slot] * count)
        self.choice.reverted.extend([reverted] * count)


@dataclass
class Reserves:
    """Every cell's reserves, each school's precedence, and who is a member of what."""

    order: list[str]  # reserves by their first appearance in reserves.csv
    seats: dict[Cell, list[tuple[str, int]]]  # cell -> (reserve, seats), in `order`
    lines: dict[tuple[str, str, str], int]  # (school, grade, reserve) -> its reserves.csv line
    precedence: dict[str, str]  # school -> reserve_first | open_first
    hold: bool  # unfilled: hold (else revert)
    member_rows: set[tuple[str, str, str]] = field(default_factory=set)  # (student, school, reserve)
    by_column: dict[str, set[str]] = field(default_factory=dict)  # student -> reserves from students.csv
    _memberships: dict[str, _Memberships] = field(default_factory=dict, repr=False)

    def is_member(self, student: str, school: str, reserve: str) -> bool:
        return reserve in self.by_column.get(student, ()) or (student, school, reserve) in self.member_rows

    def member_at(self, school: str) -> Callable[[str], frozenset[str]]:
        """`memberships(student)` at one school, as `choose` asks it (kept: DA asks again and again)."""
        found = self._memberships.get(school)
        if found is None:
            at_school = [r for (j, _g), listed in self.seats.items() if j == school for r, _n in listed]
            found = self._memberships[school] = _Memberships(self, school, tuple(dict.fromkeys(at_school)))
        return found.__getitem__

    def memberships(self, student: str, school: str) -> frozenset[str]:
        """The reserves of `school` (any grade) `student` is a member of."""
        return self.member_at(school)(student)

    def choose(self, school: str, slots: Slots, ranked: Sequence[str]) -> Choice:
        """C_j at `school` (its memberships and the config's `unfilled`)."""
        member = self.member_at(school)
        return choose(slots, ranked, [member(student) for student in ranked], self.hold)

    def slots(self, cell: Cell, capacity: int, set_aside: int = 0) -> Slots:
        """The cell's slots in precedence order, as runs, after `set_aside` seats went to honored
        compacts (out of the open slots first, then out of the reserves taken last-first)."""
        reserved = list(self.seats.get(cell, []))
        open_count = max(0, capacity - sum(n for _r, n in reserved))
        from_open = min(set_aside, open_count)
        open_count, left = open_count - from_open, set_aside - from_open
        for i in reversed(range(len(reserved))):
            cut = min(left, reserved[i][1])
            reserved[i], left = (reserved[i][0], reserved[i][1] - cut), left - cut
        runs: list[tuple[str | None, int]] = [(r, n) for r, n in reserved]
        if self.precedence.get(cell[0], "reserve_first") == "open_first":
            runs.insert(0, (OPEN, open_count))
        else:
            runs.append((OPEN, open_count))
        merged: list[tuple[str | None, int]] = []
        for slot, count in runs:
            if count <= 0:
                continue
            if merged and merged[-1][0] == slot:
                merged[-1] = (slot, merged[-1][1] + count)
            else:
                merged.append((slot, count))
        return tuple(merged)


class _Memberships(dict[str, frozenset[str]]):
    """student -> the reserves of one school it is a member of, worked out on first asking."""

    def __init__(self, reserves: Reserves, school: str, at_school: tuple[str, ...]) -> None:
        super().__init__()
        self.reserves, self.school, self.at_school = reserves, school, at_school

    def __missing__(self, student: str) -> frozenset[str]:
        found = frozenset(r for r in self.at_school if self.reserves.is_member(student, self.school, r))
        self[student] = found
        return found


def cell_words(school: str, grade: str) -> str:
    return f"school {school} grade {grade}" if grade else f"school {school}"


@dataclass
class _Row:
    line: int
    school: str
    grade: str
    reserve: str
    seats: int
    precedence: str


def read_reserves(
    config: AuditConfig,
    table: Table,
    students: Table,
    with_grades: bool,
    capacity: Callable[[str, str], int],
    schools: set[str],
    problems: Problems,
) -> Reserves:
    """reserves.csv's rows, checked one by one and then per cell and per school."""
    rows = _rows(config, table, with_grades, schools, problems)
    _cell_totals(table, rows, capacity, problems)
    precedence = _school_precedence(table, rows, problems)
    order = list(dict.fromkeys(row.reserve for row in rows))
    seats: dict[Cell, list[tuple[str, int]]] = {}
    for row in sorted(rows, key=lambda r: order.index(r.reserve)):
        seats.setdefault((row.school, row.grade), []).append((row.reserve, row.seats))
    return Reserves(
        order=order,
        seats=seats,
        lines={(r.school, r.grade, r.reserve): r.line for r in rows},
        precedence=precedence,
        hold=config.reserve_unfilled == "hold",
        by_column=_column_members(config, students, problems),
    )


def _rows(config: AuditConfig, table: Table, with_grades: bool, schools: set[str], problems: Problems) -> list[_Row]:
    where = table.where
    if with_grades != table.has("grade"):
        why = "students.csv has a grade column" if with_grades else "students.csv has no grade column"
        problems.add(where, f"expected {'a' if with_grades else 'no'} grade column ({why})", 1)
        return []
    n = len(table)
    grades = table.column("grade") if with_grades else [""] * n
    written = table.column("precedence") if table.has("precedence") else [""] * n
    rows: list[_Row] = []
    first: dict[tuple[str, str, str], int] = {}
    for line, school, grade, reserve, seats_text, precedence in zip(
        table.lines,
        table.column("school_id"),
        grades,
        table.column("reserve"),
        table.column("seats"),
        written,
        strict=True,
    ):
        problem = _row_problem(school, grade, reserve, seats_text, precedence, with_grades, schools)
        key = (school, grade, reserve)
        if problem is None and key in first:
            problem = (
                f"duplicate reserves row for {cell_words(school, grade)} reserve {reserve} (first on line {first[key]})"
            )
        if problem is not None:
            problems.add(where, problem, line)
            continue
        first[key] = line
        rows.append(_Row(line, school, grade, reserve, int(seats_text), precedence or config.reserve_precedence))
    return rows


def _row_problem(
    school: str, grade: str, reserve: str, seats: str, precedence: str, with_grades: bool, schools: set[str]
) -> str | None:
    if school not in schools:
        return f'unknown school_id "{school}" (not in schools.csv)'
    if with_grades and not grade:
        return "expected a grade, got an empty value"
    if not reserve:
        return "expected a reserve name, got an empty value"
    if not _NATURAL.fullmatch(seats):
        return f'expected seats to be an integer ≥ 0, got "{seats}"'
    if precedence and precedence not in PRECEDENCES:
        return f'expected precedence to be one of {", ".join(PRECEDENCES)} (or empty), got "{precedence}"'
    return None


def _cell_totals(table: Table, rows: list[_Row], capacity: Callable[[str, str], int], problems: Problems) -> None:
    """No reserve larger than its cell's seats, nor the cell's reserves together."""
    total: dict[Cell, int] = {}
    for row in rows:
        seats = capacity(row.school, row.grade)
        cell = (row.school, row.grade)
        before = total.get(cell, 0)
        total[cell] = before + row.seats
        if row.seats > seats:
            problems.add(
                table.where,
                f"expected reserve {row.reserve} of {cell_words(*cell)} to have at most {seats} seats "
                f"(the seats there), got {row.seats}",
                row.line,
            )
        elif before <= seats < total[cell]:
            problems.add(
                table.where,
                f"expected the reserves of {cell_words(*cell)} to total at most {seats} seats (the seats there), "
                f"got {total[cell]} with this row",
                row.line,
            )


def _school_precedence(table: Table, rows: list[_Row], problems: Problems) -> dict[str, str]:
    """One precedence per school: every row's (its own, or the config's when empty) must agree."""
    precedence: dict[str, tuple[str, int]] = {}
    for row in rows:
        if row.school not in precedence:
            precedence[row.school] = (row.precedence, row.line)
        elif precedence[row.school][0] != row.precedence:
            value, line = precedence[row.school]
            problems.add(
                table.where,
                f"expected precedence {value} for school {row.school}, as on line {line} (one per school), "
                f"got {row.precedence}",
                row.line,
            )
    return {school: value for school, (value, _line) in precedence.items()}


def _column_members(config: AuditConfig, students: Table, problems: Problems) -> dict[str, set[str]]:
    """student -> the reserves `reserves.members` makes it a member of (at every school)."""
    members: dict[str, set[str]] = {}
    for entry in config.reserve_members:
        if not students.has(entry.column):
            problems.add(
                str(config.path),
                f"expected students.csv to have a column {entry.column} (reserves.members.{entry.reserve}), got none",
                entry.line,
            )
            continue
        for student, value in zip(students.column("student_id"), students.column(entry.column), strict=True):
            if value == entry.value:
                members.setdefault(student, set()).add(entry.reserve)
    return members


def read_member_rows(
    table: Table, students: set[str], schools: set[str], reserves: Reserves, problems: Problems
) -> None:
    """reserve_members.csv: (student, school, reserve) rows naming a reserve of reserves.csv (a
    membership at a school without that reserve is kept and changes nothing: a walk zone may be
    written for every school at once)."""
    names: list[str] = []
    for listed in reserves.seats.values():
        for reserve, _n in listed:
            if reserve not in names:
                names.append(reserve)
    for line, student, school, reserve in zip(
        table.lines, table.column("student_id"), table.column("school_id"), table.column("reserve"), strict=True
    ):
        if student not in students:
            problems.add(table.where, f'unknown student_id "{student}" (not in students.csv)', line)
        elif school not in schools:
            problems.add(table.where, f'unknown school_id "{school}" (not in schools.csv)', line)
        elif reserve not in names:
            known = ", ".join(names) or "none"
            problems.add(table.where, f'expected a reserve of reserves.csv ({known}), got "{reserve}"', line)
        else:
            reserves.member_rows.add((student, school, reserve))
