"""The school's order and its choice among applicants: what stability, deferred acceptance and
reserves share (rules/stability.py and rules/reserves.py state the rules they make of it).

Each school j ranks students by (priority at j descending, lottery ascending) — a strict order. With
reserves, its choice among applicants goes slot by slot (see rules/reserves.py): slots of one kind
in a row form a *block*, which takes the top of its own order (members first).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from seatplan.models.config import Config
from seatplan.models.instance import Instance


def order_key(instance: Instance, config: Config, students: np.ndarray, schools: np.ndarray) -> np.ndarray:
    """Each (student, school) pair's place in the school's order as one integer: smaller is ranked
    higher. (priority descending, then lottery ascending.)"""
    priority = instance.priority(students, schools, config.clusters.feeder_priority)
    # One ceiling for the whole instance, not one per call: keys from different calls (DA's rounds,
    # the students a school holds against those who envy it) are compared with each other.
    top = int(max(instance.priority_value.max(initial=0), 0)) + config.clusters.feeder_priority
    return (top - priority) * instance.lottery_span + instance.lottery_place(students, schools)


@dataclass(frozen=True)
class ListedPairs:
    """Every (student, school) a student lists, with the seats of its grade there, in list order."""

    student: np.ndarray
    school: np.ndarray
    position: np.ndarray
    seats: np.ndarray
    key: np.ndarray  # the school's order of the student


def listed_pairs(instance: Instance, config: Config) -> ListedPairs:
    student = instance.pref_student()
    school = instance.pref_school
    return ListedPairs(
        student=student,
        school=school,
        position=instance.pref_position(),
        seats=instance.capacity[school, instance.grade[student]],
        key=order_key(instance, config, student, school),
    )


def blocking_pairs(
    instance: Instance, config: Config, school: np.ndarray, through_compact: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """The blocking pairs of an assignment, as (students, schools), straight from the definition."""
    placed_at = school
    n_grades = len(instance.grades)
    grade = instance.grade
    # The school's order is asked of the envious pairs only: a few of a city's millions of pairs.
    student, listed = envious_pairs(instance, school, through_compact)
    cell = listed * n_grades + grade[student]
    load = np.zeros(instance.n_schools * n_grades, dtype=np.int64)
    placed = np.flatnonzero(placed_at >= 0)
    np.add.at(load, placed_at[placed] * n_grades + grade[placed], 1)
    free = load[cell] < instance.capacity[listed, grade[student]]
    # The school's lowest-ranked student held there not through a compact, per grade.
    regular = placed[~through_compact[placed]]
    held_key = order_key(instance, config, regular, placed_at[regular])
    worst = np.full(instance.n_schools * n_grades, -1, dtype=np.int64)
    np.maximum.at(worst, placed_at[regular] * n_grades + grade[regular], held_key)
    outranks = order_key(instance, config, student, listed) < worst[cell]
    blocking = free | outranks
    return student[blocking], listed[blocking]


def envious_pairs(instance: Instance, school: np.ndarray, through_compact: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The listed (student, school) pairs whose student would rather be there, where it has seats
    for the student's grade, in list order: a student envies every school of its list when
    unplaced, the schools above its own when placed at one it listed (positions rise down a
    list), and none when placed through a compact or at a school it did not list (a compact's).
    Taken as the top of each list: no array as long as all the lists is made."""
    start, length = instance.pref_start[:-1], instance.list_length
    depth = np.where(school < 0, length, np.maximum(instance.own_entries(school) - start, 0))
    depth[through_compact] = 0
    student = np.repeat(np.arange(len(school)), depth)
    before = np.repeat(np.cumsum(depth) - depth, depth)
    listed = instance.pref_school[np.arange(len(student)) - before + start[student]]
    seats = instance.capacity[listed, instance.grade[student]] > 0
    return student[seats], listed[seats]


# ---- the school's choice -------------------------------------------------------------------------


@dataclass(frozen=True)
class Blocks:
    """The blocks of every cell in precedence order: step k of school j is reserve `reserve[j, k]`
    (-1: the open seats), with `capacity[cell, k]` seats at cell = school · n_grades + grade."""

    reserve: np.ndarray  # (J, K)
    capacity: np.ndarray  # (J·G, K)


def slot_blocks(instance: Instance, taken: np.ndarray | None = None) -> Blocks:
    """The blocks, with `taken` (J, G) seats set aside for compacts: out of the open seats first,
    then out of the reserves, last first."""
    n_reserves = len(instance.reserve_names)
    held = instance.reserve_seats.astype(np.int64).copy()
    open_seats = instance.capacity - held.sum(axis=2)
    if taken is not None:
        rest = taken - np.minimum(taken, open_seats)
        open_seats = open_seats - np.minimum(taken, open_seats)
        for r in reversed(range(n_reserves)):
            cut = np.minimum(rest, held[:, :, r])
            held[:, :, r] -= cut
            rest = rest - cut
    reserve_steps = np.arange(n_reserves)
    first = instance.reserve_first[:, None]
    reserve = np.where(
        first,
        np.concatenate([reserve_steps, [-1]])[None, :],
        np.concatenate([[-1], reserve_steps])[None, :],
    )
    n_grades = instance.capacity.shape[1]
    capacity = np.zeros((instance.n_schools * n_grades, n_reserves + 1), np.int64)
    for k in range(n_reserves + 1):
        step = reserve[:, k]
        if not n_reserves:
            capacity[:, k] = open_seats.reshape(-1)
            continue
        at_step = np.where(step[:, None] >= 0, held[np.arange(instance.n_schools), :, np.maximum(step, 0)], open_seats)
        capacity[:, k] = at_step.reshape(-1)
    return Blocks(reserve, capacity)


def memberships(instance: Instance, student: np.ndarray, school: np.ndarray) -> np.ndarray:
    """(R, n) whether each applicant is a member of each reserve at its school."""
    return (
        np.stack([instance.is_member(r, student, school) for r in range(len(instance.reserve_names))])
        if instance.reserve_names
        else np.zeros((0, len(student)), bool)
    )


def choose(
    instance: Instance,
    config: Config,
    student: np.ndarray,
    school: np.ndarray,
    taken: np.ndarray | None = None,
    key: np.ndarray | None = None,
) -> np.ndarray:
    """The school's choice among applicants (student, school) — each school's (and grade's) own —
    block by block: the step of each applicant's block, -1 for the rejected."""
    student = np.asarray(student, np.int64)
    school = np.asarray(school, np.int64)
    n = len(student)
    step = np.full(n, -1, np.int64)
    if not n:
        return step
    blocks = slot_blocks(instance, taken)
    cell = school * instance.capacity.shape[1] + instance.grade[student]
    key = order_key(instance, config, student, school) if key is None else key
    member = memberships(instance, student, school)
    hold = instance.reserve_hold
    remaining = np.ones(n, bool)
    everyone = np.arange(n)
    for k in range(blocks.capacity.shape[1]):
        reserve = blocks.reserve[school, k]
        is_member = np.where(reserve >= 0, member[np.maximum(reserve, 0), everyone] if len(member) else False, True)
        eligible = remaining & (is_member if hold else True)
        index = np.flatnonzero(eligible)
        if not len(index):
            continue
        order = index[np.lexsort((key[index], ~is_member[index], cell[index]))]
        cells = cell[order]
        place = np.arange(len(order)) - np.searchsorted(cells, cells, side="left")
        chosen = order[place < blocks.capacity[cells, k]]
        step[chosen] = k
        remaining[chosen] = False
    return step


def compact_taken(instance: Instance, school: np.ndarray, through_compact: np.ndarray) -> np.ndarray:
    """(J, G) seats students placed through honored compacts take."""
    taken = np.zeros(instance.capacity.shape, np.int64)
    at = np.flatnonzero(through_compact & (school >= 0))
    np.add.at(taken, (school[at], instance.grade[at]), 1)
    return taken


def reserve_blocking_pairs(
    instance: Instance, config: Config, school: np.ndarray, through_compact: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """The reserve-aware blocking pairs of an assignment, as (students, schools)."""
    s, j = envious_pairs(instance, school, through_compact)
    regular = np.flatnonzero((school >= 0) & ~through_compact)
    taken = compact_taken(instance, school, through_compact)
    held_key = order_key(instance, config, regular, school[regular])
    step = choose(instance, config, regular, school[regular], taken, held_key)
    envied = (s, j, order_key(instance, config, s, j))
    wins = _would_take(instance, (regular, school[regular], held_key, step), envied, taken)
    return s[wins], j[wins]


def _would_take(
    instance: Instance,
    held: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray],
    asking: tuple[np.ndarray, np.ndarray, np.ndarray],
    taken: np.ndarray,
) -> np.ndarray:
    """Whether the school's choice from what it holds plus each asking student takes that student:
    some block where the student may sit has a free slot or holds someone it ranks below them."""
    h_student, h_school, h_key, h_step = held
    a_student, a_school, a_key = asking
    blocks = slot_blocks(instance, taken)
    n_grades = instance.capacity.shape[1]
    # One scale for both sides' keys: their ranks among all of them.
    _, rank = np.unique(np.concatenate([h_key, a_key]), return_inverse=True)
    big = len(rank) + 1
    h_rank, a_rank = rank[: len(h_key)], rank[len(h_key) :]
    h_member = memberships(instance, h_student, h_school)
    a_member = memberships(instance, a_student, a_school)
    n_steps = blocks.capacity.shape[1]
    count = np.zeros(blocks.capacity.shape, np.int64)
    worst = np.full(blocks.capacity.shape, -1, np.int64)
    sat = h_step >= 0
    h_cell = h_school * n_grades + instance.grade[h_student]
    h_reserve = blocks.reserve[h_school, np.maximum(h_step, 0)]
    h_in = np.where(
        h_reserve >= 0, h_member[np.maximum(h_reserve, 0), np.arange(len(h_student))] if len(h_member) else False, True
    )
    np.add.at(count, (h_cell[sat], h_step[sat]), 1)
    np.maximum.at(worst, (h_cell[sat], h_step[sat]), (~h_in[sat]) * big + h_rank[sat])
    a_cell = a_school * n_grades + instance.grade[a_student]
    wins = np.zeros(len(a_student), bool)
    everyone = np.arange(len(a_student))
    for k in range(n_steps):
        reserve = blocks.reserve[a_school, k]
        is_member = np.where(reserve >= 0, a_member[np.maximum(reserve, 0), everyone] if len(a_member) else False, True)
        may_sit = is_member if instance.reserve_hold else np.ones(len(a_student), bool)
        cap = blocks.capacity[a_cell, k]
        mine = (~is_member) * big + a_rank
        wins |= may_sit & (cap > 0) & ((count[a_cell, k] < cap) | (mine < worst[a_cell, k]))
    return wins


@dataclass(frozen=True)
class Occupancy:
    """The school's choice run on the students it holds: per cell and block, how many sit there and
    the last (lowest-ranked in the block's order) of them, -1 for none."""

    blocks: Blocks
    count: np.ndarray  # (cells, K)
    last: np.ndarray  # (cells, K) student index


def occupancy(instance: Instance, config: Config, school: np.ndarray, through_compact: np.ndarray) -> Occupancy:
    """Where the school's choice seats each student it holds (not through a compact)."""
    regular = np.flatnonzero((school >= 0) & ~through_compact)
    taken = compact_taken(instance, school, through_compact)
    key = order_key(instance, config, regular, school[regular])
    step = choose(instance, config, regular, school[regular], taken, key)
    blocks = slot_blocks(instance, taken)
    n_grades = instance.capacity.shape[1]
    count = np.zeros(blocks.capacity.shape, np.int64)
    last = np.full(blocks.capacity.shape, -1, np.int64)
    sat = step >= 0
    cell = school[regular] * n_grades + instance.grade[regular]
    np.add.at(count, (cell[sat], step[sat]), 1)
    member = memberships(instance, regular, school[regular])
    reserve = blocks.reserve[school[regular], np.maximum(step, 0)]
    inside = np.where(
        reserve >= 0, member[np.maximum(reserve, 0), np.arange(len(regular))] if len(member) else False, True
    )
    # The block's order: members first, then the key; its last is the greatest.
    order = np.lexsort((key[sat], ~inside[sat], step[sat], cell[sat]))
    at_cell, at_step = cell[sat][order], step[sat][order]
    is_last = np.ones(len(order), bool)
    is_last[:-1] = (at_cell[1:] != at_cell[:-1]) | (at_step[1:] != at_step[:-1])
    last[at_cell[is_last], at_step[is_last]] = regular[sat][order][is_last]
    return Occupancy(blocks, count, last)


def any_blocking_pairs(
    instance: Instance, config: Config, school: np.ndarray, through_compact: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """The blocking pairs, reserve-aware when the district has reserves."""
    if instance.has_reserves:
        return reserve_blocking_pairs(instance, config, school, through_compact)
    return blocking_pairs(instance, config, school, through_compact)
