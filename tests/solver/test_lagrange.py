"""The Lagrangian bound (solver/lagrange.py) against brute force, on tiny random districts.

It is a proof the solver's status relies on at city size, so it is checked where the optimum is
known: it never exceeds the optimum; with no side rows it *is* the optimum (the relaxation is then
the transportation problem itself); and it never exceeds the LP relaxation's bound (by Geoffrion's
theorem the Lagrangian dual over an integral flow can reach the LP bound, never pass it). The
pipeline's Lagrangian path, switched on at any size by `lp_variable_limit=0, lp_column_limit=0`,
must end with a bound below the optimum and an objective at or above it, and prove the optimum when
it says so.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings

from seatplan.models.data import load_inputs
from seatplan.models.formulation import build_model
from seatplan.models.ir import TRANSPORTATION_ROLES
from seatplan.solver.lagrange import lagrangian_bound
from seatplan.solver.lp import lp_bound
from seatplan.solver.pipeline import PipelineOptions
from seatplan.solver.solve import solve
from tests.conftest import settings_for
from tests.oracles.contract import true_minimum
from tests.oracles.instances import TINY, Case, Shape, Source, cases, random_case

RICH = Shape(students=(4, 8), schools=(2, 3), compacts=(1, 2), compact_families=(2, 3), diversity_rules=(1, 2))
PURE = Shape(students=(1, 8), schools=(1, 3), compacts=(0, 0), diversity_rules=(0, 0))


def bounds(case: Case, folder: Path) -> tuple[int, int, int | None, bool]:
    """(brute-force optimum, Lagrangian bound, LP bound or None, whether the model has side rows)."""
    config, instance = load_inputs(case.write(folder))
    model = build_model(instance, config)
    optimum, _, _ = true_minimum(case)
    relaxation = lagrangian_bound(model, instance, time_limit=5.0, upper_bound=lambda: optimum, max_iterations=300)
    lp = lp_bound(model.formulation, time_limit=5.0)
    side_rows = model.seats.n_compacts > 0 or any(b.role not in TRANSPORTATION_ROLES for b in model.formulation.rows)
    return optimum, relaxation.bound, None if lp is None else lp.bound, side_rows


def check_bound(case: Case, folder: Path) -> None:
    optimum, bound, lp, side_rows = bounds(case, folder)
    context = f"optimum {optimum}, Lagrangian {bound}, LP {lp}\n{case.describe()}"
    assert bound <= optimum, context
    if lp is not None:
        assert bound <= lp, context
    if not side_rows:
        assert bound == optimum, context


@pytest.mark.parametrize("seed", range(40))
def test_the_bound_never_exceeds_the_optimum(seed: int, tmp_path: Path) -> None:
    check_bound(random_case(Source(7000 + seed), RICH), tmp_path)


@pytest.mark.parametrize("seed", range(25))
def test_without_side_rows_the_bound_is_the_optimum(seed: int, tmp_path: Path) -> None:
    case = random_case(Source(8000 + seed), PURE)
    optimum, bound, _, side_rows = bounds(case, tmp_path)
    assert not side_rows
    assert bound == optimum, case.describe()


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=cases(TINY))
def test_the_bound_on_random_cases(case: Case) -> None:
    with tempfile.TemporaryDirectory() as folder:
        check_bound(case, Path(folder))


@pytest.mark.parametrize("seed", range(15))
def test_the_pipeline_with_lagrangian_bounds_at_any_size(seed: int, tmp_path: Path) -> None:
    case = random_case(Source(9000 + seed), RICH)
    config_path = case.write(tmp_path)
    optimum, witness, _ = true_minimum(case)
    result = solve(
        settings_for(config_path, "cpsat", time_limit=20.0),
        options=PipelineOptions(lp_variable_limit=0, lp_column_limit=0),
    )
    log = "\n".join(result.log)
    assert "Lagrangian relaxation" in log and "LP relaxation" not in log, log
    assert result.evaluation is not None and result.bound_cents is not None
    objective, bound = result.evaluation.objective, result.bound_cents
    context = f"optimum {optimum} ({witness}); got {result.status} {objective}, bound {bound}"
    assert bound <= optimum <= objective, context
    if result.status == "optimal":
        assert objective == optimum, context


@pytest.mark.parametrize("seed", range(12))
def test_above_the_cp_sat_limit_the_lagrangian_path_ends_without_cp_sat(seed: int, tmp_path: Path) -> None:
    """Past `cp_sat_variable_limit` the bound and the flows at its prices are the whole search: the
    run says so, CP-SAT never starts, and what it reports still brackets the optimum."""
    case = random_case(Source(9500 + seed), RICH)
    config_path = case.write(tmp_path)
    optimum, witness, _ = true_minimum(case)
    options = PipelineOptions(lp_variable_limit=0, lp_column_limit=0, cp_sat_variable_limit=0)
    result = solve(settings_for(config_path, "cpsat", time_limit=5.0), options=options)
    log = "\n".join(result.log)
    assert result.evaluation is not None and result.bound_cents is not None, log
    objective, bound = result.evaluation.objective, result.bound_cents
    assert bound <= optimum <= objective, f"optimum {optimum} ({witness}); got {objective}, bound {bound}"
    assert "seatplan: CP-SAT" not in log, log
    if objective > bound:
        assert "cp_sat_variable_limit" in log, log
