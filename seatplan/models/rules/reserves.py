"""Reserves: seats of a school held for the members of a group, filled in a stated precedence.

The school's choice among applicants A (Kominers & Sönmez 2016, "Matching with slot-specific
priorities"; the precedence effect: Dur, Kominers, Pathak & Sönmez 2018, "Reserve design"): the
seats of a (school, grade) cell are slots in precedence order — `reserve_first`, each reserve's
seats (reserves in the order reserves.csv first names them) then the open seats; `open_first`, the
open seats then the reserves. Slot by slot, a reserve slot of R takes the highest-ranked remaining
member of R (by the school's order: priority, then lottery), and when none remains, `revert`: the
highest-ranked remaining applicant, `hold`: nobody; an open slot takes the highest-ranked remaining
applicant. Slots of one kind in a row form a *block*, which takes the top `seats` of its order:
members first (then, under `revert`, the others). Students placed through an honored compact are a
set-aside: their seats come out of the open seats first, then out of the reserves, last first.

A blocking pair (s, j), reserve-aware: s prefers j to its placement, is eligible there, and j's
choice from its regular students plus s takes s. Running the choice on the students j holds, s is
taken iff some block b where s may sit has a free slot or holds someone b ranks below s.

Rows (x[e] places pair e = (s, j), atleast_before[e] = Σ x over the options s lists above j,
compact[c(s)] its compact's variable; `r` a reserve's seats at j in s's grade):
  members first (always):  r·(atleast_before[e] + x[e] + compact[c(s)]) + filled[j, g, R] ≥ r
      for every member s of R who lists j; filled[j, g, R] = members of R placed at (j, g) — a
      reserved seat goes to a non-member only while no member who wants it is left out.
  hold: the school's choice seats every student placed there. With y[e, b] placing pair e in block
      b (x[e] = Σ_b y[e, b], Σ y ≤ the block's seats), for every placed pair and every block b it may
      sit in: ahead_b[e] + cap_b·(Σ_{b' ≤ b} y[e, b'] − x[e]) ≥ 0 — a student seated in a later
      block finds b full with students b ranks above it, which is exactly the slot-by-slot choice
      (with several reserves and any precedence). Compacts with `hold` are refused in the optimiser.
  stability hard: the comb rows of Baïou & Balinski (2000), written per block (in the spirit of
      Ágoston, Biró & McBride 2016 for choice functions): y[e, b] places e in block b,
      x[e] = Σ_b y[e, b], Σ_{e at the cell} y[e, b] ≤ seats of b, and for every pair e and block b
      where s may sit:
          ahead_b[e] + cap_b·(atleast_before[e] + Σ_{b' ≤ b} y[e, b']) ≥ cap_b
      with ahead_b[e] = Σ y[t, b] over the t that b ranks above s (a running sum). If s is placed
      better, or at j in b or an earlier block, the row is empty; otherwise b must be full with
      students it ranks above s — for an applicant this is "no blocking pair", for a student j
      holds in a later block it is "the blocks are the greedy choice's", so the rows hold exactly
      for the stable assignments. Compacts are refused with stability hard and reserves.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any, Literal, get_args

import numpy as np

from seatplan.models.config import Checker, Config, Section, mode_reader, register_section
from seatplan.models.instance import Instance
from seatplan.models.ir import Formulation, HardUnits, Labeller, Role, rows_from_triplets
from seatplan.models.rules.base import Build, Measures, Outcome, Rule, Seats, Shortcut, pair_vars, register
from seatplan.models.school_order import choose, listed_pairs, memberships, slot_blocks
from seatplan.models.yamlnodes import Path_

Precedence = Literal["reserve_first", "open_first"]
Unfilled = Literal["revert", "hold"]


@dataclass(frozen=True)
class ReserveSettings:
    """Reserves: which seats come first, what happens to a reserved seat no member takes, and who is a
    member by a students.csv column (reserve -> (column, value))."""

    precedence: Precedence = "reserve_first"
    unfilled: Unfilled = "revert"
    members: tuple[tuple[str, str, str], ...] = ()


def _members_reader(check: Checker, path: Path_, value: Any, default: Any) -> tuple[tuple[str, str, str], ...]:
    """`members: {low_income: "ses=low"}`: each reserve's members are the students whose column has
    that value."""
    section = value if isinstance(value, dict) else None
    if section is None:
        check.problem(
            path, f'expected reserves.members to map a reserve to "column=value", got {check.got(path, value)}'
        )
        return default
    out = []
    for name, rule in section.items():
        text = check.text((*path, name), rule, "")
        column, equals, category = text.partition("=")
        if not equals or not column.strip() or not category.strip():
            check.problem(
                (*path, name),
                f'expected reserves.members.{name} to be "column=value" (e.g. "ses=low"), '
                f"got {check.got((*path, name), rule)}",
            )
            continue
        out.append((str(name), column.strip(), category.strip()))
    return tuple(out)


class _ReserveSection(Section[ReserveSettings]):
    def write(self, settings: ReserveSettings, where: Any) -> Any:
        out: dict[str, Any] = {f.name: getattr(settings, f.name) for f in fields(settings) if f.name != "members"}
        out["members"] = {name: f"{column}={value}" for name, column, value in settings.members}
        return out

    def present(self, settings: ReserveSettings) -> bool:
        return settings != ReserveSettings()


SETTINGS = register_section(
    _ReserveSection(
        "reserves",
        ReserveSettings,
        {
            "precedence": mode_reader(get_args(Precedence)),
            "unfilled": mode_reader(get_args(Unfilled)),
            "members": _members_reader,
        },
    )
)


# ---- the rule ------------------------------------------------------------------------------------


class Reserves(Rule):
    """Reserved seats: members first, held seats kept (hold), and stability by the school's choice."""

    name = "reserves"
    section = "reserves"
    terms = ()
    order = 75

    def active(self, config: Config, instance: Instance) -> bool:
        return instance.has_reserves

    def hard(self, config: Config) -> list[str]:
        return ["data.reserves"] if config.data.reserves is not None else []

    def describe(self, config: Config, instance: Instance) -> list[str]:
        total = int(instance.reserve_seats.sum())
        names = ", ".join(instance.reserve_names)
        first = (
            "before"
            if instance.reserve_first.all()
            else "after"
            if not instance.reserve_first.any()
            else ("before or after (as each school's precedence in reserves.csv says)")
        )
        unfilled = (
            "a reserved seat no member takes stays empty"
            if instance.reserve_hold
            else "a reserved seat no member wants goes to any student"
        )
        return [
            f"Reserves ({names}): {total:,} seats are held for their members, filled {first} the open "
            f"seats; {unfilled}."
        ]

    def build(self, build: Build) -> None:
        instance, config, model, seats = build.instance, build.config, build.formulation, build.seats
        _members_first_rows(instance, model, seats)
        if instance.reserve_hold or config.stability.mode == "hard":
            _block_rows_of(instance, config, model, seats, stable=config.stability.mode == "hard")

    def measure(self, outcome: Outcome) -> Measures:
        """Reserved seats, and how many of them members fill: per school, grade and reserve, the
        reserve's seats or its members placed there, whichever is fewer (whichever seats they sit in)."""
        instance = outcome.instance
        if not instance.has_reserves:
            return Measures()
        placed = np.flatnonzero(outcome.placed)
        school = outcome.school[placed]
        grade = instance.grade[placed]
        filled = 0
        for r in range(len(instance.reserve_names)):
            count = np.zeros(instance.capacity.shape, np.int64)
            member = instance.is_member(r, placed, school)
            np.add.at(count, (school[member], grade[member]), 1)
            filled += int(np.minimum(count, instance.reserve_seats[:, :, r]).sum())
        return Measures(
            figures={"reserved_seats": int(instance.reserve_seats.sum()), "reserved_seats_filled_by_members": filled}
        )

    def supports(self, shortcut: Shortcut, config: Config, instance: Instance) -> bool | None:
        # Deferred acceptance with the school's choice is the student-optimal stable matching
        # (Kominers & Sönmez): its shortcut stays exact; the window needs schools proposing, which
        # seatplan does not run with reserves; the rows are no flow.
        return shortcut == Shortcut.STUDENT_OPTIMAL and config.stability.mode == "hard"


register(Reserves())


# ---- rows ----------------------------------------------------------------------------------------


def _better_options(
    instance: Instance, seats: Seats, student: np.ndarray, position: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """(row, var) of every option each pair's student has at a position above `position` (its
    `atleast_before`), and of its compact's variable."""
    option = np.flatnonzero(seats.is_option)
    by_student = np.argsort(seats.student[option], kind="stable")
    option = option[by_student]
    start = np.searchsorted(seats.student[option], np.arange(instance.n_students + 1))
    count = start[student + 1] - start[student]
    row = np.repeat(np.arange(len(student)), count)
    offset = np.arange(int(count.sum())) - np.repeat(np.cumsum(count) - count, count)
    entry = option[start[student][row] + offset]
    better = seats.position[entry] < position[row]
    rows, cols = [row[better]], [seats.var[entry][better]]
    compact = instance.compact_of_student[student]
    has = np.flatnonzero(compact >= 0)
    rows.append(has)
    cols.append(seats.compact_start + compact[has])
    return np.concatenate(rows), np.concatenate(cols)


def _members_first_rows(instance: Instance, model: Formulation, seats: Seats) -> None:
    """r·(atleast_before + x + compact) + filled[j, g, R] ≥ r for every member who lists j."""
    pairs_student, pairs_school = instance.pref_student(), instance.pref_school
    position = instance.pref_position()
    n_grades = instance.capacity.shape[1]
    ids, sids = instance.student_ids, instance.school_ids
    for r, name in enumerate(instance.reserve_names):
        grade = instance.grade[pairs_student]
        seats_r = instance.reserve_seats[pairs_school, grade, r]
        member = instance.is_member(r, pairs_student, pairs_school) & (seats_r > 0)
        if not member.any():
            continue
        s, j, pos, cap = pairs_student[member], pairs_school[member], position[member], seats_r[member]
        cell = j * n_grades + instance.grade[s]
        cells, cell_of_pair = np.unique(cell, return_inverse=True)
        filled = model.add_variables(
            f"reserve_filled_{name}",
            len(cells),
            0,
            instance.capacity.reshape(-1)[cells],
            _cell_labels(sids, cells, n_grades, name),
        )
        _filled_rows(instance, model, seats, r, name, cells, filled)
        x = pair_vars(seats, instance.n_schools, s, j)
        better_row, better_var = _better_options(instance, seats, s, pos)
        has_x = np.flatnonzero(x >= 0)
        rows = np.concatenate([better_row, has_x, np.arange(len(s))])
        cols = np.concatenate([better_var, x[has_x], filled + cell_of_pair])
        coefs = np.concatenate([cap[better_row], cap[has_x], np.ones(len(s), np.int64)])
        model.add_rows(
            rows_from_triplets(
                f"reserve_members_first_{name}",
                Role.SIDE,
                len(s),
                rows,
                cols,
                coefs,
                cap.astype(float),
                np.inf,
                _pair_labels(ids, sids, s, j),
                _members_first_units(instance, r, cell),
            )
        )


def _in_cell(instance: Instance, cell: int) -> str:
    """`SCH1` or `SCH1 in grade K`: a (school, grade) cell in words."""
    school, grade = divmod(int(cell), instance.capacity.shape[1])
    in_grade = f" in grade {instance.grades[grade]}" if instance.has_grades else ""
    return f"{instance.school_ids[school]}{in_grade}"


def _members_first_units(instance: Instance, r: int, cell: np.ndarray) -> HardUnits:
    """Each reserve at each (school, grade) is one rule instance a planner can be told about (the
    explanation of an infeasible program, solver/explain/infeasibility.py)."""
    name = instance.reserve_names[r]
    n_grades = instance.capacity.shape[1]

    def describe(unit: int) -> str:
        seats = int(instance.reserve_seats[unit // n_grades, unit % n_grades, r])
        return f"the {seats} seats of {_in_cell(instance, unit)} reserved for {name} go to its members first"

    return HardUnits("data.reserves", cell, describe)


def _cell_units(instance: Instance, cell: np.ndarray, stable: bool) -> HardUnits | None:
    """The block rows' rule instance, by cell: under `hold` alone, the slot-by-slot seating; under
    stability without `hold`, no justified envy there (as rules/stability.py says it). Under both,
    the same rows say both, and stay out of the explanation's switches."""
    if stable and instance.reserve_hold:
        return None
    if stable:
        return HardUnits(
            "stability.mode",
            cell,
            lambda unit: (
                f"nobody who lists {_in_cell(instance, unit)} is kept out of it while its choice "
                f"(reserves by precedence) would take them"
            ),
        )
    return HardUnits(
        "data.reserves",
        cell,
        lambda unit: (
            f"{_in_cell(instance, unit)} seats students slot by slot in precedence order, and a reserved "
            f"seat no member takes stays empty (reserves.unfilled: hold)"
        ),
    )


def _cell_labels(sids: np.ndarray, cells: np.ndarray, n_grades: int, name: str) -> Labeller:
    return lambda c: f"school={sids[cells[c] // n_grades]},reserve={name}"


def _pair_labels(ids: np.ndarray, sids: np.ndarray, s: np.ndarray, j: np.ndarray) -> Labeller:
    return lambda e: f"student={ids[s[e]]},school={sids[j[e]]}"


def _filled_rows(
    instance: Instance, model: Formulation, seats: Seats, r: int, name: str, cells: np.ndarray, filled: int
) -> None:
    """filled[cell] = members of reserve r placed at the cell (through their lists or compacts)."""
    n_grades = instance.capacity.shape[1]
    member = instance.is_member(r, seats.student, seats.school)
    cell = seats.school * n_grades + instance.grade[seats.student]
    at = np.searchsorted(cells, cell)
    at = np.minimum(at, len(cells) - 1)
    use = member & (cells[at] == cell)
    rows = np.concatenate([at[use], np.arange(len(cells))])
    cols = np.concatenate([seats.var[use], filled + np.arange(len(cells))])
    coefs = np.concatenate([np.ones(int(use.sum()), np.int64), -np.ones(len(cells), np.int64)])
    sids = instance.school_ids
    model.add_rows(
        rows_from_triplets(
            f"reserve_filled_{name}",
            Role.SIDE,
            len(cells),
            rows,
            cols,
            coefs,
            0,
            0,
            lambda c: f"school={sids[cells[c] // n_grades]}",
        )
    )
    model.derived.append(
        (
            filled + np.arange(len(cells)),
            lambda values: np.bincount(at[use], weights=values[seats.var[use]], minlength=len(cells)).astype(np.int64),
        )
    )


@dataclass(frozen=True)
class _BlockRows:
    """The (pair, block) entries of the stability rows: one row for every listed pair and every block
    its student may sit in; a block variable only where the pair has a placement variable (a pair
    another rule closes still envies, and still needs its row)."""

    pair: np.ndarray  # pair index of each entry
    step: np.ndarray  # block of each entry
    group: np.ndarray  # its (cell, block): cell · K + block
    cell: np.ndarray  # its (school, grade) cell: school · G + grade
    seats: np.ndarray  # the block's seats
    placed: np.ndarray  # whether the entry has a block variable
    sequence: np.ndarray  # the entries in each block's order (members first, then the key)
    previous: np.ndarray  # the variable entry just ahead in its block's order, -1 for none


def _block_rows(
    instance: Instance, j: np.ndarray, s: np.ndarray, key: np.ndarray, x: np.ndarray, stable: bool
) -> _BlockRows:
    """Every (pair, block) entry the rows need: under stability every block a pair's student may sit
    in; otherwise (hold) only those of pairs the model can place."""
    blocks = slot_blocks(instance)
    n_pairs, n_steps = len(s), blocks.capacity.shape[1]
    cell = j * instance.capacity.shape[1] + instance.grade[s]
    member = memberships(instance, s, j)
    is_member = np.ones((n_pairs, n_steps), bool)
    if len(member):
        for k in range(n_steps):
            r = blocks.reserve[j, k]
            is_member[:, k] = np.where(r >= 0, member[np.maximum(r, 0), np.arange(n_pairs)], True)
    cap = blocks.capacity[cell]  # (n_pairs, K)
    may_sit = (is_member if instance.reserve_hold else np.ones_like(is_member)) & (cap > 0)
    if not stable:
        may_sit &= (x >= 0)[:, None]
    pair, step = np.nonzero(may_sit)
    placed = x[pair] >= 0
    group = cell[pair] * n_steps + step
    sequence = np.lexsort((key[pair], ~is_member[pair, step], group))
    # The last entry with a variable strictly ahead of each entry in its group.
    n = len(pair)
    ordered_group = group[sequence]
    start = np.ones(n, bool)
    start[1:] = ordered_group[1:] != ordered_group[:-1]
    with_var = np.where(placed[sequence], np.arange(n), -1)
    last_var = np.maximum.accumulate(with_var)
    # restart at each group: positions before the group's first variable have none
    group_start = np.maximum.accumulate(np.where(start, np.arange(n), 0))
    last_var = np.where(last_var >= group_start, last_var, -1)
    ahead = np.full(n, -1, np.int64)
    ahead[1:] = np.where(start[1:], -1, last_var[:-1])
    previous = np.full(n, -1, np.int64)
    previous[sequence] = np.where(ahead >= 0, sequence[np.maximum(ahead, 0)], -1)
    return _BlockRows(pair, step, group, cell[pair], cap[pair, step], placed, sequence, previous)


def _block_rows_of(instance: Instance, config: Config, model: Formulation, seats: Seats, stable: bool) -> None:
    """The blocks' variables and comb rows (see the module's docstring): for every student placed
    (`hold`: the school's choice seats them all), and under stability for every applicant too."""
    pairs = listed_pairs(instance, config)
    keep = pairs.seats > 0
    s, j, pos, key = pairs.student[keep], pairs.school[keep], pairs.position[keep], pairs.key[keep]
    if not len(s):
        return
    x = pair_vars(seats, instance.n_schools, s, j)
    entries = _block_rows(instance, j, s, key, x, stable)
    if not len(entries.pair):
        # No block any listed student may sit in: nobody is placed through a list at these cells.
        _block_assignment_rows(model, x, entries.pair, 0, entries.group, entries.seats)
        return
    ids, sids = instance.student_ids, instance.school_ids
    pair, step = entries.pair, entries.step
    label = lambda i: f"student={ids[s[pair[i]]]},school={sids[j[pair[i]]]},block={step[i]}"  # noqa: E731
    # Variables (block seat y, running sum) for the entries with a placement variable only.
    with_var = np.flatnonzero(entries.placed)
    var_of = np.full(len(pair), -1, np.int64)
    y = model.add_variables("reserve_block", len(with_var), 0, 1, lambda v: label(int(with_var[v])))
    var_of[with_var] = np.arange(len(with_var))
    _block_assignment_rows(model, x, pair[with_var], y, entries.group[with_var], entries.seats[with_var])
    total = _block_running_sums(model, entries, with_var, var_of, y, label)
    _comb_rows(model, instance, seats, entries, (s, pos, x), (y, total, var_of), label, stable)
    model.derived.insert(
        0, (y + np.arange(len(with_var)), _block_values(instance, config, s, j, x, pair[with_var], step[with_var]))
    )


def _block_running_sums(
    model: Formulation, entries: _BlockRows, with_var: np.ndarray, var_of: np.ndarray, y: int, label: Labeller
) -> int:
    """through[e] = through[the variable entry ahead of e] + y[e], down each block's order."""
    n_y = len(with_var)
    previous = entries.previous[with_var]
    total = model.add_variables(
        "reserve_block_through", n_y, 0, entries.seats[with_var], lambda v: label(int(with_var[v]))
    )
    has = np.flatnonzero(previous >= 0)
    rows = np.concatenate([np.arange(n_y), has, np.arange(n_y)])
    cols = np.concatenate([total + np.arange(n_y), total + var_of[previous[has]], y + np.arange(n_y)])
    coefs = np.concatenate([np.ones(n_y), -np.ones(len(has)), -np.ones(n_y)]).astype(np.int64)
    model.add_rows(
        rows_from_triplets(
            "reserve_block_chain", Role.RUNNING_SUM, n_y, rows, cols, coefs, 0, 0, lambda v: label(int(with_var[v]))
        )
    )
    # The variable entries in their blocks' order, and where each block's run of them starts.
    in_order = var_of[entries.sequence]
    sequence = in_order[in_order >= 0]
    same = np.zeros(n_y, bool)
    if n_y:
        group = entries.group[with_var][sequence]
        same[1:] = group[1:] == group[:-1]
    model.derived.append((total + np.arange(n_y), _running(y, sequence, same, n_y)))
    return total


def _comb_rows(
    model: Formulation,
    instance: Instance,
    seats: Seats,
    entries: _BlockRows,
    student_side: tuple[np.ndarray, np.ndarray, np.ndarray],
    variables: tuple[int, int, np.ndarray],
    label: Labeller,
    stable: bool,
) -> None:
    """One row per entry: ahead (the running sum just ahead) + cap·(atleast_before + Σ_{b' ≤ b} y) ≥ cap
    under stability; without it (hold: only the students placed), ahead + cap·(Σ_{b' ≤ b} y − x) ≥ 0."""
    s, pos, x = student_side
    y, total, var_of = variables
    pair, step, c = entries.pair, entries.step, entries.seats
    n_rows, n_pairs = len(pair), len(s)
    rows, cols, coefs = [], [], []
    has_prev = np.flatnonzero(entries.previous >= 0)
    rows.append(has_prev)
    cols.append(total + var_of[entries.previous[has_prev]])
    coefs.append(np.ones(len(has_prev), np.int64))
    if stable:
        # atleast_before of the pair, on every one of its rows
        better_row, better_var = _better_options(instance, seats, s, pos)
        by_pair = np.argsort(pair, kind="stable")
        first = np.searchsorted(pair[by_pair], np.arange(n_pairs + 1))
        count = np.diff(first)[better_row]
        repeat = np.repeat(np.arange(len(better_row)), count)
        offset = np.arange(len(repeat)) - np.repeat(np.cumsum(count) - count, count)
        target = by_pair[first[better_row[repeat]] + offset]
        rows.append(target)
        cols.append(better_var[repeat])
        coefs.append(c[target])
    else:
        # − cap·x: the row binds only for a student placed at the school
        rows.append(np.arange(n_rows))
        cols.append(x[pair])
        coefs.append(-c)
    # the pair's own block variables up to this block
    n_steps = int(step.max()) + 1
    row_of = _y_of(pair, step, n_pairs, n_steps)
    own = np.flatnonzero(var_of >= 0)
    for later in range(n_steps):
        at = row_of[pair[own], later]
        ok = (at >= 0) & (step[own] <= later)
        rows.append(at[ok])
        cols.append(y + var_of[own[ok]])
        coefs.append(c[at[ok]])
    model.add_rows(
        rows_from_triplets(
            "reserve_no_justified_envy" if stable else "reserve_seated_in_order",
            Role.COMB,
            n_rows,
            np.concatenate(rows),
            np.concatenate(cols),
            np.concatenate(coefs),
            c.astype(float) if stable else 0.0,
            np.inf,
            label,
            _cell_units(instance, entries.cell, stable),
        )
    )


def _y_of(pair_of: np.ndarray, step_of: np.ndarray, n_pairs: int, n_steps: int) -> np.ndarray:
    """(n_pairs, K) the block variable's offset of each pair and step, -1 where there is none."""
    out = np.full((n_pairs, n_steps), -1, np.int64)
    out[pair_of, step_of] = np.arange(len(pair_of))
    return out


def _block_assignment_rows(
    model: Formulation, x: np.ndarray, pair: np.ndarray, y: int, group: np.ndarray, seats: np.ndarray
) -> None:
    """x[e] = Σ_b y[e, b] (a placement sits in one block), and each block's seats."""
    with_x = np.flatnonzero(x >= 0)
    n_y = len(pair)
    rows = np.concatenate([with_x, pair])
    cols = np.concatenate([x[with_x], y + np.arange(n_y)])
    coefs = np.concatenate([np.ones(len(with_x), np.int64), -np.ones(n_y, np.int64)])
    model.add_rows(
        rows_from_triplets("reserve_block_placed", Role.SIDE, len(x), rows, cols, coefs, 0, 0, lambda e: f"pair={e}")
    )
    groups, row = np.unique(group, return_inverse=True)
    bound = np.zeros(len(groups), np.int64)
    bound[row] = seats
    model.add_rows(
        rows_from_triplets(
            "reserve_block_seats",
            Role.SIDE,
            len(groups),
            row,
            y + np.arange(n_y),
            np.ones(n_y, np.int64),
            -np.inf,
            bound.astype(float),
            lambda g: f"block={groups[g]}",
        )
    )


def _running(y: int, sequence: np.ndarray, same: np.ndarray, n_y: int) -> Any:
    def compute(values: np.ndarray) -> np.ndarray:
        step = values[y + sequence]
        total = np.cumsum(step)
        first = ~same
        base = np.maximum.accumulate(np.where(first, np.arange(n_y), 0))
        before = np.concatenate([[0], total[:-1]])
        out = np.empty(n_y, np.int64)
        out[sequence] = total - before[base]
        return out

    return compute


def _block_values(
    instance: Instance,
    config: Config,
    s: np.ndarray,
    j: np.ndarray,
    x: np.ndarray,
    pair_of: np.ndarray,
    step_of: np.ndarray,
) -> Any:
    """The block variables of a placement: the block the school's choice seats each student in."""

    def compute(values: np.ndarray) -> np.ndarray:
        placed = (x >= 0) & (values[np.maximum(x, 0)] > 0)
        index = np.flatnonzero(placed)
        step = choose(instance, config, s[index], j[index])
        at = np.full(len(s), -1, np.int64)
        at[index] = step
        return (at[pair_of] == step_of).astype(np.int64)

    return compute
