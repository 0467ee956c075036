"""An assignment measured in domain words: the objective's terms, the counts and tables of metrics.json.

This is computed from the assignment and the data, not from the solver's variables, and the solve
checks that the two agree to the cent: a formulation that says one thing and counts another fails.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from seatplan.models.config import Config
from seatplan.models.data import Instance, distance_hundredths
from seatplan.models.formulation import TERMS, Assignment
from seatplan.models.rules.clusters import outside_cluster
from seatplan.models.rules.compacts import share_limit
from seatplan.models.rules.diversity import band, in_category, shortfall, units
from seatplan.models.rules.families import split_families
from seatplan.models.rules.stability import blocking_pairs


@dataclass(frozen=True)
class Evaluation:
    """The terms of the objective in cents, and what they were computed from."""

    terms: dict[str, int]
    positions: np.ndarray  # (S,) position of the placed school in the student's list; 0 if none or unlisted
    honored: np.ndarray  # (C,) bool

    @property
    def objective(self) -> int:
        return sum(self.terms.values())


def positions_of(instance: Instance, school: np.ndarray) -> np.ndarray:
    """Position (1 = first) of each student's school in its own list; 0 when unplaced or not listed."""
    from seatplan.models.rules.placement import listed_position

    placed = np.flatnonzero(school >= 0)
    out = np.zeros(len(school), dtype=np.int64)
    out[placed] = listed_position(instance, placed, school[placed])
    return out


def honored_compacts(instance: Instance, assignment: Assignment) -> np.ndarray:
    """A compact is honored when every member is placed at its school through it (a mechanism that
    ignores compacts, like deferred acceptance, may put them all there by their own lists: that is
    not a compact honored)."""
    members = np.flatnonzero(instance.compact_of_student >= 0)
    compact = instance.compact_of_student[members]
    at_school = (assignment.school[members] == instance.compact_school[compact]) & assignment.via_compact[members]
    missing = np.bincount(compact[~at_school], minlength=instance.n_compacts)
    return missing == 0


def evaluate(instance: Instance, config: Config, assignment: Assignment) -> Evaluation:
    """Every objective term of `assignment`, in cents, straight from the model's definitions."""
    weights = config.objective
    school = assignment.school
    placed = school >= 0
    positions = positions_of(instance, school)
    honored = honored_compacts(instance, assignment)
    compact = instance.compact_of_student
    through_compact = placed & (compact >= 0)
    through_compact[through_compact] = honored[compact[through_compact]] & (
        school[through_compact] == instance.compact_school[compact[through_compact]]
    )
    ranked = placed & ~through_compact
    terms = dict.fromkeys(TERMS, 0)
    terms["rank"] = 100 * weights.rank * int((positions[ranked] - 1).sum())
    terms["unassigned"] = 100 * weights.unassigned * int((~placed).sum())
    if weights.distance:
        students = np.flatnonzero(placed)
        terms["distance"] = weights.distance * int(distance_hundredths(instance, students, school[students]).sum())
    terms["broken_compact"] = 100 * weights.broken_compact * int(instance.compact_family_count[~honored].sum())
    if config.clusters.mode == "soft":
        students = np.flatnonzero(placed & ~through_compact)
        terms["outside_cluster"] = (
            100 * weights.outside_cluster * int(outside_cluster(instance, students, school[students]).sum())
        )
    for rule in config.diversity:
        if rule.mode == "soft":
            terms["diversity"] += rule.weight * int(rule_shortfalls(instance, rule, school).sum())
    if config.stability.mode == "soft":
        students, _ = blocking_pairs(instance, config, school, through_compact)
        terms["blocking_pairs"] = 100 * config.stability.weight * len(students)
    if config.families.together == "soft":
        terms["split_families"] = 100 * config.families.weight * len(split_families(instance, school))
    return Evaluation(terms, positions, honored)


def rule_shortfalls(instance: Instance, rule: Any, school: np.ndarray) -> np.ndarray:
    """Shortfall of a diversity rule at each of its units, for placements `school`."""
    lo, hi = band(instance, rule)
    info = units(instance, rule.scope)
    placed = np.flatnonzero(school >= 0)
    unit = info.of_school[school[placed]]
    counted = unit >= 0
    n = np.bincount(unit[counted], minlength=len(info.names))
    k = np.bincount(
        unit[counted],
        weights=in_category(instance, rule)[placed][counted],
        minlength=len(info.names),
    )
    return shortfall(lo, hi, n, k.astype(np.int64))


def hard_rule_breaches(instance: Instance, config: Config, assignment: Assignment) -> list[str]:
    """The hard rules an assignment breaks, in words (empty when it keeps them all)."""
    found: list[str] = []
    school = assignment.school
    placed = school >= 0
    sids = instance.school_ids
    load = np.zeros(instance.capacity.shape, dtype=np.int64)
    np.add.at(load, (school[placed], instance.grade[placed]), 1)
    for j, g in zip(*np.nonzero(load > instance.capacity), strict=True):
        found.append(
            f"capacity: school {sids[j]} grade {instance.grades[g]} holds {load[j, g]}, "
            f"capacity {instance.capacity[j, g]}"
        )
    honored = honored_compacts(instance, assignment)
    members = np.flatnonzero(instance.compact_of_student >= 0)
    at = school[members] == instance.compact_school[instance.compact_of_student[members]]
    partial = np.unique(instance.compact_of_student[members][at & ~honored[instance.compact_of_student[members]]])
    for c in partial:
        found.append(f"compact {instance.compact_ids[c]}: only some members at {sids[instance.compact_school[c]]}")
    sizes = np.bincount(instance.compact_of_student[members], minlength=instance.n_compacts)
    through = np.bincount(instance.compact_school[honored], weights=sizes[honored], minlength=instance.n_schools)
    for j in np.flatnonzero(through > share_limit(instance, config)):
        found.append(f"compact_share: school {sids[j]} takes {int(through[j])} through compacts")
    for rule in config.diversity:
        if rule.mode == "hard":
            short = rule_shortfalls(instance, rule, school)
            for u in np.flatnonzero(short > 0):
                found.append(f"diversity {rule.label}: unit {units(instance, rule.scope).names[u]} short by {short[u]}")
    return found
