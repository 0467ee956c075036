"""Families together: siblings (students sharing a family_id) at one school.

A family is *split* when its members are neither all placed at one same school nor all unplaced.
For two consecutive members a, b of a family and each school j either of them could be placed at,
with x[m, j] the variable placing m at j (0 when there is none):
    hard:  x[a, j] − x[b, j] = 0
    soft:  split[f] ≥ x[a, j] − x[b, j],  split[f] ≥ x[b, j] − x[a, j];  split_families = 100·W·Σ split
Equal placements at every school, pair after pair, is exactly "all at one school, or all unplaced".
A compact's seat is the same variable for all its members, so a compact keeps its families together.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from seatplan.models.config import MAX_WEIGHT, Config, Mode, Section, integer_reader, mode_reader, register_section
from seatplan.models.instance import Instance
from seatplan.models.ir import HardUnits, Role, rows_from_triplets, term_from_pairs
from seatplan.models.rules.base import Build, Measures, Outcome, Rule, Shortcut, register


@dataclass(frozen=True)
class FamilySettings:
    """Siblings at one school: `hard` forbids splitting a family, `soft` costs `weight` per split family."""

    together: Mode = "off"
    weight: int = 1


SETTINGS = register_section(
    Section("families", FamilySettings, {"together": mode_reader(), "weight": integer_reader(0, limit=MAX_WEIGHT)})
)


def split_families(instance: Instance, school: np.ndarray) -> np.ndarray:
    """Indexes of the families an assignment splits."""
    size = np.bincount(instance.family, minlength=len(instance.family_ids))
    lowest = np.full(len(size), np.iinfo(np.int64).max, dtype=np.int64)
    highest = np.full(len(size), np.iinfo(np.int64).min, dtype=np.int64)
    np.minimum.at(lowest, instance.family, school)
    np.maximum.at(highest, instance.family, school)
    return np.flatnonzero((size > 1) & (lowest != highest))


class Families(Rule):
    """Siblings at one school: hard (never split) or soft (a cost per split family)."""

    name = "families"
    section = "families"
    terms = ("split_families",)
    order = 80

    def active(self, config: Config, instance: Instance) -> bool:
        # Switched on, and some family has two students or more (else there is nothing to keep together).
        mode = config.families.together
        switched_on = mode == "hard" or (mode == "soft" and config.families.weight > 0)
        return switched_on and int(np.bincount(instance.family).max(initial=0)) > 1

    def hard(self, config: Config) -> list[str]:
        return ["families.together"] if config.families.together == "hard" else []

    def describe(self, config: Config, instance: Instance) -> list[str]:
        if config.families.together == "hard":
            return ["Siblings (one family_id) are placed at one school, or all left without one."]
        if config.families.together == "soft" and config.families.weight > 0:
            return [f"Each family whose children are placed at different schools costs {config.families.weight:g}."]
        return []

    def build(self, build: Build) -> None:
        _build(build)

    def measure(self, outcome: Outcome) -> Measures:
        split = len(split_families(outcome.instance, outcome.school))
        weight = outcome.config.families.weight if outcome.config.families.together == "soft" else 0
        return Measures(terms={"split_families": 100 * weight * split}, figures={"split_families": split})

    def supports(self, shortcut: Shortcut, config: Config, instance: Instance) -> bool | None:
        # Rows that tie siblings' placements together: no flow, and no stable matching need keep
        # them. Lists and orders stay: the window holds.
        return shortcut == Shortcut.STABLE_WINDOW


def _build(build: Build) -> None:
    instance, config, model, seats = build.instance, build.config, build.formulation, build.seats
    mode = config.families.together
    family = instance.family
    size = np.bincount(family, minlength=len(instance.family_ids))
    members = np.flatnonzero(size[family] > 1)
    if len(members) == 0:
        return
    members = members[np.argsort(family[members], kind="stable")]
    # Consecutive members of one family form the pairs (a, b).
    same = family[members[1:]] == family[members[:-1]]
    a, b = members[:-1][same], members[1:][same]
    n_pairs = len(a)
    # Each pair's seats: (pair, school, variable, ±1); a school only one of them can take gives a
    # lone term, which the row then sets to 0.
    rows_pair, rows_school, rows_var, rows_sign = [], [], [], []
    for direction, side in ((1, a), (-1, b)):
        pair_of_student = np.full(instance.n_students, -1, dtype=np.int64)
        pair_of_student[side] = np.arange(n_pairs)
        entries = np.flatnonzero(pair_of_student[seats.student] >= 0)
        rows_pair.append(pair_of_student[seats.student[entries]])
        rows_school.append(seats.school[entries])
        rows_var.append(seats.var[entries])
        rows_sign.append(np.full(len(entries), direction, dtype=np.int64))
    pair, school, var, sign = (np.concatenate(x) for x in (rows_pair, rows_school, rows_var, rows_sign))
    row_key = pair * instance.n_schools + school
    keys, row = np.unique(row_key, return_inverse=True)
    n_rows = len(keys)
    ids, sids, fids = instance.student_ids, instance.school_ids, instance.family_ids
    row_pair = keys // instance.n_schools
    row_school = keys % instance.n_schools

    def label(r: int) -> str:
        p = int(row_pair[r])
        return f"family={fids[family[a[p]]]},students={ids[a[p]]}+{ids[b[p]]},school={sids[row_school[r]]}"

    if mode == "hard":
        hard = HardUnits(
            "families.together",
            family[a[row_pair]],
            lambda f: f"the children of family {fids[f]} are placed at one school (or none is placed)",
        )
        model.add_rows(rows_from_triplets("family_together", Role.SIDE, n_rows, row, var, sign, 0, 0, label, hard))
        return
    families = np.unique(family[a])
    family_var = model.add_variables("split", len(families), 0, 1, lambda i: f"family={fids[families[i]]}")
    split_of_row = family_var + np.searchsorted(families, family[a[row_pair]])
    for side, direction in (("above", 1), ("below", -1)):
        model.add_rows(
            rows_from_triplets(
                f"family_split_{side}",
                Role.SIDE,
                n_rows,
                np.concatenate([row, np.arange(n_rows)]),
                np.concatenate([var, split_of_row]),
                np.concatenate([-direction * sign, np.ones(n_rows, np.int64)]),
                0,
                np.inf,
                label,
            )
        )
    model.add_term(
        term_from_pairs(
            "split_families",
            family_var + np.arange(len(families)),
            np.full(len(families), 100 * config.families.weight, np.int64),
        )
    )


FAMILIES = register(Families())
