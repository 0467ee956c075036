"""The other mechanisms districts run, for comparison: immediate acceptance and top trading cycles.

Both see what deferred acceptance sees — the lists, each school's order (priority, then lottery:
`order_key`) and the seats of each school and grade — and nothing else: compacts, bands, clusters
and families are not applied. Neither is stable; their runs have status `assigned`.

- **Immediate acceptance** (the "Boston mechanism", Boston until 2005): in round k every student
  still unplaced applies to the k-th school on its list; the school (and grade) accepts its
  applicants in its own order while seats remain, and those acceptances are final. A student placed
  in round k is never moved.
- **Top trading cycles** (Abdulkadiroğlu & Sönmez 2003; New Orleans): every student points to the
  best school on its list that still has a seat in its grade; every school (and grade) points to the
  student it ranks highest among those still unplaced who listed it (its applicants, as in deferred
  acceptance); every cycle is traded — each student in it gets the seat it points to — and the seats
  left shrink; students whose list has no seat left are unplaced. The result is Pareto efficient
  for the students.

Rounds are vectorised as in deferred acceptance (solver/da.py); in top trading cycles the cycles of a
round are found at once, by pointer doubling on the students' graph (after 2^m ≥ n steps every walk
has reached its cycle, so the nodes reached are exactly the nodes on cycles).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from seatplan.models.assignment import Assignment
from seatplan.models.config import Config
from seatplan.models.instance import Instance
from seatplan.models.school_order import order_key


@dataclass
class Rounds:
    """What a run of a mechanism did round by round, for explanations (solver/explain): the round
    (1, 2, …) each student was placed in, and the round each (school, grade) cell's seats ran out
    (0 when never); for immediate acceptance also the last student the cell took in that round (its
    cutoff then; -1 when none)."""

    placed: np.ndarray  # (S,)
    full: np.ndarray  # (cells,)
    last: np.ndarray  # (cells,)

    @classmethod
    def empty(cls, n_students: int, n_cells: int) -> Rounds:
        return cls(np.zeros(n_students, np.int64), np.zeros(n_cells, np.int64), np.full(n_cells, -1, np.int64))


def immediate_acceptance(
    instance: Instance, config: Config, rounds: int | None = None, trace: Rounds | None = None
) -> Assignment:
    """The Boston mechanism (see the module); `rounds` stops after that many rounds (for tests of
    the property that a placement is final); `trace`, when given, is filled in."""
    n, n_grades = instance.n_students, len(instance.grades)
    start, schools = instance.pref_start, instance.pref_school
    length = np.diff(start)
    seats = instance.capacity.reshape(-1).astype(np.int64).copy()
    placed = np.full(n, -1, dtype=np.int64)
    waiting = np.flatnonzero(length > 0)
    k = 0
    while len(waiting) and (rounds is None or k < rounds):
        school = schools[start[waiting] + k]
        cell = school * n_grades + instance.grade[waiting]
        order = np.lexsort((order_key(instance, config, waiting, school), cell))
        in_order = cell[order]
        place_in_cell = np.arange(len(order)) - np.searchsorted(in_order, in_order, side="left")
        accepted = np.zeros(len(order), dtype=bool)
        accepted[order] = place_in_cell < seats[in_order]
        placed[waiting[accepted]] = school[accepted]
        had_seats = seats > 0
        seats -= np.bincount(cell[accepted], minlength=len(seats))
        k += 1
        if trace is not None:
            trace.placed[waiting[accepted]] = k
            filled = had_seats & (seats <= 0)
            trace.full[filled] = k
            # The last one each cell took this round, in its order: its cutoff in round k.
            taken = order[accepted[order]]
            last = np.flatnonzero(np.append(cell[taken][1:] != cell[taken][:-1], True)) if len(taken) else taken
            trace.last[cell[taken[last]]] = waiting[taken[last]]
        rejected = waiting[~accepted]
        waiting = rejected[length[rejected] > k]
    return Assignment(placed, np.zeros(n, dtype=bool))


def top_trading_cycles(instance: Instance, config: Config, trace: Rounds | None = None) -> Assignment:
    """Top trading cycles (see the module); `trace`, when given, is filled in (rounds of trades)."""
    n, n_grades = instance.n_students, len(instance.grades)
    start, schools = instance.pref_start, instance.pref_school
    length = np.diff(start)
    seats = instance.capacity.reshape(-1).astype(np.int64).copy()
    placed = np.full(n, -1, dtype=np.int64)
    # Every (student, listed school) pair, grouped by cell and in the school's order: a cell's
    # pointer walks down its applicants.
    pair_student = np.repeat(np.arange(n), length)
    pair_cell = schools * n_grades + instance.grade[pair_student]
    order = np.lexsort((order_key(instance, config, pair_student, schools), pair_cell))
    applicant = pair_student[order]
    cell_sorted = pair_cell[order]
    cell_start = np.searchsorted(cell_sorted, np.arange(len(seats)), side="left")
    cell_end = np.searchsorted(cell_sorted, np.arange(len(seats)), side="right")
    cell_next = cell_start.copy()
    choice = np.zeros(n, dtype=np.int64)
    active = np.flatnonzero(length > 0)
    trade = 0
    while len(active):
        active, cell = _point_students(active, choice, start, schools, length, seats, instance.grade, n_grades)
        if len(active) == 0:
            break
        remaining = np.zeros(n, dtype=bool)
        remaining[active] = True
        top = _point_cells(np.unique(cell), applicant, cell_next, cell_end, remaining)
        successor = np.full(n, -1, dtype=np.int64)
        successor[active] = top[cell]
        on_cycle = _on_cycles(successor, active)
        winners = active[on_cycle[active]]
        won_cell = cell[on_cycle[active]]
        placed[winners] = won_cell // n_grades
        had_seats = seats > 0
        seats -= np.bincount(won_cell, minlength=len(seats))
        trade += 1
        if trace is not None:
            trace.placed[winners] = trade
            trace.full[had_seats & (seats <= 0)] = trade
        active = active[~on_cycle[active]]
    return Assignment(placed, np.zeros(n, dtype=bool))


def _point_students(
    active: np.ndarray,
    choice: np.ndarray,
    start: np.ndarray,
    schools: np.ndarray,
    length: np.ndarray,
    seats: np.ndarray,
    grade: np.ndarray,
    n_grades: int,
) -> tuple[np.ndarray, np.ndarray]:
    """Each active student's best listed cell with a seat left (its pointer moves past full ones);
    students whose list is used up leave. Returns the students still in and their cells."""
    while True:
        cell = schools[start[active] + choice[active]] * n_grades + grade[active]
        full = seats[cell] <= 0
        if not full.any():
            return active, cell
        choice[active[full]] += 1
        active = active[choice[active] < length[active]]
        if len(active) == 0:
            return active, np.zeros(0, dtype=np.int64)


def _point_cells(
    cells: np.ndarray, applicant: np.ndarray, cell_next: np.ndarray, cell_end: np.ndarray, remaining: np.ndarray
) -> np.ndarray:
    """For each cell in `cells`, the applicant it ranks highest among the remaining (its pointer
    moves past the placed and the gone). Returns an array over all cells (-1 elsewhere)."""
    top = np.full(len(cell_next), -1, dtype=np.int64)
    moving = cells
    while len(moving):
        current = applicant[np.minimum(cell_next[moving], len(applicant) - 1)]
        settled = (cell_next[moving] < cell_end[moving]) & remaining[current]
        top[moving[settled]] = current[settled]
        moving = moving[~settled & (cell_next[moving] < cell_end[moving])]
        cell_next[moving] += 1
    return top


def _on_cycles(successor: np.ndarray, active: np.ndarray) -> np.ndarray:
    """Which students lie on a cycle of `successor` (defined on `active`): the image of the map
    iterated 2^m ≥ |active| times."""
    jump = successor.copy()
    steps = 1
    while steps < len(active):
        jump[active] = jump[jump[active]]
        steps *= 2
    on_cycle = np.zeros(len(successor), dtype=bool)
    on_cycle[jump[active]] = True
    return on_cycle
