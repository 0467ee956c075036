"""The face phase (solver/pipeline.search_the_face) against brute force, on tiny random districts.

The phase proves optimality from reduced-cost fixing: HiGHS searches only the variables a solution
costing at most T can move, and its answer on that face is a proof about the whole program. Here the
phase starts from the flow's warm start (a poor incumbent), with the first face as small as it can
be (`face_share=0`: usually too small to hold the optimum, so the second, exact round runs) and as
large (`face_share=1`), and with faces cut to two free variables (`face_limit=2`: the exact face is
then often out of reach). Whatever it ends with, its bound never passes the brute-force optimum,
its solution never beats it, and when it says proven, the two meet at the optimum.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from seatplan.models.data import load_inputs
from seatplan.models.formulation import Model, build_model
from seatplan.solver.backends import SolveSettings
from seatplan.solver.lp import lp_bound
from seatplan.solver.pipeline import SLOW_IN_LP, PipelineOptions, Search, search_the_face
from seatplan.solver.warmstart import warm_start
from tests.oracles.contract import true_minimum
from tests.oracles.instances import Shape, Source, random_case

RICH = Shape(students=(4, 8), schools=(2, 3), compacts=(1, 2), compact_families=(2, 3), diversity_rules=(1, 2))


def face_search(seed: int, share: float, folder: Path, limit: int = 200_000) -> tuple[Search, int, str]:
    case = random_case(Source(11_000 + seed), RICH)
    config, instance = load_inputs(case.write(folder))
    model: Model = build_model(instance, config)
    optimum, witness, _ = true_minimum(case)
    search = Search(model.formulation, SolveSettings(time_limit=20.0, gap=0.0, workers=1), None)
    search.offer(warm_start(model, instance, config), "warm start")
    relaxed = model.formulation.without_rows(SLOW_IN_LP)
    bound = lp_bound(relaxed, time_limit=5.0)
    assert bound is not None
    search.prove(bound.bound, "LP")
    if not search.done():
        search_the_face(search, model.formulation, relaxed, bound, PipelineOptions(face_share=share, face_limit=limit))
    return search, optimum, f"optimum {optimum} ({witness})\n{case.describe()}\n" + "\n".join(search.log)


@pytest.mark.parametrize("share", [0.0, 1.0])
@pytest.mark.parametrize("seed", range(30))
def test_the_face_proves_the_brute_force_optimum(seed: int, share: float, tmp_path: Path) -> None:
    search, optimum, context = face_search(seed, share, tmp_path)
    assert search.bound is not None and search.best is not None, context
    assert search.bound <= optimum <= search.best_objective, context
    # Tiny programs: HiGHS settles each face well within the time, so every run ends proven.
    assert search.done(), context
    assert search.best_objective == optimum, context
    assert not search.formulation.violations(search.best), context


@pytest.mark.parametrize("seed", range(30))
def test_a_face_cut_to_a_few_variables_still_proves_only_what_holds(seed: int, tmp_path: Path) -> None:
    """With at most two free variables per face, the exact face is often out of reach: whatever the
    phase ends with must still bracket the optimum, and be it when it says proven."""
    search, optimum, context = face_search(seed, 1.0, tmp_path, limit=2)
    assert search.bound is not None and search.best is not None, context
    assert search.bound <= optimum <= search.best_objective, context
    if search.done():
        assert search.best_objective == optimum, context


def test_a_first_face_too_small_is_followed_by_the_exact_one(tmp_path: Path) -> None:
    """At least one seed needs the second round (otherwise the test above would not cover it)."""
    second_rounds = 0
    for seed in range(30):
        search, _, context = face_search(seed, 0.0, tmp_path / str(seed))
        second_rounds += any("a wider face next" in line for line in search.log)
    assert second_rounds > 0
