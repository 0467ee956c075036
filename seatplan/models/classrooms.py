"""The classroom stage: every student a run places at a school, in one of that school's classrooms.

The contract, for each school and grade (a *cohort*) on its own, over the students a run placed
there and the school's classrooms there (⌈placed / size⌉ classrooms of `size` seats, or those
classroom_seats.csv lists):

1. every student is in exactly one classroom, and no classroom holds more students than its seats;
2. the students of an honored compact (as assignment.csv's compact_id says) are all in one classroom
   (`compact_together: hard`), a compact takes at most ⌊max_compact_share × seats / 100⌋ seats of
   its classroom, and a classroom holds at most `max_compacts_per_classroom` compacts; a classroom
   *holds a compact* when a student placed through an honored compact is in it;
3. no child of a family that said `no` (section_choices.csv) is in a classroom that holds a compact;
4. so in a cohort with a compact classroom, the classrooms without one have room for every child of
   a `no` family: the plausible alternative (when they cannot, the stage is infeasible, and says why);
5. the objective, in cents (hundredths), minimised:
   - choice: 100 × choice.weight for each family that said `yes` and has a child in the cohort in a
     classroom without a compact (a family counts once in each cohort where it has children);
   - balance: for each balance rule (students whose attribute equals the category) and classroom
     of s seats holding k students of the category, in a cohort of K students of the category whose
     classrooms have S seats in all: ⌈100 × |S·k − K·s| / S⌉ — the distance in students between k
     and the classroom's fair share K·s/S (the cohort's category spread over its seats, so the fair
     shares add up to K, and equal classrooms have equal shares), in hundredths of a student, rounded
     up;
   - siblings (`siblings_together: soft`): 100 × siblings_weight for each family whose children in
     the cohort are in more than one classroom (`hard`: they are never split);
   - size: 100 × (the largest classroom's students − the smallest's), in each cohort.

The model is written once, here, in the neutral form (models/ir.py) and solved by any backend.
Students who are interchangeable — not in an honored compact, in a family with one child in the
cohort, with the same choice and the same categories — are counted, not placed one by one (one
integer per type and classroom), so a cohort of a hundred students is a model of a few dozen
variables; identical classrooms are ordered by size, which removes their symmetry.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from seatplan.models.config import (
    Checker,
    Config,
    Mode,
    Section,
    display_path,
    register_section,
)
from seatplan.models.errors import ConfigError, DataError, Problem, in_order
from seatplan.models.instance import Instance
from seatplan.models.ir import Formulation, Role, rows_from_triplets, term_from_pairs
from seatplan.models.tables import Table, read_table, report_rows, require_columns
from seatplan.models.yamlnodes import load_yaml

Choice = Literal["either", "yes", "no"]
CHOICES: tuple[Choice, ...] = ("either", "yes", "no")
TERMS = ("choice", "balance", "siblings", "size")


@dataclass(frozen=True)
class ChoiceSettings:
    """section_choices.csv, and what an unmet `yes` costs."""

    file: Path
    weight: int = 1


@dataclass(frozen=True)
class BalanceRule:
    attribute: str
    category: str

    @property
    def label(self) -> str:
        return f"{self.attribute}={self.category}"


@dataclass(frozen=True)
class ClassroomSettings:
    """The `sections:` block. Off when neither `size` nor `classroom_seats` is set."""

    size: int | None = None
    classroom_seats: Path | None = None
    compact_together: Literal["off", "hard"] = "hard"
    max_compact_share: int = 100
    max_compacts_per_classroom: int = 1
    choice: ChoiceSettings | None = None
    balance: tuple[BalanceRule, ...] = ()
    siblings_together: Mode = "off"
    siblings_weight: int = 1
    #: Where the block was read from, for messages: (file, line).
    where: tuple[str, int | None] = ("", None)
    #: The line of each key given in the block, for messages.
    lines: tuple[tuple[str, int | None], ...] = ()

    def at(self, key: str) -> tuple[str, int | None]:
        """(file, line) of a key of the block, or of the block itself when the key was not given."""
        return (self.where[0], dict(self.lines).get(key) or self.where[1])

    @property
    def enabled(self) -> bool:
        return self.size is not None or self.classroom_seats is not None


KEYS = (
    "size",
    "classroom_seats",
    "compact_together",
    "max_compact_share",
    "max_compacts_per_classroom",
    "choice",
    "balance",
    "siblings_together",
    "siblings_weight",
)


class ClassroomSection(Section[ClassroomSettings]):
    """The `sections:` block of a config (or of a file of its own): read and written as a whole."""

    def read(self, check: Checker, value: Any) -> ClassroomSettings:
        if value is None:
            return ClassroomSettings()
        base = (self.key,)
        given = check.mapping(base, value, KEYS)
        if not isinstance(value, dict):
            return ClassroomSettings()
        out: dict[str, Any] = {
            "where": (check.file, check.doc.line(base)),
            "lines": tuple((key, check.doc.line((*base, key))) for key in given),
        }
        if "size" in given:
            out["size"] = check.integer((*base, "size"), given["size"], 0, 1)
        if "classroom_seats" in given:
            out["classroom_seats"] = check.file_path((*base, "classroom_seats"), given["classroom_seats"])
        if ("size" in given) == ("classroom_seats" in given):
            check.problem(base, "expected sections to have exactly one of size and classroom_seats")
        if "compact_together" in given:
            out["compact_together"] = check.choice(
                (*base, "compact_together"), given["compact_together"], ("off", "hard"), "hard"
            )
        if "max_compact_share" in given:
            out["max_compact_share"] = check.integer(
                (*base, "max_compact_share"), given["max_compact_share"], 100, 1, 100
            )
        if "max_compacts_per_classroom" in given:
            out["max_compacts_per_classroom"] = check.integer(
                (*base, "max_compacts_per_classroom"), given["max_compacts_per_classroom"], 1, 1
            )
        if "choice" in given:
            out["choice"] = _read_choice(check, given["choice"])
        if "balance" in given:
            out["balance"] = _read_balance(check, given["balance"])
        if "siblings_together" in given:
            out["siblings_together"] = check.choice(
                (*base, "siblings_together"), given["siblings_together"], ("off", "soft", "hard"), "off"
            )
        if "siblings_weight" in given:
            out["siblings_weight"] = check.integer((*base, "siblings_weight"), given["siblings_weight"], 1, 0)
        return ClassroomSettings(**out)

    def write(self, settings: ClassroomSettings, where: Callable[[Path], str]) -> Any:
        out: dict[str, Any] = {}
        if settings.size is not None:
            out["size"] = settings.size
        if settings.classroom_seats is not None:
            out["classroom_seats"] = where(settings.classroom_seats)
        out.update(
            {
                "compact_together": settings.compact_together,
                "max_compact_share": settings.max_compact_share,
                "max_compacts_per_classroom": settings.max_compacts_per_classroom,
            }
        )
        if settings.choice is not None:
            out["choice"] = {"file": where(settings.choice.file), "weight": settings.choice.weight}
        out["balance"] = [{"attribute": rule.attribute, "category": rule.category} for rule in settings.balance]
        out["siblings_together"] = settings.siblings_together
        out["siblings_weight"] = settings.siblings_weight
        return out

    def present(self, settings: ClassroomSettings) -> bool:
        return settings.enabled


def _read_choice(check: Checker, value: Any) -> ChoiceSettings | None:
    base = ("sections", "choice")
    given = check.mapping(base, value, ("file", "weight"))
    if not isinstance(value, dict):
        return None
    if "file" not in given:
        check.problem(base, "expected sections.choice to name its file (section_choices.csv)")
        return None
    file = check.file_path((*base, "file"), given["file"])
    weight = check.integer((*base, "weight"), given.get("weight", 1), 1, 0)
    return None if file is None else ChoiceSettings(file, weight)


def _read_balance(check: Checker, value: Any) -> tuple[BalanceRule, ...]:
    base = ("sections", "balance")
    if not isinstance(value, list):
        check.problem(
            base, f"expected sections.balance to be a list of {{attribute, category}}, got {check.got(base, value)}"
        )
        return ()
    rules = []
    for index, item in enumerate(value):
        path = (*base, index)
        given = check.mapping(path, item, ("attribute", "category"))
        if not isinstance(item, dict):
            continue
        if "attribute" not in given or "category" not in given:
            check.problem(path, f"expected sections.balance[{index}] to name an attribute and a category")
            continue
        rules.append(
            BalanceRule(
                check.text((*path, "attribute"), given["attribute"], ""),
                check.text((*path, "category"), given["category"], ""),
            )
        )
    return tuple(rules)


CLASSROOMS = register_section(ClassroomSection("sections", ClassroomSettings, {}))


def settings_of(config: Config) -> ClassroomSettings:
    return CLASSROOMS.of(config)


def load_settings(path: Path) -> ClassroomSettings:
    """A file holding a `sections:` block (its paths relative to it): read and checked."""
    shown = display_path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as error:
        raise ConfigError(
            [
                Problem(
                    shown, None, f"expected a YAML file with a sections: block, got one that cannot be read ({error})"
                )
            ]
        ) from None
    doc = load_yaml(text, shown)
    check = Checker(shown, doc, path.parent)
    top = check.mapping((), doc.value, ("sections",))
    if "sections" not in top and not check.problems:
        check.problem((), "expected a sections: block")
    settings = CLASSROOMS.read(check, top.get("sections"))
    if check.problems:
        raise ConfigError(in_order(check.problems))
    return settings


# ---- the data of the stage ----------------------------------------------------------------------


@dataclass(frozen=True)
class Classroom:
    id: str
    seats: int


@dataclass(frozen=True)
class ClassroomData:
    """What the stage reads besides the run: each family's choice, the classrooms' seats."""

    choice: np.ndarray  # (families,) 0 either, 1 yes, 2 no
    seats: dict[tuple[int, int], tuple[Classroom, ...]]  # (school, grade) -> classrooms, from the file
    choice_line: dict[int, int] = field(default_factory=dict)  # family -> its line in section_choices.csv


def with_attributes(config: Config, settings: ClassroomSettings, instance: Instance) -> Instance:
    """The instance with the students.csv columns the balance rules name (its config may not)."""
    missing = sorted({rule.attribute for rule in settings.balance} - set(instance.attributes))
    if not missing:
        return instance
    problems: list[Problem] = []
    path = config.data.students
    table = read_table(path, display_path(path), problems, config.data.sheets.get("students"))
    if table is None or not require_columns(table, missing, problems, " for sections.balance"):
        raise DataError(in_order(problems))
    order = pd.Index(table.frame["student_id"].to_numpy()).get_indexer(pd.Index(instance.student_ids))
    added = {name: table.frame[name].to_numpy(dtype=object)[order] for name in missing}
    return replace(instance, attributes={**instance.attributes, **added})


def check_inputs(config: Config, instance: Instance) -> None:
    """The stage's own files, checked before the school stage is solved (DataError, every problem):
    what can be known before anyone is placed."""
    settings = settings_of(config)
    if not settings.enabled:
        return
    problems: list[Problem] = []
    for check in (lambda: with_attributes(config, settings, instance), lambda: read_data(settings, instance, None)):
        try:
            check()
        except DataError as error:
            problems += error.problems
    if problems:
        raise DataError(in_order(problems))


def read_data(settings: ClassroomSettings, instance: Instance, school: np.ndarray | None) -> ClassroomData:
    """section_choices.csv and classroom_seats.csv, checked against the run (every problem at once);
    without `school` (before anyone is placed), all but whether anyone is placed at a classroom's
    school and grade."""
    problems: list[Problem] = []
    choice = np.zeros(len(instance.family_ids), dtype=np.int8)
    lines: dict[int, int] = {}
    if settings.choice is not None:
        choice, lines = _read_choices(settings.choice.file, instance, problems)
    seats: dict[tuple[int, int], tuple[Classroom, ...]] = {}
    if settings.classroom_seats is not None:
        seats = _read_seats(settings.classroom_seats, instance, school, problems)
    if problems:
        raise DataError(in_order(problems))
    return ClassroomData(choice, seats, lines)


def _table(path: Path, columns: list[str], problems: list[Problem]) -> Table | None:
    table = read_table(path, display_path(path), problems)
    if table is None or not require_columns(table, columns, problems):
        return None
    return table


def _read_choices(path: Path, instance: Instance, problems: list[Problem]) -> tuple[np.ndarray, dict[int, int]]:
    choice = np.zeros(len(instance.family_ids), dtype=np.int8)
    table = _table(path, ["family_id", "compact_classroom"], problems)
    if table is None:
        return choice, {}
    frame = table.frame
    family = pd.Index(instance.family_ids).get_indexer(pd.Index(frame["family_id"].to_numpy()))
    report_rows(table, family < 0, "expected a family_id of the run's students (students.csv)", problems)
    value = frame["compact_classroom"].str.lower()
    known = value.isin(CHOICES).to_numpy()
    messages = [f'expected compact_classroom to be yes, no or either, got "{v}"' for v in frame["compact_classroom"]]
    report_rows(table, ~known, np.array(messages, dtype=object), problems)
    repeated = pd.Series(family).duplicated().to_numpy() & (family >= 0)
    report_rows(table, repeated, "expected each family once, got it again", problems)
    use = (family >= 0) & known & ~repeated
    choice[family[use]] = value[use].map({"either": 0, "yes": 1, "no": 2}).to_numpy(dtype=np.int8)
    return choice, dict(zip(family[use].tolist(), table.lines()[use].tolist(), strict=True))


def _read_seats(
    path: Path, instance: Instance, school: np.ndarray | None, problems: list[Problem]
) -> dict[tuple[int, int], tuple[Classroom, ...]]:
    columns = ["school_id", "classroom_id", "capacity", *(["grade"] if instance.has_grades else [])]
    table = _table(path, columns, problems)
    if table is None:
        return {}
    frame = table.frame
    j = pd.Index(instance.school_ids).get_indexer(pd.Index(frame["school_id"].to_numpy()))
    report_rows(table, j < 0, "expected a school_id of the run's schools (schools.csv)", problems)
    if instance.has_grades:
        g = pd.Index(list(instance.grades)).get_indexer(pd.Index(frame["grade"].to_numpy()))
        report_rows(table, (g < 0) & (j >= 0), "expected a grade some student has", problems)
    else:
        g = np.zeros(len(frame), dtype=np.int64)
    numbers = pd.to_numeric(
        frame["capacity"].where(frame["capacity"].str.fullmatch(r"[+-]?\d+"), None), errors="coerce"
    )
    bad = ~(numbers > 0).to_numpy(dtype=bool)
    messages = [f'expected capacity to be a whole number of seats ≥ 1, got "{v}"' for v in frame["capacity"]]
    report_rows(table, bad, np.array(messages, dtype=object), problems)
    known = (j >= 0) & (g >= 0)
    empty = np.zeros(len(frame), dtype=bool)
    if school is not None:
        placed = set(zip(school[school >= 0].tolist(), instance.grade[school >= 0].tolist(), strict=True))
        empty = known & np.array(
            [(a, b) not in placed for a, b in zip(j.tolist(), g.tolist(), strict=True)], dtype=bool
        )
    report_rows(
        table,
        empty,
        "expected a classroom of a school and grade where the run places students, got one where it places nobody",
        problems,
    )
    repeated = frame.duplicated(subset=["school_id", "classroom_id"]).to_numpy()
    report_rows(table, repeated, "expected each classroom_id once in a school, got it again", problems)
    if school is not None:
        listed = set(zip(j[known].tolist(), g[known].tolist(), strict=True))
        placed_at = np.flatnonzero(school >= 0)
        pairs = school[placed_at] * len(instance.grades) + instance.grade[placed_at]
        cells, counts = np.unique(pairs, return_counts=True)
        for cell, n in zip(cells.tolist(), counts.tolist(), strict=True):
            a, b = divmod(cell, len(instance.grades))
            if (a, b) not in listed:
                grade = f" grade {instance.grades[b]}" if instance.has_grades else ""
                problems.append(
                    Problem(
                        table.file,
                        None,
                        f"expected the classrooms of {instance.school_ids[a]}{grade}, where the run places "
                        f"{n} student{'' if n == 1 else 's'}, to be listed (with classroom_seats, every school and "
                        f"grade the run places students at has its classrooms listed)",
                    )
                )
    seats: dict[tuple[int, int], list[Classroom]] = {}
    use = known & ~bad & ~repeated
    for row in np.flatnonzero(use):
        seats.setdefault((int(j[row]), int(g[row])), []).append(
            Classroom(str(frame["classroom_id"].iloc[row]), int(numbers.iloc[row]))
        )
    return {key: tuple(value) for key, value in seats.items()}


# ---- a cohort: one school and grade --------------------------------------------------------------


@dataclass(frozen=True)
class Cohort:
    """The students a run placed at one school in one grade, and that school's classrooms there."""

    school: int
    grade: int
    students: np.ndarray  # student indexes
    compact: np.ndarray  # (n,) the honored compact a student was placed through, or -1
    family: np.ndarray  # (n,)
    choice: np.ndarray  # (n,) 0 either, 1 yes, 2 no
    categories: np.ndarray  # (n, rules) bool
    classrooms: tuple[Classroom, ...]


def cohorts(
    settings: ClassroomSettings,
    instance: Instance,
    school: np.ndarray,
    through_compact: np.ndarray,
    data: ClassroomData,
) -> list[Cohort]:
    """Every school and grade where the run places students, with its classrooms."""
    placed = np.flatnonzero(school >= 0)
    key = school[placed] * len(instance.grades) + instance.grade[placed]
    order = np.argsort(key, kind="stable")
    categories = (
        np.stack(
            [np.asarray(instance.attributes[rule.attribute] == rule.category, dtype=bool) for rule in settings.balance],
            axis=1,
        )
        if settings.balance
        else np.zeros((instance.n_students, 0), dtype=bool)
    )
    out = []
    for cell in np.unique(key):
        students = placed[order][key[order] == cell]
        j, g = divmod(int(cell), len(instance.grades))
        compact = np.where(through_compact[students], instance.compact_of_student[students], -1)
        out.append(
            Cohort(
                school=j,
                grade=g,
                students=students,
                compact=compact,
                family=instance.family[students],
                choice=data.choice[instance.family[students]],
                categories=categories[students],
                classrooms=data.seats.get((j, g)) or _sized(settings, instance, j, g, len(students)),
            )
        )
    return out


def _sized(settings: ClassroomSettings, instance: Instance, j: int, g: int, n: int) -> tuple[Classroom, ...]:
    size = settings.size or 1
    grade = instance.grades[g]
    prefix = f"{instance.school_ids[j]}-{grade}-" if instance.has_grades else f"{instance.school_ids[j]}-"
    return tuple(Classroom(f"{prefix}{k + 1}", size) for k in range(math.ceil(n / size)))


def compact_limit(settings: ClassroomSettings, seats: int) -> int:
    """The most seats of a classroom of `seats` a compact may take: ⌊max_compact_share × seats / 100⌋."""
    return settings.max_compact_share * seats // 100


def oversized_compacts(settings: ClassroomSettings, instance: Instance, groups: list[Cohort]) -> list[Problem]:
    """A compact larger than its share of every classroom it could use: bad input, said per compact."""
    problems = []
    for cohort in groups:
        best = max((compact_limit(settings, room.seats) for room in cohort.classrooms), default=0)
        for c in np.unique(cohort.compact[cohort.compact >= 0]):
            size = int((cohort.compact == c).sum())
            if size > best:
                need = math.ceil(100 * size / settings.max_compact_share)
                problems.append(
                    Problem(
                        *settings.at("max_compact_share"),
                        f"expected compact '{instance.compact_ids[c]}' ({size} students at "
                        f"{instance.school_ids[cohort.school]}{_grade(instance, cohort.grade)}) to fit in a classroom "
                        f"at sections.max_compact_share ({settings.max_compact_share}%), but its largest classroom "
                        f"allows {best}: it needs a classroom of {need} seats",
                    )
                )
    return problems


def _grade(instance: Instance, g: int) -> str:
    return f" grade {instance.grades[g]}" if instance.has_grades else ""


def no_family_in_a_compact(
    instance: Instance, groups: list[Cohort], settings: ClassroomSettings, data: ClassroomData
) -> list[Problem]:
    """A family in an honored compact cannot also refuse compact classrooms."""
    problems = []
    file = display_path(settings.choice.file) if settings.choice is not None else settings.where[0]
    for cohort in groups:
        for f in np.unique(cohort.family[(cohort.compact >= 0) & (cohort.choice == 2)]):
            problems.append(
                Problem(
                    file,
                    data.choice_line.get(int(f)),
                    f"expected family '{instance.family_ids[f]}' not to say no: it is in an honored compact, whose "
                    f"classroom is by definition a compact classroom",
                )
            )
    return problems


# ---- the model of a cohort, in the neutral form --------------------------------------------------


@dataclass(frozen=True)
class Group:
    """Students placed together in the model: a whole group (a compact kept together, a family kept
    together, or one student) takes one classroom; a counted group (students alike in every way the
    model sees) is spread over classrooms by counts."""

    students: np.ndarray  # indexes into the cohort
    whole: bool
    choice: int  # 0 either, 1 yes, 2 no (compacts: 0, their classroom is theirs)
    family: int  # the family of a child of a family with several children in the cohort, else -1
    compact: int  # the honored compact of its members, else -1

    @property
    def unit(self) -> int:
        """Students per unit of the group's variable: all of them when whole, one when counted."""
        return len(self.students) if self.whole else 1

    @property
    def total(self) -> int:
        """What the group's variables add up to over the classrooms."""
        return 1 if self.whole else len(self.students)


def groups_of(settings: ClassroomSettings, cohort: Cohort) -> list[Group]:
    """Every student of the cohort in exactly one group."""
    c = cohort
    groups: list[Group] = []
    in_compact = c.compact >= 0
    for k in np.unique(c.compact[in_compact]):
        members = np.flatnonzero(c.compact == k)
        if settings.compact_together == "hard":
            groups.append(Group(members, True, 0, -1, int(k)))
        else:
            groups += [Group(np.array([m]), True, 0, -1, int(k)) for m in members]
    free = ~in_compact
    values, counts = np.unique(c.family[free], return_counts=True)
    several = values[counts > 1].tolist()
    for f in several:
        children = np.flatnonzero(free & (c.family == f))
        choice = int(c.choice[children[0]])
        if settings.siblings_together == "hard":
            groups.append(Group(children, True, choice, int(f), -1))
        else:
            groups += [Group(np.array([child]), True, choice, int(f), -1) for child in children]
    alone = free & ~np.isin(c.family, several)
    # The rest are alike when their choice and categories are: one counted group per kind.
    kind = c.choice.astype(np.int64) * (1 << c.categories.shape[1]) + c.categories @ (
        1 << np.arange(c.categories.shape[1])
    )
    for value in np.unique(kind[alone]):
        students = np.flatnonzero(alone & (kind == value))
        groups.append(Group(students, False, int(c.choice[students[0]]), -1, -1))
    return groups


@dataclass
class CohortModel:
    """A cohort's formulation, and how to read a solution of it back into classrooms."""

    cohort: Cohort
    groups: list[Group]
    variables: np.ndarray  # (groups, classrooms): each group's variable in each classroom
    formulation: Formulation

    def decode(self, values: np.ndarray) -> np.ndarray:
        """The classroom (index into the cohort's classrooms) of each of the cohort's students, in
        the cohort's order; a counted group fills its classrooms in the order of its students."""
        room = np.full(len(self.cohort.students), -1, dtype=np.int64)
        for group, variables in zip(self.groups, self.variables, strict=True):
            counts = np.asarray(values[variables], dtype=np.int64)
            if group.whole:
                room[group.students] = int(np.argmax(counts))
            else:
                room[group.students] = np.repeat(np.arange(len(counts)), counts)
        return room

    def encode(self, room: np.ndarray) -> np.ndarray | None:
        """A solution vector placing the students as `room` says (None when it splits a group the
        model keeps whole); the other variables are left at 0."""
        values = np.zeros(self.formulation.n_vars, dtype=np.int64)
        rooms = len(self.cohort.classrooms)
        for group, variables in zip(self.groups, self.variables, strict=True):
            counts = np.bincount(room[group.students], minlength=rooms)
            if group.whole:
                if (counts > 0).sum() != 1:
                    return None
                counts = (counts > 0).astype(np.int64)
            values[variables] = counts
        return values


def _labels(text: str) -> Callable[[int], str]:
    """Labels of a block of variables, one per classroom (or one alone): `family=3,room=1`."""
    return lambda k: f"{text},room={k}"


class _Rows:
    """Rows collected as (variables, coefficients, lower, upper), made one block at the end."""

    def __init__(self) -> None:
        self.rows: list[tuple[list[int], list[int], float, float]] = []

    def add(self, variables: Any, coefs: Any, lower: float, upper: float) -> None:
        self.rows.append(([int(v) for v in variables], [int(c) for c in coefs], lower, upper))

    def block(self, name: str) -> Any:
        rows = self.rows
        return rows_from_triplets(
            name,
            Role.SIDE,
            len(rows),
            np.concatenate([np.full(len(v), r) for r, (v, _, _, _) in enumerate(rows)]) if rows else np.zeros(0),
            np.concatenate([v for v, _, _, _ in rows]) if rows else np.zeros(0),
            np.concatenate([c for _, c, _, _ in rows]) if rows else np.zeros(0),
            np.array([row[2] for row in rows], dtype=float),
            np.array([row[3] for row in rows], dtype=float),
            lambda r: f"row={r}",
        )


def build_cohort(settings: ClassroomSettings, cohort: Cohort) -> CohortModel:
    """The integer program of one cohort (the module's docstring), its objective in cents."""
    f = Formulation()
    groups = groups_of(settings, cohort)
    rooms = len(cohort.classrooms)
    seats = np.array([room.seats for room in cohort.classrooms], dtype=np.int64)
    upper = np.array([[1 if g.whole else len(g.students)] * rooms for g in groups], dtype=np.int64)
    limits = np.array([compact_limit(settings, int(s)) for s in seats], dtype=np.int64)
    for row, group in enumerate(groups):
        if group.compact >= 0 and group.whole:
            upper[row] = np.where(limits >= len(group.students), 1, 0)  # the compact's share
    start = f.add_variables(
        "place", len(groups) * rooms, 0, upper.reshape(-1), lambda i: f"group={i // rooms},room={i % rooms}"
    )
    x = start + np.arange(len(groups) * rooms).reshape(len(groups), rooms)
    rows = _Rows()
    for g, group in enumerate(groups):
        rows.add(x[g], [1] * rooms, group.total, group.total)  # every student in one classroom
    unit = np.array([g.unit for g in groups], dtype=np.int64)
    for k in range(rooms):
        rows.add(x[:, k], unit, -np.inf, int(seats[k]))  # seats
    model = CohortModel(cohort, groups, x, f)
    z = _compact_classrooms(settings, f, rows, groups, x, limits)
    _refusals(rows, groups, x, z)
    _wishes(settings, f, rows, groups, x, z)
    _sizes(f, rows, x, unit, seats, cohort)
    _balance(settings, f, rows, groups, x, cohort)
    _siblings(settings, f, rows, groups, x)
    f.add_rows(rows.block("classrooms"))
    return model


def _compact_classrooms(
    settings: ClassroomSettings, f: Formulation, rows: _Rows, groups: list[Group], x: np.ndarray, limits: np.ndarray
) -> np.ndarray | None:
    """z[k] = 1 when classroom k holds a compact; at most max_compacts_per_classroom compacts each;
    a compact split over classrooms takes at most its share of each. None when there is no compact."""
    compacts = sorted({g.compact for g in groups if g.compact >= 0})
    if not compacts:
        return None
    rooms = x.shape[1]
    presence = np.zeros((len(compacts), rooms), dtype=np.int64)
    for i, c in enumerate(compacts):
        members = [row for row, g in enumerate(groups) if g.compact == c]
        if len(members) == 1:
            presence[i] = x[members[0]]
            continue
        start = f.add_variables("compact_here", rooms, 0, 1, _labels(f"compact={c}"))
        presence[i] = start + np.arange(rooms)
        for k in range(rooms):
            for m in members:
                rows.add([presence[i, k], x[m, k]], [1, -1], 0, np.inf)  # here when a member is
            rows.add(x[members, k], [1] * len(members), -np.inf, int(limits[k]))  # its share
    start = f.add_variables("holds_compact", rooms, 0, 1, lambda k: f"room={k}")
    z = start + np.arange(rooms)
    for k in range(rooms):
        rows.add(presence[:, k], [1] * len(compacts), -np.inf, settings.max_compacts_per_classroom)
        for i in range(len(compacts)):
            rows.add([z[k], presence[i, k]], [1, -1], 0, np.inf)
        rows.add([z[k], *presence[:, k]], [1, *([-1] * len(compacts))], -np.inf, 0)
    return z


def _refusals(rows: _Rows, groups: list[Group], x: np.ndarray, z: np.ndarray | None) -> None:
    """No child of a family that said no in a classroom that holds a compact."""
    if z is None:
        return
    for g, group in enumerate(groups):
        if group.choice == 2:
            total = group.total
            for k in range(x.shape[1]):
                rows.add([x[g, k], z[k]], [1, total], -np.inf, total)


def _wishes(
    settings: ClassroomSettings, f: Formulation, rows: _Rows, groups: list[Group], x: np.ndarray, z: np.ndarray | None
) -> None:
    """choice (cents) = 100·weight for each family that said yes with a child in a classroom
    without a compact. A child alone of its family in the cohort (counted groups) is one family."""
    weight = 100 * (settings.choice.weight if settings.choice is not None else 0)
    wishing = [g for g, group in enumerate(groups) if group.choice == 1]
    if not wishing or weight == 0:
        return
    families = {groups[g].family for g in wishing if groups[g].family >= 0}
    alone = sum(len(groups[g].students) for g in wishing if groups[g].family < 0)
    if z is None:
        # No compact classroom in the cohort: every wish is unmet.
        f.add_term(
            term_from_pairs("choice", np.zeros(0, np.int64), np.zeros(0, np.int64), weight * (len(families) + alone))
        )
        return
    rooms = x.shape[1]
    variables: list[int] = []
    coefs: list[int] = []
    unmet = {family: f.add_variables("wish_unmet", 1, 0, 1, _labels(f"family={family}")) for family in sorted(families)}
    for variable in unmet.values():
        variables.append(variable)
        coefs.append(weight)
    for g in wishing:
        group = groups[g]
        met = f.add_variables("wish_met", rooms, 0, group.total, _labels(f"group={g}")) + np.arange(rooms)
        for k in range(rooms):
            rows.add([met[k], x[g, k]], [1, -1], -np.inf, 0)
            rows.add([met[k], z[k]], [1, -group.total], -np.inf, 0)
        if group.family >= 0:
            # Unmet when any child of the family is in a classroom without a compact.
            rows.add([unmet[group.family], *met], [1] * (rooms + 1), 1, np.inf)
        else:
            variables += met.tolist()
            coefs += [-weight] * rooms
    constant = weight * alone
    f.add_term(
        term_from_pairs("choice", np.array(variables, dtype=np.int64), np.array(coefs, dtype=np.int64), constant)
    )


def _sizes(
    f: Formulation, rows: _Rows, x: np.ndarray, unit: np.ndarray, seats: np.ndarray, cohort: Cohort
) -> np.ndarray:
    """Each classroom's students as a variable; size (cents) = 100 × (largest − smallest); identical
    classrooms in order of size (any solution can be so reordered)."""
    rooms = x.shape[1]
    n = len(cohort.students)
    start = f.add_variables("students", rooms, 0, n, lambda k: f"room={k}")
    size = start + np.arange(rooms)
    for k in range(rooms):
        rows.add([size[k], *x[:, k]], [1, *(-unit)], 0, 0)
    high = f.add_variables("largest", 1, 0, n, lambda _: "largest")
    low = f.add_variables("smallest", 1, 0, n, lambda _: "smallest")
    for k in range(rooms):
        rows.add([high, size[k]], [1, -1], 0, np.inf)
        rows.add([low, size[k]], [1, -1], -np.inf, 0)
    # Implied: some classroom holds at least ⌈n / rooms⌉ students, and some at most ⌊n / rooms⌋.
    rows.add([high], [1], -(-n // rooms), np.inf)
    rows.add([low], [1], -np.inf, n // rooms)
    _order_identical(rows, x, size, seats, n)
    f.add_term(term_from_pairs("size", np.array([high, low]), np.array([100, -100])))
    return size


def _order_identical(rows: _Rows, x: np.ndarray, size: np.ndarray, seats: np.ndarray, n: int) -> None:
    """Classrooms of the same seats are interchangeable: any sectioning can be reordered so that
    they come in decreasing order of (students, the first groups' counts), read as one number in
    base n + 1. Saying so removes their symmetry from the search."""
    keys = [size, *[x[g] for g in range(min(2, x.shape[0]))]]
    radix = [(n + 1) ** (len(keys) - 1 - i) for i in range(len(keys))]
    for k in range(len(seats) - 1):
        if seats[k] == seats[k + 1]:
            variables = [int(key[k]) for key in keys] + [int(key[k + 1]) for key in keys]
            rows.add(variables, radix + [-r for r in radix], 0, np.inf)


def _balance(
    settings: ClassroomSettings,
    f: Formulation,
    rows: _Rows,
    groups: list[Group],
    x: np.ndarray,
    cohort: Cohort,
) -> None:
    """balance (cents) = Σ ⌈100 × |S·k − K·s| / S⌉ over rules and classrooms (the module's
    docstring). For one classroom it is a convex function of k alone, made of three lines between
    the integers around the fair share — exact at every whole k: with c = K·s, k0 = ⌊c / S⌋,
    f0 = ⌈100·(c − S·k0) / S⌉ and f1 = ⌈100·(S·(k0 + 1) − c) / S⌉, the cost is f0 + 100·(k0 − k)
    below k0, f1 + 100·(k − k0 − 1) above k0 + 1, and the line through (k0, f0), (k0 + 1, f1)
    between them."""
    seats = np.array([room.seats for room in cohort.classrooms], dtype=np.int64)
    total_seats = int(seats.sum())
    n = len(cohort.students)
    rooms = x.shape[1]
    variables = []
    for r in range(cohort.categories.shape[1]):
        total = int(cohort.categories[:, r].sum())
        per_unit = np.array(
            [
                int(cohort.categories[g.students, r].sum()) if g.whole else int(cohort.categories[g.students[0], r])
                for g in groups
            ]
        )
        some = per_unit > 0
        start = f.add_variables(f"balance{r + 1}", rooms, 0, 100 * max(n, 1), lambda k: f"room={k}")
        for k in range(rooms):
            c = total * int(seats[k])
            k0 = c // total_seats
            f0 = -(-100 * (c - total_seats * k0) // total_seats)
            f1 = -(-100 * (total_seats * (k0 + 1) - c) // total_seats)
            inside, coefs = x[some, k], per_unit[some]
            d = start + k
            # d + 100·k ≥ f0 + 100·k0;  d − 100·k ≥ f1 − 100·(k0 + 1);  d − (f1 − f0)·k ≥ f0 − (f1 − f0)·k0
            rows.add([d, *inside], [1, *(100 * coefs)], f0 + 100 * k0, np.inf)
            rows.add([d, *inside], [1, *(-100 * coefs)], f1 - 100 * (k0 + 1), np.inf)
            if f1 != f0:
                rows.add([d, *inside], [1, *(-(f1 - f0) * coefs)], f0 - (f1 - f0) * k0, np.inf)
            else:
                rows.add([d], [1], f0, np.inf)
            variables.append(d)
        # Implied, and what proves most cohorts optimal at once: the classrooms' balance costs add
        # up to at least the least they can add up to when only this rule is counted.
        least = _least_balance(total, seats)
        rows.add(start + np.arange(rooms), [1] * rooms, least, np.inf)
    if variables:
        f.add_term(term_from_pairs("balance", np.array(variables), np.ones(len(variables), dtype=np.int64)))


def balance_cost(count: int, total: int, seats: int, total_seats: int) -> int:
    """⌈100 × |S·k − K·s| / S⌉: a classroom of s seats holding k of the cohort's K, S seats in all."""
    return -(-100 * abs(total_seats * count - total * seats) // total_seats)


def _least_balance(total: int, seats: np.ndarray) -> int:
    """The least Σ balance_cost over the classrooms when the K students of a category are spread
    over them as one pleases (within seats): each cost is convex in its count, so adding the
    students one by one where they cost least is optimal."""
    room_seats = [int(s) for s in seats]
    total_seats = sum(room_seats)
    counts = [0] * len(room_seats)
    cost = [balance_cost(0, total, s, total_seats) for s in room_seats]
    for _ in range(min(total, total_seats)):
        step, k = min(
            (balance_cost(counts[k] + 1, total, s, total_seats) - cost[k], k)
            for k, s in enumerate(room_seats)
            if counts[k] < s
        )
        counts[k] += 1
        cost[k] += step
    return sum(cost)


def _siblings(settings: ClassroomSettings, f: Formulation, rows: _Rows, groups: list[Group], x: np.ndarray) -> None:
    """siblings (cents, soft) = 100·siblings_weight for each family split over classrooms."""
    if settings.siblings_together != "soft" or settings.siblings_weight == 0:
        return
    rooms = x.shape[1]
    families: dict[int, list[int]] = {}
    for g, group in enumerate(groups):
        if group.family >= 0:
            families.setdefault(group.family, []).append(g)
    split = []
    for family, children in families.items():
        together = f.add_variables("together", rooms, 0, 1, _labels(f"family={family}"))
        apart = f.add_variables("split", 1, 0, 1, _labels(f"family={family}"))
        for k in range(rooms):
            for child in children:
                rows.add([together + k, x[child, k]], [1, -1], -np.inf, 0)
        rows.add([apart, *(together + np.arange(rooms))], [1] * (rooms + 1), 1, np.inf)
        split.append(apart)
    if split:
        f.add_term(term_from_pairs("siblings", np.array(split), np.full(len(split), 100 * settings.siblings_weight)))


# ---- a sectioning measured in the contract's words ----------------------------------------------


@dataclass(frozen=True)
class CohortOutcome:
    """A cohort's classrooms as placed: the terms of the objective (cents) and what each holds."""

    terms: dict[str, int]
    students: np.ndarray  # (classrooms,)
    compacts: list[list[int]]  # the honored compacts each classroom holds
    broken: list[str]  # the contract's hard rules the placement breaks, in words

    @property
    def objective(self) -> int:
        return sum(self.terms.values())


def measure_cohort(settings: ClassroomSettings, cohort: Cohort, room: np.ndarray) -> CohortOutcome:
    """Every term and hard rule of the contract for `room` (each cohort student's classroom), straight
    from the module's docstring — not from the model's variables, which the solve checks it against."""
    rooms = len(cohort.classrooms)
    students = np.bincount(room, minlength=rooms)
    compacts = [sorted({int(c) for c in cohort.compact[room == k] if c >= 0}) for k in range(rooms)]
    holds = np.array([bool(found) for found in compacts])
    broken = []
    for k, classroom in enumerate(cohort.classrooms):
        if students[k] > classroom.seats:
            broken.append(f"classroom {classroom.id} holds {students[k]} students for {classroom.seats} seats")
        if len(compacts[k]) > settings.max_compacts_per_classroom:
            broken.append(f"classroom {classroom.id} holds {len(compacts[k])} compacts")
        for c in compacts[k]:
            taken = int(((cohort.compact == c) & (room == k)).sum())
            if taken > compact_limit(settings, classroom.seats):
                broken.append(f"compact {c} takes {taken} seats of classroom {classroom.id}")
    for c in np.unique(cohort.compact[cohort.compact >= 0]):
        if settings.compact_together == "hard" and len(np.unique(room[cohort.compact == c])) > 1:
            broken.append(f"compact {c} is split over classrooms")
    refused = (cohort.choice == 2) & holds[room]
    if refused.any():
        broken.append(f"{int(refused.sum())} children of families that said no are in compact classrooms")
    weight = settings.choice.weight if settings.choice is not None else 0
    wished: dict[int, bool] = {}
    for i in np.flatnonzero(cohort.choice == 1):
        family = int(cohort.family[i])
        wished[family] = wished.get(family, False) or not holds[room[i]]
    balance = 0
    seats = [classroom.seats for classroom in cohort.classrooms]
    for r in range(cohort.categories.shape[1]):
        total = int(cohort.categories[:, r].sum())
        inside = np.bincount(room[cohort.categories[:, r]], minlength=rooms)
        for k in range(rooms):
            balance += balance_cost(int(inside[k]), total, seats[k], sum(seats))
    split = 0
    values, counts = np.unique(cohort.family[cohort.compact < 0], return_counts=True)
    for family in values[counts > 1]:
        apart = len(np.unique(room[(cohort.family == family) & (cohort.compact < 0)])) > 1
        if apart and settings.siblings_together == "hard":
            broken.append("a family's children are split over classrooms")
        split += int(apart)
    siblings = 100 * settings.siblings_weight * split if settings.siblings_together == "soft" else 0
    terms = {
        "choice": 100 * weight * sum(wished.values()),
        "balance": balance,
        "siblings": siblings,
        "size": 100 * int(students.max() - students.min()) if rooms else 0,
    }
    return CohortOutcome(terms, students, compacts, broken)
