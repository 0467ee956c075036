"""One method on one instance, in its own process (so that its peak memory is its own).

    python -m benchmarks.worker METHOD CONFIG TIME_LIMIT

prints one JSON document: build, first solution and 1%-gap times (seconds from the start of the
worker, reading the data included), objective, bound, gap and status. Methods:

- textbook:   CP-SAT with default parameters on the plain model (one boolean per student and
              listed school), no hint, no external bound;
- pulp_cbc:   the same model through PuLP with CBC;
- pulp_highs: the same model through PuLP with HiGHS;
- flow:       min-cost flow on the instance's transportation core alone (compacts and diversity
              dropped): the reference for how fast the core can be solved. It is not a bound on
              the full instance: a compact placement costs no rank, so honoring compacts can cost
              less than placing their members by their lists;
- seatplan:   what `seatplan solve` does (read, formulate, solve, write the run folder), timed from
              the start of this process to the written run folder;
- da:         the same with `mechanism: deferred_acceptance` (read, run DA, write the run folder);
- matching_da: the `matching` package's resident-optimal HospitalResident on the same lists and
              lottery (one grade, no priorities), read by seatplan's reader: the reference for DA;
- highs_1, highs_2: the same program handed to HiGHS directly (highspy), 1 or 2 threads, the
              config's gap, no hint.
"""

from __future__ import annotations

import json
import os
import re
import sys
import tempfile
import time
import warnings
from dataclasses import replace
from pathlib import Path
from typing import Any

START = time.perf_counter()


def _now() -> float:
    return round(time.perf_counter() - START, 3)


def first_within(trajectory: list[tuple[float, float | None, float | None]], gap: float) -> float | None:
    """The first time the best objective was proven within `gap` of the optimum."""
    for t, objective, bound in trajectory:
        if objective is not None and bound is not None and objective - bound <= gap * max(1.0, abs(objective)):
            return t
    return None


def first_solution(trajectory: list[tuple[float, float | None, float | None]]) -> float | None:
    return next((t for t, objective, _ in trajectory if objective is not None), None)


def run(method: str, config_path: Path, time_limit: float) -> dict[str, Any]:
    # seatplan is imported here, after START, on purpose: importing it is part of every method's time.
    from seatplan.models.config import load_config
    from seatplan.models.data import load_instance
    from seatplan.models.formulation import build_model

    if method == "seatplan":
        return _seatplan(config_path, time_limit)
    if method == "da":
        return _seatplan(config_path, time_limit, mechanism="deferred_acceptance")
    if method == "matching_da":
        return _matching_da(config_path)
    config = load_config(config_path)
    if method == "flow":
        config = replace(config, diversity=(), data=replace(config.data, compacts=None))
    instance = load_instance(config)
    model = build_model(instance, config)
    coefs, constant = model.formulation.objective()
    built = _now()
    trajectory: list[tuple[float, float | None, float | None]] = []
    status = "no_solution"
    objective = bound = None

    if method == "flow":
        from seatplan.solver.flow import solve_transportation

        values, cents = solve_transportation(model, instance)
        objective = bound = cents / 100
        status = "optimal"
        trajectory.append((_now(), objective, bound))
    elif method == "textbook":
        from ortools.sat.python import cp_model

        from seatplan.solver.backends import cpsat

        cp = cpsat.build(model.formulation)
        solver = cp_model.CpSolver()
        solver.parameters.max_time_in_seconds = time_limit
        best: dict[str, float | None] = {"objective": None, "bound": None}

        def on_bound(value: float) -> None:
            best["bound"] = value / 100
            trajectory.append((_now(), best["objective"], best["bound"]))

        class OnSolution(cp_model.CpSolverSolutionCallback):
            def on_solution_callback(self) -> None:
                best["objective"] = self.objective_value / 100
                best["bound"] = self.best_objective_bound / 100
                trajectory.append((_now(), best["objective"], best["bound"]))

        solver.best_bound_callback = on_bound
        solver.parameters.relative_gap_limit = 0.01  # a stopping rule, as for the others
        code = solver.solve(cp, OnSolution())
        if code in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            objective, bound = solver.objective_value / 100, solver.best_objective_bound / 100
            # CP-SAT says OPTIMAL when it stops at its gap limit: the numbers decide.
            status = "optimal" if bound >= objective - 1e-9 else "feasible"
    elif method in ("pulp_cbc", "pulp_highs"):
        objective, bound, status = _pulp(method, model.formulation, time_limit, trajectory)
    elif method in ("highs_1", "highs_2"):
        from seatplan.solver.backends import SolveSettings, highs

        settings = SolveSettings(time_limit=time_limit, gap=config.solver.gap, workers=int(method[-1]), seed=0)
        found = highs.solve(model.formulation, settings)
        if found.values is not None:
            objective = (int(coefs @ found.values) + constant) / 100
            # HiGHS' dual bound already holds the objective's constant (the model's offset).
            bound = None if found.bound is None else found.bound / 100
            status = "optimal" if found.claim == "optimal" else "feasible"
            trajectory.append((_now(), objective, bound))
        else:
            status = str(found.claim)
    else:
        raise SystemExit(f"unknown method {method}")
    gap = None if objective is None or bound is None else max(0.0, objective - bound) / max(1.0, abs(objective))
    return {
        "method": method,
        "status": status,
        "build": built,
        "first_solution": first_solution(trajectory),
        "gap_1pct": first_within(trajectory, 0.01),
        "gap_01pct": first_within(trajectory, 0.001),
        "gap_005pct": first_within(trajectory, 0.0005),
        "proven_optimal": first_within(trajectory, 0.0),
        "objective": objective,
        "bound": bound,
        "gap": gap,
        "total": _now(),
        "variables": model.formulation.n_vars,
    }


def _seatplan(config_path: Path, time_limit: float, mechanism: str | None = None) -> dict[str, Any]:
    from seatplan.models.config import load_config
    from seatplan.models.data import load_instance
    from seatplan.solver.run import write_run
    from seatplan.solver.solve import solve

    config = load_config(config_path)
    if mechanism is not None:
        config = replace(config, mechanism=mechanism)  # type: ignore[arg-type]
    instance = load_instance(config)
    read = _now()
    result = solve(config, instance=instance, time_limit=time_limit)
    with tempfile.TemporaryDirectory() as folder:
        if result.solved:
            write_run(result, Path(folder) / "run")
    offset = read  # solve() times its trajectory from its own start, after reading
    trajectory = [(offset + t, o, b) for t, o, b in result.trajectory]
    if result.solved:
        trajectory.append((_now(), result.objective, result.bound))
    return {
        "method": mechanism and "da" or "seatplan",
        "status": result.status,
        "build": round(read + result.seconds.get("build", 0.0), 3),
        "first_solution": first_solution(trajectory),
        "gap_1pct": first_within(trajectory, 0.01),
        "gap_01pct": first_within(trajectory, 0.001),
        "gap_005pct": first_within(trajectory, 0.0005),
        "proven_optimal": first_within(trajectory, 0.0),
        "objective": result.objective,
        "bound": result.bound,
        "gap": result.gap,
        "total": _now(),
        "variables": result.model_size.get("variables"),
    }


def _matching_da(config_path: Path) -> dict[str, Any]:
    """The matching package's DA on the lists and lottery seatplan reads (no priorities, one grade)."""
    from matching.games import HospitalResident

    from benchmarks.reference import hospital_resident
    from seatplan.models.config import load_config
    from seatplan.models.data import load_instance

    instance = load_instance(load_config(config_path))
    read = _now()
    listed, applicants, capacities = hospital_resident(instance)
    times: dict[str, float] = {}
    found: dict[str, Any] = {}

    def play() -> None:
        game = HospitalResident.create_from_dictionaries(listed, applicants, capacities)
        times["built"] = _now()
        found["matching"] = game.solve(optimal="resident")

    # The package copies its players recursively: a city needs a deep stack (a thread's own).
    import threading

    sys.setrecursionlimit(10**7)
    threading.stack_size(1 << 29)
    worker = threading.Thread(target=play)
    worker.start()
    worker.join()
    if "matching" not in found:
        raise SystemExit("the matching package did not finish")
    built = times["built"]
    placed = sum(len(matched) for matched in found["matching"].values())
    return {
        "method": "matching_da",
        "status": "stable",
        "build": round(built, 3),
        "read": round(read, 3),
        "placed": placed,
        "total": _now(),
    }


def _pulp(method: str, formulation, time_limit: float, trajectory: list) -> tuple:  # noqa: ANN001
    import pulp

    from seatplan.solver.backends.pulp import build

    problem, variables = build(formulation)
    _, constant = formulation.objective()
    offset = 0.0  # the constant reaches the solver as a fixed variable (solver/backends/pulp.py)
    with tempfile.TemporaryDirectory() as folder:
        log_path = os.path.join(folder, "solver.log")
        started = _now()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            if method == "pulp_cbc":
                command = pulp.PULP_CBC_CMD(msg=False, timeLimit=time_limit, gapRel=0.01, threads=2, logPath=log_path)
            else:
                command = pulp.HiGHS(
                    msg=False,
                    timeLimit=time_limit,
                    gapRel=0.01,
                    threads=2,
                    log_file=log_path,
                    output_flag=True,
                    log_to_console=False,
                )
        problem.solve(command)
        text = Path(log_path).read_text(encoding="utf-8", errors="replace") if os.path.exists(log_path) else ""
    if method == "pulp_cbc":
        # CBC's log: "Integer solution of X found … (T seconds)", "… best possible Y (T seconds)",
        # "Continuous objective value is Y - T seconds" (the root LP, a bound).
        best_objective: float | None = None
        best_bound: float | None = None
        for line in text.splitlines():
            when = re.search(r"\(([\d.]+) seconds\)|- ([\d.]+) seconds", line)
            if not when:
                continue
            seconds = float(when.group(1) or when.group(2))
            found = (
                re.search(r"Integer solution of (-?[\d.e+]+)", line)
                or re.search(r"(-?[\d.e+]+) best solution", line)
                or re.search(r"best objective (-?[\d.e+]+)", line)
            )
            bounded = re.search(r"best possible (-?[\d.e+]+)", line) or re.search(
                r"Continuous objective value is (-?[\d.e+]+)", line
            )
            if found and float(found.group(1)) < 1e49:
                value = float(found.group(1)) / 100 + offset
                best_objective = value if best_objective is None else min(best_objective, value)
            if bounded:
                value = float(bounded.group(1)) / 100 + offset
                best_bound = value if best_bound is None else max(best_bound, value)
            if found or bounded:
                trajectory.append((started + seconds, best_objective, best_bound))
    else:
        import numpy as np

        # HiGHS' B&B table: "... | BestBound BestSol Gap | ... Time" rows end in "<seconds>s".
        for line in text.splitlines():
            m = re.match(
                r"^\s*[A-Za-z]?\s+\d+\s+\d+\s+\d+\s+[\d.]+%\s+(\S+)\s+(\S+)\s+\S+.*?\s([\d.]+)s\s*$",
                line,
            )
            if m:
                try:
                    bound_value = float(m.group(1))
                except ValueError:
                    continue
                try:
                    best_value: float | None = float(m.group(2))
                except ValueError:
                    best_value = None
                if best_value is not None and not np.isfinite(best_value):
                    best_value = None
                if not np.isfinite(bound_value):
                    continue
                trajectory.append(
                    (
                        started + float(m.group(3)),
                        None if best_value is None else best_value / 100 + offset,
                        bound_value / 100 + offset,
                    )
                )
    status = {pulp.LpSolutionOptimal: "optimal", pulp.LpSolutionIntegerFeasible: "feasible"}.get(
        problem.sol_status, "no_solution"
    )
    objective = None
    if status != "no_solution":
        import numpy as np

        values = np.array([0 if v.varValue is None else round(v.varValue) for v in variables], dtype=np.int64)
        coefs, constant = formulation.objective()
        objective = float(constant + coefs @ values) / 100
    bound = trajectory[-1][2] if trajectory else None
    if objective is not None and bound is not None:
        status = "optimal" if bound >= objective - 1e-9 else "feasible"
        trajectory.append((_now(), objective, bound))
    return objective, bound, status


if __name__ == "__main__":
    method, config, limit = sys.argv[1], Path(sys.argv[2]), float(sys.argv[3])
    print(json.dumps(run(method, config, limit)))
