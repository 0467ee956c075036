"""The model's hard rules and the compact data rules, each re-derived from the raw files.

Every function takes the district, the config and the placements, and returns one
RuleResult whose violations name the students, schools and compacts that show them.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from fractions import Fraction

from seatplan.auditor.assignment import Row
from seatplan.auditor.config import AuditConfig, DiversityRule
from seatplan.auditor.district import District
from seatplan.auditor.report import PRINT_LIMIT, RuleResult


@dataclass
class Placements:
    """Who is placed where, read from each known student's first row.

    A row naming an unknown school counts as unplaced: the rule `known_ids` reports it,
    and no other rule can say anything true about a school that does not exist.
    """

    rows: list[Row]
    first_row: dict[str, Row]
    school: dict[str, str]  # placed students only
    honored: dict[str, bool]
    through_compact: dict[str, str]  # student -> honored compact that placed it
    # False for deferred acceptance: it applies no compact, so every compact counts as not
    # honored and nobody is placed through one.
    compacts_apply: bool = True

    def placed(self, student: str) -> str | None:
        return self.school.get(student)


def place(district: District, rows: list[Row], compacts_apply: bool = True) -> Placements:
    """Read the placements; with compacts_apply False no compact is honored."""
    first_row: dict[str, Row] = {}
    school: dict[str, str] = {}
    for row in rows:
        if row.student not in district.family or row.student in first_row:
            continue
        first_row[row.student] = row
        if row.school and row.school in district.schools:
            school[row.student] = row.school
    honored: dict[str, bool] = {}
    through: dict[str, str] = {}
    for compact in district.compacts.values():
        honored[compact.compact_id] = (
            compacts_apply
            and compact.school_id in district.schools
            and bool(compact.members)
            and all(school.get(s) == compact.school_id for s in compact.members)
        )
        if honored[compact.compact_id]:
            for student in compact.members:
                through.setdefault(student, compact.compact_id)
    return Placements(rows, first_row, school, honored, through, compacts_apply)


#: Said of a rule a mechanism does not apply (deferred acceptance, schools proposing, immediate
#: acceptance, top trading cycles), with the mechanism's name.
NOT_APPLIED = "not applied by {}"


def not_applied(result: RuleResult, mechanism: str = "deferred_acceptance") -> RuleResult:
    """A hard rule the run's mechanism does not apply: its breaches become information.

    Every breach stays in --json (`not_applied`); the text shows the first PRINT_LIMIT.
    """
    words = NOT_APPLIED.format(mechanism.replace("_", " "))
    if not result.violations:
        result.info.insert(0, f"{words}; it holds here anyway")
        return result
    breaches = result.violations
    result.details["not_applied"] = [v.to_json() for v in breaches]
    result.violations = []
    lines = [f"{words}: {v.message}" for v in breaches[:PRINT_LIMIT]]
    if len(breaches) > 1:
        total = sum(v.amount for v in breaches)
        lines.insert(0, f"{words}: {len(breaches)} breaches (amount {total:g}), reported, not judged")
    if len(breaches) > PRINT_LIMIT:
        lines.append(f"… and {len(breaches) - PRINT_LIMIT} more (every one in --json)")
    result.info[:0] = lines
    return result


def _join(items: list[str], limit: int = 6) -> str:
    shown = ", ".join(items[:limit])
    return shown + (f", … ({len(items)} in all)" if len(items) > limit else "")


# --- the assignment file itself -------------------------------------------------------------


def known_ids(district: District, placements: Placements) -> RuleResult:
    """Every row names a student of students.csv and, when placed, a school of schools.csv."""
    result = RuleResult("known_ids")
    for row in placements.rows:
        if row.student not in district.family:
            result.fail(
                f'line {row.line}: unknown student_id "{row.student}"',
                1,
                line=row.line,
                student_id=row.student,
            )
        if row.school and row.school not in district.schools:
            result.fail(
                f'line {row.line}: student {row.student} placed at unknown school "{row.school}"',
                1,
                line=row.line,
                student_id=row.student,
                school_id=row.school,
            )
    return result


def at_most_once(district: District, placements: Placements) -> RuleResult:
    """A student has one row, so it can be placed at most once."""
    result = RuleResult("at_most_once")
    lines: dict[str, list[int]] = defaultdict(list)
    where: dict[str, list[str]] = defaultdict(list)
    for row in placements.rows:
        if row.student in district.family:
            lines[row.student].append(row.line)
            where[row.student].append(row.school or "(unplaced)")
    for student, found in lines.items():
        if len(found) > 1:
            schools = where[student]
            result.fail(
                f"student {student} has {len(found)} rows (lines {_join([str(n) for n in found])}: "
                f"{_join(schools)}); the first is audited",
                len(found) - 1,
                student_id=student,
                lines=found,
            )
    return result


def every_student_listed(district: District, placements: Placements) -> RuleResult:
    """Every student of students.csv has a row; a missing one is audited as unplaced."""
    result = RuleResult("every_student_listed")
    for student in district.students:
        if student not in placements.first_row:
            result.fail(f"student {student} has no row (audited as unplaced)", 1, student_id=student)
    return result


def listed_school(district: District, placements: Placements) -> RuleResult:
    """Rule 1: placed only at a school on its own list, or a member at its compact's school."""
    result = RuleResult("listed_school")
    for student, school in placements.school.items():
        if district.position(student, school) is not None:
            continue
        if placements.compacts_apply and any(compact.school_id == school for compact in district.compacts_of(student)):
            continue
        listed = district.lists.get(student, [])
        nor = (
            "nor its compact's school"
            if placements.compacts_apply
            else "(deferred acceptance places no one through a compact)"
        )
        result.fail(
            f"student {student} placed at {school}, which is not on its list "
            f"({_join(listed) if listed else 'an empty list'}) {nor}",
            1,
            student_id=student,
            school_id=school,
        )
    return result


def position_column(district: District, placements: Placements) -> RuleResult:
    """`position` is the school's place in the student's list; empty when unplaced or unlisted."""
    result = RuleResult("position_column")
    for student, row in placements.first_row.items():
        if row.school and row.school not in district.schools:
            continue  # known_ids already reports it; there is no true position to compare
        expected = district.position(student, row.school) if row.school else None
        actual = row.position
        if expected is None:
            if actual:
                why = "unplaced" if not row.school else f"{row.school} is not on its list"
                result.fail(
                    f'line {row.line}: student {student} has position "{_clipped(actual)}", expected empty ({why})',
                    1,
                    line=row.line,
                    student_id=student,
                    found=actual,
                    expected=None,
                )
        elif not (actual.isascii() and actual.isdigit() and actual.lstrip("0") == str(expected)):
            # Compared as text: "²" is a digit to Python but no integer, and a 20,000-digit field
            # is more than int() converts.
            result.fail(
                f'line {row.line}: student {student} at {row.school} has position "{_clipped(actual)}", '
                f"expected {expected}",
                1,
                line=row.line,
                student_id=student,
                found=actual,
                expected=expected,
            )
    return result


def _clipped(text: str, limit: int = 40) -> str:
    """A field as a line shows it: the first `limit` characters of a longer one (the JSON keeps it whole)."""
    return text if len(text) <= limit else f"{text[:limit]}… ({len(text):,} characters)"


def compact_id_column(district: District, placements: Placements) -> RuleResult:
    """`compact_id` is set exactly for students placed through an honored compact."""
    result = RuleResult("compact_id_column")
    for student, row in placements.first_row.items():
        if row.school and row.school not in district.schools:
            continue  # known_ids already reports it
        school = placements.placed(student)
        expected = sorted(
            c.compact_id
            for c in district.compacts_of(student)
            if school is not None and placements.honored[c.compact_id] and c.school_id == school
        )
        actual = row.compact_id
        if expected and actual not in expected:
            result.fail(
                f"line {row.line}: student {student} placed at {school} through honored "
                f"compact {expected[0]}, "
                f'but compact_id is "{actual}"',
                1,
                line=row.line,
                student_id=student,
                found=actual,
                expected=expected[0],
            )
        elif not expected and actual:
            if actual not in district.compacts:
                why = "no such compact"
            elif student not in district.compacts[actual].members:
                why = f"{student} is not a member of {actual}"
            elif not placements.compacts_apply:
                why = "deferred acceptance honors no compact"
            elif not placements.honored[actual]:
                why = f"compact {actual} is not honored"
            else:
                why = f"{student} is not at {actual}'s school {district.compacts[actual].school_id}"
            result.fail(
                f'line {row.line}: student {student} has compact_id "{actual}", expected empty ({why})',
                1,
                line=row.line,
                student_id=student,
                found=actual,
                expected=None,
            )
    return result


# --- seats ----------------------------------------------------------------------------------------


def capacity(district: District, placements: Placements) -> RuleResult:
    """Rule 2: placed students ≤ capacity, per school and grade when there are seats."""
    result = RuleResult("capacity")
    if district.grade is not None:
        held = Counter((school, district.grade[s]) for s, school in placements.school.items())
        for (school, grade), count in sorted(held.items()):
            seats = district.seats.get((school, grade), 0)
            if count > seats:
                result.fail(
                    f"school {school} grade {grade} holds {count}, capacity {seats} (over by {count - seats})",
                    count - seats,
                    school_id=school,
                    grade=grade,
                    placed=count,
                    capacity=seats,
                )
    else:
        held_school = Counter(placements.school.values())
        for school, count in sorted(held_school.items()):
            seats = district.schools[school].capacity
            if count > seats:
                result.fail(
                    f"school {school} holds {count}, capacity {seats} (over by {count - seats})",
                    count - seats,
                    school_id=school,
                    placed=count,
                    capacity=seats,
                )
    return result


def eligibility(district: District, placements: Placements) -> RuleResult:
    """No student is placed where priorities.csv marks it eligible=false: no mechanism and no plan
    may use that pair (one line per student)."""
    result = RuleResult("eligibility", noun=("ineligible placement", "ineligible placements"))
    for student in district.students:
        school = placements.placed(student)
        line = district.ineligible.get((student, school)) if school is not None else None
        if school is None or line is None:
            continue
        result.fail(
            f"student {student} placed at {school}, where it is not eligible ({district.priorities_where} line {line})",
            1,
            student_id=student,
            school_id=school,
            line=line,
        )
    if result.passed:
        result.info.append(f"{len(district.ineligible)} ineligible pairs in {district.priorities_where}; none is used")
    return result


# --- compacts -------------------------------------------------------------------------------------


def compact_together(district: District, placements: Placements) -> RuleResult:
    """Rule 3: all members at the compact's school, or none there (not even through their lists)."""
    result = RuleResult("compact_together")
    for compact in district.compacts.values():
        if not compact.members or compact.school_id not in district.schools:
            continue
        target = compact.school_id
        at = [s for s in compact.members if placements.placed(s) == target]
        if not at or len(at) == len(compact.members):
            continue
        families_at = [
            f
            for f in compact.families
            if f in district.family_members and all(placements.placed(s) == target for s in district.family_members[f])
        ]
        known_families = [f for f in compact.families if f in district.family_members]
        elsewhere = [_family_whereabouts(f, district, placements) for f in known_families if f not in families_at]
        result.fail(
            f"compact {compact.compact_id}: {len(families_at)} of {len(known_families)} "
            f"families at {target}, "
            f"{_join(elsewhere, 4)}",
            len(compact.members) - len(at),
            compact_id=compact.compact_id,
            school_id=target,
            members=len(compact.members),
            members_at_school=len(at),
        )
    return result


def _family_whereabouts(family: str, district: District, placements: Placements) -> str:
    where = [placements.placed(s) for s in district.family_members[family]]
    if len(set(where)) == 1:
        return f"family {family} " + (f"at {where[0]}" if where[0] else "unplaced")
    parts = [
        f"{s} {'at ' + w if w else 'unplaced'}" for s, w in zip(district.family_members[family], where, strict=True)
    ]
    return f"family {family} split ({', '.join(parts)})"


def share_cap(config: AuditConfig, capacity: int) -> int:
    """floor(max_share × capacity / 100), exact for a decimal max_share."""
    share = config.max_share
    return (share.numerator * capacity) // (share.denominator * 100)


def compact_share(district: District, config: AuditConfig, placements: Placements) -> RuleResult:
    """Rule 4: placed through honored compacts ≤ floor(max_share × total capacity / 100)."""
    result = RuleResult("compact_share")
    through = Counter(placements.school[s] for s in placements.through_compact)
    for school, count in sorted(through.items()):
        total = district.schools[school].capacity
        cap = share_cap(config, total)
        if count > cap:
            result.fail(
                f"school {school} takes {count} students through honored compacts, cap "
                f"floor({_decimal(config.max_share)}% × {total}) = {cap} (over by {count - cap})",
                count - cap,
                school_id=school,
                through_compacts=count,
                cap=cap,
            )
    return result


def _decimal(value: Fraction) -> str:
    """An exact setting as a planner wrote it: 30, 59.99, 0.2."""
    return str(value.numerator) if value.denominator == 1 else f"{float(value):g}"


def compact_family_count(district: District, config: AuditConfig) -> RuleResult:
    """A compact joins min_families to max_families families."""
    result = RuleResult("compact_family_count")
    low, high = config.min_families, config.max_families
    for compact in district.compacts.values():
        n = len(compact.families)
        if not low <= n <= high:
            gap = low - n if n < low else n - high
            result.fail(
                f"compact {compact.compact_id} has {n} famil{'y' if n == 1 else 'ies'}, expected {low} to {high}",
                gap,
                compact_id=compact.compact_id,
                families=n,
            )
    return result


def compact_single_school(district: District) -> RuleResult:
    """A compact designates one school: every row of it names the same one."""
    result = RuleResult("compact_single_school")
    for compact in district.compacts.values():
        if len(compact.schools) > 1:
            result.fail(
                f"compact {compact.compact_id} names {len(compact.schools)} schools "
                f"({_join(compact.schools)}); "
                f"audited at {compact.school_id}",
                len(compact.schools) - 1,
                compact_id=compact.compact_id,
                schools=compact.schools,
            )
    return result


def compact_family_once(district: District) -> RuleResult:
    """A family applies in at most one compact, and once in it."""
    result = RuleResult("compact_family_once")
    where: dict[str, list[str]] = defaultdict(list)
    for compact in district.compacts.values():
        for family in compact.families:
            where[family].append(compact.compact_id)
        for family in compact.repeated_families:
            result.fail(
                f"family {family} is listed more than once in compact {compact.compact_id}",
                1,
                family_id=family,
                compacts=[compact.compact_id],
            )
    for family, compacts in where.items():
        if len(compacts) > 1:
            result.fail(
                f"family {family} is in {len(compacts)} compacts ({_join(compacts)})",
                len(compacts) - 1,
                family_id=family,
                compacts=compacts,
            )
    return result


def compact_known(district: District) -> RuleResult:
    """A compact's families are families of students.csv and its school is in schools.csv."""
    result = RuleResult("compact_known")
    for compact in district.compacts.values():
        for family in compact.families:
            if family not in district.family_members:
                result.fail(
                    f"compact {compact.compact_id} lists family {family}, which no student belongs to",
                    1,
                    compact_id=compact.compact_id,
                    family_id=family,
                )
        for school in compact.schools:
            if school not in district.schools:
                result.fail(
                    f"compact {compact.compact_id} designates unknown school {school}",
                    1,
                    compact_id=compact.compact_id,
                    school_id=school,
                )
    return result


def compact_under_selected(district: District, config: AuditConfig) -> RuleResult:
    """Only under-selected schools may be designated (when the config requires it)."""
    result = RuleResult("compact_under_selected")
    if not config.require_under_selected:
        result.info.append("not required (compacts.require_under_selected is false)")
        return result
    for compact in district.compacts.values():
        school_id = compact.school_id
        if school_id not in district.schools or district.under_selected(school_id, config.under_selected_ratio):
            continue
        school = district.schools[school_id]
        if school.under_selected_given is not None:
            why = "schools.csv marks it under_selected false"
        else:
            why = (
                f"{district.first_choices[school_id]} students list it first, not fewer than "
                f"{_decimal(config.under_selected_ratio)} × capacity {school.capacity}"
            )
        result.fail(
            f"compact {compact.compact_id} designates {school_id}, which is not under-selected ({why})",
            1,
            compact_id=compact.compact_id,
            school_id=school_id,
            first_choices=district.first_choices[school_id],
            capacity=school.capacity,
        )
    return result


# --- clusters -------------------------------------------------------------------------------------


def outside_cluster(district: District, placements: Placements) -> list[tuple[str, str]]:
    """(student, school) placed in a cluster not its home one; compact placements exempt."""
    found: list[tuple[str, str]] = []
    for student, school in placements.school.items():
        home = district.home_cluster.get(student, "")
        cluster = district.schools[school].cluster
        if home and cluster and cluster != home and student not in placements.through_compact:
            found.append((student, school))
    return found


def clusters(district: District, config: AuditConfig, placements: Placements) -> RuleResult:
    """Rule 5 (hard mode): a student with a home cluster stays in it or at a citywide school."""
    result = RuleResult("clusters")
    outside = outside_cluster(district, placements)
    if config.clusters_mode != "hard":
        result.info.append(
            f"mode {config.clusters_mode}: not a hard rule; {len(outside)} placed students "
            "are outside their "
            f"home cluster" + (" (counted in the objective)" if config.clusters_mode == "soft" else "")
        )
        return result
    for student, school in outside:
        result.fail(
            f"student {student} (home cluster {district.home_cluster[student]}) placed at "
            f"{school} in cluster "
            f"{district.schools[school].cluster}",
            1,
            student_id=student,
            school_id=school,
        )
    return result


# --- diversity ------------------------------------------------------------------------------------


@dataclass
class Unit:
    unit: str
    placed: int
    in_category: int
    shortfall: int  # percent-students

    @property
    def share(self) -> float:
        return round(100 * self.in_category / self.placed, 2) if self.placed else 0.0


@dataclass
class DiversityResult:
    rule: DiversityRule
    band: tuple[int, int]
    units: list[Unit] = field(default_factory=list)

    @property
    def shortfall(self) -> int:
        return sum(unit.shortfall for unit in self.units)

    @property
    def worst(self) -> Unit | None:
        worst = max(self.units, key=lambda u: u.shortfall, default=None)
        return worst if worst is not None and worst.shortfall > 0 else None


def district_band(district: District, rule: DiversityRule) -> tuple[int, int]:
    """The rule's band; around_district t is [p − t, p + t] clipped, p the district share."""
    if rule.band is not None:
        return rule.band
    assert rule.around_district is not None
    values = district.attributes[rule.attribute]
    n = len(district.students)
    k = sum(1 for s in district.students if values[s] == rule.category)
    p = (200 * k + n) // (2 * n) if n else 0
    return max(0, p - rule.around_district), min(100, p + rule.around_district)


def diversity_units(district: District, rule: DiversityRule, placements: Placements) -> DiversityResult:
    """n and k per unit of the rule's scope, and each unit's shortfall from the band."""
    low, high = band = district_band(district, rule)
    values = district.attributes[rule.attribute]
    schools = district.schools.values()
    if rule.scope == "school":
        unit_of = {s.school_id: s.school_id for s in schools}
        names = list(unit_of)
    else:
        key = "cluster" if rule.scope == "cluster" else "sector"
        unit_of = {s.school_id: getattr(s, key) for s in schools if getattr(s, key)}
        names = sorted(set(unit_of.values()))
    placed: Counter[str] = Counter()
    in_category: Counter[str] = Counter()
    for student, school in placements.school.items():
        unit = unit_of.get(school)
        if unit is None:
            continue
        placed[unit] += 1
        if values[student] == rule.category:
            in_category[unit] += 1
    result = DiversityResult(rule, band)
    for name in names:
        n, k = placed[name], in_category[name]
        result.units.append(Unit(name, n, k, max(0, low * n - 100 * k, 100 * k - high * n)))
    return result


def _describe_unit(rule: DiversityRule, unit: Unit, band: tuple[int, int]) -> str:
    return (
        f"{rule.scope} {unit.unit}: {unit.in_category} of {unit.placed} placed are "
        f"{rule.attribute}="
        f"{rule.category} ({unit.share:.2f}%), band [{band[0]}, {band[1]}], shortfall "
        f"{unit.shortfall} "
        f"percent-students ({unit.shortfall / 100:.2f} students)"
    )


def rule_name(rule: DiversityRule) -> str:
    return f"diversity #{rule.number} {rule.label} ({rule.mode})"


def diversity(district: District, rule: DiversityRule, placements: Placements) -> RuleResult:
    """Rule 6 for hard rules (zero shortfall everywhere); soft ones are reported, not judged."""
    result = RuleResult(rule_name(rule))
    if rule.mode == "off":
        result.info.append("mode off: ignored")
        return result
    units = diversity_units(district, rule, placements)
    if rule.mode == "hard":
        for unit in units.units:
            if unit.shortfall:
                result.fail(
                    _describe_unit(rule, unit, units.band),
                    unit.shortfall,
                    unit=unit.unit,
                    placed=unit.placed,
                    in_category=unit.in_category,
                    share=unit.share,
                    band=list(units.band),
                )
        return result
    worst = units.worst
    result.info.append(
        f"soft, band [{units.band[0]}, {units.band[1]}]: total shortfall {units.shortfall} "
        "percent-students "
        f"× weight {rule.weight} = {rule.weight * units.shortfall / 100:.2f} in the objective"
        + (f"; worst {_describe_unit(rule, worst, units.band)}" if worst else "; every unit inside its band")
    )
    return result
