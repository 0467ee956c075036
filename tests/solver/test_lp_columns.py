"""The LP relaxation by column generation (solver/lp.py) against the whole LP, on tiny districts.

HiGHS holds only the columns handed to it (the restricted master); priced-in columns are added
round by round. Started from any subset of the placements that holds every other variable (so that
the restricted LP is feasible: everyone unplaced keeps every hard rule, as it does in the pipeline,
whose first columns hold the warm start), it must end at the whole LP's optimum,
and its primal point, mapped back over every variable, must keep every row of the relaxation.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from seatplan.models.data import load_inputs
from seatplan.models.formulation import build_model
from seatplan.solver.lp import lp_bound
from seatplan.solver.pipeline import SLOW_IN_LP
from tests.oracles.instances import Shape, Source, random_case

RICH = Shape(students=(4, 8), schools=(2, 3), compacts=(1, 2), compact_families=(2, 3), diversity_rules=(1, 2))


@pytest.mark.parametrize("seed", range(25))
def test_column_generation_ends_at_the_whole_lp(seed: int, tmp_path: Path) -> None:
    case = random_case(Source(12_000 + seed), RICH)
    config, instance = load_inputs(case.write(tmp_path))
    model = build_model(instance, config)
    relaxed = model.formulation.without_rows(SLOW_IN_LP)
    whole = lp_bound(relaxed, time_limit=5.0)
    start = np.random.default_rng(seed).random(relaxed.n_vars) < 0.3
    placement = np.zeros(relaxed.n_vars, dtype=bool)
    placement[model.seats.var[model.seats.is_option]] = True
    start |= ~placement
    generated = lp_bound(relaxed, time_limit=5.0, columns=start, rounds=relaxed.n_vars + 1)
    assert whole is not None and generated is not None
    assert generated.lp_objective == pytest.approx(whole.lp_objective, abs=1e-6), case.describe()
    assert generated.bound == whole.bound, case.describe()
    indptr, indices, coefs, lower, upper = relaxed.matrix()
    rows = np.repeat(np.arange(len(lower)), np.diff(indptr))
    activity = np.bincount(rows, weights=coefs * generated.primal[indices], minlength=len(lower))
    assert np.all(activity >= lower - 1e-6) and np.all(activity <= upper + 1e-6), case.describe()
