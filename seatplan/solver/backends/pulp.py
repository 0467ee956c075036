"""PuLP, with CBC (bundled with PuLP) or HiGHS (highspy): the fallback backend.

Expressions are built from lists of (variable, coefficient) pairs, one call per row; a ranged row
becomes two constraints. Variables and rows get short generated names: the neutral form keeps the
readable ones. CBC's own status words are not trusted: its final summary is parsed for the bound.
"""

from __future__ import annotations

import math
import os
import re
import signal
import tempfile
import threading
import time
import warnings
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

import numpy as np

from seatplan.models.ir import Formulation
from seatplan.solver import interrupt
from seatplan.solver.backends.base import BackendResult, Progress, SolveSettings
from seatplan.solver.status import Status


def build(formulation: Formulation):  # noqa: ANN201
    """The pulp.LpProblem of a formulation, and its variables in order."""
    import pulp

    problem = pulp.LpProblem("seatplan", pulp.LpMinimize)
    lower, upper = formulation.lower.tolist(), formulation.upper.tolist()
    variables = [
        problem.add_variable(f"v{i}", lowBound=lo, upBound=hi, cat=pulp.LpInteger)
        for i, (lo, hi) in enumerate(zip(lower, upper, strict=True))
    ]
    objective, constant = formulation.objective()
    nonzero = np.flatnonzero(objective)
    terms = [(variables[i], int(objective[i])) for i in nonzero]
    if constant:
        # PuLP hands neither CBC nor HiGHS the objective's constant, and both measure their relative
        # gap against the objective they see: a variable fixed at 1 carries the constant to them.
        terms.append((problem.add_variable("objective_constant", lowBound=1, upBound=1), int(constant)))
    problem.setObjective(pulp.LpAffineExpression(terms))
    indptr, indices, coefs, row_lower, row_upper = formulation.matrix()
    idx_list, coef_list, starts = indices.tolist(), coefs.tolist(), indptr.tolist()
    for r in range(len(row_lower)):
        a, b = starts[r], starts[r + 1]
        expression = pulp.LpAffineExpression(
            [(variables[i], c) for i, c in zip(idx_list[a:b], coef_list[a:b], strict=True)]
        )
        lo, hi = row_lower[r], row_upper[r]
        if math.isfinite(lo) and math.isfinite(hi) and lo == hi:
            problem.addConstraint(pulp.LpConstraint(expression, pulp.LpConstraintEQ, rhs=int(lo)), f"r{r}")
            continue
        if math.isfinite(lo):
            problem.addConstraint(pulp.LpConstraint(expression, pulp.LpConstraintGE, rhs=int(lo)), f"r{r}l")
        if math.isfinite(hi):
            problem.addConstraint(pulp.LpConstraint(expression, pulp.LpConstraintLE, rhs=int(hi)), f"r{r}u")
    return problem, variables


def _values(variables: list, lower: np.ndarray) -> np.ndarray:
    """Solution values, rounded. PuLP leaves a variable that is in no row and costs nothing out of
    the file it hands the solver and reports no value for it: any value in its bounds is optimal,
    so it takes its lower bound."""
    raw = np.array([np.nan if v.varValue is None else v.varValue for v in variables], dtype=float)
    raw = np.where(np.isnan(raw), lower, raw)
    return np.rint(raw).astype(np.int64)


def _claim(problem) -> Status:  # noqa: ANN001
    import pulp

    if problem.sol_status == pulp.LpSolutionOptimal:
        return Status.OPTIMAL
    if problem.sol_status == pulp.LpSolutionIntegerFeasible:
        return Status.FEASIBLE
    if problem.sol_status == pulp.LpSolutionInfeasible or problem.status == pulp.LpStatusInfeasible:
        return Status.INFEASIBLE
    return Status.NO_SOLUTION


def solve_cbc(
    formulation: Formulation,
    settings: SolveSettings,
    hint: np.ndarray | None = None,
    progress: Progress | None = None,
) -> BackendResult:
    """Solve with CBC through PuLP. The bound is read from CBC's final summary."""
    import pulp

    start = time.perf_counter()
    problem, variables = build(formulation)
    with tempfile.TemporaryDirectory(prefix="seatplan-cbc-") as folder:
        log_path = os.path.join(folder, "cbc.log")
        if hint is not None:
            for variable, value in zip(variables, np.asarray(hint).tolist(), strict=True):
                variable.setInitialValue(value)
        with warnings.catch_warnings():
            # PuLP 3 warns that its bundled CBC moves to an extra in PuLP 4; we pin PuLP < 4.
            warnings.simplefilter("ignore", DeprecationWarning)
            command = pulp.PULP_CBC_CMD(
                msg=False,
                timeLimit=settings.time_limit,
                gapRel=settings.gap,
                threads=settings.workers,
                logPath=log_path,
                warmStart=hint is not None,
                options=[f"randomCbcSeed {settings.seed + 1}"],
            )
        # CBC checks its clock between nodes only: on a large model it can spend many times its
        # limit in the root LP. Past a grace period its process is stopped; no solution is then read.
        grace = settings.time_limit * CBC_GRACE_FACTOR + CBC_GRACE_SECONDS
        cbc = os.path.basename(command.path)
        with _stopped_after(grace, command.path) as stopped, interrupt.stoppable(lambda: _stop_cbc(cbc)):
            try:
                problem.solve(command)
            except pulp.PulpSolverError:
                if not stopped.is_set():
                    raise
        log = (
            Path(log_path).read_text(encoding="utf-8", errors="replace").splitlines()
            if os.path.exists(log_path)
            else []
        )
    if stopped.is_set():
        log.append(
            f"seatplan: CBC ran {grace:.0f} s, past its time limit of {settings.time_limit:g} s; "
            f"it was stopped and no solution was read"
        )
        return BackendResult("pulp", Status.NO_SOLUTION, None, None, time.perf_counter() - start, log)
    claim = _claim(problem)
    values = _values(variables, formulation.lower) if claim.solved else None
    if values is None and claim.solved:
        claim = Status.NO_SOLUTION
    bound = _cbc_bound(log, _objective(formulation, values)) if values is not None else None
    if progress is not None and values is not None:
        progress(_objective(formulation, values), bound, time.perf_counter() - start)
    return BackendResult("pulp", claim, values, bound, time.perf_counter() - start, log)


CBC_GRACE_FACTOR = 1.25
CBC_GRACE_SECONDS = 10.0


@contextmanager
def _stopped_after(seconds: float, executable: str) -> Iterator[threading.Event]:
    """Kill this process's CBC child if it is still running after `seconds`; the event says so.

    PuLP starts CBC and waits for it with no timeout. The child is found in /proc (Linux); where
    there is no /proc nothing is stopped and CBC's own limit is all there is.
    """
    stopped, finished = threading.Event(), threading.Event()

    def watch() -> None:
        if finished.wait(seconds):
            return
        while not finished.is_set():  # until PuLP returns: CBC may not have been started yet
            for pid in _children(os.path.basename(executable)):
                try:
                    os.kill(pid, signal.SIGKILL)
                    stopped.set()
                except ProcessLookupError:
                    pass
            finished.wait(0.1)

    watcher = threading.Thread(target=watch, name="seatplan-cbc-deadline", daemon=True)
    watcher.start()
    try:
        yield stopped
    finally:
        finished.set()
        watcher.join()


def _stop_cbc(name: str) -> None:
    """A stop request (solver/interrupt.py): CBC, sent SIGINT, ends its search and writes its best."""
    for pid in _children(name):
        with suppress(ProcessLookupError):
            os.kill(pid, signal.SIGINT)


def _children(name: str) -> list[int]:
    """Pids of this process's children whose command is `name` (Linux /proc; none elsewhere)."""
    me, found = os.getpid(), list[int]()
    proc = Path("/proc")
    if not proc.is_dir():
        return found
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # "pid (comm) state ppid ...": comm may hold spaces and parentheses; split after the last ')'.
        comm = stat[stat.find("(") + 1 : stat.rfind(")")]
        fields = stat[stat.rfind(")") + 2 :].split()
        if fields and int(fields[1]) == me and name.startswith(comm):
            found.append(int(entry.name))
    return found


def _cbc_bound(log: list[str], ours: float) -> float | None:
    """CBC's best bound: 'Lower bound:' in its summary; for a proven optimum, the objective itself.

    CBC does not see the objective's constant: its numbers are shifted back by the difference
    between PuLP's objective value and the one CBC reports.
    """
    summary = {}
    for line in log:
        match = re.match(r"\s*(Objective value|Lower bound):\s*([-+0-9.eE]+)", line)
        if match:
            summary[match.group(1)] = float(match.group(2))
    offset = ours - summary["Objective value"] if "Objective value" in summary else None
    if "Lower bound" in summary and offset is not None:
        return summary["Lower bound"] + offset
    text = "\n".join(log)
    if "Result - Optimal solution found" in text or "Empty problem" in text and "Optimal" in text:
        return ours
    return None


def _objective(formulation: Formulation, values: np.ndarray) -> float:
    coefs, constant = formulation.objective()
    return float(constant + int(coefs @ values))


def solve_highs(
    formulation: Formulation,
    settings: SolveSettings,
    hint: np.ndarray | None = None,
    progress: Progress | None = None,
) -> BackendResult:
    """Solve with HiGHS through PuLP (highspy). The bound is HiGHS' MIP dual bound."""
    import pulp

    start = time.perf_counter()
    problem, variables = build(formulation)
    log: list[str] = []
    command = pulp.HiGHS(
        msg=False,
        timeLimit=settings.time_limit,
        gapRel=settings.gap,
        gapAbs=0.0,
        threads=settings.workers,
        random_seed=settings.seed,
    )
    problem.solve(command)
    claim = _claim(problem)
    values = _values(variables, formulation.lower) if claim.solved else None
    if values is None and claim.solved:
        claim = Status.NO_SOLUTION
    bound = None
    highs = getattr(problem, "solverModel", None)
    if highs is not None and values is not None:
        info = highs.getInfo()
        # PuLP does not hand the objective's constant to HiGHS: add it back to HiGHS' bound.
        offset = _objective(formulation, values) - float(info.objective_function_value)
        # What PuLP hands HiGHS can be a plain LP (every integer variable dropped as unused):
        # then there is no MIP bound, and the LP optimum is the bound.
        import highspy

        is_mip = any(kind == highspy.HighsVarType.kInteger for kind in highs.getLp().integrality_)
        bound = float(info.mip_dual_bound if is_mip else info.objective_function_value) + offset
        log.append(
            f"HiGHS: {highs.modelStatusToString(highs.getModelStatus())}, "
            f"objective {info.objective_function_value}, dual bound {info.mip_dual_bound}"
        )
    if progress is not None and values is not None:
        progress(_objective(formulation, values), bound, time.perf_counter() - start)
    return BackendResult("pulp_highs", claim, values, bound, time.perf_counter() - start, log)
