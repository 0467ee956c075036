"""CBC is stopped when it runs past its time limit and a grace period (it only checks its clock
between nodes); the solve then reports no solution rather than waiting on it."""

from __future__ import annotations

from pathlib import Path

import pytest

import seatplan.solver.backends.pulp as pulp_backend
from seatplan.solver.solve import solve
from tests.conftest import settings_for

DEMO = Path(__file__).resolve().parents[2] / "configs" / "demo.yaml"


def test_cbc_past_its_deadline_is_stopped(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pulp_backend, "CBC_GRACE_FACTOR", 0.0)
    monkeypatch.setattr(pulp_backend, "CBC_GRACE_SECONDS", 0.0)
    result = solve(settings_for(DEMO, "pulp", time_limit=30))
    assert result.status == "no_solution"
    assert result.placement is None
    assert any("it was stopped" in line for line in result.log)
    assert not pulp_backend._children("cbc")  # nothing left running


def test_cbc_within_its_deadline_is_left_alone() -> None:
    result = solve(settings_for(DEMO, "pulp", time_limit=30, gap=0.05))
    assert result.status in ("optimal", "feasible")
    assert not any("it was stopped" in line for line in result.log)
