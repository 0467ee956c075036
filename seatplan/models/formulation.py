"""The active rules of the registry assembled into one Formulation, and the map back from its
variables to an assignment."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from seatplan.models.assignment import Assignment
from seatplan.models.config import Config
from seatplan.models.instance import Instance
from seatplan.models.ir import Formulation
from seatplan.models.rules import RULES, Build, Seats


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


def build_model(instance: Instance, config: Config) -> Model:
    """Every active rule of the config, in registry order, as one Formulation."""
    build = Build(instance, config, Formulation(), RULES.active(config, instance))
    for rule in build.rules:
        rule.build(build)
    return Model(build.formulation, build.seats)
