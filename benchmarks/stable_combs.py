"""Issue 18, stable plans with compacts: how close the LP relaxation comes once the stable
placements are described exactly — Baïou and Balinski's comb inequalities (The stable admissions
polytope, 2000), separated round by round — with the compacts free, and with them fixed as in a
given assignment. A measurement, not a solver: every number it prints is an LP value, not a proof.

    python -m benchmarks.stable_combs --instance district_stable --seed 2 [--fix RUN/assignment.csv]

A comb at school j (grade g, q seats) with base s: its *shaft* is every student j ranks at s or above,
placed at j; its *teeth* are q of those students, each counting its placements strictly above j on
its own list (or through its compact). In a stable assignment either every tooth student is at j or
better — q of them, each counted once — or one is not, and then j is full with students it ranks
above it: the shaft holds q. So shaft + teeth ≥ q; the model's own rows (rules/stability.py) are the
comb whose q teeth are all s itself, much weaker in the LP.

Compact seats at j take part of q: with the set S of j's compacts honored (v(S) seats), the comb of
the market without those seats needs q − v(S) teeth. For compacts not fixed, each S gives the row
    shaft + Σ_{q − v(S) teeth} ≥ (q − v(S)) · L_S,   L_S = Σ_{c∈S} y_c − Σ_{c∉S} y_c + 1 − |S|
(L_S ≤ [exactly S honored] for whole y, so the row holds for every stable assignment). With the
compacts fixed, L_S is 1 for the one S that holds: the comb of that market, exact.
For each base the q teeth with the least value are the most violated choice.
"""

from __future__ import annotations

import argparse
import heapq
import itertools
import json
import sys
import time
from dataclasses import dataclass, replace
from pathlib import Path

import highspy
import numpy as np
import pandas as pd

from benchmarks.instances import INSTANCES
from seatplan.models.config import load_config
from seatplan.models.data import load_instance
from seatplan.models.formulation import Model, build_model
from seatplan.models.instance import Instance
from seatplan.models.ir import Formulation
from seatplan.models.rules.base import pair_vars
from seatplan.models.school_order import listed_pairs
from seatplan.solver.lp import _Master
from seatplan.solver.pipeline import stable_window

#: Combs added per school (and grade) and compact set in one round, their bases at least this far apart.
PER_GROUP, APART = 8, 5


@dataclass(frozen=True)
class Pairs:
    """The listed pairs with seats (as rules/stability.py builds its rows), in each school's order."""

    option: np.ndarray  # the pair's placement variable, -1 if none
    at_least: np.ndarray  # the running-sum variable "j or better" of the pair
    own_compact: np.ndarray  # the compact variable of the student's compact, -1 if none
    seats: np.ndarray
    groups: list[np.ndarray]  # per (school, grade): its pairs, best-ranked first
    compacts: dict[int, list[tuple[int, int]]]  # (school, grade) → [(compact variable, members in grade)]
    group_of: np.ndarray  # (school, grade) of each group


def stable_pairs(model: Model, instance: Instance, config: object) -> Pairs:
    pairs = listed_pairs(instance, config)  # type: ignore[arg-type]
    keep = pairs.seats > 0
    student, school, seats, key = pairs.student[keep], pairs.school[keep], pairs.seats[keep], pairs.key[keep]
    n_grades = len(instance.grades)
    group = school * n_grades + instance.grade[student]
    formulation = model.formulation
    at_least = next(block.start for block in formulation.blocks if block.name == "at_least_as_good")
    compact = instance.compact_of_student[student]
    own = np.where(compact >= 0, model.seats.compact_start + compact, -1)
    compacts: dict[int, list[tuple[int, int]]] = {}
    members = instance.compact_members() if instance.n_compacts else []
    for c in range(instance.n_compacts):
        by_grade = np.bincount(instance.grade[members[c]], minlength=n_grades)
        for g in np.flatnonzero(by_grade):
            cell = int(instance.compact_school[c]) * n_grades + int(g)
            compacts.setdefault(cell, []).append((model.seats.compact_start + c, int(by_grade[g])))
    order = np.lexsort((key, group))
    cuts = np.flatnonzero(np.r_[True, group[order][1:] != group[order][:-1], True])
    groups = [order[a:b] for a, b in itertools.pairwise(cuts)]
    return Pairs(
        option=pair_vars(model.seats, instance.n_schools, student, school),
        at_least=at_least + np.arange(len(student)),
        own_compact=own,
        seats=seats,
        groups=groups,
        compacts=compacts,
        group_of=np.array([group[g[0]] for g in groups], dtype=np.int64),
    )


@dataclass(frozen=True)
class Row:
    columns: dict[int, float]
    lower: float


def separate(pairs: Pairs, x: np.ndarray, disjunctive: bool) -> tuple[list[Row], float]:
    """The most violated combs of the LP point `x`; and the largest violation."""
    placed = np.where(pairs.option >= 0, x[np.maximum(pairs.option, 0)], 0.0)
    own = np.where(pairs.own_compact >= 0, x[np.maximum(pairs.own_compact, 0)], 0.0)
    tooth = x[pairs.at_least] - placed + own  # placements strictly above j, or through the compact
    rows: list[Row] = []
    worst = 0.0
    for members, cell in zip(pairs.groups, pairs.group_of, strict=True):
        seats = int(pairs.seats[members[0]])
        compacts = pairs.compacts.get(int(cell), [])
        for honored in _compact_sets(compacts, disjunctive):
            scale = _comb_scale(compacts, honored, seats, x, disjunctive)
            if scale.need <= 0 or scale.target <= 1e-6:
                continue
            for violation, base, teeth in _violated(members, placed, tooth, scale.need, scale.target):
                worst = max(worst, violation)
                rows.append(_row(pairs, members[: base + 1], teeth, scale))
    return rows, worst


def _compact_sets(compacts: list[tuple[int, int]], disjunctive: bool) -> list[tuple[int, ...]]:
    if not disjunctive:
        return [tuple(0 for _ in compacts)]
    return list(itertools.product((0, 1), repeat=len(compacts)))


@dataclass(frozen=True)
class _Scale:
    """One comb family at a school: the teeth it needs, what shaft + teeth must reach at the LP
    point, its compact terms (variable, coefficient on the left) and its right-hand side."""

    need: int
    target: float
    terms: list[tuple[int, float]]
    lower: float


def _comb_scale(
    compacts: list[tuple[int, int]], honored: tuple[int, ...], seats: int, x: np.ndarray, disjunctive: bool
) -> _Scale:
    if not disjunctive:
        # shaft + C + Σ_q teeth ≥ q: the compact seats on the left, q teeth.
        taken = sum(members * x[var] for var, members in compacts)
        return _Scale(seats, seats - taken, [(var, float(members)) for var, members in compacts], float(seats))
    taken = sum(members for (_, members), h in zip(compacts, honored, strict=True) if h)
    need = seats - taken
    weight = sum(x[var] if h else -x[var] for (var, _), h in zip(compacts, honored, strict=True)) + 1 - sum(honored)
    # shaft + teeth − need·(Σ_S y − Σ_notS y) ≥ need·(1 − |S|)
    terms = [(var, -float(need) if h else float(need)) for (var, _), h in zip(compacts, honored, strict=True)]
    return _Scale(need, need * weight, terms, float(need * (1 - sum(honored))))


def _violated(
    members: np.ndarray, placed: np.ndarray, tooth: np.ndarray, need: int, target: float
) -> list[tuple[float, int, list[int]]]:
    """Down the school's order: shaft so far + the `need` least teeth so far, against `target`."""
    shaft, total = 0.0, 0.0
    heap: list[tuple[float, int]] = []  # the least teeth so far, as a max-heap
    found: list[tuple[float, int, list[int]]] = []
    for k, pair in enumerate(members):
        shaft += placed[pair]
        value = tooth[pair]
        if len(heap) < need:
            heapq.heappush(heap, (-value, int(pair)))
            total += value
        elif value < -heap[0][0]:
            total += value + heapq.heapreplace(heap, (-value, int(pair)))[0]
        if len(heap) == need and target - (shaft + total) > 1e-3:
            found.append((target - (shaft + total), k, [p for _, p in heap]))
    found.sort(key=lambda item: -item[0])
    kept: list[tuple[float, int, list[int]]] = []
    for item in found:
        if len(kept) < PER_GROUP and all(abs(item[1] - other[1]) >= APART for other in kept):
            kept.append(item)
    return kept


def _row(pairs: Pairs, shaft: np.ndarray, teeth: list[int], scale: _Scale) -> Row:
    columns: dict[int, float] = {}

    def add(var: int, coef: float) -> None:
        columns[var] = columns.get(var, 0.0) + coef

    in_teeth = set(teeth)
    for pair in shaft:
        if pairs.option[pair] >= 0 and int(pair) not in in_teeth:
            add(int(pairs.option[pair]), 1.0)
    for pair in teeth:  # the tooth and its own placement at j (in the shaft) together: "j or better"
        add(int(pairs.at_least[pair]), 1.0)
        if pairs.own_compact[pair] >= 0:
            add(int(pairs.own_compact[pair]), 1.0)
    for var, coef in scale.terms:
        add(var, coef)
    return Row(columns, scale.lower)


def fixed_compacts(formulation: Formulation, model: Model, instance: Instance, assignment: Path) -> Formulation:
    """The compacts honored as in `assignment` (its compact_id column), the others broken."""
    honored = set(pd.read_csv(assignment, dtype=str)["compact_id"].dropna())
    lower, upper = formulation.lower.copy(), formulation.upper.copy()
    for c, name in enumerate(instance.compact_ids):
        lower[model.seats.compact_start + c] = upper[model.seats.compact_start + c] = int(name in honored)
    return replace(formulation, lower=lower, upper=upper)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--instance", default="district_stable")
    parser.add_argument("--seed", type=int, default=2)
    parser.add_argument("--fix", type=Path, help="an assignment.csv whose honored compacts are fixed")
    parser.add_argument("--plain", action="store_true", help="combs with the compact seats on the left only")
    parser.add_argument("--rounds", type=int, default=40)
    args = parser.parse_args(argv)
    started = time.perf_counter()
    config = load_config(INSTANCES[args.instance].config(args.seed))
    instance = load_instance(config)
    model = build_model(instance, config)
    window = stable_window(model, instance, config)
    formulation = model.formulation
    if window is not None:
        formulation = replace(formulation, upper=np.minimum(formulation.upper, window))
    if args.fix is not None:
        formulation = fixed_compacts(formulation, model, instance, args.fix)
    pairs = stable_pairs(model, instance, config)
    master = _Master(formulation, np.arange(formulation.n_vars))
    highs = master.highs
    highs.setOptionValue("threads", 2)
    highs.setOptionValue("solver", "simplex")
    record = {"instance": args.instance, "seed": args.seed, "fixed": str(args.fix or ""), "rounds": []}
    for round_ in range(args.rounds):
        highs.clearSolver()  # from scratch, with presolve: much faster here than the warm dual simplex
        highs.run()
        if highs.getModelStatus() != highspy.HighsModelStatus.kOptimal:
            print(f"round {round_}: {highs.getModelStatus()}", file=sys.stderr)
            break
        x = master.primal(np.asarray(highs.getSolution().col_value, dtype=float))
        value = float(highs.getInfo().objective_function_value) / 100
        placed = float(x[model.seats.var].sum())  # options, and each member on its compact's variable
        rows, worst = separate(pairs, x, disjunctive=not args.plain)
        seconds = time.perf_counter() - started
        print(f"round {round_}: LP {value:,.2f}, placed {placed:,.1f}, {len(rows)} combs added, {seconds:.1f} s")
        record["rounds"].append({"lp": value, "placed": placed, "combs": len(rows), "seconds": seconds})
        if not rows:
            break
        _add_rows(highs, rows)
    print(json.dumps(record))


def _add_rows(highs: highspy.Highs, rows: list[Row]) -> None:
    starts: list[int] = []
    indices: list[int] = []
    values: list[float] = []
    for row in rows:
        starts.append(len(indices))
        indices.extend(row.columns)
        values.extend(row.columns.values())
    highs.addRows(
        len(rows),
        np.array([row.lower for row in rows]),
        np.full(len(rows), highspy.kHighsInf),
        len(indices),
        np.array(starts, dtype=np.int32),
        np.array(indices, dtype=np.int32),
        np.asarray(values, dtype=np.float64),
    )


if __name__ == "__main__":
    main()
