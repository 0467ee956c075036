"""Parent compacts: rules 3 and 4, and the broken_compact term.

Rule 3 (together) holds by construction: every member's placement at the compact school is the one
shared variable compact[c], so all members are placed there or none is (and a member has no option
of its own at its compact's school).
Rule 4 (share), for each school j designated by some compact:
    Σ_{c at j} members(c) · compact[c] ≤ ⌊max_share · capacity(j, all grades) / 100⌋
broken_compact (cents) = 100·w · Σ_c families(c) · (1 − compact[c])

The share row is a knapsack, and its LP relaxation honors "three quarters of a compact" where two
compacts do not fit together. Each minimal cover C (compacts at one school that together exceed the
limit, while any one fewer fits) gives the valid row
    Σ_{c in C} compact[c] ≤ |C| − 1
which keeps every integer solution and cuts those fractional ones away: the LP bound tightens.
"""

from __future__ import annotations

from itertools import combinations
from typing import Any

import numpy as np

from seatplan.models.config import Config
from seatplan.models.instance import Instance
from seatplan.models.ir import HardUnits, Role, rows_from_triplets, term_from_pairs
from seatplan.models.rules.base import Build, Measures, Outcome, Rule, Shortcut, register

#: Schools with more compacts than this get no cover rows (2^n subsets would be enumerated).
MAX_COMPACTS_FOR_COVERS = 12


def share_limit(instance: Instance, config: Config) -> np.ndarray:
    """Most students a school may take through honored compacts: ⌊max_share × capacity / 100⌋, exactly."""
    share = config.compacts.max_share
    return (instance.total_capacity * share.numerator) // (100 * share.denominator)


class Compacts(Rule):
    """Families placed together at an under-selected school, or not at all."""

    name = "compacts"
    section = "compacts"
    terms = ("broken_compact",)
    order = 40

    def active(self, config: Config, instance: Instance) -> bool:
        return instance.n_compacts > 0

    def allows(self, config: Config, instance: Instance, student: np.ndarray, school: np.ndarray) -> np.ndarray:
        # A member is placed at its compact's school only through the compact.
        member_of = instance.compact_of_student[student]
        return (member_of < 0) | (school != instance.compact_school[np.maximum(member_of, 0)])

    def build(self, build: Build) -> None:
        instance, seats = build.instance, build.seats
        sizes = compact_sizes(instance)
        limit = share_limit(instance, build.config)
        school = instance.compact_school
        demand = np.bincount(school, weights=sizes, minlength=instance.n_schools)
        binding = np.flatnonzero(demand > limit)
        row_of_school = np.full(instance.n_schools, -1)
        row_of_school[binding] = np.arange(len(binding))
        compacts = np.flatnonzero(row_of_school[school] >= 0)
        sids = instance.school_ids
        share = HardUnits(
            "compacts.max_share",
            binding,
            lambda j: (
                f"compacts take at most {limit[j]} of the {instance.total_capacity[j]} seats of "
                f"{sids[j]} ({float(build.config.compacts.max_share):g}%)"
            ),
        )
        build.formulation.add_rows(
            rows_from_triplets(
                "compact_share",
                Role.SIDE,
                len(binding),
                row_of_school[school[compacts]],
                seats.compact_start + compacts,
                sizes[compacts],
                -np.inf,
                limit[binding].astype(float),
                lambda r: f"school={sids[binding[r]]}",
                HardUnits(
                    "compacts.max_share",
                    binding,
                    lambda j: (
                        f"compacts take at most {limit[j]} of the {instance.total_capacity[j]} seats of "
                        f"{sids[j]} ({float(build.config.compacts.max_share):g}%)"
                    ),
                ),
            )
        )
        _add_covers(build, sizes, limit, share)
        weight = 100 * build.config.objective.broken_compact
        families = instance.compact_family_count
        build.formulation.add_term(
            term_from_pairs(
                "broken_compact",
                seats.compact_start + np.arange(instance.n_compacts),
                -weight * families,
                constant=int(weight * families.sum()),
            )
        )

    def describe(self, config: Config, instance: Instance) -> list[str]:
        if not self.active(config, instance):
            return []
        settings = config.compacts
        where = "an under-selected school" if settings.require_under_selected else "one school"
        return [
            f"Parent compacts of {settings.min_families} to {settings.max_families} families applying together to "
            f"{where} are placed there all together, or not at all; compacts take at most "
            f"{float(settings.max_share):g}% of a school's seats. Each family of a compact not honored costs "
            f"{config.objective.broken_compact:g}."
        ]

    def measure(self, outcome: Outcome) -> Measures:
        instance, honored = outcome.instance, outcome.honored
        weight = 100 * outcome.config.objective.broken_compact
        return Measures(
            terms={"broken_compact": weight * int(instance.compact_family_count[~honored].sum())},
            figures={"compacts": _figures(instance, honored)},
        )

    def supports(self, shortcut: Shortcut, config: Config, instance: Instance) -> bool | None:
        # A compact is one variable on many seats (no flow), and a set-aside that changes who may
        # be stable (no student-optimal shortcut); the stable window brackets every set of honored
        # compacts (pipeline.stable_window).
        return shortcut == Shortcut.STABLE_WINDOW


def compact_sizes(instance: Instance) -> np.ndarray:
    """Students in each compact."""
    members = instance.compact_of_student[instance.compact_of_student >= 0]
    return np.bincount(members, minlength=instance.n_compacts)


def _figures(instance: Instance, honored: np.ndarray) -> dict[str, Any]:
    sizes = compact_sizes(instance)
    return {
        "total": int(instance.n_compacts),
        "honored": int(honored.sum()),
        "families": int(instance.compact_family_count.sum()),
        "families_honored": int(instance.compact_family_count[honored].sum()),
        "students": int(sizes.sum()),
        "students_honored": int(sizes[honored].sum()),
        "list": [
            {
                "compact_id": str(instance.compact_ids[c]),
                "school_id": str(instance.school_ids[instance.compact_school[c]]),
                "families": int(instance.compact_family_count[c]),
                "students": int(sizes[c]),
                "honored": bool(honored[c]),
            }
            for c in range(instance.n_compacts)
        ],
    }


def _add_covers(build: Build, sizes: np.ndarray, limit: np.ndarray, share: HardUnits) -> None:
    instance = build.instance
    covers: list[tuple[int, tuple[int, ...]]] = []
    for school in np.unique(instance.compact_school):
        here = np.flatnonzero(instance.compact_school == school)
        if len(here) > MAX_COMPACTS_FOR_COVERS or sizes[here].sum() <= limit[school]:
            continue
        for size in range(1, len(here) + 1):
            for subset in combinations(here.tolist(), size):
                total = int(sizes[list(subset)].sum())
                smallest = int(sizes[list(subset)].min())
                if total > limit[school] and total - smallest <= limit[school]:
                    covers.append((int(school), subset))
    if not covers:
        return
    row = np.repeat(np.arange(len(covers)), [len(c) for _, c in covers])
    var = build.seats.compact_start + np.concatenate([np.asarray(c) for _, c in covers])
    upper = np.array([len(c) - 1 for _, c in covers], dtype=float)
    ids, sids = instance.compact_ids, instance.school_ids
    build.formulation.add_rows(
        rows_from_triplets(
            "compact_cover",
            Role.CUT,
            len(covers),
            row,
            var,
            np.ones(len(var), np.int64),
            -np.inf,
            upper,
            lambda r: f"school={sids[covers[r][0]]},compacts={'+'.join(str(ids[c]) for c in covers[r][1])}",
            # A cover is implied by its school's share row: it goes where that row goes.
            HardUnits("compacts.max_share", np.array([school for school, _ in covers]), share.describe),
        )
    )


COMPACTS = register(Compacts())
