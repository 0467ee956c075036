"""`seatplan audit RUN --explanations FILE`: check cutoff explanations from the raw files.

For every reason of kind "cutoff" (from `seatplan explain … --json`, one object, a list of them, or
explanations.csv from `explain --all`), re-derived here from students.csv, priorities.csv and
assignment.csv alone:
- the student exists, and is not placed at the school the reason is about;
- the student's own key (priority at that school, lottery number) is the one stated;
- the cutoff student exists: the student with the stated lottery number, placed at that school in
  the student's grade (not through a compact), with the stated priority there;
- it is the last one the school admitted in that grade by its order (priority, then lottery), the
  school is full in that grade, and it outranks the student.
"""

from __future__ import annotations

import csv
import json
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from seatplan.auditor.district import District
from seatplan.auditor.errors import AuditInputError
from seatplan.auditor.report import RuleResult
from seatplan.auditor.rules import Placements
from seatplan.auditor.tables import unguard


def read_explanations(path: Path) -> list[dict[str, Any]]:
    """Cutoff reasons as {student_id, school_id, cutoff: {priority, lottery}, student_key, line}."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as error:
        raise AuditInputError([f"{path}: cannot read the file ({error})"]) from None
    if path.suffix.lower() == ".csv":
        return _from_csv(path, text)
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        raise AuditInputError(
            [f"{path}:{error.lineno}: expected JSON from seatplan explain --json ({error.msg})"]
        ) from None
    objects = document if isinstance(document, list) else [document]
    reasons = []
    for number, item in enumerate(objects, start=1):
        if not isinstance(item, dict) or "student_id" not in item or not isinstance(item.get("reasons"), list):
            raise AuditInputError([f"{path}: expected explanation {number} to have student_id and reasons"])
        for reason in item["reasons"]:
            if isinstance(reason, dict) and reason.get("kind") == "cutoff":
                reasons.append(
                    {
                        "student_id": str(item["student_id"]),
                        "school_id": str(reason.get("school_id")),
                        "cutoff": reason.get("cutoff") or {},
                        "student_key": reason.get("student_key") or {},
                        "where": f"explanation {number}",
                    }
                )
    return reasons


def _from_csv(path: Path, text: str) -> list[dict[str, Any]]:
    rows = list(csv.DictReader(text.splitlines()))
    needed = {"student_id", "reason_school_id", "kind", "cutoff_priority", "cutoff_lottery"}
    if rows and not needed <= set(rows[0]):
        raise AuditInputError([f"{path}:1: expected the columns of explanations.csv ({', '.join(sorted(needed))})"])
    return [
        {
            "student_id": unguard(row["student_id"].strip()),
            "school_id": unguard(row["reason_school_id"].strip()),
            "cutoff": {"priority": unguard(row["cutoff_priority"]), "lottery": unguard(row["cutoff_lottery"])},
            "student_key": {
                "priority": unguard(row.get("student_priority") or ""),
                "lottery": unguard(row.get("student_lottery") or ""),
            },
            "where": f"line {line}",
        }
        for line, row in enumerate(rows, start=2)
        if row.get("kind", "").strip() == "cutoff"
    ]


def _number(value: Any) -> Decimal | None:
    try:
        return Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        return None


def check_explanations(district: District, placements: Placements, reasons: list[dict[str, Any]]) -> RuleResult:
    """Every cutoff reason, checked against the raw files."""
    result = RuleResult("explanations", noun=("wrong cutoff explanation", "wrong cutoff explanations"))
    by_lottery = {Decimal(str(value)): student for student, value in district.lottery.items()}
    for reason in reasons:
        problem = _check(district, placements, by_lottery, reason)
        if problem:
            result.fail(f"{reason['where']}: {reason['student_id']} at {reason['school_id']}: {problem}")
    result.info.append(f"{len(reasons)} cutoff reason{'s' if len(reasons) != 1 else ''} checked")
    return result


def _check(district: District, placements: Placements, by_lottery: dict[Decimal, str], reason: dict[str, Any]) -> str:
    student, school = reason["student_id"], reason["school_id"]
    if student not in district.family:
        return "no such student"
    if school not in district.schools:
        return "no such school"
    if placements.placed(student) == school:
        return "the student is placed at this school"
    grade = district.grade[student] if district.grade is not None else ""
    own = reason["student_key"]
    if own and (
        _number(own.get("priority")) != district.priority(student, school)
        or _number(own.get("lottery")) != Decimal(str(district.lottery[student]))
    ):
        return "the student's priority or lottery number is not the one stated"
    lottery = _number(reason["cutoff"].get("lottery"))
    last = by_lottery.get(lottery) if lottery is not None else None
    if last is None:
        return "no student has the cutoff's lottery number"
    if placements.placed(last) != school or last in placements.through_compact:
        return f"the cutoff student {last} is not admitted at this school by its list"
    last_grade = district.grade[last] if district.grade is not None else ""
    if last_grade != grade:
        return f"the cutoff student {last} is in another grade"
    if _number(reason["cutoff"].get("priority")) != district.priority(last, school):
        return f"the cutoff student {last} has another priority at this school"
    admitted = [
        other
        for other, at in placements.school.items()
        if at == school
        and other not in placements.through_compact
        and (district.grade[other] if district.grade is not None else "") == grade
    ]
    if max(admitted, key=lambda other: district.order_key(other, school)) != last:
        return f"the cutoff student {last} is not the last one the school admitted"
    seats = district.seats.get((school, grade), 0) if district.grade is not None else district.schools[school].capacity
    held = sum(
        1
        for other, at in placements.school.items()
        if at == school and (district.grade[other] if district.grade is not None else "") == grade
    )
    if held < seats:
        return f"the school is not full ({held} of {seats} seats)"
    if district.order_key(last, school) >= district.order_key(student, school):
        return f"the cutoff student {last} does not outrank the student"
    return ""
