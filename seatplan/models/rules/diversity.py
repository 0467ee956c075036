"""Diversity bands: the share of a category of students in each school, cluster or sector.

For a rule with band [lo, hi] (integer percents) and a unit u, with n = students placed in u and
k = those whose attribute equals the category (compared as text):
    shortfall(u) = max(0, lo·n − 100·k, 100·k − hi·n)          (percent-students)
`around_district: t` is the band [p − t, p + t] clipped to [0, 100], p = ⌊100·K/N + 1/2⌋, with K of
all N students in the category.

Both sides are linear in the seats: lo·n − 100·k = Σ_e (lo − 100·[e in category]) · x[e], and
100·k − hi·n = Σ_e (100·[e in category] − hi) · x[e].
hard (rule 6):  both sides ≤ 0 at every unit.
soft:           shortfall[rule, u] ≥ each side, ≥ 0; diversity (cents) = Σ_rules w · Σ_u shortfall[rule, u]
                (the objective counts w·shortfall/100, so in cents it is w·shortfall).
A side that cannot be positive (lo = 0, or hi = 100) gets no row.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from seatplan.models.config import Config, DiversityRule
from seatplan.models.instance import Instance
from seatplan.models.ir import HardUnits, Role, rows_from_triplets, term_from_pairs
from seatplan.models.rules.base import Build, Measures, Outcome, Rule, Seats, Shortcut, register


@dataclass(frozen=True)
class Units:
    """The units a rule is measured over: unit of each school (-1 for none) and unit names."""

    of_school: np.ndarray
    names: tuple[str, ...]


def units(instance: Instance, scope: str) -> Units:
    if scope == "school":
        return Units(np.arange(instance.n_schools), tuple(str(s) for s in instance.school_ids))
    if scope == "cluster":
        return Units(instance.school_cluster, instance.clusters)
    return Units(instance.school_sector, instance.sectors)


def in_category(instance: Instance, rule: DiversityRule) -> np.ndarray:
    """Whether each student is in the rule's category (attribute text equals the category)."""
    return np.asarray(instance.attributes[rule.attribute] == rule.category, dtype=bool)


def band(instance: Instance, rule: DiversityRule) -> tuple[int, int]:
    """The rule's band [lo, hi] in integer percents; around_district is resolved against all students."""
    if rule.band is not None:
        return rule.band
    assert rule.around_district is not None
    total = instance.n_students
    count = int(in_category(instance, rule).sum())
    # p = ⌊100·K/N + 1/2⌋ = ⌊(200·K + N) / (2·N)⌋, in integers
    p = (200 * count + total) // (2 * total) if total else 0
    t = rule.around_district
    return max(0, p - t), min(100, p + t)


def shortfall(lo: int, hi: int, placed: np.ndarray, in_cat: np.ndarray) -> np.ndarray:
    """Shortfall per unit from counts: max(0, lo·n − 100·k, 100·k − hi·n)."""
    placed = np.asarray(placed, dtype=np.int64)
    in_cat = np.asarray(in_cat, dtype=np.int64)
    return np.maximum(0, np.maximum(lo * placed - 100 * in_cat, 100 * in_cat - hi * placed))


def unit_counts(instance: Instance, rule: DiversityRule, school: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Placed students (n) and those in the rule's category (k) at each of the rule's units."""
    info = units(instance, rule.scope)
    placed = np.flatnonzero(school >= 0)
    unit = info.of_school[school[placed]]
    counted = unit >= 0
    n = np.bincount(unit[counted], minlength=len(info.names))
    k = np.bincount(unit[counted], weights=in_category(instance, rule)[placed][counted], minlength=len(info.names))
    return n.astype(np.int64), k.astype(np.int64)


def rule_shortfalls(instance: Instance, rule: DiversityRule, school: np.ndarray) -> np.ndarray:
    """Shortfall of a diversity rule at each of its units, for placements `school`."""
    lo, hi = band(instance, rule)
    n, k = unit_counts(instance, rule, school)
    return shortfall(lo, hi, n, k)


def is_active(rule: DiversityRule) -> bool:
    return rule.mode == "hard" or (rule.mode == "soft" and rule.weight > 0)


def _can_bind(instance: Instance, rule: DiversityRule) -> bool:
    lo, hi = band(instance, rule)
    return (lo > 0 or hi < 100) and bool((units(instance, rule.scope).of_school >= 0).any())


class Diversity(Rule):
    """The share of a category in each school, cluster or sector stays within a band."""

    name = "diversity"
    section = "diversity"
    terms = ("diversity",)
    order = 60

    def active(self, config: Config, instance: Instance) -> bool:
        # Some rule is switched on, has a unit with schools, and a side of its band that can bind.
        return any(is_active(rule) and _can_bind(instance, rule) for rule in config.diversity)

    def hard(self, config: Config) -> list[str]:
        return [f"diversity[{i}].mode" for i, rule in enumerate(config.diversity) if rule.mode == "hard"]

    def describe(self, config: Config, instance: Instance) -> list[str]:
        lines = []
        for rule in config.diversity:
            if not is_active(rule):
                continue
            lo, hi = band(instance, rule)
            around = (
                f" ({rule.around_district} points around the district's share)"
                if rule.around_district is not None
                else ""
            )
            how = "a hard rule" if rule.mode == "hard" else f"each student a unit is short of it costs {rule.weight:g}"
            lines.append(
                f"The share of {rule.attribute} = {rule.category} in every {rule.scope} stays within "
                f"{lo}–{hi}%{around}: {how}."
            )
        return lines

    def build(self, build: Build) -> None:
        for number, rule in enumerate(build.config.diversity):
            if is_active(rule):
                _build_rule(build.instance, build, build.seats, number, rule)

    def measure(self, outcome: Outcome) -> Measures:
        total = 0
        figures = []
        for number, rule in enumerate(outcome.config.diversity):
            # Counted once per rule: each count compares every student's attribute text.
            lo, hi = band(outcome.instance, rule)
            n, k = unit_counts(outcome.instance, rule, outcome.school)
            short = shortfall(lo, hi, n, k)
            if rule.mode == "soft":
                total += rule.weight * int(short.sum())
            figures.append(_figures(outcome.instance, number, rule, (lo, hi), (n, k), short))
        return Measures(terms={"diversity": total}, figures={"diversity": figures})

    def supports(self, shortcut: Shortcut, config: Config, instance: Instance) -> bool | None:
        # Band rows are side rows (no flow), and judge schools by who they hold, not by the
        # students' own order (no student-optimal shortcut). Lists and orders stay: the window holds.
        return shortcut == Shortcut.STABLE_WINDOW


def _figures(
    instance: Instance,
    number: int,
    rule: DiversityRule,
    bounds: tuple[int, int],
    counts: tuple[np.ndarray, np.ndarray],
    short: np.ndarray,
) -> dict[str, Any]:
    """A rule's band, its total and worst shortfall, and every unit that has schools, from its
    `bounds` (band) and `counts` (unit_counts)."""
    lo, hi = bounds
    n, k = counts
    info = units(instance, rule.scope)
    with_schools = np.zeros(len(info.names), dtype=bool)
    with_schools[info.of_school[info.of_school >= 0]] = True
    worst = int(np.argmax(short)) if len(short) else -1
    return {
        "rule": number + 1,
        "attribute": rule.attribute,
        "category": rule.category,
        "scope": rule.scope,
        "mode": rule.mode,
        "weight": rule.weight,
        "band": [lo, hi],
        "shortfall": int(short.sum()),
        "worst": {"unit": info.names[worst], "shortfall": int(short[worst])}
        if worst >= 0 and short[worst] > 0
        else None,
        "units": [
            {
                "unit": info.names[u],
                "placed": int(n[u]),
                "in_category": int(k[u]),
                "share": round(100.0 * k[u] / n[u], 2) if n[u] else 0.0,
                "shortfall": int(short[u]),
            }
            for u in range(len(info.names))
            if with_schools[u]
        ],
    }


def _build_rule(instance: Instance, build: Build, seats: Seats, number: int, rule: DiversityRule) -> None:
    model = build.formulation
    lo, hi = band(instance, rule)
    unit_info = units(instance, rule.scope)
    unit = unit_info.of_school[seats.school]
    counted = unit >= 0
    unit, var = unit[counted], seats.var[counted]
    category = in_category(instance, rule)[seats.student[counted]]
    active = np.unique(unit)
    if len(active) == 0:
        return
    row_of_unit = np.full(len(unit_info.names), -1)
    row_of_unit[active] = np.arange(len(active))
    rows = row_of_unit[unit]
    hundred = np.where(category, 100, 0)
    sides = []
    if lo > 0:
        sides.append(("floor", lo - hundred))
    if hi < 100:
        sides.append(("ceiling", hundred - hi))
    if not sides:
        return
    scope = rule.scope
    tag = f"rule={number + 1}:{rule.attribute}={rule.category}"

    def labeller(r: int) -> str:
        return f"{tag},{scope}={unit_info.names[active[r]]}"

    if rule.mode == "hard":
        hard = HardUnits(
            f"diversity[{number}]",
            active,
            lambda u: (
                f"the share of {rule.attribute} = {rule.category} at {scope} {unit_info.names[u]} "
                f"stays within {lo}–{hi}%"
            ),
        )
        for side, coef in sides:
            model.add_rows(
                rows_from_triplets(
                    f"diversity_{side}",
                    Role.SIDE,
                    len(active),
                    rows,
                    var,
                    coef,
                    -np.inf,
                    0,
                    labeller,
                    hard,
                )
            )
        return
    # Soft: one shortfall variable per unit, at least each side; its largest useful value bounds it.
    candidates = np.bincount(rows, minlength=len(active))
    upper = max(lo, 100 - hi) * candidates
    start = model.add_variables(f"shortfall{number + 1}", len(active), 0, upper, labeller)
    for side, coef in sides:
        shortfall_var = start + np.arange(len(active))
        model.add_rows(
            rows_from_triplets(
                f"diversity_{side}",
                Role.SIDE,
                len(active),
                np.concatenate([rows, np.arange(len(active))]),
                np.concatenate([var, shortfall_var]),
                np.concatenate([-coef, np.ones(len(active), np.int64)]),
                0,
                np.inf,
                labeller,
            )
        )
    model.add_term(
        term_from_pairs(
            "diversity",
            start + np.arange(len(active)),
            np.full(len(active), rule.weight, np.int64),
        )
    )


DIVERSITY = register(Diversity())
