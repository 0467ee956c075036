"""The model of issue 2, written again from its text, for the oracles.

It reads a `Case` (plain data, see instances.py), never the solver's Instance or formulation, and
imports nothing from models/, solver/ or audit/: a mistake there cannot hide here. It answers three
questions: does an assignment keep every hard rule, what does it cost (in cents, integers), and
what is the least cost of all assignments (by enumerating every one of them).

An assignment is a dict student_id -> school_id, or None for unplaced.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterator
from fractions import Fraction

from tests.oracles.instances import Case, total_capacity

Assignment = dict[str, str | None]
TERMS = (
    "rank",
    "unassigned",
    "distance",
    "broken_compact",
    "outside_cluster",
    "diversity",
    "blocking_pairs",
    "split_families",
)


# ---------------------------------------------------------------------------------------------
# what the contract derives from the data


def members(case: Case) -> dict[str, list[str]]:
    """Students of each compact: every student of a listed family."""
    out: dict[str, list[str]] = {}
    for compact_id, families, _school in case.compacts:
        out[compact_id] = [s.id for s in case.students if s.family in families]
    return out


def compact_of(case: Case) -> dict[str, tuple[str, str]]:
    """student -> (compact id, compact school), for members."""
    out = {}
    for compact_id, families, school in case.compacts:
        for s in case.students:
            if s.family in families:
                out[s.id] = (compact_id, school)
    return out


def options(case: Case, student: str) -> list[str | None]:
    """Rule 1: unplaced, any listed school, or (a member) its compact's school."""
    out: list[str | None] = [None, *case.prefs[student]]
    member = compact_of(case).get(student)
    if member is not None and member[1] not in out:
        out.append(member[1])
    return out


def position(case: Case, student: str, school: str) -> int | None:
    """1 for the first listed school, 2 for the next…; None when not listed."""
    listed = case.prefs[student]
    return listed.index(school) + 1 if school in listed else None


def seats(case: Case, school: str, grade: str) -> int:
    """Capacity of a school (and grade, with seats.csv; a missing row is no seats)."""
    if case.grades:
        return case.seats.get((school, grade), 0)
    return case.school(school).capacity


def honored(case: Case, assignment: Assignment) -> dict[str, bool]:
    """A compact is honored when all its members are placed at its school."""
    groups = members(case)
    return {c: all(assignment[s] == school for s in groups[c]) for c, _f, school in case.compacts}


def through_compact(case: Case, assignment: Assignment) -> set[str]:
    """Students placed at their compact's school with the compact honored."""
    ok = honored(case, assignment)
    return {s for s, (c, school) in compact_of(case).items() if ok[c] and assignment[s] == school}


def band(case: Case, rule: dict) -> tuple[int, int]:
    """[lo, hi]; around_district t: [p − t, p + t] clipped, p = ⌊100·K/N + 1/2⌋ of all students."""
    if "band" in rule:
        return int(rule["band"][0]), int(rule["band"][1])
    category = str(rule["category"])
    n = len(case.students)
    k = sum(1 for s in case.students if s.attributes[rule["attribute"]] == category)
    p = math.floor(Fraction(100 * k, n) + Fraction(1, 2))
    t = int(rule["around_district"])
    return max(0, p - t), min(100, p + t)


def unit_of(case: Case, school: str, scope: str) -> str | None:
    """The school itself, or its cluster, or its sector (None: in no unit of that scope)."""
    j = case.school(school)
    if scope == "school":
        return j.id
    value = j.cluster if scope == "cluster" else j.sector
    return value or None


def shortfalls(case: Case, rule: dict, assignment: Assignment) -> dict[str, int]:
    """Shortfall of a rule at every unit that has students: max(0, lo·n − 100·k, 100·k − hi·n)."""
    lo, hi = band(case, rule)
    category = str(rule["category"])
    n: Counter[str] = Counter()
    k: Counter[str] = Counter()
    by_id = {s.id: s for s in case.students}
    for student, school in assignment.items():
        if school is None:
            continue
        unit = unit_of(case, school, rule.get("scope", "school"))
        if unit is None:
            continue
        n[unit] += 1
        k[unit] += by_id[student].attributes[rule["attribute"]] == category
    return {u: max(0, lo * n[u] - 100 * k[u], 100 * k[u] - hi * n[u]) for u in n}


def haversine_hundredths(lat1: float, lon1: float, lat2: float, lon2: float) -> int:
    """Great-circle distance, radius 6371.0 km, rounded to 0.01 km, in hundredths of a km."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    km = 2 * 6371.0 * math.asin(math.sqrt(min(1.0, a)))
    return math.floor(km * 100 + 0.5)


# ---------------------------------------------------------------------------------------------
# the hard rules and the objective


def breaches(case: Case, assignment: Assignment) -> list[str]:
    """Every hard rule the assignment breaks, in words (empty: it keeps them all)."""
    found = []
    by_id = {s.id: s for s in case.students}
    # 1. only at a listed school, or a member at its compact's school
    for s, school in assignment.items():
        if school is not None and school not in options(case, s):
            found.append(f"placement: {s} at {school}")
    # 2. capacity per school (and grade)
    load = Counter((school, by_id[s].grade) for s, school in assignment.items() if school is not None)
    for (school, grade), count in load.items():
        if count > seats(case, school, grade):
            found.append(f"capacity: {school} grade {grade!r} holds {count}")
    # 3. all members at the compact's school, or none of them there
    groups = members(case)
    for c, _families, school in case.compacts:
        there = sum(assignment[s] == school for s in groups[c])
        if 0 < there < len(groups[c]):
            found.append(f"compact {c}: {there} of {len(groups[c])} members at {school}")
    # 4. compact share
    ok = honored(case, assignment)
    share = Fraction(str(case.compact_settings.get("max_share", 100)))
    taken: Counter[str] = Counter()
    for c, _families, school in case.compacts:
        if ok[c]:
            taken[school] += len(groups[c])
    for school, count in taken.items():
        if count > math.floor(share * total_capacity(case, school) / 100):
            found.append(f"compact_share: {school} takes {count}")
    # 5. hard clusters, compact placements exempt
    if case.clusters_mode == "hard":
        exempt = through_compact(case, assignment)
        for s, school in assignment.items():
            home = by_id[s].home
            cluster = case.school(school).cluster if school is not None else ""
            if school is not None and home and cluster and cluster != home and s not in exempt:
                found.append(f"clusters: {s} (home {home}) at {school} in {cluster}")
    # 6. hard diversity: no shortfall
    for number, rule in enumerate(case.diversity):
        if rule.get("mode", "soft") == "hard":
            for unit, short in shortfalls(case, rule, assignment).items():
                if short > 0:
                    found.append(f"diversity rule {number + 1}: {unit} short by {short}")
    return found


def terms(case: Case, assignment: Assignment) -> dict[str, int]:
    """Each objective term, weighted, in cents."""
    by_id = {s.id: s for s in case.students}
    exempt = through_compact(case, assignment)
    placed = {s: j for s, j in assignment.items() if j is not None}
    out = dict.fromkeys(TERMS, 0)
    # a placed student who is not through its compact is at a listed school (rule 1)
    ranked = [position(case, s, j) or 0 for s, j in placed.items() if s not in exempt]
    out["rank"] = 100 * case.weight("rank") * sum(p - 1 for p in ranked)
    out["unassigned"] = 100 * case.weight("unassigned") * (len(assignment) - len(placed))
    out["distance"] = case.weight("distance") * sum(
        haversine_hundredths(by_id[s].lat, by_id[s].lon, case.school(j).lat, case.school(j).lon)
        for s, j in placed.items()
    )
    ok = honored(case, assignment)
    out["broken_compact"] = (
        100 * case.weight("broken_compact") * sum(len(families) for c, families, _j in case.compacts if not ok[c])
    )
    if case.clusters_mode == "soft":
        out["outside_cluster"] = (
            100
            * case.weight("outside_cluster")
            * sum(
                1
                for s, j in placed.items()
                if by_id[s].home
                and case.school(j).cluster
                and case.school(j).cluster != by_id[s].home
                and s not in exempt
            )
        )
    # (stability and families, issue 5's terms, are off in every case here: they stay 0)
    for rule in case.diversity:
        if rule.get("mode", "soft") == "soft":
            # weight × Σ shortfall / 100 in objective units is weight × Σ shortfall cents
            out["diversity"] += int(rule.get("weight", 1)) * sum(shortfalls(case, rule, assignment).values())
    return out


def cost(case: Case, assignment: Assignment) -> int:
    """The objective, in cents."""
    return sum(terms(case, assignment).values())


# ---------------------------------------------------------------------------------------------
# brute force


def assignments(case: Case) -> Iterator[Assignment]:
    """Every assignment that keeps rule 1 and capacity (rule 2); the other rules are checked after.

    Capacity is pruned while enumerating, which is only a speed-up: every pruned branch breaks
    rule 2 already.
    """
    students = case.students
    choices = [options(case, s.id) for s in students]
    load: Counter[tuple[str, str]] = Counter()
    current: list[str | None] = [None] * len(students)

    def walk(i: int) -> Iterator[Assignment]:
        if i == len(students):
            yield {s.id: current[k] for k, s in enumerate(students)}
            return
        for school in choices[i]:
            if school is not None:
                key = (school, students[i].grade)
                if load[key] >= seats(case, school, students[i].grade):
                    continue
                load[key] += 1
            current[i] = school
            yield from walk(i + 1)
            if school is not None:
                load[key] -= 1
        current[i] = None

    yield from walk(0)


def true_minimum(case: Case) -> tuple[int, Assignment, int]:
    """The least cost over every assignment that keeps every hard rule: (cents, one such
    assignment, how many feasible assignments there are)."""
    best: tuple[int, Assignment] | None = None
    feasible = 0
    for assignment in assignments(case):
        if breaches(case, assignment):
            continue
        feasible += 1
        value = cost(case, assignment)
        if best is None or value < best[0]:
            best = (value, assignment)
    assert best is not None, "everyone unplaced keeps every hard rule, so something is feasible"
    return best[0], best[1], feasible


def search_space(case: Case) -> int:
    """How many assignments rule 1 allows (before capacity)."""
    return math.prod(len(options(case, s.id)) for s in case.students)
