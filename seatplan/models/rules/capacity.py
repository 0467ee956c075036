"""Rule 2, capacity: placed students of each school and grade fit its seats.

    Σ_{seats e at school j, student of grade g} x[e] ≤ capacity[j, g]      for each school j, grade g

A compact seat counts in its member's grade. Rows that could never bind (fewer candidate students
than seats) are left out; they hold for every assignment.
"""

from __future__ import annotations

import numpy as np

from seatplan.models.config import Config
from seatplan.models.data import Instance
from seatplan.models.ir import Formulation, rows_from_triplets
from seatplan.models.rules.placement import Seats


def build_capacity(instance: Instance, config: Config, model: Formulation, seats: Seats) -> None:
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

    model.add_rows(
        rows_from_triplets(
            "capacity",
            len(binding),
            row_of_cell[cell[use]],
            seats.var[use],
            np.ones(int(use.sum()), np.int64),
            -np.inf,
            limit[binding].astype(float),
            label,
        )
    )
