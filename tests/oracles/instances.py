"""Random instances for the oracles, as plain Python data, and their files on disk.

One generator serves hypothesis (`draw`) and fixed seeds (`random.Random`): it asks a `Source` for
integers and choices, so a hypothesis strategy and a seeded regression build the same kind of case.
Nothing here imports the solver's model: a case is written as CSV and YAML, the way a planner would.
"""

from __future__ import annotations

import csv
import io
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import yaml
from hypothesis import strategies as st

T = TypeVar("T")

CLUSTERS = ("C1", "C2")
SECTORS = ("district", "charter")
ATTRIBUTES = {"ses": ("low", "high"), "ell": ("0", "1")}


# ---------------------------------------------------------------------------------------------
# where the random numbers come from


class Source:
    """Integers and choices from a seeded `random.Random`."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)

    def integer(self, lo: int, hi: int) -> int:
        return self.rng.randint(lo, hi)

    def choice(self, items: Sequence[T]) -> T:
        return items[self.rng.randrange(len(items))]

    def chance(self, p: float) -> bool:
        return self.rng.random() < p

    def uniform(self, lo: float, hi: float) -> float:
        return self.rng.uniform(lo, hi)

    def shuffled(self, items: Sequence[T]) -> list[T]:
        out = list(items)
        self.rng.shuffle(out)
        return out

    def sample(self, items: Sequence[T], k: int) -> list[T]:
        return self.rng.sample(list(items), k)


class Drawn(Source):
    """The same questions answered by hypothesis's `draw`, so failures shrink."""

    def __init__(self, draw: Callable[[st.SearchStrategy[Any]], Any]) -> None:
        self.draw = draw

    def integer(self, lo: int, hi: int) -> int:
        return int(self.draw(st.integers(lo, hi)))

    def choice(self, items: Sequence[T]) -> T:
        return items[self.integer(0, len(items) - 1)]

    def chance(self, p: float) -> bool:
        # an integer draw shrinks towards False
        return self.integer(0, 999) >= 1000 - int(round(p * 1000))

    def uniform(self, lo: float, hi: float) -> float:
        return lo + (hi - lo) * self.integer(0, 10**6) / 10**6

    def shuffled(self, items: Sequence[T]) -> list[T]:
        return list(self.draw(st.permutations(list(items))))

    def sample(self, items: Sequence[T], k: int) -> list[T]:
        return self.shuffled(items)[:k]


# ---------------------------------------------------------------------------------------------
# the case


@dataclass
class Student:
    id: str
    family: str
    grade: str
    home: str
    lat: float
    lon: float
    attributes: dict[str, str]


@dataclass
class School:
    id: str
    capacity: int  # from schools.csv; ignored when students have grades
    cluster: str
    sector: str
    under: bool | None  # the under_selected column, None when the column is absent
    lat: float
    lon: float


@dataclass
class Case:
    """A whole instance: the data files' contents and the config, as plain data."""

    students: list[Student]
    schools: list[School]
    prefs: dict[str, list[str]]  # student -> schools in rank order
    ranks: dict[str, list[int]]  # the rank numbers written for those schools
    grades: bool = False
    seats: dict[tuple[str, str], int] = field(default_factory=dict)  # rows of seats.csv
    compacts: list[tuple[str, list[str], str]] = field(default_factory=list)  # id, families, school
    clusters_mode: str = "off"
    diversity: list[dict[str, Any]] = field(default_factory=list)
    weights: dict[str, int] = field(default_factory=dict)
    compact_settings: dict[str, Any] = field(default_factory=dict)
    under_column: bool = False
    family_column: bool = True

    # ---- derived, in the contract's words ----
    def weight(self, term: str) -> int:
        defaults = {"rank": 1, "unassigned": 100}
        return int(self.weights.get(term, defaults.get(term, 0)))

    def school(self, school_id: str) -> School:
        return next(s for s in self.schools if s.id == school_id)

    def describe(self) -> str:
        """The case as its files, for a failure message."""
        return "\n".join(f"--- {name}\n{text}" for name, text in self.files().items()) + (
            "\n--- config\n" + yaml.safe_dump(self.config(), sort_keys=False)
        )

    # ---- files ----
    def files(self) -> dict[str, str]:
        """CSV texts by data key."""
        out: dict[str, str] = {}
        columns = ["student_id"]
        if self.family_column:
            columns.append("family_id")
        if self.grades:
            columns.append("grade")
        columns += ["home_cluster", "lat", "lon", *ATTRIBUTES]
        rows = []
        for s in self.students:
            row = [s.id] + ([s.family] if self.family_column else []) + ([s.grade] if self.grades else [])
            rows.append(row + [s.home, f"{s.lat:.6f}", f"{s.lon:.6f}", *(s.attributes[a] for a in ATTRIBUTES)])
        out["students"] = _csv(columns, rows)
        columns = ["school_id", "capacity", "cluster", "sector", "lat", "lon"]
        if self.under_column:
            columns.append("under_selected")
        rows = []
        for j in self.schools:
            row = [j.id, str(j.capacity), j.cluster, j.sector, f"{j.lat:.6f}", f"{j.lon:.6f}"]
            if self.under_column:
                row.append("true" if j.under else "false")
            rows.append(row)
        out["schools"] = _csv(columns, rows)
        rows = [[s, j, str(r)] for s in self.prefs for j, r in zip(self.prefs[s], self.ranks[s], strict=True)]
        # file order is not rank order: the solver must sort by rank
        rows.sort(key=lambda r: (r[0], -int(r[2])))
        out["preferences"] = _csv(["student_id", "school_id", "rank"], rows)
        if self.grades:
            out["seats"] = _csv(
                ["school_id", "grade", "capacity"],
                [[j, g, str(c)] for (j, g), c in self.seats.items()],
            )
        if self.compacts:
            out["compacts"] = _csv(
                ["compact_id", "family_id", "school_id"],
                [[c, f, j] for c, families, j in self.compacts for f in families],
            )
        return out

    def config(self, data: dict[str, str] | None = None) -> dict[str, Any]:
        document: dict[str, Any] = {"name": "case"}
        if data is not None:
            document["data"] = data
        if self.compact_settings:
            document["compacts"] = dict(self.compact_settings)
        document["clusters"] = {"mode": self.clusters_mode}
        if self.diversity:
            document["diversity"] = [dict(rule) for rule in self.diversity]
        document["objective"] = dict(self.weights)
        return document

    def write(self, folder: Path) -> Path:
        """Write the files and `case.yaml` into `folder`; return the config's path."""
        folder.mkdir(parents=True, exist_ok=True)
        data = {}
        for key, text in self.files().items():
            (folder / f"{key}.csv").write_text(text, encoding="utf-8")
            data[key] = f"{key}.csv"
        path = folder / "case.yaml"
        path.write_text(yaml.safe_dump(self.config(data), sort_keys=False), encoding="utf-8")
        return path


def _csv(columns: list[str], rows: list[list[str]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(columns)
    writer.writerows(rows)
    return buffer.getvalue()


# ---------------------------------------------------------------------------------------------
# the generator


@dataclass(frozen=True)
class Shape:
    """How big and how rich a random case is."""

    students: tuple[int, int] = (1, 8)
    schools: tuple[int, int] = (1, 3)
    list_length: tuple[int, int] = (1, 3)
    capacity: tuple[int, int] = (0, 3)
    compacts: tuple[int, int] = (0, 1)
    compact_families: tuple[int, int] = (2, 3)
    diversity_rules: tuple[int, int] = (0, 2)
    #: Seats rows for a grade no student has (counted in a school's total capacity by the contract).
    idle_grade_seats: bool = True
    #: Home clusters that no school is in.
    unknown_home_clusters: bool = True


TINY = Shape()
SMALL = Shape(
    students=(10, 40),
    schools=(2, 6),
    list_length=(1, 4),
    capacity=(0, 10),
    compacts=(0, 3),
    compact_families=(2, 4),
    diversity_rules=(0, 2),
)


def random_case(source: Source, shape: Shape = TINY) -> Case:
    """A valid random case of the given shape (every compact at an under-selected school, or the
    requirement switched off)."""
    n_schools = source.integer(*shape.schools)
    n_students = source.integer(*shape.students)
    grades = source.chance(0.3)
    schools = []
    for number in range(n_schools):
        schools.append(
            School(
                id=f"J{number + 1}",
                capacity=source.integer(*shape.capacity),
                cluster=source.choice(("",) + CLUSTERS),
                sector=source.choice(("",) + SECTORS),
                under=None,
                lat=round(42.30 + source.uniform(0, 0.08), 6),
                lon=round(-71.10 + source.uniform(0, 0.08), 6),
            )
        )
    school_clusters = sorted({j.cluster for j in schools} - {""})
    homes = [""] + school_clusters + (["C9"] if shape.unknown_home_clusters else [])

    # families of one or two children; siblings share home, cluster and address
    students: list[Student] = []
    family = 0
    while len(students) < n_students:
        family += 1
        size = min(n_students - len(students), 2 if source.chance(0.3) else 1)
        home = source.choice(homes)
        lat = round(42.30 + source.uniform(0, 0.08), 6)
        lon = round(-71.10 + source.uniform(0, 0.08), 6)
        for _ in range(size):
            students.append(
                Student(
                    id=f"s{len(students) + 1}",
                    family=f"f{family}",
                    grade=source.choice(("K", "1")) if grades else "",
                    home=home,
                    lat=lat,
                    lon=lon,
                    attributes={a: source.choice(values) for a, values in ATTRIBUTES.items()},
                )
            )
    families = sorted({s.family for s in students}, key=lambda f: int(f[1:]))

    prefs: dict[str, list[str]] = {}
    ranks: dict[str, list[int]] = {}
    for s in students:
        length = min(n_schools, source.integer(*shape.list_length))
        listed = source.sample([j.id for j in schools], length)
        prefs[s.id] = listed
        ranks[s.id] = sorted(source.sample(range(1, 20), length))  # ranks with gaps

    seats: dict[tuple[str, str], int] = {}
    if grades:
        student_grades = sorted({s.grade for s in students})
        offered = list(student_grades)
        if shape.idle_grade_seats and source.chance(0.5):
            offered.append("5")  # seats in a grade nobody has
        for j in schools:
            for g in offered:
                if source.chance(0.85):
                    seats[(j.id, g)] = source.integer(*shape.capacity)
        for g in student_grades:  # every grade students have needs a seats row somewhere
            if not any(key[1] == g for key in seats):
                seats[(source.choice(schools).id, g)] = source.integer(*shape.capacity)
        for j in schools:  # schools.csv capacity is then ignored; write nonsense to prove it
            j.capacity = source.integer(0, 9)

    case = Case(students=students, schools=schools, prefs=prefs, ranks=ranks, grades=grades, seats=seats)

    # compacts: 2+ distinct families each, a family in one compact at most
    n_compacts = source.integer(*shape.compacts)
    free = list(families)
    for c in range(n_compacts):
        size = source.integer(*shape.compact_families)
        if len(free) < size or size < 2:
            break
        chosen = source.sample(free, size)
        free = [f for f in free if f not in chosen]
        case.compacts.append((f"K{c + 1}", sorted(chosen, key=lambda f: int(f[1:])), source.choice(schools).id))

    settings: dict[str, Any] = {}
    case.compact_settings = settings
    if case.compacts:
        settings["max_share"] = source.choice((100, 100, 50, 30, 62.5, 0))
        if source.chance(0.3):
            settings["under_selected_ratio"] = source.choice((0.5, 1.5, 2))
        case.under_column = source.chance(0.5)
        designated = {j for _, _, j in case.compacts}
        if case.under_column:
            for j in schools:
                j.under = j.id in designated or source.chance(0.3)
        elif not all(under_selected(case, j) for j in designated):
            settings["require_under_selected"] = False
    case.compact_settings = settings

    case.clusters_mode = source.choice(("off", "soft", "hard"))
    for _ in range(source.integer(*shape.diversity_rules)):
        attribute = source.choice(tuple(ATTRIBUTES))
        category: Any = source.choice(ATTRIBUTES[attribute])
        if category.isdigit() and source.chance(0.5):
            category = int(category)  # YAML `1`: still compared as the text "1"
        rule: dict[str, Any] = {
            "attribute": attribute,
            "category": category,
            "scope": source.choice(("school", "cluster", "sector")),
        }
        if source.chance(0.5):
            lo = source.integer(0, 70)
            rule["band"] = [lo, source.integer(lo, 100)]
        else:
            rule["around_district"] = source.integer(0, 50)
        rule["mode"] = "hard" if source.chance(0.4) else "soft"
        if rule["mode"] == "soft":
            rule["weight"] = source.integer(0, 20)
        case.diversity.append(rule)

    case.weights = {
        "rank": source.integer(0, 3),
        "unassigned": 0 if source.chance(0.1) else source.integer(1, 300),
        "distance": source.integer(0, 3),
        "broken_compact": source.integer(0, 50),
        "outside_cluster": source.integer(0, 20),
    }
    case.family_column = True
    return case


def total_capacity(case: Case, school_id: str) -> int:
    """Seats of a school, all grades together (every seats.csv row of it)."""
    if case.grades:
        return sum(c for (j, _g), c in case.seats.items() if j == school_id)
    return case.school(school_id).capacity


def under_selected(case: Case, school_id: str) -> bool:
    """Given in schools.csv, or: fewer than ratio × total capacity students list it first."""
    from fractions import Fraction

    school = case.school(school_id)
    if case.under_column and school.under is not None:
        return school.under
    ratio = Fraction(str(case.compact_settings.get("under_selected_ratio", 1)))
    first = sum(1 for s in case.students if case.prefs[s.id] and case.prefs[s.id][0] == school_id)
    return first < ratio * total_capacity(case, school_id)


@st.composite
def cases(draw: Callable[[st.SearchStrategy[Any]], Any], shape: Shape = TINY) -> Case:
    """Hypothesis strategy for random cases."""
    return random_case(Drawn(draw), shape)


def read_case(config_path: Path) -> Case:
    """A case from a config and its CSV files on disk (for the hand-made regressions): the same
    plain data the generator makes, read with the csv module only."""
    config = yaml.safe_load(config_path.read_text(encoding="utf-8"))
    folder = config_path.parent

    def table(key: str) -> list[dict[str, str]]:
        with (folder / config["data"][key]).open(encoding="utf-8", newline="") as handle:
            return list(csv.DictReader(handle))

    known = {"student_id", "family_id", "grade", "home_cluster", "lat", "lon"}
    students = [
        Student(
            id=row["student_id"],
            family=row.get("family_id") or row["student_id"],
            grade=row.get("grade", ""),
            home=row.get("home_cluster", ""),
            lat=float(row.get("lat") or "nan"),
            lon=float(row.get("lon") or "nan"),
            attributes={k: v for k, v in row.items() if k not in known},
        )
        for row in table("students")
    ]
    schools = [
        School(
            id=row["school_id"],
            capacity=int(row.get("capacity") or 0),
            cluster=row.get("cluster", ""),
            sector=row.get("sector", ""),
            under=None if not row.get("under_selected") else row["under_selected"].lower() == "true",
            lat=float(row.get("lat") or "nan"),
            lon=float(row.get("lon") or "nan"),
        )
        for row in table("schools")
    ]
    ranked: dict[str, list[tuple[int, str]]] = {s.id: [] for s in students}
    for row in table("preferences"):
        ranked[row["student_id"]].append((int(row["rank"]), row["school_id"]))
    prefs = {s: [j for _r, j in sorted(v)] for s, v in ranked.items()}
    ranks = {s: [r for r, _j in sorted(v)] for s, v in ranked.items()}
    grades = any(s.grade for s in students)
    seats = {(r["school_id"], r["grade"]): int(r["capacity"]) for r in table("seats")} if grades else {}
    compacts: dict[str, tuple[list[str], str]] = {}
    if "compacts" in config["data"]:
        for row in table("compacts"):
            compacts.setdefault(row["compact_id"], ([], row["school_id"]))[0].append(row["family_id"])
    return Case(
        students=students,
        schools=schools,
        prefs=prefs,
        ranks=ranks,
        grades=grades,
        seats=seats,
        compacts=[(c, families, j) for c, (families, j) in compacts.items()],
        clusters_mode=(config.get("clusters") or {}).get("mode", "off"),
        diversity=list(config.get("diversity") or []),
        weights=dict(config.get("objective") or {}),
        compact_settings=dict(config.get("compacts") or {}),
        under_column=any(j.under is not None for j in schools),
    )
