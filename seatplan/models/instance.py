"""The district as the model sees it: one immutable `Instance` of numpy arrays.

Ids are interned: students, schools, families, grades, clusters and sectors become integer indexes,
and per-student data are arrays, so that the formulation never touches a DataFrame.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np

from seatplan.models.errors import Problem

EARTH_RADIUS_KM = 6371.0


@dataclass(frozen=True, eq=False)
class Instance:
    """Everything the formulation needs, as arrays indexed by student, school, family, grade, compact.

    Preferences are stored row-compressed: the list of student s is
    `pref_school[pref_start[s]:pref_start[s+1]]`, in order, so position = offset + 1.
    """

    student_ids: np.ndarray  # (S,) str
    family: np.ndarray  # (S,) int, index into family_ids
    family_ids: np.ndarray  # (F,) str
    grade: np.ndarray  # (S,) int, index into grades; all 0 without a grade column
    grades: tuple[str, ...]  # ("",) when students have no grade column
    has_grades: bool
    home_cluster: np.ndarray  # (S,) int, index into clusters, -1 for none
    student_lat: np.ndarray  # (S,) float, NaN when missing
    student_lon: np.ndarray
    attributes: Mapping[str, np.ndarray]  # column -> (S,) str, for the columns the config names

    school_ids: np.ndarray  # (J,) str
    school_names: np.ndarray  # (J,) str
    school_cluster: np.ndarray  # (J,) int, index into clusters, -1 for a citywide school
    clusters: tuple[str, ...]
    school_sector: np.ndarray  # (J,) int, index into sectors, -1 for none
    sectors: tuple[str, ...]
    capacity: np.ndarray  # (J, G) int, seats per school and grade
    under_selected: np.ndarray  # (J,) bool
    first_choices: np.ndarray  # (J,) int, students listing the school first
    school_lat: np.ndarray
    school_lon: np.ndarray

    pref_start: np.ndarray  # (S+1,) int
    pref_school: np.ndarray  # (P,) int

    compact_ids: np.ndarray  # (C,) str
    compact_school: np.ndarray  # (C,) int
    compact_family_count: np.ndarray  # (C,) int
    compact_of_student: np.ndarray  # (S,) int, -1 when not in a compact

    # School-choice data: who each school prefers (priorities.csv, feeders, the lottery).
    lottery_rank: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))  # (S,) 0 = best
    #: (S,) each student's lottery number as families are told it: students.csv's (float64) or
    #: the documented draw (uint64); smaller is better.
    lottery_number: np.ndarray = field(default_factory=lambda: np.zeros(0, np.float64))
    priority_student: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))  # (Q,)
    priority_school: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))  # (Q,)
    priority_value: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))  # (Q,)
    school_feeds: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))  # (J,) -1 for none
    current_school: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))  # (S,) -1 for none
    #: (P,) each entry's position in the student's list as preferences.csv writes it (1 = first),
    #: when ineligible schools were taken out of the lists; empty when positions are offset + 1.
    pref_rank: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    #: The (student, school) pairs priorities.csv marks ineligible (taken out of the lists).
    ineligible_student: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    ineligible_school: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    #: lottery.kind per_school: each pair's place in the lottery of its school, as sorted keys
    #: (student · n_schools + school) and ranks; empty for one lottery per student (or family).
    pair_lottery_key: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    pair_lottery_rank: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    #: and each pair's number as families are told it (aligned with pair_lottery_key).
    pair_lottery_number: np.ndarray = field(default_factory=lambda: np.zeros(0, np.float64))
    #: The position each ineligible pair had in its student's list (0: not listed).
    ineligible_position: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    #: Reserves (rules/reserves.py): names in precedence order, seats per (school, grade, reserve),
    #: whether each school fills its reserves before its open seats, and who is a member where.
    reserve_names: tuple[str, ...] = ()
    reserve_seats: np.ndarray = field(default_factory=lambda: np.zeros((0, 0, 0), np.int64))
    reserve_first: np.ndarray = field(default_factory=lambda: np.zeros(0, bool))
    reserve_hold: bool = False
    #: (R, S) members of each reserve at every school (from a students.csv column).
    reserve_everywhere: np.ndarray = field(default_factory=lambda: np.zeros((0, 0), bool))
    #: reserve_members.csv: (student, school, reserve) memberships at one school.
    reserve_pair_student: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    reserve_pair_school: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    reserve_pair_reserve: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))

    warnings: tuple[Problem, ...] = field(default=())

    @property
    def n_students(self) -> int:
        return len(self.student_ids)

    @property
    def n_schools(self) -> int:
        return len(self.school_ids)

    @property
    def n_compacts(self) -> int:
        return len(self.compact_ids)

    @property
    def total_capacity(self) -> np.ndarray:
        """Seats per school, all grades together."""
        return self.capacity.sum(axis=1)

    @property
    def list_length(self) -> np.ndarray:
        return np.diff(self.pref_start)

    def pref_student(self) -> np.ndarray:
        """The student of each preference entry, aligned with `pref_school`."""
        return np.repeat(np.arange(self.n_students), self.list_length)

    def pref_position(self) -> np.ndarray:
        """The position (1 = first choice) of each preference entry, as the student listed it."""
        if len(self.pref_rank):
            return self.pref_rank
        return np.arange(len(self.pref_school)) - np.repeat(self.pref_start[:-1], self.list_length) + 1

    def pref_entry(self, students: np.ndarray, schools: np.ndarray) -> np.ndarray:
        """The preference entry of each (student, school) pair, -1 where the student does not list it."""
        out = np.full(len(students), -1, dtype=np.int64)
        if len(students) == 0 or len(self.pref_school) == 0:
            return out
        n = self.n_schools
        keys = self.pref_student() * n + self.pref_school
        order = np.argsort(keys, kind="stable")
        sorted_keys = keys[order]
        wanted = np.asarray(students, dtype=np.int64) * n + np.asarray(schools, dtype=np.int64)
        at = np.minimum(np.searchsorted(sorted_keys, wanted), len(sorted_keys) - 1)
        found = sorted_keys[at] == wanted
        out[found] = order[at[found]]
        return out

    @property
    def has_reserves(self) -> bool:
        return bool(len(self.reserve_names)) and bool(self.reserve_seats.any())

    def is_member(self, reserve: int, students: np.ndarray, schools: np.ndarray) -> np.ndarray:
        """Whether each student is a member of `reserve` at each school (students.csv or reserve_members.csv)."""
        students = np.asarray(students, dtype=np.int64)
        out = (
            self.reserve_everywhere[reserve][students].copy()
            if len(self.reserve_everywhere)
            else np.zeros(len(students), bool)
        )
        mine = self.reserve_pair_reserve == reserve
        if mine.any() and len(students):
            n = self.n_schools
            keys = np.sort(self.reserve_pair_student[mine] * n + self.reserve_pair_school[mine])
            wanted = students * n + np.asarray(schools, dtype=np.int64)
            at = np.minimum(np.searchsorted(keys, wanted), len(keys) - 1)
            out |= keys[at] == wanted
        return out

    def list_position(self, students: np.ndarray, schools: np.ndarray) -> np.ndarray:
        """Position of each school in each student's list, 0 where the student did not list it (or
        is not eligible there)."""
        entry = self.pref_entry(students, schools)
        if not len(self.pref_school):
            return np.zeros(len(entry), np.int64)
        return np.where(entry >= 0, self.pref_position()[np.maximum(entry, 0)], 0).astype(np.int64)

    def positions_of(self, school: np.ndarray) -> np.ndarray:
        """Position (1 = first) of each student's school in its own list; 0 when unplaced or not listed."""
        entry = self.own_entries(school)
        found = np.flatnonzero(entry >= 0)
        out = np.zeros(len(school), dtype=np.int64)
        if len(self.pref_rank):
            out[found] = self.pref_rank[entry[found]]
        else:
            out[found] = entry[found] - self.pref_start[found] + 1
        return out

    def own_entries(self, school: np.ndarray) -> np.ndarray:
        """The preference entry of each student's school in `school` (-1 when unplaced or not
        listed). Every list is walked from its top at once, one step a round: a placement is
        usually near the top, and no array as long as all the lists is made."""
        entry = np.full(len(school), -1, dtype=np.int64)
        length = self.list_length
        looking = np.flatnonzero((school >= 0) & (length > 0))
        # The students still looking, with where their lists start and end and what they look for.
        at, end, wanted = self.pref_start[looking], self.pref_start[looking + 1], school[looking]
        while len(looking):
            hit = self.pref_school[at] == wanted
            entry[looking[hit]] = at[hit]
            on = ~hit & (at + 1 < end)
            looking, at, end, wanted = looking[on], at[on] + 1, end[on], wanted[on]
        return entry

    def compact_members(self) -> list[np.ndarray]:
        """Students of each compact, in student order."""
        order = np.argsort(self.compact_of_student, kind="stable")
        keys = self.compact_of_student[order]
        start = np.searchsorted(keys, np.arange(self.n_compacts + 1))
        return [order[start[c] : start[c + 1]] for c in range(self.n_compacts)]

    def priority(self, students: np.ndarray, schools: np.ndarray, feeder_priority: int = 0) -> np.ndarray:
        """Priority of each (student, school) pair: priorities.csv (0 when not listed), plus
        `feeder_priority` when the student's current school feeds that school."""
        out = np.zeros(len(students), dtype=np.int64)
        if len(self.priority_student):
            n = self.n_schools
            keys = self.priority_student * n + self.priority_school
            order = np.argsort(keys)
            wanted = np.asarray(students, dtype=np.int64) * n + np.asarray(schools, dtype=np.int64)
            at = np.minimum(np.searchsorted(keys[order], wanted), len(keys) - 1)
            found = keys[order][at] == wanted
            out[found] = self.priority_value[order][at][found]
        if feeder_priority and len(self.current_school):
            current = self.current_school[students]
            feeds = np.where(current >= 0, self.school_feeds[np.maximum(current, 0)], -1)
            out += np.where(feeds == schools, feeder_priority, 0)
        return out

    @property
    def lottery_span(self) -> int:
        """One more than the largest lottery place (see `lottery_place`)."""
        return self.n_students + len(self.pair_lottery_key) + 1

    def lottery_place(self, students: np.ndarray, schools: np.ndarray) -> np.ndarray:
        """Each (student, school) pair's place in the school's lottery, smaller is better: the
        student's place in the one lottery, or (lottery.kind per_school) the pair's place among
        every listed pair's numbers; a pair not listed comes after those, by the student's place."""
        students = np.asarray(students, dtype=np.int64)
        if not len(self.pair_lottery_key):
            return self.lottery_rank[students]
        wanted = students * self.n_schools + np.asarray(schools, dtype=np.int64)
        keys = self.pair_lottery_key
        at = np.minimum(np.searchsorted(keys, wanted), len(keys) - 1)
        found = keys[at] == wanted
        return np.where(found, self.pair_lottery_rank[at], len(keys) + self.lottery_rank[students])

    def lottery_of(self, student: int, school: int | None = None) -> int | float:
        """A student's lottery number (at `school`, with one lottery per school) as a plain number
        (a whole number when it is one)."""
        numbers, at = self.lottery_number, student
        if len(self.pair_lottery_key) and len(self.pair_lottery_number) and school is not None:
            wanted = student * self.n_schools + school
            found = int(np.searchsorted(self.pair_lottery_key, wanted))
            if found < len(self.pair_lottery_key) and self.pair_lottery_key[found] == wanted:
                numbers, at = self.pair_lottery_number, found
        if not len(numbers):
            return int(self.lottery_rank[student]) + 1
        value = numbers[at]
        if numbers.dtype.kind == "u":
            return int(value)
        return int(value) if float(value).is_integer() else float(value)

    def lottery_standing(self, student: int, school: int) -> tuple[int, int]:
        """(place, out of how many) of the student in the school's lottery: among all students with
        one lottery (or one per family), among those who list the school with one per school."""
        if not len(self.pair_lottery_key):
            return int(self.lottery_rank[student]) + 1, self.n_students
        start, ranks = self._lottery_by_school
        within = ranks[start[school] : start[school + 1]]
        mine = self.lottery_place(np.array([student]), np.array([school]))[0]
        return int(np.searchsorted(within, mine)) + 1, len(within)

    @cached_property
    def _lottery_by_school(self) -> tuple[np.ndarray, np.ndarray]:
        """(start of each school, the listed pairs' lottery places sorted by school then place)."""
        school = self.pair_lottery_key % self.n_schools
        order = np.lexsort((self.pair_lottery_rank, school))
        start = np.searchsorted(school[order], np.arange(self.n_schools + 1))
        return start, self.pair_lottery_rank[order]

    def student_index(self) -> dict[str, int]:
        return {sid: i for i, sid in enumerate(self.student_ids)}

    def school_index(self) -> dict[str, int]:
        return {sid: i for i, sid in enumerate(self.school_ids)}


def haversine_km(lat1: np.ndarray, lon1: np.ndarray, lat2: np.ndarray, lon2: np.ndarray) -> np.ndarray:
    """Great-circle distance in km on a sphere of radius 6371.0 km."""
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dphi = p2 - p1
    dlambda = np.radians(lon2) - np.radians(lon1)
    a = np.sin(dphi / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dlambda / 2) ** 2
    return 2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0)))


def distance_hundredths(instance: Instance, students: np.ndarray, schools: np.ndarray) -> np.ndarray:
    """Distance of each (student, school) pair in hundredths of a km, each rounded half up."""
    km = haversine_km(
        instance.student_lat[students],
        instance.student_lon[students],
        instance.school_lat[schools],
        instance.school_lon[schools],
    )
    return np.floor(km * 100.0 + 0.5).astype(np.int64)
