"""Parent compacts: rules 3 and 4, and the broken_compact term.

Rule 3 (together) holds by construction: every member's placement at the compact school is the one
shared variable compact[c], so all members are placed there or none is.
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

import numpy as np

from seatplan.models.config import Config
from seatplan.models.data import Instance
from seatplan.models.ir import Formulation, rows_from_triplets, term_from_pairs
from seatplan.models.rules.placement import Seats


def share_limit(instance: Instance, config: Config) -> np.ndarray:
    """Most students a school may take through honored compacts: ⌊max_share × capacity / 100⌋, exactly."""
    share = config.compacts.max_share
    return (instance.total_capacity * share.numerator) // (100 * share.denominator)


def build_compacts(instance: Instance, config: Config, model: Formulation, seats: Seats) -> None:
    if instance.n_compacts == 0:
        return
    sizes = np.bincount(instance.compact_of_student[instance.compact_of_student >= 0], minlength=instance.n_compacts)
    limit = share_limit(instance, config)
    school = instance.compact_school
    demand = np.bincount(school, weights=sizes, minlength=instance.n_schools)
    binding = np.flatnonzero(demand > limit)
    row_of_school = np.full(instance.n_schools, -1)
    row_of_school[binding] = np.arange(len(binding))
    use = row_of_school[school] >= 0
    compacts = np.flatnonzero(use)
    sids = instance.school_ids
    model.add_rows(
        rows_from_triplets(
            "compact_share",
            len(binding),
            row_of_school[school[compacts]],
            seats.compact_start + compacts,
            sizes[compacts],
            -np.inf,
            limit[binding].astype(float),
            lambda r: f"school={sids[binding[r]]}",
        )
    )
    _add_covers(instance, model, seats, sizes, limit)
    weight = 100 * config.objective.broken_compact
    families = instance.compact_family_count
    model.add_term(
        term_from_pairs(
            "broken_compact",
            seats.compact_start + np.arange(instance.n_compacts),
            -weight * families,
            constant=int(weight * families.sum()),
        )
    )


#: Schools with more compacts than this get no cover rows (2^n subsets would be enumerated).
MAX_COMPACTS_FOR_COVERS = 12


def _add_covers(instance: Instance, model: Formulation, seats: Seats, sizes: np.ndarray, limit: np.ndarray) -> None:
    from itertools import combinations

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
    var = seats.compact_start + np.concatenate([np.asarray(c) for _, c in covers])
    upper = np.array([len(c) - 1 for _, c in covers], dtype=float)
    ids, sids = instance.compact_ids, instance.school_ids
    model.add_rows(
        rows_from_triplets(
            "compact_cover",
            len(covers),
            row,
            var,
            np.ones(len(var), np.int64),
            -np.inf,
            upper,
            lambda r: f"school={sids[covers[r][0]]},compacts={'+'.join(str(ids[c]) for c in covers[r][1])}",
        )
    )
