"""Stability hard with compacts: the window of stable placements (solver/pipeline.py
`_stable_window`) and the cutoff rows (models/rules/stability.py).

With stability hard, the cpsat path closes every placement that no stable assignment can use, for
any set of honored compacts, from two bracketing markets (deferred acceptance without compact
members; schools proposing with all students and the most seats compacts can take). If the
window closed a placement some feasible assignment needs, the optimum would rise or a feasible case
would read as infeasible. Two oracles:

1. Brute force (tests/oracles): on tiny cases with two compacts, often at one school, every
   assignment is enumerated and its blocking pairs counted from the contract's words.
2. The same formulation solved by CP-SAT alone, without the window or any other step of the
   pipeline, on cases of 10–40 students with up to four compacts: the same status and objective.
"""

from __future__ import annotations

import tempfile
from collections import Counter
from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings

from seatplan.models.config import load_config
from seatplan.models.data import load_instance
from seatplan.models.formulation import build_model
from seatplan.solver.backends import SolveSettings, cpsat
from seatplan.solver.solve import solve
from tests.conftest import settings_for
from tests.oracles.instances import Shape, Source
from tests.oracles.test_school_choice import (
    BRUTE_SHAPE,
    Choice,
    drawn_choices,
    enumerate_case,
    least,
    random_choice,
)

TWO_COMPACTS = replace(BRUTE_SHAPE, students=(6, 8), schools=(2, 3), compacts=(2, 2), compact_families=(2, 2))
MIDDLE = Shape(
    students=(10, 40),
    schools=(2, 5),
    list_length=(1, 4),
    capacity=(0, 10),
    compacts=(1, 4),
    compact_families=(2, 3),
    diversity_rules=(0, 1),
)


def hard(choice: Choice) -> Choice:
    return replace(choice, stability={"mode": "hard"}, families={"together": "off"})


def check_against_brute_force(choice: Choice, folder: Path) -> str:
    variant = hard(choice)
    best = least(variant, enumerate_case(variant))
    result = solve(settings_for(variant.write(folder), "cpsat", seed=variant.seed))
    context = f"\nstatus {result.status}, true minimum {best}\n{variant.describe()}"
    if best is None:
        assert result.status in ("infeasible", "no_solution"), context
        return "infeasible"
    assert result.status == "optimal", context
    assert result.evaluation is not None and result.evaluation.objective == best[0], context
    return "optimal"


# A long series: the cases that tell a wrong compact term from the right one (a member of an
# honored compact who lists a school holding someone ranked below it) are about one in thirty —
# measured by dropping that term from the cutoff rows on purpose (seeds 9037, 9087, 9100, 9118,
# 9126 and 9139 then fail).
@pytest.mark.parametrize("seed", range(9000, 9150))
def test_window_keeps_the_brute_force_optimum_with_two_compacts(seed: int, tmp_path: Path) -> None:
    check_against_brute_force(random_choice(Source(seed), TWO_COMPACTS), tmp_path)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(choice=drawn_choices(TWO_COMPACTS))
def test_window_keeps_the_brute_force_optimum_random(choice: Choice) -> None:
    with tempfile.TemporaryDirectory() as folder:
        check_against_brute_force(choice, Path(folder))


def test_two_compact_series_reaches_both_outcomes(tmp_path: Path) -> None:
    """The series above is not vacuous: across it some cases are stable and some are not."""
    ended = Counter(
        check_against_brute_force(random_choice(Source(7100 + seed), TWO_COMPACTS), tmp_path / str(seed))
        for seed in range(12, 40)
    )
    assert ended["optimal"] and ended["infeasible"], ended


def check_against_plain_cpsat(choice: Choice, folder: Path, workers: int = 1) -> str:
    path = hard(choice).write(folder)
    result = solve(settings_for(path, "cpsat", seed=choice.seed, workers=workers))
    config = load_config(path)
    model = build_model(load_instance(config), config)
    plain = cpsat.solve(model.formulation, SolveSettings(time_limit=30.0, gap=0.0, workers=1, seed=0))
    context = f"\npipeline {result.status}; CP-SAT alone {plain.claim}\n{hard(choice).describe()}"
    assert plain.claim in ("optimal", "infeasible"), context
    if plain.claim == "infeasible":
        assert result.status == "infeasible", context
        return "infeasible"
    assert result.status == "optimal", context
    assert plain.values is not None
    coefficients, constant = model.formulation.objective()
    plain_objective = int(constant + coefficients @ plain.values)  # whole cents, as the evaluation
    assert result.evaluation is not None and result.evaluation.objective == plain_objective, context
    check_trajectory(result.trajectory, result.evaluation.objective, context)
    return "optimal"


def check_trajectory(trajectory: list, objective: int, context: str) -> None:
    """What progress showed: the best never worsens, the bound never falls, and the last best shown
    is the answer (once, the bound's line reprinted the start CP-SAT was handed)."""
    bests = [best for _, best, _ in trajectory if best is not None]
    bounds = [bound for _, _, bound in trajectory if bound is not None]
    assert bests and bests == sorted(bests, reverse=True), (trajectory, context)
    assert bounds == sorted(bounds), (trajectory, context)
    assert bests[-1] == round(objective / 100, 2), (trajectory, context)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(choice=drawn_choices(MIDDLE))
def test_window_keeps_the_plain_cpsat_optimum(choice: Choice) -> None:
    with tempfile.TemporaryDirectory() as folder:
        check_against_plain_cpsat(choice, Path(folder))


# About one seed in ten of this series tells a wrong window from the right one (measured by breaking
# either bracketing market on purpose): sixty keep the check from resting on hypothesis' luck.
@pytest.mark.parametrize("seed", range(60))
def test_window_keeps_the_plain_cpsat_optimum_seeds(seed: int, tmp_path: Path) -> None:
    check_against_plain_cpsat(random_choice(Source(7300 + seed), MIDDLE), tmp_path)


# With two workers, stability hard runs CP-SAT's core-based search beside its LP search
# (pipeline.STABLE_SUBSOLVERS): the same optima, and the log shows the core worker ran.
@pytest.mark.parametrize("seed", range(20))
def test_two_workers_with_core_search_keep_the_plain_cpsat_optimum(seed: int, tmp_path: Path) -> None:
    check_against_plain_cpsat(random_choice(Source(7300 + seed), MIDDLE), tmp_path, workers=2)


def test_two_workers_run_the_core_search(tmp_path: Path) -> None:
    """CP-SAT's parameters, as its log prints them, name the core worker under stability hard only."""
    choice = random_choice(Source(7300), MIDDLE)
    for stability, expected in (("hard", True), ("off", False)):
        variant = replace(hard(choice), stability={"mode": stability})
        folder = tmp_path / stability
        result = solve(settings_for(variant.write(folder), "cpsat", seed=choice.seed, workers=2))
        parameters = [line for line in result.log if line.startswith("Parameters:")]
        if stability == "hard":
            assert parameters, result.log
        assert all(('subsolvers: "core"' in line) == expected for line in parameters), parameters
