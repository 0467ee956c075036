"""Disagreements the oracles found, kept as data: one folder per case under tests/data/regressions/.

Each folder holds a config.yaml and its CSVs, and expected.yaml: the contract's optimum (worked out
by hand in the config's comment, and by the brute-force oracle), its status, and `broken`: the
backends known to get it wrong, with why. Those are strict xfails, so a fix shows up as a failure
here until the entry is removed. A folder without expected.yaml is a reproducer kept for
reference (its config's comment says why), not a test.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from seatplan.solver.solve import solve
from tests.conftest import BACKENDS, settings_for
from tests.oracles.contract import true_minimum
from tests.oracles.instances import read_case

FOLDER = Path(__file__).resolve().parent.parent / "data" / "regressions"


def _cases() -> list[Any]:
    params = []
    for case in sorted(p for p in FOLDER.iterdir() if (p / "expected.yaml").exists()):
        expected = yaml.safe_load((case / "expected.yaml").read_text(encoding="utf-8"))
        for backend in BACKENDS:
            reason = (expected.get("broken") or {}).get(backend)
            marks = [pytest.mark.xfail(strict=True, reason=reason)] if reason else []
            params.append(pytest.param(case, backend, expected, marks=marks, id=f"{case.name}-{backend}"))
    return params


@pytest.mark.parametrize(("case", "backend", "expected"), _cases())
def test_regression(case: Path, backend: str, expected: dict[str, Any]) -> None:
    result = solve(settings_for(case / "config.yaml", backend))
    assert result.status == expected["status"]
    assert result.evaluation is not None
    assert result.evaluation.objective == round(100 * expected["objective"])


@pytest.mark.parametrize(
    "case",
    sorted(p for p in FOLDER.iterdir() if (p / "expected.yaml").exists()),
    ids=lambda p: p.name,
)
def test_brute_force_agrees_with_the_worked_optimum(case: Path) -> None:
    """The brute-force oracle reads each regression as its comment works it out by hand."""
    expected = yaml.safe_load((case / "expected.yaml").read_text(encoding="utf-8"))
    best, witness, _feasible = true_minimum(read_case(case / "config.yaml"))
    assert best == round(100 * expected["objective"]), witness
