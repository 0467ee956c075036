"""Oracles for explanations (issue 14).

- Costs: on tiny random cases, the price `explain` reports for placing a student at a school it
  listed higher is the brute-force optimum with that placement forced, minus the brute-force optimum
  (tests/oracles/contract.py, written apart from the solver); a "rule" reason means brute force finds
  no assignment at all with that placement.
- Cutoffs: on random deferred-acceptance runs, a student is placed at school j exactly when j is the
  first school on its list that is not full or whose cutoff it reaches — keys compared here from the
  raw CSV values, not the solver's order.
- Infeasible sets: on generated infeasible instances (stability hard with competing compacts;
  families hard with seats split), the reported set of rule instances is infeasible and every
  one-smaller subset is feasible, both by brute force over every assignment with each rule instance
  checked from its definition.
"""

from __future__ import annotations

import csv
import itertools
import math
import random
from pathlib import Path

import numpy as np
import pytest

from seatplan.models.data import load_inputs
from seatplan.models.formulation import build_model
from seatplan.solver.explain.cutoffs import cutoffs
from seatplan.solver.explain.infeasibility import coarse_conflict, fine_conflict, without_compacts
from seatplan.solver.explain.reasons import Explainer
from seatplan.solver.runfolder import read_run
from seatplan.solver.solve import solve
from tests.conftest import settings_for
from tests.oracles.contract import assignments, breaches, cost, true_minimum
from tests.oracles.instances import TINY, Source, random_case

# ---------------------------------------------------------------------------------------------
# costs against brute force


def forced_minimum(case, student: str, school: str) -> int | None:  # noqa: ANN001
    """The least cost of an assignment keeping every hard rule with `student` at `school`."""
    best = None
    for assignment in assignments(case):
        if assignment[student] != school or breaches(case, assignment):
            continue
        value = cost(case, assignment)
        best = value if best is None else min(best, value)
    return best


@pytest.mark.parametrize("seed", range(14))
def test_costs_equal_brute_force(seed: int, tmp_path: Path) -> None:
    case = random_case(Source(7000 + seed), TINY)
    config_path = case.write(tmp_path / "case")
    result = solve(settings_for(config_path, "cpsat"))
    assert result.status == "optimal"
    result.save(tmp_path / "run")
    run = read_run(tmp_path / "run")
    best, _, _ = true_minimum(case)
    explainer = Explainer(run, costs=True, time_limit=30)
    for index, sid in enumerate(run.instance.student_ids.tolist()):
        for reason in explainer.explain(index).reasons:
            school = str(run.instance.school_ids[reason.school])
            forced = forced_minimum(case, sid, school)
            context = f"{sid} at {school}: {reason}\n{case.describe()}"
            if reason.kind == "rule":
                assert forced is None, context
            else:
                assert reason.kind == "cost" and forced is not None, context
                assert not reason.cost_is_bound, context
                assert reason.cost is not None and round(reason.cost * 100) == forced - best, context
                assert reason.cost >= 0, context


def test_costs_oracle_can_tell(tmp_path: Path) -> None:
    """A case where a price is known by hand: two students, one seat at A, both list A first; the
    plan places S1 at A (lower lottery doesn't matter: the optimiser breaks ties) and S2 at B. Forcing
    S2 to A pushes S1 to B: one step down for S1, one up for S2 — price 0."""
    folder = tmp_path / "case"
    folder.mkdir()
    (folder / "students.csv").write_text("student_id\nS1\nS2\n")
    (folder / "schools.csv").write_text("school_id,capacity\nA,1\nB,1\nC,1\n")
    (folder / "preferences.csv").write_text("student_id,school_id,rank\nS1,A,1\nS1,C,2\nS2,A,1\nS2,B,2\n")
    (folder / "config.yaml").write_text(
        "name: hand\ndata: {students: students.csv, schools: schools.csv, preferences: preferences.csv}\n"
        "objective: {rank: 1, unassigned: 100}\n"
    )
    result = solve(settings_for(folder / "config.yaml", "cpsat"))
    result.save(tmp_path / "run")
    run = read_run(tmp_path / "run")
    explainer = Explainer(run, costs=True, time_limit=30)
    loser = int(np.flatnonzero(run.position == 2)[0])
    (reason,) = explainer.explain(loser).reasons
    assert reason.kind == "cost" and reason.cost == 0.0 and not reason.cost_is_bound


# ---------------------------------------------------------------------------------------------
# cutoffs of deferred acceptance


def school_choice_case(rng: random.Random, folder: Path) -> Path:
    """A random school-choice district: lists, seats, priorities, a lottery column."""
    folder.mkdir(parents=True, exist_ok=True)
    n_students, n_schools = rng.randint(4, 30), rng.randint(2, 5)
    schools = [f"J{j}" for j in range(n_schools)]
    lottery = rng.sample(range(1, 10 * n_students + 1), n_students)
    with (folder / "students.csv").open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["student_id", "lottery"])
        writer.writerows([[f"S{s}", lottery[s]] for s in range(n_students)])
    with (folder / "schools.csv").open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["school_id", "capacity"])
        writer.writerows([[j, rng.randint(0, max(1, n_students // n_schools))] for j in schools])
    prefs, priorities = [], []
    for s in range(n_students):
        for rank, j in enumerate(rng.sample(schools, rng.randint(1, n_schools)), start=1):
            prefs.append([f"S{s}", j, rank])
            if rng.random() < 0.3:
                priorities.append([f"S{s}", j, rng.randint(1, 2)])
    with (folder / "preferences.csv").open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["student_id", "school_id", "rank"])
        writer.writerows(prefs)
    with (folder / "priorities.csv").open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["student_id", "school_id", "priority"])
        writer.writerows(priorities)
    (folder / "config.yaml").write_text(
        "name: choice\nmechanism: deferred_acceptance\n"
        "data: {students: students.csv, schools: schools.csv, preferences: preferences.csv, "
        "priorities: priorities.csv}\n"
    )
    return folder / "config.yaml"


def read_rows(path: Path) -> list[dict[str, str]]:
    with path.open() as handle:
        return list(csv.DictReader(handle))


@pytest.mark.parametrize("seed", range(40))
def test_da_placement_is_the_first_school_whose_cutoff_it_reaches(seed: int, tmp_path: Path) -> None:
    config_path = school_choice_case(random.Random(seed), tmp_path / "case")
    config, instance = load_inputs(config_path)
    solve(config, instance=instance).save(tmp_path / "run")
    run = read_run(tmp_path / "run")
    table = cutoffs(run)
    data = tmp_path / "case"
    lottery = {row["student_id"]: int(row["lottery"]) for row in read_rows(data / "students.csv")}
    seats = {row["school_id"]: int(row["capacity"]) for row in read_rows(data / "schools.csv")}
    priority = {(r["student_id"], r["school_id"]): int(r["priority"]) for r in read_rows(data / "priorities.csv")}
    lists: dict[str, list[str]] = {}
    for row in sorted(read_rows(data / "preferences.csv"), key=lambda r: int(r["rank"])):
        lists.setdefault(row["student_id"], []).append(row["school_id"])
    placed = {row["student_id"]: row["school_id"] for row in read_rows(tmp_path / "run" / "assignment.csv")}
    school_index = {str(j): k for k, j in enumerate(run.instance.school_ids)}
    for student, listed in lists.items():
        expected = ""
        for school in listed:
            if seats[school] == 0:
                continue
            cutoff = table.cutoff(school_index[school], 0)
            if cutoff is None:
                assert not table.full[school_index[school], 0]
                expected = school
                break
            mine = (-priority.get((student, school), 0), lottery[student])
            if mine <= (-cutoff["priority"], cutoff["lottery"]):
                expected = school
                break
        assert placed[student] == expected, (student, listed, placed[student], expected)


# ---------------------------------------------------------------------------------------------
# infeasible sets against brute force


def brute_force_holds(instance, config, keep: set[tuple[str, int]]) -> bool:  # noqa: ANN001
    """Whether some assignment keeps every rule instance in `keep` (and the seats, and the compact
    rule), every other hard rule instance relaxed. Each instance checked from its definition:
    ("stability.mode", cell or compact unit), ("families.together", family), ("compacts.max_share", school)."""
    n, n_grades = instance.n_students, len(instance.grades)
    n_cells = instance.n_schools * n_grades
    lists = [instance.pref_school[instance.pref_start[s] : instance.pref_start[s + 1]].tolist() for s in range(n)]
    compact = instance.compact_of_student.tolist()
    compact_school = instance.compact_school.tolist()
    members = instance.compact_members()
    sizes = [len(m) for m in members]
    cap = instance.total_capacity
    limit = [math.floor(config.compacts.max_share * int(cap[j]) / 100) for j in range(instance.n_schools)]
    lottery = instance.lottery_rank.tolist()

    def key(s: int, j: int) -> tuple[int, int]:
        return (-int(instance.priority(np.array([s]), np.array([j]))[0]), lottery[s])

    for honored in itertools.product([False, True], repeat=instance.n_compacts):
        choices = []
        for s in range(n):
            c = compact[s]
            if c >= 0 and honored[c]:
                choices.append([compact_school[c]])
            else:
                own = [j for j in lists[s] if not (c >= 0 and j == compact_school[c])]
                choices.append([-1, *own])
        for school in itertools.product(*choices):
            load = np.zeros((instance.n_schools, n_grades), dtype=int)
            for s, j in enumerate(school):
                if j >= 0:
                    load[j, instance.grade[s]] += 1
            if (load > instance.capacity).any():
                continue
            through = [compact[s] >= 0 and honored[compact[s]] for s in range(n)]
            if not _keeps(instance, keep, school, through, honored, sizes, limit, key, n_cells, lists):
                continue
            return True
    return False


def _keeps(instance, keep, school, through, honored, sizes, limit, key, n_cells, lists) -> bool:  # noqa: ANN001
    n_grades = len(instance.grades)
    for kind, unit in keep:
        if kind == "families.together":
            placed = {school[s] for s in range(instance.n_students) if instance.family[s] == unit}
            if len(placed) > 1:
                return False
        elif kind == "compacts.max_share":
            taken = sum(
                sizes[c] for c in range(instance.n_compacts) if honored[c] and instance.compact_school[c] == unit
            )
            if taken > limit[unit]:
                return False
    for s in range(instance.n_students):
        if through[s]:
            continue
        own = lists[s].index(school[s]) if school[s] in lists[s] else len(lists[s])
        for j in lists[s][:own]:
            c = instance.compact_of_student[s]
            unit = n_cells + c if c >= 0 and instance.compact_school[c] == j else j * n_grades + instance.grade[s]
            if ("stability.mode", unit) not in keep:
                continue
            seats = instance.capacity[j, instance.grade[s]]
            if seats == 0:
                continue
            here = [t for t in range(instance.n_students) if school[t] == j and instance.grade[t] == instance.grade[s]]
            if len(here) < seats or any(not through[t] and key(t, j) > key(s, j) for t in here):
                return False
    return True


def competing_compacts(rng: random.Random, folder: Path) -> Path:
    """Two compacts at one school, only one of which fits its share; a few other students; stability hard."""
    folder.mkdir(parents=True, exist_ok=True)
    students = [("A1", "FA"), ("A2", "FA2"), ("B1", "FB"), ("B2", "FB2")]
    others = [(f"O{k}", f"FO{k}") for k in range(rng.randint(0, 2))]
    rows = students + others
    (folder / "students.csv").write_text(
        "student_id,family_id,lottery\n"
        + "".join(f"{s},{f},{k + 1}\n" for k, (s, f) in enumerate(rng.sample(rows, len(rows))))
    )
    (folder / "schools.csv").write_text(
        f"school_id,capacity,under_selected\nX,{rng.randint(2, 3)},true\nY,{rng.randint(1, 3)},false\n"
    )
    prefs = ["student_id,school_id,rank"]
    for s, _ in students:
        prefs.append(f"{s},X,1")
        if rng.random() < 0.5:
            prefs.append(f"{s},Y,2")
    for s, _ in others:
        prefs += [f"{s},{j},{r}" for r, j in enumerate(rng.sample(["X", "Y"], rng.randint(1, 2)), start=1)]
    (folder / "preferences.csv").write_text("\n".join(prefs) + "\n")
    (folder / "compacts.csv").write_text("compact_id,family_id,school_id\nKA,FA,X\nKA,FA2,X\nKB,FB,X\nKB,FB2,X\n")
    (folder / "config.yaml").write_text(
        "name: compete\ndata: {students: students.csv, schools: schools.csv, preferences: preferences.csv, "
        "compacts: compacts.csv}\ncompacts: {max_share: 70}\nstability: {mode: hard}\n"
        "objective: {broken_compact: 10}\n"
    )
    return folder / "config.yaml"


def split_family(rng: random.Random, folder: Path) -> Path:
    """Siblings who all want one school with too few seats for them all; stability and families hard."""
    folder.mkdir(parents=True, exist_ok=True)
    kids = rng.randint(2, 3)
    seats = rng.randint(1, kids - 1)
    rows = [(f"K{k}", "F") for k in range(kids)] + [(f"O{k}", f"G{k}") for k in range(rng.randint(0, 2))]
    (folder / "students.csv").write_text("student_id,family_id\n" + "".join(f"{s},{f}\n" for s, f in rows))
    (folder / "schools.csv").write_text(f"school_id,capacity\nX,{seats}\nY,{rng.randint(1, 3)}\n")
    prefs = ["student_id,school_id,rank"] + [f"K{k},X,1" for k in range(kids)]
    for s, _family in rows[kids:]:
        prefs += [f"{s},{j},{r}" for r, j in enumerate(rng.sample(["X", "Y"], rng.randint(1, 2)), start=1)]
    (folder / "preferences.csv").write_text("\n".join(prefs) + "\n")
    (folder / "config.yaml").write_text(
        "name: split\ndata: {students: students.csv, schools: schools.csv, preferences: preferences.csv}\n"
        "stability: {mode: hard}\nfamilies: {together: hard}\n"
    )
    return folder / "config.yaml"


@pytest.mark.parametrize(
    ("make", "seed"), [(competing_compacts, s) for s in range(10)] + [(split_family, s) for s in range(6)]
)
def test_infeasible_sets_are_minimal(make, seed: int, tmp_path: Path) -> None:  # noqa: ANN001
    config, instance = load_inputs(make(random.Random(seed), tmp_path / "case"))
    everything = _all_units(config, instance)
    if brute_force_holds(instance, config, set(everything.values())):
        pytest.skip("this draw is feasible")
    status, conflict = fine_conflict(config, instance, 30.0, [])
    assert status == "infeasible" and conflict is not None and conflict.minimal
    chosen = {everything[(rule.key, rule.unit)] for rule in conflict.rules}
    assert not brute_force_holds(instance, config, chosen)
    for dropped in chosen:
        assert brute_force_holds(instance, config, chosen - {dropped}), dropped


def _all_units(config, instance) -> dict[tuple[str, str], tuple[str, int]]:  # noqa: ANN001
    """(key, words) of every rule instance the switched program has -> (key, unit) for brute force."""
    model = build_model(instance, config)
    out = {}
    for block in model.formulation.rows:
        if block.hard is not None:
            for unit in np.unique(block.hard.of_row).tolist():
                out[(block.hard.key, block.hard.describe(int(unit)))] = (block.hard.key, int(unit))
    return out


def _coarse_holds(config, instance, rules) -> bool:  # noqa: ANN001
    """Brute force on the config and data with only the reported settings and compacts kept."""
    keys = {rule.key for rule in rules}
    kept_compacts = {c for c in range(instance.n_compacts) if any(f" {instance.compact_ids[c]}" in key for key in keys)}
    smaller = without_compacts(instance, set(range(instance.n_compacts)) - kept_compacts)
    everything = _all_units(config, smaller)
    keep = set()
    for kind, unit in everything.values():
        if (
            (kind == "stability.mode" and "stability.mode" in keys)
            or (kind == "families.together" and "families.together" in keys)
            or kind == "compacts.max_share"
            and "compacts.max_share" in keys
        ):
            keep.add((kind, unit))
    return brute_force_holds(smaller, config, keep)


@pytest.mark.parametrize(("make", "seed"), [(competing_compacts, s) for s in range(6)] + [(split_family, 0)])
def test_coarse_sets_are_minimal(make, seed: int, tmp_path: Path) -> None:  # noqa: ANN001
    """The search by whole settings and compacts (used when the one by unit does not settle)."""
    config, instance = load_inputs(make(random.Random(seed), tmp_path / "case"))
    if brute_force_holds(instance, config, set(_all_units(config, instance).values())):
        pytest.skip("this draw is feasible")
    conflict = coarse_conflict(config, instance, 60.0)
    assert conflict is not None and conflict.minimal
    assert not _coarse_holds(config, instance, conflict.rules)
    for rule in conflict.rules:
        assert _coarse_holds(config, instance, [other for other in conflict.rules if other is not rule]), rule.key
