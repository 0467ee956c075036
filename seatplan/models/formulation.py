"""The rules assembled into one Formulation, and the map back from its variables to an assignment."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from seatplan.models.config import Config
from seatplan.models.data import Instance
from seatplan.models.ir import Formulation
from seatplan.models.rules.capacity import build_capacity
from seatplan.models.rules.clusters import build_clusters
from seatplan.models.rules.compacts import build_compacts
from seatplan.models.rules.distance import build_distance
from seatplan.models.rules.diversity import build_diversity
from seatplan.models.rules.families import build_families
from seatplan.models.rules.placement import Seats, build_placement
from seatplan.models.rules.stability import build_stability

#: Objective terms in the order they are reported.
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


@dataclass(frozen=True)
class Model:
    """A formulation with the seats that say what its placement variables mean."""

    formulation: Formulation
    seats: Seats

    def decode(self, values: np.ndarray, n_students: int) -> Assignment:
        """The assignment a solution vector describes."""
        values = np.asarray(values, dtype=np.int64)
        taken = values[self.seats.var] > 0
        school = np.full(n_students, -1, dtype=np.int64)
        via_compact = np.zeros(n_students, dtype=bool)
        school[self.seats.student[taken]] = self.seats.school[taken]
        via_compact[self.seats.student[taken]] = self.seats.compact[taken] >= 0
        return Assignment(school, via_compact)

    def encode(self, assignment: Assignment) -> np.ndarray | None:
        """A solution vector for the placement variables of an assignment (None if it has no such
        vector: a placement that is not an option). Shortfall variables are left at 0."""
        values = np.zeros(self.formulation.n_vars, dtype=np.int64)
        seats = self.seats
        chosen = assignment.school[seats.student] == seats.school
        chosen &= assignment.via_compact[seats.student] == (seats.compact >= 0)
        values[seats.var[chosen]] = 1
        placed = np.zeros(len(assignment.school), dtype=bool)
        placed[seats.student[chosen]] = True
        if np.any((assignment.school >= 0) & ~placed):
            return None
        return values


@dataclass(frozen=True)
class Assignment:
    """Where each student is placed (-1 when unplaced) and whether through its honored compact."""

    school: np.ndarray
    via_compact: np.ndarray


def build_model(instance: Instance, config: Config) -> Model:
    """Every rule of the config as one Formulation."""
    formulation = Formulation()
    seats = build_placement(instance, config, formulation)
    build_capacity(instance, config, formulation, seats)
    build_compacts(instance, config, formulation, seats)
    build_clusters(instance, config, formulation, seats)
    build_distance(instance, config, formulation, seats)
    build_diversity(instance, config, formulation, seats)
    build_stability(instance, config, formulation, seats)
    build_families(instance, config, formulation, seats)
    return Model(formulation, seats)
