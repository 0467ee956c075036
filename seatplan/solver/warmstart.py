"""A complete, feasible warm start: the transportation core by min-cost flow, then repair.

1. Solve the flow over the options, ignoring compacts (all broken) and diversity rows.
2. Hard diversity rows the flow breaks are repaired by unplacing students at the unit, the one whose
   option costs least to give up first: a unit above its band loses students of the category, below
   it loses others. An empty unit is inside every band, so this always ends.
3. Every other variable (shortfall) is set to the least value its rows allow.
The result satisfies every row: the CP-SAT hint is complete and feasible from the first second.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from seatplan.models.config import Config, DiversityRule
from seatplan.models.formulation import Model
from seatplan.models.instance import Instance
from seatplan.models.ir import TRANSPORTATION_ROLES
from seatplan.models.rules.compacts import share_limit
from seatplan.models.rules.diversity import band, in_category, units
from seatplan.solver.da import deferred_acceptance
from seatplan.solver.flow import solve_transportation


def warm_start(model: Model, instance: Instance, config: Config) -> np.ndarray:
    """A solution vector that keeps every row of the model."""
    values, _ = solve_transportation(model, instance)
    _repair_hard_diversity(model, instance, config, values)
    complete_free_variables(model, values)
    return feasible_or_empty(model, values)


def priced_warm_start(
    model: Model,
    instance: Instance,
    config: Config,
    duals: np.ndarray,
    compact_values: np.ndarray,
    primal: np.ndarray | None = None,
) -> np.ndarray:
    """A Lagrangian heuristic: the flow with every side row priced by the LP's duals.

    Compacts the LP honors at least half-way are honored (their members placed, their seats
    taken, as far as capacity and the share cap allow); every option's cost becomes its objective
    coefficient minus Σ y_r·a_r over the side rows (diversity, compact share), so the flow leans
    the way the LP does; then hard bands are repaired and shortfalls completed as in warm_start.

    Given the LP's `primal` point, each school's seats are further split by the categories its
    school-level bands count, in the proportions the LP chose, rounded to whole students so the
    bands hold: prices alone are ambiguous (many options tie), counts are not.
    """
    formulation = model.formulation
    seats = model.seats
    coefs, _ = formulation.objective()
    costs = coefs.astype(float)
    offset = 0
    for block in formulation.rows:
        size = block.size
        if block.role not in TRANSPORTATION_ROLES:
            y = duals[offset : offset + size]
            rows = np.repeat(np.arange(size), np.diff(block.indptr))
            costs -= np.bincount(block.indices, weights=block.coefs * y[rows], minlength=formulation.n_vars)
        offset += size

    values = np.zeros(formulation.n_vars, dtype=np.int64)
    capacity = instance.capacity.copy()
    taking_part = np.ones(instance.n_students, dtype=bool)
    if instance.n_compacts:
        room = share_limit(instance, config).astype(np.int64)
        members = instance.compact_members()
        for c in np.argsort(-compact_values, kind="stable"):
            if compact_values[c] < 0.5:
                break
            school = instance.compact_school[c]
            grades = np.bincount(instance.grade[members[c]], minlength=capacity.shape[1])
            if np.all(grades <= capacity[school]) and len(members[c]) <= room[school]:
                capacity[school] -= grades
                room[school] -= len(members[c])
                taking_part[members[c]] = False
                values[seats.compact_start + c] = 1
    pools = _lp_pools(model, instance, config, primal, capacity) if primal is not None else None
    flow_values, _ = solve_transportation(
        model, instance, costs=costs, capacity=capacity, students=taking_part, pools=pools
    )
    values += flow_values
    _repair_hard_diversity(model, instance, config, values)
    complete_free_variables(model, values)
    return feasible_or_empty(model, values)


def stable_warm_start(model: Model, instance: Instance, config: Config) -> np.ndarray | None:
    """Compacts first (a set-aside: their seats are taken and their members never envy), then
    deferred acceptance for everyone else over the placements the model allows, in the seats left;
    completed. None if the model's other hard rules refuse it."""
    seats = model.seats
    values = np.zeros(model.formulation.n_vars, dtype=np.int64)
    capacity = instance.capacity.copy()
    taking_part = np.ones(instance.n_students, dtype=bool)
    if instance.n_compacts:
        room = share_limit(instance, config).astype(np.int64)
        members = instance.compact_members()
        # A member of a compact left out envies its compact's school if it listed it (the seat is
        # not one it may take, but the definition counts it): honor first the compacts whose
        # members listed their school, most of them first.
        listing = np.array(
            [
                int(
                    (instance.list_position(members[c], np.full(len(members[c]), instance.compact_school[c])) > 0).sum()
                )
                for c in range(instance.n_compacts)
            ]
        )
        for c in np.lexsort((-instance.compact_family_count, -listing)):
            school = instance.compact_school[c]
            grades = np.bincount(instance.grade[members[c]], minlength=capacity.shape[1])
            if np.all(grades <= capacity[school]) and len(members[c]) <= room[school]:
                capacity[school] -= grades
                room[school] -= len(members[c])
                taking_part[members[c]] = False
                values[seats.compact_start + c] = 1
    option = seats.is_option & taking_part[seats.student]
    # The lists DA sees: each student's options, in the order of its own list.
    order = np.lexsort((seats.position[option], seats.student[option]))
    student = seats.student[option][order]
    school = seats.school[option][order]
    start = np.searchsorted(student, np.arange(instance.n_students + 1))
    allowed = replace(
        instance,
        pref_start=start.astype(np.int64),
        pref_school=school.astype(np.int64),
        pref_rank=seats.position[option][order].astype(np.int64),
        capacity=capacity,
    )
    assignment = deferred_acceptance(allowed, config)
    placed = np.flatnonzero(assignment.school >= 0)
    keys = seats.student[option] * instance.n_schools + seats.school[option]
    by_key = np.argsort(keys)
    found = np.searchsorted(keys[by_key], placed * instance.n_schools + assignment.school[placed])
    values[seats.var[option][by_key][found]] = 1
    complete_free_variables(model, values)
    return values


def feasible_or_empty(model: Model, values: np.ndarray) -> np.ndarray:
    """`values` if it keeps every row, else the assignment that places nobody (which keeps every
    rule of the model: an empty school is inside every band)."""
    if not model.formulation.violations(values):
        return values
    empty = np.zeros_like(values)
    complete_free_variables(model, empty)
    return empty


def _lp_pools(
    model: Model, instance: Instance, config: Config, primal: np.ndarray, capacity: np.ndarray
) -> tuple[np.ndarray, np.ndarray, int] | None:
    """Seat pools by (school, grade, class), a class being a student's categories under every
    school-level band, sized as the LP filled them and rounded so that each school's bands hold
    where whole students allow it. None when no band is at school level."""
    rules = [r for r in config.diversity if r.scope == "school" and r.mode != "off"]
    if not rules:
        return None
    seats = model.seats
    flags = np.stack([in_category(instance, r) for r in rules], axis=1)
    student_class = flags.astype(np.int64) @ (1 << np.arange(len(rules)))
    n_classes = 1 << len(rules)
    n_grades = len(instance.grades)
    option = seats.is_option
    cell = (seats.school * n_grades + instance.grade[seats.student]) * n_classes + student_class[seats.student]
    n_cells = instance.n_schools * n_grades * n_classes
    wanted = np.bincount(cell[option], weights=primal[seats.var[option]], minlength=n_cells)
    wanted = wanted.reshape(instance.n_schools, n_grades, n_classes)
    bands = [band(instance, r) for r in rules]
    pools = np.zeros_like(wanted, dtype=np.int64)
    combos = np.array(np.meshgrid(*[[0, 1]] * n_classes, indexing="ij")).reshape(n_classes, -1).T
    for j in range(instance.n_schools):
        for g in range(n_grades):
            fractional = wanted[j, g]
            if fractional.sum() < 1e-9:
                continue
            floor = np.floor(fractional + 1e-9).astype(np.int64)
            best, best_key = floor, None
            for combo in combos:  # round each class down or up; keep the choice the bands like best
                counts = floor + combo
                if counts.sum() > capacity[j, g]:
                    continue
                n = counts.sum()
                short = 0
                for r, (lo, hi) in enumerate(bands):
                    k = counts[[c for c in range(n_classes) if c >> r & 1]].sum()
                    short += max(0, lo * n - 100 * k, 100 * k - hi * n)
                key = (short, float(np.abs(counts - fractional).sum()))
                if best_key is None or key < best_key:
                    best, best_key = counts, key
            pools[j, g] = best
    # A seat beyond its pool costs about what one student of the wrong class costs the band, but
    # less than leaving a student out: the flow keeps to the pools unless someone would be unplaced.
    weights = [r.weight * max(lo, 100 - hi) for r, (lo, hi) in zip(rules, bands, strict=True) if r.mode == "soft"]
    unplaced = 100 * config.objective.unassigned
    penalty = max(1, min(max(weights, default=unplaced), unplaced // 2))
    return cell, pools.reshape(-1), int(penalty)


def _repair_hard_diversity(model: Model, instance: Instance, config: Config, values: np.ndarray) -> None:
    """Unplace students until every hard band holds. Rules are repaired in turn until a whole
    round changes nothing: mending one rule's unit can break another rule's."""
    hard = [rule for rule in config.diversity if rule.mode == "hard"]
    for _ in range(instance.n_students + 1):
        before = int(values[model.seats.var].sum())
        for rule in hard:
            _repair_rule(model, instance, rule, values)
        if int(values[model.seats.var].sum()) == before:
            return


def _repair_rule(model: Model, instance: Instance, rule: DiversityRule, values: np.ndarray) -> None:
    seats = model.seats
    coefs, _ = model.formulation.objective()
    lo, hi = band(instance, rule)
    unit_of_school = units(instance, rule.scope).of_school
    category = in_category(instance, rule)
    for _ in range(instance.n_students + 1):
        on = np.flatnonzero(values[seats.var] > 0)
        unit = unit_of_school[seats.school[on]]
        counted = unit >= 0
        on, unit = on[counted], unit[counted]
        cat = category[seats.student[on]]
        n = np.bincount(unit, minlength=len(unit_of_school) + 1)
        k = np.bincount(unit, weights=cat, minlength=len(unit_of_school) + 1)
        over = 100 * k > hi * n
        under = lo * n > 100 * k
        if not (over.any() or under.any()):
            return
        # Unplace, at every unit out of band, the cheapest-to-lose student of the side in excess.
        drop = (over[unit] & cat) | (under[unit] & ~cat)
        candidates = on[drop]
        order = np.lexsort((-coefs[seats.var[candidates]], unit[drop]))
        first = np.unique(unit[drop][order], return_index=True)[1]
        values[seats.var[candidates[order[first]]]] = 0


def complete_free_variables(model: Model, values: np.ndarray) -> None:
    """Given the placements, compute every derived variable (running sums), then set every other
    variable (shortfalls, blocking pairs, split families: each only costs) to the least value its
    rows allow."""
    formulation = model.formulation
    known = np.zeros(formulation.n_vars, dtype=bool)
    known[model.seats.var] = True
    for indexes, compute in formulation.derived:
        values[indexes] = compute(values)
        known[indexes] = True
    free = ~known
    if not free.any():
        return
    values[free] = formulation.lower[free]
    for block in formulation.rows:
        rows = np.repeat(np.arange(block.size), np.diff(block.indptr))
        is_free = free[block.indices]
        if not is_free.any():
            continue
        activity = np.zeros(block.size, dtype=np.int64)
        np.add.at(activity, rows[~is_free], block.coefs[~is_free] * values[block.indices[~is_free]])
        # rows of the form  lower ≤ known + a·z  with a > 0: z ≥ ceil((lower − known) / a)
        entries = np.flatnonzero(is_free & (block.coefs > 0))
        need_rows = rows[entries]
        lower = block.lower[need_rows]
        finite = np.isfinite(lower)
        entries, need_rows = entries[finite], need_rows[finite]
        required = np.ceil((block.lower[need_rows] - activity[need_rows]) / block.coefs[entries]).astype(np.int64)
        target = block.indices[entries]
        np.maximum.at(values, target, required)
    np.clip(values, formulation.lower, formulation.upper, out=values)
