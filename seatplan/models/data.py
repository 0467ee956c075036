"""The CSV files, checked against each other and the config, read into one immutable `Instance`.

Ids are interned: students, schools, families, grades, clusters and sectors become integer indexes,
and per-student data are numpy arrays, so that the formulation never touches a DataFrame.
Every problem in every file is collected first and raised once, as a DataError.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from seatplan.models.config import Config, display_path, load_config
from seatplan.models.csvfiles import (
    CsvTable,
    check_non_empty,
    check_unique,
    first_lines,
    lookup,
    parse_booleans,
    parse_floats,
    parse_integers,
    read_csv,
    repeated_keys,
    repeated_rows,
    report_rows,
    require_columns,
)
from seatplan.models.errors import ConfigError, DataError, Problem, in_order

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
    priority_student: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))  # (Q,)
    priority_school: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))  # (Q,)
    priority_value: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))  # (Q,)
    school_feeds: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))  # (J,) -1 for none
    current_school: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))  # (S,) -1 for none

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
        """The position (1 = first choice) of each preference entry."""
        return np.arange(len(self.pref_school)) - np.repeat(self.pref_start[:-1], self.list_length) + 1

    def list_position(self, students: np.ndarray, schools: np.ndarray) -> np.ndarray:
        """Position of each school in each student's list, 0 where the student did not list it."""
        if len(students) == 0 or len(self.pref_school) == 0:
            return np.zeros(len(students), np.int64)
        n = self.n_schools
        keys = self.pref_student() * n + self.pref_school
        order = np.argsort(keys, kind="stable")
        sorted_keys = keys[order]
        wanted = np.asarray(students, dtype=np.int64) * n + np.asarray(schools, dtype=np.int64)
        at = np.minimum(np.searchsorted(sorted_keys, wanted), len(sorted_keys) - 1)
        found = sorted_keys[at] == wanted
        return np.where(found, self.pref_position()[order][at], 0).astype(np.int64)

    def positions_of(self, school: np.ndarray) -> np.ndarray:
        """Position (1 = first) of each student's school in its own list; 0 when unplaced or not listed."""
        placed = np.flatnonzero(school >= 0)
        out = np.zeros(len(school), dtype=np.int64)
        out[placed] = self.list_position(placed, school[placed])
        return out

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


# --------------------------------------------------------------------------------------------


def load_inputs(path: str | Path) -> tuple[Config, Instance]:
    """Read a config and its data files. Every problem in both is raised at once.

    A config with problems is still read as far as it goes (defaults in place of bad values); when
    its data files are known they are checked too, so a planner sees the whole list in one pass.
    """
    try:
        config = load_config(path)
    except ConfigError as error:
        if error.partial is None:
            raise
        try:
            load_instance(error.partial)
        except DataError as data_error:
            raise ConfigError([*error.problems, *data_error.problems]) from None
        raise
    return config, load_instance(config)


def load_instance(config: Config) -> Instance:
    """Read and cross-check every data file the config names. Raises DataError with every problem."""
    problems: list[Problem] = []
    files = config.data
    display = {key: display_path(path) for key, path in files.named().items()}
    tables: dict[str, CsvTable | None] = {}
    for key, path in files.named().items():
        if not path.exists():
            # Said where the planner can fix it: the config line that names the file.
            problems.append(
                Problem(
                    config.display_name,
                    config.line("data", key),
                    f"expected data.{key} to name an existing file, got {display[key]} (no such file)",
                )
            )
            tables[key] = None
        elif path.is_dir():
            problems.append(
                Problem(
                    config.display_name,
                    config.line("data", key),
                    f"expected data.{key} to name a CSV file, got a folder: {display[key]}",
                )
            )
            tables[key] = None
        else:
            tables[key] = read_csv(path, display[key], problems)
    students = tables["students"]
    schools = tables["schools"]
    preferences = tables["preferences"]
    if students is None or schools is None:
        raise DataError(in_order(problems))

    # ---- students ------------------------------------------------------------------------
    attributes_needed = {rule.attribute: rule for rule in config.diversity if rule.attribute}
    ok = require_columns(students, ["student_id"], problems)
    for attribute, rule in attributes_needed.items():
        require_columns(
            students,
            [attribute],
            problems,
            f" for the diversity rule at {config.display_name}:{rule.line}",
        )
    if not ok:
        raise DataError(in_order(problems))
    if len(students) == 0:
        problems.append(Problem(students.file, 1, "expected at least one student, got only the header"))
    check_non_empty(students, "student_id", problems)
    check_unique(students, "student_id", problems, "student_id")
    sframe = students.frame
    student_ids = sframe["student_id"].to_numpy(dtype=object)
    n_students = len(student_ids)
    student_index = pd.Index(student_ids)
    if not student_index.is_unique:
        # Later lookups need unique ids; the duplicates are already reported.
        student_index = pd.Index(pd.Series(student_ids).drop_duplicates())

    family_text = sframe["family_id"].to_numpy(dtype=object) if students.has("family_id") else student_ids
    family_text = np.where(family_text == "", student_ids, family_text)
    family_codes, family_ids = pd.factorize(pd.Series(family_text, dtype=object))
    family_ids = np.asarray(family_ids, dtype=object)

    has_grades = students.has("grade")
    if has_grades:
        check_non_empty(students, "grade", problems)
        grade_codes, grade_values = pd.factorize(sframe["grade"])
        grades = tuple(str(g) for g in grade_values)
    else:
        grade_codes = np.zeros(n_students, dtype=np.int64)
        grades = ("",)

    attributes = {name: sframe[name].to_numpy(dtype=object) for name in attributes_needed if students.has(name)}
    student_lat = (
        parse_floats(students, "lat", problems, -90, 90) if students.has("lat") else np.full(n_students, np.nan)
    )
    student_lon = (
        parse_floats(students, "lon", problems, -180, 180) if students.has("lon") else np.full(n_students, np.nan)
    )

    # ---- schools ---------------------------------------------------------------------------
    if not require_columns(schools, ["school_id"], problems):
        raise DataError(in_order(problems))
    if len(schools) == 0:
        problems.append(Problem(schools.file, 1, "expected at least one school, got only the header"))
    check_non_empty(schools, "school_id", problems)
    check_unique(schools, "school_id", problems, "school_id")
    jframe = schools.frame
    school_ids = jframe["school_id"].to_numpy(dtype=object)
    n_schools = len(school_ids)
    school_index = pd.Index(school_ids)
    if not school_index.is_unique:
        school_index = pd.Index(pd.Series(school_ids).drop_duplicates())
    names = jframe["name"].to_numpy(dtype=object) if schools.has("name") else school_ids.copy()

    cluster_text = jframe["cluster"] if schools.has("cluster") else pd.Series([""] * n_schools)
    home_text = sframe["home_cluster"] if students.has("home_cluster") else pd.Series([""] * n_students)
    # A home cluster no school is in is still a cluster: its students are outside every clustered
    # school (rule 5 leaves them the citywide schools), not free of clusters.
    school_cluster_values = set(cluster_text.unique())
    home_cluster_values = set(home_text.unique())
    cluster_values = sorted((school_cluster_values | home_cluster_values) - {""})
    clusters = tuple(cluster_values)
    cluster_index = pd.Index(list(clusters), dtype=object)
    school_cluster = np.where(cluster_text.to_numpy() == "", -1, cluster_index.get_indexer(cluster_text))
    home_cluster = (
        np.where(home_text.to_numpy() == "", -1, cluster_index.get_indexer(home_text))
        if clusters
        else np.full(n_students, -1)
    )
    schoolless = sorted(home_cluster_values - school_cluster_values - {""})
    warnings: list[Problem] = []
    if schoolless:
        count = int(np.isin(home_text.to_numpy(), schoolless).sum())
        warnings.append(
            Problem(
                students.file,
                None,
                f"{count:,} students have a home_cluster that no school is in "
                f"({', '.join(schoolless[:5])}{', …' if len(schoolless) > 5 else ''}); every clustered school "
                f"is outside their cluster",
            )
        )

    sector_text = jframe["sector"] if schools.has("sector") else pd.Series([""] * n_schools)
    sectors = tuple(sorted(set(sector_text.unique()) - {""}))
    sector_index = pd.Index(list(sectors), dtype=object)
    school_sector = np.where(sector_text.to_numpy() == "", -1, sector_index.get_indexer(sector_text))

    school_lat = parse_floats(schools, "lat", problems, -90, 90) if schools.has("lat") else np.full(n_schools, np.nan)
    school_lon = parse_floats(schools, "lon", problems, -180, 180) if schools.has("lon") else np.full(n_schools, np.nan)

    # ---- capacity: schools.csv without grades, seats.csv with them ---------------------------
    capacity = np.zeros((n_schools, len(grades)), dtype=np.int64)
    # Schools whose capacity could be read; where it could not (already reported), checks that need
    # it stay quiet rather than repeat the problem in other words.
    capacity_known = np.zeros(n_schools, dtype=bool)
    seats = tables.get("seats")
    if not has_grades:
        if files.seats is not None:
            problems.append(
                Problem(
                    config.display_name,
                    config.line("data", "seats"),
                    f"expected a grade column in {students.file} because data.seats is given "
                    f"(without grades, remove data.seats: capacity then comes from schools.csv)",
                )
            )
        if require_columns(schools, ["capacity"], problems, " (an integer ≥ 0: seats at the school)"):
            values, good = parse_integers(schools, "capacity", problems, non_negative=True)
            capacity[:, 0] = np.where(good, values, 0)
            capacity_known = good
    else:
        if files.seats is None:
            problems.append(
                Problem(
                    config.display_name,
                    config.line("data"),
                    f"expected data.seats (a seats.csv with school_id,grade,capacity) because "
                    f"{students.file} has a grade column",
                )
            )
        elif seats is not None and require_columns(seats, ["school_id", "grade", "capacity"], problems):
            where_school = lookup(seats, "school_id", school_index, problems, "school", schools.file)
            check_non_empty(seats, "grade", problems)
            key = seats.frame["school_id"] + "\x1f" + seats.frame["grade"]
            repeated = key.duplicated().to_numpy()
            if repeated.any():
                first_seen = first_lines(seats, key)
                report_rows(
                    seats,
                    repeated,
                    np.array(
                        [
                            f"expected one row per school and grade, got school '{j}' grade '{g}' again "
                            f"(first on line {f})"
                            for j, g, f in zip(
                                seats.frame["school_id"],
                                seats.frame["grade"],
                                first_seen,
                                strict=True,
                            )
                        ],
                        dtype=object,
                    ),
                    problems,
                )
            values, good = parse_integers(seats, "capacity", problems, non_negative=True)
            # Grades only seats.csv names (no student in them) still count in a school's total
            # capacity: the share cap and the under-selected test are about all of its seats.
            idle = [g for g in seats.frame["grade"].unique() if g != "" and g not in grades]
            if idle:
                grades = grades + tuple(idle)
                capacity = np.zeros((n_schools, len(grades)), dtype=np.int64)
            grade_of_row = pd.Index(list(grades), dtype=object).get_indexer(seats.frame["grade"])
            use = good & (where_school >= 0) & (grade_of_row >= 0) & ~repeated
            capacity[where_school[use], grade_of_row[use]] = values[use]
            capacity_known[:] = True
            capacity_known[where_school[~good & (where_school >= 0)]] = False
            offered = set(seats.frame["grade"].unique())
            for grade in grades:
                if grade not in offered and grade != "":
                    # Reported on the first student of that grade: seats.csv has no line to point at.
                    first_student = int(np.flatnonzero(grade_codes == grades.index(grade))[0])
                    count = int(np.sum(grade_codes == grades.index(grade)))
                    problems.append(
                        Problem(
                            students.file,
                            int(students.lines()[first_student]),
                            f"expected seats for grade '{grade}' in {seats.file}, got none "
                            f"({count:,} student{'s' if count != 1 else ''} of this grade)",
                        )
                    )

    # ---- preferences -----------------------------------------------------------------------
    pref_start = np.zeros(n_students + 1, dtype=np.int64)
    pref_school = np.zeros(0, dtype=np.int64)
    if preferences is not None and require_columns(preferences, ["student_id", "school_id", "rank"], problems):
        p_student = lookup(preferences, "student_id", student_index, problems, "student", students.file)
        p_school = lookup(preferences, "school_id", school_index, problems, "school", schools.file)
        check_non_empty(preferences, "student_id", problems)
        check_non_empty(preferences, "school_id", problems)
        rank, good_rank = parse_integers(preferences, "rank", problems)
        pframe = preferences.frame
        repeated_school, pair = repeated_keys(preferences, ["student_id", "school_id"])
        if repeated_school.any():
            first_seen = first_lines(preferences, pair)
            report_rows(
                preferences,
                repeated_school,
                np.array(
                    [
                        f"expected each school once in a student's list, got student '{s}' listing school "
                        f"'{j}' again (first on line {f})"
                        for s, j, f in zip(pframe["student_id"], pframe["school_id"], first_seen, strict=True)
                    ],
                    dtype=object,
                ),
                problems,
            )
        # Ranks compare as numbers: "1" and "01" are the same rank.
        student_code = preferences.codes("student_id")[0]
        repeated_rank = repeated_rows(student_code, rank) & ~repeated_school & good_rank
        if repeated_rank.any():
            first_seen = first_lines(preferences, pd.DataFrame({"student": student_code, "rank": rank}))
            report_rows(
                preferences,
                repeated_rank,
                np.array(
                    [
                        f"expected each rank once in a student's list, got student '{s}' with rank {r} "
                        f"again (first on line {f})"
                        for s, r, f in zip(pframe["student_id"], pframe["rank"], first_seen, strict=True)
                    ],
                    dtype=object,
                ),
                problems,
            )
        use = (p_student >= 0) & (p_school >= 0) & good_rank & ~repeated_school & ~repeated_rank
        s, j, r = p_student[use], p_school[use], rank[use]
        # Lists are usually written student by student in rank order: then there is nothing to sort.
        listed_in_order = bool(np.all((s[1:] > s[:-1]) | ((s[1:] == s[:-1]) & (r[1:] > r[:-1]))))
        order = np.arange(len(s)) if listed_in_order else np.lexsort((r, s))
        pref_school = j[order].astype(np.int64)
        pref_start = np.searchsorted(s[order], np.arange(n_students + 1)).astype(np.int64)

    first_choices = np.zeros(n_schools, dtype=np.int64)
    has_list = np.diff(pref_start) > 0
    np.add.at(first_choices, pref_school[pref_start[:-1][has_list]], 1)

    # ---- under-selected schools ----------------------------------------------------------------
    ratio = config.compacts.under_selected_ratio
    total = capacity.sum(axis=1)
    # fewer than ratio × capacity first choices, in exact arithmetic: count·den < num·capacity
    computed = first_choices * ratio.denominator < ratio.numerator * total
    under_selected = computed
    # Why a school is not under-selected, for the compact check's message.
    not_under_why = np.array(
        [
            f"{first_choices[j]:,} first choices for {total[j]:,} seats, and under-selected means fewer "
            f"than {ratio} × seats (compacts.under_selected_ratio)"
            for j in range(n_schools)
        ],
        dtype=object,
    )
    if schools.has("under_selected"):
        given = parse_booleans(schools, "under_selected", problems)
        under_selected = np.where(given >= 0, given == 1, computed)
        capacity_known = capacity_known | (given >= 0)
        school_lines = schools.lines()
        for j in np.flatnonzero(given == 0):
            not_under_why[j] = f"{schools.file}:{school_lines[j]} says under_selected {jframe['under_selected'][j]}"

    # ---- compacts --------------------------------------------------------------------------------
    compact_of_student = np.full(n_students, -1, dtype=np.int64)
    compact_ids = np.zeros(0, dtype=object)
    compact_school = np.zeros(0, dtype=np.int64)
    compact_family_count = np.zeros(0, dtype=np.int64)
    compacts = tables.get("compacts")
    if compacts is not None and require_columns(compacts, ["compact_id", "family_id", "school_id"], problems):
        result = _read_compacts(
            compacts,
            config,
            school_index,
            family_ids,
            family_codes,
            school_ids,
            under_selected | ~capacity_known,
            not_under_why,
            schools.file,
            students.file,
            problems,
        )
        compact_ids, compact_school, compact_family_count, compact_of_student = result

    # ---- school-choice data: priorities, the lottery, feeders ---------------------------------
    choice = _read_choice_data(
        config,
        tables.get("priorities"),
        students,
        schools,
        student_index,
        school_index,
        student_ids,
        problems,
    )

    # ---- a run's config.yaml records the data it was solved with ------------------------------
    for key, recorded in config.data_sha256.items():
        named = files.named().get(key)
        if named is not None and named.is_file() and file_sha256(named) != recorded:
            warnings.append(
                Problem(
                    config.display_name,
                    config.line("data_sha256", key),
                    f"{display[key]} has changed since this config was written (its SHA-256 differs "
                    f"from data_sha256.{key}); solving the data as they are now",
                )
            )

    # ---- distance needs coordinates ----------------------------------------------------------
    if config.objective.distance > 0:
        where = f"{config.display_name}:{config.line('objective', 'distance')}"
        why = f" because objective.distance is {config.objective.distance} ({where})"
        for table in (students, schools):
            if not (table.has("lat") and table.has("lon")):
                require_columns(table, ["lat", "lon"], problems, why)
            else:
                empty = (table.frame[["lat", "lon"]] == "").any(axis=1).to_numpy()
                report_rows(table, empty, f"expected lat and lon{why}", problems)

    if problems:
        raise DataError(in_order(problems))

    return Instance(
        student_ids=student_ids,
        family=np.asarray(family_codes, dtype=np.int64),
        family_ids=family_ids,
        grade=np.asarray(grade_codes, dtype=np.int64),
        grades=grades,
        has_grades=has_grades,
        home_cluster=np.asarray(home_cluster, dtype=np.int64),
        student_lat=student_lat,
        student_lon=student_lon,
        attributes=attributes,
        school_ids=school_ids,
        school_names=names,
        school_cluster=np.asarray(school_cluster, dtype=np.int64),
        clusters=clusters,
        school_sector=np.asarray(school_sector, dtype=np.int64),
        sectors=sectors,
        capacity=capacity,
        under_selected=np.asarray(under_selected, dtype=bool),
        first_choices=first_choices,
        school_lat=school_lat,
        school_lon=school_lon,
        pref_start=pref_start,
        pref_school=pref_school,
        compact_ids=compact_ids,
        compact_school=compact_school,
        compact_family_count=compact_family_count,
        compact_of_student=compact_of_student,
        **choice,
        warnings=tuple(warnings),
    )


def _read_compacts(
    table: CsvTable,
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
    for compact_id, group in frame.groupby("compact_id", sort=False):
        if compact_id == "":
            continue
        rows = group.index.to_numpy()
        first = int(lines[rows[0]])
        # One school per compact: every row that differs from the first is reported on its own line.
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
        school = int(row_school[rows[0]])
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


def lottery_from_seed(student_ids: np.ndarray, seed: int) -> np.ndarray:
    """The documented draw when students.csv has no lottery column: each student's number is the
    first 16 hex digits of SHA-256("<seed>:<student_id>"), smaller is better. Anyone can redo it,
    in any language, and it does not depend on the order of the file."""
    import hashlib

    sha256, prefix = hashlib.sha256, f"{seed}:"
    # The first 16 hex digits are the first 8 bytes of the digest, read big-endian.
    first_bytes = b"".join([sha256((prefix + str(sid)).encode()).digest()[:8] for sid in student_ids])
    return np.frombuffer(first_bytes, dtype=">u8").astype(np.uint64)


def _read_choice_data(
    config: Config,
    priorities: CsvTable | None,
    students: CsvTable,
    schools: CsvTable,
    student_index: pd.Index,
    school_index: pd.Index,
    student_ids: np.ndarray,
    problems: list[Problem],
) -> dict[str, np.ndarray]:
    """Priorities, lottery order, feeders and current schools (issue: school-choice mechanics)."""
    n_students, n_schools = len(student_ids), len(schools.frame)
    out: dict[str, np.ndarray] = {}
    if "lottery" in students.frame.columns:
        text = students.frame["lottery"]
        numbers = pd.to_numeric(text.where(text != "", None), errors="coerce").to_numpy(dtype=float)
        bad = ~np.isfinite(numbers)
        report_rows(
            students,
            bad,
            np.array(
                [f'expected lottery to be a number (smaller is better), got "{v}"' for v in text.to_numpy()],
                dtype=object,
            )
            if bad.any()
            else "",
            problems,
        )
        repeated = pd.Series(numbers).duplicated(keep="first").to_numpy() & ~bad
        if repeated.any():
            # Rows that are not numbers have no group, so the lines come back as floats (NaN there).
            first = np.nan_to_num(first_lines(students, pd.Series(numbers)).astype(float)).astype(np.int64)
            report_rows(
                students,
                repeated,
                np.array(
                    [
                        f'expected a different lottery number for each student, got "{v}" again (first on line {f})'
                        for v, f in zip(text.to_numpy(), first, strict=True)
                    ],
                    dtype=object,
                ),
                problems,
            )
        order = np.argsort(np.where(bad, np.inf, numbers), kind="stable")
    else:
        order = np.argsort(lottery_from_seed(student_ids, config.solver.seed), kind="stable")
    rank = np.empty(n_students, dtype=np.int64)
    rank[order] = np.arange(n_students)
    out["lottery_rank"] = rank

    feeds = np.full(n_schools, -1, dtype=np.int64)
    if "feeds" in schools.frame.columns:
        found = lookup(
            schools,
            "feeds",
            school_index,
            problems,
            "school",
            f"{schools.file}: expected feeds to name a school_id",
        )
        feeds = np.where(schools.frame["feeds"].to_numpy() == "", -1, found)
    out["school_feeds"] = np.asarray(feeds, dtype=np.int64)
    current = np.full(n_students, -1, dtype=np.int64)
    if "current_school" in students.frame.columns:
        # A school outside the match (a current school that is not in schools.csv) feeds nothing.
        current = school_index.get_indexer(students.frame["current_school"]).astype(np.int64)
    out["current_school"] = current

    out["priority_student"] = np.zeros(0, np.int64)
    out["priority_school"] = np.zeros(0, np.int64)
    out["priority_value"] = np.zeros(0, np.int64)
    if priorities is not None and require_columns(priorities, ["student_id", "school_id", "priority"], problems):
        p_student = lookup(priorities, "student_id", student_index, problems, "student", students.file)
        p_school = lookup(priorities, "school_id", school_index, problems, "school", schools.file)
        value, good = parse_integers(priorities, "priority", problems)
        repeated, key = repeated_keys(priorities, ["student_id", "school_id"])
        if repeated.any():
            first = first_lines(priorities, key)
            pair = priorities.frame
            report_rows(
                priorities,
                repeated,
                np.array(
                    [
                        f"expected one priority per student and school, got '{s}' at '{j}' again (first on line {f})"
                        for s, j, f in zip(pair["student_id"], pair["school_id"], first, strict=True)
                    ],
                    dtype=object,
                ),
                problems,
            )
        use = (p_student >= 0) & (p_school >= 0) & good & ~repeated
        out["priority_student"] = p_student[use].astype(np.int64)
        out["priority_school"] = p_school[use].astype(np.int64)
        out["priority_value"] = value[use].astype(np.int64)
    return out


def file_sha256(path: Path) -> str:
    """SHA-256 of a file's bytes, as hex."""
    import hashlib

    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
