"""The classroom stage, re-checked from the raw files alone.

Read: classrooms.csv (student_id, school_id, grade, classroom_id), the stage's settings (the run
folder's sections.yaml, else the `sections:` block of its config.yaml), section_choices.csv,
classroom_seats.csv when the settings name it, students.csv (families, grades, the balance
categories) and the run's placements. Judged, each breach one violation naming its check:

- listed: every placed student in exactly one classroom of the school (and grade) the run places it
  at, and nobody else;
- seats: a classroom holds at most its seats (`size`, or classroom_seats.csv), and a school and
  grade uses at most ⌈placed / size⌉ classrooms, or only the classrooms classroom_seats.csv lists;
- compact together: an honored compact's students of one grade share one classroom;
- compact share: a compact takes at most ⌊max_compact_share × seats / 100⌋ seats of its classroom;
- compacts per classroom: at most max_compacts_per_classroom compacts in a classroom;
- no: no child of a family that said no is in a classroom that holds a compact;
- plausible alternative: where a school and grade has a compact classroom and families that said
  no, the classrooms without a compact have the seats for their children;
- siblings together (hard): a family's children of a grade (not placed through a compact) share a
  classroom;
- objective: every term recomputed (the contract in seatplan/models/classrooms.py, written again
  here from its words) and compared, to the cent, with sections.json.

Written apart from the solver's code: it shares no reader, no model and no formula with it.
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from seatplan.auditor.config import AuditConfig
from seatplan.auditor.district import District
from seatplan.auditor.errors import AuditInputError, Problems
from seatplan.auditor.report import RuleResult
from seatplan.auditor.rules import Placements
from seatplan.auditor.tables import data_format, read_data_table, unguard_columns

CHOICE_VALUES = ("yes", "no", "either")
TERM_NAMES = ("choice", "balance", "siblings", "size")


@dataclass
class Settings:
    size: int | None = None
    classroom_seats: Path | None = None
    compact_together: str = "hard"
    max_compact_share: int = 100
    max_compacts_per_classroom: int = 1
    choice_file: Path | None = None
    choice_weight: int = 1
    balance: list[tuple[str, str]] = field(default_factory=list)
    siblings_together: str = "off"
    siblings_weight: int = 1
    source: str = ""
    data_sha256: dict[str, str] = field(default_factory=dict)


def read_settings(run_dir: Path) -> Settings | None:
    """The stage's settings: sections.yaml in the run folder, else the config.yaml's sections:
    block; None when the run has neither (it was not sectioned)."""
    for name in ("sections.yaml", "config.yaml"):
        path = run_dir / name
        if not path.is_file():
            continue
        try:
            document = yaml.safe_load(path.read_text(encoding="utf-8-sig"))
        except (OSError, UnicodeDecodeError, yaml.YAMLError) as error:
            raise AuditInputError([f"{path}: cannot be read as YAML ({error})"]) from None
        block = document.get("sections") if isinstance(document, dict) else None
        if block is None:
            continue
        settings = _settings(block, path)
        digests = document.get("data_sha256") if name == "sections.yaml" else None
        settings.data_sha256 = {str(k): str(v) for k, v in (digests or {}).items()}
        return settings
    return None


def _settings(block: Any, path: Path) -> Settings:
    problems: list[str] = []
    where = str(path)
    if not isinstance(block, dict):
        raise AuditInputError([f"{where}: expected sections: to be a mapping"])

    def whole(key: str, default: int, low: int, high: int | None = None) -> int:
        value = block.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int) or value < low or (high is not None and value > high):
            problems.append(f"{where}: expected sections.{key} to be a whole number ≥ {low}, got {value!r}")
            return default
        return value

    settings = Settings(source=where)
    if "size" in block:
        settings.size = whole("size", 1, 1)
    if "classroom_seats" in block:
        settings.classroom_seats = path.parent / str(block["classroom_seats"])
    if (settings.size is None) == (settings.classroom_seats is None):
        problems.append(f"{where}: expected sections to have exactly one of size and classroom_seats")
    settings.compact_together = str(block.get("compact_together", "hard"))
    settings.max_compact_share = whole("max_compact_share", 100, 1, 100)
    settings.max_compacts_per_classroom = whole("max_compacts_per_classroom", 1, 1)
    choice = block.get("choice")
    if isinstance(choice, dict) and "file" in choice:
        settings.choice_file = path.parent / str(choice["file"])
        weight = choice.get("weight", 1)
        settings.choice_weight = weight if isinstance(weight, int) and not isinstance(weight, bool) else 1
    for rule in block.get("balance") or []:
        if not isinstance(rule, dict) or "attribute" not in rule or "category" not in rule:
            problems.append(f"{where}: expected each sections.balance rule to name an attribute and a category")
            continue
        settings.balance.append((str(rule["attribute"]), str(rule["category"])))
    settings.siblings_together = str(block.get("siblings_together", "off"))
    settings.siblings_weight = whole("siblings_weight", 1, 0)
    if problems:
        raise AuditInputError(problems)
    return settings


@dataclass
class Cohort:
    """One school and grade: its students, their classrooms, and the classrooms it has."""

    school: str
    grade: str
    students: list[str] = field(default_factory=list)
    seats: dict[str, int] = field(default_factory=dict)  # classroom -> seats, every classroom it has


def audit_sections(run_dir: Path, config: AuditConfig, district: District, placements: Placements) -> RuleResult | None:
    """The `sections` rule, or None when the run was not sectioned and its config asks for no stage."""
    settings = read_settings(run_dir)
    has_file = (run_dir / "classrooms.csv").is_file()
    result = RuleResult("sections")
    if settings is None and not has_file:
        return None
    if settings is None:
        result.fail("classrooms.csv is there, but no sections settings (sections.yaml or config.yaml)", 1)
        return result
    if not has_file:
        result.fail(f"the stage's settings ({settings.source}) are there, but no classrooms.csv", 1)
        return result
    problems = Problems()
    classroom = _read_classrooms(run_dir / "classrooms.csv", problems, result, district, placements)
    choice = _read_choices(settings, district, problems)
    listed_seats = _read_seats(settings, problems) if settings.classroom_seats is not None else None
    categories = _read_categories(settings, config, problems)
    problems.raise_if_any()
    _check_digests(settings, result)

    cohorts = _cohorts(district, placements, classroom, settings, listed_seats, result)
    cents = {name: 0 for name in TERM_NAMES}
    per_cohort: dict[tuple[str, str], dict[str, int]] = {}
    for key, cohort in cohorts.items():
        terms = _judge(cohort, classroom, district, placements, settings, choice, categories, result)
        per_cohort[key] = terms
        for name, value in terms.items():
            cents[name] += value
    _compare(run_dir / "sections.json", cents, per_cohort, result)
    result.details["sections_objective"] = {
        "terms": {name: value / 100 for name, value in cents.items()},
        "objective": sum(cents.values()) / 100,
    }
    return result


def _read_classrooms(
    path: Path, problems: Problems, result: RuleResult, district: District, placements: Placements
) -> dict[str, str]:
    columns = ("student_id", "school_id", "grade", "classroom_id")
    table = read_data_table(path, problems, columns)
    classroom: dict[str, str] = {}
    if table is None:
        return classroom
    if data_format(path) == "csv":
        unguard_columns(table, columns)  # seatplan's own file: a formula-like cell is guarded
    for line, student, school, grade, room in zip(
        table.lines, *(table.column(c) for c in ("student_id", "school_id", "grade", "classroom_id")), strict=True
    ):
        if student not in district.family:
            result.fail(f"listed: classrooms.csv:{line}: {student} is not a student of the run", 1, student=student)
            continue
        if student in classroom:
            result.fail(f"listed: classrooms.csv:{line}: {student} is listed again", 1, student=student)
            continue
        placed = placements.school.get(student)
        if placed is None:
            result.fail(
                f"listed: classrooms.csv:{line}: {student} is in a classroom, but the run places it nowhere",
                1,
                student=student,
            )
            continue
        own_grade = district.grade[student] if district.grade is not None else ""
        if school != placed or grade != own_grade:
            result.fail(
                f"listed: classrooms.csv:{line}: {student} is listed at {school} grade '{grade}', but the run "
                f"places it at {placed} (grade '{own_grade}')",
                1,
                student=student,
            )
            continue
        if not room:
            result.fail(f"listed: classrooms.csv:{line}: {student} has no classroom_id", 1, student=student)
            continue
        classroom[student] = room
    judged = {v.evidence.get("student") for v in result.violations}
    for student in sorted(placements.school):
        if student not in classroom and student not in judged:
            result.fail(f"listed: {student} is placed at {placements.school[student]} but in no classroom", 1)
    return classroom


def _read_choices(settings: Settings, district: District, problems: Problems) -> dict[str, str]:
    """Each family's answer (a family not listed: either)."""
    if settings.choice_file is None:
        return {}
    table = read_data_table(settings.choice_file, problems, ("family_id", "compact_classroom"))
    if table is None:
        return {}
    known = set(district.family.values())
    answers: dict[str, str] = {}
    for line, family, value in zip(
        table.lines, table.column("family_id"), table.column("compact_classroom"), strict=True
    ):
        answer = value.lower()
        if family not in known:
            problems.add(str(settings.choice_file), f"family {family} is not a family of the run's students", line)
        elif answer not in CHOICE_VALUES:
            problems.add(str(settings.choice_file), f"compact_classroom {value!r} is not yes, no or either", line)
        elif family in answers:
            problems.add(str(settings.choice_file), f"family {family} is listed twice", line)
        else:
            answers[family] = answer
    return answers


def _read_seats(settings: Settings, problems: Problems) -> dict[tuple[str, str], dict[str, int]]:
    assert settings.classroom_seats is not None
    table = read_data_table(settings.classroom_seats, problems, ("school_id", "classroom_id", "capacity"))
    seats: dict[tuple[str, str], dict[str, int]] = defaultdict(dict)
    if table is None:
        return seats
    grades = table.column("grade") if table.has("grade") else [""] * len(table)
    for line, school, room, capacity, grade in zip(
        table.lines,
        table.column("school_id"),
        table.column("classroom_id"),
        table.column("capacity"),
        grades,
        strict=True,
    ):
        if not (capacity.isascii() and capacity.isdigit() and len(capacity) <= 18) or int(capacity) < 1:
            problems.add(str(settings.classroom_seats), f"capacity {capacity!r} is not a whole number ≥ 1", line)
            continue
        seats[(school, grade)][room] = int(capacity)
    return seats


def _read_categories(settings: Settings, config: AuditConfig, problems: Problems) -> list[set[str]]:
    """For each balance rule, the students whose attribute is its category."""
    if not settings.balance:
        return []
    columns = tuple(dict.fromkeys(attribute for attribute, _ in settings.balance))
    path = config.data["students"]
    table = read_data_table(path, problems, ("student_id", *columns), sheet=config.data_sheets.get("students"))
    if table is None:
        return [set() for _ in settings.balance]
    ids = table.column("student_id")
    return [
        {student for student, value in zip(ids, table.column(attribute), strict=True) if value == category}
        for attribute, category in settings.balance
    ]


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _check_digests(settings: Settings, result: RuleResult) -> None:
    files = {"choice": settings.choice_file, "classroom_seats": settings.classroom_seats}
    for key, recorded in settings.data_sha256.items():
        path = files.get(key)
        if path is None:
            continue
        if _sha256(path) != recorded:
            result.fail(f"data: {path} has changed since the run was sectioned (its SHA-256 differs)", 1)


def _cohorts(
    district: District,
    placements: Placements,
    classroom: dict[str, str],
    settings: Settings,
    listed: dict[tuple[str, str], dict[str, int]] | None,
    result: RuleResult,
) -> dict[tuple[str, str], Cohort]:
    cohorts: dict[tuple[str, str], Cohort] = {}
    for student in district.students:
        school = placements.school.get(student)
        if school is None:
            continue
        grade = district.grade[student] if district.grade is not None else ""
        cohorts.setdefault((school, grade), Cohort(school, grade)).students.append(student)
    for key, cohort in cohorts.items():
        used = sorted({classroom[s] for s in cohort.students if s in classroom})
        if listed is not None:
            cohort.seats = dict(listed.get(key, {}))
            for room in used:
                if room not in cohort.seats:
                    result.fail(
                        f"seats: classroom {room} of {_name(cohort)} is not one classroom_seats.csv lists there", 1
                    )
            if not cohort.seats:
                result.fail(f"seats: classroom_seats.csv lists no classroom for {_name(cohort)}", 1)
        else:
            assert settings.size is not None
            allowed = -(-len(cohort.students) // settings.size)
            if len(used) > allowed:
                result.fail(
                    f"seats: {_name(cohort)} uses {len(used)} classrooms; ⌈{len(cohort.students)} / "
                    f"{settings.size}⌉ = {allowed}",
                    1,
                )
            cohort.seats = {room: settings.size for room in used}
            # The classrooms it has but leaves empty count in the objective (0 students).
            for k in range(allowed - len(used)):
                cohort.seats[f"(empty {k + 1})"] = settings.size
        for room in used:
            cohort.seats.setdefault(room, 0)
    return cohorts


def _name(cohort: Cohort) -> str:
    return f"{cohort.school}" + (f" grade {cohort.grade}" if cohort.grade else "")


def _judge(
    cohort: Cohort,
    classroom: dict[str, str],
    district: District,
    placements: Placements,
    settings: Settings,
    choice: dict[str, str],
    categories: list[set[str]],
    result: RuleResult,
) -> dict[str, int]:
    """Every hard rule of one school and grade; its objective terms, in cents."""
    rooms = list(cohort.seats)
    members: dict[str, list[str]] = {room: [] for room in rooms}
    for student in cohort.students:
        if student in classroom:
            members[classroom[student]].append(student)
    compacts_in: dict[str, dict[str, int]] = {room: {} for room in rooms}
    for room, students in members.items():
        for student in students:
            compact = placements.through_compact.get(student)
            if compact:
                compacts_in[room][compact] = compacts_in[room].get(compact, 0) + 1
    where = _name(cohort)
    for room in rooms:
        seats = cohort.seats[room]
        if len(members[room]) > seats:
            result.fail(f"seats: classroom {room} of {where} holds {len(members[room])} students for {seats} seats", 1)
        if len(compacts_in[room]) > settings.max_compacts_per_classroom:
            result.fail(
                f"compacts per classroom: classroom {room} of {where} holds {len(compacts_in[room])} compacts "
                f"({', '.join(sorted(compacts_in[room]))}); at most {settings.max_compacts_per_classroom}",
                1,
            )
        limit = settings.max_compact_share * seats // 100
        for compact, count in sorted(compacts_in[room].items()):
            if count > limit:
                result.fail(
                    f"compact share: compact {compact} takes {count} seats of classroom {room} of {where}; at most "
                    f"⌊{settings.max_compact_share} × {seats} / 100⌋ = {limit}",
                    1,
                )
    if settings.compact_together == "hard":
        spread: dict[str, set[str]] = defaultdict(set)
        for room, found in compacts_in.items():
            for compact in found:
                spread[compact].add(room)
        for compact, where_rooms in sorted(spread.items()):
            if len(where_rooms) > 1:
                result.fail(
                    f"compact together: compact {compact} is split over classrooms {', '.join(sorted(where_rooms))} "
                    f"of {where}",
                    1,
                )
    holds = {room: bool(compacts_in[room]) for room in rooms}
    said_no = [s for s in cohort.students if choice.get(district.family[s]) == "no" and s in classroom]
    for student in said_no:
        if holds[classroom[student]]:
            result.fail(
                f"no: {student} (family {district.family[student]}, which said no) is in classroom "
                f"{classroom[student]} of {where}, which holds compact "
                f"{', '.join(sorted(compacts_in[classroom[student]]))}",
                1,
            )
    if said_no and any(holds.values()):
        free = sum(cohort.seats[room] for room in rooms if not holds[room])
        if free < len(said_no):
            result.fail(
                f"plausible alternative: {where} has {free} seats in classrooms without a compact for the "
                f"{len(said_no)} children of families that said no",
                1,
            )
    split = 0
    families: dict[str, set[str]] = defaultdict(set)
    for student in cohort.students:
        if student in classroom and student not in placements.through_compact:
            families[district.family[student]].add(student)
    for family, children in sorted(families.items()):
        if len(children) > 1 and len({classroom[c] for c in children}) > 1:
            split += 1
            if settings.siblings_together == "hard":
                result.fail(f"siblings together: family {family}'s children are in different classrooms of {where}", 1)
    # The objective, in cents, in the contract's words.
    wished = {district.family[s] for s in cohort.students if choice.get(district.family[s]) == "yes"}
    unmet = {
        district.family[s]
        for s in cohort.students
        if district.family[s] in wished and s in classroom and not holds[classroom[s]]
    }
    total_seats = sum(cohort.seats.values())
    balance = 0
    for in_category in categories:
        everyone = sum(1 for s in cohort.students if s in in_category)
        for room in rooms:
            here = sum(1 for s in members[room] if s in in_category)
            # |S·k − K·s| / S, in hundredths, rounded up.
            numerator = 100 * abs(total_seats * here - everyone * cohort.seats[room])
            balance += (numerator + total_seats - 1) // total_seats if total_seats else 0
    sizes = [len(members[room]) for room in rooms]
    return {
        "choice": 100 * settings.choice_weight * len(unmet),
        "balance": balance,
        "siblings": 100 * settings.siblings_weight * split if settings.siblings_together == "soft" else 0,
        "size": 100 * (max(sizes) - min(sizes)) if sizes else 0,
    }


def _compare(
    path: Path, cents: dict[str, int], per_cohort: dict[tuple[str, str], dict[str, int]], result: RuleResult
) -> None:
    """sections.json's objective and terms against the recomputed ones, to the cent."""
    if not path.is_file():
        result.fail("objective: sections.json is missing: the stage's objective cannot be compared", 1)
        return
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
        claimed = {name: round(100 * float(document["terms"][name])) for name in TERM_NAMES}
        objective = round(100 * float(document["objective"]))
    except (OSError, ValueError, KeyError, TypeError) as error:
        result.fail(f"objective: sections.json cannot be read ({error})", 1)
        return
    for name in TERM_NAMES:
        if claimed[name] != cents[name]:
            result.fail(
                f"objective: sections.json says {name} {claimed[name] / 100:,.2f}; recomputed {cents[name] / 100:,.2f}",
                1,
            )
    if objective != sum(cents.values()):
        result.fail(
            f"objective: sections.json says {objective / 100:,.2f}; recomputed {sum(cents.values()) / 100:,.2f}", 1
        )
    for cohort in document.get("cohorts", []):
        key = (str(cohort.get("school_id")), str(cohort.get("grade")))
        if key in per_cohort and round(100 * float(cohort.get("objective", 0))) != sum(per_cohort[key].values()):
            result.fail(
                f"objective: sections.json says {cohort.get('objective')} for {key[0]} grade '{key[1]}'; "
                f"recomputed {sum(per_cohort[key].values()) / 100:,.2f}",
                1,
            )
    if not result.violations:
        result.info.append(
            f"objective recomputed: {sum(cents.values()) / 100:,.2f} "
            f"({', '.join(f'{name} {value / 100:,.2f}' for name, value in cents.items())}), as sections.json says"
        )
