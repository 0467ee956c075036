"""The flow oracle: without compacts and diversity the program is a transportation problem, so its
optimum is the optimum of a min-cost flow built here, from the CSV files alone.

The network (costs in cents, as the contract counts them):
    source → student            capacity 1, cost 0
    student → (school, grade)   capacity 1, for each listed school with a seat in its grade
                                (and, with hard clusters, in the home cluster or citywide), cost
                                100·w_rank·(position − 1) + w_distance·hundredths of a km
                                + 100·w_outside with soft clusters at a school of another cluster
    student → sink              capacity 1, cost 100·w_unassigned (staying unplaced)
    (school, grade) → sink      capacity = its seats
OR-Tools' SimpleMinCostFlow solves it; `cpsat` (thousands of students) and `pulp` (CBC, about a
thousand) must reach the same cost to the cent, with status `optimal`.
The instances come from the district generator (compacts off), with the config rewritten: no
compacts, no diversity, clusters as the case says, and seats squeezed so that some stay unplaced.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from ortools.graph.python import min_cost_flow

from seatplan.models.config import load_config
from seatplan.models.generate import DistrictSpec, write_district
from seatplan.solver.solve import solve
from tests.conftest import settings_for


@dataclass(frozen=True)
class FlowCase:
    backend: str
    students: int
    schools: int
    seed: int
    grades: tuple[str, ...] = ()
    clusters: str = "off"
    weights: tuple[int, int, int, int] = (
        1,
        100,
        0,
        0,
    )  # rank, unassigned, distance, outside_cluster
    squeeze: float = 0.9  # seats kept, as a share of the generated ones
    #: A diversity rule that can never bind (no student is in its category, band [0, 99]): its
    #: shortfall is always 0, so the flow optimum stands, but its rows take `cpsat` off its own
    #: min-cost-flow shortcut and through warm start + LP bound + CP-SAT.
    idle_rule: str | None = None  # None, "soft" or "hard"

    @property
    def id(self) -> str:
        grades = f"-grades{''.join(self.grades)}" if self.grades else ""
        rule = f"-idle_{self.idle_rule}_rule" if self.idle_rule else ""
        size = f"{self.students}x{self.schools}"
        return f"{self.backend}-{size}-seed{self.seed}{grades}-{self.clusters}{rule}"


CASES = [
    FlowCase("cpsat", 4000, 40, seed=1),
    FlowCase("cpsat", 3000, 30, seed=2, grades=("K", "1"), clusters="soft", weights=(2, 150, 1, 3)),
    FlowCase("cpsat", 5000, 50, seed=3, clusters="hard", weights=(1, 40, 2, 0), squeeze=0.8),
    FlowCase("cpsat", 3000, 30, seed=7, weights=(1, 100, 1, 0), idle_rule="soft"),
    FlowCase(
        "cpsat",
        2000,
        25,
        seed=8,
        grades=("K", "1"),
        clusters="soft",
        weights=(1, 80, 0, 2),
        idle_rule="hard",
    ),
    FlowCase("pulp", 1000, 15, seed=4, weights=(3, 100, 0, 0)),
    FlowCase(
        "pulp",
        800,
        12,
        seed=5,
        grades=("K", "1", "2"),
        clusters="soft",
        weights=(1, 60, 1, 5),
        squeeze=0.85,
    ),
    FlowCase("pulp", 900, 12, seed=6, clusters="hard", weights=(1, 100, 1, 0)),
    FlowCase("pulp", 3000, 30, seed=9, weights=(1, 100, 1, 0)),
    FlowCase("pulp", 1000, 15, seed=10, weights=(1, 100, 0, 0), idle_rule="soft"),
    FlowCase("pulp_highs", 2000, 20, seed=11, clusters="soft", weights=(1, 100, 1, 2)),
    FlowCase("highs", 2000, 20, seed=12, grades=("K", "1"), weights=(2, 100, 1, 0)),
]


def write_instance(case: FlowCase, folder: Path) -> Path:
    """A generated district with compacts and diversity dropped; returns the config path."""
    spec = DistrictSpec(
        students=case.students,
        schools=case.schools,
        clusters=max(2, case.schools // 8),
        seed=case.seed,
        compact_share=0.0,
        grades=case.grades,
    )
    path = write_district(spec, folder / "district")
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    document["data"].pop("compacts", None)
    document.pop("compacts", None)
    document.pop("diversity", None)
    if case.idle_rule:
        document["diversity"] = [
            {
                "attribute": "ses",
                "category": "nobody",
                "scope": "school",
                "band": [0, 99],
                "mode": case.idle_rule,
                **({"weight": 7} if case.idle_rule == "soft" else {}),
            }
        ]
    document["clusters"] = {"mode": case.clusters}
    rank, unassigned, distance, outside = case.weights
    document["objective"] = {
        "rank": rank,
        "unassigned": unassigned,
        "distance": distance,
        "broken_compact": 0,
        "outside_cluster": outside,
    }
    path.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")
    # squeeze the seats so that the unplaced arc is used
    key = "seats" if case.grades else "schools"
    table = pd.read_csv(folder / "district" / f"{key}.csv", dtype=str, keep_default_na=False)
    table["capacity"] = np.floor(table["capacity"].astype(int) * case.squeeze).astype(int)
    table.to_csv(folder / "district" / f"{key}.csv", index=False)
    return path


def haversine_hundredths(lat1: np.ndarray, lon1: np.ndarray, lat2: np.ndarray, lon2: np.ndarray) -> np.ndarray:
    """Great-circle km on a 6371.0 km sphere, rounded to 0.01 km, as integer hundredths."""
    phi1, phi2 = np.radians(lat1), np.radians(lat2)
    h = np.sin((phi2 - phi1) / 2) ** 2 + np.cos(phi1) * np.cos(phi2) * np.sin(np.radians(lon2 - lon1) / 2) ** 2
    km = 2 * 6371.0 * np.arcsin(np.sqrt(np.minimum(h, 1.0)))
    return np.floor(km * 100 + 0.5).astype(np.int64)


def flow_optimum(folder: Path, case: FlowCase) -> tuple[int, int]:
    """(least cost in cents, students placed) of the transportation problem, from the CSVs."""

    def read(name: str) -> pd.DataFrame:
        return pd.read_csv(folder / f"{name}.csv", dtype=str, keep_default_na=False)

    students, schools, prefs = read("students"), read("schools"), read("preferences")
    rank_w, unassigned_w, distance_w, outside_w = case.weights
    n = len(students)
    student_of = {s: i for i, s in enumerate(students["student_id"])}

    # positions: a student's list sorted by rank
    prefs = prefs.assign(rank=prefs["rank"].astype(int)).sort_values(["student_id", "rank"], kind="stable")
    prefs["position"] = prefs.groupby("student_id").cumcount() + 1

    # cells: (school, grade) with their seats
    if case.grades:
        seats = read("seats").assign(capacity=lambda t: t["capacity"].astype(int))
        student_grade = students["grade"]
    else:
        seats = schools[["school_id", "capacity"]].assign(grade="", capacity=lambda t: t["capacity"].astype(int))
        student_grade = pd.Series([""] * n)
    cell_of = {(j, g): c for c, (j, g) in enumerate(zip(seats["school_id"], seats["grade"], strict=True))}
    cell_seats = seats["capacity"].to_numpy()

    school = schools.set_index("school_id")
    arcs = prefs.merge(students.assign(grade=student_grade.to_numpy()), on="student_id")
    arcs = arcs.merge(school, left_on="school_id", right_index=True, suffixes=("", "_school"))
    cell = np.array([cell_of.get((j, g), -1) for j, g in zip(arcs["school_id"], arcs["grade"], strict=True)])
    keep = cell >= 0
    keep &= cell_seats[np.maximum(cell, 0)] > 0
    home, cluster = arcs["home_cluster"].to_numpy(), arcs["cluster"].to_numpy()
    outside = (home != "") & (cluster != "") & (home != cluster)
    if case.clusters == "hard":
        keep &= ~outside
    cost = 100 * rank_w * (arcs["position"].to_numpy() - 1)
    if distance_w:
        cost = cost + distance_w * haversine_hundredths(
            arcs["lat"].astype(float).to_numpy(),
            arcs["lon"].astype(float).to_numpy(),
            arcs["lat_school"].astype(float).to_numpy(),
            arcs["lon_school"].astype(float).to_numpy(),
        )
    if case.clusters == "soft":
        cost = cost + 100 * outside_w * outside
    arc_student = np.array([student_of[s] for s in arcs["student_id"]])[keep]
    arc_cell, arc_cost = cell[keep], np.asarray(cost)[keep]

    # nodes: 0 source, 1..n students, then cells, then the sink
    cells = len(cell_seats)
    sink = 1 + n + cells
    flow = min_cost_flow.SimpleMinCostFlow()
    tails = np.concatenate([np.zeros(n), 1 + np.arange(n), 1 + arc_student, 1 + n + np.arange(cells)])
    heads = np.concatenate([1 + np.arange(n), np.full(n, sink), 1 + n + arc_cell, np.full(cells, sink)])
    capacities = np.concatenate([np.ones(n), np.ones(n), np.ones(len(arc_cell)), cell_seats])
    costs = np.concatenate([np.zeros(n), np.full(n, 100 * unassigned_w), arc_cost, np.zeros(cells)])
    flow.add_arcs_with_capacity_and_unit_cost(
        tails.astype(np.int32),
        heads.astype(np.int32),
        capacities.astype(np.int64),
        costs.astype(np.int64),
    )
    flow.set_node_supply(0, n)
    flow.set_node_supply(sink, -n)
    status = flow.solve()
    assert status == flow.OPTIMAL, f"min-cost flow status {status}"
    unplaced = sum(flow.flow(arc) for arc in range(n, 2 * n))
    return int(flow.optimal_cost()), n - unplaced


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_flow_oracle(case: FlowCase, tmp_path: Path) -> None:
    config_path = write_instance(case, tmp_path)
    expected, placed = flow_optimum(tmp_path / "district", case)
    config = settings_for(config_path, case.backend, time_limit=120)
    assert len(load_config(config_path).diversity) == (1 if case.idle_rule else 0)
    result = solve(config)
    assert result.status == "optimal"
    assert result.evaluation is not None and result.placement is not None
    assert result.evaluation.objective == expected, (
        f"{case.backend}: {result.evaluation.objective} cents ({result.evaluation.terms}), "
        f"min-cost flow: {expected} cents with {placed} of {case.students} placed"
    )
    # the squeeze makes the unplaced arcs matter (a check on the case, not on the solver)
    assert placed < case.students or case.squeeze == 1.0
