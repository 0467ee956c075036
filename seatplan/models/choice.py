"""School-choice data beyond priorities: eligibility, the kinds of lottery, and reserves.

- Eligibility: priorities.csv's `eligible` column takes pairs out of the students' lists; the
  positions of the rest stay as preferences.csv writes them (a 3rd choice stays the 3rd).
- Lotteries (`lottery.kind`): `single`, one number per student (students.csv's, or
  sha256("<seed>:<student_id>")); `per_school`, one per student and school (priorities.csv's
  `lottery` column, or sha256("<seed>:<student_id>:<school_id>")); `family`, one per family shared by
  siblings (students.csv's, or sha256("<seed>:family:<family_id>")), siblings then ordered by their
  own single draw (by student_id with numbers from the file). A number is the digest's first 16 hex
  digits as an unsigned integer; smaller is better.
- Reserves: reserves.csv (seats per school, grade and reserve; optional per-school precedence) and
  who is a member where (a students.csv column named in the config, or reserve_members.csv).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from seatplan.models.config import Config
from seatplan.models.errors import Problem
from seatplan.models.tables import (
    Table,
    check_non_empty,
    first_lines,
    lookup,
    parse_integers,
    repeated_keys,
    report_rows,
    require_columns,
)

PRECEDENCES = ("reserve_first", "open_first")


def take_out_ineligible(
    pref_start: np.ndarray, pref_school: np.ndarray, student: np.ndarray, school: np.ndarray, n_schools: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The lists without the ineligible pairs: (pref_start, pref_school, pref_rank, the position
    each ineligible pair had in its student's list (0: not listed)); pref_rank is empty when
    nothing was taken out (positions are then offset + 1)."""
    empty = np.zeros(0, np.int64)
    if not len(student) or not len(pref_school):
        return pref_start, pref_school, empty, np.zeros(len(student), np.int64)
    length = np.diff(pref_start)
    owner = np.repeat(np.arange(len(length)), length)
    position = np.arange(len(pref_school)) - np.repeat(pref_start[:-1], length) + 1
    keys = np.sort(student * n_schools + school)
    wanted = owner * n_schools + pref_school
    at = np.minimum(np.searchsorted(keys, wanted), len(keys) - 1)
    keep = keys[at] != wanted
    if keep.all():
        return pref_start, pref_school, empty, np.zeros(len(student), np.int64)
    kept_length = np.bincount(owner[keep], minlength=len(length))
    start = np.concatenate([[0], np.cumsum(kept_length)]).astype(np.int64)
    # Where each ineligible pair stood in its student's list (0: not listed).
    dropped = ~keep
    dropped_keys = wanted[dropped]
    order = np.argsort(dropped_keys)
    asked = student * n_schools + school
    found_at = np.minimum(np.searchsorted(dropped_keys[order], asked), max(len(order) - 1, 0))
    found = dropped_keys[order][found_at] == asked if len(order) else np.zeros(len(asked), bool)
    ineligible_position = np.where(found, position[dropped][order][found_at] if len(order) else 0, 0)
    return start, pref_school[keep], position[keep].astype(np.int64), ineligible_position.astype(np.int64)


def sha_numbers(texts: list[str]) -> np.ndarray:
    """The first 16 hex digits of each text's SHA-256, as unsigned 64-bit integers."""
    sha256 = hashlib.sha256
    first_bytes = b"".join([sha256(text.encode()).digest()[:8] for text in texts])
    return np.frombuffer(first_bytes, dtype=">u8").astype(np.uint64)


def ranks_of(*keys: np.ndarray) -> np.ndarray:
    """Each row's place (0 = best) in the lexicographic order of `keys` (first key first)."""
    order = np.lexsort(tuple(reversed(keys)))
    rank = np.empty(len(order), dtype=np.int64)
    rank[order] = np.arange(len(order))
    return rank


@dataclass(frozen=True)
class Lottery:
    """The lottery as the Instance keeps it (see the module's docstring for the kinds)."""

    lottery_rank: np.ndarray
    lottery_number: np.ndarray
    pair_lottery_key: np.ndarray
    pair_lottery_rank: np.ndarray
    pair_lottery_number: np.ndarray = field(default_factory=lambda: np.zeros(0, np.float64))


def draw_lottery(
    kind: str,
    seed: int,
    student_ids: np.ndarray,
    family: np.ndarray,
    family_ids: np.ndarray,
    school_ids: np.ndarray,
    pairs: tuple[np.ndarray, np.ndarray],
    numbers: np.ndarray | None = None,
    pair_numbers: np.ndarray | None = None,
) -> Lottery:
    """The lottery of `kind` from `seed` (or from the numbers given in the files). `pairs` are the
    (student, school) pairs a per-school lottery numbers: the listed ones."""
    own = sha_numbers([f"{seed}:{sid}" for sid in student_ids]) if numbers is None else numbers
    empty = np.zeros(0, np.int64)
    if kind == "family":
        if numbers is None:
            shared = sha_numbers([f"{seed}:family:{fid}" for fid in family_ids])[family]
            rank = ranks_of(shared, own)
        else:
            shared = numbers
            rank = ranks_of(shared, _text_order(student_ids))
        return Lottery(rank, shared, empty, empty)
    rank = ranks_of(own)
    if kind != "per_school":
        return Lottery(rank, own, empty, empty)
    student, school = pairs
    if pair_numbers is None:
        pair_numbers = sha_numbers(
            [f"{seed}:{student_ids[s]}:{school_ids[j]}" for s, j in zip(student, school, strict=True)]
        )
    key = student.astype(np.int64) * len(school_ids) + school.astype(np.int64)
    order = np.argsort(key, kind="stable")
    pair_rank = ranks_of(pair_numbers)
    return Lottery(rank, own, key[order], pair_rank[order], np.asarray(pair_numbers)[order])


def _text_order(ids: np.ndarray) -> np.ndarray:
    """Each id's place in the order of the ids as text."""
    order = np.argsort(np.asarray(ids, dtype=str), kind="stable")
    rank = np.empty(len(order), dtype=np.int64)
    rank[order] = np.arange(len(order))
    return rank


def check_family_numbers(table: Table, family: np.ndarray, numbers: np.ndarray, problems: list[Problem]) -> None:
    """lottery.kind family with students.csv's numbers: siblings share one number, families differ."""
    frame = pd.DataFrame({"family": family, "number": numbers})
    first = frame.groupby("family")["number"].transform("first").to_numpy()
    differs = (first != numbers) & np.isfinite(numbers)
    if differs.any():
        first_line = table.frame["_line"].groupby(family).transform("first").to_numpy()
        first_text = table.frame["lottery"].groupby(family).transform("first").to_numpy()
        text = table.frame["lottery"].to_numpy()
        messages = [
            f'expected the lottery number of this student\'s family (line {f}: {n}) with lottery.kind family, got "{v}"'
            for f, n, v in zip(first_line, first_text, text, strict=True)
        ]
        report_rows(table, differs, np.array(messages, dtype=object), problems)
    per_family = frame.drop_duplicates("family")
    repeated = per_family["number"].duplicated(keep=False) & np.isfinite(per_family["number"].to_numpy())
    if repeated.any():
        families = set(per_family["family"][repeated])
        rows = np.isin(family, list(families)) & ~pd.Series(family).duplicated().to_numpy()
        report_rows(
            table,
            rows,
            "expected a different lottery number for each family with lottery.kind family, got one another family has",
            problems,
        )


def per_school_numbers(
    table: Table,
    p_student: np.ndarray,
    p_school: np.ndarray,
    pairs: tuple[np.ndarray, np.ndarray],
    pref_table: Table | None,
    ids: tuple[np.ndarray, np.ndarray],
    problems: list[Problem],
) -> np.ndarray | None:
    """priorities.csv's `lottery` column as each listed pair's number (lottery.kind per_school);
    every listed pair needs one, and the numbers at one school must differ."""
    text = table.frame["lottery"]
    numbers = pd.to_numeric(text.where(text != "", None), errors="coerce").to_numpy(dtype=float)
    bad = ~np.isfinite(numbers) & (text != "").to_numpy()
    if bad.any():
        messages = [f'expected lottery to be a number (smaller is better), got "{v}"' for v in text.to_numpy()]
        report_rows(table, bad, np.array(messages, dtype=object), problems)
    given = np.isfinite(numbers) & (p_student >= 0) & (p_school >= 0)
    # Only rows whose pair is known and number good compete (a bad row is reported already).
    at_school = pd.DataFrame({"school": p_school[given], "number": numbers[given]})
    repeated = np.zeros(len(numbers), bool)
    repeated[np.flatnonzero(given)] = at_school.duplicated(keep="first").to_numpy()
    if repeated.any():
        report_rows(table, repeated, "expected a different lottery number for each student at one school", problems)
    n_schools = len(ids[1])
    keys = p_student[given] * n_schools + p_school[given]
    order = np.argsort(keys)
    student, school = pairs
    wanted = student * n_schools + school
    at = np.minimum(np.searchsorted(keys[order], wanted), max(len(keys) - 1, 0))
    found = (keys[order][at] == wanted) if len(keys) else np.zeros(len(wanted), bool)
    if not found.all():
        _report_missing_numbers(pref_table, student[~found], school[~found], ids, table.file, problems)
        return None
    return numbers[given][order][at]


def _report_missing_numbers(
    preferences: Table | None,
    student: np.ndarray,
    school: np.ndarray,
    ids: tuple[np.ndarray, np.ndarray],
    priorities_file: str,
    problems: list[Problem],
) -> None:
    """One line per listed pair without a per-school number, at its preferences.csv line."""
    if preferences is None:
        return
    n_schools = len(ids[1])
    row_student = pd.Index(ids[0]).get_indexer(pd.Index(preferences.frame["student_id"].to_numpy()))
    row_school = pd.Index(ids[1]).get_indexer(pd.Index(preferences.frame["school_id"].to_numpy()))
    missing = np.isin(row_student * n_schools + row_school, student * n_schools + school)
    missing &= (row_student >= 0) & (row_school >= 0)
    messages = [
        f"expected a lottery number for student '{s}' at '{j}' in {priorities_file}'s lottery column "
        f"(lottery.kind per_school), got none"
        for s, j in zip(preferences.frame["student_id"], preferences.frame["school_id"], strict=True)
    ]
    report_rows(preferences, missing, np.array(messages, dtype=object), problems)


# ---- reserves ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Reserves:
    """Reserves as the Instance keeps them (see Instance's fields)."""

    names: tuple[str, ...]
    seats: np.ndarray  # (J, G, R)
    reserve_first: np.ndarray  # (J,)
    everywhere: np.ndarray  # (R, S)
    pair_student: np.ndarray
    pair_school: np.ndarray
    pair_reserve: np.ndarray


@dataclass(frozen=True)
class ReserveInputs:
    """What reading reserves needs from the other files."""

    config: Config
    student_index: pd.Index
    students_table: Table
    school_index: pd.Index
    schools_file: str
    grades: tuple[str, ...]
    has_grades: bool
    capacity: np.ndarray  # (J, G)


def read_reserves(
    table: Table | None, members: Table | None, inputs: ReserveInputs, problems: list[Problem]
) -> Reserves:
    """reserves.csv and the memberships; every problem reported (one line each)."""
    n_schools, n_grades = inputs.capacity.shape
    n_students = len(inputs.students_table)
    settings = inputs.config.reserves
    empty = np.zeros(0, np.int64)
    none = Reserves(
        (),
        np.zeros((n_schools, n_grades, 0), np.int64),
        np.ones(n_schools, bool),
        np.zeros((0, n_students), bool),
        empty,
        empty,
        empty,
    )
    needed = ["school_id", "reserve", "seats"] + (["grade"] if inputs.has_grades else [])
    if table is None or not require_columns(table, needed, problems):
        return none
    frame = table.frame
    school = lookup(table, "school_id", inputs.school_index, problems, "school", inputs.schools_file)
    check_non_empty(table, "school_id", problems)
    check_non_empty(table, "reserve", problems)
    seats, good = parse_integers(table, "seats", problems, non_negative=True)
    grade = _grade_of_rows(table, inputs, problems)
    names = tuple(str(n) for n in pd.unique(frame["reserve"]) if n != "")
    reserve = pd.Index(list(names), dtype=object).get_indexer(pd.Index(frame["reserve"].to_numpy()))
    key_columns = ["school_id", "reserve"] + (["grade"] if inputs.has_grades else [])
    repeated, key = repeated_keys(table, key_columns)
    if repeated.any():
        first = first_lines(table, key)
        messages = [f"expected one row per school, grade and reserve, got it again (first on line {f})" for f in first]
        report_rows(table, repeated, np.array(messages, dtype=object), problems)
    use = good & (school >= 0) & (grade >= 0) & (reserve >= 0) & ~repeated
    held = np.zeros((n_schools, n_grades, len(names)), np.int64)
    held[school[use], grade[use], reserve[use]] = seats[use]
    _check_reserve_sizes(table, held, school, grade, seats, use, inputs, problems)
    first = _precedence(table, school, settings.precedence, n_schools, problems)
    everywhere = _members_everywhere(names, inputs, problems)
    pairs = _reserve_member_rows(members, names, inputs, problems)
    _check_members_defined(table, names, reserve, members, inputs, problems)
    return Reserves(names, held, first, everywhere, *pairs)


def _grade_of_rows(table: Table, inputs: ReserveInputs, problems: list[Problem]) -> np.ndarray:
    if not inputs.has_grades:
        if table.has("grade"):
            # As seats.csv: without grades, a grade here would be silently ignored.
            problems.append(Problem(table.file, 1, "expected no grade column (students.csv has no grade column)"))
        return np.zeros(len(table), np.int64)
    check_non_empty(table, "grade", problems)
    written = table.frame["grade"].to_numpy()
    grade = pd.Index(list(inputs.grades), dtype=object).get_indexer(pd.Index(written))
    bad = (grade < 0) & (written != "")
    if bad.any():
        messages = [f"unknown grade '{g}' (no seats for it)" for g in written]
        report_rows(table, bad, np.array(messages, dtype=object), problems)
    return grade.astype(np.int64)


def _check_reserve_sizes(
    table: Table,
    held: np.ndarray,
    school: np.ndarray,
    grade: np.ndarray,
    seats: np.ndarray,
    use: np.ndarray,
    inputs: ReserveInputs,
    problems: list[Problem],
) -> None:
    """A reserve larger than the school's seats (that row), and reserves that add up to more (the
    cell's last row)."""
    # Looked up on the usable rows only: a schools.csv with no rows leaves nothing to index.
    cell_seats = np.zeros(len(use), np.int64)
    cell_seats[use] = inputs.capacity[school[use], grade[use]]
    too_large = use & (seats > cell_seats)
    frame = table.frame
    if too_large.any():
        messages = [
            f"expected a reserve of at most the school's {c:,} seats{_in_grade(inputs, g)}, got {s:,} for '{r}'"
            for c, g, s, r in zip(cell_seats, grade, seats, frame["reserve"], strict=True)
        ]
        report_rows(table, too_large, np.array(messages, dtype=object), problems)
    total = held.sum(axis=2)
    cell_total = np.zeros(len(use), np.int64)
    cell_total[use] = total[school[use], grade[use]]
    over = use & ~too_large & (cell_total > cell_seats)
    if over.any():
        # Said once per cell, on its last row.
        last = pd.Series(np.flatnonzero(over)).groupby((school * len(inputs.grades) + grade)[over]).transform("last")
        said = np.zeros(len(table), bool)
        said[last.to_numpy()] = True
        messages = [
            f"expected the reserves of '{j}'{_in_grade(inputs, g)} to total at most its {c:,} seats, got {int(t):,}"
            for j, g, c, t in zip(frame["school_id"], grade, cell_seats, cell_total, strict=True)
        ]
        report_rows(table, said, np.array(messages, dtype=object), problems)


def _in_grade(inputs: ReserveInputs, grade: int) -> str:
    return f" in grade {inputs.grades[grade]}" if inputs.has_grades and grade >= 0 else ""


def _precedence(table: Table, school: np.ndarray, default: str, n_schools: int, problems: list[Problem]) -> np.ndarray:
    """Whether each school fills its reserves first: the precedence column, else the config's."""
    first = np.full(n_schools, default == "reserve_first", dtype=bool)
    if not table.has("precedence"):
        return first
    written = table.frame["precedence"].to_numpy()
    bad = ~np.isin(written, [*PRECEDENCES, ""])
    if bad.any():
        messages = [f'expected precedence to be reserve_first or open_first, got "{v}"' for v in written]
        report_rows(table, bad, np.array(messages, dtype=object), problems)
    given = ~bad & (written != "") & (school >= 0)
    seen: dict[int, tuple[str, int]] = {}
    lines = table.lines()
    clash = np.zeros(len(table), bool)
    messages_by_row = np.full(len(table), "", dtype=object)
    for row in np.flatnonzero(given):
        j = int(school[row])
        if j in seen and seen[j][0] != written[row]:
            clash[row] = True
            messages_by_row[row] = (
                f"expected one precedence per school, got {written[row]} here and {seen[j][0]} on line {seen[j][1]}"
            )
            continue
        seen.setdefault(j, (str(written[row]), int(lines[row])))
        first[j] = written[row] == "reserve_first"
    report_rows(table, clash, messages_by_row, problems)
    return first


def _members_everywhere(names: tuple[str, ...], inputs: ReserveInputs, problems: list[Problem]) -> np.ndarray:
    """(R, S): members of each reserve by a students.csv column (reserves.members in the config)."""
    config, students = inputs.config, inputs.students_table
    out = np.zeros((len(names), len(students)), bool)
    for name, column, value in config.reserves.members:
        if name not in names:
            problems.append(
                Problem(
                    config.display_name,
                    config.line("reserves", "members", name),
                    f"expected reserves.members to name a reserve of reserves.csv "
                    f"({', '.join(names) or 'none'}), got '{name}'",
                )
            )
            continue
        if not students.has(column):
            problems.append(
                Problem(
                    students.file,
                    1,
                    f"expected a column '{column}' for reserves.members.{name} at {config.display_name}:"
                    f"{config.line('reserves', 'members', name)}",
                )
            )
            continue
        out[names.index(name)] = students.frame[column].to_numpy() == value
    return out


def _reserve_member_rows(
    table: Table | None, names: tuple[str, ...], inputs: ReserveInputs, problems: list[Problem]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """reserve_members.csv: (student, school, reserve) of each good row."""
    empty = np.zeros(0, np.int64)
    if table is None or not require_columns(table, ["student_id", "school_id", "reserve"], problems):
        return empty, empty, empty
    student = lookup(table, "student_id", inputs.student_index, problems, "student", inputs.students_table.file)
    school = lookup(table, "school_id", inputs.school_index, problems, "school", inputs.schools_file)
    for column in ("student_id", "school_id", "reserve"):
        check_non_empty(table, column, problems)
    written = table.frame["reserve"].to_numpy()
    reserve = pd.Index(list(names), dtype=object).get_indexer(pd.Index(written))
    unknown = (reserve < 0) & (written != "")
    if unknown.any():
        known = ", ".join(names) or "none"
        messages = [f"unknown reserve '{r}' (reserves.csv has: {known})" for r in written]
        report_rows(table, unknown, np.array(messages, dtype=object), problems)
    use = (student >= 0) & (school >= 0) & (reserve >= 0)
    return student[use].astype(np.int64), school[use].astype(np.int64), reserve[use].astype(np.int64)


def _check_members_defined(
    table: Table,
    names: tuple[str, ...],
    reserve: np.ndarray,
    members: Table | None,
    inputs: ReserveInputs,
    problems: list[Problem],
) -> None:
    """A reserve nobody can be a member of is a mistake: name its members in the config or in
    reserve_members.csv."""
    if members is not None or inputs.config.data.reserve_members is not None:
        return
    named = {name for name, _column, _value in inputs.config.reserves.members}
    for index, name in enumerate(names):
        if name in named:
            continue
        row = int(np.flatnonzero(reserve == index)[0])
        problems.append(
            Problem(
                table.file,
                int(table.lines()[row]),
                f"expected reserve '{name}' to have members: name them under reserves.members in "
                f'{inputs.config.display_name} (e.g. {name}: "ses=low") or give data.reserve_members',
            )
        )
