"""Student-proposing deferred acceptance, the mechanism districts run today.

Every unplaced student proposes to the next school on its list; each school (and grade) keeps the
students it ranks highest — (priority descending, lottery ascending) — up to its seats and rejects
the rest; rejected students propose again; it ends when nobody is rejected. The result is the
student-optimal stable matching: every student weakly prefers it to any other stable matching.

Rounds are vectorised: all proposals of a round are decided at once by sorting, so a city of
100,000 students with 12 choices takes a few dozen numpy sorts, not a million Python steps.
Compacts, diversity bands, clusters and families are not applied: DA knows lists (without the
schools a student is not eligible at), priorities, the lottery, seats and reserves only. With
reserves, each school keeps its choice slot by slot (models/school_order.choose); the result is then
the student-optimal stable matching under those choices (Kominers & Sönmez 2016).
"""

from __future__ import annotations

import numpy as np

from seatplan.models.assignment import Assignment
from seatplan.models.config import Config
from seatplan.models.instance import Instance
from seatplan.models.school_order import choose, order_key


def deferred_acceptance(instance: Instance, config: Config) -> Assignment:
    """The student-optimal stable matching of the lists, the schools' order and the seats.

    Each round only the cells (school and grade) that receive a proposal choose again — the others
    hold the same students — and, without reserves, a proposal ranked below a full cell's last held
    student is turned down at once (the cell would keep what it holds): late rounds, with a few
    proposals, cost a few sorts of a few students, not one of the whole city."""
    n = instance.n_students
    start, schools = instance.pref_start, instance.pref_school
    length = np.diff(start)
    n_grades = instance.capacity.shape[1]
    seats = instance.capacity.reshape(-1)
    next_choice = np.zeros(n, dtype=np.int64)
    held_cell = np.full(n, -1, dtype=np.int64)  # the cell holding each student
    held_key = np.zeros(n, dtype=np.int64)
    count = np.zeros(len(seats), dtype=np.int64)  # students each cell holds
    worst = np.full(len(seats), -1, dtype=np.int64)  # the key of the last of them
    by_cutoff = not instance.has_reserves
    free = np.flatnonzero(length > 0)  # students who still propose
    while len(free):
        school = schools[start[free] + next_choice[free]]
        cell = school * n_grades + instance.grade[free]
        key = order_key(instance, config, free, school)
        beats = (count[cell] < seats[cell]) | (key < worst[cell]) if by_cutoff else np.ones(len(free), bool)
        turned_down = free[~beats]
        free, school, cell, key = free[beats], school[beats], cell[beats], key[beats]
        touched = np.zeros(len(seats), dtype=bool)
        touched[cell] = True
        holders = np.flatnonzero(held_cell >= 0)
        holders = holders[touched[held_cell[holders]]]
        # Everyone a touched cell is considering this round: those it holds, and the new proposals.
        student = np.concatenate([holders, free])
        at = np.concatenate([held_cell[holders] // n_grades, school])
        rank_key = np.concatenate([held_key[holders], key])
        keep = _keep(instance, config, student, at, rank_key, seats)
        kept, dropped = student[keep], student[~keep]
        held_cell[dropped] = -1
        held_cell[kept] = at[keep] * n_grades + instance.grade[kept]
        held_key[kept] = rank_key[keep]
        count[touched] = np.bincount(held_cell[kept], minlength=len(seats))[touched]
        worst[touched] = -1
        np.maximum.at(worst, held_cell[kept], rank_key[keep])
        # The turned down move down their lists; those with schools left propose next round.
        rejected = np.concatenate([turned_down, dropped])
        next_choice[rejected] += 1
        free = rejected[next_choice[rejected] < length[rejected]]
    held = np.where(held_cell >= 0, held_cell // n_grades, -1)
    return Assignment(held, np.zeros(n, dtype=bool))


def _keep(
    instance: Instance, config: Config, student: np.ndarray, at: np.ndarray, key: np.ndarray, seats: np.ndarray
) -> np.ndarray:
    """Whom each school (and grade) keeps of the students it holds and the new proposals: its best
    up to its seats, or, with reserves, its choice slot by slot (school_order.choose)."""
    if instance.has_reserves:
        return choose(instance, config, student, at, key=key) >= 0
    cell = at * len(instance.grades) + instance.grade[student]
    top = int(key.max(initial=0)) + 1
    if int(key.min(initial=0)) >= 0 and (len(seats) + 1) * top < 2**62:
        order = np.argsort(cell * top + key)  # one key: much faster than two
    else:
        order = np.lexsort((key, cell))
    cell_sorted = cell[order]
    keep = np.zeros(len(order), dtype=bool)
    keep[order] = _places(cell_sorted) < seats[cell_sorted]
    return keep


def _places(sorted_cells: np.ndarray) -> np.ndarray:
    """Each entry's place in its run of equal cells (0 for the first), the cells sorted: from where
    each run starts, in one pass (a binary search per entry costs more, every round)."""
    index = np.arange(len(sorted_cells))
    starts = np.ones(len(sorted_cells), dtype=bool)
    starts[1:] = sorted_cells[1:] != sorted_cells[:-1]
    return index - np.maximum.accumulate(np.where(starts, index, 0))


def school_proposing(instance: Instance, config: Config) -> Assignment:
    """The school-optimal stable matching (schools propose, in their order, to fill their seats).

    In every stable matching each student's school lies between this one and deferred acceptance's
    (the lattice of stable matchings), and the students placed are the same (rural hospitals).
    """
    n = instance.n_students
    n_grades = len(instance.grades)
    student = instance.pref_student()
    school = instance.pref_school
    position = instance.pref_position()
    key = order_key(instance, config, student, school)
    cell = school * n_grades + instance.grade[student]
    order = np.lexsort((key, cell))  # each cell's applicants, best first
    applicant, applicant_position, applicant_cell = student[order], position[order], cell[order]
    n_cells = instance.n_schools * n_grades
    cell_start = np.searchsorted(applicant_cell, np.arange(n_cells + 1))
    pointer = cell_start[:-1].copy()
    seats = instance.capacity.reshape(-1)
    held_cell = np.full(n, -1, dtype=np.int64)
    held_position = np.full(n, np.iinfo(np.int64).max, dtype=np.int64)
    while True:
        holding = np.bincount(held_cell[held_cell >= 0], minlength=n_cells)
        want = np.minimum(seats - holding, cell_start[1:] - pointer)
        want = np.maximum(want, 0)
        if not want.any():
            break
        # The next `want` applicants of every cell, as one index array.
        cells = np.repeat(np.arange(n_cells), want)
        offsets = np.arange(int(want.sum())) - np.repeat(np.cumsum(want) - want, want)
        offers = pointer[cells] + offsets
        pointer += want
        to = applicant[offers]
        # Each student keeps the best school it holds or is offered, by its own list.
        candidates_student = np.concatenate([np.flatnonzero(held_cell >= 0), to])
        candidates_cell = np.concatenate([held_cell[held_cell >= 0], applicant_cell[offers]])
        candidates_position = np.concatenate([held_position[held_cell >= 0], applicant_position[offers]])
        best = np.lexsort((candidates_position, candidates_student))
        first = np.ones(len(best), dtype=bool)
        first[1:] = candidates_student[best][1:] != candidates_student[best][:-1]
        chosen = best[first]
        held_cell[:] = -1
        held_position[:] = np.iinfo(np.int64).max
        held_cell[candidates_student[chosen]] = candidates_cell[chosen]
        held_position[candidates_student[chosen]] = candidates_position[chosen]
    school_of = np.where(held_cell >= 0, held_cell // n_grades, -1)
    return Assignment(school_of, np.zeros(n, dtype=bool))
