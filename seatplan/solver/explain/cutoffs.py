"""Cutoffs and demand: per school and grade, who applied, who got in, and the last one admitted.

A school admits in its own order — priority (larger first), then lottery number (smaller first). In a
run that fills schools in that order (deferred acceptance, or any run under `stability: hard`), a
school and grade that is full has a *cutoff*: the priority and lottery number of the last student it
admitted (students placed through a compact are a set-aside and do not set it). A student who listed
the school and was not placed there ranks below the cutoff — that is the whole reason. A school with
a free seat has no cutoff. In a plan optimised for its objective, schools are not filled in their
own order, so a cutoff there would not mean what families take it to mean: it is reported as not
meaningful, with the reason.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from seatplan.models.school_order import Occupancy, occupancy, order_key
from seatplan.solver.runfolder import RunFolder

NO_CUTOFF = "no cutoff (not full)"
NOT_MEANINGFUL = "not meaningful (optimised plan)"
NOT_MEANINGFUL_WHY = (
    "Cutoffs are not meaningful here: this plan was optimised for its objective, not filled in each school's order "
    "(cutoffs exist for deferred acceptance and for plans with stability: hard)"
)


def fills_in_order(run: RunFolder) -> bool:
    """Whether the run admits students in each school's order: deferred acceptance (or schools
    proposing), or a plan that forbids justified envy. Immediate acceptance and top trading cycles
    do not: a student ranked above a school's last admitted one may still be turned away."""
    return run.config.is_stable_mechanism or run.config.stability.mode == "hard"


@dataclass(frozen=True)
class Cutoffs:
    """Per (school, grade) cell: seats, students placed, whether it is full, and the last student
    admitted in the school's order (-1 for none)."""

    run: RunFolder
    seats: np.ndarray  # (J, G)
    placed: np.ndarray  # (J, G) every student placed there, through a compact too
    last: np.ndarray  # (J, G) student index of the lowest-ranked student admitted by its list, -1
    meaningful: bool

    @property
    def full(self) -> np.ndarray:
        return self.placed >= self.seats

    def has_cutoff(self, school: int, grade: int) -> bool:
        return self.meaningful and bool(self.full[school, grade]) and int(self.last[school, grade]) >= 0

    def key(self, student: int, school: int) -> dict[str, Any]:
        """A student's place in a school's order, as families are told it: {priority, lottery}."""
        instance = self.run.instance
        priority = instance.priority(np.array([student]), np.array([school]), self.run.config.clusters.feeder_priority)
        return {"priority": int(priority[0]), "lottery": instance.lottery_of(student, school)}

    def cutoff(self, school: int, grade: int) -> dict[str, Any] | None:
        if not self.has_cutoff(school, grade):
            return None
        return self.key(int(self.last[school, grade]), school)

    def outranks_cutoff(self, student: int, school: int) -> bool:
        """Whether the school ranks `student` above the last student it admitted in its grade."""
        instance, config = self.run.instance, self.run.config
        last = int(self.last[school, instance.grade[student]])
        keys = order_key(instance, config, np.array([student, last]), np.array([school, school]))
        return bool(keys[0] < keys[1])


def cutoffs(run: RunFolder) -> Cutoffs:
    """The cutoffs of a run (computed for any run; `meaningful` only when it fills in order)."""
    instance, config = run.instance, run.config
    n_grades = len(instance.grades)
    placed_students = np.flatnonzero(run.school >= 0)
    cell = run.school[placed_students] * n_grades + instance.grade[placed_students]
    n_cells = instance.n_schools * n_grades
    placed = np.bincount(cell, minlength=n_cells).reshape(instance.n_schools, n_grades)
    regular = placed_students[~run.through_compact[placed_students]]
    last = np.full(n_cells, -1, dtype=np.int64)
    if len(regular):
        regular_cell = run.school[regular] * n_grades + instance.grade[regular]
        key = order_key(instance, config, regular, run.school[regular])
        order = np.lexsort((key, regular_cell))
        cells_sorted = regular_cell[order]
        is_last = np.ones(len(order), dtype=bool)
        is_last[:-1] = cells_sorted[1:] != cells_sorted[:-1]
        last[cells_sorted[is_last]] = regular[order[is_last]]
    return Cutoffs(
        run=run,
        seats=instance.capacity,
        placed=placed,
        last=last.reshape(instance.n_schools, n_grades),
        meaningful=fills_in_order(run),
    )


def _block_cutoffs(
    run: RunFolder, table: Cutoffs, occupied: Occupancy, school: int, grade: int
) -> tuple[dict[str, Any] | None, str]:
    """With reserves, a cutoff per block of seats, in precedence order: "low_income seats (members
    first): priority 0, lottery 1234; open seats: priority 0, lottery 5678"; the numbers of the
    open seats' cutoff (the one every student faces) in the cutoff columns."""
    instance = run.instance
    cell = school * instance.capacity.shape[1] + grade
    parts, open_cutoff = [], None
    for step in range(occupied.blocks.capacity.shape[1]):
        seats = int(occupied.blocks.capacity[cell, step])
        if seats <= 0:
            continue
        reserve = int(occupied.blocks.reserve[school, step])
        name = "open seats" if reserve < 0 else f"{instance.reserve_names[reserve]} seats (members first)"
        last = int(occupied.last[cell, step])
        if last < 0 or int(occupied.count[cell, step]) < seats:
            parts.append(f"{name}: {NO_CUTOFF}")
            continue
        key = table.key(last, school)
        parts.append(f"{name}: priority {key['priority']}, lottery {key['lottery']}")
        if reserve < 0:
            open_cutoff = key
    return open_cutoff, "; ".join(parts)


def cutoff_table(run: RunFolder) -> pd.DataFrame:
    """One row per school and grade with seats or applicants: seats, applicants (listing it at all,
    and first), placed (through a compact, of them), the cutoff, and the waitlist (students who
    listed it above where they were placed, or who have no school; compact placements excluded)."""
    instance = run.instance
    table = cutoffs(run)
    n_grades = len(instance.grades)
    student = instance.pref_student()
    position = instance.pref_position()
    cell = instance.pref_school * n_grades + instance.grade[student]
    n_cells = instance.n_schools * n_grades
    applicants = np.bincount(cell, minlength=n_cells)
    first = np.bincount(cell[position == 1], minlength=n_cells)
    own = np.where(run.school >= 0, run.position, np.iinfo(np.int64).max)
    own = np.where((run.school >= 0) & (run.position == 0), 0, own)  # placed off its list: a compact's
    waiting = (position < own[student]) & ~run.through_compact[student] & (run.school[student] != instance.pref_school)
    waitlist = np.bincount(cell[waiting], minlength=n_cells)
    through = np.zeros(n_cells, dtype=np.int64)
    members = np.flatnonzero(run.through_compact & (run.school >= 0))
    np.add.at(through, run.school[members] * n_grades + instance.grade[members], 1)
    seats = instance.capacity.reshape(-1)
    placed = table.placed.reshape(-1)
    shown = np.flatnonzero((seats > 0) | (applicants > 0))
    occupied = occupancy(instance, run.config, run.school, run.through_compact) if instance.has_reserves else None
    rows = []
    for c in shown.tolist():
        school, grade = divmod(c, n_grades)
        cutoff = table.cutoff(school, grade)
        if seats[c] == 0:
            words = "no seats"
        elif not table.meaningful:
            words = NOT_MEANINGFUL if not run.config.is_mechanism else f"not meaningful ({run.config.mechanism})"
        elif occupied is not None:
            cutoff, words = _block_cutoffs(run, table, occupied, school, grade)
        elif cutoff is None:
            words = NO_CUTOFF
        else:
            words = f"priority {cutoff['priority']}, lottery {cutoff['lottery']}"
        rows.append(
            {
                "school_id": str(instance.school_ids[school]),
                "grade": instance.grades[grade] if instance.has_grades else "",
                "seats": int(seats[c]),
                "applicants": int(applicants[c]),
                "first_choice_applicants": int(first[c]),
                "placed": int(placed[c]),
                "placed_through_compacts": int(through[c]),
                "cutoff_priority": None if cutoff is None else cutoff["priority"],
                "cutoff_lottery": None if cutoff is None else cutoff["lottery"],
                "cutoff": words,
                "waitlist": int(waitlist[c]),
            }
        )
    columns = list(rows[0]) if rows else ["school_id", "grade"]
    frame = pd.DataFrame({column: pd.Series([row[column] for row in rows], dtype=object) for column in columns})
    if not instance.has_grades:
        frame = frame.drop(columns=["grade"])
    return frame
