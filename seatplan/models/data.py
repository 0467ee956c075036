"""The data files, checked against each other and the config, read into one immutable `Instance`.

One reader per file (students, schools, seats, preferences, compacts, priorities), each returning
arrays with ids interned; every problem in every file is collected first and raised once, as a
DataError. A file may be CSV, Parquet or an Excel sheet (tables.py reads all three as text).
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow.compute as pc

from seatplan.models.choice import (
    Lottery,
    ReserveInputs,
    Reserves,
    check_family_numbers,
    draw_lottery,
    per_school_numbers,
    read_reserves,
    sha_numbers,
    take_out_ineligible,
)
from seatplan.models.config import Config, OverridePaths, Overrides, display_path, load_config
from seatplan.models.errors import ConfigError, DataError, Problem, in_order
from seatplan.models.instance import Instance, distance_hundredths, haversine_km
from seatplan.models.tables import (
    Table,
    arrow_text,
    check_non_empty,
    check_unique,
    file_kind,
    first_lines,
    lookup,
    parse_booleans,
    parse_floats,
    parse_integers,
    positions_in,
    read_table,
    repeated_keys,
    repeated_rows,
    report_rows,
    require_columns,
)

__all__ = ["Instance", "distance_hundredths", "haversine_km", "load_inputs", "load_instance", "lottery_from_seed"]


def load_inputs(
    path: str | os.PathLike[str], overrides: Overrides | OverridePaths | None = None
) -> tuple[Config, Instance]:
    """Read a config (with `overrides`, see config.override_paths) and its data files. Every
    problem in both is raised at once.

    A config with problems is still read as far as it goes (defaults in place of bad values); when
    its data files are known they are checked too, so a planner sees the whole list in one pass.
    """
    try:
        config = load_config(path, overrides)
    except ConfigError as error:
        if error.partial is None:
            raise
        try:
            load_instance(error.partial)
        except DataError as data_error:
            raise ConfigError([*error.problems, *data_error.problems]) from None
        raise
    return config, load_instance(config)


def data_inputs(config: Config) -> tuple[object, ...]:
    """Everything load_instance reads from a config: two configs that agree here read the same data
    into the same Instance (as long as the files are unchanged)."""
    attributes = sorted({rule.attribute for rule in config.diversity})
    return (
        config.data,
        tuple(sorted(config.data_sha256.items())),
        tuple(attributes),
        config.compacts,
        config.objective.distance > 0,
        config.solver.seed,
        config.source,
        config.lottery,
        config.reserves,
    )


def load_instance(config: Config) -> Instance:
    """Read and cross-check every data file the config names. Raises DataError with every problem."""
    problems: list[Problem] = []
    tables = _read_tables(config, problems)
    if tables["students"] is None or tables["schools"] is None:
        raise DataError(in_order(problems))
    students = _read_students(tables["students"], config, problems)
    schools = _read_schools(tables["schools"], students, problems)
    capacity = _read_capacity(tables.get("seats"), config, students, schools, problems)
    pref_start, pref_school = _read_preferences(tables["preferences"], students, schools, problems)
    first_choices = np.zeros(schools.n, dtype=np.int64)
    np.add.at(first_choices, pref_school[pref_start[:-1][np.diff(pref_start) > 0]], 1)
    under_selected, not_under_why = _under_selected(config, schools, capacity, first_choices, problems)
    compacts = _compacts(
        tables.get("compacts"), config, students, schools, capacity, under_selected, not_under_why, problems
    )
    choice = _read_choice_data(config, tables.get("priorities"), students, schools, problems)
    ineligible_lines = choice.pop("_ineligible_lines")
    pref_start, pref_school, pref_rank, ineligible_position = take_out_ineligible(
        pref_start, pref_school, choice["ineligible_student"], choice["ineligible_school"], schools.n
    )
    _check_compact_eligibility(
        tables.get("priorities"),
        choice,
        ineligible_lines,
        compacts,
        students,
        schools,
        tables.get("compacts"),
        problems,
    )
    # Only a lottery per school numbers the listed pairs (a city's millions: not built for nothing).
    empty = np.zeros(0, dtype=np.int64)
    listed = (
        (np.repeat(np.arange(students.n), np.diff(pref_start)), pref_school)
        if config.lottery.kind == "per_school"
        else (empty, empty)
    )
    lottery = _lottery(config, students, schools, tables.get("priorities"), tables["preferences"], listed, problems)
    reserves = _reserves(tables, config, students, schools, capacity, problems)
    warnings = schools.warnings + _changed_since_recorded(config)
    _check_coordinates(config, students.table, schools.table, problems)
    if problems:
        raise DataError(in_order(problems))
    parts = _Parts(students, schools, capacity, compacts, choice, lottery, reserves)
    lists = (pref_start, pref_school, pref_rank)
    return _instance(config, parts, first_choices, under_selected, lists, ineligible_position, warnings)


@dataclass(frozen=True)
class _Parts:
    """What the readers made of the data files, for the Instance."""

    students: _Students
    schools: _Schools
    capacity: _Capacity
    compacts: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]
    choice: dict[str, Any]
    lottery: Lottery
    reserves: Reserves


def _reserves(
    tables: dict[str, Table | None],
    config: Config,
    students: _Students,
    schools: _Schools,
    capacity: _Capacity,
    problems: list[Problem],
) -> Reserves:
    """reserves.csv and reserve_members.csv (none without them)."""
    return read_reserves(
        tables.get("reserves"),
        tables.get("reserve_members"),
        ReserveInputs(
            config,
            students.index,
            students.table,
            schools.index,
            schools.table.file,
            capacity.grades,
            students.has_grades,
            capacity.seats,
        ),
        problems,
    )


def _instance(
    config: Config,
    parts: _Parts,
    first_choices: np.ndarray,
    under_selected: np.ndarray,
    lists: tuple[np.ndarray, np.ndarray, np.ndarray],
    ineligible_position: np.ndarray,
    warnings: list[Problem],
) -> Instance:
    """The Instance of the parts read."""
    students, schools, capacity, compacts = parts.students, parts.schools, parts.capacity, parts.compacts
    choice, lottery, reserves = parts.choice, parts.lottery, parts.reserves
    pref_start, pref_school, pref_rank = lists
    return Instance(
        student_ids=students.ids,
        family=students.family,
        family_ids=students.family_ids,
        grade=students.grade,
        grades=capacity.grades,
        has_grades=students.has_grades,
        home_cluster=schools.home_cluster,
        student_lat=students.lat,
        student_lon=students.lon,
        attributes=students.attributes,
        school_ids=schools.ids,
        school_names=schools.names,
        school_cluster=schools.cluster,
        clusters=schools.clusters,
        school_sector=schools.sector,
        sectors=schools.sectors,
        capacity=capacity.seats,
        under_selected=under_selected,
        first_choices=first_choices,
        school_lat=schools.lat,
        school_lon=schools.lon,
        pref_start=pref_start,
        pref_school=pref_school,
        compact_ids=compacts[0],
        compact_school=compacts[1],
        compact_family_count=compacts[2],
        compact_of_student=compacts[3],
        pref_rank=pref_rank,
        **choice,
        lottery_rank=lottery.lottery_rank,
        lottery_number=lottery.lottery_number,
        pair_lottery_key=lottery.pair_lottery_key,
        pair_lottery_rank=lottery.pair_lottery_rank,
        pair_lottery_number=lottery.pair_lottery_number,
        ineligible_position=ineligible_position,
        reserve_names=reserves.names,
        reserve_seats=reserves.seats,
        reserve_first=reserves.reserve_first,
        reserve_hold=config.reserves.unfilled == "hold",
        reserve_everywhere=reserves.everywhere,
        reserve_pair_student=reserves.pair_student,
        reserve_pair_school=reserves.pair_school,
        reserve_pair_reserve=reserves.pair_reserve,
        warnings=tuple(warnings),
    )


def _read_tables(config: Config, problems: list[Problem]) -> dict[str, Table | None]:
    """Every data file the config names, read as text; a missing one is said on the config's line."""
    tables: dict[str, Table | None] = {}
    for key, path in config.data.named().items():
        display = display_path(path)
        # Said where the planner can fix it: the config line that names the file.
        try:
            exists = path.exists()
        except OSError as error:  # a name too long for the file system, a loop of links
            exists, display = False, f"{display} ({error.strerror})"
        if not exists:
            message = f"expected data.{key} to name an existing file, got {display}"
            message += "" if message.endswith(")") else " (no such file)"
        elif path.is_dir():
            message = f"expected data.{key} to name {file_kind(path)} file, got a folder: {display}"
        else:
            tables[key] = read_table(path, display, problems, config.data.sheets.get(key))
            continue
        problems.append(Problem(config.display_name, config.line("data", key), message))
        tables[key] = None
    tables.setdefault("preferences", None)
    return tables


@dataclass
class _Students:
    """students.csv: ids (unique), families, grades, coordinates and the attributes rules name."""

    table: Table
    ids: np.ndarray
    index: pd.Index
    family: np.ndarray
    family_ids: np.ndarray
    grade: np.ndarray
    grades: tuple[str, ...]
    has_grades: bool
    attributes: dict[str, np.ndarray]
    lat: np.ndarray
    lon: np.ndarray

    @property
    def n(self) -> int:
        return len(self.ids)


def _read_students(table: Table, config: Config, problems: list[Problem]) -> _Students:
    attributes_needed = {rule.attribute: rule for rule in config.diversity if rule.attribute}
    ok = require_columns(table, ["student_id"], problems)
    for attribute, rule in attributes_needed.items():
        require_columns(table, [attribute], problems, f" for the diversity rule at {config.display_name}:{rule.line}")
    if not ok:
        raise DataError(in_order(problems))
    if len(table) == 0:
        problems.append(Problem(table.file, 1, "expected at least one student, got only the header"))
    check_non_empty(table, "student_id", problems)
    unique = check_unique(table, "student_id", problems, "student_id")
    frame = table.frame
    ids = frame["student_id"].to_numpy(dtype=object)
    n = len(ids)
    family_codes, family_ids = _families(table, ids)
    has_grades = table.has("grade")
    if has_grades:
        check_non_empty(table, "grade", problems)
        grade_codes, grade_values = pd.factorize(frame["grade"])
        grades = tuple(str(g) for g in grade_values)
    else:
        grade_codes, grades = np.zeros(n, dtype=np.int64), ("",)
    return _Students(
        table=table,
        ids=ids,
        index=pd.Index(ids) if unique else _unique_index(ids),
        family=np.asarray(family_codes, dtype=np.int64),
        family_ids=np.asarray(family_ids, dtype=object),
        grade=np.asarray(grade_codes, dtype=np.int64),
        grades=grades,
        has_grades=has_grades,
        attributes={name: frame[name].to_numpy(dtype=object) for name in attributes_needed if table.has(name)},
        lat=parse_floats(table, "lat", problems, -90, 90) if table.has("lat") else np.full(n, np.nan),
        lon=parse_floats(table, "lon", problems, -180, 180) if table.has("lon") else np.full(n, np.nan),
    )


def _families(table: Table, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each student's family as a code, and the family ids in order of first appearance (as
    pd.factorize numbers them); a student without a family_id is a family of its own, named by its
    id. Numbered by Arrow when every student has one (the usual file: half a million ids)."""
    arrow = arrow_text(table.frame["family_id"]) if table.has("family_id") else None
    if arrow is not None and len(arrow) and not pc.any(pc.equal(arrow, "")).as_py():
        encoded = pc.dictionary_encode(arrow.combine_chunks())
        return encoded.indices.to_numpy().astype(np.int64), encoded.dictionary.to_numpy(zero_copy_only=False)
    family_text = table.frame["family_id"].to_numpy(dtype=object) if table.has("family_id") else ids
    family_text = np.where(family_text == "", ids, family_text)
    codes, uniques = pd.factorize(pd.Series(family_text, dtype=object))
    return np.asarray(codes), np.asarray(uniques, dtype=object)


def _unique_index(ids: np.ndarray) -> pd.Index:
    """An index for id lookups; with repeated ids (reported already), their first rows."""
    index = pd.Index(ids)
    return index if index.is_unique else pd.Index(pd.Series(ids).drop_duplicates())


@dataclass
class _Schools:
    """schools.csv with the clusters of schools and of students' homes, sectors and coordinates."""

    table: Table
    ids: np.ndarray
    index: pd.Index
    names: np.ndarray
    cluster: np.ndarray
    clusters: tuple[str, ...]
    home_cluster: np.ndarray
    sector: np.ndarray
    sectors: tuple[str, ...]
    lat: np.ndarray
    lon: np.ndarray
    warnings: list[Problem] = field(default_factory=list)

    @property
    def n(self) -> int:
        return len(self.ids)


def _read_schools(table: Table, students: _Students, problems: list[Problem]) -> _Schools:
    if not require_columns(table, ["school_id"], problems):
        raise DataError(in_order(problems))
    if len(table) == 0:
        problems.append(Problem(table.file, 1, "expected at least one school, got only the header"))
    check_non_empty(table, "school_id", problems)
    check_unique(table, "school_id", problems, "school_id")
    frame = table.frame
    ids = frame["school_id"].to_numpy(dtype=object)
    n = len(ids)
    cluster_text = frame["cluster"] if table.has("cluster") else pd.Series([""] * n)
    home_text = (
        students.table.frame["home_cluster"] if students.table.has("home_cluster") else pd.Series([""] * students.n)
    )
    # A home cluster no school is in is still a cluster: its students are outside every clustered
    # school (rule 5 leaves them the citywide schools), not free of clusters.
    school_clusters, home_clusters = set(cluster_text.unique()), set(home_text.unique())
    clusters = tuple(sorted((school_clusters | home_clusters) - {""}))
    sector_text = frame["sector"] if table.has("sector") else pd.Series([""] * n)
    sectors = tuple(sorted(set(sector_text.unique()) - {""}))
    return _Schools(
        table=table,
        ids=ids,
        index=_unique_index(ids),
        names=frame["name"].to_numpy(dtype=object) if table.has("name") else ids.copy(),
        cluster=_codes(cluster_text, clusters),
        clusters=clusters,
        home_cluster=_codes(home_text, clusters),
        sector=_codes(sector_text, sectors),
        sectors=sectors,
        lat=parse_floats(table, "lat", problems, -90, 90) if table.has("lat") else np.full(n, np.nan),
        lon=parse_floats(table, "lon", problems, -180, 180) if table.has("lon") else np.full(n, np.nan),
        warnings=_schoolless_clusters(students.table, home_text, home_clusters - school_clusters - {""}),
    )


def _codes(text: pd.Series, values: tuple[str, ...]) -> np.ndarray:
    """Each text's index in `values`, -1 where it is empty."""
    found = positions_in(text, pd.Index(list(values), dtype=object))
    return np.where((text == "").to_numpy(dtype=bool), -1, found).astype(np.int64)


def _schoolless_clusters(students: Table, home_text: pd.Series, schoolless: set[str]) -> list[Problem]:
    if not schoolless:
        return []
    names = sorted(schoolless)
    count = int(np.isin(home_text.to_numpy(), names).sum())
    return [
        Problem(
            students.file,
            None,
            f"{count:,} students have a home_cluster that no school is in "
            f"({', '.join(names[:5])}{', …' if len(names) > 5 else ''}); every clustered school "
            f"is outside their cluster",
        )
    ]


@dataclass
class _Capacity:
    """Seats per school and grade; which schools' seats could be read; the grades seats name."""

    seats: np.ndarray
    known: np.ndarray
    grades: tuple[str, ...]


def _read_capacity(
    seats: Table | None, config: Config, students: _Students, schools: _Schools, problems: list[Problem]
) -> _Capacity:
    """Seats from schools.csv's capacity without grades, from seats.csv with them. Where a school's
    capacity cannot be read (reported), checks that need it stay quiet rather than repeat it."""
    if not students.has_grades:
        return _capacity_without_grades(config, students, schools, problems)
    capacity = _Capacity(
        np.zeros((schools.n, len(students.grades)), dtype=np.int64), np.zeros(schools.n, bool), students.grades
    )
    if config.data.seats is None:
        problems.append(
            Problem(
                config.display_name,
                config.line("data"),
                f"expected data.seats (a seats.csv with school_id,grade,capacity) because "
                f"{students.table.file} has a grade column",
            )
        )
    elif seats is not None and require_columns(seats, ["school_id", "grade", "capacity"], problems):
        capacity = _read_seats(seats, students, schools, problems)
    return capacity


def _capacity_without_grades(
    config: Config, students: _Students, schools: _Schools, problems: list[Problem]
) -> _Capacity:
    capacity = _Capacity(np.zeros((schools.n, 1), dtype=np.int64), np.zeros(schools.n, dtype=bool), ("",))
    if config.data.seats is not None:
        problems.append(
            Problem(
                config.display_name,
                config.line("data", "seats"),
                f"expected a grade column in {students.table.file} because data.seats is given "
                f"(without grades, remove data.seats: capacity then comes from schools.csv)",
            )
        )
    if require_columns(schools.table, ["capacity"], problems, " (an integer ≥ 0: seats at the school)"):
        values, good = parse_integers(schools.table, "capacity", problems, non_negative=True)
        capacity.seats[:, 0] = np.where(good, values, 0)
        capacity.known = good
    return capacity


def _read_seats(seats: Table, students: _Students, schools: _Schools, problems: list[Problem]) -> _Capacity:
    """seats.csv: one row per school and grade. Grades only it names (no student in them) still
    count in a school's total capacity: the share cap and the under-selected test are about all seats."""
    frame = seats.frame
    where_school = lookup(seats, "school_id", schools.index, problems, "school", schools.table.file)
    check_non_empty(seats, "school_id", problems)
    check_non_empty(seats, "grade", problems)
    key = frame["school_id"] + "\x1f" + frame["grade"]
    repeated = key.duplicated().to_numpy()
    if repeated.any():
        first_seen = first_lines(seats, key)
        messages = [
            f"expected one row per school and grade, got school '{j}' grade '{g}' again (first on line {f})"
            for j, g, f in zip(frame["school_id"], frame["grade"], first_seen, strict=True)
        ]
        report_rows(seats, repeated, np.array(messages, dtype=object), problems)
    values, good = parse_integers(seats, "capacity", problems, non_negative=True)
    grades = students.grades
    idle = [g for g in frame["grade"].unique() if g != "" and g not in grades]
    grades = grades + tuple(idle)
    capacity = np.zeros((schools.n, len(grades)), dtype=np.int64)
    grade_of_row = pd.Index(list(grades), dtype=object).get_indexer(pd.Index(frame["grade"].to_numpy()))
    use = good & (where_school >= 0) & (grade_of_row >= 0) & ~repeated
    capacity[where_school[use], grade_of_row[use]] = values[use]
    known = np.ones(schools.n, dtype=bool)
    known[where_school[~good & (where_school >= 0)]] = False
    offered = set(frame["grade"].unique())
    for number, grade in enumerate(students.grades):
        if grade not in offered and grade != "":
            # Reported on the first student of that grade: seats.csv has no line to point at.
            of_grade = np.flatnonzero(students.grade == number)
            problems.append(
                Problem(
                    students.table.file,
                    int(students.table.lines()[of_grade[0]]),
                    f"expected seats for grade '{grade}' in {seats.file}, got none "
                    f"({len(of_grade):,} student{'s' if len(of_grade) != 1 else ''} of this grade)",
                )
            )
    return _Capacity(capacity, known, grades)


def _read_preferences(
    table: Table | None, students: _Students, schools: _Schools, problems: list[Problem]
) -> tuple[np.ndarray, np.ndarray]:
    """preferences.csv as lists: student s lists pref_school[pref_start[s]:pref_start[s+1]], in rank order."""
    pref_start = np.zeros(students.n + 1, dtype=np.int64)
    pref_school = np.zeros(0, dtype=np.int64)
    if table is None or not require_columns(table, ["student_id", "school_id", "rank"], problems):
        return pref_start, pref_school
    p_student = lookup(table, "student_id", students.index, problems, "student", students.table.file)
    p_school = lookup(table, "school_id", schools.index, problems, "school", schools.table.file)
    check_non_empty(table, "student_id", problems)
    check_non_empty(table, "school_id", problems)
    rank, good_rank = parse_integers(table, "rank", problems)
    frame = table.frame
    student_code, school_code = _id_codes(table, "student_id", p_student), _id_codes(table, "school_id", p_school)
    repeated_school = repeated_rows(student_code, school_code)
    if repeated_school.any():
        first_seen = first_lines(table, pd.DataFrame({"student": student_code, "school": school_code}))
        messages = [
            f"expected each school once in a student's list, got student '{s}' listing school '{j}' again "
            f"(first on line {f})"
            for s, j, f in zip(frame["student_id"], frame["school_id"], first_seen, strict=True)
        ]
        report_rows(table, repeated_school, np.array(messages, dtype=object), problems)
    # Ranks compare as numbers: "1" and "01" are the same rank.
    repeated_rank = repeated_rows(student_code, rank) & ~repeated_school & good_rank
    if repeated_rank.any():
        first_seen = first_lines(table, pd.DataFrame({"student": student_code, "rank": rank}))
        messages = [
            f"expected each rank once in a student's list, got student '{s}' with rank {r} again (first on line {f})"
            for s, r, f in zip(frame["student_id"], frame["rank"], first_seen, strict=True)
        ]
        report_rows(table, repeated_rank, np.array(messages, dtype=object), problems)
    use = (p_student >= 0) & (p_school >= 0) & good_rank & ~repeated_school & ~repeated_rank
    # Every row is usually good, and its lists written student by student in rank order: then there
    # is nothing to take out and nothing to sort (five million rows, each copy counts).
    s, j, r = (p_student, p_school, rank) if use.all() else (p_student[use], p_school[use], rank[use])
    listed_in_order = bool(np.all((s[1:] > s[:-1]) | ((s[1:] == s[:-1]) & (r[1:] > r[:-1]))))
    if not listed_in_order:
        order = np.lexsort((r, s))
        s, j = s[order], j[order]
    pref_school = j.astype(np.int64, copy=False)
    pref_start = np.searchsorted(s, np.arange(students.n + 1)).astype(np.int64)
    return pref_start, pref_school


def _id_codes(table: Table, column: str, found: np.ndarray) -> np.ndarray:
    """A code per row of an id column, equal for equal ids: the positions `found` by lookup when every
    id was found (the usual file: the check for repeats then hashes no string again), else the
    column's own codes (an unknown id has no position of its own)."""
    return found if len(found) and int(found.min()) >= 0 else table.codes(column)[0]


def _under_selected(
    config: Config, schools: _Schools, capacity: _Capacity, first_choices: np.ndarray, problems: list[Problem]
) -> tuple[np.ndarray, np.ndarray]:
    """Under-selected schools (fewer than ratio × seats first choices, unless schools.csv says), and
    why each school is not, for the compact check's message. A school schools.csv judges counts as
    known (its capacity does not matter then)."""
    ratio = config.compacts.under_selected_ratio
    total = capacity.seats.sum(axis=1)
    # fewer than ratio × capacity first choices, in exact arithmetic: count·den < num·capacity
    under_selected = first_choices * ratio.denominator < ratio.numerator * total
    not_under_why = np.array(
        [
            f"{first_choices[j]:,} first choices for {total[j]:,} seats, and under-selected means fewer "
            f"than {ratio} × seats (compacts.under_selected_ratio)"
            for j in range(schools.n)
        ],
        dtype=object,
    )
    table = schools.table
    if table.has("under_selected"):
        given = parse_booleans(table, "under_selected", problems)
        under_selected = np.where(given >= 0, given == 1, under_selected)
        capacity.known = capacity.known | (given >= 0)
        lines, written = table.lines(), table.frame["under_selected"].to_numpy()
        for j in np.flatnonzero(given == 0):
            not_under_why[j] = f"{table.file}:{lines[j]} says under_selected {written[j]}"
    return np.asarray(under_selected, dtype=bool), not_under_why


def _compacts(
    table: Table | None,
    config: Config,
    students: _Students,
    schools: _Schools,
    capacity: _Capacity,
    under_selected: np.ndarray,
    not_under_why: np.ndarray,
    problems: list[Problem],
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """compacts.csv, or no compact: (ids, school, families per compact, compact of each student)."""
    if table is None or not require_columns(table, ["compact_id", "family_id", "school_id"], problems):
        return (
            np.zeros(0, dtype=object),
            np.zeros(0, dtype=np.int64),
            np.zeros(0, dtype=np.int64),
            np.full(students.n, -1, dtype=np.int64),
        )
    return _read_compacts(
        table,
        config,
        schools.index,
        students.family_ids,
        students.family,
        schools.ids,
        under_selected | ~capacity.known,
        not_under_why,
        schools.table.file,
        students.table.file,
        problems,
    )


def _changed_since_recorded(config: Config) -> list[Problem]:
    """A run's config.yaml records the data it was solved with: say which file changed since."""
    warnings = []
    for key, recorded in config.data_sha256.items():
        named = config.data.named().get(key)
        try:
            changed = named is not None and named.is_file() and file_sha256(named) != recorded
        except OSError:  # unreadable: reading it for the data says so, on its own line
            changed = False
        if changed and named is not None:
            warnings.append(
                Problem(
                    config.display_name,
                    config.line("data_sha256", key),
                    f"{display_path(named)} has changed since this config was written (its SHA-256 differs "
                    f"from data_sha256.{key}); solving the data as they are now",
                )
            )
    return warnings


def _check_coordinates(config: Config, students: Table, schools: Table, problems: list[Problem]) -> None:
    """Distance needs both ends of every trip."""
    if config.objective.distance <= 0:
        return
    where = f"{config.display_name}:{config.line('objective', 'distance')}"
    why = f" because objective.distance is {config.objective.distance} ({where})"
    for table in (students, schools):
        if not (table.has("lat") and table.has("lon")):
            require_columns(table, ["lat", "lon"], problems, why)
        else:
            empty = (table.frame[["lat", "lon"]] == "").any(axis=1).to_numpy()
            report_rows(table, empty, f"expected lat and lon{why}", problems)


def _read_compacts(
    table: Table,
    config: Config,
    school_index: pd.Index,
    family_ids: np.ndarray,
    family_codes: np.ndarray,
    school_ids: np.ndarray,
    under_selected: np.ndarray,
    not_under_why: np.ndarray,
    schools_file: str,
    students_file: str,
    problems: list[Problem],
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """compacts.csv: one row per family in a compact. Checks every protection the config asks for."""
    frame = table.frame
    lines = table.lines()
    check_non_empty(table, "compact_id", problems)
    check_non_empty(table, "family_id", problems)
    check_non_empty(table, "school_id", problems)
    row_school = lookup(table, "school_id", school_index, problems, "school", schools_file)
    row_family = lookup(
        table,
        "family_id",
        pd.Index(family_ids),
        problems,
        "family",
        f"{students_file}: no student has this family_id",
    )
    settings = config.compacts
    school_text = frame["school_id"].to_numpy()

    compact_ids: list[str] = []
    compact_school: list[int] = []
    family_count: list[int] = []
    compact_of_family = np.full(len(family_ids), -1, dtype=np.int64)
    first_line_of_family: dict[int, int] = {}
    for compact_id, rows in _groups(table, "compact_id"):
        if compact_id == "":
            continue
        first = int(lines[rows[0]])
        _one_school(table, str(compact_id), rows, school_text, problems)
        school = int(row_school[rows[0]])
        names = (family_ids, compact_ids)
        seen = (compact_of_family, first_line_of_family)
        families = _new_families(table, str(compact_id), rows, row_family, names, seen, problems)
        count = len(set(int(f) for f in row_family[rows] if f >= 0))
        # With an unknown family the count is not what the planner meant; that row is reported already.
        if (row_family[rows] >= 0).all() and not settings.min_families <= count <= settings.max_families:
            problems.append(
                Problem(
                    table.file,
                    first,
                    f"expected compact '{compact_id}' to have {settings.min_families} to "
                    f"{settings.max_families} families (compacts.min_families, max_families), got {count}",
                )
            )
        if school >= 0 and settings.require_under_selected and not under_selected[school]:
            problems.append(
                Problem(
                    table.file,
                    first,
                    f"expected compact '{compact_id}' to name an under-selected school "
                    f"(compacts.require_under_selected is true), got '{school_ids[school]}': "
                    f"{not_under_why[school]}",
                )
            )
        index = len(compact_ids)
        for family in families:
            compact_of_family[family] = index
        compact_ids.append(str(compact_id))
        compact_school.append(school)
        family_count.append(count)
    compact_of_student = compact_of_family[np.asarray(family_codes)]
    return (
        np.array(compact_ids, dtype=object),
        np.array(compact_school, dtype=np.int64),
        np.array(family_count, dtype=np.int64),
        compact_of_student,
    )


def _one_school(
    table: Table, compact_id: str, rows: np.ndarray, school_text: np.ndarray, problems: list[Problem]
) -> None:
    """One school per compact: every row that differs from the first is reported on its own line."""
    lines = table.lines()
    first = int(lines[rows[0]])
    for row in rows[1:]:
        if school_text[row] != school_text[rows[0]]:
            problems.append(
                Problem(
                    table.file,
                    int(lines[row]),
                    f"expected every row of compact '{compact_id}' to name school "
                    f"'{school_text[rows[0]]}' (as on line {first}), got '{school_text[row]}'; "
                    f"a compact applies to one school",
                )
            )


def _new_families(
    table: Table,
    compact_id: str,
    rows: np.ndarray,
    row_family: np.ndarray,
    names: tuple[np.ndarray, list[str]],
    seen: tuple[np.ndarray, dict[int, int]],
    problems: list[Problem],
) -> list[int]:
    """The compact's families, each once and in no other compact (a repeat is reported on its line);
    `seen`: each family's compact so far and its first line."""
    family_ids, compact_ids = names
    compact_of_family, first_line_of_family = seen
    lines = table.lines()
    families: list[int] = []
    for row in rows:
        family = int(row_family[row])
        if family < 0:
            continue
        if family in families:
            problems.append(
                Problem(
                    table.file,
                    int(lines[row]),
                    f"expected family '{family_ids[family]}' once in compact '{compact_id}', got it "
                    f"again (first on line {first_line_of_family[family]})",
                )
            )
            continue
        if compact_of_family[family] >= 0:
            problems.append(
                Problem(
                    table.file,
                    int(lines[row]),
                    f"expected family '{family_ids[family]}' in one compact only, got compacts "
                    f"'{compact_ids[compact_of_family[family]]}' (line {first_line_of_family[family]}) "
                    f"and '{compact_id}'",
                )
            )
            continue
        families.append(family)
        first_line_of_family[family] = int(lines[row])
    return families


def _groups(table: Table, column: str) -> list[tuple[str, np.ndarray]]:
    """(value, its rows in file order) for each value of `column`, in order of first appearance (as
    groupby(sort=False) walks them, without a frame per group)."""
    codes, values = table.codes(column)
    order = np.argsort(codes, kind="stable")
    bounds = np.searchsorted(codes[order], np.arange(len(values) + 1))
    return [(str(value), order[bounds[k] : bounds[k + 1]]) for k, value in enumerate(values)]


def lottery_from_seed(student_ids: np.ndarray, seed: int) -> np.ndarray:
    """The documented draw when students.csv has no lottery column: each student's number is the
    first 16 hex digits of SHA-256("<seed>:<student_id>"), smaller is better. Anyone can redo it,
    in any language, and it does not depend on the order of the file."""
    return sha_numbers([f"{seed}:{sid}" for sid in student_ids])


def _read_choice_data(
    config: Config, priorities: Table | None, students: _Students, schools: _Schools, problems: list[Problem]
) -> dict[str, np.ndarray]:
    """School choice: the lottery order, feeders and current schools, and priorities.csv."""
    return {
        **_feeders(students, schools, problems),
        **_read_priorities(priorities, students, schools, problems),
    }


def _lottery(
    config: Config,
    students: _Students,
    schools: _Schools,
    priorities: Table | None,
    preferences: Table | None,
    listed: tuple[np.ndarray, np.ndarray],
    problems: list[Problem],
) -> Lottery:
    """The lottery of config.lottery.kind: numbers from the files when they give them, else drawn
    from solver.seed (models/choice.py says how)."""
    kind, table = config.lottery.kind, students.table
    if kind == "family" and not table.has("family_id"):
        problems.append(
            Problem(
                config.display_name,
                config.line("lottery", "kind"),
                f"expected {table.file} to have a family_id column with lottery.kind family (siblings share a number)",
            )
        )
    numbers = (
        _lottery_numbers(table, problems, kind == "family") if table.has("lottery") and kind != "per_school" else None
    )
    if numbers is not None and kind == "family":
        check_family_numbers(table, students.family, numbers, problems)
    pair_numbers = None
    # Without its id columns priorities.csv is reported by its own reader; no numbers are read from it.
    readable = priorities is not None and all(priorities.has(c) for c in ("student_id", "school_id", "lottery"))
    if kind == "per_school" and priorities is not None and readable:
        p_student = students.index.get_indexer(pd.Index(priorities.frame["student_id"].to_numpy()))
        p_school = schools.index.get_indexer(pd.Index(priorities.frame["school_id"].to_numpy()))
        pair_numbers = per_school_numbers(
            priorities, p_student, p_school, listed, preferences, (students.ids, schools.ids), problems
        )
    return draw_lottery(
        kind,
        config.solver.seed,
        students.ids,
        students.family,
        students.family_ids,
        schools.ids,
        listed,
        numbers,
        pair_numbers,
    )


def _lottery_numbers(table: Table, problems: list[Problem], shared: bool = False) -> np.ndarray:
    """The lottery column as numbers (a bad one is reported and sorts last); each must differ
    (unless `shared`: siblings share theirs, checked apart)."""
    text = table.frame["lottery"]
    numbers = pd.to_numeric(text.where(text != "", None), errors="coerce").to_numpy(dtype=float)
    bad = ~np.isfinite(numbers)
    if bad.any():
        messages = [f'expected lottery to be a number (smaller is better), got "{v}"' for v in text.to_numpy()]
        report_rows(table, bad, np.array(messages, dtype=object), problems)
    repeated = pd.Series(numbers).duplicated(keep="first").to_numpy() & ~bad
    if repeated.any() and not shared:
        # Rows that are not numbers have no group, so the lines come back as floats (NaN there).
        first = np.nan_to_num(first_lines(table, pd.Series(numbers)).astype(float)).astype(np.int64)
        messages = [
            f'expected a different lottery number for each student, got "{v}" again (first on line {f})'
            for v, f in zip(text.to_numpy(), first, strict=True)
        ]
        report_rows(table, repeated, np.array(messages, dtype=object), problems)
    return np.where(bad, np.inf, numbers)


def _feeders(students: _Students, schools: _Schools, problems: list[Problem]) -> dict[str, np.ndarray]:
    """The school each school feeds (schools.csv's feeds) and each student's current school. A
    current school that is not in schools.csv is outside the match: it feeds nothing."""
    feeds = np.full(schools.n, -1, dtype=np.int64)
    if schools.table.has("feeds"):
        found = lookup(
            schools.table,
            "feeds",
            schools.index,
            problems,
            "school",
            f"{schools.table.file}: expected feeds to name a school_id",
        )
        feeds = np.where(schools.table.frame["feeds"].to_numpy() == "", -1, found).astype(np.int64)
    current = np.full(students.n, -1, dtype=np.int64)
    if students.table.has("current_school"):
        current = schools.index.get_indexer(pd.Index(students.table.frame["current_school"].to_numpy())).astype(
            np.int64
        )
    return {"school_feeds": feeds, "current_school": current}


def _read_priorities(
    table: Table | None, students: _Students, schools: _Schools, problems: list[Problem]
) -> dict[str, np.ndarray]:
    """priorities.csv: one integer per (student, school) it lists (0 for the pairs it does not),
    whether the student is eligible there (`eligible`, true when absent) and, for lottery.kind
    per_school, the pair's lottery number (`lottery`)."""
    empty = np.zeros(0, np.int64)
    out = {"priority_student": empty, "priority_school": empty, "priority_value": empty}
    out |= {"ineligible_student": empty, "ineligible_school": empty, "_ineligible_lines": empty}
    if table is None:
        return out
    # With an eligible column, priorities are optional: a file may only say who is eligible where.
    needed = ["student_id", "school_id"] + ([] if table.has("eligible") else ["priority"])
    if not require_columns(table, needed, problems):
        return out
    p_student = lookup(table, "student_id", students.index, problems, "student", students.table.file)
    p_school = lookup(table, "school_id", schools.index, problems, "school", schools.table.file)
    check_non_empty(table, "student_id", problems)
    check_non_empty(table, "school_id", problems)
    if table.has("priority"):
        value, good = parse_integers(table, "priority", problems, allow_empty=table.has("eligible"))
    else:
        value, good = np.zeros(len(table), np.int64), np.ones(len(table), bool)
    repeated, key = repeated_keys(table, ["student_id", "school_id"])
    if repeated.any():
        first = first_lines(table, key)
        frame = table.frame
        messages = [
            f"expected one priority per student and school, got '{s}' at '{j}' again (first on line {f})"
            for s, j, f in zip(frame["student_id"], frame["school_id"], first, strict=True)
        ]
        report_rows(table, repeated, np.array(messages, dtype=object), problems)
    known = (p_student >= 0) & (p_school >= 0) & ~repeated
    use = known & good
    eligible = _eligible_column(table, problems) if table.has("eligible") else np.ones(len(table), np.int8)
    ineligible = known & (eligible == 0)
    out |= {
        "priority_student": p_student[use].astype(np.int64),
        "priority_school": p_school[use].astype(np.int64),
        "priority_value": value[use].astype(np.int64),
        "ineligible_student": p_student[ineligible].astype(np.int64),
        "ineligible_school": p_school[ineligible].astype(np.int64),
        "_ineligible_lines": table.lines()[ineligible].astype(np.int64),
    }
    return out


def _eligible_column(table: Table, problems: list[Problem]) -> np.ndarray:
    """priorities.csv's `eligible`: true or false (any case), empty for true; 1 or 0 per row."""
    text = table.frame["eligible"].str.lower().to_numpy()
    bad = ~np.isin(text, ["true", "false", ""])
    if bad.any():
        raw = table.frame["eligible"].to_numpy()
        messages = np.array([f'expected eligible to be true or false, got "{v}"' for v in raw], dtype=object)
        report_rows(table, bad, messages, problems)
    return np.where(text == "false", 0, 1).astype(np.int8)


def _check_compact_eligibility(
    priorities: Table | None,
    choice: dict[str, np.ndarray],
    lines: np.ndarray,
    compacts: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray],
    students: _Students,
    schools: _Schools,
    compacts_table: Table | None,
    problems: list[Problem],
) -> None:
    """A student ineligible at the school its compact places it: said on the priorities.csv line."""
    ids, compact_school, _count, compact_of_student = compacts
    if priorities is None or not len(ids) or not len(lines):
        return
    student, school = choice["ineligible_student"], choice["ineligible_school"]
    compact = compact_of_student[student]
    clash = (compact >= 0) & (compact_school[np.maximum(compact, 0)] == school)
    first_line = _compact_first_lines(compacts_table, ids)
    for row in np.flatnonzero(clash):
        c = int(compact[row])
        problems.append(
            Problem(
                priorities.file,
                int(lines[row]),
                f"expected student '{students.ids[student[row]]}' to be eligible at '{schools.ids[school[row]]}', "
                f"where compact '{ids[c]}' places it{first_line.get(str(ids[c]), '')}",
            )
        )


def _compact_first_lines(table: Table | None, ids: np.ndarray) -> dict[str, str]:
    """' (compacts.csv line N)' for each compact id: where a planner finds it."""
    if table is None or not table.has("compact_id"):
        return {}
    frame = table.frame.drop_duplicates("compact_id")
    return {str(c): f" ({table.file} line {int(n)})" for c, n in zip(frame["compact_id"], frame["_line"], strict=True)}


def file_sha256(path: Path) -> str:
    """SHA-256 of a file's bytes, as hex."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
