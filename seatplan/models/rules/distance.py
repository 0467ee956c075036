"""Distance: distance (cents) = w · Σ_{seats e} d(e) · x[e], with d the haversine distance from the
student's home to the school in hundredths of a km (radius 6371.0 km, rounded half up). Every placed
student counts, compact members included.
"""

from __future__ import annotations

import numpy as np

from seatplan.models.config import Config
from seatplan.models.instance import Instance, distance_hundredths
from seatplan.models.ir import term_from_pairs
from seatplan.models.rules.base import Build, Measures, Outcome, Rule, Shortcut, register


class Distance(Rule):
    """A cost per km from home to school."""

    name = "distance"
    section = "objective.distance"
    terms = ("distance",)
    order = 30

    def active(self, config: Config, instance: Instance) -> bool:
        return config.objective.distance > 0

    def build(self, build: Build) -> None:
        seats = build.seats
        hundredths = distance_hundredths(build.instance, seats.student, seats.school)
        build.formulation.add_term(term_from_pairs("distance", seats.var, build.config.objective.distance * hundredths))

    def describe(self, config: Config, instance: Instance) -> list[str]:
        if not self.active(config, instance):
            return []
        return [f"Each km from home to school costs {config.objective.distance / 100:g}."]

    def measure(self, outcome: Outcome) -> Measures:
        weight = outcome.config.objective.distance
        if not weight:
            return Measures(terms={"distance": 0})
        students = np.flatnonzero(outcome.placed)
        total = int(distance_hundredths(outcome.instance, students, outcome.school[students]).sum())
        return Measures(terms={"distance": weight * total})

    def supports(self, shortcut: Shortcut, config: Config, instance: Instance) -> bool | None:
        # A cost on each placement keeps the flow a flow; it is no student's own order, so stable
        # matchings may differ in it. It changes no list or order: the window holds.
        return shortcut in (Shortcut.TRANSPORTATION, Shortcut.STABLE_WINDOW)


DISTANCE = register(Distance())
