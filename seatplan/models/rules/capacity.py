"""Rule 2, capacity: placed students of each school and grade fit its seats.

    Σ_{seats e at school j, student of grade g} x[e] ≤ capacity[j, g]      for each school j, grade g

A compact seat counts in its member's grade. A school with no seat in a student's grade is no
option for it. Rows that could never bind (fewer candidate students than seats) are left out; they
hold for every assignment.
"""

from __future__ import annotations

import numpy as np

from seatplan.models.config import Config
from seatplan.models.instance import Instance
from seatplan.models.ir import Role, rows_from_triplets
from seatplan.models.rules.base import Build, Rule, Shortcut, register


class Capacity(Rule):
    """Seats per school and grade."""

    name = "capacity"
    section = None
    order = 20

    def allows(self, config: Config, instance: Instance, student: np.ndarray, school: np.ndarray) -> np.ndarray:
        return instance.capacity[school, instance.grade[student]] > 0

    def build(self, build: Build) -> None:
        instance, seats = build.instance, build.seats
        n_grades = len(instance.grades)
        cell = seats.school * n_grades + instance.grade[seats.student]
        candidates = np.bincount(cell, minlength=instance.n_schools * n_grades)
        limit = instance.capacity.reshape(-1)
        binding = np.flatnonzero(candidates > limit)
        row_of_cell = np.full(len(limit), -1)
        row_of_cell[binding] = np.arange(len(binding))
        use = row_of_cell[cell] >= 0
        sids, grades = instance.school_ids, instance.grades

        def label(r: int) -> str:
            school, grade = divmod(int(binding[r]), n_grades)
            return f"school={sids[school]}" + (f",grade={grades[grade]}" if instance.has_grades else "")

        build.formulation.add_rows(
            rows_from_triplets(
                "capacity",
                Role.CAPACITY,
                len(binding),
                row_of_cell[cell[use]],
                seats.var[use],
                np.ones(int(use.sum()), np.int64),
                -np.inf,
                limit[binding].astype(float),
                label,
            )
        )

    def describe(self, config: Config, instance: Instance) -> list[str]:
        per = " and grade" if instance.has_grades else ""
        return [f"No school{per} holds more students than its seats."]

    def supports(self, shortcut: Shortcut, config: Config, instance: Instance) -> bool | None:
        # The seats are the transportation problem's, and the stable matchings' own.
        return True


CAPACITY = register(Capacity())
