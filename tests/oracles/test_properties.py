"""Property tests on random small cases (10–40 students, 2–6 schools; compacts, clusters, bands):

(a) the backends agree: `cpsat`, `pulp` (CBC) and `pulp_highs` reach the same optimum when each
    proves it; each one's assignment keeps every hard rule of the contract and costs, term by term,
    what the contract (tests/oracles/contract.py) says;
(b) the independent auditor passes every run the solver writes, for `cpsat` and `pulp`.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings

from seatplan.auditor import audit_run
from seatplan.solver.cli import main
from seatplan.solver.result import Result
from seatplan.solver.run import write_run
from tests.oracles.contract import breaches, terms
from tests.oracles.instances import SMALL, Case, Source, cases, random_case
from tests.oracles.test_brute_force import solve_case, solver_assignment

AGREE = ("cpsat", "pulp", "pulp_highs")
AUDITED = ("cpsat", "pulp")
SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(case=cases(SMALL))
def test_backends_agree(case: Case) -> None:
    with tempfile.TemporaryDirectory() as folder:
        config_path = case.write(Path(folder))
        optimum: dict[str, int] = {}
        for backend in AGREE:
            result = solve_case(config_path, backend)
            # everyone unplaced keeps every hard rule: a solve of 30 s on 40 students must not fail
            assert result.solved, f"{backend}: {result.status}\n{case.describe()}"
            assert result.evaluation is not None
            got = solver_assignment(result)
            assert breaches(case, got) == [], f"{backend}: {breaches(case, got)}\n{case.describe()}"
            assert terms(case, got) == result.evaluation.terms, (
                f"{backend}: contract {terms(case, got)}, solver {result.evaluation.terms}\n{case.describe()}"
            )
            if result.status == "optimal":
                optimum[backend] = result.evaluation.objective
        assert len(set(optimum.values())) <= 1, f"optima differ: {optimum}\n{case.describe()}"


def audited(result: Result, run: Path) -> None:
    write_run(result, run)
    report = audit_run(run)
    assert report.passed, f"{result.backend}: audit failed\n{report.to_text()}"


@SETTINGS
@given(case=cases(SMALL))
def test_audit_passes_on_every_solve(case: Case) -> None:
    with tempfile.TemporaryDirectory() as folder:
        config_path = case.write(Path(folder))
        for backend in AUDITED:
            result = solve_case(config_path, backend)
            assert result.solved, f"{backend}: {result.status}\n{case.describe()}"
            try:
                audited(result, Path(folder) / f"run-{backend}")
            except AssertionError as error:
                raise AssertionError(f"{error}\n{case.describe()}") from None


# The same property through the command line, on fixed seeds: `seatplan solve --out`, then
# `seatplan audit RUN_DIR` must exit 0.
@pytest.mark.parametrize("backend", AUDITED)
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_audit_passes_through_the_cli(seed: int, backend: str, tmp_path: Path) -> None:
    case = random_case(Source(7000 + seed), SMALL)
    config_path = case.write(tmp_path / "case")
    run = tmp_path / "run"
    runner = CliRunner()
    solved = runner.invoke(
        main,
        [
            "solve",
            str(config_path),
            "--out",
            str(run),
            "--backend",
            backend,
            "--time-limit",
            "30",
            "--quiet",
        ],
    )
    assert solved.exit_code == 0, solved.output
    checked = runner.invoke(main, ["audit", str(run)])
    assert checked.exit_code == 0, checked.output
