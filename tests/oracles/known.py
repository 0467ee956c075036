"""Defects the oracles found and pinned as regressions (tests/data/regressions/), and the one place
that excuses them, so that the random oracles keep checking everything else until they are fixed.

An excuse is narrow: a precondition read from the case *and* the exact way the defect shows (a
crash with its message, or `no_solution`). A wrong optimum is never excused. When a defect is fixed,
its strict xfail in test_regressions.py fails; remove the entry there and its excuse here.
"""

from __future__ import annotations

from pathlib import Path

from solver.solve import Result, solve
from tests.conftest import settings_for
from tests.oracles.contract import compact_of, haversine_hundredths, members, position, seats
from tests.oracles.instances import Case


def pulp_blind_spot(case: Case) -> str | None:
    """Why the PuLP backends may return no solution (or crash) on this case, or None.

    PuLP leaves a variable that is in no row and has a zero objective coefficient out of the file it
    hands the solver, and then reports no value for it; and CBC fails on a program with no variables
    at all. Both show in tiny random cases: a placement whose rank (and distance, outside-cluster)
    cost equals the unassigned weight, zero weights, or every listed school without a seat. The
    regressions `pulp_zero_cost_option` and `pulp_no_variables` pin them; this flag lets the oracles
    keep checking everything else meanwhile. It over-approximates (it does not know which rows a
    variable ends up in), so it only excuses a `no_solution` or a crash, never a wrong optimum.
    """
    by_id = {s.id: s for s in case.students}
    member = compact_of(case)
    any_option = bool(case.compacts)
    for s in case.students:
        for j in case.prefs[s.id]:
            if s.id in member and member[s.id][1] == j:
                continue
            if seats(case, j, s.grade) == 0:
                continue
            cluster = case.school(j).cluster
            outside = bool(s.home and cluster and cluster != s.home)
            if case.clusters_mode == "hard" and outside:
                continue
            any_option = True
            net = (
                100 * case.weight("rank") * (position(case, s.id, j) - 1)  # type: ignore[operator]
                + case.weight("distance")
                * haversine_hundredths(s.lat, s.lon, case.school(j).lat, case.school(j).lon)
                + (
                    100 * case.weight("outside_cluster")
                    if case.clusters_mode == "soft" and outside
                    else 0
                )
                - 100 * case.weight("unassigned")
            )
            if net == 0:
                return f"student {s.id} at {j} costs exactly the unassigned weight"
    for c, families, j in case.compacts:
        group = members(case)[c]
        net = (
            case.weight("distance")
            * sum(
                haversine_hundredths(
                    by_id[s].lat, by_id[s].lon, case.school(j).lat, case.school(j).lon
                )
                for s in group
            )
            - 100 * case.weight("unassigned") * len(group)
            - 100 * case.weight("broken_compact") * len(families)
        )
        if net == 0:
            return f"compact {c} costs nothing either way"
    if not any_option:
        return "no student has a placement with a seat: a program with no variables"
    return None


def solve_case(config_path: Path, case: Case, backend: str) -> Result | None:
    """The backend's result, or None when it fails in a known way on a case that can trigger it."""
    blind_spot = backend.startswith("pulp") and pulp_blind_spot(case)
    hard_bands = any(rule.get("mode") == "hard" for rule in case.diversity)
    try:
        result = solve(settings_for(config_path, backend))
    except TypeError:
        if blind_spot:
            return None  # regressions/no_variables
        raise
    except RuntimeError as error:
        if backend == "cpsat" and hard_bands and "breaks the model: diversity_" in str(error):
            return None  # regressions/cpsat_infeasible_warm_start
        raise
    if blind_spot and result.status == "no_solution":
        return None  # regressions/pulp_zero_cost_option
    return result
