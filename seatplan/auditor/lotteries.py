"""The lottery that breaks a school's ties, in the three kinds `lottery.kind` names.

A school orders its students by (priority descending, then the lottery ascending):

- single: one number per student: students.csv `lottery`, else
  int(sha256(f"{seed}:{student_id}").hexdigest()[:16], 16).
- per_school: one number per (student, school): priorities.csv `lottery` when it has that column
  (every pair a student lists needs one; numbers at one school differ), else
  int(sha256(f"{seed}:{student_id}:{school_id}").hexdigest()[:16], 16). students.csv's is not used.
- family: one number per family, shared by siblings (a student without family_id is its own family,
  named by its student_id): students.csv `lottery` (siblings equal, families distinct), else
  int(sha256(f"{seed}:family:{family_id}").hexdigest()[:16], 16); siblings at one school then by their
  own single draw (with a file lottery: by student_id, as text).

Written here from the contract, apart from the solver's; numbers are compared exactly (Decimal).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal

from seatplan.auditor.errors import Problems
from seatplan.auditor.tables import Table

# A lottery number: an integer or a decimal (an exponent is tolerated); no nan, no inf.
NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")
#: Ranks a placement no lottery number exists for (a school the student did not list) after all others.
LAST = Decimal("Infinity")

Number = int | Decimal


def draw(*parts: object) -> int:
    """The documented draw: the first 16 hex digits of SHA-256 of the parts joined by ':'."""
    digest = hashlib.sha256(":".join(str(part) for part in parts).encode()).hexdigest()
    return int(digest[:16], 16)


@dataclass
class Lottery:
    """Each kind's numbers, and the tie-break a school's order ends with."""

    kind: str
    seed: int
    single: dict[str, Number]  # the single kind's number per student
    single_text: dict[str, str]
    family_of: dict[str, str] = field(default_factory=dict)
    family_number: dict[str, Number] = field(default_factory=dict)
    family_text: dict[str, str] = field(default_factory=dict)
    pair: dict[tuple[str, str], Number] = field(default_factory=dict)
    pair_text: dict[tuple[str, str], str] = field(default_factory=dict)
    given: bool = False  # numbers read from a file (not drawn from the seed)

    def tiebreak(self, student: str, school: str) -> tuple[Number | str, ...]:
        """What follows −priority in a school's order key: smaller is ranked higher."""
        if self.kind == "per_school":
            return (self._pair(student, school),)
        if self.kind == "family":
            family = self.family_number[self.family_of[student]]
            return (family, student) if self.given else (family, self.single[student])
        return (self.single[student],)

    def shown(self, student: str, school: str) -> str:
        """The number(s) as written or drawn, for evidence."""
        if self.kind == "per_school":
            number = self._pair(student, school)
            return self.pair_text.get((student, school), str(number))
        if self.kind == "family":
            family = self.family_of[student]
            own = student if self.given else self.single_text[student]
            return f"{self.family_text[family]} (family {family}), then {own}"
        return self.single_text[student]

    def _pair(self, student: str, school: str) -> Number:
        key = (student, school)
        number = self.pair.get(key)
        if number is None:
            if self.given:
                return LAST  # unlisted: the file has no number, and it needs none
            number = self.pair[key] = draw(self.seed, student, school)
        return number


def single_numbers(
    table: Table, seed: int, problems: Problems, distinct: bool = True
) -> tuple[dict[str, Number], dict[str, str]]:
    """students.csv `lottery` (a number per student, distinct when `distinct`), else drawn from the seed.

    Numbers are compared exactly as written (Decimal): 0.1 stays 0.1, and 1 and 1.0 are
    the same number, so they repeat each other.
    """
    ids = table.column("student_id")
    lottery: dict[str, Number] = {}
    text: dict[str, str] = {}
    if not table.has("lottery"):
        for student in ids:
            if student:
                lottery[student] = draw(seed, student)
                text[student] = str(lottery[student])
        return lottery, text
    first_line: dict[Decimal, tuple[str, int]] = {}
    seen: set[str] = set()
    for line, student, written in zip(table.lines, ids, table.column("lottery"), strict=True):
        if not student or student in seen:
            continue  # reported as an empty or duplicate student_id
        seen.add(student)
        value = _number(table, line, student, written, problems)
        if value is None:
            continue
        if distinct and value in first_line:
            other, other_line = first_line[value]
            problems.add(
                table.where,
                f"lottery {written} of student {student} repeats that of student {other} "
                f"(line {other_line}); lottery numbers must be distinct",
                line,
            )
            continue
        first_line.setdefault(value, (student, line))
        lottery[student] = value
        text[student] = written
    return lottery, text


def _number(table: Table, line: int, student: str, written: str, problems: Problems) -> Decimal | None:
    if not written:
        problems.add(
            table.where, f"expected a lottery number for student {student} (the file has a lottery column)", line
        )
        return None
    if not NUMBER.fullmatch(written):
        problems.add(table.where, f'expected lottery to be a number for student {student}, got "{written}"', line)
        return None
    return Decimal(written)


def family_numbers(
    table: Table, family: dict[str, str], seed: int, problems: Problems
) -> tuple[dict[str, Number], dict[str, str]]:
    """One number per family: students.csv `lottery` (siblings equal, families distinct), else drawn."""
    if not table.has("lottery"):
        numbers: dict[str, Number] = {}
        for name in dict.fromkeys(family.values()):
            numbers[name] = draw(seed, "family", name)
        return numbers, {name: str(number) for name, number in numbers.items()}
    own, own_text = single_numbers(table, seed, problems, distinct=False)
    line_of = dict(zip(table.column("student_id"), table.lines, strict=True))
    numbers_given: dict[str, Number] = {}
    text: dict[str, str] = {}
    first: dict[str, str] = {}  # family -> its first student with a number
    holder: dict[Number, str] = {}  # number -> the family that has it
    for student, number in own.items():
        name = family[student]
        if name in first:
            _same_as_sibling(table, student, first[name], own_text, line_of, problems)
            continue
        if number in holder:
            other = first[holder[number]]
            problems.add(
                table.where,
                f"expected a lottery number of family {name} (student {student}) other than family "
                f"{holder[number]}'s (student {other}, line {line_of[other]}), got {own_text[student]}",
                line_of[student],
            )
            continue
        first[name], holder[number] = student, name
        numbers_given[name], text[name] = number, own_text[student]
    return numbers_given, text


def _same_as_sibling(
    table: Table, student: str, sibling: str, text: dict[str, str], line_of: dict[str, int], problems: Problems
) -> None:
    if Decimal(text[student]) != Decimal(text[sibling]):
        problems.add(
            table.where,
            f"expected lottery {text[sibling]} for student {student}, as its sibling {sibling} has "
            f"(line {line_of[sibling]}), got {text[student]}",
            line_of[student],
        )


def pair_numbers(
    priorities: Table, preferences: Table, known: Callable[[str, str], bool], problems: Problems
) -> tuple[dict[tuple[str, str], Number], dict[tuple[str, str], str]]:
    """priorities.csv `lottery` per (student, school); every listed pair needs one, distinct per school.

    `known(student, school)`: both exist (rows naming others are reported elsewhere).
    """
    numbers: dict[tuple[str, str], Number] = {}
    text: dict[tuple[str, str], str] = {}
    first: dict[tuple[str, Decimal], tuple[str, int]] = {}  # (school, number) -> (student, line)
    bad: set[tuple[str, str]] = set()  # reported at their priorities.csv line already
    for line, student, school, written in zip(
        priorities.lines,
        priorities.column("student_id"),
        priorities.column("school_id"),
        priorities.column("lottery"),
        strict=True,
    ):
        if not known(student, school) or (student, school) in numbers or not written:
            continue
        if not NUMBER.fullmatch(written):
            bad.add((student, school))
            problems.add(
                priorities.where,
                f'expected lottery to be a number for student {student} at school {school}, got "{written}"',
                line,
            )
            continue
        value = Decimal(written)
        if (school, value) in first:
            bad.add((student, school))
            other, other_line = first[(school, value)]
            problems.add(
                priorities.where,
                f"expected lottery numbers at school {school} to differ, got {written} for student {student} "
                f"and for student {other} (line {other_line})",
                line,
            )
            continue
        first[(school, value)] = (student, line)
        numbers[(student, school)], text[(student, school)] = value, written
    _every_listed_pair_numbered(
        preferences, lambda s, j: known(s, j) and (s, j) not in bad, numbers, priorities.where, problems
    )
    return numbers, text


def _every_listed_pair_numbered(
    preferences: Table,
    known: Callable[[str, str], bool],
    numbers: dict[tuple[str, str], Number],
    priorities_where: str,
    problems: Problems,
) -> None:
    for line, student, school in zip(
        preferences.lines, preferences.column("student_id"), preferences.column("school_id"), strict=True
    ):
        if known(student, school) and (student, school) not in numbers:
            problems.add(
                preferences.where,
                f"expected a lottery number for student {student} at school {school} in {priorities_where} "
                "(lottery.kind per_school, and it has a lottery column), got none",
                line,
            )
