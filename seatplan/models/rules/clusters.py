"""Community clusters.

hard (rule 5): a student with a home cluster has no option at a school of another cluster; citywide
schools (no cluster) stay open, and compact placements are exempt. The options are removed where
they are created (placement.options), so no row is needed.
soft: outside_cluster (cents) = 100·w · Σ_{options (s,j): home(s) set, cluster(j) set, cluster(j) ≠ home(s)} assign[s,j]
Compact seats are exempt in both modes: compacts are citywide.
"""

from __future__ import annotations

import numpy as np

from seatplan.models.config import Config
from seatplan.models.data import Instance
from seatplan.models.ir import Formulation, term_from_pairs
from seatplan.models.rules.placement import Seats


def outside_cluster(instance: Instance, students: np.ndarray, schools: np.ndarray) -> np.ndarray:
    """Whether each (student, school) pair places the student outside its home cluster."""
    home = instance.home_cluster[students]
    cluster = instance.school_cluster[schools]
    return (home >= 0) & (cluster >= 0) & (cluster != home)


def build_clusters(instance: Instance, config: Config, model: Formulation, seats: Seats) -> None:
    if config.clusters.mode != "soft":
        return
    outside = seats.is_option & outside_cluster(instance, seats.student, seats.school)
    model.add_term(
        term_from_pairs(
            "outside_cluster",
            seats.var[outside],
            np.full(int(outside.sum()), 100 * config.objective.outside_cluster, np.int64),
        )
    )
