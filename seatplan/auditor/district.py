"""The district's data in the rules' words: students, families, schools, seats, lists, compacts.

Only what makes a file unreadable is an input problem here; what the compact rules
forbid (a family in two compacts, too few families…) is kept and judged as a rule.
"""

from __future__ import annotations

import os
import re
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction

from seatplan.auditor.config import AuditConfig
from seatplan.auditor.errors import Problems
from seatplan.auditor.lotteries import Lottery, Number, draw, family_numbers, pair_numbers, single_numbers
from seatplan.auditor.reserves import Reserves, read_member_rows, read_reserves
from seatplan.auditor.tables import Table, read_data_table

# ASCII digits only (Python's \d also takes "٣" and "²"), and at most 18 of them, as the README says.
_NATURAL = re.compile(r"\+?[0-9]{1,18}")
_INTEGER = re.compile(r"[+-]?[0-9]{1,18}")
_TRUE = {"true", "t", "yes", "y", "1"}
_FALSE = {"false", "f", "no", "n", "0"}


@dataclass
class School:
    school_id: str
    cluster: str
    sector: str
    capacity: int  # all grades together
    under_selected_given: bool | None
    lat: float | None
    lon: float | None
    feeds: str = ""  # the school this one feeds; empty for none


def seed_lottery(seed: int, student: str) -> int:
    """The documented draw when students.csv has no lottery column (smaller is better)."""
    return draw(seed, student)


@dataclass
class Compact:
    compact_id: str
    school_id: str  # the school on its first row
    schools: list[str]  # every distinct school its rows name, in file order
    families: list[str]  # distinct, in file order
    repeated_families: list[str]
    members: list[str] = field(default_factory=list)  # students of its known families
    family_lines: dict[str, int] = field(default_factory=dict)  # family -> its first compacts.csv line


@dataclass
class District:
    students: list[str]
    family: dict[str, str]
    grade: dict[str, str] | None  # None when students.csv has no grade column
    home_cluster: dict[str, str]
    attributes: dict[str, dict[str, str]]
    student_location: dict[str, tuple[float, float] | None]
    schools: dict[str, School]
    seats: dict[tuple[str, str], int]  # (school, grade) -> seats; only with grades
    lists: dict[str, list[str]]  # student -> schools in rank order
    compacts: dict[str, Compact]
    family_members: dict[str, list[str]]
    first_choices: Counter[str]
    # School choice: each school ranks students by (priority descending, lottery ascending).
    lottery: dict[str, int | Decimal] = field(default_factory=dict)
    lottery_given: bool = False  # False: drawn from solver.seed
    lottery_text: dict[str, str] = field(default_factory=dict)  # as written, for evidence
    current_school: dict[str, str] = field(default_factory=dict)
    priorities: dict[tuple[str, str], int] = field(default_factory=dict)
    feeder_priority: int = 0
    # None: the single lottery of `lottery` (how a District is built by hand in tests).
    lotteries: Lottery | None = None
    ineligible: dict[tuple[str, str], int] = field(default_factory=dict)  # pair -> its priorities.csv line
    priorities_where: str = "priorities.csv"
    eligibility_given: bool = False  # priorities.csv has an eligible column
    reserves: Reserves | None = None

    def eligible(self, student: str, school: str) -> bool:
        """A pair priorities.csv does not mark eligible=false may be used."""
        return (student, school) not in self.ineligible

    def capacity(self, school: str, grade: str) -> int:
        """Seats of the cell: per school and grade with grades, else the school's."""
        if self.grade is not None:
            return self.seats.get((school, grade), 0)
        return self.schools[school].capacity

    def lottery_shown(self, student: str, school: str) -> str:
        """The lottery number(s) that order `student` at `school`, as written or drawn."""
        if self.lotteries is None:
            return self.lottery_text[student]
        return self.lotteries.shown(student, school)

    def position(self, student: str, school: str) -> int | None:
        """1 for the first school on the student's list, 2 for the next…; None if unlisted."""
        return self._positions.get((student, school))

    def __post_init__(self) -> None:
        # Position, not the rank value: ranks 10, 20, 30 are positions 1, 2, 3.
        self._positions: dict[tuple[str, str], int] = {
            (student, school): i for student, listed in self.lists.items() for i, school in enumerate(listed, start=1)
        }

    def priority(self, student: str, school: str) -> int:
        """priorities.csv (0 when not listed), plus the feeder bonus when its current school
        feeds this one."""
        value = self.priorities.get((student, school), 0)
        if self.feeder_priority:
            current = self.schools.get(self.current_school.get(student, ""))
            if current is not None and current.feeds and current.feeds == school:
                value += self.feeder_priority
        return value

    def order_key(self, student: str, school: str) -> tuple[int | Number | str, ...]:
        """Smaller is ranked higher by `school`: (−priority, then the lottery's tie-break), a strict order."""
        if self.lotteries is None:
            return (-self.priority(student, school), self.lottery[student])
        return (-self.priority(student, school), *self.lotteries.tiebreak(student, school))

    def under_selected(self, school_id: str, ratio: Fraction) -> bool:
        """Given per school, else: fewer than ratio × capacity students list it first."""
        school = self.schools[school_id]
        if school.under_selected_given is not None:
            return school.under_selected_given
        return self.first_choices[school_id] < ratio * school.capacity

    def compacts_of(self, student: str) -> list[Compact]:
        return self._student_compacts.get(student, [])

    def link_compacts(self) -> None:
        self._student_compacts: dict[str, list[Compact]] = defaultdict(list)
        for compact in self.compacts.values():
            members: list[str] = []
            for family in compact.families:
                members.extend(self.family_members.get(family, []))
            compact.members = members
            for student in members:
                self._student_compacts[student].append(compact)


def _data_where(config: AuditConfig, key: str) -> str:
    # Shown, not opened: a run folder's "../district/x.csv" reads better resolved.
    # A workbook's reader adds "#<sheet>" itself: only it knows the first sheet's name.
    return os.path.normpath(config.data[key])


def load_district(config: AuditConfig, problems: Problems) -> District | None:
    """Read every data file the config names; None when any cannot be used."""
    missing_from_config = [key for key in ("students", "schools", "preferences") if key not in config.data]
    if missing_from_config:
        return None
    needed_attributes = sorted({rule.attribute for rule in config.diversity if rule.mode != "off"})
    need_coordinates = config.weights["distance"] > 0

    students_table = _read(config, "students", ("student_id",), problems)
    schools_table = _read(config, "schools", ("school_id",), problems)
    preferences_table = _read(config, "preferences", ("student_id", "school_id", "rank"), problems)
    compacts_table = (
        _read(config, "compacts", ("compact_id", "family_id", "school_id"), problems)
        if "compacts" in config.data
        else None
    )
    priorities_table = (
        _read(config, "priorities", ("student_id", "school_id"), problems) if "priorities" in config.data else None
    )
    if students_table is None or schools_table is None:
        return None

    with_grades = students_table.has("grade")
    seats_table: Table | None = None
    if with_grades:
        if "seats" not in config.data:
            problems.add(
                str(config.path),
                "students.csv has a grade column, so the config must name a seats file (data.seats)",
            )
        else:
            seats_table = _read(config, "seats", ("school_id", "grade", "capacity"), problems)
    elif "seats" in config.data:
        # seats.csv exists exactly when students have grades: otherwise which capacity holds?
        problems.add(
            str(config.path),
            "data.seats is given but students.csv has no grade column",
            config.data_lines.get("seats"),
        )
    elif not schools_table.has("capacity"):
        problems.add(schools_table.where, "missing column capacity (students have no grade column)", 1)

    students, family, grade, home, attributes, locations = _students(
        students_table, needed_attributes, need_coordinates, with_grades, problems
    )
    schools = _schools(schools_table, with_grades, need_coordinates, problems)
    seats: dict[tuple[str, str], int] = {}
    if seats_table is not None:
        seats = _seats(seats_table, schools, problems)
        for school_id, school in schools.items():
            school.capacity = sum(n for (s, _g), n in seats.items() if s == school_id)
    known_students = set(students)
    lists = _preferences(preferences_table, known_students, schools, problems) if preferences_table else {}
    compacts = _compacts(compacts_table, problems) if compacts_table is not None else {}
    _feeds(schools_table, schools, problems)
    current_school = (
        dict(
            zip(
                students_table.column("student_id"),
                students_table.column("current_school"),
                strict=True,
            )
        )
        if students_table.has("current_school")
        else {}
    )
    priorities, ineligible = (
        _priorities(priorities_table, known_students, schools, problems) if priorities_table is not None else ({}, {})
    )
    tables = {"students": students_table, "preferences": preferences_table, "priorities": priorities_table}
    # A pair the student is not eligible at is never compared: it needs no lottery number.
    lotteries = _lotteries(
        config,
        tables,
        family,
        lambda s, j: s in known_students and j in schools and (s, j) not in ineligible,
        problems,
    )
    reserves = _reserves(config, students_table, with_grades, seats, schools, known_students, problems)
    if priorities_table is not None:
        _compact_members_eligible(compacts, family, ineligible, priorities_table.where, problems)
    if problems or (with_grades and seats_table is None) or preferences_table is None:
        return None
    if "compacts" in config.data and compacts_table is None:
        return None
    if "priorities" in config.data and priorities_table is None:
        return None

    family_members: dict[str, list[str]] = defaultdict(list)
    for student in students:
        family_members[family[student]].append(student)
    first_choices = Counter(schools_listed[0] for schools_listed in lists.values() if schools_listed)
    district = District(
        students=students,
        family=family,
        grade=grade if with_grades else None,
        home_cluster=home,
        attributes=attributes,
        student_location=locations,
        schools=schools,
        seats=seats,
        lists=lists,
        compacts=compacts,
        family_members=dict(family_members),
        first_choices=first_choices,
        lottery=lotteries.single,
        lottery_given=lotteries.given,
        lottery_text=lotteries.single_text,
        current_school=current_school,
        priorities=priorities,
        feeder_priority=config.feeder_priority,
        lotteries=lotteries,
        ineligible=ineligible,
        priorities_where=priorities_table.where if priorities_table is not None else "priorities.csv",
        eligibility_given=priorities_table is not None and priorities_table.has("eligible"),
        reserves=reserves,
    )
    district.link_compacts()
    return district


def _lotteries(
    config: AuditConfig,
    tables: dict[str, Table | None],
    family: dict[str, str],
    known: Callable[[str, str], bool],
    problems: Problems,
) -> Lottery:
    """The numbers of the config's lottery kind (lotteries.py says each kind's rule)."""
    students, preferences, priorities = tables["students"], tables["preferences"], tables["priorities"]
    assert students is not None
    kind, seed = config.lottery_kind, config.seed
    if kind == "single":
        single, text = single_numbers(students, seed, problems)
        return Lottery(kind, seed, single, text, given=students.has("lottery"))
    # The single draw: per_school does not use students.csv's lottery; family orders siblings by it.
    drawn = {student: draw(seed, student) for student in family}
    lottery = Lottery(kind, seed, dict(drawn), {s: str(n) for s, n in drawn.items()}, family_of=family)
    if kind == "per_school":
        if priorities is not None and priorities.has("lottery") and preferences is not None:
            lottery.pair, lottery.pair_text = pair_numbers(priorities, preferences, known, problems)
            lottery.given = True
        return lottery
    if not students.has("family_id"):
        problems.add(
            str(config.path),
            "expected students.csv to have a family_id column (lottery.kind family), got none",
            config.lottery_kind_line,
        )
    lottery.family_number, lottery.family_text = family_numbers(students, family, seed, problems)
    lottery.given = students.has("lottery")
    return lottery


def _reserves(
    config: AuditConfig,
    students: Table,
    with_grades: bool,
    seats: dict[tuple[str, str], int],
    schools: dict[str, School],
    known_students: set[str],
    problems: Problems,
) -> Reserves | None:
    """reserves.csv and reserve_members.csv, when the config names them."""
    if not config.reserves_given:
        if "reserve_members" in config.data:
            problems.add(
                str(config.path),
                "expected data.reserves beside data.reserve_members (members of which reserves?), got none",
                config.data_lines.get("reserve_members"),
            )
        return None
    table = _read(config, "reserves", ("school_id", "reserve", "seats"), problems)
    if table is None:
        return None

    def capacity(school: str, grade: str) -> int:
        return seats.get((school, grade), 0) if with_grades else schools[school].capacity

    reserves = read_reserves(config, table, students, with_grades, capacity, set(schools), problems)
    if "reserve_members" in config.data:
        members = _read(config, "reserve_members", ("student_id", "school_id", "reserve"), problems)
        if members is not None:
            read_member_rows(members, known_students, set(schools), reserves, problems)
    return reserves


def _compact_members_eligible(
    compacts: dict[str, Compact],
    family: dict[str, str],
    ineligible: dict[tuple[str, str], int],
    where: str,
    problems: Problems,
) -> None:
    """A compact member must be eligible at the compact's school: a compact that places a student
    where it may not go is a bad input, named at the eligible=false row."""
    compacts_of: dict[str, list[Compact]] = defaultdict(list)
    for compact in compacts.values():
        for name in compact.families:
            compacts_of[name].append(compact)
    for (student, school), line in ineligible.items():
        for compact in compacts_of.get(family.get(student, ""), []):
            if compact.school_id != school:
                continue
            problems.add(
                where,
                f"expected student '{student}' to be eligible at '{school}', where compact "
                f"'{compact.compact_id}' places it (compacts.csv line {compact.family_lines[family[student]]})",
                line,
            )


def _read(config: AuditConfig, key: str, required: tuple[str, ...], problems: Problems) -> Table | None:
    path = config.data[key]
    try:
        exists = path.exists()
    except (OSError, ValueError) as error:  # a name too long, a NUL in it, half a UTF-16 pair
        why = error.strerror if isinstance(error, OSError) else "not a name a file can have"
        problems.add(str(config.path), f"data.{key}: cannot read {path} ({why})", config.data_lines.get(key))
        return None
    if not exists:
        problems.add(
            str(config.path),
            f"data.{key}: file not found: {os.path.normpath(path)}",
            config.data_lines.get(key),
        )
        return None
    if path.is_char_device() or path.is_block_device() or path.is_socket():  # /dev/zero never ends
        problems.add(
            str(config.path), f"data.{key}: expected a data file, got a device: {path}", config.data_lines.get(key)
        )
        return None
    return read_data_table(path, problems, required, _data_where(config, key), config.data_sheets.get(key))


def _coordinate(text: str, low: float, high: float) -> float | None:
    try:
        value = float(text)
    except ValueError:
        return None
    return value if low <= value <= high else None


def _students(
    table: Table,
    attributes_needed: list[str],
    need_coordinates: bool,
    with_grades: bool,
    problems: Problems,
) -> tuple[
    list[str],
    dict[str, str],
    dict[str, str],
    dict[str, str],
    dict[str, dict[str, str]],
    dict[str, tuple[float, float] | None],
]:
    where = table.where
    for attribute in attributes_needed:
        if not table.has(attribute):
            problems.add(where, f"missing column {attribute} (named by a diversity rule)", 1)
    if need_coordinates:
        for column in ("lat", "lon"):
            if not table.has(column):
                problems.add(where, f"missing column {column} (the distance weight is above 0)", 1)
    ids = table.column("student_id")
    families = table.column("family_id") if table.has("family_id") else [""] * len(ids)
    grades = table.column("grade") if with_grades else [""] * len(ids)
    homes = table.column("home_cluster") if table.has("home_cluster") else [""] * len(ids)
    students: list[str] = []
    family: dict[str, str] = {}
    grade: dict[str, str] = {}
    home: dict[str, str] = {}
    first_line: dict[str, int] = {}
    for i, (line, student) in enumerate(zip(table.lines, ids, strict=True)):
        if not student:
            problems.add(where, "expected a student_id, got an empty value", line)
            continue
        if student in first_line:
            problems.add(where, f"duplicate student_id {student} (first on line {first_line[student]})", line)
            continue
        first_line[student] = line
        students.append(student)
        # A student without a family is its own family, named by its student_id.
        family[student] = families[i] or student
        if with_grades:
            if not grades[i]:
                problems.add(
                    where,
                    f"expected a grade for student {student} (the file has a grade column)",
                    line,
                )
            grade[student] = grades[i]
        home[student] = homes[i]
    attributes = {
        name: dict(zip(ids, table.column(name), strict=True)) for name in attributes_needed if table.has(name)
    }
    locations: dict[str, tuple[float, float] | None] = {}
    if table.has("lat") and table.has("lon"):
        for line, student, lat_text, lon_text in zip(
            table.lines, ids, table.column("lat"), table.column("lon"), strict=True
        ):
            lat, lon = _coordinate(lat_text, -90, 90), _coordinate(lon_text, -180, 180)
            if lat is None or lon is None:
                if need_coordinates:
                    problems.add(
                        where,
                        f'expected lat and lon in degrees for student {student}, got "{lat_text}", "{lon_text}"',
                        line,
                    )
                locations[student] = None
            else:
                locations[student] = (lat, lon)
    return students, family, grade, home, attributes, locations


def _schools(table: Table, with_grades: bool, need_coordinates: bool, problems: Problems) -> dict[str, School]:
    where = table.where
    if need_coordinates:
        for name in ("lat", "lon"):
            if not table.has(name):
                problems.add(where, f"missing column {name} (the distance weight is above 0)", 1)
    n = len(table)

    def column(name: str) -> list[str]:
        return table.column(name) if table.has(name) else [""] * n

    schools: dict[str, School] = {}
    first_line: dict[str, int] = {}
    for line, school_id, capacity_text, cluster, sector, flag, lat_text, lon_text in zip(
        table.lines,
        column("school_id"),
        column("capacity"),
        column("cluster"),
        column("sector"),
        column("under_selected"),
        column("lat"),
        column("lon"),
        strict=True,
    ):
        if not school_id:
            problems.add(where, "expected a school_id, got an empty value", line)
            continue
        if school_id in first_line:
            problems.add(
                where,
                f"duplicate school_id {school_id} (first on line {first_line[school_id]})",
                line,
            )
            continue
        first_line[school_id] = line
        capacity = 0
        if not with_grades and table.has("capacity"):
            if not _NATURAL.fullmatch(capacity_text):
                problems.add(where, f'expected capacity to be an integer ≥ 0, got "{capacity_text}"', line)
            else:
                capacity = int(capacity_text)
        given: bool | None = None
        if flag:
            if flag.lower() in _TRUE:
                given = True
            elif flag.lower() in _FALSE:
                given = False
            else:
                problems.add(
                    where,
                    f'expected under_selected to be true or false (or empty), got "{flag}"',
                    line,
                )
        lat, lon = _coordinate(lat_text, -90, 90), _coordinate(lon_text, -180, 180)
        if need_coordinates and (lat is None or lon is None):
            problems.add(
                where,
                f'expected lat and lon in degrees for school {school_id}, got "{lat_text}", "{lon_text}"',
                line,
            )
        schools[school_id] = School(school_id, cluster, sector, capacity, given, lat, lon)
    return schools


def _seats(table: Table, schools: dict[str, School], problems: Problems) -> dict[tuple[str, str], int]:
    where = table.where
    seats: dict[tuple[str, str], int] = {}
    first_line: dict[tuple[str, str], int] = {}
    for line, school_id, grade, capacity_text in zip(
        table.lines,
        table.column("school_id"),
        table.column("grade"),
        table.column("capacity"),
        strict=True,
    ):
        if school_id not in schools:
            problems.add(where, f'unknown school_id "{school_id}" (not in schools.csv)', line)
            continue
        if not grade:
            problems.add(where, "expected a grade, got an empty value", line)
            continue
        key = (school_id, grade)
        if key in first_line:
            problems.add(
                where,
                f"duplicate seats row for school {school_id} grade {grade} (first on line {first_line[key]})",
                line,
            )
            continue
        if not _NATURAL.fullmatch(capacity_text):
            problems.add(where, f'expected capacity to be an integer ≥ 0, got "{capacity_text}"', line)
            continue
        first_line[key] = line
        seats[key] = int(capacity_text)
    return seats


def _preferences(
    table: Table, students: set[str], schools: dict[str, School], problems: Problems
) -> dict[str, list[str]]:
    """Each student's schools in rank order.

    The fast path checks in bulk; only a file with a problem is walked row by row,
    to name the line of every problem.
    """
    student_ids, school_ids = table.column("student_id"), table.column("school_id")
    rank_texts = table.column("rank")
    clean = (
        set(student_ids) <= students
        and set(school_ids) <= schools.keys()
        and all(_INTEGER.fullmatch(text) for text in rank_texts)
    )
    if clean:
        ranked: dict[str, list[tuple[int, str]]] = defaultdict(list)
        for student, rank_text, school_id in zip(student_ids, rank_texts, school_ids, strict=True):
            ranked[student].append((int(rank_text), school_id))
        lists: dict[str, list[str]] = {}
        for student, pairs in ranked.items():
            pairs.sort()
            ordered = [school for _rank, school in pairs]
            if len(set(ordered)) != len(pairs) or len({rank for rank, _ in pairs}) != len(pairs):
                clean = False
                break
            lists[student] = ordered
        if clean:
            return lists
    return _preference_problems(table, students, schools, problems)


def _pair_row_ok(
    problems: Problems,
    where: str,
    line: int,
    student: str,
    school_id: str,
    students: set[str],
    schools: dict[str, School],
    column: str,
    text: str,
) -> bool:
    """A (student, school, integer) row: every problem of it reported; True when it can be used."""
    ok = True
    if student not in students:
        problems.add(where, f'unknown student_id "{student}" (not in students.csv)', line)
        ok = False
    if school_id not in schools:
        problems.add(where, f'unknown school_id "{school_id}" (not in schools.csv)', line)
        ok = False
    if not _INTEGER.fullmatch(text):
        problems.add(where, f'expected {column} to be an integer, got "{text}"', line)
        ok = False
    return ok


def _preference_problems(
    table: Table, students: set[str], schools: dict[str, School], problems: Problems
) -> dict[str, list[str]]:
    where = table.where
    ranked: dict[str, list[tuple[int, str]]] = defaultdict(list)
    seen_rank: dict[tuple[str, int], int] = {}
    seen_school: dict[tuple[str, str], int] = {}
    for line, student, school_id, rank_text in zip(
        table.lines,
        table.column("student_id"),
        table.column("school_id"),
        table.column("rank"),
        strict=True,
    ):
        if not _pair_row_ok(problems, where, line, student, school_id, students, schools, "rank", rank_text):
            continue
        rank = int(rank_text)
        if (student, rank) in seen_rank:
            problems.add(
                where,
                f"student {student} has rank {rank} twice (first on line {seen_rank[(student, rank)]})",
                line,
            )
            continue
        if (student, school_id) in seen_school:
            problems.add(
                where,
                f"student {student} lists school {school_id} twice (first on line {seen_school[(student, school_id)]})",
                line,
            )
            continue
        seen_rank[(student, rank)] = line
        seen_school[(student, school_id)] = line
        ranked[student].append((rank, school_id))
    return {student: [school for _rank, school in sorted(pairs)] for student, pairs in ranked.items()}


def _compacts(table: Table, problems: Problems) -> dict[str, Compact]:
    where = table.where
    compacts: dict[str, Compact] = {}
    for line, compact_id, family_id, school_id in zip(
        table.lines,
        table.column("compact_id"),
        table.column("family_id"),
        table.column("school_id"),
        strict=True,
    ):
        empty = [
            name
            for name, value in (
                ("compact_id", compact_id),
                ("family_id", family_id),
                ("school_id", school_id),
            )
            if not value
        ]
        if empty:
            problems.add(where, f"expected a value for {', '.join(empty)}", line)
            continue
        compact = compacts.get(compact_id)
        if compact is None:
            compact = compacts[compact_id] = Compact(compact_id, school_id, [], [], [])
        if school_id not in compact.schools:
            compact.schools.append(school_id)
        if family_id in compact.families:
            compact.repeated_families.append(family_id)
        else:
            compact.families.append(family_id)
            compact.family_lines[family_id] = line
    return compacts


def _feeds(table: Table, schools: dict[str, School], problems: Problems) -> None:
    """schools.csv `feeds`: the school_id of the school each one feeds (empty for none)."""
    if not table.has("feeds"):
        return
    for line, school_id, fed in zip(table.lines, table.column("school_id"), table.column("feeds"), strict=True):
        if not fed or school_id not in schools:
            continue
        if fed not in schools:
            problems.add(
                table.where,
                f'school {school_id} feeds unknown school_id "{fed}" (not in schools.csv)',
                line,
            )
            continue
        schools[school_id].feeds = fed


def _priorities(
    table: Table, students: set[str], schools: dict[str, School], problems: Problems
) -> tuple[dict[tuple[str, str], int], dict[tuple[str, str], int]]:
    """priorities.csv: (student, school) -> priority (0 when not listed), and the pairs marked
    eligible=false -> their line. With an `eligible` column, `priority` may be absent (0)."""
    where = table.where
    if not table.has("priority") and not table.has("eligible"):
        problems.add(where, "missing column priority (or an eligible column)", 1)
        return {}, {}
    n = len(table)
    written_priorities = table.column("priority") if table.has("priority") else [""] * n
    written_eligible = table.column("eligible") if table.has("eligible") else [""] * n
    priorities: dict[tuple[str, str], int] = {}
    ineligible: dict[tuple[str, str], int] = {}
    first_line: dict[tuple[str, str], int] = {}
    for line, student, school_id, written, flag in zip(
        table.lines,
        table.column("student_id"),
        table.column("school_id"),
        written_priorities,
        written_eligible,
        strict=True,
    ):
        # An empty priority beside an eligible column is 0 (an ineligible row needs none).
        number = written or ("0" if table.has("eligible") else written)
        if not _pair_row_ok(problems, where, line, student, school_id, students, schools, "priority", number):
            continue
        key = (student, school_id)
        if key in first_line:
            problems.add(
                where,
                f"student {student} has a priority at school {school_id} twice (first on line {first_line[key]})",
                line,
            )
            continue
        if flag.lower() not in ("", "true", "false"):
            problems.add(where, f'expected eligible to be true or false, got "{flag}"', line)
            continue
        first_line[key] = line
        priorities[key] = int(number)
        if flag.lower() == "false":
            ineligible[key] = line
    return priorities, ineligible
